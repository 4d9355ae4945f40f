//! Throughput benchmark of the streaming JUnit reader.
//!
//! Generates two ~300 MB pytest-like reports in a temporary directory (many testcases with
//! `classname`/`name`/`file`/`line`/`time`, about 5% failures with multi-line messages and
//! tracebacks, suite properties): a "typical" one where 2% of testcases captured a large
//! `<system-out>` in CDATA, which dominates the bytes, and a "markup-only" one where none did,
//! so every byte is tags, attributes and failure text. Each is read several times from disk;
//! the headline figure is the slower scenario's median against the 250 MB/s anchor. Run with
//! `cargo bench --bench junit_read`.

mod common;

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Counting, Rng};
use rxdist::junit::{Limits, read_testcases};

/// Size of the generated report.
const TARGET_BYTES: u64 = 300 * 1000 * 1000;
/// Throughput the reader must reach.
const ANCHOR_MB_S: f64 = 250.0;
/// Timed reads.
const RUNS: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut slowest = f64::INFINITY;
    for scenario in [Scenario::TYPICAL, Scenario::MARKUP_ONLY] {
        let path = dir.path().join(format!("{}.xml", scenario.name));
        let (bytes, testcases) = generate(&path, scenario)?;
        let (best, median) = measure(&path, bytes, testcases)?;
        println!(
            "{}: {:.0} MB, {testcases} testcases; best {best:.0} MB/s, median {median:.0} MB/s over {RUNS} runs",
            scenario.name,
            bytes as f64 / 1e6
        );
        std::fs::remove_file(&path)?;
        slowest = slowest.min(median);
    }
    println!(
        "junit read: {slowest:.0} MB/s (anchor: >= {ANCHOR_MB_S:.0} MB/s, ratio {:.2}x)",
        slowest / ANCHOR_MB_S
    );
    Ok(())
}

/// Reads `path` [`RUNS`] times; returns the best and median throughput in MB/s.
fn measure(
    path: &Path,
    bytes: u64,
    testcases: usize,
) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let file = BufReader::with_capacity(64 * 1024, File::open(path)?);
        let mut seen = 0usize;
        let mut total_time = 0.0;
        let started = Instant::now();
        let summary = read_testcases(file, &Limits::default(), |case| {
            seen += 1;
            total_time += case.time.unwrap_or(0.0);
        })?;
        times.push(started.elapsed());
        assert_eq!(summary.testcases, testcases, "reader lost testcases");
        assert_eq!(seen, testcases, "callback count differs");
        std::hint::black_box(total_time);
    }
    times.sort();
    let rate = |time: Duration| bytes as f64 / 1e6 / time.as_secs_f64();
    Ok((rate(times[0]), rate(times[times.len() / 2])))
}

/// The shape of a generated report.
#[derive(Clone, Copy)]
struct Scenario {
    name: &'static str,
    /// Testcases in ten thousand that captured output.
    system_out_per_10k: u64,
}

impl Scenario {
    const TYPICAL: Scenario = Scenario {
        name: "typical",
        system_out_per_10k: 200,
    };
    const MARKUP_ONLY: Scenario = Scenario {
        name: "markup-only",
        system_out_per_10k: 0,
    };
}

/// Writes the report; returns its size and number of testcases.
fn generate(path: &Path, scenario: Scenario) -> io::Result<(u64, usize)> {
    let mut out = Counting {
        inner: BufWriter::with_capacity(1 << 20, File::create(path)?),
        written: 0,
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut testcases = 0usize;
    writeln!(out, r#"<?xml version="1.0" encoding="utf-8"?>"#)?;
    writeln!(out, r#"<testsuites name="pytest tests">"#)?;
    let mut module = 0u64;
    while out.written < TARGET_BYTES {
        writeln!(
            out,
            r#"<testsuite name="pytest" errors="0" failures="3" skipped="1" tests="200" time="42.125" timestamp="2024-05-01T12:00:00.000000+00:00" hostname="ci-runner-{module}">"#
        )?;
        writeln!(
            out,
            r#"  <properties><property name="python" value="3.12.3"/><property name="shard" value="{}"/></properties>"#,
            module % 8
        )?;
        for case in 0..200u64 {
            let package = module % 37;
            let class = if case % 3 == 0 {
                format!(".TestGroup{}", case % 7)
            } else {
                String::new()
            };
            let params = if case % 4 == 0 {
                format!("[{}-param-{}.5-a/b]", rng.below(100), case)
            } else {
                String::new()
            };
            let time = rng.below(5_000_000) as f64 / 1e6;
            write!(
                out,
                r#"  <testcase classname="tests.pkg_{package}.test_module_{module}{class}" name="test_behaviour_{case}_does_the_expected_thing{params}" file="tests/pkg_{package}/test_module_{module}.py" line="{}" time="{time:.6}""#,
                case * 7 + 3
            )?;
            testcases += 1;
            let roll = rng.below(10_000);
            if roll < 500 {
                writeln!(out, ">")?;
                write!(out, "    ")?;
                common::write_failure_start(&mut out, &mut rng, package, module, case)?;
                writeln!(out, "E       AssertionError: assert 1 == 2</failure>")?;
                writeln!(
                    out,
                    "    <system-err>warning: deprecated call in fixture setup</system-err>"
                )?;
                writeln!(out, "  </testcase>")?;
            } else if roll < 600 {
                writeln!(out, ">")?;
                writeln!(
                    out,
                    r#"    <skipped type="pytest.skip" message="requires network">tests/pkg_{package}/test_module_{module}.py:12: requires network</skipped>"#
                )?;
                writeln!(out, "  </testcase>")?;
            } else if roll < 600 + scenario.system_out_per_10k {
                writeln!(out, ">")?;
                write!(out, "    <system-out><![CDATA[")?;
                for line in 0..(200 + rng.below(400)) {
                    writeln!(
                        out,
                        "2024-05-01 12:00:{:02} INFO worker[{line}] processed batch {line}: <ok> status=200 bytes={}",
                        line % 60,
                        rng.below(100_000)
                    )?;
                }
                writeln!(out, "]]></system-out>")?;
                writeln!(out, "  </testcase>")?;
            } else {
                writeln!(out, " />")?;
            }
        }
        writeln!(out, "</testsuite>")?;
        module += 1;
    }
    writeln!(out, "</testsuites>")?;
    out.inner.flush()?;
    Ok((out.written, testcases))
}
