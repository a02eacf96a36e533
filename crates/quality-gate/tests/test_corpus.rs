//! Every test report of the corpus (`.xml`, `.trx`) is read or refused with a message naming the
//! file (a snapshot of each: the counts and the first tests that did not pass, or the message);
//! the XXE attack files are refused; counts add up everywhere.

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
    for (name, path) in gantry_testkit::corpus_files("quality/tests") {
        if !path
            .extension()
            .is_some_and(|ext| ext == "xml" || ext == "trx")
        {
            continue;
        }
        let file = std::fs::File::open(&path).unwrap();
        let text = match read_test_report(&name, std::io::BufReader::new(file)) {
            Ok(report) => {
                read += 1;
                let totals = Totals::of(&report.suites);
                assert_eq!(
                    totals.passed + totals.failed + totals.errors + totals.skipped,
                    totals.tests,
                    "{name}"
                );
                assert!(totals.flaky <= totals.passed, "{name}");
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
    }
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
