//! Secrets out of pod logs and events before they reach a summary: the value after a key that
//! names a secret (`password=…`, `"token": "…"`, `DB_PASSWORD: …`), bearer and basic credentials,
//! passwords in URLs, AWS access keys, JWTs, PEM private keys — and any value the caller knows to
//! be secret (the values of the Secrets the release mounts).
//!
//! Masking errs towards hiding: a log line loses a word it did not need to rather than leak one.

use std::sync::LazyLock;

use regex_lite::Regex;

/// What replaces a secret.
pub const MASK: &str = "***";

struct Rule {
    pattern: Regex,
    /// The capture group that is the secret (the rest of the match is kept).
    group: usize,
}

fn rule(pattern: &str, group: usize) -> Rule {
    Rule {
        pattern: Regex::new(pattern).expect("a valid masking pattern"),
        group,
    }
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        rule(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/=-]+)", 2),
        rule(r"(?i)(\bbasic\s+)([A-Za-z0-9+/=]{8,})", 2),
        // user:password@ in a URL.
        rule(r"(://[^/\s:@]+:)([^/\s@]+)(@)", 2),
        rule(r"()\b((?:AKIA|ASIA)[0-9A-Z]{16})\b", 2),
        rule(
            r"()\b(eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,})",
            2,
        ),
        rule(r"(?i)(gh[pousr]_)([A-Za-z0-9]{20,})", 2),
        // After the credentials above (so `Authorization: Bearer x` loses x first): a key naming
        // a secret, then `=`, `:` or `=>`, then its value (quoted or bare).
        rule(
            r#"(?i)([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|auth)[A-Za-z0-9_.-]*"?\s*(?:=>|=|:)\s*"?)([^\s"',;&}]+)"#,
            2,
        ),
    ]
});

static PEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\z)")
        .expect("a valid pattern")
});

/// `text` with every secret it shows replaced by [`MASK`]. `known` are values that are secret
/// wherever they appear (shorter than 4 characters they are ignored: they would mask words).
///
/// # Panics
/// Never: every rule's secret group takes part in its match.
#[must_use]
pub fn mask(text: &str, known: &[String]) -> String {
    let mut masked = PEM
        .replace_all(
            text,
            "-----BEGIN PRIVATE KEY----- *** -----END PRIVATE KEY-----",
        )
        .into_owned();
    for value in known.iter().filter(|value| value.chars().count() >= 4) {
        masked = masked.replace(value.as_str(), MASK);
    }
    for rule in RULES.iter() {
        masked = rule
            .pattern
            .replace_all(&masked, |captures: &regex_lite::Captures<'_>| {
                let whole = captures.get(0).expect("the whole match");
                let secret = captures.get(rule.group).expect("the secret's group");
                let mut out = String::new();
                out.push_str(&whole.as_str()[..secret.start() - whole.start()]);
                out.push_str(MASK);
                out.push_str(&whole.as_str()[secret.end() - whole.start()..]);
                out
            })
            .into_owned();
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn secrets_in_logs_are_masked_and_the_rest_kept() {
        let cases = [
            (
                "connect: password=hunter2 refused",
                "connect: password=*** refused",
            ),
            (
                r#"{"db_password": "s3cr3t!", "user": "app"}"#,
                r#"{"db_password": "***", "user": "app"}"#,
            ),
            ("DB_PASSWORD: hunter2", "DB_PASSWORD: ***"),
            (
                "Authorization: Bearer abc.def-ghi",
                "Authorization: *** ***",
            ),
            (
                "GET https://bot:pa55w0rd@registry.example.com/v2",
                "GET https://bot:***@registry.example.com/v2",
            ),
            ("key AKIAIOSFODNN7EXAMPLE used", "key *** used"),
            ("token ghp_0123456789abcdefghijABCDEFGHIJ", "token ghp_***"),
            ("listening on :8080", "listening on :8080"),
        ];
        for (line, expected) in cases {
            let masked = mask(line, &[]);
            assert!(
                !masked.contains("hunter2")
                    && !masked.contains("s3cr3t")
                    && !masked.contains("pa55w0rd")
                    && !masked.contains("AKIAIOSFODNN7EXAMPLE"),
                "{line} → {masked}"
            );
            assert_eq!(masked, expected, "{line}");
        }
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert!(!mask(&format!("session {jwt}"), &[]).contains("eyJzdWIi"));
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----";
        assert!(!mask(pem, &[]).contains("MIIEow"));
        assert_eq!(
            mask(
                "the value is opensesame here",
                &["opensesame".to_owned(), "a".to_owned()]
            ),
            "the value is *** here"
        );
    }
}
