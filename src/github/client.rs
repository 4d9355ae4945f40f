//! The HTTP side: octocrab for the REST API, reqwest for the artifact download, and the retry
//! loop both share. Async, on the current-thread runtime [`super::fetch`] builds; nothing
//! outside this module is async.
//!
//! The token goes to the API host only: octocrab adds it to requests for the base URL's host,
//! and the download adds it by hand only when the download URL is on that same origin. The
//! redirect to blob storage is followed here, never by a client, and never with the token.
//! octocrab follows the API's own redirects (GitHub's 301 for a renamed or transferred
//! repository, to `/repositories/{id}/...` on the same host); one that leaves the API's origin
//! loses the token on the way (tower-http's credential filter).

use std::future::Future;
use std::time::{Duration, SystemTime};

use http_body_util::BodyExt as _;
use reqwest::Url;
use serde::de::DeserializeOwned;

use super::retry::{RateHeaders, RetryPolicy, Transient, classify};
use super::{GithubError, Notice, Token, TransportError};

/// How long one API request may take, answer included.
const API_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one download attempt may take, redirects and body included.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(300);
/// The largest API answer read (a page of 100 artifacts is about 100 KB).
const MAX_ANSWER_BYTES: usize = 16 << 20;
/// Redirects followed per download.
const MAX_REDIRECTS: usize = 5;

/// The clients and what they need to know.
pub struct Client {
    api: octocrab::Octocrab,
    download: reqwest::Client,
    base: Url,
    token: Token,
    policy: RetryPolicy,
}

/// A successful API answer.
pub struct Answer<T> {
    /// The parsed body.
    pub body: T,
    /// The `Link` header, if any.
    pub link: Option<String>,
}

/// How one attempt failed.
enum AttemptError {
    /// An HTTP answer that is not a success.
    Status {
        status: u16,
        retry_after: Option<String>,
        remaining: Option<String>,
        reset: Option<String>,
        /// Whether the answer came from the API host (else from where a redirect led).
        from_api: bool,
        /// The host that answered.
        host: String,
    },
    /// No answer: connection refused or reset, timeout, broken body.
    Transport {
        host: String,
        source: TransportError,
    },
    /// Nothing a retry could change.
    Final(GithubError),
}

impl AttemptError {
    fn status(status: u16, headers: &http::HeaderMap, from_api: bool, host: String) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        AttemptError::Status {
            status,
            retry_after: text("retry-after"),
            remaining: text("x-ratelimit-remaining"),
            reset: text("x-ratelimit-reset"),
            from_api,
            host,
        }
    }
}

impl Client {
    /// Sets up both clients for the API at `base` (must run inside the runtime: octocrab
    /// spawns its service's worker).
    pub fn new(base: Url, token: Token, policy: RetryPolicy) -> Result<Client, GithubError> {
        let api = octocrab::Octocrab::builder()
            .base_uri(base.as_str())
            .map_err(|error| GithubError::Client(Box::new(error)))?
            .personal_token(token.expose().to_owned())
            .add_header(http::header::ACCEPT, "application/vnd.github+json".into())
            .add_header(
                http::HeaderName::from_static("x-github-api-version"),
                "2022-11-28".into(),
            )
            .build()
            .map_err(|error| GithubError::Client(Box::new(error)))?;
        let download = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rxdist/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30))
            .build()
            .map_err(|error| GithubError::Client(Box::new(error.without_url())))?;
        Ok(Client {
            api,
            download,
            base,
            token,
            policy,
        })
    }

    /// The API base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// GETs `url` from the API and parses the JSON answer, retrying transient failures.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        url: &Url,
        what: &str,
        repo: &str,
        notify: &mut dyn FnMut(Notice),
    ) -> Result<Answer<T>, GithubError> {
        let host = host_of(url);
        let bytes_and_link = self
            .with_retries(what, repo, notify, || async {
                let attempt = async {
                    let response = self.api._get(url.as_str()).await.map_err(|error| {
                        AttemptError::Transport {
                            host: host.clone(),
                            source: Box::new(error),
                        }
                    })?;
                    let status = response.status();
                    if !status.is_success() {
                        return Err(AttemptError::status(
                            status.as_u16(),
                            response.headers(),
                            true,
                            host.clone(),
                        ));
                    }
                    let link = response
                        .headers()
                        .get(http::header::LINK)
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned);
                    let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                        .collect()
                        .await
                        .map_err(|error| {
                            if error.is::<http_body_util::LengthLimitError>() {
                                AttemptError::Final(GithubError::AnswerTooLarge {
                                    what: what.to_owned(),
                                    limit: MAX_ANSWER_BYTES as u64,
                                })
                            } else {
                                AttemptError::Transport {
                                    host: host.clone(),
                                    source: error,
                                }
                            }
                        })?;
                    Ok((body.to_bytes(), link))
                };
                timed(API_TIMEOUT, &host, attempt).await
            })
            .await?;
        let (bytes, link) = bytes_and_link;
        let body = serde_json::from_slice(&bytes).map_err(|source| GithubError::Json {
            what: what.to_owned(),
            source,
        })?;
        Ok(Answer { body, link })
    }

    /// Downloads the zip at `url` (at most `limit` bytes), following redirects without the
    /// token, retrying transient failures from the start.
    pub async fn download(
        &self,
        artifact: u64,
        url: &str,
        limit: u64,
        repo: &str,
        notify: &mut dyn FnMut(Notice),
    ) -> Result<Vec<u8>, GithubError> {
        let what = format!("downloading artifact {artifact}");
        let start = Url::parse(url).map_err(|_| GithubError::Redirect {
            artifact,
            reason: "to no valid URL (archive_download_url)".to_owned(),
        })?;
        self.with_retries(&what, repo, notify, || {
            let start = start.clone();
            async move {
                let host = host_of(&start);
                timed(
                    DOWNLOAD_TIMEOUT,
                    &host,
                    self.download_attempt(artifact, start, limit),
                )
                .await
            }
        })
        .await
    }

    async fn download_attempt(
        &self,
        artifact: u64,
        start: Url,
        limit: u64,
    ) -> Result<Vec<u8>, AttemptError> {
        let redirect = |reason: &str| {
            AttemptError::Final(GithubError::Redirect {
                artifact,
                reason: reason.to_owned(),
            })
        };
        // The token only ever goes to the API's own origin; a listing that points the
        // download elsewhere does not get it.
        let mut authorize = same_origin(&start, &self.base);
        let mut url = start;
        for hop in 0..=MAX_REDIRECTS {
            let host = host_of(&url);
            let mut request = self.download.get(url.clone());
            if authorize {
                let mut value =
                    http::HeaderValue::try_from(format!("Bearer {}", self.token.expose()))
                        .map_err(|error| {
                            AttemptError::Final(GithubError::Client(Box::new(error)))
                        })?;
                value.set_sensitive(true);
                request = request
                    .header(http::header::AUTHORIZATION, value)
                    .header(http::header::ACCEPT, "application/vnd.github+json")
                    .header("x-github-api-version", "2022-11-28");
            }
            let mut response = request
                .send()
                .await
                .map_err(|error| AttemptError::Transport {
                    host: host.clone(),
                    source: Box::new(error.without_url()),
                })?;
            let status = response.status();
            if status.is_redirection() {
                if hop == MAX_REDIRECTS {
                    return Err(redirect(&format!("more than {MAX_REDIRECTS} times")));
                }
                let location = response
                    .headers()
                    .get(http::header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .ok_or_else(|| redirect("without a Location"))?;
                let next = url
                    .join(location)
                    .map_err(|_| redirect("to no valid URL"))?;
                if url.scheme() == "https" && next.scheme() != "https" {
                    return Err(redirect(&format!("from https to {}", next.scheme())));
                }
                if !matches!(next.scheme(), "https" | "http") {
                    return Err(redirect(&format!("to a {} URL", next.scheme())));
                }
                // GitHub's instructions: follow to blob storage without Authorization.
                authorize = false;
                url = next;
                continue;
            }
            if !status.is_success() {
                return Err(AttemptError::status(
                    status.as_u16(),
                    response.headers(),
                    hop == 0,
                    host,
                ));
            }
            let too_large = || AttemptError::Final(GithubError::TooLarge { artifact, limit });
            if response
                .content_length()
                .is_some_and(|length| length > limit)
            {
                return Err(too_large());
            }
            let mut bytes = Vec::new();
            while let Some(chunk) =
                response
                    .chunk()
                    .await
                    .map_err(|error| AttemptError::Transport {
                        host: host.clone(),
                        source: Box::new(error.without_url()),
                    })?
            {
                if (bytes.len() + chunk.len()) as u64 > limit {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            return Ok(bytes);
        }
        Err(redirect(&format!("more than {MAX_REDIRECTS} times")))
    }

    /// Runs `attempt` until it succeeds, fails for good, or the attempts or the wait budget
    /// run out.
    async fn with_retries<T, F, Fut>(
        &self,
        what: &str,
        repo: &str,
        notify: &mut dyn FnMut(Notice),
        mut attempt: F,
    ) -> Result<T, GithubError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AttemptError>>,
    {
        let policy = self.policy;
        let mut waited = Duration::ZERO;
        let mut number = 1;
        loop {
            let error = match attempt().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let (transient, give_up) = match error {
                AttemptError::Final(error) => return Err(error),
                AttemptError::Status {
                    status,
                    ref retry_after,
                    ref remaining,
                    ref reset,
                    from_api,
                    ref host,
                } => {
                    let headers = RateHeaders {
                        retry_after: retry_after.as_deref(),
                        remaining: remaining.as_deref(),
                        reset: reset.as_deref(),
                    };
                    let transient = classify(status, headers, unix_now());
                    let final_error = status_error(status, from_api, host, what, repo, number);
                    let Some(transient) = transient else {
                        return Err(final_error);
                    };
                    let give_up = match transient {
                        Transient::RateLimit { reset, .. } => GithubError::RateLimited {
                            what: what.to_owned(),
                            until: reset.map(format_unix),
                        },
                        Transient::Server(_) | Transient::Network => final_error,
                    };
                    (transient, give_up)
                }
                AttemptError::Transport { host, source } => (
                    Transient::Network,
                    GithubError::Network {
                        what: what.to_owned(),
                        host,
                        attempts: number,
                        source,
                    },
                ),
            };
            let wait = transient.wait(&policy, number + 1);
            if number >= policy.max_attempts || waited + wait > policy.max_total_wait {
                return Err(give_up);
            }
            notify(Notice::Retrying {
                what: what.to_owned(),
                reason: transient,
                wait,
                next: number + 1,
                of: policy.max_attempts,
            });
            tokio::time::sleep(policy.real(wait)).await;
            waited += wait;
            number += 1;
        }
    }
}

/// The one-line error for a final status.
fn status_error(
    status: u16,
    from_api: bool,
    host: &str,
    what: &str,
    repo: &str,
    attempts: u32,
) -> GithubError {
    let what = what.to_owned();
    if !from_api {
        return GithubError::Status {
            what: format!("{what} from {host}"),
            status,
            attempts,
        };
    }
    match status {
        401 => GithubError::Unauthorized { what },
        403 => GithubError::Forbidden { what },
        404 => GithubError::NotFound {
            what,
            repo: repo.to_owned(),
        },
        410 => GithubError::Gone { what },
        _ => GithubError::Status {
            what,
            status,
            attempts,
        },
    }
}

/// Runs `attempt` with a deadline; running out of time is a transport failure.
async fn timed<T>(
    limit: Duration,
    host: &str,
    attempt: impl Future<Output = Result<T, AttemptError>>,
) -> Result<T, AttemptError> {
    match tokio::time::timeout(limit, attempt).await {
        Ok(result) => result,
        Err(_) => Err(AttemptError::Transport {
            host: host.to_owned(),
            source: format!("no complete answer within {}s", limit.as_secs()).into(),
        }),
    }
}

/// `host[:port]` of a URL: all that messages say about where a request went.
fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => "an unnamed host".to_owned(),
    }
}

fn same_origin(one: &Url, other: &Url) -> bool {
    one.scheme() == other.scheme()
        && one.host_str() == other.host_str()
        && one.port_or_known_default() == other.port_or_known_default()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

fn format_unix(seconds: u64) -> String {
    humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let api = Url::parse("https://api.github.com").unwrap();
        let zip =
            Url::parse("https://api.github.com:443/repos/o/r/actions/artifacts/1/zip").unwrap();
        assert!(same_origin(&api, &zip));
        for other in [
            "http://api.github.com/x",
            "https://api.github.com.evil.example/x",
            "https://api.github.com:8443/x",
            "https://blob.core.windows.net/x",
        ] {
            assert!(!same_origin(&api, &Url::parse(other).unwrap()), "{other}");
        }
        assert_eq!(
            host_of(&Url::parse("http://127.0.0.1:9/x?sig=secret").unwrap()),
            "127.0.0.1:9"
        );
    }

    #[test]
    fn final_statuses_name_their_cause() {
        let line =
            |status, from_api| status_error(status, from_api, "h", "listing", "o/r", 1).to_string();
        assert!(line(401, true).contains("401 Unauthorized"));
        assert!(line(403, true).contains("actions: read"));
        assert!(line(404, true).contains("o/r does not exist"));
        assert!(line(410, true).contains("expired"));
        assert_eq!(
            line(403, false),
            "GitHub answered 403 to listing from h (after 1 attempts)"
        );
        assert_eq!(format_unix(0), "1970-01-01T00:00:00Z");
    }
}
