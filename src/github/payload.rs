//! GitHub's JSON payloads, read leniently, and choosing the artifact (pure).
//!
//! GitHub adds fields over time and GitHub Enterprise Server lags behind, so every field rxdist
//! does not strictly need is optional and unknown fields are ignored. What an artifact must
//! have to be used (an id, a download URL, a workflow run on the wanted branch of the
//! repository itself) is checked in [`select`], which explains what it skipped.

use std::time::SystemTime;

use serde::Deserialize;

/// `GET /repos/{owner}/{repo}/actions/artifacts`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ArtifactList {
    /// This page.
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
}

/// One artifact.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Artifact {
    /// The artifact id.
    pub id: u64,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Size of the zip in bytes.
    #[serde(default)]
    pub size_in_bytes: Option<u64>,
    /// Where the zip is downloaded (answers with a redirect to blob storage).
    #[serde(default)]
    pub archive_download_url: Option<String>,
    /// Whether it has expired.
    #[serde(default)]
    pub expired: Option<bool>,
    /// `sha256:<hex>` of the zip (artifacts uploaded by upload-artifact v4 and later).
    #[serde(default)]
    pub digest: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub created_at: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The run that uploaded it.
    #[serde(default)]
    pub workflow_run: Option<WorkflowRun>,
}

/// The workflow run an artifact came from.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorkflowRun {
    /// The run id.
    #[serde(default)]
    pub id: Option<u64>,
    /// The repository the run belongs to.
    #[serde(default)]
    pub repository_id: Option<u64>,
    /// The repository whose code ran (a fork's id for a pull request from a fork).
    #[serde(default)]
    pub head_repository_id: Option<u64>,
    /// The branch that ran.
    #[serde(default)]
    pub head_branch: Option<String>,
    /// The commit that ran.
    #[serde(default)]
    pub head_sha: Option<String>,
}

/// `GET /repos/{owner}/{repo}`, or the `repository` of an event payload.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Repository {
    /// `owner/name`.
    #[serde(default)]
    pub full_name: Option<String>,
    /// The default branch.
    #[serde(default)]
    pub default_branch: Option<String>,
}

/// The event payload at `GITHUB_EVENT_PATH` (only what rxdist reads).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    /// The repository the workflow runs in.
    #[serde(default)]
    pub repository: Option<Repository>,
}

/// An artifact that qualifies, with what is known about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The artifact id.
    pub id: u64,
    /// The download URL.
    pub download_url: String,
    /// Listed zip size, if any.
    pub size: Option<u64>,
    /// Listed digest, if any.
    pub digest: Option<String>,
    /// When it was created (RFC 3339 as listed), for messages.
    pub created_at: Option<String>,
    /// The run that made it.
    pub run_id: Option<u64>,
    /// The commit it was made on.
    pub head_sha: Option<String>,
    created: Option<SystemTime>,
}

/// What [`select`] skipped, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Artifacts of the wanted name that were looked at.
    pub seen: usize,
    /// Expired (by flag or by `expires_at`).
    pub expired: usize,
    /// Made by a run of a fork.
    pub fork: usize,
    /// Made on another branch.
    pub other_branch: usize,
    /// Without the workflow run fields needed to tell (or without a download URL).
    pub unknown_run: usize,
}

/// Adds the qualifying artifacts of `page` to `candidates` and counts the rest in `skipped`.
/// An artifact qualifies when it has the name, has not expired at `now`, comes from a run on
/// `branch` whose code came from the repository itself (not a fork), and can be downloaded.
pub fn select(
    page: &[Artifact],
    name: &str,
    branch: &str,
    now: SystemTime,
    candidates: &mut Vec<Candidate>,
    skipped: &mut Skipped,
) {
    for artifact in page {
        if artifact.name.as_deref() != Some(name) {
            // The API filters by name already; anything else is not ours to count.
            continue;
        }
        skipped.seen += 1;
        let expires = artifact.expires_at.as_deref().and_then(parse_time);
        if artifact.expired == Some(true) || expires.is_some_and(|expires| expires <= now) {
            skipped.expired += 1;
            continue;
        }
        let Some(run) = &artifact.workflow_run else {
            skipped.unknown_run += 1;
            continue;
        };
        let (Some(repository), Some(head_repository), Some(head_branch), Some(url)) = (
            run.repository_id,
            run.head_repository_id,
            run.head_branch.as_deref(),
            artifact.archive_download_url.as_deref(),
        ) else {
            skipped.unknown_run += 1;
            continue;
        };
        if repository != head_repository {
            skipped.fork += 1;
            continue;
        }
        if head_branch != branch {
            skipped.other_branch += 1;
            continue;
        }
        candidates.push(Candidate {
            id: artifact.id,
            download_url: url.to_owned(),
            size: artifact.size_in_bytes,
            digest: artifact.digest.clone(),
            created_at: artifact.created_at.clone(),
            run_id: run.id,
            head_sha: run.head_sha.clone(),
            created: artifact.created_at.as_deref().and_then(parse_time),
        });
    }
}

/// The newest candidate: latest `created_at`, ties (and missing dates) broken by the larger
/// id, as GitHub hands out ids in increasing order.
pub fn newest(candidates: Vec<Candidate>) -> Option<Candidate> {
    candidates
        .into_iter()
        .max_by_key(|candidate| (candidate.created, candidate.id))
}

/// The `rel="next"` URL of a `Link` header, as GitHub writes it:
/// `<https://api.github.com/...&page=2>; rel="next", <...&page=5>; rel="last"`.
pub fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .filter_map(|param| param.trim().strip_prefix("rel="))
            .any(|rel| {
                rel.trim_matches('"')
                    .split_whitespace()
                    .any(|r| r == "next")
            })
            .then_some(target)
    })
}

/// The default branch of `full_name` named in an event payload, if the payload is about that
/// repository (`--repo` may name another one).
pub fn default_branch_from_event(payload: &[u8], is_repo: impl Fn(&str) -> bool) -> Option<String> {
    let event: Event = serde_json::from_slice(payload).ok()?;
    let repository = event.repository?;
    if !is_repo(repository.full_name.as_deref()?) {
        return None;
    }
    repository
        .default_branch
        .filter(|branch| !branch.is_empty())
}

fn parse_time(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn artifact(id: u64, created: &str, branch: &str, head_repo: u64, expired: bool) -> Artifact {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "node_id": "MDg6QXJ0aWZhY3QxMQ==",
            "name": "rxdist-timings",
            "size_in_bytes": 556,
            "url": format!("https://api.github.com/repos/o/r/actions/artifacts/{id}"),
            "archive_download_url": format!("https://api.github.com/repos/o/r/actions/artifacts/{id}/zip"),
            "expired": expired,
            "digest": "sha256:00",
            "created_at": created,
            "updated_at": created,
            "expires_at": "2030-01-01T00:00:00Z",
            "some_future_field": {"nested": [1, 2]},
            "workflow_run": {
                "id": 100 + id,
                "repository_id": 7,
                "head_repository_id": head_repo,
                "head_branch": branch,
                "head_sha": "abc"
            }
        }))
        .unwrap()
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) // 2027-01-15
    }

    #[test]
    fn skips_expired_fork_and_other_branch_and_picks_the_newest() {
        let page = vec![
            artifact(1, "2026-01-01T00:00:00Z", "main", 7, false),
            artifact(2, "2026-03-01T00:00:00Z", "main", 7, true),
            artifact(3, "2026-04-01T00:00:00Z", "main", 99, false),
            artifact(4, "2026-05-01T00:00:00Z", "feature", 7, false),
            artifact(5, "2026-02-01T00:00:00Z", "main", 7, false),
            Artifact {
                id: 6,
                name: Some("rxdist-timings".into()),
                ..Artifact::default()
            },
            Artifact {
                id: 8,
                name: Some("other".into()),
                ..Artifact::default()
            },
        ];
        let mut candidates = Vec::new();
        let mut skipped = Skipped::default();
        select(
            &page,
            "rxdist-timings",
            "main",
            now(),
            &mut candidates,
            &mut skipped,
        );
        assert_eq!(
            skipped,
            Skipped {
                seen: 6,
                expired: 1,
                fork: 1,
                other_branch: 1,
                unknown_run: 1
            }
        );
        assert_eq!(newest(candidates).unwrap().id, 5);
    }

    #[test]
    fn an_expiry_date_in_the_past_counts_as_expired() {
        let mut old = artifact(1, "2020-01-01T00:00:00Z", "main", 7, false);
        old.expires_at = Some("2020-04-01T00:00:00Z".into());
        let mut candidates = Vec::new();
        let mut skipped = Skipped::default();
        select(
            &[old],
            "rxdist-timings",
            "main",
            now(),
            &mut candidates,
            &mut skipped,
        );
        assert!(candidates.is_empty());
        assert_eq!(skipped.expired, 1);
    }

    #[test]
    fn link_headers() {
        let header = "<https://api.github.com/repositories/1/actions/artifacts?name=x&per_page=100&page=2>; rel=\"next\", \
                      <https://api.github.com/repositories/1/actions/artifacts?name=x&per_page=100&page=3>; rel=\"last\"";
        assert_eq!(
            next_link(header),
            Some(
                "https://api.github.com/repositories/1/actions/artifacts?name=x&per_page=100&page=2"
            )
        );
        let last_page = "<https://api.github.com/x?page=1>; rel=\"prev\", <https://api.github.com/x?page=1>; rel=\"first\"";
        assert_eq!(next_link(last_page), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn default_branch_of_the_same_repository_only() {
        let payload = br#"{"ref": "refs/heads/x", "repository": {"full_name": "Octo/Docs", "default_branch": "trunk", "id": 1}}"#;
        assert_eq!(
            default_branch_from_event(payload, |name| name.eq_ignore_ascii_case("octo/docs")),
            Some("trunk".into())
        );
        assert_eq!(default_branch_from_event(payload, |_| false), None);
        assert_eq!(default_branch_from_event(b"not json", |_| true), None);
        assert_eq!(default_branch_from_event(b"{}", |_| true), None);
    }
}
