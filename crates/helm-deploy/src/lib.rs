//! gantry-helm-deploy: the rollout, sans-IO.
//!
//! Built in steps (issue 12). Landed: [`readiness`], whether a workload's rollout is done, still
//! going or failed, by kubectl's `rollout status` rules (not Helm's waiter); [`failure`], the pod
//! states that mean a rollout will not succeed, seen the moment they appear — so a crash-looping
//! release is rolled back in seconds instead of at the end of a timeout. To come: the plan of
//! steps per strategy, traffic weights, the rollback order, Helm's command lines, the action.

pub mod failure;
pub mod readiness;
