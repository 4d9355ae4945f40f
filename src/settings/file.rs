//! The `.rxdist.yml` configuration file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::{DistArg, FlakyResult, FrameworkArg, GranularityArg, RetryPolicyArg, RunnerArg};

/// Default name of the configuration file, looked up in the working directory.
pub const DEFAULT_NAME: &str = ".rxdist.yml";

/// The keys of `.rxdist.yml`. Each one is also a flag and an `RXDIST_*` variable.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// `--history`
    pub history: Option<PathBuf>,
    /// `--tests`
    pub tests: Option<PathBuf>,
    /// `--collect`
    pub collect: Option<String>,
    /// `--collect-arg`
    #[serde(default)]
    pub collect_args: Vec<String>,
    /// `--framework`
    pub framework: Option<FrameworkArg>,
    /// `--by`
    pub by: Option<GranularityArg>,
    /// `--total` (a number or `auto`)
    pub total: Option<TotalValue>,
    /// `--target-duration`
    pub target_duration: Option<String>,
    /// `--shard-overhead`
    pub shard_overhead: Option<String>,
    /// `--max-total`
    pub max_total: Option<usize>,
    /// `--keep-together`
    #[serde(default)]
    pub keep_together: Vec<String>,
    /// `--retention`
    pub history_retention: Option<u32>,
    /// `rxdist run -n`
    pub numprocesses: Option<TotalValue>,
    /// `rxdist run --dist`
    pub dist: Option<DistArg>,
    /// `rxdist run --junit-out`
    pub junit_out: Option<PathBuf>,
    /// `rxdist run --timeout`
    pub timeout: Option<TotalValue>,
    /// `rxdist run --global-timeout`
    pub global_timeout: Option<TotalValue>,
    /// `rxdist run --maxfail`
    pub maxfail: Option<usize>,
    /// `rxdist run --retries`
    pub retries: Option<u32>,
    /// `rxdist run --flaky-result`
    pub flaky_result: Option<FlakyResult>,
    /// `rxdist run --serial-marker`
    pub serial_marker: Option<String>,
    /// `rxdist run --max-worker-restarts`
    pub max_worker_restarts: Option<usize>,
    /// `rxdist run --runner`
    pub runner: Option<RunnerArg>,
    /// `rxdist run --cov-out`
    pub cov_out: Option<PathBuf>,
    /// `rxdist merge --out-dir`
    pub merge_out_dir: Option<PathBuf>,
    /// `rxdist merge --retries`
    pub merge_retries: Option<RetryPolicyArg>,
    /// `rxdist merge --path-map` (a list of `FROM=TO`)
    #[serde(default)]
    pub path_map: Vec<String>,
    /// `rxdist merge --allow-broken`
    pub allow_broken: Option<bool>,
    /// `rxdist timings fetch --artifact`
    pub artifact: Option<String>,
    /// `rxdist timings fetch --branch`
    pub timings_branch: Option<String>,
    /// `rxdist timings fetch --require-timings`
    pub require_timings: Option<bool>,
    /// Concurrency groups of `rxdist run` (only in the file: a list of records).
    #[serde(default)]
    pub groups: Vec<GroupConfig>,
    /// The directory relative paths in the file are resolved against (the file's own).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// A named group of tests that may only run so many at a time.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GroupConfig {
    /// The group's name, used in messages.
    pub name: String,
    /// Tests with this pytest marker belong to the group.
    pub marker: Option<String>,
    /// Tests whose node id matches one of these patterns belong to the group (`*` also
    /// matches `/`).
    #[serde(default)]
    pub tests: Vec<String>,
    /// How many of the group's tests may run at the same time.
    pub max_concurrent: usize,
}

/// `total:` may be written as a number or as a string.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum TotalValue {
    /// `total: 4`
    Number(usize),
    /// `total: auto` or `total: "4"`
    Text(String),
}

impl TotalValue {
    /// The value as the flag would spell it.
    pub fn to_flag_text(&self) -> String {
        match self {
            TotalValue::Number(number) => number.to_string(),
            TotalValue::Text(text) => text.clone(),
        }
    }
}

/// Why the configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading failed.
    #[error("cannot read configuration file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not valid YAML or an unknown key.
    #[error("invalid configuration file {path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause (names the key and position).
        #[source]
        source: serde_norway::Error,
    },
}

impl ConfigFile {
    /// Loads `explicit` if given (it must exist), else `.rxdist.yml` in `cwd` if present.
    pub fn load(explicit: Option<&Path>, cwd: &Path) -> Result<ConfigFile, FileError> {
        let path = match explicit {
            Some(path) => path.to_path_buf(),
            None => {
                let default = cwd.join(DEFAULT_NAME);
                if !default.is_file() {
                    return Ok(ConfigFile {
                        base_dir: cwd.to_path_buf(),
                        ..ConfigFile::default()
                    });
                }
                default
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|source| FileError::Read {
            path: path.clone(),
            source,
        })?;
        let mut config = Self::parse(&text).map_err(|source| FileError::Parse {
            path: path.clone(),
            source,
        })?;
        config.base_dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => cwd.to_path_buf(),
        };
        Ok(config)
    }

    /// Parses the YAML text; an empty document is an empty configuration.
    pub fn parse(text: &str) -> Result<ConfigFile, serde_norway::Error> {
        if text.trim().is_empty() {
            return Ok(ConfigFile::default());
        }
        serde_norway::from_str(text)
    }

    /// A path from the file, made absolute against the file's directory.
    pub fn path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses() {
        let config = ConfigFile::parse(
            "history: .rxdist/history.zst\ntests: tests.txt\ncollect: pytest\ncollect-args: [tests/]\n\
             framework: pytest\nby: file\ntotal: auto\ntarget-duration: 8m\nshard-overhead: 30s\n\
             max-total: 12\nkeep-together: ['tests/db/*']\nhistory-retention: 10\n",
        )
        .unwrap();
        assert_eq!(config.framework, Some(FrameworkArg::Pytest));
        assert_eq!(config.by, Some(GranularityArg::File));
        assert_eq!(config.total, Some(TotalValue::Text("auto".into())));
        assert_eq!(config.max_total, Some(12));
        assert_eq!(config.keep_together, vec!["tests/db/*".to_owned()]);
        assert_eq!(config.history_retention, Some(10));
    }

    #[test]
    fn numeric_total_and_empty_file() {
        assert_eq!(
            ConfigFile::parse("total: 4").unwrap().total,
            Some(TotalValue::Number(4))
        );
        assert_eq!(ConfigFile::parse("  \n").unwrap(), ConfigFile::default());
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let error = ConfigFile::parse("totl: 4").unwrap_err().to_string();
        assert!(error.contains("totl"), "{error}");
    }
}
