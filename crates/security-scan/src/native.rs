//! Scanners' native JSON, recognised from content (never from the file name), read into
//! [`Finding`]s: every format of [`Format::ALL`], named in [`SUPPORTED`] (which the `reports`
//! input's description and the "not a report format" error are built from). Secrets found by
//! secret scanners are never kept: a finding names the rule and the place, not the matched text.

/// The native formats, by the names their tools go by: one list for the docs, the `reports`
/// description and the errors (a test keeps it equal to [`Format::ALL`]).
macro_rules! supported_native {
    () => {
        "Trivy, Grype, Snyk, OSV-Scanner, npm audit, yarn audit, pip-audit, cargo audit, Bandit, Semgrep, gosec, Gitleaks, detect-secrets, Checkov, tfsec, KICS, Terrascan, KubeLinter, hadolint, ShellCheck, zizmor, TruffleHog, govulncheck and reviewdog (rdjson)"
    };
}
pub(crate) use supported_native;

/// The native formats gantry reads, as a sentence's list.
pub const SUPPORTED: &str = supported_native!();

use serde_json::Value;

use crate::finding::{Finding, Location, vulnerability_id};
use crate::severity::{Severity, SeveritySource};

/// A report format this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `null` or `[]`: what several tools write when they found nothing.
    Nothing,
    /// SARIF 2.1.0 from any tool.
    Sarif,
    /// `trivy … --format json`.
    Trivy,
    /// `grype -o json`.
    Grype,
    /// `bandit -f json`.
    Bandit,
    /// `semgrep --json`.
    Semgrep,
    /// `gitleaks --report-format json` (v6 to v8).
    Gitleaks,
    /// `snyk test --json` (open source and container; one project or `--all-projects`).
    Snyk,
    /// `npm audit --json`, npm 6 (`advisories`) and npm 7+ (`auditReportVersion: 2`).
    NpmAudit,
    /// `cargo audit --json`.
    CargoAudit,
    /// `checkov -o json` (one framework, or a list of them).
    Checkov,
    /// `hadolint -f json`.
    Hadolint,
    /// `shellcheck -f json` or `-f json1`.
    Shellcheck,
    /// `yarn audit --json` (JSON lines, read as a list of its lines).
    YarnAudit,
    /// `zizmor --format=json-v1` (or the older `--format=json`).
    Zizmor,
    /// `pip-audit -f json` (a list of dependencies, or `{"dependencies": […]}`).
    PipAudit,
    /// `osv-scanner --format json`.
    OsvScanner,
    /// `tfsec --format json` (current and legacy rule ids).
    Tfsec,
    /// `gosec -fmt json`.
    Gosec,
    /// `kics scan --report-formats json`.
    Kics,
    /// reviewdog's Diagnostic Format (`rdjson`), the lingua franca of reviewdog users.
    Rdjson,
    /// `detect-secrets scan` baseline JSON.
    DetectSecrets,
    /// `trufflehog … --json` (JSON lines).
    Trufflehog,
    /// `govulncheck -json` (a stream of messages).
    Govulncheck,
    /// `kube-linter lint --format json`.
    KubeLinter,
    /// `terrascan scan -o json`.
    Terrascan,
}

impl Format {
    /// Every format, in the order detection tries them.
    pub const ALL: [Self; 26] = [
        Self::Nothing,
        Self::Sarif,
        Self::Trivy,
        Self::Grype,
        Self::Bandit,
        Self::Semgrep,
        Self::Gitleaks,
        Self::Snyk,
        Self::NpmAudit,
        Self::CargoAudit,
        Self::Checkov,
        Self::Hadolint,
        Self::Shellcheck,
        Self::YarnAudit,
        Self::Zizmor,
        Self::PipAudit,
        Self::OsvScanner,
        Self::Tfsec,
        Self::Gosec,
        Self::Kics,
        Self::Rdjson,
        Self::DetectSecrets,
        Self::Trufflehog,
        Self::Govulncheck,
        Self::KubeLinter,
        Self::Terrascan,
    ];

    /// The tool's name as findings carry it.
    pub fn tool(self) -> &'static str {
        match self {
            Self::Nothing => "(no findings)",
            Self::Sarif => "SARIF",
            Self::Trivy => "Trivy",
            Self::Grype => "Grype",
            Self::Bandit => "Bandit",
            Self::Semgrep => "Semgrep",
            Self::Gitleaks => "Gitleaks",
            Self::Snyk => "Snyk",
            Self::NpmAudit => "npm audit",
            Self::CargoAudit => "cargo-audit",
            Self::Checkov => "Checkov",
            Self::Hadolint => "hadolint",
            Self::Shellcheck => "ShellCheck",
            Self::YarnAudit => "yarn audit",
            Self::Zizmor => "zizmor",
            Self::PipAudit => "pip-audit",
            Self::OsvScanner => "OSV-Scanner",
            Self::Tfsec => "tfsec",
            Self::Gosec => "gosec",
            Self::Kics => "KICS",
            Self::Rdjson => "reviewdog",
            Self::DetectSecrets => "detect-secrets",
            Self::Trufflehog => "TruffleHog",
            Self::Govulncheck => "govulncheck",
            Self::KubeLinter => "KubeLinter",
            Self::Terrascan => "Terrascan",
        }
    }
}

/// Whether a value is one Snyk project result.
fn is_snyk_project(value: &Value) -> bool {
    value.get("vulnerabilities").is_some_and(Value::is_array)
        && (value.get("packageManager").is_some() || value.get("ok").is_some())
}

fn is_pip_audit_dependency(item: &Value) -> bool {
    item["name"].is_string() && (item["vulns"].is_array() || item["skip_reason"].is_string())
}

/// A non-empty list whose every item satisfies `test`.
fn every_item(report: &Value, test: impl Fn(&Value) -> bool) -> bool {
    report
        .as_array()
        .is_some_and(|items| !items.is_empty() && items.iter().all(test))
}

/// Recognises a parsed report by its shape.
pub fn detect(report: &Value) -> Option<Format> {
    let has = |key: &str| report.get(key).is_some();
    match report {
        Value::Null => Some(Format::Nothing),
        Value::Array(items) if items.is_empty() => Some(Format::Nothing),
        Value::Object(_) if is_snyk_project(report) => Some(Format::Snyk),
        Value::Array(_) if every_item(report, is_snyk_project) => Some(Format::Snyk),
        Value::Object(_) if has("auditReportVersion") && has("vulnerabilities") => {
            Some(Format::NpmAudit)
        }
        Value::Object(_) if has("advisories") && has("actions") => Some(Format::NpmAudit),
        Value::Object(_) if has("database") && report["vulnerabilities"].get("list").is_some() => {
            Some(Format::CargoAudit)
        }
        Value::Object(_) if has("check_type") && has("results") => Some(Format::Checkov),
        Value::Array(_)
            if every_item(report, |item| {
                item.get("check_type").is_some() && item.get("results").is_some()
            }) =>
        {
            Some(Format::Checkov)
        }
        Value::Object(_)
            if report["comments"].is_array()
                && report.as_object().is_some_and(|map| map.len() == 1) =>
        {
            Some(Format::Shellcheck)
        }
        Value::Array(_)
            if every_item(report, |item| {
                item["code"].is_string()
                    && item.get("file").is_some()
                    && item.get("level").is_some()
            }) =>
        {
            Some(Format::Hadolint)
        }
        Value::Array(_)
            if every_item(report, |item| {
                item["code"].is_number()
                    && item.get("file").is_some()
                    && item.get("level").is_some()
            }) =>
        {
            Some(Format::Shellcheck)
        }
        Value::Array(_)
            if every_item(report, |item| {
                item["type"].is_string() && item.get("data").is_some()
            }) =>
        {
            Some(Format::YarnAudit)
        }
        Value::Array(_)
            if every_item(report, |item| {
                item["ident"].is_string() && item.get("determinations").is_some()
            }) =>
        {
            Some(Format::Zizmor)
        }
        Value::Array(_) if every_item(report, is_pip_audit_dependency) => Some(Format::PipAudit),
        Value::Object(_)
            if report.as_object().is_some_and(|map| map.len() <= 2)
                && report["dependencies"].is_array()
                && report["dependencies"]
                    .as_array()
                    .is_some_and(|items| items.iter().all(is_pip_audit_dependency)) =>
        {
            Some(Format::PipAudit)
        }
        Value::Object(_)
            if every_item(&report["results"], |item| {
                item.get("source").is_some() && item["packages"].is_array()
            }) =>
        {
            Some(Format::OsvScanner)
        }
        Value::Object(_)
            if every_item(&report["results"], |item| {
                item["rule_id"].is_string() && item.get("location").is_some()
            }) || (report.as_object().is_some_and(|map| map.len() == 1)
                && report.get("results") == Some(&Value::Null)) =>
        {
            Some(Format::Tfsec)
        }
        Value::Object(_) if report["Issues"].is_array() && has("Stats") => Some(Format::Gosec),
        Value::Object(_)
            if report["queries"].is_array()
                && (has("kics_version") || has("scan_id") || has("severity_counters")) =>
        {
            Some(Format::Kics)
        }
        Value::Object(_)
            if report["diagnostics"].is_array()
                && report["diagnostics"].as_array().is_some_and(|items| {
                    items.iter().all(|item| item.get("message").is_some())
                }) =>
        {
            Some(Format::Rdjson)
        }
        Value::Object(_) if has("plugins_used") && report["results"].is_object() => {
            Some(Format::DetectSecrets)
        }
        Value::Array(_)
            if every_item(report, |item| {
                item.get("DetectorName").is_some() && item.get("SourceMetadata").is_some()
            }) =>
        {
            Some(Format::Trufflehog)
        }
        Value::Array(_)
            if every_item(report, |item| {
                item.as_object().is_some_and(|map| {
                    map.len() == 1
                        && map.keys().all(|key| {
                            matches!(
                                key.as_str(),
                                "config" | "progress" | "osv" | "finding" | "SBOM"
                            )
                        })
                })
            }) && report[0]["config"]["scanner_name"].as_str() == Some("govulncheck") =>
        {
            Some(Format::Govulncheck)
        }
        Value::Object(_) if report["Reports"].is_array() && has("Checks") => {
            Some(Format::KubeLinter)
        }
        Value::Object(_)
            if report["results"].is_object()
                && (report["results"].get("violations").is_some()
                    || report["results"].get("scan_summary").is_some()) =>
        {
            Some(Format::Terrascan)
        }
        Value::Object(_) if has("runs") && (has("version") || has("$schema")) => {
            Some(Format::Sarif)
        }
        Value::Object(_) if has("SchemaVersion") && (has("Results") || has("ArtifactName")) => {
            Some(Format::Trivy)
        }
        Value::Object(_)
            if has("ClusterName") && (has("Vulnerabilities") || has("Misconfigurations")) =>
        {
            Some(Format::Trivy)
        }
        Value::Array(_)
            if every_item(report, |item| {
                item["Target"].is_string()
                    && (item.get("Vulnerabilities").is_some()
                        || item.get("Misconfigurations").is_some()
                        || item.get("Type").is_some())
            }) =>
        {
            Some(Format::Trivy)
        }
        Value::Object(_)
            if has("matches") && report["descriptor"]["name"].as_str() == Some("grype") =>
        {
            Some(Format::Grype)
        }
        Value::Object(_) if has("results") && has("metrics") && has("generated_at") => {
            Some(Format::Bandit)
        }
        Value::Object(_)
            if has("results")
                && report["results"].as_array().is_some_and(|results| {
                    results
                        .iter()
                        .all(|result| result.get("check_id").is_some())
                })
                && (has("errors") || has("paths") || has("version")) =>
        {
            Some(Format::Semgrep)
        }
        Value::Array(_)
            if every_item(report, |item| {
                (item.get("RuleID").is_some() && item.get("File").is_some())
                    || (item.get("rule").is_some() && item.get("offender").is_some())
            }) =>
        {
            Some(Format::Gitleaks)
        }
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

fn line(value: &Value) -> Option<u32> {
    value
        .as_u64()
        .filter(|line| *line > 0)
        .and_then(|line| u32::try_from(line).ok())
}

fn finding(
    tool: &str,
    rule_id: String,
    title: String,
    message: String,
    severity: (Severity, SeveritySource, Option<f64>),
    location: Location,
) -> Finding {
    Finding {
        tool: tool.to_owned(),
        vulnerability: vulnerability_id(&rule_id),
        rule_id,
        package: None,
        version: None,
        severity: severity.0,
        severity_source: severity.1,
        score: severity.2,
        title,
        message,
        location,
        fingerprints: std::collections::BTreeMap::new(),
        help_uri: None,
        suppressed_in_source: false,
    }
}

/// A word severity, or the given fallback when the word says nothing.
fn by_word(word: Option<&str>, fallback: Severity) -> (Severity, SeveritySource, Option<f64>) {
    match word.and_then(Severity::from_word) {
        Some(severity) => (severity, SeveritySource::ToolWord, None),
        None => (fallback, SeveritySource::Level, None),
    }
}

/// Reads a native report of a known format into findings.
pub fn read_native(format: Format, report: &Value) -> Vec<Finding> {
    match format {
        Format::Sarif | Format::Nothing => Vec::new(),
        Format::Trivy => trivy(report),
        Format::Grype => grype(report),
        Format::Bandit => bandit(report),
        Format::Semgrep => semgrep(report),
        Format::Gitleaks => gitleaks(report),
        Format::Snyk => snyk(report),
        Format::NpmAudit => npm_audit(report),
        Format::CargoAudit => cargo_audit(report),
        Format::Checkov => checkov(report),
        Format::Hadolint => lint_list("hadolint", report, |item| text(&item["code"])),
        Format::Shellcheck => lint_list(
            "ShellCheck",
            if report.is_object() {
                &report["comments"]
            } else {
                report
            },
            |item| item["code"].as_u64().map(|code| format!("SC{code}")),
        ),
        Format::YarnAudit => yarn_audit(report),
        Format::Zizmor => zizmor(report),
        Format::PipAudit => pip_audit(report),
        Format::OsvScanner => osv_scanner(report),
        Format::Tfsec => tfsec(report),
        Format::Gosec => gosec(report),
        Format::Kics => kics(report),
        Format::Rdjson => rdjson(report),
        Format::DetectSecrets => detect_secrets(report),
        Format::Trufflehog => trufflehog(report),
        Format::Govulncheck => govulncheck(report),
        Format::KubeLinter => kube_linter(report),
        Format::Terrascan => terrascan(report),
    }
}

/// A level word of a linter (`error`, `warning`, `info`, `style`) as a SARIF level.
fn lint_level(level: Option<&str>) -> (Severity, SeveritySource, Option<f64>) {
    let level = match level.unwrap_or("warning") {
        "error" => "error",
        "warning" => "warning",
        _ => "note",
    };
    (
        Severity::from_sarif_level(level),
        SeveritySource::Level,
        None,
    )
}

/// hadolint and `ShellCheck`: a list of `{file, line, column, code, level, message}`.
fn lint_list(tool: &str, list: &Value, code: impl Fn(&Value) -> Option<String>) -> Vec<Finding> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let id = code(item).unwrap_or_else(|| "(no code)".to_owned());
            let message = text(&item["message"]).unwrap_or_else(|| id.clone());
            let location = Location {
                path: text(&item["file"])
                    .map(|path| path.replace('\\', "/").trim_start_matches("./").to_owned()),
                start_line: line(&item["line"]),
                end_line: line(&item["endLine"]).or_else(|| line(&item["line"])),
                start_column: line(&item["column"]),
                end_column: line(&item["endColumn"]),
            };
            finding(
                tool,
                id,
                message.lines().next().unwrap_or_default().to_owned(),
                message,
                lint_level(item["level"].as_str()),
                location,
            )
        })
        .collect()
}

fn checkov(report: &Value) -> Vec<Finding> {
    let frameworks: Vec<&Value> = match report {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut findings = Vec::new();
    for framework in frameworks {
        for check in framework["results"]["failed_checks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let id = text(&check["check_id"]).unwrap_or_else(|| "(no id)".to_owned());
            let title = text(&check["check_name"]).unwrap_or_else(|| id.clone());
            let resource = text(&check["resource"]).unwrap_or_default();
            let range = check["file_line_range"].as_array();
            let location = Location {
                path: text(&check["repo_file_path"])
                    .or_else(|| text(&check["file_path"]))
                    .map(|path| path.trim_start_matches('/').to_owned()),
                start_line: range.and_then(|range| range.first()).and_then(line),
                end_line: range.and_then(|range| range.get(1)).and_then(line),
                ..Location::default()
            };
            // Checkov's own `severity` when its platform filled it in; otherwise a failed check is
            // a medium, not the "error" every Checkov result carries in SARIF.
            let severity = by_word(check["severity"].as_str(), Severity::Medium);
            let message = if resource.is_empty() {
                title.clone()
            } else {
                format!("{resource}: {title}")
            };
            let mut item = finding("Checkov", id, title, message, severity, location);
            item.help_uri = text(&check["guideline"]);
            findings.push(item);
        }
    }
    findings
}

fn yarn_audit(lines: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for line in lines
        .as_array()
        .into_iter()
        .flatten()
        .filter(|line| line["type"] == "auditAdvisory")
    {
        let advisory = &line["data"]["advisory"];
        let package = text(&advisory["module_name"]);
        let id = advisory["cves"]
            .as_array()
            .and_then(|cves| cves.first())
            .and_then(text)
            .or_else(|| text(&advisory["github_advisory_id"]))
            .unwrap_or_else(|| format!("npm-{}", advisory["id"]));
        let title = text(&advisory["title"]).unwrap_or_else(|| id.clone());
        let version = advisory["findings"]
            .as_array()
            .and_then(|found| found.first())
            .and_then(|found| text(&found["version"]));
        let message = format!(
            "{} {}: {title}",
            package.as_deref().unwrap_or("?"),
            version.as_deref().unwrap_or("?")
        );
        let mut item = finding(
            "yarn audit",
            id,
            title,
            message,
            by_word(advisory["severity"].as_str(), Severity::Medium),
            Location {
                path: Some("yarn.lock".to_owned()),
                ..Location::default()
            },
        );
        item.package = package;
        item.version = version;
        item.help_uri = text(&advisory["url"]);
        findings.push(item);
    }
    findings
}

/// Score first (a number, or a CVSS v3 vector computed), then the word.
fn scored(
    score: Option<f64>,
    vector: Option<&str>,
    word: Option<&str>,
    fallback: Severity,
) -> (Severity, SeveritySource, Option<f64>) {
    let score = score.or_else(|| vector.and_then(crate::severity::cvss3_base_score));
    match score.and_then(|score| Severity::from_score(score).map(|severity| (severity, score))) {
        Some((severity, score)) => (severity, SeveritySource::Score, Some(score)),
        None => by_word(word, fallback),
    }
}

fn snyk(report: &Value) -> Vec<Finding> {
    let projects: Vec<&Value> = match report {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut findings = Vec::new();
    for project in projects {
        let target = text(&project["displayTargetFile"]).or_else(|| text(&project["path"]));
        for vulnerability in project["vulnerabilities"].as_array().into_iter().flatten() {
            let id = text(&vulnerability["id"]).unwrap_or_else(|| "(no id)".to_owned());
            let identifiers = &vulnerability["identifiers"];
            let cve = ["CVE", "GHSA"].iter().find_map(|scheme| {
                identifiers[*scheme]
                    .as_array()
                    .and_then(|ids| ids.first())
                    .and_then(text)
            });
            let severity = scored(
                vulnerability["cvssScore"].as_f64(),
                vulnerability["CVSSv3"].as_str(),
                vulnerability["severity"].as_str(),
                Severity::Medium,
            );
            let package = text(&vulnerability["packageName"]);
            let version = text(&vulnerability["version"]);
            let title = text(&vulnerability["title"]).unwrap_or_else(|| id.clone());
            let message = format!(
                "{} {} {}: {title}",
                package.as_deref().unwrap_or("?"),
                version.as_deref().unwrap_or("?"),
                cve.as_deref().unwrap_or(&id)
            );
            let mut item = finding(
                "Snyk",
                id,
                title,
                message,
                severity,
                Location {
                    path: target.clone(),
                    ..Location::default()
                },
            );
            item.vulnerability = cve
                .as_deref()
                .and_then(vulnerability_id)
                .or(item.vulnerability);
            item.package = package;
            item.version = version;
            findings.push(item);
        }
    }
    findings
}

fn npm_audit(report: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(vulnerabilities) = report["vulnerabilities"].as_object() {
        // npm 7+: per package, `via` lists the advisories (objects) or other packages (strings).
        for (package, entry) in vulnerabilities {
            for advisory in entry["via"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|via| via.is_object())
            {
                let url = text(&advisory["url"]);
                let id = url
                    .as_deref()
                    .and_then(vulnerability_id)
                    .or_else(|| {
                        advisory["source"]
                            .as_u64()
                            .map(|source| format!("npm-{source}"))
                    })
                    .unwrap_or_else(|| "(no id)".to_owned());
                let severity = scored(
                    advisory["cvss"]["score"]
                        .as_f64()
                        .filter(|score| *score > 0.0),
                    advisory["cvss"]["vectorString"].as_str(),
                    advisory["severity"].as_str(),
                    Severity::Medium,
                );
                let title = text(&advisory["title"]).unwrap_or_else(|| id.clone());
                let range = text(&advisory["range"]).unwrap_or_default();
                let message = format!("{package} {range}: {title}");
                let mut item = finding(
                    "npm audit",
                    id,
                    title,
                    message,
                    severity,
                    Location {
                        path: Some("package-lock.json".to_owned()),
                        ..Location::default()
                    },
                );
                item.package = Some(package.clone());
                item.help_uri = url;
                findings.push(item);
            }
        }
    }
    if let Some(advisories) = report["advisories"].as_object() {
        // npm 6: one advisory, possibly several installed versions.
        for advisory in advisories.values() {
            let package = text(&advisory["module_name"]);
            let id = advisory["cves"]
                .as_array()
                .and_then(|cves| cves.first())
                .and_then(text)
                .or_else(|| advisory["github_advisory_id"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("npm-{}", advisory["id"]));
            let title = text(&advisory["title"]).unwrap_or_else(|| id.clone());
            let versions: Vec<String> = advisory["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|found| text(&found["version"]))
                .collect();
            for version in if versions.is_empty() {
                vec![None]
            } else {
                versions.into_iter().map(Some).collect()
            } {
                let message = format!(
                    "{} {}: {title}",
                    package.as_deref().unwrap_or("?"),
                    version.as_deref().unwrap_or("?")
                );
                let mut item = finding(
                    "npm audit",
                    id.clone(),
                    title.clone(),
                    message,
                    by_word(advisory["severity"].as_str(), Severity::Medium),
                    Location {
                        path: Some("package-lock.json".to_owned()),
                        ..Location::default()
                    },
                );
                item.package.clone_from(&package);
                item.version = version;
                item.help_uri = text(&advisory["url"]);
                findings.push(item);
            }
        }
    }
    findings
}

fn cargo_audit(report: &Value) -> Vec<Finding> {
    report["vulnerabilities"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            let advisory = &entry["advisory"];
            let id = text(&advisory["id"]).unwrap_or_else(|| "(no id)".to_owned());
            let cve = advisory["aliases"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find_map(vulnerability_id);
            // RustSec advisories carry a CVSS vector at most; without one, medium.
            let severity = scored(None, advisory["cvss"].as_str(), None, Severity::Medium);
            let package = text(&entry["package"]["name"]).or_else(|| text(&advisory["package"]));
            let version = text(&entry["package"]["version"]);
            let title = text(&advisory["title"]).unwrap_or_else(|| id.clone());
            let message = format!(
                "{} {} {id}: {title}",
                package.as_deref().unwrap_or("?"),
                version.as_deref().unwrap_or("?")
            );
            let mut item = finding(
                "cargo-audit",
                id,
                title,
                message,
                severity,
                Location {
                    path: Some("Cargo.lock".to_owned()),
                    ..Location::default()
                },
            );
            item.vulnerability = cve.or(item.vulnerability);
            item.package = package;
            item.version = version;
            item.help_uri = text(&advisory["url"]);
            item
        })
        .collect()
}

/// The highest CVSS v3 score among Trivy's sources (NVD first when present).
fn trivy_score(vulnerability: &Value) -> Option<f64> {
    let cvss = vulnerability["CVSS"].as_object()?;
    cvss.get("nvd")
        .and_then(|nvd| nvd["V3Score"].as_f64())
        .or_else(|| {
            cvss.values()
                .filter_map(|source| source["V3Score"].as_f64())
                .reduce(f64::max)
        })
}

/// Trivy's shapes: a report with `Results` (schema 2), a bare list of results (before schema
/// versions), or a Kubernetes report whose resources each carry `Results`.
fn trivy(report: &Value) -> Vec<Finding> {
    if let Some(results) = report.as_array() {
        return trivy_results(results);
    }
    if report.get("ClusterName").is_some() {
        let mut findings = Vec::new();
        for section in ["Vulnerabilities", "Misconfigurations", "Resources"] {
            for resource in report[section].as_array().into_iter().flatten() {
                findings.extend(trivy_results(
                    resource["Results"]
                        .as_array()
                        .map_or(&[][..], Vec::as_slice),
                ));
            }
        }
        return findings;
    }
    trivy_results(report["Results"].as_array().map_or(&[][..], Vec::as_slice))
}

fn trivy_results(results: &[Value]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for result in results {
        let target = text(&result["Target"]);
        for vulnerability in result["Vulnerabilities"].as_array().into_iter().flatten() {
            let id =
                text(&vulnerability["VulnerabilityID"]).unwrap_or_else(|| "(no id)".to_owned());
            let severity = match trivy_score(vulnerability)
                .and_then(|score| Severity::from_score(score).map(|s| (s, score)))
            {
                Some((severity, score)) => (severity, SeveritySource::Score, Some(score)),
                None => by_word(vulnerability["Severity"].as_str(), Severity::Medium),
            };
            let package = text(&vulnerability["PkgName"]);
            let version = text(&vulnerability["InstalledVersion"]);
            let title = text(&vulnerability["Title"]).unwrap_or_else(|| id.clone());
            let message = format!(
                "{} {} {}: {}",
                package.as_deref().unwrap_or("?"),
                version.as_deref().unwrap_or("?"),
                id,
                text(&vulnerability["Description"]).unwrap_or_else(|| title.clone())
            );
            let mut item = finding(
                "Trivy",
                id,
                title,
                message,
                severity,
                Location {
                    path: target.clone(),
                    ..Location::default()
                },
            );
            item.package = package;
            item.version = version;
            item.help_uri = text(&vulnerability["PrimaryURL"]);
            findings.push(item);
        }
        for misconfiguration in result["Misconfigurations"].as_array().into_iter().flatten() {
            if misconfiguration["Status"]
                .as_str()
                .is_some_and(|status| status != "FAIL")
            {
                continue;
            }
            let id = text(&misconfiguration["AVDID"])
                .or_else(|| text(&misconfiguration["ID"]))
                .unwrap_or_else(|| "(no id)".to_owned());
            let cause = &misconfiguration["CauseMetadata"];
            let location = Location {
                path: target.clone(),
                start_line: line(&cause["StartLine"]),
                end_line: line(&cause["EndLine"]),
                ..Location::default()
            };
            let title = text(&misconfiguration["Title"]).unwrap_or_else(|| id.clone());
            let message = text(&misconfiguration["Message"]).unwrap_or_else(|| title.clone());
            let mut item = finding(
                "Trivy",
                id,
                title,
                message,
                by_word(misconfiguration["Severity"].as_str(), Severity::Medium),
                location,
            );
            item.help_uri = text(&misconfiguration["PrimaryURL"]);
            findings.push(item);
        }
        for secret in result["Secrets"].as_array().into_iter().flatten() {
            let id = text(&secret["RuleID"]).unwrap_or_else(|| "secret".to_owned());
            let title = text(&secret["Title"]).unwrap_or_else(|| id.clone());
            let location = Location {
                path: target.clone(),
                start_line: line(&secret["StartLine"]),
                end_line: line(&secret["EndLine"]),
                ..Location::default()
            };
            // Trivy's `Match` holds the secret itself (masked, but not always): never kept.
            let message = format!("{title} (secret not shown)");
            findings.push(finding(
                "Trivy",
                id,
                title,
                message,
                by_word(secret["Severity"].as_str(), Severity::High),
                location,
            ));
        }
    }
    findings
}

fn grype(report: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for matched in report["matches"].as_array().into_iter().flatten() {
        let vulnerability = &matched["vulnerability"];
        let artifact = &matched["artifact"];
        let id = text(&vulnerability["id"]).unwrap_or_else(|| "(no id)".to_owned());
        let score = vulnerability["cvss"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|cvss| {
                cvss["version"]
                    .as_str()
                    .is_none_or(|version| version.starts_with('3'))
            })
            .filter_map(|cvss| cvss["metrics"]["baseScore"].as_f64())
            .reduce(f64::max);
        let severity = match score.and_then(|score| Severity::from_score(score).map(|s| (s, score)))
        {
            Some((severity, score)) => (severity, SeveritySource::Score, Some(score)),
            None => by_word(vulnerability["severity"].as_str(), Severity::Medium),
        };
        let package = text(&artifact["name"]);
        let version = text(&artifact["version"]);
        let path = artifact["locations"]
            .as_array()
            .and_then(|locations| locations.first())
            .and_then(|location| text(&location["path"]));
        let title = text(&vulnerability["description"]).map_or_else(
            || id.clone(),
            |description| description.lines().next().unwrap_or_default().to_owned(),
        );
        let message = format!(
            "{} {} {id}",
            package.as_deref().unwrap_or("?"),
            version.as_deref().unwrap_or("?")
        );
        let mut item = finding(
            "Grype",
            id,
            title,
            message,
            severity,
            Location {
                path,
                ..Location::default()
            },
        );
        item.package = package;
        item.version = version;
        item.help_uri = text(&vulnerability["dataSource"]);
        findings.push(item);
    }
    findings
}

fn bandit(report: &Value) -> Vec<Finding> {
    report["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|result| {
            let id = text(&result["test_id"]).unwrap_or_else(|| "(no id)".to_owned());
            // Bandit's test names are families (`blacklist`); the issue text says what is wrong.
            let test_name = text(&result["test_name"]).unwrap_or_else(|| id.clone());
            let message = text(&result["issue_text"]).unwrap_or_else(|| test_name.clone());
            let title = message.lines().next().unwrap_or_default().to_owned();
            let start = line(&result["line_number"]);
            let end = result["line_range"]
                .as_array()
                .and_then(|range| range.last())
                .and_then(line)
                .or(start);
            let location = Location {
                path: text(&result["filename"])
                    .map(|path| path.trim_start_matches("./").to_owned()),
                start_line: start,
                end_line: end,
                start_column: result["col_offset"]
                    .as_u64()
                    .and_then(|column| u32::try_from(column + 1).ok()),
                end_column: None,
            };
            let mut item = finding(
                "Bandit",
                id,
                title,
                message,
                by_word(result["issue_severity"].as_str(), Severity::Low),
                location,
            );
            item.help_uri = text(&result["more_info"]);
            item
        })
        .collect()
}

fn semgrep(report: &Value) -> Vec<Finding> {
    report["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|result| {
            let id = text(&result["check_id"]).unwrap_or_else(|| "(no id)".to_owned());
            let extra = &result["extra"];
            let message = text(&extra["message"]).unwrap_or_else(|| id.clone());
            let title = message.lines().next().unwrap_or_default().to_owned();
            // Semgrep's ERROR/WARNING/INFO is a level; `impact` in the metadata is a risk word.
            let severity = if let Some(severity) = extra["metadata"]["impact"]
                .as_str()
                .and_then(Severity::from_word)
            {
                (severity, SeveritySource::ToolWord, None)
            } else {
                let level = match extra["severity"].as_str().unwrap_or("WARNING") {
                    "ERROR" | "CRITICAL" => "error",
                    "WARNING" => "warning",
                    _ => "note",
                };
                (
                    Severity::from_sarif_level(level),
                    SeveritySource::Level,
                    None,
                )
            };
            let location = Location {
                path: text(&result["path"]),
                start_line: line(&result["start"]["line"]),
                end_line: line(&result["end"]["line"]),
                start_column: line(&result["start"]["col"]),
                end_column: line(&result["end"]["col"]),
            };
            let mut item = finding("Semgrep", id, title, message, severity, location);
            item.suppressed_in_source = extra["is_ignored"].as_bool().unwrap_or(false);
            if let Some(fingerprint) =
                text(&extra["fingerprint"]).filter(|print| print != "requires login")
            {
                item.fingerprints.insert("semgrep".to_owned(), fingerprint);
            }
            item
        })
        .collect()
}

fn gitleaks(report: &Value) -> Vec<Finding> {
    report
        .as_array()
        .into_iter()
        .flatten()
        .map(|leak| {
            let v8 = leak.get("RuleID").is_some();
            let (rule, path, start, end) = if v8 {
                (text(&leak["RuleID"]), text(&leak["File"]), line(&leak["StartLine"]), line(&leak["EndLine"]))
            } else {
                (text(&leak["rule"]), text(&leak["file"]), line(&leak["lineNumber"]), None)
            };
            let rule = rule.unwrap_or_else(|| "secret".to_owned());
            let description = text(&leak["Description"]).unwrap_or_else(|| rule.clone());
            // The match and the secret are never kept: a finding must not republish the leak.
            let message = format!("{description}: leaked credential found by rule `{rule}`; the matched text is not shown");
            let location = Location { path, start_line: start, end_line: end.or(start), ..Location::default() };
            let mut item = finding("Gitleaks", rule, description, message, (Severity::High, SeveritySource::ToolWord, None), location);
            if let Some(fingerprint) = text(&leak["Fingerprint"]) {
                item.fingerprints.insert("gitleaks".to_owned(), fingerprint);
            }
            item
        })
        .collect()
}

/// A dependency vulnerability without a score or word: a known vulnerability is at least worth
/// a look, so medium, decided from the weakest evidence.
const UNRATED_VULNERABILITY: (Severity, SeveritySource, Option<f64>) =
    (Severity::Medium, SeveritySource::Level, None);

fn zizmor(report: &Value) -> Vec<Finding> {
    report
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["ignored"].as_bool() != Some(true))
        .map(|item| {
            let id = text(&item["ident"]).unwrap_or_else(|| "(no id)".to_owned());
            let title = text(&item["desc"]).unwrap_or_else(|| id.clone());
            let locations = item["locations"].as_array();
            let primary = locations
                .and_then(|all| {
                    all.iter()
                        .find(|location| location["symbolic"]["kind"].as_str() == Some("Primary"))
                        .or_else(|| all.first())
                })
                .unwrap_or(&Value::Null);
            let key = &primary["symbolic"]["key"]["Local"];
            let path = text(&key["given_path"])
                .or_else(|| text(&key["verbatim_path"]))
                .or_else(|| text(&key["prefix"]));
            // zizmor's rows and columns count from 0.
            let point = |name: &str, part: &str| {
                primary["concrete"]["location"][name][part]
                    .as_u64()
                    .and_then(|value| u32::try_from(value + 1).ok())
            };
            let annotation = text(&primary["symbolic"]["annotation"]);
            let message = match &annotation {
                Some(annotation) => format!("{title}: {annotation}"),
                None => title.clone(),
            };
            let location = Location {
                path,
                start_line: point("start_point", "row"),
                end_line: point("end_point", "row"),
                start_column: point("start_point", "column"),
                end_column: point("end_point", "column"),
            };
            let mut found = finding(
                "zizmor",
                id,
                title,
                message,
                by_word(
                    item["determinations"]["severity"].as_str(),
                    Severity::Medium,
                ),
                location,
            );
            found.help_uri = text(&item["url"]);
            found
        })
        .collect()
}

/// One vulnerable package version, as a package auditor reports it.
struct Vulnerable<'r> {
    tool: &'r str,
    id: &'r str,
    aliases: Vec<String>,
    package: &'r str,
    version: Option<String>,
    /// The lock file or manifest, when the tool names it.
    path: Option<String>,
}

impl Vulnerable<'_> {
    /// The finding: its vulnerability id is a CVE among the aliases when there is one (so the
    /// same CVE from different databases is one finding).
    fn finding(
        self,
        title: String,
        message: String,
        severity: (Severity, SeveritySource, Option<f64>),
    ) -> Finding {
        let vulnerability = std::iter::once(self.id)
            .chain(self.aliases.iter().map(String::as_str))
            .filter_map(vulnerability_id)
            .min_by_key(|found| !found.starts_with("CVE-"));
        let mut found = finding(
            self.tool,
            self.id.to_owned(),
            title,
            message,
            severity,
            Location {
                path: self.path,
                ..Location::default()
            },
        );
        found.vulnerability = vulnerability.or_else(|| Some(self.id.to_owned()));
        found.package = Some(self.package.to_owned());
        found.version = self.version;
        found
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(text)
        .collect()
}

fn pip_audit(report: &Value) -> Vec<Finding> {
    let dependencies = report
        .get("dependencies")
        .unwrap_or(report)
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let mut findings = Vec::new();
    for dependency in dependencies {
        let name = text(&dependency["name"]).unwrap_or_else(|| "(unnamed)".to_owned());
        let version = text(&dependency["version"]);
        for vulnerability in dependency["vulns"].as_array().into_iter().flatten() {
            let id = text(&vulnerability["id"]).unwrap_or_else(|| "(no id)".to_owned());
            let fixes = strings(&vulnerability["fix_versions"]);
            let description = text(&vulnerability["description"]).unwrap_or_else(|| id.clone());
            let title = format!("{id} in {name} {}", version.as_deref().unwrap_or_default());
            let message = if fixes.is_empty() {
                format!("{description}\n\nNo fixed version is known.")
            } else {
                format!("{description}\n\nFixed in: {}.", fixes.join(", "))
            };
            let vulnerable = Vulnerable {
                tool: "pip-audit",
                id: &id,
                aliases: strings(&vulnerability["aliases"]),
                package: &name,
                version: version.clone(),
                path: None,
            };
            findings.push(vulnerable.finding(
                title.trim_end().to_owned(),
                message,
                UNRATED_VULNERABILITY,
            ));
        }
    }
    findings
}

/// The score of an OSV record: a CVSS vector's base score, or GHSA's word.
fn osv_severity(vulnerability: &Value) -> (Severity, SeveritySource, Option<f64>) {
    for entry in vulnerability["severity"].as_array().into_iter().flatten() {
        if let Some(score) = entry["score"]
            .as_str()
            .and_then(crate::severity::cvss3_base_score)
        {
            if let Some(severity) = Severity::from_score(score) {
                return (severity, SeveritySource::Score, Some(score));
            }
        }
    }
    match vulnerability["database_specific"]["severity"]
        .as_str()
        .and_then(Severity::from_word)
    {
        Some(severity) => (severity, SeveritySource::ToolWord, None),
        None if text(&vulnerability["id"]).is_some_and(|id| id.starts_with("MAL-")) => {
            // A malicious package is compromise on install.
            (Severity::Critical, SeveritySource::ToolWord, None)
        }
        None => UNRATED_VULNERABILITY,
    }
}

fn osv_scanner(report: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for result in report["results"].as_array().into_iter().flatten() {
        let source = text(&result["source"]["path"]);
        for package in result["packages"].as_array().into_iter().flatten() {
            let name = text(&package["package"]["name"]).unwrap_or_else(|| "(unnamed)".to_owned());
            let version = text(&package["package"]["version"]);
            for vulnerability in package["vulnerabilities"].as_array().into_iter().flatten() {
                let id = text(&vulnerability["id"]).unwrap_or_else(|| "(no id)".to_owned());
                let summary = text(&vulnerability["summary"]).unwrap_or_else(|| id.clone());
                let details = text(&vulnerability["details"]).unwrap_or_default();
                let vulnerable = Vulnerable {
                    tool: "OSV-Scanner",
                    id: &id,
                    aliases: strings(&vulnerability["aliases"]),
                    package: &name,
                    version: version.clone(),
                    path: source.clone(),
                };
                let message = if details.is_empty() {
                    summary.clone()
                } else {
                    details
                };
                let mut found = vulnerable.finding(summary, message, osv_severity(vulnerability));
                found.help_uri = Some(format!("https://osv.dev/vulnerability/{id}"));
                findings.push(found);
            }
        }
    }
    findings
}

fn tfsec(report: &Value) -> Vec<Finding> {
    report["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|result| {
            result["passed"].as_bool() != Some(true)
                && result["status"]
                    .as_str()
                    .is_none_or(|status| status != "passed")
        })
        .map(|result| {
            let id = text(&result["long_id"])
                .or_else(|| text(&result["rule_id"]))
                .unwrap_or_else(|| "(no id)".to_owned());
            let title = text(&result["rule_description"]).unwrap_or_else(|| id.clone());
            let message = text(&result["description"]).unwrap_or_else(|| title.clone());
            let word = result["severity"].as_str();
            // Legacy tfsec wrote levels (ERROR, WARNING, INFO), current tfsec risk words.
            let severity = match word {
                Some("ERROR" | "WARNING" | "INFO") => {
                    lint_level(word.map(str::to_ascii_lowercase).as_deref())
                }
                _ => by_word(word, Severity::Medium),
            };
            let location = Location {
                path: text(&result["location"]["filename"]),
                start_line: line(&result["location"]["start_line"]),
                end_line: line(&result["location"]["end_line"]),
                ..Location::default()
            };
            let mut found = finding("tfsec", id, title, message, severity, location);
            found.help_uri = result["links"]
                .as_array()
                .and_then(|links| links.first())
                .and_then(text);
            found
        })
        .collect()
}

fn gosec(report: &Value) -> Vec<Finding> {
    report["Issues"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|issue| {
            let id = text(&issue["rule_id"]).unwrap_or_else(|| "(no id)".to_owned());
            let message = text(&issue["details"]).unwrap_or_else(|| id.clone());
            // gosec writes lines as strings, a range as "12-14".
            let lines = issue["line"].as_str().unwrap_or_default();
            let mut bounds = lines
                .split('-')
                .filter_map(|part| part.trim().parse::<u32>().ok());
            let start = bounds.next().filter(|line| *line > 0);
            let end = bounds.next().or(start);
            let location = Location {
                path: text(&issue["file"]),
                start_line: start,
                end_line: end,
                start_column: issue["column"]
                    .as_str()
                    .and_then(|column| column.parse().ok())
                    .filter(|column| *column > 0),
                end_column: None,
            };
            let mut found = finding(
                "gosec",
                id,
                message.clone(),
                message,
                by_word(issue["severity"].as_str(), Severity::Medium),
                location,
            );
            found.help_uri = text(&issue["cwe"]["url"]);
            found
        })
        .collect()
}

fn kics(report: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for query in report["queries"].as_array().into_iter().flatten() {
        let id = text(&query["query_id"]).unwrap_or_else(|| "(no id)".to_owned());
        let title = text(&query["query_name"]).unwrap_or_else(|| id.clone());
        for file in query["files"].as_array().into_iter().flatten() {
            let expected = text(&file["expected_value"]).unwrap_or_default();
            let actual = text(&file["actual_value"]).unwrap_or_default();
            let mut message = title.clone();
            for (label, value) in [("Expected", expected), ("Actual", actual)] {
                if !value.is_empty() {
                    message.push('\n');
                    message.push_str(label);
                    message.push_str(": ");
                    message.push_str(&value);
                }
            }
            let location = Location {
                path: text(&file["file_name"]),
                start_line: line(&file["line"]),
                end_line: line(&file["line"]),
                ..Location::default()
            };
            let mut found = finding(
                "KICS",
                id.clone(),
                title.clone(),
                message,
                by_word(query["severity"].as_str(), Severity::Medium),
                location,
            );
            found.help_uri = text(&query["query_url"]);
            if let Some(similarity) = text(&file["similarity_id"]) {
                found.fingerprints.insert("kics".to_owned(), similarity);
            }
            findings.push(found);
        }
    }
    findings
}

fn rdjson(report: &Value) -> Vec<Finding> {
    let source = text(&report["source"]["name"]).unwrap_or_else(|| "reviewdog".to_owned());
    report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|diagnostic| {
            let tool = text(&diagnostic["source"]["name"]).unwrap_or_else(|| source.clone());
            let id = text(&diagnostic["code"]["value"]).unwrap_or_else(|| tool.clone());
            let message = text(&diagnostic["message"]).unwrap_or_else(|| id.clone());
            // Severity is a level (ERROR, WARNING, INFO); numbers are the enum and say nothing.
            let level = diagnostic["severity"].as_str().map(str::to_ascii_lowercase);
            let range = &diagnostic["location"]["range"];
            let location = Location {
                path: text(&diagnostic["location"]["path"]),
                start_line: line(&range["start"]["line"]),
                end_line: line(&range["end"]["line"]).or_else(|| line(&range["start"]["line"])),
                start_column: line(&range["start"]["column"]),
                end_column: line(&range["end"]["column"]),
            };
            let mut found = finding(
                &tool,
                id,
                message.lines().next().unwrap_or_default().to_owned(),
                message,
                lint_level(level.as_deref()),
                location,
            );
            found.help_uri = text(&diagnostic["code"]["url"]);
            found
        })
        .collect()
}

fn detect_secrets(report: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (file, secrets) in report["results"].as_object().into_iter().flatten() {
        for secret in secrets.as_array().into_iter().flatten() {
            // An entry audited as not a secret is not a finding.
            if secret["is_secret"].as_bool() == Some(false) {
                continue;
            }
            let kind = text(&secret["type"]).unwrap_or_else(|| "Secret".to_owned());
            let message = format!("{kind}: a possible credential; the matched text is not shown");
            let location = Location {
                path: Some(file.clone()),
                start_line: line(&secret["line_number"]),
                end_line: line(&secret["line_number"]),
                ..Location::default()
            };
            let found = finding(
                "detect-secrets",
                kind.clone(),
                kind,
                message,
                (Severity::High, SeveritySource::ToolWord, None),
                location,
            );
            // `hashed_secret` is an unsalted SHA-1 of the secret: not republished, even as a
            // fingerprint (a short secret falls to a dictionary).
            findings.push(found);
        }
    }
    findings
}

fn trufflehog(report: &Value) -> Vec<Finding> {
    report
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let detector = text(&item["DetectorName"]).unwrap_or_else(|| "secret".to_owned());
            let verified = item["Verified"].as_bool() == Some(true);
            // Where: the one source under `SourceMetadata.Data` (Git, Filesystem, GitHub, …).
            let source = item["SourceMetadata"]["Data"]
                .as_object()
                .and_then(|data| data.values().next())
                .unwrap_or(&Value::Null);
            let line_number = line(&source["line"]);
            let location = Location {
                path: text(&source["file"]),
                start_line: line_number,
                end_line: line_number,
                ..Location::default()
            };
            // `Raw`, `RawV2` and `Redacted` hold the secret: never kept.
            let message = format!(
                "{detector} credential{}; the matched text is not shown{}",
                if verified {
                    " that TruffleHog verified is live"
                } else {
                    " (not verified)"
                },
                text(&source["commit"])
                    .map(|commit| format!(" (commit {commit})"))
                    .unwrap_or_default()
            );
            finding(
                "TruffleHog",
                detector.clone(),
                format!("{detector} credential"),
                message,
                if verified {
                    (Severity::Critical, SeveritySource::ToolWord, None)
                } else {
                    (Severity::High, SeveritySource::ToolWord, None)
                },
                location,
            )
        })
        .collect()
}

/// govulncheck: one finding per vulnerability and module. Its severity says how far the
/// vulnerable code is reached — a call path from this code is high, an imported package low, a
/// required module only a note — since OSV records for Go carry no score.
fn govulncheck(report: &Value) -> Vec<Finding> {
    let items = report.as_array().map_or(&[][..], Vec::as_slice);
    let records: gantry_core::collections::FixedHashMap<&str, &Value> = items
        .iter()
        .filter_map(|item| {
            let osv = item.get("osv")?;
            Some((osv["id"].as_str()?, osv))
        })
        .collect();
    // (id, module) → (reach: 2 called, 1 imported, 0 required; the finding's trace).
    let mut best: std::collections::BTreeMap<(String, String), (u8, &Value)> =
        std::collections::BTreeMap::new();
    for finding in items.iter().filter_map(|item| item.get("finding")) {
        let Some(id) = finding["osv"].as_str() else {
            continue;
        };
        let first = &finding["trace"][0];
        let module = text(&first["module"]).unwrap_or_else(|| "(module)".to_owned());
        let reach = if first.get("function").is_some() {
            2
        } else {
            u8::from(first.get("package").is_some())
        };
        let entry = best
            .entry((id.to_owned(), module))
            .or_insert((reach, finding));
        if reach > entry.0 {
            *entry = (reach, finding);
        }
    }
    best.into_iter()
        .map(|((id, module), (reach, found))| {
            let record = records.get(id.as_str()).copied().unwrap_or(&Value::Null);
            let version = text(&found["trace"][0]["version"]);
            // The frame in this code: the last with a position.
            let position = found["trace"]
                .as_array()
                .and_then(|trace| trace.iter().rev().find(|frame| frame.get("position").is_some()))
                .map_or(&Value::Null, |frame| &frame["position"]);
            let summary = text(&record["summary"]).unwrap_or_else(|| id.clone());
            let how = match reach {
                2 => "your code calls the vulnerable function",
                1 => "your code imports the vulnerable package but does not call the vulnerable function",
                _ => "a required module has the vulnerability; its package is not imported",
            };
            let fixed = text(&found["fixed_version"])
                .map(|fixed| format!(" Fixed in {fixed}."))
                .unwrap_or_default();
            let severity = match reach {
                2 => Severity::High,
                1 => Severity::Low,
                _ => Severity::Note,
            };
            let vulnerable = Vulnerable {
                tool: "govulncheck",
                id: &id,
                aliases: strings(&record["aliases"]),
                package: &module,
                version,
                path: if reach == 2 {
                    text(&position["filename"])
                } else {
                    None
                },
            };
            let mut item = vulnerable.finding(
                summary.clone(),
                format!("{summary}: {how}.{fixed}"),
                (severity, SeveritySource::ToolWord, None),
            );
            if reach == 2 {
                item.location.start_line = line(&position["line"]);
                item.location.start_column = line(&position["column"]);
            }
            item.help_uri = Some(format!("https://pkg.go.dev/vuln/{id}"));
            item
        })
        .collect()
}

fn kube_linter(report: &Value) -> Vec<Finding> {
    report["Reports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let check = text(&item["Check"]).unwrap_or_else(|| "(check)".to_owned());
            let message = text(&item["Diagnostic"]["Message"]).unwrap_or_else(|| check.clone());
            let object = &item["Object"]["K8sObject"];
            let kind = text(&object["GroupVersionKind"]["Kind"]).unwrap_or_default();
            let name = text(&object["Name"]).unwrap_or_default();
            let remediation = text(&item["Remediation"])
                .map(|fix| format!("\n{fix}"))
                .unwrap_or_default();
            finding(
                "KubeLinter",
                check,
                message.lines().next().unwrap_or_default().to_owned(),
                format!("{kind} {name}: {message}{remediation}"),
                // kube-linter has no severities: a failed check is a warning.
                lint_level(Some("warning")),
                Location {
                    path: text(&item["Object"]["Metadata"]["FilePath"]),
                    ..Location::default()
                },
            )
        })
        .collect()
}

fn terrascan(report: &Value) -> Vec<Finding> {
    report["results"]["violations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|violation| {
            let id = text(&violation["rule_id"]).unwrap_or_else(|| "(no id)".to_owned());
            let title = text(&violation["description"])
                .or_else(|| text(&violation["rule_name"]))
                .unwrap_or_else(|| id.clone());
            let resource = [
                text(&violation["resource_type"]),
                text(&violation["resource_name"]),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(".");
            let line_number = line(&violation["line"]);
            finding(
                "Terrascan",
                id,
                title.clone(),
                if resource.is_empty() {
                    title
                } else {
                    format!("{resource}: {title}")
                },
                by_word(violation["severity"].as_str(), Severity::Medium),
                Location {
                    path: text(&violation["file"]),
                    start_line: line_number,
                    end_line: line_number,
                    ..Location::default()
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod supported_tests {
    use super::*;

    #[test]
    fn the_supported_list_names_every_native_format_and_nothing_else() {
        let names: Vec<&str> = SUPPORTED
            .split(", ")
            .flat_map(|part| part.split(" and "))
            .collect();
        let formats: Vec<Format> = Format::ALL
            .into_iter()
            .filter(|format| !matches!(format, Format::Nothing | Format::Sarif))
            .collect();
        assert_eq!(names.len(), formats.len(), "{names:?}");
        for format in formats {
            // `cargo-audit` is called as `cargo audit`.
            let spoken = |name: &str| name.replace('-', " ");
            assert!(
                names
                    .iter()
                    .any(|name| spoken(name).starts_with(&spoken(format.tool()))),
                "{} is not in SUPPORTED",
                format.tool()
            );
        }
    }
}
