//! gantry-security-scan: many scanners in, one trustworthy verdict and one valid SARIF out.
//!
//! Work in progress (issue 4): this crate has the finding model, the one severity scale every
//! tool is mapped onto ([`severity`]), the reader of SARIF from any producer ([`sarif_input`]),
//! and format recognition with the first native readers ([`native`], [`input`]). The remaining
//! native formats, deduplication, baselines, suppressions, the merged SARIF and the action itself
//! follow; the action is registered in the binary only once it is complete.
//!
//! Sans-IO like every action crate: reports come in as bytes, the report goes out as values.

pub mod finding;
pub mod input;
pub mod native;
pub mod sarif_input;
pub mod severity;
