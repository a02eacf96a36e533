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

#[cfg(test)]
mod tests {
    use super::*;

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
