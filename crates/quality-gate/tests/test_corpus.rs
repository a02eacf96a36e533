//! Every test report of the corpus (`.xml`, `.trx`) is read or refused with a message naming the
//! file (a snapshot of each: the counts and the first tests that did not pass, or the message);
//! the XXE attack files are refused; and on every self-consistent `JUnit` file the counts equal an
//! independent reading (Python's `ElementTree`, `independent/junit_counts.py`).

use std::fmt::Write as _;

use gantry_core::junit::{Outcome, Totals};
use gantry_quality_gate::junit::{TestReport, TestReportError, read_test_report};

fn shown(report: &TestReport) -> String {
    let totals = Totals::of(&report.suites);
    let mut shown = format!(
        "tests={} passed={} failed={} errors={} skipped={} flaky={} (attempts {})\n",
        totals.tests,
        totals.passed,
        totals.failed,
        totals.errors,
        totals.skipped,
        totals.flaky,
        report.attempts
    );
    for warning in report.warnings.iter().take(3) {
        let _ = writeln!(shown, "warning: {warning}");
    }
    let not_passed = report.suites.iter().flat_map(|suite| {
        suite.cases.iter().filter_map(move |case| {
            let word = match &case.outcome {
                Outcome::Failed { .. } => "failed",
                Outcome::Errored { .. } => "errored",
                Outcome::Flaky { .. } => "flaky",
                _ => return None,
            };
            Some(format!(
                "  {word}: {} › {} › {}",
                suite.name, case.classname, case.name
            ))
        })
    });
    for line in not_passed.take(8) {
        let _ = writeln!(shown, "{}", line.chars().take(200).collect::<String>());
    }
    shown
}

#[test]
fn every_test_report_is_read_or_refused_naming_the_file() {
    let (mut read, mut refused) = (0, Vec::new());
    let mut cases = gantry_testkit::EveryCase::default();
    for (name, path) in gantry_testkit::corpus_files("quality/tests") {
        if !path
            .extension()
            .is_some_and(|ext| ext == "xml" || ext == "trx")
        {
            continue;
        }
        cases.check(&name.clone(), || {
            let file = std::fs::File::open(&path).unwrap();
            let text = match read_test_report(&name, std::io::BufReader::new(file)) {
                Ok(report) => {
                    read += 1;
                    shown(&report)
                }
                Err(error) => {
                    let message = error.to_string();
                    assert!(message.starts_with(&format!("{name}: ")), "{message}");
                    if name.contains("testXxe") {
                        assert!(
                            matches!(error, TestReportError::Entities { .. }),
                            "{message}"
                        );
                    }
                    refused.push(name.clone());
                    format!("refused: {message}\n")
                }
            };
            let snapshot = name.replace(['/', '.', '#', ' '], "_");
            insta::with_settings!({snapshot_path => "snapshots/tests", prepend_module_to_snapshot => false}, {
                insta::assert_snapshot!(snapshot, text);
            });
        });
    }
    cases.finish();
    assert!(read > 450, "{read} read");
    assert!(
        refused.iter().any(|name| name.contains("testXxe-xxe"))
            && refused.iter().any(|name| name.contains("testXxe-oob")),
        "{refused:?}"
    );
    // Refused on purpose: corrupt, empty, not test reports, entity declarations — each named in
    // its snapshot.
    assert!(
        refused.len() < 40,
        "{} refused: {refused:#?}",
        refused.len()
    );
}

/// `(tests, failures, errors, skipped)` of each self-consistent `JUnit` file, by Python.
fn independent_counts(files: &[(String, std::path::PathBuf)]) -> Vec<(String, [u64; 4])> {
    use std::io::Write as _;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/junit_counts.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut stdin = child.stdin.take().unwrap();
    for (_, path) in files {
        writeln!(stdin, "{}", path.display()).unwrap();
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "junit_counts.py failed");
    let by_path: std::collections::BTreeMap<String, serde_json::Value> =
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                (value["file"].as_str().unwrap().to_owned(), value)
            })
            .collect();
    assert_eq!(by_path.len(), files.len(), "one reading per file");
    files
        .iter()
        .filter_map(|(name, path)| {
            let value = &by_path[&path.display().to_string()];
            (value["consistent"] == true).then(|| {
                let count = |key: &str| value[key].as_u64().unwrap();
                (
                    name.clone(),
                    [
                        count("tests"),
                        count("failures"),
                        count("errors"),
                        count("skipped"),
                    ],
                )
            })
        })
        .collect()
}

#[test]
fn counts_equal_an_independent_reading_of_every_self_consistent_junit_file() {
    let files: Vec<(String, std::path::PathBuf)> = gantry_testkit::corpus_files("quality/tests")
        .into_iter()
        .filter(|(_, path)| path.extension().is_some_and(|ext| ext == "xml"))
        .collect();
    let expected = independent_counts(&files);
    let mut mismatches = Vec::new();
    for (name, [tests, failures, errors, skipped]) in &expected {
        let path = &files.iter().find(|(n, _)| n == name).unwrap().1;
        let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
        let totals = match read_test_report(name, file) {
            Ok(report) => Totals::of(&report.suites),
            Err(error) => {
                mismatches.push(format!("{name}: refused ({error})"));
                continue;
            }
        };
        let ours = [totals.tests, totals.failed, totals.errors, totals.skipped];
        if ours != [*tests, *failures, *errors, *skipped] {
            mismatches.push(format!(
                "{name}: ours (tests, failed, errors, skipped) {ours:?}, ElementTree {:?}",
                [tests, failures, errors, skipped]
            ));
        }
    }
    // Enough of the corpus is self-consistent that this compares something real.
    assert!(expected.len() >= 150, "{} files compared", expected.len());
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// What a test looks like after the merged file: flaky tests are written as passed (with their
/// history in `<system-out>`), times with three decimals, characters XML 1.0 cannot carry
/// replaced.
fn as_merged(case: &gantry_core::junit::TestCase) -> String {
    let safe = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect::<String>()
            // XML end-of-line handling: a reader sees every line end as `\n`.
            .replace("\r\n", "\n")
    };
    let outcome = match &case.outcome {
        Outcome::Passed | Outcome::Flaky { .. } => "passed".to_owned(),
        Outcome::Failed(failure) | Outcome::Errored(failure) => format!(
            "{} {:?} {:?} {:?}",
            if matches!(case.outcome, Outcome::Failed(_)) {
                "failed"
            } else {
                "errored"
            },
            safe(&failure.message),
            safe(&failure.kind),
            safe(&failure.details)
        ),
        Outcome::Skipped { message } => format!("skipped {:?}", safe(message)),
    };
    format!(
        "{:?} {:?} {:?} {:?} {:?} {outcome}",
        safe(&case.name),
        safe(&case.classname),
        case.file.as_deref().map(safe),
        case.line,
        case.time.map(|time| format!("{time:.3}"))
    )
}

/// The merged `JUnit` quality-gate writes (`junit::write_junit_to`, straight to the file) reads
/// back, by our own reader, as the tests it was written from: every suite, name, place,
/// outcome, message, type and trace — on every report of the corpus we read.
#[test]
fn the_merged_junit_reads_back_as_the_tests_it_was_written_from() {
    let mut checked = 0;
    for (name, path) in gantry_testkit::corpus_files("quality/tests") {
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        let Ok(report) = read_test_report(&name, std::io::BufReader::new(file)) else {
            continue;
        };
        let mut merged = Vec::new();
        gantry_core::junit::write_junit_to("quality gate", &report.suites, &mut merged).unwrap();
        let again = read_test_report("merged.xml", merged.as_slice())
            .unwrap_or_else(|error| panic!("{name}: the merged file is refused: {error}"));
        let tests = |suites: &[gantry_core::junit::TestSuite]| -> Vec<String> {
            suites
                .iter()
                .flat_map(|suite| {
                    suite
                        .cases
                        .iter()
                        .map(move |case| format!("{:?} {}", suite.name, as_merged(case)))
                })
                .collect()
        };
        let (before, after) = (tests(&report.suites), tests(&again.suites));
        for (index, (was, is)) in before.iter().zip(&after).enumerate() {
            assert_eq!(was, is, "{name}: test {index}");
        }
        assert_eq!(before.len(), after.len(), "{name}");
        checked += 1;
    }
    assert!(checked >= 400, "only {checked} reports were read");
}
