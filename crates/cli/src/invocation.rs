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
    /// Where local effects are written (`--out-dir`).
    pub out_dir: PathBuf,
    /// The most bytes one input file may hold ([`MAX_INPUT_BYTES_VARIABLE`]).
    pub max_input_bytes: u64,
}

/// The most bytes one input file (a report, a plan, a baseline) may hold unless
/// [`MAX_INPUT_BYTES_VARIABLE`] says otherwise: 1 GiB. No more than one byte past it is read.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 1 << 30;

/// The environment variable that raises (or lowers) [`DEFAULT_MAX_INPUT_BYTES`], in bytes.
pub const MAX_INPUT_BYTES_VARIABLE: &str = "GANTRY_MAX_INPUT_BYTES";

/// The cap on input files from the environment: [`MAX_INPUT_BYTES_VARIABLE`] when it is a
/// number of bytes, else the default.
pub fn max_input_bytes(environment: &std::collections::BTreeMap<String, String>) -> u64 {
    environment
        .get(MAX_INPUT_BYTES_VARIABLE)
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_INPUT_BYTES)
}

/// Opens `resolved` (shown as `shown`) for reading when it is a regular file, and refuses a
/// folder, a FIFO, a device or a socket by name without blocking on it (a FIFO is opened
/// without waiting for a writer, then looked at through the open descriptor, so it cannot be
/// swapped in between).
pub fn open_regular(resolved: &Path, shown: &str) -> Result<(std::fs::File, u64), ActionFailure> {
    let refuse = |what: &str| {
        ActionFailure::InvalidInput(format!("{shown}: is {what}, not a regular file; not read"))
    };
    let kind = |metadata: &std::fs::Metadata| -> Option<&'static str> {
        let file_type = metadata.file_type();
        if file_type.is_file() {
            return None;
        }
        if file_type.is_dir() {
            return Some("a folder");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt as _;
            if file_type.is_fifo() {
                return Some("a FIFO (named pipe)");
            }
            if file_type.is_socket() {
                return Some("a socket");
            }
            if file_type.is_char_device() || file_type.is_block_device() {
                return Some("a device");
            }
        }
        Some("not a regular file")
    };
    let unreadable = |error: &std::io::Error| {
        ActionFailure::InvalidInput(format!("{shown}: cannot read: {}", io_reason(error)))
    };
    let before = std::fs::metadata(resolved).map_err(|error| unreadable(&error))?;
    if let Some(what) = kind(&before) {
        return Err(refuse(what));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(resolved).map_err(|error| unreadable(&error))?;
    let opened = file.metadata().map_err(|error| unreadable(&error))?;
    if let Some(what) = kind(&opened) {
        return Err(refuse(what));
    }
    Ok((file, opened.len()))
}

/// The whole of the regular file at `resolved` (shown as `shown`), refused unread when it holds
/// more than `cap` bytes, and never read more than one byte past it when it grows meanwhile.
pub fn read_capped(resolved: &Path, shown: &str, cap: u64) -> Result<Vec<u8>, ActionFailure> {
    use std::io::Read as _;
    let (file, length) = open_regular(resolved, shown)?;
    if length > cap {
        return Err(ActionFailure::InvalidInput(over_cap(shown, cap)));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    Capped::new(file, shown, cap)
        .read_to_end(&mut bytes)
        .map_err(|error| {
            ActionFailure::InvalidInput(match error.kind() {
                std::io::ErrorKind::Other => error.to_string(),
                _ => format!("{shown}: cannot read: {}", io_reason(&error)),
            })
        })?;
    Ok(bytes)
}

/// A reader that fails, naming the file and the cap, once more than `cap` bytes arrive; it
/// never reads more than one byte past the cap.
pub struct Capped<R> {
    inner: std::io::Take<R>,
    shown: String,
    cap: u64,
    read: u64,
}

impl<R: std::io::Read> Capped<R> {
    /// `inner`, allowed `cap` bytes.
    pub fn new(inner: R, shown: &str, cap: u64) -> Self {
        Self {
            inner: inner.take(cap.saturating_add(1)),
            shown: shown.to_owned(),
            cap,
            read: 0,
        }
    }
}

impl<R: std::io::Read> std::io::Read for Capped<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.read += count as u64;
        if self.read > self.cap {
            return Err(std::io::Error::other(over_cap(&self.shown, self.cap)));
        }
        Ok(count)
    }
}

/// The words for a file over the cap.
fn over_cap(shown: &str, cap: u64) -> String {
    format!(
        "{shown}: over {cap} bytes, the most gantry reads from one file (set {MAX_INPUT_BYTES_VARIABLE} to raise it); not read"
    )
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

    /// Reads a whole file of at most [`Invocation::max_input_bytes`]; the error names the file
    /// as the user wrote it. Anything but a regular file is refused unread.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, ActionFailure> {
        read_capped(&self.resolve(path), path, self.max_input_bytes)
    }

    /// Opens a file to stream (a report too large to hold), capped like [`Invocation::read`].
    pub fn stream(&self, path: &str) -> Result<Capped<std::fs::File>, ActionFailure> {
        let (file, length) = open_regular(&self.resolve(path), path)?;
        if length > self.max_input_bytes {
            return Err(ActionFailure::InvalidInput(over_cap(
                path,
                self.max_input_bytes,
            )));
        }
        Ok(Capped::new(file, path, self.max_input_bytes))
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
