//! A track's copy of a chart's own workload, on podinfo 6.14.1 as Helm renders it
//! (`examples/helm/podinfo-manifest.yaml`): the stable Service never selects a copy's pod, the
//! copy's Service selects only the copy's, and what cannot be told apart is refused.

use gantry_helm_deploy::copy::{self, selects};
use gantry_helm_deploy::plan::Track;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use serde_json::Value;

fn podinfo() -> (Deployment, Service) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/helm/podinfo-manifest.yaml"
    );
    let objects =
        gantry_helm_deploy::manifest::documents(&std::fs::read_to_string(path).unwrap()).unwrap();
    let of = |kind: &str| -> Value {
        objects
            .iter()
            .find(|o| o["kind"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    (
        serde_json::from_value(of("Deployment")).unwrap(),
        serde_json::from_value(of("Service")).unwrap(),
    )
}

fn pod_labels(deployment: &Deployment) -> std::collections::BTreeMap<String, String> {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default()
}

fn selector(service: &Service) -> std::collections::BTreeMap<String, String> {
    service
        .spec
        .as_ref()
        .and_then(|s| s.selector.clone())
        .unwrap_or_default()
}

#[test]
fn podinfos_copies_are_never_selected_by_its_service_and_select_only_their_own_pods() {
    let (stable, service) = podinfo();
    assert!(
        selects(&selector(&service), &pod_labels(&stable)),
        "the chart as published"
    );
    for track in [Track::Canary, Track::Baseline, Track::Green] {
        let (copy, copy_service) = copy::track(&stable, &service, track, 1).unwrap();
        let word = track.word();
        assert_eq!(
            copy.metadata.name.as_deref(),
            Some(format!("cart-podinfo-{word}").as_str())
        );
        assert_eq!(
            copy_service.metadata.name.as_deref(),
            Some(format!("cart-podinfo-{word}").as_str())
        );
        let labels = pod_labels(&copy);
        assert!(
            !selects(&selector(&service), &labels),
            "{track:?}: the stable Service selects the copy"
        );
        assert!(selects(&selector(&copy_service), &labels), "{track:?}");
        assert!(
            !selects(&selector(&copy_service), &pod_labels(&stable)),
            "{track:?}"
        );
        let match_labels = copy
            .spec
            .as_ref()
            .unwrap()
            .selector
            .match_labels
            .clone()
            .unwrap();
        assert!(
            selects(&match_labels, &labels),
            "{track:?}: the copy's own selector"
        );
        let spec = copy_service.spec.unwrap();
        assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
        assert_eq!(spec.ports, service.spec.as_ref().unwrap().ports);
        assert_eq!(copy.spec.unwrap().replicas, Some(1));
        assert!(
            !copy
                .metadata
                .labels
                .unwrap()
                .contains_key("app.kubernetes.io/managed-by"),
            "not Helm's"
        );
    }
}

#[test]
fn what_cannot_be_told_apart_is_refused() {
    let (stable, service) = podinfo();
    let mut no_selector = service.clone();
    no_selector.spec.as_mut().unwrap().selector = None;
    let error = copy::track(&stable, &no_selector, Track::Canary, 1).unwrap_err();
    assert!(error.problem.contains("no selector"), "{error}");

    let mut elsewhere = service.clone();
    elsewhere
        .spec
        .as_mut()
        .unwrap()
        .selector
        .as_mut()
        .unwrap()
        .insert("tier".into(), "web".into());
    let error = copy::track(&stable, &elsewhere, Track::Canary, 1).unwrap_err();
    assert!(error.problem.contains("does not select"), "{error}");

    let mut long = service;
    long.metadata.name = Some("x".repeat(60));
    let error = copy::track(&stable, &long, Track::Baseline, 1).unwrap_err();
    assert!(error.problem.contains("63"), "{error}");
}
