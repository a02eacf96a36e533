//! Scanners' native JSON, recognised from content (never from the file name), read into
//! [`Finding`]s: one module per tool, and one table, [`FORMATS`], of each format's name,
//! detection and reader. [`SUPPORTED`] (which the `reports` input's description and the "not a
//! report format" error are built from) names the table's tools. Secrets found by secret
//! scanners are never kept: a finding names the rule and the place, not the matched text.

/// The native formats, by the names their tools go by: one list for the docs, the `reports`
/// description and the errors (a test keeps it equal to the tools of [`FORMATS`]).
macro_rules! supported_native {
    () => {
        "Trivy, Grype, Snyk, OSV-Scanner, npm audit, yarn audit, pip-audit, cargo audit, Bandit, Semgrep, gosec, Gitleaks, detect-secrets, Checkov, tfsec, KICS, Terrascan, KubeLinter, hadolint, ShellCheck, zizmor, TruffleHog, govulncheck and reviewdog (rdjson)"
    };
}
pub(crate) use supported_native;

/// The native formats gantry reads, as a sentence's list.
pub const SUPPORTED: &str = supported_native!();

mod parts;

mod bandit;
mod cargo_audit;
mod checkov;
mod detect_secrets;
mod gitleaks;
mod gosec;
mod govulncheck;
mod grype;
mod hadolint;
mod kics;
mod kube_linter;
mod npm_audit;
mod osv_scanner;
mod pip_audit;
mod rdjson;
mod semgrep;
mod shellcheck;
mod snyk;
mod terrascan;
mod tfsec;
mod trivy;
mod trufflehog;
mod yarn_audit;
mod zizmor;

use serde_json::Value;

use crate::finding::Finding;

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

/// One native format: the name its findings carry, how it is recognised and how it is read.
pub struct Native {
    /// The format.
    pub format: Format,
    /// The tool's name as findings carry it.
    pub tool: &'static str,
    /// Whether a parsed report has this format's shape.
    pub detect: fn(&Value) -> bool,
    /// The report's findings.
    pub read: fn(&Value) -> Vec<Finding>,
}

/// Every format, in the order detection tries them: the first whose shape matches wins, so the
/// more specific shapes come first.
pub static FORMATS: [Native; 26] = [
    Native {
        format: Format::Nothing,
        tool: "(no findings)",
        detect: is_nothing,
        read: read_nothing,
    },
    Native {
        format: Format::Snyk,
        tool: "Snyk",
        detect: snyk::detect,
        read: snyk::read,
    },
    Native {
        format: Format::NpmAudit,
        tool: "npm audit",
        detect: npm_audit::detect,
        read: npm_audit::read,
    },
    Native {
        format: Format::CargoAudit,
        tool: "cargo-audit",
        detect: cargo_audit::detect,
        read: cargo_audit::read,
    },
    Native {
        format: Format::Checkov,
        tool: "Checkov",
        detect: checkov::detect,
        read: checkov::read,
    },
    Native {
        format: Format::Shellcheck,
        tool: "ShellCheck",
        detect: shellcheck::detect,
        read: shellcheck::read,
    },
    Native {
        format: Format::Hadolint,
        tool: "hadolint",
        detect: hadolint::detect,
        read: hadolint::read,
    },
    Native {
        format: Format::YarnAudit,
        tool: "yarn audit",
        detect: yarn_audit::detect,
        read: yarn_audit::read,
    },
    Native {
        format: Format::Zizmor,
        tool: "zizmor",
        detect: zizmor::detect,
        read: zizmor::read,
    },
    Native {
        format: Format::PipAudit,
        tool: "pip-audit",
        detect: pip_audit::detect,
        read: pip_audit::read,
    },
    Native {
        format: Format::OsvScanner,
        tool: "OSV-Scanner",
        detect: osv_scanner::detect,
        read: osv_scanner::read,
    },
    Native {
        format: Format::Tfsec,
        tool: "tfsec",
        detect: tfsec::detect,
        read: tfsec::read,
    },
    Native {
        format: Format::Gosec,
        tool: "gosec",
        detect: gosec::detect,
        read: gosec::read,
    },
    Native {
        format: Format::Kics,
        tool: "KICS",
        detect: kics::detect,
        read: kics::read,
    },
    Native {
        format: Format::Rdjson,
        tool: "reviewdog",
        detect: rdjson::detect,
        read: rdjson::read,
    },
    Native {
        format: Format::DetectSecrets,
        tool: "detect-secrets",
        detect: detect_secrets::detect,
        read: detect_secrets::read,
    },
    Native {
        format: Format::Trufflehog,
        tool: "TruffleHog",
        detect: trufflehog::detect,
        read: trufflehog::read,
    },
    Native {
        format: Format::Govulncheck,
        tool: "govulncheck",
        detect: govulncheck::detect,
        read: govulncheck::read,
    },
    Native {
        format: Format::KubeLinter,
        tool: "KubeLinter",
        detect: kube_linter::detect,
        read: kube_linter::read,
    },
    Native {
        format: Format::Terrascan,
        tool: "Terrascan",
        detect: terrascan::detect,
        read: terrascan::read,
    },
    Native {
        format: Format::Sarif,
        tool: "SARIF",
        detect: is_sarif,
        read: read_nothing,
    },
    Native {
        format: Format::Trivy,
        tool: "Trivy",
        detect: trivy::detect,
        read: trivy::read,
    },
    Native {
        format: Format::Grype,
        tool: "Grype",
        detect: grype::detect,
        read: grype::read,
    },
    Native {
        format: Format::Bandit,
        tool: "Bandit",
        detect: bandit::detect,
        read: bandit::read,
    },
    Native {
        format: Format::Semgrep,
        tool: "Semgrep",
        detect: semgrep::detect,
        read: semgrep::read,
    },
    Native {
        format: Format::Gitleaks,
        tool: "Gitleaks",
        detect: gitleaks::detect,
        read: gitleaks::read,
    },
];

impl Format {
    /// This format's row of [`FORMATS`].
    pub fn native(self) -> &'static Native {
        // Every variant has its row (a test reads each back); the first row is the fallback.
        FORMATS
            .iter()
            .find(|native| native.format == self)
            .unwrap_or(&FORMATS[0])
    }

    /// The tool's name as findings carry it.
    pub fn tool(self) -> &'static str {
        self.native().tool
    }
}

/// `null` or `[]`.
fn is_nothing(report: &Value) -> bool {
    report.is_null() || report.as_array().is_some_and(Vec::is_empty)
}

/// A SARIF log (read while streamed, see [`crate::sarif_input`]).
fn is_sarif(report: &Value) -> bool {
    report.get("runs").is_some()
        && (report.get("version").is_some() || report.get("$schema").is_some())
}

fn read_nothing(_: &Value) -> Vec<Finding> {
    Vec::new()
}

/// Recognises a parsed report by its shape.
pub fn detect(report: &Value) -> Option<Format> {
    FORMATS
        .iter()
        .find(|native| (native.detect)(report))
        .map(|native| native.format)
}

/// Reads a native report of a known format into findings.
pub fn read_native(format: Format, report: &Value) -> Vec<Finding> {
    (format.native().read)(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_one_row() {
        for (index, native) in FORMATS.iter().enumerate() {
            assert!(
                std::ptr::eq(native.format.native(), native),
                "{:?} has a second row at {index}",
                native.format
            );
        }
    }

    /// The sentence [`SUPPORTED`] is the table's tools, in its order, as people call them.
    #[test]
    fn the_supported_list_is_the_tables_tools() {
        let spoken = |native: &Native| match native.format {
            Format::CargoAudit => "cargo audit",
            Format::Rdjson => "reviewdog (rdjson)",
            _ => native.tool,
        };
        let mut names: Vec<&str> = FORMATS
            .iter()
            .filter(|native| !matches!(native.format, Format::Nothing | Format::Sarif))
            .map(spoken)
            .collect();
        names.sort_unstable();
        let mut listed: Vec<&str> = SUPPORTED
            .split(", ")
            .flat_map(|part| part.split(" and "))
            .collect();
        listed.sort_unstable();
        assert_eq!(listed, names);
    }
}
