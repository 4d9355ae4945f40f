//! Timing of `plan()` on a million synthetic tests.
//!
//! 1,000,000 tests in 20,000 files, durations and file sizes long-tailed (Pareto), a setup cost
//! on every file (and once without any, the pure test-by-test path). Prints, per granularity
//! and shard count, the wall time of `plan()` (canonicalisation and the output strings
//! included) and the makespan over the lower bound. Run with
//! `cargo bench --bench plan_partition`.

use std::collections::BTreeMap;
use std::time::Instant;

use rxdist::plan::{Granularity, PlanRequest, PlanTest, choose_total, plan};

const TESTS: usize = 1_000_000;
const FILES: usize = 20_000;

/// splitmix64, so the data is the same on every run and machine.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// Pareto with scale `scale` and shape `alpha`, capped.
    fn pareto(&mut self, scale: f64, alpha: f64, cap: f64) -> u64 {
        (scale / self.unit().powf(1.0 / alpha)).min(cap) as u64
    }
}

fn request() -> PlanRequest {
    let mut rng = SplitMix(2026);
    let mut tests = Vec::with_capacity(TESTS);
    // File sizes long-tailed too: most files small, a few with thousands of tests.
    let weights: Vec<f64> = (0..FILES)
        .map(|_| rng.pareto(1.0, 1.1, 5_000.0) as f64 + 1.0)
        .collect();
    let total: f64 = weights.iter().sum();
    let mut file = 0;
    let mut quota = weights[0] / total * TESTS as f64;
    for i in 0..TESTS {
        while quota < 1.0 && file + 1 < FILES {
            file += 1;
            quota += weights[file] / total * TESTS as f64;
        }
        quota -= 1.0;
        tests.push(PlanTest {
            id: format!(
                "tests/pkg{:03}/test_mod{file:05}.py::test_case_{i:07}",
                file % 97
            ),
            file: format!("tests/pkg{:03}/test_mod{file:05}.py", file % 97),
            group: None,
            // 0.5 ms scale, tail up to a minute.
            micros: rng.pareto(500.0, 1.3, 60_000_000.0),
        });
    }
    let file_setup: BTreeMap<String, u64> = (0..FILES)
        .map(|f| {
            (
                format!("tests/pkg{:03}/test_mod{f:05}.py", f % 97),
                rng.pareto(2_000.0, 1.5, 5_000_000.0),
            )
        })
        .collect();
    PlanRequest {
        tests,
        file_setup,
        granularity: Granularity::Auto,
        total: 1,
    }
}

fn main() {
    let started = Instant::now();
    let mut request = request();
    println!(
        "{} tests in {} files, built in {:.2?}",
        request.tests.len(),
        FILES,
        started.elapsed()
    );
    let mut without_setup = request.clone();
    without_setup.file_setup.clear();
    without_setup.granularity = Granularity::Test;
    run("Test, no setup", &mut without_setup, Granularity::Test);
    for granularity in [Granularity::Test, Granularity::Auto, Granularity::File] {
        run(&format!("{granularity:?}"), &mut request, granularity);
    }
    // The suite is ~2,250 s of work: a 60 s target with 5 s of per-shard overhead needs ~41
    // shards; cap at 64.
    request.granularity = Granularity::Auto;
    let started = Instant::now();
    let choice = choose_total(&request, 60_000_000, 5_000_000, 64);
    println!(
        "choose_total (auto, target 60 s, overhead 5 s, max 64): N = {}, makespan {} µs, reachable {}, {:.1} ms",
        choice.total,
        choice.plan.makespan_micros,
        choice.reachable,
        started.elapsed().as_secs_f64() * 1e3,
    );
}

/// Plans `request` at `granularity` for 4, 16 and 64 shards, printing one line each.
fn run(label: &str, request: &mut PlanRequest, granularity: Granularity) {
    for total in [4, 16, 64] {
        request.granularity = granularity;
        request.total = total;
        let started = Instant::now();
        let p = plan(request);
        let elapsed = started.elapsed();
        println!(
            "{label:<15} N={total:>2} {:>8.1} ms  makespan/bound = {:.6}  (makespan {} µs, bound {} µs, {} split files)",
            elapsed.as_secs_f64() * 1e3,
            p.makespan_micros as f64 / p.lower_bound_micros as f64,
            p.makespan_micros,
            p.lower_bound_micros,
            p.split_files.len(),
        );
    }
}
