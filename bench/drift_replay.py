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

Every figure is one draw: plans that balance the estimates equally well split the real
durations differently, so which near-equal plan a tie-break picks moves a p90 by up to a few
percent. `--jitter K` replays K more times with version k's durations (what both rxdist and
least_duration are handed) multiplied by 1 + U(-0.001, 0.001), and prints each algorithm's
median and p90 averaged over the draws beside their range: the comparison the single draw
cannot settle. `--explain` splits rxdist's error into its parts: it also plans with the new
tests' real durations known (a copy of the history plus a run of the tests absent from version
k), and with the known tests' real durations known (a history of version k+1's durations of the
tests version k had, new tests still estimated); perfect information is the partitioner's part.
It also plans with exactly least_duration's estimates (version k's durations, the mean for a
test or file it lacks), a control that measures how far two plans of the same estimates differ
on the real durations: the resolution of a per-case verdict.

Usage: bench/drift_replay.py [--rxdist PATH] [--data DIR] [--only DATASET]
                             [--history cumulative|latest|both] [--jitter K] [--explain]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
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


def tests_by_file(ids: list[str]) -> dict[str, list[str]]:
    """The test ids of each file, in the order given."""
    members: dict[str, list[str]] = defaultdict(list)
    for test_id in ids:
        members[file_of(test_id)].append(test_id)
    return members


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
        members = tests_by_file(ids)
        planned = [[t for name in shard for t in members[name]] for shard in planned]
    return planned


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * (len(ordered) - 1) + 0.5))]


def judge(cases, stats, label):
    """Prints the verdict of each case, given `stats(case)` = ((rxdist's median, p90),
    (least_duration's median, p90)); returns the verdicts and both algorithms' p90s."""
    verdicts, rx_p90s, ld_p90s = [], [], []
    for case in sorted(cases):
        (rx_med, rx_p90), (ld_med, ld_p90) = stats(case)
        rx_p90s.append(rx_p90)
        ld_p90s.append(ld_p90)
        ok = rx_med <= ld_med and rx_p90 <= ld_p90
        verdicts.append(ok)
        dataset, level, shards = case
        print(f"{dataset:<14} {level:<5} {shards:>3}  {label}: median {rx_med / ld_med:.3f}x, "
              f"p90 {rx_p90 / ld_p90:.3f}x  {'ok' if ok else 'WORSE'}")
    return verdicts, rx_p90s, ld_p90s


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
    parser.add_argument(
        "--jitter", type=int, default=0, metavar="K",
        help="also replay K times with the planning inputs jittered by 0.1%% and compare "
        "rxdist and least_duration on the averages over the draws",
    )
    parser.add_argument(
        "--explain", action="store_true",
        help="split rxdist's error into new tests, known tests and partition",
    )
    options = parser.parse_args()
    modes = ("cumulative", "latest") if options.history == "both" else (options.history,)
    passed = True
    for i, mode in enumerate(modes):
        if i:
            print()
        passed &= replay(options, mode)
    return 0 if passed else 1


ALGORITHMS = ("rxdist", "least_duration", "duration_based_chunks")
NEW_KNOWN = "rxdist, new tests known"
KNOWN_EXACT = "rxdist, known tests exact"
SAME_INPUTS = "rxdist, least_duration's estimates"


def least_duration_estimates(ids: list[str], known: dict[str, float], level: str) -> dict[str, float]:
    """Per test id, what least_duration assumes: its own duration at test level, its file's
    summed duration spread over the file's tests at file level, the mean over the items it
    knows for an item it lacks (pytest-split's `_get_items_with_durations`)."""
    if level == "test":
        relevant = [known[t] for t in ids if t in known]
        mean = sum(relevant) / len(relevant) if relevant else 1.0
        return {t: known.get(t, mean) for t in ids}
    members = tests_by_file(ids)
    sums = file_sums(known)
    relevant = [sums[f] for f in members if f in sums]
    mean = sum(relevant) / len(relevant) if relevant else 1.0
    return {t: sums.get(f, mean) / len(tests) for f, tests in members.items() for t in tests}


def jittered(durations: dict[str, float], rng: random.Random | None) -> dict[str, float]:
    """`durations`, each multiplied by 1 + U(-0.001, 0.001) when `rng` is given."""
    if rng is None:
        return durations
    return {name: seconds * (1.0 + rng.uniform(-1e-3, 1e-3)) for name, seconds in durations.items()}


def collect(options: argparse.Namespace, mode: str, draw: int) -> tuple[dict, list[float], dict]:
    """One replay. Draw 0 is the plain one (with the perfect-information plans, the default
    chunks and, with --explain, the error split); a later draw jitters the planning inputs with
    its own seed and plans with rxdist and least_duration only.

    Returns ratios by (dataset, level, shards, algorithm), the perfect-information ratios, and
    each dataset's shares of version k+1's time spent in tests absent from version k."""
    rng = random.Random(draw) if draw else None
    algorithms = ALGORITHMS if draw == 0 else ALGORITHMS[:2]
    explain = options.explain and draw == 0
    ratios = defaultdict(list)
    perfect: list[float] = []
    new_shares: dict[str, list[float]] = defaultdict(list)
    for dataset, (file_name, import_name, levels) in DATASETS.items():
        if options.only and dataset != options.only:
            continue
        versions = load_versions(options.data / file_name)
        with tempfile.TemporaryDirectory(prefix="rxdist-drift-") as tmp:
            work = Path(tmp)
            rx = Rxdist(options.rxdist, work, import_name)
            history = work / "history.zst"
            for k in range(len(versions) - 1):
                known, actual = jittered(versions[k], rng), versions[k + 1]
                if mode == "latest":
                    history.unlink(missing_ok=True)
                rx.record(history, known)
                ids = list(actual)
                new = {t: s for t, s in actual.items() if t not in known}
                new_shares[dataset].append(sum(new.values()) / max(sum(actual.values()), 1e-9))
                if explain:
                    # The same history, then a run of only the new tests: known tests keep
                    # their estimates (a run timing no known test is not backtested).
                    with_new = work / "with-new.zst"
                    shutil.copyfile(history, with_new)
                    if new:
                        rx.record(with_new, new)
                    # With no known test there is nothing to know: plan from the history.
                    kept = {t: s for t, s in actual.items() if t in known}
                    exact = work / "known-exact.zst" if kept else history
                    if kept:
                        exact.unlink(missing_ok=True)
                        rx.record(exact, kept)
                same = {}
                if explain:
                    # A history of exactly what least_duration is handed, per level.
                    for level in levels:
                        same[level] = work / f"same-{level}.zst"
                        same[level].unlink(missing_ok=True)
                        rx.record(same[level], least_duration_estimates(ids, known, level))
                for level in levels:
                    for shards in SHARDS:
                        ratios[dataset, level, shards, "rxdist"].append(
                            score(rx.plan(history, ids, shards, level), actual, level))
                        for algorithm in algorithms[1:]:
                            planned = pytest_split_plan(algorithm, shards, ids, known, level)
                            ratios[dataset, level, shards, algorithm].append(score(planned, actual, level))
                        if explain:
                            for name, source in ((NEW_KNOWN, with_new), (KNOWN_EXACT, exact),
                                                 (SAME_INPUTS, same[level])):
                                ratios[dataset, level, shards, name].append(
                                    score(rx.plan(source, ids, shards, level), actual, level))
                if draw:
                    continue
                # Perfect information: a history holding exactly the version being scored.
                exact = work / "exact.zst"
                exact.unlink(missing_ok=True)
                rx.record(exact, actual)
                for level in levels:
                    for shards in SHARDS:
                        perfect.append(score(rx.plan(exact, ids, shards, level), actual, level))
    return ratios, perfect, new_shares


def replay(options: argparse.Namespace, mode: str) -> bool:
    """Replays every dataset with one history mode, prints the tables; True if all anchors hold."""

    started = time.monotonic()
    ratios, perfect, new_shares = collect(options, mode, 0)
    cases = sorted({key[:3] for key in ratios}, key=lambda c: (list(DATASETS).index(c[0]), c[1], c[2]))

    print(f"drift replay, --history {mode}: {len(cases)} cases, ratio = makespan / max(total/N, largest item), lower is better")
    print()
    header = f"{'dataset':<14} {'level':<5} {'N':>3}  {'algorithm':<22} {'median':>7} {'p90':>7} {'max':>7}  transitions"
    print(header)
    print("-" * len(header))
    for case in cases:
        for algorithm in sorted(ALGORITHMS):
            values = ratios[(*case, algorithm)]
            print(f"{case[0]:<14} {case[1]:<5} {case[2]:>3}  {algorithm:<22} {statistics.median(values):7.3f} "
                  f"{p90(values):7.3f} {max(values):7.3f}  {len(values)}")
    print()
    def median_and_p90(case, algorithm):
        values = ratios[(*case, algorithm)]
        return statistics.median(values), p90(values)

    verdicts, rx_p90s, ld_p90s = judge(
        cases,
        lambda case: (median_and_p90(case, "rxdist"), median_and_p90(case, "least_duration")),
        "rxdist/least_duration",
    )
    mean_rx, mean_ld = statistics.mean(rx_p90s), statistics.mean(ld_p90s)
    print()
    print(f"mean p90: rxdist {mean_rx:.3f}, least_duration {mean_ld:.3f} (anchor: rxdist lower) -> {'ok' if mean_rx < mean_ld else 'WORSE'}")
    print(f"median and p90 no worse than least_duration in {sum(verdicts)}/{len(verdicts)} cases (anchor: all)")
    print(f"perfect information: max ratio {max(perfect):.5f} over {len(perfect)} plans (anchor: <= 1.001) -> {'ok' if max(perfect) <= 1.001 else 'WORSE'}")
    if options.explain:
        print_explain(cases, ratios, new_shares)
    if options.jitter:
        print_jitter(options, mode, cases, ratios)
    print(f"({time.monotonic() - started:.0f}s)")
    return all(verdicts) and mean_rx < mean_ld and max(perfect) <= 1.001


def print_explain(cases: list, ratios: dict, new_shares: dict) -> None:
    """Where rxdist's error comes from: its ratios with the new tests' or the known tests'
    real durations handed to it, beside its own and least_duration's."""
    print()
    print("where rxdist's error comes from (median / p90; perfect information above is the partitioner's part):")
    for dataset, shares in new_shares.items():
        print(f"  {dataset}: time in tests new in version k+1: median {statistics.median(shares):.2%}, p90 {p90(shares):.2%}")
    print("paired per transition, rxdist - least_duration: mean ± standard error, transitions where rxdist is better / worse:")
    for case in cases:
        diffs = [a - b for a, b in zip(ratios[(*case, "rxdist")], ratios[(*case, "least_duration")])]
        error = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else float("nan")
        print(f"  {case[0]:<14} {case[1]:<5} {case[2]:>3}  {statistics.mean(diffs):+.4f} ± {error:.4f}, "
              f"better {sum(d < 0 for d in diffs)} / worse {sum(d > 0 for d in diffs)}")
    names = ("rxdist", NEW_KNOWN, KNOWN_EXACT, SAME_INPUTS, "least_duration")
    print(f"{'dataset':<14} {'level':<5} {'N':>3}  " + "  ".join(f"{name:>34}" for name in names))
    for case in cases:
        cells = [ratios[(*case, name)] for name in names]
        print(f"{case[0]:<14} {case[1]:<5} {case[2]:>3}  "
              + "  ".join(f"{statistics.median(v):>25.3f} / {p90(v):.3f}" for v in cells))
    print()
    print("the control: rxdist's partitioner on exactly least_duration's estimates, judged as above")
    verdicts, _, _ = judge(
        cases,
        lambda case: tuple((statistics.median(v), p90(v)) for v in
                           (ratios[(*case, SAME_INPUTS)], ratios[(*case, "least_duration")])),
        "same estimates/least_duration",
    )
    print(f"same estimates, another plan: no worse than least_duration in {sum(verdicts)}/{len(verdicts)} cases "
          "(what a per-case verdict can resolve)")


def print_jitter(options: argparse.Namespace, mode: str, cases: list, first: dict) -> None:
    """Replays `options.jitter` more draws and compares rxdist and least_duration on the
    averages of their medians and p90s over all draws (the plain one included)."""
    draws = [first] + [collect(options, mode, draw)[0] for draw in range(1, options.jitter + 1)]
    print()
    print(f"over {len(draws)} draws (planning inputs jittered by 0.1%): mean of the draws' figures (min-max)")
    header = f"{'dataset':<14} {'level':<5} {'N':>3}  {'algorithm':<15} {'median':>21} {'p90':>21}"
    print(header)
    print("-" * len(header))
    means = {}
    for case in cases:
        for algorithm in ALGORITHMS[:2]:
            meds = [statistics.median(d[(*case, algorithm)]) for d in draws]
            highs = [p90(d[(*case, algorithm)]) for d in draws]
            means[case, algorithm] = (statistics.mean(meds), statistics.mean(highs))
            print(f"{case[0]:<14} {case[1]:<5} {case[2]:>3}  {algorithm:<15} "
                  f"{means[case, algorithm][0]:.3f} ({min(meds):.3f}-{max(meds):.3f}) "
                  f"{means[case, algorithm][1]:.3f} ({min(highs):.3f}-{max(highs):.3f})")
    print()
    verdicts, rx_p90s, ld_p90s = judge(
        cases,
        lambda case: (means[case, "rxdist"], means[case, "least_duration"]),
        "averaged over the draws",
    )
    print(f"averaged over the draws: median and p90 no worse than least_duration in {sum(verdicts)}/{len(verdicts)} cases; "
          f"mean p90 rxdist {statistics.mean(rx_p90s):.3f}, least_duration {statistics.mean(ld_p90s):.3f}")


if __name__ == "__main__":
    sys.exit(main())
