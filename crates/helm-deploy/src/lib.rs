//! gantry-helm-deploy: the rollout, sans-IO.
//!
//! - [`options`]: the action's declaration and its inputs.
//! - [`plan`]: the steps of a rolling, blue-green or canary deploy, the traffic weights of each,
//!   and for any point a deploy may stop at, the steps that undo it — traffic first.
//! - [`readiness`]: whether a workload's rollout is done, still going or failed, by kubectl's
//!   `rollout status` rules (not Helm's waiter).
//! - [`failure`]: the pod states that mean a rollout will not succeed, seen the moment they
//!   appear — so a crash-looping release is rolled back in seconds, not at a timeout's end.
//! - [`routing`]: `VirtualService` and `HTTPRoute` weights and Service selectors, read and written.
//! - [`copy`]: a track's copy of a chart's own workload and Service, every selected label told
//!   apart, for charts that keep no contract with Gantry.
//! - [`baseline`]: the copy of the stable version the canary is judged against.
//! - [`release`]: Helm's release records (Secrets), decoded; pending releases found.
//! - [`manifest`]: a release's rendered manifest read as Helm reads it (YAML to JSON values).
//! - [`applied`]: the workloads a release's manifest applies, by kind and name, with the
//!   selectors of their pods: what a deploy judges, whatever labels the chart uses.
//! - [`mask`]: secrets out of pod logs and events before they reach a summary.
//! - [`report`]: the summary, outputs and final deployment statuses of a deploy.
//! - [`deployer`]: the deploy as a state machine the edge pumps: helm, the rollout, the
//!   routing, the judge, the checks, the undo — intents out, observations in, time passed in.
//! - [`helm`]: the `helm` command lines, built here so that what runs is what tests read.
//!
//! The canary's statistics are canary-verify's judge, driven between traffic steps.

pub mod applied;
pub mod baseline;
pub mod copy;
pub mod deployer;
pub mod failure;
pub mod helm;
pub mod manifest;
pub mod mask;
pub mod options;
pub mod plan;
pub mod readiness;
pub mod release;
pub mod report;
pub mod routing;
