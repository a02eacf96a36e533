//! Helm's release Secrets decoded; the baseline copy; helm's command lines.

use std::collections::BTreeMap;

use base64::Engine as _;
use gantry_helm_deploy::helm::{self, Chart, Helm};
use gantry_helm_deploy::plan::Track;
use gantry_helm_deploy::release::{self, Head, Status};
use gantry_helm_deploy::{baseline, routing::INSTANCE};
use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Secret, Service};
use serde_json::json;

fn secret(name: &str, revision: u32, status: &str, data: Vec<u8>) -> Secret {
    Secret {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(release::secret_name(name, revision)),
            labels: Some(BTreeMap::from([
                ("owner".to_owned(), "helm".to_owned()),
                ("name".to_owned(), name.to_owned()),
                ("status".to_owned(), status.to_owned()),
                ("version".to_owned(), revision.to_string()),
            ])),
            ..Default::default()
        },
        type_: Some(release::SECRET_TYPE.to_owned()),
        data: Some(BTreeMap::from([("release".to_owned(), ByteString(data))])),
        ..Default::default()
    }
}

fn record(name: &str, revision: u32, status: &str) -> serde_json::Value {
    json!({
        "name": name, "namespace": "shop", "version": revision,
        "info": {"status": status, "description": "Upgrade complete"},
        "chart": {"metadata": {"name": "web", "version": "1.2.3", "appVersion": "2.0"}},
        "config": {"image": {"tag": format!("v{revision}")}},
        "manifest": "---\n# Source: web/templates/deployment.yaml\nkind: Deployment\n"
    })
}

#[test]
fn release_secrets_decode_and_the_head_says_whether_a_release_is_stuck() {
    let secrets = vec![
        secret(
            "web",
            1,
            "superseded",
            release::encode(&record("web", 1, "superseded")),
        ),
        secret(
            "web",
            3,
            "pending-upgrade",
            release::encode(&record("web", 3, "pending-upgrade")),
        ),
        secret(
            "web",
            2,
            "deployed",
            release::encode(&record("web", 2, "deployed")),
        ),
        secret(
            "web-canary",
            1,
            "deployed",
            release::encode(&record("web-canary", 1, "deployed")),
        ),
    ];
    let history = release::history("web", &secrets).unwrap();
    assert_eq!(
        history.iter().map(|r| r.revision).collect::<Vec<_>>(),
        [3, 2, 1]
    );
    assert_eq!(history[1].values["image"]["tag"], "v2");
    assert_eq!(history[1].chart_version, "1.2.3");
    assert!(history[1].manifest.contains("kind: Deployment"));
    match release::head(&history) {
        Head::Pending { head, deployed } => {
            assert_eq!(head.status, Status::PendingUpgrade);
            assert_eq!(deployed.map(|r| r.revision), Some(2));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        release::head(&history[1..]),
        Head::Ready {
            head: history[1].clone(),
            deployed: Some(history[1].clone())
        }
    );
    assert_eq!(release::head(&[]), Head::New);
}

#[test]
fn the_gzip_magic_decides_and_a_broken_record_names_its_secret() {
    // Helm reads an uncompressed record too.
    let plain =
        base64::engine::general_purpose::STANDARD.encode(record("web", 1, "deployed").to_string());
    let decoded = release::decode(&secret("web", 1, "deployed", plain.into_bytes())).unwrap();
    assert_eq!(decoded.status, Status::Deployed);
    for (data, problem) in [
        (b"%%%".to_vec(), "not base64"),
        (
            base64::engine::general_purpose::STANDARD
                .encode([0x1f, 0x8b, 0x08, 0, 1])
                .into_bytes(),
            "not gzip",
        ),
        (
            base64::engine::general_purpose::STANDARD
                .encode(b"{\"name\":1}")
                .into_bytes(),
            "not a Helm release record",
        ),
        (
            release::encode(&record("web", 1, "sleeping")),
            "unknown release status",
        ),
    ] {
        let error = release::decode(&secret("web", 1, "x", data)).unwrap_err();
        assert_eq!(error.secret, "sh.helm.release.v1.web.v1");
        assert!(error.problem.contains(problem), "{error}");
    }
}

fn stable_deployment() -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "9", "uid": "u",
            "labels": {INSTANCE: "web", "app.kubernetes.io/name": "web", "app.kubernetes.io/managed-by": "Helm"},
            "annotations": {"meta.helm.sh/release-name": "web", "deployment.kubernetes.io/revision": "4", "team": "shop"}},
        "spec": {"replicas": 6, "selector": {"matchLabels": {INSTANCE: "web", "app.kubernetes.io/name": "web"}},
            "template": {"metadata": {"labels": {INSTANCE: "web", "app.kubernetes.io/name": "web"}},
                "spec": {"containers": [{"name": "web", "image": "shop/web:1"}]}}},
        "status": {"replicas": 6}
    }))
    .unwrap()
}

#[test]
fn the_baseline_is_the_stable_at_the_canarys_size_selecting_only_its_own_pods() {
    let copy = baseline::deployment(&stable_deployment(), "web", 2).unwrap();
    let spec = copy.spec.as_ref().unwrap();
    assert_eq!(copy.metadata.name.as_deref(), Some("web-baseline"));
    assert_eq!(spec.replicas, Some(2));
    let selector = spec.selector.match_labels.as_ref().unwrap();
    assert_eq!(selector[INSTANCE], "web-baseline");
    let pod_labels = spec
        .template
        .metadata
        .as_ref()
        .unwrap()
        .labels
        .as_ref()
        .unwrap();
    // Its pods match its selector and not the stable's.
    assert!(selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v)));
    assert_ne!(pod_labels[INSTANCE], "web");
    assert_eq!(
        spec.template.spec.as_ref().unwrap().containers[0]
            .image
            .as_deref(),
        Some("shop/web:1")
    );
    assert!(
        copy.metadata.resource_version.is_none()
            && copy.metadata.uid.is_none()
            && copy.status.is_none()
    );
    let labels = copy.metadata.labels.as_ref().unwrap();
    assert!(!labels.contains_key("app.kubernetes.io/managed-by"));
    let annotations = copy.metadata.annotations.as_ref().unwrap();
    assert_eq!(annotations.keys().collect::<Vec<_>>(), ["team"]);

    let mut unlabelled = stable_deployment();
    unlabelled
        .spec
        .as_mut()
        .unwrap()
        .selector
        .match_labels
        .as_mut()
        .unwrap()
        .remove(INSTANCE);
    assert!(baseline::deployment(&unlabelled, "web", 2).is_err());

    let service: Service = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"type": "NodePort", "clusterIP": "10.0.0.1", "selector": {INSTANCE: "web"}, "ports": [{"port": 80, "nodePort": 30080}]}
    }))
    .unwrap();
    let copy = baseline::service(&service, "web").unwrap();
    let spec = copy.spec.unwrap();
    assert_eq!(spec.selector.unwrap()[INSTANCE], "web-baseline");
    assert!(spec.cluster_ip.is_none() && spec.ports.unwrap()[0].node_port.is_none());
}

#[test]
fn helm_runs_without_its_own_wait_and_the_deploys_values_win() {
    let helm = Helm {
        namespace: "shop".to_owned(),
        kube_context: Some("prod".to_owned()),
        contract: true,
        force_conflicts: false,
    };
    let chart = Chart {
        reference: "oci://ghcr.io/shop/web".to_owned(),
        version: Some("1.2.3".to_owned()),
        values: vec!["prod.yaml".to_owned()],
        set: vec!["gantry.track=stable".to_owned(), "image.tag=v2".to_owned()],
    };
    let args = helm.upgrade(
        "web",
        Track::Canary,
        &chart,
        &["gantry.weights.canary=100".to_owned()],
        90,
    );
    assert_eq!(
        args,
        [
            "upgrade",
            "web-canary",
            "oci://ghcr.io/shop/web",
            "--install",
            "--namespace",
            "shop",
            "--kube-context",
            "prod",
            "--version",
            "1.2.3",
            "--values",
            "prod.yaml",
            "--set",
            "gantry.track=stable",
            "--set",
            "image.tag=v2",
            "--set",
            "gantry.track=canary",
            "--set",
            "gantry.weights.canary=100",
            "--timeout",
            "90s"
        ]
    );
    for args in [
        args,
        helm.rollback("web", 4, 0),
        helm.uninstall("web-canary", 30),
    ] {
        assert!(
            !args.iter().any(|a| a.starts_with("--wait")
                || a == "--atomic"
                || a == "--rollback-on-failure"),
            "{args:?}"
        );
    }
    // A chart as published is given the user's values alone.
    let published = Helm {
        contract: false,
        ..helm.clone()
    };
    let args = published.upgrade("web", Track::Stable, &chart, &[], 90);
    assert_eq!(
        args.iter()
            .filter(|a| a.starts_with("gantry."))
            .collect::<Vec<_>>(),
        ["gantry.track=stable"],
        "only the user's own --set: {args:?}"
    );
    assert_eq!(args.iter().filter(|a| *a == "--set").count(), 2);
    // Helm 4 applies server-side: where Gantry wrote the chart's own route or Service, Helm's
    // upgrade and rollback take those fields back rather than fail on the conflict.
    let forcing = Helm {
        force_conflicts: true,
        ..helm.clone()
    };
    for args in [
        forcing.upgrade("web", Track::Stable, &chart, &[], 90),
        forcing.rollback("web", 4, 90),
    ] {
        assert_eq!(
            args.iter().filter(|a| *a == "--force-conflicts").count(),
            1,
            "{args:?}"
        );
    }
    assert!(
        !helm
            .upgrade("web", Track::Stable, &chart, &[], 90)
            .contains(&"--force-conflicts".to_owned())
    );
    assert!(gantry_helm_deploy::helm::applies_server_side(
        "v4.2.3+g8f7e1d2"
    ));
    assert!(gantry_helm_deploy::helm::applies_server_side("v10.0.0"));
    assert!(!gantry_helm_deploy::helm::applies_server_side(
        "v3.17.2+gcc0e9e5"
    ));
    assert!(!gantry_helm_deploy::helm::applies_server_side("unknown"));
    assert_eq!(helm.rollback("web", 4, 0)[..3], ["rollback", "web", "4"]);
    assert_eq!(
        helm.rollback("web", 4, 0).last().map(String::as_str),
        Some("1s")
    );
    assert_eq!(helm::version(), ["version", "--short"]);
}

/// A revision's hooks, as Helm records them beside the manifest: the install and upgrade hook
/// Jobs are followed by their pods while helm runs; test hooks, other kinds and records
/// without hooks give none.
#[test]
fn the_hook_jobs_of_an_install_or_upgrade_are_followed_by_their_pods() {
    let mut with_hooks = record("web", 4, "pending-upgrade");
    with_hooks["hooks"] = json!([
        {"name": "web-migrate", "kind": "Job", "path": "web/templates/migrate.yaml",
         "manifest": "kind: Job", "events": ["post-install", "post-upgrade"], "weight": 0},
        {"name": "web-smoke", "kind": "Pod", "events": ["test"]},
        {"name": "web-test-job", "kind": "Job", "events": ["test"]},
        {"name": "web-cleanup", "kind": "Job", "events": ["pre-delete"]},
    ]);
    let decoded = release::decode(&secret(
        "web",
        4,
        "pending-upgrade",
        release::encode(&with_hooks),
    ))
    .unwrap();
    assert_eq!(decoded.hooks.len(), 4);
    let jobs = gantry_helm_deploy::applied::hook_jobs(&decoded);
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].name, "web-migrate");
    assert_eq!(jobs[0].selector, "batch.kubernetes.io/job-name=web-migrate");
    let plain = release::decode(&secret(
        "web",
        1,
        "deployed",
        release::encode(&record("web", 1, "deployed")),
    ))
    .unwrap();
    assert!(gantry_helm_deploy::applied::hook_jobs(&plain).is_empty());
}
