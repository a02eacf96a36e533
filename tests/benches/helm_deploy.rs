//! helm-deploy's speed in the simulation (the built binary, Helm's v4 library as `helm`, the
//! fake API server's controller): for each failure cause, seconds from the moment a new pod first
//! shows it to the first write of the rollback (`helm --atomic` waits out its 300 s); and the API
//! requests per minute while a 50-pod rollout is followed.
//!
//! `cargo bench -p gantry-tests --bench helm_deploy` (needs `bash scripts/test.sh`'s venv).

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![expect(clippy::cast_precision_loss, reason = "request counts, small")]

use std::time::Instant;

use gantry_testkit::fake_kube::{Behaviour, FakeKube};
use gantry_testkit::harness::RunnerHarness;
use serde_json::json;

struct Cluster {
    fake: FakeKube,
    dir: tempfile::TempDir,
    helm: std::path::PathBuf,
}

impl Cluster {
    fn start() -> Self {
        let fake = FakeKube::start();
        fake.create(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kubeconfig"), fake.kubeconfig()).unwrap();
        let helm = gantry_testkit::helm_stand_in(dir.path());
        // The reference chart's post-upgrade migration hook, when enabled, runs 20 s.
        fake.behave("migrate-20s", Behaviour::Completes(20));
        Self { fake, dir, helm }
    }

    fn deploy(
        &self,
        image: &str,
        replicas: u32,
        extra: &[(&str, &str)],
    ) -> gantry_testkit::harness::RunOutcome {
        let chart = gantry_testkit::repository_root().join("examples/helm/chart");
        let mut harness = RunnerHarness::new()
            .env("KUBECONFIG", self.dir.path().join("kubeconfig").to_str().unwrap())
            .input("release", "cart")
            .input("chart", chart.to_str().unwrap())
            .input("namespace", "shop")
            .input("helm-command", self.helm.to_str().unwrap())
            .input(
                "set",
                &format!("image.repository=shop/cart\nimage.tag={image}\nautoscaling.enabled=false\nreplicaCount={replicas}"),
            )
            .input("timeout", "10m");
        for (name, value) in extra {
            harness = harness.input(name, value);
        }
        harness.run(&["helm-deploy"])
    }
}

fn main() {
    println!(
        "first sign of the failure (after any grace) → first rollback write (helm --atomic: 300 s):"
    );
    for (tag, behaviour, extra) in [
        ("crash", Behaviour::CrashLoop, &[][..]),
        (
            "crash",
            Behaviour::CrashLoop,
            &[(
                "set",
                "image.repository=shop/cart\nimage.tag=crash\nautoscaling.enabled=false\nreplicaCount=2\nmigration.enabled=true\nmigration.image=shop/migrate-20s",
            )][..],
        ),
        ("oom", Behaviour::OomKilled, &[][..]),
        ("missing", Behaviour::ImagePull, &[][..]),
        ("noconfig", Behaviour::ConfigError, &[][..]),
        (
            "huge",
            Behaviour::Unschedulable,
            &[("unschedulable-grace", "10s")][..],
        ),
        (
            "unready",
            Behaviour::Unready,
            &[
                ("not-ready-grace", "5s"),
                (
                    "set",
                    "image.repository=shop/cart\nimage.tag=unready\nautoscaling.enabled=false\nreplicaCount=2\nprobes.readiness.initialDelaySeconds=0\nprobes.readiness.periodSeconds=1\nprobes.readiness.failureThreshold=1",
                ),
            ][..],
        ),
    ] {
        let cluster = Cluster::start();
        cluster.fake.behave(tag, behaviour);
        assert_eq!(cluster.deploy("v1", 2, &[]).exit_code, Some(0));
        cluster.fake.mark();
        let before = cluster.fake.requests().len();
        let started = Instant::now();
        let outcome = cluster.deploy(tag, 2, extra);
        let total = started.elapsed().as_secs_f64();
        assert_eq!(
            outcome.exit_code,
            Some(1),
            "{tag}: {}\n{}",
            outcome.summary,
            outcome.stderr
        );
        let requests = cluster.fake.requests();
        // The unready pod never shows a failing state of its own: its clock starts at its start.
        let first = cluster.fake.first_failure().unwrap_or_else(|| {
            requests[before..]
                .iter()
                .find(|r| r.method == "PATCH" && r.path.ends_with("/deployments/cart"))
                .map_or(0.0, |r| r.unix)
        });
        // Helm's rollback begins by writing its pending-rollback record (a new release Secret).
        let rollback = requests[before..]
            .iter()
            .find(|r| r.unix > first && r.method == "POST" && r.path.ends_with("/secrets"))
            .map_or(f64::NAN, |r| r.unix);
        // A grace (and the unready pod's probe allowance, 1 s here) is waited on purpose.
        let allowed: f64 = match tag {
            "huge" => 10.0,
            "unready" => 5.0 + 1.0,
            _ => 0.0,
        };
        println!(
            "  {:<32} {:>6.2} s   (whole deploy and rollback {total:.1} s{})",
            outcome
                .output("failure-reason")
                .split(':')
                .nth(1)
                .map_or(tag, str::trim)
                .split(" — ")
                .next()
                .unwrap_or(tag),
            rollback - first - allowed,
            extra.first().map_or(String::new(), |(name, value)| {
                if value.contains("migration.enabled=true") {
                    "; while helm waits for a 20 s post-upgrade hook".to_owned()
                } else if *name == "set" {
                    String::new()
                } else {
                    format!("; after {name} {value}")
                }
            })
        );
    }

    println!("API requests while following a 50-pod rollout:");
    let cluster = Cluster::start();
    cluster.fake.behave("slow", Behaviour::Slow(20));
    assert_eq!(cluster.deploy("v1", 50, &[]).exit_code, Some(0));
    let before = cluster.fake.requests().len();
    let started = Instant::now();
    let outcome = cluster.deploy("slow", 50, &[]);
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(outcome.exit_code, Some(0), "{}", outcome.stderr);
    let requests = cluster.fake.requests();
    let ours: Vec<_> = requests[before..]
        .iter()
        .filter(|r| {
            [
                "/deployments",
                "/replicasets",
                "/pods",
                "/statefulsets",
                "/daemonsets",
            ]
            .iter()
            .any(|kind| r.path.ends_with(kind))
        })
        .collect();
    let watches = ours.iter().filter(|r| r.query.contains("watch=")).count();
    println!(
        "  {} requests in {seconds:.1} s ({} lists, {watches} watches): {:.1} a minute",
        ours.len(),
        ours.len() - watches,
        ours.len() as f64 * 60.0 / seconds
    );
}
