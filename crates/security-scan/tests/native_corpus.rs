//! Native reports of the corpus: recognised from their content and read; what is not supported
//! yet is refused with a message naming the file. Secret scanners' matches never come through.

use gantry_security_scan::input::read_report;
use gantry_security_scan::native::Format;
use gantry_security_scan::severity::Severity;

fn corpus_file(path: &str) -> (String, Vec<u8>) {
    let full = gantry_testkit::shared_dir()
        .join("corpus/security/native")
        .join(path);
    (path.to_owned(), std::fs::read(full).unwrap())
}

#[test]
fn supported_native_reports_are_recognised_and_read() {
    for (folder, format) in [
        ("trivy", Format::Trivy),
        ("grype", Format::Grype),
        ("bandit", Format::Bandit),
        ("semgrep", Format::Semgrep),
        ("gitleaks", Format::Gitleaks),
        ("snyk", Format::Snyk),
        ("npm-audit", Format::NpmAudit),
        ("cargo-audit", Format::CargoAudit),
        ("checkov", Format::Checkov),
        ("hadolint", Format::Hadolint),
        ("shellcheck", Format::Shellcheck),
        ("yarn-audit", Format::YarnAudit),
        ("zizmor", Format::Zizmor),
        ("pip-audit", Format::PipAudit),
        ("osv-scanner", Format::OsvScanner),
        ("tfsec", Format::Tfsec),
        ("gosec", Format::Gosec),
        ("kics", Format::Kics),
        ("reviewdog", Format::Rdjson),
        ("detect-secrets", Format::DetectSecrets),
        ("trufflehog", Format::Trufflehog),
        ("govulncheck", Format::Govulncheck),
        ("kube-linter", Format::KubeLinter),
        ("terrascan", Format::Terrascan),
    ] {
        let dir = gantry_testkit::shared_dir()
            .join("corpus/security/native")
            .join(folder);
        let mut read = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = format!("{folder}/{}", path.file_name().unwrap().to_string_lossy());
            match read_report(&name, &std::fs::read(&path).unwrap()) {
                Ok(input) => {
                    if input.format == Format::Nothing {
                        assert!(input.findings.is_empty() && !input.warnings.is_empty());
                        continue;
                    }
                    assert_eq!(input.format, format, "{name}");
                    read += 1;
                    for finding in &input.findings {
                        assert!(
                            !finding.rule_id.is_empty() && !finding.message.is_empty(),
                            "{name}"
                        );
                    }
                }
                Err(error) => assert!(
                    error.to_string().starts_with(&format!("{name}: ")),
                    "{error}"
                ),
            }
        }
        assert!(read > 0, "no {folder} report was read");
    }
}

#[test]
fn trivy_native_and_sarif_agree_on_the_same_scan() {
    let (name, native) = corpus_file("trivy/trivy__alpine-3.10-image.json");
    let native = read_report(&name, &native).unwrap();
    let sarif_path = gantry_testkit::shared_dir()
        .join("corpus/security/sarif/trivy/trivy__alpine-3.10-image.sarif");
    let sarif = read_report("trivy.sarif", &std::fs::read(sarif_path).unwrap()).unwrap();
    let ids = |findings: &[gantry_security_scan::finding::Finding]| {
        let mut ids: Vec<(String, String)> = findings
            .iter()
            .map(|f| {
                (
                    f.vulnerability.clone().unwrap_or_default(),
                    f.package.clone().unwrap_or_default(),
                )
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    assert_eq!(
        ids(&native.findings),
        ids(&sarif.findings),
        "the same vulnerabilities and packages"
    );
}

#[test]
fn gitleaks_secrets_are_never_kept() {
    for file in [
        "gitleaks/gitleaks__v8-simple.json",
        "gitleaks/gitleaks__data-many.json",
    ] {
        let (name, bytes) = corpus_file(file);
        let raw: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let input = read_report(&name, &bytes).unwrap();
        assert!(!input.findings.is_empty());
        let secrets: Vec<&str> = raw
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|leak| {
                ["Secret", "Match", "offender", "line"].map(|key| leak[key].as_str().unwrap_or(""))
            })
            .filter(|secret| secret.len() >= 8)
            .collect();
        let written = serde_json::to_string(&input.findings).unwrap();
        for secret in secrets {
            assert!(!written.contains(secret), "{name}: a secret came through");
        }
        assert!(
            input
                .findings
                .iter()
                .all(|finding| finding.severity == Severity::High)
        );
    }
}

#[test]
fn bad_reports_are_refused_naming_the_file() {
    for (bytes, expected) in [
        (&b""[..], "x.json: the file is empty"),
        (
            &b"{\"SchemaVersion\": 2, \"Results\": ["[..],
            "x.json: not valid JSON at line 1",
        ),
        (
            &b"{\"hello\": 1}"[..],
            "x.json: not a report format gantry knows (an object with keys hello)",
        ),
        (
            &b"[1, 2]"[..],
            "x.json: not a report format gantry knows (a list of 2 item(s))",
        ),
    ] {
        let error = read_report("x.json", bytes).unwrap_err().to_string();
        assert!(error.starts_with(expected), "{error}");
    }
}

#[test]
fn dependency_findings_carry_ids_packages_and_scores() {
    let (name, bytes) = corpus_file("snyk/snyk__single-project-one-vuln.json");
    let snyk = read_report(&name, &bytes).unwrap();
    assert_eq!(
        snyk.findings[0].vulnerability.as_deref(),
        Some("CVE-2019-12400")
    );
    assert_eq!(snyk.findings[0].score, Some(6.5));
    assert_eq!(snyk.findings[0].severity, Severity::Medium);

    let (name, bytes) = corpus_file("cargo-audit/cargo-audit__many-findings-cvss.json");
    let cargo = read_report(&name, &bytes).unwrap();
    assert!(
        cargo.findings.iter().any(|finding| finding.score.is_some()),
        "scores computed from CVSS vectors"
    );
    assert!(
        cargo
            .findings
            .iter()
            .all(|finding| finding.package.is_some() && finding.version.is_some())
    );

    let (name, bytes) = corpus_file("npm-audit/npm-audit-v7__one-vuln.json");
    let npm = read_report(&name, &bytes).unwrap();
    assert!(
        npm.findings.iter().all(|finding| finding
            .vulnerability
            .as_deref()
            .is_some_and(|id| id.starts_with("GHSA-"))),
        "{:?}",
        npm.findings
    );
}

#[test]
fn checkov_failures_are_not_all_high() {
    let (name, bytes) = corpus_file("checkov/checkov__checkov-report-many-vuln.json");
    let checkov = read_report(&name, &bytes).unwrap();
    assert!(!checkov.findings.is_empty());
    assert!(
        checkov
            .findings
            .iter()
            .all(|finding| finding.severity <= Severity::Medium
                || finding.severity_source
                    == gantry_security_scan::severity::SeveritySource::ToolWord)
    );
    let (name, bytes) = corpus_file("yarn-audit/yarn-audit__yarn-audit-many-vul.jsonl");
    let yarn = read_report(&name, &bytes).unwrap();
    assert!(
        yarn.findings
            .iter()
            .all(|finding| finding.package.is_some())
    );
}

#[test]
fn newer_readers_keep_places_ids_and_severities() {
    let (name, bytes) = corpus_file("zizmor/zizmor__json-v1.json");
    let zizmor = read_report(&name, &bytes).unwrap();
    assert_eq!(zizmor.findings.len(), 7);
    let first = &zizmor.findings[0];
    assert_eq!(first.rule_id, "template-injection");
    // The primary location, 0-based row 18 → line 19.
    assert_eq!(
        (first.location.start_line, first.location.start_column),
        (Some(19), Some(40))
    );
    assert_eq!(first.severity, Severity::High);
    assert_eq!(zizmor.findings[6].severity, Severity::Note);

    let (name, bytes) = corpus_file("pip-audit/pip-audit__many-vulns-new.json");
    let new_shape = read_report(&name, &bytes).unwrap();
    let (name, bytes) = corpus_file("pip-audit/pip-audit__many-vulns.json");
    let old_shape = read_report(&name, &bytes).unwrap();
    assert!(!new_shape.findings.is_empty());
    assert!(
        new_shape
            .findings
            .iter()
            .all(|f| f.package.is_some() && f.vulnerability.is_some())
    );
    assert_eq!(old_shape.format, Format::PipAudit);

    let (name, bytes) = corpus_file("osv-scanner/osv-scanner__some-findings.json");
    let osv = read_report(&name, &bytes).unwrap();
    assert_eq!(osv.findings.len(), 1);
    assert_eq!(
        osv.findings[0].vulnerability.as_deref(),
        Some("GHSA-8348-2q94-ffjx")
    );
    assert_eq!(
        osv.findings[0].severity,
        Severity::Critical,
        "malicious package"
    );

    let (name, bytes) = corpus_file("tfsec/tfsec__many-findings-legacy.json");
    let legacy = read_report(&name, &bytes).unwrap();
    assert_eq!(
        legacy.findings.len(),
        3,
        "the passed check is not a finding"
    );
    let (name, bytes) = corpus_file("tfsec/tfsec__no-findings.json");
    assert!(read_report(&name, &bytes).unwrap().findings.is_empty());

    let (name, bytes) = corpus_file("kics/kics__many-findings.json");
    assert_eq!(read_report(&name, &bytes).unwrap().findings.len(), 18);
    let (name, bytes) = corpus_file("gosec/gosec__many-vulns.json");
    assert_eq!(read_report(&name, &bytes).unwrap().findings.len(), 28);
    let (name, bytes) = corpus_file("reviewdog/rdjson__custom.json");
    let reviewdog = read_report(&name, &bytes).unwrap();
    assert_eq!(reviewdog.findings.len(), 15);
}

#[test]
fn every_native_corpus_file_is_read_or_refused_naming_the_file() {
    let root = gantry_testkit::shared_dir().join("corpus/security/native");
    let mut refused = Vec::new();
    for folder in std::fs::read_dir(&root).unwrap() {
        let folder = folder.unwrap().path();
        for file in std::fs::read_dir(&folder).unwrap() {
            let path = file.unwrap().path();
            let name = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if let Err(error) = read_report(&name, &std::fs::read(&path).unwrap()) {
                let message = error.to_string();
                assert!(message.starts_with(&format!("{name}: ")), "{message}");
                refused.push(name);
            }
        }
    }
    refused.sort();
    // What is refused today is refused on purpose: name it here so a change is seen.
    assert_eq!(
        refused,
        [
            // Prisma Cloud's platform export, not checkov's CLI output.
            "checkov/checkov__secrets-masking-with-pass.json",
            // A lint format: quality-gate reads it.
            "clippy/cargo-clippy__message-format-json.jsonl",
            // Semgrep App's API export, not the CLI's.
            "semgrep/semgrep__sca-deployments-vulns.json",
        ]
    );
}
