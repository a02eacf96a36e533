//! `gantry helm-deploy`: the edge that pumps `gantry-helm-deploy`'s deployer. The deployer
//! decides every step and every undo; this carries out its intents — `helm` for the releases,
//! the cluster (through `gantry-kube`) for histories, follows, routing and the baseline,
//! Prometheus for the canary judge, HTTP for the health checks, GitHub for the deployment — and
//! gives it what each observed, with the time, and the job's cancel.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gantry_canary_verify::custom;
use gantry_canary_verify::judge::{self, Judge};
use gantry_core::report::Report;
use gantry_github::clock::SystemClock;
use gantry_github::rest::{Endpoint, RestClient};
use gantry_github::retry::RetryPolicy;
use gantry_github::{GitHubError, GitHubSink, NewDeployment};
use gantry_helm_deploy::applied::WorkloadKind;
use gantry_helm_deploy::deployer::{
    ClusterError, Config, Deployer, Fetched, Finished, HelmExit, Intent, Kind, Millis, Object,
    Probe, Scope, Snapshot,
};
use gantry_helm_deploy::helm;
use gantry_helm_deploy::options::{Options, SPEC};
use gantry_helm_deploy::report::{self, Deployment};
use gantry_kube::{Cluster, Error as KubeError, Follow};
use k8s_openapi::api::apps::v1::{
    DaemonSet, Deployment as KubeDeployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use tokio::sync::watch;

use crate::invocation::{ActionFailure, Invocation};

/// The `helm` to run, where, with which environment.
struct HelmCli {
    program: String,
    workspace: PathBuf,
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
                helm::last_line(&String::from_utf8_lossy(&output.stderr))
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}

/// Where the GitHub deployment goes: GitHub through `gantry-github` (created once per run,
/// superseded ones found in a bounded number of calls), or the local sink under `--dry-run`.
enum GitHubSide {
    Remote(Box<(RestClient, gantry_github::Target)>),
    Local(gantry_github::LocalSink),
}

/// The deployment to make, and where.
struct GitHub {
    side: GitHubSide,
    new: NewDeployment,
}

impl GitHub {
    fn connect(
        invocation: &Invocation,
        environment: &str,
        production: Option<bool>,
    ) -> Result<Option<Self>, ActionFailure> {
        let context = &invocation.context;
        let log_url = context
            .run_id
            .as_ref()
            .zip(context.repository.as_ref())
            .map(|(run, repo)| {
                format!(
                    "{}/{repo}/actions/runs/{run}",
                    context.server_url.trim_end_matches('/')
                )
            });
        let new = NewDeployment {
            environment: environment.to_owned(),
            git_ref: context
                .sha
                .clone()
                .or_else(|| context.git_ref.clone())
                .unwrap_or_else(|| "HEAD".to_owned()),
            description: String::new(),
            production,
            log_url,
            key: format!(
                "{}/{}/{}/{}",
                crate::publishing::run_key(context),
                context.job.as_deref().unwrap_or("job"),
                invocation.inputs.optional("namespace").unwrap_or_default(),
                invocation.inputs.optional("release").unwrap_or_default()
            ),
        };
        if invocation.dry_run {
            let sink = gantry_github::LocalSink::new(invocation.out_dir.clone());
            return Ok(Some(Self {
                side: GitHubSide::Local(sink),
                new,
            }));
        }
        let Some(token) = invocation.inputs.optional("github-token") else {
            return Ok(None);
        };
        let Some((owner, repository)) = context.owner_and_name() else {
            return Ok(None);
        };
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
        let target = gantry_github::Target {
            owner: owner.to_owned(),
            repository: repository.to_owned(),
            pull_request: None,
            head_sha: context.sha.clone(),
            sha: context.sha.clone(),
            git_ref: context.git_ref.clone(),
            run_key: format!(
                "{}-{}",
                context.run_id.as_deref().unwrap_or("local"),
                context.run_attempt.as_deref().unwrap_or("1")
            ),
        };
        Ok(Some(Self {
            side: GitHubSide::Remote(Box::new((client, target))),
            new,
        }))
    }

    /// Creates the deployment (once for this run) in progress.
    async fn start(
        &self,
        description: &str,
        environment_url: Option<&String>,
    ) -> Result<Deployment, GitHubError> {
        let new = NewDeployment {
            description: description.to_owned(),
            ..self.new.clone()
        };
        let started = match &self.side {
            GitHubSide::Remote(remote) => {
                GitHubSink::new(&remote.0, remote.1.clone())
                    .start_deployment(&new)
                    .await?
            }
            GitHubSide::Local(sink) => sink.start_deployment(SPEC.name, &new)?,
        };
        Ok(Deployment {
            id: started.id,
            environment_url: environment_url.cloned(),
            log_url: self.new.log_url.clone(),
            superseded: started.superseded,
        })
    }

    /// A status of a deployment underway (`in_progress`, or `error`); nothing locally: the
    /// local sink writes the final statuses, which are the report's.
    async fn status(&self, id: u64, state: &str, description: &str) -> Result<(), GitHubError> {
        match &self.side {
            GitHubSide::Remote(remote) => {
                GitHubSink::new(&remote.0, remote.1.clone())
                    .deployment_state(id, state, description, self.new.log_url.as_deref())
                    .await
            }
            GitHubSide::Local(_) => Ok(()),
        }
    }
}

/// A track's workloads and pods, followed by list + watch.
struct Watched {
    deployments: Vec<Follow<KubeDeployment>>,
    sets: Vec<Follow<ReplicaSet>>,
    pods: Vec<Follow<Pod>>,
    stateful: Vec<Follow<StatefulSet>>,
    daemons: Vec<Follow<DaemonSet>>,
    /// Kinds listed once and found empty (a label selects none): counted as requests.
    empty_lists: u64,
}

impl Watched {
    async fn start(cluster: &Cluster, scope: &Scope) -> Result<Self, KubeError> {
        let mut watched = Self {
            deployments: Vec::new(),
            sets: Vec::new(),
            pods: Vec::new(),
            stateful: Vec::new(),
            daemons: Vec::new(),
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
                        // A hook Job: its pods, by the Job controller's label.
                        WorkloadKind::Job => {}
                    }
                    watched
                        .pods
                        .push(Follow::start(cluster, &workload.selector).await?);
                }
            }
        }
        Ok(watched)
    }

    async fn changed(&mut self) -> Result<(), KubeError> {
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

    /// The objects as they are now.
    fn snapshot(&self) -> Snapshot {
        fn all<K: gantry_kube::Object>(follows: &[Follow<K>]) -> Vec<K> {
            follows.iter().flat_map(Follow::objects).cloned().collect()
        }
        Snapshot {
            deployments: all(&self.deployments),
            replica_sets: all(&self.sets),
            stateful_sets: all(&self.stateful),
            daemon_sets: all(&self.daemons),
            pods: all(&self.pods),
        }
    }
}

/// The plan alone (`plan-only`): what the deploy would do to a release that exists.
fn plan_only(options: &Options) -> Result<Report, ActionFailure> {
    let plan = options
        .plan(false)
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
    let (judge, prometheus) = match analysis_config {
        Some(analysis) => (
            Some(
                Judge::new(analysis.config)
                    .map_err(|error| ActionFailure::InvalidInput(error.to_string()))?,
            ),
            Some(crate::actions::canary_verify::client_options(invocation)?),
        ),
        None => (None, None),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| ActionFailure::Service(format!("cannot start: {error}")))?;
    runtime.block_on(deploy(invocation, &options, judge, prometheus))
}

/// helm, started and not yet exited.
struct Running {
    pid: Option<u32>,
    exit: std::pin::Pin<Box<dyn std::future::Future<Output = HelmExit>>>,
}

/// The edge of one deploy: carries out the deployer's intents.
struct Edge<'a> {
    options: &'a Options,
    helm: HelmCli,
    cluster: Cluster,
    prometheus: Option<gantry_prometheus::Client>,
    github: Option<GitHub>,
    deployment: Option<Deployment>,
    running: Option<Running>,
    watched: Option<Watched>,
    /// API requests made following workloads and pods.
    requests: u64,
}

fn unix_millis() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(cluster_error)`
fn cluster_error(error: KubeError) -> ClusterError {
    ClusterError {
        unreachable: error.unreachable(),
        not_found: matches!(error, KubeError::Refused { code: 404, .. }),
        message: error.to_string(),
    }
}

impl Edge<'_> {
    /// Starts helm in its own process group: a signal meant for the job reaches Gantry, which
    /// stops helm itself (SIGTERM, so that Helm marks the release failed) when it must.
    /// helm with `args` in the workspace, its output captured; the line logged, secrets masked.
    fn helm_command(&self, args: &[String]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.helm.program);
        command
            .args(args)
            .current_dir(&self.helm.workspace)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let line = format!("{} {}", self.helm.program, args.join(" "));
        tracing::info!(command = %gantry_helm_deploy::mask::mask(&line, &self.helm.secrets), "helm");
        command
    }

    fn start_helm(&mut self, args: &[String]) {
        let mut command = self.helm_command(args);
        #[cfg(unix)]
        command.process_group(0);
        self.running = Some(match command.spawn() {
            Ok(child) => Running {
                pid: child.id(),
                exit: Box::pin(async move {
                    match child.wait_with_output().await {
                        Ok(output) if output.status.success() => HelmExit::Success,
                        Ok(output) => {
                            HelmExit::Failed(String::from_utf8_lossy(&output.stderr).into_owned())
                        }
                        Err(error) => HelmExit::CannotRun(error.to_string()),
                    }
                }),
            },
            Err(error) => Running {
                pid: None,
                exit: Box::pin(std::future::ready(HelmExit::CannotRun(error.to_string()))),
            },
        });
    }

    /// `helm template`: run to its end (at most `timeout`), its standard output kept (at most
    /// 64 MiB: a rendered chart, not an endless stream).
    async fn render(&self, args: &[String], timeout: Duration) -> Result<String, String> {
        const LIMIT: usize = 64 << 20;
        let mut command = self.helm_command(args);
        command.kill_on_drop(true);
        let child = command
            .spawn()
            .map_err(|error| format!("cannot run: {error}"))?;
        let output = tokio::time::timeout(timeout, child.wait_with_output())
            .await
            .map_err(|_| format!("no result within {} s", timeout.as_secs()))?
            .map_err(|error| format!("cannot run: {error}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        if output.stdout.len() > LIMIT {
            return Err(format!("it wrote more than {LIMIT} bytes"));
        }
        String::from_utf8(output.stdout).map_err(|_| "it wrote output that is not UTF-8".to_owned())
    }

    /// SIGTERM to the running helm (never SIGKILL: a killed helm leaves its release pending).
    async fn stop_helm(&self) {
        let Some(pid) = self.running.as_ref().and_then(|running| running.pid) else {
            return;
        };
        let sent = tokio::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
        if !sent.is_ok_and(|status| status.success()) {
            tracing::warn!(
                pid,
                "helm could not be sent SIGTERM; waiting for it to finish"
            );
        }
    }

    async fn follow(&mut self, scope: &Scope) -> Result<Snapshot, ClusterError> {
        self.unfollow();
        let watched = Watched::start(&self.cluster, scope)
            .await
            .map_err(cluster_error)?;
        let snapshot = watched.snapshot();
        self.watched = Some(watched);
        Ok(snapshot)
    }

    fn unfollow(&mut self) {
        if let Some(watched) = self.watched.take() {
            self.requests += watched.requests();
        }
    }

    async fn get(&self, kind: Kind, name: &str) -> Result<Fetched, KubeError> {
        Ok(match kind {
            Kind::Deployment => Fetched::Deployment(self.cluster.get(name).await?.map(Box::new)),
            Kind::Service => Fetched::Service(self.cluster.get(name).await?.map(Box::new)),
            Kind::Route(_) => {
                return Err(KubeError::Contract(
                    "a route is read with ReadRoute, not Get".to_owned(),
                ));
            }
        })
    }

    /// The ready endpoints of a Service's `EndpointSlices` (`ready` unset counts, as the API
    /// says; terminating ones do not).
    async fn ready_endpoints(&self, service: &str) -> Result<u32, KubeError> {
        let slices: Vec<EndpointSlice> = self
            .cluster
            .list(&format!("kubernetes.io/service-name={service}"))
            .await?;
        let ready = slices
            .iter()
            .flat_map(|slice| &slice.endpoints)
            .filter(|endpoint| {
                let conditions = endpoint.conditions.as_ref();
                conditions.and_then(|c| c.ready).unwrap_or(true)
                    && !conditions.and_then(|c| c.terminating).unwrap_or(false)
            })
            .count();
        Ok(u32::try_from(ready).unwrap_or(u32::MAX))
    }

    /// The pods `selector` selects that are Ready and not being deleted.
    async fn ready_pods(&self, selector: &str) -> Result<u32, KubeError> {
        let pods: Vec<Pod> = self.cluster.list(selector).await?;
        let ready = pods
            .iter()
            .filter(|pod| pod.metadata.deletion_timestamp.is_none())
            .filter(|pod| gantry_helm_deploy::readiness::pod_ready(pod))
            .count();
        Ok(u32::try_from(ready).unwrap_or(u32::MAX))
    }

    async fn probe(&self, probe: &Probe) -> Result<(u16, u64), String> {
        let timeout = Duration::from_millis(probe.timeout_ms);
        let answer = match &probe.through {
            Some(path) => self
                .cluster
                .get_raw(path, timeout)
                .await
                .map_err(|error| error.to_string()),
            None => gantry_prometheus::probe(&probe.url, timeout).await,
        };
        answer.map(|(status, took)| (status, u64::try_from(took.as_millis()).unwrap_or(u64::MAX)))
    }

    async fn query(&self, query: &judge::Query) -> Result<judge::Answer, String> {
        let Some(prometheus) = &self.prometheus else {
            return Err("no Prometheus to ask".to_owned());
        };
        let answer = prometheus
            .query_range(&query.promql, query.start, query.end, query.step)
            .await
            .map_err(|error| error.to_string())?;
        Ok(judge::Answer {
            series: answer.series.into_iter().map(|s| s.samples).collect(),
            warnings: answer.warnings,
        })
    }

    async fn start_deployment(&mut self, description: &str) -> Result<(), String> {
        let Some(github) = &self.github else {
            return Err("no GitHub to create the deployment with".to_owned());
        };
        let deployment = github
            .start(description, self.options.environment_url.as_ref())
            .await
            .map_err(|error| format!("GitHub: {error}"))?;
        self.deployment = Some(deployment);
        Ok(())
    }

    async fn progress(&self, description: &str) {
        if let (Some(github), Some(deployment)) = (&self.github, &self.deployment) {
            if let Err(error) = github
                .status(deployment.id, "in_progress", description)
                .await
            {
                tracing::warn!(%error, "the deployment's progress could not be posted");
            }
        }
    }

    /// Waits until `until` for helm's exit, a followed object's change or a cancel.
    async fn wait(
        &mut self,
        deployer: &mut Deployer,
        until: Millis,
        cancelled: &mut watch::Receiver<bool>,
        cancel_told: &mut bool,
    ) {
        let left = Duration::from_millis(until.saturating_sub(unix_millis()));
        let sleep = tokio::time::sleep(left);
        let cancel_wanted = !*cancel_told;
        tokio::select! {
            exit = helm_exit(&mut self.running) => {
                self.running = None;
                deployer.handle_helm(unix_millis(), exit);
            }
            changed = changed(&mut self.watched) => {
                let observed = match changed {
                    Ok(()) => Ok(self.watched.as_ref().map(Watched::snapshot).unwrap_or_default()),
                    Err(error) => Err(cluster_error(error)),
                };
                deployer.handle_observed(unix_millis(), observed);
            }
            () = sleep => deployer.handle_timer(unix_millis()),
            _ = cancelled.wait_for(|c| *c), if cancel_wanted => {
                *cancel_told = true;
                deployer.handle_cancel(unix_millis());
            }
        }
    }
}

async fn helm_exit(running: &mut Option<Running>) -> HelmExit {
    match running {
        Some(running) => running.exit.as_mut().await,
        None => std::future::pending().await,
    }
}

async fn changed(watched: &mut Option<Watched>) -> Result<(), KubeError> {
    match watched {
        Some(watched) => watched.changed().await,
        None => std::future::pending().await,
    }
}

/// Carries out the deployer's intents until it finishes.
async fn pump(
    edge: &mut Edge<'_>,
    deployer: &mut Deployer,
    mut cancelled: watch::Receiver<bool>,
) -> Finished {
    let mut cancel_told = false;
    loop {
        let intent = deployer.poll_intent();
        match intent {
            Intent::Finish => {
                edge.unfollow();
                return deployer
                    .finished()
                    .expect("a finished deployer has its result");
            }
            Intent::Helm(args) => edge.start_helm(&args),
            Intent::StopHelm => edge.stop_helm().await,
            Intent::History(name) => {
                let history = edge.cluster.history(&name).await.map_err(cluster_error);
                deployer.handle_history(unix_millis(), history);
            }
            Intent::Follow(scope) => {
                let observed = edge.follow(&scope).await;
                deployer.handle_observed(unix_millis(), observed);
            }
            Intent::Unfollow => edge.unfollow(),
            Intent::Get(kind, name) => {
                let object = edge.get(kind, &name).await.map_err(cluster_error);
                deployer.handle_object(unix_millis(), object);
            }
            Intent::Put(object) => {
                let done = match object {
                    Object::Deployment(deployment) => edge.cluster.put(&*deployment).await,
                    Object::Service(service) => edge.cluster.put(&*service).await,
                    Object::Route(traffic, route) => edge.cluster.put_route(traffic, &route).await,
                };
                deployer.handle_done(unix_millis(), done.map_err(cluster_error));
            }
            Intent::Delete(kind, name) => {
                let done = match kind {
                    Kind::Deployment => edge.cluster.delete::<KubeDeployment>(&name).await,
                    Kind::Service => edge.cluster.delete::<Service>(&name).await,
                    Kind::Route(traffic) => edge.cluster.delete_route(traffic, &name).await,
                };
                deployer.handle_done(unix_millis(), done.map_err(cluster_error));
            }
            Intent::ReplacePod(name) => {
                let done = edge.cluster.delete::<Pod>(&name).await;
                deployer.handle_done(unix_millis(), done.map_err(cluster_error));
            }
            Intent::ReadRoute(route) => {
                let route = edge.cluster.route(route.traffic, &route.object).await;
                deployer.handle_route(unix_millis(), route.map_err(cluster_error));
            }
            Intent::ListRoutes(traffic) => {
                let routes = edge.cluster.routes(traffic).await;
                deployer.handle_routes(unix_millis(), routes.map_err(cluster_error));
            }
            Intent::Render(args) => {
                let timeout = Duration::from_secs(u64::from(edge.options.timeout));
                let rendered = edge.render(&args, timeout).await;
                deployer.handle_rendered(unix_millis(), rendered);
            }
            Intent::WriteRoute {
                route,
                tracks,
                routing,
            } => {
                let done = edge.cluster.write_routing(&route, tracks, &routing).await;
                deployer.handle_done(unix_millis(), done.map_err(cluster_error));
            }
            Intent::Endpoints(service) => {
                let count = edge.ready_endpoints(&service).await;
                deployer.handle_count(unix_millis(), count.map_err(cluster_error));
            }
            Intent::ReadyPods(selector) => {
                let count = edge.ready_pods(&selector).await;
                deployer.handle_count(unix_millis(), count.map_err(cluster_error));
            }
            Intent::Query(query) => {
                let answer = edge.query(&query).await;
                deployer.handle_answer(unix_millis(), answer);
            }
            Intent::Probe(probe) => {
                let answer = edge.probe(&probe).await;
                deployer.handle_probe(unix_millis(), answer);
            }
            Intent::Events(pod) => {
                let lines = edge.cluster.events(&pod).await.map_err(cluster_error);
                deployer.handle_lines(unix_millis(), lines);
            }
            Intent::Logs {
                pod,
                container,
                previous,
                lines,
            } => {
                let lines = edge
                    .cluster
                    .logs(&pod, container.as_deref(), previous, i64::from(lines))
                    .await
                    .map_err(cluster_error);
                deployer.handle_lines(unix_millis(), lines);
            }
            Intent::StartDeployment(description) => {
                let created = edge.start_deployment(&description).await;
                deployer.handle_github(unix_millis(), created);
            }
            Intent::Progress(description) => edge.progress(&description).await,
            Intent::Wait(until) => {
                edge.wait(deployer, until, &mut cancelled, &mut cancel_told)
                    .await;
            }
        }
    }
}

/// Signals (SIGINT, SIGTERM) as a flag: the deploy is undone before exiting.
fn cancellation() -> watch::Receiver<bool> {
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
    #[cfg(not(unix))]
    drop(cancel);
    cancelled
}

async fn deploy(
    invocation: &Invocation,
    options: &Options,
    judge: Option<Judge>,
    prometheus: Option<gantry_prometheus::Options>,
) -> Result<Report, ActionFailure> {
    let helm = HelmCli {
        program: options.helm_command.clone(),
        workspace: invocation.workspace.clone(),
        secrets: given_secrets(invocation, options),
    };
    let version = helm.check().await?;
    tracing::info!(%version, "helm");
    let cluster = Cluster::connect(options.kube_context.as_deref(), &options.namespace)
        .await
        .map_err(|error| ActionFailure::InvalidInput(error.to_string()))?;
    let prometheus = prometheus
        .map(|options| super::canary_verify::prometheus_client(Some(&cluster), options))
        .transpose()?;
    let cancelled = cancellation();
    let github = match &options.environment {
        Some(environment) => {
            GitHub::connect(invocation, environment, options.production_environment)?
        }
        None => None,
    };
    let config = Config {
        options: options.clone(),
        judge,
        secrets: helm.secrets.clone(),
        deployment: github.is_some(),
        helm_version: version.clone(),
    };
    let mut deployer = Deployer::new(config, unix_millis());
    let mut edge = Edge {
        options,
        helm,
        cluster,
        prometheus,
        github,
        deployment: None,
        running: None,
        watched: None,
        requests: 0,
    };
    let finished = Box::pin(pump(&mut edge, &mut deployer, cancelled)).await;
    tracing::info!(
        requests = edge.requests,
        "API requests following workloads and pods"
    );
    match finished {
        Finished::Refused(message) => Err(ActionFailure::InvalidInput(message)),
        Finished::Unreachable(message) | Finished::GitHub(message) => {
            Err(ActionFailure::Service(message))
        }
        Finished::Ran {
            outcome,
            unreachable,
        } => {
            let report = report::report(&outcome, edge.deployment.as_ref());
            let Some(error) = unreachable else {
                return Ok(report);
            };
            if let (Some(github), Some(deployment)) = (&edge.github, &edge.deployment) {
                let _ = github
                    .status(
                        deployment.id,
                        "error",
                        &format!("the cluster could not be reached: {error}"),
                    )
                    .await;
            }
            Err(ActionFailure::Service(format!(
                "{error}; state left: {}",
                outcome.left.join("; ")
            )))
        }
    }
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
