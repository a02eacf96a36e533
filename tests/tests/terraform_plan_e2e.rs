//! `gantry terraform-plan` end to end with the real `terraform`: each scenario applies a first
//! configuration, plans a second (only the built-in `terraform_data`, nothing downloaded), and
//! runs the action the way the runner would, against the fake GitHub. The outputs must equal
//! the numbers of Terraform's own `Plan:` line, the comment must fit, and no secret may leak.

use std::path::{Path, PathBuf};
use std::process::Command;

use gantry_testkit::fake_github::FakeGitHub;
use gantry_testkit::harness::{RunOutcome, RunnerHarness};

const HEAD: &str = "89abcdef0123456789abcdef0123456789abcdef";
const SECRET: &str = "correct-horse-battery-staple";
const OUTPUT_SECRET: &str = "s3cr3t-output-value-42";

fn terraform(dir: &Path, args: &[&str]) -> String {
    let config = dir.join(".terraformrc");
    if !config.exists() {
        std::fs::write(&config, "").unwrap();
    }
    let output = Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", &config)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("terraform must be on PATH (scripts/test.sh checks for it)");
    assert!(
        output.status.success(),
        "terraform {args:?} failed in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A stack in the harness's workspace: v1 applied, v2 planned to `tfplan` and `plan.json`.
struct Stack {
    folder: String,
    plan_line: Option<String>,
}

fn stack(
    harness: &RunnerHarness<'_>,
    folder: &str,
    v1: &str,
    v2: &str,
    plan_args: &[&str],
    between: &dyn Fn(&Path),
) -> Stack {
    let dir: PathBuf = harness.workspace().join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.tf"), v1).unwrap();
    terraform(&dir, &["init", "-input=false", "-no-color"]);
    terraform(
        &dir,
        &["apply", "-input=false", "-auto-approve", "-no-color"],
    );
    between(&dir);
    std::fs::write(dir.join("main.tf"), v2).unwrap();
    let mut args = vec!["plan", "-input=false", "-no-color", "-out=tfplan"];
    args.extend_from_slice(plan_args);
    terraform(&dir, &args);
    let text = terraform(&dir, &["show", "-no-color", "tfplan"]);
    let json = terraform(&dir, &["show", "-json", "tfplan"]);
    std::fs::write(dir.join("plan.json"), json).unwrap();
    Stack {
        folder: folder.to_owned(),
        plan_line: text
            .lines()
            .find(|line| line.starts_with("Plan:"))
            .map(str::to_owned),
    }
}

/// `(import, add, change, destroy)` from Terraform's `Plan:` line.
fn numbers(plan_line: Option<&str>) -> (u64, u64, u64, u64) {
    let Some(line) = plan_line else {
        return (0, 0, 0, 0);
    };
    let find = |word: &str| {
        line.split(',')
            .find(|part| part.contains(word))
            .and_then(|part| {
                part.split_whitespace()
                    .find_map(|token| token.parse::<u64>().ok())
            })
            .unwrap_or(0)
    };
    (
        find("to import"),
        find("to add"),
        find("to change"),
        find("to destroy"),
    )
}

fn assert_matches_terraform(outcome: &RunOutcome, plan_line: Option<&str>) {
    let (import, add, change, destroy) = numbers(plan_line);
    assert_eq!(
        outcome.output("add"),
        add.to_string(),
        "add vs {plan_line:?}\n{}",
        outcome.stdout
    );
    assert_eq!(
        outcome.output("change"),
        change.to_string(),
        "change vs {plan_line:?}"
    );
    assert_eq!(
        outcome.output("destroy"),
        destroy.to_string(),
        "destroy vs {plan_line:?}"
    );
    assert_eq!(
        outcome.output("import"),
        import.to_string(),
        "import vs {plan_line:?}"
    );
}

fn assert_no_leak(outcome: &RunOutcome) {
    assert_none_leaks(outcome, &[SECRET, OUTPUT_SECRET]);
}

/// None of `secrets` is in the step's output, log, summary, outputs or comments.
fn assert_none_leaks(outcome: &RunOutcome, secrets: &[&str]) {
    let comments: Vec<String> = outcome
        .github
        .iter()
        .flat_map(|state| state.comments.iter().map(|c| c.body.clone()))
        .collect();
    for secret in secrets {
        for (what, text) in [
            ("stdout", &outcome.stdout),
            ("stderr", &outcome.stderr),
            ("summary", &outcome.summary),
        ] {
            assert!(
                !text.contains(secret),
                "{secret} leaked into {what}:\n{text}"
            );
        }
        for body in &comments {
            assert!(
                !body.contains(secret),
                "{secret} leaked into a comment:\n{body}"
            );
        }
        assert!(
            !outcome.outputs.values().any(|value| value.contains(secret)),
            "{secret} leaked into an output"
        );
    }
    for body in &comments {
        assert!(body.len() <= 65_536, "comment of {} bytes", body.len());
    }
}

fn run_action(
    fake: &FakeGitHub,
    build: impl FnOnce(&RunnerHarness<'_>) -> Vec<Stack>,
    extra: &[(&str, &str)],
) -> (RunOutcome, Vec<Stack>) {
    let mut harness = RunnerHarness::new()
        .pull_request(7, HEAD, false)
        .github(fake);
    for (name, value) in extra {
        harness = harness.input(name, value);
    }
    let stacks = build(&harness);
    let plans: Vec<String> = stacks
        .iter()
        .map(|stack| format!("{0}={0}/tfplan", stack.folder))
        .collect();
    let harness = harness.input("plan", &plans.join("\n"));
    let outcome = harness.run(&["terraform-plan"]);
    assert!(
        matches!(outcome.exit_code, Some(0 | 1)),
        "exit {:?}\n{}\n{}",
        outcome.exit_code,
        outcome.stdout,
        outcome.stderr
    );
    (outcome, stacks)
}

fn fake() -> FakeGitHub {
    let fake = FakeGitHub::start();
    fake.add_pull_request(7, HEAD);
    fake
}

fn single(
    v1: &str,
    v2: &str,
    plan_args: &[&str],
    between: &dyn Fn(&Path),
    extra: &[(&str, &str)],
) -> (RunOutcome, Option<String>, FakeGitHub) {
    let fake = fake();
    let (outcome, stacks) = run_action(
        &fake,
        |harness| vec![stack(harness, "infra", v1, v2, plan_args, between)],
        extra,
    );
    assert_matches_terraform(&outcome, stacks[0].plan_line.as_deref());
    assert_no_leak(&outcome);
    let line = stacks[0].plan_line.clone();
    (outcome, line, fake)
}

fn comment(outcome: &RunOutcome) -> String {
    let state = outcome.github.as_ref().unwrap();
    assert_eq!(state.comments.len(), 1, "one comment");
    state.comments[0].body.clone()
}

const NOTHING: &dyn Fn(&Path) = &|_: &Path| {};

#[test]
fn create_update_and_delete() {
    let v1 = r#"
resource "terraform_data" "keep" { input = { size = "small", replicas = 2 } }
resource "terraform_data" "old" { input = "bye" }
"#;
    let v2 = r#"
resource "terraform_data" "keep" { input = { size = "large", replicas = 2 } }
resource "terraform_data" "new" { input = "hello" }
"#;
    let (outcome, line, _) = single(v1, v2, &[], NOTHING, &[]);
    assert_eq!(
        line.as_deref(),
        Some("Plan: 1 to add, 1 to change, 1 to destroy.")
    );
    let body = comment(&outcome);
    assert!(
        body.contains("**Plan: 1 to add, 1 to change, 1 to destroy.**"),
        "{body}"
    );
    assert!(
        body.contains("! input.size = \"small\" → \"large\""),
        "{body}"
    );
    assert!(
        body.contains("**destroy** `terraform_data.old` — no longer in the configuration"),
        "{body}"
    );
    assert_eq!(outcome.output("has-destroy"), "true");
    assert_eq!(
        outcome.exit_code,
        Some(0),
        "fail-on-destroy is off by default"
    );
}

#[test]
fn replace_both_ways_and_replace_triggered_by() {
    let v1 = r#"
resource "terraform_data" "image" { input = "v1" }
resource "terraform_data" "plain" { triggers_replace = ["a"] }
resource "terraform_data" "cbd" {
  triggers_replace = ["a"]
  lifecycle { create_before_destroy = true }
}
resource "terraform_data" "follower" {
  input = "x"
  lifecycle { replace_triggered_by = [terraform_data.image] }
}
"#;
    let v2 = r#"
resource "terraform_data" "image" { input = "v1" }
resource "terraform_data" "plain" { triggers_replace = ["b"] }
resource "terraform_data" "cbd" {
  triggers_replace = ["b"]
  lifecycle { create_before_destroy = true }
}
resource "terraform_data" "follower" {
  input = "x"
  lifecycle { replace_triggered_by = [terraform_data.image] }
}
"#;
    // `-replace` on the image replaces it, which fires the follower's replace_triggered_by.
    let (outcome, _, _) = single(
        v1,
        v2,
        &["-replace=terraform_data.image"],
        NOTHING,
        &[
            ("fail-on-destroy", "true"),
            ("destroy-allowlist", "terraform_data.image"),
        ],
    );
    assert_eq!(outcome.output("replace"), "4");
    let body = comment(&outcome);
    assert!(body.contains("`-/+` | `terraform_data.plain`"), "{body}");
    assert!(
        body.contains("`+/-` | `terraform_data.cbd`"),
        "create_before_destroy: {body}"
    );
    assert!(body.contains("replacement requested with"), "{body}");
    assert!(body.contains("`replace_triggered_by` fired"), "{body}");
    assert!(body.contains("allowed by `destroy-allowlist`"), "{body}");
    assert_eq!(
        outcome.exit_code,
        Some(1),
        "three replaces are not allowlisted"
    );
    assert_eq!(outcome.output("result"), "failed");
}

#[test]
fn taint_moved_removed_and_import() {
    let v1 = r#"
resource "terraform_data" "tainted" { input = "t" }
resource "terraform_data" "old_name" { input = "m" }
resource "terraform_data" "forgotten" { input = "f" }
"#;
    let taint = |dir: &Path| {
        terraform(dir, &["taint", "-no-color", "terraform_data.tainted"]);
    };
    let v2 = r#"
resource "terraform_data" "tainted" { input = "t" }
resource "terraform_data" "new_name" { input = "m" }
moved {
  from = terraform_data.old_name
  to   = terraform_data.new_name
}
removed {
  from = terraform_data.forgotten
  lifecycle { destroy = false }
}
"#;
    let (outcome, line, _) = single(v1, v2, &[], &taint, &[]);
    assert_eq!(
        line.as_deref(),
        Some("Plan: 1 to add, 0 to change, 1 to destroy.")
    );
    assert_eq!(outcome.output("move"), "1");
    assert_eq!(outcome.output("forget"), "1");
    let body = comment(&outcome);
    assert!(body.contains("tainted: marked for replacement"), "{body}");
    assert!(
        body.contains("Moved from `terraform_data.old_name`"),
        "{body}"
    );
    assert!(
        body.contains("**forget** `terraform_data.forgotten`"),
        "{body}"
    );
}

#[test]
fn import_blocks_are_counted_like_terraform() {
    let fake = fake();
    let (outcome, stacks) = run_action(
        &fake,
        |harness| {
            let dir = harness.workspace().join("infra");
            std::fs::create_dir_all(&dir).unwrap();
            // Create an object in one state, then import it into another configuration.
            std::fs::write(
                dir.join("main.tf"),
                "resource \"terraform_data\" \"source\" { input = \"x\" }\n",
            )
            .unwrap();
            terraform(&dir, &["init", "-input=false", "-no-color"]);
            terraform(
                &dir,
                &["apply", "-input=false", "-auto-approve", "-no-color"],
            );
            let state = terraform(
                &dir,
                &["state", "show", "-no-color", "terraform_data.source"],
            );
            let id = state
                .lines()
                .find(|l| l.trim_start().starts_with("id "))
                .and_then(|l| l.split('"').nth(1))
                .unwrap()
                .to_owned();
            terraform(&dir, &["state", "rm", "-no-color", "terraform_data.source"]);
            let v2 = format!(
                "resource \"terraform_data\" \"imported\" {{ input = \"x\" }}\nimport {{\n  to = terraform_data.imported\n  id = \"{id}\"\n}}\n"
            );
            std::fs::write(dir.join("main.tf"), v2).unwrap();
            terraform(&dir, &["plan", "-input=false", "-no-color", "-out=tfplan"]);
            let text = terraform(&dir, &["show", "-no-color", "tfplan"]);
            vec![Stack {
                folder: "infra".into(),
                plan_line: text
                    .lines()
                    .find(|line| line.starts_with("Plan:"))
                    .map(str::to_owned),
            }]
        },
        &[],
    );
    let line = stacks[0].plan_line.as_deref();
    assert!(
        line.is_some_and(|line| line.starts_with("Plan: 1 to import")),
        "{line:?}"
    );
    assert_matches_terraform(&outcome, line);
    assert!(comment(&outcome).contains("Imported with id"));
}

#[test]
fn sensitive_variables_and_outputs_never_leak() {
    let v1 = "resource \"terraform_data\" \"db\" { input = \"none\" }\n";
    let v2 = format!(
        r#"
variable "password" {{
  type      = string
  sensitive = true
  default   = "{SECRET}"
}}
resource "terraform_data" "db" {{ input = {{ engine = "postgres", password = var.password }} }}
output "token" {{
  value     = "{OUTPUT_SECRET}"
  sensitive = true
}}
output "connection" {{
  value     = "postgres://admin:${{var.password}}@db"
  sensitive = true
}}
"#
    );
    let (outcome, _, _) = single(v1, &v2, &[], NOTHING, &[]);
    let body = comment(&outcome);
    assert!(body.contains("(sensitive)"), "{body}");
    assert!(
        outcome.summary.contains("`token`"),
        "outputs are listed by name"
    );
}

/// Issue 25 §4: a sensitive value with a quote and a backslash leaked wherever the same value
/// appeared unmarked, because the scrubber matched the raw string while the renderer showed it
/// JSON-escaped. Real terraform writes the plan: the password marked in one resource, mirrored
/// unmarked into another resource's longer string and an output (`nonsensitive`), and a
/// sensitive map whose key is mirrored too.
#[test]
fn a_password_with_quotes_and_backslashes_never_leaks_where_it_is_mirrored_unmarked() {
    // The HCL string `Zq8\"w0\\rd x` is the value `Zq8"w0\rd x`.
    const FRAGMENT: &str = "Zq8";
    const KEY: &str = "svc-key-7f3a9Q";
    let v1 = "resource \"terraform_data\" \"db\" { input = \"none\" }\n";
    let v2 = format!(
        r#"
variable "password" {{
  type      = string
  sensitive = true
  default   = "{FRAGMENT}\"w0\\rd x"
}}
variable "credentials" {{
  type      = map(string)
  sensitive = true
  default   = {{ "{KEY}" = "other" }}
}}
resource "terraform_data" "db" {{ input = {{ password = var.password }} }}
resource "terraform_data" "mirror" {{ input = "dsn=postgres://app:${{nonsensitive(var.password)}}@db" }}
resource "terraform_data" "creds" {{ input = var.credentials }}
resource "terraform_data" "keys" {{ input = nonsensitive(keys(var.credentials)) }}
output "mirror" {{ value = nonsensitive(var.password) }}
"#
    );
    let fake = fake();
    let mut plan = String::new();
    let (outcome, _) = run_action(
        &fake,
        |harness| {
            let built = stack(harness, "infra", v1, &v2, &[], NOTHING);
            plan = std::fs::read_to_string(harness.workspace().join("infra/plan.json")).unwrap();
            vec![built]
        },
        &[],
    );
    assert!(
        plan.contains(r#"Zq8\"w0\\rd x"#) && plan.contains(KEY),
        "terraform wrote the values unmarked, JSON-escaped"
    );
    assert_none_leaks(&outcome, &[FRAGMENT, KEY]);
    let body = comment(&outcome);
    assert!(body.contains("terraform_data.mirror"), "{body}");
}

#[test]
fn failing_checks_and_a_refresh_only_plan() {
    let v1 = "resource \"terraform_data\" \"app\" { input = { replicas = 1 } }\noutput \"replicas\" { value = 1 }\n";
    let v2 = r#"
resource "terraform_data" "app" { input = { replicas = 1 } }
output "replicas" { value = 2 }
check "enough_replicas" {
  assert {
    condition     = terraform_data.app.output.replicas >= 2
    error_message = "run at least two replicas"
  }
}
"#;
    let (outcome, line, _) = single(v1, v2, &["-refresh-only"], NOTHING, &[]);
    assert_eq!(line, None, "a refresh-only plan has no Plan: line");
    assert_eq!(outcome.output("has-changes"), "true", "the output changes");
    let body = comment(&outcome);
    assert!(body.contains("No resource changes"), "{body}");
    assert!(body.contains("run at least two replicas"), "{body}");
    assert!(body.contains("**fail**"), "{body}");
}

#[test]
fn a_rerun_keeps_one_comment_and_matrix_stacks_get_their_own() {
    let fake = fake();
    let v1 = "resource \"terraform_data\" \"a\" { input = 1 }\n";
    let v2 = "resource \"terraform_data\" \"a\" { input = 2 }\n";
    for _ in 0..2 {
        let (outcome, _) = run_action(
            &fake,
            |harness| vec![stack(harness, "aws", v1, v2, &[], NOTHING)],
            &[],
        );
        assert_eq!(outcome.exit_code, Some(0));
    }
    assert_eq!(
        fake.state().comments_on(7).len(),
        1,
        "a rerun edits the one comment"
    );
    for cloud in ["gcp", "azure"] {
        run_action(
            &fake,
            |harness| vec![stack(harness, cloud, v1, v2, &[], NOTHING)],
            &[],
        );
    }
    let state = fake.state();
    let comments = state.comments_on(7);
    assert_eq!(comments.len(), 3, "one comment per matrix stack");
    for (comment, cloud) in comments.iter().zip(["aws", "gcp", "azure"]) {
        assert!(
            comment.body.contains(&format!("stack `{cloud}`")),
            "{}",
            comment.body
        );
    }
    assert!(state.contract_violations.is_empty());
}

#[test]
fn matrix_jobs_with_one_comment_key_share_one_comment() {
    let fake = fake();
    let v1 = "resource \"terraform_data\" \"a\" { input = 1 }\n";
    let v2 = "resource \"terraform_data\" \"a\" { input = 2 }\nresource \"terraform_data\" \"b\" { input = 1 }\n";
    for cloud in ["gcp", "aws", "azure"] {
        let (outcome, _) = run_action(
            &fake,
            |harness| vec![stack(harness, cloud, v1, v2, &[], NOTHING)],
            &[("comment-key", "seed-pipeline")],
        );
        assert_eq!(outcome.exit_code, Some(0), "{}", outcome.stderr);
    }
    let state = fake.state();
    let comments = state.comments_on(7);
    assert_eq!(comments.len(), 1, "one shared comment");
    let body = &comments[0].body;
    let position = |cloud: &str| {
        body.find(&format!("stack `{cloud}`"))
            .unwrap_or_else(|| panic!("{cloud} missing:\n{body}"))
    };
    assert!(
        position("aws") < position("azure") && position("azure") < position("gcp"),
        "each stack its own section, in order"
    );
    assert!(body.len() <= 65_536);
    assert_eq!(
        body.matches("**Plan: 1 to add, 1 to change, 0 to destroy.**")
            .count(),
        3
    );
}

#[test]
fn expect_digest_lets_only_the_reviewed_plan_through() {
    let fake = fake();
    let v1 = "resource \"terraform_data\" \"a\" { input = 1 }\n";
    let v2 = "resource \"terraform_data\" \"a\" { input = 2 }\n";
    let mut harness = RunnerHarness::new()
        .pull_request(7, HEAD, false)
        .github(&fake);
    stack(&harness, "infra", v1, v2, &[], NOTHING);

    // Reviewed: the binary plan, shown by gantry through terraform.
    harness.set_input("plan", "infra=infra/tfplan");
    let reviewed = harness.run(&["terraform-plan"]);
    let digest = reviewed.output("plan-digest").to_owned();
    assert_eq!(digest.len(), 64, "{}", reviewed.stdout);

    // The same plan as JSON has the same digest, and passes.
    harness.set_input("plan", "infra=infra/plan.json");
    harness.set_input("expect-digest", &digest);
    harness.set_input("comment", "off");
    let same = harness.run(&["terraform-plan"]);
    assert_eq!(same.exit_code, Some(0), "{}", same.stdout);
    assert_eq!(same.output("plan-digest"), digest);

    // A different plan of the same stack does not.
    let dir = harness.workspace().join("infra");
    std::fs::write(
        dir.join("main.tf"),
        "resource \"terraform_data\" \"a\" { input = 3 }\n",
    )
    .unwrap();
    terraform(
        &dir,
        &["plan", "-input=false", "-no-color", "-out=other.tfplan"],
    );
    harness.set_input("plan", "infra=infra/other.tfplan");
    let other = harness.run(&["terraform-plan"]);
    assert_eq!(other.exit_code, Some(1));
    assert_eq!(other.output("result"), "failed");
    assert!(
        other.summary.contains("expect\\-digest"),
        "{}",
        other.summary
    );
}

#[test]
fn a_binary_plan_without_terraform_is_a_clear_input_error() {
    let fake = fake();
    let harness = RunnerHarness::new()
        .pull_request(7, HEAD, false)
        .github(&fake);
    harness.write("infra/tfplan", b"PK\x03\x04not really a plan");
    let outcome = harness
        .input("plan", "infra/tfplan")
        .input("terraform-command", "no-such-terraform")
        .run(&["terraform-plan"]);
    assert_eq!(outcome.exit_code, Some(2));
    assert!(
        outcome.stdout.contains(
            "infra/tfplan: is a binary plan file, and showing it needs `no-such-terraform`"
        ),
        "{}",
        outcome.stdout
    );
    assert!(fake.state().requests.is_empty(), "nothing posted");
}

#[test]
fn bad_plan_inputs_exit_2_naming_the_file() {
    let fake = fake();
    let mut harness = RunnerHarness::new()
        .pull_request(7, HEAD, false)
        .github(&fake);
    harness.write("empty.json", "");
    harness.write(
        "truncated.json",
        "{\"format_version\":\"1.2\",\"resource_changes\":[",
    );
    std::fs::create_dir_all(harness.workspace().join("folder.json")).unwrap();
    for (input, expected) in [
        ("empty.json", "empty.json: the file is empty"),
        (
            "truncated.json",
            "truncated.json: the JSON ends early at line 1",
        ),
        ("missing.json", "plan: missing.json: no such file"),
        (
            "folder.json",
            "folder.json: is a folder, not a regular file",
        ),
        ("nothing/*.json", "plan: `nothing/*.json` matches no file"),
    ] {
        harness.set_input("plan", input);
        let outcome = harness.run(&["terraform-plan"]);
        assert_eq!(outcome.exit_code, Some(2), "{input}");
        assert_eq!(outcome.output("result"), "invalid-input");
        assert!(
            outcome.stdout.contains(expected),
            "{input}: {}",
            outcome.stdout
        );
    }
    assert!(fake.state().requests.is_empty(), "nothing posted");
}

/// Issue 27 §5: a matrix of clouds reviews its stacks in one comment and applies each alone.
/// One run over two stacks gives each stack's digest (as JSON and per stack); each stack run on
/// its own passes `expect-digest` with its digest and has it as `plan-digest`; the other stack's
/// digest, or the combined one, is refused.
#[test]
fn each_stack_has_its_own_digest_for_its_own_apply() {
    let fake = fake();
    let mut harness = RunnerHarness::new()
        .pull_request(7, HEAD, false)
        .github(&fake);
    stack(
        &harness,
        "aws",
        "resource \"terraform_data\" \"a\" { input = 1 }\n",
        "resource \"terraform_data\" \"a\" { input = 2 }\n",
        &[],
        NOTHING,
    );
    stack(
        &harness,
        "gcp.prod",
        "resource \"terraform_data\" \"b\" { input = 1 }\n",
        "resource \"terraform_data\" \"b\" { input = 3 }\n",
        &[],
        NOTHING,
    );
    harness.set_input("plan", "aws=aws/tfplan\ngcp.prod=gcp.prod/tfplan");
    let both = harness.run(&["terraform-plan"]);
    assert_eq!(both.exit_code, Some(0), "{}", both.stderr);
    let digests: serde_json::Value = serde_json::from_str(both.output("plan-digests")).unwrap();
    let aws = digests["aws"].as_str().unwrap().to_owned();
    let gcp = digests["gcp.prod"].as_str().unwrap().to_owned();
    assert_eq!(both.output("plan-digest-aws"), aws);
    assert_eq!(both.output("plan-digest-gcp-prod"), gcp);
    let combined = both.output("plan-digest").to_owned();
    assert!(aws != gcp && aws != combined && gcp != combined);

    harness.set_input("comment", "off");
    for (name, digest) in [("aws", &aws), ("gcp.prod", &gcp)] {
        harness.set_input("plan", &format!("{name}={name}/tfplan"));
        harness.set_input("expect-digest", digest);
        let alone = harness.run(&["terraform-plan"]);
        assert_eq!(alone.exit_code, Some(0), "{name}: {}", alone.summary);
        assert_eq!(alone.output("plan-digest"), digest.as_str());
    }
    for wrong in [&gcp, &combined] {
        harness.set_input("plan", "aws=aws/tfplan");
        harness.set_input("expect-digest", wrong);
        assert_eq!(harness.run(&["terraform-plan"]).exit_code, Some(1));
    }
}
