//! Failing tests where a reviewer looks (issue 27, §3), on reports other runners wrote: the
//! check run annotates a failure at the line its traceback names when the report gives none
//! (the `JUnit` of pytest and Jest), `fail-on-tests: new` gates only on failures the base branch
//! does not have, and a failure the base branch has too still shows its message.

use gantry_core::report::{Effect, Report, Verdict};
use gantry_core::workspace::Workspace;
use gantry_quality_gate::gate::LintGate;
use gantry_quality_gate::{Options, Source, Sources, TestGate, run};

/// A checkout holding `files`, at `/srv/checkout/app`.
struct Checkout(&'static [&'static str]);

impl Workspace for Checkout {
    fn root(&self) -> &'static str {
        "/srv/checkout/app"
    }
    fn is_file(&self, relative: &str) -> bool {
        self.0.contains(&relative)
    }
    fn read_text(&self, _: &str) -> Option<String> {
        None
    }
}

fn options(fail_on_tests: TestGate) -> Options {
    Options {
        min_coverage: None,
        branch_metric: false,
        max_coverage_drop: None,
        fail_on_tests,
        fail_on_lint: LintGate::Error,
        check_name: "quality gate".into(),
        comment: true,
        merged_junit: None,
        summary_file: "summary.json".into(),
        changed_files: Vec::new(),
        blob_base: None,
        workflow_and_job: "ci/test".into(),
        baseline_notes: Vec::new(),
    }
}

fn corpus(relative: &str) -> Source<'static> {
    let path = gantry_testkit::shared_dir()
        .join("corpus/quality/tests")
        .join(relative);
    Source {
        file: relative.to_owned(),
        reader: Box::new(std::io::Cursor::new(std::fs::read(path).unwrap())),
    }
}

fn gate(
    report: &str,
    fail_on_tests: TestGate,
    baseline: Option<String>,
    workspace: &dyn Workspace,
) -> Report {
    run(
        &options(fail_on_tests),
        Sources {
            tests: vec![corpus(report)],
            coverage: Vec::new(),
            lint: Vec::new(),
            baseline: baseline.map(|text| Source {
                file: "base.json".into(),
                reader: Box::new(std::io::Cursor::new(text.into_bytes())),
            }),
        },
        workspace,
    )
    .unwrap()
}

fn places(report: &Report) -> Vec<(String, u32)> {
    let check = report
        .effects
        .iter()
        .find_map(|effect| match effect {
            Effect::CheckRun(check) => Some(check),
            _ => None,
        })
        .unwrap();
    let mut places: Vec<(String, u32)> = check
        .annotations
        .iter()
        .map(|annotation| {
            (
                annotation.place.file.clone().unwrap(),
                annotation.place.line.unwrap(),
            )
        })
        .collect();
    places.sort();
    places
}

#[test]
fn pytest_failures_without_a_file_are_annotated_where_the_traceback_says() {
    // dorny's pytest report: no `file` or `line` on any test case; the two failures end in
    // `tests/test_lib.py:25: AssertionError` and `tests/test_lib.py:32: Exception`.
    let report = gate(
        "dorny/python-xunit-pytest.xml",
        TestGate::Any,
        None,
        &Checkout(&["tests/test_lib.py"]),
    );
    assert_eq!(
        places(&report),
        [
            ("tests/test_lib.py".into(), 25),
            ("tests/test_lib.py".into(), 32)
        ]
    );
}

#[test]
fn jest_failures_are_annotated_in_the_test_file_not_node_modules() {
    // Jest's report names Windows paths of the machine it ran on; the checkout has the files
    // under `__tests__/` and `lib/`.
    let workspace = Checkout(&["__tests__/main.test.js", "lib/main.js"]);
    let report = gate("dorny/jest-junit.xml", TestGate::Any, None, &workspace);
    let found = places(&report);
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|(file, _)| file == "__tests__/main.test.js"),
        "{found:?}"
    );
    assert!(
        found.contains(&("__tests__/main.test.js".into(), 10)),
        "{found:?}"
    );
    assert!(
        found.contains(&("__tests__/main.test.js".into(), 14)),
        "{found:?}"
    );
    // Where the traceback's files are not in the checkout, nothing is guessed.
    let elsewhere = gate("dorny/jest-junit.xml", TestGate::Any, None, &Checkout(&[]));
    assert!(places(&elsewhere).is_empty());
}

#[test]
fn fail_on_tests_new_passes_failures_the_base_branch_has_and_still_shows_why() {
    let workspace = Checkout(&["tests/test_lib.py"]);
    // The base branch's summary, written by this action from the same report.
    let base = gate(
        "dorny/python-xunit-pytest.xml",
        TestGate::Any,
        None,
        &workspace,
    );
    let summary = base
        .files
        .iter()
        .find(|file| file.path == "summary.json")
        .unwrap()
        .contents
        .text()
        .into_owned();
    assert_eq!(base.verdict, Verdict::Failed);

    let known = gate(
        "dorny/python-xunit-pytest.xml",
        TestGate::New,
        Some(summary.clone()),
        &workspace,
    );
    assert_eq!(known.verdict, Verdict::Passed, "{}", known.summary);
    assert!(known.summary.contains("Failing on the base branch too (2)"));
    // Its message and where it failed are still there.
    assert!(known.summary.contains("assert False"), "{}", known.summary);
    assert!(
        known.summary.contains("tests/test_lib.py:25"),
        "{}",
        known.summary
    );

    // The same failures are still failures under `any`.
    let any = gate(
        "dorny/python-xunit-pytest.xml",
        TestGate::Any,
        Some(summary.clone()),
        &workspace,
    );
    assert_eq!(any.verdict, Verdict::Failed);

    // One of the two fails only here: new, and the gate fails.
    let mut base_summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    base_summary["failing"].as_array_mut().unwrap().pop();
    let one_new = gate(
        "dorny/python-xunit-pytest.xml",
        TestGate::New,
        Some(base_summary.to_string()),
        &workspace,
    );
    assert_eq!(one_new.verdict, Verdict::Failed);
    assert!(
        one_new
            .headline
            .contains("1 test(s) fail that pass on the base branch (1 fail there too)"),
        "{}",
        one_new.headline
    );

    // No baseline: every failure is new (fail closed).
    let without = gate(
        "dorny/python-xunit-pytest.xml",
        TestGate::New,
        None,
        &workspace,
    );
    assert_eq!(without.verdict, Verdict::Failed);
    // `none`: reported, never gating.
    let none = gate(
        "dorny/python-xunit-pytest.xml",
        TestGate::None,
        None,
        &workspace,
    );
    assert_eq!(none.verdict, Verdict::Passed);
    assert_eq!(none.outputs.value("failed"), Some("2"));
}
