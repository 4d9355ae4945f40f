//! Settings of `rxdist merge`: which reports, where the merged ones go, how retries fold.

use std::path::PathBuf;

use super::ConfigFile;
use super::resolve::{SettingsError, resolve_framework};
use crate::cli::{MergeArgs, RetryPolicyArg};
use crate::identity::Framework;
use crate::timings::Retention;

/// Everything `rxdist merge` needs.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeSettings {
    /// JUnit inputs: paths, directories or glob patterns, as given.
    pub junit: Vec<String>,
    /// Coverage inputs: paths, directories or glob patterns, as given.
    pub coverage: Vec<String>,
    /// Where `junit.xml` and the coverage reports are written.
    pub out_dir: PathBuf,
    /// The history to record the merged run into, if any.
    pub history: Option<PathBuf>,
    /// What to do with several results of one test.
    pub retries: RetryPolicyArg,
    /// Coverage path prefixes to rewrite, `(from, to)`, in the order given.
    pub path_maps: Vec<(String, String)>,
    /// Whether broken or missing inputs still exit 0.
    pub allow_broken: bool,
    /// `None` means detect from the reports (only used with `history`).
    pub framework: Option<Framework>,
    /// Where relative test file paths are resolved when recording.
    pub rootdir: PathBuf,
    /// Drop tests unseen for this many runs when recording.
    pub retention_runs: u32,
}

/// Resolves `rxdist merge` settings.
pub fn resolve_merge(args: &MergeArgs, file: &ConfigFile) -> Result<MergeSettings, SettingsError> {
    let out_dir = args
        .out_dir
        .clone()
        .or_else(|| file.merge_out_dir.as_deref().map(|path| file.path(path)))
        .ok_or(SettingsError::Missing {
            what: "the output directory",
            hint: "pass --out-dir DIR (or set RXDIST_OUT_DIR, or merge-out-dir in .rxdist.yml)",
        })?;
    let history = args
        .history
        .clone()
        .or_else(|| file.history.as_deref().map(|path| file.path(path)));
    let path_maps = args
        .path_map
        .iter()
        .chain(&file.path_map)
        .map(|text| parse_path_map(text))
        .collect::<Result<_, _>>()?;
    Ok(MergeSettings {
        junit: args.junit.clone(),
        coverage: args.coverage.clone(),
        out_dir,
        history,
        retries: args
            .retries
            .or(file.merge_retries)
            .unwrap_or(RetryPolicyArg::Collapse),
        path_maps,
        allow_broken: args.allow_broken || file.allow_broken.unwrap_or(false),
        framework: resolve_framework(args.framework.or(file.framework)),
        rootdir: args.rootdir.clone().unwrap_or_else(|| PathBuf::from(".")),
        retention_runs: file
            .history_retention
            .unwrap_or(Retention::default().max_unseen_runs),
    })
}

/// Splits `FROM=TO` at its first `=`; `FROM` must not be empty (it would match every path).
fn parse_path_map(text: &str) -> Result<(String, String), SettingsError> {
    let invalid = |reason: &str| SettingsError::Invalid {
        flag: "--path-map",
        value: text.to_owned(),
        reason: reason.to_owned(),
    };
    let (from, to) = text
        .split_once('=')
        .ok_or_else(|| invalid("expected FROM=TO, e.g. /home/runner/work/app/app/="))?;
    if from.is_empty() {
        return Err(invalid("FROM is empty, so it would rewrite every path"));
    }
    Ok((from.to_owned(), to.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_maps_split_at_the_first_equals_sign() {
        assert_eq!(
            parse_path_map("/a=b=c").unwrap(),
            ("/a".to_owned(), "b=c".to_owned())
        );
        assert_eq!(
            parse_path_map("/builds/app/=").unwrap(),
            ("/builds/app/".to_owned(), String::new())
        );
        assert!(parse_path_map("no-separator").is_err());
        assert!(parse_path_map("=to").is_err());
    }
}
