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

use std::borrow::Cow;
use std::io::BufRead;

use gantry_core::collections::FixedHashMap;

use quick_xml::events::Event;

use crate::collect::{Attempt, Collector, Element};
pub use crate::test_report::{MAX_DETAILS, TestReport, TestReportError};
use crate::xml::{Encoding, Transcode, attributes, next_event, sniff};

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
    read_utf8(file, std::io::BufReader::new(Transcode::new(input, utf16)))
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
                            current.message = message.map(Cow::into_owned).unwrap_or_default();
                            current.kind = kind.map(Cow::into_owned).unwrap_or_default();
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
                        let suite_name = suite_name.map(Cow::into_owned).unwrap_or_default();
                        let full = match open.last() {
                            Some(&parent) if !collector.suite_name(parent).is_empty() => {
                                let parent = collector.suite_name(parent);
                                if parent.len() >= crate::xml::MAX_SUITE_NAME_BYTES {
                                    parent.to_owned()
                                } else {
                                    format!("{parent} / {suite_name}")
                                }
                            }
                            _ => suite_name,
                        };
                        let full = if full.len() > crate::xml::MAX_SUITE_NAME_BYTES {
                            let mut end = crate::xml::MAX_SUITE_NAME_BYTES;
                            while !full.is_char_boundary(end) {
                                end -= 1;
                            }
                            format!("{}…", &full[..end])
                        } else {
                            full
                        };
                        open.push(collector.suite(full));
                        let count = |value: Option<Cow<'_, str>>| {
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
                        // Every open suite now lists a case: marked on the innermost, handed
                        // to its parent when it ends (one step, not one per open suite).
                        if let Some(innermost) = declared.last_mut() {
                            innermost.1 = true;
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
                            let trimmed = time.trim();
                            let parsed = if trimmed.contains(',') {
                                trimmed.replace(',', "").parse::<f64>().ok()
                            } else {
                                trimmed.parse::<f64>().ok()
                            };
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
                        let status = status.map(|status| status.to_ascii_lowercase());
                        let current = Element {
                            name: name.map(Cow::into_owned).unwrap_or_default(),
                            classname: classname.or(class).map(Cow::into_owned).unwrap_or_default(),
                            file: file_attribute.map(Cow::into_owned),
                            line: line.and_then(|line| line.trim().parse().ok()),
                            time,
                            status_skipped: matches!(
                                status.as_deref().unwrap_or_default(),
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
                    if let (Some((_, true)), Some(parent)) = (counts, declared.last_mut()) {
                        parent.1 = true;
                    }
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
                    if let Some(suite) = suite {
                        collector.close(suite);
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

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_core::junit::Totals;

    fn totals(xml: &str) -> Totals {
        Totals::of(&read_test_report("t.xml", xml.as_bytes()).unwrap().suites)
    }

    /// Issue 25 §6: 100,000 nested suites took memory with the square of the depth (every suite
    /// held its full path) and aborted the process.
    #[test]
    fn suites_nested_without_bound_are_refused_and_deep_ones_stay_linear() {
        let nested = |depth: usize, name: &str| {
            let mut xml = String::with_capacity(depth * (name.len() + 40));
            let open = format!("<testsuite name=\"{name}\">");
            for _ in 0..depth {
                xml.push_str(&open);
            }
            xml.push_str("<testcase classname=\"c\" name=\"t\"/>");
            for _ in 0..depth {
                xml.push_str("</testsuite>");
            }
            xml
        };
        let error = read_test_report("deep.xml", nested(100_000, "s").as_bytes()).unwrap_err();
        let shown = error.to_string();
        assert!(
            shown.starts_with("deep.xml: ") && shown.contains("nested more than 256 deep"),
            "{shown}"
        );
        // As deep as allowed, with long names: one case, and a full name that stays cut.
        let long = "n".repeat(10_000);
        let report = read_test_report("ok.xml", nested(250, &long).as_bytes()).unwrap();
        let suites: Vec<_> = report
            .suites
            .iter()
            .filter(|s| !s.cases.is_empty())
            .collect();
        assert_eq!(suites.len(), 1);
        assert!(suites[0].name.len() <= crate::xml::MAX_SUITE_NAME_BYTES + '…'.len_utf8());
        let total: usize = report.suites.iter().map(|suite| suite.name.len()).sum();
        assert!(
            total <= 250 * (crate::xml::MAX_SUITE_NAME_BYTES + 3),
            "{total}"
        );
        assert_eq!(Totals::of(&report.suites).tests, 1);
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
