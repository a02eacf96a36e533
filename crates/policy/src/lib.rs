//! gantry-policy: Gatekeeper's policies judged before anything reaches a cluster.
//!
//! What it is: a sans-IO evaluator of OPA Gatekeeper `ConstraintTemplate`s and their constraints
//! over Kubernetes objects, with Rego run in-process by regorus (never a spawned `opa`), as
//! Gatekeeper runs it: the template's Rego read as Rego v1 first, then as v0; the object under
//! `input.review` (with its `kind`, name, namespace and operation `CREATE`), the constraint's
//! parameters under `input.parameters`, and the template's `violation[{"msg", "details"}]` as the
//! answer. A template's CEL engine, when it also carries one, is left to Gatekeeper: the Rego is
//! what runs here.
//!
//! What it is not yet: the action (inputs, findings, SARIF, comment) — issue 28 builds it on this.

pub mod gatekeeper;

pub use gatekeeper::{Constraint, EnforcementAction, PolicyError, Template, Violation, evaluate};
