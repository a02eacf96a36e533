//! One run of an action: its inputs, the runner's context, the event, and file access that
//! names the file in every error.

use std::path::{Path, PathBuf};

use gantry_core::event::Event;
use gantry_core::runner::{InputError, Inputs, RunnerContext};

/// Why an action could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum ActionFailure {
    /// Bad input or usage: exit 2, nothing published.
    #[error("{0}")]
    InvalidInput(String),
    /// A service the action needs (terraform, Prometheus, the cluster) failed: exit 3.
    #[error("{0}")]
    Service(String),
}

impl ActionFailure {
    /// The process exit status for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::InvalidInput(_) => crate::EXIT_INVALID_INPUT,
            Self::Service(_) => crate::EXIT_SERVICE_ERROR,
        }
    }

    /// The `result` output for this failure.
    pub fn result(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid-input",
            Self::Service(_) => "service-error",
        }
    }
}

impl From<InputError> for ActionFailure {
    fn from(error: InputError) -> Self {
        Self::InvalidInput(error.to_string())
    }
}

/// Everything an action's adapter may look at.
#[derive(Debug)]
pub struct Invocation {
    /// The step's inputs (environment, then `--flags`, then declared defaults).
    pub inputs: Inputs,
    /// The runner's context.
    pub context: RunnerContext,
    /// The event payload, when the runner gave one.
    pub event: Option<Event>,
    /// The folder relative paths are read from (`GITHUB_WORKSPACE`, else the current folder).
    pub workspace: PathBuf,
    /// Effects go to local files, not GitHub (`--dry-run`, the demo): nothing is asked of
    /// GitHub either.
    pub dry_run: bool,
}

impl Invocation {
    /// The absolute path of a workspace-relative (or absolute) path.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.workspace.join(path)
        }
    }

    /// Reads a whole file; the error names the file as the user wrote it.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, ActionFailure> {
        let resolved = self.resolve(path);
        if resolved.is_dir() {
            return Err(ActionFailure::InvalidInput(format!(
                "{path}: is a folder, not a file"
            )));
        }
        std::fs::read(&resolved).map_err(|error| {
            ActionFailure::InvalidInput(format!("{path}: cannot read: {}", io_reason(&error)))
        })
    }
}

/// An I/O error in words, without the OS error number.
pub fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => {
            let text = error.to_string();
            text.split(" (os error").next().unwrap_or(&text).to_owned()
        }
    }
}
