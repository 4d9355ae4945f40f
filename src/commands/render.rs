//! Rendering plans and shards in the output formats, and emitting them.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::atomic;
use crate::error::Error;
use crate::plan::{Plan, Shard};
use crate::timings::Summary;

/// Microseconds to seconds, rounded to milliseconds so output is short and identical everywhere.
pub fn seconds(micros: u64) -> f64 {
    (micros.saturating_add(500) / 1000) as f64 / 1000.0
}

#[derive(Serialize)]
struct PlanJson<'a> {
    total: usize,
    lower_bound_seconds: f64,
    predicted_makespan_seconds: f64,
    shards: Vec<ShardJson<'a>>,
}

#[derive(Serialize)]
struct ShardJson<'a> {
    index: usize,
    tests: &'a [String],
    predicted_seconds: f64,
}

#[derive(Serialize)]
struct OneShardJson<'a> {
    index: usize,
    total: usize,
    tests: &'a [String],
    predicted_seconds: f64,
}

#[derive(Serialize)]
struct Matrix {
    include: Vec<MatrixEntry>,
}

#[derive(Serialize)]
struct MatrixEntry {
    index: usize,
    total: usize,
    shard: String,
    tests: usize,
    predicted_seconds: f64,
}

fn to_json(value: &impl Serialize, pretty: bool, out: &mut dyn Write) -> std::io::Result<()> {
    if pretty {
        serde_json::to_writer_pretty(&mut *out, value)?;
    } else {
        serde_json::to_writer(&mut *out, value)?;
    }
    out.write_all(b"\n")
}

/// `--format json` of `rxdist plan`.
pub fn plan_json(plan: &Plan, out: &mut dyn Write) -> std::io::Result<()> {
    to_json(
        &PlanJson {
            total: plan.total,
            lower_bound_seconds: seconds(plan.lower_bound_micros),
            predicted_makespan_seconds: seconds(plan.makespan_micros),
            shards: plan
                .shards
                .iter()
                .map(|shard| ShardJson {
                    index: shard.index,
                    tests: &shard.tests,
                    predicted_seconds: seconds(shard.predicted_micros),
                })
                .collect(),
        },
        true,
        out,
    )
}

/// `--format github-matrix` of `rxdist plan`: one line, ready for `fromJSON`.
pub fn github_matrix(plan: &Plan, out: &mut dyn Write) -> std::io::Result<()> {
    to_json(
        &Matrix {
            include: plan
                .shards
                .iter()
                .map(|shard| MatrixEntry {
                    index: shard.index,
                    total: plan.total,
                    shard: format!("{}/{}", shard.index + 1, plan.total),
                    tests: shard.tests.len(),
                    predicted_seconds: seconds(shard.predicted_micros),
                })
                .collect(),
        },
        false,
        out,
    )
}

/// `--format text` of `rxdist plan`.
pub fn plan_text(plan: &Plan) -> String {
    let tests: usize = plan.shards.iter().map(|shard| shard.tests.len()).sum();
    let ratio = if plan.lower_bound_micros == 0 {
        1.0
    } else {
        plan.makespan_micros as f64 / plan.lower_bound_micros as f64
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} shards, {} tests: predicted makespan {}, lower bound {} ({ratio:.3}x)",
        plan.total,
        tests,
        human(plan.makespan_micros),
        human(plan.lower_bound_micros),
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:>5}  {:>7}  {:>10}  load",
        "shard", "tests", "predicted"
    );
    let widest = plan.makespan_micros.max(1);
    for shard in &plan.shards {
        let bar =
            "#".repeat(((shard.predicted_micros as f64 / widest as f64) * 30.0).round() as usize);
        let _ = writeln!(
            out,
            "{:>5}  {:>7}  {:>10}  {bar}",
            shard.index,
            shard.tests.len(),
            human(shard.predicted_micros),
        );
    }
    out
}

/// `--format list` of `rxdist shard`.
pub fn shard_list(shard: &Shard) -> String {
    let mut out = String::with_capacity(shard.tests.iter().map(|id| id.len() + 1).sum());
    for id in &shard.tests {
        out.push_str(id);
        out.push('\n');
    }
    out
}

/// `--format json` of `rxdist shard`.
pub fn shard_json(shard: &Shard, total: usize, out: &mut dyn Write) -> std::io::Result<()> {
    to_json(
        &OneShardJson {
            index: shard.index,
            total,
            tests: &shard.tests,
            predicted_seconds: seconds(shard.predicted_micros),
        },
        true,
        out,
    )
}

/// The marker expression that selects nothing: `pytest @args` with no ids would otherwise run
/// the whole suite on an empty shard.
pub const EMPTY_SHARD_PYTEST_ARGS: &str = "-m\nrxdist_empty_shard and not rxdist_empty_shard\n";

/// `--format pytest-args` of `rxdist shard`.
pub fn pytest_args(shard: &Shard) -> String {
    if shard.tests.is_empty() {
        EMPTY_SHARD_PYTEST_ARGS.to_owned()
    } else {
        shard_list(shard)
    }
}

/// `--format text` of `rxdist timings show`.
pub fn summary_text(summary: &Summary, path: &Path, digest: &str) -> String {
    let micros = |seconds: f64| (seconds * 1e6).round() as u64;
    let mut out = String::new();
    let _ = writeln!(out, "history   {}", path.display());
    let _ = writeln!(out, "sha256    {digest}");
    let _ = writeln!(out, "runs      {}", summary.runs);
    let _ = writeln!(
        out,
        "tests     {} in {} files",
        summary.tests, summary.files
    );
    let _ = writeln!(
        out,
        "total     {} (estimated, one worker)",
        human(micros(summary.total_seconds))
    );
    for (scope, predictor) in [
        ("by test", &summary.predictor),
        ("by file", &summary.file_predictor),
    ] {
        if predictor.backtested_runs == 0 {
            let _ = writeln!(
                out,
                "predictor {scope}: {} (not backtested yet: no test was timed twice)",
                predictor.chosen
            );
        } else {
            let errors: Vec<String> = predictor
                .errors
                .iter()
                .map(|e| format!("{} {:.1}%", e.predictor, e.error * 100.0))
                .collect();
            let _ = writeln!(
                out,
                "predictor {scope}: {} (backtest RMS error over {} runs: {})",
                predictor.chosen,
                predictor.backtested_runs,
                errors.join(", ")
            );
        }
    }
    if !summary.slowest_tests.is_empty() {
        let _ = writeln!(out, "\nslowest tests{:>8}  samples", "");
        for test in &summary.slowest_tests {
            let _ = writeln!(
                out,
                "  {:>10}  {:>7}  {}",
                human(micros(test.seconds)),
                test.samples,
                test.id
            );
        }
    }
    if !summary.slowest_files.is_empty() {
        let _ = writeln!(out, "\nslowest files{:>8}    setup  tests", "");
        for file in &summary.slowest_files {
            let _ = writeln!(
                out,
                "  {:>10}  {:>7}  {:>5}  {}",
                human(micros(file.seconds)),
                human(micros(file.setup_seconds)),
                file.tests,
                file.file
            );
        }
    }
    let _ = writeln!(
        out,
        "\nflaky tests (passed and failed in their recent runs): {}",
        summary.flaky_count
    );
    for flaky in &summary.flaky_tests {
        let _ = writeln!(out, "  {:<10}  {}", flaky.recent, flaky.id);
    }
    out
}

/// `1h 02m 03.4s`-style rendering of microseconds.
pub fn human(micros: u64) -> String {
    let tenths = (micros + 50_000) / 100_000;
    let (hours, rest) = (tenths / 36_000, tenths % 36_000);
    let (minutes, rest) = (rest / 600, rest % 600);
    let (secs, tenth) = (rest / 10, rest % 10);
    match (hours, minutes) {
        (0, 0) => format!("{secs}.{tenth}s"),
        (0, _) => format!("{minutes}m {secs:02}.{tenth}s"),
        _ => format!("{hours}h {minutes:02}m {secs:02}.{tenth}s"),
    }
}

/// Streams output into `path` atomically, or to standard output.
pub fn emit(
    path: Option<&Path>,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    match path {
        Some(path) => atomic::write_with(path, fill).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        }),
        None => {
            let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            match fill(&mut stdout).and_then(|()| stdout.flush()) {
                // A closed pipe (`rxdist shard | head`) is the reader's choice, not a failure.
                Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
                    path: "<standard output>".into(),
                    source: error,
                }),
                _ => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_to_milliseconds() {
        assert!((seconds(1_234_567) - 1.235).abs() < f64::EPSILON);
        assert!((seconds(0)).abs() < f64::EPSILON);
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(1_234_567), "1.2s");
        assert_eq!(human(83_400_000), "1m 23.4s");
        assert_eq!(human(3_723_400_000), "1h 02m 03.4s");
    }

    #[test]
    fn empty_shard_pytest_args_select_nothing() {
        let shard = Shard {
            index: 3,
            tests: vec![],
            predicted_micros: 0,
        };
        assert_eq!(pytest_args(&shard), EMPTY_SHARD_PYTEST_ARGS);
    }
}
