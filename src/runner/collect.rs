//! `--collect pytest`: asking pytest for the node ids it would run.
//!
//! Parsing `pytest --collect-only -q` output breaks as soon as the user's `addopts` change the
//! verbosity (`-qq` prints per-file counts, `-v` a tree), so rxdist loads a ten-line plugin that
//! writes each collected item's node id to a file instead.

use std::path::Path;
use std::process::{Command, Stdio};

/// The plugin, written to a temporary directory and loaded with `-p`.
const PLUGIN: &str = r#""""Written by rxdist: records the node ids pytest collected."""
import os


def pytest_collection_finish(session):
    path = os.environ.get("RXDIST_COLLECT_OUTPUT")
    if not path:
        return
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for item in session.items:
            out.write(item.nodeid + "\n")
"#;

const PLUGIN_MODULE: &str = "rxdist_collect_plugin";

/// Why collection failed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// Neither `pytest` nor `python3 -m pytest` could be started.
    #[error(
        "cannot start pytest (tried `pytest` and `python3 -m pytest`); install pytest or pass --tests FILE"
    )]
    NotFound(#[source] std::io::Error),
    /// Setting up the plugin failed.
    #[error("cannot prepare the collection plugin")]
    Setup(#[source] std::io::Error),
    /// pytest ran but reported errors.
    #[error("pytest collection failed with exit code {code}:\n{output}")]
    Failed {
        /// pytest's exit code (or -1 when killed by a signal).
        code: i32,
        /// The tail of pytest's output.
        output: String,
    },
}

/// Runs pytest's collection in `cwd` with the extra `args` and returns the node ids in
/// collection order. No tests collected (pytest's exit code 5) is an empty list.
pub fn collect_pytest(cwd: &Path, args: &[String]) -> Result<Vec<String>, CollectError> {
    let dir = tempfile::Builder::new()
        .prefix("rxdist-collect-")
        .tempdir()
        .map_err(CollectError::Setup)?;
    std::fs::write(dir.path().join(format!("{PLUGIN_MODULE}.py")), PLUGIN)
        .map_err(CollectError::Setup)?;
    let ids_path = dir.path().join("ids.txt");
    let python_path = match std::env::var_os("PYTHONPATH") {
        Some(existing) if !existing.is_empty() => {
            let mut paths = vec![dir.path().to_path_buf()];
            paths.extend(std::env::split_paths(&existing));
            std::env::join_paths(paths)
                .map_err(|error| CollectError::Setup(std::io::Error::other(error)))?
        }
        _ => dir.path().as_os_str().to_owned(),
    };
    let launchers: [(&str, &[&str]); 2] = [("pytest", &[]), ("python3", &["-m", "pytest"])];
    let mut last_not_found = None;
    for (program, prefix) in launchers {
        let mut command = Command::new(program);
        command
            .args(prefix)
            .args([
                "--collect-only",
                "-q",
                "-p",
                PLUGIN_MODULE,
                "-p",
                "no:cacheprovider",
            ])
            .args(args)
            .current_dir(cwd)
            .env("PYTHONPATH", &python_path)
            .env("RXDIST_COLLECT_OUTPUT", &ids_path)
            .stdin(Stdio::null());
        let output = match command.output() {
            Ok(output) => output,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                last_not_found = Some(error);
                continue;
            }
            Err(error) => return Err(CollectError::NotFound(error)),
        };
        let code = output.status.code().unwrap_or(-1);
        if code == 0 || code == 5 {
            let text = std::fs::read_to_string(&ids_path).unwrap_or_default();
            return Ok(text
                .lines()
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect());
        }
        let mut combined = String::from_utf8_lossy(&output.stdout).into_owned();
        combined.push_str(&String::from_utf8_lossy(&output.stderr));
        return Err(CollectError::Failed {
            code,
            output: tail(&combined, 30),
        });
    }
    Err(CollectError::NotFound(
        last_not_found.unwrap_or_else(|| std::io::Error::other("no launcher")),
    ))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
