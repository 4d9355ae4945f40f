//! Settings of `rxdist timings fetch`.
//!
//! The repository, token, API URL and event file come from GitHub Actions' own variables when
//! the flags do not name them; the git remote, the last resort for the repository, is asked by
//! the command (it runs `git`), so here it is just "not known yet".

use std::path::PathBuf;
use std::time::Duration;

use super::resolve::required_history;
use super::{ConfigFile, SettingsError};
use crate::cli::FetchArgs;
use crate::env::{Env, EnvVars};
use crate::github::{Repo, RetryPolicy, Token};

/// The artifact name used when none is given.
pub const DEFAULT_ARTIFACT: &str = "rxdist-timings";
/// GitHub.com's API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// Default cap on the downloaded zip and on the history inside it.
pub const DEFAULT_MAX_BYTES: u64 = 256 << 20;

/// Everything `rxdist timings fetch` needs.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchSettings {
    /// Where the history is installed.
    pub history: PathBuf,
    /// The file name looked for at the artifact's root (the history's own file name).
    pub member: String,
    /// The repository; `None`: ask the git remote `origin`.
    pub repo: Option<Repo>,
    /// The artifact name.
    pub artifact: String,
    /// The branch, if given; else the repository's default branch.
    pub branch: Option<String>,
    /// The token, if any (redacted in `Debug`).
    pub token: Option<Token>,
    /// The API base URL.
    pub api_url: String,
    /// The event payload file of the workflow run, if any.
    pub event_path: Option<PathBuf>,
    /// Whether no usable timings is an error.
    pub require_timings: bool,
    /// Cap on the zip and on the history inside it.
    pub max_bytes: u64,
    /// Retry bounds.
    pub retry: RetryPolicy,
    /// Inside GitHub Actions: warnings also become `::warning::` annotations.
    pub github_actions: bool,
}

/// Resolves `rxdist timings fetch` settings.
pub fn resolve_fetch(
    args: &FetchArgs,
    file: &ConfigFile,
    env: &Env,
) -> Result<FetchSettings, SettingsError> {
    let history = required_history(args.history.as_deref(), file)?;
    let member = history
        .file_name()
        .and_then(|name| name.to_str())
        .map(str::to_owned)
        .ok_or_else(|| SettingsError::Invalid {
            flag: "--history",
            value: history.display().to_string(),
            reason: "must end in a UTF-8 file name (the name looked for in the artifact)".into(),
        })?;
    let repo = match (&args.repo, env.get(EnvVars::GITHUB_REPOSITORY)) {
        (Some(text), _) => Some(parse_repo("--repo", text)?),
        (None, Some(text)) => Some(parse_repo("GITHUB_REPOSITORY", text)?),
        (None, None) => None,
    };
    let artifact = args
        .artifact
        .clone()
        .or_else(|| file.artifact.clone())
        .unwrap_or_else(|| DEFAULT_ARTIFACT.to_owned());
    if artifact.trim().is_empty() {
        return Err(SettingsError::Invalid {
            flag: "--artifact",
            value: artifact,
            reason: "must not be empty".into(),
        });
    }
    let branch = args
        .branch
        .clone()
        .or_else(|| file.timings_branch.clone())
        .filter(|branch| !branch.trim().is_empty());
    let token = resolve_token(args.token.as_ref(), env)?;
    let max_bytes = args.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
    if max_bytes == 0 {
        return Err(SettingsError::Invalid {
            flag: "--max-bytes",
            value: "0".into(),
            reason: "must be at least 1".into(),
        });
    }
    let mut retry = RetryPolicy::default();
    if let Some(millis) = args.wait_unit_ms {
        retry.second = Duration::from_millis(millis);
    }
    Ok(FetchSettings {
        history,
        member,
        repo,
        artifact,
        branch,
        token,
        api_url: env
            .get(EnvVars::GITHUB_API_URL)
            .unwrap_or(DEFAULT_API_URL)
            .to_owned(),
        event_path: env.get(EnvVars::GITHUB_EVENT_PATH).map(PathBuf::from),
        require_timings: args.require_timings || file.require_timings.unwrap_or(false),
        max_bytes,
        retry,
        github_actions: env.get(EnvVars::GITHUB_ACTIONS) == Some("true"),
    })
}

/// The first token given: `--token`, `GITHUB_TOKEN`, `GH_TOKEN`. One that cannot travel in
/// an HTTP header is an error naming where it came from, never what it is.
fn resolve_token(flag: Option<&Token>, env: &Env) -> Result<Option<Token>, SettingsError> {
    let candidates = [
        ("--token", flag.cloned()),
        (
            EnvVars::GITHUB_TOKEN,
            env.get(EnvVars::GITHUB_TOKEN).map(Token::new),
        ),
        (
            EnvVars::GH_TOKEN,
            env.get(EnvVars::GH_TOKEN).map(Token::new),
        ),
    ];
    let Some((source, token)) = candidates.into_iter().find_map(|(source, token)| {
        token
            .filter(|token| !token.is_empty())
            .map(|token| (source, token))
    }) else {
        return Ok(None);
    };
    if !token.is_usable() {
        return Err(SettingsError::Invalid {
            flag: source,
            value: "<redacted>".into(),
            reason: "a token holds visible ASCII characters only (no spaces, no line breaks)"
                .into(),
        });
    }
    Ok(Some(token))
}

fn parse_repo(flag: &'static str, text: &str) -> Result<Repo, SettingsError> {
    Repo::parse(text).map_err(|error| SettingsError::Invalid {
        flag,
        value: text.to_owned(),
        reason: format!("{error}"),
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command, TimingsCommand};

    fn fetch(argv: &[&str], file: &ConfigFile, env: &Env) -> Result<FetchSettings, SettingsError> {
        let cli = Cli::try_parse_from(argv).unwrap();
        let Command::Timings(TimingsCommand::Fetch(fetch_args)) = cli.command else {
            panic!("not timings fetch");
        };
        resolve_fetch(&fetch_args, file, env)
    }

    #[test]
    fn flags_beat_variables_which_beat_the_file() {
        let env: Env = [
            (EnvVars::GITHUB_REPOSITORY, "env/repo".to_owned()),
            (EnvVars::GITHUB_TOKEN, "ghs_env".to_owned()),
            (EnvVars::GH_TOKEN, "gho_other".to_owned()),
            (
                EnvVars::GITHUB_API_URL,
                "https://ghe.example.com/api/v3".to_owned(),
            ),
            (EnvVars::GITHUB_ACTIONS, "true".to_owned()),
        ]
        .into_iter()
        .collect();
        let file = ConfigFile {
            artifact: Some("from-file".into()),
            timings_branch: Some("develop".into()),
            ..ConfigFile::default()
        };
        let settings = fetch(
            &["rxdist", "timings", "fetch", "--history", "h/t.zst"],
            &file,
            &env,
        )
        .unwrap();
        assert_eq!(settings.repo, Some(Repo::parse("env/repo").unwrap()));
        assert_eq!(settings.token, Some(Token::new("ghs_env")));
        assert_eq!(settings.artifact, "from-file");
        assert_eq!(settings.branch.as_deref(), Some("develop"));
        assert_eq!(settings.member, "t.zst");
        assert_eq!(settings.api_url, "https://ghe.example.com/api/v3");
        assert!(settings.github_actions);
        assert!(!settings.require_timings);
        assert_eq!(settings.max_bytes, DEFAULT_MAX_BYTES);

        let settings = fetch(
            &[
                "rxdist",
                "timings",
                "fetch",
                "--history",
                "h.zst",
                "--repo",
                "flag/repo",
                "--artifact",
                "a",
                "--branch",
                "b",
                "--token",
                "ghp_flag",
                "--require-timings",
                "--max-bytes",
                "10",
            ],
            &file,
            &env,
        )
        .unwrap();
        assert_eq!(settings.repo, Some(Repo::parse("flag/repo").unwrap()));
        assert_eq!(settings.token, Some(Token::new("ghp_flag")));
        assert_eq!(
            (settings.artifact.as_str(), settings.branch.as_deref()),
            ("a", Some("b"))
        );
        assert!(settings.require_timings);
        assert_eq!(settings.max_bytes, 10);
        assert!(!format!("{settings:?}").contains("ghp_flag"));
    }

    #[test]
    fn defaults_and_errors() {
        let env: Env = [(EnvVars::GH_TOKEN, "gho_x".to_owned())]
            .into_iter()
            .collect();
        let settings = fetch(
            &["rxdist", "timings", "fetch", "--history", "h.zst"],
            &ConfigFile::default(),
            &env,
        )
        .unwrap();
        assert_eq!(settings.repo, None);
        assert_eq!(settings.token, Some(Token::new("gho_x")));
        assert_eq!(settings.artifact, DEFAULT_ARTIFACT);
        assert_eq!(settings.api_url, DEFAULT_API_URL);
        assert_eq!(settings.retry, RetryPolicy::default());

        let error = fetch(
            &[
                "rxdist",
                "timings",
                "fetch",
                "--history",
                "h.zst",
                "--repo",
                "nope",
            ],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("--repo"), "{error}");
        let bad: Env = [(EnvVars::GITHUB_TOKEN, "ghs_a b\nc".to_owned())]
            .into_iter()
            .collect();
        let error = fetch(
            &["rxdist", "timings", "fetch", "--history", "h.zst"],
            &ConfigFile::default(),
            &bad,
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("GITHUB_TOKEN") && !error.contains("ghs_a"),
            "{error}"
        );
        let error = fetch(
            &["rxdist", "timings", "fetch"],
            &ConfigFile::default(),
            &Env::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("--history"), "{error}");
    }
}
