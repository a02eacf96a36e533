//! `gantry publish`: a report another run saved (`--save-report`), published from a trusted
//! `workflow_run` job. The report is untrusted — a fork's run wrote it — so the pull request
//! and the commit come from the event and from GitHub, never from the report, and the report
//! is cut down to what it may ask for ([`gantry_core::saved::confine`]) before anything is
//! published.

use std::collections::BTreeMap;
use std::path::Path;

use clap::ArgMatches;
use gantry_core::action::{COMMENT_AUTHOR_INPUT, GITHUB_TOKEN_INPUT};
use gantry_core::event::{EventKind, WorkflowRun};
use gantry_core::report::Report;
use gantry_core::runner::RunnerContext;
use gantry_core::saved::{Scope, confine};

use crate::command_line::{inputs_for, publishing_for};
use crate::invocation::ActionFailure;
use crate::publishing::{Publishing, finish, with_github};
use crate::registry;
use crate::runner_files::{Console, fail, mask_secrets, read_event};

/// A saved report larger than this is refused, never read past it (a report of 25,000 findings
/// is a few MB); `GANTRY_MAX_INPUT_BYTES` may lower it.
const MAX_REPORT_BYTES: u64 = 256 * 1024 * 1024;

/// Runs `gantry publish`; returns the exit status.
pub(crate) fn publish_saved(
    matches: &ArgMatches,
    environment: &BTreeMap<String, String>,
    context: &RunnerContext,
    workspace: &Path,
    console: &mut Console<'_>,
) -> u8 {
    let inputs = inputs_for(
        &[GITHUB_TOKEN_INPUT, COMMENT_AUTHOR_INPUT],
        environment,
        matches,
    );
    mask_secrets(&[GITHUB_TOKEN_INPUT], &inputs, context, console);
    let publishing = publishing_for(matches, &inputs, workspace);
    let cap = crate::invocation::max_input_bytes(environment);
    match confined(matches, context, workspace, &publishing, cap) {
        Ok((report, context)) => finish(&report, &context, None, workspace, &publishing, console),
        Err(failure) => fail(console, context, &failure),
    }
}

/// The saved report, confined to the pull request and commit of the run that saved it, and the
/// context to publish it in (that commit, and the pull request's head ref).
fn confined(
    matches: &ArgMatches,
    context: &RunnerContext,
    workspace: &Path,
    publishing: &Publishing,
    cap: u64,
) -> Result<(Report, RunnerContext), ActionFailure> {
    let report_path = matches
        .get_one::<String>("report")
        .cloned()
        .unwrap_or_default();
    let report = read_report(&workspace.join(&report_path), &report_path, cap)?;
    let event = read_event(context)?;
    let Some(EventKind::WorkflowRun(run)) = event.map(|event| event.kind) else {
        return Err(ActionFailure::InvalidInput(format!(
            "`gantry publish` publishes a saved report from a `workflow_run` job, where the pull request and the commit come from the event (GITHUB_EVENT_NAME is `{}`); nothing published",
            context.event_name.as_deref().unwrap_or("unset")
        )));
    };
    let Some(command) = registry::command(&report.action) else {
        return Err(ActionFailure::InvalidInput(format!(
            "{report_path}: `{}` is not a gantry action; nothing published",
            report.action
        )));
    };
    let check_name = matches
        .get_one::<String>("check-name")
        .cloned()
        .or_else(|| {
            command
                .spec
                .inputs
                .iter()
                .find(|input| input.name == "check-name")
                .and_then(|input| input.default)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| command.spec.name.to_owned());
    let pull_request = pull_request_of(&run, &report, context, publishing)?;
    let scope = Scope {
        pull_request,
        head_sha: run.head_sha.clone(),
        check_name,
        action: matches
            .get_one::<String>("action")
            .cloned()
            .unwrap_or_default(),
        comment_key: matches
            .get_one::<String>("comment-key")
            .cloned()
            .unwrap_or_default(),
    };
    let report = confine(report, &scope).map_err(|refusal| {
        ActionFailure::InvalidInput(format!(
            "{report_path}: refused, nothing published: {refusal}"
        ))
    })?;
    let context = RunnerContext {
        sha: Some(scope.head_sha.clone()),
        git_ref: Some(scope.head_ref()),
        // One check run per saved run, however often this job is re-run.
        run_id: Some(format!("saved-{}", run.id)),
        run_attempt: Some("1".to_owned()),
        ..context.clone()
    };
    Ok((report, context))
}

fn read_report(path: &Path, shown: &str, cap: u64) -> Result<Report, ActionFailure> {
    let bytes = crate::invocation::read_capped(path, shown, cap.min(MAX_REPORT_BYTES))
        .map_err(|failure| ActionFailure::InvalidInput(format!("{failure}; nothing published")))?;
    serde_json::from_slice(&bytes).map_err(|error| {
        ActionFailure::InvalidInput(format!(
            "{shown}: not a gantry report (line {}: {error}); nothing published",
            error.line()
        ))
    })
}

/// The pull request whose head is the run's commit, from the run's head repository. The
/// candidates are the ones the event lists (pull requests of this repository) and the one the
/// report suggests (a fork's, which the event never lists); each is accepted only when GitHub
/// says its head is that commit from that repository. Without a token (a local `--dry-run`)
/// nothing reaches GitHub and the first candidate is taken.
fn pull_request_of(
    run: &WorkflowRun,
    report: &Report,
    context: &RunnerContext,
    publishing: &Publishing,
) -> Result<u64, ActionFailure> {
    let mut candidates: Vec<u64> = run.pull_requests.iter().map(|pr| pr.number).collect();
    if let Some(suggested) = report
        .origin
        .as_ref()
        .and_then(|origin| origin.pull_request)
    {
        if !candidates.contains(&suggested) {
            candidates.push(suggested);
        }
    }
    let Some(&first) = candidates.first() else {
        return Err(ActionFailure::InvalidInput(format!(
            "no pull request for run {}: the event lists none and the report names none (was it saved by a `pull_request` run?); nothing published",
            run.id
        )));
    };
    let token = match (&publishing.token, publishing.dry_run) {
        (Some(token), false) => token.clone(),
        _ => return Ok(first),
    };
    let Some(head_repository) = run
        .head_repository
        .as_ref()
        .map(|repository| repository.full_name.clone())
    else {
        return Err(ActionFailure::InvalidInput(
            "the workflow_run event names no head repository: the pull request cannot be checked; nothing published".to_owned(),
        ));
    };
    let Some((owner, repository)) = context.owner_and_name() else {
        return Err(ActionFailure::InvalidInput(
            "GITHUB_REPOSITORY must be `owner/name` to publish to GitHub (or use --dry-run)"
                .to_owned(),
        ));
    };
    let heads = with_github(context, token, async |client| {
        let mut heads = Vec::new();
        for &number in &candidates {
            heads.push((
                number,
                client.pull_request_head(owner, repository, number).await?,
            ));
        }
        Ok(heads)
    })
    .map_err(|error| ActionFailure::Service(error.to_string()))?;
    let mut seen = Vec::new();
    for (number, head) in heads {
        match head {
            Some((sha, from)) if sha == run.head_sha && from == head_repository => {
                return Ok(number);
            }
            Some((sha, from)) => seen.push(format!("#{number} has head {sha} from {from}")),
            None => seen.push(format!("#{number} does not exist")),
        }
    }
    Err(ActionFailure::InvalidInput(format!(
        "no pull request has head {} from {head_repository}, the commit the run tested ({}); nothing published",
        run.head_sha,
        seen.join(", ")
    )))
}
