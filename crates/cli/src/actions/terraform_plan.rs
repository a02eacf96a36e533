//! `gantry terraform-plan`: finds the plan files, shows binary plans with `terraform show -json`,
//! and hands the JSON to `gantry-terraform-plan`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use gantry_core::report::Report;
use gantry_terraform_plan::{Options, StackSource, plan, plan_entries, run, stack_name_for};

use crate::actions::expand;
use crate::invocation::{ActionFailure, Invocation, io_reason};

/// Runs the action.
pub fn run_action(invocation: &Invocation) -> Result<Report, ActionFailure> {
    let options = Options::from_inputs(&invocation.inputs, &invocation.context)?;
    let command = invocation
        .inputs
        .optional("terraform-command")
        .unwrap_or_else(|| "terraform".to_owned());
    // Required: the registry checked that it is set.
    let stacks = read_plans(invocation, "plan", &command)?;
    let sources = sources(&stacks);
    run(&options, &sources).map_err(|error| ActionFailure::InvalidInput(error.to_string()))
}

/// The stacks `read_plans` read, as the actions take them.
pub(crate) fn sources(stacks: &[(String, String, Vec<u8>)]) -> Vec<StackSource<'_>> {
    stacks
        .iter()
        .map(|(name, file, bytes)| StackSource {
            name: name.clone(),
            file: file.clone(),
            bytes,
        })
        .collect()
}

/// The plan files the input `input` names (`name=path` or globs, one a line), binary plans
/// shown with `command`: `(stack name, file as named, JSON bytes)`, names unique.
pub(crate) fn read_plans(
    invocation: &Invocation,
    input: &str,
    command: &str,
) -> Result<Vec<(String, String, Vec<u8>)>, ActionFailure> {
    let lines = invocation.inputs.list(input);
    let mut stacks: Vec<(String, String, Vec<u8>)> = Vec::new();
    let mut names = BTreeSet::new();
    for entry in plan_entries(&lines) {
        let files = expand(invocation, input, &entry.pattern)?;
        if entry.name.is_some() && files.len() > 1 {
            return Err(ActionFailure::InvalidInput(format!(
                "{input}: `{}={}` names one stack but matches {} files; name each plan on its own line",
                entry.name.unwrap_or_default(),
                entry.pattern,
                files.len()
            )));
        }
        for (relative, path) in files {
            let name = entry
                .name
                .clone()
                .unwrap_or_else(|| stack_name_for(&relative));
            if !names.insert(name.clone()) {
                return Err(ActionFailure::InvalidInput(format!(
                    "{input}: two plans are both named `{name}`; give each a name with `name=path`"
                )));
            }
            let bytes = invocation.read(&relative)?;
            let bytes = if plan::is_binary_plan(&bytes) {
                show_binary_plan(command, &relative, &path)?
            } else {
                bytes
            };
            stacks.push((name, relative, bytes));
        }
    }
    Ok(stacks)
}

/// `terraform show -json <plan>` in the plan's folder (where `terraform init` was run).
fn show_binary_plan(command: &str, relative: &str, path: &Path) -> Result<Vec<u8>, ActionFailure> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let file_name = path.file_name().map_or_else(
        || relative.into(),
        |name| name.to_string_lossy().into_owned(),
    );
    tracing::info!(command, file = relative, "showing a binary plan");
    let output = Command::new(command)
        .args(["show", "-json", "-no-color", &file_name])
        .current_dir(folder)
        .env("TF_IN_AUTOMATION", "1")
        .output()
        .map_err(|error| {
            ActionFailure::InvalidInput(format!(
                "{relative}: is a binary plan file, and showing it needs `{command}` (input `terraform-command`), which could not be run: {}",
                io_reason(&error)
            ))
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let excerpt: Vec<&str> = stderr
            .lines()
            .filter(|line| !line.trim().is_empty())
            .take(12)
            .collect();
        return Err(ActionFailure::InvalidInput(format!(
            "{relative}: `{command} show -json` failed (run `{command} init` in its folder first, with the same version that made the plan): {}",
            excerpt.join(" ")
        )));
    }
    Ok(output.stdout)
}
