//! Whether a rollout is done, by kubectl's `rollout status` rules
//! (`kubectl/pkg/polymorphichelpers/rollout_status.go`): the controller must have observed the
//! spec it is judged on, every replica must be updated and available, and no old replica may be
//! left. Not Helm's waiter, which returns with up to `maxUnavailable` new pods unready, and not
//! `Progressing=NewReplicaSetAvailable` alone, which can still describe the previous rollout.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Where a rollout is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// Still going: what it waits for.
    Waiting(String),
    /// Every replica updated and available.
    Done,
    /// It will not finish: why.
    Failed(String),
}

fn count(value: Option<i32>) -> i32 {
    value.unwrap_or(0)
}

/// A Deployment's rollout. `revision`, when given, is the `deployment.kubernetes.io/revision`
/// the rollout must have reached (a Deployment still on an older revision is waiting).
#[must_use]
pub fn deployment(deployment: &Deployment, revision: Option<&str>) -> Rollout {
    let name = deployment.metadata.name.as_deref().unwrap_or_default();
    let Some(status) = &deployment.status else {
        return Rollout::Waiting(format!("deployment {name:?} has no status yet"));
    };
    if let Some(wanted) = revision {
        let current = deployment
            .metadata
            .annotations
            .as_ref()
            .and_then(|annotations| annotations.get("deployment.kubernetes.io/revision"));
        if current.map(String::as_str) != Some(wanted) {
            return Rollout::Waiting(format!(
                "deployment {name:?} is at revision {}, not yet {wanted}",
                current.map_or("none", String::as_str)
            ));
        }
    }
    let generation = deployment.metadata.generation.unwrap_or(0);
    if generation > status.observed_generation.unwrap_or(0) {
        return Rollout::Waiting(format!(
            "waiting for deployment {name:?} spec update to be observed"
        ));
    }
    if let Some(condition) = status
        .conditions
        .iter()
        .flatten()
        .find(|condition| condition.type_ == "Progressing")
    {
        if condition.reason.as_deref() == Some("ProgressDeadlineExceeded") {
            return Rollout::Failed(format!(
                "deployment {name:?} exceeded its progress deadline: {}",
                condition.message.as_deref().unwrap_or_default()
            ));
        }
    }
    let wanted = deployment
        .spec
        .as_ref()
        .and_then(|spec| spec.replicas)
        .unwrap_or(1);
    let updated = count(status.updated_replicas);
    let replicas = count(status.replicas);
    let available = count(status.available_replicas);
    if updated < wanted {
        return Rollout::Waiting(format!(
            "waiting for deployment {name:?} rollout to finish: {updated} out of {wanted} new replicas have been updated"
        ));
    }
    if replicas > updated {
        return Rollout::Waiting(format!(
            "waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination",
            replicas - updated
        ));
    }
    if available < updated {
        return Rollout::Waiting(format!(
            "waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available"
        ));
    }
    Rollout::Done
}

/// A StatefulSet's rollout (rolling updates only, as kubectl).
#[must_use]
pub fn stateful_set(set: &StatefulSet) -> Rollout {
    let name = set.metadata.name.as_deref().unwrap_or_default();
    let spec = set.spec.as_ref();
    let strategy = spec.and_then(|spec| spec.update_strategy.as_ref());
    if strategy
        .and_then(|strategy| strategy.type_.as_deref())
        .is_some_and(|kind| kind != "RollingUpdate")
    {
        return Rollout::Failed(format!(
            "statefulset {name:?} does not update by RollingUpdate: its rollout cannot be followed"
        ));
    }
    let Some(status) = &set.status else {
        return Rollout::Waiting(format!("statefulset {name:?} has no status yet"));
    };
    let observed = status.observed_generation.unwrap_or(0);
    if observed == 0 || set.metadata.generation.unwrap_or(0) > observed {
        return Rollout::Waiting(format!(
            "waiting for statefulset {name:?} spec update to be observed"
        ));
    }
    let wanted = spec.and_then(|spec| spec.replicas).unwrap_or(1);
    let ready = count(status.ready_replicas);
    if ready < wanted {
        return Rollout::Waiting(format!(
            "waiting for statefulset {name:?}: {ready} of {wanted} pods are ready"
        ));
    }
    let partition = strategy
        .and_then(|strategy| strategy.rolling_update.as_ref())
        .and_then(|rolling| rolling.partition);
    if let Some(partition) = partition.filter(|&partition| partition > 0) {
        let updated = count(status.updated_replicas);
        if updated < wanted - partition {
            return Rollout::Waiting(format!(
                "waiting for partitioned roll out of statefulset {name:?} to finish: {updated} out of {} new pods have been updated",
                wanted - partition
            ));
        }
        return Rollout::Done;
    }
    if status.update_revision != status.current_revision {
        return Rollout::Waiting(format!(
            "waiting for statefulset {name:?} rolling update to complete: {} pods at revision {}",
            count(status.updated_replicas),
            status.update_revision.as_deref().unwrap_or_default()
        ));
    }
    Rollout::Done
}

/// A DaemonSet's rollout (rolling updates only, as kubectl).
#[must_use]
pub fn daemon_set(set: &DaemonSet) -> Rollout {
    let name = set.metadata.name.as_deref().unwrap_or_default();
    if set
        .spec
        .as_ref()
        .and_then(|spec| spec.update_strategy.as_ref())
        .and_then(|strategy| strategy.type_.as_deref())
        .is_some_and(|kind| kind != "RollingUpdate")
    {
        return Rollout::Failed(format!(
            "daemonset {name:?} does not update by RollingUpdate: its rollout cannot be followed"
        ));
    }
    let Some(status) = &set.status else {
        return Rollout::Waiting(format!("daemonset {name:?} has no status yet"));
    };
    if set.metadata.generation.unwrap_or(0) > status.observed_generation.unwrap_or(0) {
        return Rollout::Waiting(format!(
            "waiting for daemon set {name:?} spec update to be observed"
        ));
    }
    let desired = status.desired_number_scheduled;
    let updated = count(status.updated_number_scheduled);
    if updated < desired {
        return Rollout::Waiting(format!(
            "waiting for daemon set {name:?} rollout to finish: {updated} out of {desired} new pods have been updated"
        ));
    }
    let available = count(status.number_available);
    if available < desired {
        return Rollout::Waiting(format!(
            "waiting for daemon set {name:?} rollout to finish: {available} of {desired} updated pods are available"
        ));
    }
    Rollout::Done
}

/// What a rollout is judged on: the workloads, their ReplicaSets and their pods as last seen.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observed<'a> {
    /// The Deployments.
    pub deployments: &'a [&'a Deployment],
    /// Their ReplicaSets.
    pub replica_sets: &'a [&'a ReplicaSet],
    /// The StatefulSets.
    pub stateful_sets: &'a [&'a StatefulSet],
    /// The DaemonSets.
    pub daemon_sets: &'a [&'a DaemonSet],
    /// The pods their selectors select (a pod may come twice: it is judged once).
    pub pods: &'a [&'a Pod],
}

fn label<'m>(meta: &'m ObjectMeta, key: &str) -> Option<&'m str> {
    meta.labels.as_ref()?.get(key).map(String::as_str)
}

fn owned_by(meta: &ObjectMeta, owner: &ObjectMeta) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|reference| Some(&reference.uid) == owner.uid.as_ref())
}

/// The pods of the rollout's new revision, each once: those a fast failure is looked for in.
///
/// - A pod being deleted (Terminating) is no one's new pod: a crash it shows on its way out
///   is the old revision's.
/// - A Deployment's pod counts when its `pod-template-hash` is that of the Deployment's current
///   ReplicaSet (by `deployment.kubernetes.io/revision`) — and only once the controller has
///   observed the Deployment's spec (before, its revision is the old one's).
/// - A StatefulSet's pod counts when its `controller-revision-hash` is the set's
///   `status.updateRevision` (the old revision's pods, kept by a partition or not yet replaced,
///   are not the rollout's), and only once the controller has observed the spec.
/// - A DaemonSet's pod counts when its `pod-template-generation` is the set's template
///   generation (the API server's annotation `deprecated.daemonset.template.generation`), and
///   only once the controller has observed the spec.
/// - Any other pod the selectors select counts.
#[must_use]
pub fn judged_pods<'a>(observed: &Observed<'a>) -> Vec<&'a Pod> {
    let revision = |meta: &ObjectMeta| {
        meta.annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .cloned()
    };
    let mut current_hashes: BTreeSet<&str> = BTreeSet::new();
    for deployment in observed.deployments {
        let seen = deployment
            .status
            .as_ref()
            .and_then(|status| status.observed_generation)
            .unwrap_or(0);
        if deployment.metadata.generation.unwrap_or(0) > seen {
            continue;
        }
        let wanted = revision(&deployment.metadata);
        for set in observed.replica_sets {
            if owned_by(&set.metadata, &deployment.metadata) && revision(&set.metadata) == wanted {
                if let Some(hash) = label(&set.metadata, "pod-template-hash") {
                    current_hashes.insert(hash);
                }
            }
        }
    }
    let stateful: Vec<(&ObjectMeta, Option<&str>)> = observed
        .stateful_sets
        .iter()
        .map(|set| {
            let status = set.status.as_ref();
            let seen = status
                .and_then(|status| status.observed_generation)
                .unwrap_or(0);
            let update = status.and_then(|status| status.update_revision.as_deref());
            // Not yet observed: no revision of its pods is the new one yet.
            let wanted = if set.metadata.generation.unwrap_or(0) > seen {
                Some("")
            } else {
                update
            };
            (&set.metadata, wanted)
        })
        .collect();
    let daemons: Vec<(&ObjectMeta, Option<&str>)> = observed
        .daemon_sets
        .iter()
        .map(|set| {
            let seen = set
                .status
                .as_ref()
                .and_then(|status| status.observed_generation)
                .unwrap_or(0);
            let wanted = if set.metadata.generation.unwrap_or(0) > seen {
                Some("")
            } else {
                set.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(TEMPLATE_GENERATION))
                    .map(String::as_str)
            };
            (&set.metadata, wanted)
        })
        .collect();
    let unique: BTreeMap<&str, &'a Pod> = observed
        .pods
        .iter()
        .map(|pod| (pod.metadata.name.as_deref().unwrap_or_default(), *pod))
        .collect();
    unique
        .into_values()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .filter(|pod| {
            if let Some(hash) = label(&pod.metadata, "pod-template-hash") {
                return current_hashes.contains(hash);
            }
            if let Some((_, wanted)) = stateful
                .iter()
                .find(|(set, _)| owned_by(&pod.metadata, set))
            {
                return match wanted {
                    Some(wanted) => {
                        label(&pod.metadata, "controller-revision-hash") == Some(wanted)
                    }
                    None => true,
                };
            }
            if let Some((_, wanted)) = daemons.iter().find(|(set, _)| owned_by(&pod.metadata, set))
            {
                return match wanted {
                    Some(wanted) => label(&pod.metadata, "pod-template-generation") == Some(wanted),
                    None => true,
                };
            }
            true
        })
        .collect()
}

/// The annotation in which the API server counts a DaemonSet's template changes; the set's
/// pods carry it as the label `pod-template-generation`.
pub const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

/// Whether a pod's `Ready` condition is `True`.
#[must_use]
pub fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

/// The pods a StatefulSet's rollout waits on forever: a set whose pods are made in order
/// (`OrderedReady`, the default) does not go on while one of them is not Running and Ready —
/// even when that pod is of a revision the set no longer wants, as after a rollback of a
/// crashing update. Kubernetes documents the way out ("forced rollback"): delete those pods,
/// and the controller makes them again at the wanted revision. These are the set's pods, not
/// being deleted, not of its `updateRevision`, and not Ready; none of a set whose spec the
/// controller has not observed, that updates `OnDelete`, that is `Parallel` (which replaces
/// them itself) or partitioned (whose pods below the partition stay old by design).
#[must_use]
pub fn stuck_pods<'a>(observed: &Observed<'a>) -> Vec<&'a Pod> {
    let mut stuck: BTreeMap<&str, &'a Pod> = BTreeMap::new();
    for set in observed.stateful_sets {
        let Some(spec) = &set.spec else { continue };
        let strategy = spec.update_strategy.as_ref();
        let partitioned = strategy
            .and_then(|s| s.rolling_update.as_ref())
            .and_then(|r| r.partition)
            .is_some_and(|p| p > 0);
        let rolling = strategy
            .and_then(|s| s.type_.as_deref())
            .is_none_or(|kind| kind == "RollingUpdate");
        let ordered = spec
            .pod_management_policy
            .as_deref()
            .is_none_or(|policy| policy == "OrderedReady");
        let status = set.status.as_ref();
        let seen = status.and_then(|s| s.observed_generation).unwrap_or(0);
        let Some(wanted) = status.and_then(|s| s.update_revision.as_deref()) else {
            continue;
        };
        if partitioned || !rolling || !ordered || set.metadata.generation.unwrap_or(0) > seen {
            continue;
        }
        for pod in observed.pods {
            if owned_by(&pod.metadata, &set.metadata)
                && pod.metadata.deletion_timestamp.is_none()
                && label(&pod.metadata, "controller-revision-hash") != Some(wanted)
                && !pod_ready(pod)
            {
                stuck.insert(pod.metadata.name.as_deref().unwrap_or_default(), pod);
            }
        }
    }
    stuck.into_values().collect()
}

#[cfg(test)]
#[expect(
    clippy::needless_pass_by_value,
    reason = "fixtures read best as values passed in"
)]
mod tests {
    use super::*;

    fn pod(name: &str, labels: serde_json::Value, owner: &str, terminating: bool) -> Pod {
        let mut meta = serde_json::json!({
            "name": name, "labels": labels,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "X", "name": "x", "uid": owner}],
        });
        if terminating {
            meta["deletionTimestamp"] = serde_json::json!("2026-12-07T10:00:00Z");
        }
        serde_json::from_value(serde_json::json!({"metadata": meta})).unwrap()
    }

    /// Issue 26: a StatefulSet's pods were not told apart by revision or by being Terminating,
    /// so the old pods' crash after a rollback was blamed on it ("failed … not undone").
    #[test]
    fn the_judged_pods_are_the_new_revisions_and_never_terminating_ones() {
        let db: StatefulSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "db", "uid": "sts-1", "generation": 3},
            "spec": {"selector": {}, "serviceName": "db", "template": {}},
            "status": {"replicas": 3, "observedGeneration": 3, "updateRevision": "db-7f", "currentRevision": "db-5c"},
        }))
        .unwrap();
        let web: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "uid": "dep-1", "generation": 2,
                "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "spec": {"selector": {}, "template": {}},
            "status": {"observedGeneration": 2},
        }))
        .unwrap();
        let set = |hash: &str, revision: &str| -> ReplicaSet {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": format!("web-{hash}"), "labels": {"pod-template-hash": hash},
                    "annotations": {"deployment.kubernetes.io/revision": revision},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "dep-1"}]},
            }))
            .unwrap()
        };
        let (new_set, old_set) = (set("new", "2"), set("old", "1"));
        let pods = vec![
            pod(
                "db-0",
                serde_json::json!({"controller-revision-hash": "db-7f"}),
                "sts-1",
                false,
            ),
            pod(
                "db-1",
                serde_json::json!({"controller-revision-hash": "db-5c"}),
                "sts-1",
                false,
            ),
            pod(
                "db-2",
                serde_json::json!({"controller-revision-hash": "db-7f"}),
                "sts-1",
                true,
            ),
            pod(
                "web-new-a",
                serde_json::json!({"pod-template-hash": "new"}),
                "rs",
                false,
            ),
            pod(
                "web-old-a",
                serde_json::json!({"pod-template-hash": "old"}),
                "rs",
                false,
            ),
            pod(
                "web-new-b",
                serde_json::json!({"pod-template-hash": "new"}),
                "rs",
                true,
            ),
            pod(
                "agent-x",
                serde_json::json!({"controller-revision-hash": "a1", "pod-template-generation": "2"}),
                "ds-1",
                false,
            ),
            // The DaemonSet's previous template: not the rollout's, whatever it does.
            pod(
                "agent-y",
                serde_json::json!({"controller-revision-hash": "a0", "pod-template-generation": "1"}),
                "ds-1",
                false,
            ),
            pod("loose", serde_json::json!({}), "nobody", false),
        ];
        let agent: DaemonSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "agent", "uid": "ds-1", "generation": 2,
                "annotations": {TEMPLATE_GENERATION: "2"}},
            "spec": {"selector": {}, "template": {}},
            "status": {"observedGeneration": 2, "currentNumberScheduled": 2, "desiredNumberScheduled": 2,
                "numberMisscheduled": 0, "numberReady": 2},
        }))
        .unwrap();
        let all: Vec<&Pod> = pods.iter().chain(pods.iter()).collect();
        let observed = Observed {
            deployments: &[&web],
            replica_sets: &[&new_set, &old_set],
            stateful_sets: &[&db],
            daemon_sets: &[&agent],
            pods: &all,
        };
        let judged: Vec<&str> = judged_pods(&observed)
            .iter()
            .map(|pod| pod.metadata.name.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(judged, ["agent-x", "db-0", "loose", "web-new-a"]);
        // A StatefulSet whose new spec the controller has not observed: none of its pods is new.
        let mut unseen = db.clone();
        unseen.metadata.generation = Some(4);
        let observed = Observed {
            stateful_sets: &[&unseen],
            ..observed
        };
        let judged: Vec<&str> = judged_pods(&observed)
            .iter()
            .map(|pod| pod.metadata.name.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(judged, ["agent-x", "loose", "web-new-a"]);
        // Nor one of a DaemonSet whose new spec is not observed.
        let mut moved = agent.clone();
        moved.metadata.generation = Some(3);
        let observed = Observed {
            daemon_sets: &[&moved],
            ..observed
        };
        let judged: Vec<&str> = judged_pods(&observed)
            .iter()
            .map(|pod| pod.metadata.name.as_deref().unwrap_or_default())
            .collect();
        assert_eq!(judged, ["loose", "web-new-a"]);
    }

    fn with_ready(mut pod: Pod, ready: bool) -> Pod {
        pod.status = serde_json::from_value(serde_json::json!({
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}],
        }))
        .unwrap();
        pod
    }

    /// Issue 26: a rollback of a crashing StatefulSet update never finished — the set waits on
    /// its crashing pod, which is of the reverted revision, forever.
    #[test]
    fn the_pods_an_ordered_statefulset_waits_on_forever_are_the_unready_ones_it_no_longer_wants() {
        let set = |spec: serde_json::Value, generation: i64| -> StatefulSet {
            let mut spec_all =
                serde_json::json!({"selector": {}, "serviceName": "db", "template": {}});
            spec_all
                .as_object_mut()
                .unwrap()
                .extend(spec.as_object().unwrap().clone());
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "db", "uid": "sts-1", "generation": generation},
                "spec": spec_all,
                "status": {"replicas": 3, "observedGeneration": 5, "updateRevision": "db-good", "currentRevision": "db-good"},
            }))
            .unwrap()
        };
        let revision = |hash: &str| serde_json::json!({"controller-revision-hash": hash});
        let pods = [
            with_ready(pod("db-0", revision("db-good"), "sts-1", false), true),
            with_ready(pod("db-1", revision("db-good"), "sts-1", false), false),
            with_ready(pod("db-2", revision("db-bad"), "sts-1", false), false),
            with_ready(pod("db-3", revision("db-bad"), "sts-1", false), true),
            with_ready(pod("db-4", revision("db-bad"), "sts-1", true), false),
            with_ready(pod("other-0", revision("db-bad"), "sts-2", false), false),
        ];
        let all: Vec<&Pod> = pods.iter().collect();
        let stuck = |set: &StatefulSet| -> Vec<String> {
            stuck_pods(&Observed {
                stateful_sets: &[set],
                pods: &all,
                ..Observed::default()
            })
            .iter()
            .map(|pod| pod.metadata.name.clone().unwrap_or_default())
            .collect()
        };
        // Unready and of the revision the set no longer wants; never a ready one, a new one
        // still starting, one already going, or another set's.
        assert_eq!(stuck(&set(serde_json::json!({}), 5)), ["db-2"]);
        assert_eq!(
            stuck(&set(
                serde_json::json!({"podManagementPolicy": "OrderedReady",
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}}),
                5
            )),
            ["db-2"]
        );
        for left in [
            serde_json::json!({"podManagementPolicy": "Parallel"}),
            serde_json::json!({"updateStrategy": {"type": "OnDelete"}}),
            serde_json::json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}),
        ] {
            assert!(stuck(&set(left.clone(), 5)).is_empty(), "{left}");
        }
        // Its revision is not known until the controller has seen the spec.
        assert!(stuck(&set(serde_json::json!({}), 6)).is_empty());
    }

    fn deployment_at(generation: i64, status: serde_json::Value) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "cart", "generation": generation,
                "annotations": {"deployment.kubernetes.io/revision": "4"}},
            "spec": {"replicas": 3, "selector": {}, "template": {}},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn a_deployment_is_done_only_when_every_replica_is_new_and_available() {
        let steps = [
            // The controller has not seen the new spec: the old status says nothing.
            (json_status(1, 3, 3, 3, None), "spec update to be observed"),
            (
                json_status(2, 3, 1, 3, None),
                "1 out of 3 new replicas have been updated",
            ),
            (
                json_status(2, 4, 3, 3, None),
                "1 old replicas are pending termination",
            ),
            (
                json_status(2, 3, 3, 2, None),
                "2 of 3 updated replicas are available",
            ),
        ];
        for (status, says) in steps {
            let rollout = deployment(&deployment_at(2, status), Some("4"));
            assert!(
                matches!(&rollout, Rollout::Waiting(why) if why.contains(says)),
                "{rollout:?}"
            );
        }
        assert_eq!(
            deployment(&deployment_at(2, json_status(2, 3, 3, 3, None)), Some("4")),
            Rollout::Done
        );
        // An older revision is not this rollout.
        assert!(matches!(
            deployment(&deployment_at(2, json_status(2, 3, 3, 3, None)), Some("5")),
            Rollout::Waiting(why) if why.contains("at revision 4, not yet 5")
        ));
        let stuck = json_status(2, 3, 1, 1, Some("ProgressDeadlineExceeded"));
        assert!(
            matches!(deployment(&deployment_at(2, stuck), None), Rollout::Failed(why) if why.contains("progress deadline"))
        );
    }

    fn json_status(
        observed: i64,
        replicas: i32,
        updated: i32,
        available: i32,
        reason: Option<&str>,
    ) -> serde_json::Value {
        let mut status = serde_json::json!({
            "observedGeneration": observed, "replicas": replicas,
            "updatedReplicas": updated, "availableReplicas": available,
        });
        if let Some(reason) = reason {
            status["conditions"] = serde_json::json!([{"type": "Progressing", "status": "False",
                "reason": reason, "message": "ReplicaSet \"cart-7d9\" has timed out progressing."}]);
        }
        status
    }

    #[test]
    fn stateful_and_daemon_sets_follow_kubectl() {
        let set = |status: serde_json::Value, partition: Option<i32>| -> StatefulSet {
            let mut strategy = serde_json::json!({"type": "RollingUpdate"});
            if let Some(partition) = partition {
                strategy["rollingUpdate"] = serde_json::json!({"partition": partition});
            }
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "db", "generation": 3},
                "spec": {"replicas": 3, "selector": {}, "template": {}, "serviceName": "db", "updateStrategy": strategy},
                "status": status,
            }))
            .unwrap()
        };
        let moving = serde_json::json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": 3,
            "updatedReplicas": 1, "currentRevision": "db-1", "updateRevision": "db-2"});
        assert!(
            matches!(stateful_set(&set(moving.clone(), None)), Rollout::Waiting(why) if why.contains("rolling update to complete"))
        );
        // With a partition of 2, one updated pod is the whole rollout.
        assert_eq!(stateful_set(&set(moving, Some(2))), Rollout::Done);
        let done = serde_json::json!({"observedGeneration": 3, "replicas": 3, "readyReplicas": 3,
            "currentRevision": "db-2", "updateRevision": "db-2"});
        assert_eq!(stateful_set(&set(done, None)), Rollout::Done);

        let daemons: DaemonSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "agent", "generation": 5},
            "spec": {"selector": {}, "template": {}, "updateStrategy": {"type": "OnDelete"}},
            "status": {"observedGeneration": 5, "desiredNumberScheduled": 4, "currentNumberScheduled": 4,
                "numberMisscheduled": 0, "numberReady": 4, "updatedNumberScheduled": 4, "numberAvailable": 4},
        }))
        .unwrap();
        assert!(
            matches!(daemon_set(&daemons), Rollout::Failed(why) if why.contains("OnDelete") || why.contains("RollingUpdate"))
        );
    }
}
