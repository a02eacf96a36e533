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

/// The words a key that names a secret contains.
const SECRET_KEY_WORDS: &str = r"(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|account[_-]?key|credentials?|auth|signature|dsn|connection[_-]?string)";

/// A key naming a secret (`db_password`, `"apiKey"`), then `=`, `:` or `=>`, then `value`, whose
/// three groups are the opening quote, the secret and the closing quote (empty when bare).
fn after_secret_key(key_quote: char, value: &str) -> Rule {
    rule(
        &format!(
            r"(?i)([A-Za-z0-9_.-]*{SECRET_KEY_WORDS}[A-Za-z0-9_.-]*{key_quote}?\s*(?:=>|=|:)\s*){value}"
        ),
        3,
    )
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        rule(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/=-]+)", 2),
        rule(r"(?i)(\bbasic\s+)([A-Za-z0-9+/=]{8,})", 2),
        // user:password@ in a URL; the password may hold `/` and `:` (never a space or `@`).
        rule(r"(://[^/\s:@]+:)([^\s@]+)(@)", 2),
        // Tokens known by their prefix: AWS access keys, GitHub (classic and fine-grained),
        // Slack, Stripe secret and restricted keys, GCP API keys and OAuth tokens, npm, PyPI.
        rule(r"()\b((?:AKIA|ASIA)[0-9A-Z]{16})\b", 2),
        rule(
            r"()\b(eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,})",
            2,
        ),
        rule(r"(github_pat_)([A-Za-z0-9_]{20,})", 2),
        rule(r"(?i)(gh[pousr]_)([A-Za-z0-9]{20,})", 2),
        rule(r"()\b(xox[abposre]-[A-Za-z0-9-]{10,})", 2),
        rule(r"()\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,})", 2),
        rule(r"()\b(AIza[0-9A-Za-z_-]{35})", 2),
        rule(r"()\b(ya29\.[0-9A-Za-z_-]{20,})", 2),
        rule(r"()\b(npm_[A-Za-z0-9]{36})\b", 2),
        rule(r"()\b(pypi-[A-Za-z0-9_-]{50,})", 2),
        // Azure: a storage account key or SAS signature in a connection string or URL.
        rule(
            r"(?i)((?:AccountKey|SharedAccessKey|SharedAccessSignature)=|[?&]sig=)([^;\s&]+)",
            2,
        ),
        // After the credentials above (so `Authorization: Bearer x` loses x first): a key naming
        // a secret, then `=`, `:` or `=>`, then its value — quoted (spaces and all) or bare.
        after_secret_key('"', r#"(")([^"]*)(")"#),
        after_secret_key('\'', r"(')([^']*)(')"),
        after_secret_key('"', r#"()([^\s"',;&}]+)()"#),
    ]
});

static PEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\z)")
        .expect("a valid pattern")
});

/// A bare word long and random enough to be a key or token nobody named: 24 or more characters
/// of a token alphabet, with upper and lower case letters and digits, and near the entropy of
/// random base64. Hex (digests, commit ids) and words never qualify.
static BARE_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_=-]{24,}").expect("a valid pattern"));

fn looks_random(word: &str) -> bool {
    let word = word.trim_end_matches('=');
    let has = |test: fn(&u8) -> bool| word.as_bytes().iter().any(test);
    if !(has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase) && has(u8::is_ascii_digit)) {
        return false;
    }
    let mut counts = [0u32; 128];
    for byte in word.bytes() {
        counts[usize::from(byte & 0x7F)] += 1;
    }
    #[expect(clippy::cast_precision_loss, reason = "a word's length fits an f64")]
    let length = word.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let share = f64::from(count) / length;
            -share * share.log2()
        })
        .sum();
    // Random base64 of 24+ characters has about 4.3–5.5 bits a character; English words and
    // identifiers like `KubernetesDeploymentController2` stay below 4.
    entropy >= 4.0
}

/// The values of `set` lines (`key=value`) whose key names a secret (`db.password=…`,
/// `auth.token=…`): secret wherever they appear in a log.
pub fn secret_set_values(set: &[String]) -> Vec<String> {
    static KEY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(&format!("(?i){SECRET_KEY_WORDS}")).expect("a valid pattern"));
    set.iter()
        .filter_map(|line| line.split_once('='))
        .filter(|(key, _)| KEY.is_match(key))
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
        .collect()
}

/// Log lines with every secret masked ([`mask`]); a PEM private key spread over lines is
/// masked from its `BEGIN` line to its `END` line (or to the last line, when cut off).
#[must_use]
pub fn mask_lines(lines: &[String], known: &[String]) -> Vec<String> {
    let mut in_key = false;
    lines
        .iter()
        .map(|line| {
            if in_key {
                if line.contains("-----END") && line.contains("PRIVATE KEY-----") {
                    in_key = false;
                    return "-----END PRIVATE KEY-----".to_owned();
                }
                return MASK.to_owned();
            }
            if line.contains("-----BEGIN") && line.contains("PRIVATE KEY-----") {
                let masked = mask(line, known);
                // A key that ends on its own line is masked there by `mask`.
                if !(line.contains("-----END") && line.contains("PRIVATE KEY-----")) {
                    in_key = true;
                }
                return masked;
            }
            mask(line, known)
        })
        .collect()
}

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
                if secret.as_str() == MASK {
                    return whole.as_str().to_owned();
                }
                let mut out = String::new();
                out.push_str(&whole.as_str()[..secret.start() - whole.start()]);
                out.push_str(MASK);
                out.push_str(&whole.as_str()[secret.end() - whole.start()..]);
                out
            })
            .into_owned();
    }
    BARE_TOKEN
        .replace_all(&masked, |captures: &regex_lite::Captures<'_>| {
            let word = captures.get(0).map_or("", |word| word.as_str());
            if looks_random(word) {
                MASK.to_owned()
            } else {
                word.to_owned()
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::{MASK, mask, mask_lines, secret_set_values};

    #[test]
    fn secrets_other_people_write_in_logs_are_masked() {
        // Issue 25 §4: each of these was shown in a failed deploy's summary.
        let cases = [
            "DATABASE_URL=postgres://app:pa/ss:w0rd@db:5432/shop",
            r#"config: password="correct horse battery""#,
            "config: secret='two words here'",
            "using github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
            "slack: xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx",
            "stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "gcp key AIzaSyA-1234567890abcdefghijklmnopqrstu",
            "oauth ya29.a0AfH6SMBx3Yz-abcdefghijklmnopqrstuv",
            "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==;EndpointSuffix=core.windows.net",
            "https://shop.blob.core.windows.net/c?sv=2022-11-02&sig=AbCdEf0123456789%2Bxyz&se=2026",
            "loaded key 9fQ2xLw7TzK4mVb8NcR1sYhP3dJ6gA0e",
        ];
        let hidden = [
            "pa/ss:w0rd",
            "horse",
            "two words",
            "11ABCDEFG",
            "AbCdEfGhIj",
            "4eC39HqLyj",
            "SyA-1234",
            "a0AfH6SMBx",
            "Zm9vYmFy",
            "AbCdEf0123",
            "9fQ2xLw7Tz",
        ];
        for (line, secret) in cases.iter().zip(hidden) {
            let masked = mask(line, &[]);
            assert!(!masked.contains(secret), "{line} → {masked}");
            assert!(masked.contains(MASK), "{line} → {masked}");
        }
        // What is not a secret is kept: digests, commit ids, pod names, paths, words.
        for line in [
            "pulled sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904b825dc642cb6eb9a060e54b",
            "commit 0123456789abcdef0123456789abcdef01234567",
            "pod shop-cart-canary-7d9f8b6c5d-x2v4q ready",
            "at org.springframework.boot.SpringApplication.run(SpringApplication.java:315)",
            "GET /api/v1/namespaces/shop/pods/cart-7d9f8b6c5d-x2v4q 200",
            "KubernetesDeploymentControllerReconciler started",
        ] {
            assert_eq!(mask(line, &[]), line);
        }
    }

    #[test]
    fn a_pem_key_printed_line_by_line_is_masked_from_begin_to_end() {
        let lines: Vec<String> = [
            "starting",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
            "QyNTUxOQAAACDx5s2hZ3abcdefghijklmnop",
            "-----END OPENSSH PRIVATE KEY-----",
            "listening on :8080",
        ]
        .map(str::to_owned)
        .to_vec();
        let masked = mask_lines(&lines, &[]);
        assert_eq!(masked[0], "starting");
        assert!(masked[2..4].iter().all(|line| line == MASK), "{masked:?}");
        assert_eq!(masked[5], "listening on :8080");
        // Cut off before its END line: everything after BEGIN stays hidden.
        let cut = mask_lines(&lines[..3], &[]);
        assert_eq!(cut[2], MASK);
    }

    #[test]
    fn set_values_whose_key_names_a_secret_are_known_secrets() {
        let set = [
            "image.tag=1.2.3".to_owned(),
            "db.password=hunter2-long".to_owned(),
            "auth.apiKey=k-123456".to_owned(),
            "replicas=3".to_owned(),
        ];
        assert_eq!(secret_set_values(&set), ["hunter2-long", "k-123456"]);
    }

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
