//! Fetching the newest timing history of a branch: the module's entry point.
//!
//! Builds a current-thread tokio runtime for the duration of one fetch (nothing outside
//! [`crate::github`] is async), then: find the branch (given, or the repository's default),
//! page through the artifacts of the wanted name, pick the newest usable one, download it,
//! check its digest, take the one history file out of the zip and check that it decodes.

use std::time::SystemTime;

use reqwest::Url;

use super::client::Client;
use super::payload::{self, ArtifactList, Candidate, Repository, Skipped};
use super::retry::RetryPolicy;
use super::{GithubError, Notice, Repo, Token, archive};
use crate::timings::{History, store};

/// Pages of 100 artifacts read at most while looking for a usable one.
const MAX_PAGES: usize = 20;

/// Where the branch to take timings from comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BranchChoice {
    /// `--branch`.
    Given(String),
    /// The repository's default branch, read from the event payload.
    FromEvent(String),
    /// The repository's default branch, asked from the API.
    AskApi,
}

/// What to fetch, and from where.
#[derive(Debug, Clone)]
pub struct FetchRequest<'a> {
    /// The API base URL (`GITHUB_API_URL`).
    pub api_url: &'a str,
    /// The repository.
    pub repo: &'a Repo,
    /// The token (redacted in `Debug`).
    pub token: &'a Token,
    /// The artifact name.
    pub artifact: &'a str,
    /// The branch.
    pub branch: BranchChoice,
    /// The name of the history file at the zip's root.
    pub member: &'a str,
    /// Cap on the zip and on the unpacked history.
    pub max_bytes: u64,
    /// Retry bounds.
    pub retry: RetryPolicy,
}

/// A fetched and checked history.
#[derive(Debug)]
pub struct Fetched {
    /// The history file's bytes, exactly as uploaded.
    pub bytes: Vec<u8>,
    /// The same, decoded.
    pub history: History,
    /// The artifact it came from.
    pub artifact: Candidate,
    /// The branch it was made on.
    pub branch: String,
}

/// Fetches the newest usable history. `notify` hears about retries and choices as they
/// happen.
pub fn fetch_history(
    request: &FetchRequest<'_>,
    notify: &mut dyn FnMut(Notice),
) -> Result<Fetched, GithubError> {
    let base = api_base(request.api_url)?;
    // rustls needs a process-wide crypto provider; a second install (a second fetch in one
    // process) fails harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| GithubError::Client(Box::new(error)))?;
    runtime.block_on(async {
        let client = Client::new(base, request.token.clone(), request.retry)?;
        fetch(&client, request, notify).await
    })
}

async fn fetch(
    client: &Client,
    request: &FetchRequest<'_>,
    notify: &mut dyn FnMut(Notice),
) -> Result<Fetched, GithubError> {
    let repo_name = request.repo.to_string();
    let branch = resolve_branch(client, request, notify).await?;
    let artifact = find_artifact(client, request, &branch, notify).await?;
    if artifact.size.is_some_and(|size| size > request.max_bytes) {
        return Err(GithubError::TooLarge {
            artifact: artifact.id,
            limit: request.max_bytes,
        });
    }
    notify(Notice::Downloading {
        artifact: artifact.clone(),
    });
    let zip = client
        .download(
            artifact.id,
            &artifact.download_url,
            request.max_bytes,
            &repo_name,
            notify,
        )
        .await?;
    if let Some(digest) = &artifact.digest {
        archive::verify_digest(artifact.id, &zip, digest)?;
    }
    let bytes = archive::read_member(artifact.id, &zip, request.member, request.max_bytes)?;
    drop(zip);
    let history = store::decode(&bytes).map_err(|source| GithubError::NotAHistory {
        artifact: artifact.id,
        name: request.member.to_owned(),
        source,
    })?;
    Ok(Fetched {
        bytes,
        history,
        artifact,
        branch,
    })
}

/// The branch whose timings are wanted: given, from the event, or asked from the API.
async fn resolve_branch(
    client: &Client,
    request: &FetchRequest<'_>,
    notify: &mut dyn FnMut(Notice),
) -> Result<String, GithubError> {
    match &request.branch {
        BranchChoice::Given(branch) => Ok(branch.clone()),
        BranchChoice::FromEvent(branch) => {
            notify(Notice::DefaultBranch {
                branch: branch.clone(),
                from: "GITHUB_EVENT_PATH",
            });
            Ok(branch.clone())
        }
        BranchChoice::AskApi => {
            let repo_name = request.repo.to_string();
            let what = format!("reading repository {repo_name}");
            let url = endpoint(client.base(), request.repo, &[]);
            let answer = client
                .get_json::<Repository>(&url, &what, &repo_name, notify)
                .await?;
            let branch = answer
                .body
                .default_branch
                .filter(|branch| !branch.is_empty())
                .ok_or(GithubError::NoDefaultBranch { what })?;
            notify(Notice::DefaultBranch {
                branch: branch.clone(),
                from: "the API",
            });
            Ok(branch)
        }
    }
}

/// The newest usable artifact, paging through the listing until a page holds one.
async fn find_artifact(
    client: &Client,
    request: &FetchRequest<'_>,
    branch: &str,
    notify: &mut dyn FnMut(Notice),
) -> Result<Candidate, GithubError> {
    let repo_name = request.repo.to_string();
    let what = format!("listing artifacts of {repo_name}");
    let mut url = endpoint(client.base(), request.repo, &["actions", "artifacts"]);
    url.query_pairs_mut()
        .append_pair("name", request.artifact)
        .append_pair("per_page", "100");
    let now = SystemTime::now();
    let mut candidates = Vec::new();
    let mut skipped = Skipped::default();
    for _ in 0..MAX_PAGES {
        let answer = client
            .get_json::<ArtifactList>(&url, &what, &repo_name, notify)
            .await?;
        payload::select(
            &answer.body.artifacts,
            request.artifact,
            branch,
            now,
            &mut candidates,
            &mut skipped,
        );
        // GitHub lists the newest first: once a page holds a usable artifact, later pages
        // hold only older ones.
        if !candidates.is_empty() {
            break;
        }
        let Some(next) = answer.link.as_deref().and_then(payload::next_link) else {
            break;
        };
        url = Url::parse(next).map_err(|_| GithubError::Status {
            what: format!("{what} (its Link header names no valid URL)"),
            status: 200,
            attempts: 1,
        })?;
    }
    payload::newest(candidates).ok_or_else(|| GithubError::NoArtifact {
        name: request.artifact.to_owned(),
        branch: branch.to_owned(),
        repo: repo_name,
        seen: skipped.seen,
        expired: skipped.expired,
        fork: skipped.fork,
        other_branch: skipped.other_branch,
        unknown_run: skipped.unknown_run,
    })
}

/// The API base: an http(s) URL; a trailing slash is dropped so paths join the same way
/// for `https://api.github.com` and `https://ghe.example.com/api/v3/`.
fn api_base(text: &str) -> Result<Url, GithubError> {
    let invalid = || GithubError::ApiUrl {
        url: text.to_owned(),
    };
    let url = Url::parse(text.trim()).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.query().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(invalid());
    }
    Ok(url)
}

/// `{base}/repos/{owner}/{name}/{rest...}`, each segment escaped.
fn endpoint(base: &Url, repo: &Repo, rest: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments
            .pop_if_empty()
            .extend(["repos", repo.owner(), repo.name()])
            .extend(rest);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_join_under_any_base() {
        let repo = Repo::parse("octo/docs").unwrap();
        for (base, expected) in [
            (
                "https://api.github.com",
                "https://api.github.com/repos/octo/docs/actions/artifacts",
            ),
            (
                "https://ghe.example.com/api/v3/",
                "https://ghe.example.com/api/v3/repos/octo/docs/actions/artifacts",
            ),
        ] {
            let url = endpoint(&api_base(base).unwrap(), &repo, &["actions", "artifacts"]);
            assert_eq!(url.as_str(), expected);
        }
    }

    #[test]
    fn api_urls_must_be_plain_http() {
        for bad in [
            "",
            "api.github.com",
            "ftp://x",
            "https://u:p@x",
            "https://x?q=1",
        ] {
            assert!(api_base(bad).is_err(), "{bad}");
        }
    }
}
