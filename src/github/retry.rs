//! When to try a request again, and how long to wait first (pure: no clock, no sleeping).
//!
//! Rate limits say how long to wait (`retry-after`, or `x-ratelimit-remaining: 0` with
//! `x-ratelimit-reset`); 5xx answers and network errors get exponential backoff. Attempts and
//! the total wait are bounded, so a fetch never holds up a CI job for long: a wait that does not
//! fit in what is left of the budget ends the retries at once.

use std::time::Duration;

/// Bounds on retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub max_attempts: u32,
    /// The first backoff; each further one doubles, up to `max_backoff`.
    pub first_backoff: Duration,
    /// The longest single backoff.
    pub max_backoff: Duration,
    /// The most time one request may spend waiting between its attempts.
    pub max_total_wait: Duration,
    /// How long one second of waiting really lasts: one second, but for the tests, which
    /// shorten it (the waits reported and budgeted stay the same).
    pub second: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(16),
            max_total_wait: Duration::from_secs(60),
            second: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The backoff before attempt `next` (2 for the first retry).
    pub fn backoff(&self, next: u32) -> Duration {
        let doublings = next.saturating_sub(2).min(16);
        self.first_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }

    /// How long the process really sleeps for a wait of `wait`.
    pub fn real(&self, wait: Duration) -> Duration {
        self.second.mul_f64(wait.as_secs_f64())
    }
}

/// The rate-limit headers of an answer, as text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateHeaders<'a> {
    /// `retry-after` (seconds).
    pub retry_after: Option<&'a str>,
    /// `x-ratelimit-remaining`.
    pub remaining: Option<&'a str>,
    /// `x-ratelimit-reset` (Unix seconds).
    pub reset: Option<&'a str>,
}

/// Why an answer is worth another try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transient {
    /// A rate limit: wait as long as GitHub says.
    RateLimit {
        /// The wait GitHub asked for, if it did.
        wait: Option<Duration>,
        /// When the limit resets (Unix seconds), if GitHub said.
        reset: Option<u64>,
    },
    /// A 5xx answer.
    Server(u16),
    /// No answer at all.
    Network,
}

impl Transient {
    /// How long to wait before attempt `next`.
    pub fn wait(self, policy: &RetryPolicy, next: u32) -> Duration {
        match self {
            Transient::RateLimit {
                wait: Some(wait), ..
            } => wait,
            Transient::RateLimit { wait: None, .. } | Transient::Server(_) | Transient::Network => {
                policy.backoff(next)
            }
        }
    }
}

/// Whether an answer with `status` is transient. `now` is the current Unix time in seconds.
/// A 403 or 429 counts as a rate limit only when its headers say so; a bare 403 is a
/// permission problem and is not retried.
pub fn classify(status: u16, headers: RateHeaders<'_>, now: u64) -> Option<Transient> {
    let retry_after = headers
        .retry_after
        .and_then(|text| text.trim().parse::<u64>().ok());
    let exhausted = headers.remaining.map(str::trim) == Some("0");
    let reset = headers
        .reset
        .and_then(|text| text.trim().parse::<u64>().ok());
    match status {
        403 | 429 if retry_after.is_some() || exhausted => Some(Transient::RateLimit {
            wait: retry_after.map(Duration::from_secs).or_else(|| {
                // One second past the reset: GitHub's clock and ours may disagree a little.
                reset.map(|reset| Duration::from_secs(reset.saturating_sub(now) + 1))
            }),
            reset: if exhausted { reset } else { None },
        }),
        429 => Some(Transient::RateLimit {
            wait: None,
            reset: None,
        }),
        500..=599 => Some(Transient::Server(status)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default();
        let waits: Vec<u64> = (2..=8).map(|next| policy.backoff(next).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 16, 16]);
        let fast = RetryPolicy {
            second: Duration::from_millis(2),
            ..policy
        };
        assert_eq!(fast.real(Duration::from_secs(3)), Duration::from_millis(6));
    }

    #[test]
    fn rate_limits_say_how_long() {
        let secondary = RateHeaders {
            retry_after: Some("7"),
            ..RateHeaders::default()
        };
        assert_eq!(
            classify(403, secondary, 1000),
            Some(Transient::RateLimit {
                wait: Some(Duration::from_secs(7)),
                reset: None
            })
        );
        let primary = RateHeaders {
            retry_after: None,
            remaining: Some("0"),
            reset: Some("1030"),
        };
        assert_eq!(
            classify(403, primary, 1000),
            Some(Transient::RateLimit {
                wait: Some(Duration::from_secs(31)),
                reset: Some(1030)
            })
        );
        // A reset in the past (clock skew) still waits a moment.
        assert_eq!(
            classify(429, primary, 2000).map(|t| t.wait(&RetryPolicy::default(), 2)),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn a_bare_403_and_4xx_are_final_and_5xx_are_retried() {
        assert_eq!(classify(403, RateHeaders::default(), 0), None);
        let left = RateHeaders {
            remaining: Some("4999"),
            ..RateHeaders::default()
        };
        assert_eq!(classify(403, left, 0), None);
        for status in [400, 401, 404, 410, 422] {
            assert_eq!(classify(status, RateHeaders::default(), 0), None);
        }
        assert_eq!(
            classify(502, RateHeaders::default(), 0),
            Some(Transient::Server(502))
        );
        assert_eq!(
            classify(429, RateHeaders::default(), 0).map(|t| t.wait(&RetryPolicy::default(), 3)),
            Some(Duration::from_secs(2))
        );
    }
}
