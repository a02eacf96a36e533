//! `cargo bench -p gantry --bench quality_gate`: the whole `gantry quality-gate` action on a
//! realistic report — 100,000 test cases in 100 suites (~20 MB), 1 % failing with a 20-line
//! traceback, 5 lines of captured output each — beside junitparser and Python's own
//! `xml.etree.ElementTree.iterparse` loop on the same file, in the same run.
//!
//! The action runs in this process the way the runner starts it (inputs in the environment,
//! `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files, a merged `JUnit` written, no GitHub); its peak
//! RSS is measured after resetting the process's high-water mark (`/proc/self/clear_refs`), so
//! writing the input file first does not count. The Python readers run as child processes and
//! report their own time and `ru_maxrss`; without junitparser (the venv `scripts/test.sh`
//! makes) their rows say so.
//!
//! Target (issue 9, section 7): the action ≤ 0.2 s and ≤ 30 MB.

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::collections::BTreeMap;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::time::Instant;

const SUITES: usize = 100;
const CASES_PER_SUITE: usize = 1_000;
const RUNS: usize = 5;

fn write_report(path: &Path) {
    let file = std::fs::File::create(path).expect("a temporary file");
    let mut out = BufWriter::new(file);
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>").expect("write");
    writeln!(
        out,
        "<testsuites name=\"pytest tests\" tests=\"{}\" failures=\"{}\">",
        SUITES * CASES_PER_SUITE,
        SUITES * CASES_PER_SUITE / 100
    )
    .expect("write");
    for suite in 0..SUITES {
        writeln!(
            out,
            "  <testsuite name=\"tests.service_{suite:03}\" tests=\"{CASES_PER_SUITE}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"12.5\" timestamp=\"2026-12-03T10:00:00\" hostname=\"runner-1\">",
            CASES_PER_SUITE / 100
        )
        .expect("write");
        for case in 0..CASES_PER_SUITE {
            write!(
                out,
                "<testcase classname=\"tests.svc_{suite:03}.TestApi\" name=\"test_get_{case:04}\" time=\"0.0{:02}\">",
                case % 100
            )
            .expect("write");
            if case % 100 == 42 {
                write!(out, "\n<failure message=\"AssertionError: expected 200, got 500\" type=\"AssertionError\">Traceback (most recent call last):").expect("write");
                for frame in 0..19 {
                    write!(
                        out,
                        "\n  File \"src/svc_{suite:03}/layer_{frame}.py\", line {}, in handle",
                        frame * 11 + 7
                    )
                    .expect("write");
                }
                write!(out, "\nAssertionError: expected 200, got 500</failure>").expect("write");
            }
            write!(out, "\n<system-out>").expect("write");
            for line in 0..5 {
                write!(out, "\nGET /items/{case} 200 {}ms", (case * 7 + line) % 90).expect("write");
            }
            writeln!(out, "\n</system-out></testcase>").expect("write");
        }
        writeln!(out, "  </testsuite>").expect("write");
    }
    writeln!(out, "</testsuites>").expect("write");
}

/// Peak RSS in MiB since the last reset.
#[expect(clippy::cast_precision_loss, reason = "RSS in KiB")]
fn peak_mib() -> f64 {
    gantry_testkit::process_kib("VmHWM:") as f64 / 1024.0
}

fn reset_peak() {
    // Writing 5 resets the high-water mark of the process's RSS (proc(5)).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// One whole `gantry quality-gate` run in this process: (seconds, exit code).
fn run_action(workspace: &Path) -> (f64, u8) {
    let output = workspace.join("github-output");
    let summary = workspace.join("step-summary");
    std::fs::write(&output, "").expect("output file");
    std::fs::write(&summary, "").expect("summary file");
    let environment: BTreeMap<String, String> = [
        ("GITHUB_WORKSPACE", workspace.display().to_string()),
        ("GITHUB_OUTPUT", output.display().to_string()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
        ("INPUT_JUNIT", "report.xml".to_owned()),
        ("INPUT_MERGED-JUNIT", "merged.xml".to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect();
    let mut sink = Vec::new();
    let start = Instant::now();
    let code = gantry::run(
        ["gantry", "quality-gate"].map(Into::into).to_vec(),
        &environment,
        &mut sink,
    );
    (start.elapsed().as_secs_f64(), code)
}

const PYTHON_READERS: [(&str, &str); 2] = [
    (
        "junitparser 5.0.3",
        "from junitparser import JUnitXml\nxml = JUnitXml.fromfile(path)\nfailed = sum(1 for suite in xml for case in suite if case.result and any(r._tag == 'failure' for r in case.result))\ntests = sum(1 for suite in xml for case in suite)",
    ),
    (
        "Python xml.etree iterparse",
        "import xml.etree.ElementTree as ET\ntests = failed = 0\nfor event, element in ET.iterparse(path):\n    if element.tag == 'testcase':\n        tests += 1\n        failed += element.find('failure') is not None\n        element.clear()",
    ),
];

/// A Python reader's (seconds, peak MiB, tests, failed), or why it could not run. The peak is
/// the process's own `VmHWM` (`ru_maxrss` would count this process's pages at the fork).
fn run_python(python: &Path, code: &str, report: &Path) -> Result<(f64, f64, u64, u64), String> {
    let script = format!(
        "import sys, time\npath = sys.argv[1]\nstart = time.perf_counter()\n{code}\nseconds = time.perf_counter() - start\npeak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))\nprint(seconds, peak / 1024, tests, failed)"
    );
    let output = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(report)
        .output()
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(stderr.lines().last().unwrap_or("failed").to_owned());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<&str> = text.split_whitespace().collect();
    let number = |index: usize| {
        fields
            .get(index)
            .and_then(|field| field.parse::<f64>().ok())
    };
    match (number(0), number(1), number(2), number(3)) {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "counts"
        )]
        (Some(seconds), Some(mib), Some(tests), Some(failed)) => {
            Ok((seconds, mib, tests as u64, failed as u64))
        }
        _ => Err(format!("unexpected output `{text}`")),
    }
}

fn main() {
    // `--write <path>`: only write the report (to profile `gantry quality-gate` on it).
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--write") {
        write_report(Path::new(&args[at + 1]));
        return;
    }
    let workspace = tempfile::tempdir().expect("a temporary folder");
    let report = workspace.path().join("report.xml");
    write_report(&report);
    #[expect(clippy::cast_precision_loss, reason = "sizes far below 2^52")]
    let megabytes = std::fs::metadata(&report).map_or(0, |m| m.len()) as f64 / 1_048_576.0;

    let mut times = Vec::new();
    let mut peak = 0.0f64;
    for _ in 0..RUNS {
        reset_peak();
        let (seconds, code) = run_action(workspace.path());
        peak = peak.max(peak_mib());
        assert_eq!(code, 1, "the gate fails: 1 % of the tests failed");
        times.push(seconds);
    }
    let outputs = std::fs::read_to_string(workspace.path().join("github-output")).expect("outputs");
    let tests = SUITES * CASES_PER_SUITE;
    assert!(
        outputs.contains(&format!("\n{tests}\n")),
        "tests={tests} in the outputs"
    );
    assert!(
        outputs.contains(&format!("\n{}\n", tests / 100)),
        "failed={} in the outputs",
        tests / 100
    );
    times.sort_by(f64::total_cmp);

    println!(
        "report: {megabytes:.1} MB, {tests} test cases in {SUITES} suites, {} failing with 20-line tracebacks, 5 lines of output each",
        tests / 100
    );
    println!();
    println!("| reader | seconds (median of {RUNS}) | peak RSS MB |");
    println!("| --- | ---: | ---: |");
    println!(
        "| `gantry quality-gate` (whole action) | {:.3} | {peak:.1} |",
        times[RUNS / 2]
    );
    let python = gantry_testkit::python_tool("python3");
    for (name, code) in PYTHON_READERS {
        match run_python(&python, code, &report) {
            Ok((seconds, mib, counted, failed)) => {
                assert_eq!(
                    (counted, failed),
                    (tests as u64, (tests / 100) as u64),
                    "{name}"
                );
                println!("| {name} | {seconds:.3} | {mib:.1} |");
            }
            Err(why) => println!("| {name} | not run: {why} | |"),
        }
    }
}
