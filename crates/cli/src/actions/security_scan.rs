//! `gantry security-scan`: finds the report files, reads them, the baseline and the
//! suppressions, gives the action read access to the workspace (for line hashes and path
//! rebasing) and today's date, and hands everything to `gantry-security-scan`.

use std::time::{SystemTime, UNIX_EPOCH};

use gantry_core::event::Event;
use gantry_core::report::Report;
use gantry_security_scan::diff::{Change, ListedFile};
use gantry_security_scan::input::{ReportError, ReportInput, read_report};
use gantry_security_scan::{Options, Source, run_with_reader};

use crate::actions::{Files, expand};
use crate::invocation::{ActionFailure, Invocation};
use crate::publishing::with_github;

/// Today in UTC, `YYYY-MM-DD` (days-to-civil from Howard Hinnant's calendar algorithms).
pub fn today() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() / 86_400);
    civil_day(i64::try_from(days).unwrap_or(0))
}

/// The calendar day `days` after 1970-01-01.
pub fn civil_day(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn as_source(entry: Option<&(String, Vec<u8>)>) -> Option<Source<'_>> {
    entry.map(|(file, bytes)| Source { file, bytes })
}

/// The change's diff: the pull request's files with their patches, else `git diff` of the
/// checkout from the event's base commit (a PR's base, what a push came after). `None` when
/// neither can be had — a shallow checkout lacks the base commit — and findings are then
/// matched by their neighbourhoods (the log says so).
fn change(invocation: &Invocation) -> Option<Change> {
    pull_request_change(invocation).or_else(|| {
        let base = invocation.event.as_ref().and_then(Event::base_sha)?;
        git_change(invocation, base)
    })
}

/// The diff from the commit a found baseline describes: the change's own when that is its
/// base, else `git diff` from that commit (the base branch moved on since the pull request
/// began); without a commit, or when the checkout lacks it, findings are matched by their
/// neighbourhoods.
fn change_from(invocation: &Invocation, commit: Option<&str>) -> Option<Change> {
    let commit = commit?;
    let base = invocation.event.as_ref().and_then(Event::base_sha);
    if base == Some(commit) {
        return change(invocation);
    }
    git_change(invocation, commit)
}

/// `git diff` of the workspace as scanned from `base`, renames found.
fn git_change(invocation: &Invocation, base: &str) -> Option<Change> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(&invocation.workspace)
        .args(["diff", "--no-color", "--no-ext-diff", "-M", base, "--"])
        .output();
    let text = match output {
        Ok(output) if output.status.success() => output.stdout,
        Ok(output) => {
            tracing::warn!(
                base,
                error = %String::from_utf8_lossy(&output.stderr).trim(),
                "git diff from the base commit failed (a shallow checkout lacks it: fetch-depth 0): findings are matched against the baseline by the lines around them"
            );
            return None;
        }
        Err(error) => {
            tracing::warn!(%error, "git cannot run: findings are matched against the baseline by the lines around them");
            return None;
        }
    };
    match Change::from_git_diff(&String::from_utf8_lossy(&text)) {
        Ok(change) => Some(change),
        Err(error) => {
            tracing::warn!(%error, "git diff's output does not read: findings are matched against the baseline by the lines around them");
            None
        }
    }
}

/// The most files `GET /pulls/{n}/files` lists.
const PULL_REQUEST_FILES_LISTED: usize = 3_000;

/// The pull request's files with their patches, from GitHub.
fn pull_request_change(invocation: &Invocation) -> Option<Change> {
    let number = invocation
        .event
        .as_ref()
        .and_then(Event::pull_request_number)?;
    let (Some(token), Some((owner, repository))) = (
        invocation.inputs.optional("github-token"),
        invocation.context.owner_and_name(),
    ) else {
        return None;
    };
    let listed = with_github(&invocation.context, token, async |client| {
        client.pull_request_changes(owner, repository, number).await
    });
    let files: Vec<ListedFile> = match listed {
        // GitHub lists at most 3,000 files: a file it left out would pass for unchanged.
        Ok(files) if files.len() >= PULL_REQUEST_FILES_LISTED => {
            tracing::warn!(
                listed = files.len(),
                "the pull request changes more files than GitHub lists: its diff is taken from git instead"
            );
            return None;
        }
        Ok(files) => files
            .into_iter()
            .map(|file| ListedFile {
                filename: file.filename,
                previous_filename: file.previous_filename,
                status: file.status,
                patch: file.patch,
            })
            .collect(),
        Err(error) => {
            tracing::warn!(%error, "cannot list the pull request's files: findings are matched against the baseline by the lines around them");
            return None;
        }
    };
    match Change::from_pull_request(&files) {
        Ok(change) => Some(change),
        Err(error) => {
            tracing::warn!(%error, "a patch of the pull request does not read: findings are matched against the baseline by the lines around them");
            None
        }
    }
}

/// Runs the action.
pub fn run_action(invocation: &Invocation) -> Result<Report, ActionFailure> {
    let context = &invocation.context;
    let blob_base = match (
        &context.repository,
        invocation
            .event
            .as_ref()
            .and_then(Event::head_sha)
            .or(context.sha.as_deref()),
    ) {
        (Some(repository), Some(sha)) => Some(format!(
            "{}/{repository}/blob/{sha}/",
            context.server_url.trim_end_matches('/')
        )),
        _ => None,
    };
    let mut options = Options::from_inputs(
        &invocation.inputs,
        today(),
        blob_base,
        context.workflow_and_job(),
    )?;
    // Required: the registry checked that it is set.
    let lines = invocation.inputs.list("reports");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for line in &lines {
        for (relative, _) in expand(invocation, "reports", line)? {
            if files.iter().any(|(seen, _)| *seen == relative) {
                continue;
            }
            let bytes = invocation.read(&relative)?;
            files.push((relative, bytes));
        }
    }
    let read_optional = |name: &str| -> Result<Option<(String, Vec<u8>)>, ActionFailure> {
        match invocation.inputs.optional(name) {
            Some(path) => Ok(Some((path.clone(), invocation.read(&path)?))),
            None => Ok(None),
        }
    };
    let auto = invocation.inputs.optional("baseline").as_deref() == Some("auto");
    let baseline = if auto {
        let (found, notes) = crate::actions::baseline::auto_baseline(
            invocation,
            &crate::actions::baseline::AutoBaseline {
                code_scanning: Some("gantry-security-scan/"),
                artifact: invocation
                    .inputs
                    .optional("baseline-artifact")
                    .unwrap_or_else(|| "gantry-security-scan".to_owned()),
                file: options.output.clone(),
                successful_run: false,
            },
        );
        options.baseline_notes = notes;
        found.map(|found| {
            options.change = change_from(invocation, found.commit.as_deref());
            (found.from, found.bytes)
        })
    } else {
        let baseline = read_optional("baseline")?;
        if baseline.is_some() {
            options.change = change(invocation);
        }
        baseline
    };
    let suppressions = read_optional("suppressions")?;
    let sources: Vec<Source<'_>> = files
        .iter()
        .map(|(file, bytes)| Source { file, bytes })
        .collect();
    let workspace = Files::of(invocation);
    let outcome = run_with_reader(
        &options,
        &sources,
        as_source(baseline.as_ref()),
        as_source(suppressions.as_ref()),
        &workspace,
        &read_all,
    );
    match outcome {
        // A baseline found on GitHub that does not read is GitHub's or an old run's doing, not
        // this step's input: said, and every finding judged.
        Err(gantry_security_scan::ScanError::Baseline(error)) if auto => {
            let why = format!(
                "`baseline: auto` found a baseline that does not read ({error}): every finding is judged as new"
            );
            tracing::warn!("{why}");
            options.baseline_notes = vec![why];
            options.change = None;
            run_with_reader(
                &options,
                &sources,
                None,
                as_source(suppressions.as_ref()),
                &workspace,
                &read_all,
            )
        }
        other => other,
    }
    .map_err(|error| ActionFailure::InvalidInput(error.to_string()))
}

/// Reads every report, up to eight at a time, in the given order (the sans-IO crate reads them
/// one after another; the fan-out lives here, at the edge).
fn read_all(sources: &[Source<'_>]) -> Vec<Result<ReportInput, ReportError>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8)
        .min(sources.len());
    if workers <= 1 {
        return sources
            .iter()
            .map(|source| read_report(source.file, source.bytes))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut read: Vec<(usize, Result<ReportInput, ReportError>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(source) = sources.get(index) else {
                            return done;
                        };
                        done.push((index, read_report(source.file, source.bytes)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    read.sort_by_key(|(index, _)| *index);
    read.into_iter().map(|(_, input)| input).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_are_right_across_leap_years() {
        assert_eq!(civil_day(0), "1970-01-01");
        assert_eq!(civil_day(11_016), "2000-02-29");
        assert_eq!(civil_day(20_783), "2026-11-26");
        assert_eq!(civil_day(-1), "1969-12-31");
    }
}
