//! Attempts gathered into tests: the counting rules of [`crate::junit`]'s documentation, shared
//! by every dialect's reader.

use std::hash::BuildHasher as _;

use gantry_core::collections::{FixedHashMap, FixedState};
use gantry_core::junit::{Failure, Outcome, TestCase, TestSuite};

use crate::test_report::MAX_DETAILS;

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
    /// The previous test (suite, index) whose key hashes the same: the chain [`Collector`]'s
    /// map heads.
    same_hash: Option<(usize, usize)>,
    case: TestCase,
    passed: bool,
    failed: u32,
    errored: u32,
    skipped: bool,
    // Boxed: most tests pass, and 100,000 inline triples of strings were a third of the
    // reader's memory.
    message: Option<Box<Failure>>,
    error_message: Option<Box<Failure>>,
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

/// Attempts, gathered into tests, by suite.
#[derive(Debug, Default)]
pub(crate) struct Collector {
    suites: Vec<TestSuite>,
    /// Per suite, its tests as they are read, in the order first seen.
    builders: Vec<Vec<Builder>>,
    /// By the hash of (suite, class name, name): the most recent test of that key, heading a
    /// chain through [`Builder::same_hash`]. Keyed by the hash so the names are not held twice
    /// (100,000 tests of copied names were a fifth of the reader's memory).
    by_id: FixedHashMap<u64, (usize, usize)>,
}

impl Collector {
    /// A new suite; its index.
    pub(crate) fn suite(&mut self, name: String) -> usize {
        self.suites.push(TestSuite {
            name,
            cases: Vec::new(),
        });
        self.builders.push(Vec::new());
        self.suites.len() - 1
    }

    /// A suite's name.
    pub(crate) fn suite_name(&self, suite: usize) -> &str {
        &self.suites[suite].name
    }

    /// One attempt of a test in `suite`.
    pub(crate) fn add(&mut self, element: Element, suite: usize) {
        finish(element, suite, &mut self.builders, &mut self.by_id, false);
    }

    /// A suite's test case elements into tests. When a suite says it ran fewer tests than it lists
    /// cases (pytest-rerunfailures writes every attempt, the failed ones without details), cases
    /// repeating a name are attempts of one test: all but the last of them failed.
    pub(crate) fn resolve(&mut self, elements: Vec<Element>, suite: usize, declared_tests: u64) {
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
    pub(crate) fn into_suites(self) -> Vec<TestSuite> {
        let Self {
            mut suites,
            builders,
            by_id,
        } = self;
        drop(by_id);
        // Suite by suite, so the tests are not held twice over.
        for (suite, tests) in suites.iter_mut().zip(builders) {
            concluded(&mut suite.cases, tests);
        }
        suites.retain(|suite| !suite.cases.is_empty());
        suites
    }

    /// A suite whose element ended: its tests concluded now, so a report's builders are never
    /// all held at once (a test's attempts are all inside its suite's element).
    pub(crate) fn close(&mut self, suite: usize) {
        let tests = std::mem::take(&mut self.builders[suite]);
        if tests.is_empty() {
            return;
        }
        self.by_id.retain(|_, (in_suite, _)| *in_suite != suite);
        concluded(&mut self.suites[suite].cases, tests);
    }
}

/// Appends the concluded tests, in an allocation of their own size: collecting in place would
/// keep the larger builders' buffer.
fn concluded(cases: &mut Vec<TestCase>, tests: Vec<Builder>) {
    cases.reserve_exact(tests.len());
    cases.extend(tests.into_iter().map(conclude));
}

/// Adds one `<testcase>` element's attempt to its test.
fn finish(
    mut current: Element,
    suite: usize,
    builders: &mut [Vec<Builder>],
    by_id: &mut FixedHashMap<u64, (usize, usize)>,
    reruns: bool,
) {
    cut(&mut current.details, MAX_DETAILS);
    let attempt = if current.status_skipped && current.outcome.is_none() {
        Attempt::Skipped
    } else {
        current.outcome.unwrap_or(Attempt::Passed)
    };
    let named = !current.name.is_empty();
    let hash = FixedState::default().hash_one((suite, &current.classname, &current.name));
    // The most recent test of this key, if any (the chain also holds other keys that hash
    // alike).
    let mut link = if named {
        by_id.get(&hash).copied()
    } else {
        None
    };
    let mut latest = None;
    while let Some((in_suite, index)) = link {
        // A closed suite's tests are gone; a chain reaching one (two keys of different suites
        // hashing alike) has nothing more of this suite.
        let Some(earlier) = builders[in_suite].get(index) else {
            break;
        };
        if in_suite == suite
            && earlier.case.name == current.name
            && earlier.case.classname == current.classname
        {
            latest = Some(index);
            break;
        }
        link = earlier.same_hash;
    }
    let rerun_of = latest.filter(|&index| {
        let earlier = &builders[suite][index];
        reruns || (!earlier.passed && earlier.failed + earlier.errored > 0)
    });
    let tests = &mut builders[suite];
    let index = if let Some(index) = rerun_of {
        index
    } else {
        let index = tests.len();
        let same_hash = if named {
            by_id.insert(hash, (suite, index))
        } else {
            None
        };
        tests.push(Builder {
            same_hash,
            case: TestCase {
                name: std::mem::take(&mut current.name),
                classname: std::mem::take(&mut current.classname),
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
        index
    };
    let builder = &mut tests[index];
    builder.failed += current.earlier_failures;
    let detail = || {
        Box::new(Failure {
            message: std::mem::take(&mut current.message),
            kind: std::mem::take(&mut current.kind),
            details: std::mem::take(&mut current.details),
        })
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
                .map(|failure| failure.message.as_str().into())
                .unwrap_or_default(),
        }
    } else if let Some(failure) = builder.error_message {
        Outcome::Errored(failure)
    } else if let Some(failure) = builder.message {
        Outcome::Failed(failure)
    } else if builder.passed {
        Outcome::Passed
    } else if builder.skipped {
        Outcome::Skipped {
            message: builder.skip_message.unwrap_or_default(),
        }
    } else {
        // Only flaky/rerun elements and no final outcome: the last attempt passed.
        Outcome::Flaky {
            failed_attempts: failures,
            message: Box::default(),
        }
    };
    case
}
