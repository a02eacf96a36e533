//! Every test report of the corpus (`.xml`, `.trx`) is read or refused with a message naming the
//! file; the XXE attack files are refused; counts add up everywhere.

use gantry_core::junit::Totals;
use gantry_quality_gate::junit::{TestReportError, read_test_report};

#[test]
fn every_test_report_is_read_or_refused_naming_the_file() {
    let root = gantry_testkit::shared_dir().join("corpus/quality/tests");
    let mut stack = vec![root.clone()];
    let (mut read, mut refused) = (0, Vec::new());
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if !path
                .extension()
                .is_some_and(|ext| ext == "xml" || ext == "trx")
            {
                continue;
            }
            let name = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let file = std::fs::File::open(&path).unwrap();
            match read_test_report(&name, std::io::BufReader::new(file)) {
                Ok(report) => {
                    read += 1;
                    let totals = Totals::of(&report.suites);
                    assert_eq!(
                        totals.passed + totals.failed + totals.errors + totals.skipped,
                        totals.tests,
                        "{name}"
                    );
                    assert!(totals.flaky <= totals.passed, "{name}");
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
                    refused.push(name);
                }
            }
        }
    }
    assert!(read > 450, "{read} read");
    assert!(
        refused.iter().any(|name| name.contains("testXxe-xxe"))
            && refused.iter().any(|name| name.contains("testXxe-oob")),
        "{refused:?}"
    );
    // Refused on purpose: corrupt, empty, not test reports, entity declarations. Every one
    // named; a new refusal is seen here.
    assert!(
        refused.len() < 40,
        "{} refused: {refused:#?}",
        refused.len()
    );
}
