//! gantry-quality-gate: tests, coverage and lint in one gate that people trust.
//!
//! Work in progress (issue 5): this crate has the test-report reader ([`junit`]): `JUnit` XML in
//! its dialects, streamed, without entity expansion. Coverage, lint, the baseline, the gate and
//! the action follow; the action is registered in the binary only once it is complete.

pub mod junit;
