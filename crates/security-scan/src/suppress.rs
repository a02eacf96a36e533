//! Suppressions: a YAML file the team reviews like code.
//!
//! ```yaml
//! suppressions:
//!   - id: CVE-2023-44487          # a rule id or a vulnerability id (CVE, GHSA, …)
//!     path: "vendor/**"           # optional: only findings in these files
//!     tool: Trivy                 # optional: only this tool's findings
//!     reason: not reachable, the HTTP/2 server is disabled
//!     expires: 2026-12-31         # optional: stops suppressing after this day
//! ```
//!
//! `reason` is required: a suppression nobody can explain is a finding hidden. An entry whose
//! `expires` day has passed stops suppressing and is listed as expired, so it is renewed or
//! removed rather than forgotten.

use crate::finding::Finding;

/// Why the suppressions file was refused. Every message starts with the file's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SuppressionError {
    /// Not YAML of the expected shape.
    #[error("{file}: {message}")]
    Shape {
        /// The file.
        file: String,
        /// What the YAML reader said, with the line and column.
        message: String,
    },
    /// An entry that cannot be used.
    #[error("{file}: suppressions[{index}] (id `{id}`): {problem}")]
    Entry {
        /// The file.
        file: String,
        /// Position in the list, from 0.
        index: usize,
        /// Its id.
        id: String,
        /// What is wrong.
        problem: String,
    },
}

/// One entry as written, before it is checked.
#[derive(Debug, Default)]
struct EntryShape {
    id: String,
    path: Option<String>,
    tool: Option<String>,
    reason: Option<String>,
    expires: Option<String>,
}

const EXPECTED_SHAPE: &str = "expected `suppressions:` with a list of entries of `id`, `reason` and optional `path`, `tool`, `expires`";

/// Reads the YAML events of a suppressions file into its entries. The shape is small (a mapping
/// with one key holding a list of mappings of text), so it is read from the parser's events
/// rather than through a generic deserializer (which would hash with the OS's randomness).
/// Aliases, tags that change a value's type, and a second document are refused.
struct ShapeReader<'input> {
    parser: saphyr_parser::Parser<'input, saphyr_parser::StrInput<'input>>,
    at: saphyr_parser::Marker,
}

type Shape<T> = Result<T, String>;

impl<'input> ShapeReader<'input> {
    fn new(text: &'input str) -> Self {
        Self {
            parser: saphyr_parser::Parser::new_from_str(text),
            at: saphyr_parser::Marker::default(),
        }
    }

    fn place(marker: saphyr_parser::Marker) -> String {
        format!("line {} column {}", marker.line(), marker.col() + 1)
    }

    fn next(&mut self) -> Shape<saphyr_parser::Event<'input>> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => {
                self.at = span.start;
                Ok(event)
            }
            Some(Err(error)) => Err(format!(
                "not valid YAML at {}: {}",
                Self::place(*error.marker()),
                error.info()
            )),
            None => Err("the YAML ends early".to_owned()),
        }
    }

    fn here(&self, problem: &str) -> String {
        format!("{problem} at {}", Self::place(self.at))
    }

    /// The whole file: `suppressions:` and its list, or nothing.
    fn file(mut self) -> Shape<Vec<EntryShape>> {
        use saphyr_parser::Event;
        let mut entries = None;
        loop {
            match self.next()? {
                Event::StreamStart | Event::DocumentEnd => {}
                Event::StreamEnd => return Ok(entries.unwrap_or_default()),
                Event::DocumentStart(_) => {
                    if entries.is_some() {
                        return Err(self.here("a second YAML document"));
                    }
                    entries = Some(self.document()?);
                }
                _ => return Err(self.here("unexpected content")),
            }
        }
    }

    fn document(&mut self) -> Shape<Vec<EntryShape>> {
        use saphyr_parser::Event;
        match self.next()? {
            Event::MappingStart(..) => {}
            event if is_null_event(&event) => return Ok(Vec::new()),
            _ => return Err(self.here("the file is not a mapping")),
        }
        let mut entries = None;
        loop {
            match self.next()? {
                Event::MappingEnd => return Ok(entries.unwrap_or_default()),
                Event::Scalar(key, ..) if key == "suppressions" => {
                    if entries.is_some() {
                        return Err(self.here("`suppressions` twice"));
                    }
                    entries = Some(self.list()?);
                }
                Event::Scalar(key, ..) => {
                    return Err(self.here(&format!("unknown field `{key}`")));
                }
                Event::Alias(_) => return Err(self.here("YAML aliases are not accepted")),
                _ => return Err(self.here("a key that is not text")),
            }
        }
    }

    fn list(&mut self) -> Shape<Vec<EntryShape>> {
        use saphyr_parser::Event;
        match self.next()? {
            Event::SequenceStart(..) => {}
            event if is_null_event(&event) => return Ok(Vec::new()),
            Event::Alias(_) => return Err(self.here("YAML aliases are not accepted")),
            _ => return Err(self.here("`suppressions` is not a list")),
        }
        let mut entries = Vec::new();
        loop {
            match self.next()? {
                Event::SequenceEnd => return Ok(entries),
                Event::MappingStart(..) => entries.push(self.entry(entries.len())?),
                Event::Alias(_) => return Err(self.here("YAML aliases are not accepted")),
                _ => {
                    return Err(
                        self.here(&format!("suppressions[{}] is not a mapping", entries.len()))
                    );
                }
            }
        }
    }

    fn entry(&mut self, index: usize) -> Shape<EntryShape> {
        use saphyr_parser::Event;
        let start = self.at;
        let mut entry = EntryShape::default();
        let mut id = None;
        // Which of the five fields were given (a null value is given too).
        let mut seen = [false; 5];
        loop {
            let key = match self.next()? {
                Event::MappingEnd => break,
                Event::Scalar(key, ..) => key.into_owned(),
                Event::Alias(_) => return Err(self.here("YAML aliases are not accepted")),
                _ => {
                    return Err(
                        self.here(&format!("suppressions[{index}]: a key that is not text"))
                    );
                }
            };
            let (field, slot) = match key.as_str() {
                "id" => (0, &mut id),
                "path" => (1, &mut entry.path),
                "tool" => (2, &mut entry.tool),
                "reason" => (3, &mut entry.reason),
                "expires" => (4, &mut entry.expires),
                other => {
                    return Err(
                        self.here(&format!("suppressions[{index}]: unknown field `{other}`"))
                    );
                }
            };
            if std::mem::replace(&mut seen[field], true) {
                return Err(self.here(&format!("suppressions[{index}]: `{key}` twice")));
            }
            let value = match self.next()? {
                Event::Scalar(text, style, _, tag) => {
                    if tag.is_some_and(|tag| !tag.is_yaml_core_schema() || tag.suffix != "str") {
                        return Err(self.here(&format!(
                            "suppressions[{index}].{key}: a tag other than !!str"
                        )));
                    }
                    (style != saphyr_parser::ScalarStyle::Plain || !is_null(&text))
                        .then(|| text.into_owned())
                }
                Event::Alias(_) => return Err(self.here("YAML aliases are not accepted")),
                _ => return Err(self.here(&format!("suppressions[{index}].{key} is not text"))),
            };
            *slot = value;
        }
        entry.id = id.ok_or_else(|| {
            format!(
                "suppressions[{index}]: missing field `id` at {}",
                Self::place(start)
            )
        })?;
        Ok(entry)
    }
}

/// A plain, untagged null scalar (`suppressions:` with nothing after it).
fn is_null_event(event: &saphyr_parser::Event<'_>) -> bool {
    matches!(
        event,
        saphyr_parser::Event::Scalar(text, saphyr_parser::ScalarStyle::Plain, _, None) if is_null(text)
    )
}

/// YAML's plain null: empty, `~`, `null`.
fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// One suppression.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// Rule or vulnerability id, matched case-insensitively.
    pub id: String,
    /// Path glob as written.
    pub path: Option<String>,
    pattern: Option<glob::Pattern>,
    /// Tool name, matched case-insensitively.
    pub tool: Option<String>,
    /// Why.
    pub reason: String,
    /// Last day it applies (`YYYY-MM-DD`).
    pub expires: Option<String>,
}

impl Suppression {
    /// Whether it names this finding (ignoring expiry).
    pub fn names(&self, finding: &Finding, tools: &[String]) -> bool {
        let id_matches = finding.rule_id.eq_ignore_ascii_case(&self.id)
            || finding
                .vulnerability
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(&self.id));
        let tool_matches = self
            .tool
            .as_deref()
            .is_none_or(|wanted| tools.iter().any(|tool| tool.eq_ignore_ascii_case(wanted)));
        let path_matches = self.pattern.as_ref().is_none_or(|pattern| {
            finding.location.path.as_deref().is_some_and(|path| {
                pattern.matches_with(
                    path,
                    glob::MatchOptions {
                        case_sensitive: true,
                        require_literal_separator: true,
                        require_literal_leading_dot: false,
                    },
                )
            })
        });
        id_matches && tool_matches && path_matches
    }

    /// Whether it has expired on `today` (`YYYY-MM-DD`): it applies through its `expires` day.
    pub fn expired(&self, today: &str) -> bool {
        self.expires.as_deref().is_some_and(|day| day < today)
    }
}

/// Whether `day` is a real calendar day written `YYYY-MM-DD`.
pub fn is_iso_day(day: &str) -> bool {
    let bytes = day.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let number =
        |range: std::ops::Range<usize>| day.get(range).and_then(|part| part.parse::<u32>().ok());
    let (Some(year), Some(month), Some(date)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&date)
}

/// Reads a suppressions file. An empty file suppresses nothing.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Vec<Suppression>, SuppressionError> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).map_err(
        |error| SuppressionError::Shape {
            file: file.to_owned(),
            message: format!("not UTF-8 text ({error})"),
        },
    )?;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let entries = ShapeReader::new(text)
        .file()
        .map_err(|problem| SuppressionError::Shape {
            file: file.to_owned(),
            message: format!("{problem}; {EXPECTED_SHAPE}"),
        })?;
    entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let problem = |problem: &str| SuppressionError::Entry {
                file: file.to_owned(),
                index,
                id: entry.id.clone(),
                problem: problem.to_owned(),
            };
            if entry.id.trim().is_empty() {
                return Err(problem("`id` is empty"));
            }
            let reason = entry
                .reason
                .clone()
                .filter(|reason| !reason.trim().is_empty())
                .ok_or_else(|| problem("`reason` is required: say why this finding is accepted"))?;
            if let Some(day) = &entry.expires {
                if !is_iso_day(day) {
                    return Err(problem(&format!(
                        "`expires: {day}` is not a day written YYYY-MM-DD"
                    )));
                }
            }
            let pattern = match &entry.path {
                Some(path) => Some(glob::Pattern::new(path.trim_start_matches("./")).map_err(
                    |error| problem(&format!("`path: {path}` is not a valid glob: {error}")),
                )?),
                None => None,
            };
            Ok(Suppression {
                id: entry.id.trim().to_owned(),
                path: entry.path,
                pattern,
                tool: entry.tool,
                reason: reason.trim().to_owned(),
                expires: entry.expires,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Location;
    use crate::severity::{Severity, SeveritySource};

    fn finding(rule: &str, vulnerability: Option<&str>, path: &str) -> Finding {
        Finding {
            tool: "Trivy".into(),
            rule_id: rule.into(),
            vulnerability: vulnerability.map(str::to_owned),
            package: None,
            version: None,
            severity: Severity::High,
            severity_source: SeveritySource::ToolWord,
            level: crate::finding::Level::Error,
            score: None,
            title: "t".into(),
            message: "m".into(),
            location: Location {
                path: Some(path.into()),
                ..Location::default()
            },
            fingerprints: std::collections::BTreeMap::new(),
            help_uri: None,
            fixed_in: None,
            suppressed_in_source: false,
        }
    }

    #[test]
    fn entries_match_by_id_path_and_tool_and_expire_after_their_day() {
        let entries = parse(
            "s.yml",
            b"suppressions:\n  - id: cve-2023-1\n    path: 'vendor/**'\n    reason: vendored, not shipped\n    expires: 2026-11-30\n  - id: B105\n    tool: bandit\n    reason: test fixtures\n",
        )
        .unwrap();
        let tools = ["Trivy".to_owned()];
        let vendored = finding("X", Some("CVE-2023-1"), "vendor/a/b.go");
        assert!(entries[0].names(&vendored, &tools));
        assert!(!entries[0].names(&finding("X", Some("CVE-2023-1"), "src/b.go"), &tools));
        assert!(!entries[1].names(&finding("B105", None, "a.py"), &tools));
        assert!(entries[1].names(&finding("B105", None, "a.py"), &["Bandit".to_owned()]));
        assert!(!entries[0].expired("2026-11-30"));
        assert!(entries[0].expired("2026-12-01"));
        assert!(!entries[1].expired("2999-01-01"));
    }

    #[test]
    fn bad_entries_are_refused_naming_the_file_and_the_entry() {
        let error = parse("s.yml", b"suppressions:\n  - id: X\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "s.yml: suppressions[0] (id `X`): `reason` is required: say why this finding is accepted"
        );
        let error = parse(
            "s.yml",
            b"suppressions:\n  - id: X\n    reason: r\n    expires: 2026-02-30\n",
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`expires: 2026-02-30` is not a day"),
            "{error}"
        );
        let error = parse(
            "s.yml",
            b"suppressions:\n  - id: X\n    reason: r\n    expire: 2026-01-01\n",
        )
        .unwrap_err();
        assert!(error.to_string().starts_with("s.yml: "), "{error}");
        assert!(error.to_string().contains("expire"), "{error}");
        assert!(parse("s.yml", b"\n").unwrap().is_empty());
    }

    #[test]
    fn the_yaml_is_read_from_its_events_with_places_in_every_refusal() {
        let entries = parse(
            "s.yml",
            b"# reviewed\nsuppressions:\n  - id: 2071\n    reason: \"numbers are ids too\"\n    path: ~\n  - {id: 'null', reason: quoted null is text}\n",
        )
        .unwrap();
        assert_eq!(entries[0].id, "2071");
        assert_eq!(entries[0].path, None);
        assert_eq!(entries[1].id, "null");
        assert!(parse("s.yml", b"suppressions:\n").unwrap().is_empty());
        assert!(parse("s.yml", b"---\n...\n").unwrap().is_empty());
        let refused = |yaml: &str| parse("s.yml", yaml.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            refused("suppressions:\n  - id: X\n    reason: r\n    expire: 2026-01-01\n"),
            format!(
                "s.yml: suppressions[0]: unknown field `expire` at line 4 column 5; {EXPECTED_SHAPE}"
            )
        );
        assert!(
            refused("suppressions:\n  - &a {id: X, reason: r}\n  - *a\n")
                .contains("YAML aliases are not accepted at line 3 column 5"),
        );
        assert!(
            refused("suppressions:\n  - id: X\n    id: Y\n    reason: r\n")
                .contains("`id` twice at line 3")
        );
        assert!(
            refused("suppressions:\n  - reason: r\n")
                .contains("missing field `id` at line 2 column 5")
        );
        assert!(
            refused("suppressions:\n  - id: [X]\n    reason: r\n")
                .contains("suppressions[0].id is not text")
        );
        assert!(
            refused("suppressions:\n  - id: !!int 5\n    reason: r\n")
                .contains("a tag other than !!str")
        );
        assert!(
            refused("suppression:\n  - id: X\n").contains("unknown field `suppression` at line 1")
        );
        assert!(refused("suppressions: yes\n").contains("`suppressions` is not a list"));
        assert!(refused("- id: X\n").contains("the file is not a mapping"));
        assert!(
            refused("suppressions: []\n---\nsuppressions: []\n").contains("a second YAML document")
        );
        assert!(
            refused("suppressions:\n  - id: \"X\n").starts_with("s.yml: not valid YAML at line")
        );
    }
}
