#!/usr/bin/env python3
"""Drift replay: how well do shards planned from yesterday's timings balance today's run?

For every consecutive pair of versions (k, k+1) of a real timing history, rxdist records
version k into its history (cumulatively, as CI would), plans the test ids of version k+1, and
the plan is scored with version k+1's real durations:

    ratio = makespan / max(total / shards, largest item)

pytest-split's two algorithms (least_duration, duration_based_chunks) get the same inputs:
version k's durations and version k+1's ids, called through pytest-split's own code. "File
level" plans whole files (rxdist: --by file; pytest-split: items are files, durations summed).
"Perfect information" plans and scores on the same version.

Usage: bench/drift_replay.py [--rxdist PATH] [--data DIR] [--only DATASET]
                             [--history cumulative|latest|both]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

from pytest_split.algorithms import Algorithms

ROOT = Path(__file__).resolve().parent.parent
SHARDS = (4, 8, 16)
DATASETS = {
    # name: (file, import file name rxdist reads, levels)
    "onegov-cloud": ("onegov-cloud.jsonl.zst", ".test_durations", ("test", "file")),
    "identity-idp": ("identity-idp.jsonl.zst", "knapsack_rspec_report.json", ("file",)),
}


def load_versions(path: Path) -> list[dict[str, float]]:
    text = subprocess.run(
        ["zstd", "-dc", "--long=27", str(path)], check=True, capture_output=True
    ).stdout.decode()
    return [json.loads(line)["durations"] for line in text.splitlines() if line.strip()]


def file_of(test_id: str) -> str:
    return test_id.split("::", 1)[0]


def file_sums(durations: dict[str, float]) -> dict[str, float]:
    sums: dict[str, float] = defaultdict(float)
    for test_id, seconds in durations.items():
        sums[file_of(test_id)] += seconds
    return dict(sums)


def score(shards: list[list[str]], actual: dict[str, float], level: str) -> float:
    """makespan / max(total / n, largest item), items being tests or files."""
    loads = [sum(actual[t] for t in shard) for shard in shards]
    items = file_sums(actual) if level == "file" else actual
    bound = max(sum(items.values()) / len(shards), max(items.values()))
    return max(loads) / bound


class Rxdist:
    def __init__(self, binary: Path, work: Path, import_name: str):
        self.binary = str(binary)
        self.work = work
        self.import_name = import_name

    def run(self, *args: str) -> str:
        done = subprocess.run([self.binary, *args], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"rxdist {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
        return done.stdout

    def record(self, history: Path, durations: dict[str, float]) -> None:
        source = self.work / "import" / self.import_name
        source.parent.mkdir(exist_ok=True)
        source.write_text(json.dumps(durations))
        self.run("timings", "record", "--history", str(history), "--input", str(source))

    def plan(self, history: Path, ids: list[str], shards: int, level: str) -> list[list[str]]:
        tests = self.work / "tests.txt"
        tests.write_text("".join(f"{test_id}\n" for test_id in ids))
        out = self.run(
            "plan", "--history", str(history), "--tests", str(tests), "--total", str(shards),
            "--by", level, "--format", "json",
        )
        return [shard["tests"] for shard in json.loads(out)["shards"]]


def pytest_split_plan(algorithm: str, shards: int, ids: list[str], known: dict[str, float], level: str):
    if level == "file":
        order = list(dict.fromkeys(file_of(t) for t in ids))
        durations = file_sums(known)
    else:
        order, durations = ids, known
    items = [SimpleNamespace(nodeid=name) for name in order]
    groups = Algorithms[algorithm].value(shards, items, durations)
    planned = [[item.nodeid for item in group.selected] for group in groups]
    if level == "file":
        members = defaultdict(list)
        for test_id in ids:
            members[file_of(test_id)].append(test_id)
        planned = [[t for name in shard for t in members[name]] for shard in planned]
    return planned


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * (len(ordered) - 1) + 0.5))]


def default_data() -> Path:
    for parent in ROOT.parents:
        candidate = parent / "shared/bench-data"
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared/bench-data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rxdist", type=Path, default=ROOT / "target/release/rxdist")
    parser.add_argument(
        "--data", type=Path, default=default_data(),
        help="the bench-data directory (default: shared/bench-data beside the checkout, or "
        "beside one of its parents, as for a git worktree)",
    )
    parser.add_argument("--only", choices=sorted(DATASETS))
    parser.add_argument(
        "--history", choices=("cumulative", "latest", "both"), default="cumulative",
        help="record every version up to k into one history (as CI does), only version k, or "
        "report both modes one after the other",
    )
    options = parser.parse_args()
    modes = ("cumulative", "latest") if options.history == "both" else (options.history,)
    passed = True
    for i, mode in enumerate(modes):
        if i:
            print()
        passed &= replay(options, mode)
    return 0 if passed else 1


def replay(options: argparse.Namespace, mode: str) -> bool:
    """Replays every dataset with one history mode, prints the tables; True if all anchors hold."""

    algorithms = ("rxdist", "least_duration", "duration_based_chunks")
    rows = []  # (dataset, level, shards, algorithm, ratios)
    perfect: list[float] = []
    started = time.monotonic()
    for dataset, (file_name, import_name, levels) in DATASETS.items():
        if options.only and dataset != options.only:
            continue
        versions = load_versions(options.data / file_name)
        ratios = defaultdict(list)
        with tempfile.TemporaryDirectory(prefix="rxdist-drift-") as tmp:
            work = Path(tmp)
            rx = Rxdist(options.rxdist, work, import_name)
            history = work / "history.zst"
            for k in range(len(versions) - 1):
                known, actual = versions[k], versions[k + 1]
                if mode == "latest":
                    history.unlink(missing_ok=True)
                rx.record(history, known)
                ids = list(actual)
                for level in levels:
                    for shards in SHARDS:
                        ratios[level, shards, "rxdist"].append(
                            score(rx.plan(history, ids, shards, level), actual, level))
                        for algorithm in algorithms[1:]:
                            planned = pytest_split_plan(algorithm, shards, ids, known, level)
                            ratios[level, shards, algorithm].append(score(planned, actual, level))
                # Perfect information: a history holding exactly the version being scored.
                exact = work / "exact.zst"
                exact.unlink(missing_ok=True)
                rx.record(exact, actual)
                for level in levels:
                    for shards in SHARDS:
                        perfect.append(score(rx.plan(exact, ids, shards, level), actual, level))
        for (level, shards, algorithm), values in sorted(ratios.items()):
            rows.append((dataset, level, shards, algorithm, values))

    print(f"drift replay, --history {mode}: {len(rows) // len(algorithms)} cases, ratio = makespan / max(total/N, largest item), lower is better")
    print()
    header = f"{'dataset':<14} {'level':<5} {'N':>3}  {'algorithm':<22} {'median':>7} {'p90':>7} {'max':>7}  transitions"
    print(header)
    print("-" * len(header))
    verdicts = []
    by_case = defaultdict(dict)
    for dataset, level, shards, algorithm, values in rows:
        med, high, top = statistics.median(values), p90(values), max(values)
        by_case[dataset, level, shards][algorithm] = (med, high)
        print(f"{dataset:<14} {level:<5} {shards:>3}  {algorithm:<22} {med:7.3f} {high:7.3f} {top:7.3f}  {len(values)}")
    print()
    rx_p90s, ld_p90s = [], []
    for (dataset, level, shards), results in sorted(by_case.items()):
        rx_med, rx_p90 = results["rxdist"]
        ld_med, ld_p90 = results["least_duration"]
        rx_p90s.append(rx_p90)
        ld_p90s.append(ld_p90)
        ok = rx_med <= ld_med and rx_p90 <= ld_p90
        verdicts.append(ok)
        print(f"{dataset:<14} {level:<5} {shards:>3}  rxdist/least_duration: median {rx_med / ld_med:.3f}x, p90 {rx_p90 / ld_p90:.3f}x  {'ok' if ok else 'WORSE'}")
    mean_rx, mean_ld = statistics.mean(rx_p90s), statistics.mean(ld_p90s)
    print()
    print(f"mean p90: rxdist {mean_rx:.3f}, least_duration {mean_ld:.3f} (anchor: rxdist lower) -> {'ok' if mean_rx < mean_ld else 'WORSE'}")
    print(f"median and p90 no worse than least_duration in {sum(verdicts)}/{len(verdicts)} cases (anchor: all)")
    print(f"perfect information: max ratio {max(perfect):.5f} over {len(perfect)} plans (anchor: <= 1.001) -> {'ok' if max(perfect) <= 1.001 else 'WORSE'}")
    print(f"({time.monotonic() - started:.0f}s)")
    return all(verdicts) and mean_rx < mean_ld and max(perfect) <= 1.001


if __name__ == "__main__":
    sys.exit(main())
