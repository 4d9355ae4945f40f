//! What rxdist tells GitHub Actions about a run: the job summary (Markdown for
//! `GITHUB_STEP_SUMMARY`), failure annotations (`::error file=...,line=...::` workflow
//! commands) and step outputs (`GITHUB_OUTPUT` entries).
//!
//! Pure rendering: a [`JobSummary`] in, text out. Which files the text goes to, and whether
//! this is GitHub at all, is decided by the command layer from its [`crate::env::Env`]; nothing
//! here reads the environment or writes a file.
//!
//! GitHub's limits shape the output: a step summary larger than 1 MiB is rejected whole, so the
//! summary is built within a byte budget, dropping list entries (and saying how many) rather
//! than the totals; a step shows at most 10 error annotations, so rxdist emits at most that many
//! and says how many more failures the summary lists.

use std::fmt::Write as _;

/// Bytes a step summary may take. GitHub rejects a summary over 1 MiB; the margin leaves room
/// for what other steps' tools append to the same file.
pub const SUMMARY_BUDGET: usize = 1 << 19;

/// Error annotations GitHub shows per step (it silently drops the rest).
pub const ANNOTATIONS_PER_STEP: usize = 10;

/// Longest failure message shown in full in the summary's table or an annotation.
const MESSAGE_CHARS: usize = 300;

/// Longest failure details (traceback) shown under a failure in the summary.
const DETAILS_CHARS: usize = 4000;

/// Everything a job summary shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobSummary {
    /// The heading, e.g. "rxdist run: shard 2/3".
    pub title: String,
    /// The totals.
    pub counts: Counts,
    /// Tests that failed, in report order.
    pub failures: Vec<FailureNote>,
    /// Flaky tests: failed, then passed on a retry.
    pub flaky: Vec<String>,
    /// The slowest tests, slowest first, with their seconds.
    pub slowest: Vec<(String, f64)>,
    /// How balanced the split was: per shard, predicted and actual seconds.
    pub shards: Vec<ShardTime>,
    /// Lines of extra information (outputs written, warnings), shown last.
    pub notes: Vec<String>,
}

/// Totals of a run or a merged report.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// Tests (testcases).
    pub tests: u64,
    /// Passed at the first attempt (flaky tests are counted apart).
    pub passed: u64,
    /// Failed (assertions, timeouts).
    pub failed: u64,
    /// Errors (setup, teardown, crashes, collection).
    pub errors: u64,
    /// Skipped (and xfailed).
    pub skipped: u64,
    /// Passed only on a retry.
    pub flaky: u64,
    /// Never ran (`--maxfail`, cancellation, timeouts).
    pub not_run: u64,
    /// Test time in seconds (the sum over tests, not wall time).
    pub seconds: f64,
}

/// One failed test.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailureNote {
    /// The test id.
    pub id: String,
    /// How it failed: "failed", "error", "timed out", "crashed"...
    pub kind: String,
    /// Source file, relative to the repository root, when known.
    pub file: Option<String>,
    /// Line in `file`, 1-based, when known.
    pub line: Option<u64>,
    /// One-line message.
    pub message: String,
    /// The traceback or failure text, when known.
    pub details: Option<String>,
}

/// Predicted and actual time of one shard.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardTime {
    /// The shard, as "2/3".
    pub shard: String,
    /// Tests it ran.
    pub tests: u64,
    /// What the plan predicted, when a history was used.
    pub predicted_seconds: Option<f64>,
    /// Wall time it took.
    pub actual_seconds: f64,
}

/// Renders the job summary as GitHub-flavoured Markdown within `budget` bytes.
///
/// The heading, the totals and the shard table always fit; failures, flaky and slowest tests
/// are added while they fit, and a line says how many were left out.
pub fn render_summary(summary: &JobSummary, budget: usize) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "## {}\n", summary.title);
    let counts = &summary.counts;
    let verdict = if counts.failed + counts.errors > 0 {
        "❌"
    } else {
        "✅"
    };
    let _ = writeln!(
        text,
        "{verdict} **{} tests**: {} passed, {} failed, {} errors, {} skipped, {} flaky{} · {} of test time\n",
        counts.tests,
        counts.passed,
        counts.failed,
        counts.errors,
        counts.skipped,
        counts.flaky,
        if counts.not_run > 0 {
            format!(", {} not run", counts.not_run)
        } else {
            String::new()
        },
        seconds(counts.seconds),
    );
    if !summary.shards.is_empty() {
        shard_table(&mut text, &summary.shards);
    }
    // Everything below is optional: each block is added whole or not at all.
    let reserve = 200;
    let mut sections: Vec<String> = Vec::new();
    if !summary.failures.is_empty() {
        sections.push(failures_section(
            &summary.failures,
            budget.saturating_sub(text.len() + reserve),
        ));
    }
    if !summary.flaky.is_empty() {
        let mut block = String::from("### Flaky (failed, then passed on a retry)\n\n");
        list_within(
            &mut block,
            summary.flaky.iter().map(|id| format!("- `{}`\n", code(id))),
            budget / 8,
        );
        sections.push(block);
    }
    if !summary.slowest.is_empty() {
        let mut block = String::from("### Slowest tests\n\n| seconds | test |\n|---:|---|\n");
        list_within(
            &mut block,
            summary
                .slowest
                .iter()
                .map(|(id, secs)| format!("| {secs:.2} | `{}` |\n", code(id))),
            budget / 8,
        );
        sections.push(block);
    }
    if !summary.notes.is_empty() {
        let mut block = String::new();
        for note in &summary.notes {
            let _ = writeln!(block, "{}", cell(note));
        }
        sections.push(block);
    }
    for section in sections {
        if text.len() + section.len() < budget {
            text.push_str(&section);
            text.push('\n');
        }
    }
    text
}

/// The predicted against actual time of every shard, and how far the longest is from the mean.
fn shard_table(text: &mut String, shards: &[ShardTime]) {
    text.push_str("| shard | tests | predicted | actual | off by |\n|---|---:|---:|---:|---:|\n");
    for shard in shards {
        let (predicted, off) = match shard.predicted_seconds {
            Some(predicted) if predicted > 0.0 => (
                seconds(predicted),
                format!(
                    "{:+.0}%",
                    (shard.actual_seconds - predicted) / predicted * 100.0
                ),
            ),
            Some(_) | None => ("-".to_owned(), "-".to_owned()),
        };
        let _ = writeln!(
            text,
            "| {} | {} | {predicted} | {} | {off} |",
            cell(&shard.shard),
            shard.tests,
            seconds(shard.actual_seconds),
        );
    }
    if shards.len() > 1 {
        let actual: Vec<f64> = shards.iter().map(|s| s.actual_seconds).collect();
        let longest = actual.iter().copied().fold(0.0, f64::max);
        let mean = actual.iter().sum::<f64>() / actual.len() as f64;
        if mean > 0.0 {
            let _ = writeln!(
                text,
                "\nThe longest shard took {:.0}% of the mean: {} against {}.",
                longest / mean * 100.0,
                seconds(longest),
                seconds(mean)
            );
        }
    }
    text.push('\n');
}

fn failures_section(failures: &[FailureNote], budget: usize) -> String {
    let mut block = format!("### Failures ({})\n\n", failures.len());
    let mut shown = 0;
    for failure in failures {
        let mut entry = format!(
            "<details><summary><b>{}</b> <code>{}</code>: {}</summary>\n\n",
            html(&failure.kind),
            html(&failure.id),
            html(&truncate(first_line(&failure.message), MESSAGE_CHARS))
        );
        if let Some(place) = location(failure) {
            let _ = writeln!(entry, "{}\n", html(&place));
        }
        if let Some(details) = failure.details.as_deref().filter(|d| !d.trim().is_empty()) {
            let fence = fence_for(details);
            let _ = writeln!(
                entry,
                "{fence}\n{}\n{fence}\n",
                truncate(details.trim_end(), DETAILS_CHARS)
            );
        }
        entry.push_str("</details>\n");
        if block.len() + entry.len() + 80 > budget {
            break;
        }
        block.push_str(&entry);
        shown += 1;
    }
    if shown < failures.len() {
        let _ = writeln!(
            block,
            "\n…and {} more failures (see the JUnit report).",
            failures.len() - shown
        );
    }
    block
}

/// Appends entries while they fit in `budget`, then a line saying how many did not.
fn list_within(block: &mut String, entries: impl ExactSizeIterator<Item = String>, budget: usize) {
    let total = entries.len();
    let mut shown = 0;
    for entry in entries {
        if block.len() + entry.len() > budget {
            break;
        }
        block.push_str(&entry);
        shown += 1;
    }
    if shown < total {
        let _ = writeln!(block, "\n…and {} more.", total - shown);
    }
}

fn location(failure: &FailureNote) -> Option<String> {
    let file = failure.file.as_deref()?;
    Some(match failure.line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_owned(),
    })
}

/// The error annotations for the failures, at most `limit`, as workflow-command lines. When
/// there are more failures than annotations, a last notice says so.
pub fn annotations(failures: &[FailureNote], limit: usize) -> String {
    let mut text = String::new();
    for failure in failures.iter().take(limit) {
        let mut properties = Vec::new();
        if let Some(file) = &failure.file {
            properties.push(format!("file={}", property(file)));
            if let Some(line) = failure.line {
                properties.push(format!("line={line}"));
            }
        }
        properties.push(format!(
            "title={}",
            property(&format!("{} {}", failure.id, failure.kind))
        ));
        let mut message = truncate(&failure.message, MESSAGE_CHARS);
        if message.trim().is_empty() {
            message.clone_from(&failure.kind);
        }
        let _ = writeln!(text, "::error {}::{}", properties.join(","), data(&message));
    }
    if failures.len() > limit {
        let _ = writeln!(
            text,
            "::notice title=rxdist::{}",
            data(&format!(
                "{} more failures are not annotated (GitHub shows {limit} per step); the job summary lists them",
                failures.len() - limit
            ))
        );
    }
    text
}

/// The line a pytest failure happened on, 1-based: the last `FILE:LINE: ` line of the
/// traceback that names the test's own file. pytest's report gives only the (0-based) line of
/// the test function, which is rarely where an annotation helps.
pub fn pytest_failure_line(details: &str, file: &str) -> Option<u64> {
    details.lines().rev().find_map(|line| {
        let rest = line.strip_prefix(file)?.strip_prefix(':')?;
        let (number, after) = rest.split_once(':')?;
        if !after.starts_with(' ') {
            return None;
        }
        number.parse().ok()
    })
}

/// One `GITHUB_OUTPUT` entry. Single-line values are `name=value`; others use a delimiter that
/// does not occur in the value, as GitHub requires.
pub fn output_entry(name: &str, value: &str) -> String {
    if !value.contains(['\n', '\r']) {
        return format!("{name}={value}\n");
    }
    let mut delimiter = String::from("RXDIST_EOF");
    while value.lines().any(|line| line == delimiter) {
        delimiter.push('_');
    }
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

/// Escapes a workflow command's message.
pub fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
pub fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

fn first_line(text: &str) -> &str {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("")
}

fn truncate(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// Escapes text for HTML (inside `<details>`, Markdown is not rendered).
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Keeps a table cell on one line and its pipes literal.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text for inline code: backticks would end it.
fn code(text: &str) -> String {
    text.replace('`', "'").replace(['\n', '\r'], " ")
}

/// A code fence longer than any run of backticks in the text.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn seconds(value: f64) -> String {
    let value = value.max(0.0);
    if value < 60.0 {
        format!("{value:.1}s")
    } else if value < 3600.0 {
        let whole = value.round() as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        let whole = value.round() as u64;
        format!("{}h{:02}m", whole / 3600, whole % 3600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> JobSummary {
        JobSummary {
            title: "rxdist merge: 3 shards".into(),
            counts: Counts {
                tests: 120,
                passed: 115,
                failed: 2,
                errors: 1,
                skipped: 2,
                flaky: 1,
                not_run: 0,
                seconds: 301.25,
            },
            failures: vec![
                FailureNote {
                    id: "tests/test_a.py::test_x[1|2]".into(),
                    kind: "failed".into(),
                    file: Some("tests/test_a.py".into()),
                    line: Some(12),
                    message: "assert 1 == 2\nwhere 1 = f()".into(),
                    details: Some("def test_x():\n>   assert f() == 2\nE   ```weird```".into()),
                },
                FailureNote {
                    id: "tests/test_b.py::test_<y>".into(),
                    kind: "error".into(),
                    file: None,
                    line: None,
                    message: "failed on setup with \"RuntimeError: db, down: now\"".into(),
                    details: None,
                },
            ],
            flaky: vec!["tests/test_c.py::test_z".into()],
            slowest: vec![("tests/test_d.py::test_slow".into(), 42.5)],
            shards: vec![
                ShardTime {
                    shard: "1/3".into(),
                    tests: 40,
                    predicted_seconds: Some(100.0),
                    actual_seconds: 110.0,
                },
                ShardTime {
                    shard: "2/3".into(),
                    tests: 40,
                    predicted_seconds: Some(100.0),
                    actual_seconds: 95.0,
                },
                ShardTime {
                    shard: "3/3".into(),
                    tests: 40,
                    predicted_seconds: None,
                    actual_seconds: 96.25,
                },
            ],
            notes: vec!["wrote merged/junit.xml".into()],
        }
    }

    #[test]
    fn the_summary_shows_totals_balance_failures_flaky_and_slowest() {
        insta::assert_snapshot!(render_summary(&sample(), SUMMARY_BUDGET));
    }

    #[test]
    fn the_summary_stays_within_its_budget_and_says_what_it_left_out() {
        let mut summary = sample();
        let failure = summary.failures[0].clone();
        summary.failures = vec![failure; 5000];
        let text = render_summary(&summary, 20_000);
        assert!(text.len() <= 20_000, "{}", text.len());
        assert!(text.contains("**120 tests**"));
        assert!(text.contains("more failures (see the JUnit report)"));
        assert!(text.contains("| 1/3 | 40 |"));
    }

    #[test]
    fn annotations_are_capped_escaped_and_located() {
        let mut failures = sample().failures;
        let text = annotations(&failures, ANNOTATIONS_PER_STEP);
        insta::assert_snapshot!(text);
        failures = vec![failures[0].clone(); 25];
        let text = annotations(&failures, ANNOTATIONS_PER_STEP);
        assert_eq!(text.matches("::error ").count(), 10);
        assert!(text.contains("15 more failures are not annotated"));
    }

    #[test]
    fn the_failing_line_comes_from_the_traceback() {
        let details =
            "def test_x():\n>   assert f()\nE   assert False\n\ntests/test_a.py:7: AssertionError";
        assert_eq!(pytest_failure_line(details, "tests/test_a.py"), Some(7));
        assert_eq!(pytest_failure_line(details, "tests/test_b.py"), None);
        assert_eq!(
            pytest_failure_line("tests/test_a.py:x: y", "tests/test_a.py"),
            None
        );
    }

    #[test]
    fn outputs_with_newlines_use_a_delimiter_absent_from_the_value() {
        assert_eq!(output_entry("tests", "12"), "tests=12\n");
        let entry = output_entry("list", "a\nRXDIST_EOF\nb");
        assert_eq!(entry, "list<<RXDIST_EOF_\na\nRXDIST_EOF\nb\nRXDIST_EOF_\n");
    }
}
