//! The pod states that mean a rollout will not succeed, seen the moment they appear: a
//! CrashLoopBackOff, an image that cannot be pulled, a container that cannot be configured, an
//! OOM kill, restarts that keep rising, a pod no node can take for longer than a grace period, a
//! readiness probe still failing past what the probe itself allows. Helm's waiter sees none of
//! them and waits out its whole timeout.
//!
//! [`Watcher::observe`] is given the new revision's pods and the time, each time they change.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// Why a rollout will not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A container crashes and the kubelet backs off restarting it.
    CrashLoopBackOff,
    /// The image cannot be pulled (`ImagePullBackOff`, `ErrImagePull`, `InvalidImageName`).
    ImagePull,
    /// The container cannot be created as configured (a missing ConfigMap or Secret key).
    ContainerConfig,
    /// A container was killed for using more memory than its limit.
    OomKilled,
    /// A container keeps restarting.
    Restarting,
    /// No node can take the pod.
    Unschedulable,
    /// The readiness probe still fails past what the probe allows.
    NotReady,
}

impl Cause {
    /// The word for it in the summary.
    #[must_use]
    pub const fn word(self) -> &'static str {
        match self {
            Self::CrashLoopBackOff => "CrashLoopBackOff",
            Self::ImagePull => "image pull failed",
            Self::ContainerConfig => "container cannot be configured",
            Self::OomKilled => "OOMKilled",
            Self::Restarting => "restarting",
            Self::Unschedulable => "unschedulable",
            Self::NotReady => "readiness probe failing",
        }
    }
}

/// A failing pod: which, why, and the kubelet's or scheduler's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The pod.
    pub pod: String,
    /// The container, when one is at fault.
    pub container: Option<String>,
    /// Why.
    pub cause: Cause,
    /// What Kubernetes said.
    pub detail: String,
}

/// How long a state may last before it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grace {
    /// Seconds a pod may stay unschedulable (a cluster autoscaler may be adding a node).
    pub unschedulable: i64,
    /// Seconds beyond a readiness probe's own allowance (initial delay + failure threshold ×
    /// period) before a running, unready container counts.
    pub not_ready: i64,
    /// Restarts beyond those first seen that mean a container keeps restarting.
    pub restarts: i32,
}

impl Default for Grace {
    fn default() -> Self {
        Self {
            unschedulable: 60,
            not_ready: 30,
            restarts: 2,
        }
    }
}

/// Follows the new revision's pods across observations.
#[derive(Debug, Clone, Default)]
pub struct Watcher {
    grace: Grace,
    /// Restart counts when a container was first seen, by pod and container.
    first_restarts: BTreeMap<(String, String), i32>,
}

fn seconds(time: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> Option<i64> {
    time.map(|time| time.0.as_second())
}

impl Watcher {
    /// A watcher with these grace periods.
    #[must_use]
    pub fn new(grace: Grace) -> Self {
        Self {
            grace,
            first_restarts: BTreeMap::new(),
        }
    }

    /// The first failure among `pods` at `now` (Unix seconds), if any.
    pub fn observe(&mut self, now: i64, pods: &[Pod]) -> Option<Failure> {
        pods.iter().find_map(|pod| self.pod(now, pod))
    }

    fn pod(&mut self, now: i64, pod: &Pod) -> Option<Failure> {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let status = pod.status.as_ref()?;
        let failure = |container: Option<&str>, cause, detail: String| Failure {
            pod: name.clone(),
            container: container.map(str::to_owned),
            cause,
            detail,
        };
        for condition in status.conditions.iter().flatten() {
            if condition.type_ == "PodScheduled"
                && condition.status == "False"
                && condition.reason.as_deref() == Some("Unschedulable")
            {
                let since = seconds(condition.last_transition_time.as_ref()).unwrap_or(now);
                if now - since >= self.grace.unschedulable {
                    return Some(failure(
                        None,
                        Cause::Unschedulable,
                        condition.message.clone().unwrap_or_default(),
                    ));
                }
            }
        }
        let statuses = status
            .init_container_statuses
            .iter()
            .flatten()
            .chain(status.container_statuses.iter().flatten());
        for container in statuses {
            if let Some(found) = self.container(now, pod, container) {
                return Some(failure(Some(&container.name), found.0, found.1));
            }
        }
        None
    }

    fn container(
        &mut self,
        now: i64,
        pod: &Pod,
        container: &ContainerStatus,
    ) -> Option<(Cause, String)> {
        let state = container.state.as_ref();
        let key = (
            pod.metadata.name.clone().unwrap_or_default(),
            container.name.clone(),
        );
        let first = *self
            .first_restarts
            .entry(key)
            .or_insert(container.restart_count);
        // An OOM kill says why a container crashed, whatever the kubelet does next; one from
        // before the watch counts only if the container has not recovered since.
        let recent_last = (container.restart_count > first || !container.ready)
            .then(|| {
                container
                    .last_state
                    .as_ref()
                    .and_then(|last| last.terminated.as_ref())
            })
            .flatten();
        for terminated in [
            state.and_then(|state| state.terminated.as_ref()),
            recent_last,
        ]
        .into_iter()
        .flatten()
        {
            if terminated.reason.as_deref() == Some("OOMKilled") {
                return Some((
                    Cause::OomKilled,
                    format!(
                        "killed for exceeding its memory limit (exit code {})",
                        terminated.exit_code
                    ),
                ));
            }
        }
        if let Some(waiting) = state.and_then(|state| state.waiting.as_ref()) {
            let message = waiting.message.clone().unwrap_or_default();
            let cause = match waiting.reason.as_deref() {
                Some("CrashLoopBackOff") => Some(Cause::CrashLoopBackOff),
                Some(
                    "ImagePullBackOff" | "ErrImagePull" | "InvalidImageName" | "ErrImageNeverPull",
                ) => Some(Cause::ImagePull),
                Some(
                    "CreateContainerConfigError" | "CreateContainerError" | "RunContainerError",
                ) => Some(Cause::ContainerConfig),
                _ => None,
            };
            if let Some(cause) = cause {
                return Some((cause, message));
            }
        }
        if container.restart_count - first >= self.grace.restarts {
            let reason = container
                .last_state
                .as_ref()
                .and_then(|last| last.terminated.as_ref())
                .map(|terminated| {
                    format!(
                        ", last exit {} ({})",
                        terminated.exit_code,
                        terminated.reason.as_deref().unwrap_or("no reason")
                    )
                })
                .unwrap_or_default();
            return Some((
                Cause::Restarting,
                format!(
                    "restarted {} times while watched{reason}",
                    container.restart_count - first
                ),
            ));
        }
        if let Some(running) = state.and_then(|state| state.running.as_ref()) {
            if !container.ready {
                let started = seconds(running.started_at.as_ref())?;
                let probe = pod
                    .spec
                    .as_ref()
                    .and_then(|spec| spec.containers.iter().find(|c| c.name == container.name))
                    .and_then(|spec| spec.readiness_probe.as_ref())?;
                // What the probe itself allows before the pod is reported unready for good.
                let allowance = i64::from(probe.initial_delay_seconds.unwrap_or(0))
                    + i64::from(probe.failure_threshold.unwrap_or(3))
                        * i64::from(probe.period_seconds.unwrap_or(10));
                if now - started >= allowance + self.grace.not_ready {
                    return Some((
                        Cause::NotReady,
                        format!(
                            "running {} s and still not ready (its probe allows {allowance} s)",
                            now - started
                        ),
                    ));
                }
            }
        }
        None
    }
}

#[cfg(test)]
#[expect(
    clippy::needless_pass_by_value,
    reason = "fixtures read best as values passed in"
)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "cart-7d9f-abcde"},
            "spec": {"containers": [{"name": "app", "image": "cart:2",
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 5, "failureThreshold": 3}}]},
            "status": status,
        }))
        .unwrap()
    }

    fn container(
        state: serde_json::Value,
        last: serde_json::Value,
        restarts: i32,
        ready: bool,
    ) -> serde_json::Value {
        serde_json::json!({"containerStatuses": [{"name": "app", "image": "cart:2", "imageID": "",
            "ready": ready, "restartCount": restarts, "state": state, "lastState": last}]})
    }

    #[test]
    fn each_cause_is_seen_the_moment_it_appears_with_kubernetes_own_words() {
        let cases = [
            (
                container(
                    serde_json::json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s restarting failed container=app pod=cart-7d9f-abcde"}}),
                    serde_json::json!({"terminated": {"exitCode": 1, "reason": "Error"}}),
                    1,
                    false,
                ),
                Cause::CrashLoopBackOff,
                "back-off 10s restarting failed container=app",
            ),
            (
                container(
                    serde_json::json!({"waiting": {"reason": "ErrImagePull", "message": "rpc error: code = NotFound desc = failed to pull and unpack image \"cart:2\""}}),
                    serde_json::json!({}),
                    0,
                    false,
                ),
                Cause::ImagePull,
                "failed to pull and unpack image",
            ),
            (
                container(
                    serde_json::json!({"waiting": {"reason": "CreateContainerConfigError", "message": "secret \"cart-db\" not found"}}),
                    serde_json::json!({}),
                    0,
                    false,
                ),
                Cause::ContainerConfig,
                "secret \"cart-db\" not found",
            ),
            (
                container(
                    serde_json::json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}}),
                    serde_json::json!({"terminated": {"exitCode": 137, "reason": "OOMKilled"}}),
                    1,
                    false,
                ),
                Cause::OomKilled,
                "exit code 137",
            ),
        ];
        for (status, cause, says) in cases {
            let failure = Watcher::default()
                .observe(NOW, &[pod(status)])
                .expect("a failure");
            assert_eq!(
                (failure.cause, failure.container.as_deref()),
                (cause, Some("app"))
            );
            assert!(failure.detail.contains(says), "{failure:?}");
        }
    }

    #[test]
    fn waits_that_may_pass_count_only_after_their_grace() {
        // Unschedulable for 30 s is a node being added; for 60 s it is a failure.
        let unschedulable = |since: i64| {
            pod(
                serde_json::json!({"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient memory.",
                "lastTransitionTime": format!("2026-01-01T00:00:{since:02}Z")}]}),
            )
        };
        let mut watcher = Watcher::default();
        assert_eq!(watcher.observe(NOW + 30, &[unschedulable(0)]), None);
        let failure = watcher.observe(NOW + 60, &[unschedulable(0)]).unwrap();
        assert_eq!(failure.cause, Cause::Unschedulable);
        assert!(failure.detail.contains("Insufficient memory"));

        // Running but unready: the probe allows 3 × 5 s, plus 30 s of grace.
        let running = pod(container(
            serde_json::json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}}),
            serde_json::json!({}),
            0,
            false,
        ));
        assert_eq!(
            watcher.observe(NOW + 44, std::slice::from_ref(&running)),
            None
        );
        assert_eq!(
            watcher.observe(NOW + 45, &[running]).unwrap().cause,
            Cause::NotReady
        );
    }

    #[test]
    fn restarts_count_from_when_the_watch_began() {
        let restarted = |count: i32| {
            pod(container(
                serde_json::json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}}),
                serde_json::json!({"terminated": {"exitCode": 2, "reason": "Error"}}),
                count,
                true,
            ))
        };
        let mut watcher = Watcher::default();
        // Restarts from before the watch (an older incident) do not count.
        assert_eq!(watcher.observe(NOW, &[restarted(5)]), None);
        assert_eq!(watcher.observe(NOW + 10, &[restarted(6)]), None);
        let failure = watcher.observe(NOW + 20, &[restarted(7)]).unwrap();
        assert_eq!(failure.cause, Cause::Restarting);
        assert!(
            failure.detail.contains("last exit 2 (Error)"),
            "{failure:?}"
        );
        // An OOM kill before the watch, on a container ready since, is history.
        let recovered = pod(container(
            serde_json::json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}}),
            serde_json::json!({"terminated": {"exitCode": 137, "reason": "OOMKilled"}}),
            1,
            true,
        ));
        assert_eq!(Watcher::default().observe(NOW + 60, &[recovered]), None);
        // A healthy, ready pod is no failure.
        let healthy = pod(container(
            serde_json::json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}}),
            serde_json::json!({}),
            0,
            true,
        ));
        assert_eq!(Watcher::default().observe(NOW + 600, &[healthy]), None);
    }
}
