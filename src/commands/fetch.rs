//! `rxdist timings fetch`: the newest timing history of a branch, from GitHub's artifacts.
//!
//! Everything HTTP happens in [`crate::github`]; this command gathers what it needs (the
//! repository, from the git remote if nothing names it; the default branch from the event
//! payload), prints its notices, and installs the checked history atomically. No usable
//! timings is a warning and exit 0, so the CI job plans without history, unless
//! `--require-timings` makes it an error.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};

use super::diagnostics;
use crate::atomic;
use crate::error::{Completion, Error};
use crate::github::{self, BranchChoice, FetchRequest, GithubError, Repo};
use crate::settings::{FetchSettings, SettingsError};

/// The largest event payload read for the default branch (push payloads with many commits
/// run to a few MB).
const MAX_EVENT_BYTES: u64 = 64 << 20;

/// Runs `rxdist timings fetch`.
pub fn fetch(settings: &FetchSettings, cwd: &Path) -> Result<Completion, Error> {
    let repo = match &settings.repo {
        Some(repo) => repo.clone(),
        None => repo_from_git(cwd).ok_or(SettingsError::Missing {
            what: "the repository",
            hint: "pass --repo OWNER/NAME or set GITHUB_REPOSITORY (the git remote origin names no GitHub repository)",
        })?,
    };
    let Some(token) = &settings.token else {
        return unavailable(settings, GithubError::NoToken);
    };
    let branch = match &settings.branch {
        Some(branch) => BranchChoice::Given(branch.clone()),
        None => settings
            .event_path
            .as_deref()
            .and_then(|path| event_default_branch(path, &repo))
            .map_or(BranchChoice::AskApi, BranchChoice::FromEvent),
    };
    let request = FetchRequest {
        api_url: &settings.api_url,
        repo: &repo,
        token,
        artifact: &settings.artifact,
        branch,
        member: &settings.member,
        max_bytes: settings.max_bytes,
        retry: settings.retry,
    };
    let fetched = match github::fetch_history(&request, &mut |notice| diagnostics::info(notice)) {
        Ok(fetched) => fetched,
        Err(error) => return unavailable(settings, error),
    };
    atomic::write(&settings.history, &fetched.bytes).map_err(|source| Error::Write {
        path: settings.history.clone(),
        source,
    })?;
    let mut origin = format!("artifact {}", fetched.artifact.id);
    if let Some(run) = fetched.artifact.run_id {
        let _ = write!(origin, ", workflow run {run}");
    }
    let _ = write!(origin, ", branch {}", fetched.branch);
    if let Some(sha) = &fetched.artifact.head_sha {
        let _ = write!(origin, ", commit {}", sha.get(..12).unwrap_or(sha));
    }
    diagnostics::info(format_args!(
        "installed {} ({} runs, {} tests) from {repo}'s {origin}",
        settings.history.display(),
        fetched.history.runs(),
        fetched.history.len(),
    ));
    Ok(Completion::Success)
}

/// No usable timings: an error with `--require-timings`, else a warning (and an annotation
/// in GitHub Actions) and success, leaving the history file as it was.
fn unavailable(settings: &FetchSettings, error: GithubError) -> Result<Completion, Error> {
    if settings.require_timings {
        return Err(Error::TimingsUnavailable(error));
    }
    let message = format!(
        "no timings fetched, planning goes on without them: {}",
        one_line(&error)
    );
    diagnostics::warning(&message);
    if settings.github_actions {
        // Workflow commands are read from standard output.
        println!(
            "::warning title=rxdist timings fetch::{}",
            escape_data(&message)
        );
    }
    Ok(Completion::Success)
}

/// The error and its causes on one line.
fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string().replace('\n', " ");
        // Some clients repeat their cause in their own message.
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

/// Escapes a workflow command's message as the runner expects.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The default branch the event payload names for `repo`, if it can be read.
fn event_default_branch(path: &Path, repo: &Repo) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut payload = Vec::new();
    file.take(MAX_EVENT_BYTES).read_to_end(&mut payload).ok()?;
    github::default_branch_from_event(&payload, |name| repo.is(name))
}

/// The repository the git remote `origin` of `cwd` points at. Its URL may carry
/// credentials, so it is parsed here and never printed.
fn repo_from_git(cwd: &Path) -> Option<Repo> {
    let output = Command::new("git")
        .args(["config", "--get", "remote.origin.url"])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Repo::from_remote_url(&String::from_utf8_lossy(&output.stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_what_would_end_them() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
    }
}
