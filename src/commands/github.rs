//! Publishing a command's results to GitHub Actions: the job summary, failure annotations and
//! step outputs, written only when GitHub's own variables say where.
//!
//! Outside GitHub Actions nothing here writes anything. A summary or output that cannot be
//! written is a warning, never a failure of the command: the reports on disk are the results.

use std::io::Write as _;
use std::path::Path;

use super::diagnostics;
use crate::ci::github::{self, JobSummary};
use crate::env::{Env, EnvVars};

/// Whether anything would be published: inside GitHub Actions, or when one of its files is
/// named (a summary costs work to build, so callers ask first).
pub fn wanted(env: &Env) -> bool {
    env.get(EnvVars::GITHUB_ACTIONS) == Some("true")
        || env.get(EnvVars::GITHUB_STEP_SUMMARY).is_some()
        || env.get(EnvVars::GITHUB_OUTPUT).is_some()
}

/// Writes `summary` to `GITHUB_STEP_SUMMARY`, its failures as annotations on standard output
/// (inside GitHub Actions only) and `outputs` to `GITHUB_OUTPUT`.
pub fn publish(env: &Env, summary: &JobSummary, outputs: &[(&str, String)]) {
    if env.get(EnvVars::GITHUB_ACTIONS) == Some("true") && !summary.failures.is_empty() {
        let text = github::annotations(&summary.failures, github::ANNOTATIONS_PER_STEP);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    if let Some(path) = env.get(EnvVars::GITHUB_STEP_SUMMARY) {
        let text = github::render_summary(summary, github::SUMMARY_BUDGET);
        append(Path::new(path), &text, "job summary");
    }
    if let Some(path) = env.get(EnvVars::GITHUB_OUTPUT) {
        let text: String = outputs
            .iter()
            .map(|(name, value)| github::output_entry(name, value))
            .collect();
        append(Path::new(path), &text, "step outputs");
    }
}

/// GitHub's files are shared by every step of a job, so they are appended to, never replaced.
fn append(path: &Path, text: &str, what: &str) {
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()));
    if let Err(error) = written {
        diagnostics::warning(format_args!(
            "cannot write the {what} to {}: {error}",
            path.display()
        ));
    }
}
