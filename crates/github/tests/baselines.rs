//! `baseline: auto` (issue 27, §2): what the base branch left, found on the fake GitHub — the
//! newest code-scanning analyses of Gantry's categories, or the newest artifact of the base
//! repository's own run — and nothing else: not a fork's `main`, not a pull request's run, not
//! an expired artifact, not another category's analysis; and the token never goes to storage.

use std::sync::Arc;
use std::time::SystemTime;

use gantry_github::GitHubError;
use gantry_github::clock::ManualClock;
use gantry_github::rest::{Endpoint, RestClient};
use gantry_github::retry::RetryPolicy;
use gantry_testkit::archive::zip;
use gantry_testkit::fake_github::{FakeGitHub, REPOSITORY_ID, WorkflowRun};
use serde_json::{Value, json};

fn connect(fake: &FakeGitHub) -> RestClient {
    let endpoint = Endpoint {
        api_url: fake.url(),
        graphql_url: format!("{}/graphql", fake.url()),
        token: "ghs_token".to_owned(),
    };
    RestClient::new(
        &endpoint,
        Arc::new(ManualClock::starting_at(SystemTime::now())),
        RetryPolicy::default(),
    )
    .unwrap()
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
}

fn block<T>(future: impl Future<Output = T>) -> T {
    RUNTIME.with(|runtime| runtime.block_on(future))
}

fn run(tool: &str, category: &str, rule: &str) -> Value {
    json!({
        "tool": {"driver": {"name": tool, "rules": [{"id": rule}]}},
        "automationDetails": {"id": category},
        "results": [{"ruleId": rule, "message": {"text": "m"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app.py"}, "region": {"startLine": 3}}}]}],
    })
}

fn rules_of(bytes: &[u8]) -> Vec<String> {
    let sarif: Value = serde_json::from_slice(bytes).unwrap();
    sarif["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|run| run["results"].as_array().unwrap().clone())
        .map(|result| result["ruleId"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_newest_commits_gantry_analyses_are_the_baseline_one_per_category() {
    let fake = FakeGitHub::start();
    // An older commit's analyses, a re-run's older upload, another tool's category and a
    // pull request's analysis: none is the baseline.
    fake.add_analysis(
        "refs/heads/main",
        "0ld",
        run("Bandit", "gantry-security-scan/bandit/", "B-old"),
    );
    fake.add_analysis(
        "refs/heads/main",
        "abc1234def",
        run("Bandit", "gantry-security-scan/bandit/", "B-rerun-older"),
    );
    fake.add_analysis(
        "refs/heads/main",
        "abc1234def",
        run("Trivy", "gantry-security-scan/trivy/", "T1"),
    );
    fake.add_analysis(
        "refs/heads/main",
        "abc1234def",
        run("Bandit", "gantry-security-scan/bandit/", "B1"),
    );
    fake.add_analysis(
        "refs/heads/main",
        "abc1234def",
        run("CodeQL", "/language:python", "py/sql"),
    );
    fake.add_analysis(
        "refs/pull/7/merge",
        "feed",
        run("Bandit", "gantry-security-scan/bandit/", "B-pr"),
    );
    let client = RUNTIME.with(|runtime| {
        let _entered = runtime.enter();
        connect(&fake)
    });
    let found =
        block(client.code_scanning_baseline("octo", "repo", "main", "gantry-security-scan/"))
            .unwrap()
            .unwrap();
    let mut rules = rules_of(&found.bytes);
    rules.sort();
    assert_eq!(rules, ["B1", "T1"]);
    assert_eq!(found.commit.as_deref(), Some("abc1234def"));
    assert!(found.from.contains("`main` at abc1234"), "{}", found.from);
    // The SARIF was asked for as SARIF.
    assert_eq!(
        fake.state().requests_to("GET", "/code-scanning/analyses/"),
        2
    );
}

#[test]
fn no_analysis_and_code_scanning_off_are_told_apart() {
    let fake = FakeGitHub::start();
    let client = RUNTIME.with(|runtime| {
        let _entered = runtime.enter();
        connect(&fake)
    });
    let missing =
        block(client.code_scanning_baseline("octo", "repo", "main", "gantry-security-scan/"))
            .unwrap()
            .unwrap_err();
    assert!(missing.contains("no analysis of `main`"), "{missing}");
    fake.add_analysis(
        "refs/heads/main",
        "abc",
        run("CodeQL", "/language:python", "x"),
    );
    let other =
        block(client.code_scanning_baseline("octo", "repo", "main", "gantry-security-scan/"))
            .unwrap()
            .unwrap_err();
    assert!(other.contains("gantry-security-scan/"), "{other}");
    fake.disable_code_scanning();
    let error =
        block(client.code_scanning_baseline("octo", "repo", "main", "gantry-security-scan/"))
            .unwrap_err();
    assert!(
        matches!(
            error,
            GitHubError::NotPermitted { .. } | GitHubError::Rejected { status: 403, .. }
        ),
        "{error:?}"
    );
}

fn add_run(
    fake: &FakeGitHub,
    id: u64,
    event: &str,
    conclusion: &str,
    branch: &str,
    head_repository: u64,
) {
    fake.add_run(WorkflowRun {
        id,
        event: event.to_owned(),
        conclusion: Some(conclusion.to_owned()),
        head_branch: branch.to_owned(),
        head_sha: format!("{id:07}0000"),
        head_repository_id: head_repository,
    });
}

fn summary(tag: &str) -> Vec<u8> {
    zip(&[(
        "gantry-quality-summary.json",
        format!("{{\"tag\":\"{tag}\"}}").as_bytes(),
    )])
}

#[test]
fn the_artifact_is_the_newest_of_a_successful_run_of_this_repository_on_the_base_branch() {
    const FORK: u64 = 99;
    let fake = FakeGitHub::start();
    add_run(&fake, 1, "push", "success", "main", REPOSITORY_ID);
    add_run(&fake, 2, "push", "failure", "main", REPOSITORY_ID);
    add_run(&fake, 3, "pull_request", "success", "main", FORK);
    add_run(&fake, 4, "pull_request", "success", "main", REPOSITORY_ID);
    add_run(&fake, 5, "push", "success", "develop", REPOSITORY_ID);
    add_run(&fake, 6, "push", "success", "main", REPOSITORY_ID);
    let name = "gantry-quality-gate";
    fake.add_artifact(name, 1, false, summary("old"));
    fake.add_artifact(name, 6, true, summary("expired"));
    fake.add_artifact(name, 2, false, summary("failed-run"));
    fake.add_artifact(name, 3, false, summary("fork"));
    fake.add_artifact(name, 4, false, summary("pull-request"));
    fake.add_artifact(name, 5, false, summary("other-branch"));
    fake.add_artifact("something-else", 6, false, summary("other-name"));
    let client = RUNTIME.with(|runtime| {
        let _entered = runtime.enter();
        connect(&fake)
    });
    let found = block(client.artifact_baseline(
        "octo",
        "repo",
        "main",
        name,
        "reports/gantry-quality-summary.json",
        true,
    ))
    .unwrap()
    .unwrap();
    assert_eq!(found.bytes, br#"{"tag":"old"}"#);
    assert_eq!(found.commit.as_deref(), Some("00000010000"));
    // A failed run's artifact serves security-scan, which asks for any finished run.
    let any = block(client.artifact_baseline(
        "octo",
        "repo",
        "main",
        name,
        "gantry-quality-summary.json",
        false,
    ))
    .unwrap()
    .unwrap();
    assert_eq!(any.bytes, br#"{"tag":"failed-run"}"#);
    assert_eq!(fake.state().storage_requests_with_token, 0);
}

#[test]
fn an_artifact_without_the_file_names_what_it_holds() {
    let fake = FakeGitHub::start();
    add_run(&fake, 1, "push", "success", "main", REPOSITORY_ID);
    fake.add_artifact(
        "gantry-security-scan",
        1,
        false,
        zip(&[("a.sarif", b"{}"), ("b.sarif", b"{}")]),
    );
    let client = RUNTIME.with(|runtime| {
        let _entered = runtime.enter();
        connect(&fake)
    });
    let why = block(client.artifact_baseline(
        "octo",
        "repo",
        "main",
        "gantry-security-scan",
        "gantry-security.sarif",
        false,
    ))
    .unwrap()
    .unwrap_err();
    assert!(
        why.contains("holds no `gantry-security.sarif`") && why.contains("`b.sarif`"),
        "{why}"
    );
    let none = block(client.artifact_baseline(
        "octo",
        "repo",
        "develop",
        "gantry-security-scan",
        "x",
        false,
    ))
    .unwrap()
    .unwrap_err();
    assert!(none.contains("no unexpired artifact"), "{none}");
}

/// An archive another zip writer made, streaming (data descriptors, zero sizes in the local
/// headers): the file is found by name and inflates to what was written.
#[test]
fn an_archive_written_by_another_zip_writer_reads() {
    let archive = include_bytes!("fixtures/streamed-artifact.zip");
    let listed = gantry_github::zip::entries(archive).unwrap();
    assert_eq!(listed.len(), 1, "the folder entry is left out");
    let summary = gantry_github::zip::extract(archive, &listed[0], 1 << 20).unwrap();
    let text = String::from_utf8(summary).unwrap();
    assert!(text.starts_with(r#"{"tests": 3, "failed": 1"#), "{text}");
    assert_eq!(text.matches("streamed ").count(), 200);
}
