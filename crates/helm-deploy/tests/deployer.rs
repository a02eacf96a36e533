//! The deployer driven without the binary: an in-memory cluster and helm, a manual clock, every
//! effect made to fail in turn — before the stop and during the undo — and a controller that
//! keeps rewriting the route. Whatever fails, the deploy finishes, nothing is removed while the
//! route still sends it traffic, and a deploy that says "rolled back" left the old version
//! serving all the traffic.

use std::collections::BTreeMap;

use gantry_helm_deploy::deployer::{
    ClusterError, Config, Deployer, Fetched, Finished, HelmExit, Intent, Kind, Millis, Scope,
    Snapshot,
};
use gantry_helm_deploy::failure::Grace;
use gantry_helm_deploy::helm::Chart;
use gantry_helm_deploy::options::Options;
use gantry_helm_deploy::plan::{Routing, Strategy, Track, Traffic};
use gantry_helm_deploy::release::{Release, Status};
use gantry_helm_deploy::report::{Decision, Outcome};
use gantry_helm_deploy::routing::{self, Route};
use serde_json::{Value, json};

const RELEASE: &str = "cart";
const NS: &str = "shop";
const START: Millis = 1_800_000_000_000;
const ALL: [Track; 4] = [Track::Stable, Track::Canary, Track::Baseline, Track::Green];

/// RFC 3339 of a manual-clock time (whole seconds).
fn timestamp(now: Millis) -> String {
    let seconds = i64::try_from(now / 1000).unwrap();
    k8s_openapi::jiff::Timestamp::from_second(seconds)
        .unwrap()
        .to_string()
}

fn manifest(name: &str, image: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/instance: {name}\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/instance: {name}\n    spec:\n      containers:\n        - name: app\n          image: {image}\n"
    )
}

fn image_of(manifest: &str) -> String {
    manifest
        .lines()
        .find_map(|line| line.trim().strip_prefix("image: "))
        .unwrap_or_default()
        .to_owned()
}

fn record(name: &str, revision: u32, status: Status, image: &str) -> Release {
    Release {
        name: name.to_owned(),
        namespace: NS.to_owned(),
        revision,
        status,
        chart: "cart".to_owned(),
        chart_version: "1.0.0".to_owned(),
        app_version: None,
        values: json!({}),
        manifest: manifest(name, image),
        description: String::new(),
        hooks: Vec::new(),
    }
}

fn virtual_service() -> Value {
    let host = |track: Track| json!({"destination": {"host": track.name(RELEASE)}, "weight": if track == Track::Stable {100} else {0}});
    json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": RELEASE, "namespace": NS},
        "spec": {"hosts": [RELEASE], "http": [{"route": [
            host(Track::Stable), host(Track::Canary), host(Track::Baseline), host(Track::Green)
        ]}]}
    })
}

/// A published chart's own `VirtualService`: everything to its Service.
fn charts_virtual_service() -> Value {
    json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": RELEASE, "namespace": NS},
        "spec": {"hosts": [RELEASE], "http": [{"route": [{"destination": {"host": RELEASE}}]}]}
    })
}

/// How the sim reads the route: the contract's, or the published chart's with its spec as
/// Helm applied it.
fn sim_route(published: bool) -> Route {
    if published {
        Route {
            traffic: Traffic::Istio,
            object: RELEASE.to_owned(),
            service: RELEASE.to_owned(),
            copies: true,
            original: Some(charts_virtual_service()["spec"].clone()),
        }
    } else {
        Route::contract(Traffic::Istio, RELEASE)
    }
}

fn deployment(name: &str, image: &str, crashing: bool, now: Millis) -> Value {
    let ready = i32::from(!crashing);
    json!({
        "metadata": {"name": name, "namespace": NS, "generation": 1, "uid": format!("uid-{name}"),
            "creationTimestamp": timestamp(now),
            "annotations": {"deployment.kubernetes.io/revision": "1"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/instance": name}},
            "template": {"metadata": {"labels": {"app.kubernetes.io/instance": name}}, "spec": {"containers": [{"name": "app", "image": image}]}}},
        "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": ready, "availableReplicas": ready}
    })
}

/// What the test makes fail.
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent faults, each a switch"
)]
#[derive(Debug, Clone, Copy, Default)]
struct Faults {
    /// The n-th effect (helm run, routing write, object write or delete) before the deploy stops.
    effect: Option<usize>,
    /// The n-th effect after the first failure (during the undo).
    undo_effect: Option<usize>,
    /// Once a fault was injected, a controller keeps the route as it was before the undo.
    rewriter: bool,
    /// The new version's pods crash.
    crash: bool,
    /// How long helm takes (a hook it waits for); 2 s when 0.
    helm_ms: Millis,
    /// This track's Service has no ready endpoint (its pods are ready, its selector is wrong).
    no_endpoints: Option<Track>,
    /// The chart ignores the pinned routing: a stable upgrade renders the route all on stable.
    ignores_pinning: bool,
    /// The new version's chart renders no workload (only a ConfigMap).
    no_workloads: bool,
    /// The chart is as published (`chart-contract: false`): the canary, baseline and green are
    /// copies Gantry makes of what `helm template` renders and of the live stable, traffic is
    /// steered through the chart's own `VirtualService` (patched, then its spec written back),
    /// and promotion writes the new pod template onto the stable.
    published: bool,
}

struct Sim {
    now: Millis,
    histories: BTreeMap<String, Vec<Release>>,
    route: Value,
    objects: BTreeMap<(String, String), Value>,
    helm: Option<(Millis, HelmExit, String, Option<u32>)>,
    faults: Faults,
    effects: usize,
    failed_at: Option<usize>,
    undo_effects: usize,
    /// The route as it stood when the first fault was injected (what the rewriter keeps).
    frozen: Option<Value>,
    violations: Vec<String>,
    following: Option<Scope>,
}

impl Sim {
    fn new(faults: Faults) -> Self {
        let mut histories = BTreeMap::new();
        histories.insert(
            RELEASE.to_owned(),
            vec![record(RELEASE, 1, Status::Deployed, "shop/cart:v1")],
        );
        let mut objects = BTreeMap::new();
        objects.insert(
            ("Deployment".to_owned(), RELEASE.to_owned()),
            deployment(RELEASE, "shop/cart:v1", false, START),
        );
        objects.insert(
            ("Service".to_owned(), RELEASE.to_owned()),
            json!({"metadata": {"name": RELEASE, "namespace": NS}, "spec": {"selector": {"app.kubernetes.io/instance": RELEASE}}}),
        );
        Self {
            now: START,
            histories,
            route: if faults.published {
                charts_virtual_service()
            } else {
                virtual_service()
            },
            objects,
            helm: None,
            faults,
            effects: 0,
            failed_at: None,
            undo_effects: 0,
            frozen: None,
            violations: Vec::new(),
            following: None,
        }
    }

    /// Whether this effect fails.
    fn fails(&mut self) -> bool {
        if self.failed_at.is_none() {
            let n = self.effects;
            self.effects += 1;
            if self.faults.effect == Some(n) {
                self.failed_at = Some(n);
                self.frozen = Some(self.route.clone());
                return true;
            }
            false
        } else {
            let n = self.undo_effects;
            self.undo_effects += 1;
            self.faults.undo_effect == Some(n)
        }
    }

    fn weights(&self) -> Routing {
        routing::read(&self.route, &sim_route(self.faults.published), NS, &ALL).unwrap()
    }

    /// All the traffic on stable.
    fn home(&self) -> bool {
        routing::equal(
            &self.weights(),
            &Routing::all(Traffic::Istio, Track::Stable),
            &ALL,
        )
    }

    /// Nothing is removed while the route sends it traffic.
    fn removing(&mut self, track: Track) {
        if let Routing::Weights(weights) = self.weights() {
            if weights.of(track) > 0 {
                self.violations.push(format!(
                    "{} removed while the route sends it {} %",
                    track.word(),
                    weights.of(track)
                ));
            }
        }
    }

    fn track_of(name: &str) -> Track {
        ALL.into_iter()
            .find(|track| track.name(RELEASE) == name)
            .unwrap()
    }

    fn start_helm(&mut self, args: &[String]) {
        let (verb, name) = (args[0].as_str(), args[1].clone());
        let fail = self.fails();
        let history = self.histories.entry(name.clone()).or_default();
        let next = history.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
        let exit = if fail {
            HelmExit::Failed(format!("Error: {verb} failed: the injected fault\n"))
        } else {
            HelmExit::Success
        };
        let written = match verb {
            "upgrade" => {
                let tag = args
                    .iter()
                    .find_map(|a| a.strip_prefix("image.tag="))
                    .unwrap();
                let status = if history.is_empty() {
                    Status::PendingInstall
                } else {
                    Status::PendingUpgrade
                };
                let mut written = record(&name, next, status, &format!("shop/cart:{tag}"));
                if self.faults.no_workloads {
                    written.manifest = format!(
                        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n# image: shop/cart:{tag}\n"
                    );
                }
                history.push(written);
                Some(next)
            }
            "rollback" if !fail => {
                let to: u32 = args[2].parse().unwrap();
                let image = image_of(&history.iter().find(|r| r.revision == to).unwrap().manifest);
                history.push(record(&name, next, Status::PendingRollback, &image));
                Some(next)
            }
            "uninstall" if !fail => {
                self.removing(Self::track_of(&name));
                None
            }
            _ => None,
        };
        if self.faults.ignores_pinning
            && !self.faults.published
            && name == RELEASE
            && args.iter().any(|a| a.starts_with("gantry.weights."))
        {
            self.route = virtual_service();
        }
        // Helm applies the objects (a published chart's own route as rendered, forcing the
        // fields Gantry wrote), then waits (for hooks) before it exits.
        if let (Some(revision), false) = (written, fail) {
            self.apply(&name, revision);
            if self.faults.published && name == RELEASE {
                self.route = charts_virtual_service();
            }
        }
        let takes = if self.faults.helm_ms == 0 {
            2_000
        } else {
            self.faults.helm_ms
        };
        self.helm = Some((self.now + takes, exit, name, written));
    }

    fn apply(&mut self, name: &str, revision: u32) {
        let history = &self.histories[name];
        let image = image_of(
            &history
                .iter()
                .find(|r| r.revision == revision)
                .unwrap()
                .manifest,
        );
        let crashing = self.faults.crash && image.ends_with(":v2");
        self.objects.insert(
            ("Deployment".to_owned(), name.to_owned()),
            deployment(name, &image, crashing, self.now),
        );
    }

    /// helm exits: its revision deployed (or failed), the workloads as the revision says.
    fn helm_exits(&mut self, exit: &HelmExit, name: &str, written: Option<u32>) {
        if args_uninstalled(exit, written) {
            self.histories.remove(name);
            self.objects
                .remove(&("Deployment".to_owned(), name.to_owned()));
            return;
        }
        let Some(revision) = written else { return };
        let history = self.histories.get_mut(name).unwrap();
        let success = *exit == HelmExit::Success;
        for record in history.iter_mut() {
            if record.revision == revision {
                record.status = if success {
                    Status::Deployed
                } else {
                    Status::Failed
                };
            } else if success && record.status == Status::Deployed {
                record.status = Status::Superseded;
            }
        }
    }

    /// The followed objects; a crash seen is the first failure (the undo's effects count from
    /// there).
    fn snapshot(&mut self) -> Snapshot {
        let names: Vec<String> = match &self.following {
            Some(Scope::Applied(workloads)) => workloads.iter().map(|w| w.name.clone()).collect(),
            Some(Scope::Labelled(_)) => vec![Track::Baseline.name(RELEASE)],
            None => Vec::new(),
        };
        let mut snapshot = Snapshot::default();
        for name in names {
            if let Some(object) = self
                .objects
                .get(&("Deployment".to_owned(), name.clone()))
                .cloned()
            {
                snapshot
                    .deployments
                    .push(serde_json::from_value(object.clone()).unwrap());
                let object = &object;
                let crashing = object["status"]["readyReplicas"] == 0;
                if crashing && self.failed_at.is_none() {
                    self.failed_at = Some(self.effects);
                    self.frozen = Some(self.route.clone());
                }
                let waiting = if crashing {
                    json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}})
                } else {
                    json!({"running": {}})
                };
                snapshot.pods.push(
                    serde_json::from_value(json!({
                        "metadata": {"name": format!("{name}-1"), "namespace": NS,
                            "labels": {"app.kubernetes.io/instance": name},
                            "creationTimestamp": object["metadata"]["creationTimestamp"]},
                        "status": {"phase": "Running", "containerStatuses": [{"name": "app", "image": "", "imageID": "",
                            "ready": !crashing, "restartCount": if crashing {3} else {0}, "state": waiting}]}
                    }))
                    .unwrap(),
                );
            }
        }
        snapshot
    }

    /// Runs a deploy of `v2` with `strategy` to its end.
    fn deploy(&mut self, strategy: Strategy) -> Outcome {
        match self.finish(strategy, &[]) {
            Finished::Ran { outcome, .. } => *outcome,
            other => panic!("{other:?}"),
        }
    }

    /// Runs a deploy of `v2` with `strategy` and these `set` values besides, to its end.
    fn finish(&mut self, strategy: Strategy, set: &[&str]) -> Finished {
        let options = Options {
            release: RELEASE.to_owned(),
            namespace: NS.to_owned(),
            chart: Chart {
                reference: "./chart".to_owned(),
                version: None,
                values: Vec::new(),
                set: std::iter::once("image.tag=v2")
                    .chain(set.iter().copied())
                    .map(str::to_owned)
                    .collect(),
            },
            helm_command: "helm".to_owned(),
            kube_context: None,
            strategy,
            traffic: Traffic::Istio,
            canary_steps: vec![100],
            step_interval: 5,
            analysis: None,
            health_checks: Vec::new(),
            timeout: 300,
            rollback_timeout: 120,
            recover_pending: false,
            test: false,
            chart_contract: !self.faults.published,
            grace: Grace::default(),
            environment: None,
            environment_url: None,
            production_environment: None,
        };
        let config = Config {
            options,
            judge: None,
            secrets: Vec::new(),
            deployment: false,
            helm_version: "v4.2.3".to_owned(),
        };
        let mut deployer = Deployer::new(config, self.now);
        for _ in 0..100_000 {
            let intent = deployer.poll_intent();
            match intent {
                Intent::Finish => return deployer.finished().expect("finished"),
                Intent::Helm(args) => self.start_helm(&args),
                Intent::StopHelm => {
                    if let Some(helm) = self.helm.as_mut() {
                        helm.0 = helm.0.min(self.now + 200);
                        helm.1 =
                            HelmExit::Failed("Error: UPGRADE FAILED: context canceled".to_owned());
                    }
                }
                Intent::History(name) => {
                    let mut history = self.histories.get(&name).cloned().unwrap_or_default();
                    history.sort_by_key(|r| std::cmp::Reverse(r.revision));
                    deployer.handle_history(self.now, Ok(history));
                }
                Intent::Follow(scope) => {
                    self.following = Some(scope);
                    let snapshot = self.snapshot();
                    deployer.handle_observed(self.now, Ok(snapshot));
                }
                Intent::Unfollow => self.following = None,
                Intent::Get(kind, name) => {
                    let key = (format!("{kind:?}"), name);
                    let object = self.objects.get(&key).cloned();
                    let fetched = match kind {
                        Kind::Deployment => Fetched::Deployment(
                            object.map(|o| Box::new(serde_json::from_value(o).unwrap())),
                        ),
                        Kind::Service => Fetched::Service(
                            object.map(|o| Box::new(serde_json::from_value(o).unwrap())),
                        ),
                        Kind::Route(_) => panic!("a route is read with ReadRoute"),
                    };
                    deployer.handle_object(self.now, Ok(fetched));
                }
                Intent::Put(object) => {
                    let done = if self.fails() {
                        Err(ClusterError::refused("the injected fault"))
                    } else {
                        let value = match object {
                            gantry_helm_deploy::deployer::Object::Deployment(d) => {
                                ("Deployment", serde_json::to_value(*d).unwrap())
                            }
                            gantry_helm_deploy::deployer::Object::Service(s) => {
                                ("Service", serde_json::to_value(*s).unwrap())
                            }
                            gantry_helm_deploy::deployer::Object::Route(..) => {
                                panic!("the route is the chart's own")
                            }
                        };
                        let name = value.1["metadata"]["name"].as_str().unwrap().to_owned();
                        let mut object = value.1;
                        if value.0 == "Deployment" {
                            let image =
                                object["spec"]["template"]["spec"]["containers"][0]["image"]
                                    .as_str()
                                    .unwrap_or_default();
                            let crashing = self.faults.crash && image.ends_with(":v2");
                            object["status"] =
                                deployment(&name, "", crashing, self.now)["status"].clone();
                            object["metadata"]["creationTimestamp"] = json!(timestamp(self.now));
                            object["metadata"]["generation"] = json!(1);
                        }
                        self.objects.insert((value.0.to_owned(), name), object);
                        Ok(())
                    };
                    deployer.handle_done(self.now, done);
                }
                Intent::Delete(kind, name) => {
                    let done = if self.fails() {
                        Err(ClusterError::refused("the injected fault"))
                    } else {
                        if kind == Kind::Deployment {
                            self.removing(Self::track_of(&name));
                        }
                        self.objects.remove(&(format!("{kind:?}"), name));
                        Ok(())
                    };
                    deployer.handle_done(self.now, done);
                }
                Intent::ReadRoute(_) => {
                    let shown = match (&self.frozen, self.faults.rewriter) {
                        (Some(frozen), true) => {
                            self.route = frozen.clone();
                            frozen.clone()
                        }
                        _ => self.route.clone(),
                    };
                    deployer.handle_route(self.now, Ok(shown));
                }
                Intent::WriteRoute {
                    route,
                    tracks,
                    routing,
                } => {
                    let done = if self.fails() {
                        Err(ClusterError::refused("the injected fault"))
                    } else {
                        self.route =
                            routing::write(&self.route, &route, NS, tracks, &routing).unwrap();
                        Ok(())
                    };
                    deployer.handle_done(self.now, done);
                }
                Intent::Endpoints(service) => {
                    let broken = self
                        .faults
                        .no_endpoints
                        .is_some_and(|track| track.name(RELEASE) == service);
                    let ready = !broken
                        && self
                            .objects
                            .get(&("Deployment".to_owned(), service))
                            .is_some_and(|d| d["status"]["readyReplicas"] != 0);
                    deployer.handle_count(self.now, Ok(u32::from(ready)));
                }
                Intent::ListRoutes(_) => {
                    deployer.handle_routes(self.now, Ok(vec![self.route.clone()]));
                }
                Intent::Render(args) => {
                    // As a chart does: objects named after the release, or fullnameOverride.
                    let name = args
                        .iter()
                        .find_map(|a| a.strip_prefix("fullnameOverride="))
                        .unwrap_or(&args[1]);
                    let tag = args
                        .iter()
                        .find_map(|a| a.strip_prefix("image.tag="))
                        .unwrap_or("v0");
                    let service = format!(
                        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    app.kubernetes.io/instance: {name}\n  ports:\n    - port: 80\n"
                    );
                    deployer.handle_rendered(
                        self.now,
                        Ok(manifest(name, &format!("shop/cart:{tag}")) + &service),
                    );
                }
                Intent::Events(_) | Intent::Logs { .. } => {
                    deployer.handle_lines(self.now, Ok(vec!["BackOff: back-off".to_owned()]));
                }
                Intent::Wait(until) => {
                    assert!(until >= self.now, "a wait into the past");
                    match self.helm.take() {
                        Some((done, exit, name, written)) if done <= until => {
                            self.now = self.now.max(done);
                            self.helm_exits(&exit, &name, written);
                            deployer.handle_helm(self.now, exit);
                        }
                        helm => {
                            self.helm = helm;
                            self.now = until.max(self.now + 1);
                            deployer.handle_timer(self.now);
                        }
                    }
                }
                other => panic!("not expected here: {other:?}"),
            }
        }
        panic!("the deployer did not finish");
    }

    /// The stable's image: the release record's, which the live Deployment runs too.
    fn stable_image(&self) -> String {
        let history = &self.histories[RELEASE];
        let head = history.iter().max_by_key(|r| r.revision).unwrap();
        assert_eq!(head.status, Status::Deployed, "{history:?}");
        let recorded = image_of(&head.manifest);
        let live = &self.objects[&("Deployment".to_owned(), RELEASE.to_owned())];
        assert_eq!(
            live["spec"]["template"]["spec"]["containers"][0]["image"], recorded,
            "the live stable runs what the release says"
        );
        recorded
    }
}

fn args_uninstalled(exit: &HelmExit, written: Option<u32>) -> bool {
    // An uninstall writes no revision; its success removes the release.
    written.is_none() && *exit == HelmExit::Success
}

fn effects_of(strategy: Strategy, published: bool) -> usize {
    let mut sim = Sim::new(Faults {
        published,
        ..Faults::default()
    });
    let outcome = sim.deploy(strategy);
    assert_eq!(outcome.failure, None, "{outcome:?}");
    sim.effects
}

const STRATEGIES: [Strategy; 3] = [Strategy::Rolling, Strategy::BlueGreen, Strategy::Canary];

/// Each strategy on the chart contract (each track a release) and on a chart as published
/// (each track a copy, the chart's own route patched and written back).
fn modes() -> impl Iterator<Item = (Strategy, bool)> {
    STRATEGIES
        .into_iter()
        .flat_map(|strategy| [(strategy, false), (strategy, true)])
}

#[test]
fn a_healthy_deploy_of_each_strategy_ends_with_the_new_version_serving_everything() {
    for (strategy, published) in modes() {
        let mut sim = Sim::new(Faults {
            published,
            ..Faults::default()
        });
        let outcome = sim.deploy(strategy);
        let expected = if strategy == Strategy::Rolling {
            Decision::Deployed
        } else {
            Decision::Promoted
        };
        assert_eq!(
            outcome.decision,
            Some(expected),
            "{strategy:?} (published: {published}): {outcome:?}"
        );
        assert_eq!(sim.stable_image(), "shop/cart:v2");
        assert!(sim.home(), "{}", sim.weights());
        assert!(sim.violations.is_empty(), "{:?}", sim.violations);
        // The canary, baseline and green are gone.
        assert_eq!(sim.histories.len(), 1, "{:?}", sim.histories.keys());
        assert_eq!(
            sim.objects.len(),
            2,
            "{strategy:?} (published: {published}): {:?}",
            sim.objects.keys()
        );
        let said = |words: &str| {
            outcome
                .timeline
                .iter()
                .any(|(_, note)| note.contains(words))
        };
        if published && strategy != Strategy::Rolling {
            // The tracks were copies, the chart's own route was steered and is as Helm applied
            // it, and the stable got the new template before traffic went home.
            assert!(said("the tracks are copies"), "{:#?}", outcome.timeline);
            assert!(
                said("written onto Deployment cart"),
                "{:#?}",
                outcome.timeline
            );
            assert_eq!(sim.route, charts_virtual_service());
        } else {
            assert!(!said("the tracks are copies"), "{:#?}", outcome.timeline);
        }
    }
}

/// Every effect of every strategy fails in turn: the deploy stops, is undone traffic first,
/// and reports rolled back with v1 serving all the traffic — or, when the fault is in the
/// cleanup after the promotion, stays promoted with what was left listed.
#[test]
fn every_stop_point_of_every_strategy_is_undone_or_left_promoted() {
    for (strategy, published) in modes() {
        // Both ends must be reached, or the loop proved nothing.
        let (mut rolled_back, mut promoted) = (0, 0);
        for effect in 0..effects_of(strategy, published) {
            let mut sim = Sim::new(Faults {
                published,
                effect: Some(effect),
                ..Faults::default()
            });
            let outcome = sim.deploy(strategy);
            assert!(sim.failed_at.is_some(), "effect {effect} was never made");
            let case = format!(
                "{strategy:?} (published: {published}), effect {effect}: {:#?}",
                outcome.timeline
            );
            assert!(sim.violations.is_empty(), "{case}: {:?}", sim.violations);
            assert!(sim.home(), "{case}: {}", sim.weights());
            match outcome.decision {
                Some(Decision::RolledBack) => {
                    rolled_back += 1;
                    assert_eq!(sim.stable_image(), "shop/cart:v1", "{case}");
                }
                Some(Decision::Promoted) => {
                    promoted += 1;
                    assert_eq!(sim.stable_image(), "shop/cart:v2", "{case}");
                    assert!(
                        outcome
                            .failure
                            .as_deref()
                            .is_some_and(|f| f.contains("cleanup")),
                        "{case}"
                    );
                    assert!(!outcome.left.is_empty(), "{case}");
                }
                other => panic!("{case}: decided {other:?}"),
            }
        }
        assert!(
            rolled_back > 0,
            "{strategy:?} (published: {published}): no stop was rolled back"
        );
        if strategy != Strategy::Rolling {
            assert!(
                promoted > 0,
                "{strategy:?} (published: {published}): no cleanup after promotion failed"
            );
        }
    }
}

/// A crash of the new version, then each effect of the undo failing in turn: the deploy still
/// finishes, never removes what the route sends traffic to, and says what it left; "rolled
/// back" only when v1 serves everything.
#[test]
fn every_undo_step_failing_is_reported_and_never_removes_what_serves() {
    for (strategy, published) in modes() {
        // Some undo step must have failed, and the undo must have run whole past its last.
        let (mut failed, mut rolled_back) = (0, 0);
        for undo_effect in 0..8 {
            let mut sim = Sim::new(Faults {
                published,
                crash: true,
                undo_effect: Some(undo_effect),
                ..Faults::default()
            });
            let outcome = sim.deploy(strategy);
            let case = format!(
                "{strategy:?} (published: {published}), undo effect {undo_effect}: {:#?}",
                outcome.timeline
            );
            assert!(sim.violations.is_empty(), "{case}: {:?}", sim.violations);
            assert!(
                outcome
                    .failure
                    .as_deref()
                    .is_some_and(|f| f.contains("CrashLoopBackOff")),
                "{case}: {:?}",
                outcome.failure
            );
            if outcome.decision == Some(Decision::RolledBack) {
                rolled_back += 1;
                assert_eq!(sim.stable_image(), "shop/cart:v1", "{case}");
                assert!(sim.home(), "{case}: {}", sim.weights());
            } else {
                failed += 1;
                assert_eq!(outcome.decision, Some(Decision::Failed), "{case}");
                assert!(
                    outcome
                        .left
                        .iter()
                        .any(|line| line.starts_with("not undone")),
                    "{case}: {:?}",
                    outcome.left
                );
            }
        }
        assert!(
            failed > 0 && rolled_back > 0,
            "{strategy:?} (published: {published}): {failed} failed, {rolled_back} rolled back"
        );
    }
}

/// Another controller keeps the route where it was when the deploy stopped (the canary or the
/// green serving): the undo writes it back until rollback-timeout, then stops with the canary
/// and the green still installed — never removed under the traffic — and says so.
#[test]
fn a_route_that_never_holds_keeps_what_it_serves_and_stops_at_the_rollback_timeout() {
    for (strategy, published) in modes().filter(|(s, _)| *s != Strategy::Rolling) {
        // The stops with traffic off stable when the fault came: there must be some.
        let mut held = 0;
        let effects = effects_of(strategy, published);
        for effect in 0..effects {
            let mut sim = Sim::new(Faults {
                published,
                effect: Some(effect),
                rewriter: true,
                ..Faults::default()
            });
            let outcome = sim.deploy(strategy);
            let case = format!(
                "{strategy:?} (published: {published}), effect {effect}: {:#?}",
                outcome.timeline
            );
            assert!(sim.violations.is_empty(), "{case}: {:?}", sim.violations);
            let serving_new = !sim.home();
            if serving_new && outcome.decision != Some(Decision::Promoted) {
                held += 1;
                assert_eq!(outcome.decision, Some(Decision::Failed), "{case}");
                assert!(
                    outcome.left.iter().any(|line| line.contains("route back")),
                    "{case}: {:?}",
                    outcome.left
                );
                // Bounded by rollback-timeout (120 s) plus the steps before it.
                assert!(sim.now - START < 600_000, "{case}");
            }
        }
        assert!(
            held > 0,
            "{strategy:?} (published: {published}): no stop left the route off stable"
        );
    }
}

/// The crash of the new version is found while helm still runs (waiting 60 s for a hook): helm
/// is stopped, the pod is the cause, and the rollback starts seconds after the crash, not after
/// the hook.
#[test]
fn a_crash_while_helm_runs_stops_helm_and_is_the_cause() {
    let mut sim = Sim::new(Faults {
        crash: true,
        helm_ms: 60_000,
        ..Faults::default()
    });
    let outcome = sim.deploy(Strategy::Rolling);
    assert_eq!(outcome.decision, Some(Decision::RolledBack), "{outcome:?}");
    assert!(
        outcome
            .failure
            .as_deref()
            .is_some_and(|f| f.contains("CrashLoopBackOff")),
        "{outcome:?}"
    );
    let stopped = outcome
        .timeline
        .iter()
        .find(|(_, note)| note.starts_with("stopping helm"))
        .expect("helm was stopped");
    assert!(stopped.0 < 5.0, "{:?}", outcome.timeline);
    let rollback = outcome
        .timeline
        .iter()
        .find(|(_, note)| note.starts_with("undo: helm rollback"))
        .expect("rolled back");
    assert!(rollback.0 < 10.0, "{:?}", outcome.timeline);
    assert_eq!(sim.stable_image(), "shop/cart:v1");
}

/// A canary whose Service has no ready endpoint is never given traffic: the route is not
/// written, and the deploy rolls back saying which Service.
#[test]
fn a_route_to_a_service_with_no_ready_endpoint_is_not_written() {
    for strategy in [Strategy::Canary, Strategy::BlueGreen] {
        let new = if strategy == Strategy::Canary {
            Track::Canary
        } else {
            Track::Green
        };
        let mut sim = Sim::new(Faults {
            no_endpoints: Some(new),
            ..Faults::default()
        });
        let outcome = sim.deploy(strategy);
        assert_eq!(outcome.decision, Some(Decision::RolledBack), "{outcome:?}");
        let failure = outcome.failure.unwrap_or_default();
        assert!(
            failure.contains(&format!(
                "Service {} has no ready endpoint",
                new.name(RELEASE)
            )),
            "{failure}"
        );
        assert!(sim.home());
        assert_eq!(sim.stable_image(), "shop/cart:v1");
    }
}

/// A chart that renders its own routing over the pinned one when the stable is upgraded at
/// promotion: the routing is read back after the upgrade, the change is caught, and the deploy
/// rolls back rather than report a promotion it cannot vouch for.
#[test]
fn a_stable_upgrade_that_drops_the_pinned_routing_is_caught() {
    let mut sim = Sim::new(Faults {
        ignores_pinning: true,
        ..Faults::default()
    });
    let outcome = sim.deploy(Strategy::Canary);
    assert_eq!(outcome.decision, Some(Decision::RolledBack), "{outcome:?}");
    assert!(
        outcome
            .failure
            .as_deref()
            .is_some_and(|f| f.contains("did not keep the routing pinned")),
        "{outcome:?}"
    );
    assert_eq!(sim.stable_image(), "shop/cart:v1");
    assert!(sim.home());
}

/// A new version whose chart renders no workload: a canary or green of it is never given
/// traffic (there is nothing to judge or to serve); a rolling deploy says no pod was judged.
#[test]
fn a_release_with_no_workload_is_never_given_traffic() {
    for strategy in [Strategy::Canary, Strategy::BlueGreen] {
        let mut sim = Sim::new(Faults {
            no_workloads: true,
            ..Faults::default()
        });
        let outcome = sim.deploy(strategy);
        assert_eq!(outcome.decision, Some(Decision::RolledBack), "{outcome:?}");
        assert!(
            outcome
                .failure
                .as_deref()
                .is_some_and(|f| f.contains("nothing to send traffic to")),
            "{outcome:?}"
        );
        assert!(sim.home());
    }
    let mut sim = Sim::new(Faults {
        no_workloads: true,
        ..Faults::default()
    });
    let outcome = sim.deploy(Strategy::Rolling);
    assert_eq!(outcome.decision, Some(Decision::Deployed));
    assert!(
        outcome
            .timeline
            .iter()
            .any(|(_, note)| note.ends_with("no pod was judged")),
        "{outcome:?}"
    );
}

/// What would be found only once the canary or green is installed is refused before anything
/// changes: a track's release left by an earlier deploy, `fullnameOverride` (every track would
/// render the same names), a stable a baseline cannot be told from.
#[test]
fn preflight_refuses_what_would_collide_before_anything_changes() {
    let refused = |sim: &mut Sim, strategy: Strategy, set: &[&str]| match sim.finish(strategy, set)
    {
        Finished::Refused(message) => {
            assert_eq!(sim.effects, 0, "nothing was changed: {message}");
            message
        }
        other => panic!("{other:?}"),
    };
    for strategy in [Strategy::Canary, Strategy::BlueGreen] {
        let message = refused(
            &mut Sim::new(Faults::default()),
            strategy,
            &["fullnameOverride=cart"],
        );
        assert!(message.contains("fullnameOverride"), "{message}");
        let new = if strategy == Strategy::Canary {
            Track::Canary
        } else {
            Track::Green
        };
        let mut sim = Sim::new(Faults::default());
        sim.histories.insert(
            new.name(RELEASE),
            vec![record(
                &new.name(RELEASE),
                1,
                Status::Failed,
                "shop/cart:v0",
            )],
        );
        let message = refused(&mut sim, strategy, &[]);
        assert!(message.contains("already installed"), "{message}");
    }
    let mut sim = Sim::new(Faults::default());
    let stable = sim
        .objects
        .get_mut(&("Deployment".to_owned(), RELEASE.to_owned()))
        .unwrap();
    stable["spec"]["selector"]["matchLabels"] = json!({"app": "cart"});
    let message = refused(&mut sim, Strategy::Canary, &[]);
    assert!(message.contains("its selector does not match"), "{message}");
    // A rolling deploy has no other track: fullnameOverride is the chart's business.
    let mut sim = Sim::new(Faults::default());
    assert!(matches!(
        sim.finish(Strategy::Rolling, &["fullnameOverride=cart"]),
        Finished::Ran { .. }
    ));
}
