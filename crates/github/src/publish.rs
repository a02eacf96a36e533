//! Carrying out a Report's effects against GitHub.
//!
//! Every write that creates something (a comment, a check run, an issue, a deployment status)
//! goes through [`GitHubSink::create_once`]: if the POST's fate is unclear (a 5xx, a dropped
//! connection) the sink lists what exists and only writes again when it finds nothing of ours,
//! so a rerun or a lost response never leaves two.

use std::io::Write as _;

use base64::Engine as _;
use gantry_core::report::{
    ANNOTATIONS_PER_REQUEST, Annotation, CheckConclusion, CheckRunEffect, CommentEffect,
    CommentMode, DeploymentState, DeploymentStatusEffect, Effect, IssueEffect, IssueState, Marker,
    Report, SARIF_GZIP_LIMIT, SarifUploadEffect,
};
use gantry_core::runner::AnnotationLevel;
use http::Method;
use serde_json::{Value, json};

use crate::rest::RestClient;
use crate::{GitHubError, PublishOutcome, Published, Target, fit_to_limit};

/// GitHub's limits, enforced before anything is sent.
const COMMENT_LIMIT: usize = gantry_core::report::COMMENT_LIMIT_BYTES;
const CHECK_TEXT_LIMIT: usize = gantry_core::report::CHECK_RUN_TEXT_LIMIT;
/// How often a creating write is attempted when its outcome stays unclear.
const CREATE_ATTEMPTS: u32 = 3;

/// Publishes to the GitHub REST API.
///
/// A marked comment or issue is Gantry's only when the account the token writes as wrote it:
/// `comment-author` when given, else the login GitHub names for the token (GraphQL `viewer`:
/// `github-actions[bot]` for the Actions token, the App's bot for an App token, the user for a
/// personal token; `GET /user` where GraphQL is not reachable). A marked comment or issue by
/// anyone else is never edited, merged, rewritten or minimized; a warning names it. When the
/// account cannot be learned, no earlier comment or issue is adopted: the first one this run
/// creates tells who it writes as.
#[derive(Debug)]
pub struct GitHubSink<'client> {
    pub(crate) client: &'client RestClient,
    pub(crate) target: Target,
    /// `comment-author`, when the workflow names it.
    author: Option<String>,
    /// Who the token writes as.
    identity: std::sync::Mutex<Identity>,
    /// Warnings for the log, each once.
    warnings: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

/// An issue this action keeps, found by its marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedIssue {
    /// The marker's key (`stack/network`).
    pub key: String,
    /// Its number.
    pub number: u64,
    /// Whether it is open.
    pub open: bool,
    /// Its body as it stands.
    pub body: String,
}

/// Who the token writes as, as far as the sink knows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    /// Not asked yet.
    Unasked,
    /// This login.
    Login(String),
    /// GitHub would not say, and nothing was created yet to tell.
    Unknown,
}

/// A marked comment found on the PR.
#[derive(Debug, Clone)]
struct FoundComment {
    id: u64,
    node_id: String,
    body: String,
    url: Option<String>,
}

impl<'client> GitHubSink<'client> {
    /// A sink writing to `target` through `client`.
    pub fn new(client: &'client RestClient, target: Target) -> Self {
        Self {
            client,
            target,
            author: None,
            identity: std::sync::Mutex::new(Identity::Unasked),
            warnings: std::sync::Mutex::new(std::collections::BTreeSet::new()),
        }
    }

    /// Takes `login` (the `comment-author` input) as the account Gantry's comments and issues
    /// are by, instead of asking GitHub who the token is. Empty means "ask".
    #[must_use]
    pub fn with_author(mut self, login: Option<&str>) -> Self {
        self.author = login
            .map(str::trim)
            .filter(|login| !login.is_empty())
            .map(str::to_owned);
        self
    }

    fn warn(&self, warning: String) {
        tracing::warn!("{warning}");
        self.warnings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(warning);
    }

    /// The warnings so far, each once, in order.
    fn take_warnings(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .warnings
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_iter()
        .collect()
    }

    /// The login Gantry's own comments and issues are by; `None` when it cannot be learned.
    async fn own_login(&self) -> Result<Option<String>, GitHubError> {
        let known = self
            .identity
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match known {
            Identity::Login(login) => return Ok(Some(login)),
            Identity::Unknown => return Ok(None),
            Identity::Unasked => {}
        }
        let login = match &self.author {
            Some(author) => Some(author.clone()),
            None => self.client.viewer_login().await?,
        };
        if login.is_none() {
            self.warn("GitHub did not say which account the token writes as (GraphQL `viewer` and `GET /user` were refused), so no earlier Gantry comment or issue can be told from one someone else wrote: none is edited, and a new one is created. Set `comment-author` to the account's login".to_owned());
        }
        *self
            .identity
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            login.clone().map_or(Identity::Unknown, Identity::Login);
        Ok(login)
    }

    /// After a create, where the account was not known: the object's author is who we write as.
    fn learn_from(&self, created: &Value) {
        let mut identity = self
            .identity
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *identity == Identity::Unknown {
            if let Some(login) = author_of(created) {
                *identity = Identity::Login(login.to_owned());
            }
        }
    }

    /// Whether `item` (a comment or an issue) carrying `marker` is ours; when not, a warning
    /// names it once.
    fn claim(&self, item: &Value, own: Option<&str>, marker: &Marker, what: &str) -> bool {
        let author = author_of(item);
        let ours =
            matches!((author, own), (Some(author), Some(own)) if author.eq_ignore_ascii_case(own));
        if !ours {
            let place = item
                .get("html_url")
                .and_then(Value::as_str)
                .map_or_else(String::new, |url| format!(" ({url})"));
            self.warn(format!(
                "a {what} by {} carries Gantry's marker `{}`{place} but {}; it is left alone",
                author.map_or_else(
                    || "an unknown account".to_owned(),
                    |author| format!("`{author}`")
                ),
                marker.html(),
                own.map_or_else(
                    || "who the token writes as is not known".to_owned(),
                    |own| format!("Gantry writes as `{own}`")
                ),
            ));
        }
        ours
    }

    pub(crate) fn repo_path(&self) -> String {
        format!("/repos/{}/{}", self.target.owner, self.target.repository)
    }

    /// Carries out every effect, in order. Checks all limits first, so a report GitHub would
    /// refuse publishes nothing. A read-only token (fork PRs) stops publishing without an error:
    /// the outcome says so and the caller warns once.
    pub async fn publish(&self, report: &Report) -> Result<PublishOutcome, GitHubError> {
        let prepared = prepare(report)?;
        let mut outcome = PublishOutcome::default();
        let result = self.publish_prepared(report, prepared, &mut outcome).await;
        outcome.warnings = self.take_warnings();
        result.map(|()| outcome)
    }

    async fn publish_prepared(
        &self,
        report: &Report,
        prepared: Vec<Option<String>>,
        outcome: &mut PublishOutcome,
    ) -> Result<(), GitHubError> {
        for (effect, sarif) in report.effects.iter().zip(prepared) {
            let result = match effect {
                Effect::Comment(comment) => self.upsert_comment(comment).await,
                Effect::CheckRun(check_run) => self.create_check_run(check_run).await,
                Effect::UploadSarif(upload) => {
                    self.upload_sarif(upload, sarif.as_deref().unwrap_or_default())
                        .await
                }
                Effect::Issue(issue) => self.sync_issue(issue).await,
                Effect::DeploymentStatus(status) => self.create_deployment_status(status).await,
            };
            match result {
                Ok(Some(published)) => outcome.published.push(published),
                Ok(None) => {}
                Err(GitHubError::NotPermitted { operation, message }) => {
                    outcome.read_only = Some(format!("could not {operation}: {message}"));
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// One POST, returning the created object.
    pub(crate) async fn post(
        &self,
        path: &str,
        payload: &Value,
        operation: &str,
    ) -> Result<Value, GitHubError> {
        self.client
            .send(Method::POST, path, Some(payload), operation)
            .await
            .map(|reply| reply.body)
    }

    /// Replaces the body of comment `id` (PATCH, safe to repeat).
    async fn patch_comment(&self, id: u64, body: &str, operation: &str) -> Result<(), GitHubError> {
        let path = format!("{}/issues/comments/{id}", self.repo_path());
        self.client
            .send(
                Method::PATCH,
                &path,
                Some(&json!({"body": body})),
                operation,
            )
            .await
            .map(|_| ())
    }

    /// POSTs, and when the answer is unclear, looks (`find`) before posting again.
    pub(crate) async fn create_once<P, F>(
        &self,
        operation: &str,
        post: P,
        find: F,
    ) -> Result<Value, GitHubError>
    where
        P: AsyncFn() -> Result<Value, GitHubError>,
        F: AsyncFn() -> Result<Option<Value>, GitHubError>,
    {
        let mut last = None;
        for attempt in 1..=CREATE_ATTEMPTS {
            match post().await {
                Ok(created) => return Ok(created),
                Err(GitHubError::Unclear { detail, .. }) => {
                    tracing::warn!(operation, attempt, %detail, "outcome unclear; looking before writing again");
                    if let Some(found) = find().await? {
                        return Ok(found);
                    }
                    last = Some(detail);
                }
                Err(other) => return Err(other),
            }
        }
        Err(GitHubError::Unavailable {
            operation: operation.to_owned(),
            attempts: CREATE_ATTEMPTS,
            detail: last.unwrap_or_default(),
        })
    }

    /// The comments on `number` that carry `marker` and that Gantry wrote, oldest first.
    async fn marked_comments(
        &self,
        number: u64,
        marker: &Marker,
    ) -> Result<Vec<FoundComment>, GitHubError> {
        let path = format!("{}/issues/{number}/comments", self.repo_path());
        let comments = self
            .client
            .list_all(&path, None, "list the PR's comments")
            .await?;
        let own = self.own_login().await?;
        Ok(comments
            .iter()
            .filter(|comment| {
                comment
                    .get("body")
                    .and_then(Value::as_str)
                    .is_some_and(|body| marker.is_in(body))
            })
            .filter(|comment| self.claim(comment, own.as_deref(), marker, "comment"))
            .map(|comment| FoundComment {
                id: comment
                    .get("id")
                    .and_then(Value::as_u64)
                    .unwrap_or_default(),
                node_id: comment
                    .get("node_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                body: comment
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                url: comment
                    .get("html_url")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
            .collect())
    }

    async fn upsert_comment(
        &self,
        effect: &CommentEffect,
    ) -> Result<Option<Published>, GitHubError> {
        let Some(number) = effect.issue_number.or(self.target.pull_request) else {
            tracing::info!("no pull request for this run; the comment is in the step summary only");
            return Ok(None);
        };
        if effect.section.is_some() {
            return self.upsert_section(effect, number).await;
        }
        let body = fit_to_limit(&effect.body_with_marker(), COMMENT_LIMIT, "comment");
        let before = self.marked_comments(number, &effect.marker).await?;

        if effect.mode == CommentMode::Update {
            if let Some(existing) = before.last() {
                if existing.body != body {
                    self.patch_comment(existing.id, &body, "update the PR comment")
                        .await?;
                }
                return Ok(Some(Published::new(
                    "comment",
                    format!("updated comment on #{number}"),
                    existing.url.clone(),
                )));
            }
        }

        let create_path = format!("{}/issues/{number}/comments", self.repo_path());
        let payload = json!({"body": body});
        let known: Vec<u64> = before.iter().map(|comment| comment.id).collect();
        let created = self
            .create_once(
                "create the PR comment",
                async || {
                    self.post(&create_path, &payload, "create the PR comment")
                        .await
                },
                async || {
                    let now = self.marked_comments(number, &effect.marker).await?;
                    Ok(now.into_iter().find(|comment| !known.contains(&comment.id)).map(|comment| {
                        json!({"id": comment.id, "html_url": comment.url, "body": comment.body})
                    }))
                },
            )
            .await?;
        self.learn_from(&created);
        if effect.mode == CommentMode::New {
            for old in before {
                let minimized = self
                    .client
                    .graphql(
                        "mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) { minimizedComment { isMinimized } } }",
                        json!({"id": old.node_id}),
                        "minimize the previous comment",
                    )
                    .await;
                if let Err(error) = minimized {
                    // Hiding an old comment is a courtesy; the new one is posted.
                    tracing::warn!(%error, "could not minimize a superseded comment");
                }
            }
        }
        let url = created
            .get("html_url")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Some(Published::new(
            "comment",
            format!("created comment on #{number}"),
            url,
        )))
    }

    /// One section of a comment several jobs share. Matrix jobs run at once, so a write can be
    /// lost to another job's: after writing, read back, and merge again until our section is in
    /// the one marked comment. Duplicates (two jobs that both created it) are merged into the
    /// oldest and left as a pointer without the marker.
    async fn upsert_section(
        &self,
        effect: &CommentEffect,
        number: u64,
    ) -> Result<Option<Published>, GitHubError> {
        const ROUNDS: u32 = 5;
        let create_path = format!("{}/issues/{number}/comments", self.repo_path());
        for round in 1..=ROUNDS {
            let found = self.marked_comments(number, &effect.marker).await?;
            if let Some((target, duplicates)) = found.split_first() {
                let bodies: Vec<&str> = found.iter().map(|comment| comment.body.as_str()).collect();
                let body =
                    fit_to_limit(&effect.body_merged_into(&bodies), COMMENT_LIMIT, "comment");
                if body != target.body {
                    self.patch_comment(target.id, &body, "update the shared PR comment")
                        .await?;
                }
                for duplicate in duplicates {
                    let pointer = format!(
                        "Merged into {}.",
                        target.url.as_deref().unwrap_or("the first Gantry comment")
                    );
                    self.patch_comment(duplicate.id, &pointer, "fold a duplicate PR comment")
                        .await?;
                }
            } else {
                let payload = json!({"body": fit_to_limit(&effect.body_merged_into(&[]), COMMENT_LIMIT, "comment")});
                let created = self
                    .create_once(
                        "create the shared PR comment",
                        async || {
                            self.post(&create_path, &payload, "create the shared PR comment")
                                .await
                        },
                        async || {
                            Ok(self
                                .marked_comments(number, &effect.marker)
                                .await?
                                .first()
                                .map(|comment| json!({"id": comment.id})))
                        },
                    )
                    .await?;
                self.learn_from(&created);
            }
            let after = self.marked_comments(number, &effect.marker).await?;
            if let [only] = after.as_slice() {
                if effect.section_is_in(&only.body) {
                    return Ok(Some(Published::new(
                        "comment",
                        format!("updated our section of the comment on #{number}"),
                        only.url.clone(),
                    )));
                }
            }
            let wait = self
                .client
                .jitter(std::time::Duration::from_millis(400 * u64::from(round)));
            tracing::info!(
                round,
                "another job changed the shared comment at the same time; merging again"
            );
            self.client.clock().sleep(wait).await;
        }
        Err(GitHubError::Unavailable {
            operation: "update the shared PR comment".to_owned(),
            attempts: ROUNDS,
            detail: "other jobs kept rewriting it at the same time".to_owned(),
        })
    }

    async fn create_check_run(
        &self,
        effect: &CheckRunEffect,
    ) -> Result<Option<Published>, GitHubError> {
        let head_sha = effect
            .head_sha
            .clone()
            .or_else(|| self.target.head_sha.clone())
            .ok_or_else(|| GitHubError::Configuration {
                detail: "a check run needs a commit: GITHUB_SHA is not set".to_owned(),
            })?;
        let external_id = format!("gantry:{}:{}", self.target.run_key, effect.name);
        let title = gantry_core::markdown::title(&effect.title, 255);
        let summary = fit_to_limit(&effect.summary, CHECK_TEXT_LIMIT, "check run summary");
        let text = effect
            .text
            .as_deref()
            .map(|text| fit_to_limit(text, CHECK_TEXT_LIMIT, "check run text"));
        let mut batches = effect.annotations.chunks(ANNOTATIONS_PER_REQUEST);
        let first: Vec<Value> = batches
            .next()
            .unwrap_or_default()
            .iter()
            .map(annotation_json)
            .collect();
        let mut output = json!({"title": title, "summary": summary, "annotations": first});
        if let Some(text) = &text {
            output["text"] = json!(text);
        }
        let payload = json!({
            "name": effect.name,
            "head_sha": head_sha,
            "external_id": external_id,
            "status": "completed",
            "conclusion": conclusion_word(effect.conclusion),
            "output": output,
        });
        let create_path = format!("{}/check-runs", self.repo_path());
        let list_path = format!(
            "{}/commits/{head_sha}/check-runs?check_name={}",
            self.repo_path(),
            gantry_core::markdown::url_query_value(&effect.name)
        );
        // Already there (this saved run published before, and this is a re-run): one check run
        // per run key, as it was written.
        let existing = self
            .client
            .list_all(&list_path, Some("check_runs"), "list check runs")
            .await?
            .into_iter()
            .find(|run| {
                run.get("external_id").and_then(Value::as_str) == Some(external_id.as_str())
            });
        if let Some(run) = existing {
            return Ok(Some(Published {
                kind: "check-run",
                description: format!("check run `{}` (already published)", effect.name),
                url: run
                    .get("html_url")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }));
        }
        let created = self
            .create_once(
                "create the check run",
                async || {
                    self.post(&create_path, &payload, "create the check run")
                        .await
                },
                async || {
                    let runs = self
                        .client
                        .list_all(&list_path, Some("check_runs"), "list check runs")
                        .await?;
                    Ok(runs.into_iter().find(|run| {
                        run.get("external_id").and_then(Value::as_str) == Some(external_id.as_str())
                    }))
                },
            )
            .await?;
        let id = created.get("id").and_then(Value::as_u64).ok_or_else(|| {
            GitHubError::InvalidResponse {
                operation: "create the check run".to_owned(),
                detail: "no id in the answer".to_owned(),
            }
        })?;
        let update_path = format!("{}/check-runs/{id}", self.repo_path());
        let annotations_path = format!("{update_path}/annotations");
        let mut sent = first.len();
        for batch in batches {
            let batch_json: Vec<Value> = batch.iter().map(annotation_json).collect();
            let patch =
                json!({"output": {"title": title, "summary": summary, "annotations": batch_json}});
            let result = self
                .client
                .send_with(
                    Method::PATCH,
                    &update_path,
                    Some(&patch),
                    "add check run annotations",
                    false,
                )
                .await;
            match result {
                Ok(_) => {}
                Err(GitHubError::Unclear { detail, .. }) => {
                    // Annotations append: count what arrived before sending the batch again.
                    let present = self
                        .client
                        .list_all(&annotations_path, None, "list check run annotations")
                        .await?
                        .len();
                    if present < sent + batch.len() {
                        tracing::warn!(%detail, "annotation batch lost; sending it again");
                        self.client
                            .send_with(
                                Method::PATCH,
                                &update_path,
                                Some(&patch),
                                "add check run annotations",
                                false,
                            )
                            .await?;
                    }
                }
                Err(other) => return Err(other),
            }
            sent += batch.len();
        }
        let url = created
            .get("html_url")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Some(Published::new(
            "check-run",
            format!(
                "check run `{}` with {} annotation(s)",
                effect.name,
                effect.annotations.len()
            ),
            url,
        )))
    }

    async fn upload_sarif(
        &self,
        effect: &SarifUploadEffect,
        encoded: &str,
    ) -> Result<Option<Published>, GitHubError> {
        let commit_sha = effect
            .commit_sha
            .clone()
            .or_else(|| self.target.sha.clone());
        let git_ref = effect
            .git_ref
            .clone()
            .or_else(|| self.target.git_ref.clone());
        let (Some(commit_sha), Some(git_ref)) = (commit_sha, git_ref) else {
            return Err(GitHubError::Configuration {
                detail: "a SARIF upload needs GITHUB_SHA and GITHUB_REF".to_owned(),
            });
        };
        let payload = json!({"commit_sha": commit_sha, "ref": git_ref, "sarif": encoded});
        let path = format!("{}/code-scanning/sarifs", self.repo_path());
        // An upload for the same commit and category replaces the earlier one: safe to re-send.
        let reply = self
            .client
            .send_with(Method::POST, &path, Some(&payload), "upload SARIF", true)
            .await?;
        let id = reply
            .body
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !effect.wait_for_processing || id.is_empty() {
            return Ok(Some(Published::new(
                "sarif-upload",
                format!("uploaded SARIF {id}"),
                None,
            )));
        }
        let status_path = format!("{path}/{id}");
        let mut wait = std::time::Duration::from_secs(2);
        for _ in 0..12 {
            let status = match self
                .client
                .send(
                    Method::GET,
                    &status_path,
                    None,
                    "read the SARIF processing status",
                )
                .await
            {
                Ok(reply) => reply.body,
                // Just after the upload the status can be 404 for a moment.
                Err(GitHubError::Rejected { status: 404, .. }) => Value::Null,
                Err(other) => return Err(other),
            };
            match status.get("processing_status").and_then(Value::as_str) {
                Some("complete") => {
                    return Ok(Some(Published::new(
                        "sarif-upload",
                        format!("SARIF {id} processed"),
                        None,
                    )));
                }
                Some("failed") => {
                    let errors = status
                        .get("errors")
                        .and_then(Value::as_array)
                        .map(|errors| {
                            errors
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                        .unwrap_or_default();
                    return Err(GitHubError::SarifRejected { errors });
                }
                _ => {}
            }
            self.client_clock_sleep(wait).await;
            wait = (wait * 2).min(std::time::Duration::from_secs(30));
        }
        tracing::warn!(id, "SARIF still processing; not waiting longer");
        Ok(Some(Published::new(
            "sarif-upload",
            format!("uploaded SARIF {id} (still processing)"),
            None,
        )))
    }

    async fn client_clock_sleep(&self, duration: std::time::Duration) {
        self.client.clock().sleep(duration).await;
    }

    /// Every issue (open and closed, pull requests left out) across all pages; with `label`,
    /// only those that carry it (a few pages instead of the whole repository's).
    async fn all_issues(&self, label: Option<&str>) -> Result<Vec<Value>, GitHubError> {
        let mut path = format!("{}/issues?state=all", self.repo_path());
        if let Some(label) = label {
            path.push_str("&labels=");
            path.push_str(&gantry_core::markdown::url_query_value(label));
        }
        let issues = self.client.list_all(&path, None, "list issues").await?;
        Ok(issues
            .into_iter()
            .filter(|issue| issue.get("pull_request").is_none())
            .collect())
    }

    /// The issue `marker` finds: when an older run left several, the open one with the lowest
    /// number, else the lowest-numbered closed one — always the same one, never a new one.
    /// Looked for among the issues with `label` first; when none there carries the marker (or
    /// someone took the label off), among all.
    async fn marked_issue(
        &self,
        marker: &Marker,
        label: Option<&str>,
    ) -> Result<Option<Value>, GitHubError> {
        if label.is_some() {
            if let Some(found) = self.marked_among(marker, label).await? {
                return Ok(Some(found));
            }
        }
        self.marked_among(marker, None).await
    }

    async fn marked_among(
        &self,
        marker: &Marker,
        label: Option<&str>,
    ) -> Result<Option<Value>, GitHubError> {
        let issues = self.all_issues(label).await?;
        let own = self.own_login().await?;
        let mut found: Vec<Value> = issues
            .into_iter()
            .filter(|issue| {
                issue
                    .get("body")
                    .and_then(Value::as_str)
                    .is_some_and(|body| marker.is_in(body))
            })
            .filter(|issue| self.claim(issue, own.as_deref(), marker, "issue"))
            .collect();
        found.sort_by_key(|issue| {
            (
                issue.get("state").and_then(Value::as_str) != Some("open"),
                issue
                    .get("number")
                    .and_then(Value::as_u64)
                    .unwrap_or(u64::MAX),
            )
        });
        Ok(found.into_iter().next())
    }

    /// The issues this action keeps, by marker key, with their state and body: what the last
    /// run wrote (first seen, last seen), read before this run decides anything. With `label`,
    /// among the issues that carry it.
    pub async fn marked_issues(
        &self,
        action: &str,
        label: Option<&str>,
    ) -> Result<Vec<MarkedIssue>, GitHubError> {
        let action = Marker::new(action, "x").action().to_owned();
        let issues = self.all_issues(label).await?;
        let own = self.own_login().await?;
        let mut found: Vec<MarkedIssue> = issues
            .iter()
            .filter_map(|issue| {
                let body = issue.get("body").and_then(Value::as_str)?;
                let marker = Marker::trailing(body).filter(|marker| marker.action() == action)?;
                self.claim(issue, own.as_deref(), &marker, "issue")
                    .then(|| MarkedIssue {
                        key: marker.key().to_owned(),
                        number: issue
                            .get("number")
                            .and_then(Value::as_u64)
                            .unwrap_or_default(),
                        open: issue.get("state").and_then(Value::as_str) == Some("open"),
                        body: body.to_owned(),
                    })
            })
            .collect();
        // The one `marked_issue` would pick comes first for each key.
        found.sort_by_key(|issue| (issue.key.clone(), !issue.open, issue.number));
        found.dedup_by(|later, first| later.key == first.key);
        Ok(found)
    }

    /// Creates the labels the repository lacks (an issue created with an unknown label would
    /// get one GitHub colours at random, or none where the token may not create labels).
    async fn ensure_labels(&self, labels: &[String]) -> Result<(), GitHubError> {
        if labels.is_empty() {
            return Ok(());
        }
        let path = format!("{}/labels", self.repo_path());
        let existing = self.client.list_all(&path, None, "list labels").await?;
        let has = |name: &str| {
            existing.iter().any(|label| {
                label
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|existing| existing.eq_ignore_ascii_case(name))
            })
        };
        for label in labels.iter().filter(|label| !has(label)) {
            let payload = json!({"name": label, "color": "d93f0b", "description": "Changed outside Terraform or Helm (Gantry drift-report)"});
            match self.post(&path, &payload, "create a label").await {
                // 422: it exists (created in between, or by a run whose answer was lost); an
                // unclear answer: the issue is created with the label either way.
                Ok(_)
                | Err(GitHubError::Rejected { status: 422, .. } | GitHubError::Unclear { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Posts `text` on issue `number` once: a lost answer is looked for before posting again.
    async fn comment_once(&self, number: u64, text: &str) -> Result<(), GitHubError> {
        let path = format!("{}/issues/{number}/comments", self.repo_path());
        let payload = json!({"body": text});
        self.create_once(
            "comment on the issue",
            async || self.post(&path, &payload, "comment on the issue").await,
            async || {
                let comments = self
                    .client
                    .list_all(&path, None, "list the issue's comments")
                    .await?;
                Ok(comments
                    .into_iter()
                    .find(|comment| comment.get("body").and_then(Value::as_str) == Some(text)))
            },
        )
        .await
        .map(|_| ())
    }

    async fn sync_issue(&self, effect: &IssueEffect) -> Result<Option<Published>, GitHubError> {
        let body = fit_to_limit(&effect.body_with_marker(), COMMENT_LIMIT, "issue");
        let effect = &IssueEffect {
            title: gantry_core::markdown::title(
                &effect.title,
                gantry_core::markdown::TITLE_LIMIT_CHARS,
            ),
            ..effect.clone()
        };
        let label = effect.labels.first().map(String::as_str);
        let existing = self.marked_issue(&effect.marker, label).await?;
        let issue_path = |number: u64| format!("{}/issues/{number}", self.repo_path());
        let url_of = |issue: &Value| {
            issue
                .get("html_url")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match (existing, effect.state) {
            (None, IssueState::Closed) => Ok(None),
            (None, IssueState::Open) => {
                self.ensure_labels(&effect.labels).await?;
                let payload = json!({"title": effect.title, "body": body, "labels": effect.labels});
                let create_path = format!("{}/issues", self.repo_path());
                let created = self
                    .create_once(
                        "open the issue",
                        async || self.post(&create_path, &payload, "open the issue").await,
                        async || self.marked_issue(&effect.marker, label).await,
                    )
                    .await?;
                self.learn_from(&created);
                Ok(Some(Published::new(
                    "issue",
                    format!("opened issue: {}", effect.title),
                    url_of(&created),
                )))
            }
            (Some(issue), desired) => {
                let number = issue
                    .get("number")
                    .and_then(Value::as_u64)
                    .unwrap_or_default();
                let open_now = issue.get("state").and_then(Value::as_str) == Some("open");
                let same_text = issue.get("body").and_then(Value::as_str) == Some(body.as_str())
                    && issue.get("title").and_then(Value::as_str) == Some(effect.title.as_str());
                let (payload, verb) = match (desired, open_now) {
                    (IssueState::Open, true) if same_text => {
                        return Ok(Some(Published::new(
                            "issue",
                            format!("issue #{number} unchanged"),
                            url_of(&issue),
                        )));
                    }
                    (IssueState::Open, true) => {
                        (json!({"title": effect.title, "body": body}), "updated")
                    }
                    (IssueState::Open, false) => (
                        json!({"title": effect.title, "body": body, "state": "open", "state_reason": "reopened"}),
                        "reopened",
                    ),
                    (IssueState::Closed, true) => (
                        json!({"body": body, "state": "closed", "state_reason": "completed"}),
                        "closed",
                    ),
                    (IssueState::Closed, false) => return Ok(None),
                };
                self.client
                    .send(
                        Method::PATCH,
                        &issue_path(number),
                        Some(&payload),
                        "update the issue",
                    )
                    .await?;
                // Said once the state changed: a rerun finds it changed and says nothing more.
                if verb != "updated" {
                    if let Some(comment) = &effect.comment {
                        self.comment_once(number, comment).await?;
                    }
                }
                Ok(Some(Published::new(
                    "issue",
                    format!("{verb} issue #{number}"),
                    url_of(&issue),
                )))
            }
        }
    }

    async fn create_deployment_status(
        &self,
        effect: &DeploymentStatusEffect,
    ) -> Result<Option<Published>, GitHubError> {
        let path = format!(
            "{}/deployments/{}/statuses",
            self.repo_path(),
            effect.deployment_id
        );
        let description: String = effect.description.chars().take(140).collect();
        let mut payload =
            json!({"state": deployment_state_word(effect.state), "description": description});
        if let Some(url) = &effect.environment_url {
            payload["environment_url"] = json!(url);
        }
        if let Some(url) = &effect.log_url {
            payload["log_url"] = json!(url);
        }
        let state_word = deployment_state_word(effect.state);
        self.create_once(
            "create the deployment status",
            async || {
                self.post(&path, &payload, "create the deployment status")
                    .await
            },
            async || {
                let statuses = self
                    .client
                    .list_all(&path, None, "list deployment statuses")
                    .await?;
                // Newest first: ours, if it arrived, is the latest.
                Ok(statuses.into_iter().next().filter(|latest| {
                    latest.get("state").and_then(Value::as_str) == Some(state_word)
                        && latest.get("description").and_then(Value::as_str)
                            == Some(description.as_str())
                }))
            },
        )
        .await?;
        Ok(Some(Published::new(
            "deployment-status",
            format!("deployment {} is {state_word}", effect.deployment_id),
            None,
        )))
    }
}

/// The login of a comment's or issue's author.
fn author_of(item: &Value) -> Option<&str> {
    item.pointer("/user/login").and_then(Value::as_str)
}

/// Checks every effect against GitHub's limits before anything is sent, and encodes SARIF.
fn prepare(report: &Report) -> Result<Vec<Option<String>>, GitHubError> {
    report
        .effects
        .iter()
        .map(|effect| match effect {
            Effect::UploadSarif(upload) => {
                let problems = gantry_core::sarif::upload_problems(&upload.sarif);
                if !problems.is_empty() {
                    return Err(GitHubError::SarifRefused {
                        problems: problems.join("; "),
                    });
                }
                encode_sarif(&upload.sarif).map(Some)
            }
            _ => Ok(None),
        })
        .collect()
}

/// gzip + base64, refusing more than 10 MB gzipped (GitHub's limit).
pub fn encode_sarif(sarif: &str) -> Result<String, GitHubError> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(sarif.as_bytes())
        .and_then(|()| encoder.try_finish())
        .map_err(|error| GitHubError::Configuration {
            detail: format!("cannot gzip the SARIF log: {error}"),
        })?;
    let gzipped = encoder.finish().unwrap_or_default();
    if gzipped.len() > SARIF_GZIP_LIMIT {
        return Err(GitHubError::TooLarge {
            what: "SARIF upload (gzipped)".to_owned(),
            size: gzipped.len(),
            limit: SARIF_GZIP_LIMIT,
        });
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(gzipped))
}

fn annotation_json(annotation: &Annotation) -> Value {
    let place = &annotation.place;
    let start = place.line.unwrap_or(1).max(1);
    let end = place.end_line.unwrap_or(start).max(start);
    let mut value = json!({
        "path": place.file.clone().unwrap_or_else(|| ".github".to_owned()),
        "start_line": start,
        "end_line": end,
        "annotation_level": match annotation.level {
            AnnotationLevel::Error => "failure",
            AnnotationLevel::Warning => "warning",
            AnnotationLevel::Notice => "notice",
        },
        "message": annotation.message.chars().take(60_000).collect::<String>(),
    });
    // GitHub accepts columns only on single-line annotations.
    if start == end {
        if let Some(column) = place.column {
            value["start_column"] = json!(column);
            value["end_column"] = json!(place.end_column.unwrap_or(column).max(column));
        }
    }
    if let Some(title) = &place.title {
        value["title"] = json!(title.chars().take(255).collect::<String>());
    }
    value
}

fn conclusion_word(conclusion: CheckConclusion) -> &'static str {
    match conclusion {
        CheckConclusion::Success => "success",
        CheckConclusion::Failure => "failure",
        CheckConclusion::Neutral => "neutral",
        CheckConclusion::ActionRequired => "action_required",
    }
}

fn deployment_state_word(state: DeploymentState) -> &'static str {
    match state {
        DeploymentState::Error => "error",
        DeploymentState::Failure => "failure",
        DeploymentState::Inactive => "inactive",
        DeploymentState::InProgress => "in_progress",
        DeploymentState::Queued => "queued",
        DeploymentState::Pending => "pending",
        DeploymentState::Success => "success",
    }
}
