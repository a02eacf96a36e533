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
    // Bytes first: a control character is a byte below 0x20 other than tab, line feed and
    // carriage return, DEL, or a C1 control (`0xC2` then `0x80`–`0x9F`). Text with none of
    // those bytes has none.
    if !text.bytes().any(|byte| {
        (byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r')) || byte == 0x7F || byte == 0xC2
    }) {
        return Cow::Borrowed(text);
    }
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
    out.write_all(b" ")?;
    out.write_all(key.as_bytes())?;
    out.write_all(b"=\"")?;
    let plain = |byte: u8| {
        (0x20..0x7F).contains(&byte) && !matches!(byte, b'<' | b'>' | b'&' | b'\'' | b'"')
            || byte >= 0x80 && byte != 0xC2
    };
    if value.bytes().all(plain) {
        // Nothing to escape or replace: nearly every name.
        out.write_all(value.as_bytes())?;
        return out.write_all(b"\"");
    }
    let value = xml_safe(value);
    let escaped = escape(value.as_ref());
    let mut rest = escaped.as_bytes();
    while let Some(at) = rest.iter().position(|&b| b == b'\n' || b == b'\t') {
        out.write_all(&rest[..at])?;
        out.write_all(if rest[at] == b'\n' { b"&#10;" } else { b"&#9;" })?;
        rest = &rest[at + 1..];
    }
    out.write_all(rest)?;
    out.write_all(b"\"")
}

/// Seconds with three decimals, as `{:.3}` writes them, into a reused buffer. Whole
/// milliseconds are written as integers when the product is exact enough (below 1e9 ms its
/// error is under 1e-6 ms; formatting 100,000 floats was a fifth of the
/// writer's time); a time within a hair of a half millisecond, where rounding the product
/// could differ from rounding the decimal, is formatted as a float.
fn seconds(buffer: &mut String, time: f64) -> &str {
    use std::fmt::Write as _;
    buffer.clear();
    let scaled = time * 1000.0;
    let fraction = scaled - scaled.floor();
    if (0.0..1e9).contains(&scaled) && (fraction - 0.5).abs() > 1e-6 {
        // In range and far from a tie: the rounded product is the rounded decimal.
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "non-negative and below 1e9, checked above"
        )]
        let millis = scaled.round() as u64;
        push_decimal(buffer, millis / 1000);
        buffer.push('.');
        let thousandths = millis % 1000;
        for digit in [thousandths / 100, thousandths / 10 % 10, thousandths % 10] {
            buffer.push(char::from(b'0' + digit_byte(digit)));
        }
    } else {
        let _ = write!(buffer, "{time:.3}");
    }
    buffer
}

/// A digit's value as a byte (`digit` is below 10).
fn digit_byte(digit: u64) -> u8 {
    u8::try_from(digit % 10).unwrap_or(0)
}

/// A number's decimal digits, without the formatting machinery (100,000 of them per report).
fn push_decimal(buffer: &mut String, mut number: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + digit_byte(number);
        number /= 10;
        if number == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        buffer.push(char::from(digit));
    }
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
    // Digits need no escaping.
    if let Some(line) = case.line {
        number.clear();
        push_decimal(number, u64::from(line));
        out.write_all(b" line=\"")?;
        out.write_all(number.as_bytes())?;
        out.write_all(b"\"")?;
    }
    if let Some(time) = case.time {
        out.write_all(b" time=\"")?;
        out.write_all(seconds(number, time).as_bytes())?;
        out.write_all(b"\"")?;
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

    #[test]
    fn seconds_are_written_as_the_float_formatting_writes_them() {
        let mut buffer = String::new();
        let mut checked = 0;
        // Every half millisecond and its neighbours up to 10 s (ties included), and far ones.
        for step in 0..200_000u32 {
            let base = f64::from(step) / 20_000.0;
            for time in [base, base + 1e-7, base - 1e-7, base * 37.0, base * 1e4] {
                if time < 0.0 {
                    continue;
                }
                assert_eq!(seconds(&mut buffer, time), format!("{time:.3}"), "{time:e}");
                checked += 1;
            }
        }
        for time in [
            0.0,
            0.0005,
            0.0015,
            2.5e-4,
            1e6 + 0.0005,
            123_456.789_5,
            1e12,
            4e9,
        ] {
            assert_eq!(seconds(&mut buffer, time), format!("{time:.3}"), "{time:e}");
        }
        assert!(checked > 900_000);
        // The sum of no times is -0.0 in Rust; a document says 0.
        assert_eq!(
            seconds(&mut buffer, std::iter::empty::<f64>().sum()),
            "0.000"
        );
        assert!(write_junit("none", &[]).contains(r#"time="0.000""#));
    }

    #[test]
    fn control_characters_are_replaced_wherever_they_are() {
        for (text, safe) in [
            ("plain", "plain"),
            ("tab\tline\nreturn\r", "tab\tline\nreturn\r"),
            ("bell\u{7}", "bell\u{FFFD}"),
            ("del\u{7F}", "del\u{FFFD}"),
            ("c1\u{85}next", "c1\u{FFFD}next"),
            ("latin é and ĉ", "latin é and ĉ"),
            ("Â stays", "Â stays"),
        ] {
            assert_eq!(xml_safe(text), safe, "{text:?}");
            let mut out = Vec::new();
            write_attribute(&mut out, "k", text).unwrap();
            let written = String::from_utf8(out).unwrap();
            let escaped = escape(safe).replace('\n', "&#10;").replace('\t', "&#9;");
            assert_eq!(written, format!(" k=\"{escaped}\""), "{text:?}");
        }
    }
}
