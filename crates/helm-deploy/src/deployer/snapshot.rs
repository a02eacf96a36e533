//! The followed workloads and pods as last seen, and what they say.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::Pod;

use crate::applied::{Workload, WorkloadKind};
use crate::readiness::{self, Rollout};

/// The followed objects, as the edge last saw them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The Deployments.
    pub deployments: Vec<Deployment>,
    /// The Deployments' ReplicaSets.
    pub replica_sets: Vec<ReplicaSet>,
    /// The StatefulSets.
    pub stateful_sets: Vec<StatefulSet>,
    /// The DaemonSets.
    pub daemon_sets: Vec<DaemonSet>,
    /// The pods the workloads' selectors select (a pod may come more than once).
    pub pods: Vec<Pod>,
}

impl Snapshot {
    /// A workload in `expected` that is not there (deleted since, or not yet seen).
    #[must_use]
    pub fn missing(&self, expected: &[Workload]) -> Option<String> {
        let named =
            |kind: WorkloadKind, name: Option<&String>| name.map(|name| (kind, name.clone()));
        let present: BTreeSet<(WorkloadKind, String)> = self
            .deployments
            .iter()
            .filter_map(|d| named(WorkloadKind::Deployment, d.metadata.name.as_ref()))
            .chain(
                self.stateful_sets
                    .iter()
                    .filter_map(|s| named(WorkloadKind::StatefulSet, s.metadata.name.as_ref())),
            )
            .chain(
                self.daemon_sets
                    .iter()
                    .filter_map(|d| named(WorkloadKind::DaemonSet, d.metadata.name.as_ref())),
            )
            .collect();
        expected
            .iter()
            // A hook Job may be deleted by its delete policy: only its pods are followed.
            .filter(|workload| workload.kind != WorkloadKind::Job)
            .find(|workload| !present.contains(&(workload.kind, workload.name.clone())))
            .map(|workload| {
                format!(
                    "{} {} that the release applied is not in the cluster",
                    workload.kind.word(),
                    workload.name
                )
            })
    }

    /// `Ok(None)`: every workload done; `Ok(Some(why))`: still waiting; `Err(why)`: failed.
    ///
    /// # Errors
    /// A workload whose rollout failed (its progress deadline passed), with why.
    pub fn rollout(&self, expected: &[Workload]) -> Result<Option<String>, String> {
        let mut waiting = self.missing(expected);
        let verdicts = self
            .deployments
            .iter()
            .map(|d| readiness::deployment(d, None))
            .chain(self.stateful_sets.iter().map(readiness::stateful_set))
            .chain(self.daemon_sets.iter().map(readiness::daemon_set));
        for verdict in verdicts {
            match verdict {
                Rollout::Done => {}
                Rollout::Waiting(why) => waiting = Some(why),
                Rollout::Failed(why) => return Err(why),
            }
        }
        Ok(waiting)
    }

    /// The pods of the workloads' current revisions (the new pods of a rollout), each once,
    /// none that is Terminating: [`readiness::judged_pods`].
    #[must_use]
    pub fn current_pods(&self) -> Vec<Pod> {
        let deployments: Vec<&Deployment> = self.deployments.iter().collect();
        let replica_sets: Vec<&ReplicaSet> = self.replica_sets.iter().collect();
        let stateful_sets: Vec<&StatefulSet> = self.stateful_sets.iter().collect();
        let daemon_sets: Vec<&DaemonSet> = self.daemon_sets.iter().collect();
        let pods: Vec<&Pod> = self.pods.iter().collect();
        readiness::judged_pods(&readiness::Observed {
            deployments: &deployments,
            replica_sets: &replica_sets,
            stateful_sets: &stateful_sets,
            daemon_sets: &daemon_sets,
            pods: &pods,
        })
        .into_iter()
        .cloned()
        .collect()
    }

    /// The names of the pods an ordered StatefulSet waits on forever: [`readiness::stuck_pods`].
    #[must_use]
    pub fn stuck_pods(&self) -> Vec<String> {
        let stateful_sets: Vec<&StatefulSet> = self.stateful_sets.iter().collect();
        let pods: Vec<&Pod> = self.pods.iter().collect();
        readiness::stuck_pods(&readiness::Observed {
            stateful_sets: &stateful_sets,
            pods: &pods,
            ..readiness::Observed::default()
        })
        .into_iter()
        .filter_map(|pod| pod.metadata.name.clone())
        .collect()
    }
}
