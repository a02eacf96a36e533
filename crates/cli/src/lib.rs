//! The `gantry` binary's library: the action registry, the command line, and the one place
//! that reads the environment and touches the runner's files.
//!
//! `main` reads the environment once and calls [`run`]; everything after that is values passed
//! down. An action runs as: inputs (environment, then `--flags`, then declared defaults) →
//! the action's adapter reads files → the sans-IO action returns a `Report` → outputs, step
//! summary, annotations and files are written → effects go to GitHub or the local sink.

pub mod actions;
mod command_line;
mod demo;
pub mod invocation;
mod publishing;
pub mod registry;
mod runner_files;
mod saved_report;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use gantry_core::action::ActionSpec;
use gantry_core::event::Event;
use gantry_core::runner::RunnerContext;
use gantry_core::saved::Origin;

pub use crate::command_line::command_line;
use crate::command_line::{inputs_for, publishing_for};
use crate::demo::run_demo;
use crate::invocation::{ActionFailure, Invocation, io_reason};
use crate::publishing::finish;
use crate::registry::commands;
pub use crate::runner_files::LogWriter;
use crate::runner_files::{Console, fail, mask_secrets, read_event};

/// Exit status: the gate passed.
pub const EXIT_PASSED: u8 = 0;
/// Exit status: the gate said no.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: bad input or usage.
pub const EXIT_INVALID_INPUT: u8 = 2;
/// Exit status: GitHub or another service failed.
pub const EXIT_SERVICE_ERROR: u8 = 3;

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
            saved_report::publish_saved(sub, environment, &context, &workspace, &mut console)
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
                return fail(&mut console, &context, &error.into());
            }
            let event = match read_event(&context) {
                Ok(event) => event,
                Err(failure) => return fail(&mut console, &context, &failure),
            };
            let publishing = publishing_for(sub, &inputs, &workspace);
            let invocation = Invocation {
                inputs,
                context: context.clone(),
                event,
                workspace: workspace.clone(),
                dry_run: publishing.dry_run,
                out_dir: publishing.out_dir.clone(),
                max_input_bytes: crate::invocation::max_input_bytes(environment),
            };
            let mut report = match (command.run)(&invocation) {
                Ok(report) => report,
                Err(failure) => return fail(&mut console, &context, &failure),
            };
            if let Some(path) = sub.get_one::<String>("save-report") {
                // What the run was, for the trusted job (a suggestion it checks with GitHub).
                report.origin = Some(Origin {
                    gantry_version: env!("CARGO_PKG_VERSION").to_owned(),
                    pull_request: invocation
                        .event
                        .as_ref()
                        .and_then(Event::pull_request_number),
                    head_sha: invocation
                        .event
                        .as_ref()
                        .and_then(Event::head_sha)
                        .map(str::to_owned)
                        .or_else(|| context.sha.clone()),
                });
                let json = serde_json::to_string_pretty(&report).unwrap_or_default();
                if let Err(error) = std::fs::write(workspace.join(path), json) {
                    let failure = ActionFailure::InvalidInput(format!(
                        "{path}: cannot write the report: {}",
                        io_reason(&error)
                    ));
                    return fail(&mut console, &context, &failure);
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

/// The registry's actions, for code generation.
pub fn action_specs() -> Vec<&'static ActionSpec> {
    commands().iter().map(|command| command.spec).collect()
}
