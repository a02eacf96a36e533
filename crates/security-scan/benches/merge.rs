//! `cargo bench -p gantry-security-scan`: merges the corpus's SARIF files, replicated (each copy's
//! paths under its own folder, so copies are distinct findings) to at least 200,000 results, and
//! reports time and peak RSS beside `sarif copy` from Microsoft's sarif-tools (`PyPI`) on the same
//! files, in the same run; then one 200 MB report on its own. Target: at least 10× faster than
//! `sarif copy`, with less memory. `sarif` is looked for in `$GANTRY_LINT_VENV/bin`,
//! `target/lint-venv/bin`, then PATH (`pip install sarif-tools`).

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use gantry_core::workspace::NoWorkspace;
use gantry_security_scan::input::read_report;
use gantry_security_scan::severity::Severity;
use gantry_security_scan::{Options, Source, run};
use serde_json::Value;

const TARGET_RESULTS: usize = 200_000;
const BIG_REPORT_BYTES: usize = 200 * 1024 * 1024;

/// The child: merge every file in `folder` into `output`; print seconds, peak RSS, results.
fn measure_one(folder: &Path, output: &Path) {
    let start = Instant::now();
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(folder)
        .expect("the folder")
        .map(|entry| {
            let path = entry.expect("an entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("a report"))
        })
        .collect();
    files.sort();
    let sources: Vec<Source<'_>> = files
        .iter()
        .map(|(file, bytes)| Source { file, bytes })
        .collect();
    let options = Options {
        fail_on: Some(Severity::High),
        output: "merged.sarif".into(),
        upload: false,
        comment: true,
        today: "2026-11-26".into(),
        blob_base: None,
        workflow_and_job: "bench/merge".into(),
        change: None,
        baseline_notes: Vec::new(),
    };
    let report = run(&options, &sources, None, None, &NoWorkspace).expect("the reports merge");
    std::fs::write(output, report.files[0].contents.text().as_bytes())
        .expect("write the merged SARIF");
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{seconds:.3} {} {}",
        gantry_testkit::process_kib("VmHWM:"),
        report.outputs.value("total").unwrap_or("0")
    );
}

/// SARIF files of the corpus that both tools read, with their result counts.
fn corpus_sarif() -> Vec<(String, Value, usize)> {
    let root = gantry_testkit::shared_dir().join("corpus/security/sarif");
    let mut found = Vec::new();
    for tool in std::fs::read_dir(&root).expect("the corpus") {
        for file in std::fs::read_dir(tool.expect("a folder").path()).expect("a folder") {
            let path = file.expect("a file").path();
            let bytes = std::fs::read(&path).expect("a file");
            let name = path.to_string_lossy().into_owned();
            let Ok(input) = read_report(&name, &bytes) else {
                continue;
            };
            let text =
                String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes));
            let Ok(log) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if !input.findings.is_empty() {
                found.push((name, log, input.findings.len()));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// A copy of `log` whose every artifact URI is under `prefix/`.
fn relocated(log: &Value, prefix: &str) -> Value {
    fn walk(value: &mut Value, prefix: &str) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(uri)) = map.get_mut("uri") {
                    let bare = uri.trim_start_matches("file://").trim_start_matches('/');
                    *uri = format!("{prefix}/{bare}");
                }
                for child in map.values_mut() {
                    walk(child, prefix);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, prefix)),
            _ => {}
        }
    }
    let mut copy = log.clone();
    for run in copy["runs"].as_array_mut().into_iter().flatten() {
        for result in run["results"].as_array_mut().into_iter().flatten() {
            walk(result, prefix);
        }
    }
    copy
}

fn sarif_tools() -> Option<PathBuf> {
    let venv = std::env::var_os("GANTRY_LINT_VENV")
        .map_or_else(|| PathBuf::from("target/lint-venv"), PathBuf::from);
    [
        venv.join("bin/sarif"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/lint-venv/bin/sarif"),
    ]
    .into_iter()
    .find(|path| path.is_file())
    .or_else(|| {
        Command::new("sarif")
            .arg("--version")
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|_| PathBuf::from("sarif"))
    })
}

/// Runs a command under `/usr/bin/time`; seconds and peak RSS KiB.
fn timed(program: &Path, args: &[&str]) -> (f64, u64) {
    let start = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(program)
        .args(args)
        .output()
        .expect("/usr/bin/time");
    let seconds = start.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let kib = stderr
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or(0);
    (seconds, kib)
}

fn ours(folder: &Path, output: &Path) -> (f64, u64, usize) {
    let me = std::env::current_exe().expect("own path");
    let result = Command::new(me)
        .arg("--one")
        .arg(folder)
        .arg(output)
        .output()
        .expect("run the measurement");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let text = String::from_utf8_lossy(&result.stdout);
    let mut fields = text.split_whitespace();
    let seconds = fields
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    let kib = fields.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let total = fields.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    (seconds, kib, total)
}

#[expect(clippy::cast_precision_loss, reason = "sizes far below 2^52")]
fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn folder_bytes(folder: &Path) -> u64 {
    std::fs::read_dir(folder).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.metadata().ok())
            .map(|metadata| metadata.len())
            .sum()
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|arg| arg == "--one") {
        measure_one(
            Path::new(&args[position + 1]),
            Path::new(&args[position + 2]),
        );
        return;
    }
    // `--keep <folder>`: write the inputs there and keep them, for profiling `--one`.
    let kept = args
        .iter()
        .position(|arg| arg == "--keep")
        .map(|position| PathBuf::from(&args[position + 1]));
    let work = kept.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("gantry-merge-bench-{}", std::process::id()))
    });
    let replicated = work.join("replicated");
    let big = work.join("big");
    std::fs::create_dir_all(&replicated).expect("a temporary folder");
    std::fs::create_dir_all(&big).expect("a temporary folder");

    let corpus = corpus_sarif();
    let mut results = 0usize;
    let mut copy = 0usize;
    while results < TARGET_RESULTS {
        for (index, (_, log, count)) in corpus.iter().enumerate() {
            let path = replicated.join(format!("copy{copy:04}-{index:03}.sarif"));
            let text =
                serde_json::to_string(&relocated(log, &format!("copy{copy}"))).expect("serialise");
            std::fs::write(path, text).expect("write a copy");
            results += count;
        }
        copy += 1;
    }
    if kept.is_some() {
        return;
    }

    println!(
        "| input | files | MB | results in | gantry s | gantry peak RSS MB | findings out | sarif copy s | sarif copy peak RSS MB | speed-up |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let files = std::fs::read_dir(&replicated).map_or(0, Iterator::count);
    // The fastest of three runs (of two for `sarif copy`, which is slow); the largest peak.
    let (our_seconds, our_kib, total) = (0..3)
        .map(|_| ours(&replicated, &work.join("ours.sarif")))
        .fold((f64::INFINITY, 0, 0), |best, run| {
            (best.0.min(run.0), best.1.max(run.1), run.2)
        });
    let theirs = sarif_tools().map(|sarif| {
        (0..2)
            .map(|_| {
                timed(
                    &sarif,
                    &[
                        "copy",
                        "--output",
                        &work.join("theirs.sarif").to_string_lossy(),
                        &replicated.to_string_lossy(),
                    ],
                )
            })
            .fold((f64::INFINITY, 0), |best, run| {
                (best.0.min(run.0), best.1.max(run.1))
            })
    });
    let (their_seconds, their_mb, speed_up) = match theirs {
        Some((seconds, kib)) => (
            format!("{seconds:.2}"),
            format!("{:.0}", megabytes(kib * 1024)),
            format!("{:.1}×", seconds / our_seconds),
        ),
        None => ("not installed".to_owned(), "—".to_owned(), "—".to_owned()),
    };
    println!(
        "| corpus SARIF ×{copy} | {files} | {:.0} | {results} | {our_seconds:.2} | {:.0} | {total} | {their_seconds} | {their_mb} | {speed_up} |",
        megabytes(folder_bytes(&replicated)),
        megabytes(our_kib * 1024),
    );

    // One report of 200 MB: the replicated results in one SARIF run after another.
    let mut runs = Vec::new();
    let mut size = 0usize;
    let mut round = 0usize;
    while size < BIG_REPORT_BYTES {
        for (_, log, _) in &corpus {
            let moved = relocated(log, &format!("big{round}"));
            for run in moved["runs"].as_array().into_iter().flatten() {
                size += serde_json::to_string(run).map_or(0, |text| text.len());
                runs.push(run.clone());
            }
        }
        round += 1;
    }
    let text = serde_json::to_string(&serde_json::json!({"version": "2.1.0", "runs": runs}))
        .expect("serialise");
    let results_in: usize = runs
        .iter()
        .map(|run| run["results"].as_array().map_or(0, Vec::len))
        .sum();
    std::fs::write(big.join("big.sarif"), &text).expect("write the big report");
    drop(runs);
    drop(text);
    let (seconds, kib, total) = ours(&big, &work.join("big-out.sarif"));
    println!(
        "| one report | 1 | {:.0} | {results_in} | {seconds:.2} | {:.0} | {total} | — | — | — |",
        megabytes(folder_bytes(&big)),
        megabytes(kib * 1024),
    );
    let _ = std::fs::remove_dir_all(&work);
}
