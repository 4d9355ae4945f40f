//! Throughput and memory benchmark of the streaming JUnit merge.
//!
//! Two generated scenarios, written to a temporary directory and merged from disk into a file
//! there, as `rxdist merge` does:
//! - "200 shards": 1,000,000 pytest-like testcases over 200 files (one suite per file, joined
//!   into one), ~5% failures with tracebacks, 1% skips, 0.5% with captured output in CDATA,
//!   and 1% of the tests of each shard retried in the next shard's file (to exercise grouping).
//! - "200 shards, markup only": the same testcases all passing, so that every byte is a tag
//!   and the cost per testcase, not per byte, decides.
//! - "1 GiB system-out": one file whose one suite holds a 1 GiB `system-out` of log lines with
//!   escapes, beside a few testcases.
//!
//! Throughput is input bytes over the time of both passes and the writing, measured twice: as
//! wall time and as the CPU time of the merging thread (Linux `/proc`), which is the
//! per-core figure and the one that stays honest when other work shares the machine. Peak
//! memory is the process's peak resident set (`VmHWM`, reset before each merge). Each figure
//! is printed beside its anchor: >= 250 MB/s per core (the merge is single-threaded) and
//! <= 64 MiB plus 64 bytes per testcase. Run with `cargo bench --bench junit_merge` (add `-- quick` for a tenth
//! of the sizes, `-- shards` or `-- output` for one kind of scenario, `-- shards markup` for
//! the markup-only one).

mod common;

use std::fs::File;
use std::io::{self, BufWriter, Write};

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::{Counting, Rng};
use rxdist::junit::merge::{MergeInput, MergeOptions, merge};

/// Throughput the merge must reach.
const ANCHOR_MB_S: f64 = 250.0;
/// Memory it may take: this plus [`BYTES_PER_TESTCASE`] per testcase.
const BASE_MEMORY: u64 = 64 * 1024 * 1024;
const BYTES_PER_TESTCASE: u64 = 64;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let has = |word: &str| args.iter().any(|arg| arg == word);
    let scale = if has("quick") { 10 } else { 1 };
    let all = !has("shards") && !has("output");
    let dir = tempfile::tempdir()?;
    if all || has("shards") {
        for (name, detail) in [("200 shards", true), ("200 shards, markup only", false)] {
            if has("markup") && detail {
                continue;
            }
            let shards = generate_shards(dir.path(), 200, 5000 / scale, detail)?;
            report(name, &shards, dir.path(), 3)?;
            for path in &shards.paths {
                std::fs::remove_file(path)?;
            }
        }
    }
    if all || has("output") {
        let big = generate_big_output(dir.path(), (1 << 30) / scale)?;
        report("1 GiB system-out", &big, dir.path(), 2)?;
    }
    Ok(())
}

/// Generated inputs.
struct Inputs {
    paths: Vec<PathBuf>,
    bytes: u64,
    testcases: u64,
}

/// Merges `inputs` `runs` times and prints the best throughput and the peak memory.
fn report(
    name: &str,
    inputs: &Inputs,
    dir: &Path,
    runs: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut best = f64::INFINITY;
    let mut best_cpu = f64::INFINITY;
    let mut peak = 0;
    let mut written = 0;
    for _ in 0..runs {
        reset_peak_memory();
        let before = peak_memory();
        let mut files: Vec<MergeInput<File>> = inputs
            .paths
            .iter()
            .map(|path| {
                Ok(MergeInput {
                    label: path.display().to_string(),
                    reader: File::open(path)?,
                })
            })
            .collect::<io::Result<_>>()?;
        let output = dir.join("merged.xml");
        let out = File::create(&output)?;
        let started = Instant::now();
        let cpu_started = cpu_time();
        let merged = merge(&mut files, &MergeOptions::default(), out)?;
        let cpu = cpu_time().zip(cpu_started).map(|(end, start)| end - start);
        let elapsed = started.elapsed().as_secs_f64();
        best = best.min(elapsed);
        best_cpu = best_cpu.min(cpu.unwrap_or(elapsed));
        peak = peak.max(peak_memory().saturating_sub(before.min(peak_memory())));
        written = std::fs::metadata(&output)?.len();
        assert!(merged.inputs.iter().all(|input| input.problem.is_none()));
        std::fs::remove_file(&output)?;
    }
    let rate = inputs.bytes as f64 / 1e6 / best_cpu;
    let wall_rate = inputs.bytes as f64 / 1e6 / best;
    let budget = BASE_MEMORY + BYTES_PER_TESTCASE * inputs.testcases;
    println!(
        "{name}: {} files, {:.0} MB in, {:.0} MB out, {} testcases",
        inputs.paths.len(),
        inputs.bytes as f64 / 1e6,
        written as f64 / 1e6,
        inputs.testcases
    );
    println!(
        "  throughput {rate:.0} MB/s per core of CPU time, {wall_rate:.0} MB/s of wall time (best of {runs}; anchor >= {ANCHOR_MB_S:.0} MB/s per core, ratio {:.2}x)",
        rate / ANCHOR_MB_S
    );
    println!(
        "  peak memory {:.1} MiB above the start (anchor <= {:.1} MiB = 64 MiB + 64 B x testcases, ratio {:.2})",
        peak as f64 / 1_048_576.0,
        budget as f64 / 1_048_576.0,
        peak as f64 / budget as f64
    );
    Ok(())
}

/// Seconds this thread has spent on a CPU, user and system (Linux `/proc/thread-self/stat`,
/// in clock ticks of 1/100 s, the value of `CLK_TCK` on every Linux this runs on; `None`
/// elsewhere).
fn cpu_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces): state is
    // the first, utime the 12th, stime the 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Resets the kernel's peak-RSS counter of this process (Linux; elsewhere a no-op).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident set in bytes (Linux `VmHWM`; 0 elsewhere).
fn peak_memory() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let kib = line
                    .strip_prefix("VmHWM:")?
                    .trim()
                    .strip_suffix("kB")?
                    .trim();
                kib.parse::<u64>().ok()
            })
        })
        .map_or(0, |kib| kib * 1024)
}

fn create(path: &Path) -> io::Result<Counting<BufWriter<File>>> {
    Ok(Counting {
        inner: BufWriter::with_capacity(1 << 20, File::create(path)?),
        written: 0,
    })
}

/// Writes `shards` pytest-like shard reports of `per_shard` testcases each (all passing,
/// unless `detail`).
fn generate_shards(dir: &Path, shards: u64, per_shard: u64, detail: bool) -> io::Result<Inputs> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut inputs = Inputs {
        paths: Vec::new(),
        bytes: 0,
        testcases: 0,
    };
    for shard in 0..shards {
        let path = dir.join(format!("shard-{shard:03}.xml"));
        let mut out = create(&path)?;
        writeln!(
            out,
            r#"<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">"#
        )?;
        writeln!(
            out,
            r#"<testsuite name="pytest" errors="0" failures="3" skipped="1" tests="{per_shard}" time="42.125" timestamp="2024-05-01T12:00:00.000000+00:00" hostname="ci-runner-{shard}">"#
        )?;
        // 1% of the previous shard's tests are retried here.
        let retried = if shard > 0 { per_shard / 100 } else { 0 };
        for number in 0..per_shard + retried {
            let (module, case) = if number < per_shard {
                (shard * 50 + number / 100, number % 100)
            } else {
                ((shard - 1) * 50 + (number - per_shard), 7)
            };
            testcase(&mut out, &mut rng, module, case, detail)?;
            inputs.testcases += 1;
        }
        writeln!(out, "</testsuite></testsuites>")?;
        out.flush()?;
        inputs.bytes += out.written;
        inputs.paths.push(path);
    }
    Ok(inputs)
}

fn testcase(
    out: &mut impl Write,
    rng: &mut Rng,
    module: u64,
    case: u64,
    detail: bool,
) -> io::Result<()> {
    let package = module % 37;
    let class = if case.is_multiple_of(3) {
        format!(".TestGroup{}", case % 7)
    } else {
        String::new()
    };
    let params = if case.is_multiple_of(4) {
        format!("[{case}-param-a/b]")
    } else {
        String::new()
    };
    let time = rng.below(5_000_000) as f64 / 1e6;
    write!(
        out,
        r#"<testcase classname="tests.pkg_{package}.test_module_{module}{class}" name="test_behaviour_{case}_does_the_expected_thing{params}" file="tests/pkg_{package}/test_module_{module}.py" line="{}" time="{time:.6}""#,
        case * 7 + 3
    )?;
    let roll = if detail { rng.below(10_000) } else { 10_000 };
    if roll < 500 {
        write!(out, ">")?;
        common::write_failure_start(out, rng, package, module, case)?;
        writeln!(
            out,
            "E       AssertionError: assert 1 == 2</failure><system-err>warning: deprecated call in fixture setup</system-err></testcase>"
        )
    } else if roll < 600 {
        writeln!(
            out,
            r#"><skipped type="pytest.skip" message="requires network">tests/pkg_{package}/test_module_{module}.py:12: requires network</skipped></testcase>"#
        )
    } else if roll < 650 {
        write!(out, "><system-out><![CDATA[")?;
        for line in 0..(200 + rng.below(400)) {
            writeln!(
                out,
                "2024-05-01 12:00:{:02} INFO worker[{line}] processed batch {line}: <ok> status=200 bytes={}",
                line % 60,
                rng.below(100_000)
            )?;
        }
        writeln!(out, "]]></system-out></testcase>")
    } else {
        writeln!(out, "/>")
    }
}

/// Writes one report whose suite has a `system-out` of about `size` bytes.
fn generate_big_output(dir: &Path, size: u64) -> io::Result<Inputs> {
    let path = dir.join("big-output.xml");
    let mut out = create(&path)?;
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    writeln!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?><testsuite name="dev.rxdist.Big" tests="3" failures="0" errors="0" skipped="0" time="1.5">"#
    )?;
    for case in 0..3 {
        testcase(&mut out, &mut rng, 1, case, true)?;
    }
    write!(out, "<system-out>")?;
    let mut line = 0u64;
    while out.written < size {
        writeln!(
            out,
            "2024-05-01 12:00:{:02}.{:03} DEBUG [worker-{}] request #{line} -&gt; status=200 &amp; bytes={} (cache: &quot;hit&quot;)",
            line % 60,
            line % 1000,
            line % 16,
            rng.below(1_000_000)
        )?;
        line += 1;
    }
    writeln!(out, "</system-out></testsuite>")?;
    out.flush()?;
    Ok(Inputs {
        bytes: out.written,
        testcases: 3,
        paths: vec![path],
    })
}
