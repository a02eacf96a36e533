//! drift-report end to end: the built binary against the fake GitHub — the issue's whole life
//! (open, update, close with a comment, reopen; across pages of other issues; a rerun; a lost
//! answer on create) — real drift from the real `hashicorp/aws` provider applied to moto and
//! changed out of band with boto3, and Helm releases installed by Helm's own engine on the fake
//! API server and then edited by hand.

use std::path::Path;
use std::process::Command;

use gantry_testkit::fake_github::{ACTIONS_BOT, FakeGitHub, Fault, FaultKind, Issue};
use gantry_testkit::fake_kube::FakeKube;
use gantry_testkit::harness::{RunOutcome, RunnerHarness};
use serde_json::{Value, json};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        gantry_testkit::repository_root()
            .join("crates/drift-report/tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn explain(outcome: &RunOutcome) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        outcome.exit_code, outcome.stdout, outcome.stderr
    )
}

/// One scheduled run over the stack `shop` whose plan is `plan`.
fn run_with(fake: &FakeGitHub, plan: &[u8], extra: &[(&str, &str)]) -> RunOutcome {
    let mut harness = RunnerHarness::new().github(fake);
    harness.write("infra/shop/plan.json", plan);
    harness = harness.input("plans", "shop=infra/shop/plan.json");
    for (name, value) in extra {
        harness = harness.input(name, value);
    }
    harness.run(&["drift-report"])
}

fn ours(state: &gantry_testkit::fake_github::State) -> Vec<&Issue> {
    state
        .issues
        .iter()
        .filter(|issue| {
            issue
                .body
                .contains("<!-- gantry:drift-report:stack/shop -->")
        })
        .collect()
}

fn seen(body: &str) -> (String, String) {
    let line = body
        .lines()
        .find(|line| line.starts_with("<!-- gantry drift-report seen:"))
        .unwrap_or_else(|| panic!("no seen line in\n{body}"));
    let mut parts = line
        .trim_start_matches("<!-- gantry drift-report seen:")
        .trim_end_matches("-->")
        .split_whitespace()
        .map(str::to_owned);
    (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    )
}

/// The rows of every table in a body, headers and rules left out.
fn table_rows(body: &str) -> Vec<String> {
    body.lines()
        .filter(|line| {
            line.starts_with("| ")
                && !line.contains("---")
                && !line.contains("| attribute |")
                && !line.starts_with("| resource |")
                && !line.starts_with("| object |")
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn one_issue_opens_updates_closes_with_a_comment_and_reopens_across_pages() {
    let fake = FakeGitHub::start();
    // 130 other issues after ours: ours is on the second page of `issues?state=all`.
    let first = run_with(&fake, &fixture("aws-drifted.json"), &[]);
    assert_eq!(first.exit_code, Some(0), "{}", explain(&first));
    for index in 0..130 {
        fake.add_issue(
            "octocat",
            &format!("unrelated {index}"),
            "no marker here",
            if index % 3 == 0 { "closed" } else { "open" },
        );
    }
    let state = fake.state();
    let issue = ours(&state);
    assert_eq!(issue.len(), 1);
    let number = issue[0].number;
    assert_eq!(issue[0].state, "open");
    assert_eq!(issue[0].labels, ["drift"]);
    assert!(state.labels.contains(&"drift".to_owned()));
    assert_eq!(
        state.labels_created_with_issues, 0,
        "the label is made before the issue"
    );
    assert_eq!(first.output("drifted"), "true");
    assert_eq!(first.output("stacks-drifted"), "1");
    assert_eq!(first.output("resources-drifted"), "4");
    assert_eq!(
        first.output("issue-urls"),
        format!("https://github.com/octo/repo/issues/{number}")
    );
    for row in [
        "| `aws_s3_bucket.logs` | `aws_s3_bucket` |",
        "| ~ | `tags.team` | `\"shop\"` | `\"ops\"` |",
        "| ~ | `versioning_configuration[0].status` | `\"Enabled\"` | `\"Suspended\"` |",
    ] {
        assert!(
            issue[0].body.contains(row),
            "{row} missing from\n{}",
            issue[0].body
        );
    }
    assert!(
        state.contract_violations.is_empty(),
        "{:?}",
        state.contract_violations
    );

    // A person's earlier run: first seen long ago. A rerun keeps it and edits the same issue.
    let (_, last) = seen(&issue[0].body);
    let body = issue[0]
        .body
        .replace(&format!("seen: {last} "), "seen: 2026-01-01T00:00:00Z ");
    fake.set_issue_body(number, &body);
    let before_rerun = fake.state().requests.len();
    let second = run_with(&fake, &fixture("aws-drifted.json"), &[]);
    assert_eq!(second.exit_code, Some(0), "{}", explain(&second));
    let state = fake.state();
    let issue = ours(&state);
    assert_eq!(
        issue.len(),
        1,
        "a rerun finds the issue, never opens a second"
    );
    assert_eq!(issue[0].number, number);
    assert_eq!(
        seen(&issue[0].body).0,
        "2026-01-01T00:00:00Z",
        "first seen is carried over"
    );
    assert!(issue[0].body.contains("First seen `2026-01-01T00:00:00Z`"));
    // All issues are read once (what the last run said); publishing finds the issue among
    // those labelled `drift`, one page, not the repository's every issue again.
    let listings: Vec<&str> = state.requests[before_rerun..]
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/issues"))
        .map(|r| r.query.as_str())
        .collect();
    let all = listings
        .iter()
        .filter(|query| !query.contains("labels="))
        .count();
    let labelled = listings
        .iter()
        .filter(|query| query.contains("labels=drift"))
        .count();
    assert_eq!(
        (all, labelled),
        (2, 1),
        "two pages of all issues, once; {listings:?}"
    );

    // Someone took the label off: the issue is still found, on the second page of all issues.
    fake.set_issue_labels(number, &[]);
    let before_clean = fake.state().requests.len();

    // Clean: closed, with a comment saying so.
    let third = run_with(&fake, &fixture("aws-after-apply.json"), &[]);
    assert_eq!(third.exit_code, Some(0), "{}", explain(&third));
    assert_eq!(third.output("drifted"), "false");
    let state = fake.state();
    let issue = ours(&state);
    assert_eq!((issue.len(), issue[0].state.as_str()), (1, "closed"));
    assert!(
        state.requests[before_clean..]
            .iter()
            .any(|r| r.path.ends_with("/issues")
                && !r.query.contains("labels=")
                && r.query.contains("page=2")),
        "ours is on the second page of all issues"
    );
    let comments = state.comments_on(number);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].body.starts_with("No drift in stack `shop`"),
        "{}",
        comments[0].body
    );
    assert!(
        comments[0]
            .body
            .contains("first seen `2026-01-01T00:00:00Z`"),
        "{}",
        comments[0].body
    );
    // Clean again: nothing more is said.
    let again = run_with(&fake, &fixture("aws-after-apply.json"), &[]);
    assert_eq!(again.exit_code, Some(0), "{}", explain(&again));
    assert_eq!(fake.state().comments_on(number).len(), 1);

    // It returns: the same issue reopens, first seen starts again.
    let fourth = run_with(&fake, &fixture("aws-drifted.json"), &[]);
    assert_eq!(fourth.exit_code, Some(0), "{}", explain(&fourth));
    let state = fake.state();
    let issue = ours(&state);
    assert_eq!(
        (issue.len(), issue[0].number, issue[0].state.as_str()),
        (1, number, "open")
    );
    assert_ne!(seen(&issue[0].body).0, "2026-01-01T00:00:00Z");
    let comments = state.comments_on(number);
    assert_eq!(comments.len(), 2);
    assert!(
        comments[1]
            .body
            .starts_with("Drift is back in stack `shop`"),
        "{}",
        comments[1].body
    );
    assert!(
        state.contract_violations.is_empty(),
        "{:?}",
        state.contract_violations
    );
}

#[test]
fn a_lost_answer_on_create_still_leaves_one_issue() {
    let fake = FakeGitHub::start();
    fake.inject(Fault::new(
        "POST",
        "/repos/octo/repo/issues",
        FaultKind::LoseResponse,
        1,
    ));
    let outcome = run_with(&fake, &fixture("aws-drifted.json"), &[]);
    assert_eq!(outcome.exit_code, Some(0), "{}", explain(&outcome));
    let state = fake.state();
    assert_eq!(ours(&state).len(), 1, "{:?}", state.issues);
    assert_eq!(
        state.requests_to("POST", "/repos/octo/repo/issues"),
        1,
        "found, not posted again"
    );
    assert!(
        state
            .requests
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/issues") && r.status == 0),
        "the answer to the create was lost: {:?}",
        state.requests
    );
}

#[test]
fn of_two_marked_issues_an_older_run_left_the_open_one_is_kept() {
    let fake = FakeGitHub::start();
    let marker = "<!-- gantry:drift-report:stack/shop -->";
    let closed = fake.add_issue(
        ACTIONS_BOT,
        "Drift: stack shop",
        &format!("old\n{marker}\n"),
        "closed",
    );
    let open = fake.add_issue(
        ACTIONS_BOT,
        "Drift: stack shop",
        &format!("older run\n{marker}\n"),
        "open",
    );
    let outcome = run_with(&fake, &fixture("aws-drifted.json"), &[]);
    assert_eq!(outcome.exit_code, Some(0), "{}", explain(&outcome));
    let state = fake.state();
    assert_eq!(ours(&state).len(), 2, "no third");
    let find = |number: u64| {
        state
            .issues
            .iter()
            .find(|issue| issue.number == number)
            .unwrap()
    };
    assert!(
        find(open).body.contains("aws_s3_bucket.logs"),
        "the open one is edited"
    );
    assert_eq!(
        (find(closed).body.as_str(), find(closed).state.as_str()),
        (format!("old\n{marker}\n").as_str(), "closed")
    );
}

#[test]
fn a_read_only_token_writes_the_summary_and_warns() {
    let fake = FakeGitHub::start();
    fake.inject(Fault::new("POST", "/labels", FaultKind::ReadOnlyToken, 10));
    let outcome = run_with(
        &fake,
        &fixture("aws-drifted.json"),
        &[("fail-on-drift", "true")],
    );
    assert_eq!(
        outcome.exit_code,
        Some(1),
        "fail-on-drift still fails: {}",
        explain(&outcome)
    );
    assert!(
        outcome
            .stdout
            .contains("::warning title=Gantry could not publish"),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.summary.contains("aws_s3_bucket.logs"),
        "{}",
        outcome.summary
    );
    assert!(ours(&fake.state()).is_empty());
}

#[test]
fn bad_input_is_named_and_nothing_is_posted() {
    let fake = FakeGitHub::start();
    let plan = fixture("aws-drifted.json");
    for (bytes, expected) in [
        (
            plan[..plan.len() / 3].to_vec(),
            "infra/shop/plan.json: the JSON ends early",
        ),
        (
            br#"{"format_version":"1.0","terraform_version":"1.11.0","values":{"root_module":{}}}"#
                .to_vec(),
            "infra/shop/plan.json: a Terraform state",
        ),
        (
            b"Terraform will perform the following actions:".to_vec(),
            "infra/shop/plan.json: human-readable plan text",
        ),
    ] {
        let outcome = run_with(&fake, &bytes, &[]);
        assert_eq!(outcome.exit_code, Some(2), "{}", explain(&outcome));
        assert!(
            outcome.stdout.contains(expected),
            "{expected}\n{}",
            explain(&outcome)
        );
        assert_eq!(outcome.output("result"), "invalid-input");
    }
    let outcome = run_with(&fake, &plan, &[("ignore", "tags_all")]);
    assert_eq!(outcome.exit_code, Some(2), "{}", explain(&outcome));
    assert!(
        fake.state().requests.is_empty(),
        "{:?}",
        fake.state().requests
    );
}

#[test]
fn issue_off_writes_only_the_summary_and_outputs() {
    let fake = FakeGitHub::start();
    let outcome = run_with(&fake, &fixture("aws-drifted.json"), &[("issue", "off")]);
    assert_eq!(outcome.exit_code, Some(0), "{}", explain(&outcome));
    assert_eq!(outcome.output("resources-drifted"), "4");
    assert_eq!(outcome.output("issue-urls"), "");
    assert!(fake.state().requests.is_empty());
}

// ---- Terraform: the real provider against moto ----

fn terraform(dir: &Path, config: &Path, endpoint: &str, args: &[&str]) -> std::process::Output {
    let output = Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", config)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_VAR_endpoint", endpoint)
        .output()
        .expect("terraform must be on PATH (scripts/test.sh checks for it)");
    assert!(
        output.status.success() || args.contains(&"-detailed-exitcode"),
        "terraform {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn real_drift_from_the_aws_provider_and_none_right_after_apply() {
    let moto = gantry_testkit::aws::Moto::start();
    let fake = FakeGitHub::start();
    let harness = RunnerHarness::new().github(&fake);
    let stack = harness.workspace().join("infra/shop");
    std::fs::create_dir_all(&stack).unwrap();
    let source = gantry_testkit::repository_root().join("tests/fixtures/drift-aws");
    std::fs::copy(source.join("main.tf"), stack.join("main.tf")).unwrap();
    let config = gantry_testkit::aws::cli_config(harness.workspace());
    terraform(
        &stack,
        &config,
        &moto.url,
        &["init", "-input=false", "-no-color"],
    );
    terraform(
        &stack,
        &config,
        &moto.url,
        &["apply", "-input=false", "-auto-approve", "-no-color"],
    );
    let plan = |name: &str| {
        terraform(
            &stack,
            &config,
            &moto.url,
            &[
                "plan",
                "-refresh-only",
                "-input=false",
                "-no-color",
                "-detailed-exitcode",
                &format!("-out={name}"),
            ],
        )
        .status
        .code()
    };
    // The binary plan file itself: the action shows it with terraform.
    let harness = harness
        .input("plans", "shop=infra/shop/clean.tfplan")
        .env("TF_CLI_CONFIG_FILE", config.to_str().unwrap())
        .env("TF_VAR_endpoint", &moto.url);
    assert_eq!(
        plan("clean.tfplan"),
        Some(2),
        "Terraform's exit code says drift right after apply"
    );
    let clean = harness.run(&["drift-report"]);
    assert_eq!(clean.exit_code, Some(0), "{}", explain(&clean));
    assert_eq!(clean.output("drifted"), "false", "{}", clean.summary);
    assert!(
        fake.state().issues.is_empty(),
        "a clean stack with no issue opens none"
    );

    let out_of_band = Command::new(gantry_testkit::python_tool("python"))
        .arg(source.join("out_of_band.py"))
        .arg(&moto.url)
        .output()
        .unwrap();
    assert!(
        out_of_band.status.success(),
        "{}",
        String::from_utf8_lossy(&out_of_band.stderr)
    );
    assert_eq!(plan("drifted.tfplan"), Some(2));
    let drifted = harness
        .input("plans", "shop=infra/shop/drifted.tfplan")
        .run(&["drift-report"]);
    assert_eq!(drifted.exit_code, Some(0), "{}", explain(&drifted));
    assert_eq!(
        drifted.output("resources-drifted"),
        "4",
        "{}",
        drifted.summary
    );
    let state = fake.state();
    let issue = ours(&state);
    assert_eq!(issue.len(), 1);
    let body = &issue[0].body;
    assert_eq!(
        table_rows(body),
        [
            // Security-relevant drift first (issue 27 §4): port 22 opened to the internet.
            "| `aws_security_group.web` | `aws_security_group` | `ingress[]` opened to the whole internet \\(`0.0.0.0/0`\\) |",
            "| `aws_s3_bucket.logs` | `aws_s3_bucket` |",
            "| + | `ingress[]` | (absent) | `{\"cidr_blocks\": [\"0.0.0.0/0\"], \"from_port\": 22, \"protocol\": \"tcp\", \"to_port\": 22}` |",
            "| + | `tags.owner` | (absent) | `\"bob\"` |",
            "| ~ | `tags.team` | `\"shop\"` | `\"ops\"` |",
            "| ~ | `versioning_configuration[0].status` | `\"Enabled\"` | `\"Suspended\"` |",
        ],
        "{body}"
    );
    // And how to resolve it.
    assert!(
        body.contains("**To resolve:** apply this stack's code (`terraform apply`)")
            && body.contains("write it into the code (adopt it"),
        "{body}"
    );
}

// ---- Kubernetes: a release installed by Helm's engine, edited by hand ----

struct Release {
    fake: FakeKube,
    dir: tempfile::TempDir,
}

impl Release {
    fn install(sets: &str) -> Self {
        let fake = FakeKube::start();
        fake.create(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kubeconfig"), fake.kubeconfig()).unwrap();
        let helm = gantry_testkit::helm_stand_in(dir.path());
        let chart = gantry_testkit::repository_root().join("examples/helm/chart");
        let mut args = vec![
            "upgrade".to_owned(),
            "--install".to_owned(),
            "cart".to_owned(),
            chart.to_string_lossy().into_owned(),
            "--namespace".to_owned(),
            "shop".to_owned(),
            "--timeout".to_owned(),
            "60s".to_owned(),
        ];
        for set in sets.split_whitespace() {
            args.push("--set".to_owned());
            args.push(set.to_owned());
        }
        let output = Command::new(&helm)
            .args(&args)
            .env("KUBECONFIG", dir.path().join("kubeconfig"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "helm: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Self { fake, dir }
    }

    fn check(&self, fake: Option<&FakeGitHub>, extra: &[(&str, &str)]) -> RunOutcome {
        let mut harness = RunnerHarness::new()
            .env(
                "KUBECONFIG",
                self.dir.path().join("kubeconfig").to_str().unwrap(),
            )
            .input("releases", "shop/cart");
        if let Some(fake) = fake {
            harness = harness.github(fake);
        } else {
            harness = harness.input("issue", "off");
        }
        for (name, value) in extra {
            harness = harness.input(name, value);
        }
        harness.run(&["drift-report"])
    }

    fn edit(&self, kind: &str, name: &str, change: impl FnOnce(&mut Value)) {
        let mut object = self
            .fake
            .get(kind, "shop", name)
            .unwrap_or_else(|| panic!("{kind}/{name} exists"));
        change(&mut object);
        self.fake.replace(&object);
    }
}

fn rows(outcome: &RunOutcome) -> Vec<String> {
    table_rows(&outcome.summary)
}

#[test]
fn a_release_as_helm_installed_it_has_no_drift_and_hand_edits_are_named() {
    let release = Release::install("autoscaling.enabled=false replicaCount=2 image.tag=2.3.1");
    let clean = release.check(None, &[]);
    assert_eq!(clean.exit_code, Some(0), "{}", explain(&clean));
    assert_eq!(clean.output("drifted"), "false", "{}", clean.summary);

    release.edit("Deployment", "cart", |deployment| {
        deployment["spec"]["replicas"] = json!(5);
        let container = &mut deployment["spec"]["template"]["spec"]["containers"][0];
        container["image"] = json!("ghcr.io/seed/cart:2.3.1-hotfix");
        container["env"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "DEBUG", "value": "1"}));
    });
    release.fake.delete("ConfigMap", "shop", "cart-settings");
    let fake = FakeGitHub::start();
    let drifted = release.check(Some(&fake), &[]);
    assert_eq!(drifted.exit_code, Some(0), "{}", explain(&drifted));
    assert_eq!(drifted.output("releases-drifted"), "1");
    assert_eq!(drifted.output("resources-drifted"), "2");
    assert_eq!(
        rows(&drifted),
        [
            "| `ConfigMap/cart-settings` | `ConfigMap` |",
            "| ~ | `spec.replicas` | `2` | `5` |",
            "| + | `spec.template.spec.containers[cart].env[DEBUG]` | (absent) | `{\"name\":\"DEBUG\",\"value\":\"1\"}` |",
            "| ~ | `spec.template.spec.containers[cart].image` | `\"ghcr.io/seed/cart:2.3.1\"` | `\"ghcr.io/seed/cart:2.3.1-hotfix\"` |",
        ],
        "{}",
        drifted.summary
    );
    let state = fake.state();
    assert_eq!(state.issues.len(), 1);
    assert!(
        state.issues[0]
            .body
            .contains("<!-- gantry:drift-report:release/shop/cart -->")
    );
    assert!(
        state.issues[0].title.contains("release shop/cart"),
        "{}",
        state.issues[0].title
    );

    // Told to ignore what the team changes by hand: only the rest is drift.
    let ignoring = release.check(
        None,
        &[(
            "ignore",
            "Deployment.spec.replicas\nDeployment.spec.template.spec.containers.env",
        )],
    );
    assert_eq!(rows(&ignoring).len(), 2, "{}", ignoring.summary);
}

#[test]
fn replicas_an_hpa_owns_are_not_drift_and_an_unknown_release_is_bad_input() {
    let release = Release::install("autoscaling.enabled=false replicaCount=2");
    release.edit("Deployment", "cart", |deployment| {
        deployment["spec"]["replicas"] = json!(6);
    });
    let by_hand = release.check(None, &[]);
    assert_eq!(
        rows(&by_hand),
        ["| ~ | `spec.replicas` | `2` | `6` |"],
        "{}",
        by_hand.summary
    );
    // Then someone adds an HPA for the Deployment outside the chart: it owns the replicas.
    release.fake.create(&json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "cart-by-hand", "namespace": "shop"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "cart"}, "minReplicas": 2, "maxReplicas": 8}
    }));
    let outcome = release.check(None, &[]);
    assert_eq!(outcome.exit_code, Some(0), "{}", explain(&outcome));
    assert_eq!(outcome.output("drifted"), "false", "{}", outcome.summary);

    let fake = FakeGitHub::start();
    let unknown = RunnerHarness::new()
        .github(&fake)
        .env(
            "KUBECONFIG",
            release.dir.path().join("kubeconfig").to_str().unwrap(),
        )
        .input("releases", "shop/nope")
        .run(&["drift-report"]);
    assert_eq!(unknown.exit_code, Some(2), "{}", explain(&unknown));
    assert!(
        unknown
            .stdout
            .contains("releases: shop/nope: no release records"),
        "{}",
        explain(&unknown)
    );
    assert!(fake.state().requests.is_empty());
}

#[test]
fn a_cluster_that_cannot_be_reached_is_a_service_error_with_nothing_posted() {
    let release = Release::install("autoscaling.enabled=false");
    let fake = FakeGitHub::start();
    // The kubeconfig's context `other` points at a port nothing listens on.
    let outcome = RunnerHarness::new()
        .github(&fake)
        .env(
            "KUBECONFIG",
            release.dir.path().join("kubeconfig").to_str().unwrap(),
        )
        .input("releases", "shop/cart")
        .input("kube-context", "other")
        .run(&["drift-report"]);
    assert_eq!(outcome.exit_code, Some(3), "{}", explain(&outcome));
    assert_eq!(outcome.output("result"), "service-error");
    assert!(
        outcome.stdout.contains("could not be reached"),
        "{}",
        explain(&outcome)
    );
    assert!(fake.state().requests.is_empty());
}
