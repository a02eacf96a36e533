//! What Helm applied: the workloads a release's manifest names, by kind and name, with the
//! selector of each one's pods.
//!
//! A deploy judges these objects — not whatever carries a label. Found by
//! `app.kubernetes.io/instance` alone, a chart without that label (podinfo as published, many
//! in-house charts) had no workload found, and "nothing left to wait for" was taken as ready:
//! a crash-looping upgrade reported as deployed. Here a workload is found because Helm wrote
//! it, and an object that runs pods Gantry cannot judge fails the deploy closed, naming it.

use std::fmt::Write as _;

use serde_json::Value;

/// A kind of workload whose rollout Gantry judges by kubectl's `rollout status` rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WorkloadKind {
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
    /// `batch/v1` Job: a hook Helm runs and waits for; its pods are followed while helm runs.
    Job,
}

impl WorkloadKind {
    /// The kind as Kubernetes names it.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Self::Deployment => "Deployment",
            Self::StatefulSet => "StatefulSet",
            Self::DaemonSet => "DaemonSet",
            Self::Job => "Job",
        }
    }
}

/// One workload the release applied.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Workload {
    /// Its kind.
    pub kind: WorkloadKind,
    /// Its name.
    pub name: String,
    /// Its pods' selector as a label selector (`app.kubernetes.io/name=podinfo`), from its own
    /// `spec.selector`.
    pub selector: String,
}

/// Why the workloads of a manifest cannot be judged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppliedError {
    /// The manifest is not YAML Helm could have written.
    #[error("the release's manifest: {0}")]
    Manifest(String),
    /// An object that runs pods whose rollout Gantry cannot judge.
    #[error(
        "the release applies {kind} {name:?}, which runs pods Gantry cannot judge the rollout of (it judges Deployments, StatefulSets and DaemonSets): nothing is reported ready on it"
    )]
    Unjudgeable {
        /// Its kind (`Rollout`, `Job`).
        kind: String,
        /// Its name.
        name: String,
    },
    /// A workload in another namespace than the release's.
    #[error(
        "the release applies {kind} {name:?} in namespace {namespace:?}, not in the release's {release_namespace:?}: Gantry follows the release's namespace only"
    )]
    OtherNamespace {
        /// Its kind.
        kind: &'static str,
        /// Its name.
        name: String,
        /// Its namespace.
        namespace: String,
        /// The release's.
        release_namespace: String,
    },
    /// A workload whose pods cannot be told by its selector.
    #[error("{kind} {name:?}: {problem}")]
    Selector {
        /// Its kind.
        kind: &'static str,
        /// Its name.
        name: String,
        /// What is wrong with `spec.selector`.
        problem: String,
    },
}

/// Whether an object runs pods itself: a pod template (`spec.template.spec.containers`, as
/// every controller of pods has), or containers of its own (a bare Pod).
fn runs_pods(object: &Value) -> bool {
    let spec = &object["spec"];
    spec["template"]["spec"]["containers"].is_array() || spec["containers"].is_array()
}

/// The workloads of `manifest` (a release's rendered manifest, hooks not in it), each once, in
/// the order kind then name. Objects that run no pods (Services, `ConfigMap`s, routes, HPAs,
/// custom resources without a pod template) are not workloads. A `CronJob` starts nothing at
/// deploy time and is not judged. Anything else that runs pods — a Job, a bare Pod or
/// ReplicaSet, an Argo `Rollout`, a custom controller's resource with a pod template — is an
/// error: it would otherwise be reported ready without being looked at.
///
/// # Errors
/// [`AppliedError`], naming the object.
pub fn workloads(manifest: &str, namespace: &str) -> Result<Vec<Workload>, AppliedError> {
    let mut objects = crate::manifest::documents(manifest).map_err(AppliedError::Manifest)?;
    // A `kind: List` stands for its items, as kubectl reads it.
    let mut index = 0;
    while index < objects.len() {
        if objects[index]["kind"] == "List" {
            let items = objects.remove(index)["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            objects.splice(index..index, items);
        } else {
            index += 1;
        }
    }
    let mut found = Vec::new();
    for object in &objects {
        let kind_text = object["kind"].as_str().unwrap_or_default();
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let group = object["apiVersion"]
            .as_str()
            .unwrap_or_default()
            .split_once('/')
            .map_or("", |(group, _)| group);
        let kind = match (group, kind_text) {
            ("apps", "Deployment") => WorkloadKind::Deployment,
            ("apps", "StatefulSet") => WorkloadKind::StatefulSet,
            ("apps", "DaemonSet") => WorkloadKind::DaemonSet,
            ("batch", "CronJob") => continue,
            _ if runs_pods(object) => {
                return Err(AppliedError::Unjudgeable {
                    kind: kind_text.to_owned(),
                    name,
                });
            }
            _ => continue,
        };
        if let Some(other) = object["metadata"]["namespace"].as_str() {
            if !other.is_empty() && other != namespace {
                return Err(AppliedError::OtherNamespace {
                    kind: kind.word(),
                    name,
                    namespace: other.to_owned(),
                    release_namespace: namespace.to_owned(),
                });
            }
        }
        let selector = label_selector(&object["spec"]["selector"]).map_err(|problem| {
            AppliedError::Selector {
                kind: kind.word(),
                name: name.clone(),
                problem,
            }
        })?;
        found.push(Workload {
            kind,
            name,
            selector,
        });
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// A `LabelSelector` (`matchLabels`, `matchExpressions`) as the API's `labelSelector` query
/// text. A selector that selects every pod (empty) is refused: its pods cannot be told from
/// anyone else's.
pub(crate) fn label_selector(selector: &Value) -> Result<String, String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(labels) = selector["matchLabels"].as_object() {
        for (key, value) in labels {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            parts.push(format!("{key}={value}"));
        }
    }
    for expression in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = expression["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = expression["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut part = String::new();
        match expression["operator"].as_str().unwrap_or_default() {
            "In" => {
                let _ = write!(part, "{key} in ({})", values.join(","));
            }
            "NotIn" => {
                let _ = write!(part, "{key} notin ({})", values.join(","));
            }
            "Exists" => part.push_str(key),
            "DoesNotExist" => {
                let _ = write!(part, "!{key}");
            }
            other => {
                return Err(format!(
                    "spec.selector has the operator {other:?}, not In, NotIn, Exists or DoesNotExist"
                ));
            }
        }
        parts.push(part);
    }
    if parts.is_empty() {
        return Err("spec.selector selects every pod: its own cannot be told apart".to_owned());
    }
    Ok(parts.join(","))
}

/// The hook Jobs Helm runs around an install or upgrade (`pre-`/`post-install`,
/// `pre-`/`post-upgrade`; not `test` or `*-delete`/`*-rollback` hooks), with the Job
/// controller's label on their pods as the selector: watched while helm waits for them, so a
/// hook that crash-loops stops the deploy at its first crash.
#[must_use]
pub fn hook_jobs(release: &crate::release::Release) -> Vec<Workload> {
    const EVENTS: [&str; 4] = ["pre-install", "post-install", "pre-upgrade", "post-upgrade"];
    release
        .hooks
        .iter()
        .filter(|hook| hook.kind == "Job" && !hook.name.is_empty())
        .filter(|hook| {
            hook.events
                .iter()
                .any(|event| EVENTS.contains(&event.as_str()))
        })
        .map(|hook| Workload {
            kind: WorkloadKind::Job,
            name: hook.name.clone(),
            selector: format!("batch.kubernetes.io/job-name={}", hook.name),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = r"---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app.kubernetes.io/name: web
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: web
      tier: front
  template:
    spec:
      containers: [{name: web, image: web:2}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
spec:
  selector:
    matchExpressions:
    - {key: app, operator: In, values: [db, db-replica]}
    - {key: canary, operator: DoesNotExist}
  template:
    spec:
      containers: [{name: db, image: postgres}]
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: x, image: x}]
";

    #[test]
    fn the_workloads_are_the_ones_helm_wrote_whatever_their_labels() {
        let found = workloads(SHOP, "shop").unwrap();
        assert_eq!(
            found,
            [
                Workload {
                    kind: WorkloadKind::Deployment,
                    name: "web".into(),
                    selector: "app.kubernetes.io/name=web,tier=front".into(),
                },
                Workload {
                    kind: WorkloadKind::StatefulSet,
                    name: "db".into(),
                    selector: "app in (db,db-replica),!canary".into(),
                },
            ]
        );
        // A release of a Service and a ConfigMap has no workload: said by the caller, never
        // "ready" on nothing.
        assert!(
            workloads(
                "kind: ConfigMap\napiVersion: v1\nmetadata: {name: c}\n",
                "shop"
            )
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn what_runs_pods_gantry_cannot_judge_fails_closed_naming_it() {
        let rollout = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: web}]\n";
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec:\n  template:\n    spec:\n      containers: [{name: m, image: m}]\n";
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: once}\nspec:\n  containers: [{name: o, image: o}]\n";
        for (manifest, kind, name) in [
            (rollout, "Rollout", "web"),
            (job, "Job", "migrate"),
            (pod, "Pod", "once"),
        ] {
            let error = workloads(manifest, "shop").unwrap_err();
            assert_eq!(
                error,
                AppliedError::Unjudgeable {
                    kind: kind.into(),
                    name: name.into()
                }
            );
            assert!(error.to_string().contains("cannot judge"), "{error}");
        }
        let elsewhere = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: kube-system}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template: {spec: {containers: [{name: a, image: a}]}}\n";
        assert!(matches!(
            workloads(elsewhere, "shop"),
            Err(AppliedError::OtherNamespace { .. })
        ));
        let everything = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {}\n  template: {spec: {containers: [{name: a, image: a}]}}\n";
        assert!(
            workloads(everything, "shop")
                .unwrap_err()
                .to_string()
                .contains("selects every pod")
        );
        assert!(matches!(
            workloads("kind: [\n", "shop"),
            Err(AppliedError::Manifest(_))
        ));
    }
}
