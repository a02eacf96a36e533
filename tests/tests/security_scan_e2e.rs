//! `gantry security-scan` as the runner runs it, against the testkit's fake GitHub: the sticky
//! comment, the SARIF upload (decoded and checked), a rerun, the gate, and bad input.

use gantry_testkit::fake_github::FakeGitHub;
use gantry_testkit::harness::RunnerHarness;

const HEAD: &str = "1111111111111111111111111111111111111111";

fn example(path: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples/security")
            .join(path),
    )
    .unwrap()
}

fn harness(fake: &FakeGitHub) -> RunnerHarness<'_> {
    let harness = RunnerHarness::new()
        .pull_request(7, HEAD, false)
        .github(fake)
        .input("reports", "reports/*.json")
        .input("upload", "true")
        .input("fail-on", "none");
    harness.write("security/app/app.py", example("app/app.py"));
    harness.write("reports/bandit.json", example("reports/bandit.json"));
    harness.write("reports/trivy.json", example("reports/trivy.json"));
    harness
}

fn comments(fake: &FakeGitHub) -> usize {
    fake.state()
        .comments_on(7)
        .iter()
        .filter(|comment| comment.body.contains("<!-- gantry:security-scan:"))
        .count()
}

#[test]
fn comment_upload_and_rerun() {
    let fake = FakeGitHub::start();
    fake.add_pull_request(7, HEAD);
    let workspace = harness(&fake);
    let first = workspace.run(&["security-scan"]);
    assert_eq!(
        first.exit_code,
        Some(0),
        "{}\n{}",
        first.stdout,
        first.stderr
    );
    assert_eq!(first.output("result"), "passed");
    assert_eq!(first.output("sarif-file"), "gantry-security.sarif");
    let total: usize = first.output("total").parse().unwrap();
    assert!(total >= 8, "{:?}", first.outputs);
    assert_eq!(
        first.output("new"),
        first.output("total"),
        "no baseline: all new"
    );

    let state = fake.state();
    assert!(
        state.contract_violations.is_empty(),
        "{:?}",
        state.contract_violations
    );
    let [upload] = state.sarif_uploads.as_slice() else {
        panic!("{} uploads", state.sarif_uploads.len())
    };
    // A pull_request run's commit is the merge commit (GITHUB_SHA), paired with the merge ref,
    // as code scanning documents and codeql-action does; the head commit is another.
    assert_eq!(
        (upload.commit_sha.as_str(), upload.git_ref.as_str()),
        (
            "0123456789abcdef0123456789abcdef01234567",
            "refs/pull/7/merge"
        )
    );
    assert_ne!(upload.commit_sha, HEAD);
    let runs = upload.sarif["runs"].as_array().unwrap();
    let tools: Vec<&str> = runs
        .iter()
        .map(|run| run["tool"]["driver"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["Bandit", "Trivy"]);
    let bandit = &runs[0]["results"].as_array().unwrap()[0];
    assert!(
        bandit["partialFingerprints"]["primaryLocationLineHash"]
            .as_str()
            .is_some_and(|hash| hash.contains(':')),
        "{bandit}"
    );
    let comment_body = &state.comments_on(7)[0].body;
    assert!(
        comment_body.starts_with("### ✅ Security scan"),
        "{comment_body}"
    );
    assert!(comment_body.contains(&format!("blob/{HEAD}/security/app/app.py#L")));
    assert!(
        first
            .stdout
            .contains("::error file=security/app/app.py,line="),
        "{}",
        first.stdout
    );
    let written =
        std::fs::read_to_string(workspace.workspace().join("gantry-security.sarif")).unwrap();
    assert!(written.contains("\"version\":\"2.1.0\""));

    let second = harness(&fake).run(&["security-scan"]);
    assert_eq!(second.exit_code, Some(0));
    assert_eq!(comments(&fake), 1, "a rerun edits the one comment");
    assert_eq!(fake.state().sarif_uploads.len(), 2);
}

#[test]
fn the_gate_fails_on_new_findings_at_its_level() {
    let fake = FakeGitHub::start();
    fake.add_pull_request(7, HEAD);
    let outcome = harness(&fake)
        .input("fail-on", "high")
        .input("upload", "false")
        .run(&["security-scan"]);
    assert_eq!(outcome.exit_code, Some(1), "{}", outcome.stderr);
    assert_eq!(outcome.output("result"), "failed");
    assert_eq!(comments(&fake), 1, "the comment is posted before failing");
}

#[test]
fn a_broken_report_exits_2_naming_it_and_posts_nothing() {
    let fake = FakeGitHub::start();
    fake.add_pull_request(7, HEAD);
    let harness = harness(&fake);
    harness.write("reports/zz-broken.json", "{\"results\": [");
    let outcome = harness.run(&["security-scan"]);
    assert_eq!(outcome.exit_code, Some(2));
    assert!(
        format!("{}{}", outcome.stdout, outcome.stderr)
            .contains("reports/zz-broken.json: not valid JSON at line 1"),
        "{}\n{}",
        outcome.stdout,
        outcome.stderr
    );
    let state = fake.state();
    assert_eq!(comments(&fake), 0);
    assert!(state.sarif_uploads.is_empty());
}

#[test]
fn the_runner_is_shown_ten_annotations_of_each_kind_and_told_where_the_rest_are() {
    // 25 high, 12 medium and 3 low findings, each on its own line of one file.
    let results: Vec<String> = (0..40)
        .map(|index| {
            let score = match index {
                0..25 => "8.0",
                25..37 => "5.0",
                _ => "2.0",
            };
            format!(
                r#"{{"ruleId":"R{index}","properties":{{"security-severity":"{score}"}},"message":{{"text":"finding {index}"}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"src/app.py"}},"region":{{"startLine":{}}}}}}}]}}"#,
                index + 1
            )
        })
        .collect();
    let sarif = format!(
        r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"lint-o-matic"}}}},"results":[{}]}}]}}"#,
        results.join(",")
    );
    let harness = RunnerHarness::new()
        .input("reports", "many.sarif")
        .input("fail-on", "none");
    harness.write("many.sarif", sarif);
    harness.write("src/app.py", "x = 1\n".repeat(40));
    let outcome = harness.run(&["security-scan"]);
    assert_eq!(outcome.exit_code, Some(0), "{}", outcome.stderr);
    let count = |prefix: &str| {
        outcome
            .stdout
            .lines()
            .filter(|line| line.starts_with(prefix))
            .count()
    };
    assert_eq!(count("::error file="), 10, "{}", outcome.stdout);
    assert_eq!(count("::warning file="), 10, "{}", outcome.stdout);
    // The three lows, and one note about the other 17 (15 highs, 2 mediums).
    assert_eq!(count("::notice file="), 3, "{}", outcome.stdout);
    let note = outcome
        .stdout
        .lines()
        .find(|line| line.contains("more annotation(s)"))
        .expect("a note says how many more");
    assert!(
        note.contains("17 more annotation(s)")
            && note.contains("the step summary and the merged SARIF"),
        "{note}"
    );
}

/// Issue 27 §1: the demo's baseline predated line contexts, so the call that only moved (line
/// 14 → 17) was reported fixed and new. Written again by this version, it carries them: the
/// moved findings are unchanged and only what the change fixed is fixed. A baseline without
/// them (another tool's, an older Gantry's) is still read, with a warning that says what
/// matching it loses.
#[test]
fn the_demos_baseline_keeps_moved_findings_and_one_without_contexts_is_warned_about() {
    let run = |baseline: &[u8]| {
        let workspace = RunnerHarness::new()
            .without("GITHUB_TOKEN")
            .input("reports", "reports/*")
            .input("baseline", "baseline.sarif")
            .input("suppressions", "suppressions.yml")
            .input("fail-on", "none")
            .input("comment", "off");
        workspace.write("security/app/app.py", example("app/app.py"));
        for report in ["bandit.json", "trivy.json", "trivy.sarif"] {
            workspace.write(
                &format!("reports/{report}"),
                example(&format!("reports/{report}")),
            );
        }
        workspace.write("suppressions.yml", example("suppressions.yml"));
        workspace.write("baseline.sarif", baseline);
        workspace.run(&["security-scan", "--dry-run"])
    };
    let demo = run(&example("baseline.sarif"));
    assert_eq!(demo.exit_code, Some(0), "{}\n{}", demo.stdout, demo.stderr);
    // yaml.load became safe_load: fixed; the subprocess import and call moved: unchanged.
    assert_eq!(
        (demo.output("fixed"), demo.output("new")),
        ("1", "6"),
        "{:?}",
        demo.outputs
    );
    assert!(
        !demo.summary.contains("carry no line context"),
        "{}",
        demo.summary
    );

    let mut stripped: serde_json::Value =
        serde_json::from_slice(&example("baseline.sarif")).unwrap();
    for run in stripped["runs"].as_array_mut().unwrap() {
        for result in run["results"].as_array_mut().unwrap() {
            result["partialFingerprints"]
                .as_object_mut()
                .unwrap()
                .remove("gantryLineContext/v1");
        }
    }
    let old = run(&serde_json::to_vec(&stripped).unwrap());
    assert_eq!(old.exit_code, Some(0), "{}\n{}", old.stdout, old.stderr);
    assert!(
        old.summary
            .contains("baseline baseline.sarif\\: 4 finding\\(s\\) carry no line context"),
        "{}",
        old.summary
    );
    assert!(
        old.output("fixed").parse::<u32>().unwrap() > 1,
        "{:?}",
        old.outputs
    );
}
