//! `baseline: auto`: what the base branch's runs left behind, found on GitHub.

use crate::invocation::Invocation;

/// Where `baseline: auto` looks for what the base branch left.
pub struct AutoBaseline<'a> {
    /// Code-scanning categories of Gantry's uploads (`gantry-security-scan/`), when analyses
    /// are a source.
    pub code_scanning: Option<&'a str>,
    /// The artifact's name on the base branch.
    pub artifact: String,
    /// The file in it (this run's own output path; matched by its last component).
    pub file: String,
    /// Only a run that succeeded (quality-gate's summary), or any finished one.
    pub successful_run: bool,
}

/// A baseline `baseline: auto` found: where from, its bytes and its commit.
pub struct AutoFound {
    /// Where it came from, for messages and the summary.
    pub from: String,
    /// The file.
    pub bytes: Vec<u8>,
    /// The commit it describes, when GitHub says.
    pub commit: Option<String>,
}

/// The base branch's baseline, or why there is none (the notes say, and the run judges every
/// finding: the first pull request after adopting Gantry has no baseline, and that is no error).
pub fn auto_baseline(
    invocation: &Invocation,
    wanted: &AutoBaseline<'_>,
) -> (Option<AutoFound>, Vec<String>) {
    let none = |why: String| {
        tracing::warn!("{why}");
        (None, vec![why])
    };
    let judged = "every finding is judged as new";
    let Some(branch) = invocation
        .event
        .as_ref()
        .and_then(gantry_core::event::Event::base_branch)
        .map(str::to_owned)
    else {
        return none(format!(
            "`baseline: auto` found no base branch in the event (a pull request's base, or the repository's default branch): {judged}"
        ));
    };
    let (Some(token), Some((owner, repository))) = (
        invocation.inputs.optional("github-token"),
        invocation.context.owner_and_name(),
    ) else {
        return none(format!(
            "`baseline: auto` needs `github-token` and `GITHUB_REPOSITORY` to look on `{branch}`: {judged}"
        ));
    };
    let mut notes = Vec::new();
    let looked = crate::publishing::with_github(&invocation.context, token, async |client| {
        if let Some(prefix) = wanted.code_scanning {
            match client
                .code_scanning_baseline(owner, repository, &branch, prefix)
                .await
            {
                Ok(Ok(found)) => return Ok(Ok(found)),
                Ok(Err(why)) => notes.push(why),
                Err(error) => notes.push(format!(
                    "code scanning cannot be read ({error}; the job needs `security-events: read`)"
                )),
            }
        }
        match client
            .artifact_baseline(
                owner,
                repository,
                &branch,
                &wanted.artifact,
                &wanted.file,
                wanted.successful_run,
            )
            .await
        {
            Ok(found) => Ok(found),
            Err(error) => Ok(Err(format!(
                "artifacts cannot be read ({error}; the job needs `actions: read`)"
            ))),
        }
    });
    match looked {
        Ok(Ok(found)) => {
            let found_note = format!("Baseline: {}.", found.from);
            tracing::info!("{found_note}");
            (
                Some(AutoFound {
                    from: found.from,
                    bytes: found.bytes,
                    commit: found.commit,
                }),
                vec![found_note],
            )
        }
        Ok(Err(why)) => {
            notes.push(why);
            none(format!(
                "`baseline: auto` found no baseline on `{branch}` ({}): {judged}. Once a run on `{branch}` uploads one, pull requests are judged against it",
                notes.join("; ")
            ))
        }
        Err(error) => none(format!(
            "`baseline: auto` could not look on `{branch}` ({error}): {judged}"
        )),
    }
}
