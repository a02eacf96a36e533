//! What the base branch left behind, as a baseline: its latest code-scanning analyses (the SARIF
//! GitHub keeps of each upload), or the newest artifact of one of its runs.
//!
//! Only the base repository's own runs count: an artifact of a fork's pull request whose branch
//! happens to be called `main` is no baseline (it would make its own findings known), nor is one
//! of a `pull_request` run. What cannot be found is said, never guessed: the caller then judges
//! every finding as new.

use std::fmt::Write as _;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::GitHubError;
use crate::rest::RestClient;

/// The largest file taken out of an artifact.
pub const MAX_BASELINE_BYTES: usize = 256 * 1024 * 1024;

/// How many of the newest artifacts are looked at before giving up.
const ARTIFACTS_LOOKED_AT: usize = 20;

/// How many pages of analyses (100 each, newest first) are looked through.
const ANALYSIS_PAGES: u32 = 5;

/// A baseline found on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// The commit it describes, when GitHub says.
    pub commit: Option<String>,
    /// Where it came from, in words ("code scanning's analyses 12, 13 of `main` at abc1234").
    pub from: String,
}

/// What looking for a baseline came to: one found, or why there is none.
pub type Lookup = Result<Found, String>;

/// `text` with everything but unreserved characters and `/` percent-encoded, for a query.
fn query_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

impl RestClient {
    /// The SARIF of `branch`'s latest code-scanning analyses whose category starts with
    /// `category_prefix` (one per category, all of the newest such commit), as one document.
    /// A repository without code scanning answers 403 or 404; both are errors for the caller
    /// to report before it looks elsewhere.
    pub async fn code_scanning_baseline(
        &self,
        owner: &str,
        repository: &str,
        branch: &str,
        category_prefix: &str,
    ) -> Result<Lookup, GitHubError> {
        let operation = "list the base branch's code-scanning analyses";
        let mut address = Some(format!(
            "/repos/{owner}/{repository}/code-scanning/analyses?ref={}&per_page=100",
            query_encoded(&format!("refs/heads/{branch}"))
        ));
        let mut commit: Option<String> = None;
        let mut chosen: Vec<(String, u64)> = Vec::new();
        let mut pages = 0;
        // The page the newest commit of ours was first seen on.
        let mut found_on = None;
        while let Some(page_address) = address.take() {
            pages += 1;
            let reply = match self.send(Method::GET, &page_address, None, operation).await {
                Ok(reply) => reply,
                Err(GitHubError::Rejected { status: 404, .. }) => {
                    return Ok(Err(format!("code scanning has no analysis of `{branch}`")));
                }
                Err(error) => return Err(error),
            };
            let Value::Array(analyses) = &reply.body else {
                return Err(GitHubError::InvalidResponse {
                    operation: operation.to_owned(),
                    detail: "expected a list of analyses".to_owned(),
                });
            };
            for analysis in analyses {
                let text = |key: &str| analysis.get(key).and_then(Value::as_str);
                let (Some(category), Some(sha), Some(id)) = (
                    text("category"),
                    text("commit_sha"),
                    analysis.get("id").and_then(Value::as_u64),
                ) else {
                    continue;
                };
                if !category.starts_with(category_prefix) {
                    continue;
                }
                // Newest first: the first one of ours names the commit; older uploads of
                // the same category (a re-run) are passed over.
                let newest = commit.get_or_insert_with(|| sha.to_owned());
                if sha == newest && !chosen.iter().any(|(seen, _)| seen == category) {
                    chosen.push((category.to_owned(), id));
                }
            }
            // Once a commit is chosen, its analyses were uploaded together, on this page or
            // the next; beyond that, older commits only.
            if commit.is_some() {
                found_on.get_or_insert(pages);
            }
            let done = found_on.is_some_and(|page| pages > page);
            if !done && pages < ANALYSIS_PAGES {
                address = crate::rest::next_link(&reply.headers);
            }
        }
        let Some(commit) = commit else {
            return Ok(Err(format!(
                "code scanning has no analysis of `{branch}` in a category `{category_prefix}…`"
            )));
        };
        let mut runs = Vec::new();
        let mut ids = Vec::new();
        for (_, id) in &chosen {
            let (_, _, bytes) = self
                .download(
                    &format!("/repos/{owner}/{repository}/code-scanning/analyses/{id}"),
                    "application/sarif+json",
                    false,
                    "download a code-scanning analysis as SARIF",
                )
                .await?;
            let sarif: Value =
                serde_json::from_slice(&bytes).map_err(|error| GitHubError::InvalidResponse {
                    operation: "download a code-scanning analysis as SARIF".to_owned(),
                    detail: format!("analysis {id} is not JSON: {error}"),
                })?;
            runs.extend(
                sarif
                    .get("runs")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            );
            ids.push(id.to_string());
        }
        let document = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": runs,
        });
        Ok(Ok(Found {
            bytes: serde_json::to_vec(&document).unwrap_or_default(),
            from: format!(
                "code scanning's analys{} {} of `{branch}` at {}",
                if ids.len() == 1 { "is" } else { "es" },
                ids.join(", "),
                short(&commit)
            ),
            commit: Some(commit),
        }))
    }

    /// `file` out of the newest unexpired artifact called `name` that one of the base
    /// repository's own runs on `branch` uploaded (not a pull request's run), of a run that
    /// succeeded when `successful_run`.
    pub async fn artifact_baseline(
        &self,
        owner: &str,
        repository: &str,
        branch: &str,
        name: &str,
        file: &str,
        successful_run: bool,
    ) -> Result<Lookup, GitHubError> {
        let operation = "list the repository's artifacts";
        let reply = self
            .send(
                Method::GET,
                &format!(
                    "/repos/{owner}/{repository}/actions/artifacts?name={}&per_page=100",
                    query_encoded(name)
                ),
                None,
                operation,
            )
            .await?;
        let artifacts = reply
            .body
            .get("artifacts")
            .and_then(Value::as_array)
            .ok_or_else(|| GitHubError::InvalidResponse {
                operation: operation.to_owned(),
                detail: "no `artifacts` list".to_owned(),
            })?;
        let mut candidates: Vec<&Value> = artifacts
            .iter()
            .filter(|artifact| {
                let run = artifact.get("workflow_run");
                let field = |key: &str| run.and_then(|run| run.get(key));
                artifact.get("name").and_then(Value::as_str) == Some(name)
                    && artifact.get("expired").and_then(Value::as_bool) == Some(false)
                    && field("head_branch").and_then(Value::as_str) == Some(branch)
                    && field("repository_id").and_then(Value::as_u64).is_some()
                    && field("repository_id").and_then(Value::as_u64)
                        == field("head_repository_id").and_then(Value::as_u64)
            })
            .collect();
        if candidates.is_empty() {
            return Ok(Err(format!(
                "no unexpired artifact `{name}` from a run of this repository on `{branch}`"
            )));
        }
        let created = |artifact: &Value| {
            artifact
                .get("created_at")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        candidates.sort_by_key(|artifact| std::cmp::Reverse(created(artifact)));
        let mut passed_over = Vec::new();
        for artifact in candidates.into_iter().take(ARTIFACTS_LOOKED_AT) {
            let (Some(id), Some(run_id)) = (
                artifact.get("id").and_then(Value::as_u64),
                artifact.pointer("/workflow_run/id").and_then(Value::as_u64),
            ) else {
                continue;
            };
            let run = self
                .send(
                    Method::GET,
                    &format!("/repos/{owner}/{repository}/actions/runs/{run_id}"),
                    None,
                    "read the run that uploaded an artifact",
                )
                .await?
                .body;
            let event = run.get("event").and_then(Value::as_str).unwrap_or_default();
            let conclusion = run
                .get("conclusion")
                .and_then(Value::as_str)
                .unwrap_or("not finished");
            if event.starts_with("pull_request") || event.is_empty() {
                passed_over.push(format!("run {run_id} ran for `{event}`"));
                continue;
            }
            if successful_run && conclusion != "success" {
                passed_over.push(format!("run {run_id} {conclusion}"));
                continue;
            }
            let archive = self.artifact_zip(owner, repository, id).await?;
            let bytes = match file_in_zip(&archive, file) {
                Ok(bytes) => bytes,
                Err(why) => return Ok(Err(format!("artifact `{name}` ({id}): {why}"))),
            };
            let commit = artifact
                .pointer("/workflow_run/head_sha")
                .and_then(Value::as_str)
                .map(str::to_owned);
            return Ok(Ok(Found {
                bytes,
                from: format!(
                    "artifact `{name}` of run {run_id} on `{branch}`{}",
                    commit
                        .as_deref()
                        .map(|sha| format!(" at {}", short(sha)))
                        .unwrap_or_default()
                ),
                commit,
            }));
        }
        Ok(Err(format!(
            "no artifact `{name}` on `{branch}` from a {}run of this repository ({})",
            if successful_run { "successful " } else { "" },
            passed_over.join("; ")
        )))
    }

    /// An artifact's zip: GitHub answers with a redirect to storage that must not see the
    /// token, so the address it names is fetched without one.
    async fn artifact_zip(
        &self,
        owner: &str,
        repository: &str,
        id: u64,
    ) -> Result<Vec<u8>, GitHubError> {
        let operation = "download an artifact";
        let (status, headers, bytes) = self
            .download(
                &format!("/repos/{owner}/{repository}/actions/artifacts/{id}/zip"),
                "application/vnd.github+json",
                false,
                operation,
            )
            .await?;
        if status == StatusCode::OK {
            return Ok(bytes.to_vec());
        }
        let location = headers
            .get(http::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| GitHubError::InvalidResponse {
                operation: operation.to_owned(),
                detail: format!("answered {status} without a Location"),
            })?
            .to_owned();
        let (status, _, bytes) = self
            .download(&location, "application/zip", true, operation)
            .await?;
        if status != StatusCode::OK {
            return Err(GitHubError::InvalidResponse {
                operation: operation.to_owned(),
                detail: format!("storage answered {status}"),
            });
        }
        Ok(bytes.to_vec())
    }
}

/// The file called `wanted` (by its last path component) in a zip archive, else the archive's
/// only file.
fn file_in_zip(archive: &[u8], wanted: &str) -> Result<Vec<u8>, String> {
    let entries = crate::zip::entries(archive)?;
    let base = wanted.rsplit('/').next().unwrap_or(wanted);
    let named: Vec<_> = entries
        .iter()
        .filter(|entry| entry.name.rsplit('/').next() == Some(base))
        .collect();
    let entry = match (named.as_slice(), entries.as_slice()) {
        ([one], _) => *one,
        ([], [one]) => one,
        ([], _) => {
            return Err(format!(
                "holds no `{base}` (it holds {})",
                entries
                    .iter()
                    .map(|entry| format!("`{}`", entry.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        _ => return Err(format!("holds {} files called `{base}`", named.len())),
    };
    crate::zip::extract(archive, entry, MAX_BASELINE_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_are_encoded_for_a_query() {
        assert_eq!(
            query_encoded("refs/heads/feature/a+b c&d"),
            "refs/heads/feature/a%2Bb%20c%26d"
        );
    }
}
