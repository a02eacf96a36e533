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

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use gantry_core::action::{ActionSpec, GITHUB_TOKEN_INPUT};
use gantry_core::report::Report;
use gantry_core::runner::RunnerContext;

pub use crate::command_line::command_line;
use crate::command_line::{inputs_for, publishing_for};
use crate::demo::run_demo;
use crate::invocation::{ActionFailure, Invocation, io_reason};
use crate::publishing::finish;
use crate::registry::commands;
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
            let report_path = sub.get_one::<String>("report").cloned().unwrap_or_default();
            let inputs = inputs_for(&[GITHUB_TOKEN_INPUT], environment, sub);
            mask_secrets(&[GITHUB_TOKEN_INPUT], &inputs, &context, &mut console);
            let report = match std::fs::read(workspace.join(&report_path))
                .map_err(|error| {
                    ActionFailure::InvalidInput(format!(
                        "{report_path}: cannot read: {}",
                        io_reason(&error)
                    ))
                })
                .and_then(|bytes| {
                    serde_json::from_slice::<Report>(&bytes).map_err(|error| {
                        ActionFailure::InvalidInput(format!(
                            "{report_path}: not a gantry report: {error}"
                        ))
                    })
                }) {
                Ok(report) => report,
                Err(failure) => return fail(&mut console, &context, &failure),
            };
            let event = match read_event(&context) {
                Ok(event) => event,
                Err(failure) => return fail(&mut console, &context, &failure),
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
            };
            let report = match (command.run)(&invocation) {
                Ok(report) => report,
                Err(failure) => return fail(&mut console, &context, &failure),
            };
            if let Some(path) = sub.get_one::<String>("save-report") {
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
