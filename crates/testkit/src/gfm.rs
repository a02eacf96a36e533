//! What GitHub shows is what we meant: markdown rendered with cmark-gfm (GitHub's own
//! renderer, `cmarkgfm` from the Python package index, which `scripts/test.sh` installs), and what a reader would
//! see wrong in the HTML — a code span or bold shown with its markers, an escape shown as a
//! backslash (markdown inside an HTML block such as `<summary>` is not markdown), an entity
//! shown as text, `<details>` not closed, a table row that loses cells.
//!
//! The harness checks every step summary and every comment, issue and check-run text the fake
//! GitHub received, so every end-to-end test checks what it produced.

use std::collections::HashSet;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// Documents already checked in this process (by content), so one comment seen by many runs
/// is rendered once.
fn checked() -> &'static Mutex<HashSet<u64>> {
    static CHECKED: OnceLock<Mutex<HashSet<u64>>> = OnceLock::new();
    CHECKED.get_or_init(|| Mutex::new(HashSet::new()))
}

fn fingerprint(text: &str) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// What a reader would see wrong in each `(name, markdown)`, one line per problem.
///
/// # Panics
/// When the venv's Python with `cmarkgfm` cannot be run.
pub fn problems(documents: &[(String, String)]) -> Vec<String> {
    let fresh: Vec<&(String, String)> = {
        let mut seen = checked()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        documents
            .iter()
            .filter(|(_, markdown)| !markdown.trim().is_empty())
            .filter(|(_, markdown)| seen.insert(fingerprint(markdown)))
            .collect()
    };
    if fresh.is_empty() {
        return Vec::new();
    }
    let python = crate::python_tool("python");
    let mut child = Command::new(python)
        .arg("-c")
        .arg(include_str!("gfm/check.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the GFM check");
    let input = serde_json::to_vec(&fresh).expect("documents as JSON");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("send the documents");
    let output = child.wait_with_output().expect("the GFM check");
    assert!(
        output.status.success(),
        "the GFM check failed (is cmarkgfm installed? run scripts/test.sh): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the GFM check's answer")
}

/// Panics with every problem of `documents`.
///
/// # Panics
/// When a document renders wrong.
pub fn assert_renders(documents: &[(String, String)]) {
    let found = problems(documents);
    assert!(
        found.is_empty(),
        "what GitHub would show is not what was meant:\n{}",
        found.join("\n")
    );
}

/// Every text the fake GitHub holds that GitHub renders as markdown.
pub fn documents_of(state: &crate::fake_github::State) -> Vec<(String, String)> {
    let mut documents = Vec::new();
    for comment in &state.comments {
        documents.push((format!("comment {}", comment.id), comment.body.clone()));
    }
    for issue in &state.issues {
        documents.push((format!("issue #{}", issue.number), issue.body.clone()));
    }
    for run in &state.check_runs {
        documents.push((
            format!("check run {:?} summary", run.name),
            run.summary.clone(),
        ));
        if let Some(text) = &run.text {
            documents.push((format!("check run {:?} text", run.name), text.clone()));
        }
    }
    documents
}
