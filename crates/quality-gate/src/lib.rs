//! gantry-quality-gate: tests, coverage and lint in one gate that people trust.
//!
//! Work in progress (issue 5): this crate has the test-report readers ([`junit`], [`dotnet`]):
//! `JUnit` XML in its dialects, `NUnit`, `xUnit` and TRX, streamed, without entity expansion;
//! the coverage reader ([`coverage`]): Cobertura, `JaCoCo`, LCOV; and the lint reader
//! ([`lint`]). The baseline, the gate and the action follow; the action is registered in the binary only once it is
//! complete.

pub mod coverage;
pub mod dotnet;
pub mod junit;
pub mod lint;
