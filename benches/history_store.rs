//! Measures the timing history at scale: records a 1,000,000-test history, encodes it, then, in
//! a fresh process so that its peak memory is its own, decodes it and estimates every id.
//!
//! Run with `cargo bench --bench history_store`. It prints wall-clock times, the encoded size
//! and the decoding process's peak RSS; it asserts nothing, because shared CI machines make
//! thresholds flaky.

use std::time::Instant;

use rxdist::junit::Outcome;
use rxdist::timings::{Estimator, History, Observation, Retention, store};

const TESTS: usize = 1_000_000;
const TESTS_PER_FILE: usize = 100;

/// A deterministic pseudo-random sequence (xorshift), so every run measures the same history.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Ids shaped like a large pytest suite: nested packages, ~100 parametrised tests per module.
fn ids() -> Vec<String> {
    (0..TESTS)
        .map(|i| {
            let file = i / TESTS_PER_FILE;
            format!(
                "tests/pkg_{}/sub_{}/test_module_{file}.py::TestClass{}::test_case_{i}[param-{}]",
                file % 20,
                file % 7,
                i % 3,
                i % 11
            )
        })
        .collect()
}

fn run(ids: &[String], noise: &mut Noise) -> Vec<Observation> {
    ids.iter()
        .map(|id| {
            let r = noise.next();
            let outcome = if r.is_multiple_of(97) {
                Outcome::Failed
            } else {
                Outcome::Passed
            };
            Observation {
                id: id.clone(),
                seconds: Some((r % 5_000_000) as f64 / 1e6),
                outcome: Some(outcome),
            }
        })
        .collect()
}

/// CPU time this process has run so far, from /proc (Linux only): the builders sharing a CI
/// machine inflate wall-clock times, not this.
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e9)
}

/// Times `f` in wall-clock and CPU seconds.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (wall, cpu) = (Instant::now(), cpu_secs());
    let value = f();
    (value, wall.elapsed().as_secs_f64(), cpu_secs() - cpu)
}

/// Peak resident set size of this process in MiB, from /proc (Linux only).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn child(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    let before = peak_rss_mib().unwrap_or(0.0);
    let (history, wall, cpu) = timed(|| store::decode(&bytes));
    let history = history?;
    println!(
        "decode:          {wall:>8.3} s wall {cpu:>7.3} s cpu  ({} tests)",
        history.len()
    );
    let after_decode = peak_rss_mib().unwrap_or(0.0);
    let (estimator, wall, cpu) = timed(|| Estimator::new(&history));
    println!("Estimator::new:  {wall:>8.3} s wall {cpu:>7.3} s cpu");
    let ids = history.ids();
    let (total, wall, cpu) = timed(|| {
        let unknown = ids.iter().map(|id| format!("{id}_new"));
        ids.iter()
            .map(|id| estimator.estimate(id).micros)
            .sum::<u64>()
            + unknown
                .take(10_000)
                .map(|id| estimator.estimate(&id).micros)
                .sum::<u64>()
    });
    println!(
        "estimate all:    {wall:>8.3} s wall {cpu:>7.3} s cpu  (1,010,000 ids, sum {:.0} s)",
        total as f64 / 1e6
    );
    println!(
        "peak RSS:        {after_decode:>8.1} MiB after decode ({before:.1} MiB before, incl. the file), {:.1} MiB at end",
        peak_rss_mib().unwrap_or(0.0)
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--decode-child") {
        return child(args.get(at + 1).ok_or("--decode-child needs a path")?);
    }

    let ids = ids();
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let mut history = History::new();
    let mut record_secs = Vec::new();
    for _ in 0..3 {
        let observations = run(&ids, &mut noise);
        let (_, _, cpu) = timed(|| history.record(&observations, Retention::default()));
        record_secs.push(cpu);
    }
    println!(
        "record (x3):     {record_secs:.3?} s cpu  ({} tests)",
        history.len()
    );

    let (bytes, wall, cpu) = timed(|| store::encode(&history));
    let bytes = bytes?;
    let again = store::encode(&history)?;
    println!(
        "encode:          {wall:>8.3} s wall {cpu:>7.3} s cpu  (byte-identical on re-encode: {})",
        bytes == again
    );
    println!(
        "encoded size:    {:>8.1} MiB  ({:.1} bytes per test)",
        bytes.len() as f64 / f64::from(1 << 20),
        bytes.len() as f64 / TESTS as f64
    );
    println!("digest:          {}", store::digest(&bytes)?);
    drop((again, history, ids));
    if let Some(at) = args.iter().position(|a| a == "--save") {
        // For profiling the decoder alone: `--save FILE`, then `--decode-child FILE`.
        std::fs::write(args.get(at + 1).ok_or("--save needs a path")?, &bytes)?;
        return Ok(());
    }

    let path =
        std::env::temp_dir().join(format!("rxdist-history-bench-{}.zst", std::process::id()));
    std::fs::write(&path, &bytes)?;
    let status = std::process::Command::new(std::env::current_exe()?)
        .arg("--decode-child")
        .arg(&path)
        .status();
    std::fs::remove_file(&path)?;
    if !status?.success() {
        return Err("the decoding child failed".into());
    }
    Ok(())
}
