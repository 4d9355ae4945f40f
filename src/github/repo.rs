//! `OWNER/NAME` of a GitHub repository: from `--repo`, `GITHUB_REPOSITORY` or a git remote URL.
//!
//! Only names GitHub itself allows get through, so a repository name can be put into an API
//! path as it is. A remote URL is read for its last two path segments only; whatever else it
//! holds (a host, a user, credentials) is never kept or printed.

use std::fmt;

use super::GithubError;

/// A repository on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    owner: String,
    name: String,
}

impl Repo {
    /// Parses `OWNER/NAME`.
    pub fn parse(text: &str) -> Result<Repo, GithubError> {
        let invalid = || GithubError::InvalidRepo {
            value: text.to_owned(),
        };
        let (owner, name) = text.trim().split_once('/').ok_or_else(invalid)?;
        if !valid_owner(owner) || !valid_name(name) {
            return Err(invalid());
        }
        Ok(Repo {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The repository a git remote URL points at, in any of git's spellings:
    /// `https://github.com/o/n.git`, `git@github.com:o/n.git`, `ssh://git@host:22/o/n`,
    /// `https://user:secret@host/o/n`. `None` when the URL does not end in two valid segments.
    pub fn from_remote_url(url: &str) -> Option<Repo> {
        let url = url.trim();
        let path = if let Some((_, rest)) = url.split_once("://") {
            // scheme://[user[:password]@]host[:port]/path
            rest.split_once('/')?.1
        } else {
            // scp-like: [user@]host:path
            url.split_once(':')?.1
        };
        let path = path.trim_end_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path);
        let mut segments = path.rsplit('/');
        let name = segments.next()?;
        let owner = segments.next()?;
        Repo::parse(&format!("{owner}/{name}")).ok()
    }

    /// The owner (user or organisation).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `full_name` (as GitHub writes it in payloads) is this repository; GitHub's
    /// names are case-insensitive.
    pub fn is(&self, full_name: &str) -> bool {
        full_name.eq_ignore_ascii_case(&self.to_string())
    }
}

impl fmt::Display for Repo {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.owner, self.name)
    }
}

/// GitHub user and organisation names: ASCII letters, digits and single inner hyphens.
fn valid_owner(owner: &str) -> bool {
    !owner.is_empty()
        && owner.len() <= 100
        && owner
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

/// Repository names: ASCII letters, digits, `-`, `_` and `.`, but not `.` or `..`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_slash_name() {
        let repo = Repo::parse("octo-org/octo.docs_2").unwrap();
        assert_eq!((repo.owner(), repo.name()), ("octo-org", "octo.docs_2"));
        assert_eq!(repo.to_string(), "octo-org/octo.docs_2");
        assert!(repo.is("Octo-Org/OCTO.docs_2"));
        for bad in [
            "", "octo", "octo/", "/docs", "a/b/c", "o/..", "o/n?x=1", "o w/n",
        ] {
            assert!(Repo::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_remote_spelling() {
        for url in [
            "https://github.com/octo-org/docs.git",
            "https://github.com/octo-org/docs",
            "https://github.com/octo-org/docs/",
            "http://ghe.example.com/octo-org/docs.git",
            "https://x-access-token:ghs_abc@github.com/octo-org/docs.git",
            "git@github.com:octo-org/docs.git",
            "github.com:octo-org/docs",
            "ssh://git@github.com/octo-org/docs.git",
            "ssh://git@ghe.example.com:2222/octo-org/docs.git",
            "git://github.com/octo-org/docs.git\n",
        ] {
            assert_eq!(
                Repo::from_remote_url(url),
                Some(Repo::parse("octo-org/docs").unwrap()),
                "{url}"
            );
        }
        for url in ["", "/srv/git/docs.git", "docs", "https://github.com/docs"] {
            assert_eq!(Repo::from_remote_url(url), None, "{url}");
        }
    }
}
