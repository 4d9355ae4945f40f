//! The only HTTP code in rxdist: finding, downloading and checking the timing history that
//! an earlier workflow run uploaded as an artifact (`rxdist timings fetch`).
//!
//! Async lives here and nowhere else: [`fetch_history`] builds a current-thread runtime, does
//! its requests (octocrab for the REST API, reqwest for the download) and returns plain data.
//! The module reads no environment and writes no file; the command hands it everything and
//! installs what it returns. It never prints: progress goes to the caller as [`Notice`]s.

mod archive;
mod client;
mod error;
mod fetch;
mod payload;
mod repo;
mod retry;
mod token;

use std::fmt;
use std::time::Duration;

pub use error::{GithubError, TransportError};
pub use fetch::{BranchChoice, FetchRequest, Fetched, fetch_history};
pub use payload::{Candidate, default_branch_from_event};
pub use repo::Repo;
pub use retry::{RetryPolicy, Transient};
pub use token::Token;

/// Something worth telling the user while a fetch goes on.
#[derive(Debug, Clone)]
pub enum Notice {
    /// The branch whose timings are used, when it was not given.
    DefaultBranch {
        /// The branch.
        branch: String,
        /// Where it came from.
        from: &'static str,
    },
    /// A request failed transiently and is tried again.
    Retrying {
        /// The request.
        what: String,
        /// Why.
        reason: Transient,
        /// How long until the next attempt.
        wait: Duration,
        /// The next attempt's number.
        next: u32,
        /// Attempts allowed.
        of: u32,
    },
    /// The chosen artifact is being downloaded.
    Downloading {
        /// The artifact.
        artifact: Candidate,
    },
}

impl fmt::Display for Notice {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::DefaultBranch { branch, from } => write!(
                formatter,
                "using timings from {branch:?}, the repository's default branch (from {from})"
            ),
            Notice::Retrying {
                what,
                reason,
                wait,
                next,
                of,
            } => {
                let why = match reason {
                    Transient::RateLimit { .. } => "rate limited".to_owned(),
                    Transient::Server(status) => format!("GitHub answered {status}"),
                    Transient::Network => "no answer".to_owned(),
                };
                write!(
                    formatter,
                    "{what}: {why}; retrying in {} (attempt {next} of {of})",
                    humantime::format_duration(*wait)
                )
            }
            Notice::Downloading { artifact } => {
                write!(formatter, "downloading artifact {}", artifact.id)?;
                if let Some(run) = artifact.run_id {
                    write!(formatter, " of workflow run {run}")?;
                }
                if let Some(created) = &artifact.created_at {
                    write!(formatter, ", created {created}")?;
                }
                Ok(())
            }
        }
    }
}
