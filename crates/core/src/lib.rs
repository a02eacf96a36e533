//! gantry-core: the sans-IO heart of Gantry.
//!
//! What it is: the GitHub Actions runner contract as plain values ([`runner`]), the event payloads
//! the runner hands a job ([`event`]), markdown that untrusted text cannot break ([`markdown`]),
//! the [`Report`](report::Report) every action returns ([`report`]), the action registry that
//! `action.yml` files are generated from ([`action`]), and the SARIF and `JUnit` models the actions
//! share ([`sarif`], [`junit`]).
//!
//! What it is deliberately not: an I/O layer. Nothing here reads the process environment, the clock, randomness,
//! the network, processes or files by path. Callers pass those in: an environment *map*, a
//! heredoc delimiter, a `now`, file contents as bytes or a reader. That is why every action can be
//! a pure function from inputs to a `Report`, why tests need no runner, no GitHub and no sleeps,
//! and why the crate builds for `wasm32-wasip1` (CI checks which WASI calls the module imports).
//! The edges that do touch the world are `gantry-github` and the `gantry` binary.

pub mod action;
pub mod collections;
pub mod event;
pub mod junit;
pub mod markdown;
pub mod report;
pub mod runner;
pub mod sarif;
pub mod saved;
pub mod workspace;
