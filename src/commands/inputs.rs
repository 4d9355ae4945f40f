//! Reading the inputs commands share: test lists, the history, report files.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::runner;
use crate::settings::TestSource;
use crate::timings::hash::{IdHasher, IdSet};
use crate::timings::{History, store};

/// Reads the test list: one id per line; blank lines and `#` comments are skipped, surrounding
/// whitespace trimmed, and repeated ids kept once (first occurrence).
pub fn read_test_list(mut reader: impl BufRead) -> std::io::Result<Vec<String>> {
    // One reused line buffer and one exactly-sized allocation per id: neither a copy of the
    // whole file nor a growing buffer per line, which dominate for a million-test list.
    let mut ids = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line)? > 0 {
        let id = line.trim();
        if !id.is_empty() && !id.starts_with('#') {
            ids.push(id.to_owned());
        }
        line.clear();
    }
    Ok(first_occurrences(ids))
}

/// Drops repeated ids, keeping the first occurrence, without copying any id.
fn first_occurrences(ids: Vec<String>) -> Vec<String> {
    let keep: Vec<bool> = {
        let mut seen = IdSet::with_capacity_and_hasher(ids.len(), IdHasher::default());
        ids.iter().map(|id| seen.insert(id.as_str())).collect()
    };
    if keep.iter().all(|&kept| kept) {
        return ids;
    }
    ids.into_iter()
        .zip(keep)
        .filter_map(|(id, kept)| kept.then_some(id))
        .collect()
}

/// Loads the tests to plan from wherever the settings say.
pub fn load_tests(source: &TestSource, cwd: &Path) -> Result<Vec<String>, Error> {
    match source {
        TestSource::File(path) => {
            let file = std::fs::File::open(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            read_test_list(BufReader::new(file)).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })
        }
        TestSource::Stdin => {
            read_test_list(std::io::stdin().lock()).map_err(|source| Error::Read {
                path: "<standard input>".into(),
                source,
            })
        }
        TestSource::Collect {
            runner: crate::cli::CollectRunner::Pytest,
            args,
        } => Ok(first_occurrences(runner::collect_pytest(cwd, args)?)),
    }
}

/// Loads a history file; `Ok(None)` when it does not exist yet.
pub fn load_history(path: &Path) -> Result<Option<History>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => store::decode(&bytes)
            .map(Some)
            .map_err(|source| Error::History {
                path: path.to_path_buf(),
                source,
            }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The kinds of report file `timings record` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// JUnit XML.
    Junit,
    /// pytest-split or knapsack JSON.
    DurationsJson,
}

/// Expands files and directories into the report files to read, sorted for determinism.
/// Directories are searched recursively for `*.xml`, `*.xml.zst`, `.test_durations` and
/// `knapsack*.json`; a path given explicitly is always read.
pub fn expand_inputs(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, Error)>) {
    let mut files = Vec::new();
    let mut missing = Vec::new();
    for input in inputs {
        match std::fs::metadata(input) {
            Ok(meta) if meta.is_dir() => {
                if let Err(source) = walk(input, &mut files) {
                    missing.push((
                        input.clone(),
                        Error::Read {
                            path: input.clone(),
                            source,
                        },
                    ));
                }
            }
            Ok(_) => files.push(input.clone()),
            Err(source) => missing.push((
                input.clone(),
                Error::Read {
                    path: input.clone(),
                    source,
                },
            )),
        }
    }
    files.sort();
    files.dedup();
    (files, missing)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, files)?;
        } else if kind.is_file() && is_report_name(&path) {
            files.push(path);
        }
    }
    Ok(())
}

fn is_report_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    let ends_with = |suffix: &str| {
        let (name, suffix) = (name.as_bytes(), suffix.as_bytes());
        name.len() >= suffix.len() && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    ends_with(".xml")
        || ends_with(".xml.zst")
        || name == ".test_durations"
        || (name.starts_with("knapsack") && ends_with(".json"))
}

/// Opens a report, transparently decompressing `.zst`, and tells what kind it is from its
/// first meaningful byte (`{` or `[` for JSON, anything else is treated as XML).
pub fn open_report(path: &Path) -> Result<(ReportKind, Box<dyn BufRead>), Error> {
    let read_error = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let raw: Box<dyn Read> = if path.extension().is_some_and(|extension| extension == "zst") {
        Box::new(zstd::Decoder::new(file).map_err(read_error)?)
    } else {
        Box::new(file)
    };
    let mut reader: Box<dyn BufRead> = Box::new(BufReader::with_capacity(256 * 1024, raw));
    let head = reader.fill_buf().map_err(read_error)?;
    let first = head
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(head)
        .iter()
        .copied()
        .find(|byte| !byte.is_ascii_whitespace());
    let kind = match first {
        Some(b'{' | b'[') => ReportKind::DurationsJson,
        _ => ReportKind::Junit,
    };
    Ok((kind, reader))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_lists_skip_blanks_comments_and_repeats() {
        let text = "# collected\n a::b \n\nc\na::b\r\n";
        assert_eq!(read_test_list(text.as_bytes()).unwrap(), vec!["a::b", "c"]);
    }

    #[test]
    fn directories_are_searched_for_report_names_only() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "b/junit.xml",
            "a/junit.xml.zst",
            ".test_durations",
            "knapsack_rspec_report.json",
            "notes.txt",
            "other.json",
        ] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let (files, missing) =
            expand_inputs(&[dir.path().to_path_buf(), dir.path().join("absent.xml")]);
        let names: Vec<_> = files
            .iter()
            .map(|path| {
                path.strip_prefix(dir.path())
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ".test_durations",
                "a/junit.xml.zst",
                "b/junit.xml",
                "knapsack_rspec_report.json"
            ]
        );
        assert_eq!(missing.len(), 1);
    }
}
