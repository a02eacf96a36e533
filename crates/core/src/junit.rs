//! `JUnit` XML as the actions share it: a model of suites and cases with one outcome per test,
//! and a writer for the merged file `quality-gate` produces.
//!
//! The model is dialect-neutral: readers of pytest, Surefire, nextest, … map their reports onto
//! it (counting a rerun test once, with its attempts), and the writer emits the common subset
//! every consumer understands. Written with `quick-xml`, so every name and message is escaped.

use std::borrow::Cow;

use quick_xml::escape::escape;

/// How one test ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    /// Passed on its only attempt.
    Passed,
    /// An assertion failed.
    Failed(Box<Failure>),
    /// The test could not run (setup error, crash).
    Errored(Box<Failure>),
    /// Skipped or disabled.
    Skipped {
        /// Why.
        message: Box<str>,
    },
    /// Failed at least once, then passed on a retry.
    Flaky {
        /// How many attempts failed before the pass.
        failed_attempts: u32,
        /// Message of the first failure.
        message: Box<str>,
    },
}

/// What a failure or error said. Boxed in [`Outcome`]: most tests pass, and a passed test
/// then costs 24 bytes of outcome rather than three strings' 72 (100,000 tests of them were
/// a fifth of the action's memory).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    /// Short message.
    pub message: String,
    /// Failure or error type (exception class).
    pub kind: String,
    /// Details (stack trace).
    pub details: String,
}

impl Failure {
    /// An outcome's failure, boxed.
    pub fn boxed(message: &str, kind: &str, details: &str) -> Box<Self> {
        Box::new(Self {
            message: message.to_owned(),
            kind: kind.to_owned(),
            details: details.to_owned(),
        })
    }
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

/// Writes suites as one `JUnit` XML document (`<testsuites>` root), as text (see
/// [`write_junit_to`]). Flaky tests are written as passed with a `<system-out>` note, which
/// every `JUnit` consumer reads as a pass.
pub fn write_junit(name: &str, suites: &[TestSuite]) -> String {
    let mut xml = Vec::with_capacity(merged_size(suites));
    // Writing to a Vec cannot fail.
    let _ = write_junit_to(name, suites, &mut xml);
    String::from_utf8(xml).unwrap_or_default()
}

/// Writes the merged document: the common subset every consumer reads (`<testsuites>` with
/// the totals, a `<testsuite>` per suite, a `<testcase>` per test with its `<failure>`,
/// `<error>` or `<skipped>`, a flaky test's history in its `<system-out>`), indented by two
/// spaces. Every name and message is escaped as quick-xml escapes them (attributes also
/// keep their newlines and tabs), characters XML 1.0 cannot carry are replaced, and text is
/// CDATA unless it holds `]]>`. Written straight to `out`, tag by tag: the file of a
/// 100,000-test report is never built in memory first.
///
/// # Errors
/// What `out` returns.
pub fn write_junit_to(
    name: &str,
    suites: &[TestSuite],
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut number = String::new();
    out.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites")?;
    write_attribute(out, "name", name)?;
    write_counts(
        out,
        Totals::of(suites),
        total_time(suites.iter().flat_map(|s| &s.cases)),
        &mut number,
    )?;
    out.write_all(b">")?;
    for suite in suites {
        out.write_all(b"\n  <testsuite")?;
        write_attribute(out, "name", &suite.name)?;
        write_counts(
            out,
            Totals::of(std::slice::from_ref(suite)),
            total_time(&suite.cases),
            &mut number,
        )?;
        out.write_all(b">")?;
        for case in &suite.cases {
            write_case(out, case, &mut number)?;
        }
        out.write_all(b"\n  </testsuite>")?;
    }
    out.write_all(b"\n</testsuites>\n")
}

/// About how many bytes the merged document takes, so a buffer for it is allocated once.
fn merged_size(suites: &[TestSuite]) -> usize {
    let cases: usize = suites
        .iter()
        .flat_map(|suite| &suite.cases)
        .map(|case| {
            let detail = match &case.outcome {
                Outcome::Failed(failure) | Outcome::Errored(failure) => {
                    failure.message.len() + failure.kind.len() + failure.details.len() + 64
                }
                Outcome::Skipped { message } | Outcome::Flaky { message, .. } => message.len() + 96,
                Outcome::Passed => 0,
            };
            case.name.len()
                + case.classname.len()
                + case.file.as_ref().map_or(0, String::len)
                + 80
                + detail
        })
        .sum();
    let headers: usize = suites.iter().map(|suite| suite.name.len() + 128).sum();
    let size = cases + headers + 256;
    size + size / 16
}

fn total_time<'a>(cases: impl IntoIterator<Item = &'a TestCase>) -> f64 {
    cases.into_iter().filter_map(|case| case.time).sum()
}

fn write_counts(
    out: &mut impl std::io::Write,
    totals: Totals,
    time: f64,
    number: &mut String,
) -> std::io::Result<()> {
    write!(
        out,
        " tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
        totals.tests, totals.failed, totals.errors, totals.skipped
    )?;
    write_attribute(out, "time", seconds(number, time))
}

/// XML 1.0 cannot carry most control characters even escaped; replace them (borrowed when
/// there are none, which is nearly always).
fn xml_safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if unsafe_char(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// ` key="value"`, the value escaped as quick-xml escapes attribute values: its text escape
/// and the newline and tab that attribute-value normalisation would turn into spaces.
fn write_attribute(out: &mut impl std::io::Write, key: &str, value: &str) -> std::io::Result<()> {
    let value = xml_safe(value);
    let escaped = escape(value.as_ref());
    out.write_all(b" ")?;
    out.write_all(key.as_bytes())?;
    out.write_all(b"=\"")?;
    let mut rest = escaped.as_bytes();
    while let Some(at) = rest.iter().position(|&b| b == b'\n' || b == b'\t') {
        out.write_all(&rest[..at])?;
        out.write_all(if rest[at] == b'\n' { b"&#10;" } else { b"&#9;" })?;
        rest = &rest[at + 1..];
    }
    out.write_all(rest)?;
    out.write_all(b"\"")
}

/// Seconds with three decimals, written into a reused buffer.
fn seconds(buffer: &mut String, time: f64) -> &str {
    use std::fmt::Write as _;
    buffer.clear();
    let _ = write!(buffer, "{time:.3}");
    buffer
}

fn write_case(
    out: &mut impl std::io::Write,
    case: &TestCase,
    number: &mut String,
) -> std::io::Result<()> {
    out.write_all(b"\n    <testcase")?;
    write_attribute(out, "name", &case.name)?;
    write_attribute(out, "classname", &case.classname)?;
    if let Some(file) = &case.file {
        write_attribute(out, "file", file)?;
    }
    if let Some(line) = case.line {
        write!(out, " line=\"{line}\"")?;
    }
    if let Some(time) = case.time {
        write_attribute(out, "time", seconds(number, time))?;
    }
    match &case.outcome {
        Outcome::Passed => return out.write_all(b"/>"),
        Outcome::Failed(failure) => {
            out.write_all(b">")?;
            write_child(out, "failure", failure)?;
        }
        Outcome::Errored(failure) => {
            out.write_all(b">")?;
            write_child(out, "error", failure)?;
        }
        Outcome::Skipped { message } => {
            out.write_all(b">\n      <skipped")?;
            write_attribute(out, "message", message)?;
            out.write_all(b"/>")?;
        }
        Outcome::Flaky {
            failed_attempts,
            message,
        } => {
            out.write_all(b">\n      <system-out>")?;
            write_text(
                out,
                &format!(
                    "flaky: passed after {failed_attempts} failed attempt(s); first failure: {message}"
                ),
            )?;
            out.write_all(b"</system-out>")?;
        }
    }
    out.write_all(b"\n    </testcase>")
}

/// `<failure>`, `<error>`: the message and type as attributes, the details as text.
fn write_child(out: &mut impl std::io::Write, tag: &str, failure: &Failure) -> std::io::Result<()> {
    write!(out, "\n      <{tag}")?;
    write_attribute(out, "message", &failure.message)?;
    if !failure.kind.is_empty() {
        write_attribute(out, "type", &failure.kind)?;
    }
    if failure.details.is_empty() {
        return out.write_all(b"/>");
    }
    out.write_all(b">")?;
    write_text(out, &failure.details)?;
    write!(out, "</{tag}>")
}

/// Text content: CDATA when it has no `]]>` (keeps stack traces readable), escaped otherwise.
fn write_text(out: &mut impl std::io::Write, text: &str) -> std::io::Result<()> {
    let text = xml_safe(text);
    if text.contains("]]>") {
        out.write_all(escape(text.as_ref()).as_bytes())
    } else {
        out.write_all(b"<![CDATA[")?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"]]>")
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
                    Outcome::Failed(Failure::boxed("m", "AssertionError", "trace")),
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
                Outcome::Failed(Failure::boxed("a & b", "", "x ]]> y")),
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
