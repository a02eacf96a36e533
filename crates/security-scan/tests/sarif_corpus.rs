//! Every SARIF file of `shared/corpus/security/` is read, or refused with a message naming the
//! file and the JSON path. Every finding has a tool and a rule; the number of findings equals
//! the corpus's own count of results (`PROVENANCE.md`, counted when the corpus was gathered);
//! and findings scored with `security-severity` fall in GitHub's documented bands, counted here
//! from the raw JSON without the reader.

use std::path::{Path, PathBuf};

use gantry_security_scan::sarif_input::read_sarif;
use gantry_security_scan::severity::{Severity, SeveritySource};

fn sarif_files(folder: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sarif_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "sarif") {
            found.push(path);
        }
    }
}

#[test]
fn every_sarif_file_is_read_or_refused_clearly() {
    let root = gantry_testkit::shared_dir().join("corpus/security");
    let mut files = Vec::new();
    sarif_files(&root, &mut files);
    files.sort();
    assert!(files.len() > 60, "{} SARIF files", files.len());
    let (mut read, mut refused, mut findings) = (0, 0, 0usize);
    for path in &files {
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        match read_sarif(&name, &std::fs::read(path).unwrap()) {
            Ok(input) => {
                read += 1;
                for finding in &input.findings {
                    assert!(
                        !finding.tool.is_empty() && !finding.rule_id.is_empty(),
                        "{name}"
                    );
                    assert!(
                        finding
                            .score
                            .is_none_or(|score| (0.0..=10.0).contains(&score)),
                        "{name}"
                    );
                }
                for warning in &input.warnings {
                    assert!(warning.starts_with(&format!("{name}: ")), "{warning}");
                }
                findings += input.findings.len();
            }
            Err(error) => {
                refused += 1;
                assert!(
                    error.to_string().starts_with(&format!("{name}: ")),
                    "{error}"
                );
            }
        }
    }
    assert!(read > refused, "read {read}, refused {refused}");
    assert!(findings > 1_000, "{findings} findings");
}

/// The corpus's own count of results per SARIF file, for the files it calls schema-valid:
/// `| `path` | … | SARIF valid runs=1 results=2 tools=[…] |`.
fn provenance_counts() -> Vec<(String, usize)> {
    let table =
        std::fs::read_to_string(gantry_testkit::shared_dir().join("corpus/security/PROVENANCE.md"))
            .unwrap();
    table
        .lines()
        .filter(|line| line.contains("SARIF valid"))
        .map(|line| {
            let path = line.split('`').nth(1).unwrap().to_owned();
            let results = line
                .split_whitespace()
                .find_map(|word| word.strip_prefix("results="))
                .unwrap()
                .parse()
                .unwrap();
            (path, results)
        })
        .collect()
}

#[test]
fn findings_are_as_many_as_the_corpus_counted_results() {
    let root = gantry_testkit::shared_dir().join("corpus/security");
    let counts = provenance_counts();
    assert!(counts.len() >= 80, "{} files counted", counts.len());
    let mut mismatches = Vec::new();
    for (name, results) in &counts {
        let bytes = std::fs::read(root.join(name)).unwrap();
        match read_sarif(name, &bytes) {
            Ok(input) if input.findings.len() == *results => {}
            Ok(input) => mismatches.push(format!(
                "{name}: {} finding(s), the corpus counted {results} result(s)",
                input.findings.len()
            )),
            Err(error) => mismatches.push(format!("{name}: valid SARIF refused: {error}")),
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// GitHub's bands for `security-severity` (code scanning docs: over 9.0 critical, 7.0 to 8.9
/// high, 4.0 to 6.9 medium, 0.1 to 3.9 low), written out again here rather than borrowed.
fn github_band(score: f64) -> Option<Severity> {
    match score {
        s if s > 10.0 || s.is_nan() => None,
        s if s >= 9.0 => Some(Severity::Critical),
        s if s >= 7.0 => Some(Severity::High),
        s if s >= 4.0 => Some(Severity::Medium),
        s if s > 0.0 => Some(Severity::Low),
        0.0 => Some(Severity::Note),
        _ => None,
    }
}

const SCORE_KEYS: [&str; 5] = [
    "security-severity",
    "cvssv3_baseScore",
    "cvss_score",
    "cvssScore",
    "cvss",
];

/// For each result of a SARIF log, in order: the band of its rule's `security-severity` (rule by
/// `ruleIndex`, else `ruleId` among the driver's rules), when the result carries no score of
/// its own that would take precedence.
fn expected_bands(log: &serde_json::Value) -> Vec<Option<Severity>> {
    let mut bands = Vec::new();
    for run in log["runs"].as_array().into_iter().flatten() {
        let rules = run["tool"]["driver"]["rules"].as_array();
        for result in run["results"].as_array().into_iter().flatten() {
            let own_score = SCORE_KEYS
                .iter()
                .any(|key| !result["properties"][key].is_null());
            let rule = result["ruleIndex"]
                .as_u64()
                .and_then(|index| rules?.get(usize::try_from(index).ok()?))
                .or_else(|| {
                    let id = result["ruleId"].as_str()?;
                    rules?.iter().find(|rule| rule["id"] == id)
                });
            let score = rule.and_then(|rule| match &rule["properties"]["security-severity"] {
                serde_json::Value::String(text) => text.trim().parse::<f64>().ok(),
                other => other.as_f64(),
            });
            bands.push(if own_score {
                None
            } else {
                score.and_then(github_band)
            });
        }
    }
    bands
}

#[test]
fn scored_findings_fall_in_githubs_bands_read_from_the_raw_json() {
    let root = gantry_testkit::shared_dir().join("corpus/security");
    let mut files = Vec::new();
    sarif_files(&root, &mut files);
    let (mut files_compared, mut compared) = (0, 0);
    let mut mismatches = Vec::new();
    for path in &files {
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let Ok(log) =
            serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}'))
        else {
            continue;
        };
        let Ok(input) = read_sarif(&name, &bytes) else {
            continue;
        };
        let expected = expected_bands(&log);
        // One finding per result, in order, where nothing was skipped.
        if expected.len() != input.findings.len() || expected.iter().all(Option::is_none) {
            continue;
        }
        files_compared += 1;
        for (index, (finding, band)) in input.findings.iter().zip(&expected).enumerate() {
            let Some(band) = band else { continue };
            compared += 1;
            if finding.severity != *band || finding.severity_source != SeveritySource::Score {
                mismatches.push(format!(
                    "{name}: result {index} ({}): ours {:?} from {:?}, GitHub's band {band:?}",
                    finding.rule_id, finding.severity, finding.severity_source
                ));
            }
        }
    }
    assert!(
        files_compared >= 8 && compared >= 40,
        "{files_compared} files, {compared} results compared"
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
