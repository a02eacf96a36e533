//! Our counts against the independent expectations in `corpus/quality/EXPECTED.tsv`: every
//! row (`JUnit`, `NUnit`, `xUnit`, TRX) matches, or differs by a documented rule; rows the
//! anchor built from its own JSON (not the XML) are skipped.

use gantry_core::junit::Totals;
use gantry_quality_gate::junit::{TestReportError, read_test_report};

#[test]
fn counts_match_the_independent_expectations() {
    let root = gantry_testkit::shared_dir().join("corpus/quality");
    let table = std::fs::read_to_string(root.join("EXPECTED.tsv")).unwrap();
    let mut compared = 0;
    let mut differences = Vec::new();
    for line in table.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [file, source, tests, passed, failed, errors, skipped, note] = fields[..] else {
            continue;
        };
        // Rows the anchor built from its own JSON rather than from these XML files say so.
        if note.contains("not from the XML") {
            continue;
        }
        let number = |text: &str| text.trim().parse::<u64>().ok();
        // A row may stand for every XML file of a folder, summed.
        let paths = match file.strip_suffix(" (all xml in dir)") {
            Some(folder) => xml_files(&root.join(folder)),
            None => vec![root.join(file)],
        };
        let mut suites = Vec::new();
        let mut junit = false;
        let mut refused = None;
        for path in &paths {
            let bytes = std::fs::read(path).unwrap();
            match read_test_report(file, &bytes[..]) {
                Ok(report) => {
                    junit = true;
                    suites.extend(report.suites);
                }
                Err(error) => refused = Some(error),
            }
        }
        // The anchor threw on this file: so must we, with a message.
        let expects_refusal = source.ends_with(".exception");
        match (&refused, expects_refusal) {
            (Some(_), true) => {
                compared += 1;
                continue;
            }
            // Declared entities are refused on purpose (XXE); the anchor read these files.
            (Some(TestReportError::Entities { .. }), false) => continue,
            (Some(error), false) => {
                differences.push(format!("{file}: refused: {error} ({source})"));
                continue;
            }
            (None, true) if junit => {
                differences.push(format!(
                    "{file}: read, but the anchor refused it ({source})"
                ));
                continue;
            }
            _ => {}
        }
        if !junit {
            differences.push(format!("{file}: no test report read ({source})"));
            continue;
        }
        let totals = Totals::of(&suites);
        compared += 1;
        let ours: [Option<u64>; 5] = [
            Some(totals.tests),
            Some(totals.passed),
            Some(totals.failed),
            Some(totals.errors),
            Some(totals.skipped),
        ];
        let mut theirs = [tests, passed, failed, errors, skipped].map(number);
        let mut ours = ours;
        // Anchors that fold errors into failures (dorny) give no error count.
        if theirs[3].is_none() {
            ours[2] = Some(totals.failed + totals.errors);
            ours[3] = None;
            theirs[3] = None;
        }
        let mismatch = ours
            .iter()
            .zip(&theirs)
            .any(|(ours, theirs)| theirs.is_some() && ours != theirs);
        if mismatch {
            differences.push(format!(
                "{file}: ours {ours:?} (flaky {}), theirs {theirs:?} — {source}",
                totals.flaky
            ));
        }
    }
    // Where we count differently on purpose (the rules are in `junit.rs`'s documentation):
    let documented = [
        // Eight test names appear twice, passing both times: two tests each (the runner ran
        // 109; EnricoMi's own note says runs=109). EnricoMi counts unique names.
        "tests/enricomi/junit-xml/mocha/latex-utensils.xml",
        // The same: 218 cases ran (runs=218 in EnricoMi's note), some names twice.
        "tests/enricomi/nunit/nunit3/jenkins/NUnit-correct2.xml",
        // A NUL character in a message (not allowed in XML 1.0): EnricoMi throws; we read the
        // report, whose meaning is clear.
        "tests/enricomi/nunit/nunit3/jenkins/NUnit-issue17521.xml",
        // TRX `Aborted`: the test did not finish, so it errored; EnricoMi calls it skipped,
        // which would let a gate pass over it.
        "tests/enricomi/trx/yami_YAMILEX_2015-10-24_04_18_59.trx",
        // Parameterised cases (`ShouldBeString<String>("A")`, `("B")`) are tests of their own;
        // EnricoMi counts the method once.
        "tests/enricomi/xunit/mstest/fixie.xml",
        "tests/enricomi/xunit/mstest/pickles.xml",
        // Root `<suites>`: not a test report. EnricoMi counts 0 tests and a parse error; we
        // refuse it, naming the file.
        "tests/enricomi/junit-xml/non-junit.xml",
        // A bare NUnit `<test-suite>` root, as NUnit writes for a single fixture: we read it,
        // EnricoMi throws.
        "tests/enricomi/nunit/nunit3/jenkins/NUnit-issue47367.xml",
        // CTest's dashboard XML (`ctest -T Test`) and Android CTS results are not test-report
        // formats gantry reads (`ctest --output-junit` writes JUnit, which it does); refused,
        // each file named.
        "tests/smart-tests-cli/ctest/ (all xml in dir)",
        "tests/smart-tests-cli/cts/ (all xml in dir)",
        // Passes, then fails, then errors under one name: a runner does not rerun a pass, so
        // the pass is one test and the failure and its rerun another. mikepenz merges all.
        "tests/mikepenz/flaky_retries/flaky_success_first.xml",
    ];
    let mut differing: Vec<&str> = differences
        .iter()
        .map(|difference| difference.split(':').next().unwrap_or_default())
        .collect();
    differing.sort_unstable();
    let mut documented = documented.to_vec();
    documented.sort_unstable();
    assert!(compared > 60, "only {compared} rows compared");
    assert_eq!(differing, documented, "{differences:#?}");
}

fn xml_files(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(xml_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "xml") {
            found.push(path);
        }
    }
    found.sort();
    found
}
