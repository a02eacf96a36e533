//! Every SARIF file of `shared/corpus/security/` is read, or refused with a message naming the
//! file and the JSON path. Severity counts add up, and every finding has a tool and a rule.

use std::path::{Path, PathBuf};

use gantry_security_scan::sarif_input::read_sarif;
use gantry_security_scan::severity::Severity;

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
                let by_severity: usize = Severity::ALL
                    .iter()
                    .map(|severity| {
                        input
                            .findings
                            .iter()
                            .filter(|f| f.severity == *severity)
                            .count()
                    })
                    .sum();
                assert_eq!(
                    by_severity,
                    input.findings.len(),
                    "{name}: counts by severity add up"
                );
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

#[test]
fn trivy_sarif_findings_carry_cve_package_and_score() {
    let path = gantry_testkit::shared_dir()
        .join("corpus/security/sarif/trivy/trivy__alpine-3.10-image.sarif");
    let input = read_sarif("trivy.sarif", &std::fs::read(path).unwrap()).unwrap();
    assert!(!input.findings.is_empty());
    for finding in &input.findings {
        assert!(
            finding
                .vulnerability
                .as_deref()
                .is_some_and(|id| id.starts_with("CVE-")),
            "{finding:?}"
        );
        assert!(
            finding.package.is_some() && finding.version.is_some(),
            "{finding:?}"
        );
    }
    assert!(input.findings.iter().any(|finding| finding.score.is_some()));
}
