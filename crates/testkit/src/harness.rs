//! Runs the built `gantry` the way an action step runs it: the process the launcher starts, with
//! the environment and files the runner gives a step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::fake_github::{FakeGitHub, State};

/// The built `gantry` binary: `$GANTRY_BIN`, else `gantry` beside the running test's folder
/// (`target/<profile>/gantry`).
///
/// # Panics
/// When it has not been built.
pub fn gantry_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("GANTRY_BIN") {
        return PathBuf::from(path);
    }
    let executable = std::env::current_exe().expect("the test's own path");
    let profile_dir = executable
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let binary = profile_dir.join(format!("gantry{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} is missing: build it first (`cargo build -p gantry`)",
        binary.display()
    );
    binary
}

/// What a run left behind.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Exit status (`None` when killed by a signal).
    pub exit_code: Option<i32>,
    /// Standard output (workflow commands and data).
    pub stdout: String,
    /// Standard error (logs).
    pub stderr: String,
    /// What the step wrote to `GITHUB_OUTPUT`.
    pub outputs: BTreeMap<String, String>,
    /// What the step wrote to `GITHUB_STEP_SUMMARY`.
    pub summary: String,
    /// The fake GitHub's state after the run, when one was attached.
    pub github: Option<State>,
}

impl RunOutcome {
    /// An output's value, or "" when unset.
    pub fn output(&self, name: &str) -> &str {
        self.outputs.get(name).map_or("", String::as_str)
    }
}

/// A hermetic runner environment for one step.
#[derive(Debug)]
pub struct RunnerHarness<'fake> {
    workspace: tempfile::TempDir,
    environment: BTreeMap<String, String>,
    event_name: String,
    event: Value,
    fake: Option<&'fake FakeGitHub>,
}

impl Default for RunnerHarness<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'fake> RunnerHarness<'fake> {
    /// A push to `main` of `octo/repo` at a fixed commit, with no GitHub attached.
    ///
    /// # Panics
    /// When no temporary folder can be made.
    pub fn new() -> Self {
        let workspace = tempfile::tempdir().expect("a temporary workspace");
        let mut environment = BTreeMap::new();
        for (key, value) in [
            ("GITHUB_ACTIONS", "true"),
            ("CI", "true"),
            ("GITHUB_REPOSITORY", "octo/repo"),
            ("GITHUB_REPOSITORY_OWNER", "octo"),
            ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_WORKFLOW", "ci"),
            ("GITHUB_JOB", "gate"),
            ("GITHUB_RUN_ID", "1001"),
            ("GITHUB_RUN_ATTEMPT", "1"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_API_URL", "http://127.0.0.1:9"),
            ("RUNNER_TEMP", "/tmp"),
        ] {
            environment.insert(key.to_owned(), value.to_owned());
        }
        Self {
            workspace,
            environment,
            event_name: "push".to_owned(),
            event: json!({"ref": "refs/heads/main", "before": "0".repeat(40), "after": "0123456789abcdef0123456789abcdef01234567", "repository": {"full_name": "octo/repo"}}),
            fake: None,
        }
    }

    /// The workspace folder (`GITHUB_WORKSPACE`), for the files the step reads.
    pub fn workspace(&self) -> &Path {
        self.workspace.path()
    }

    /// Writes a file into the workspace and returns its workspace-relative path.
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.workspace.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folders in the workspace");
        }
        std::fs::write(&path, contents).expect("write into the workspace");
        relative.to_owned()
    }

    /// Sets an input as `with:` would (`INPUT_<NAME>`).
    #[must_use]
    pub fn input(mut self, name: &str, value: &str) -> Self {
        self.environment
            .insert(gantry_input_variable(name), value.to_owned());
        self
    }

    /// Sets an input on an existing harness (to run again in the same workspace).
    pub fn set_input(&mut self, name: &str, value: &str) {
        self.environment
            .insert(gantry_input_variable(name), value.to_owned());
    }

    /// Sets any environment variable.
    #[must_use]
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.environment.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Removes an environment variable.
    #[must_use]
    pub fn without(mut self, key: &str) -> Self {
        self.environment.remove(key);
        self
    }

    /// Makes the event a `pull_request` (`opened`) for PR `number` with head `head_sha`;
    /// `fork` makes the head repository someone else's.
    #[must_use]
    pub fn pull_request(mut self, number: u64, head_sha: &str, fork: bool) -> Self {
        let head_repo = if fork { "someone/repo" } else { "octo/repo" };
        "pull_request".clone_into(&mut self.event_name);
        self.event = json!({
            "action": "opened", "number": number,
            "pull_request": {"number": number, "html_url": format!("https://github.com/octo/repo/pull/{number}"), "title": "change",
                "head": {"ref": "feature", "sha": head_sha, "repo": {"full_name": head_repo, "fork": fork}},
                "base": {"ref": "main", "sha": "1".repeat(40), "repo": {"full_name": "octo/repo"}}},
            "repository": {"full_name": "octo/repo"}
        });
        self.environment
            .insert("GITHUB_REF".to_owned(), format!("refs/pull/{number}/merge"));
        self.environment
            .insert("GITHUB_HEAD_REF".to_owned(), "feature".to_owned());
        self
    }

    /// A `workflow_run` event, as a trusted job publishing a saved report sees it: the run
    /// `run_id` tested `head_sha` from `head_repository` (a fork's, or `octo/repo`), and
    /// `pull_requests` are the pull requests GitHub lists for it (none for a fork's). The job
    /// itself runs on the default branch.
    #[must_use]
    pub fn workflow_run(
        mut self,
        run_id: u64,
        head_sha: &str,
        head_repository: &str,
        pull_requests: &[u64],
    ) -> Self {
        "workflow_run".clone_into(&mut self.event_name);
        let listed: Vec<Value> = pull_requests
            .iter()
            .map(|number| json!({"id": number, "number": number,
                "url": format!("https://api.github.com/repos/octo/repo/pulls/{number}"),
                "head": {"ref": "feature", "sha": head_sha, "repo": {"id": 1, "name": "repo", "url": "https://api.github.com/repos/octo/repo"}},
                "base": {"ref": "main", "sha": "1".repeat(40), "repo": {"id": 1, "name": "repo", "url": "https://api.github.com/repos/octo/repo"}}}))
            .collect();
        self.event = json!({
            "action": "completed",
            "workflow_run": {
                "id": run_id, "name": "ci", "head_branch": "feature", "head_sha": head_sha,
                "event": "pull_request", "status": "completed", "conclusion": "failure",
                "pull_requests": listed,
                "head_repository": {"full_name": head_repository},
                "repository": {"full_name": "octo/repo"}
            },
            "repository": {"full_name": "octo/repo"}
        });
        self.environment
            .insert("GITHUB_REF".to_owned(), "refs/heads/main".to_owned());
        self.environment
            .insert("GITHUB_SHA".to_owned(), "2".repeat(40));
        self
    }

    /// Uses any event name and payload.
    #[must_use]
    pub fn event(mut self, name: &str, payload: Value) -> Self {
        name.clone_into(&mut self.event_name);
        self.event = payload;
        self
    }

    /// Points `GITHUB_API_URL` at a fake and gives the step a token.
    #[must_use]
    pub fn github(mut self, fake: &'fake FakeGitHub) -> Self {
        self.environment
            .insert("GITHUB_API_URL".to_owned(), fake.url());
        self.environment.insert(
            "GITHUB_GRAPHQL_URL".to_owned(),
            format!("{}/graphql", fake.url()),
        );
        self.environment.insert(
            gantry_input_variable("github-token"),
            "ghs_faketoken0123456789".to_owned(),
        );
        self.fake = Some(fake);
        self
    }

    /// Runs `gantry <args…>` in the workspace with exactly this environment (plus `PATH`).
    ///
    /// # Panics
    /// When the binary cannot be started.
    pub fn run(&self, args: &[&str]) -> RunOutcome {
        self.run_program(&gantry_binary(), args)
    }

    /// Runs `program <args…>` as [`RunnerHarness::run`] runs gantry: the runner's files and
    /// environment (a launcher started as the runner starts a node action).
    ///
    /// # Panics
    /// When the program cannot be started.
    pub fn run_program(&self, program: &std::path::Path, args: &[&str]) -> RunOutcome {
        let (mut command, runner) = self.command(program, args);
        let output = command.output().expect("start the program");
        self.collect(&output, &runner)
    }

    /// Starts `gantry <args…>` and returns at once, for a test that signals it mid-run.
    ///
    /// # Panics
    /// When the binary cannot be started.
    pub fn spawn(&self, args: &[&str]) -> Running<'_, 'fake> {
        let (mut command, runner) = self.command(&gantry_binary(), args);
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = command.spawn().expect("start the program");
        Running {
            harness: self,
            child,
            runner,
        }
    }

    fn command(&self, program: &std::path::Path, args: &[&str]) -> (Command, tempfile::TempDir) {
        let runner = tempfile::tempdir().expect("a temporary runner folder");
        let event_path = runner.path().join("event.json");
        let output_path = runner.path().join("output");
        let summary_path = runner.path().join("summary.md");
        std::fs::write(&event_path, self.event.to_string()).expect("write the event");
        std::fs::write(&output_path, "").expect("create GITHUB_OUTPUT");
        std::fs::write(&summary_path, "").expect("create GITHUB_STEP_SUMMARY");

        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(self.workspace.path())
            .env_clear()
            .envs(&self.environment)
            .env("GITHUB_EVENT_NAME", &self.event_name)
            .env("GITHUB_EVENT_PATH", &event_path)
            .env("GITHUB_OUTPUT", &output_path)
            .env("GITHUB_STEP_SUMMARY", &summary_path)
            .env("GITHUB_WORKSPACE", self.workspace.path());
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        (command, runner)
    }

    fn collect(&self, output: &std::process::Output, runner: &tempfile::TempDir) -> RunOutcome {
        let read =
            |name: &str| std::fs::read_to_string(runner.path().join(name)).unwrap_or_default();
        let summary = read("summary.md");
        let github = self.fake.map(FakeGitHub::state);
        // What GitHub would show of every run: rendered, and checked for what went wrong.
        let mut documents = vec![("step summary".to_owned(), summary.clone())];
        if let Some(state) = &github {
            documents.extend(crate::gfm::documents_of(state));
        }
        crate::gfm::assert_renders(&documents);
        RunOutcome {
            exit_code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            outputs: parse_outputs(&read("output")),
            summary,
            github,
        }
    }
}

/// A step started by [`RunnerHarness::spawn`].
#[derive(Debug)]
pub struct Running<'harness, 'fake> {
    harness: &'harness RunnerHarness<'fake>,
    child: std::process::Child,
    runner: tempfile::TempDir,
}

impl Running<'_, '_> {
    /// Sends a signal (`TERM`, `INT`) as a cancelled job's runner does.
    ///
    /// # Panics
    /// When `kill` cannot be run.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for it to end.
    ///
    /// # Panics
    /// When waiting fails.
    pub fn wait(self) -> RunOutcome {
        let output = self.child.wait_with_output().expect("wait for the program");
        self.harness.collect(&output, &self.runner)
    }
}

/// `INPUT_` + upper-cased name, spaces → `_` (the runner's rule, restated so the harness does not
/// trust the code under test).
fn gantry_input_variable(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_uppercase())
}

/// Reads `GITHUB_OUTPUT` the way the runner does: heredoc blocks and `name=value` lines.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for body in lines.by_ref() {
                if body == delimiter {
                    break;
                }
                value.push(body);
            }
            outputs.insert(name.to_owned(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_owned(), value.to_owned());
        }
    }
    outputs
}
