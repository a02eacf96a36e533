//! SARIF 2.1.0, the format code scanning reads, as typed values (from `serde-sarif`).
//!
//! Re-exported here so every action and the edge share one model and one version of it.

pub use serde_sarif::sarif::*;

/// The `$schema` every log we write declares.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The only SARIF version GitHub code scanning accepts.
pub const VERSION: &str = "2.1.0";

/// Why a SARIF log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SarifError {
    /// Not JSON, or not shaped like a SARIF log.
    #[error("not a SARIF log: {0}")]
    Invalid(#[from] serde_json::Error),
    /// A SARIF log of a version GitHub does not accept.
    #[error("SARIF version `{0}` is not supported (only 2.1.0 is)")]
    UnsupportedVersion(String),
}

/// Reads a SARIF 2.1.0 log (a leading UTF-8 byte-order mark is allowed).
pub fn parse_log(bytes: &[u8]) -> std::result::Result<Sarif, SarifError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let log: Sarif = serde_json::from_slice(bytes)?;
    let version = match serde_json::to_value(&log.version) {
        Ok(serde_json::Value::String(version)) => version,
        _ => String::new(),
    };
    if version != VERSION {
        return Err(SarifError::UnsupportedVersion(version));
    }
    Ok(log)
}

/// Code scanning's limit on runs in one upload.
pub const UPLOAD_MAX_RUNS: usize = 20;
/// Code scanning's limit on results in one run.
pub const UPLOAD_MAX_RESULTS_PER_RUN: usize = 25_000;

/// What code scanning would refuse in this log, before anything is sent: not SARIF 2.1.0, more
/// than [`UPLOAD_MAX_RUNS`] runs, more than [`UPLOAD_MAX_RESULTS_PER_RUN`] results in a run, or
/// two runs of one tool with one category (`automationDetails.id` up to its last `/`). Empty
/// when it would be taken. (The 10 MB gzipped limit is the edge's, which gzips.)
pub fn upload_problems(sarif: &str) -> Vec<String> {
    use serde_json::Value;
    let log: Value = match serde_json::from_str(sarif) {
        Ok(log) => log,
        Err(error) => return vec![format!("not JSON: {error}")],
    };
    let mut problems = Vec::new();
    if log.get("version").and_then(Value::as_str) != Some(VERSION) {
        problems.push(format!("the SARIF version is not {VERSION}"));
    }
    let Some(runs) = log.get("runs").and_then(Value::as_array) else {
        problems.push("no `runs` array".to_owned());
        return problems;
    };
    if runs.len() > UPLOAD_MAX_RUNS {
        problems.push(format!(
            "{} runs, more than the {UPLOAD_MAX_RUNS} code scanning takes in one upload",
            runs.len()
        ));
    }
    let mut identities = std::collections::BTreeSet::new();
    for (index, run) in runs.iter().enumerate() {
        let tool = run
            .pointer("/tool/driver/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let id = run
            .pointer("/automationDetails/id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // The category is the id up to its last `/` (what follows is the run's own id).
        let category = id.rsplit_once('/').map_or(id, |(category, _)| category);
        if !identities.insert((tool.to_owned(), category.to_owned())) {
            problems.push(format!(
                "runs[{index}]: a second run of tool `{tool}` with category `{category}` (code scanning takes one run per tool and category)"
            ));
        }
        let results = run
            .get("results")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if results > UPLOAD_MAX_RESULTS_PER_RUN {
            problems.push(format!(
                "runs[{index}]: {results} results, more than the {UPLOAD_MAX_RESULTS_PER_RUN} code scanning takes in one run"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_rules_are_checked_before_anything_is_sent() {
        let run = |tool: &str, category: &str, results: usize| {
            serde_json::json!({
                "tool": {"driver": {"name": tool}},
                "automationDetails": {"id": category},
                "results": vec![serde_json::json!({"message": {"text": "m"}}); results],
            })
        };
        let log = |runs: Vec<serde_json::Value>| {
            serde_json::json!({"version": "2.1.0", "runs": runs}).to_string()
        };
        assert!(upload_problems(&log(vec![run("a", "x/", 3), run("a", "y/", 1)])).is_empty());
        let doubled = upload_problems(&log(vec![run("a", "x/1", 0), run("a", "x/2", 0)]));
        assert_eq!(doubled.len(), 1, "{doubled:?}");
        assert!(doubled[0].contains("runs[1]") && doubled[0].contains("`x`"));
        let many = upload_problems(&log((0..21).map(|n| run(&n.to_string(), "", 0)).collect()));
        assert!(many[0].contains("21 runs"), "{many:?}");
        let big = upload_problems(&log(vec![run("a", "", UPLOAD_MAX_RESULTS_PER_RUN + 1)]));
        assert!(big[0].contains("25001 results"), "{big:?}");
        assert!(!upload_problems("{").is_empty());
        assert!(!upload_problems(r#"{"version":"2.0.0","runs":[]}"#).is_empty());
    }

    #[test]
    fn reads_a_minimal_log_with_a_bom() {
        let log = parse_log(b"\xEF\xBB\xBF{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"t\"}},\"results\":[]}]}").unwrap();
        assert_eq!(log.runs.len(), 1);
        assert_eq!(log.runs[0].tool.driver.name, "t");
    }

    #[test]
    fn refuses_other_versions_and_garbage() {
        assert!(matches!(
            parse_log(br#"{"version":"2.0.0","runs":[]}"#),
            Err(SarifError::UnsupportedVersion(v)) if v == "2.0.0"
        ));
        assert!(
            parse_log(b"{")
                .unwrap_err()
                .to_string()
                .starts_with("not a SARIF log")
        );
    }
}
