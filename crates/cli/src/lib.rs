//! The `gantry` binary's library: the action registry, the command line, and the one place
//! that reads the environment and touches the runner's files.
//!
//! `main` reads the environment once and calls [`run`]; everything after that is values passed
//! down. An action runs as: inputs (environment, then `--flags`, then declared defaults) →
//! the action's adapter reads files → the sans-IO action returns a `Report` → outputs, step
//! summary, annotations and files are written → effects go to GitHub or the local sink.

pub mod actions;
pub mod invocation;
pub mod registry;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::hash::{BuildHasher as _, Hasher as _};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, ArgMatches};
use gantry_core::action::{ActionSpec, GITHUB_TOKEN_INPUT, InputKind, InputSpec, RESULT_OUTPUT};
use gantry_core::event::Event;
use gantry_core::report::Report;
use gantry_core::runner::{
    AnnotationLevel, AnnotationPlace, Inputs, Outputs, RunnerContext, WorkflowCommand,
    fit_step_summary,
};
use gantry_github::clock::SystemClock;
use gantry_github::rest::{Endpoint, RestClient};
use gantry_github::retry::RetryPolicy;
use gantry_github::{GitHubSink, LocalSink, PublishOutcome, Target};

use crate::invocation::{ActionFailure, Invocation, io_reason};
use crate::registry::{Command, commands};

/// Exit status: the gate passed.
pub const EXIT_PASSED: u8 = 0;
/// Exit status: the gate said no.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: bad input or usage.
pub const EXIT_INVALID_INPUT: u8 = 2;
/// Exit status: GitHub or another service failed.
pub const EXIT_SERVICE_ERROR: u8 = 3;

/// Where local effects go by default.
const DEFAULT_OUT_DIR: &str = "gantry-out";

/// The command line, built from the registry.
pub fn command_line() -> clap::Command {
    let mut cli = clap::Command::new("gantry")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Gantry: scan, gate, plan, deploy and verify, as GitHub Actions or on a laptop")
        .subcommand_required(true)
        .arg_required_else_help(true);
    for command in commands() {
        let mut subcommand = clap::Command::new(command.spec.name).about(command.spec.description);
        for input in command.spec.inputs {
            subcommand = subcommand.arg(input_flag(input));
        }
        cli = cli.subcommand(with_publishing_flags(subcommand, true));
    }
    cli.subcommand(with_publishing_flags(
        clap::Command::new("publish")
            .about("Carry out a saved report (from --save-report): publish a fork PR's results from a trusted workflow_run job")
            .arg(Arg::new("report").long("report").value_name("FILE").required(true).help("The report JSON to publish"))
            .arg(input_flag(&GITHUB_TOKEN_INPUT)),
        false,
    ))
    .subcommand(
        clap::Command::new("demo")
            .about("Run every implemented action on the bundled examples, writing results locally (no GitHub needed)")
            .arg(Arg::new("examples").long("examples").value_name("DIR").default_value("examples").help("The examples folder"))
            .arg(Arg::new("out-dir").long("out-dir").value_name("DIR").default_value("gantry-out/demo").help("Where to write the results")),
    )
}

fn input_flag(input: &InputSpec) -> Arg {
    let action = if input.kind == InputKind::List {
        ArgAction::Append
    } else {
        ArgAction::Set
    };
    Arg::new(input.name)
        .long(input.name)
        .value_name("VALUE")
        .action(action)
        .help(input.description.to_owned())
}

fn with_publishing_flags(command: clap::Command, can_save: bool) -> clap::Command {
    let command = command
        .arg(
            Arg::new("dry-run")
                .long("dry-run")
                .action(ArgAction::SetTrue)
                .help("Write every effect (comment, check run, SARIF, issue) as a file instead of publishing it"),
        )
        .arg(
            Arg::new("out-dir")
                .long("out-dir")
                .value_name("DIR")
                .help("Where local effects are written (default: gantry-out in the workspace)"),
        );
    if can_save {
        command.arg(
            Arg::new("save-report")
                .long("save-report")
                .value_name("FILE")
                .help("Also save the report as JSON, for `gantry publish` in a trusted job"),
        )
    } else {
        command
    }
}

/// Standard output: workflow commands and data. Writes are best-effort (a closed pipe must not
/// turn a passed gate into a crash).
struct Console<'out> {
    out: &'out mut dyn std::io::Write,
}

impl Console<'_> {
    fn line(&mut self, text: impl std::fmt::Display) {
        let _ = writeln!(self.out, "{text}");
    }

    fn command(&mut self, command: &WorkflowCommand) {
        self.line(command);
    }

    fn warning(&mut self, title: &str, message: &str) {
        self.command(&WorkflowCommand::Annotation {
            level: AnnotationLevel::Warning,
            place: AnnotationPlace {
                title: Some(title.to_owned()),
                ..AnnotationPlace::default()
            },
            message: message.to_owned(),
        });
    }

    fn error(&mut self, message: &str) {
        self.command(&WorkflowCommand::Annotation {
            level: AnnotationLevel::Error,
            place: AnnotationPlace::default(),
            message: message.to_owned(),
        });
    }
}

/// How the report's effects are published.
struct Publishing {
    dry_run: bool,
    out_dir: PathBuf,
    token: Option<String>,
}

/// Runs the command line with this environment; returns the exit status.
pub fn run(
    args: Vec<OsString>,
    environment: &BTreeMap<String, String>,
    stdout: &mut dyn std::io::Write,
) -> u8 {
    let mut console = Console { out: stdout };
    let matches = match command_line().try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(error) => {
            let exit = if error.use_stderr() {
                EXIT_INVALID_INPUT
            } else {
                EXIT_PASSED
            };
            let _ = error.print();
            return exit;
        }
    };
    let Some((name, sub)) = matches.subcommand() else {
        return EXIT_INVALID_INPUT;
    };
    let context = RunnerContext::from_environment(environment);
    let workspace = context.workspace.as_ref().map_or_else(
        || std::env::current_dir().unwrap_or_default(),
        PathBuf::from,
    );
    match name {
        "demo" => run_demo(sub, environment, &mut console),
        "publish" => {
            let report_path = sub.get_one::<String>("report").cloned().unwrap_or_default();
            let inputs = inputs_for(&[GITHUB_TOKEN_INPUT], environment, sub);
            mask_secrets(&[GITHUB_TOKEN_INPUT], &inputs, &context, &mut console);
            let report = match std::fs::read(workspace.join(&report_path))
                .map_err(|error| format!("{report_path}: cannot read: {}", io_reason(&error)))
                .and_then(|bytes| {
                    serde_json::from_slice::<Report>(&bytes)
                        .map_err(|error| format!("{report_path}: not a gantry report: {error}"))
                }) {
                Ok(report) => report,
                Err(message) => return invalid_input(&mut console, &context, &message),
            };
            let event = match read_event(&context) {
                Ok(event) => event,
                Err(message) => return invalid_input(&mut console, &context, &message),
            };
            let publishing = publishing_for(sub, &inputs, &workspace);
            finish(
                &report,
                &context,
                event.as_ref(),
                &workspace,
                &publishing,
                &mut console,
            )
        }
        action => {
            let Some(command) = registry::command(action) else {
                return EXIT_INVALID_INPUT;
            };
            let inputs = inputs_for(command.spec.inputs, environment, sub);
            mask_secrets(command.spec.inputs, &inputs, &context, &mut console);
            // Every input as its spec declares it (required, choices, booleans, numbers),
            // once for every action, before it reads any.
            if let Err(error) = inputs.check(command.spec.inputs) {
                return invalid_input(&mut console, &context, &error.to_string());
            }
            let event = match read_event(&context) {
                Ok(event) => event,
                Err(message) => return invalid_input(&mut console, &context, &message),
            };
            let publishing = publishing_for(sub, &inputs, &workspace);
            let invocation = Invocation {
                inputs,
                context: context.clone(),
                event,
                workspace: workspace.clone(),
            };
            let report = match (command.run)(&invocation) {
                Ok(report) => report,
                Err(ActionFailure::InvalidInput(message)) => {
                    return invalid_input(&mut console, &context, &message);
                }
                Err(ActionFailure::Service(message)) => {
                    console.error(&message);
                    write_result_only(&context, "service-error");
                    return EXIT_SERVICE_ERROR;
                }
            };
            if let Some(path) = sub.get_one::<String>("save-report") {
                let json = serde_json::to_string_pretty(&report).unwrap_or_default();
                if let Err(error) = std::fs::write(workspace.join(path), json) {
                    return invalid_input(
                        &mut console,
                        &context,
                        &format!("{path}: cannot write the report: {}", io_reason(&error)),
                    );
                }
            }
            finish(
                &report,
                &context,
                invocation.event.as_ref(),
                &workspace,
                &publishing,
                &mut console,
            )
        }
    }
}

/// Inputs from the environment, overridden by flags, completed with declared defaults (not the
/// `${{ }}` expressions, which only the runner can evaluate).
fn inputs_for(
    specs: &[InputSpec],
    environment: &BTreeMap<String, String>,
    matches: &ArgMatches,
) -> Inputs {
    let mut inputs =
        Inputs::from_environment(environment.iter().map(|(k, v)| (k.clone(), v.clone())));
    for spec in specs {
        if let Ok(Some(values)) = matches.try_get_many::<String>(spec.name) {
            let joined: Vec<&str> = values.map(String::as_str).collect();
            inputs.set(spec.name, joined.join("\n"));
        }
        if inputs.optional(spec.name).is_none() {
            if let Some(default) = spec.default.filter(|default| !default.contains("${{")) {
                inputs.set(spec.name, default);
            }
        }
    }
    inputs
}

/// Registers secret inputs with the runner so no later log line can show them. Only inside
/// Actions: locally the command itself would print the secret.
fn mask_secrets(
    specs: &[InputSpec],
    inputs: &Inputs,
    context: &RunnerContext,
    console: &mut Console<'_>,
) {
    if !context.in_actions {
        return;
    }
    for spec in specs.iter().filter(|spec| spec.kind == InputKind::Secret) {
        if let Some(secret) = inputs.optional(spec.name) {
            console.command(&WorkflowCommand::AddMask(secret));
        }
    }
}

fn read_event(context: &RunnerContext) -> Result<Option<Event>, String> {
    let (Some(name), Some(path)) = (&context.event_name, &context.event_path) else {
        return Ok(None);
    };
    let bytes = std::fs::read(path).map_err(|error| {
        format!(
            "{path} (GITHUB_EVENT_PATH): cannot read: {}",
            io_reason(&error)
        )
    })?;
    Event::parse(name, &bytes)
        .map(Some)
        .map_err(|error| format!("{path} (GITHUB_EVENT_PATH): {error}"))
}

fn publishing_for(matches: &ArgMatches, inputs: &Inputs, workspace: &Path) -> Publishing {
    let out_dir = matches.get_one::<String>("out-dir").map_or_else(
        || workspace.join(DEFAULT_OUT_DIR),
        |dir| workspace.join(dir),
    );
    Publishing {
        dry_run: matches.get_flag("dry-run"),
        out_dir,
        token: inputs.optional("github-token"),
    }
}

fn invalid_input(console: &mut Console<'_>, context: &RunnerContext, message: &str) -> u8 {
    console.error(message);
    write_result_only(context, "invalid-input");
    EXIT_INVALID_INPUT
}

/// A fresh heredoc delimiter from the OS's randomness (std seeds `RandomState` from it).
fn random_delimiter() -> String {
    let mut words = String::from("ghadelimiter_");
    for salt in 0..2u64 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(salt);
        let _ = write!(words, "{:016x}", hasher.finish());
    }
    words
}

fn write_outputs(
    context: &RunnerContext,
    outputs: &Outputs,
    console: &mut Console<'_>,
) -> Result<(), String> {
    let Some(path) = &context.output_path else {
        for (name, value) in outputs.iter() {
            console.line(format_args!(
                "output {name}={}",
                value.lines().next().unwrap_or("")
            ));
        }
        return Ok(());
    };
    let text = outputs
        .render_github_output(&random_delimiter())
        .map_err(|error| error.to_string())?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|error| {
            format!(
                "{path} (GITHUB_OUTPUT): cannot write: {}",
                io_reason(&error)
            )
        })
}

/// Writes a file through a buffer, straight from its model when it has one.
fn write_file(path: &Path, contents: &gantry_core::report::Contents) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(path)?);
    contents.write_to(&mut out)?;
    out.flush()
}

fn write_result_only(context: &RunnerContext, result: &str) {
    let mut outputs = Outputs::default();
    outputs.set(RESULT_OUTPUT.name, result);
    let mut sink = Vec::new();
    let _ = write_outputs(context, &outputs, &mut Console { out: &mut sink });
}

fn append_summary(context: &RunnerContext, summary: &str, local_copy: &Path) -> Result<(), String> {
    if summary.is_empty() {
        return Ok(());
    }
    let text = fit_step_summary(summary);
    let (path, what) = match &context.step_summary_path {
        Some(path) => (PathBuf::from(path), "GITHUB_STEP_SUMMARY"),
        None => (local_copy.to_owned(), "the local summary"),
    };
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|error| {
            format!(
                "{} ({what}): cannot write: {}",
                path.display(),
                io_reason(&error)
            )
        })
}

/// Writes files, annotations, the summary and outputs, and publishes the effects.
fn finish(
    report: &Report,
    context: &RunnerContext,
    event: Option<&Event>,
    workspace: &Path,
    publishing: &Publishing,
    console: &mut Console<'_>,
) -> u8 {
    for file in &report.files {
        let path = workspace.join(&file.path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| write_file(&path, &file.contents));
        if let Err(error) = written {
            console.error(&format!(
                "{}: cannot write: {}",
                file.path,
                io_reason(&error)
            ));
            write_result_only(context, "service-error");
            return EXIT_SERVICE_ERROR;
        }
    }
    let elsewhere = registry::command(&report.action)
        .map_or("the step summary", |command| command.annotations_elsewhere);
    for command in report.workflow_commands(elsewhere) {
        console.command(&command);
    }
    let local_summary = publishing
        .out_dir
        .join(format!("{}-summary.md", report.action));
    if let Err(message) = append_summary(context, &report.summary, &local_summary) {
        console.error(&message);
        write_result_only(context, "service-error");
        return EXIT_SERVICE_ERROR;
    }

    let published = publish(report, context, event, publishing, console);
    let mut outputs = report.outputs.clone();
    let (result, exit) = match &published {
        Ok(_) => (report.verdict.word(), report.verdict.exit_code()),
        Err(message) => {
            console.error(message);
            ("service-error", EXIT_SERVICE_ERROR)
        }
    };
    outputs.set(RESULT_OUTPUT.name, result);
    if let Ok(outcome) = &published {
        if report
            .effects
            .iter()
            .any(|effect| matches!(effect, gantry_core::report::Effect::Comment(_)))
        {
            outputs.set("comment-url", outcome.comment_url().unwrap_or_default());
        }
        if let Some(message) = &outcome.read_only {
            console.warning(
                "Gantry could not publish",
                &format!("{message}. This token cannot write here (a pull request from a fork, or `permissions:` without write access); the results are in the step summary. To publish them, run `gantry publish` from a workflow_run job."),
            );
        }
    }
    if let Err(message) = write_outputs(context, &outputs, console) {
        console.error(&message);
        return EXIT_SERVICE_ERROR;
    }
    tracing::info!(action = %report.action, result, headline = %report.headline, "done");
    exit
}

fn publish(
    report: &Report,
    context: &RunnerContext,
    event: Option<&Event>,
    publishing: &Publishing,
    console: &mut Console<'_>,
) -> Result<PublishOutcome, String> {
    if report.effects.is_empty() {
        return Ok(PublishOutcome::default());
    }
    let token = match (&publishing.token, publishing.dry_run) {
        (Some(token), false) => token.clone(),
        (None, false) if context.in_actions => {
            console.warning(
                "Gantry could not publish",
                "no `github-token` was given; effects are written under the output folder instead",
            );
            return publish_locally(report, publishing, console);
        }
        _ => return publish_locally(report, publishing, console),
    };
    let Some((owner, repository)) = context.owner_and_name() else {
        return Err(
            "GITHUB_REPOSITORY must be `owner/name` to publish to GitHub (or use --dry-run)"
                .to_owned(),
        );
    };
    let target = Target {
        owner: owner.to_owned(),
        repository: repository.to_owned(),
        pull_request: event.and_then(Event::pull_request_number),
        head_sha: event
            .and_then(Event::head_sha)
            .map(str::to_owned)
            .or_else(|| context.sha.clone()),
        sha: context.sha.clone(),
        git_ref: context.git_ref.clone(),
        run_key: format!(
            "{}-{}",
            context.run_id.as_deref().unwrap_or("local"),
            context.run_attempt.as_deref().unwrap_or("1")
        ),
    };
    let endpoint = Endpoint {
        api_url: context.api_url.clone(),
        graphql_url: context.graphql_url.clone(),
        token,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the async runtime: {error}"))?;
    runtime.block_on(async {
        let client = RestClient::new(
            &endpoint,
            std::sync::Arc::new(SystemClock),
            RetryPolicy::default(),
        )
        .map_err(|error| error.to_string())?;
        let outcome = GitHubSink::new(&client, target)
            .publish(report)
            .await
            .map_err(|error| error.to_string())?;
        for published in &outcome.published {
            tracing::info!(
                kind = published.kind,
                url = published.url.as_deref().unwrap_or(""),
                "{}",
                published.description
            );
        }
        Ok(outcome)
    })
}

fn publish_locally(
    report: &Report,
    publishing: &Publishing,
    console: &mut Console<'_>,
) -> Result<PublishOutcome, String> {
    let outcome = LocalSink::new(&publishing.out_dir)
        .publish(report)
        .map_err(|error| error.to_string())?;
    for published in &outcome.published {
        console.line(format_args!(
            "wrote {} → {}",
            published.description,
            published.url.as_deref().unwrap_or("")
        ));
    }
    Ok(outcome)
}

fn run_demo(
    matches: &ArgMatches,
    environment: &BTreeMap<String, String>,
    console: &mut Console<'_>,
) -> u8 {
    let examples = PathBuf::from(
        matches
            .get_one::<String>("examples")
            .map_or("examples", String::as_str),
    );
    let out_dir = PathBuf::from(
        matches
            .get_one::<String>("out-dir")
            .map_or("gantry-out/demo", String::as_str),
    );
    if commands().is_empty() {
        console.line("no actions are registered in this build");
        return EXIT_PASSED;
    }
    let mut worst = EXIT_PASSED;
    for command in commands() {
        let code = run_demo_action(command, &examples, &out_dir, environment, console);
        worst = worst.max(if code == EXIT_FAILED {
            EXIT_PASSED
        } else {
            code
        });
    }
    console.line(format_args!("results are in {}", out_dir.display()));
    worst
}

/// One demo run: the action on its example inputs, effects to local files, no GitHub.
fn run_demo_action(
    command: &Command,
    examples: &Path,
    out_dir: &Path,
    environment: &BTreeMap<String, String>,
    console: &mut Console<'_>,
) -> u8 {
    let mut inputs = Inputs::default();
    for spec in command.spec.inputs {
        if let Some(default) = spec.default.filter(|default| !default.contains("${{")) {
            inputs.set(spec.name, default);
        }
    }
    for (name, value) in command.demo {
        inputs.set(name, *value);
    }
    let context = RunnerContext::from_environment(&BTreeMap::from([(
        "PATH".to_owned(),
        environment.get("PATH").cloned().unwrap_or_default(),
    )]));
    let action_dir = out_dir.join(command.spec.name);
    let invocation = Invocation {
        inputs,
        context: context.clone(),
        event: None,
        workspace: examples.to_owned(),
    };
    console.line(format_args!("== {} ==", command.spec.name));
    let report = match (command.run)(&invocation) {
        Ok(report) => report,
        Err(failure) => {
            console.error(&format!("{}: {failure}", command.spec.name));
            return EXIT_INVALID_INPUT;
        }
    };
    let publishing = Publishing {
        dry_run: true,
        out_dir: std::env::current_dir()
            .unwrap_or_default()
            .join(&action_dir),
        token: None,
    };
    let verdict = report.verdict;
    console.line(format_args!("{}: {}", verdict.word(), report.headline));
    let code = finish(
        &report,
        &context,
        None,
        &std::env::current_dir()
            .unwrap_or_default()
            .join(&action_dir),
        &publishing,
        console,
    );
    if code == EXIT_SERVICE_ERROR {
        code
    } else {
        verdict.exit_code()
    }
}

/// The registry's actions, for code generation.
pub fn action_specs() -> Vec<&'static ActionSpec> {
    commands().iter().map(|command| command.spec).collect()
}
