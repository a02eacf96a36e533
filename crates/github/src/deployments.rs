//! The GitHub deployment a deploy reports to: created once per run (a retried or unclear
//! `POST` finds the one already made), marked `in_progress`, told of progress, and — when it
//! succeeds — the environment's deployment it supersedes found in a bounded number of calls.
//! Under `--dry-run` the local sink writes the deployment it would create instead.

use http::Method;
use serde_json::{Value, json};

use crate::{GitHubError, GitHubSink, LocalSink};

/// How many of the environment's latest deployments are looked at for one to supersede.
pub const SUPERSEDE_LOOK: usize = 10;

/// The deployment to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeployment {
    /// The environment.
    pub environment: String,
    /// The commit (or ref) deployed.
    pub git_ref: String,
    /// Up to 140 characters.
    pub description: String,
    /// `production_environment`; `None` leaves it to GitHub's rule (`production` is).
    pub production: Option<bool>,
    /// Where the run's logs are.
    pub log_url: Option<String>,
    /// What tells this deploy's deployment from any other: the run and its attempt, the job,
    /// the release (`1001-1/deploy/shop/cart`). Kept in the deployment's `payload`, so a
    /// `POST` whose answer was lost finds the one it made.
    pub key: String,
}

/// The deployment created (or found, created by this run before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedDeployment {
    /// Its id.
    pub id: u64,
    /// The environment's earlier deployments whose latest status is `success`: inactive once
    /// this one succeeds.
    pub superseded: Vec<u64>,
}

fn payload_run(deployment: &Value) -> Option<&str> {
    deployment
        .pointer("/payload/gantry_run")
        .and_then(Value::as_str)
}

impl GitHubSink<'_> {
    fn deployments_path(&self, environment: &str) -> String {
        format!(
            "{}/deployments?environment={}&per_page={SUPERSEDE_LOOK}",
            self.repo_path(),
            gantry_core::markdown::url_query_value(environment)
        )
    }

    /// The environment's latest deployments, newest first: one page of [`SUPERSEDE_LOOK`].
    async fn latest_deployments(&self, environment: &str) -> Result<Vec<Value>, GitHubError> {
        let reply = self
            .client
            .send(
                Method::GET,
                &self.deployments_path(environment),
                None,
                "list the environment's deployments",
            )
            .await?;
        Ok(reply.body.as_array().cloned().unwrap_or_default())
    }

    /// The deployment of `environment` made under `key`, if one was.
    async fn own_deployment(
        &self,
        environment: &str,
        key: &str,
    ) -> Result<Option<Value>, GitHubError> {
        Ok(self
            .latest_deployments(environment)
            .await?
            .into_iter()
            .find(|d| payload_run(d) == Some(key)))
    }

    /// Creates the deployment once for this run and marks it `in_progress`.
    pub async fn start_deployment(
        &self,
        new: &NewDeployment,
    ) -> Result<StartedDeployment, GitHubError> {
        let description: String = new.description.chars().take(140).collect();
        let created = if let Some(found) = self.own_deployment(&new.environment, &new.key).await? {
            found
        } else {
            let mut payload = json!({
                "ref": new.git_ref, "environment": new.environment,
                "description": description, "auto_merge": false,
                "required_contexts": [], "task": "deploy",
                "payload": {"gantry_run": new.key},
            });
            if let Some(production) = new.production {
                payload["production_environment"] = json!(production);
            }
            let path = format!("{}/deployments", self.repo_path());
            self.create_once(
                "create the deployment",
                async || self.post(&path, &payload, "create the deployment").await,
                async || self.own_deployment(&new.environment, &new.key).await,
            )
            .await?
        };
        let id = created.get("id").and_then(Value::as_u64).ok_or_else(|| {
            GitHubError::InvalidResponse {
                operation: "create the deployment".to_owned(),
                detail: "a deployment without an id".to_owned(),
            }
        })?;
        self.deployment_state(id, "in_progress", &description, new.log_url.as_deref())
            .await?;
        let superseded = self.superseded(&new.environment, id).await?;
        Ok(StartedDeployment { id, superseded })
    }

    /// The environment's deployments a success of `id` supersedes: newest first, those whose
    /// latest status is `success`, stopping at the first already `inactive` (older ones were
    /// made inactive when it was superseded) and after [`SUPERSEDE_LOOK`] — at most
    /// `1 + SUPERSEDE_LOOK` calls, however long the history.
    async fn superseded(&self, environment: &str, id: u64) -> Result<Vec<u64>, GitHubError> {
        let latest = self.latest_deployments(environment).await?;
        let mut superseded = Vec::new();
        let earlier = latest
            .iter()
            .filter_map(|d| d.get("id").and_then(Value::as_u64))
            .filter(|&other| other != id);
        for other in earlier.take(SUPERSEDE_LOOK) {
            let statuses = self
                .client
                .send(
                    Method::GET,
                    &format!(
                        "{}/deployments/{other}/statuses?per_page=1",
                        self.repo_path()
                    ),
                    None,
                    "read a deployment's latest status",
                )
                .await?;
            match statuses
                .body
                .as_array()
                .and_then(|s| s.first())
                .and_then(|s| s.get("state"))
                .and_then(Value::as_str)
            {
                Some("success") => superseded.push(other),
                Some("inactive") => break,
                _ => {}
            }
        }
        Ok(superseded)
    }

    /// Posts a status of deployment `id`: `in_progress` with a traffic step ("canary 25 %"),
    /// or `error` when the cluster went away. Final statuses are the report's effects.
    pub async fn deployment_state(
        &self,
        id: u64,
        state: &str,
        description: &str,
        log_url: Option<&str>,
    ) -> Result<(), GitHubError> {
        let mut body = json!({
            "state": state,
            "description": description.chars().take(140).collect::<String>(),
            "auto_inactive": false,
        });
        if let Some(url) = log_url {
            body["log_url"] = json!(url);
        }
        self.post(
            &format!("{}/deployments/{id}/statuses", self.repo_path()),
            &body,
            "create the deployment status",
        )
        .await
        .map(|_| ())
    }
}

impl LocalSink {
    /// Writes the deployment that would be created (`<action>-deployment.json`); its id is 0.
    pub fn start_deployment(
        &self,
        action: &str,
        new: &NewDeployment,
    ) -> Result<StartedDeployment, GitHubError> {
        let body = serde_json::to_string_pretty(&json!({
            "ref": new.git_ref, "environment": new.environment,
            "description": new.description.chars().take(140).collect::<String>(),
            "production_environment": new.production, "task": "deploy",
        }))
        .unwrap_or_default();
        self.write(&format!("{action}-deployment.json"), &body)?;
        Ok(StartedDeployment {
            id: 0,
            superseded: Vec::new(),
        })
    }
}
