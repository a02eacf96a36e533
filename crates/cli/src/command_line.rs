//! The command line: a subcommand per registered action with a flag per input, `publish`
//! and `demo`; and the inputs and publishing choices a run takes from it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
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
        let mut subcommand = clap::Command::new(command.spec.name)
            .about(command.spec.description)
            .after_help(after_help(command.fails_when, command.example));
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

/// Exit codes and one example, under every action's flags.
fn after_help(fails_when: &str, example: &str) -> String {
    format!(
        "Every input is also read from INPUT_<NAME> as the runner sets it; a flag wins.\n\n\
         Exit status:\n  0  passed\n  1  {}\n  2  bad input or usage (the file or input is named; nothing is published)\n  3  a service it needs failed (GitHub, terraform, Prometheus, the cluster)\n\n\
         Example:\n  {example}",
        fails_when.replace('`', "")
    )
}

fn input_flag(input: &InputSpec) -> Arg {
    let mut help = input.description.to_owned();
    if input.required {
        help.push_str(" [required]");
    }
    // Shown, not set: a default given to clap would hide the INPUT_ variable of the runner.
    match input.default.filter(|default| !default.is_empty()) {
        Some(default) if default.contains("${{") => {
            let _ = write!(help, " [default in a workflow: {default}]");
        }
        Some(default) => {
            let _ = write!(help, " [default: {default}]");
        }
        None => {}
    }
    let arg = Arg::new(input.name).long(input.name);
    match input.kind {
        InputKind::List => arg
            .value_name("VALUE")
            .action(ArgAction::Append)
            .help(format!("{help} [repeat the flag for more, or one a line]")),
        // One spelling, as `--dry-run`: the flag alone is true, `--upload false` is false.
        InputKind::Boolean => arg
            .value_name("true|false")
            .num_args(0..=1)
            .default_missing_value("true")
            .value_parser(["true", "false"])
            .action(ArgAction::Set)
            .help(help),
        InputKind::Choice(words) => arg
            .value_name("WORD")
            .value_parser(clap::builder::PossibleValuesParser::new(
                words.iter().copied(),
            ))
            .action(ArgAction::Set)
            .help(help),
        InputKind::Number => arg.value_name("NUMBER").action(ArgAction::Set).help(help),
        InputKind::Secret => arg.value_name("SECRET").action(ArgAction::Set).help(help),
        InputKind::Text => arg.value_name("VALUE").action(ArgAction::Set).help(help),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn help_of(name: &str) -> String {
        let mut cli = command_line();
        let subcommand = cli
            .find_subcommand_mut(name)
            .unwrap_or_else(|| panic!("no subcommand {name}"));
        subcommand.render_long_help().to_string()
    }

    /// Issue 27 §5: every action's `--help` says what each input defaults to, which are
    /// required, the words a choice takes, which flags repeat, the exit codes, and one example
    /// that is a command line the parser takes.
    #[test]
    fn every_actions_help_says_defaults_choices_repeats_exit_codes_and_an_example() {
        for command in commands() {
            let name = command.spec.name;
            let help = help_of(name);
            for input in command.spec.inputs {
                // Long help: the flag's line, then its description up to a blank line.
                let lines: Vec<&str> = help.lines().collect();
                let start = lines
                    .iter()
                    .position(|line| {
                        let line = line.trim();
                        line == format!("--{}", input.name)
                            || line.starts_with(&format!("--{} ", input.name))
                    })
                    .unwrap_or_else(|| panic!("{name}: no --{} in {help}", input.name));
                let line = lines[start..]
                    .iter()
                    .take_while(|line| !line.trim().is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" ");
                if let Some(default) = input.default.filter(|d| !d.is_empty()) {
                    assert!(
                        line.contains(default),
                        "{name} --{}: no default in {line:?}",
                        input.name
                    );
                }
                if input.required {
                    assert!(
                        line.contains("[required]"),
                        "{name} --{}: {line:?}",
                        input.name
                    );
                }
                match input.kind {
                    InputKind::List => {
                        assert!(line.contains("repeat the flag"), "{name} --{}", input.name);
                    }
                    InputKind::Choice(words) => {
                        for word in words {
                            assert!(
                                line.contains(word),
                                "{name} --{}: {word} in {line:?}",
                                input.name
                            );
                        }
                    }
                    _ => {}
                }
            }
            for code in ["0  passed", "1  ", "2  bad input", "3  a service"] {
                assert!(help.contains(code), "{name}: {code} in {help}");
            }
            let example: Vec<String> = command
                .example
                .split(' ')
                .map(|word| word.trim_matches('\'').to_owned())
                .collect();
            assert_eq!(example[1], name);
            command_line()
                .try_get_matches_from(&example)
                .unwrap_or_else(|error| panic!("{name}'s example does not parse: {error}"));
        }
    }

    /// Booleans are spelled as `--dry-run` is: the flag alone is true.
    #[test]
    fn a_boolean_input_is_a_flag_that_takes_an_optional_true_or_false() {
        let matches = command_line()
            .try_get_matches_from(["gantry", "security-scan", "--upload", "--reports", "a.json"])
            .unwrap();
        let (_, sub) = matches.subcommand().unwrap();
        assert_eq!(
            sub.get_one::<String>("upload").map(String::as_str),
            Some("true")
        );
        let matches = command_line()
            .try_get_matches_from(["gantry", "security-scan", "--upload", "false"])
            .unwrap();
        let (_, sub) = matches.subcommand().unwrap();
        assert_eq!(
            sub.get_one::<String>("upload").map(String::as_str),
            Some("false")
        );
        assert!(
            command_line()
                .try_get_matches_from(["gantry", "security-scan", "--upload", "yes"])
                .is_err()
        );
    }
}
