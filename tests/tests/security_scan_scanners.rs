//! Baselines with real scanners (installed by `scripts/test.sh` from `PyPI` into the tool venv):
//! scan a small repository, keep the merged SARIF as the baseline, change the code — shift every
//! line, fix one finding, add one — scan again, and check that exactly the added finding is
//! `new` and exactly the fixed one `absent`.

use std::path::Path;
use std::process::Command;

use gantry_testkit::harness::RunnerHarness;
use serde_json::Value;

fn scan(harness: &RunnerHarness<'_>, program: &Path, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .current_dir(harness.workspace())
        .env("SEMGREP_SEND_METRICS", "off")
        .output()
        .unwrap();
    // Bandit exits 1 when it finds something; both exit 2+ on real errors.
    assert!(
        output.status.code().is_some_and(|code| code <= 1),
        "{}: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Bandit's JSON report of `src`, written to `output`.
fn bandit_json(harness: &RunnerHarness<'_>, bandit: &Path, output: &str) {
    scan(
        harness,
        bandit,
        &["-q", "-f", "json", "-o", output, "-r", "src"],
    );
}

/// Results of the merged SARIF: (rule, line, baselineState).
fn states(harness: &RunnerHarness<'_>, file: &str) -> Vec<(String, u64, String)> {
    let log: Value =
        serde_json::from_slice(&std::fs::read(harness.workspace().join(file)).unwrap()).unwrap();
    let mut found = Vec::new();
    for run in log["runs"].as_array().unwrap() {
        for result in run["results"].as_array().unwrap() {
            found.push((
                result["ruleId"].as_str().unwrap().to_owned(),
                result["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
                result["baselineState"].as_str().unwrap_or("").to_owned(),
            ));
        }
    }
    found.sort();
    found
}

fn gantry(harness: &RunnerHarness<'_>, report: &str, output: &str, baseline: Option<&str>) {
    gantry_gate(harness, report, output, baseline, "none", 0);
}

fn gantry_gate(
    harness: &RunnerHarness<'_>,
    report: &str,
    output: &str,
    baseline: Option<&str>,
    fail_on: &str,
    exit_code: i32,
) {
    let mut args = vec![
        "security-scan",
        "--dry-run",
        "--reports",
        report,
        "--output",
        output,
        "--fail-on",
        fail_on,
        "--comment",
        "off",
    ];
    if let Some(baseline) = baseline {
        args.extend(["--baseline", baseline]);
    }
    let outcome = harness.run(&args);
    assert_eq!(
        outcome.exit_code,
        Some(exit_code),
        "{}\n{}",
        outcome.stdout,
        outcome.stderr
    );
}

const BEFORE: &str = r"import subprocess
import yaml

def load(path):
    return yaml.load(open(path), Loader=yaml.Loader)

def run(command):
    return subprocess.call(command, shell=True)

def run_again(command):
    return subprocess.call(command, shell=True)
";

const AFTER: &str = r#""""The same module, edited."""

import subprocess
import yaml


def load(path):
    return yaml.safe_load(open(path))

def run(command):
    # a comment above the call
    return subprocess.call(command, shell=True)

def run_again(command):
    return subprocess.call(command, shell=True)

def evaluate(text):
    return eval(text)
"#;

#[test]
fn bandit_baseline_marks_exactly_the_added_finding_new_and_the_fixed_one_absent() {
    let bandit = gantry_testkit::python_tool("bandit");
    let harness = RunnerHarness::new().without("GITHUB_TOKEN");
    harness.write("src/app.py", BEFORE);
    bandit_json(&harness, &bandit, "base.json");
    gantry(&harness, "base.json", "baseline.sarif", None);

    harness.write("src/app.py", AFTER);
    bandit_json(&harness, &bandit, "head.json");
    gantry(&harness, "head.json", "head.sarif", Some("baseline.sarif"));

    let found = states(&harness, "head.sarif");
    let of = |state: &str| -> Vec<(String, u64)> {
        found
            .iter()
            .filter(|(_, _, s)| s == state)
            .map(|(rule, line, _)| (rule.clone(), *line))
            .collect()
    };
    assert_eq!(of("new"), [("B307".to_owned(), 18)], "{found:?}");
    assert_eq!(of("absent"), [("B506".to_owned(), 5)], "{found:?}");
    // The two shell=True calls moved (lines 8 and 11 → 12 and 15) and stay known.
    assert_eq!(
        of("unchanged")
            .into_iter()
            .filter(|(rule, _)| rule == "B602")
            .map(|(_, line)| line)
            .collect::<Vec<_>>(),
        [12, 15],
        "{found:?}"
    );
}

#[test]
fn semgrep_sarif_baseline_with_local_rules() {
    let semgrep = gantry_testkit::python_tool("semgrep");
    let harness = RunnerHarness::new().without("GITHUB_TOKEN");
    harness.write(
        "rules.yml",
        "rules:\n  - id: no-shell\n    languages: [python]\n    severity: ERROR\n    message: a shell runs this command\n    pattern: subprocess.call(..., shell=True)\n  - id: no-eval\n    languages: [python]\n    severity: WARNING\n    message: eval runs arbitrary code\n    pattern: eval(...)\n  - id: unsafe-yaml\n    languages: [python]\n    severity: ERROR\n    message: yaml.load with the full loader\n    pattern: yaml.load(..., Loader=yaml.Loader)\n",
    );
    let semgrep_scan = |out: &str| {
        scan(
            &harness,
            &semgrep,
            &[
                "scan",
                "--config",
                "rules.yml",
                "--sarif",
                "--output",
                out,
                "--metrics=off",
                "--disable-version-check",
                "--quiet",
                "src",
            ],
        );
    };
    harness.write("src/app.py", BEFORE);
    semgrep_scan("base.sarif");
    gantry(&harness, "base.sarif", "baseline.sarif", None);
    harness.write("src/app.py", AFTER);
    semgrep_scan("head-semgrep.sarif");
    gantry(
        &harness,
        "head-semgrep.sarif",
        "head.sarif",
        Some("baseline.sarif"),
    );

    let found = states(&harness, "head.sarif");
    let rules = |state: &str| -> Vec<String> {
        found
            .iter()
            .filter(|(_, _, s)| s == state)
            .map(|(rule, _, _)| rule.clone())
            .collect()
    };
    assert_eq!(rules("new"), ["no-eval"], "{found:?}");
    assert_eq!(rules("absent"), ["unsafe-yaml"], "{found:?}");
    assert_eq!(rules("unchanged"), ["no-shell", "no-shell"], "{found:?}");
}

fn rows(expected: &[(&str, u64, &str)]) -> Vec<(String, u64, String)> {
    expected
        .iter()
        .map(|(rule, line, state)| ((*rule).to_owned(), *line, (*state).to_owned()))
        .collect()
}

fn semgrep_sarif(harness: &RunnerHarness<'_>, out: &str, target: &str) {
    let semgrep = gantry_testkit::python_tool("semgrep");
    scan(
        harness,
        &semgrep,
        &[
            "scan",
            "--config",
            "rules.yml",
            "--sarif",
            "--output",
            out,
            "--metrics=off",
            "--disable-version-check",
            "--quiet",
            target,
        ],
    );
}

const SECURITY_GROUP_BEFORE: &str = r#"resource "aws_security_group" "web" {
  name = "web"

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;

/// The PR narrows SSH to 10.0.0.0/8 and inserts an RDP block open to the internet between the
/// SSH and HTTPS blocks; its `cidr_blocks` line reads like the old SSH one (spacing aside).
const SECURITY_GROUP_AFTER: &str = r#"resource "aws_security_group" "web" {
  name = "web"

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }

  ingress {
    from_port = 3389
    to_port   = 3389
    protocol  = "tcp"
    cidr_blocks = [ "0.0.0.0/0" ]
  }

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;

// Issue 9, section 1: the new RDP hole was `unchanged` (matched by its line text to the SSH
// finding the same PR fixed), and of the `ingress {` findings (all one line text) the untouched
// first was `new` and the inserted one `unchanged`.
#[test]
fn semgrep_on_terraform_a_new_open_port_is_new_and_fails_the_gate() {
    let harness = RunnerHarness::new().without("GITHUB_TOKEN");
    harness.write(
        "rules.yml",
        r#"rules:
  - id: public-ingress
    languages: [hcl]
    severity: ERROR
    message: a rule open to the whole internet
    pattern-regex: 'cidr_blocks\s*=\s*\[\s*"0\.0\.0\.0/0"\s*\]'
  - id: block-without-description
    languages: [hcl]
    severity: WARNING
    message: a security group rule without a description
    pattern-regex: '(ingress|egress)\s*\{'
"#,
    );
    harness.write("infra/main.tf", SECURITY_GROUP_BEFORE);
    semgrep_sarif(&harness, "base-semgrep.sarif", "infra");
    gantry(&harness, "base-semgrep.sarif", "baseline.sarif", None);
    let base = states(&harness, "baseline.sarif");
    assert_eq!(
        base.iter()
            .map(|(rule, line, _)| (rule.as_str(), *line))
            .collect::<Vec<_>>(),
        [
            ("block-without-description", 4),
            ("block-without-description", 11),
            ("block-without-description", 18),
            ("public-ingress", 8),
            ("public-ingress", 15),
            ("public-ingress", 22),
        ],
        "semgrep found what the test expects on the base"
    );

    harness.write("infra/main.tf", SECURITY_GROUP_AFTER);
    semgrep_sarif(&harness, "head-semgrep.sarif", "infra");
    gantry_gate(
        &harness,
        "head-semgrep.sarif",
        "head.sarif",
        Some("baseline.sarif"),
        "medium",
        1,
    );
    let found = states(&harness, "head.sarif");
    let expected = rows(&[
        ("block-without-description", 4, "unchanged"),
        ("block-without-description", 11, "new"),
        ("block-without-description", 18, "unchanged"),
        ("block-without-description", 25, "unchanged"),
        ("public-ingress", 8, "absent"),
        ("public-ingress", 15, "new"),
        ("public-ingress", 22, "unchanged"),
        ("public-ingress", 29, "unchanged"),
    ]);
    assert_eq!(found, expected);
}

const HANDLERS_BEFORE: &str = r"import subprocess


def build(target):
    print('building', target)
    return subprocess.call(target, shell=True)


def clean(target):
    print('cleaning', target)
    return subprocess.call(target, shell=True)
";

/// The PR fixes `build` and adds `deploy` after it, whose call reads like the old one.
const HANDLERS_AFTER: &str = r"import subprocess


def build(target):
    print('building', target)
    return subprocess.call(['make', target])


def deploy(target):
    print('deploying', target)
    return subprocess.call(target, shell=True)


def clean(target):
    print('cleaning', target)
    return subprocess.call(target, shell=True)
";

#[test]
fn semgrep_on_python_a_fixed_call_and_an_added_copy_are_absent_and_new() {
    let harness = RunnerHarness::new().without("GITHUB_TOKEN");
    harness.write(
        "rules.yml",
        "rules:\n  - id: no-shell\n    languages: [python]\n    severity: ERROR\n    message: a shell runs this command\n    pattern: subprocess.call(..., shell=True)\n",
    );
    harness.write("src/handlers.py", HANDLERS_BEFORE);
    semgrep_sarif(&harness, "base-semgrep.sarif", "src");
    gantry(&harness, "base-semgrep.sarif", "baseline.sarif", None);
    harness.write("src/handlers.py", HANDLERS_AFTER);
    semgrep_sarif(&harness, "head-semgrep.sarif", "src");
    gantry_gate(
        &harness,
        "head-semgrep.sarif",
        "head.sarif",
        Some("baseline.sarif"),
        "medium",
        1,
    );
    let found = states(&harness, "head.sarif");
    let expected = rows(&[
        ("no-shell", 6, "absent"),
        ("no-shell", 11, "new"),
        ("no-shell", 16, "unchanged"),
    ]);
    assert_eq!(found, expected);
}

/// An `eval` whose line a change leaves as it was while everything around it changes: the
/// function above deleted, the one below rewritten.
const UNTOUCHED_BASE: &str =
    "def a():\n    x = 1\n    y = 2\neval(data)\ndef b():\n    z = 3\n    w = 4\n";
const UNTOUCHED_HEAD: &str = "eval(data)\ndef b(arg):\n    z = 30\n    w = 40\n";

/// `head.json` gated at `medium` against `baseline.sarif`, exiting `exit_code`: its results.
fn gate_head(harness: &RunnerHarness<'_>, exit_code: i32) -> Vec<(String, u64, String)> {
    let head = "head.sarif";
    gantry_gate(
        harness,
        "head.json",
        head,
        Some("baseline.sarif"),
        "medium",
        exit_code,
    );
    states(harness, head)
}

/// Issue 27 §1: a finding whose line the change did not touch was `new` when everything around
/// it changed — the function above deleted, the one below rewritten — and `fail-on` failed the
/// pull request for a finding that was always there. With the pull request's own diff (its
/// files' patches, from GitHub) the finding is matched by the line it came from. Real Bandit;
/// the patch is what `git diff` (2.47.3) wrote for this change.
#[test]
fn the_pull_requests_diff_keeps_an_untouched_finding_whose_neighbours_all_changed_known() {
    const PATCH: &str = "@@ -1,7 +1,4 @@\n-def a():\n-    x = 1\n-    y = 2\n eval(data)\n-def b():\n-    z = 3\n-    w = 4\n+def b(arg):\n+    z = 30\n+    w = 40";
    let bandit = gantry_testkit::python_tool("bandit");
    let fake = gantry_testkit::fake_github::FakeGitHub::start();
    fake.add_pull_request(7, "2222222222222222222222222222222222222222");
    let harness = RunnerHarness::new()
        .pull_request(7, "2222222222222222222222222222222222222222", false)
        .github(&fake);
    harness.write("src/app.py", UNTOUCHED_BASE);
    bandit_json(&harness, &bandit, "base.json");
    gantry(&harness, "base.json", "baseline.sarif", None);
    harness.write("src/app.py", UNTOUCHED_HEAD);
    bandit_json(&harness, &bandit, "head.json");
    let listed = |patch: Option<&str>| {
        let mut file = serde_json::json!({"filename": "src/app.py", "status": "modified",
            "additions": 3, "deletions": 6, "changes": 9});
        if let Some(patch) = patch {
            file["patch"] = serde_json::json!(patch);
        }
        vec![file]
    };
    let gate = |patch: Option<&str>, exit_code: i32| {
        fake.set_pull_file_entries(7, listed(patch));
        gate_head(&harness, exit_code)
    };
    assert_eq!(
        gate(Some(PATCH), 0),
        [("B307".to_owned(), 1, "unchanged".to_owned())]
    );
    // Without a patch (GitHub leaves it out of large files) the lines around it decide: nothing
    // around it is as it was, so it is new, and the gate says so.
    assert_eq!(
        gate(None, 1),
        [
            ("B307".to_owned(), 1, "new".to_owned()),
            ("B307".to_owned(), 4, "absent".to_owned())
        ]
    );
}

/// Issue 27 §1: off a pull request — a push, or no token — the diff is `git diff` of the
/// checkout from the event's base commit (what the push came after). A checkout that lacks that
/// commit (a shallow one) falls back to the neighbourhood rule, which cannot tell here.
#[test]
fn a_push_uses_git_diff_of_the_checkout_from_the_commit_it_came_after() {
    let bandit = gantry_testkit::python_tool("bandit");
    let base_harness = RunnerHarness::new().without("GITHUB_TOKEN");
    let git = |harness: &RunnerHarness<'_>, args: &[&str]| -> String {
        let output = Command::new("git")
            .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci"])
            .args(args)
            .current_dir(harness.workspace())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    git(&base_harness, &["init", "-q"]);
    base_harness.write("src/app.py", UNTOUCHED_BASE);
    git(&base_harness, &["add", "src/app.py"]);
    git(&base_harness, &["commit", "-q", "-m", "base"]);
    let before = git(&base_harness, &["rev-parse", "HEAD"]);
    bandit_json(&base_harness, &bandit, "base.json");
    gantry(&base_harness, "base.json", "baseline.sarif", None);
    let pushed = |before: &str| {
        serde_json::json!({"ref": "refs/heads/main", "before": before,
            "after": "3333333333333333333333333333333333333333",
            "repository": {"full_name": "octo/repo", "fork": false}})
    };
    let harness = base_harness.event("push", pushed(&before));
    harness.write("src/app.py", UNTOUCHED_HEAD);
    bandit_json(&harness, &bandit, "head.json");
    assert_eq!(
        gate_head(&harness, 0),
        [("B307".to_owned(), 1, "unchanged".to_owned())]
    );
    // A base commit the checkout does not have: the neighbourhood rule decides.
    let harness = harness.event("push", pushed("4444444444444444444444444444444444444444"));
    assert_eq!(gate_head(&harness, 1)[0].2, "new");
}

/// Issue 27 §2: `baseline: auto` on a pull request, with real Bandit. The base branch's run left
/// its SARIF in code scanning (an analysis per run, as GitHub keeps an upload); the pull
/// request's run takes it and, with the pull request's diff, keeps the untouched finding known.
/// With code scanning off it takes the base branch's artifact instead (downloaded from storage
/// without the token). With neither — the first pull request after adopting Gantry, or only a
/// fork's artifact named for `main` — the gate judges every finding and says why: exit 1 from
/// the gate, never exit 2.
#[test]
fn baseline_auto_finds_the_base_branchs_analysis_then_its_artifact_and_else_judges_everything() {
    use gantry_testkit::fake_github::{FakeGitHub, REPOSITORY_ID, WorkflowRun};
    const PATCH: &str = "@@ -1,7 +1,4 @@\n-def a():\n-    x = 1\n-    y = 2\n eval(data)\n-def b():\n-    z = 3\n-    w = 4\n+def b(arg):\n+    z = 30\n+    w = 40";
    let base_sha = "1".repeat(40);
    let bandit = gantry_testkit::python_tool("bandit");
    let fake = FakeGitHub::start();
    fake.add_pull_request(7, "2222222222222222222222222222222222222222");
    fake.set_pull_file_entries(
        7,
        vec![
            serde_json::json!({"filename": "src/app.py", "status": "modified",
            "additions": 3, "deletions": 6, "changes": 9, "patch": PATCH}),
        ],
    );
    let harness = RunnerHarness::new()
        .pull_request(7, "2222222222222222222222222222222222222222", false)
        .github(&fake);
    harness.write("src/app.py", UNTOUCHED_BASE);
    bandit_json(&harness, &bandit, "base.json");
    gantry(&harness, "base.json", "gantry-security.sarif", None);
    let base_sarif = std::fs::read(harness.workspace().join("gantry-security.sarif")).unwrap();
    std::fs::remove_file(harness.workspace().join("gantry-security.sarif")).unwrap();
    harness.write("src/app.py", UNTOUCHED_HEAD);
    bandit_json(&harness, &bandit, "head.json");
    let gate_auto = |exit_code: i32| {
        let outcome = harness.run(&[
            "security-scan",
            "--dry-run",
            "--reports",
            "head.json",
            "--baseline",
            "auto",
            "--fail-on",
            "medium",
            "--comment",
            "off",
        ]);
        assert_eq!(
            outcome.exit_code,
            Some(exit_code),
            "{}\n{}",
            outcome.stdout,
            outcome.stderr
        );
        (states(&harness, "gantry-security.sarif"), outcome.summary)
    };

    // Nothing on the base branch yet: judged, warned, and the gate's own exit.
    let (found, summary) = gate_auto(1);
    assert_eq!(found, [("B307".to_owned(), 1, String::new())]);
    assert!(
        summary.contains("found no baseline on `main`") && summary.contains("judged as new"),
        "{summary}"
    );

    // A fork's pull request whose branch is called `main` left an artifact: not a baseline.
    fake.add_run(WorkflowRun {
        id: 500,
        event: "pull_request".into(),
        conclusion: Some("success".into()),
        head_branch: "main".into(),
        head_sha: "5".repeat(40),
        head_repository_id: 77,
    });
    fake.add_artifact(
        "gantry-security-scan",
        500,
        false,
        gantry_testkit::archive::zip(&[("gantry-security.sarif", &base_sarif)]),
    );
    let (found, summary) = gate_auto(1);
    assert_eq!(found, [("B307".to_owned(), 1, String::new())]);
    assert!(
        summary.contains("ran for `pull_request`") || summary.contains("no unexpired artifact"),
        "{summary}"
    );

    // The base branch's upload, in code scanning.
    let log: Value = serde_json::from_slice(&base_sarif).unwrap();
    for run in log["runs"].as_array().unwrap() {
        fake.add_analysis("refs/heads/main", &base_sha, run.clone());
    }
    let (found, summary) = gate_auto(0);
    assert_eq!(found, [("B307".to_owned(), 1, "unchanged".to_owned())]);
    assert!(summary.contains("code scanning's analysis"), "{summary}");

    // Code scanning off: the base branch's own push run's artifact.
    fake.disable_code_scanning();
    fake.add_run(WorkflowRun {
        id: 600,
        event: "push".into(),
        conclusion: Some("failure".into()),
        head_branch: "main".into(),
        head_sha: base_sha.clone(),
        head_repository_id: REPOSITORY_ID,
    });
    fake.add_artifact(
        "gantry-security-scan",
        600,
        false,
        gantry_testkit::archive::zip(&[("gantry-security.sarif", &base_sarif)]),
    );
    let (found, summary) = gate_auto(0);
    assert_eq!(found, [("B307".to_owned(), 1, "unchanged".to_owned())]);
    assert!(
        summary.contains("artifact `gantry-security-scan` of run 600"),
        "{summary}"
    );
    let state = fake.state();
    assert_eq!(state.storage_requests_with_token, 0);
    assert!(
        state.contract_violations.is_empty(),
        "{:?}",
        state.contract_violations
    );
}

/// GitHub lists at most 3,000 files of a pull request: a changed file it left out passed for
/// unchanged, so a rewritten call on the same line matched the old one and the gate passed.
/// A full list is not trusted: the neighbourhood rule (or git) decides, and the rewrite is new.
#[test]
fn a_pull_request_with_more_files_than_github_lists_is_not_read_as_unchanged_elsewhere() {
    let bandit = gantry_testkit::python_tool("bandit");
    let fake = gantry_testkit::fake_github::FakeGitHub::start();
    fake.add_pull_request(7, "2222222222222222222222222222222222222222");
    let listed: Vec<Value> = (0..3_000)
        .map(|index| {
            serde_json::json!({"filename": format!("generated/file{index}.txt"), "status": "added",
                "additions": 1, "deletions": 0, "changes": 1, "patch": "@@ -0,0 +1 @@\n+x"})
        })
        .collect();
    fake.set_pull_file_entries(7, listed);
    let harness = RunnerHarness::new()
        .pull_request(7, "2222222222222222222222222222222222222222", false)
        .github(&fake);
    harness.write("src/app.py", "eval(request_body)\n");
    bandit_json(&harness, &bandit, "base.json");
    gantry(&harness, "base.json", "baseline.sarif", None);
    harness.write("src/app.py", "eval(other_input)\n");
    bandit_json(&harness, &bandit, "head.json");
    assert_eq!(
        gate_head(&harness, 1),
        [
            ("B307".to_owned(), 1, "absent".to_owned()),
            ("B307".to_owned(), 1, "new".to_owned())
        ]
    );
}
