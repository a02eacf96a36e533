//! Real test runners write the reports, and our counts equal the runner's own console summary:
//! pytest with pytest-rerunfailures (installed by `scripts/test.sh`), cargo-nextest with retries,
//! and Node's built-in test runner.

use std::process::Command;

use gantry_testkit::harness::RunnerHarness;

/// `N word` in a summary line (`2 passed`, `1 flaky`), 0 when absent.
fn count(summary: &str, word: &str) -> u64 {
    let words: Vec<&str> = summary
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|part| !part.is_empty())
        .collect();
    words
        .windows(2)
        .find(|pair| pair[1].trim_end_matches('s') == word.trim_end_matches('s'))
        .and_then(|pair| pair[0].parse().ok())
        .unwrap_or(0)
}

fn gate(harness: &RunnerHarness<'_>, junit: &str) -> [u64; 6] {
    let outcome = harness.run(&[
        "quality-gate",
        "--dry-run",
        "--junit",
        junit,
        "--comment",
        "off",
    ]);
    assert!(
        outcome.exit_code.is_some_and(|code| code <= 1),
        "{}\n{}",
        outcome.stdout,
        outcome.stderr
    );
    ["tests", "passed", "failed", "errors", "skipped", "flaky"].map(|name| {
        outcome
            .output(name)
            .parse()
            .unwrap_or_else(|_| panic!("{name}: {:?}", outcome.outputs))
    })
}

#[test]
fn pytest_with_reruns_counts_as_pytest_does() {
    let harness = RunnerHarness::new().without("GITHUB_TOKEN");
    harness.write(
        "test_suite.py",
        r#"import os, pathlib, pytest

def test_passes():
    assert True

def test_fails():
    assert 1 == 2

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

def test_flaky():
    marker = pathlib.Path(os.environ["FLAKY_MARKER"])
    if not marker.exists():
        marker.write_text("failed once")
        raise ConnectionError("reset")

@pytest.fixture
def broken():
    raise RuntimeError("setup failed")

def test_setup_error(broken):
    pass
"#,
    );
    let output = Command::new(gantry_testkit::python_tool("pytest"))
        .args([
            "-q",
            "-p",
            "no:cacheprovider",
            "--reruns",
            "1",
            "--junitxml=report.xml",
            "test_suite.py",
        ])
        .current_dir(harness.workspace())
        .env("FLAKY_MARKER", harness.workspace().join("marker"))
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&output.stdout);
    let summary = console.lines().last().unwrap_or_default().to_owned();
    let [tests, passed, failed, errors, skipped, flaky] = gate(&harness, "report.xml");
    assert_eq!(
        (passed, failed, errors, skipped),
        (
            count(&summary, "passed"),
            count(&summary, "failed"),
            count(&summary, "error"),
            count(&summary, "skipped")
        ),
        "pytest said: {summary}"
    );
    assert_eq!(tests, passed + failed + errors + skipped);
    assert_eq!(flaky, 1, "the test that passed on its rerun");
}

#[test]
fn nextest_with_retries_counts_as_nextest_does() {
    let harness = RunnerHarness::new().without("GITHUB_TOKEN");
    harness.write(
        "Cargo.toml",
        "[package]\nname = \"runner-check\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    );
    harness.write(
        "src/lib.rs",
        r#"#[cfg(test)]
mod tests {
    #[test]
    fn passes() {}
    #[test]
    fn fails() {
        assert_eq!(1, 2);
    }
    #[test]
    fn flaky() {
        let marker = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("marker");
        if !marker.exists() {
            std::fs::write(&marker, "failed once").unwrap();
            panic!("first attempt fails");
        }
    }
    #[test]
    #[ignore]
    fn ignored() {}
}
"#,
    );
    harness.write(
        ".config/nextest.toml",
        "[profile.default.junit]\npath = \"junit.xml\"\n",
    );
    let output = Command::new("cargo")
        .args([
            "nextest",
            "run",
            "--retries",
            "1",
            "--no-fail-fast",
            "--offline",
        ])
        .current_dir(harness.workspace())
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_TARGET_DIR", harness.workspace().join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&output.stderr);
    let summary = console
        .lines()
        .find(|line| line.trim_start().starts_with("Summary"))
        .unwrap_or_else(|| panic!("{console}"))
        .to_owned();
    let [tests, passed, failed, _, skipped, flaky] =
        gate(&harness, "target/nextest/default/junit.xml");
    // nextest leaves skipped (ignored) tests out of its JUnit file; the tests it ran match.
    assert_eq!(tests, count(&summary, "tests"), "nextest said: {summary}");
    assert_eq!(
        (passed, failed, flaky),
        (
            count(&summary, "passed"),
            count(&summary, "failed"),
            count(&summary, "flaky")
        ),
        "nextest said: {summary}"
    );
    assert_eq!((skipped, count(&summary, "skipped")), (0, 1));
}

#[test]
fn node_test_runner_counts_as_node_does() {
    let harness = RunnerHarness::new().without("GITHUB_TOKEN");
    harness.write(
        "suite.test.mjs",
        "import test from 'node:test';\nimport assert from 'node:assert';\ntest('passes', () => assert.ok(true));\ntest('fails', () => assert.strictEqual(1, 2));\ntest('skipped', { skip: 'not today' }, () => {});\ntest.describe('group', () => { test('inner passes', () => {}); });\n",
    );
    let output = Command::new("node")
        .args([
            "--test",
            "--test-reporter=junit",
            "--test-reporter-destination=report.xml",
            "--test-reporter=spec",
            "--test-reporter-destination=stdout",
            "suite.test.mjs",
        ])
        .current_dir(harness.workspace())
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&output.stdout);
    let said = |word: &str| -> u64 {
        console
            .lines()
            .find_map(|line| {
                line.trim_start_matches('ℹ')
                    .trim()
                    .strip_prefix(&format!("{word} "))
            })
            .and_then(|number| number.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `{word}` in: {console}"))
    };
    let [tests, passed, failed, errors, skipped, _] = gate(&harness, "report.xml");
    assert_eq!(
        (tests, passed, failed + errors, skipped),
        (said("tests"), said("pass"), said("fail"), said("skipped"))
    );
}
