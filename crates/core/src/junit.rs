//! `JUnit` XML as the actions share it: a model of suites and cases with one outcome per test,
//! and a writer for the merged file `quality-gate` produces.
//!
//! The model is dialect-neutral: readers of pytest, Surefire, nextest, … map their reports onto
//! it (counting a rerun test once, with its attempts), and the writer emits the common subset
//! every consumer understands. Written with `quick-xml`, so every name and message is escaped.

use quick_xml::Writer;
use quick_xml::events::{BytesCData, BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// How one test ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    /// Passed on its only attempt.
    Passed,
    /// An assertion failed.
    Failed {
        /// Short message.
        message: String,
        /// Failure type (exception class).
        kind: String,
        /// Details (stack trace).
        details: String,
    },
    /// The test could not run (setup error, crash).
    Errored {
        /// Short message.
        message: String,
        /// Error type.
        kind: String,
        /// Details.
        details: String,
    },
    /// Skipped or disabled.
    Skipped {
        /// Why.
        message: String,
    },
    /// Failed at least once, then passed on a retry.
    Flaky {
        /// How many attempts failed before the pass.
        failed_attempts: u32,
        /// Message of the first failure.
        message: String,
    },
}

/// One test, counted once however often it ran.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TestCase {
    /// Test name.
    pub name: String,
    /// Class, module or file grouping.
    pub classname: String,
    /// Source file, workspace-relative, when known.
    pub file: Option<String>,
    /// Line in `file`, when known.
    pub line: Option<u32>,
    /// Seconds, when known and valid.
    pub time: Option<f64>,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A suite of tests.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TestSuite {
    /// Suite name.
    pub name: String,
    /// Cases in report order.
    pub cases: Vec<TestCase>,
}

/// Totals over suites. Flaky tests count as passed in `passed` and again in `flaky`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    /// All tests.
    pub tests: u64,
    /// Passed (including flaky).
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Errored.
    pub errors: u64,
    /// Skipped.
    pub skipped: u64,
    /// Passed after failing.
    pub flaky: u64,
}

impl Totals {
    /// Counts a slice of suites.
    pub fn of(suites: &[TestSuite]) -> Self {
        let mut totals = Self::default();
        for case in suites.iter().flat_map(|suite| &suite.cases) {
            totals.tests += 1;
            match case.outcome {
                Outcome::Passed => totals.passed += 1,
                Outcome::Failed { .. } => totals.failed += 1,
                Outcome::Errored { .. } => totals.errors += 1,
                Outcome::Skipped { .. } => totals.skipped += 1,
                Outcome::Flaky { .. } => {
                    totals.passed += 1;
                    totals.flaky += 1;
                }
            }
        }
        totals
    }
}

/// Writes suites as one `JUnit` XML document (`<testsuites>` root). Flaky tests are written as
/// passed with a `<system-out>` note, which every `JUnit` consumer reads as a pass.
pub fn write_junit(name: &str, suites: &[TestSuite]) -> String {
    // Room for the whole document up front: growing a 20 MB buffer by doubling holds two
    // copies at once.
    let capacity: usize = suites
        .iter()
        .flat_map(|suite| &suite.cases)
        .map(|case| {
            let detail = match &case.outcome {
                Outcome::Failed {
                    message,
                    kind,
                    details,
                }
                | Outcome::Errored {
                    message,
                    kind,
                    details,
                } => message.len() + kind.len() + details.len() + 64,
                Outcome::Skipped { message } | Outcome::Flaky { message, .. } => message.len() + 96,
                Outcome::Passed => 0,
            };
            case.name.len()
                + case.classname.len()
                + case.file.as_ref().map_or(0, String::len)
                + 80
                + detail
        })
        .sum::<usize>()
        + suites
            .iter()
            .map(|suite| suite.name.len() + 128)
            .sum::<usize>()
        + 256;
    let mut writer = Writer::new_with_indent(Vec::with_capacity(capacity + capacity / 16), b' ', 2);
    let mut number = String::new();
    let totals = Totals::of(suites);
    // Writing to a Vec cannot fail.
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", name));
    push_counts(
        &mut root,
        totals,
        total_time(suites.iter().flat_map(|s| &s.cases)),
    );
    let _ = writer.write_event(Event::Start(root));
    for suite in suites {
        let mut start = BytesStart::new("testsuite");
        start.push_attribute(("name", suite.name.as_str()));
        push_counts(
            &mut start,
            Totals::of(std::slice::from_ref(suite)),
            total_time(&suite.cases),
        );
        let _ = writer.write_event(Event::Start(start));
        for case in &suite.cases {
            write_case(&mut writer, case, &mut number);
        }
        let _ = writer.write_event(Event::End(BytesEnd::new("testsuite")));
    }
    let _ = writer.write_event(Event::End(BytesEnd::new("testsuites")));
    let mut xml = String::from_utf8(writer.into_inner()).unwrap_or_default();
    xml.push('\n');
    xml
}

fn total_time<'a>(cases: impl IntoIterator<Item = &'a TestCase>) -> f64 {
    cases.into_iter().filter_map(|case| case.time).sum()
}

fn push_counts(start: &mut BytesStart<'_>, totals: Totals, time: f64) {
    start.push_attribute(("tests", totals.tests.to_string().as_str()));
    start.push_attribute(("failures", totals.failed.to_string().as_str()));
    start.push_attribute(("errors", totals.errors.to_string().as_str()));
    start.push_attribute(("skipped", totals.skipped.to_string().as_str()));
    start.push_attribute(("time", format!("{time:.3}").as_str()));
}

/// XML 1.0 cannot carry most control characters even escaped; replace them (borrowed when
/// there are none, which is nearly always).
fn xml_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| if unsafe_char(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// A start tag with room for its attributes (growing it attribute by attribute was most of
/// the writer's time on a 100,000-test report).
fn start_tag(name: &str) -> BytesStart<'static> {
    let mut content = String::with_capacity(256);
    content.push_str(name);
    BytesStart::from_content(content, name.len())
}

/// Seconds with three decimals, written into a reused buffer.
fn seconds(buffer: &mut String, time: f64) -> &str {
    use std::fmt::Write as _;
    buffer.clear();
    let _ = write!(buffer, "{time:.3}");
    buffer
}

fn write_case(writer: &mut Writer<Vec<u8>>, case: &TestCase, number: &mut String) {
    let mut start = start_tag("testcase");
    start.push_attribute(("name", xml_safe(&case.name).as_ref()));
    start.push_attribute(("classname", xml_safe(&case.classname).as_ref()));
    if let Some(file) = &case.file {
        start.push_attribute(("file", xml_safe(file).as_ref()));
    }
    if let Some(line) = case.line {
        number.clear();
        let _ = std::fmt::Write::write_fmt(number, format_args!("{line}"));
        start.push_attribute(("line", number.as_str()));
    }
    if let Some(time) = case.time {
        start.push_attribute(("time", seconds(number, time)));
    }
    let child =
        |writer: &mut Writer<Vec<u8>>, tag: &str, message: &str, kind: &str, details: &str| {
            let mut element = start_tag(tag);
            element.push_attribute(("message", xml_safe(message).as_ref()));
            if !kind.is_empty() {
                element.push_attribute(("type", xml_safe(kind).as_ref()));
            }
            if details.is_empty() {
                let _ = writer.write_event(Event::Empty(element));
            } else {
                let _ = writer.write_event(Event::Start(element));
                write_text(writer, details);
                let _ = writer.write_event(Event::End(BytesEnd::new(tag.to_owned())));
            }
        };
    match &case.outcome {
        Outcome::Passed => {
            let _ = writer.write_event(Event::Empty(start));
            return;
        }
        Outcome::Failed {
            message,
            kind,
            details,
        } => {
            let _ = writer.write_event(Event::Start(start));
            child(writer, "failure", message, kind, details);
        }
        Outcome::Errored {
            message,
            kind,
            details,
        } => {
            let _ = writer.write_event(Event::Start(start));
            child(writer, "error", message, kind, details);
        }
        Outcome::Skipped { message } => {
            let _ = writer.write_event(Event::Start(start));
            child(writer, "skipped", message, "", "");
        }
        Outcome::Flaky {
            failed_attempts,
            message,
        } => {
            let _ = writer.write_event(Event::Start(start));
            let _ = writer.write_event(Event::Start(BytesStart::new("system-out")));
            write_text(
                writer,
                &format!(
                    "flaky: passed after {failed_attempts} failed attempt(s); first failure: {message}"
                ),
            );
            let _ = writer.write_event(Event::End(BytesEnd::new("system-out")));
        }
    }
    let _ = writer.write_event(Event::End(BytesEnd::new("testcase")));
}

/// Text content: CDATA when it has no `]]>` (keeps stack traces readable), escaped otherwise.
fn write_text(writer: &mut Writer<Vec<u8>>, text: &str) {
    let text = xml_safe(text);
    if text.contains("]]>") {
        let _ = writer.write_event(Event::Text(BytesText::new(text.as_ref())));
    } else {
        let _ = writer.write_event(Event::CData(BytesCData::new(text)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, outcome: Outcome) -> TestCase {
        TestCase {
            name: name.to_owned(),
            classname: "pkg.Mod".to_owned(),
            file: Some("tests/test_a.py".to_owned()),
            line: Some(3),
            time: Some(0.5),
            outcome,
        }
    }

    #[test]
    fn totals_count_flaky_as_passed_and_flaky() {
        let suite = TestSuite {
            name: "s".into(),
            cases: vec![
                case("a", Outcome::Passed),
                case(
                    "b",
                    Outcome::Flaky {
                        failed_attempts: 2,
                        message: "boom".into(),
                    },
                ),
                case(
                    "c",
                    Outcome::Failed {
                        message: "m".into(),
                        kind: "AssertionError".into(),
                        details: "trace".into(),
                    },
                ),
                case(
                    "d",
                    Outcome::Skipped {
                        message: "why".into(),
                    },
                ),
            ],
        };
        let totals = Totals::of(&[suite]);
        assert_eq!(
            totals,
            Totals {
                tests: 4,
                passed: 2,
                failed: 1,
                errors: 0,
                skipped: 1,
                flaky: 1
            }
        );
    }

    #[test]
    fn writer_escapes_names_and_keeps_cdata_safe() {
        let suite = TestSuite {
            name: "s<&>".into(),
            cases: vec![case(
                "t\"<x>\u{1}",
                Outcome::Failed {
                    message: "a & b".into(),
                    kind: String::new(),
                    details: "x ]]> y".into(),
                },
            )],
        };
        let xml = write_junit("all", &[suite]);
        assert!(
            xml.contains(r#"<testsuite name="s&lt;&amp;&gt;" tests="1" failures="1""#),
            "{xml}"
        );
        assert!(xml.contains(r#"name="t&quot;&lt;x&gt;�""#), "{xml}");
        assert!(xml.contains("x ]]&gt; y"), "{xml}");
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    }
}
