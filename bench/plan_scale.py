#!/usr/bin/env python3
"""Planning at scale: `rxdist plan` for 1,000,000 tests with a full history.

Generates a synthetic suite (1,000,000 pytest-style ids over 20,000 files, long-tailed
durations), records three runs of it into a history with `rxdist timings record`, then times
`rxdist plan --format json` for 16 shards with the whole list known, five times, and reports
the median wall time and the peak resident memory of the planning process beside the anchors
(under 2 s and 1 GiB).

Usage: bench/plan_scale.py [--rxdist PATH] [--tests N] [--runs R]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(command: list[str]) -> tuple[float, int]:
    """Runs a command; returns (wall seconds, peak RSS in bytes) of that one process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rxdist", type=Path, default=ROOT / "target/release/rxdist")
    parser.add_argument("--tests", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()

    rng = random.Random(20261122)
    files = max(1, options.tests // 50)
    durations = {}
    for number in range(options.tests):
        module = number % files
        file = f"tests/pkg{module % 97}/sub{module % 13}/test_module_{module}.py"
        seconds = min(120.0, rng.lognormvariate(-3.0, 1.6))
        durations[f"{file}::TestCase{number % 7}::test_case_{number}[param-{number % 11}]"] = round(seconds, 6)

    with tempfile.TemporaryDirectory(prefix="rxdist-scale-") as tmp:
        work = Path(tmp)
        source = work / ".test_durations"
        source.write_text(json.dumps(durations))
        tests = work / "tests.txt"
        ids = list(durations)
        rng.shuffle(ids)
        tests.write_text("".join(f"{test_id}\n" for test_id in ids))
        history = work / "history.zst"
        # A full history: three recorded runs, so every test carries its recent samples and the
        # history has backtested its predictors, as it would after a few days of CI.
        record_time, record_rss = measure(
            [str(options.rxdist), "timings", "record", "--history", str(history), "--input", str(source)])
        for run in (2, 3):
            jittered = {test_id: round(seconds * rng.uniform(0.8, 1.25), 6) for test_id, seconds in durations.items()}
            source.write_text(json.dumps(jittered))
            measure([str(options.rxdist), "timings", "record", "--history", str(history), "--input", str(source)])
        plan = [str(options.rxdist), "plan", "--history", str(history), "--tests", str(tests),
                "--total", "16", "--format", "json", "--output", str(work / "plan.json")]
        samples = [measure(plan) for _ in range(options.runs)]
        wall = statistics.median(s[0] for s in samples)
        rss = max(s[1] for s in samples)
        plan_json = json.loads((work / "plan.json").read_text())
        history_mib = history.stat().st_size / 1024 / 1024
        ratio = plan_json["predicted_makespan_seconds"] / plan_json["lower_bound_seconds"]

    mib = 1024 * 1024
    print(f"plan scale: {options.tests:,} tests in {files:,} files, 16 shards, {options.runs} runs")
    print(f"  history on disk:       {history_mib:6.1f} MiB")
    print(f"  timings record (1st):  {record_time:6.2f} s, peak RSS {record_rss / mib:7.1f} MiB")
    print(f"  plan (median wall):    {wall:6.2f} s   anchor < 2 s     ratio {wall / 2:.2f}x  {'ok' if wall < 2 else 'OVER'}")
    print(f"  plan (peak RSS):       {rss / mib:6.1f} MiB anchor < 1024 MiB ratio {rss / (1024 * mib):.2f}x  {'ok' if rss < 1024 * mib else 'OVER'}")
    print(f"  plan quality:          makespan / lower bound = {ratio:.5f}")
    return 0 if wall < 2 and rss < 1024 * mib else 1


if __name__ == "__main__":
    sys.exit(main())
