//! The deploy as one procedure: preflight, the plan's steps, the undo, the state left. Each
//! `self.io.ask` suspends it until the edge answers.

use std::collections::{BTreeMap, BTreeSet};

use gantry_canary_verify::judge::{Decision as Judged, Judge};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PodTemplateSpec, Service};

use super::{
    Answer, ClusterError, Fetched, Finished, HelmExit, Intent, Io, Kind, Millis, Object, Probe,
    Scope, Snapshot,
};
use crate::applied::{self, Workload};
use crate::failure::{Cause, Failure, Watcher};
use crate::helm::{self, Helm};
use crate::options::Options;
use crate::plan::{self, Plan, Routing, Step, Strategy, Track, Undo};
use crate::release::{self, Head, Release};
use crate::report::{Checked, Decision, Evidence, Look, Outcome};
use crate::routing::Route;
use crate::{baseline, copy, routing};

/// How often a release's history is read while helm runs, until its new revision appears.
const LOOK_FOR_REVISION_MS: Millis = 1_000;
/// How long a routing written may take to hold.
const HOLD_MS: Millis = 30_000;
/// Between reads of a routing being held.
const HOLD_READ_MS: Millis = 250;
/// Reads in a row that must show the routing written.
const HOLD_READS: u32 = 2;

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
    Cluster(String),
}

impl From<ClusterError> for Stop {
    fn from(error: ClusterError) -> Self {
        if error.unreachable {
            Self::Cluster(error.message)
        } else {
            Self::Failed(error.message)
        }
    }
}

impl Stop {
    fn reason(&self) -> String {
        match self {
            Self::Failed(reason)
            | Self::Timeout(reason)
            | Self::Helm { reason, .. }
            | Self::Cluster(reason) => reason.clone(),
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
        }
    }
}

/// The tracks as copies of a chart's own workload (no chart contract).
#[derive(Debug, Clone)]
struct Copies {
    /// The chart's Deployment as Helm renders it with the new values.
    deployment: Deployment,
    /// The chart's Service that selects its pods, as rendered.
    service: Service,
    /// The live stable Deployment's name.
    workload: String,
    /// The route is one Gantry made (removed with the new track).
    made_route: bool,
    /// The copies' workloads, by track, once made.
    made: Vec<(Track, Workload)>,
    /// The live stable's pod template before promotion wrote the new one onto it (what an undo
    /// puts back when Helm wrote no revision).
    stable_before: Option<Box<PodTemplateSpec>>,
}

/// Whether a helm run follows the new revision's pods while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// An upgrade: the new pods are watched from the start, and a failing one stops helm.
    NewPods,
    /// A rollback or an uninstall: run to the end.
    Nothing,
}

pub(super) struct Run {
    io: Io,
    options: Options,
    judge: Option<Judge>,
    deployment: bool,
    helm: Helm,
    plan: Plan,
    outcome: Outcome,
    started: Millis,
    deadline: Millis,
    previous: Option<u32>,
    /// The step running.
    at: usize,
    /// Undoing: a cancel no longer stops anything.
    undoing: bool,
    /// What traffic is steered with.
    route: Route,
    /// The tracks as copies (no chart contract), once found.
    copies: Option<Copies>,
}

fn seconds(millis: Millis) -> i64 {
    i64::try_from(millis / 1000).unwrap_or(i64::MAX)
}

impl Run {
    pub(super) fn new(config: super::Config, io: Io) -> Self {
        let started = io.now();
        let options = config.options;
        let (options_traffic, options_release) = (options.traffic, options.release.clone());
        let helm = Helm {
            namespace: options.namespace.clone(),
            kube_context: options.kube_context.clone(),
            contract: options.chart_contract,
            // Gantry writes the chart's own route or Service only in a canary or blue-green.
            force_conflicts: helm::applies_server_side(&config.helm_version)
                && options.strategy != Strategy::Rolling,
        };
        let outcome = Outcome {
            release: options.release.clone(),
            namespace: options.namespace.clone(),
            secrets: config.secrets,
            ..Outcome::default()
        };
        Self {
            io,
            deadline: started + u64::from(options.timeout) * 1000,
            options,
            judge: config.judge,
            deployment: config.deployment,
            helm,
            plan: Plan {
                strategy: Strategy::Rolling,
                traffic: plan::Traffic::Service,
                steps: Vec::new(),
                promotion: 0,
                first_install: false,
            },
            outcome,
            started,
            previous: None,
            at: 0,
            undoing: false,
            route: Route::contract(options_traffic, &options_release),
            copies: None,
        }
    }

    fn note(&mut self, text: impl Into<String>) {
        #[allow(clippy::cast_precision_loss)]
        let at = self.io.now().saturating_sub(self.started) as f64 / 1000.0;
        self.outcome.timeline.push((at, text.into()));
    }

    fn tracks(&self) -> &'static [Track] {
        plan::tracks(self.plan.strategy)
    }

    /// Whole seconds left before the deadline.
    fn remaining(&self) -> u64 {
        self.deadline.saturating_sub(self.io.now()) / 1000
    }

    fn timed_out(&self) -> Stop {
        Stop::Timeout(format!(
            "the deploy did not finish within its timeout ({} s)",
            self.options.timeout
        ))
    }

    // --- asking the edge ---------------------------------------------------------------

    async fn history(&self, name: &str) -> Result<Vec<Release>, ClusterError> {
        match self.io.ask(Intent::History(name.to_owned())).await {
            Answer::History(history) => history,
            other => Err(unexpected("History", &other)),
        }
    }

    async fn done(&self, intent: Intent) -> Result<(), ClusterError> {
        match self.io.ask(intent).await {
            Answer::Done(done) => done,
            other => Err(unexpected("a write", &other)),
        }
    }

    async fn get(&self, kind: Kind, name: &str) -> Result<Fetched, ClusterError> {
        match self.io.ask(Intent::Get(kind, name.to_owned())).await {
            Answer::Object(object) => object,
            other => Err(unexpected("Get", &other)),
        }
    }

    async fn read_route(&self) -> Result<serde_json::Value, ClusterError> {
        let intent = Intent::ReadRoute(self.route.clone());
        match self.io.ask(intent).await {
            Answer::Route(route) => route,
            other => Err(unexpected("ReadRoute", &other)),
        }
    }

    async fn lines(&self, intent: Intent) -> Result<Vec<String>, ClusterError> {
        match self.io.ask(intent).await {
            Answer::Lines(lines) => lines,
            other => Err(unexpected("lines", &other)),
        }
    }

    /// Follows `scope`: the first snapshot.
    async fn follow(&self, scope: &Scope) -> Result<Snapshot, Stop> {
        match self.io.ask(Intent::Follow(scope.clone())).await {
            Answer::Observed(observed) => Ok(*observed?),
            other => Err(unexpected("Follow", &other).into()),
        }
    }

    async fn unfollow(&self) {
        self.io.ask(Intent::Unfollow).await;
    }

    /// Waits until `until` (at most the deadline) for news; a cancel (unless undoing) or the
    /// deadline stops.
    async fn settle(&self, until: Millis) -> Result<Answer, Stop> {
        if self.io.cancelled() && !self.undoing {
            return Err(Stop::Cancelled);
        }
        let answer = self.io.ask(Intent::Wait(until.min(self.deadline))).await;
        if matches!(answer, Answer::Cancelled) && !self.undoing {
            return Err(Stop::Cancelled);
        }
        if self.io.now() >= self.deadline {
            return Err(self.timed_out());
        }
        Ok(answer)
    }

    /// Waits `millis`, whatever comes (cancels are still seen at the next settle).
    async fn pause(&self, millis: Millis) {
        let until = self.io.now() + millis;
        while self.io.now() < until {
            self.io.ask(Intent::Wait(until)).await;
        }
    }

    // --- helm ----------------------------------------------------------------------------

    /// Runs helm to its end. An upgrade's new pods are watched from the start: a failing one
    /// (or a cancel) stops helm with SIGTERM — Helm marks the release failed and exits — and
    /// the pod is the cause.
    async fn helm(&mut self, args: Vec<String>, watch: Watch) -> Result<(), Stop> {
        let verb = format!(
            "helm {} {}",
            args.first().map_or("", String::as_str),
            args.get(1).map_or("", String::as_str)
        );
        let release = args.get(1).cloned().unwrap_or_default();
        let before = match watch {
            Watch::NewPods => Some(
                self.history(&release)
                    .await?
                    .iter()
                    .map(|record| record.revision)
                    .max(),
            ),
            Watch::Nothing => None,
        };
        let began = self.io.now();
        self.io.ask(Intent::Helm(args)).await;
        let mut scope: Option<Vec<Workload>> = None;
        let mut looked: Option<Millis> = None;
        let mut watcher = Watcher::new(self.options.grace);
        let mut stopping: Option<Stop> = None;
        let exit = loop {
            let now = self.io.now();
            if let (Some(before), None, None) = (before, &scope, &stopping) {
                if looked.is_none_or(|at| now >= at + LOOK_FOR_REVISION_MS) {
                    looked = Some(now);
                    if let Some(found) = self.new_revision(&release, before).await? {
                        if !found.is_empty() {
                            let snapshot = self.follow(&Scope::Applied(found.clone())).await?;
                            if let Some(failure) =
                                self.new_pod_failed(&mut watcher, began, &snapshot)
                            {
                                stopping = Some(self.stop_helm(Stop::Pod(failure)).await);
                            }
                        }
                        scope = Some(found);
                    }
                }
            }
            let wake = self.io.now() + LOOK_FOR_REVISION_MS;
            match self.io.ask(Intent::Wait(wake)).await {
                Answer::Helm(exit) => break exit,
                Answer::Observed(Ok(snapshot)) if stopping.is_none() => {
                    if let Some(failure) = self.new_pod_failed(&mut watcher, began, &snapshot) {
                        stopping = Some(self.stop_helm(Stop::Pod(failure)).await);
                    }
                }
                Answer::Observed(Err(error)) if stopping.is_none() => {
                    // Helm is still the judge of its own run; the wait after it judges again.
                    self.note(format!(
                        "the new pods could not be followed while helm ran: {}",
                        error.message
                    ));
                    self.unfollow().await;
                    scope = Some(Vec::new());
                }
                Answer::Cancelled if stopping.is_none() && !self.undoing => {
                    stopping = Some(self.stop_helm(Stop::Cancelled).await);
                }
                _ => {}
            }
        };
        if scope.as_ref().is_some_and(|found| !found.is_empty()) {
            self.unfollow().await;
        }
        if let Some(stop) = stopping {
            return Err(stop);
        }
        match exit {
            HelmExit::Success => Ok(()),
            HelmExit::CannotRun(error) => Err(Stop::Failed(format!("{verb}: cannot run: {error}"))),
            HelmExit::Failed(output) => Err(Stop::Helm {
                reason: format!("{verb} failed: {}", helm::problem_line(&output)),
                output,
            }),
        }
    }

    async fn stop_helm(&mut self, stop: Stop) -> Stop {
        self.note(format!(
            "stopping helm (SIGTERM; Helm marks the release failed): {}",
            stop.reason()
        ));
        self.io.ask(Intent::StopHelm).await;
        stop
    }

    /// The workloads and hook Jobs of `release`'s revision after `before`, once helm has
    /// written it.
    async fn new_revision(
        &mut self,
        release: &str,
        before: Option<u32>,
    ) -> Result<Option<Vec<Workload>>, Stop> {
        let history = self.history(release).await?;
        let Some(latest) = history
            .iter()
            .filter(|record| before.is_none_or(|before| record.revision > before))
            .max_by_key(|record| record.revision)
        else {
            return Ok(None);
        };
        // What cannot be judged is said once helm is done, by the readiness wait.
        let mut workloads =
            applied::workloads(&latest.manifest, &self.options.namespace).unwrap_or_default();
        workloads.extend(applied::hook_jobs(latest));
        Ok(Some(workloads))
    }

    /// A failing pod among the new revision's pods created since helm began.
    fn new_pod_failed(
        &self,
        watcher: &mut Watcher,
        began: Millis,
        snapshot: &Snapshot,
    ) -> Option<Failure> {
        let since = seconds(began) - 1;
        let pods: Vec<_> = snapshot
            .current_pods()
            .into_iter()
            .filter(|pod| {
                pod.metadata
                    .creation_timestamp
                    .as_ref()
                    .is_some_and(|at| at.0.as_second() >= since)
            })
            .collect();
        watcher.observe(seconds(self.io.now()), &pods)
    }

    // --- the deploy ------------------------------------------------------------------------

    pub(super) async fn deploy(mut self) -> Finished {
        let release = self.options.release.clone();
        let history = match self.history(&release).await {
            Ok(history) => history,
            Err(error) if error.unreachable => {
                return Finished::Unreachable(format!("{} (nothing was changed)", error.message));
            }
            Err(error) => return Finished::Refused(error.message),
        };
        let deployed = match release::head(&history) {
            Head::New => None,
            Head::Ready { deployed, .. } => deployed,
            Head::Pending { head, deployed } => match self.recover(&head, deployed).await {
                Ok(deployed) => Some(deployed),
                Err(outcome) => return outcome,
            },
        };
        self.previous = deployed.as_ref().map(|d| d.revision);
        self.outcome.previous_revision = self.previous;
        self.plan = match self.options.plan(self.previous.is_none()) {
            Ok(plan) => plan,
            Err(error) => return Finished::Refused(error.to_string()),
        };
        if self.options.chart_contract || self.plan.strategy == Strategy::Rolling {
            if let Err(finished) = self.check_route().await {
                return finished;
            }
            if let Err(finished) = self.preflight().await {
                return finished;
            }
        } else if let Err(finished) = Box::pin(self.find_copies()).await {
            return finished;
        }
        self.outcome.plan = Some(self.plan.clone());
        if self.deployment {
            let description = format!(
                "{} {} of {}",
                crate::options::SPEC.name,
                self.plan.strategy.word(),
                release
            );
            match self.io.ask(Intent::StartDeployment(description)).await {
                Answer::GitHub(Ok(())) => {}
                Answer::GitHub(Err(error)) => return Finished::GitHub(error),
                other => return Finished::GitHub(unexpected("StartDeployment", &other).message),
            }
        }
        self.deadline = self.io.now() + u64::from(self.options.timeout) * 1000;
        let result = Box::pin(self.steps()).await;
        let unreachable = self.conclude(result).await;
        Finished::Ran {
            outcome: Box::new(self.outcome),
            unreachable,
        }
    }

    /// A release left pending by a helm stopped half-way: refused, or (recover-pending) rolled
    /// back to its last deployed revision first.
    async fn recover(
        &mut self,
        head: &Release,
        deployed: Option<Release>,
    ) -> Result<Release, Finished> {
        let options = &self.options;
        let fail = |outcome: &Outcome, failure: String, previous: Option<u32>| Finished::Ran {
            outcome: Box::new(Outcome {
                failure: Some(failure),
                decision: Some(Decision::Failed),
                previous_revision: previous,
                ..outcome.clone()
            }),
            unreachable: None,
        };
        if !options.recover_pending {
            let advice = match &deployed {
                Some(deployed) => format!(
                    "set recover-pending: rollback to return it to revision {} (its last deployed) first, or run `helm rollback {} {} -n {}`",
                    deployed.revision, options.release, deployed.revision, options.namespace
                ),
                None => format!(
                    "it was never deployed: `helm uninstall {} -n {}` clears it",
                    options.release, options.namespace
                ),
            };
            let failure = format!(
                "release {} is {} at revision {} (a helm that was stopped half-way); nothing was changed: {advice}",
                options.release,
                head.status.word(),
                head.revision
            );
            return Err(fail(
                &self.outcome,
                failure,
                deployed.as_ref().map(|d| d.revision),
            ));
        }
        let Some(deployed) = deployed else {
            let failure = format!(
                "release {} is {} and has no deployed revision to recover to; `helm uninstall` it",
                options.release,
                head.status.word()
            );
            return Err(fail(&self.outcome, failure, None));
        };
        self.note(format!(
            "release was {} at revision {}: rolling back to revision {} first",
            head.status.word(),
            head.revision,
            deployed.revision
        ));
        let args = self.helm.rollback(
            &self.options.release,
            deployed.revision,
            u64::from(self.options.rollback_timeout),
        );
        if let Err(stop) = self.helm(args, Watch::Nothing).await {
            let failure = format!("recovering the pending release: {}", stop.reason());
            return Err(fail(&self.outcome, failure, None));
        }
        Ok(deployed)
    }

    /// Canary and blue-green need the release's routing object, as the chart contract says.
    async fn check_route(&mut self) -> Result<(), Finished> {
        if self.plan.strategy == Strategy::Rolling {
            return Ok(());
        }
        let object = match self.read_route().await {
            Ok(object) => object,
            Err(error) if error.not_found => {
                return Err(Finished::Refused(format!(
                    "{} {:?} is not in namespace {}: the chart must render it for {} (see the reference chart)",
                    routing::kind(self.plan.traffic),
                    self.options.release,
                    self.options.namespace,
                    self.plan.strategy.word()
                )));
            }
            Err(error) if error.unreachable => {
                return Err(Finished::Unreachable(format!(
                    "{} (nothing was changed)",
                    error.message
                )));
            }
            Err(error) => return Err(Finished::Refused(error.message)),
        };
        routing::check(&object, &self.route, &self.options.namespace, self.tracks())
            .map_err(|error| Finished::Refused(error.to_string()))
    }

    /// `helm template` of a track's release with the new values → what it wrote; a failure
    /// refuses the deploy (nothing was changed).
    async fn render(&mut self, track: Track) -> Result<String, Finished> {
        let name = track.name(&self.options.release);
        let args = self
            .helm
            .template(&self.options.release, track, &self.options.chart);
        match self.io.ask(Intent::Render(args)).await {
            Answer::Rendered(Ok(manifest)) => Ok(manifest),
            Answer::Rendered(Err(output)) => Err(Finished::Refused(format!(
                "helm template {name} failed (nothing was changed): {}",
                helm::problem_line(&output)
            ))),
            other => Err(refused(unexpected("Render", &other))),
        }
    }

    /// With the chart contract every track is a release of its own, so each must render names
    /// of its own: the stable release and each new track's are rendered with the new values,
    /// and a name both would apply — `fullnameOverride` in a values file or a `set`, a name the
    /// chart fixes — refuses the deploy before anything changes.
    async fn collisions(&mut self) -> Result<(), Finished> {
        let named = |manifest: &str| -> Result<BTreeSet<(String, String)>, String> {
            Ok(crate::manifest::documents(manifest)?
                .iter()
                .filter_map(|object| {
                    let kind = object["kind"].as_str()?;
                    let name = object["metadata"]["name"].as_str()?;
                    Some((kind.to_owned(), name.to_owned()))
                })
                .collect())
        };
        let release = self.options.release.clone();
        let unreadable = |error: String| {
            Finished::Refused(format!(
                "helm template {release} wrote what is not YAML: {error} (nothing was changed)"
            ))
        };
        let stable = named(&self.render(Track::Stable).await?).map_err(unreadable)?;
        for track in self.tracks() {
            if matches!(*track, Track::Stable | Track::Baseline) {
                continue;
            }
            let rendered = named(&self.render(*track).await?).map_err(unreadable)?;
            let both: Vec<String> = stable
                .intersection(&rendered)
                .map(|(kind, name)| format!("{kind} {name}"))
                .collect();
            if !both.is_empty() {
                let shown = both.iter().take(4).cloned().collect::<Vec<_>>().join(", ");
                let more = both.len().saturating_sub(4);
                return Err(Finished::Refused(format!(
                    "release {} would render {shown}{} — objects release {release} renders too: every track's release must render names of its own (nothing was changed); leave fullnameOverride out of the values for {} (nameOverride is fine), or a name the chart fixes",
                    track.name(&release),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    },
                    self.plan.strategy.word()
                )));
            }
        }
        Ok(())
    }

    /// What would otherwise be found only once the canary or green is installed, found before
    /// anything changes (exit 2): a release or copy of a track left by an earlier deploy (its
    /// names would collide), names two tracks' releases would both render
    /// ([`Self::collisions`]), and a stable Deployment a baseline cannot be told from.
    async fn preflight(&mut self) -> Result<(), Finished> {
        if self.plan.strategy == Strategy::Rolling {
            return Ok(());
        }
        for track in self.tracks() {
            if *track == Track::Stable || *track == Track::Baseline {
                continue;
            }
            let name = track.name(&self.options.release);
            let history = self.history(&name).await.map_err(refused)?;
            if let Some(head) = history.first() {
                return Err(Finished::Refused(format!(
                    "release {name} is already installed (revision {}, {}): an earlier deploy did not finish; `helm uninstall {name} -n {}` once nothing routes to it",
                    head.revision,
                    head.status.word(),
                    self.options.namespace
                )));
            }
        }
        Box::pin(self.collisions()).await?;
        if self.plan.strategy == Strategy::Canary {
            let release = self.options.release.clone();
            let baseline = Track::Baseline.name(&release);
            if let Fetched::Deployment(Some(_)) = self
                .get(Kind::Deployment, &baseline)
                .await
                .map_err(refused)?
            {
                return Err(Finished::Refused(format!(
                    "Deployment {baseline} is already there: an earlier deploy did not finish; delete it once nothing routes to it"
                )));
            }
            match self
                .get(Kind::Deployment, &release)
                .await
                .map_err(refused)?
            {
                Fetched::Deployment(Some(stable)) => {
                    baseline::deployment(&stable, &release, 1)
                        .map_err(|error| Finished::Refused(error.to_string()))?;
                }
                _ => {
                    return Err(Finished::Refused(format!(
                        "the stable Deployment {release:?} is not there to copy as the canary's baseline (the chart contract: the stable release's Deployment is named after the release)"
                    )));
                }
            }
        }
        Ok(())
    }

    /// For a chart that keeps no contract, before anything changes (exit 2 when it cannot be
    /// done): the chart rendered with the new values, the Deployment its Service serves and
    /// that Service; the live stable ones, which the baseline copies; no copy left by an
    /// earlier deploy; and what steers the Service's traffic — the Service itself (a switch),
    /// the one route of the namespace that routes to it (the chart's own, patched then
    /// restored), or none (Gantry makes one).
    async fn find_copies(&mut self) -> Result<(), Finished> {
        let release = self.options.release.clone();
        let manifest = self.render(Track::Stable).await?;
        let why = |problem: String| {
            Finished::Refused(format!(
                "{} of release {release} on its chart as rendered: {problem} (nothing was changed)",
                self.plan.strategy.word()
            ))
        };
        let (deployment, service) = copy::served(&manifest).map_err(why)?;
        let workload = deployment.metadata.name.clone().unwrap_or_default();
        let service_name = service.metadata.name.clone().unwrap_or_default();
        let new = self.new_track();
        copy::track(&deployment, &service, new, 1).map_err(|error| why(error.to_string()))?;
        let Fetched::Deployment(Some(live)) = self
            .get(Kind::Deployment, &workload)
            .await
            .map_err(refused)?
        else {
            return Err(why(format!(
                "the stable Deployment {workload:?} is not running to stand beside"
            )));
        };
        let Fetched::Service(Some(live_service)) = self
            .get(Kind::Service, &service_name)
            .await
            .map_err(refused)?
        else {
            return Err(why(format!(
                "the stable Service {service_name:?} is not there to steer"
            )));
        };
        if self.plan.strategy == Strategy::Canary {
            copy::track(&live, &live_service, Track::Baseline, 1)
                .map_err(|error| why(error.to_string()))?;
        }
        for track in self.tracks() {
            if *track == Track::Stable {
                continue;
            }
            let (name, service) = (track.name(&workload), track.name(&service_name));
            if let Fetched::Deployment(Some(_)) =
                self.get(Kind::Deployment, &name).await.map_err(refused)?
            {
                return Err(why(format!(
                    "Deployment {name} is already there: an earlier deploy did not finish; delete it once nothing routes to it"
                )));
            }
            if let Fetched::Service(Some(_)) =
                self.get(Kind::Service, &service).await.map_err(refused)?
            {
                return Err(why(format!(
                    "Service {service} is already there: an earlier deploy did not finish; delete it once nothing routes to it"
                )));
            }
        }
        let traffic = self.plan.traffic;
        let mut route = Route {
            traffic,
            object: service_name.clone(),
            service: service_name.clone(),
            copies: true,
            original: None,
        };
        let mut made_route = false;
        let found = if traffic == plan::Traffic::Service {
            Some(serde_json::to_value(&live_service).unwrap_or_default())
        } else {
            let objects = match self.io.ask(Intent::ListRoutes(traffic)).await {
                Answer::Routes(routes) => routes.map_err(refused)?,
                other => return Err(refused(unexpected("ListRoutes", &other))),
            };
            let found = routing::find(&objects, traffic, &service_name, &self.options.namespace)
                .map_err(|error| why(error.to_string()))?
                .cloned();
            if found.is_none() {
                made_route = true;
                route.object = routing::made_name(&service_name);
                let made = objects
                    .iter()
                    .any(|o| o["metadata"]["name"].as_str() == Some(route.object.as_str()));
                if made {
                    return Err(why(format!(
                        "{} is already there: an earlier deploy did not finish",
                        route.describe()
                    )));
                }
            }
            found
        };
        if let Some(object) = found {
            object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .clone_into(&mut route.object);
            if object["metadata"]["labels"][routing::MANAGED_BY] == "gantry" {
                return Err(why(format!(
                    "{} was made by an earlier deploy that did not finish; delete it once traffic is home",
                    route.describe()
                )));
            }
            route.original = Some(object["spec"].clone());
            routing::check(&object, &route, &self.options.namespace, self.tracks())
                .map_err(|error| why(error.to_string()))?;
            let now = routing::read(&object, &route, &self.options.namespace, self.tracks())
                .map_err(|error| why(error.to_string()))?;
            let home = Routing::all(traffic, Track::Stable);
            if !routing::equal(&now, &home, self.tracks()) {
                return Err(why(format!(
                    "{} sends traffic elsewhere already ({now}): an earlier deploy did not finish",
                    route.describe()
                )));
            }
        }
        if let Some(judge) = self.judge.as_mut() {
            judge
                .name_workloads(
                    &Track::Canary.name(&workload),
                    &Track::Baseline.name(&workload),
                )
                .map_err(|error| why(error.to_string()))?;
        }
        self.note(format!(
            "the tracks are copies of Deployment {workload} and Service {service_name} (as the chart renders them); traffic steered with {}{}",
            route.describe(),
            if made_route { ", made for this deploy" } else { "" }
        ));
        self.route = route;
        self.copies = Some(Copies {
            deployment,
            service,
            workload,
            made_route,
            made: Vec::new(),
            stable_before: None,
        });
        Ok(())
    }

    /// A track's copy: the new version as rendered (canary, green), or the live stable
    /// (baseline, at the canary's size), with its Service; and, with the new version, the route
    /// Gantry makes when none steers the Service.
    async fn make_copy(&mut self, track: Track) -> Result<(), Stop> {
        let copies = self.copies.clone().expect("copies were found");
        let (from, service, replicas) = if track == Track::Baseline {
            let Fetched::Deployment(Some(live)) =
                self.get(Kind::Deployment, &copies.workload).await?
            else {
                return Err(Stop::Failed(format!(
                    "the stable Deployment {:?} is not there to copy as the baseline",
                    copies.workload
                )));
            };
            let Fetched::Service(Some(service)) =
                self.get(Kind::Service, &self.route.service).await?
            else {
                return Err(Stop::Failed(format!(
                    "the stable Service {:?} is not there to copy",
                    self.route.service
                )));
            };
            let canary = Track::Canary.name(&copies.workload);
            let Fetched::Deployment(Some(canary)) = self.get(Kind::Deployment, &canary).await?
            else {
                return Err(Stop::Failed(format!(
                    "the canary Deployment {canary:?} is not there"
                )));
            };
            let replicas = canary.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            (*live, *service, replicas)
        } else {
            let replicas = copies
                .deployment
                .spec
                .as_ref()
                .and_then(|s| s.replicas)
                .unwrap_or(1);
            (copies.deployment.clone(), copies.service.clone(), replicas)
        };
        let (deployment, copied_service) = copy::track(&from, &service, track, replicas)
            .map_err(|error| Stop::Failed(error.to_string()))?;
        let name = deployment.metadata.name.clone().unwrap_or_default();
        let selector = serde_json::to_value(
            deployment
                .spec
                .as_ref()
                .map(|spec| spec.selector.clone())
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        let selector = applied::label_selector(&selector).map_err(Stop::Failed)?;
        if let Some(copies) = self.copies.as_mut() {
            copies.made.push((
                track,
                Workload {
                    kind: applied::WorkloadKind::Deployment,
                    name,
                    selector,
                },
            ));
        }
        let port = service
            .spec
            .as_ref()
            .and_then(|spec| spec.ports.as_ref())
            .and_then(|ports| ports.first())
            .map(|port| port.port);
        self.done(Intent::Put(Object::Deployment(Box::new(deployment))))
            .await?;
        self.done(Intent::Put(Object::Service(Box::new(copied_service))))
            .await?;
        if copies.made_route && track != Track::Baseline {
            let made = routing::made(
                self.route.traffic,
                &self.route.service,
                &self.options.namespace,
                port,
            );
            self.done(Intent::Put(Object::Route(
                self.route.traffic,
                Box::new(made),
            )))
            .await?;
        }
        Ok(())
    }

    /// Runs the plan; on a stop, says the last step that ran (or half ran), if any.
    async fn steps(&mut self) -> Result<(), (Option<usize>, Stop)> {
        let steps = self.plan.steps.clone();
        for (index, step) in steps.iter().enumerate() {
            // Cancelled between steps: the last one ran whole, this one never began.
            if self.io.cancelled() {
                return Err((index.checked_sub(1), Stop::Cancelled));
            }
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
            Step::Install { track, pinned } if self.copies.is_some() => {
                if *track == Track::Stable {
                    self.promote_copy().await?;
                    // Nothing but Gantry wrote: the routing still sends traffic to the new
                    // track while the stable rolls out.
                    if let Some(routing) = pinned {
                        self.hold(routing, HOLD_MS).await.map_err(|stop| {
                            Stop::Failed(format!(
                                "while the stable rolled out, the routing did not stay {routing}: {}",
                                stop.reason()
                            ))
                        })?;
                    }
                    return Ok(());
                }
                self.make_copy(*track).await
            }
            Step::Unpin if self.copies.is_some() => self.upgrade_home().await,
            Step::Install { track, pinned } => {
                let pinned_routing = pinned.clone();
                let pinned = pinned
                    .as_ref()
                    .map(|routing| routing.pinned(&release, self.tracks()))
                    .unwrap_or_default();
                let args = self.helm.upgrade(
                    &release,
                    *track,
                    &self.options.chart,
                    &pinned,
                    self.remaining(),
                );
                self.helm(args, Watch::NewPods).await?;
                // The stable upgrade at promotion must have kept the routing pinned: read back.
                if let Some(routing) = pinned_routing {
                    self.hold(&routing, HOLD_MS).await.map_err(|stop| {
                        Stop::Failed(format!(
                            "the stable upgrade did not keep the routing pinned: {}",
                            stop.reason()
                        ))
                    })?;
                }
                Ok(())
            }
            Step::Unpin => {
                let args = self.helm.upgrade(
                    &release,
                    Track::Stable,
                    &self.options.chart,
                    &[],
                    self.remaining(),
                );
                self.helm(args, Watch::NewPods).await
            }
            Step::Ready(track) => self.ready(*track).await,
            Step::Baseline => self.baseline().await,
            Step::Route(routing) => {
                self.would_serve(routing).await?;
                self.route(routing, HOLD_MS).await?;
                self.serves(routing).await?;
                if self.at < self.plan.promotion && self.deployment {
                    let description = format!("{}: {routing}", self.plan.strategy.word());
                    self.io.ask(Intent::Progress(description)).await;
                }
                Ok(())
            }
            Step::Hold => {
                let track = self.new_track();
                self.watch_for(track, u64::from(self.options.step_interval) * 1000)
                    .await
            }
            Step::Test(track) => {
                let args = self.helm.test(&track.name(&release), self.remaining());
                self.helm(args, Watch::Nothing).await
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

    /// What `track`'s workloads are found by: the workloads its Helm release's latest revision
    /// applied (the baseline, which Gantry makes itself, by its label). A release that applies
    /// no workload is said so in the timeline; one that applies pods Gantry cannot judge stops
    /// the deploy.
    async fn scope(&mut self, track: Track) -> Result<Scope, Stop> {
        let name = track.name(&self.options.release);
        if let Some(copies) = &self.copies {
            if let Some((_, workload)) = copies.made.iter().find(|(made, _)| *made == track) {
                return Ok(Scope::Applied(vec![workload.clone()]));
            }
        }
        if track == Track::Baseline {
            return Ok(Scope::Labelled(format!("{}={name}", routing::INSTANCE)));
        }
        let history = self.history(&name).await?;
        let Some(latest) = history.iter().max_by_key(|revision| revision.revision) else {
            return Err(Stop::Failed(format!(
                "release {name} has no revision to judge: helm wrote none"
            )));
        };
        let workloads = applied::workloads(&latest.manifest, &self.options.namespace)
            .map_err(|error| Stop::Failed(format!("release {name}: {error}")))?;
        if workloads.is_empty() {
            let what = format!(
                "release {name} (revision {}) applies no Deployment, StatefulSet or DaemonSet",
                latest.revision
            );
            // Traffic is never sent to, nor judged on, nothing.
            if self.plan.strategy != Strategy::Rolling {
                return Err(Stop::Failed(format!(
                    "{what}: there is nothing to send traffic to or to judge"
                )));
            }
            self.note(format!("{what}: no pod was judged"));
        }
        Ok(Scope::Applied(workloads))
    }

    /// Waits for a track's workloads by kubectl's rules, failing at the first failing pod.
    async fn ready(&mut self, track: Track) -> Result<(), Stop> {
        let scope = self.scope(track).await?;
        let expected = match &scope {
            Scope::Applied(workloads) => workloads.clone(),
            Scope::Labelled(_) => Vec::new(),
        };
        let mut snapshot = self.follow(&scope).await?;
        let mut failures = Watcher::new(self.options.grace);
        let mut replaced: BTreeSet<(String, Option<String>)> = BTreeSet::new();
        let result = loop {
            let waiting = match snapshot.rollout(&expected) {
                Err(failed) => break Err(Stop::Failed(failed)),
                Ok(waiting) => waiting,
            };
            if let Err(stop) = self.replace_stuck(&snapshot, &mut replaced).await {
                break Err(stop);
            }
            if let Some(failure) =
                failures.observe(seconds(self.io.now()), &snapshot.current_pods())
            {
                break Err(Stop::Pod(failure));
            }
            let Some(waiting) = waiting else {
                break Ok(());
            };
            // Time-based causes (a grace running out) are looked at each second.
            match self.settle(self.io.now() + 1000).await {
                Ok(Answer::Observed(Ok(next))) => snapshot = *next,
                Ok(Answer::Observed(Err(error))) => break Err(error.into()),
                Ok(_) => {}
                Err(Stop::Timeout(_)) => {
                    break Err(Stop::Timeout(format!(
                        "{} was not ready within the timeout: {waiting}",
                        track.name(&self.options.release)
                    )));
                }
                Err(other) => break Err(other),
            }
        };
        self.unfollow().await;
        result
    }

    /// Deletes each pod an ordered StatefulSet waits on forever ([`Snapshot::stuck_pods`]: not
    /// ready, of a revision the set no longer wants — a rollback's crashing pod), once per pod,
    /// as Kubernetes' "forced rollback" says to: the controller makes it again at the set's
    /// revision. Without it the rollback of a crashing StatefulSet update never finishes.
    async fn replace_stuck(
        &mut self,
        snapshot: &Snapshot,
        replaced: &mut BTreeSet<(String, Option<String>)>,
    ) -> Result<(), Stop> {
        for name in snapshot.stuck_pods() {
            let uid = snapshot
                .pods
                .iter()
                .find(|pod| pod.metadata.name.as_deref() == Some(name.as_str()))
                .and_then(|pod| pod.metadata.uid.clone());
            if !replaced.insert((name.clone(), uid)) {
                continue;
            }
            self.note(format!(
                "replace pod {name}: its StatefulSet waits on it, not ready and of a revision it no longer wants"
            ));
            self.done(Intent::ReplacePod(name)).await?;
        }
        Ok(())
    }

    /// Holds for `millis`, failing at the first failing pod of `track`.
    async fn watch_for(&mut self, track: Track, millis: Millis) -> Result<(), Stop> {
        let until = self.io.now() + millis;
        let scope = self.scope(track).await?;
        let mut snapshot = self.follow(&scope).await?;
        let mut failures = Watcher::new(self.options.grace);
        let result = loop {
            if let Some(failure) =
                failures.observe(seconds(self.io.now()), &snapshot.current_pods())
            {
                break Err(Stop::Pod(failure));
            }
            if self.io.now() >= until {
                break Ok(());
            }
            match self.settle(until.min(self.io.now() + 1000)).await {
                Ok(Answer::Observed(Ok(next))) => snapshot = *next,
                Ok(Answer::Observed(Err(error))) => break Err(error.into()),
                Ok(_) => {}
                Err(stop) => break Err(stop),
            }
        };
        self.unfollow().await;
        result
    }

    async fn baseline(&mut self) -> Result<(), Stop> {
        if self.copies.is_some() {
            return self.make_copy(Track::Baseline).await;
        }
        let release = self.options.release.clone();
        let Fetched::Deployment(Some(stable)) = self.get(Kind::Deployment, &release).await? else {
            return Err(Stop::Failed(format!(
                "the stable Deployment {release:?} is not there to copy as the baseline"
            )));
        };
        let canary_name = Track::Canary.name(&release);
        let Fetched::Deployment(Some(canary)) = self.get(Kind::Deployment, &canary_name).await?
        else {
            return Err(Stop::Failed(format!(
                "the canary Deployment {canary_name:?} is not there"
            )));
        };
        let replicas = canary
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .or_else(|| canary.status.as_ref().and_then(|s| s.replicas))
            .unwrap_or(1);
        let copy: Deployment = baseline::deployment(&stable, &release, replicas)
            .map_err(|error| Stop::Failed(error.to_string()))?;
        self.done(Intent::Put(Object::Deployment(Box::new(copy))))
            .await?;
        let Fetched::Service(Some(service)) = self.get(Kind::Service, &release).await? else {
            return Err(Stop::Failed(format!(
                "the stable Service {release:?} is not there to copy"
            )));
        };
        let copy: Service = baseline::service(&service, &release)
            .map_err(|error| Stop::Failed(error.to_string()))?;
        self.done(Intent::Put(Object::Service(Box::new(copy))))
            .await?;
        Ok(())
    }

    /// Writes `routing`, then reads it back until it shows it [`HOLD_READS`] times in a row,
    /// within `within`.
    async fn route(&mut self, wanted: &Routing, within: Millis) -> Result<(), Stop> {
        self.done(Intent::WriteRoute {
            route: self.route.clone(),
            tracks: self.tracks(),
            routing: wanted.clone(),
        })
        .await?;
        self.hold(wanted, within).await
    }

    /// Reads the routing back until it shows `wanted` [`HOLD_READS`] times in a row, within
    /// `within`.
    async fn hold(&mut self, wanted: &Routing, within: Millis) -> Result<(), Stop> {
        let tracks = self.tracks();
        let until = self.io.now() + within;
        let mut in_a_row = 0;
        let mut last = String::new();
        loop {
            let object = self.read_route().await?;
            let read = routing::read(&object, &self.route, &self.options.namespace, tracks)
                .map_err(|error| Stop::Failed(error.to_string()))?;
            if routing::equal(&read, wanted, tracks) {
                in_a_row += 1;
                if in_a_row >= HOLD_READS {
                    return Ok(());
                }
            } else {
                in_a_row = 0;
                last = read.to_string();
            }
            if self.io.now() >= until {
                return Err(Stop::Failed(format!(
                    "{} did not hold {wanted}: read back {last}",
                    self.route.describe()
                )));
            }
            self.pause(HOLD_READ_MS).await;
        }
    }

    /// The Services that would receive traffic under `routing`: the tracks' own Services with
    /// a share, or (a Service switch) the public Service with its selector as the switch would
    /// write it.
    fn receivers(&self, routing: &Routing) -> Vec<String> {
        let service = &self.route.service;
        match routing {
            Routing::Weights(weights) => self
                .tracks()
                .iter()
                .filter(|track| weights.of(**track) > 0)
                .map(|track| track.name(service))
                .collect(),
            Routing::Serve(_) => vec![self.route.object.clone()],
        }
    }

    async fn count(&self, intent: Intent) -> Result<u32, Stop> {
        match self.io.ask(intent).await {
            Answer::Count(count) => Ok(count?),
            other => Err(unexpected("a count", &other).into()),
        }
    }

    /// Before a routing change: what would receive the traffic has ready pods, or the change is
    /// not made. A Service switch is judged by the selector it would write (a selector that
    /// still requires a label the new pods lack selects none of them).
    async fn would_serve(&mut self, routing: &Routing) -> Result<(), Stop> {
        if let Routing::Serve(track) = routing {
            let object = self.read_route().await?;
            let next = routing::write(
                &object,
                &self.route,
                &self.options.namespace,
                self.tracks(),
                routing,
            )
            .map_err(|error| Stop::Failed(error.to_string()))?;
            let selector = next["spec"]["selector"]
                .as_object()
                .map(|labels| {
                    labels
                        .iter()
                        .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            if selector.is_empty() || self.count(Intent::ReadyPods(selector.clone())).await? == 0 {
                return Err(Stop::Failed(format!(
                    "not switched to {}: Service {} would select no ready pod (selector {selector})",
                    track.word(),
                    self.route.object
                )));
            }
            return Ok(());
        }
        for service in self.receivers(routing) {
            if self.count(Intent::Endpoints(service.clone())).await? == 0 {
                return Err(Stop::Failed(format!(
                    "not routed ({routing}): Service {service} has no ready endpoint to take its share"
                )));
            }
        }
        Ok(())
    }

    /// After a routing change: every Service that receives traffic has ready endpoints (its
    /// `EndpointSlices`), read again until it does or the hold time runs out.
    async fn serves(&mut self, routing: &Routing) -> Result<(), Stop> {
        let until = self.io.now() + HOLD_MS;
        for service in self.receivers(routing) {
            loop {
                if self.count(Intent::Endpoints(service.clone())).await? > 0 {
                    break;
                }
                if self.io.now() >= until {
                    return Err(Stop::Failed(format!(
                        "routed ({routing}), but Service {service} has no ready endpoint: traffic reaches nothing"
                    )));
                }
                self.pause(HOLD_READ_MS).await;
            }
        }
        Ok(())
    }

    /// Traffic home while undoing: written and read back again and again (another controller
    /// may be rewriting it) until it holds or `rollback-timeout` runs out.
    async fn route_back(&mut self, routing: &Routing) -> Result<(), Stop> {
        loop {
            let within = self
                .deadline
                .saturating_sub(self.io.now())
                .clamp(1000, HOLD_MS);
            match self.route(routing, within).await {
                Ok(()) => return Ok(()),
                Err(Stop::Cluster(error)) => return Err(Stop::Cluster(error)),
                Err(stop) if self.remaining() == 0 => return Err(stop),
                Err(stop) => {
                    self.note(format!(
                        "the route back did not hold yet ({}); writing it again",
                        stop.reason()
                    ));
                    self.pause(500).await;
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
            let at = seconds(self.io.now());
            let Some(queries) = self.judge.as_ref().map(|judge| judge.queries(at)) else {
                return Err(Stop::Failed("a canary step without an analysis".to_owned()));
            };
            let mut answers = BTreeMap::new();
            for query in queries {
                let (id, metric) = (query.id, query.metric.clone());
                let answer = match self.io.ask(Intent::Query(query)).await {
                    Answer::Answer(answer) => answer,
                    other => Err(unexpected("Query", &other).message),
                };
                let answer = answer.map_err(|error| {
                    Stop::Failed(format!(
                        "the canary could not be judged: the {metric} query: {error}"
                    ))
                })?;
                answers.insert(id, answer);
            }
            let judge = self.judge.as_mut().expect("asked above");
            let evaluation = judge.evaluate(at, &answers).map_err(|error| {
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
                    self.watch_for(track, u64::from(self.options.step_interval) * 1000)
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
        for check in self.options.health_checks.clone() {
            let budget = check.budget_ms;
            let timeout = (budget * 2).max(2000);
            let mut last = None;
            for attempt in 0..3 {
                if attempt > 0 {
                    let until = self.io.now() + 1000;
                    while self.io.now() < until {
                        self.settle(until).await?;
                    }
                }
                // The Service under test: the new version's until promotion, then the stable's.
                let track = if self.at < self.plan.promotion {
                    self.new_track()
                } else {
                    Track::Stable
                };
                let service = track.name(&self.route.service);
                let through = check.proxy_path(&self.options.namespace, &service);
                let redacted = gantry_core::markdown::redact_userinfo(&check.url).into_owned();
                let shown = if through.is_some() {
                    format!("{redacted} (through Service {service})")
                } else {
                    redacted
                };
                let probe = Probe {
                    url: check.url.clone(),
                    through,
                    timeout_ms: timeout,
                };
                let answer = match self.io.ask(Intent::Probe(probe)).await {
                    Answer::Probe(answer) => answer,
                    other => Err(unexpected("Probe", &other).message),
                };
                let checked = match answer {
                    Ok((status, millis)) => {
                        let problem = if status != check.status {
                            Some(format!("answered {status}, not {}", check.status))
                        } else if millis > budget {
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
                        millis: timeout,
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
        if let Some(copies) = self.copies.clone() {
            let made = copies.made_route && track != Track::Baseline;
            self.done(Intent::Delete(
                Kind::Deployment,
                track.name(&copies.workload),
            ))
            .await?;
            self.done(Intent::Delete(
                Kind::Service,
                track.name(&self.route.service),
            ))
            .await?;
            if made {
                let name = self.route.object.clone();
                self.done(Intent::Delete(Kind::Route(self.route.traffic), name))
                    .await?;
            }
            return Ok(());
        }
        let name = track.name(&self.options.release);
        if track == Track::Baseline {
            self.done(Intent::Delete(Kind::Deployment, name.clone()))
                .await?;
            self.done(Intent::Delete(Kind::Service, name)).await?;
            return Ok(());
        }
        let args = self.helm.uninstall(&name, self.remaining().max(60));
        self.helm(args, Watch::Nothing).await
    }

    /// Promotion on a chart as published, as Flagger promotes: the new version's pod template,
    /// as Helm renders it, is written onto the live stable Deployment while traffic stays on the
    /// new track, so the stable's rollout is never served half-way. (Upgrading the release here
    /// instead would apply the chart's own route or Service selector while the old pods still
    /// run: traffic back on the old version until Gantry wrote its routing again.)
    async fn promote_copy(&mut self) -> Result<(), Stop> {
        let Some(copies) = &self.copies else {
            return Ok(());
        };
        let name = copies.workload.clone();
        let Some(template) = copies
            .deployment
            .spec
            .as_ref()
            .map(|spec| spec.template.clone())
        else {
            return Err(Stop::Failed(format!(
                "the chart's Deployment {name} as rendered has no spec"
            )));
        };
        let Fetched::Deployment(Some(live)) = self.get(Kind::Deployment, &name).await? else {
            return Err(Stop::Failed(format!(
                "the stable Deployment {name} is not there to promote the new version onto"
            )));
        };
        let mut promoted = *live;
        let Some(spec) = promoted.spec.as_mut() else {
            return Err(Stop::Failed(format!(
                "the stable Deployment {name} has no spec"
            )));
        };
        let before = std::mem::replace(&mut spec.template, template);
        promoted.metadata.managed_fields = None;
        if let Some(copies) = self.copies.as_mut() {
            copies.stable_before.get_or_insert(Box::new(before));
        }
        self.note(format!(
            "the new version's pod template, as the chart renders it, written onto Deployment {name}"
        ));
        self.done(Intent::Put(Object::Deployment(Box::new(promoted))))
            .await?;
        Ok(())
    }

    /// After the stable rolled out the new version: traffic home (the chart's own route or
    /// Service selector as Helm applied it, read back, serving), then `helm upgrade` of the
    /// release — which finds the cluster as the chart renders it, so nothing rolls again — and
    /// its record is the new version's; the stable is waited for once more.
    async fn upgrade_home(&mut self) -> Result<(), Stop> {
        let home = Routing::all(self.plan.traffic, Track::Stable);
        self.would_serve(&home).await?;
        self.route(&home, HOLD_MS).await?;
        self.serves(&home).await?;
        let args = self.helm.upgrade(
            &self.options.release,
            Track::Stable,
            &self.options.chart,
            &[],
            self.remaining(),
        );
        self.helm(args, Watch::NewPods).await?;
        self.ready(Track::Stable).await
    }

    /// Puts back the stable's pod template that promotion replaced, when Helm wrote no revision
    /// since (a rollback would find nothing to undo).
    async fn restore_stable(&mut self) -> Result<(), Stop> {
        let Some((name, before)) = self
            .copies
            .as_ref()
            .and_then(|copies| Some((copies.workload.clone(), copies.stable_before.clone()?)))
        else {
            return Ok(());
        };
        let Fetched::Deployment(Some(live)) = self.get(Kind::Deployment, &name).await? else {
            return Err(Stop::Failed(format!(
                "the stable Deployment {name} is not there to put its pod template back on"
            )));
        };
        let mut restored = *live;
        if let Some(spec) = restored.spec.as_mut() {
            spec.template = *before;
        }
        restored.metadata.managed_fields = None;
        self.note(format!(
            "the stable's pod template put back on Deployment {name}"
        ));
        self.done(Intent::Put(Object::Deployment(Box::new(restored))))
            .await?;
        Ok(())
    }

    /// `helm rollback` of the stable release to `revision` — unless the upgrade failed before
    /// Helm wrote a revision (a chart that does not render, a kind the cluster lacks): then the
    /// release is still at `revision`, deployed, and a rollback would only add a revision that
    /// changes nothing.
    async fn rollback_stable(&mut self, revision: u32) -> Result<(), Stop> {
        let history = self.history(&self.options.release).await?;
        if let Some(head) = history.iter().max_by_key(|record| record.revision) {
            if head.revision == revision && head.status == release::Status::Deployed {
                self.note(format!(
                    "the stable release is still at revision {revision} (the upgrade wrote none): nothing to roll back"
                ));
                return self.restore_stable().await;
            }
        }
        let args = self
            .helm
            .rollback(&self.options.release, revision, self.remaining());
        self.helm(args, Watch::Nothing).await
    }

    /// The failing pod's events and last log lines.
    async fn evidence(&self, failure: &Failure) -> Evidence {
        let events = self
            .lines(Intent::Events(failure.pod.clone()))
            .await
            .unwrap_or_default();
        let crashed = matches!(
            failure.cause,
            Cause::CrashLoopBackOff | Cause::OomKilled | Cause::Restarting
        );
        let mut logs = Vec::new();
        if crashed || failure.cause == Cause::NotReady {
            let logs_of = |previous| Intent::Logs {
                pod: failure.pod.clone(),
                container: failure.container.clone(),
                previous,
                lines: 20,
            };
            logs = match self.lines(logs_of(crashed)).await {
                Ok(lines) => lines,
                // A crashed container's previous log may be gone; the current one will do.
                Err(_) => self.lines(logs_of(false)).await.unwrap_or_default(),
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
        self.deadline = self.io.now() + u64::from(self.options.rollback_timeout) * 1000;
        // A second signal does not stop the undo.
        self.undoing = true;
        let mut clean = true;
        // Why the rest may not run: nothing is removed while a route may still send it traffic,
        // and traffic is not sent to a stable whose rollback did not finish.
        let mut blocked: Option<String> = None;
        for undo in plan::undo(&self.plan, stopped) {
            if let Some(why) = &blocked {
                if matches!(undo, Undo::Remove(_) | Undo::Route(_)) {
                    let line = format!("not undone: {undo} ({why})");
                    self.note(format!("not done: {undo} ({why})"));
                    self.outcome.left.push(line);
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

    /// The decision, the undo or the cleanup, and the state left; the cluster's message when
    /// it could not be reached.
    async fn conclude(&mut self, result: Result<(), (Option<usize>, Stop)>) -> Option<String> {
        match result {
            Ok(()) => {
                self.outcome.decision = Some(if self.plan.strategy == Strategy::Rolling {
                    Decision::Deployed
                } else {
                    Decision::Promoted
                });
                if let Ok(history) = self.history(&self.options.release).await {
                    self.outcome.revision = history.first().map(|r| r.revision);
                }
                None
            }
            Err((Some(stopped), stop)) if plan::cleanup_after_promotion(&self.plan, stopped) => {
                // The new version is promoted, judged and serving: a cleanup that fails now is
                // reported and left, never a reason to roll it back. The other removals are
                // tried.
                let reason = stop.reason();
                self.note(format!("cleanup failed after the promotion: {reason}"));
                let failed = self.plan.steps[stopped].to_string();
                self.outcome
                    .left
                    .push(format!("not done: {failed} ({reason})"));
                let rest: Vec<Track> = self.plan.steps[stopped + 1..]
                    .iter()
                    .filter_map(|step| match step {
                        Step::Remove(track) => Some(*track),
                        _ => None,
                    })
                    .collect();
                self.undoing = true;
                for track in rest {
                    if let Err(stop) = self.remove(track).await {
                        self.outcome.left.push(format!(
                            "not done: remove {} ({})",
                            track.word(),
                            stop.reason()
                        ));
                    }
                }
                self.outcome.failure = Some(format!(
                    "promoted, but the cleanup did not finish: {reason}"
                ));
                self.state_left().await;
                self.outcome.decision = Some(Decision::Promoted);
                None
            }
            Err((stopped, stop)) => {
                self.note(format!("stopped: {}", stop.reason()));
                if let Stop::Pod(failure) = &stop {
                    self.outcome.evidence = Some(self.evidence(failure).await);
                }
                self.outcome.failure = Some(stop.reason());
                if let Stop::Helm { output, .. } = &stop {
                    self.outcome.helm_output = Some(output.clone());
                }
                let unreachable = match &stop {
                    Stop::Cluster(error) => Some(error.clone()),
                    _ => None,
                };
                let clean = match stopped {
                    Some(stopped) => self.undo(stopped).await,
                    None => false,
                };
                self.state_left().await;
                self.outcome.decision = Some(if clean && self.previous.is_some() {
                    Decision::RolledBack
                } else {
                    Decision::Failed
                });
                unreachable
            }
        }
    }

    /// What the deploy leaves: the release's head and the routing.
    async fn state_left(&mut self) {
        let release = self.options.release.clone();
        if let Ok(history) = self.history(&release).await {
            if let Some(head) = history.first() {
                self.outcome.revision =
                    Some(head.revision).filter(|_| head.status == release::Status::Deployed);
                self.outcome.left.push(format!(
                    "release {release} is at revision {} ({})",
                    head.revision,
                    head.status.word()
                ));
            } else {
                self.outcome
                    .left
                    .push(format!("release {release} is not installed"));
            }
        }
        if self.plan.strategy != Strategy::Rolling {
            if let Ok(object) = self.read_route().await {
                if let Ok(routing) =
                    routing::read(&object, &self.route, &self.options.namespace, self.tracks())
                {
                    self.outcome.left.push(format!("traffic: {routing}"));
                }
            }
        }
    }
}

/// A read before anything changed that failed: the cluster unreachable (exit 3) or a refusal
/// (exit 2).
fn refused(error: ClusterError) -> Finished {
    if error.unreachable {
        Finished::Unreachable(format!("{} (nothing was changed)", error.message))
    } else {
        Finished::Refused(error.message)
    }
}

/// An answer that is not the one asked for: the edge broke the contract.
fn unexpected(asked: &str, answer: &Answer) -> ClusterError {
    ClusterError::refused(format!(
        "the deploy asked for {asked} and was answered {answer:?}"
    ))
}
