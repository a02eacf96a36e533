//! gantry-security-scan: many scanners in, one trustworthy verdict and one valid SARIF out.
//!
//! Work in progress (issue 4): this crate has the finding model, the one severity scale every
//! tool is mapped onto ([`severity`]), and the reader of SARIF from any producer ([`sarif_input`]).
//! Native report formats, deduplication, baselines, suppressions, the merged SARIF and the action
//! itself follow; the action is registered in the binary only once it is complete.
//!
//! Sans-IO like every action crate: reports come in as bytes, the report goes out as values.

pub mod finding;
pub mod sarif_input;
pub mod severity;
