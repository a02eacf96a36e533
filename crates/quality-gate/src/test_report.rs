//! What a test report reader returns (one outcome per test, by suite), and why it refuses a file.

use gantry_core::junit::TestSuite;

/// Failure details kept per test (a stack trace longer than this is cut).
pub const MAX_DETAILS: usize = 16 * 1024;

/// Why a test report was refused. Every message starts with the file's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestReportError {
    /// Nothing in the file.
    #[error(
        "{file}: the file is empty, and a test runner, coverage tool or structured linter that ran writes a report even when all is well: did it run to the end and write to this path?"
    )]
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
