//! One identity per scanner product, whatever the edition or spelling a report gives it.
//!
//! Semgrep's JSON names no tool (we call it `Semgrep`) and its SARIF says `Semgrep OSS` (or
//! `Semgrep Pro`, `Semgrep CE`); Trivy's SARIF says `Trivy`, its misconfiguration output
//! `trivy`. Two names for one product would make two tools of one scan: every finding twice and
//! two SARIF runs GitHub reads as different tools. [`IDENTITIES`] is the one table of products
//! and their spellings; a name it does not know keeps its own spelling, compared by its slug.

/// A scanner product as gantry names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolIdentity {
    /// The display name (`Semgrep`).
    pub name: String,
    /// Lower-case letters, digits and `-` (`semgrep`): what runs and categories are named by.
    pub slug: String,
}

/// Products: (display name, the slugs of every spelling reports use).
pub const IDENTITIES: &[(&str, &[&str])] = &[
    (
        "Semgrep",
        &[
            "semgrep",
            "semgrep-oss",
            "semgrep-pro",
            "semgrep-ce",
            "semgrep-community-edition",
            "semgrep-code",
            "semgrep-supply-chain",
        ],
    ),
    ("Trivy", &["trivy", "aquasecurity-trivy"]),
    ("Checkov", &["checkov", "bridgecrew-checkov"]),
    ("Bandit", &["bandit"]),
    ("Gitleaks", &["gitleaks"]),
    ("Grype", &["grype", "anchore-grype"]),
    ("CodeQL", &["codeql"]),
    ("zizmor", &["zizmor"]),
    ("tfsec", &["tfsec"]),
    ("gosec", &["gosec"]),
    ("KICS", &["kics"]),
    ("hadolint", &["hadolint"]),
    ("ShellCheck", &["shellcheck"]),
    ("OSV-Scanner", &["osv-scanner", "osvscanner"]),
    ("pip-audit", &["pip-audit"]),
    ("TruffleHog", &["trufflehog"]),
    ("detect-secrets", &["detect-secrets"]),
    ("KubeLinter", &["kubelinter", "kube-linter"]),
    ("Terrascan", &["terrascan"]),
    ("govulncheck", &["govulncheck"]),
    ("cargo-audit", &["cargo-audit", "cargo-audit-rustsec"]),
];

/// `tool` as lower-case letters and digits with single `-` between words; `tool` when empty.
pub fn slug(tool: &str) -> String {
    let mut slug = String::new();
    for character in tool.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-').to_owned();
    if slug.is_empty() {
        "tool".to_owned()
    } else {
        slug
    }
}

/// The identity of a tool name as a report spells it.
pub fn tool_identity(tool: &str) -> ToolIdentity {
    let spelled = slug(tool);
    for (name, spellings) in IDENTITIES {
        if spellings.contains(&spelled.as_str()) {
            return ToolIdentity {
                name: (*name).to_owned(),
                slug: spellings[0].to_owned(),
            };
        }
    }
    ToolIdentity {
        name: tool.to_owned(),
        slug: spelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editions_and_spellings_of_one_product_are_one_identity() {
        for spelling in [
            "Semgrep OSS",
            "Semgrep Pro",
            "semgrep",
            "SEMGREP",
            "Semgrep CE",
        ] {
            assert_eq!(tool_identity(spelling).name, "Semgrep", "{spelling}");
        }
        assert_eq!(tool_identity("trivy"), tool_identity("Trivy"));
        assert_eq!(tool_identity("checkov").name, "Checkov");
        assert_ne!(
            tool_identity("Snyk Code"),
            tool_identity("Snyk Open Source")
        );
        assert_eq!(tool_identity("My Scanner").name, "My Scanner");
        assert_eq!(tool_identity("My Scanner").slug, "my-scanner");
    }

    #[test]
    fn every_spelling_is_a_slug_and_belongs_to_one_product() {
        let mut seen = std::collections::BTreeSet::new();
        for (name, spellings) in IDENTITIES {
            assert!(!spellings.is_empty(), "{name}");
            for spelling in *spellings {
                assert_eq!(
                    slug(spelling),
                    *spelling,
                    "{name}: {spelling} is not a slug"
                );
                assert!(seen.insert(*spelling), "{spelling} names two products");
            }
            assert_eq!(
                tool_identity(name).name,
                *name,
                "{name} is not its own spelling"
            );
        }
    }
}
