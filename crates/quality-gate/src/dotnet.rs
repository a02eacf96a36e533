//! .NET test reports: `NUnit` 2 (`<test-results>`) and 3 (`<test-run>`), `xUnit` v2
//! (`<assemblies>`) and Visual Studio's TRX (`<TestRun>`), read with the same counting rules
//! as `JUnit` (see [`crate::junit`] for the counting rules, [`crate::collect`] for where they live).
//!
//! Outcomes, from each format's words:
//! - `NUnit` 2 `result`: `Success` (or 3's `Passed`) passed; `Failure` (or `Failed`) failed; `Error`, `Cancelled` and
//!   `NotRunnable` (an invalid test) errored; `Ignored`, `Skipped`, `Inconclusive` or
//!   `executed="False"` skipped.
//! - `NUnit` 3 `result`: `Passed` and `Warning` passed; `Failed` failed, whatever its `label`
//!   (`Error`, `Invalid`, `Cancelled` are kinds of failure in `NUnit`'s own `failed` count);
//!   `Skipped` and `Inconclusive` skipped.
//! - A case with no result word but a `<failure>` failed (`NUnit` 2 writers that omit `result`).
//! - `xUnit` `result`: `Pass`, `Fail`, `Skip` and `NotRun` (skipped).
//! - TRX `outcome`: `Passed` (and `PassedButRunAborted`) passed; `Failed` failed; `Error`,
//!   `Timeout` and `Aborted` errored; `NotExecuted`, `Inconclusive`, `Pending` and the rest
//!   skipped. TRX names a test's class in its definitions, usually after the results; results
//!   wait for them.

use gantry_core::collections::FixedHashMap;
use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};

use crate::collect::{Attempt, Collector, Element};
use crate::test_report::{MAX_DETAILS, TestReport, TestReportError};
use crate::xml::{attribute, next_event};

/// The formats of this module, by their root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    NUnit2,
    NUnit3,
    XUnit,
    Trx,
}

impl Dialect {
    /// The dialect whose root element this is.
    pub(crate) fn of_root(root: &str) -> Option<Self> {
        match root {
            // `NUnit` 2, or a bare `<test-suite>` (`NUnit` 2 and 3 writers that leave out the run).
            "test-results" | "test-suite" => Some(Self::NUnit2),
            "test-run" => Some(Self::NUnit3),
            "assemblies" | "assembly" => Some(Self::XUnit),
            "TestRun" => Some(Self::Trx),
            _ => None,
        }
    }

    fn test_element(self) -> &'static str {
        match self {
            Self::NUnit2 | Self::NUnit3 => "test-case",
            Self::XUnit => "test",
            Self::Trx => "UnitTestResult",
        }
    }
}

/// Seconds from `1.5`, or TRX's `00:00:01.5000000`.
fn seconds(text: &str) -> Option<f64> {
    let text = text.trim();
    let value = if text.contains(':') {
        text.split(':').try_fold(0.0f64, |total, part| {
            Some(total * 60.0 + part.parse::<f64>().ok()?)
        })?
    } else {
        text.parse().ok()?
    };
    (value.is_finite() && value >= 0.0).then_some(value)
}

fn outcome(dialect: Dialect, tag: &BytesStart<'_>) -> Attempt {
    let result = attribute(tag, "result").unwrap_or_default();
    match dialect {
        Dialect::NUnit2 => {
            if attribute(tag, "executed")
                .is_some_and(|executed| executed.eq_ignore_ascii_case("false"))
            {
                return Attempt::Skipped;
            }
            match result.as_str() {
                "Success" | "Passed" => Attempt::Passed,
                "Failure" | "Failed" => Attempt::Failed,
                "Error" | "Cancelled" | "NotRunnable" => Attempt::Errored,
                "Ignored" | "Skipped" | "Inconclusive" => Attempt::Skipped,
                _ => match attribute(tag, "success").as_deref() {
                    Some("False") => Attempt::Failed,
                    _ => Attempt::Passed,
                },
            }
        }
        Dialect::NUnit3 => match result.as_str() {
            "Failed" => Attempt::Failed,
            "Skipped" | "Inconclusive" => Attempt::Skipped,
            _ => Attempt::Passed,
        },
        Dialect::XUnit => match result.as_str() {
            "Fail" => Attempt::Failed,
            "Skip" | "NotRun" => Attempt::Skipped,
            _ => Attempt::Passed,
        },
        Dialect::Trx => match attribute(tag, "outcome").unwrap_or_default().as_str() {
            "Passed" | "PassedButRunAborted" | "Warning" => Attempt::Passed,
            "Failed" => Attempt::Failed,
            "Error" | "Timeout" | "Aborted" => Attempt::Errored,
            _ => Attempt::Skipped,
        },
    }
}

/// The test element's name, class and time.
fn identity(dialect: Dialect, tag: &BytesStart<'_>) -> (String, String, Option<f64>) {
    let name = attribute(
        tag,
        if dialect == Dialect::Trx {
            "testName"
        } else {
            "name"
        },
    )
    .unwrap_or_default();
    let class = match dialect {
        Dialect::NUnit3 => attribute(tag, "classname"),
        Dialect::XUnit => attribute(tag, "type"),
        Dialect::NUnit2 | Dialect::Trx => None,
    }
    .unwrap_or_else(|| match name.rsplit_once('.') {
        // `Namespace.Class.Method`: the class is what comes before the method.
        Some((class, _)) if dialect == Dialect::NUnit2 => class.to_owned(),
        _ => String::new(),
    });
    let time = attribute(tag, "duration")
        .or_else(|| attribute(tag, "time"))
        .and_then(|time| seconds(&time));
    (name, class, time)
}

/// Reads the rest of a .NET report whose root element has been read.
#[expect(
    clippy::too_many_lines,
    reason = "one event loop reads clearer in one place"
)]
pub(crate) fn read_rest<R: BufRead>(
    file: &str,
    dialect: Dialect,
    reader: &mut quick_xml::Reader<R>,
) -> Result<TestReport, TestReportError> {
    let mut buffer = Vec::new();
    let mut sink = Sink {
        dialect,
        collector: Collector::default(),
        trx_results: Vec::new(),
    };
    let mut report = TestReport::default();
    // Suite names open, innermost last, and the suite index of each.
    let mut suites: Vec<usize> = Vec::new();
    let mut default_suite = None;
    let mut current: Option<(Element, usize, String)> = None;
    let mut leaf = String::new();
    let mut depth = 1usize;
    // TRX: results by test id until the definitions name their classes.
    let mut trx_class: FixedHashMap<String, String> = FixedHashMap::default();
    let mut trx_definition: Option<String> = None;

    loop {
        let event = next_event(reader, &mut buffer, file, depth)?;
        match event {
            Event::Eof => break,
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                let empty = matches!(event, Event::Empty(_));
                if !empty {
                    depth += 1;
                }
                let name = tag.local_name();
                let name = name.as_ref();
                if let Some((element, _, _)) = current.as_mut() {
                    if matches!(name, "failure" | "ErrorInfo") {
                        if let Some(kind) = attribute(tag, "exception-type") {
                            element.kind = kind;
                        }
                        if name == "failure"
                            && element.outcome == Some(Attempt::Passed)
                            && !element.status_skipped
                        {
                            element.outcome = Some(Attempt::Failed);
                        }
                    }
                    if !empty {
                        name.clone_into(&mut leaf);
                    }
                    continue;
                }
                if name == dialect.test_element() {
                    report.attempts += 1;
                    let (test, class, time) = identity(dialect, tag);
                    let suite = match suites.last() {
                        Some(&suite) => suite,
                        None => *default_suite
                            .get_or_insert_with(|| sink.collector.suite(String::new())),
                    };
                    let element = Element {
                        name: test,
                        classname: class,
                        time,
                        outcome: Some(outcome(dialect, tag)),
                        ..Element::default()
                    };
                    let id = attribute(tag, "testId").unwrap_or_default();
                    if empty {
                        sink.take(element, suite, id);
                    } else {
                        current = Some((element, suite, id));
                        leaf.clear();
                    }
                    continue;
                }
                match (dialect, name) {
                    (Dialect::NUnit2 | Dialect::NUnit3, "test-suite") if !empty => {
                        let suite_name = attribute(tag, "fullname")
                            .or_else(|| attribute(tag, "name"))
                            .unwrap_or_default();
                        suites.push(sink.collector.suite(suite_name));
                    }
                    (Dialect::XUnit, "collection") if !empty => {
                        suites.push(
                            sink.collector
                                .suite(attribute(tag, "name").unwrap_or_default()),
                        );
                    }
                    (Dialect::Trx, "UnitTest") => {
                        trx_definition = attribute(tag, "id");
                    }
                    (Dialect::Trx, "TestMethod") => {
                        if let (Some(id), Some(class)) =
                            (trx_definition.clone(), attribute(tag, "className"))
                        {
                            trx_class.insert(id, class);
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref tag) => {
                depth = depth.saturating_sub(1);
                let name = tag.local_name();
                let name = name.as_ref();
                if name == dialect.test_element() {
                    if let Some((element, suite, id)) = current.take() {
                        sink.take(element, suite, id);
                    }
                    continue;
                }
                if current.is_some() {
                    leaf.clear();
                    continue;
                }
                if matches!(name, "test-suite" | "collection") {
                    suites.pop();
                }
            }
            Event::Text(ref text) => push_text(&mut current, &leaf, &text.xml10_content()),
            Event::CData(ref data) => push_text(&mut current, &leaf, &data.xml10_content()),
            Event::GeneralRef(ref reference) => {
                let resolved = if let Ok(Some(character)) = reference.resolve_char_ref() {
                    character.to_string()
                } else {
                    let name = reference.xml10_content();
                    quick_xml::escape::resolve_predefined_entity(&name)
                        .map_or_else(|| format!("&{name};"), str::to_owned)
                };
                push_text(&mut current, &leaf, &resolved);
            }
            _ => {}
        }
        buffer.clear();
    }
    if dialect == Dialect::Trx {
        let mut by_class: FixedHashMap<String, usize> = FixedHashMap::default();
        for (id, mut element) in std::mem::take(&mut sink.trx_results) {
            element.classname = trx_class.get(&id).cloned().unwrap_or_default();
            let suite = *by_class
                .entry(element.classname.clone())
                .or_insert_with(|| sink.collector.suite(element.classname.clone()));
            sink.collector.add(element, suite);
        }
    }
    report.suites = sink.collector.into_suites();
    Ok(report)
}

/// Where finished test elements go: the collector, or (TRX) a list waiting for the definitions
/// that name their classes.
struct Sink {
    dialect: Dialect,
    collector: Collector,
    trx_results: Vec<(String, Element)>,
}

impl Sink {
    fn take(&mut self, element: Element, suite: usize, id: String) {
        if self.dialect == Dialect::Trx {
            self.trx_results.push((id, element));
        } else {
            self.collector.add(element, suite);
        }
    }
}

/// Text inside a test: the message, or the stack trace.
fn push_text(current: &mut Option<(Element, usize, String)>, leaf: &str, text: &str) {
    let Some((element, _, _)) = current else {
        return;
    };
    match leaf {
        "message" | "Message" if element.message.len() < MAX_DETAILS => {
            element.message.push_str(text);
        }
        "stack-trace" | "StackTrace" | "failure" if element.details.len() < MAX_DETAILS => {
            element.details.push_str(text);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn durations_in_both_notations() {
        assert_eq!(seconds("1.5"), Some(1.5));
        assert_eq!(seconds("00:01:02.5"), Some(62.5));
        assert_eq!(seconds("-1"), None);
        assert_eq!(seconds("NaN"), None);
    }
}
