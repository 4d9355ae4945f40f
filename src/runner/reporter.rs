//! The one reporter: everything the run prints goes through it, from the run loop's thread, so
//! the output of different workers never interleaves.
//!
//! On a terminal a progress bar shows done/total, failures and the running tests with their
//! elapsed time, and finished tests scroll above it; without a terminal (CI logs) each finished
//! test is one line. A failing test's report is printed once, when its verdict is final, and
//! listed again in the summary with its one-line message.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::results::{AttemptResult, Results, Status};

/// Console output of a run.
pub struct Reporter {
    bar: Option<ProgressBar>,
    done: u64,
    failures: u64,
    running: Vec<Option<(String, Instant)>>,
    last_tick: Instant,
}

impl Reporter {
    /// A reporter for `workers` slots; `interactive` draws a progress bar on stderr.
    pub fn new(workers: usize, interactive: bool) -> Reporter {
        let bar = interactive.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise:.dim} [{bar:30.cyan/blue}] {pos}/{len} {prefix}\n{wide_msg}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar
        });
        Reporter {
            bar,
            done: 0,
            failures: 0,
            running: vec![None; workers],
            last_tick: Instant::now(),
        }
    }

    /// Prints a line above the bar (or to stdout).
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
        }
    }

    /// Prints a note on stderr, above the bar.
    pub fn note(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("rxdist: {text}")),
            None => eprintln!("rxdist: {text}"),
        }
    }

    /// Final failures so far.
    pub fn failures(&self) -> usize {
        self.failures as usize
    }

    /// More tests became known.
    pub fn add_expected(&mut self, count: usize) {
        if let Some(bar) = &self.bar {
            bar.inc_length(count as u64);
        }
    }

    /// Workers started.
    pub fn started(&self, workers: usize, tests: usize) {
        let tests = if tests == 0 {
            String::new()
        } else {
            format!(" for {tests} known tests")
        };
        self.line(&format!("rxdist: started {workers} workers{tests}"));
    }

    /// A test started on `slot`.
    pub fn test_started(&mut self, slot: usize, id: &str) {
        if let Some(entry) = self.running.get_mut(slot) {
            *entry = Some((id.to_owned(), Instant::now()));
        }
    }

    /// Nothing runs on `slot` any more.
    pub fn slot_idle(&mut self, slot: usize) {
        if let Some(entry) = self.running.get_mut(slot) {
            *entry = None;
        }
    }

    /// A test's attempt finished; `final_verdict` is false when a retry follows.
    pub fn test_finished(
        &mut self,
        slot: Option<usize>,
        id: &str,
        attempt: &AttemptResult,
        attempt_number: u32,
        final_verdict: bool,
        flaky: bool,
    ) {
        if let Some(slot) = slot {
            self.slot_idle(slot);
        }
        let label = if flaky {
            "FLAKY"
        } else if !final_verdict {
            "RETRY"
        } else {
            attempt.status.label()
        };
        let mut line = format!("{label:>8} {id}");
        if attempt.status != Status::NotRun {
            let _ = write!(line, " ({:.2}s)", attempt.seconds);
        }
        if attempt_number > 1 {
            let _ = write!(line, " [attempt {attempt_number}]");
        }
        if final_verdict {
            self.done += 1;
            if attempt.status.is_failure() {
                self.failures += 1;
            }
        }
        self.line(&line);
        if final_verdict && attempt.status.is_failure() {
            self.line(&failure_text(id, attempt));
        }
        if let Some(bar) = &self.bar {
            bar.set_position(self.done);
            bar.set_prefix(format!("{} failed", self.failures));
        }
    }

    /// Refreshes the bar's list of running tests (at most a few times a second).
    pub fn tick(&mut self) {
        let Some(bar) = &self.bar else { return };
        if self.last_tick.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.last_tick = Instant::now();
        let running: Vec<String> = self
            .running
            .iter()
            .flatten()
            .map(|(id, since)| format!("{id} ({}s)", since.elapsed().as_secs()))
            .collect();
        bar.set_message(running.join("\n"));
    }

    /// Removes the bar and prints the summary.
    pub fn finish(&self, results: &Results, elapsed: Duration, slowest: usize) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.line(&summary_text(results, elapsed, slowest));
    }
}

fn failure_text(id: &str, attempt: &AttemptResult) -> String {
    let mut text = format!("{:-^80}\n", format!(" {id} "));
    if let Some(details) = attempt.details.as_deref().or(attempt.message.as_deref()) {
        text.push_str(details.trim_end());
        text.push('\n');
    }
    for (title, content) in [
        ("captured stdout", &attempt.stdout),
        ("captured stderr", &attempt.stderr),
    ] {
        if let Some(content) = content {
            let _ = writeln!(text, "{:-^80}", format!(" {title} "));
            text.push_str(content.trim_end());
            text.push('\n');
        }
    }
    text.push_str(&"-".repeat(80));
    text
}

/// The end-of-run summary: failures with their messages, flaky tests, the slowest tests and the
/// totals.
pub fn summary_text(results: &Results, elapsed: Duration, slowest: usize) -> String {
    let mut text = String::new();
    let mut failed = Vec::new();
    let mut flaky = Vec::new();
    let mut timed: Vec<(f64, &str)> = Vec::new();
    for (id, result) in results.iter() {
        let Some(last) = result.last() else { continue };
        if result.is_flaky() {
            flaky.push((id.as_str(), result.attempts.len()));
        } else if last.status.is_failure() {
            failed.push((id.as_str(), last));
        }
        if last.status != Status::NotRun {
            timed.push((last.seconds, id.as_str()));
        }
    }
    if !failed.is_empty() {
        text.push_str("\nfailures:\n");
        for (id, last) in &failed {
            let message = last
                .message
                .as_deref()
                .and_then(|m| m.lines().next())
                .unwrap_or("");
            let _ = writeln!(text, "  {} {id}: {message}", last.status.label());
        }
    }
    if !flaky.is_empty() {
        text.push_str("\nflaky (failed, then passed on a retry):\n");
        for (id, attempts) in &flaky {
            let _ = writeln!(text, "  {id} (passed on attempt {attempts})");
        }
    }
    timed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    if slowest > 0 && !timed.is_empty() {
        text.push_str("\nslowest tests:\n");
        for (seconds, id) in timed.iter().take(slowest) {
            let _ = writeln!(text, "  {seconds:>8.2}s {id}");
        }
    }
    let tally = results.tally();
    // The same split as the report's <failure> and <error> counters; timeouts are failures,
    // crashes are errors.
    let failed = tally.failed - tally.errors;
    let mut parts = vec![format!("{} passed", tally.passed)];
    if failed > 0 {
        parts.push(match tally.timed_out {
            0 => format!("{failed} failed"),
            n => format!("{failed} failed ({n} timed out)"),
        });
    }
    if tally.errors > 0 {
        parts.push(match tally.crashed {
            0 => format!("{} errors", tally.errors),
            n => format!("{} errors ({n} crashed)", tally.errors),
        });
    }
    for (count, word) in [
        (tally.flaky, "flaky"),
        (tally.skipped, "skipped"),
        (tally.xfailed, "xfailed"),
        (tally.not_run, "not run"),
    ] {
        if count > 0 {
            parts.push(format!("{count} {word}"));
        }
    }
    let _ = write!(
        text,
        "\nrxdist: {} tests: {} in {:.2}s",
        tally.total,
        parts.join(", "),
        elapsed.as_secs_f64()
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_lists_failures_flaky_and_slowest() {
        let mut results = Results::default();
        results.push(
            "t.py::bad",
            AttemptResult::synthetic(Status::Failed, "assert 1 == 2\nmore", 0.5),
        );
        results.push(
            "t.py::flaky",
            AttemptResult::synthetic(Status::Failed, "first", 0.1),
        );
        results.push(
            "t.py::flaky",
            AttemptResult::synthetic(Status::Passed, "ok", 0.2),
        );
        results.push(
            "t.py::slow",
            AttemptResult::synthetic(Status::Passed, "ok", 3.0),
        );
        results.not_run("t.py::late", "cancelled");
        let text = summary_text(&results, Duration::from_millis(1500), 2);
        insta::assert_snapshot!(text);
    }
}
