//! The plan of a deploy: its steps, in order, for a strategy — and, for any point it may stop at,
//! the steps that undo it, traffic first.
//!
//! The chart's side of the contract (the reference chart in `examples/helm/chart` keeps it):
//! - `gantry.track` is `stable` (the default: the release users know), `canary`, or `green`. A
//!   release of another track is installed under `<release>-<track>` and renders its own
//!   workload and Service, named after its release, and no route.
//! - The stable release renders the route: an Istio `VirtualService` or a Gateway API
//!   `HTTPRoute` named after the release whose backends are the Services `<release>`,
//!   `<release>-canary`, `<release>-baseline` and `<release>-green`, with the weights
//!   `gantry.weights.<stable|canary|baseline|green>` (stable 100, the rest 0 by default); or, for
//!   `traffic: service`, a Service `<release>` selecting the pods of release `gantry.serve`
//!   (default: itself).
//!
//! So a deploy changes traffic by patching those objects, and when it upgrades the stable release
//! at promotion it pins the values to the traffic as it stands — Helm's apply then changes no
//! route while the stable pods roll — and a last upgrade with the defaults puts traffic back on
//! stable with Helm's record equal to what runs.
//!
//! The baseline (the stable version beside the canary, at the canary's size and share, so the
//! judge compares like with like) is a copy of the stable Deployment, not a Helm release: the
//! stable chart version may no longer exist where the deploy runs.

use std::fmt;

/// How the new version replaces the old.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// `helm upgrade`, then wait for it by kubectl's rules, rolled back on the first failure.
    Rolling,
    /// The new version beside the old, checked, then all traffic switched at once.
    BlueGreen,
    /// The new version beside the old, traffic shifted in steps, judged at each.
    Canary,
}

impl Strategy {
    /// The input's word.
    #[must_use]
    pub const fn word(self) -> &'static str {
        match self {
            Self::Rolling => "rolling",
            Self::BlueGreen => "blue-green",
            Self::Canary => "canary",
        }
    }
}

/// What steers requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traffic {
    /// An Istio `VirtualService`'s route weights.
    Istio,
    /// A Gateway API `HTTPRoute`'s `backendRefs` weights.
    GatewayApi,
    /// A Service's selector (blue-green only: a selector cannot split).
    Service,
}

impl Traffic {
    /// The input's word.
    #[must_use]
    pub const fn word(self) -> &'static str {
        match self {
            Self::Istio => "istio",
            Self::GatewayApi => "gateway-api",
            Self::Service => "service",
        }
    }
}

/// A workload set of the deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Track {
    /// The release users know.
    Stable,
    /// The new version beside it (canary strategy).
    Canary,
    /// The current version at the canary's size (canary strategy).
    Baseline,
    /// The new version beside it (blue-green strategy).
    Green,
}

impl Track {
    /// The value of `gantry.track` / the key of `gantry.weights`.
    #[must_use]
    pub const fn word(self) -> &'static str {
        match self {
            Self::Stable => "stable",
            Self::Canary => "canary",
            Self::Baseline => "baseline",
            Self::Green => "green",
        }
    }

    /// The name of its release, Deployment and Service.
    #[must_use]
    pub fn name(self, release: &str) -> String {
        match self {
            Self::Stable => release.to_owned(),
            other => format!("{release}-{}", other.word()),
        }
    }
}

/// Where requests go: a weight per track (the tracks not named get 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights(pub Vec<(Track, u32)>);

impl Weights {
    /// All traffic on one track.
    #[must_use]
    pub fn all(track: Track) -> Self {
        Self(vec![(track, 100)])
    }

    /// A track's weight.
    #[must_use]
    pub fn of(&self, track: Track) -> u32 {
        self.0
            .iter()
            .find(|(t, _)| *t == track)
            .map_or(0, |(_, weight)| *weight)
    }

    /// A canary step: the new version gets `percent`, the baseline the same share where the
    /// stable can give it (`min(percent, 100 - percent)`), the stable the rest. At 50 the stable
    /// serves nothing; at 100 only the canary serves and there is no baseline to compare with.
    #[must_use]
    pub fn canary_step(percent: u32) -> Self {
        let percent = percent.min(100);
        let baseline = percent.min(100 - percent);
        Self(vec![
            (Track::Stable, 100 - percent - baseline),
            (Track::Canary, percent),
            (Track::Baseline, baseline),
        ])
    }

    /// Every track of a strategy with its weight, in a fixed order (what is written to a route).
    #[must_use]
    pub fn spelled(&self, tracks: &[Track]) -> Vec<(Track, u32)> {
        tracks
            .iter()
            .map(|&track| (track, self.of(track)))
            .collect()
    }
}

impl fmt::Display for Weights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (track, weight) in &self.0 {
            if *weight == 0 {
                continue;
            }
            if !first {
                f.write_str(" / ")?;
            }
            first = false;
            write!(f, "{} {weight} %", track.word())?;
        }
        if first {
            f.write_str("no traffic")?;
        }
        Ok(())
    }
}

/// Whom a route or selector sends traffic to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routing {
    /// Route weights (Istio or Gateway API).
    Weights(Weights),
    /// The Service selects the pods of this track.
    Serve(Track),
}

impl Routing {
    /// All traffic on `track`, the way `traffic` routes.
    #[must_use]
    pub fn all(traffic: Traffic, track: Track) -> Self {
        match traffic {
            Traffic::Service => Self::Serve(track),
            Traffic::Istio | Traffic::GatewayApi => Self::Weights(Weights::all(track)),
        }
    }

    /// The `--set` values that make the stable release render this routing.
    #[must_use]
    pub fn pinned(&self, release: &str, tracks: &[Track]) -> Vec<String> {
        match self {
            Self::Serve(track) => vec![format!("gantry.serve={}", track.name(release))],
            Self::Weights(weights) => weights
                .spelled(tracks)
                .into_iter()
                .map(|(track, weight)| format!("gantry.weights.{}={weight}", track.word()))
                .collect(),
        }
    }
}

impl fmt::Display for Routing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Weights(weights) => weights.fmt(f),
            Self::Serve(track) => write!(f, "Service selects {}", track.word()),
        }
    }
}

/// One step of a deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `helm upgrade --install` the track's release with the new chart and values; for the
    /// stable release at promotion, with the routing pinned as it stands.
    Install {
        /// Which release.
        track: Track,
        /// The routing the stable release must render (promotion), if pinned.
        pinned: Option<Routing>,
    },
    /// Upgrade the stable release again without the pinned routing: Helm renders the chart's
    /// own (all on stable), and Helm's record is what runs.
    Unpin,
    /// Copy the stable Deployment and Service as the baseline, at the canary's replicas.
    Baseline,
    /// Wait for the track's workloads by kubectl's rules, failing at the first failing pod.
    Ready(Track),
    /// Write the routing, then read it back until it holds.
    Route(Routing),
    /// Wait `step-interval` with traffic as it is, watching the pods.
    Hold,
    /// Ask the canary judge; `last`: this is the last analysed step (a clean look promotes).
    Analyse {
        /// The share of the canary at this step.
        percent: u32,
        /// No analysed step follows.
        last: bool,
    },
    /// Run the chart's tests (`helm test`) on the track's release.
    Test(Track),
    /// Run the health checks.
    Health,
    /// Remove a track's objects (`helm uninstall`, or the baseline's copies).
    Remove(Track),
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Install {
                track,
                pinned: None,
            } => write!(f, "install the new version as {}", track.word()),
            Self::Install {
                track,
                pinned: Some(routing),
            } => write!(
                f,
                "upgrade {} to the new version, routing pinned ({routing})",
                track.word()
            ),
            Self::Unpin => f.write_str(
                "upgrade stable again, unpinned: the chart's own routing (all on stable) and Helm's record of it",
            ),
            Self::Baseline => f.write_str("copy stable as the baseline, at the canary's size"),
            Self::Ready(track) => {
                write!(f, "wait for {} to be ready (kubectl's rules)", track.word())
            }
            Self::Route(routing) => write!(f, "route: {routing}; read back until it holds"),
            Self::Hold => f.write_str("hold for step-interval, watching the pods"),
            Self::Analyse { percent, last } => write!(
                f,
                "judge canary vs baseline at {percent} %{}",
                if *last {
                    " (a clean look promotes)"
                } else {
                    ""
                }
            ),
            Self::Test(track) => write!(f, "run the chart's tests on {} (helm test)", track.word()),
            Self::Health => f.write_str("run the health checks"),
            Self::Remove(track) => write!(f, "remove {}", track.word()),
        }
    }
}

/// A deploy's steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The strategy.
    pub strategy: Strategy,
    /// How traffic is steered.
    pub traffic: Traffic,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The index of the first promotion step (from there on, the new version is being made the
    /// stable one).
    pub promotion: usize,
    /// The release had no deployed revision: undoing it uninstalls it.
    pub first_install: bool,
}

/// A plan that cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Canary steps that do not rise to 100: the value, and what is wrong with it.
    #[error(
        "canary-steps {0:?}: {1}; the steps are one comma-separated string of percentages from 1 to 100, rising, the last 100 (`10,25,50,100`: the canary takes all traffic before it is promoted)"
    )]
    Steps(String, String),
    /// A selector cannot split traffic.
    #[error(
        "traffic: service switches a Service's selector and cannot split traffic; a canary needs istio or gateway-api"
    )]
    ServiceCanary,
}

/// Parses `canary-steps` (`10,25,50,100`).
pub fn canary_steps(text: &str) -> Result<Vec<u32>, PlanError> {
    let bad = |why: String| PlanError::Steps(text.to_owned(), why);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad("no steps".to_owned()));
    }
    // A YAML list in `with:` reaches an action as text (or the workflow is refused): `[10, 50]`
    // or one step a line.
    if trimmed.starts_with('[') || trimmed.starts_with('-') || trimmed.contains('\n') {
        return Err(bad(
            "a list is not taken: an action's input is one string, so give the steps comma-separated on one line"
                .to_owned(),
        ));
    }
    if !trimmed.contains(',') && trimmed.contains([' ', ';', '/', '|']) {
        return Err(bad("separate the steps with commas".to_owned()));
    }
    let mut steps = Vec::new();
    for part in trimmed.split(',') {
        let word = part.trim().trim_end_matches('%');
        match word.parse::<u32>() {
            Ok(step) if (1..=100).contains(&step) => steps.push(step),
            Ok(step) => return Err(bad(format!("{step} is not a percentage from 1 to 100"))),
            Err(_) => return Err(bad(format!("`{}` is not a whole percentage", part.trim()))),
        }
    }
    if let Some(&[before, after]) = steps.windows(2).find(|pair| pair[0] >= pair[1]) {
        return Err(bad(format!("{before} then {after} does not rise")));
    }
    if steps.last() != Some(&100) {
        return Err(bad("the last step is not 100".to_owned()));
    }
    Ok(steps)
}

/// The tracks a strategy routes between, in the order routes list them.
#[must_use]
pub fn tracks(strategy: Strategy) -> &'static [Track] {
    match strategy {
        Strategy::Rolling => &[Track::Stable],
        Strategy::BlueGreen => &[Track::Stable, Track::Green],
        Strategy::Canary => &[Track::Stable, Track::Canary, Track::Baseline],
    }
}

/// The plan of a strategy. `first_install`: the release has no deployed revision, so there is no
/// old version to compare with or switch back to — every strategy installs as rolling.
pub fn plan(
    strategy: Strategy,
    traffic: Traffic,
    canary_steps: &[u32],
    first_install: bool,
) -> Result<Plan, PlanError> {
    if strategy == Strategy::Canary && traffic == Traffic::Service {
        return Err(PlanError::ServiceCanary);
    }
    let strategy = if first_install {
        Strategy::Rolling
    } else {
        strategy
    };
    let mut steps = Vec::new();
    let promotion;
    let finish = |steps: &mut Vec<Step>, serving: Track| {
        steps.push(Step::Install {
            track: Track::Stable,
            pinned: Some(Routing::all(traffic, serving)),
        });
        steps.push(Step::Ready(Track::Stable));
        steps.push(Step::Unpin);
        steps.push(Step::Route(Routing::all(traffic, Track::Stable)));
        steps.push(Step::Health);
    };
    match strategy {
        Strategy::Rolling => {
            promotion = 0;
            steps.push(Step::Install {
                track: Track::Stable,
                pinned: None,
            });
            steps.push(Step::Ready(Track::Stable));
            steps.push(Step::Health);
        }
        Strategy::BlueGreen => {
            steps.push(Step::Install {
                track: Track::Green,
                pinned: None,
            });
            steps.push(Step::Ready(Track::Green));
            steps.push(Step::Health);
            steps.push(Step::Route(Routing::all(traffic, Track::Green)));
            steps.push(Step::Hold);
            steps.push(Step::Health);
            promotion = steps.len();
            finish(&mut steps, Track::Green);
            steps.push(Step::Remove(Track::Green));
        }
        Strategy::Canary => {
            steps.push(Step::Install {
                track: Track::Canary,
                pinned: None,
            });
            steps.push(Step::Ready(Track::Canary));
            steps.push(Step::Baseline);
            steps.push(Step::Ready(Track::Baseline));
            let analysed = canary_steps.iter().filter(|&&p| p < 100).count();
            let mut seen = 0;
            for &percent in canary_steps {
                steps.push(Step::Route(Routing::Weights(Weights::canary_step(percent))));
                steps.push(Step::Hold);
                steps.push(Step::Health);
                if percent < 100 {
                    seen += 1;
                    steps.push(Step::Analyse {
                        percent,
                        last: seen == analysed,
                    });
                }
            }
            promotion = steps.len();
            finish(&mut steps, Track::Canary);
            steps.push(Step::Remove(Track::Baseline));
            steps.push(Step::Remove(Track::Canary));
        }
    }
    Ok(Plan {
        strategy,
        traffic,
        steps,
        promotion,
        first_install,
    })
}

/// The plan with the chart's tests (`helm test`) run on the new version as soon as it is ready:
/// after the new track's first readiness wait, before any traffic reaches it or any promotion.
#[must_use]
pub fn with_tests(mut plan: Plan) -> Plan {
    let new = match plan.strategy {
        Strategy::Rolling => Track::Stable,
        Strategy::Canary => Track::Canary,
        Strategy::BlueGreen => Track::Green,
    };
    if let Some(ready) = plan.steps.iter().position(|step| *step == Step::Ready(new)) {
        plan.steps.insert(ready + 1, Step::Test(new));
        if plan.promotion > ready {
            plan.promotion += 1;
        }
    }
    plan
}

/// One step of undoing a deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undo {
    /// Write the routing back, then read it until it holds — before anything is deleted.
    Route(Routing),
    /// `helm rollback` the stable release to the revision before the deploy.
    RollbackStable,
    /// Wait for the stable release to be ready again.
    Ready,
    /// Remove a track's objects.
    Remove(Track),
}

impl fmt::Display for Undo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Route(routing) => write!(f, "route back: {routing}; read back until it holds"),
            Self::RollbackStable => f.write_str("helm rollback stable to the revision before"),
            Self::Ready => f.write_str("wait for stable to be ready"),
            Self::Remove(track) => write!(f, "remove {}", track.word()),
        }
    }
}

/// Whether step `stopped` is a removal after the promotion finished — the stable upgraded with
/// the new version, unpinned and routed home, and checked: every step before it ran.
#[must_use]
pub fn cleanup_after_promotion(plan: &Plan, stopped: usize) -> bool {
    let Some(Step::Remove(_)) = plan.steps.get(stopped) else {
        return false;
    };
    plan.steps[..stopped]
        .iter()
        .any(|step| matches!(step, Step::Unpin))
}

/// What undoes a plan stopped before step `stopped` (the steps before it ran — the one at
/// `stopped` may have half run, so it counts as run).
///
/// Traffic goes back first to what serves the old version. Once the stable release is being
/// upgraded (promotion), the new version, already judged, serves from the canary or green: the
/// stable is rolled back first (Helm's rollback renders the old revision's routing, all stable,
/// as its pods return to the old version) and waited for, and the routing is then read back
/// until it holds. Objects are removed last, when nothing routes to them.
///
/// A cleanup that fails after the promotion (removing the baseline, the canary or the green
/// once the stable serves the new, judged version) undoes nothing: the promoted version stays,
/// and what was not removed is reported ([`cleanup_after_promotion`]).
#[must_use]
pub fn undo(plan: &Plan, stopped: usize) -> Vec<Undo> {
    if cleanup_after_promotion(plan, stopped) {
        return Vec::new();
    }
    let ran = &plan.steps[..(stopped + 1).min(plan.steps.len())];
    let routed = ran.iter().any(|step| matches!(step, Step::Route(_)));
    let stable_touched = ran.iter().any(|step| {
        matches!(
            step,
            Step::Install {
                track: Track::Stable,
                ..
            }
        )
    });
    let home = Routing::all(plan.traffic, Track::Stable);
    let mut undo = Vec::new();
    if stable_touched && plan.first_install {
        undo.push(Undo::Remove(Track::Stable));
    } else if stable_touched {
        undo.push(Undo::RollbackStable);
        undo.push(Undo::Ready);
    }
    if routed && plan.strategy != Strategy::Rolling {
        undo.push(Undo::Route(home));
    }
    let removal_order = [Track::Baseline, Track::Canary, Track::Green];
    for track in removal_order {
        let created = ran.iter().any(|step| match step {
            Step::Install { track: t, .. } => *t == track,
            Step::Baseline => track == Track::Baseline,
            _ => false,
        });
        if created {
            undo.push(Undo::Remove(track));
        }
    }
    // Traffic first: when the stable was never touched, the route goes home before anything else.
    if !stable_touched {
        undo.sort_by_key(|step| !matches!(step, Undo::Route(_)));
    }
    undo
}
