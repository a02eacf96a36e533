//! gantry-canary-verify: the canary judge, sans-IO.
//!
//! Built in steps (issue 11). Landed: [`stats`], the statistics the judge decides with, each
//! checked against SciPy on the same samples (`tests/scipy.rs`). To come: the metric presets
//! and queries, the judge as a state machine with time passed in, the report.

pub mod stats;
