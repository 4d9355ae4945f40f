//! Coverage of a run: every worker process writes its own coverage.py data file (named by
//! `COVERAGE_FILE`, so concurrent processes never write the same file), and at the end
//! `coverage combine` joins them and `coverage xml` writes one Cobertura report for the shard.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why the combined report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    /// No worker wrote coverage data.
    #[error(
        "no coverage data was written in {dir}: is pytest-cov installed, and does the command measure anything (--cov)?"
    )]
    NoData {
        /// The data directory.
        dir: PathBuf,
    },
    /// coverage.py could not be started.
    #[error("cannot run `{python} -m coverage`")]
    Start {
        /// The interpreter.
        python: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// coverage.py failed.
    #[error("`coverage {step}` failed:\n{output}")]
    Failed {
        /// `combine` or `xml`.
        step: &'static str,
        /// What it printed.
        output: String,
    },
}

/// Whether the user's pytest arguments already ask pytest-cov to measure.
pub fn command_measures(command: &[String]) -> bool {
    command
        .iter()
        .any(|arg| arg == "--cov" || arg.starts_with("--cov="))
}

/// Combines the data files in `dir` and writes the Cobertura XML to `out` (through a temporary
/// file in `out`'s directory, renamed into place).
pub fn combine(python: &str, dir: &Path, cwd: &Path, out: &Path) -> Result<(), CoverageError> {
    let has_data = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(".coverage."))
        })
        .unwrap_or(false);
    if !has_data {
        return Err(CoverageError::NoData {
            dir: dir.to_path_buf(),
        });
    }
    let combined = dir.join(".coverage");
    let run = |step: &'static str, args: &[&std::ffi::OsStr]| {
        let output = Command::new(python)
            .args(["-m", "coverage", step])
            .args(args)
            .env("COVERAGE_FILE", &combined)
            .current_dir(cwd)
            .output()
            .map_err(|source| CoverageError::Start {
                python: python.to_owned(),
                source,
            })?;
        if output.status.success() {
            Ok(())
        } else {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            Err(CoverageError::Failed { step, output: text })
        }
    };
    run("combine", &[dir.as_os_str()])?;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let _ = std::fs::create_dir_all(parent);
    let temp = parent.join(format!(
        ".{}.rxdist-tmp",
        out.file_name().unwrap_or_default().to_string_lossy()
    ));
    run(
        "xml",
        &[
            std::ffi::OsStr::new("-i"),
            std::ffi::OsStr::new("-o"),
            temp.as_os_str(),
        ],
    )?;
    std::fs::rename(&temp, out).map_err(|source| CoverageError::Start {
        python: python.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pytest_cov_flags_are_recognised() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(command_measures(&args(&["pytest", "--cov=shop"])));
        assert!(command_measures(&args(&["pytest", "--cov"])));
        assert!(!command_measures(&args(&["pytest", "--cov-report=xml"])));
        assert!(!command_measures(&args(&["pytest", "tests/"])));
    }
}
