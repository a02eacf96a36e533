//! `gantry helm-deploy`: carries out the plan `gantry-helm-deploy` makes — `helm` for the
//! releases, the cluster (through `gantry-kube`) for readiness, pods, routing and the baseline,
//! Prometheus for the canary judge, HTTP for the health checks, GitHub for the deployment — and
//! undoes it, traffic first, on the first failure, at the timeout, or when the job is cancelled.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gantry_canary_verify::custom;
use gantry_canary_verify::judge::{self, Decision as Judged, Judge};
use gantry_core::report::Report;
use gantry_github::clock::SystemClock;
use gantry_github::rest::{Endpoint, RestClient};
use gantry_github::retry::RetryPolicy;
use gantry_helm_deploy::applied::{self, Workload, WorkloadKind};
use gantry_helm_deploy::failure::{Failure, Grace, Watcher};
use gantry_helm_deploy::helm::{self, Helm};
use gantry_helm_deploy::options::{Options, SPEC};
use gantry_helm_deploy::plan::{self, Plan, Routing, Step, Strategy, Track, Undo};
use gantry_helm_deploy::readiness::{self, Rollout};
use gantry_helm_deploy::release::{self, Head};
use gantry_helm_deploy::report::{self, Checked, Decision, Deployment, Evidence, Look, Outcome};
use gantry_helm_deploy::{baseline, routing};
use gantry_kube::{Cluster, Error as KubeError, Follow};
use k8s_openapi::api::apps::v1::{
    DaemonSet, Deployment as KubeDeployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::core::v1::{Pod, Service};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::invocation::{ActionFailure, Invocation};

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Why a deploy stops.
#[derive(Debug)]
enum Stop {
    /// The rollout, the analysis or a check failed.
    Failed(String),
    /// Helm failed: the line of its output that names the problem, and all it said.
    Helm {
        /// `helm upgrade cart failed: UPGRADE FAILED: …`.
        reason: String,
        /// Its whole standard error.
        output: String,
    },
    /// A pod failed: the cause, with its evidence.
    Pod(Failure),
    /// The deploy's time ran out.
    Timeout(String),
    /// The job was cancelled (SIGINT or SIGTERM).
    Cancelled,
    /// The cluster could not be reached.
    Cluster(KubeError),
}

impl From<KubeError> for Stop {
    fn from(error: KubeError) -> Self {
        if error.unreachable() {
            Self::Cluster(error)
        } else {
            Self::Failed(error.to_string())
        }
    }
}

impl Stop {
    fn reason(&self) -> String {
        match self {
            Self::Failed(reason) | Self::Timeout(reason) | Self::Helm { reason, .. } => {
                reason.clone()
            }
            Self::Pod(failure) => format!(
                "pod {}{}: {} — {}",
                failure.pod,
                failure
                    .container
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default(),
                failure.cause.word(),
                failure.detail
            ),
            Self::Cancelled => {
                "the job was cancelled; the deploy was undone before exiting".to_owned()
            }
            Self::Cluster(error) => error.to_string(),
        }
    }
}

/// The `helm` to run, where, with which environment.
struct HelmCli {
    program: String,
    workspace: PathBuf,
    args: Helm,
    /// Masked in the command line it logs (`--set db.password=…`).
    secrets: Vec<String>,
}

impl HelmCli {
    /// `helm version`: present and runnable, or a clear error naming the setup step.
    async fn check(&self) -> Result<String, ActionFailure> {
        let output = tokio::process::Command::new(&self.program)
            .args(helm::version())
            .current_dir(&self.workspace)
            .output()
            .await
            .map_err(|error| {
                ActionFailure::InvalidInput(if error.kind() == std::io::ErrorKind::NotFound {
                    format!(
                        "helm-command `{}`: not found. Add a step that installs Helm before this one (`- uses: azure/setup-helm@v5`), or set helm-command to its path",
                        self.program
                    )
                } else {
                    format!("helm-command `{}`: cannot run: {error}", self.program)
                })
            })?;
        if !output.status.success() {
            return Err(ActionFailure::InvalidInput(format!(
                "helm-command `{}`: `helm version` failed: {}",
                self.program,
                last_line(&output.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Runs helm to the end (never killed half-way: a killed helm leaves its release pending).
    async fn run(&self, args: &[String]) -> Result<(), Stop> {
        let mut command = tokio::process::Command::new(&self.program);
        command.args(args).current_dir(&self.workspace);
        // Its own process group: a signal meant for the job reaches us, and we let helm finish.
        #[cfg(unix)]
        command.process_group(0);
        let line = format!("{} {}", self.program, args.join(" "));
        tracing::info!(command = %gantry_helm_deploy::mask::mask(&line, &self.secrets), "helm");
        let output = command
            .output()
            .await
            .map_err(|error| Stop::Failed(format!("helm {}: cannot run: {error}", args[0])))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(Stop::Helm {
                reason: format!(
                    "helm {} {} failed: {}",
                    args[0],
                    args.get(1).map_or("", String::as_str),
                    problem_line(&output.stderr)
                ),
                output: String::from_utf8_lossy(&output.stderr).into_owned(),
            })
        }
    }
}

/// The line of helm's output that names the problem: its `Error:` line (the last line is often
/// only advice, `ensure CRDs are installed first`), else the last line.
fn problem_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .find_map(|line| line.trim().strip_prefix("Error:"))
        .map_or_else(|| last_line(bytes), |line| line.trim().to_owned())
}

fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("(no output)")
        .trim()
        .to_owned()
}

/// The GitHub side: the deployment and its in-progress status.
struct GitHub {
    client: RestClient,
    repo: String,
    environment: String,
    /// `production_environment`, when the workflow says.
    production: Option<bool>,
    log_url: Option<String>,
}

impl GitHub {
    fn connect(
        invocation: &Invocation,
        environment: &str,
        production: Option<bool>,
    ) -> Result<Option<Self>, ActionFailure> {
        let Some(token) = invocation.inputs.optional("github-token") else {
            return Ok(None);
        };
        let Some(repo) = invocation.context.repository.clone() else {
            return Ok(None);
        };
        let context = &invocation.context;
        let client = RestClient::new(
            &Endpoint {
                api_url: context.api_url.clone(),
                graphql_url: context.graphql_url.clone(),
                token,
            },
            std::sync::Arc::new(SystemClock),
            RetryPolicy::default(),
        )
        .map_err(|error| ActionFailure::Service(error.to_string()))?;
        let log_url = context.run_id.as_ref().map(|run| {
            format!(
                "{}/{repo}/actions/runs/{run}",
                context.server_url.trim_end_matches('/')
            )
        });
        Ok(Some(Self {
            client,
            repo,
            environment: environment.to_owned(),
            production,
            log_url,
        }))
    }

    fn failure(error: &gantry_github::GitHubError) -> ActionFailure {
        ActionFailure::Service(format!("GitHub: {error}"))
    }

    /// Creates the deployment and marks it in progress; the earlier successful deployments of
    /// the environment are found, to be marked inactive when this one succeeds.
    async fn start(
        &self,
        invocation: &Invocation,
        description: &str,
        environment_url: Option<&String>,
    ) -> Result<Deployment, ActionFailure> {
        let git_ref = invocation
            .context
            .sha
            .clone()
            .or_else(|| invocation.context.git_ref.clone())
            .unwrap_or_else(|| "HEAD".to_owned());
        let earlier = self
            .client
            .list_all(
                &format!(
                    "/repos/{}/deployments?environment={}",
                    self.repo,
                    gantry_core::markdown::url_query_value(&self.environment)
                ),
                None,
                "list the environment's deployments",
            )
            .await
            .map_err(|e| Self::failure(&e))?;
        let mut superseded = Vec::new();
        for deployment in earlier.iter().take(30) {
            let Some(id) = deployment.get("id").and_then(Value::as_u64) else {
                continue;
            };
            let statuses = self
                .client
                .list_all(
                    &format!("/repos/{}/deployments/{id}/statuses", self.repo),
                    None,
                    "list a deployment's statuses",
                )
                .await
                .map_err(|e| Self::failure(&e))?;
            if statuses
                .first()
                .and_then(|s| s.get("state"))
                .and_then(Value::as_str)
                == Some("success")
            {
                superseded.push(id);
            }
        }
        let mut payload = json!({
            "ref": git_ref, "environment": self.environment, "description": description,
            "auto_merge": false, "required_contexts": [], "task": "deploy",
        });
        // Left out, GitHub's own rule decides: an environment named `production` is one.
        if let Some(production) = self.production {
            payload["production_environment"] = json!(production);
        }
        let created = self
            .client
            .send(
                http::Method::POST,
                &format!("/repos/{}/deployments", self.repo),
                Some(&payload),
                "create the deployment",
            )
            .await
            .map_err(|e| Self::failure(&e))?;
        let id = created
            .body
            .get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                ActionFailure::Service("GitHub: a deployment without an id".to_owned())
            })?;
        self.status(id, "in_progress", description, None).await?;
        Ok(Deployment {
            id,
            environment_url: environment_url.cloned(),
            log_url: self.log_url.clone(),
            superseded,
        })
    }

    async fn status(
        &self,
        id: u64,
        state: &str,
        description: &str,
        environment_url: Option<&str>,
    ) -> Result<(), ActionFailure> {
        let mut body = json!({
            "state": state,
            "description": description.chars().take(140).collect::<String>(),
            "auto_inactive": false,
        });
        if let Some(url) = &self.log_url {
            body["log_url"] = json!(url);
        }
        if let Some(url) = environment_url {
            body["environment_url"] = json!(url);
        }
        self.client
            .send(
                http::Method::POST,
                &format!("/repos/{}/deployments/{id}/statuses", self.repo),
                Some(&body),
                "create the deployment status",
            )
            .await
            .map(|_| ())
            .map_err(|e| Self::failure(&e))
    }
}

/// What a track's workloads and pods are found by.
enum Scope {
    /// The workloads its Helm release's manifest applies, by kind and name, and their pods by
    /// their own selectors (stable, canary and green are Helm releases).
    Applied(Vec<Workload>),
    /// A label: the baseline, which Gantry copies from the stable and labels itself.
    Labelled(String),
}

/// A track's workloads and pods, followed by list + watch.
struct Watched {
    deployments: Vec<Follow<KubeDeployment>>,
    sets: Vec<Follow<ReplicaSet>>,
    pods: Vec<Follow<Pod>>,
    stateful: Vec<Follow<StatefulSet>>,
    daemons: Vec<Follow<DaemonSet>>,
    /// The workloads Helm applied, each of which must be there and done.
    expected: Vec<Workload>,
    /// Kinds listed once and found empty (a label selects none): counted as requests.
    empty_lists: u64,
}

impl Watched {
    async fn start(cluster: &Cluster, scope: &Scope) -> Result<Self, Stop> {
        let mut watched = Self {
            deployments: Vec::new(),
            sets: Vec::new(),
            pods: Vec::new(),
            stateful: Vec::new(),
            daemons: Vec::new(),
            expected: Vec::new(),
            empty_lists: 0,
        };
        match scope {
            Scope::Labelled(selector) => {
                let stateful = Follow::<StatefulSet>::start(cluster, selector).await?;
                let daemons = Follow::<DaemonSet>::start(cluster, selector).await?;
                // Helm has written every object before the wait begins: a kind with none now
                // has none.
                if stateful.objects().next().is_some() {
                    watched.stateful.push(stateful);
                } else {
                    watched.empty_lists += 1;
                }
                if daemons.objects().next().is_some() {
                    watched.daemons.push(daemons);
                } else {
                    watched.empty_lists += 1;
                }
                watched
                    .deployments
                    .push(Follow::start(cluster, selector).await?);
                watched.sets.push(Follow::start(cluster, selector).await?);
                watched.pods.push(Follow::start(cluster, selector).await?);
            }
            Scope::Applied(workloads) => {
                for workload in workloads {
                    match workload.kind {
                        WorkloadKind::Deployment => {
                            watched
                                .deployments
                                .push(Follow::start_named(cluster, &workload.name).await?);
                            watched
                                .sets
                                .push(Follow::start(cluster, &workload.selector).await?);
                        }
                        WorkloadKind::StatefulSet => watched
                            .stateful
                            .push(Follow::start_named(cluster, &workload.name).await?),
                        WorkloadKind::DaemonSet => watched
                            .daemons
                            .push(Follow::start_named(cluster, &workload.name).await?),
                    }
                    watched
                        .pods
                        .push(Follow::start(cluster, &workload.selector).await?);
                }
                watched.expected.clone_from(workloads);
            }
        }
        Ok(watched)
    }

    async fn changed(&mut self) -> Result<(), Stop> {
        tokio::select! {
            r = gantry_kube::next_of_any(&mut self.deployments) => r?,
            r = gantry_kube::next_of_any(&mut self.sets) => r?,
            r = gantry_kube::next_of_any(&mut self.pods) => r?,
            r = gantry_kube::next_of_any(&mut self.stateful) => r?,
            r = gantry_kube::next_of_any(&mut self.daemons) => r?,
        }
        Ok(())
    }

    fn requests(&self) -> u64 {
        self.deployments.iter().map(Follow::requests).sum::<u64>()
            + self.sets.iter().map(Follow::requests).sum::<u64>()
            + self.pods.iter().map(Follow::requests).sum::<u64>()
            + self.stateful.iter().map(Follow::requests).sum::<u64>()
            + self.daemons.iter().map(Follow::requests).sum::<u64>()
            + self.empty_lists
    }

    /// A workload Helm applied that is not there (deleted since, or not yet seen).
    fn missing(&self) -> Option<String> {
        let named =
            |kind: WorkloadKind, name: Option<&str>| name.map(|name| (kind, name.to_owned()));
        let present: std::collections::BTreeSet<(WorkloadKind, String)> = self
            .deployments
            .iter()
            .flat_map(Follow::objects)
            .filter_map(|d| named(WorkloadKind::Deployment, d.metadata.name.as_deref()))
            .chain(
                self.stateful
                    .iter()
                    .flat_map(Follow::objects)
                    .filter_map(|s| named(WorkloadKind::StatefulSet, s.metadata.name.as_deref())),
            )
            .chain(
                self.daemons
                    .iter()
                    .flat_map(Follow::objects)
                    .filter_map(|d| named(WorkloadKind::DaemonSet, d.metadata.name.as_deref())),
            )
            .collect();
        self.expected
            .iter()
            .find(|workload| !present.contains(&(workload.kind, workload.name.clone())))
            .map(|workload| {
                format!(
                    "{} {} that the release applied is not in the cluster",
                    workload.kind.word(),
                    workload.name
                )
            })
    }

    /// `Ok(None)`: every workload done; `Ok(Some(why))`: still waiting; `Err(why)`: failed.
    fn rollout(&self) -> Result<Option<String>, String> {
        let mut waiting = self.missing();
        let verdicts = self
            .deployments
            .iter()
            .flat_map(Follow::objects)
            .map(|d| readiness::deployment(d, None))
            .chain(
                self.stateful
                    .iter()
                    .flat_map(|f| f.objects().map(readiness::stateful_set)),
            )
            .chain(
                self.daemons
                    .iter()
                    .flat_map(|f| f.objects().map(readiness::daemon_set)),
            );
        for verdict in verdicts {
            match verdict {
                Rollout::Done => {}
                Rollout::Waiting(why) => waiting = Some(why),
                Rollout::Failed(why) => return Err(why),
            }
        }
        Ok(waiting)
    }

    /// The pods of the workloads' current revisions (the new pods of a rollout), each once,
    /// none that is Terminating: [`readiness::judged_pods`].
    fn current_pods(&self) -> Vec<Pod> {
        let deployments: Vec<&KubeDeployment> =
            self.deployments.iter().flat_map(Follow::objects).collect();
        let replica_sets: Vec<&ReplicaSet> = self.sets.iter().flat_map(Follow::objects).collect();
        let stateful_sets: Vec<&StatefulSet> =
            self.stateful.iter().flat_map(Follow::objects).collect();
        let pods: Vec<&Pod> = self.pods.iter().flat_map(Follow::objects).collect();
        readiness::judged_pods(&readiness::Observed {
            deployments: &deployments,
            replica_sets: &replica_sets,
            stateful_sets: &stateful_sets,
            pods: &pods,
        })
        .into_iter()
        .cloned()
        .collect()
    }
}

/// The canary judge and its Prometheus.
struct Analysis {
    judge: Judge,
    prometheus: gantry_prometheus::Client,
}

/// One deploy underway.
struct Deploy<'a> {
    options: &'a Options,
    plan: Plan,
    cluster: Cluster,
    helm: HelmCli,
    analysis: Option<Analysis>,
    outcome: Outcome,
    started: Instant,
    deadline: tokio::time::Instant,
    previous: Option<u32>,
    cancelled: watch::Receiver<bool>,
    grace: Grace,
    /// API requests made watching workloads and pods.
    requests: u64,
    /// The step running.
    at: usize,
    /// The GitHub deployment, told of each traffic step.
    github: Option<(&'a GitHub, u64)>,
}

impl Deploy<'_> {
    /// Tells the GitHub deployment where the traffic stands (`in_progress`, "canary 25 %"); a
    /// failure to tell is a warning, never a reason to stop a deploy underway.
    async fn progress(&self, routing: &Routing) {
        let Some((github, id)) = self.github else {
            return;
        };
        let description = format!("{}: {routing}", self.plan.strategy.word());
        if let Err(error) = github.status(id, "in_progress", &description, None).await {
            tracing::warn!(%error, "the deployment's progress could not be posted");
        }
    }

    fn note(&mut self, text: impl Into<String>) {
        let text = text.into();
        tracing::info!("{text}");
        self.outcome
            .timeline
            .push((self.started.elapsed().as_secs_f64(), text));
    }

    fn tracks(&self) -> &'static [Track] {
        plan::tracks(self.plan.strategy)
    }

    fn remaining(&self) -> u64 {
        self.deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .as_secs()
    }

    /// Sleeps, unless the deploy is cancelled or out of time first.
    async fn pause(&mut self, duration: Duration) -> Result<(), Stop> {
        self.settle(None, duration).await
    }

    /// Waits up to `most` (for a change among `watched`, if given), unless the deploy is
    /// cancelled or out of time first.
    async fn settle(&mut self, watched: Option<&mut Watched>, most: Duration) -> Result<(), Stop> {
        let until = (tokio::time::Instant::now() + most).min(self.deadline);
        let changed = async {
            match watched {
                Some(watched) => Box::pin(watched.changed()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = changed => changed?,
            () = tokio::time::sleep_until(until) => {}
            _ = self.cancelled.wait_for(|c| *c) => return Err(Stop::Cancelled),
        }
        if tokio::time::Instant::now() >= self.deadline {
            return Err(Stop::Timeout(format!(
                "the deploy did not finish within its timeout ({} s)",
                self.options.timeout
            )));
        }
        Ok(())
    }

    fn check_cancelled(&self) -> Result<(), Stop> {
        if *self.cancelled.borrow() {
            Err(Stop::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Runs the plan; on a stop, says the last step that ran (or half ran), if any.
    async fn run(&mut self) -> Result<(), (Option<usize>, Stop)> {
        let steps = self.plan.steps.clone();
        for (index, step) in steps.iter().enumerate() {
            // Cancelled between steps: the last one ran whole, this one never began.
            self.check_cancelled()
                .map_err(|stop| (index.checked_sub(1), stop))?;
            self.at = index;
            self.note(step.to_string());
            Box::pin(self.step(step))
                .await
                .map_err(|stop| (Some(index), stop))?;
        }
        Ok(())
    }

    async fn step(&mut self, step: &Step) -> Result<(), Stop> {
        let release = self.options.release.clone();
        match step {
            Step::Install { track, pinned } => {
                let pinned = pinned
                    .as_ref()
                    .map(|routing| routing.pinned(&release, self.tracks()))
                    .unwrap_or_default();
                let args = self.helm.args.upgrade(
                    &release,
                    *track,
                    &self.options.chart,
                    &pinned,
                    self.remaining(),
                );
                self.helm.run(&args).await
            }
            Step::Unpin => {
                let args = self.helm.args.upgrade(
                    &release,
                    Track::Stable,
                    &self.options.chart,
                    &[],
                    self.remaining(),
                );
                self.helm.run(&args).await
            }
            Step::Ready(track) => self.ready(*track).await,
            Step::Baseline => Box::pin(self.baseline()).await,
            Step::Route(routing) => {
                self.route(routing).await?;
                if self.at < self.plan.promotion {
                    self.progress(routing).await;
                }
                Ok(())
            }
            Step::Hold => {
                let watched = self.new_track();
                self.watch_for(
                    watched,
                    Duration::from_secs(u64::from(self.options.step_interval)),
                )
                .await
            }
            Step::Analyse { percent, last } => self.analyse(*percent, *last).await,
            Step::Health => self.health().await,
            Step::Remove(track) => self.remove(*track).await,
        }
    }

    /// The track running the new version before promotion.
    fn new_track(&self) -> Track {
        match self.plan.strategy {
            Strategy::Canary => Track::Canary,
            Strategy::BlueGreen => Track::Green,
            Strategy::Rolling => Track::Stable,
        }
    }

    fn selector(&self, track: Track) -> String {
        format!(
            "{}={}",
            routing::INSTANCE,
            track.name(&self.options.release)
        )
    }

    /// What `track`'s workloads are found by: the workloads its Helm release's latest revision
    /// applied (the baseline, which Gantry makes itself, by its label). A release that applies
    /// no workload is said so in the timeline; one that applies pods Gantry cannot judge stops
    /// the deploy.
    async fn scope(&mut self, track: Track) -> Result<Scope, Stop> {
        if track == Track::Baseline {
            return Ok(Scope::Labelled(self.selector(track)));
        }
        let name = track.name(&self.options.release);
        let history = self.cluster.history(&name).await?;
        let Some(latest) = history.iter().max_by_key(|revision| revision.revision) else {
            return Err(Stop::Failed(format!(
                "release {name} has no revision to judge: helm wrote none"
            )));
        };
        let workloads = applied::workloads(&latest.manifest, &self.options.namespace)
            .map_err(|error| Stop::Failed(format!("release {name}: {error}")))?;
        if workloads.is_empty() {
            self.note(format!(
                "release {name} (revision {}) applies no Deployment, StatefulSet or DaemonSet: no pod was judged",
                latest.revision
            ));
        }
        Ok(Scope::Applied(workloads))
    }

    /// Waits for a track's workloads by kubectl's rules, failing at the first failing pod.
    async fn ready(&mut self, track: Track) -> Result<(), Stop> {
        let scope = self.scope(track).await?;
        let mut watched = Watched::start(&self.cluster, &scope).await?;
        let mut failures = Watcher::new(self.grace);
        let result = loop {
            let waiting = match watched.rollout() {
                Err(failed) => break Err(Stop::Failed(failed)),
                Ok(waiting) => waiting,
            };
            if let Some(failure) = failures.observe(unix_now(), &watched.current_pods()) {
                break Err(Stop::Pod(failure));
            }
            let Some(waiting) = waiting else {
                break Ok(());
            };
            // Time-based causes (a grace running out) are looked at each second.
            if let Err(stop) = self
                .settle(Some(&mut watched), Duration::from_secs(1))
                .await
            {
                break Err(match stop {
                    Stop::Timeout(_) => Stop::Timeout(format!(
                        "{} was not ready within the timeout: {waiting}",
                        track.name(&self.options.release)
                    )),
                    other => other,
                });
            }
        };
        self.requests += watched.requests();
        result
    }

    /// Holds for `duration`, failing at the first failing pod of `track`.
    async fn watch_for(&mut self, track: Track, duration: Duration) -> Result<(), Stop> {
        let until = tokio::time::Instant::now() + duration;
        let scope = self.scope(track).await?;
        let mut watched = Watched::start(&self.cluster, &scope).await?;
        let mut failures = Watcher::new(self.grace);
        let result = loop {
            if let Some(failure) = failures.observe(unix_now(), &watched.current_pods()) {
                break Err(Stop::Pod(failure));
            }
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break Ok(());
            }
            if let Err(stop) = self
                .settle(Some(&mut watched), left.min(Duration::from_secs(1)))
                .await
            {
                break Err(stop);
            }
        };
        self.requests += watched.requests();
        result
    }

    async fn baseline(&mut self) -> Result<(), Stop> {
        let release = self.options.release.clone();
        let stable: KubeDeployment = self.cluster.get(&release).await?.ok_or_else(|| {
            Stop::Failed(format!(
                "the stable Deployment {release:?} is not there to copy as the baseline"
            ))
        })?;
        let canary_name = Track::Canary.name(&release);
        let canary: KubeDeployment = self.cluster.get(&canary_name).await?.ok_or_else(|| {
            Stop::Failed(format!(
                "the canary Deployment {canary_name:?} is not there"
            ))
        })?;
        let replicas = canary
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .or_else(|| canary.status.as_ref().and_then(|s| s.replicas))
            .unwrap_or(1);
        let copy = baseline::deployment(&stable, &release, replicas)
            .map_err(|error| Stop::Failed(error.to_string()))?;
        self.cluster.put(&copy).await?;
        let service: Service = self.cluster.get(&release).await?.ok_or_else(|| {
            Stop::Failed(format!(
                "the stable Service {release:?} is not there to copy"
            ))
        })?;
        let copy = baseline::service(&service, &release)
            .map_err(|error| Stop::Failed(error.to_string()))?;
        self.cluster.put(&copy).await?;
        Ok(())
    }

    async fn route(&mut self, routing: &Routing) -> Result<(), Stop> {
        self.route_within(routing, Duration::from_secs(30)).await
    }

    async fn route_within(&mut self, routing: &Routing, within: Duration) -> Result<(), Stop> {
        let (traffic, release, tracks) = (
            self.plan.traffic,
            self.options.release.clone(),
            self.tracks(),
        );
        self.cluster
            .write_routing(traffic, &release, tracks, routing)
            .await?;
        self.cluster
            .hold(traffic, &release, tracks, routing, within)
            .await?;
        Ok(())
    }

    /// Traffic home while undoing: written and read back again and again (another controller
    /// may be rewriting it) until it holds or `rollback-timeout` runs out.
    async fn route_back(&mut self, routing: &Routing) -> Result<(), Stop> {
        loop {
            let left = self
                .deadline
                .saturating_duration_since(tokio::time::Instant::now());
            let within = left
                .min(Duration::from_secs(30))
                .max(Duration::from_secs(1));
            match self.route_within(routing, within).await {
                Ok(()) => return Ok(()),
                Err(Stop::Cluster(error)) => return Err(Stop::Cluster(error)),
                Err(stop) if self.remaining() == 0 => return Err(stop),
                Err(stop) => {
                    self.note(format!(
                        "the route back did not hold yet ({}); writing it again",
                        stop.reason()
                    ));
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    /// One analysed step: a rollback rolls back; before the last step, no regression shown is
    /// enough to take more traffic; at the last, only a promotion (or a clean look) promotes,
    /// and the step holds and looks again until then, failing closed when the looks or the
    /// time run out.
    async fn analyse(&mut self, percent: u32, last: bool) -> Result<(), Stop> {
        loop {
            let Some(analysis) = self.analysis.as_mut() else {
                return Err(Stop::Failed("a canary step without an analysis".to_owned()));
            };
            let at = unix_now();
            let mut answers = std::collections::BTreeMap::new();
            for query in analysis.judge.queries(at) {
                let answer = analysis
                    .prometheus
                    .query_range(&query.promql, query.start, query.end, query.step)
                    .await
                    .map_err(|error| {
                        Stop::Failed(format!(
                            "the canary could not be judged: the {} query: {error}",
                            query.metric
                        ))
                    })?;
                answers.insert(
                    query.id,
                    judge::Answer {
                        series: answer.series.into_iter().map(|s| s.samples).collect(),
                        warnings: answer.warnings,
                    },
                );
            }
            let evaluation = analysis.judge.evaluate(at, &answers).map_err(|error| {
                Stop::Failed(format!("the canary could not be judged: {error}"))
            })?;
            self.outcome.looks.push(Look {
                percent,
                decision: evaluation.decision.word().to_owned(),
                reason: evaluation.reason.clone(),
                requests: evaluation.requests,
            });
            match evaluation.decision {
                Judged::Rollback => {
                    return Err(Stop::Failed(format!(
                        "canary analysis at {percent} %: {}",
                        evaluation.reason
                    )));
                }
                Judged::Promote => return Ok(()),
                Judged::Inconclusive => {
                    return Err(Stop::Failed(format!(
                        "the canary analysis could not tell, and an undecided canary is not promoted: {}",
                        evaluation.reason
                    )));
                }
                Judged::Continue if evaluation.clean || !last => return Ok(()),
                Judged::Continue => {
                    self.note(format!(
                        "judge at {percent} %: not yet ({}); holding another step-interval",
                        evaluation.reason
                    ));
                    let track = self.new_track();
                    self.watch_for(
                        track,
                        Duration::from_secs(u64::from(self.options.step_interval)),
                    )
                    .await
                    .map_err(|stop| match stop {
                        Stop::Timeout(_) => Stop::Timeout(format!(
                            "the canary analysis could not tell within the timeout: {}",
                            evaluation.reason
                        )),
                        other => other,
                    })?;
                }
            }
        }
    }

    async fn health(&mut self) -> Result<(), Stop> {
        let checks = self.options.health_checks.clone();
        for check in checks {
            let budget = Duration::from_millis(check.budget_ms);
            let timeout = (budget * 2).max(Duration::from_secs(2));
            let mut last = None;
            for attempt in 0..3 {
                if attempt > 0 {
                    self.pause(Duration::from_secs(1)).await?;
                }
                // The Service under test: the new version's until promotion, then the stable's.
                let track = if self.at < self.plan.promotion {
                    self.new_track()
                } else {
                    Track::Stable
                };
                let service = track.name(&self.options.release);
                let (shown, answer) = match check.proxy_path(&self.options.namespace, &service) {
                    Some(path) => (
                        format!(
                            "{} (through Service {service})",
                            gantry_core::markdown::redact_userinfo(&check.url)
                        ),
                        self.cluster
                            .get_raw(&path, timeout)
                            .await
                            .map_err(|error| error.to_string()),
                    ),
                    None => (
                        gantry_core::markdown::redact_userinfo(&check.url).into_owned(),
                        gantry_prometheus::probe(&check.url, timeout).await,
                    ),
                };
                let checked = match answer {
                    Ok((status, took)) => {
                        let millis = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
                        let problem = if status != check.status {
                            Some(format!("answered {status}, not {}", check.status))
                        } else if took > budget {
                            Some(format!("took {millis} ms, over its {} ms", check.budget_ms))
                        } else {
                            None
                        };
                        Checked {
                            url: shown,
                            status: Some(status),
                            millis,
                            passed: problem.is_none(),
                            problem,
                        }
                    }
                    Err(problem) => Checked {
                        url: shown,
                        status: None,
                        millis: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                        passed: false,
                        problem: Some(problem),
                    },
                };
                let passed = checked.passed;
                last = Some(checked);
                if passed {
                    break;
                }
            }
            let checked = last.expect("at least one attempt");
            let failed = (!checked.passed).then(|| {
                format!(
                    "health check {} {}",
                    checked.url,
                    checked.problem.clone().unwrap_or_default()
                )
            });
            self.outcome.checks.push(checked);
            if let Some(reason) = failed {
                return Err(Stop::Failed(reason));
            }
        }
        Ok(())
    }

    async fn remove(&mut self, track: Track) -> Result<(), Stop> {
        if track == Track::Baseline {
            let name = Track::Baseline.name(&self.options.release);
            self.cluster.delete::<KubeDeployment>(&name).await?;
            self.cluster.delete::<Service>(&name).await?;
            return Ok(());
        }
        let args = self
            .helm
            .args
            .uninstall(&track.name(&self.options.release), self.remaining().max(60));
        self.helm.run(&args).await
    }

    /// `helm rollback` of the stable release to `revision` — unless the upgrade failed before
    /// Helm wrote a revision (a chart that does not render, a kind the cluster lacks): then the
    /// release is still at `revision`, deployed, and a rollback would only add a revision that
    /// changes nothing.
    async fn rollback_stable(&mut self, revision: u32) -> Result<(), Stop> {
        let history = self.cluster.history(&self.options.release).await?;
        if let Some(head) = history.iter().max_by_key(|record| record.revision) {
            if head.revision == revision && head.status == release::Status::Deployed {
                self.note(format!(
                    "the stable release is still at revision {revision} (the upgrade wrote none): nothing to roll back"
                ));
                return Ok(());
            }
        }
        let args = self
            .helm
            .args
            .rollback(&self.options.release, revision, self.remaining());
        self.helm.run(&args).await
    }

    /// The failing pod's events and last log lines.
    async fn evidence(&self, failure: &Failure) -> Evidence {
        let events = self.cluster.events(&failure.pod).await.unwrap_or_default();
        let crashed = matches!(
            failure.cause,
            gantry_helm_deploy::failure::Cause::CrashLoopBackOff
                | gantry_helm_deploy::failure::Cause::OomKilled
                | gantry_helm_deploy::failure::Cause::Restarting
        );
        let mut logs = Vec::new();
        if crashed || failure.cause == gantry_helm_deploy::failure::Cause::NotReady {
            logs = match self
                .cluster
                .logs(&failure.pod, failure.container.as_deref(), crashed, 20)
                .await
            {
                Ok(lines) => lines,
                // A crashed container's previous log may be gone; the current one will do.
                Err(_) => self
                    .cluster
                    .logs(&failure.pod, failure.container.as_deref(), false, 20)
                    .await
                    .unwrap_or_default(),
            };
        }
        Evidence {
            pod: failure.pod.clone(),
            container: failure.container.clone(),
            cause: failure.cause.word().to_owned(),
            detail: failure.detail.clone(),
            events,
            logs,
        }
    }

    /// Undoes the plan from `stopped`, with the rollback's own budget; what could not be undone
    /// is said.
    async fn undo(&mut self, stopped: usize) -> bool {
        self.deadline = tokio::time::Instant::now()
            + Duration::from_secs(u64::from(self.options.rollback_timeout));
        // A second signal does not stop the undo.
        let (_keep, never) = watch::channel(false);
        self.cancelled = never;
        let mut clean = true;
        // Why the rest may not run: nothing is removed while a route may still send it traffic,
        // and traffic is not sent to a stable whose rollback did not finish.
        let mut blocked: Option<String> = None;
        for undo in plan::undo(&self.plan, stopped) {
            if let Some(why) = &blocked {
                if matches!(undo, Undo::Remove(_) | Undo::Route(_)) {
                    self.note(format!("not done: {undo} ({why})"));
                    self.outcome
                        .left
                        .push(format!("not undone: {undo} ({why})"));
                    continue;
                }
            }
            self.note(format!("undo: {undo}"));
            let result = match &undo {
                Undo::Route(routing) => self.route_back(routing).await,
                Undo::RollbackStable => match self.previous {
                    Some(revision) => self.rollback_stable(revision).await,
                    None => Err(Stop::Failed(
                        "no earlier revision to roll back to".to_owned(),
                    )),
                },
                Undo::Ready => self.ready(Track::Stable).await,
                Undo::Remove(track) => self.remove(*track).await,
            };
            if let Err(stop) = result {
                clean = false;
                let reason = stop.reason();
                self.note(format!("undo failed: {undo}: {reason}"));
                self.outcome
                    .left
                    .push(format!("not undone: {undo} ({reason})"));
                if matches!(stop, Stop::Cluster(_)) {
                    break;
                }
                match undo {
                    Undo::Route(_) => {
                        blocked = Some(
                            "the route back did not hold: it may still send traffic there"
                                .to_owned(),
                        );
                    }
                    Undo::RollbackStable | Undo::Ready => {
                        blocked =
                            Some("the stable release was not rolled back and ready".to_owned());
                    }
                    Undo::Remove(_) => {}
                }
            }
        }
        clean
    }

    /// What the deploy leaves: the release's head and the routing.
    async fn state_left(&mut self) {
        if let Ok(history) = self.cluster.history(&self.options.release).await {
            if let Some(head) = history.first() {
                self.outcome.revision =
                    Some(head.revision).filter(|_| head.status == release::Status::Deployed);
                self.outcome.left.push(format!(
                    "release {} is at revision {} ({})",
                    self.options.release,
                    head.revision,
                    head.status.word()
                ));
            } else {
                self.outcome
                    .left
                    .push(format!("release {} is not installed", self.options.release));
            }
        }
        if self.plan.strategy != Strategy::Rolling {
            let (traffic, release, tracks) = (
                self.plan.traffic,
                self.options.release.clone(),
                self.tracks(),
            );
            if let Ok(object) = self.cluster.route(traffic, &release).await {
                if let Ok(routing) =
                    routing::read(&object, traffic, &release, &self.options.namespace, tracks)
                {
                    self.outcome.left.push(format!("traffic: {routing}"));
                }
            }
        }
    }
}

/// The plan alone (`plan-only`): what the deploy would do to a release that exists.
fn plan_only(options: &Options) -> Result<Report, ActionFailure> {
    let plan = plan::plan(
        options.strategy,
        options.traffic,
        &options.canary_steps,
        false,
    )
    .map_err(|error| ActionFailure::InvalidInput(error.to_string()))?;
    Ok(report::plan(
        &options.release,
        &options.namespace,
        &plan,
        &options.health_checks,
    ))
}

fn values_exist(invocation: &Invocation, options: &Options) -> Result<(), ActionFailure> {
    for file in &options.chart.values {
        if !invocation.resolve(file).is_file() {
            return Err(ActionFailure::InvalidInput(format!(
                "values: {file}: no such file"
            )));
        }
    }
    let chart = &options.chart.reference;
    let local =
        chart.starts_with('.') || chart.starts_with('/') || invocation.resolve(chart).exists();
    if local
        && !chart.starts_with("oci://")
        && !invocation.resolve(chart).join("Chart.yaml").is_file()
        && !invocation.resolve(chart).is_file()
    {
        return Err(ActionFailure::InvalidInput(format!(
            "chart: {chart}: no Chart.yaml there (a chart folder, a .tgz, repo/name or oci://…)"
        )));
    }
    Ok(())
}

/// Runs the action.
pub fn run_action(invocation: &Invocation) -> Result<Report, ActionFailure> {
    let options = Options::from_inputs(&invocation.inputs)?;
    values_exist(invocation, &options)?;
    if invocation.inputs.boolean("plan-only", false)? {
        return plan_only(&options);
    }
    let mut analysis_config = options.analysis.clone();
    if let Some(analysis) = analysis_config.as_mut() {
        if let Some(path) = &analysis.metrics_file {
            let bytes = invocation.read(path)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| ActionFailure::InvalidInput(format!("{path}: is not UTF-8 text")))?;
            analysis.config.metrics = custom::read(&text)
                .map_err(|error| ActionFailure::InvalidInput(format!("{path}: {error}")))?;
        }
    }
    let analysis = match analysis_config {
        Some(analysis) => Some(Analysis {
            judge: Judge::new(analysis.config)
                .map_err(|error| ActionFailure::InvalidInput(error.to_string()))?,
            prometheus: crate::actions::canary_verify::client(invocation)?,
        }),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| ActionFailure::Service(format!("cannot start: {error}")))?;
    runtime.block_on(deploy(invocation, &options, analysis))
}

async fn deploy(
    invocation: &Invocation,
    options: &Options,
    analysis: Option<Analysis>,
) -> Result<Report, ActionFailure> {
    let helm = HelmCli {
        program: options.helm_command.clone(),
        workspace: invocation.workspace.clone(),
        args: Helm {
            namespace: options.namespace.clone(),
            kube_context: options.kube_context.clone(),
        },
        secrets: given_secrets(invocation, options),
    };
    let version = helm.check().await?;
    tracing::info!(%version, "helm");
    let cluster = Cluster::connect(options.kube_context.as_deref(), &options.namespace)
        .await
        .map_err(|error| ActionFailure::InvalidInput(error.to_string()))?;
    let started = Instant::now();
    let (cancel, cancelled) = watch::channel(false);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for kind in [SignalKind::terminate(), SignalKind::interrupt()] {
            let cancel = cancel.clone();
            if let Ok(mut stream) = signal(kind) {
                tokio::spawn(async move {
                    stream.recv().await;
                    tracing::warn!("cancelled: undoing the deploy before exiting");
                    let _ = cancel.send(true);
                });
            }
        }
    }
    let service = |error: KubeError| {
        if error.unreachable() {
            ActionFailure::Service(format!("{error} (nothing was changed)"))
        } else {
            ActionFailure::InvalidInput(error.to_string())
        }
    };
    let history = cluster.history(&options.release).await.map_err(service)?;
    let mut outcome = Outcome {
        release: options.release.clone(),
        namespace: options.namespace.clone(),
        secrets: helm.secrets.clone(),
        ..Outcome::default()
    };
    let deploy_helm = helm;
    let head = release::head(&history);
    let deployed = match &head {
        Head::New => None,
        Head::Ready { deployed, .. } => deployed.clone(),
        Head::Pending { head, deployed } if !options.recover_pending => {
            let advice = match deployed {
                Some(deployed) => format!(
                    "set recover-pending: rollback to return it to revision {} (its last deployed) first, or run `helm rollback {} {} -n {}`",
                    deployed.revision, options.release, deployed.revision, options.namespace
                ),
                None => format!(
                    "it was never deployed: `helm uninstall {} -n {}` clears it",
                    options.release, options.namespace
                ),
            };
            outcome.failure = Some(format!(
                "release {} is {} at revision {} (a helm that was stopped half-way); nothing was changed: {advice}",
                options.release,
                head.status.word(),
                head.revision
            ));
            outcome.decision = Some(Decision::Failed);
            outcome.previous_revision = deployed.as_ref().map(|d| d.revision);
            return Ok(report::report(&outcome, None));
        }
        Head::Pending { head, deployed } => {
            let Some(deployed) = deployed.clone() else {
                return Ok(report::report(
                    &Outcome {
                        failure: Some(format!(
                            "release {} is {} and has no deployed revision to recover to; `helm uninstall` it",
                            options.release,
                            head.status.word()
                        )),
                        decision: Some(Decision::Failed),
                        ..outcome
                    },
                    None,
                ));
            };
            outcome.timeline.push((
                started.elapsed().as_secs_f64(),
                format!(
                    "release was {} at revision {}: rolling back to revision {} first",
                    head.status.word(),
                    head.revision,
                    deployed.revision
                ),
            ));
            let args = deploy_helm.args.rollback(
                &options.release,
                deployed.revision,
                u64::from(options.rollback_timeout),
            );
            if let Err(stop) = deploy_helm.run(&args).await {
                outcome.failure =
                    Some(format!("recovering the pending release: {}", stop.reason()));
                outcome.decision = Some(Decision::Failed);
                return Ok(report::report(&outcome, None));
            }
            Some(deployed)
        }
    };
    let previous = deployed.as_ref().map(|d| d.revision);
    outcome.previous_revision = previous;
    let plan = plan::plan(
        options.strategy,
        options.traffic,
        &options.canary_steps,
        previous.is_none(),
    )
    .map_err(|error| ActionFailure::InvalidInput(error.to_string()))?;
    if plan.strategy != Strategy::Rolling {
        let object = cluster
            .route(plan.traffic, &options.release)
            .await
            .map_err(|error| match error {
                KubeError::Refused { code: 404, .. } => ActionFailure::InvalidInput(format!(
                    "{} {:?} is not in namespace {}: the chart must render it for {} (see the reference chart)",
                    routing::kind(plan.traffic),
                    options.release,
                    options.namespace,
                    plan.strategy.word()
                )),
                other => service(other),
            })?;
        routing::check(
            &object,
            plan.traffic,
            &options.release,
            &options.namespace,
            plan::tracks(plan.strategy),
        )
        .map_err(|error| ActionFailure::InvalidInput(error.to_string()))?;
    }
    outcome.plan = Some(plan.clone());
    let github = match &options.environment {
        Some(environment) => {
            GitHub::connect(invocation, environment, options.production_environment)?
        }
        None => None,
    };
    let deployment = match &github {
        Some(github) => Some(
            github
                .start(
                    invocation,
                    &format!(
                        "{} {} of {}",
                        SPEC.name,
                        plan.strategy.word(),
                        options.release
                    ),
                    options.environment_url.as_ref(),
                )
                .await?,
        ),
        None => None,
    };
    let mut deploy = Deploy {
        options,
        plan,
        cluster,
        helm: deploy_helm,
        analysis,
        outcome,
        started,
        deadline: tokio::time::Instant::now() + Duration::from_secs(u64::from(options.timeout)),
        previous,
        cancelled,
        grace: options.grace,
        requests: 0,
        at: 0,
        github: github.as_ref().zip(deployment.as_ref().map(|d| d.id)),
    };
    let result = Box::pin(deploy.run()).await;
    let mut unreachable = None;
    match result {
        Ok(()) => {
            deploy.outcome.decision = Some(if deploy.plan.strategy == Strategy::Rolling {
                Decision::Deployed
            } else {
                Decision::Promoted
            });
            if let Ok(history) = deploy.cluster.history(&options.release).await {
                deploy.outcome.revision = history.first().map(|r| r.revision);
            }
        }
        Err((Some(stopped), stop)) if plan::cleanup_after_promotion(&deploy.plan, stopped) => {
            // The new version is promoted, judged and serving: a cleanup that fails now is
            // reported and left, never a reason to roll it back. The other removals are tried.
            let reason = stop.reason();
            deploy.note(format!("cleanup failed after the promotion: {reason}"));
            let failed = deploy.plan.steps[stopped].to_string();
            deploy
                .outcome
                .left
                .push(format!("not done: {failed} ({reason})"));
            let rest: Vec<Track> = deploy.plan.steps[stopped + 1..]
                .iter()
                .filter_map(|step| match step {
                    Step::Remove(track) => Some(*track),
                    _ => None,
                })
                .collect();
            for track in rest {
                if let Err(stop) = deploy.remove(track).await {
                    deploy.outcome.left.push(format!(
                        "not done: remove {} ({})",
                        track.word(),
                        stop.reason()
                    ));
                }
            }
            deploy.outcome.failure = Some(format!(
                "promoted, but the cleanup did not finish: {reason}"
            ));
            deploy.state_left().await;
            deploy.outcome.decision = Some(Decision::Promoted);
        }
        Err((stopped, stop)) => {
            deploy.note(format!("stopped: {}", stop.reason()));
            if let Stop::Pod(failure) = &stop {
                deploy.outcome.evidence = Some(deploy.evidence(failure).await);
            }
            deploy.outcome.failure = Some(stop.reason());
            if let Stop::Helm { output, .. } = &stop {
                deploy.outcome.helm_output = Some(output.clone());
            }
            if let Stop::Cluster(error) = &stop {
                unreachable = Some(error.to_string());
            }
            let clean = match stopped {
                Some(stopped) => deploy.undo(stopped).await,
                None => false,
            };
            deploy.state_left().await;
            deploy.outcome.decision = Some(if clean && deploy.previous.is_some() {
                Decision::RolledBack
            } else {
                Decision::Failed
            });
        }
    }
    let report = report::report(&deploy.outcome, deployment.as_ref());
    if let Some(error) = unreachable {
        if let (Some(github), Some(deployment)) = (&github, &deployment) {
            let _ = github
                .status(
                    deployment.id,
                    "error",
                    &format!("the cluster could not be reached: {error}"),
                    None,
                )
                .await;
        }
        return Err(ActionFailure::Service(format!(
            "{error}; state left: {}",
            deploy.outcome.left.join("; ")
        )));
    }
    Ok(report)
}

/// Every value this deploy was given as a secret: the secret inputs (the token, Prometheus's
/// credentials) and the `set` values whose key names one. Masked wherever a log or an event
/// shows them.
fn given_secrets(invocation: &Invocation, options: &Options) -> Vec<String> {
    let mut secrets: Vec<String> = gantry_helm_deploy::options::SPEC
        .inputs
        .iter()
        .filter(|input| input.kind == gantry_core::action::InputKind::Secret)
        .filter_map(|input| invocation.inputs.optional(input.name))
        .collect();
    secrets.extend(gantry_helm_deploy::mask::secret_set_values(
        &options.chart.set,
    ));
    secrets
}
