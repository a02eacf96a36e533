//! Comments that scale and link (issue 27, §3), on real reports from the corpus: a long list is
//! one row per rule with its count and first locations (the rest folded), every rule links to
//! its advisory, and dependency findings say the version that fixes them as the tool gives it.

use gantry_core::report::{Effect, Report};
use gantry_core::workspace::NoWorkspace;
use gantry_security_scan::severity::Severity;
use gantry_security_scan::{Options, Source, run};

fn options() -> Options {
    Options {
        fail_on: Some(Severity::High),
        output: "merged.sarif".into(),
        upload: false,
        comment: true,
        today: "2026-11-26".into(),
        blob_base: Some("https://github.com/octo/repo/blob/abc/".into()),
        workflow_and_job: "ci/scan".into(),
        change: None,
        baseline_notes: Vec::new(),
    }
}

fn scan(relative: &str) -> Report {
    let path = gantry_testkit::shared_dir()
        .join("corpus/security")
        .join(relative);
    let bytes = std::fs::read(&path).unwrap();
    run(
        &options(),
        &[Source {
            file: relative,
            bytes: &bytes,
        }],
        None,
        None,
        &NoWorkspace,
    )
    .unwrap()
}

fn comment(report: &Report) -> String {
    report
        .effects
        .iter()
        .find_map(|effect| match effect {
            Effect::Comment(comment) => Some(comment.body.clone()),
            _ => None,
        })
        .unwrap()
}

/// The table rows of the new findings' section.
fn new_rows(body: &str) -> Vec<String> {
    let start = body.find("#### New findings").unwrap();
    body[start..]
        .lines()
        .skip_while(|line| !line.starts_with("| ---"))
        .skip(1)
        .take_while(|line| line.starts_with('|'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn forty_seven_bandit_findings_are_eight_rows_one_per_rule_with_counts() {
    // DefectDojo's Bandit fixture: B303 ×30, B110 ×6, B410 ×4, B320 ×3 and four single ones
    // (counted from the file with Python's json module).
    let report = scan("native/bandit/bandit__dd.json");
    let body = comment(&report);
    assert!(body.contains("#### New findings (47, by rule)"), "{body}");
    let rows = new_rows(&body);
    assert_eq!(rows.len(), 8, "{rows:#?}");
    let row = |rule: &str| {
        rows.iter()
            .find(|row| row.contains(&format!("`{rule}`")))
            .unwrap_or_else(|| panic!("no row for {rule}: {rows:#?}"))
    };
    assert!(row("B303").contains("| 30 |"), "{}", row("B303"));
    assert!(row("B303").contains("<summary>27 more</summary>"));
    assert!(row("B320").contains("| 3 |") && !row("B320").contains("more</summary>"));
    // The first locations link to their lines.
    assert!(
        row("B110").contains("](https://github.com/octo/repo/blob/abc/"),
        "{}",
        row("B110")
    );
    // Medium before low, and within a severity the most frequent first.
    let order: Vec<usize> = ["B303", "B110"]
        .iter()
        .map(|rule| {
            rows.iter()
                .position(|r| r.contains(&format!("`{rule}`")))
                .unwrap()
        })
        .collect();
    assert!(order[0] < order[1], "{rows:#?}");
}

#[test]
fn dependency_findings_say_what_fixes_them_and_link_their_advisory() {
    let cases: &[(&str, &str, &str)] = &[
        // (report, the row's id, what the tool says fixes it)
        (
            "native/trivy/trivy__alpine-3.10-image.json",
            "CVE-2019-1549",
            "`1.1.1d-r0`",
        ),
        (
            "native/snyk/snyk__single-project-one-vuln.json",
            "CVE-2019-12400",
            "`2.1.4`",
        ),
        (
            "native/grype/grype__fix-available.json",
            "CVE-2009-3882",
            "`1.2.3`",
        ),
        (
            "native/pip-audit/pip-audit__many-vulns.json",
            "PYSEC-2021-439",
            "`2.2.25, 3.1.14, 3.2.10`",
        ),
        (
            "native/npm-audit/npm-audit-v7__one-vuln.json",
            "GHSA-gxpj-cx7g-858c",
            "`express 4.18.3`",
        ),
    ];
    for (file, id, fixed) in cases {
        let body = comment(&scan(file));
        let row = body
            .lines()
            .find(|line| line.starts_with('|') && line.contains(&format!("`{id}`")))
            .unwrap_or_else(|| panic!("{file}: no row for {id}\n{body}"));
        assert!(row.contains(&format!("fixed in {fixed}")), "{file}: {row}");
        assert!(row.contains(&format!("[`{id}`](http")), "{file}: {row}");
    }
    // pip-audit's lxml advisory lists no fix: said so, not left blank.
    let body = comment(&scan("native/pip-audit/pip-audit__many-vulns.json"));
    let row = body
        .lines()
        .find(|line| line.contains("`PYSEC-2021-852`"))
        .unwrap();
    assert!(row.contains("no fixed version known"), "{row}");
}

#[test]
fn the_fixed_version_survives_the_merged_sarif_as_a_baseline_or_saved_report() {
    let report = scan("native/trivy/trivy__alpine-3.10-image.json");
    let sarif = report
        .files
        .iter()
        .find(|file| file.path == "merged.sarif")
        .unwrap()
        .contents
        .text()
        .into_owned();
    let log: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let result = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|result| result["ruleId"] == "CVE-2019-1549")
        .unwrap();
    assert_eq!(result["properties"]["gantry/fixedIn"], "1.1.1d-r0");
    let again = gantry_security_scan::input::read_report("merged.sarif", sarif.as_bytes()).unwrap();
    let finding = again
        .findings
        .iter()
        .find(|finding| finding.rule_id == "CVE-2019-1549")
        .unwrap();
    assert_eq!(finding.fixed_in.as_deref(), Some("1.1.1d-r0"));
}
