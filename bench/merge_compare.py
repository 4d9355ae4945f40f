#!/usr/bin/env python3
"""`rxdist merge` beside junit-report-merger, junitparser and cobertura-merge, on the same files.

Inputs come from bench/generate_merge_inputs.py (deterministic, under target/bench-merge/data/):

- junit: 1,000,000 testcases over 200 shard files (pytest- and Surefire-shaped);
- big: one JUnit file with a 1 GiB `<system-out>`, merged with two ordinary shards;
- cobertura: 50 coverage.py-shaped shards of about 20 MB, each from another checkout root.

Tools, each as its documentation says to call it (pinned: bench/package.json with its
package-lock.json for npm, bench/requirements.txt for PyPI; this script installs them under
target/bench-node and target/bench-python the first time, and again when a pin changes):

    rxdist            target/release/rxdist merge --junit FILE... --out-dir DIR
                      target/release/rxdist merge --coverage FILE... --out-dir DIR
    jrm               jrm OUT FILE...                      (junit-report-merger)
    junitparser       junitparser merge FILE... OUT
    cobertura-merge   cobertura-merge -o OUT shard00=FILE shard01=FILE ...

Each run is one process started under GNU time (/usr/bin/time), whose wait4 gives the tool's
user+system CPU time and its peak resident set (ru_maxrss; none of these tools starts children
of its own; a process forked straight from this script would inherit this script's resident
size into its ru_maxrss). The page
cache is warmed with every input before a scenario. rxdist runs 3 times and the anchors once
by default (the table shows medians of wall and CPU time and the largest peak). An anchor that
exceeds the timeout (10 minutes) or the memory cap (8 GiB resident, polled every 50 ms, so the
shared machine survives a tool that loads everything), or that dies, gets "failed: reason" in
its row. "others' CPU" is CPU time the rest of the machine used during the runs (busy time
from /proc/stat less the tool's and this script's); more than a few seconds means the figures
were measured under load.

Figures: MB/s is input bytes (10^6) over wall time; MB/s per core is input bytes over the
child's CPU seconds. The anchors of issue 4 are printed beside them: JUnit >= 250 MB/s per
core and peak <= 64 MiB + 64 B per testcase; Cobertura >= 150 MB/s and memory bounded by the
merged line table, read here as peak <= 64 MiB + 256 B per entry of the merged table (files x
their lines, plus branch arcs), with the table's size printed.

Correctness, cheaply: every output's testcases (or classes) and root counters are counted and
printed beside what the generator wrote (its manifest), so a tool that drops, duplicates or
mis-sums shows it. For Cobertura the truth is `coverage combine`'s: the union of lines, of
covered lines and of taken branches per file, the same file from every checkout counted once.

Usage: bench/merge_compare.py [--scale S] [--only junit|big|cobertura]... [--skip-anchors]
                              [--rxdist PATH] [--runs 3] [--anchor-runs 1] [--timeout 600]
                              [--memory-cap-gib 8] [--keep-outputs]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate_merge_inputs as inputs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target/bench-merge/out"
NODE = ROOT / "target/bench-node"
VENV = ROOT / "target/bench-python"
SCENARIOS = ("junit", "big", "cobertura")
MIB = 1 << 20
NOISE_SECONDS = 5.0
JUNIT_PER_CORE = 250.0
COBERTURA_WALL = 150.0
BASE_MIB = 64
BYTES_PER_TESTCASE = 64
BYTES_PER_TABLE_ENTRY = 256
GNU_TIME = "/usr/bin/time"
# Variables rxdist reads (settings, CI detection, GitHub reporting): none may leak into the runs.
ENV = {k: v for k, v in os.environ.items()
       if not k.startswith(("RXDIST_", "GITHUB_", "RUNNER_")) and k not in ("CI", "GITLAB_CI", "BUILDKITE", "CIRCLECI")}


@dataclass
class Run:
    wall: float
    cpu: float
    peak: int
    foreign: float
    code: int
    failure: str = ""  # why the run failed; empty when it succeeded


@dataclass
class Row:
    tool: str
    runs: list[Run] = field(default_factory=list)
    check: str = ""  # what the output holds, for the correctness lines

    @property
    def ok_runs(self) -> list[Run]:
        return [r for r in self.runs if not r.failure]


# ---------------------------------------------------------------------------------------------
# Tools


def install_anchors() -> dict[str, Path]:
    """Installs the pinned npm and PyPI anchors under target/ (again only when a pin changed)."""
    python = subprocess.run([str(ROOT / "scripts/venv.sh"), str(VENV), str(ROOT / "bench/requirements.txt")],
                            check=True, capture_output=True, text=True).stdout.strip()
    lock, stamp = ROOT / "bench/package-lock.json", NODE / ".package-lock.json"
    bins = NODE / "node_modules/.bin"
    if not (bins / "jrm").exists() or not (bins / "cobertura-merge").exists() or not stamp.is_file() \
            or stamp.read_bytes() != lock.read_bytes():
        NODE.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "bench/package.json", NODE / "package.json")
        shutil.copy(lock, NODE / "package-lock.json")
        # `npm install` takes every version from the lock file (as scripts/js-env.sh does).
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save", "--loglevel=error"],
                       cwd=NODE, check=True, stdout=sys.stderr)
        shutil.copy(lock, stamp)
    return {"jrm": bins / "jrm", "cobertura-merge": bins / "cobertura-merge",
            "junitparser": Path(python).parent / "junitparser"}


def versions(tools: dict[str, Path]) -> str:
    found = []
    for name, package in (("jrm", "junit-report-merger"), ("cobertura-merge", "cobertura-merge")):
        manifest = NODE / "node_modules" / package / "package.json"
        match = re.search(r'"version":\s*"([^"]+)"', manifest.read_text()) if manifest.is_file() else None
        found.append(f"{package} {match.group(1) if match else '?'}")
    junitparser = subprocess.run([str(tools["junitparser"]), "--version"], capture_output=True, text=True)
    found.append((junitparser.stdout or junitparser.stderr).strip() or "junitparser ?")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return ", ".join(found) + f"; node {node}, Python {platform.python_version()} (junitparser's)"


def rxdist_available(rxdist: Path) -> str:
    """Empty when `rxdist merge` exists, else why not."""
    if not rxdist.is_file():
        return f"no binary at {rxdist} (cargo build --release)"
    probe = subprocess.run([str(rxdist), "merge", "--help"], capture_output=True, text=True)
    if probe.returncode != 0:
        return "this rxdist has no `merge` command yet"
    return ""


# ---------------------------------------------------------------------------------------------
# Measuring


def busy_seconds() -> float:
    """Non-idle CPU seconds of the whole machine since boot, all cores (from /proc/stat)."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:9]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


class Guard:
    """Kills the measured process group past the timeout or above the memory cap."""

    def __init__(self, pid: int, timeout: float, cap_bytes: int):
        self.pid, self.timeout, self.cap = pid, timeout, cap_bytes
        self.reason = ""
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def tool(self) -> int:
        """The pid of GNU time's child (the tool), 0 before it exists."""
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as handle:
                children = handle.read().split()
            return int(children[0]) if children else 0
        except (OSError, ValueError):
            return 0

    def resident(self) -> int:
        """Resident bytes of the tool, 0 before it exists."""
        try:
            with open(f"/proc/{self.tool()}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            pass  # not started yet, or already gone
        return 0

    def watch(self) -> None:
        start = time.perf_counter()
        while not self.done.wait(0.05):
            reason = ""
            if time.perf_counter() - start > self.timeout:
                reason = f"timeout after {self.timeout:.0f} s"
            elif self.resident() > self.cap:
                reason = f"killed above the {self.cap / 2**30:.0f} GiB memory cap"
            if reason:
                self.reason = reason
                # The tool alone, so that GNU time still reports its usage up to the kill (a
                # process of several GiB takes a while to die); the group only if time hangs.
                tool = self.tool()
                if tool:
                    try:
                        os.kill(tool, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                deadline = time.perf_counter() + 60
                while alive(self.pid) and time.perf_counter() < deadline:
                    time.sleep(0.1)
                if alive(self.pid):
                    try:
                        os.killpg(self.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                return

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


def alive(pid: int) -> bool:
    """Whether a process exists and has not exited (a zombie has)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def why_failed(log: Path, code: int) -> str:
    text = log.read_text(errors="replace") if log.is_file() else ""
    lines = [line.strip() for line in text.splitlines()[1:] if line.strip()]
    telling = [line for line in lines if re.search(r"FATAL|Error|error:|Killed|out of memory|MemoryError", line)
               and not line.startswith("at ")]
    detail = (telling[0] if telling else lines[-1] if lines else "no output")[:140]
    if code < 0:
        return f"{signal.Signals(-code).name}: {detail}"
    return f"exit {code}: {detail}"


def measure(command: list[str], cwd: Path, log: Path, timeout: float, cap: int) -> Run:
    """Runs one tool under GNU time, which forks it from a process of a few hundred KiB and
    reports its wait4 usage: CPU time and ru_maxrss. (Forked straight from this script, the
    child's ru_maxrss would start at this script's own resident size, which Linux carries over
    the fork and the exec.)"""
    usage_file = log.with_suffix(".usage")
    with open(log, "wb") as out:
        out.write(("$ " + " ".join(command[:6]) + (" ..." if len(command) > 6 else "") + "\n").encode())
        out.flush()
        busy, mine = busy_seconds(), sum(os.times()[:2])
        start = time.perf_counter()
        process = subprocess.Popen([GNU_TIME, "-o", str(usage_file), "-f", "%U %S %M", *command], cwd=cwd, env=ENV,
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        guard = Guard(process.pid, timeout, cap)
        process.wait()
        wall = time.perf_counter() - start
        guard.stop()
    report = usage_file.read_text().splitlines() if usage_file.is_file() else []
    try:
        user, system, peak_kib = report[-1].split()
        cpu, peak = float(user) + float(system), int(peak_kib) * 1024
    except (IndexError, ValueError):
        cpu, peak = 0.0, 0
    foreign = max(0.0, busy_seconds() - busy - cpu - (sum(os.times()[:2]) - mine))
    code = process.returncode
    killed = next((int(m.group(1)) for line in report if (m := re.match(r"Command terminated by signal (\d+)", line))), 0)
    if killed:
        code = -killed
    failure = guard.reason or (why_failed(log, code) if code != 0 else "")
    return Run(wall, cpu, peak, foreign, code, failure)


def warm(paths: list[Path]) -> None:
    """Reads every input once, so no tool pays for the disk and all read from the page cache."""
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(16 * MIB):
                pass


# ---------------------------------------------------------------------------------------------
# Checking outputs


def count(path: Path, pattern: bytes) -> int:
    """Occurrences of a short regex in a file of any size, read in chunks."""
    regex = re.compile(pattern)
    total, tail = 0, b""
    with open(path, "rb") as handle:
        while chunk := handle.read(32 * MIB):
            data = tail + chunk
            # A match that ends inside the kept tail was counted with the previous chunk.
            total += sum(1 for m in regex.finditer(data) if m.end() > len(tail))
            tail = data[-64:]
    return total


def root_attributes(path: Path, tags: tuple[str, ...]) -> dict[str, str]:
    with open(path, "rb") as handle:
        head = handle.read(1 << 16).decode("utf-8", "replace")
    match = re.search(r"<(" + "|".join(tags) + r")\b([^>]*)>", head)
    if not match:
        return {}
    return dict(re.findall(r'([\w:-]+)="([^"]*)"', match.group(2)))


def check_junit(output: Path) -> str:
    if not output.is_file():
        return "no output file"
    testcases = count(output, rb"<testcase[\s/>]")
    failures = count(output, rb"<failure[\s/>]")
    root = root_attributes(output, ("testsuites", "testsuite"))
    counters = ", ".join(f"{k}={root[k]}" for k in ("tests", "failures", "errors", "skipped") if k in root)
    return f"{testcases:,} testcases, {failures:,} <failure>; root {counters or 'has no counters'}"


def check_cobertura(output: Path) -> str:
    if not output.is_file():
        return "no output file"
    classes = count(output, rb"<class[\s/>]")
    root = root_attributes(output, ("coverage",))
    keys = ("lines-valid", "lines-covered", "line-rate", "branches-valid", "branches-covered", "branch-rate")
    return f"{classes:,} classes; root " + ", ".join(f"{k}={root.get(k, '?')}" for k in keys)


# ---------------------------------------------------------------------------------------------
# Scenarios


def commands(scenario: str, tool: str, files: list[Path], out: Path, tools: dict[str, Path], rxdist: Path) -> tuple[list[str], Path]:
    """(command, the merged report it writes) of one tool on one scenario."""
    paths = [str(f) for f in files]
    if tool == "rxdist":
        flag = "--coverage" if scenario == "cobertura" else "--junit"
        report = out / ("coverage.xml" if scenario == "cobertura" else "junit.xml")
        return [str(rxdist), "merge", flag, *paths, "--out-dir", str(out)], report
    if tool == "jrm":
        return [str(tools["jrm"]), str(out / "junit.xml"), *paths], out / "junit.xml"
    if tool == "junitparser":
        return [str(tools["junitparser"]), "merge", *paths, str(out / "junit.xml")], out / "junit.xml"
    if tool == "cobertura-merge":
        named = [f"shard{number:02d}={path}" for number, path in enumerate(paths)]
        return [str(tools["cobertura-merge"]), "-o", str(out / "coverage.xml"), *named], out / "coverage.xml"
    raise ValueError(tool)


def run_scenario(scenario: str, options: argparse.Namespace, tools: dict[str, Path], rx_missing: str) -> tuple[list[Row], dict, Path]:
    directory, manifest = inputs.ensure(scenario, options.scale)
    files = [directory / name for name in manifest["files"]]
    anchors = ["cobertura-merge"] if scenario == "cobertura" else ["jrm", "junitparser"]
    if options.skip_anchors:
        anchors = []
    print(f"\n== {scenario}: {describe(scenario, manifest)}", flush=True)
    warm(files)
    rows = []
    for tool in ["rxdist", *anchors]:
        row = Row(tool)
        rows.append(row)
        if tool == "rxdist" and rx_missing:
            row.runs.append(Run(0, 0, 0, 0, -1, f"not measured: {rx_missing}"))
            print(f"   rxdist: {rx_missing}", flush=True)
            continue
        repeat = options.runs if tool == "rxdist" else options.anchor_runs
        for number in range(repeat):
            out = OUT / scenario / tool
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            command, report = commands(scenario, tool, files, out, tools, options.rxdist)
            log = OUT / scenario / f"{tool}-{number + 1}.log"
            run = measure(command, out, log, options.timeout, options.memory_cap_gib << 30)
            row.runs.append(run)
            state = f"FAILED ({run.failure})" if run.failure else "ok"
            print(f"   {tool:<16} #{number + 1}: {run.wall:7.2f} s wall, {run.cpu:7.2f} s CPU, peak {run.peak / MIB:8.1f} MiB, "
                  f"others' CPU {run.foreign:5.1f} s: {state}", flush=True)
            if run.failure and not run.failure.startswith("exit"):
                break  # a timeout or the memory cap: another run would only cost the same again
        last = row.runs[-1]
        if not last.failure or last.failure.startswith("exit"):
            check = check_cobertura if scenario == "cobertura" else check_junit
            row.check = check(report)
        if not options.keep_outputs:
            shutil.rmtree(OUT / scenario / tool, ignore_errors=True)
    return rows, manifest, directory


def describe(scenario: str, manifest: dict) -> str:
    truth, mb = manifest["truth"], manifest["bytes"] / 1e6
    files = len(manifest["files"])
    if scenario == "junit":
        return f"{files} files, {truth['testcases']:,} testcases, {mb:,.1f} MB (140 pytest-shaped, 60 Surefire-shaped)"
    if scenario == "big":
        return (f"{files} files, {mb:,.1f} MB: one testcase's <system-out> of {truth['system_out_bytes'] / MIB:,.0f} MiB "
                f"+ 2 shards, {truth['testcases']:,} testcases in all")
    return (f"{files} coverage.py shards, {mb:,.1f} MB ({mb / files:.1f} MB each), {truth['files']:,} source files, "
            "a different checkout root per shard")


def median_run(row: Row) -> Run | None:
    runs = row.ok_runs
    if not runs:
        return None
    return Run(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs),
               max(r.peak for r in runs), max(r.foreign for r in runs), runs[-1].code)


def table(scenario: str, rows: list[Row], manifest: dict) -> bool:
    """Prints one scenario's table, its anchors and its correctness lines; True if rxdist met its anchors."""
    mb = manifest["bytes"] / 1e6
    truth = manifest["truth"]
    rx = median_run(rows[0])
    print()
    print("| tool | runs | wall s | CPU s | MB/s | MB/s per core | peak RSS MiB | others' CPU s | rxdist vs this tool |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        best = median_run(row)
        if best is None:
            last = row.runs[-1]
            if not last.wall:  # never started
                print(f"| {row.tool} | - | - | - | - | - | - | - | failed: {last.failure} |")
                continue
            bound = ""
            if last.failure.startswith("timeout") and rx is not None:
                # Killed unfinished: its wall time is a lower bound, and so is the ratio.
                bound = f"; rxdist > {last.wall / rx.wall:,.0f}x faster"
            print(f"| {row.tool} | {len(row.runs)} | {last.wall:,.1f} | {last.cpu:,.1f} | - | - | {last.peak / MIB:,.0f} | "
                  f"{last.foreign:.1f} | failed: {last.failure}{bound} |")
            continue
        ratio = "-"
        if row.tool != "rxdist" and rx is not None:
            ratio = (f"{best.wall / rx.wall:,.1f}x faster, {best.cpu / rx.cpu:,.1f}x less CPU, "
                     f"{best.peak / max(rx.peak, 1):,.1f}x less memory")
        note = f" (exit {best.code})" if best.code else ""
        print(f"| {row.tool}{note} | {len(row.ok_runs)} | {best.wall:,.2f} | {best.cpu:,.2f} | {mb / best.wall:,.1f} | "
              f"{mb / max(best.cpu, 1e-9):,.1f} | {best.peak / MIB:,.1f} | {best.foreign:.1f} | {ratio} |")
    met = True
    print()
    if rx is None:
        print("anchors: rxdist not measured")
        met = False
    elif scenario in ("junit", "big"):
        per_core = mb / max(rx.cpu, 1e-9)
        bound = BASE_MIB + BYTES_PER_TESTCASE * truth["testcases"] / MIB
        ok_speed, ok_memory = per_core >= JUNIT_PER_CORE, rx.peak / MIB <= bound
        met = ok_speed and ok_memory
        print(f"anchor: >= {JUNIT_PER_CORE:.0f} MB/s per core: rxdist {per_core:,.1f} MB/s per core: "
              f"{'ok' if ok_speed else 'MISSED'}")
        print(f"anchor: peak <= {BASE_MIB} MiB + {BYTES_PER_TESTCASE} B x {truth['testcases']:,} testcases = {bound:,.1f} MiB: "
              f"rxdist {rx.peak / MIB:,.1f} MiB: {'ok' if ok_memory else 'MISSED'}")
    else:
        entries = truth["lines_valid"] + truth["branches_valid"]
        bound = BASE_MIB + BYTES_PER_TABLE_ENTRY * entries / MIB
        wall_rate = mb / rx.wall
        ok_speed, ok_memory = wall_rate >= COBERTURA_WALL, rx.peak / MIB <= bound
        above = (f"{(rx.peak - BASE_MIB * MIB) / max(entries, 1):,.0f} B per entry above {BASE_MIB} MiB"
                 if rx.peak > BASE_MIB * MIB else f"below the {BASE_MIB} MiB base alone")
        met = ok_speed and ok_memory
        print(f"anchor: >= {COBERTURA_WALL:.0f} MB/s: rxdist {wall_rate:,.1f} MB/s: {'ok' if ok_speed else 'MISSED'}")
        print(f"anchor: memory bounded by the merged line table: {truth['files']:,} files x "
              f"{truth['lines_valid'] / max(truth['files'], 1):,.0f} lines on average = {truth['lines_valid']:,} lines "
              f"+ {truth['branches_valid']:,} branch arcs = {entries:,} entries; "
              f"bound {BASE_MIB} MiB + {BYTES_PER_TABLE_ENTRY} B x entries = {bound:,.1f} MiB: rxdist {rx.peak / MIB:,.1f} MiB "
              f"({above}; "
              f"all inputs together {manifest['bytes'] / MIB:,.0f} MiB): {'ok' if ok_memory else 'MISSED'}")
    print()
    if scenario == "cobertura":
        print(f"truth (coverage combine of the shards): {truth['files']:,} classes; root lines-valid={truth['lines_valid']}, "
              f"lines-covered={truth['lines_covered']}, line-rate={truth['line_rate']}, branches-valid={truth['branches_valid']}, "
              f"branches-covered={truth['branches_covered']}, branch-rate={truth['branch_rate']}")
    else:
        collapsed = truth["testcases"] - truth["retried"]
        print(f"truth (written by the generator): {truth['testcases']:,} testcases ({truth['failures']:,} with <failure>, "
              f"{truth['errors']:,} errors, {truth['skipped']:,} skipped); {truth['retried']:,} failures passed on retry "
              f"in the next shard (collapsing retries: {collapsed:,} testcases, {truth['failures'] - truth['retried']:,} "
              f"<failure>); {truth['teardown_pairs']:,} pytest call-failure + teardown-error pairs (kept as two); "
              f"one suite's tests counter overstated by {truth['wrong_counter_overstates_by']}" if truth["wrong_counter_overstates_by"]
              else f"truth (written by the generator): {truth['testcases']:,} testcases ({truth['failures']:,} with <failure>, "
              f"{truth['errors']:,} errors, {truth['skipped']:,} skipped)")
    for row in rows:
        print(f"  {row.tool}: {row.check or 'no output to check'}")
    noisy = [row.tool for row in rows for run in row.runs if run.foreign > NOISE_SECONDS]
    if noisy:
        print(f"LOAD: other processes used over {NOISE_SECONDS:.0f} s of CPU during runs of {', '.join(sorted(set(noisy)))}; "
              "those figures were measured under load")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="shrink every input (0.01 for a smoke run)")
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="one scenario (may repeat)")
    parser.add_argument("--skip-anchors", action="store_true", help="measure rxdist only")
    parser.add_argument("--rxdist", type=Path, default=ROOT / "target/release/rxdist")
    parser.add_argument("--runs", type=int, default=3, help="runs of rxdist (median)")
    parser.add_argument("--anchor-runs", type=int, default=1, help="runs of each anchor (median)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before an anchor run is killed")
    parser.add_argument("--memory-cap-gib", type=int, default=8, help="resident size at which a run is killed")
    parser.add_argument("--keep-outputs", action="store_true", help="keep the merged reports under target/bench-merge/out")
    options = parser.parse_args()
    if not Path(GNU_TIME).is_file():
        sys.exit(f"{GNU_TIME} (GNU time) is missing: it measures each tool's CPU time and peak memory; "
                 "install it (apt-get install time)")

    tools = {} if options.skip_anchors else install_anchors()
    rx_missing = rxdist_available(options.rxdist)
    print(f"rxdist merge benchmark, {datetime.date.today()}, {os.cpu_count()} cores, {platform.machine()}, "
          f"scale {options.scale:g}")
    if tools:
        print(f"anchors: {versions(tools)}")
    met = True
    for scenario in options.only or SCENARIOS:
        rows, manifest, _ = run_scenario(scenario, options, tools, rx_missing)
        met &= table(scenario, rows, manifest)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
