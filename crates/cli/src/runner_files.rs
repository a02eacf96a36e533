//! The runner's files and streams: workflow commands on standard output, `GITHUB_OUTPUT`,
//! `GITHUB_STEP_SUMMARY`, the event payload, files the report asks for, and how a failure is
//! reported through them.

use std::fmt::Write as _;
use std::hash::{BuildHasher as _, Hasher as _};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use gantry_core::action::{InputKind, InputSpec, RESULT_OUTPUT};
use gantry_core::event::Event;
use gantry_core::runner::{
    AnnotationLevel, AnnotationPlace, Inputs, Outputs, RunnerContext, WorkflowCommand,
    fit_step_summary,
};

use crate::invocation::{ActionFailure, io_reason};

/// Standard output: workflow commands and data. Writes are best-effort (a closed pipe must not
/// turn a passed gate into a crash).
pub(crate) struct Console<'out> {
    pub(crate) out: &'out mut dyn std::io::Write,
}

impl Console<'_> {
    /// One line of text, never a workflow command: a line break or carriage return inside it
    /// (from a report's headline, a file name) is escaped as a command's value would be, so no
    /// text can start a line of its own that the runner would read as `::command::`.
    pub(crate) fn line(&mut self, text: impl std::fmt::Display) {
        let text = text.to_string();
        let _ = writeln!(self.out, "{}", one_log_line(&text));
    }

    pub(crate) fn command(&mut self, command: &WorkflowCommand) {
        let _ = writeln!(self.out, "{command}");
    }

    pub(crate) fn warning(&mut self, title: &str, message: &str) {
        self.command(&WorkflowCommand::Annotation {
            level: AnnotationLevel::Warning,
            place: AnnotationPlace {
                title: Some(title.to_owned()),
                ..AnnotationPlace::default()
            },
            message: message.to_owned(),
        });
    }

    pub(crate) fn error(&mut self, message: &str) {
        self.command(&WorkflowCommand::Annotation {
            level: AnnotationLevel::Error,
            place: AnnotationPlace::default(),
            message: message.to_owned(),
        });
    }
}

/// `text` with every `\r` and `\n` but a last `\n` written as `%0D` and `%0A` (and `%` as
/// `%25` where it would start such an escape), as the runner escapes command values: the
/// runner reads workflow commands from any line of stdout and stderr, so a log line must stay
/// one line.
pub(crate) fn one_log_line(text: &str) -> std::borrow::Cow<'_, str> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    if !body.contains(['\r', '\n']) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for character in body.chars() {
        match character {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    if body.len() < text.len() {
        out.push('\n');
    }
    std::borrow::Cow::Owned(out)
}

/// Standard error for the log: each event tracing writes (one `write` of one formatted line)
/// is kept to one line by [`one_log_line`], whatever its fields hold.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(one_log_line(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Reports a failure the way every run does: an error annotation, `result` set to the
/// failure's word, and its exit status.
pub(crate) fn fail(
    console: &mut Console<'_>,
    context: &RunnerContext,
    failure: &ActionFailure,
) -> u8 {
    console.error(&failure.to_string());
    write_result_only(context, failure.result());
    // The job's page shows why, not only its log: a refusal (exit 2) or a service that failed
    // (exit 3) is the summary's one entry.
    if context.step_summary_path.is_some() {
        let heading = match failure {
            ActionFailure::InvalidInput(_) => "Gantry refused its inputs (exit 2)",
            ActionFailure::Service(_) => {
                "Gantry could not finish: a service it needs failed (exit 3)"
            }
        };
        let summary = format!(
            "### ❌ {heading}\n\n{}\n",
            gantry_core::markdown::code_block("text", &failure.to_string())
        );
        let _ = append_summary(context, &summary, Path::new(""));
    }
    failure.exit_code()
}

/// Registers secret inputs with the runner so no later log line can show them. Only inside
/// Actions: locally the command itself would print the secret.
pub(crate) fn mask_secrets(
    specs: &[InputSpec],
    inputs: &Inputs,
    context: &RunnerContext,
    console: &mut Console<'_>,
) {
    if !context.in_actions {
        return;
    }
    for spec in specs.iter().filter(|spec| spec.kind == InputKind::Secret) {
        if let Some(secret) = inputs.optional(spec.name) {
            console.command(&WorkflowCommand::AddMask(secret));
        }
    }
}

/// GitHub's payloads are at most 25 MB; the runner writes the file, but it is read as any input.
const MAX_EVENT_BYTES: u64 = 64 * 1024 * 1024;

pub(crate) fn read_event(context: &RunnerContext) -> Result<Option<Event>, ActionFailure> {
    let (Some(name), Some(path)) = (&context.event_name, &context.event_path) else {
        return Ok(None);
    };
    let shown = format!("{path} (GITHUB_EVENT_PATH)");
    let bytes = crate::invocation::read_capped(Path::new(path), &shown, MAX_EVENT_BYTES)?;
    Event::parse(name, &bytes).map(Some).map_err(|error| {
        ActionFailure::InvalidInput(format!("{path} (GITHUB_EVENT_PATH): {error}"))
    })
}

/// A fresh heredoc delimiter from the OS's randomness (std seeds `RandomState` from it).
fn random_delimiter() -> String {
    let mut words = String::from("ghadelimiter_");
    for salt in 0..2u64 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(salt);
        let _ = write!(words, "{:016x}", hasher.finish());
    }
    words
}

pub(crate) fn write_outputs(
    context: &RunnerContext,
    outputs: &Outputs,
    console: &mut Console<'_>,
) -> Result<(), ActionFailure> {
    let Some(path) = &context.output_path else {
        for (name, value) in outputs.iter() {
            console.line(format_args!(
                "output {name}={}",
                value.lines().next().unwrap_or("")
            ));
        }
        return Ok(());
    };
    let text = outputs
        .render_github_output(&random_delimiter())
        .map_err(|error| ActionFailure::Service(error.to_string()))?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|error| {
            ActionFailure::Service(format!(
                "{path} (GITHUB_OUTPUT): cannot write: {}",
                io_reason(&error)
            ))
        })
}

/// Writes a file through a buffer, straight from its model when it has one.
pub(crate) fn write_file(
    path: &Path,
    contents: &gantry_core::report::Contents,
) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(path)?);
    contents.write_to(&mut out)?;
    out.flush()
}

pub(crate) fn write_result_only(context: &RunnerContext, result: &str) {
    let mut outputs = Outputs::default();
    outputs.set(RESULT_OUTPUT.name, result);
    let mut sink = Vec::new();
    let _ = write_outputs(context, &outputs, &mut Console { out: &mut sink });
}

pub(crate) fn append_summary(
    context: &RunnerContext,
    summary: &str,
    local_copy: &Path,
) -> Result<(), ActionFailure> {
    if summary.is_empty() {
        return Ok(());
    }
    let text = fit_step_summary(summary);
    let (path, what) = match &context.step_summary_path {
        Some(path) => (PathBuf::from(path), "GITHUB_STEP_SUMMARY"),
        None => (local_copy.to_owned(), "the local summary"),
    };
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|error| {
            ActionFailure::Service(format!(
                "{} ({what}): cannot write: {}",
                path.display(),
                io_reason(&error)
            ))
        })
}

#[cfg(test)]
mod log_line_tests {
    use super::one_log_line;

    #[test]
    fn no_text_can_start_a_line_of_its_own() {
        assert_eq!(one_log_line("plain\n"), "plain\n");
        assert_eq!(
            one_log_line("ok\r::error::forged\n::add-mask::x 100%\n"),
            "ok%0D::error::forged%0A::add-mask::x 100%25\n"
        );
        assert_eq!(one_log_line("a\rb"), "a%0Db");
    }
}
