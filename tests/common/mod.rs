//! A tiny builder for running the real `rxdist` binary in end-to-end tests.
//!
//! Every command starts from an empty environment (plus `PATH`, `HOME` and the Python test
//! environment's variables) so nothing from the machine running the tests, a CI runner's
//! `GITHUB_*` or `CIRCLE_*` variables above all, changes what rxdist does.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture path under `tests/fixtures`.
pub fn fixture(relative: &str) -> PathBuf {
    root().join("tests/fixtures").join(relative)
}

/// A command for the rxdist binary with a clean environment.
pub struct Rxdist {
    command: Command,
    stdin: Option<Vec<u8>>,
}

/// What a finished command printed and returned.
#[derive(Debug)]
pub struct Output {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// Panics with everything printed unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panics unless the command succeeded.
    #[track_caller]
    pub fn success(self) -> Self {
        self.expect_code(0)
    }
}

/// Starts an rxdist command.
pub fn rxdist() -> Rxdist {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rxdist"));
    command.env_clear();
    for name in ["PATH", "HOME", "VIRTUAL_ENV", "SYSTEMROOT", "TMPDIR"] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command.env("NO_COLOR", "1");
    Rxdist {
        command,
        stdin: None,
    }
}

impl Rxdist {
    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, name: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// Runs in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Feeds `bytes` on standard input.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs to completion.
    pub fn run(mut self) -> Output {
        self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.command.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = self.command.spawn().expect("the rxdist binary starts");
        if let Some(bytes) = self.stdin.take() {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin is piped");
            stdin.write_all(&bytes).expect("stdin accepts the input");
        }
        let output = child.wait_with_output().expect("rxdist finishes");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Starts without waiting, standard output and error piped, for tests that talk to the
    /// running process (signals) or must not wait forever. On Unix it leads a process group of
    /// its own, so a test can kill it and everything it started (`kill -KILL -- -PID`).
    pub fn spawn(mut self) -> std::process::Child {
        assert!(self.stdin.is_none(), "spawn does not feed standard input");
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut self.command, 0);
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.command.spawn().expect("the rxdist binary starts")
    }
}

/// Writes a test list file with one id per line.
pub fn write_list(path: &Path, ids: &[&str]) {
    let mut text = String::new();
    for id in ids {
        text.push_str(id);
        text.push('\n');
    }
    std::fs::write(path, text).expect("the test list is written");
}
