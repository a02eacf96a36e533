//! The retry policy: what to do with each answer GitHub gives. Pure decisions, tested alone.
//!
//! - 429, and 403 for a secondary rate limit or an exhausted primary limit, are waited out:
//!   `Retry-After` when given, else until `x-ratelimit-reset`, else a minute (GitHub's advice).
//!   The request was refused, not carried out, so re-sending it is safe even for a POST.
//! - 5xx and transport failures are retried with exponential backoff and jitter, a bounded
//!   number of times — but only for reads and idempotent writes. A POST that failed this way
//!   may have been carried out, so the caller must look before it writes again.
//! - 403 "Resource not accessible by integration" is the read-only token of a fork PR.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, StatusCode};

/// Limits of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How many rate-limit waits one request may make.
    pub rate_limit_waits: u32,
    /// The longest single rate-limit wait accepted; a later reset fails instead.
    pub longest_wait: Duration,
    /// How many times a 5xx or transport failure is retried.
    pub server_retries: u32,
    /// First backoff.
    pub base_backoff: Duration,
    /// Largest backoff.
    pub largest_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            rate_limit_waits: 3,
            longest_wait: Duration::from_secs(15 * 60),
            server_retries: 4,
            base_backoff: Duration::from_secs(1),
            largest_backoff: Duration::from_secs(30),
        }
    }
}

/// What an answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 2xx.
    Success,
    /// Refused for rate; wait this long, then send the same request again.
    RateLimited(Duration),
    /// 5xx: GitHub or a proxy failed; the request may or may not have been carried out.
    ServerError,
    /// 403 for a token that may not write here (fork PRs, read-only `permissions:`).
    NotPermitted,
    /// Any other 4xx: the request is wrong and will stay wrong.
    Rejected,
}

/// Reads an answer.
pub fn classify(status: StatusCode, headers: &HeaderMap, message: &str, now: SystemTime) -> Answer {
    if status.is_success() {
        return Answer::Success;
    }
    if status.is_server_error() {
        return Answer::ServerError;
    }
    let header_number = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
    };
    let lower = message.to_ascii_lowercase();
    let exhausted = header_number("x-ratelimit-remaining") == Some(0);
    let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (exhausted
                || lower.contains("secondary rate limit")
                || lower.contains("rate limit exceeded")));
    if rate_limited {
        let wait = if let Some(seconds) = header_number("retry-after") {
            Duration::from_secs(seconds)
        } else if let (true, Some(reset)) = (exhausted, header_number("x-ratelimit-reset")) {
            let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            // One second more: the reset is a whole second, rounded down.
            Duration::from_secs(reset.saturating_sub(now) + 1)
        } else {
            Duration::from_secs(60)
        };
        return Answer::RateLimited(wait);
    }
    if status == StatusCode::FORBIDDEN && lower.contains("resource not accessible by integration") {
        return Answer::NotPermitted;
    }
    Answer::Rejected
}

impl RetryPolicy {
    /// Backoff before retry number `attempt` (1-based), with full jitter in `[½, 1]` of the
    /// exponential step; `unit` is a number in `[0, 1)` from the caller's randomness.
    pub fn backoff(&self, attempt: u32, unit: f64) -> Duration {
        let step = self
            .base_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.largest_backoff);
        step.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (key, value) in pairs {
            map.insert(*key, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn rate_limits_wait_retry_after_then_reset_then_a_minute() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(
            classify(
                StatusCode::TOO_MANY_REQUESTS,
                &headers(&[("retry-after", "7")]),
                "",
                now
            ),
            Answer::RateLimited(Duration::from_secs(7))
        );
        assert_eq!(
            classify(
                StatusCode::FORBIDDEN,
                &headers(&[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1030")
                ]),
                "API rate limit exceeded for installation ID 1.",
                now
            ),
            Answer::RateLimited(Duration::from_secs(31))
        );
        assert_eq!(
            classify(
                StatusCode::FORBIDDEN,
                &HeaderMap::new(),
                "You have exceeded a secondary rate limit.",
                now
            ),
            Answer::RateLimited(Duration::from_secs(60))
        );
    }

    #[test]
    fn read_only_tokens_and_other_refusals() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(
            classify(
                StatusCode::FORBIDDEN,
                &HeaderMap::new(),
                "Resource not accessible by integration",
                now
            ),
            Answer::NotPermitted
        );
        assert_eq!(
            classify(
                StatusCode::FORBIDDEN,
                &HeaderMap::new(),
                "Must have admin rights",
                now
            ),
            Answer::Rejected
        );
        assert_eq!(
            classify(StatusCode::UNPROCESSABLE_ENTITY, &HeaderMap::new(), "", now),
            Answer::Rejected
        );
        assert_eq!(
            classify(StatusCode::BAD_GATEWAY, &HeaderMap::new(), "", now),
            Answer::ServerError
        );
        assert_eq!(
            classify(StatusCode::CREATED, &HeaderMap::new(), "", now),
            Answer::Success
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff(1, 0.0), Duration::from_millis(500));
        assert_eq!(policy.backoff(1, 1.0), Duration::from_secs(1));
        assert_eq!(policy.backoff(3, 1.0), Duration::from_secs(4));
        assert_eq!(policy.backoff(10, 1.0), Duration::from_secs(30));
    }
}
