//! The webhook payload the runner writes to `GITHUB_EVENT_PATH`, reduced to what Gantry uses.
//!
//! Only the fields an action needs are read; everything else in the payload is ignored, so new
//! fields GitHub adds never break parsing. Fields GitHub documents as nullable are `Option`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Why an event payload could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The payload is not JSON, or lacks a field this event must have.
    #[error("`{event_name}` event payload is not valid: {source}")]
    Invalid {
        /// `GITHUB_EVENT_NAME`.
        event_name: String,
        /// Where and what, from the JSON reader.
        source: serde_json::Error,
    },
}

/// A repository as payloads describe it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Repository {
    /// `owner/name`.
    pub full_name: String,
    /// Whether this repository is itself a fork.
    #[serde(default)]
    pub fork: bool,
    /// Its default branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
}

/// One side (head or base) of a pull request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct PullRequestSide {
    /// Branch name.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Commit.
    pub sha: String,
    /// `None` when the head repository was deleted.
    pub repo: Option<Repository>,
}

/// The pull request of a `pull_request` or `pull_request_target` event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct PullRequest {
    /// The PR number.
    pub number: u64,
    /// Web address of the PR.
    pub html_url: String,
    /// Title (untrusted text).
    #[serde(default)]
    pub title: String,
    /// The branch being merged.
    pub head: PullRequestSide,
    /// The branch merged into.
    pub base: PullRequestSide,
}

impl PullRequest {
    /// A PR from another repository: its token is read-only and secrets are withheld.
    pub fn is_from_fork(&self) -> bool {
        match (&self.head.repo, &self.base.repo) {
            (Some(head), Some(base)) => head.full_name != base.full_name,
            // A deleted head repository was, by definition, not the base repository.
            (None, _) => true,
            (Some(_), None) => false,
        }
    }
}

/// A deployment, from `deployment` and `deployment_status` events.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct Deployment {
    /// Deployment id, used to post statuses.
    pub id: u64,
    /// Commit deployed.
    pub sha: String,
    /// Ref deployed.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Target environment.
    pub environment: String,
    /// `deploy` or a custom task.
    #[serde(default)]
    pub task: Option<String>,
    /// Free-form payload the creator attached.
    #[serde(default)]
    pub payload: serde_json::Value,
}

/// A pull request referenced by a `workflow_run` event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct RunPullRequest {
    /// The PR number.
    pub number: u64,
}

/// The run that completed, from a `workflow_run` event: the safe way to publish results of a
/// fork PR, whose own run has only a read-only token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct WorkflowRun {
    /// Run id (its artifacts hold the report to publish).
    pub id: u64,
    /// Commit the run tested.
    pub head_sha: String,
    /// The event that started that run.
    pub event: String,
    /// `success`, `failure`, … or `None` while running.
    pub conclusion: Option<String>,
    /// PRs of the same repository whose head is this commit (empty for fork PRs).
    #[serde(default)]
    pub pull_requests: Vec<RunPullRequest>,
    /// The repository the tested commit is in: a fork's for a fork PR.
    #[serde(default)]
    pub head_repository: Option<RunRepository>,
}

/// A repository named in a `workflow_run` event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct RunRepository {
    /// `owner/name`.
    pub full_name: String,
}

/// What happened, by event.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum EventKind {
    /// `pull_request` or `pull_request_target`.
    PullRequest {
        /// `opened`, `synchronize`, …
        action: String,
        /// The pull request.
        pull_request: Box<PullRequest>,
    },
    /// `push`.
    Push {
        /// Full ref pushed, `refs/heads/main`.
        git_ref: String,
        /// Commit before the push (all zeros for a new branch).
        before: String,
        /// Commit after the push (all zeros for a deletion).
        after: String,
        /// The push deleted the ref.
        deleted: bool,
    },
    /// `workflow_dispatch`, with its inputs as strings.
    WorkflowDispatch {
        /// Ref the workflow ran on.
        git_ref: String,
        /// Inputs the user gave.
        inputs: BTreeMap<String, String>,
    },
    /// `schedule`.
    Schedule {
        /// The cron expression that fired, when the payload has it.
        cron: Option<String>,
    },
    /// `deployment`.
    Deployment(Box<Deployment>),
    /// `deployment_status`.
    DeploymentStatus {
        /// The deployment.
        deployment: Box<Deployment>,
        /// The new state.
        state: String,
    },
    /// `workflow_run`.
    WorkflowRun(Box<WorkflowRun>),
    /// Any other event: parsed for the repository only.
    Other,
}

/// A parsed event payload.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Event {
    /// `GITHUB_EVENT_NAME`.
    pub name: String,
    /// The repository the workflow runs in, when the payload names it.
    pub repository: Option<Repository>,
    /// The event-specific part.
    pub kind: EventKind,
}

#[derive(Deserialize)]
struct PullRequestPayload {
    action: String,
    pull_request: PullRequest,
}

#[derive(Deserialize)]
struct PushPayload {
    #[serde(rename = "ref")]
    git_ref: String,
    before: String,
    after: String,
    #[serde(default)]
    deleted: bool,
}

#[derive(Deserialize)]
struct DispatchPayload {
    #[serde(rename = "ref")]
    git_ref: String,
    #[serde(default)]
    inputs: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct SchedulePayload {
    #[serde(default)]
    schedule: Option<String>,
}

#[derive(Deserialize)]
struct DeploymentPayload {
    deployment: Deployment,
}

#[derive(Deserialize)]
struct DeploymentStatusBody {
    state: String,
}

#[derive(Deserialize)]
struct DeploymentStatusPayload {
    deployment: Deployment,
    deployment_status: DeploymentStatusBody,
}

#[derive(Deserialize)]
struct WorkflowRunPayload {
    workflow_run: WorkflowRun,
}

#[derive(Deserialize)]
struct RepositoryPayload {
    #[serde(default)]
    repository: Option<Repository>,
}

impl Event {
    /// Parses the payload of the event named `name` (`GITHUB_EVENT_NAME`).
    pub fn parse(name: &str, payload: &[u8]) -> Result<Self, EventError> {
        let invalid = |source| EventError::Invalid {
            event_name: name.to_owned(),
            source,
        };
        let repository = serde_json::from_slice::<RepositoryPayload>(payload)
            .map_err(invalid)?
            .repository;
        let kind = match name {
            "pull_request" | "pull_request_target" => {
                let body: PullRequestPayload = serde_json::from_slice(payload).map_err(invalid)?;
                EventKind::PullRequest {
                    action: body.action,
                    pull_request: Box::new(body.pull_request),
                }
            }
            "push" => {
                let body: PushPayload = serde_json::from_slice(payload).map_err(invalid)?;
                EventKind::Push {
                    git_ref: body.git_ref,
                    before: body.before,
                    after: body.after,
                    deleted: body.deleted,
                }
            }
            "workflow_dispatch" => {
                let body: DispatchPayload = serde_json::from_slice(payload).map_err(invalid)?;
                let inputs = body
                    .inputs
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(key, value)| {
                        let text = match value {
                            serde_json::Value::String(text) => text,
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        };
                        (key, text)
                    })
                    .collect();
                EventKind::WorkflowDispatch {
                    git_ref: body.git_ref,
                    inputs,
                }
            }
            "schedule" => {
                let body: SchedulePayload = serde_json::from_slice(payload).map_err(invalid)?;
                EventKind::Schedule {
                    cron: body.schedule,
                }
            }
            "deployment" => {
                let body: DeploymentPayload = serde_json::from_slice(payload).map_err(invalid)?;
                EventKind::Deployment(Box::new(body.deployment))
            }
            "deployment_status" => {
                let body: DeploymentStatusPayload =
                    serde_json::from_slice(payload).map_err(invalid)?;
                EventKind::DeploymentStatus {
                    deployment: Box::new(body.deployment),
                    state: body.deployment_status.state,
                }
            }
            "workflow_run" => {
                let body: WorkflowRunPayload = serde_json::from_slice(payload).map_err(invalid)?;
                EventKind::WorkflowRun(Box::new(body.workflow_run))
            }
            _ => EventKind::Other,
        };
        Ok(Self {
            name: name.to_owned(),
            repository,
            kind,
        })
    }

    /// The pull request this run is about: the PR of a `pull_request` event, or the first PR of
    /// a `workflow_run` event (how results of a PR are published from a trusted run).
    pub fn pull_request_number(&self) -> Option<u64> {
        match &self.kind {
            EventKind::PullRequest { pull_request, .. } => Some(pull_request.number),
            EventKind::WorkflowRun(run) => run.pull_requests.first().map(|pr| pr.number),
            _ => None,
        }
    }

    /// The commit results should be attached to: a PR's head, not the merge commit in
    /// `GITHUB_SHA` (attaching check runs to the merge commit is the classic "results on the
    /// wrong run" bug).
    pub fn head_sha(&self) -> Option<&str> {
        match &self.kind {
            EventKind::PullRequest { pull_request, .. } => Some(&pull_request.head.sha),
            EventKind::Push { after, .. } => Some(after),
            EventKind::Deployment(deployment) | EventKind::DeploymentStatus { deployment, .. } => {
                Some(&deployment.sha)
            }
            EventKind::WorkflowRun(run) => Some(&run.head_sha),
            _ => None,
        }
    }

    /// The commit the change is measured from: a PR's base, or what a push came after (none
    /// for a new branch, whose `before` is all zeros).
    pub fn base_sha(&self) -> Option<&str> {
        match &self.kind {
            EventKind::PullRequest { pull_request, .. } => Some(&pull_request.base.sha),
            EventKind::Push { before, .. } if before.bytes().any(|b| b != b'0') => Some(before),
            _ => None,
        }
    }

    /// The branch a baseline comes from: a PR's base branch, else the repository's default
    /// branch (a push to it is measured against its previous state).
    pub fn base_branch(&self) -> Option<&str> {
        match &self.kind {
            EventKind::PullRequest { pull_request, .. } => Some(&pull_request.base.git_ref),
            _ => self.repository.as_ref()?.default_branch.as_deref(),
        }
    }

    /// A PR from a fork (its token cannot write).
    pub fn is_fork_pull_request(&self) -> bool {
        matches!(&self.kind, EventKind::PullRequest { pull_request, .. } if pull_request.is_from_fork())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PULL_REQUEST: &str = r#"{"action":"opened","number":7,"pull_request":{"number":7,
        "html_url":"https://github.com/o/r/pull/7","title":"t",
        "head":{"ref":"feature","sha":"aaa","repo":{"full_name":"someone/r","fork":true}},
        "base":{"ref":"main","sha":"bbb","repo":{"full_name":"o/r"}}},
        "repository":{"full_name":"o/r"}}"#;

    #[test]
    fn pull_request_from_a_fork() {
        let event = Event::parse("pull_request", PULL_REQUEST.as_bytes()).unwrap();
        assert_eq!(event.pull_request_number(), Some(7));
        assert_eq!(event.head_sha(), Some("aaa"));
        assert!(event.is_fork_pull_request());
        assert_eq!(event.repository.unwrap().full_name, "o/r");
    }

    #[test]
    fn schedule_and_unknown_events() {
        let event = Event::parse("schedule", br#"{"schedule":"0 6 * * 1"}"#).unwrap();
        assert_eq!(
            event.kind,
            EventKind::Schedule {
                cron: Some("0 6 * * 1".into())
            }
        );
        let event = Event::parse("merge_group", br#"{"repository":{"full_name":"o/r"}}"#).unwrap();
        assert_eq!(event.kind, EventKind::Other);
    }

    #[test]
    fn a_broken_payload_names_the_event_and_the_place() {
        let error = Event::parse("push", br#"{"ref":"refs/heads/main","before":1}"#).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("`push` event payload is not valid"),
            "{message}"
        );
        assert!(message.contains("column"), "{message}");
    }

    #[test]
    fn dispatch_inputs_become_strings() {
        let event = Event::parse(
            "workflow_dispatch",
            br#"{"ref":"refs/heads/main","inputs":{"dry":true,"n":3,"env":"prod","x":null}}"#,
        )
        .unwrap();
        let EventKind::WorkflowDispatch { inputs, .. } = event.kind else {
            panic!("not a dispatch")
        };
        assert_eq!(inputs["dry"], "true");
        assert_eq!(inputs["n"], "3");
        assert_eq!(inputs["env"], "prod");
        assert_eq!(inputs["x"], "");
    }
}
