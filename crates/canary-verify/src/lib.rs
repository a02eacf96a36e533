//! gantry-canary-verify: the canary judge, sans-IO.
//!
//! Built in steps (issue 11). Landed: [`stats`], the statistics the judge decides with, each
//! checked against SciPy on the same samples (`tests/scipy.rs`); [`metrics`], what is measured
//! (PromQL templates, the `istio` and `http` presets); [`judge`], the state machine that says
//! which queries a look needs and decides from their answers; [`report`], the summary, comment
//! and evidence file; [`options`], the action's declaration and inputs. To come: custom metric
//! files, and the `gantry canary-verify` command with its action (the Prometheus edge is
//! `gantry-prometheus`).

pub mod custom;
pub mod judge;
pub mod metrics;
pub mod options;
pub mod report;
pub mod stats;
