//! `--lf` / `--last-failed` in the pytest arguments, done by rxdist for the whole run.
//!
//! Workers do not share pytest's cache (each gets its own `cache_dir`, so concurrent processes
//! never write the same files), so pytest's own `--lf` inside a worker would see an empty cache
//! and run everything. rxdist takes the flag out of the command, reads the project's
//! `.pytest_cache/v/cache/lastfailed` itself, runs exactly those tests (all tests when there
//! are none, as pytest does), and afterwards writes the file back, once, from the run's
//! results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::diagnostics;
use crate::atomic;
use crate::runner::results::Results;

const FLAGS: [&str; 2] = ["--lf", "--last-failed"];

/// The cache file, relative to pytest's rootdir.
fn cache_file(root: &Path) -> PathBuf {
    root.join(".pytest_cache/v/cache/lastfailed")
}

/// Removes `--lf`/`--last-failed` from `command`; returns whether it was there.
pub fn take_flag(command: &mut Vec<String>) -> bool {
    let before = command.len();
    command.retain(|arg| !FLAGS.contains(&arg.as_str()));
    command.len() != before
}

/// The ids pytest's cache lists as failed last time (empty when there is no cache).
pub fn read(root: &Path) -> Vec<String> {
    let Ok(bytes) = std::fs::read(cache_file(root)) else {
        return Vec::new();
    };
    match serde_json::from_slice::<BTreeMap<String, serde_json::Value>>(&bytes) {
        Ok(map) => map.into_keys().collect(),
        Err(error) => {
            diagnostics::warning(format_args!(
                "ignoring the unreadable {}: {error}",
                cache_file(root).display()
            ));
            Vec::new()
        }
    }
}

/// The new `lastfailed`: the old entries minus tests that ran and did not fail, plus tests that
/// failed now (pytest's own rule).
pub fn updated(previous: Vec<String>, results: &Results) -> BTreeMap<String, bool> {
    let mut map: BTreeMap<String, bool> = previous.into_iter().map(|id| (id, true)).collect();
    for (id, result) in results.iter() {
        let Some(last) = result.last() else { continue };
        if last.status.is_failure() {
            map.insert(id.clone(), true);
        } else if last.status != crate::runner::results::Status::NotRun {
            map.remove(id);
        }
    }
    map
}

/// Writes the cache file atomically, creating pytest's cache directory (with the `.gitignore`
/// pytest would write) when missing.
pub fn write(root: &Path, map: &BTreeMap<String, bool>) -> std::io::Result<()> {
    let cache = root.join(".pytest_cache");
    if !cache.exists() {
        std::fs::create_dir_all(&cache)?;
        std::fs::write(cache.join(".gitignore"), "# Created by rxdist.\n*\n")?;
    }
    let path = cache_file(root);
    std::fs::create_dir_all(path.parent().expect("the cache file has a parent"))?;
    let mut bytes = serde_json::to_vec_pretty(map).expect("a map of strings serializes");
    bytes.push(b'\n');
    atomic::write(&path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::results::{AttemptResult, Status};

    #[test]
    fn the_flag_is_taken_out_of_the_command() {
        let mut command: Vec<String> = ["pytest", "--lf", "-q"].map(String::from).to_vec();
        assert!(take_flag(&mut command));
        assert_eq!(command, ["pytest", "-q"]);
        assert!(!take_flag(&mut command));
    }

    #[test]
    fn passing_tests_leave_the_list_and_failing_ones_join_it() {
        let mut results = Results::default();
        results.push(
            "a.py::fixed",
            AttemptResult::synthetic(Status::Passed, "", 0.0),
        );
        results.push(
            "a.py::new",
            AttemptResult::synthetic(Status::Failed, "", 0.0),
        );
        results.not_run("a.py::later", "cancelled");
        let map = updated(vec!["a.py::fixed".into(), "a.py::later".into()], &results);
        assert_eq!(
            map.keys().collect::<Vec<_>>(),
            vec!["a.py::later", "a.py::new"]
        );
    }

    #[test]
    fn the_cache_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).is_empty());
        let map = BTreeMap::from([("t.py::x".to_owned(), true)]);
        write(dir.path(), &map).unwrap();
        assert_eq!(read(dir.path()), vec!["t.py::x".to_owned()]);
        assert!(dir.path().join(".pytest_cache/.gitignore").is_file());
    }
}
