//! Linter reports, one finding model for every format, recognised from the content:
//! checkstyle XML, `ESLint` JSON, pylint JSON, ruff JSON, SARIF, reviewdog's rdjson, clippy's
//! JSON lines (`cargo clippy --message-format=json`), and the text of flake8/pycodestyle, mypy,
//! Black `--check` and isort `--check`.
//!
//! Severity is the tool's own where it has one (`ESLint` 2/1, checkstyle and SARIF levels, pylint
//! types, mypy and clippy levels). Where it has none, a finding is an **error**, because the
//! tool exits non-zero for it: ruff, Black ("would reformat"), isort, and flake8 — except
//! pycodestyle's `W` codes, warnings by name. Notes (mypy `note`, pylint `convention` and
//! `refactor`, SARIF `note`) never gate.
//!
//! Duplicates are counted once: clippy reports a warning once per build target (lib, tests,
//! benches), and the same file, place, rule and message is one finding.

use gantry_core::collections::FixedHashSet;

use gantry_security_scan::finding::{Finding, Level};
use gantry_security_scan::native::{Format, read_native};
use quick_xml::events::Event;
use serde_json::Value;

use crate::test_report::TestReportError;
use crate::xml::{attribute, next_event};

/// How serious a lint finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LintSeverity {
    /// Informational; never gates.
    Note,
    /// A warning.
    Warning,
    /// An error.
    Error,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LintFinding {
    /// The linter.
    pub tool: String,
    /// File as the tool wrote it.
    pub file: String,
    /// Line, from 1.
    pub line: Option<u32>,
    /// Column, from 1.
    pub column: Option<u32>,
    /// Rule or code (`E501`, `no-unused-vars`, `clippy::len_zero`).
    pub rule: String,
    /// Severity.
    pub severity: LintSeverity,
    /// Message (untrusted text).
    pub message: String,
}

/// The findings of one report.
#[derive(Debug, Clone, Default)]
pub struct LintReport {
    /// Findings, duplicates removed, in report order.
    pub findings: Vec<LintFinding>,
}

fn not_lint(file: &str, what: String) -> TestReportError {
    TestReportError::NotLint {
        file: file.to_owned(),
        what,
    }
}

fn json_error(file: &str, error: &serde_json::Error) -> TestReportError {
    TestReportError::Xml {
        file: file.to_owned(),
        position: u64::try_from(error.line()).unwrap_or(0),
        message: format!("not valid JSON at line {}: {error}", error.line()),
    }
}

/// Reads one linter report.
pub fn read_lint(file: &str, bytes: &[u8]) -> Result<LintReport, TestReportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_start();
    let mut findings = if trimmed.is_empty() {
        // A text linter that found nothing writes nothing; a structured report (checkstyle,
        // JSON, SARIF) always has a root even when clean, so an empty one means the linter did
        // not run to the end: refused rather than read as clean.
        if is_structured_name(file) {
            return Err(TestReportError::Empty {
                file: file.to_owned(),
            });
        }
        Vec::new()
    } else if trimmed.starts_with('<') {
        checkstyle(file, bytes)?
    } else if trimmed.starts_with('{') || trimmed.starts_with('[') {
        json(file, &text)?
    } else {
        lines(file, &text)?
    };
    let mut seen = FixedHashSet::default();
    findings.retain(|finding| seen.insert(finding.clone()));
    Ok(LintReport { findings })
}

/// Whether the file's name says it holds a structured report (which is never empty).
fn is_structured_name(file: &str) -> bool {
    let extension = file
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    matches!(
        extension.as_deref(),
        Some("xml" | "json" | "jsonl" | "ndjson" | "sarif" | "rdjson" | "rdjsonl")
    )
}

fn checkstyle(file: &str, bytes: &[u8]) -> Result<Vec<LintFinding>, TestReportError> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buffer = Vec::new();
    let mut depth = 0usize;
    let mut current_file = String::new();
    let mut findings = Vec::new();
    let mut root_seen = false;
    loop {
        let event = next_event(&mut reader, &mut buffer, file, depth)?;
        match event {
            Event::Eof => break,
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
                let name = tag.local_name().as_ref().to_owned();
                if !root_seen {
                    root_seen = true;
                    if name != "checkstyle" {
                        return Err(not_lint(
                            file,
                            format!("XML whose root element is `<{name}>`"),
                        ));
                    }
                }
                match name.as_str() {
                    "file" => current_file = attribute(tag, "name").unwrap_or_default(),
                    "error" => {
                        let severity = match attribute(tag, "severity")
                            .unwrap_or_default()
                            .to_ascii_lowercase()
                            .as_str()
                        {
                            "error" | "failure" | "fatal" => LintSeverity::Error,
                            "info" | "ignore" | "notice" => LintSeverity::Note,
                            _ => LintSeverity::Warning,
                        };
                        findings.push(LintFinding {
                            tool: "checkstyle".to_owned(),
                            file: current_file.clone(),
                            line: attribute(tag, "line")
                                .and_then(|line| line.parse().ok())
                                .filter(|line| *line > 0),
                            column: attribute(tag, "column")
                                .and_then(|column| column.parse().ok())
                                .filter(|column| *column > 0),
                            rule: attribute(tag, "source").unwrap_or_default(),
                            severity,
                            message: attribute(tag, "message").unwrap_or_default(),
                        });
                    }
                    _ => {}
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        buffer.clear();
    }
    Ok(findings)
}

fn text_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn number(value: &Value) -> Option<u32> {
    value
        .as_u64()
        .and_then(|number| u32::try_from(number).ok())
        .filter(|number| *number > 0)
}

fn json(file: &str, text: &str) -> Result<Vec<LintFinding>, TestReportError> {
    // SARIF and rdjson are read by security-scan's readers, the same for both actions.
    let maybe_sarif = text.contains("\"runs\"");
    if let Some(read) = maybe_sarif
        .then(|| gantry_security_scan::sarif_input::read_sarif_if_sarif(file, text.as_bytes()))
        .flatten()
    {
        let read = read.map_err(|error| TestReportError::Io {
            file: file.to_owned(),
            message: {
                let message = error.to_string();
                message
                    .strip_prefix(&format!("{file}: "))
                    .map_or_else(|| message.clone(), str::to_owned)
            },
        })?;
        return Ok(read.findings.into_iter().filter_map(from_finding).collect());
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) if error.to_string().starts_with("trailing characters") => {
            // JSON lines (cargo's messages).
            let values: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(text)
                .into_iter::<Value>()
                .collect();
            Value::Array(values.map_err(|error| json_error(file, &error))?)
        }
        Err(error) => return Err(json_error(file, &error)),
    };
    let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
    let every = |test: &dyn Fn(&Value) -> bool| !items.is_empty() && items.iter().all(test);
    if value["diagnostics"].is_array() {
        return Ok(read_native(Format::Rdjson, &value)
            .into_iter()
            .filter_map(from_finding)
            .collect());
    }
    if items.is_empty() && value.is_array() {
        return Ok(Vec::new());
    }
    if every(&|item| item.get("filePath").is_some() && item["messages"].is_array()) {
        return Ok(eslint(items));
    }
    if every(&|item| item.get("reason").is_some()) {
        return Ok(cargo(items));
    }
    if every(&|item| {
        item.get("message-id").is_some()
            || (item.get("symbol").is_some() && item.get("module").is_some())
    }) {
        return Ok(pylint(items));
    }
    if every(&|item| {
        item.get("code").is_some()
            && item.get("filename").is_some()
            && item.get("location").is_some()
    }) {
        return Ok(ruff(items));
    }
    Err(not_lint(
        file,
        match &value {
            Value::Object(map) => format!(
                "JSON with keys {}",
                map.keys().take(6).cloned().collect::<Vec<_>>().join(", ")
            ),
            _ => "JSON of a shape no supported linter writes".to_owned(),
        },
    ))
}

/// A finding of security-scan's readers as a lint finding; `None` when the tool itself
/// suppressed it in the source (an accepted SARIF suppression: not a live finding).
fn from_finding(finding: Finding) -> Option<LintFinding> {
    if finding.suppressed_in_source {
        return None;
    }
    Some(LintFinding {
        tool: finding.tool,
        file: finding.location.path.unwrap_or_default(),
        line: finding.location.start_line,
        column: finding.location.start_column,
        rule: finding.rule_id,
        severity: match finding.level {
            Level::Error => LintSeverity::Error,
            Level::Warning => LintSeverity::Warning,
            Level::Note => LintSeverity::Note,
        },
        message: finding.message,
    })
}

fn eslint(items: &[Value]) -> Vec<LintFinding> {
    let mut findings = Vec::new();
    for item in items {
        let path = text_of(&item["filePath"]);
        for message in item["messages"].as_array().into_iter().flatten() {
            findings.push(LintFinding {
                tool: "ESLint".to_owned(),
                file: path.clone(),
                line: number(&message["line"]),
                column: number(&message["column"]),
                rule: message["ruleId"].as_str().unwrap_or("(parse)").to_owned(),
                severity: match message["severity"].as_u64() {
                    Some(2) => LintSeverity::Error,
                    Some(1) => LintSeverity::Warning,
                    _ => LintSeverity::Note,
                },
                message: text_of(&message["message"]),
            });
        }
    }
    findings
}

fn pylint(items: &[Value]) -> Vec<LintFinding> {
    items
        .iter()
        .map(|item| LintFinding {
            tool: "pylint".to_owned(),
            file: item
                .get("path")
                .or_else(|| item.get("module"))
                .map(text_of)
                .unwrap_or_default(),
            line: number(&item["line"]),
            column: item["column"]
                .as_u64()
                .and_then(|column| u32::try_from(column + 1).ok()),
            rule: item
                .get("message-id")
                .or_else(|| item.get("messageId"))
                .map(text_of)
                .unwrap_or_default(),
            severity: match item["type"].as_str().unwrap_or_default() {
                "fatal" | "error" => LintSeverity::Error,
                "warning" => LintSeverity::Warning,
                _ => LintSeverity::Note,
            },
            message: text_of(&item["message"]),
        })
        .collect()
}

fn ruff(items: &[Value]) -> Vec<LintFinding> {
    items
        .iter()
        .map(|item| LintFinding {
            tool: "ruff".to_owned(),
            file: text_of(&item["filename"]),
            line: number(&item["location"]["row"]),
            column: number(&item["location"]["column"]),
            rule: item["code"].as_str().unwrap_or("(syntax)").to_owned(),
            severity: LintSeverity::Error,
            message: text_of(&item["message"]),
        })
        .collect()
}

/// cargo's JSON messages: clippy and rustc diagnostics at their primary span.
fn cargo(items: &[Value]) -> Vec<LintFinding> {
    items
        .iter()
        .filter(|item| item["reason"] == "compiler-message")
        .filter_map(|item| {
            let message = &item["message"];
            let severity = match message["level"].as_str()? {
                "error" | "error: internal compiler error" => LintSeverity::Error,
                "warning" => LintSeverity::Warning,
                _ => return None,
            };
            let span = message["spans"]
                .as_array()?
                .iter()
                .find(|span| span["is_primary"] == true)?;
            Some(LintFinding {
                tool: "clippy".to_owned(),
                file: text_of(&span["file_name"]),
                line: number(&span["line_start"]),
                column: number(&span["column_start"]),
                rule: message["code"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                severity,
                message: text_of(&message["message"]),
            })
        })
        .collect()
}

/// `path:line[:col]: rest`, the shape flake8, pycodestyle, mypy and compilers share.
fn located(line: &str) -> Option<(&str, u32, Option<u32>, &str)> {
    let mut parts = line.splitn(4, ':');
    let path = parts.next()?;
    let number: u32 = parts.next()?.trim().parse().ok()?;
    let third = parts.next()?;
    if let Ok(column) = third.trim().parse::<u32>() {
        Some((path, number, Some(column), parts.next()?.trim_start()))
    } else {
        let rest = line.splitn(3, ':').nth(2)?;
        Some((path, number, None, rest.trim_start()))
    }
}

fn lines(file: &str, text: &str) -> Result<Vec<LintFinding>, TestReportError> {
    let mut findings = Vec::new();
    let mut recognised = false;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        // Black: `would reformat PATH`, `error: cannot format PATH: why`.
        if let Some(path) = line.strip_prefix("would reformat ") {
            recognised = true;
            findings.push(LintFinding {
                tool: "Black".to_owned(),
                file: path.trim().to_owned(),
                line: None,
                column: None,
                rule: "format".to_owned(),
                severity: LintSeverity::Error,
                message: "would be reformatted by Black".to_owned(),
            });
            continue;
        }
        if let Some(rest) = line.strip_prefix("error: cannot format ") {
            recognised = true;
            let (path, why) = rest.split_once(": ").unwrap_or((rest, ""));
            findings.push(LintFinding {
                tool: "Black".to_owned(),
                file: path.trim().to_owned(),
                line: None,
                column: None,
                rule: "cannot-format".to_owned(),
                severity: LintSeverity::Error,
                message: format!("Black cannot format it: {why}"),
            });
            continue;
        }
        // isort: `ERROR: PATH Imports are incorrectly sorted and/or formatted.`
        if let Some(rest) = line.strip_prefix("ERROR: ") {
            if let Some(path) =
                rest.strip_suffix(" Imports are incorrectly sorted and/or formatted.")
            {
                recognised = true;
                findings.push(LintFinding {
                    tool: "isort".to_owned(),
                    file: path.trim().to_owned(),
                    line: None,
                    column: None,
                    rule: "import-order".to_owned(),
                    severity: LintSeverity::Error,
                    message: "Imports are incorrectly sorted and/or formatted.".to_owned(),
                });
                continue;
            }
        }
        // The tools' summaries: nothing to report, but this is their output.
        if [
            "All done!",
            "would be left unchanged",
            "would be reformatted",
            "would fail to reformat",
            "Oh no!",
            "Skipped ",
            "Success: no issues found",
            "Found ",
        ]
        .iter()
        .any(|summary| line.contains(summary))
        {
            recognised = true;
            continue;
        }
        let Some((path, number, column, rest)) = located(line) else {
            continue;
        };
        // mypy: `error: message  [code]`.
        let mypy = ["error:", "warning:", "note:", "info:"]
            .iter()
            .find(|word| rest.starts_with(*word));
        if let Some(word) = mypy {
            recognised = true;
            let message = rest[word.len()..].trim();
            // A note is no finding of its own: mypy (and a compiler) writes it after the error
            // it explains — `See https://…`, `Revealed type is …` — so it goes with that one.
            if *word == "note:" {
                if let Some(explained) = findings
                    .last_mut()
                    .filter(|last| last.file == path && last.severity != LintSeverity::Note)
                {
                    explained.message = format!("{} (note: {message})", explained.message);
                }
                continue;
            }
            let (message, code) = match message.rsplit_once("  [") {
                Some((message, code)) if code.ends_with(']') => {
                    (message, code.trim_end_matches(']').to_owned())
                }
                _ => (message, String::new()),
            };
            let python = std::path::Path::new(path)
                .extension()
                .is_some_and(|ext| ext == "py" || ext == "pyi");
            findings.push(LintFinding {
                tool: if python { "mypy" } else { "compiler" }.to_owned(),
                file: path.to_owned(),
                line: Some(number),
                column,
                rule: code,
                severity: match *word {
                    "error:" => LintSeverity::Error,
                    "warning:" => LintSeverity::Warning,
                    _ => LintSeverity::Note,
                },
                message: message.to_owned(),
            });
            continue;
        }
        // flake8 / pycodestyle: `CODE message`.
        let (code, message) = rest.split_once(' ').unwrap_or((rest, ""));
        let is_code = code.len() >= 2
            && code.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && code.chars().skip(1).all(|c| c.is_ascii_alphanumeric())
            && code.chars().any(|c| c.is_ascii_digit());
        if is_code {
            recognised = true;
            findings.push(LintFinding {
                tool: "flake8".to_owned(),
                file: path.to_owned(),
                line: Some(number),
                column,
                rule: code.to_owned(),
                severity: if code.starts_with('W') {
                    LintSeverity::Warning
                } else {
                    LintSeverity::Error
                },
                message: message.trim().to_owned(),
            });
        }
    }
    if !recognised {
        let first: String = text
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(80)
            .collect();
        return Err(not_lint(
            file,
            format!("text whose first line is `{first}`"),
        ));
    }
    Ok(findings)
}
