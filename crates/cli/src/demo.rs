//! `gantry demo`: every registered action on the bundled examples, effects written locally,
//! no GitHub needed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use gantry_core::runner::{Inputs, RunnerContext};

use crate::invocation::Invocation;
use crate::publishing::{Publishing, finish};
use crate::registry::{Command, commands};
use crate::runner_files::Console;
use crate::{EXIT_FAILED, EXIT_INVALID_INPUT, EXIT_PASSED, EXIT_SERVICE_ERROR};

pub(crate) fn run_demo(
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
    // The examples are files of Gantry's repository: without them every action would fail on
    // its inputs one after another.
    if !examples.join("security").is_dir() {
        console.error(&format!(
            "demo: no examples at `{}`{}: run `gantry demo` from the root of a checkout of Gantry's repository (`cargo run --release -p gantry -- demo`), or give the folder with `--examples <DIR>`",
            examples.display(),
            std::env::current_dir()
                .map(|here| format!(" (in {})", here.display()))
                .unwrap_or_default()
        ));
        return EXIT_INVALID_INPUT;
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
        dry_run: true,
        out_dir: std::env::current_dir()
            .unwrap_or_default()
            .join(&action_dir),
        max_input_bytes: crate::invocation::max_input_bytes(environment),
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
        comment_author: None,
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
