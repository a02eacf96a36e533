//! The GitHub deployment of a deploy: created once per run even when GitHub's answer is lost
//! or the step runs again, the deployment it supersedes found in a bounded number of calls
//! however long the environment's history, and under `--dry-run` written, not posted.

use std::sync::Arc;
use std::time::SystemTime;

use gantry_github::clock::ManualClock;
use gantry_github::rest::{Endpoint, RestClient};
use gantry_github::retry::RetryPolicy;
use gantry_github::{GitHubSink, LocalSink, NewDeployment, SUPERSEDE_LOOK, Target};
use gantry_testkit::fake_github::{FakeGitHub, Fault, FaultKind};
use serde_json::json;

fn connect(fake: &FakeGitHub) -> RestClient {
    let endpoint = Endpoint {
        api_url: fake.url(),
        graphql_url: format!("{}/graphql", fake.url()),
        token: "ghs_test".to_owned(),
    };
    let clock = Arc::new(ManualClock::starting_at(SystemTime::now()));
    RestClient::new(&endpoint, clock, RetryPolicy::default()).unwrap()
}

fn target(run: &str) -> Target {
    Target {
        owner: "octo".into(),
        repository: "repo".into(),
        pull_request: None,
        head_sha: Some("89abcdef".into()),
        sha: Some("89abcdef".into()),
        git_ref: Some("refs/heads/main".into()),
        run_key: run.into(),
    }
}

fn new() -> NewDeployment {
    deploy("1001-1")
}

fn deploy(run: &str) -> NewDeployment {
    NewDeployment {
        key: format!("{run}/deploy/shop/cart"),
        environment: "production".into(),
        git_ref: "89abcdef".into(),
        description: "helm-deploy canary of cart".into(),
        production: Some(true),
        log_url: Some("https://github.com/octo/repo/actions/runs/1001".into()),
    }
}

#[tokio::test]
async fn a_deployment_whose_answer_was_lost_or_whose_step_ran_again_is_created_once() {
    let fake = FakeGitHub::start();
    fake.inject(Fault::new(
        "POST",
        "/deployments",
        FaultKind::LoseResponse,
        1,
    ));
    let client = connect(&fake);
    let sink = GitHubSink::new(&client, target("1001-1"));
    let first = sink.start_deployment(&new()).await.unwrap();
    // The step runs again in the same attempt: the same deployment, not a second.
    let again = sink.start_deployment(&new()).await.unwrap();
    assert_eq!(first.id, again.id);
    let state = fake.state();
    assert_eq!(state.deployments.len(), 1, "{:?}", state.deployments);
    assert!(state.deployments[0].production);
    assert_eq!(
        state.deployments[0].payload,
        json!({"gantry_run": "1001-1/deploy/shop/cart"})
    );
    let statuses: Vec<&str> = state
        .deployment_statuses
        .iter()
        .map(|s| s.state.as_str())
        .collect();
    assert_eq!(statuses, ["in_progress", "in_progress"]);
    assert!(
        state.contract_violations.is_empty(),
        "{:?}",
        state.contract_violations
    );
    // Another run attempt makes its own, and so does another release in the same job.
    let other = GitHubSink::new(&client, target("1001-2"))
        .start_deployment(&deploy("1001-2"))
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
    let checkout = NewDeployment {
        key: "1001-1/deploy/shop/checkout".into(),
        ..new()
    };
    let third = sink.start_deployment(&checkout).await.unwrap();
    assert_ne!(third.id, first.id);
    assert_eq!(fake.state().deployments.len(), 3);
}

#[tokio::test]
async fn the_deployment_superseded_is_found_in_a_bounded_number_of_calls() {
    let fake = FakeGitHub::start();
    let client = connect(&fake);
    // 40 earlier runs: each deployment succeeded and made the one before it inactive.
    let mut last = 0;
    for run in 0..40 {
        let sink = GitHubSink::new(&client, target(&format!("{run}-1")));
        let started = sink
            .start_deployment(&deploy(&format!("{run}-1")))
            .await
            .unwrap();
        sink.deployment_state(started.id, "success", "deployed", None)
            .await
            .unwrap();
        for superseded in started.superseded {
            sink.deployment_state(superseded, "inactive", "superseded", None)
                .await
                .unwrap();
        }
        last = started.id;
    }
    // One earlier failed run after the last success.
    let failed = GitHubSink::new(&client, target("40-1"));
    let started = failed.start_deployment(&deploy("40-1")).await.unwrap();
    failed
        .deployment_state(started.id, "failure", "rolled back", None)
        .await
        .unwrap();
    let before = fake.state().requests.len();
    let started = GitHubSink::new(&client, target("41-1"))
        .start_deployment(&deploy("41-1"))
        .await
        .unwrap();
    assert_eq!(started.superseded, [last], "the last success, and only it");
    let state = fake.state();
    let reads = state.requests[before..]
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert!(reads <= 2 + SUPERSEDE_LOOK, "{reads} reads");
    // This run's own lookup, the environment's list, then the failed run's, the last
    // success's and the first inactive one's latest status: there it stops.
    assert_eq!(reads, 5, "stops at the first inactive one");
}

#[test]
fn under_dry_run_the_deployment_is_written_not_posted() {
    let dir = tempfile::tempdir().unwrap();
    let started = LocalSink::new(dir.path())
        .start_deployment("helm-deploy", &new())
        .unwrap();
    assert_eq!(started.id, 0);
    let written: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("helm-deploy-deployment.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(written["environment"], "production");
    assert_eq!(written["production_environment"], true);
}
