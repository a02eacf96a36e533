//! The command line: a subcommand per registered action with a flag per input, `publish`
//! and `demo`; and the inputs and publishing choices a run takes from it.

use std::collections::BTreeMap;
use std::path::Path;

use clap::{Arg, ArgAction, ArgMatches};
use gantry_core::action::{COMMENT_AUTHOR_INPUT, GITHUB_TOKEN_INPUT, InputKind, InputSpec};
use gantry_core::runner::Inputs;

use crate::publishing::Publishing;
use crate::registry::commands;

/// Where local effects go by default.
pub(crate) const DEFAULT_OUT_DIR: &str = "gantry-out";

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
            .arg(input_flag(&GITHUB_TOKEN_INPUT))
            .arg(input_flag(&COMMENT_AUTHOR_INPUT))
            .arg(Arg::new("check-name").long("check-name").value_name("NAME").help("The check run's name (default: the action's own `check-name` default, else its name); never taken from the report"))
            .arg(Arg::new("action").long("action").value_name("ACTION").required(true).help("The action whose report this job publishes (security-scan, quality-gate, terraform-plan): a report of another is refused, and its comment is this action's"))
            .arg(Arg::new("comment-key").long("comment-key").value_name("KEY").required(true).help("The key of the sticky comment the report may write (the report's own marker, mode and comment key are never used; its sections are written as `saved/<section>`)")),
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

/// Inputs from the environment, overridden by flags, completed with declared defaults (not the
/// `${{ }}` expressions, which only the runner can evaluate).
pub(crate) fn inputs_for(
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

pub(crate) fn publishing_for(
    matches: &ArgMatches,
    inputs: &Inputs,
    workspace: &Path,
) -> Publishing {
    let out_dir = matches.get_one::<String>("out-dir").map_or_else(
        || workspace.join(DEFAULT_OUT_DIR),
        |dir| workspace.join(dir),
    );
    Publishing {
        dry_run: matches.get_flag("dry-run"),
        out_dir,
        token: inputs.optional("github-token"),
        comment_author: inputs.optional("comment-author"),
    }
}
