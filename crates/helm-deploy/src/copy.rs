//! A track beside a chart's own workload, for charts that keep no contract with Gantry (issue
//! 26 §2, its first part): the workload and its Service copied as `<name>-<track>`, with every
//! label the stable Service selects on given the track's value — so the stable Service never
//! selects a copy's pod, and the copy's Service selects only the copy's.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Service, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::baseline::{CopyError, TRACK_LABEL};
use crate::plan::Track;

/// The longest name a Service may have (a DNS-1035 label).
const NAME_LIMIT: usize = 63;

/// Whether `labels` carry every pair of `selector` (a Service's or a `matchLabels`).
#[must_use]
pub fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty()
        && selector
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value))
}

fn meta(
    from: &ObjectMeta,
    name: &str,
    track: Track,
    told: &BTreeMap<String, String>,
) -> ObjectMeta {
    let mut labels = from.labels.clone().unwrap_or_default();
    for (key, value) in told {
        if labels.contains_key(key) {
            labels.insert(key.clone(), value.clone());
        }
    }
    labels.insert(TRACK_LABEL.to_owned(), track.word().to_owned());
    // Helm's ownership marks would make Helm (and drift reports) take the copy for its own.
    labels.remove("app.kubernetes.io/managed-by");
    let annotations: BTreeMap<String, String> = from
        .annotations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, _)| {
            !key.starts_with("meta.helm.sh/")
                && key != "deployment.kubernetes.io/revision"
                && key != "kubectl.kubernetes.io/last-applied-configuration"
        })
        .collect();
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: from.namespace.clone(),
        labels: Some(labels),
        annotations: Some(annotations).filter(|a| !a.is_empty()),
        ..ObjectMeta::default()
    }
}

/// `deployment` (the new version, as the chart renders it, or the live stable) and the
/// `service` that selects its pods, copied as `track`. `replicas` sizes the copy.
///
/// # Errors
/// A Service with no selector (nothing to steer), one that does not select the workload's own
/// pods, a name too long for a Service once suffixed, or a workload without a pod template.
pub fn track(
    deployment: &Deployment,
    service: &Service,
    track: Track,
    replicas: i32,
) -> Result<(Deployment, Service), CopyError> {
    let workload = deployment.metadata.name.clone().unwrap_or_default();
    let service_name = service.metadata.name.clone().unwrap_or_default();
    let fail = |kind: &'static str, name: &str, problem: String| CopyError {
        kind,
        name: name.to_owned(),
        problem,
    };
    let selector = service
        .spec
        .as_ref()
        .and_then(|spec| spec.selector.clone())
        .filter(|selector| !selector.is_empty())
        .ok_or_else(|| {
            fail(
                "Service",
                &service_name,
                "has no selector: traffic to it cannot be told apart by pod".to_owned(),
            )
        })?;
    let mut spec = deployment
        .spec
        .clone()
        .ok_or_else(|| fail("Deployment", &workload, "has no spec".to_owned()))?;
    let template = spec
        .template
        .metadata
        .get_or_insert_with(ObjectMeta::default);
    let labels = template.labels.get_or_insert_with(BTreeMap::new);
    if !selects(&selector, labels) {
        return Err(fail(
            "Service",
            &service_name,
            format!("its selector does not select Deployment {workload:?}'s pods"),
        ));
    }
    // Every label the stable Service selects on, told apart: `name: cart` → `cart-canary`.
    let told: BTreeMap<String, String> = selector
        .iter()
        .map(|(key, value)| (key.clone(), format!("{value}-{}", track.word())))
        .collect();
    for (key, value) in &told {
        labels.insert(key.clone(), value.clone());
    }
    labels.insert(TRACK_LABEL.to_owned(), track.word().to_owned());
    if let Some(match_labels) = spec.selector.match_labels.as_mut() {
        for (key, value) in &told {
            if match_labels.contains_key(key) {
                match_labels.insert(key.clone(), value.clone());
            }
        }
    }
    let pod_labels = labels.clone();
    let still_selected = spec
        .selector
        .match_labels
        .as_ref()
        .is_some_and(|match_labels| selects(match_labels, &pod_labels));
    if !still_selected || spec.selector.match_expressions.is_some() {
        return Err(fail(
            "Deployment",
            &workload,
            "its selector is not plain matchLabels over its pod labels: a copy could not be told from it".to_owned(),
        ));
    }
    spec.replicas = Some(replicas);
    spec.paused = None;
    let names = (
        format!("{workload}-{}", track.word()),
        format!("{service_name}-{}", track.word()),
    );
    if names.1.len() > NAME_LIMIT {
        return Err(fail(
            "Service",
            &service_name,
            format!(
                "{} is longer than a Service's {NAME_LIMIT} characters",
                names.1
            ),
        ));
    }
    let ports = service
        .spec
        .as_ref()
        .and_then(crate::baseline::cluster_ports);
    let copy = Deployment {
        metadata: meta(&deployment.metadata, &names.0, track, &told),
        spec: Some(spec),
        status: None,
    };
    // Never an external address: a copy is reached only through the route, as ClusterIP.
    let copy_service = Service {
        metadata: meta(&service.metadata, &names.1, track, &told),
        spec: Some(ServiceSpec {
            selector: Some(told),
            ports,
            type_: Some("ClusterIP".to_owned()),
            ..ServiceSpec::default()
        }),
        status: None,
    };
    Ok((copy, copy_service))
}

/// The one Deployment of a rendered chart that a Service of the chart sends traffic to, and
/// that Service: what a canary or green copies when the chart keeps no contract.
///
/// # Errors
/// A manifest that does not parse; none such Deployment, or several (which one is the service
/// cannot be told); one that several Services select; a `StatefulSet` or `DaemonSet` served
/// instead (a copy beside one would share its volumes or nodes: not copied).
pub fn served(manifest: &str) -> Result<(Deployment, Service), String> {
    let objects = crate::manifest::documents(manifest)?;
    let of_kind = |group: &str, kind: &str| -> Vec<&serde_json::Value> {
        objects
            .iter()
            .filter(|object| {
                object["kind"] == kind
                    && object["apiVersion"]
                        .as_str()
                        .is_some_and(|api| api.split_once('/').map_or("", |(g, _)| g) == group)
            })
            .collect()
    };
    let services: Vec<Service> = objects
        .iter()
        .filter(|object| object["kind"] == "Service" && object["apiVersion"] == "v1")
        .map(|object| serde_json::from_value((*object).clone()))
        .collect::<Result<_, _>>()
        .map_err(|error| format!("a Service does not decode: {error}"))?;
    let selecting = |labels: &BTreeMap<String, String>| -> Vec<&Service> {
        services
            .iter()
            .filter(|service| {
                service
                    .spec
                    .as_ref()
                    .and_then(|spec| spec.selector.as_ref())
                    .is_some_and(|selector| selects(selector, labels))
            })
            .collect()
    };
    let pod_labels = |object: &serde_json::Value| -> BTreeMap<String, String> {
        serde_json::from_value(object["spec"]["template"]["metadata"]["labels"].clone())
            .unwrap_or_default()
    };
    for kind in ["StatefulSet", "DaemonSet"] {
        if let Some(object) = of_kind("apps", kind)
            .into_iter()
            .find(|object| !selecting(&pod_labels(object)).is_empty())
        {
            return Err(format!(
                "{kind} {} is what the chart's Service sends traffic to: a copy beside it is not made (it would share its volumes or nodes); use strategy: rolling, or chart-contract: true",
                object["metadata"]["name"]
            ));
        }
    }
    let mut served = Vec::new();
    for object in of_kind("apps", "Deployment") {
        let by = selecting(&pod_labels(object));
        if !by.is_empty() {
            served.push((object, by));
        }
    }
    let name = |object: &serde_json::Value| {
        object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    match served.as_slice() {
        [] => Err(
            "the chart renders no Deployment that one of its Services selects: there is nothing to send traffic to beside the stable"
                .to_owned(),
        ),
        [(object, by)] if by.len() == 1 => {
            let deployment: Deployment = serde_json::from_value((*object).clone())
                .map_err(|error| format!("Deployment {}: does not decode: {error}", name(object)))?;
            Ok((deployment, by[0].clone()))
        }
        [(object, by)] => Err(format!(
            "Deployment {} is selected by {} Services ({}): which one carries its traffic cannot be told",
            name(object),
            by.len(),
            by.iter()
                .map(|s| s.metadata.name.clone().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        several => Err(format!(
            "the chart renders {} Deployments its Services select ({}): a canary or green copies one; deploy them as separate releases, or use chart-contract: true",
            several.len(),
            several.iter().map(|(o, _)| name(o)).collect::<Vec<_>>().join(", ")
        )),
    }
}
