//! End-to-end tests of `rxdist timings fetch`: the real binary against a fake GitHub on
//! 127.0.0.1 (`fake_github`), with zips built here around histories that `rxdist timings
//! record` made from real JUnit reports.
//!
//! Every run goes through [`Case::run`], which asserts that neither the token nor the blob
//! URL's signature appears in anything rxdist printed. Retry waits are shortened to a
//! millisecond per second through the hidden `RXDIST_FETCH_WAIT_UNIT_MS`.

mod common;
mod fake_github;

use std::io::{Cursor, Write as _};
use std::path::{Path, PathBuf};

use common::{fixture, rxdist};
use fake_github::{
    ArtifactSpec, FakeGithub, OLD_NAME, OWNER, REPO_ID, Reply, Route, SIGNATURE, TOKEN,
};
use zip::write::SimpleFileOptions;

/// The exit code of `--require-timings` without usable timings.
const TIMINGS_UNAVAILABLE: i32 = 11;

/// A history recorded by the real binary from a real pytest report.
fn pytest_history(dir: &Path) -> Vec<u8> {
    record(
        dir,
        "pytest.zst",
        &[
            "--input",
            fixture("junit/pytest-xunit2.xml").to_str().unwrap(),
            "--tests",
            fixture("junit/pytest-collected.txt").to_str().unwrap(),
        ],
    )
}

/// Another one, from a real cargo-nextest report.
fn nextest_history(dir: &Path) -> Vec<u8> {
    record(
        dir,
        "nextest.zst",
        &["--input", fixture("junit/nextest.xml").to_str().unwrap()],
    )
}

fn record(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let path = dir.join(name);
    rxdist()
        .args(["timings", "record", "--history"])
        .args([path.as_os_str()])
        .args(args)
        .run()
        .success();
    std::fs::read(path).unwrap()
}

/// A zip as upload-artifact makes it: the given entries, deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        writer
            .start_file(*name, SimpleFileOptions::default())
            .unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// One test's fake GitHub, work directory and target history path.
struct Case {
    github: FakeGithub,
    dir: tempfile::TempDir,
    history: PathBuf,
}

impl Case {
    fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        let history = dir.path().join("out/history.zst");
        Case {
            github: FakeGithub::start(),
            dir,
            history,
        }
    }

    /// The usual command: repository and token from GitHub's variables.
    fn command(&self) -> common::Rxdist {
        self.command_without_history()
            .args(["--history"])
            .args([self.history.as_os_str()])
    }

    /// The same, without `--history`.
    fn command_without_history(&self) -> common::Rxdist {
        rxdist()
            .current_dir(self.dir.path())
            .env("GITHUB_API_URL", &self.github.api_url)
            .env("GITHUB_REPOSITORY", "octo-org/octo-docs")
            .env("GITHUB_TOKEN", TOKEN)
            .env("RXDIST_FETCH_WAIT_UNIT_MS", "1")
            .args(["timings", "fetch"])
    }

    /// Runs and checks that no secret leaked into the output.
    #[expect(
        clippy::unused_self,
        reason = "every run of a case goes through it, so none skips the leak check"
    )]
    fn run(&self, command: common::Rxdist) -> common::Output {
        let output = command.run();
        for secret in [TOKEN, SIGNATURE] {
            assert!(
                !output.stdout.contains(secret) && !output.stderr.contains(secret),
                "{secret} leaked\n--- stdout\n{}\n--- stderr\n{}",
                output.stdout,
                output.stderr
            );
        }
        output
    }

    /// Runs the usual command with `extra` arguments.
    fn fetch(&self, extra: &[&str]) -> common::Output {
        self.run(self.command().args(extra))
    }

    fn add(&self, artifact: ArtifactSpec) {
        self.github.state().artifacts.push(artifact);
    }

    /// Lists an artifact `id` of `branch` whose zip holds `history` as `history.zst`.
    fn add_history(&self, id: u64, branch: &str, created_at: &str, history: &[u8]) {
        self.add(ArtifactSpec::new(
            id,
            branch,
            created_at,
            zip_of(&[("history.zst", history)]),
        ));
    }

    /// Asserts that the fetch left no history and said why, on one warning line.
    #[track_caller]
    fn assert_warned(&self, output: &common::Output, reason: &str) {
        assert_eq!(output.code, 0, "{}", output.stderr);
        let warnings: Vec<&str> = output
            .stderr
            .lines()
            .filter(|line| line.starts_with("warning:"))
            .collect();
        assert_eq!(warnings.len(), 1, "{}", output.stderr);
        assert!(
            warnings[0].contains("planning goes on without them") && warnings[0].contains(reason),
            "expected {reason:?} in\n{}",
            output.stderr
        );
        assert!(!self.history.exists(), "nothing is installed");
        assert_no_strays(self.dir.path());
    }
}

/// Nothing but the inputs (and an installed history) in the work directory: no temporary
/// file, nothing extracted from a zip.
fn assert_no_strays(dir: &Path) {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    let allowed = |path: &Path| {
        path.file_name().is_some_and(|name| {
            name == "history.zst"
                || name == "event.json"
                || name == "pytest.zst"
                || name == "nextest.zst"
        }) || path.components().any(|part| part.as_os_str() == ".git")
    };
    let strays: Vec<&PathBuf> = found.iter().filter(|path| !allowed(path)).collect();
    assert!(strays.is_empty(), "unexpected files: {strays:?}");
}

#[test]
fn installs_the_newest_usable_artifact_skipping_expired_fork_and_other_branches_over_pages() {
    let case = Case::new();
    let wanted = pytest_history(case.dir.path());
    let older = nextest_history(case.dir.path());
    let decoy = zip_of(&[("history.zst", &older)]);
    // Newest first, as GitHub lists them; three per page, so the usable ones are on page 2.
    let mut expired = ArtifactSpec::new(60, "main", "2026-06-01T10:00:00Z", decoy.clone());
    expired.expired = true;
    let mut fork = ArtifactSpec::new(59, "main", "2026-05-30T10:00:00Z", decoy.clone());
    fork.fork = true;
    let other_branch = ArtifactSpec::new(58, "feature/x", "2026-05-29T10:00:00Z", decoy.clone());
    let mut other_name = ArtifactSpec::new(57, "main", "2026-05-28T10:00:00Z", decoy.clone());
    other_name.name = "coverage".into();
    for artifact in [
        expired,
        fork,
        other_branch,
        other_name,
        ArtifactSpec::new(
            56,
            "main",
            "2026-05-27T10:00:00Z",
            zip_of(&[("history.zst", &wanted)]),
        ),
        ArtifactSpec::new(55, "main", "2026-05-20T10:00:00Z", decoy),
    ] {
        case.add(artifact);
    }
    case.github.state().page_size = 3;

    let output = case.fetch(&["--branch", "main"]).success();
    assert_eq!(std::fs::read(&case.history).unwrap(), wanted);
    assert!(
        output.stderr.contains("installed") && output.stderr.contains("artifact 56"),
        "{}",
        output.stderr
    );
    assert_no_strays(case.dir.path());

    let lists = case.github.received(Route::List);
    assert_eq!(lists.len(), 2, "{lists:?}");
    assert!(lists[0].url.contains("name=rxdist-timings") && lists[0].url.contains("per_page=100"));
    assert!(lists[1].url.starts_with("/repositories/1296269/") && lists[1].url.contains("page=2"));
    let bearer = format!("Bearer {TOKEN}");
    for request in lists.iter().chain(&case.github.received(Route::Zip)) {
        assert_eq!(request.authorization.as_deref(), Some(bearer.as_str()));
    }
    let blobs = case.github.received(Route::Blob);
    assert_eq!(blobs.len(), 1);
    assert_eq!(
        blobs[0].authorization, None,
        "the token never goes to blob storage"
    );
    // The branch was given: the repository was not asked for its default branch.
    assert!(case.github.received(Route::Repo).is_empty());

    // The installed history is one rxdist reads.
    let shown = rxdist()
        .args(["timings", "show", "--format", "json", "--history"])
        .args([case.history.as_os_str()])
        .run()
        .success();
    let summary: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(summary["runs"], 1);
}

#[test]
fn the_default_branch_comes_from_the_event_payload() {
    let case = Case::new();
    let history = pytest_history(case.dir.path());
    case.add_history(2, "trunk", "2026-05-01T00:00:00Z", &history);
    case.add_history(1, "main", "2026-06-01T00:00:00Z", &history);
    let event = case.dir.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"ref": "refs/heads/feature", "repository": {"id": 1296269, "full_name": "octo-org/octo-docs", "default_branch": "trunk", "private": false}, "sender": {"login": "octocat"}}"#,
    )
    .unwrap();
    let output = case
        .run(case.command().env("GITHUB_EVENT_PATH", &event))
        .success();
    assert!(output.stderr.contains("\"trunk\""), "{}", output.stderr);
    assert!(
        output.stderr.contains("GITHUB_EVENT_PATH"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("artifact 2"), "{}", output.stderr);
    assert_eq!(std::fs::read(&case.history).unwrap(), history);
    assert!(case.github.received(Route::Repo).is_empty());
}

#[test]
fn the_default_branch_comes_from_the_api_without_an_event() {
    let case = Case::new();
    let history = nextest_history(case.dir.path());
    case.github.state().default_branch = "develop".into();
    case.add_history(9, "develop", "2026-05-01T00:00:00Z", &history);
    let output = case.fetch(&[]).success();
    assert!(output.stderr.contains("\"develop\""), "{}", output.stderr);
    assert!(output.stderr.contains("from the API"), "{}", output.stderr);
    assert_eq!(std::fs::read(&case.history).unwrap(), history);
    assert_eq!(case.github.received(Route::Repo).len(), 1);
}

#[test]
fn a_renamed_repository_is_followed_to_where_it_moved() {
    // GitHub answers a request under a repository's old name with a 301 to the same request
    // under `/repositories/{id}/`, on the API host: followed, with the token.
    let case = Case::new();
    let history = nextest_history(case.dir.path());
    case.add_history(9, "main", "2026-05-01T00:00:00Z", &history);
    let output = case
        .run(
            case.command()
                .env("GITHUB_REPOSITORY", format!("{OWNER}/{OLD_NAME}")),
        )
        .success();
    assert_eq!(std::fs::read(&case.history).unwrap(), history);
    assert!(output.stderr.contains("from the API"), "{}", output.stderr);

    let moved = format!("/repositories/{REPO_ID}");
    let repos = case.github.received(Route::Repo);
    let urls: Vec<&str> = repos.iter().map(|request| request.url.as_str()).collect();
    assert_eq!(urls, [format!("/repos/{OWNER}/{OLD_NAME}"), moved.clone()]);
    let lists = case.github.received(Route::List);
    assert_eq!(lists.len(), 2, "{lists:?}");
    assert!(
        lists[0]
            .url
            .starts_with(&format!("/repos/{OWNER}/{OLD_NAME}/actions/artifacts?"))
    );
    assert!(
        lists[1]
            .url
            .starts_with(&format!("{moved}/actions/artifacts?"))
            && lists[1].url.contains("name=rxdist-timings"),
        "{lists:?}"
    );
    let bearer = format!("Bearer {TOKEN}");
    for request in repos.iter().chain(&lists) {
        assert_eq!(request.authorization.as_deref(), Some(bearer.as_str()));
    }

    // An API answer that redirects to another host is followed without the token.
    let case = Case::new();
    let elsewhere = format!("{}/moved/actions/artifacts", case.github.blob_url);
    case.github.script(
        Route::List,
        Reply::github_error(301, "Moved Permanently").header("Location", &elsewhere),
    );
    let output = case.fetch(&["--branch", "main"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(!case.history.exists());
    let blobs = case.github.received(Route::Blob);
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    assert_eq!(blobs[0].url, "/moved/actions/artifacts");
    assert_eq!(
        blobs[0].authorization, None,
        "the token stays with the API host"
    );
}

#[test]
fn the_repository_comes_from_the_git_remote() {
    for remote in [
        "git@github.com:octo-org/octo-docs.git",
        "https://x-access-token:ghs_INURLsecret@github.com/octo-org/octo-docs",
    ] {
        let case = Case::new();
        let history = pytest_history(case.dir.path());
        case.add_history(3, "main", "2026-05-01T00:00:00Z", &history);
        let git = |args: &[&str]| {
            let status = std::process::Command::new("git")
                .args(args)
                .current_dir(case.dir.path())
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["remote", "add", "origin", remote]);
        let command = rxdist()
            .current_dir(case.dir.path())
            .env("GITHUB_API_URL", &case.github.api_url)
            .env("GH_TOKEN", TOKEN)
            .env("RXDIST_FETCH_WAIT_UNIT_MS", "1")
            .args(["timings", "fetch", "--branch", "main", "--history"])
            .args([case.history.as_os_str()]);
        let output = case.run(command).success();
        assert!(!output.stderr.contains("INURL"), "{}", output.stderr);
        assert!(
            output.stderr.contains("octo-org/octo-docs"),
            "{}",
            output.stderr
        );
        assert_eq!(std::fs::read(&case.history).unwrap(), history);
    }
}

#[test]
fn no_repository_anywhere_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = rxdist()
        .current_dir(dir.path())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["timings", "fetch", "--history", "h.zst"])
        .run()
        .expect_code(2);
    assert!(output.stderr.contains("--repo"), "{}", output.stderr);
    assert!(!output.stderr.contains(TOKEN) && !output.stdout.contains(TOKEN));
}

#[test]
fn an_expired_download_is_a_warning_that_leaves_the_old_history() {
    let case = Case::new();
    let history = pytest_history(case.dir.path());
    case.add_history(4, "main", "2026-05-01T00:00:00Z", &history);
    case.github.state().gone.push(4);
    std::fs::create_dir_all(case.history.parent().unwrap()).unwrap();
    std::fs::write(&case.history, b"the previous history").unwrap();
    let output = case.run(
        case.command()
            .env("GITHUB_ACTIONS", "true")
            .args(["--branch", "main"]),
    );
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(
        output.stderr.contains("410 Gone") && output.stderr.contains("expired"),
        "{}",
        output.stderr
    );
    assert!(
        output
            .stdout
            .starts_with("::warning title=rxdist timings fetch::")
            && output.stdout.contains("410 Gone"),
        "{}",
        output.stdout
    );
    assert_eq!(
        std::fs::read(&case.history).unwrap(),
        b"the previous history"
    );
}

#[test]
fn http_errors_are_explained_in_one_line() {
    // 401: a token GitHub does not know.
    let case = Case::new();
    let output = case.run(
        case.command()
            .env("GITHUB_TOKEN", "ghs_wrong_but_secret_too")
            .args(["--branch", "main"]),
    );
    case.assert_warned(&output, "401 Unauthorized");
    assert!(output.stderr.contains("GITHUB_TOKEN"), "{}", output.stderr);
    assert!(!output.stderr.contains("ghs_wrong"), "{}", output.stderr);
    assert!(output.stdout.is_empty(), "no annotation outside Actions");

    // 404: a repository GitHub does not show this token.
    let case = Case::new();
    let output = case.fetch(&["--repo", "octo-org/private-docs", "--branch", "main"]);
    case.assert_warned(&output, "404 Not Found");
    assert!(
        output
            .stderr
            .contains("octo-org/private-docs does not exist"),
        "{}",
        output.stderr
    );

    // 403 without rate-limit signs: permissions.
    let case = Case::new();
    case.github.script(
        Route::List,
        Reply::github_error(403, "Resource not accessible by integration"),
    );
    let output = case.fetch(&["--branch", "main"]);
    case.assert_warned(&output, "403 Forbidden");
    assert!(output.stderr.contains("actions: read"), "{}", output.stderr);
    assert_eq!(case.github.received(Route::List).len(), 1, "not retried");
}

#[test]
fn rate_limits_are_waited_out() {
    let case = Case::new();
    let history = pytest_history(case.dir.path());
    case.add_history(5, "main", "2026-05-01T00:00:00Z", &history);
    // A secondary rate limit says how long to wait; a primary one says when it resets.
    case.github.script(
        Route::List,
        Reply::github_error(
            403,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        )
        .header("retry-after", "3"),
    );
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2;
    case.github.script(
        Route::Zip,
        Reply::github_error(429, "API rate limit exceeded for installation ID 1.")
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-used", "5000")
            .header("x-ratelimit-reset", &reset.to_string()),
    );
    let output = case.fetch(&["--branch", "main"]).success();
    assert!(
        output.stderr.contains(
            "listing artifacts of octo-org/octo-docs: rate limited; retrying in 3s (attempt 2 of 5)"
        ),
        "{}",
        output.stderr
    );
    assert!(
        output
            .stderr
            .contains("downloading artifact 5: rate limited; retrying in"),
        "{}",
        output.stderr
    );
    assert_eq!(std::fs::read(&case.history).unwrap(), history);
    assert_eq!(case.github.received(Route::List).len(), 2);
    assert_eq!(case.github.received(Route::Zip).len(), 2);
}

#[test]
fn a_rate_limit_longer_than_the_budget_gives_up_at_once() {
    let case = Case::new();
    case.github.script(
        Route::List,
        Reply::github_error(403, "API rate limit exceeded")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", "4102444800"), // 2100-01-01
    );
    let output = case.fetch(&["--branch", "main"]);
    case.assert_warned(&output, "rate limit");
    assert!(
        output.stderr.contains("until 2100-01-01T00:00:00Z"),
        "{}",
        output.stderr
    );
    assert_eq!(case.github.received(Route::List).len(), 1);
}

#[test]
fn server_errors_are_retried_then_succeed() {
    let case = Case::new();
    let history = nextest_history(case.dir.path());
    case.add_history(6, "main", "2026-05-01T00:00:00Z", &history);
    case.github
        .script(Route::List, Reply::github_error(500, "Server Error"));
    case.github.script(
        Route::Blob,
        Reply {
            status: 503,
            headers: Vec::new(),
            body: "<Error><Code>ServerBusy</Code></Error>".into(),
        },
    );
    let output = case.fetch(&["--branch", "main"]).success();
    assert!(
        output
            .stderr
            .contains("GitHub answered 500; retrying in 1s (attempt 2 of 5)"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("GitHub answered 503"),
        "{}",
        output.stderr
    );
    assert_eq!(std::fs::read(&case.history).unwrap(), history);
    // The download started over at the API, which redirected again.
    assert_eq!(case.github.received(Route::Zip).len(), 2);
    assert_eq!(case.github.received(Route::Blob).len(), 2);
}

#[test]
fn server_errors_that_persist_end_in_a_warning() {
    let case = Case::new();
    for _ in 0..5 {
        case.github
            .script(Route::List, Reply::github_error(502, "Server Error"));
    }
    let output = case.fetch(&["--branch", "main"]);
    case.assert_warned(
        &output,
        "GitHub answered 502 to listing artifacts of octo-org/octo-docs (after 5 attempts)",
    );
}

#[test]
fn an_unreachable_server_is_retried_then_a_warning_or_with_require_timings_an_error() {
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let case = Case::new();
    let unreachable = || {
        case.command()
            .env("GITHUB_API_URL", format!("http://127.0.0.1:{port}"))
            .args(["--branch", "main"])
    };
    let output = case.run(unreachable());
    case.assert_warned(&output, &format!("cannot reach 127.0.0.1:{port}"));
    assert!(
        output.stderr.contains("(after 5 attempts)"),
        "{}",
        output.stderr
    );
    assert_eq!(output.stderr.matches("no answer; retrying").count(), 4);

    let output = case
        .run(unreachable().args(["--require-timings"]))
        .expect_code(TIMINGS_UNAVAILABLE);
    assert!(
        output
            .stderr
            .contains("\nerror: no usable timings from GitHub (--require-timings)\n"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("Connection refused") || output.stderr.contains("connect"));
    assert!(!case.history.exists());
}

#[test]
fn no_usable_artifact_is_a_warning_or_exit_11_with_require_timings() {
    let case = Case::new();
    let history = pytest_history(case.dir.path());
    let mut expired = ArtifactSpec::new(
        7,
        "main",
        "2026-05-01T00:00:00Z",
        zip_of(&[("history.zst", &history)]),
    );
    expired.expired = true;
    case.add(expired);
    case.add_history(8, "feature", "2026-05-02T00:00:00Z", &history);
    let output = case.fetch(&["--branch", "main"]);
    case.assert_warned(
        &output,
        "no artifact named \"rxdist-timings\" from branch \"main\" of octo-org/octo-docs (2 listed: 1 expired, 0 from forks, 1 from other branches",
    );

    let output = case
        .run(
            case.command()
                .env("RXDIST_REQUIRE_TIMINGS", "true")
                .args(["--branch", "main"]),
        )
        .expect_code(TIMINGS_UNAVAILABLE);
    assert!(
        output.stderr.contains("caused by: no artifact named"),
        "{}",
        output.stderr
    );
    assert!(case.github.received(Route::Blob).is_empty());
}

#[test]
fn a_digest_mismatch_is_refused() {
    let case = Case::new();
    let history = pytest_history(case.dir.path());
    let mut artifact = ArtifactSpec::new(
        10,
        "main",
        "2026-05-01T00:00:00Z",
        zip_of(&[("history.zst", &history)]),
    );
    artifact.digest = Some(format!("sha256:{}", "ab".repeat(32)));
    case.add(artifact);
    let output = case.fetch(&["--branch", "main"]);
    case.assert_warned(&output, "artifact 10 is corrupt: its sha256 is sha256:");
}

#[test]
fn an_artifact_without_a_digest_is_still_used() {
    let case = Case::new();
    let history = pytest_history(case.dir.path());
    let mut artifact = ArtifactSpec::new(
        11,
        "main",
        "2026-05-01T00:00:00Z",
        zip_of(&[("history.zst", &history)]),
    );
    artifact.digest = None;
    case.add(artifact);
    case.fetch(&["--branch", "main"]).success();
    assert_eq!(std::fs::read(&case.history).unwrap(), history);
}

#[test]
fn oversized_zips_are_refused_whatever_size_is_listed() {
    // Incompressible bytes (a sha256 chain), so the zip really is large.
    let noise: Vec<u8> = (0..7_000_u32)
        .flat_map(|index| <sha2::Sha256 as sha2::Digest>::digest(index.to_le_bytes()))
        .collect();
    let big = zip_of(&[("history.zst", &noise)]);
    assert!(big.len() > 100_000);

    // Listed honestly: refused before downloading.
    let case = Case::new();
    case.add(ArtifactSpec::new(
        12,
        "main",
        "2026-05-01T00:00:00Z",
        big.clone(),
    ));
    let output = case.fetch(&["--branch", "main", "--max-bytes", "100000"]);
    case.assert_warned(
        &output,
        "artifact 12 is larger than the limit of 100000 bytes",
    );
    assert!(case.github.received(Route::Blob).is_empty());

    // Listed as small, served with a Content-Length, and served chunked: refused while
    // downloading.
    for chunked in [false, true] {
        let case = Case::new();
        let mut artifact = ArtifactSpec::new(13, "main", "2026-05-01T00:00:00Z", big.clone());
        artifact.listed_size = Some(500);
        case.add(artifact);
        case.github.state().chunked_blobs = chunked;
        let output = case.fetch(&["--branch", "main", "--max-bytes", "100000"]);
        case.assert_warned(
            &output,
            "artifact 13 is larger than the limit of 100000 bytes",
        );
        assert_eq!(case.github.received(Route::Blob).len(), 1, "not retried");
    }
}

#[test]
fn a_zip_bomb_is_refused() {
    let case = Case::new();
    let zeros = vec![0_u8; 5_000_000];
    let bomb = zip_of(&[("history.zst", &zeros)]);
    assert!(bomb.len() < 50_000, "{}", bomb.len());
    case.add(ArtifactSpec::new(14, "main", "2026-05-01T00:00:00Z", bomb));
    let output = case.fetch(&["--branch", "main", "--max-bytes", "1000000"]);
    case.assert_warned(
        &output,
        "\"history.zst\" in artifact 14 unpacks to more than 1000000 bytes",
    );
}

#[test]
fn zips_with_traversal_or_extra_members_are_never_unpacked() {
    let history_bytes = {
        let scratch = tempfile::tempdir().unwrap();
        pytest_history(scratch.path())
    };
    for (entries, found) in [
        (
            vec![("../history.zst", &history_bytes[..])],
            "it holds \"../history.zst\"",
        ),
        (
            vec![
                ("history.zst", &history_bytes[..]),
                ("../../escape.sh", &b"#!/bin/sh\n"[..]),
            ],
            "it holds \"history.zst\", \"../../escape.sh\"",
        ),
        (
            vec![("/etc/history.zst", &history_bytes[..])],
            "it holds \"/etc/history.zst\"",
        ),
        (
            vec![("timings.zst", &history_bytes[..])],
            "it holds \"timings.zst\"",
        ),
    ] {
        let case = Case::new();
        case.add(ArtifactSpec::new(
            15,
            "main",
            "2026-05-01T00:00:00Z",
            zip_of(&entries),
        ));
        let output = case.fetch(&["--branch", "main"]);
        case.assert_warned(
            &output,
            &format!(
                "artifact 15 must hold exactly one file, \"history.zst\", at its root; {found}"
            ),
        );
        let parent = case.dir.path().parent().unwrap();
        assert!(!parent.join("escape.sh").exists());
        assert!(!case.dir.path().join("escape.sh").exists());
    }
}

#[test]
fn a_member_that_is_no_history_is_refused() {
    let case = Case::new();
    case.add(ArtifactSpec::new(
        16,
        "main",
        "2026-05-01T00:00:00Z",
        zip_of(&[("history.zst", b"{\"not\": \"a history\"}")]),
    ));
    let output = case.fetch(&["--branch", "main"]);
    case.assert_warned(
        &output,
        "\"history.zst\" in artifact 16 is not a timing history",
    );
}

#[test]
fn the_member_is_named_like_the_history_file() {
    let case = Case::new();
    let history = nextest_history(case.dir.path());
    case.add(ArtifactSpec::new(
        17,
        "main",
        "2026-05-01T00:00:00Z",
        zip_of(&[("timings.zst", &history)]),
    ));
    let target = case.dir.path().join("timings.zst");
    case.run(
        case.command_without_history()
            .args([
                "--branch",
                "main",
                "--artifact",
                "rxdist-timings",
                "--history",
            ])
            .args([target.as_os_str()]),
    )
    .success();
    assert_eq!(std::fs::read(&target).unwrap(), history);
}

#[test]
fn without_a_token_nothing_is_asked() {
    let case = Case::new();
    let command = rxdist()
        .current_dir(case.dir.path())
        .env("GITHUB_API_URL", &case.github.api_url)
        .env("GITHUB_REPOSITORY", "octo-org/octo-docs")
        .args(["timings", "fetch", "--branch", "main", "--history"])
        .args([case.history.as_os_str()]);
    let output = case.run(command);
    case.assert_warned(&output, "no GitHub token");
    assert!(case.github.state().received.is_empty());
}

#[test]
fn a_token_passed_as_a_flag_is_used_and_never_shown() {
    let case = Case::new();
    let history = pytest_history(case.dir.path());
    case.add_history(18, "main", "2026-05-01T00:00:00Z", &history);
    let command = rxdist()
        .current_dir(case.dir.path())
        .env("GITHUB_API_URL", &case.github.api_url)
        .env("GITHUB_TOKEN", "ghs_stale_environment_token")
        .env("RXDIST_FETCH_WAIT_UNIT_MS", "1")
        .args([
            "timings",
            "fetch",
            "--repo",
            "octo-org/octo-docs",
            "--branch",
            "main",
        ])
        .args(["--token", TOKEN, "--history"])
        .args([case.history.as_os_str()]);
    case.run(command).success();
    assert_eq!(std::fs::read(&case.history).unwrap(), history);
}
