//! The local sink: every effect written as a file under an output folder.
//!
//! This is the embedded default — `--dry-run`, or no token outside Actions — so every action
//! runs on a laptop with no GitHub, and a reviewer can read exactly what would be posted.

use std::path::{Path, PathBuf};

use gantry_core::report::{Effect, Report};
use serde_json::json;

use crate::{GitHubError, PublishOutcome, Published, encode_sarif, fit_to_limit};

/// Writes effects under a folder.
#[derive(Debug, Clone)]
pub struct LocalSink {
    folder: PathBuf,
}

impl LocalSink {
    /// A sink writing under `folder` (created when needed).
    pub fn new(folder: impl Into<PathBuf>) -> Self {
        Self {
            folder: folder.into(),
        }
    }

    pub(crate) fn write(&self, name: &str, contents: &str) -> Result<PathBuf, GitHubError> {
        let path = self.folder.join(name);
        std::fs::create_dir_all(&self.folder)
            .and_then(|()| std::fs::write(&path, contents))
            .map_err(|source| GitHubError::Local {
                path: path.display().to_string(),
                source,
            })?;
        Ok(path)
    }

    /// Writes every effect; the same limits as GitHub apply, so what is written is what would
    /// be posted.
    pub fn publish(&self, report: &Report) -> Result<PublishOutcome, GitHubError> {
        let mut outcome = PublishOutcome::default();
        let action = file_part(&report.action);
        for (index, effect) in report.effects.iter().enumerate() {
            let n = index + 1;
            let (path, description) = match effect {
                Effect::Comment(comment) => {
                    let body = fit_to_limit(
                        &comment.body_with_marker(),
                        gantry_core::report::COMMENT_LIMIT_BYTES,
                        "comment",
                    );
                    let path = self.write(&format!("{action}-{n}-comment.md"), &body)?;
                    (path, "PR comment".to_owned())
                }
                Effect::CheckRun(check_run) => {
                    let body = serde_json::to_string_pretty(&json!({
                        "name": check_run.name,
                        "conclusion": check_run.conclusion,
                        "title": check_run.title,
                        "summary": fit_to_limit(&check_run.summary, gantry_core::report::CHECK_RUN_TEXT_LIMIT, "check run summary"),
                        "text": check_run.text,
                        "annotations": check_run.annotations,
                    }))
                    .unwrap_or_default();
                    let path = self.write(&format!("{action}-{n}-check-run.json"), &body)?;
                    (path, format!("check run `{}`", check_run.name))
                }
                Effect::UploadSarif(upload) => {
                    encode_sarif(&upload.sarif)?;
                    let path = self.write(&format!("{action}-{n}-upload.sarif"), &upload.sarif)?;
                    (path, "SARIF upload".to_owned())
                }
                Effect::Issue(issue) if issue.state == gantry_core::report::IssueState::Closed => {
                    // Nothing to open: on GitHub an open issue of this marker would be closed,
                    // and none is created. No file says otherwise.
                    outcome.published.push(Published::new(
                        effect.kind(),
                        format!(
                            "no issue: nothing to report (on GitHub an open issue `{}` would be closed)",
                            issue.title
                        ),
                        None,
                    ));
                    continue;
                }
                Effect::Issue(issue) => {
                    let text = format!(
                        "---\ntitle: {}\nstate: {}\nlabels: {}\n---\n\n{}",
                        serde_json::Value::String(issue.title.clone()),
                        match issue.state {
                            gantry_core::report::IssueState::Open => "open",
                            gantry_core::report::IssueState::Closed => "closed",
                        },
                        serde_json::Value::from(issue.labels.clone()),
                        fit_to_limit(
                            &issue.body_with_marker(),
                            gantry_core::report::COMMENT_LIMIT_BYTES,
                            "issue"
                        )
                    );
                    let path = self.write(&format!("{action}-{n}-issue.md"), &text)?;
                    (path, format!("issue `{}`", issue.title))
                }
                Effect::DeploymentStatus(status) => {
                    let body = serde_json::to_string_pretty(status).unwrap_or_default();
                    let path =
                        self.write(&format!("{action}-{n}-deployment-status.json"), &body)?;
                    (path, format!("deployment {} status", status.deployment_id))
                }
            };
            outcome.published.push(Published::new(
                effect.kind(),
                description,
                Some(display(&path)),
            ));
        }
        Ok(outcome)
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// A safe file-name part.
fn file_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}
