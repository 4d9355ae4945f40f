//! Every way fetching timings from GitHub can fail, each explained in one line.
//!
//! None of these is fatal on its own: the command turns them into a warning (planning goes on
//! without history) unless `--require-timings` asks for an error. Messages never hold the token
//! nor a download URL's query (blob storage signs its URLs there).

use crate::timings::StoreError;

/// Boxed cause of a transport failure (hyper's, reqwest's or octocrab's error).
pub type TransportError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why no timings came from GitHub.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// No token anywhere.
    #[error(
        "no GitHub token: pass --token or set GITHUB_TOKEN or GH_TOKEN (downloading an artifact needs one)"
    )]
    NoToken,
    /// `--repo` or `GITHUB_REPOSITORY` is not `OWNER/NAME` (a remote URL is never repeated in
    /// a message: it may hold credentials).
    #[error("{value:?} is not OWNER/NAME of a GitHub repository")]
    InvalidRepo {
        /// What was given.
        value: String,
    },
    /// `GITHUB_API_URL` is no http(s) URL.
    #[error("GITHUB_API_URL {url:?} is not an http(s) URL")]
    ApiUrl {
        /// The value.
        url: String,
    },
    /// The HTTP client or the runtime could not be set up.
    #[error("cannot set up the HTTP client")]
    Client(#[source] TransportError),
    /// 401.
    #[error(
        "GitHub answered 401 Unauthorized to {what}: the token is invalid or expired (check --token, GITHUB_TOKEN or GH_TOKEN)"
    )]
    Unauthorized {
        /// The request.
        what: String,
    },
    /// 403 without rate-limit headers.
    #[error(
        "GitHub answered 403 Forbidden to {what}: the token may not read Actions artifacts (give the job `permissions: actions: read`)"
    )]
    Forbidden {
        /// The request.
        what: String,
    },
    /// 404.
    #[error(
        "GitHub answered 404 Not Found to {what}: {repo} does not exist or the token cannot see it (check --repo and the token's repository access)"
    )]
    NotFound {
        /// The request.
        what: String,
        /// The repository.
        repo: String,
    },
    /// 410.
    #[error("GitHub answered 410 Gone to {what}: the artifact has expired or was deleted")]
    Gone {
        /// The request.
        what: String,
    },
    /// A rate limit whose end is further away than the retry budget, or that outlasted it.
    #[error(
        "GitHub's API rate limit stopped {what}{}: try again later, or use a token with a higher limit",
        until.as_ref().map(|until| format!(" until {until}")).unwrap_or_default()
    )]
    RateLimited {
        /// The request.
        what: String,
        /// When the limit resets (RFC 3339), if GitHub said.
        until: Option<String>,
    },
    /// Any other unexpected status, or 5xx after every retry.
    #[error("GitHub answered {status} to {what} (after {attempts} attempts)")]
    Status {
        /// The request.
        what: String,
        /// The HTTP status.
        status: u16,
        /// How many times it was tried.
        attempts: u32,
    },
    /// The server could not be reached, or the connection broke, on every attempt.
    #[error("cannot reach {host} for {what} (after {attempts} attempts)")]
    Network {
        /// The request.
        what: String,
        /// The host (no path or query: those may be signed).
        host: String,
        /// How many times it was tried.
        attempts: u32,
        /// The last failure.
        #[source]
        source: TransportError,
    },
    /// A JSON answer that does not have the fields rxdist needs.
    #[error("GitHub's answer to {what} is not the JSON rxdist expects")]
    Json {
        /// The request.
        what: String,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// An API answer larger than any real one.
    #[error("GitHub's answer to {what} is larger than {limit} bytes")]
    AnswerTooLarge {
        /// The request.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// No artifact qualifies.
    #[error(
        "no artifact named {name:?} from branch {branch:?} of {repo} ({seen} listed: {expired} expired, {fork} from forks, {other_branch} from other branches, {unknown_run} without a workflow run)"
    )]
    NoArtifact {
        /// The artifact name.
        name: String,
        /// The branch.
        branch: String,
        /// The repository.
        repo: String,
        /// Artifacts of that name listed.
        seen: usize,
        /// Of which expired.
        expired: usize,
        /// Of which made by a run on a fork.
        fork: usize,
        /// Of which made on another branch.
        other_branch: usize,
        /// Of which without workflow run details.
        unknown_run: usize,
    },
    /// The repository's default branch could not be found out.
    #[error("GitHub's answer to {what} names no default branch; pass --branch")]
    NoDefaultBranch {
        /// The request.
        what: String,
    },
    /// A redirect rxdist refuses to follow.
    #[error("the download of artifact {artifact} was redirected {reason}")]
    Redirect {
        /// The artifact id.
        artifact: u64,
        /// What was wrong with it.
        reason: String,
    },
    /// The zip (or its listed size) is over `--max-bytes`.
    #[error("artifact {artifact} is larger than the limit of {limit} bytes (--max-bytes)")]
    TooLarge {
        /// The artifact id.
        artifact: u64,
        /// The limit.
        limit: u64,
    },
    /// GitHub's `digest` is not `sha256:<64 hex digits>`.
    #[error("artifact {artifact} has a digest rxdist cannot check: {digest:?}")]
    UnknownDigest {
        /// The artifact id.
        artifact: u64,
        /// The digest as listed.
        digest: String,
    },
    /// The downloaded bytes are not the artifact GitHub listed.
    #[error("artifact {artifact} is corrupt: its sha256 is {actual}, GitHub lists {expected}")]
    DigestMismatch {
        /// The artifact id.
        artifact: u64,
        /// The listed digest.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// Not a zip, or a damaged one.
    #[error("artifact {artifact} is not a readable zip")]
    Zip {
        /// The artifact id.
        artifact: u64,
        /// The zip reader's complaint.
        #[source]
        source: zip::result::ZipError,
    },
    /// Anything but exactly one file of the expected name at the zip's root.
    #[error(
        "artifact {artifact} must hold exactly one file, {expected:?}, at its root; it holds {found}"
    )]
    Members {
        /// The artifact id.
        artifact: u64,
        /// The expected file name.
        expected: String,
        /// What it holds (names quoted, the first few).
        found: String,
    },
    /// The member unpacks to more than `--max-bytes`.
    #[error("{name:?} in artifact {artifact} unpacks to more than {limit} bytes (--max-bytes)")]
    MemberTooLarge {
        /// The artifact id.
        artifact: u64,
        /// The member.
        name: String,
        /// The limit.
        limit: u64,
    },
    /// The member is not a timing history.
    #[error("{name:?} in artifact {artifact} is not a timing history")]
    NotAHistory {
        /// The artifact id.
        artifact: u64,
        /// The member.
        name: String,
        /// Why.
        #[source]
        source: StoreError,
    },
}
