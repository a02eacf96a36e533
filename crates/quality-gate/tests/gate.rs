//! The gate end to end in the crate: decisions, outputs, the summary as the next baseline,
//! annotations, budgets and untrusted names.

use gantry_core::report::{Effect, Verdict};
use gantry_core::workspace::Root;
use gantry_quality_gate::gate::LintGate;
use gantry_quality_gate::{Options, Source, Sources, run};

/// Where the reports say the checkout was.
const WORKSPACE: Root<'static> = Root("/srv/checkout/app");

fn options() -> Options {
    Options {
        min_coverage: None,
        branch_metric: false,
        max_coverage_drop: None,
        fail_on_tests: gantry_quality_gate::TestGate::Any,
        fail_on_lint: LintGate::Error,
        check_name: "quality gate".into(),
        comment: true,
        merged_junit: Some("merged.xml".into()),
        summary_file: "summary.json".into(),
        changed_files: vec!["src/changed.py".into()],
        blob_base: None,
        workflow_and_job: "ci/test".into(),
        baseline_notes: Vec::new(),
    }
}

/// Markdown without its escapes, to look for words in it.
fn plain(markdown: &str) -> String {
    markdown.replace('\\', "")
}

fn comment_body(report: &gantry_core::report::Report) -> String {
    report
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::Comment(comment) => Some(comment.body.clone()),
            _ => None,
        })
        .unwrap()
}

fn source(file: &str, text: &str) -> Source<'static> {
    Source {
        file: file.to_owned(),
        reader: Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
    }
}

const JUNIT: &str = r#"<testsuite name="unit">
  <testcase classname="t" name="ok" file="/srv/checkout/app/src/a.py" line="3"/>
  <testcase classname="t" name="broken" file="src/a.py" line="9"><failure message="assert 1 == 2">trace</failure></testcase>
  <testcase classname="t" name="retried"><failure message="flake"/></testcase>
  <testcase classname="t" name="retried"/>
  <testcase classname="t" name="skip"><skipped/></testcase>
</testsuite>"#;

const COBERTURA: &str = r#"<coverage lines-valid="10" lines-covered="8" branches-valid="4" branches-covered="1"><packages/></coverage>"#;

#[test]
fn outputs_decision_and_summary() {
    let mut options = options();
    options.min_coverage = Some(85.0);
    let report = run(
        &options,
        Sources {
            tests: vec![source("junit.xml", JUNIT)],
            coverage: vec![source("coverage.xml", COBERTURA)],
            lint: vec![source("flake8.txt", "src/changed.py:3:1: F401 'os' imported but unused\nsrc/a.py:4:80: W505 doc line too long\n")],
            baseline: None,
        },
        &WORKSPACE,
    )
    .unwrap();
    let output = |name: &str| report.outputs.value(name).unwrap().to_owned();
    assert_eq!(
        ["tests", "passed", "failed", "errors", "skipped", "flaky"].map(output),
        ["4", "2", "1", "0", "1", "1"]
    );
    assert_eq!(output("coverage"), "80.00");
    assert_eq!(output("coverage-delta"), "");
    assert_eq!(
        (output("lint-errors"), output("lint-warnings")),
        ("1".into(), "1".into())
    );
    assert_eq!(report.verdict, Verdict::Failed);
    assert!(
        plain(&report.summary).contains("below min-coverage 85"),
        "{}",
        report.summary
    );
    // Annotations: the changed file's lint error first, then the failed test.
    let first = &report.annotations[0];
    assert_eq!(first.place.file.as_deref(), Some("src/changed.py"));
    assert!(report.annotations.iter().any(|a| {
        a.place
            .title
            .as_deref()
            .is_some_and(|t| t.contains("broken"))
    }));
    let check = report.effects.iter().find_map(|e| match e {
        Effect::CheckRun(check) => Some(check),
        _ => None,
    });
    assert_eq!(check.unwrap().annotations.len(), report.annotations.len());
    let merged = report
        .files
        .iter()
        .find(|f| f.path == "merged.xml")
        .unwrap();
    assert!(merged.contents.text().contains("retried"));

    // The summary is the next run's baseline: the same failure is not new, the lint is known,
    // the coverage delta is measured.
    let summary = report
        .files
        .iter()
        .find(|f| f.path == "summary.json")
        .unwrap()
        .contents
        .text()
        .into_owned();
    let mut options = self::options();
    options.max_coverage_drop = Some(1.0);
    let second = run(
        &options,
        Sources {
            tests: vec![source(
                "junit.xml",
                &JUNIT.replace("assert 1 == 2", "assert 1 == 3"),
            )],
            coverage: vec![source(
                "coverage.xml",
                &COBERTURA.replace("lines-covered=\"8\"", "lines-covered=\"7\""),
            )],
            lint: vec![source(
                "flake8.txt",
                "src/changed.py:30:1: F401 'os' imported but unused\n",
            )],
            baseline: Some(source("summary.json", &summary)),
        },
        &WORKSPACE,
    )
    .unwrap();
    assert_eq!(second.outputs.value("coverage-delta"), Some("-10.00"));
    assert!(
        second
            .summary
            .contains("Failing on the base branch too (1)"),
        "{}",
        second.summary
    );
    assert!(!second.summary.contains("New failures"));
    assert!(plain(&second.summary).contains("dropped 10.00 points"));
    assert!(
        !plain(&second.summary).contains("lint finding(s) at or above"),
        "the moved lint is known"
    );
}

#[test]
fn a_huge_failing_run_fits_every_budget_and_names_stay_text() {
    let mut junit = String::from("<testsuites><testsuite name=\"big\">");
    for index in 0..5_000 {
        let _ = std::fmt::Write::write_fmt(
            &mut junit,
            format_args!(
                "<testcase classname=\"c\" name=\"@octocat &lt;img src=x&gt; #{index}\"><failure message=\"&lt;/details&gt; boom {index}\">{}</failure></testcase>",
                "stack line\n".repeat(20)
            ),
        );
    }
    junit.push_str("</testsuite></testsuites>");
    let report = run(
        &options(),
        Sources {
            tests: vec![source("big.xml", &junit)],
            ..Sources::default()
        },
        &WORKSPACE,
    )
    .unwrap();
    assert_eq!(report.outputs.value("failed"), Some("5000"));
    let comment = comment_body(&report);
    assert!(comment.len() <= 65_536);
    assert!(comment.starts_with("### ❌ Quality gate failed"));
    assert!(report.summary.len() <= 1024 * 1024);
    for text in [&comment, &report.summary] {
        assert!(!text.contains("<img"), "HTML from a test name");
        assert!(!text.contains("@octocat "), "a mention");
        assert!(
            !text.contains("</details> boom"),
            "a closing tag from a message"
        );
    }
}

// Issue 9, section 3b: with 1,000 of 20,000 tests failing, the comment said "1 section(s) left
// out (failures)" and the check run's text was empty: nobody could tell which tests failed.
#[test]
fn a_thousand_failures_are_listed_one_line_each_when_their_details_do_not_fit() {
    let mut junit = String::from("<testsuites><testsuite name=\"api\">");
    for index in 0..20_000 {
        if index % 20 == 0 {
            let _ = std::fmt::Write::write_fmt(
                &mut junit,
                format_args!(
                    "<testcase classname=\"orders\" name=\"case_{index}\"><failure message=\"expected 200, got 500 in case {index}&#10;second line\">{}</failure><system-out>{}</system-out></testcase>",
                    "Traceback line of a long stack\n".repeat(20),
                    "output\n".repeat(5)
                ),
            );
        } else {
            let _ = std::fmt::Write::write_fmt(
                &mut junit,
                format_args!("<testcase classname=\"orders\" name=\"case_{index}\"/>"),
            );
        }
    }
    junit.push_str("</testsuite></testsuites>");
    let report = run(
        &options(),
        Sources {
            tests: vec![source("big.xml", &junit)],
            ..Sources::default()
        },
        &WORKSPACE,
    )
    .unwrap();
    assert_eq!(report.outputs.value("failed"), Some("1000"));
    let comment = comment_body(&report);
    // The check run's output: its summary, and its text when there is one.
    let check_text = report
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::CheckRun(check) => Some(format!(
                "{}{}",
                check.summary,
                check.text.as_deref().unwrap_or_default()
            )),
            _ => None,
        })
        .unwrap();
    for (what, body) in [("comment", &comment), ("check run text", &check_text)] {
        let plain = plain(body);
        assert!(
            plain.contains("Failures (1000)"),
            "{what}: {}",
            &body[..body.len().min(3000)]
        );
        assert!(
            plain.contains("api › orders › case_0 — expected 200, got 500 in case 0"),
            "{what}: the first failure, with its message's first line"
        );
        assert!(
            plain.contains("api › orders › case_980"),
            "{what}: the 50th"
        );
        assert!(
            !plain.contains("case_1000 "),
            "{what}: the 51st is counted, not listed"
        );
        assert!(
            !plain.contains("second line"),
            "{what}: only the first line"
        );
        assert!(plain.contains("… and 950 more"), "{what}");
    }
    assert!(comment.len() <= 65_536);
}

#[test]
fn bad_inputs_name_the_file() {
    let error = run(
        &options(),
        Sources {
            tests: vec![source("cut.xml", "<testsuite><testcase name=\"x\">")],
            ..Sources::default()
        },
        &WORKSPACE,
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cut.xml: not well-formed XML"),
        "{error}"
    );
    let error = run(
        &options(),
        Sources {
            lint: vec![source("l.txt", "")],
            baseline: Some(source("base.json", "{\"nope\": 1}")),
            ..Sources::default()
        },
        &WORKSPACE,
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("base.json: not a summary this action wrote"),
        "{error}"
    );
    let error = run(&options(), Sources::default(), &WORKSPACE).unwrap_err();
    assert!(error.to_string().contains("give at least one"), "{error}");
}

/// Paths follow the rule security-scan follows (`gantry_core::workspace::relative_path`): the
/// root comes off, a tool's container root (`/github/workspace`) comes off when the rest names
/// a file of the checkout, and so does another checkout's prefix.
#[test]
fn reported_paths_are_made_workspace_relative_as_security_scan_makes_them() {
    let checkout = gantry_core::workspace::Listed {
        root: "/srv/ci/app",
        files: &[
            ("src/app.py", ""),
            ("src/db.py", ""),
            ("tests/test_app.py", ""),
        ],
    };
    let junit = r#"<testsuite name="unit">
  <testcase classname="t" name="a" file="/srv/ci/app/tests/test_app.py" line="3"><failure message="boom"/></testcase>
</testsuite>"#;
    let flake8 = "/github/workspace/src/app.py:3:1: E101 indentation\n/builds/other/checkout/src/db.py:7:2: W291 trailing whitespace\n";
    let report = run(
        &options(),
        Sources {
            tests: vec![source("junit.xml", junit)],
            lint: vec![source("flake8.txt", flake8)],
            ..Sources::default()
        },
        &checkout,
    )
    .unwrap();
    let mut files: Vec<&str> = report
        .annotations
        .iter()
        .filter_map(|annotation| annotation.place.file.as_deref())
        .collect();
    files.sort_unstable();
    assert_eq!(files, ["src/app.py", "src/db.py", "tests/test_app.py"]);
}

/// Issue 27 §3: `min-coverage: 0.8` (a fraction where a percentage is asked for) would have
/// passed at 0.8 % coverage; it is refused, saying what was probably meant.
#[test]
fn a_fraction_given_as_min_coverage_is_refused_as_a_percentage() {
    let with = |value: &str| {
        let mut inputs = gantry_core::runner::Inputs::default();
        for spec in gantry_quality_gate::SPEC.inputs {
            if let Some(default) = spec.default.filter(|d| !d.contains("${{")) {
                inputs.set(spec.name, default);
            }
        }
        inputs.set("min-coverage", value);
        gantry_quality_gate::Options::from_inputs(&inputs)
    };
    let error = with("0.8").unwrap_err().to_string();
    assert!(
        error.contains("min-coverage") && error.contains("did you mean 80?"),
        "{error}"
    );
    assert!(
        with("0.875")
            .unwrap_err()
            .to_string()
            .contains("did you mean 87.5?")
    );
    for fine in ["0", "1", "80", "99.5", "100"] {
        assert!(with(fine).is_ok(), "{fine}");
    }
}
