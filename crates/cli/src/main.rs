//! `gantry`: every Gantry action as a subcommand. This file is the only place that reads the
//! process environment; everything else receives it as a map.

use std::collections::BTreeMap;
use std::process::ExitCode;

fn main() -> ExitCode {
    let environment: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    let debug = environment.get("RUNNER_DEBUG").map(String::as_str) == Some("1");
    tracing_subscriber::fmt()
        .with_writer(|| gantry::LogWriter)
        .without_time()
        .with_target(false)
        .with_ansi(false)
        .with_max_level(if debug {
            tracing::Level::DEBUG
        } else {
            tracing::Level::INFO
        })
        .init();
    let mut stdout = std::io::stdout().lock();
    ExitCode::from(gantry::run(
        std::env::args_os().collect(),
        &environment,
        &mut stdout,
    ))
}
