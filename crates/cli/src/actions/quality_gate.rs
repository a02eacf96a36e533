//! `gantry quality-gate`: finds the report files, opens them as streams (a 1 GB report is never
//! loaded whole), asks GitHub which files the pull request changes (annotations on them come
//! first), and hands everything to `gantry-quality-gate`.

use std::io::BufReader;

use gantry_core::event::Event;
use gantry_core::report::Report;
use gantry_quality_gate::{Options, Source, Sources, run};

use crate::actions::{Files, expand};
use crate::invocation::{ActionFailure, Invocation};
use crate::publishing::with_github;

fn open(invocation: &Invocation, path: &str) -> Result<Source<'static>, ActionFailure> {
    Ok(Source {
        file: path.to_owned(),
        reader: Box::new(BufReader::with_capacity(
            256 * 1024,
            invocation.stream(path)?,
        )),
    })
}

fn sources_of(invocation: &Invocation, input: &str) -> Result<Vec<Source<'static>>, ActionFailure> {
    let mut seen = Vec::new();
    let mut sources = Vec::new();
    for line in invocation.inputs.list(input) {
        for (relative, _) in expand(invocation, input, &line)? {
            if seen.contains(&relative) {
                continue;
            }
            sources.push(open(invocation, &relative)?);
            seen.push(relative);
        }
    }
    Ok(sources)
}

/// The files a pull request changes, from GitHub; empty when not a pull request, without a
/// token, or when GitHub does not answer (annotations are then ordered by severity alone).
fn changed_files(invocation: &Invocation) -> Vec<String> {
    let (Some(number), Some(token), Some((owner, repository))) = (
        invocation
            .event
            .as_ref()
            .and_then(Event::pull_request_number),
        invocation.inputs.optional("github-token"),
        invocation.context.owner_and_name(),
    ) else {
        return Vec::new();
    };
    let listed = with_github(&invocation.context, token, async |client| {
        client.pull_request_files(owner, repository, number).await
    });
    match listed {
        Ok(files) => files,
        Err(error) => {
            tracing::warn!(%error, "cannot list the pull request's files; annotations are ordered by severity only");
            Vec::new()
        }
    }
}

/// `baseline: auto`: the base branch's last successful run's summary, when one reads as a
/// summary; else a note, and every failure and finding counts as new.
fn auto_baseline(invocation: &Invocation, options: &mut Options) -> Option<Source<'static>> {
    let (found, mut notes) = crate::actions::baseline::auto_baseline(
        invocation,
        &crate::actions::baseline::AutoBaseline {
            code_scanning: None,
            artifact: invocation
                .inputs
                .optional("baseline-artifact")
                .unwrap_or_else(|| "gantry-quality-gate".to_owned()),
            file: options.summary_file.clone(),
            successful_run: true,
        },
    );
    let found = found.and_then(|found| {
        match serde_json::from_slice::<gantry_quality_gate::gate::Summary>(&found.bytes) {
            Ok(_) => Some(found),
            Err(error) => {
                let why = format!(
                    "`baseline: auto` found {} but it is not a summary this action wrote ({error}): every failure and finding counts as new",
                    found.from
                );
                tracing::warn!("{why}");
                notes = vec![why];
                None
            }
        }
    });
    options.baseline_notes = notes;
    found.map(|found| Source {
        file: found.from,
        reader: Box::new(std::io::Cursor::new(found.bytes)),
    })
}

/// Runs the action.
pub fn run_action(invocation: &Invocation) -> Result<Report, ActionFailure> {
    let mut options = Options::from_inputs(&invocation.inputs)?;
    let context = &invocation.context;
    options.workflow_and_job = context.workflow_and_job();
    let sources = Sources {
        tests: sources_of(invocation, "junit")?,
        coverage: sources_of(invocation, "coverage")?,
        lint: sources_of(invocation, "lint")?,
        baseline: match invocation.inputs.optional("baseline") {
            Some(auto) if auto == "auto" => auto_baseline(invocation, &mut options),
            Some(path) => Some(open(invocation, &path)?),
            None => None,
        },
    };
    if sources.tests.is_empty() && sources.coverage.is_empty() && sources.lint.is_empty() {
        return Err(ActionFailure::InvalidInput(
            "give at least one of the inputs `junit`, `coverage` and `lint` (or `--junit`, `--coverage`, `--lint` when running locally)".to_owned(),
        ));
    }
    options.changed_files = changed_files(invocation);
    run(&options, sources, &Files::of(invocation))
        .map_err(|error| ActionFailure::InvalidInput(error.to_string()))
}
