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
