//! One report file in: recognise it, read it, or say clearly why not.

use crate::finding::Finding;
use crate::native::{Format, detect, read_native};
use crate::sarif_input::{JsonError, SarifInputError};

/// Why a report file was refused. Every message starts with the file's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// Nothing in the file.
    #[error(
        "{file}: the file is empty, and a scanner that finds nothing still writes a report (SARIF with no results, or its JSON): did it run to the end and write to this path?"
    )]
    Empty {
        /// The file.
        file: String,
    },
    /// Not JSON, or cut short.
    #[error("{0}")]
    Json(#[from] JsonError),
    /// JSON of a shape no supported tool writes.
    #[error(
        "{file}: not a report format gantry knows ({shape}); supported: SARIF 2.1.0 from any tool and the JSON of {supported}",
        supported = crate::native::SUPPORTED
    )]
    Unknown {
        /// The file.
        file: String,
        /// What the top level looks like.
        shape: String,
    },
    /// SARIF that cannot be read.
    #[error("{0}")]
    Sarif(#[from] SarifInputError),
    /// A linter's text (`path:line:col: CODE message`): quality-gate's to read.
    #[error(
        "{file}: this is a linter's text output (`{line}`), not a security scanner's report: give it to quality-gate's `lint` input"
    )]
    Lint {
        /// The file.
        file: String,
        /// Its first line, cut short.
        line: String,
    },
}

/// Whether a text line reads as a linter's `path:line[:column]: message` (flake8, mypy,
/// pycodestyle, gcc, eslint's unix format).
fn lint_line(line: &str) -> bool {
    let mut parts = line.splitn(4, ':');
    let (Some(path), Some(number)) = (parts.next(), parts.next()) else {
        return false;
    };
    let numeric = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    !path.trim().is_empty()
        && !path.contains(char::is_whitespace)
        && numeric(number)
        && parts
            .next()
            .is_some_and(|rest| numeric(rest) || rest.starts_with(' '))
}

/// What one report file held.
#[derive(Debug, Clone)]
pub struct ReportInput {
    /// The format recognised.
    pub format: Format,
    /// Its findings.
    pub findings: Vec<Finding>,
    /// Oddities read past.
    pub warnings: Vec<String>,
}

/// Several JSON values one after another (JSON lines, or the pretty-printed stream govulncheck
/// writes), as a list; the error of the first value that is not JSON.
fn json_stream(bytes: &[u8]) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<serde_json::Value>()
        .collect::<Result<Vec<_>, _>>()
        .map(serde_json::Value::Array)
}

/// Reads one report (a UTF-8 byte-order mark is accepted).
pub fn read_report(file: &str, bytes: &[u8]) -> Result<ReportInput, ReportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ReportError::Empty {
            file: file.to_owned(),
        });
    }
    // SARIF is read streaming, a result at a time, recognised as it is read.
    if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'{') {
        if let Some(sarif) = crate::sarif_input::read_sarif_if_sarif(file, bytes) {
            let input = sarif?;
            return Ok(ReportInput {
                format: Format::Sarif,
                findings: input.findings,
                warnings: input.warnings,
            });
        }
    }
    let report: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(report) => report,
        // JSON lines (yarn audit, TruffleHog) or a stream of objects (govulncheck): a list.
        Err(error) if error.to_string().starts_with("trailing characters") => {
            json_stream(bytes).map_err(|error| JsonError::new(file, &error))?
        }
        Err(error) => {
            let first = String::from_utf8_lossy(bytes)
                .lines()
                .find(|line| !line.trim().is_empty())
                .unwrap_or_default()
                .to_owned();
            if lint_line(&first) {
                return Err(ReportError::Lint {
                    file: file.to_owned(),
                    line: first.chars().take(80).collect(),
                });
            }
            return Err(JsonError::new(file, &error).into());
        }
    };
    let Some(format) = detect(&report) else {
        let shape = match &report {
            serde_json::Value::Object(map) => {
                let keys: Vec<&str> = map.keys().take(6).map(String::as_str).collect();
                format!("an object with keys {}", keys.join(", "))
            }
            serde_json::Value::Array(items)
                if items.first().is_some_and(|item| {
                    item.get("reason").is_some() && item.get("package_id").is_some()
                }) =>
            {
                "cargo's JSON messages: lints and build output, which quality-gate reads".to_owned()
            }
            serde_json::Value::Array(items) => format!("a list of {} item(s)", items.len()),
            other => format!(
                "a bare {}",
                if other.is_string() { "string" } else { "value" }
            ),
        };
        return Err(ReportError::Unknown {
            file: file.to_owned(),
            shape,
        });
    };
    if format == Format::Sarif {
        // Not reached (SARIF is recognised while streamed, above); read it that way regardless.
        let input = crate::sarif_input::read_sarif(file, bytes)?;
        return Ok(ReportInput {
            format,
            findings: input.findings,
            warnings: input.warnings,
        });
    }
    let warnings = if format == Format::Nothing {
        vec![format!(
            "{file}: holds no findings (`{}`); read as a clean scan",
            if report.is_null() { "null" } else { "[]" }
        )]
    } else {
        Vec::new()
    };
    Ok(ReportInput {
        format,
        findings: read_native(format, &report),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 27 §5: flake8's or mypy's text given as a report was "not valid JSON at line 1".
    #[test]
    fn a_linters_text_is_sent_to_quality_gate() {
        for text in [
            "app.py:1:1: F401 'os' imported but unused\n",
            "src/app.py:12: error: Incompatible return value type  [return-value]\n",
        ] {
            let error = read_report("lint.txt", text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with("lint.txt: this is a linter's text output")
                    && error.contains("quality-gate's `lint` input"),
                "{error}"
            );
        }
        let error = read_report("notes.txt", b"just some words: 12\n").unwrap_err();
        assert!(matches!(error, ReportError::Json(_)), "{error}");
    }
}
