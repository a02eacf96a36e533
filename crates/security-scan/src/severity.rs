//! One severity scale for every tool.
//!
//! The mapping, strongest evidence first:
//! 1. A score: SARIF `security-severity` or a CVSS base score — critical ≥ 9.0, high ≥ 7.0,
//!    medium ≥ 4.0, low > 0, and 0 is a note (the thresholds of CVSS v3 and of GitHub code
//!    scanning).
//! 2. The tool's own severity word (`CRITICAL`, `High`, `moderate`, `negligible`, `INFO`, …).
//! 3. The SARIF `level`, as the last resort and deliberately low: `error` means "the tool says
//!    fix this", not "high risk" (Checkov and ruff mark every result `error`), so `error` is
//!    medium, `warning` low, `note`/`none` a note.

/// The scale, most severe first in `Ord` terms (`Critical > High`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: not a risk by itself.
    Note,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

/// Where a severity came from, for the report's "why".
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeveritySource {
    /// A CVSS or `security-severity` score.
    Score,
    /// The tool's own severity word.
    ToolWord,
    /// The SARIF `level` (weakest evidence).
    Level,
}

impl Severity {
    /// Every level, most severe first.
    pub const ALL: [Severity; 5] = [
        Self::Critical,
        Self::High,
        Self::Medium,
        Self::Low,
        Self::Note,
    ];

    /// From a 0–10 score; `None` outside that range or not a number.
    pub fn from_score(score: f64) -> Option<Self> {
        if !score.is_finite() || !(0.0..=10.0).contains(&score) {
            return None;
        }
        Some(if score >= 9.0 {
            Self::Critical
        } else if score >= 7.0 {
            Self::High
        } else if score >= 4.0 {
            Self::Medium
        } else if score > 0.0 {
            Self::Low
        } else {
            Self::Note
        })
    }

    /// From a tool's word, case-insensitively; `None` for words that say nothing (`unknown`).
    pub fn from_word(word: &str) -> Option<Self> {
        let word = word.trim().to_ascii_lowercase();
        Some(match word.as_str() {
            "critical" | "crit" | "blocker" | "severe" | "very-high" | "very_high" => {
                Self::Critical
            }
            "high" | "error" | "major" | "important" => Self::High,
            "medium" | "moderate" | "med" | "warning" | "warn" => Self::Medium,
            "low" | "minor" | "style" => Self::Low,
            "info" | "informational" | "information" | "note" | "negligible" | "none"
            | "trivial" | "hint" => Self::Note,
            _ => return None,
        })
    }

    /// From a SARIF `level` (`error`, `warning`, `note`, `none`); see the module doc for why
    /// `error` is only medium.
    pub fn from_sarif_level(level: &str) -> Self {
        match level {
            "error" => Self::Medium,
            "warning" => Self::Low,
            _ => Self::Note,
        }
    }

    /// The lower-case word used in outputs (`critical` … `note`).
    pub fn word(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::Note => "note",
        }
    }

    /// A representative `security-severity` for a severity known only by word or level (the
    /// middle of its band). A note has none: GitHub accepts 0.1–10, and 0.1 already reads low.
    pub fn representative_score(self) -> Option<f64> {
        match self {
            Self::Critical => Some(9.5),
            Self::High => Some(8.0),
            Self::Medium => Some(5.5),
            Self::Low => Some(2.0),
            Self::Note => None,
        }
    }

    /// The SARIF `level` consistent with this severity.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Self::Critical | Self::High => "error",
            Self::Medium => "warning",
            Self::Low | Self::Note => "note",
        }
    }

    /// The `fail-on` threshold words: `critical`, `high`, `medium`, `low`, or `none` (never).
    pub fn threshold(word: &str) -> Option<Option<Self>> {
        match word {
            "none" => Some(None),
            other => Self::from_word(other)
                .filter(|_| matches!(other, "critical" | "high" | "medium" | "low"))
                .map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_the_cvss_bands() {
        assert_eq!(Severity::from_score(9.0), Some(Severity::Critical));
        assert_eq!(Severity::from_score(8.9), Some(Severity::High));
        assert_eq!(Severity::from_score(7.0), Some(Severity::High));
        assert_eq!(Severity::from_score(4.0), Some(Severity::Medium));
        assert_eq!(Severity::from_score(0.1), Some(Severity::Low));
        assert_eq!(Severity::from_score(0.0), Some(Severity::Note));
        assert_eq!(Severity::from_score(11.0), None);
        assert_eq!(Severity::from_score(f64::NAN), None);
    }

    #[test]
    fn words_and_levels() {
        assert_eq!(Severity::from_word("MODERATE"), Some(Severity::Medium));
        assert_eq!(Severity::from_word("Negligible"), Some(Severity::Note));
        assert_eq!(Severity::from_word("unknown"), None);
        assert_eq!(
            Severity::from_sarif_level("error"),
            Severity::Medium,
            "a bare error is not high"
        );
        assert_eq!(Severity::from_sarif_level("warning"), Severity::Low);
        assert!(Severity::Critical > Severity::High);
        for severity in Severity::ALL {
            if let Some(score) = severity.representative_score() {
                assert_eq!(Severity::from_score(score), Some(severity));
            }
        }
        assert_eq!(Severity::Note.representative_score(), None);
        assert_eq!(Severity::threshold("high"), Some(Some(Severity::High)));
        assert_eq!(Severity::threshold("none"), Some(None));
        assert_eq!(Severity::threshold("severe"), None);
    }
}

/// The CVSS v3.0/v3.1 base score of a vector (`CVSS:3.1/AV:N/AC:L/…`), as the specification
/// computes it; `None` for anything else (v2, v4, incomplete vectors).
pub fn cvss3_base_score(vector: &str) -> Option<f64> {
    let mut parts = vector.trim().split('/');
    let version = parts.next()?;
    if version != "CVSS:3.0" && version != "CVSS:3.1" {
        return None;
    }
    let mut metric = std::collections::BTreeMap::new();
    for part in parts {
        let (name, value) = part.split_once(':')?;
        metric.insert(name, value);
    }
    let get = |name: &str| metric.get(name).copied();
    let scope_changed = get("S")? == "C";
    let attack_vector: f64 = match get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let attack_complexity = match get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let privileges = match (get("PR")?, scope_changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let interaction = match get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let impact_of = |name: &str| -> Option<f64> {
        match get(name) {
            Some("H") => Some(0.56),
            Some("L") => Some(0.22),
            Some("N") => Some(0.0),
            _ => None,
        }
    };
    let (confidentiality, integrity, availability) =
        (impact_of("C")?, impact_of("I")?, impact_of("A")?);
    let iss: f64 = 1.0 - (1.0 - confidentiality) * (1.0 - integrity) * (1.0 - availability);
    let impact: f64 = if scope_changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability: f64 = 8.22 * attack_vector * attack_complexity * privileges * interaction;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let raw = if scope_changed {
        (1.08 * (impact + exploitability)).min(10.0)
    } else {
        (impact + exploitability).min(10.0)
    };
    Some(round_up(raw))
}

/// CVSS v3.1's "round up to one decimal", done in integers to avoid float artefacts.
fn round_up(value: f64) -> f64 {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "scores are between 0 and 10"
    )]
    let scaled = (value * 100_000.0).round() as i64;
    #[expect(clippy::cast_precision_loss, reason = "small integers")]
    if scaled % 10_000 == 0 {
        scaled as f64 / 100_000.0
    } else {
        ((scaled / 10_000) + 1) as f64 / 10.0
    }
}

#[cfg(test)]
mod cvss_tests {
    use super::*;

    #[test]
    fn cvss3_vectors_score_like_the_calculator() {
        // Values from FIRST's CVSS v3.1 calculator.
        assert_eq!(
            cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some(9.8)
        );
        assert_eq!(
            cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"),
            Some(5.3)
        );
        assert_eq!(
            cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"),
            Some(10.0)
        );
        assert_eq!(
            cvss3_base_score("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"),
            Some(5.3)
        );
        assert_eq!(
            cvss3_base_score("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N"),
            Some(0.0)
        );
        assert_eq!(
            cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N"),
            Some(6.4)
        );
        assert_eq!(cvss3_base_score("AV:N/AC:L/Au:N/C:P/I:N/A:N"), None);
    }
}
