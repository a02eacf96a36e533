//! Carrying a report out: the files it asks for, its annotations, the step summary and the
//! outputs, and its effects — to GitHub, or as local files (`--dry-run`, no token, the demo).

use std::path::{Path, PathBuf};

use gantry_core::action::RESULT_OUTPUT;
use gantry_core::event::Event;
use gantry_core::report::Report;
use gantry_core::runner::RunnerContext;
use gantry_github::clock::SystemClock;
use gantry_github::rest::{Endpoint, RestClient};
use gantry_github::retry::RetryPolicy;
use gantry_github::{GitHubError, GitHubSink, LocalSink, PublishOutcome, Target};

use crate::invocation::{ActionFailure, io_reason};
use crate::registry;
use crate::runner_files::{Console, append_summary, fail, write_file, write_outputs};

/// How the report's effects are published.
pub(crate) struct Publishing {
    pub(crate) dry_run: bool,
    pub(crate) out_dir: PathBuf,
    pub(crate) token: Option<String>,
    /// `comment-author`: the login Gantry's comments and issues are by, when the workflow says.
    pub(crate) comment_author: Option<String>,
}

/// Writes files, annotations, the summary and outputs, and publishes the effects.
/// Whether `relative`, joined to `workspace`, stays inside it (by its components: `..` may not
/// climb above the workspace, an absolute path must lie under it).
fn inside(workspace: &Path, relative: &str) -> bool {
    let path = Path::new(relative);
    if path.is_absolute() {
        return path.starts_with(workspace);
    }
    let mut depth: usize = 0;
    for component in path.components() {
        match component {
            std::path::Component::Normal(_) => depth += 1,
            std::path::Component::ParentDir => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return false,
            },
            std::path::Component::CurDir => {}
            std::path::Component::RootDir | std::path::Component::Prefix(_) => return false,
        }
    }
    true
}

pub(crate) fn finish(
    report: &Report,
    context: &RunnerContext,
    event: Option<&Event>,
    workspace: &Path,
    publishing: &Publishing,
    console: &mut Console<'_>,
) -> u8 {
    // An output path outside the workspace (`../x.sarif`, `/etc/x`) is the workflow's mistake,
    // refused before anything is written.
    if let Some(file) = report
        .files
        .iter()
        .find(|file| !inside(workspace, &file.path))
    {
        let failure = ActionFailure::InvalidInput(format!(
            "output `{}` is outside the workspace ({}): give a path inside it",
            file.path,
            workspace.display()
        ));
        return fail(console, context, &failure);
    }
    for file in &report.files {
        let path = workspace.join(&file.path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| write_file(&path, &file.contents));
        if let Err(error) = written {
            let failure = ActionFailure::Service(format!(
                "{}: cannot write: {}",
                file.path,
                io_reason(&error)
            ));
            return fail(console, context, &failure);
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
    if let Err(failure) = append_summary(context, &report.summary, &local_summary) {
        return fail(console, context, &failure);
    }

    let published = publish(report, context, event, publishing, console);
    let mut outputs = report.outputs.clone();
    let (result, exit) = match &published {
        Ok(_) => (report.verdict.word(), report.verdict.exit_code()),
        Err(failure) => {
            console.error(&failure.to_string());
            (failure.result(), failure.exit_code())
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
        if report
            .effects
            .iter()
            .any(|effect| matches!(effect, gantry_core::report::Effect::Issue(_)))
        {
            let urls: Vec<&str> = outcome
                .published
                .iter()
                .filter(|published| published.kind == "issue")
                .filter_map(|published| published.url.as_deref())
                .collect();
            outputs.set("issue-urls", urls.join("\n"));
        }
        for warning in &outcome.warnings {
            console.warning("Gantry left something alone", warning);
        }
        if let Some(message) = &outcome.read_only {
            console.warning(
                "Gantry could not publish",
                &format!("{message}. This token cannot write here (a pull request from a fork, or `permissions:` without write access); the results are in the step summary. To publish them, run `gantry publish` from a workflow_run job."),
            );
        }
    }
    if let Err(failure) = write_outputs(context, &outputs, console) {
        // GITHUB_OUTPUT itself failed: nothing more can be written there.
        console.error(&failure.to_string());
        return failure.exit_code();
    }
    tracing::info!(action = %report.action, result, headline = %report.headline, "done");
    exit
}

/// What tells this run's writes from another's: the run id and attempt.
pub(crate) fn run_key(context: &RunnerContext) -> String {
    format!(
        "{}-{}",
        context.run_id.as_deref().unwrap_or("local"),
        context.run_attempt.as_deref().unwrap_or("1")
    )
}

pub(crate) fn publish(
    report: &Report,
    context: &RunnerContext,
    event: Option<&Event>,
    publishing: &Publishing,
    console: &mut Console<'_>,
) -> Result<PublishOutcome, ActionFailure> {
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
        return Err(ActionFailure::Service(
            "GITHUB_REPOSITORY must be `owner/name` to publish to GitHub (or use --dry-run)"
                .to_owned(),
        ));
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
        run_key: run_key(context),
    };
    let outcome = with_github(context, token, async |client| {
        GitHubSink::new(client, target)
            .with_author(publishing.comment_author.as_deref())
            .publish(report)
            .await
    })
    .map_err(|error| ActionFailure::Service(error.to_string()))?;
    for published in &outcome.published {
        tracing::info!(
            kind = published.kind,
            url = published.url.as_deref().unwrap_or(""),
            "{}",
            published.description
        );
    }
    Ok(outcome)
}

/// Runs `work` against the GitHub of this run with `token`, on a runtime of its own (the
/// binary is synchronous everywhere else).
pub(crate) fn with_github<T>(
    context: &RunnerContext,
    token: String,
    work: impl AsyncFnOnce(&RestClient) -> Result<T, GitHubError>,
) -> Result<T, GitHubError> {
    let endpoint = Endpoint {
        api_url: context.api_url.clone(),
        graphql_url: context.graphql_url.clone(),
        token,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| GitHubError::Configuration {
            detail: format!("cannot start the async runtime: {error}"),
        })?;
    runtime.block_on(async {
        let client = RestClient::new(
            &endpoint,
            std::sync::Arc::new(SystemClock),
            RetryPolicy::default(),
        )?;
        work(&client).await
    })
}

pub(crate) fn publish_locally(
    report: &Report,
    publishing: &Publishing,
    console: &mut Console<'_>,
) -> Result<PublishOutcome, ActionFailure> {
    let outcome = LocalSink::new(&publishing.out_dir)
        .publish(report)
        .map_err(|error| ActionFailure::Service(error.to_string()))?;
    for published in &outcome.published {
        match published.url.as_deref() {
            Some(path) => console.line(format_args!("wrote {} → {path}", published.description)),
            None => console.line(format_args!("{}", published.description)),
        }
    }
    Ok(outcome)
}
