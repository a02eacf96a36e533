//! `JUnit` XML in its dialects, read as a stream into one outcome per test.
//!
//! Dialects: pytest, Jest, Mocha, Surefire/Gradle, go-junit-report and gotestsum,
//! cargo-nextest, `PHPUnit`, `RSpec`, googletest, ctest, Ant, `JUnit` 5 legacy, Bazel,
//! Playwright/Cypress — they differ in nesting (`<testsuites>` or a bare `<testsuite>`, suites
//! inside suites, test cases straight under the root), in how reruns are written, and in which
//! attributes exist. The counting rules, the same for all:
//!
//! - A test is its suite, class name and name. A `<testcase>` repeating the name of a test
//!   whose attempts so far failed (and did not pass) is a rerun of it (Playwright retries);
//!   repeating the name of a test that passed or was skipped, it is another test of the same
//!   name (Jest allows them; runners do not rerun what passed) — unless the suite says it ran
//!   fewer tests than it lists cases: then every repeated name is one test's attempts, all but
//!   the last failed (pytest-rerunfailures writes the failed attempts without details). A case
//!   without a name is its own test.
//! - A suite that lists no test cases but says how many it ran (`tests`, `failures`, `errors`,
//!   `skipped` attributes) counts those, as unnamed tests.
//! - One attempt's outcome: `<error>` over `<failure>` over `<skipped>` over a pass. Surefire's
//!   and nextest's `<flakyFailure>`/`<flakyError>` on an otherwise passing case are failed
//!   attempts before the pass; `<rerunFailure>`/`<rerunError>` are failed attempts before the
//!   failure.
//! - Over attempts: a test that passed and also failed or errored is **flaky** (counted as passed
//!   and again in `flaky`); otherwise errored over failed over passed over skipped (a test
//!   skipped on one attempt and passed on another passed).
//!
//! Safety: no entity is ever expanded. A document type declaring entities (XXE, billion laughs)
//! is refused before anything is read past it; references to undeclared entities stay literal.
//! Reading is streamed: memory grows with the number of distinct tests, not the file's size
//! (failure details are kept to [`MAX_DETAILS`] bytes each).

use gantry_core::collections::FixedHashMap;
use std::io::{BufRead, Read};

use gantry_core::junit::{Outcome, TestCase, TestSuite};
use quick_xml::events::{BytesStart, Event};

/// Failure details kept per test (a stack trace longer than this is cut).
pub const MAX_DETAILS: usize = 16 * 1024;

/// Why a test report was refused. Every message starts with the file's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestReportError {
    /// Nothing in the file.
    #[error("{file}: the file is empty")]
    Empty {
        /// The file.
        file: String,
    },
    /// Not well-formed XML.
    #[error("{file}: not well-formed XML at byte {position}: {message}")]
    Xml {
        /// The file.
        file: String,
        /// Byte offset of the problem.
        position: u64,
        /// What the reader said.
        message: String,
    },
    /// A document type that declares entities.
    #[error(
        "{file}: refused: its document type declares entities (`<!ENTITY …>`), which test reports never need and XML attacks (XXE, billion laughs) rely on"
    )]
    Entities {
        /// The file.
        file: String,
    },
    /// Not XML at all.
    #[error("{file}: no XML element in the file: not a test report")]
    NoXml {
        /// The file.
        file: String,
    },
    /// XML, but not a test report.
    #[error(
        "{file}: not a test report: the root element is `<{root}>` (expected JUnit `<testsuites>` or `<testsuite>`, NUnit `<test-results>` or `<test-run>`, xUnit `<assemblies>`, or TRX `<TestRun>`)"
    )]
    NotATestReport {
        /// The file.
        file: String,
        /// The root element found.
        root: String,
    },
    /// Not a coverage report.
    #[error("{file}: not a coverage report: {what} (expected Cobertura or JaCoCo XML, or LCOV)")]
    NotCoverage {
        /// The file.
        file: String,
        /// What it is instead.
        what: String,
    },
    /// Not a linter report.
    #[error(
        "{file}: not a linter report gantry knows: {what} (supported: checkstyle XML, ESLint, pylint and ruff JSON, SARIF, reviewdog rdjson, cargo clippy JSON lines, and the output of flake8, pycodestyle, mypy, Black and isort)"
    )]
    NotLint {
        /// The file.
        file: String,
        /// What it is instead.
        what: String,
    },
    /// The file could not be read.
    #[error("{file}: {message}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
}

/// What one report held.
#[derive(Debug, Clone, Default)]
pub struct TestReport {
    /// Suites with their tests, one outcome per test.
    pub suites: Vec<TestSuite>,
    /// `<testcase>` elements read (attempts), which is more than the tests when reruns are
    /// written as repeated cases.
    pub attempts: u64,
    /// Oddities read past (a bad duration, a missing name).
    pub warnings: Vec<String>,
}

/// One attempt's outcome, most severe last in `Ord`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Attempt {
    Skipped,
    Passed,
    Failed,
    Errored,
}

/// A test while its attempts are read.
#[derive(Debug)]
struct Builder {
    suite: usize,
    case: TestCase,
    passed: bool,
    failed: u32,
    errored: u32,
    skipped: bool,
    // Boxed: most tests pass, and 100,000 inline triples of strings were a third of the
    // reader's memory.
    message: Option<Box<(String, String, String)>>,
    error_message: Option<Box<(String, String, String)>>,
    skip_message: Option<Box<str>>,
}

/// What the current `<testcase>` element has said so far.
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) classname: String,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u32>,
    pub(crate) time: Option<f64>,
    pub(crate) outcome: Option<Attempt>,
    /// Failed attempts before this one (flaky or rerun elements).
    pub(crate) earlier_failures: u32,
    pub(crate) message: String,
    pub(crate) kind: String,
    pub(crate) details: String,
    /// Collecting text for the failure or error element being read.
    pub(crate) collecting: bool,
    /// A status attribute said skipped.
    pub(crate) status_skipped: bool,
}

/// A `Read` that turns ISO-8859-1 or UTF-16 into UTF-8 as it goes.
struct Transcode<R> {
    inner: R,
    utf16: Option<bool>,
    pending: Vec<u8>,
    carry: Vec<u8>,
}

impl<R: Read> Read for Transcode<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() {
            let mut chunk = [0u8; 8192];
            let read = self.inner.read(&mut chunk)?;
            if read == 0 {
                return Ok(0);
            }
            match self.utf16 {
                None => {
                    for &byte in &chunk[..read] {
                        let mut encoded = [0u8; 2];
                        self.pending.extend_from_slice(
                            char::from(byte).encode_utf8(&mut encoded).as_bytes(),
                        );
                    }
                }
                Some(little) => {
                    self.carry.extend_from_slice(&chunk[..read]);
                    let whole = self.carry.len() / 2 * 2;
                    let units: Vec<u16> = self.carry[..whole]
                        .chunks_exact(2)
                        .map(|pair| {
                            if little {
                                u16::from_le_bytes([pair[0], pair[1]])
                            } else {
                                u16::from_be_bytes([pair[0], pair[1]])
                            }
                        })
                        .collect();
                    // A surrogate pair split across chunks waits for its second half.
                    let keep = usize::from(
                        units
                            .last()
                            .is_some_and(|unit| (0xD800..0xDC00).contains(unit)),
                    );
                    let decoded: String =
                        char::decode_utf16(units[..units.len() - keep].iter().copied())
                            .map(|unit| unit.unwrap_or(char::REPLACEMENT_CHARACTER))
                            .collect();
                    self.pending.extend_from_slice(decoded.as_bytes());
                    self.carry.drain(..whole - keep * 2);
                }
            }
        }
        let count = out.len().min(self.pending.len());
        out[..count].copy_from_slice(&self.pending[..count]);
        self.pending.drain(..count);
        Ok(count)
    }
}

/// A document's encoding, as its first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Latin1,
    Utf16 { little_endian: bool },
}

/// The encoding a document's start says, and how many bytes of byte-order mark to skip.
fn sniff(start: &[u8]) -> (Encoding, usize) {
    if start.starts_with(&[0xFF, 0xFE]) {
        return (
            Encoding::Utf16 {
                little_endian: true,
            },
            2,
        );
    }
    if start.starts_with(&[0xFE, 0xFF]) {
        return (
            Encoding::Utf16 {
                little_endian: false,
            },
            2,
        );
    }
    if start.starts_with(b"\xEF\xBB\xBF") {
        return (Encoding::Utf8, 3);
    }
    let head = String::from_utf8_lossy(&start[..start.len().min(200)]).to_ascii_lowercase();
    if head.starts_with("<?xml") {
        if let Some(declaration) = head.split("?>").next() {
            for latin in ["iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252"] {
                if declaration.contains(&format!("encoding=\"{latin}\""))
                    || declaration.contains(&format!("encoding='{latin}'"))
                {
                    return (Encoding::Latin1, 0);
                }
            }
        }
    }
    (Encoding::Utf8, 0)
}

/// The values of the `wanted` attributes, read in one pass over the element's attributes (the
/// first of each name wins).
pub(crate) fn attributes<const N: usize>(
    element: &BytesStart<'_>,
    wanted: [&str; N],
) -> [Option<String>; N] {
    let mut found = [const { None }; N];
    for attribute in element.attributes().with_checks(false).flatten() {
        let key = attribute.key.local_name();
        let Some(slot) = wanted.iter().position(|name| key.as_ref() == *name) else {
            continue;
        };
        if found[slot].is_none() {
            found[slot] = Some(attribute_value(&attribute));
        }
    }
    found
}

fn attribute_value(attribute: &quick_xml::events::attributes::Attribute<'_>) -> String {
    match attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
        Ok(value) => value.into_owned(),
        // An undeclared entity: keep the text as written.
        Err(_) => attribute.value.clone().into_owned(),
    }
}

pub(crate) fn attribute(element: &BytesStart<'_>, wanted: &str) -> Option<String> {
    element
        .attributes()
        .with_checks(false)
        .flatten()
        .find(|attribute| attribute.key.local_name().as_ref() == wanted)
        .map(
            |attribute| match attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                Ok(value) => value.into_owned(),
                // An undeclared entity: keep the text as written.
                Err(_) => attribute.value.clone().into_owned(),
            },
        )
}

fn cut(text: &mut String, limit: usize) {
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
}

/// The next event, naming the file and byte offset on errors. Also errors: the end of the
/// document while `open` elements are still open (a file cut short), and a document type that
/// declares entities (XXE, billion laughs), refused before anything after it is read.
pub(crate) fn next_event<'b, R: BufRead>(
    reader: &mut quick_xml::Reader<R>,
    buffer: &'b mut Vec<u8>,
    file: &str,
    open: usize,
) -> Result<Event<'b>, TestReportError> {
    let position = reader.buffer_position();
    let event = reader
        .read_event_into(buffer)
        .map_err(|error| TestReportError::Xml {
            file: file.to_owned(),
            position,
            message: error.to_string(),
        })?;
    if let Event::DocType(doctype) = &event {
        if doctype.as_ref().to_ascii_uppercase().contains("<!ENTITY") {
            return Err(TestReportError::Entities {
                file: file.to_owned(),
            });
        }
    }
    if matches!(event, Event::Eof) && open > 0 {
        return Err(TestReportError::Xml {
            file: file.to_owned(),
            position,
            message: format!(
                "the document ends inside {open} open element(s): the file was cut short"
            ),
        });
    }
    Ok(event)
}

/// Reads one test report: `JUnit` XML, or `NUnit`, `xUnit` or TRX (see [`crate::dotnet`]),
/// recognised from the root element.
pub fn read_test_report<R: BufRead>(
    file: &str,
    mut input: R,
) -> Result<TestReport, TestReportError> {
    let io = |error: std::io::Error| TestReportError::Io {
        file: file.to_owned(),
        message: error.to_string(),
    };
    let start = input.fill_buf().map_err(io)?.to_vec();
    if start.iter().all(u8::is_ascii_whitespace) {
        return Err(TestReportError::Empty {
            file: file.to_owned(),
        });
    }
    // Entity declarations anywhere in the first buffer (a DTD fragment, a document type):
    // refused before any parsing.
    if start
        .windows(8)
        .any(|window| window.eq_ignore_ascii_case(b"<!ENTITY"))
    {
        return Err(TestReportError::Entities {
            file: file.to_owned(),
        });
    }
    let (encoding, bom) = sniff(&start);
    input.consume(bom);
    let utf16 = match encoding {
        Encoding::Utf8 => return read_utf8(file, input),
        Encoding::Latin1 => None,
        Encoding::Utf16 { little_endian } => Some(little_endian),
    };
    read_utf8(
        file,
        std::io::BufReader::new(Transcode {
            inner: input,
            utf16,
            pending: Vec::new(),
            carry: Vec::new(),
        }),
    )
}

#[expect(
    clippy::too_many_lines,
    reason = "one event loop reads clearer in one place"
)]
fn read_utf8<R: BufRead>(file: &str, input: R) -> Result<TestReport, TestReportError> {
    let mut reader = quick_xml::Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    let mut buffer = Vec::new();
    let mut report = TestReport::default();
    let mut collector = Collector::default();
    // Open suites: index into `suites` of each, innermost last.
    let mut open: Vec<usize> = Vec::new();
    let mut root_seen = false;
    // Elements open in the whole document: a report cut short ends inside one.
    let mut depth = 0usize;
    let mut element: Option<Element> = None;
    let mut depth_in_case = 0usize;
    // Per open suite: its declared counts, and whether it listed any case itself.
    let mut declared: Vec<([u64; 4], bool)> = Vec::new();
    // Test case elements read, by suite, until the suite ends (reruns are decided then).
    let mut pending: FixedHashMap<usize, Vec<Element>> = FixedHashMap::default();

    loop {
        let event = next_event(&mut reader, &mut buffer, file, depth)?;
        match event {
            Event::Eof => break,
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                let empty = matches!(event, Event::Empty(_));
                if !empty {
                    depth += 1;
                }
                let name = tag.local_name();
                let name = name.as_ref();
                if !root_seen {
                    root_seen = true;
                    if let Some(dialect) = crate::dotnet::Dialect::of_root(name) {
                        if empty {
                            return Ok(TestReport::default());
                        }
                        return crate::dotnet::read_rest(file, dialect, &mut reader);
                    }
                    if name != "testsuites" && name != "testsuite" {
                        return Err(TestReportError::NotATestReport {
                            file: file.to_owned(),
                            root: name.to_owned(),
                        });
                    }
                }
                if let Some(current) = element.as_mut() {
                    if !empty {
                        depth_in_case += 1;
                    }
                    let (outcome, earlier) = match name {
                        "failure" => (Some(Attempt::Failed), false),
                        "error" => (Some(Attempt::Errored), false),
                        "skipped" | "ignored" | "disabled" => (Some(Attempt::Skipped), false),
                        "flakyFailure" | "flakyError" | "rerunFailure" | "rerunError" => {
                            (None, true)
                        }
                        _ => (None, false),
                    };
                    if earlier {
                        current.earlier_failures += 1;
                    }
                    if let Some(outcome) = outcome {
                        let stronger = current.outcome.is_none_or(|now| {
                            now == Attempt::Skipped && outcome != Attempt::Skipped || outcome > now
                        });
                        if stronger {
                            current.outcome = Some(outcome);
                            let [message, kind] = attributes(tag, ["message", "type"]);
                            current.message = message.unwrap_or_default();
                            current.kind = kind.unwrap_or_default();
                            current.details.clear();
                            current.collecting = !empty && outcome != Attempt::Skipped;
                        }
                    }
                    continue;
                }
                match name {
                    "testsuite" if !empty => {
                        let [suite_name, tests, failures, errors, skipped, skips] = attributes(
                            tag,
                            ["name", "tests", "failures", "errors", "skipped", "skips"],
                        );
                        let suite_name = suite_name.unwrap_or_default();
                        let full = match open.last() {
                            Some(&parent) if !collector.suite_name(parent).is_empty() => {
                                format!("{} / {suite_name}", collector.suite_name(parent))
                            }
                            _ => suite_name,
                        };
                        open.push(collector.suite(full));
                        let count = |value: Option<String>| {
                            value
                                .and_then(|value| value.trim().parse::<u64>().ok())
                                .unwrap_or(0)
                        };
                        declared.push((
                            [
                                count(tests),
                                count(failures),
                                count(errors),
                                count(skipped).max(count(skips)),
                            ],
                            false,
                        ));
                    }
                    "testcase" => {
                        report.attempts += 1;
                        for entry in &mut declared {
                            entry.1 = true;
                        }
                        let [name, classname, class, file_attribute, line, time, status] =
                            attributes(
                                tag,
                                [
                                    "name",
                                    "classname",
                                    "class",
                                    "file",
                                    "line",
                                    "time",
                                    "status",
                                ],
                            );
                        let time = time.and_then(|time| {
                            let parsed = time.trim().replace(',', "").parse::<f64>().ok();
                            if parsed.is_none_or(|seconds| !seconds.is_finite() || seconds < 0.0) {
                                if report.warnings.len() < 20 {
                                    report.warnings.push(format!(
                                        "{file}: a test case has time=\"{time}\", not a duration; ignored"
                                    ));
                                }
                                return None;
                            }
                            parsed
                        });
                        let status = status.unwrap_or_default().to_ascii_lowercase();
                        let current = Element {
                            name: name.unwrap_or_default(),
                            classname: classname.or(class).unwrap_or_default(),
                            file: file_attribute,
                            line: line.and_then(|line| line.trim().parse().ok()),
                            time,
                            status_skipped: matches!(
                                status.as_str(),
                                "skipped" | "notrun" | "disabled" | "skip"
                            ),
                            ..Element::default()
                        };
                        if open.is_empty() {
                            open.push(collector.suite(String::new()));
                        }
                        if empty {
                            pending
                                .entry(*open.last().unwrap_or(&0))
                                .or_default()
                                .push(current);
                        } else {
                            element = Some(current);
                            depth_in_case = 0;
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref tag) => {
                depth = depth.saturating_sub(1);
                let name = tag.local_name();
                let name = name.as_ref();
                if element.is_some() {
                    if depth_in_case > 0 {
                        depth_in_case -= 1;
                        if let Some(current) = element.as_mut() {
                            if matches!(name, "failure" | "error") {
                                current.collecting = false;
                            }
                        }
                        continue;
                    }
                    if name == "testcase" {
                        if let Some(current) = element.take() {
                            pending
                                .entry(*open.last().unwrap_or(&0))
                                .or_default()
                                .push(current);
                        }
                    }
                    continue;
                }
                if name == "testsuite" {
                    let suite = open.pop();
                    let counts = declared.pop();
                    if let Some(suite) = suite {
                        collector.resolve(
                            pending.remove(&suite).unwrap_or_default(),
                            suite,
                            counts.map_or(0, |(declared, _)| declared[0]),
                        );
                    }
                    if let (Some(suite), Some(([tests, failures, errors, skipped], false))) =
                        (suite, counts)
                    {
                        // Counted by the suite, not listed: unnamed tests of each outcome.
                        let passed = tests.saturating_sub(failures + errors + skipped);
                        for (count, outcome) in [
                            (passed, None),
                            (failures, Some(Attempt::Failed)),
                            (errors, Some(Attempt::Errored)),
                            (skipped, Some(Attempt::Skipped)),
                        ] {
                            for _ in 0..count.min(100_000) {
                                let unlisted = Element {
                                    outcome,
                                    ..Element::default()
                                };
                                collector.add(unlisted, suite);
                            }
                        }
                    }
                }
            }
            Event::Text(ref text) => {
                if let Some(current) = element.as_mut().filter(|current| current.collecting) {
                    if current.details.len() < MAX_DETAILS {
                        current.details.push_str(&text.xml10_content());
                    }
                }
            }
            Event::CData(ref data) => {
                if let Some(current) = element.as_mut().filter(|current| current.collecting) {
                    if current.details.len() < MAX_DETAILS {
                        current.details.push_str(&data.xml10_content());
                    }
                }
            }
            Event::GeneralRef(ref reference) => {
                if let Some(current) = element.as_mut().filter(|current| current.collecting) {
                    if let Ok(Some(character)) = reference.resolve_char_ref() {
                        current.details.push(character);
                    } else {
                        let name = reference.xml10_content();
                        if let Some(text) = quick_xml::escape::resolve_predefined_entity(&name) {
                            current.details.push_str(text);
                        } else {
                            // Undeclared: kept as written, never expanded.
                            current.details.push('&');
                            current.details.push_str(&name);
                            current.details.push(';');
                        }
                    }
                }
            }
            _ => {}
        }
        buffer.clear();
    }
    if !root_seen {
        return Err(TestReportError::NoXml {
            file: file.to_owned(),
        });
    }

    // Cases straight under the root.
    let mut left: Vec<(usize, Vec<Element>)> = pending.into_iter().collect();
    left.sort_by_key(|(suite, _)| *suite);
    for (suite, elements) in left {
        collector.resolve(elements, suite, 0);
    }
    report.suites = collector.into_suites();
    Ok(report)
}

/// Attempts, gathered into tests, by suite.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    suites: Vec<TestSuite>,
    builders: Vec<Builder>,
    by_id: FixedHashMap<(usize, String, String), usize>,
}

impl Collector {
    /// A new suite; its index.
    pub(crate) fn suite(&mut self, name: String) -> usize {
        self.suites.push(TestSuite {
            name,
            cases: Vec::new(),
        });
        self.suites.len() - 1
    }

    /// A suite's name.
    fn suite_name(&self, suite: usize) -> &str {
        &self.suites[suite].name
    }

    /// One attempt of a test in `suite`.
    pub(crate) fn add(&mut self, element: Element, suite: usize) {
        finish(element, suite, &mut self.builders, &mut self.by_id, false);
    }

    /// A suite's test case elements into tests. When a suite says it ran fewer tests than it lists
    /// cases (pytest-rerunfailures writes every attempt, the failed ones without details), cases
    /// repeating a name are attempts of one test: all but the last of them failed.
    fn resolve(&mut self, elements: Vec<Element>, suite: usize, declared_tests: u64) {
        let reruns = declared_tests > 0 && elements.len() as u64 > declared_tests;
        let mut remaining: FixedHashMap<(String, String), usize> = FixedHashMap::default();
        if reruns {
            for element in &elements {
                *remaining
                    .entry((element.classname.clone(), element.name.clone()))
                    .or_default() += 1;
            }
        }
        for mut element in elements {
            if reruns {
                let key = (element.classname.clone(), element.name.clone());
                let left = remaining.get_mut(&key).map_or(0, |left| {
                    *left -= 1;
                    *left
                });
                if left > 0 && element.outcome.is_none() && !element.status_skipped {
                    element.outcome = Some(Attempt::Failed);
                    "failed, then rerun (the report keeps details of the last attempt only)"
                        .clone_into(&mut element.message);
                }
            }
            finish(element, suite, &mut self.builders, &mut self.by_id, reruns);
        }
    }

    /// The suites with their tests, concluded; suites without tests left out.
    pub(crate) fn into_suites(mut self) -> Vec<TestSuite> {
        for builder in self.builders {
            let suite = builder.suite;
            self.suites[suite].cases.push(conclude(builder));
        }
        self.suites.retain(|suite| !suite.cases.is_empty());
        self.suites
    }
}

/// Adds one `<testcase>` element's attempt to its test.
fn finish(
    mut current: Element,
    suite: usize,
    builders: &mut Vec<Builder>,
    by_id: &mut FixedHashMap<(usize, String, String), usize>,
    reruns: bool,
) {
    cut(&mut current.details, MAX_DETAILS);
    let attempt = if current.status_skipped && current.outcome.is_none() {
        Attempt::Skipped
    } else {
        current.outcome.unwrap_or(Attempt::Passed)
    };
    let named = !current.name.is_empty();
    let key = (
        suite,
        std::mem::take(&mut current.classname),
        std::mem::take(&mut current.name),
    );
    let rerun_of = by_id.get(&key).copied().filter(|&index| {
        let earlier = &builders[index];
        reruns || (!earlier.passed && earlier.failed + earlier.errored > 0)
    });
    let index = if let Some(index) = rerun_of {
        index
    } else {
        builders.push(Builder {
            suite,
            case: TestCase {
                name: key.2.clone(),
                classname: key.1.clone(),
                file: current.file.take(),
                line: current.line,
                time: current.time,
                outcome: Outcome::Passed,
            },
            passed: false,
            failed: 0,
            errored: 0,
            skipped: false,
            message: None,
            error_message: None,
            skip_message: None,
        });
        let index = builders.len() - 1;
        if named {
            by_id.insert(key, index);
        }
        index
    };
    let builder = &mut builders[index];
    builder.failed += current.earlier_failures;
    let detail = || {
        Box::new((
            std::mem::take(&mut current.message),
            std::mem::take(&mut current.kind),
            std::mem::take(&mut current.details),
        ))
    };
    match attempt {
        Attempt::Passed => builder.passed = true,
        Attempt::Skipped => {
            builder.skipped = true;
            builder
                .skip_message
                .get_or_insert_with(|| std::mem::take(&mut current.message).into_boxed_str());
        }
        Attempt::Failed => {
            builder.failed += 1;
            builder.message.get_or_insert_with(detail);
        }
        Attempt::Errored => {
            builder.errored += 1;
            builder.error_message.get_or_insert_with(detail);
        }
    }
}

/// The test's outcome over its attempts (see the module documentation).
fn conclude(builder: Builder) -> TestCase {
    let mut case = builder.case;
    let failures = builder.failed + builder.errored;
    case.outcome = if builder.passed && failures > 0 {
        Outcome::Flaky {
            failed_attempts: failures,
            message: builder
                .message
                .as_ref()
                .or(builder.error_message.as_ref())
                .map(|detail| detail.0.clone())
                .unwrap_or_default(),
        }
    } else if let Some(detail) = builder.error_message {
        let (message, kind, details) = *detail;
        Outcome::Errored {
            message,
            kind,
            details,
        }
    } else if let Some(detail) = builder.message {
        let (message, kind, details) = *detail;
        Outcome::Failed {
            message,
            kind,
            details,
        }
    } else if builder.passed {
        Outcome::Passed
    } else if builder.skipped {
        Outcome::Skipped {
            message: builder.skip_message.map(String::from).unwrap_or_default(),
        }
    } else {
        // Only flaky/rerun elements and no final outcome: the last attempt passed.
        Outcome::Flaky {
            failed_attempts: failures,
            message: String::new(),
        }
    };
    case
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::junit::Totals;

    fn totals(xml: &str) -> Totals {
        Totals::of(&read_test_report("t.xml", xml.as_bytes()).unwrap().suites)
    }

    #[test]
    fn reruns_count_once_and_a_pass_after_a_failure_is_flaky() {
        let xml = r#"<testsuite name="s">
            <testcase classname="a" name="x"><failure message="boom">trace</failure></testcase>
            <testcase classname="a" name="x"/>
            <testcase classname="a" name="y"><failure/></testcase>
            <testcase classname="a" name="y"><failure/></testcase>
            <testcase classname="a" name="z"><flakyFailure message="once"/></testcase>
            <testcase classname="a" name="w"><rerunFailure/><failure/></testcase>
            <testcase classname="a" name="v"><skipped/></testcase>
            <testcase classname="a" name="u"><error message="setup"/><failure/></testcase>
        </testsuite>"#;
        let totals = totals(xml);
        assert_eq!(
            (
                totals.tests,
                totals.passed,
                totals.failed,
                totals.errors,
                totals.skipped,
                totals.flaky
            ),
            (6, 2, 2, 1, 1, 2)
        );
    }

    #[test]
    fn nested_suites_and_cases_under_the_root_are_read() {
        let xml = r#"<?xml version="1.0"?>
            <testsuites>
              <testcase name="root-level"/>
              <testsuite name="outer"><testsuite name="inner"><testcase classname="c" name="t"/></testsuite></testsuite>
            </testsuites>"#;
        let report = read_test_report("t.xml", xml.as_bytes()).unwrap();
        let names: Vec<&str> = report
            .suites
            .iter()
            .map(|suite| suite.name.as_str())
            .collect();
        assert_eq!(names, ["", "outer / inner"]);
    }

    #[test]
    fn entities_are_refused_and_never_expanded() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><testsuite><testcase name="&e;"/></testsuite>"#;
        assert!(matches!(
            read_test_report("x.xml", xxe.as_bytes()),
            Err(TestReportError::Entities { .. })
        ));
        let mut declarations = String::from("<!ENTITY lol0 \"lol\">");
        for level in 1..10 {
            let previous = level - 1;
            let _ = std::fmt::Write::write_fmt(
                &mut declarations,
                format_args!(
                    "<!ENTITY lol{level} \"&lol{previous};&lol{previous};&lol{previous};\">"
                ),
            );
        }
        let laughs = format!(
            "<?xml version=\"1.0\"?><!DOCTYPE lolz [{declarations}]><testsuite><testcase name=\"&lol9;\"/></testsuite>"
        );
        assert!(matches!(
            read_test_report("b.xml", laughs.as_bytes()),
            Err(TestReportError::Entities { .. })
        ));
    }

    #[test]
    fn latin1_utf16_and_bad_input_are_handled() {
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><testsuite><testcase name=\"caf\xE9\"/></testsuite>";
        let report = read_test_report("l.xml", &latin1[..]).unwrap();
        assert_eq!(report.suites[0].cases[0].name, "café");
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "<testsuite><testcase name=\"ü\"/></testsuite>".encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(
            read_test_report("u.xml", &utf16[..]).unwrap().suites[0].cases[0].name,
            "ü"
        );
        assert!(matches!(
            read_test_report("e.xml", &b"  \n"[..]),
            Err(TestReportError::Empty { .. })
        ));
        let error =
            read_test_report("c.xml", &b"<testsuite><testcase></testsuite>"[..]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("c.xml: not well-formed XML at byte"),
            "{error}"
        );
        let error = read_test_report("h.xml", &b"<html><body/></html>"[..]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "h.xml: not a test report: the root element is `<html>` (expected JUnit `<testsuites>` or `<testsuite>`, NUnit `<test-results>` or `<test-run>`, xUnit `<assemblies>`, or TRX `<TestRun>`)"
        );
    }
}
