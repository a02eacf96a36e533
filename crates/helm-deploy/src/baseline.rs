//! The baseline: the stable version beside the canary, at the canary's size and share of traffic,
//! so the judge compares two workloads that differ only in version (Kayenta's practice). It is a
//! copy of the live stable Deployment and Service under `<release>-baseline`, with the instance
//! label changed so that neither selects the other's pods.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::plan::Track;
use crate::routing::INSTANCE;

/// A stable object that cannot be copied safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {name:?}: {problem}")]
pub struct CopyError {
    /// Deployment or Service.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// Why not.
    pub problem: String,
}

/// The label the copies carry, so they are known as the deploy's own.
pub const TRACK_LABEL: &str = "gantry.dev/track";

fn meta(from: &ObjectMeta, name: &str) -> ObjectMeta {
    let mut labels = from.labels.clone().unwrap_or_default();
    labels.insert(INSTANCE.to_owned(), name.to_owned());
    labels.insert(TRACK_LABEL.to_owned(), Track::Baseline.word().to_owned());
    // Helm's ownership marks would make Helm (and drift reports) take the copy for its own.
    labels.remove("app.kubernetes.io/managed-by");
    let annotations = from.annotations.clone().map(|mut annotations| {
        annotations.retain(|key, _| {
            !key.starts_with("meta.helm.sh/")
                && key != "deployment.kubernetes.io/revision"
                && key != "kubectl.kubernetes.io/last-applied-configuration"
        });
        annotations
    });
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: from.namespace.clone(),
        labels: Some(labels),
        annotations: annotations.filter(|a| !a.is_empty()),
        ..ObjectMeta::default()
    }
}

/// The baseline Deployment: the stable's spec at `replicas`, its pods relabelled.
pub fn deployment(
    stable: &Deployment,
    release: &str,
    replicas: i32,
) -> Result<Deployment, CopyError> {
    let name = Track::Baseline.name(release);
    let stable_name = stable.metadata.name.clone().unwrap_or_default();
    let fail = |problem: String| CopyError {
        kind: "Deployment",
        name: stable_name.clone(),
        problem,
    };
    let mut spec = stable
        .spec
        .clone()
        .ok_or_else(|| fail("has no spec".to_owned()))?;
    let selects = spec
        .selector
        .match_labels
        .as_ref()
        .and_then(|labels| labels.get(INSTANCE));
    if selects.map(String::as_str) != Some(release) {
        return Err(fail(format!(
            "its selector does not match {INSTANCE}={release}: a copy could not be told from it (the chart's selector must carry the release's instance label)"
        )));
    }
    if let Some(labels) = spec.selector.match_labels.as_mut() {
        labels.insert(INSTANCE.to_owned(), name.clone());
    }
    let template = spec
        .template
        .metadata
        .get_or_insert_with(ObjectMeta::default);
    let labels = template.labels.get_or_insert_with(Default::default);
    labels.insert(INSTANCE.to_owned(), name.clone());
    labels.insert(TRACK_LABEL.to_owned(), Track::Baseline.word().to_owned());
    spec.replicas = Some(replicas);
    spec.paused = None;
    Ok(Deployment {
        metadata: meta(&stable.metadata, &name),
        spec: Some(spec),
        status: None,
    })
}

/// A Service's ports for a copy reached only inside the cluster: no node ports.
pub(crate) fn cluster_ports(
    spec: &k8s_openapi::api::core::v1::ServiceSpec,
) -> Option<Vec<k8s_openapi::api::core::v1::ServicePort>> {
    spec.ports.clone().map(|ports| {
        ports
            .into_iter()
            .map(|mut port| {
                port.node_port = None;
                port
            })
            .collect()
    })
}

/// The baseline Service: the stable's ports, selecting the baseline's pods.
pub fn service(stable: &Service, release: &str) -> Result<Service, CopyError> {
    let name = Track::Baseline.name(release);
    let stable_name = stable.metadata.name.clone().unwrap_or_default();
    let fail = |problem: String| CopyError {
        kind: "Service",
        name: stable_name.clone(),
        problem,
    };
    let from = stable
        .spec
        .as_ref()
        .ok_or_else(|| fail("has no spec".to_owned()))?;
    let mut selector = from
        .selector
        .clone()
        .filter(|selector| selector.get(INSTANCE).map(String::as_str) == Some(release))
        .ok_or_else(|| fail(format!("its selector does not match {INSTANCE}={release}")))?;
    selector.insert(INSTANCE.to_owned(), name.clone());
    let ports = cluster_ports(from);
    Ok(Service {
        metadata: meta(&stable.metadata, &name),
        spec: Some(k8s_openapi::api::core::v1::ServiceSpec {
            selector: Some(selector),
            ports,
            type_: Some("ClusterIP".to_owned()),
            ..Default::default()
        }),
        status: None,
    })
}
