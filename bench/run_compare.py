#!/usr/bin/env python3
"""`rxdist run -n 2` against `pytest -n 2` (pytest-xdist) and serial pytest, on one machine.

Two suites:

- generated: bench/generate_suite.py's deterministic project (5,200 tests, 240 files, a
  long-tailed duration mix, a CPU-bound share, import and fixture costs, skips, xfails,
  failures and errors), written into target/bench-suites/generated/;
- networkx: the test suite that ships inside the networkx wheel pinned in
  bench/requirements.txt, run from the bench venv's site-packages as rootdir
  (`pytest networkx --rootdir .`), pure Python (numpy and friends are not installed, so the
  tests that need them are skipped the same way in every configuration).

For each suite, a warm-up serial run (it also compiles the bytecode caches) writes the JUnit
report that `rxdist timings record` turns into the history: one recorded run, which is what a
CI job would have. Then, in interleaved order (the order rotates every repetition, so drift
of the machine is spread over all configurations):

    serial    pytest ARGS --junitxml=...
    xdist     pytest -n 2 --dist load ARGS --junitxml=...
    rxdist    rxdist run -n 2 --dist load --no-record --junit-out ... -- pytest ARGS
    rxdist+h  rxdist run -n 2 --dist load --history COPY --junit-out ... -- pytest ARGS

where COPY is a fresh copy of the one-run history, so every repetition plans from the same
information (rxdist records the run into COPY afterwards, which is part of its measured time).
Every pytest invocation gets `-p no:cacheprovider` (no state carried between runs) and the
pytest runs `-o junit_family=xunit1`. The table reports median wall times; the anchors are
rxdist/xdist <= 0.85 with history and <= 1.0 without.

Outcomes: every JUnit report is read into {(classname, name): outcome} (passed, failed,
error, skipped, xfailed, and rxdist's timeout, crashed and notrun) and compared with the
warm-up serial run's; every difference is printed, and "identical" is printed only when there
is none. Exit codes are compared too. pytest also writes one "collection skipped" record for a
module skipped as a whole at import (a module-level importorskip); such a record stands for no
collected test, so differences in those are counted and printed apart from the tests'.

rxdist's own peak memory: a thread reads VmHWM (the kernel's high-water mark of the resident
set) from /proc/PID/status of the rxdist process every 10 ms while it runs and keeps the
largest value. Only rxdist itself is measured, never its pytest workers: wait4's ru_maxrss is
not used because Linux folds the largest waited-for descendant into it. Growth in the last
< 10 ms before exit could be missed; VmHWM being a high-water mark, nothing earlier is. The
same poll reads the process's own user+system CPU time from /proc/PID/stat (children
excluded). Every configuration's top process is watched the same way (pytest itself for serial,
xdist's controller for xdist), so the polling costs every configuration alike and the table
shows the controllers side by side; the anchor (< 100 MiB) applies to rxdist.

Noise: "others' CPU" is the CPU time the rest of the machine used during a run (busy time
from /proc/stat, less what the run's own process tree and this script used; the largest over
a configuration's runs). Anything above a few seconds means another job competed for the two
cores, and that configuration's times are not to be trusted.

Takes about 22 minutes on the 2-core machine (both suites, 3 runs each).

Usage: bench/run_compare.py [--rxdist PATH] [--suite generated|networkx|both]
                            [--repeat 3] [--serial-repeat 1] [--workers 2] [--work DIR]
                            [--skip-rxdist]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate_suite  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 30 * 60
CONFIGS = ("serial", "xdist", "rxdist", "rxdist+h")
MODULE_SKIP = "module-skipped"
ANCHORS = {"rxdist": 1.0, "rxdist+h": 0.85}
MEMORY_ANCHOR_MIB = 100
NOISE_SECONDS = 5.0
# Variables rxdist reads on purpose (CI parallelism, settings): none must leak into the runs.
SCRUB = (
    "GITHUB_ACTIONS", "CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", "GITLAB_CI", "CI_NODE_INDEX",
    "CI_NODE_TOTAL", "BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT",
    "SYSTEM_JOBPOSITIONINPHASE", "SYSTEM_TOTALJOBSINPHASE", "SEMAPHORE_JOB_INDEX",
    "SEMAPHORE_JOB_COUNT", "BITBUCKET_PARALLEL_STEP", "BITBUCKET_PARALLEL_STEP_COUNT",
    "TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS", "TEST_SHARD_STATUS_FILE", "PYTEST_ADDOPTS",
    "PYTEST_XDIST_AUTO_NUM_WORKERS",
)


@dataclass
class Suite:
    name: str
    cwd: Path
    args: list[str]
    description: str


@dataclass
class Run:
    config: str
    wall: float
    code: int
    junit: Path
    log: Path
    peak_bytes: int = 0
    cpu_seconds: float = 0.0
    foreign_cpu: float = 0.0


@dataclass
class Results:
    suite: Suite
    reference: dict
    reference_code: int
    runs: list[Run] = field(default_factory=list)


def environment(venv_bin: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUB and not k.startswith("RXDIST_")}
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    return env


class Watch:
    """Polls VmHWM and own CPU time of one process every 10 ms until it exits."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak_kib = 0
        self.cpu_ticks = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()

    def poll(self) -> None:
        status = f"/proc/{self.pid}/status"
        stat = f"/proc/{self.pid}/stat"
        while not self.done.is_set():
            try:
                with open(status) as handle:
                    for line in handle:
                        if line.startswith("VmHWM:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                            break
                with open(stat) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                # utime and stime are fields 14 and 15 of stat; fields[0] is field 3 (state).
                ticks = int(fields[11]) + int(fields[12])
                self.cpu_ticks = max(self.cpu_ticks, ticks)
            except (OSError, ValueError, IndexError):
                pass  # not started yet, or a zombie whose memory is already gone
            self.done.wait(0.01)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


def busy_seconds() -> float:
    """Non-idle CPU seconds of the whole machine since boot, all cores (from /proc/stat)."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:9]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def execute(command: list[str], cwd: Path, env: dict, log: Path) -> tuple[float, int, int, float, float]:
    """Runs one command; returns (wall seconds, exit code, peak VmHWM bytes of the top process,
    its own CPU seconds, CPU seconds spent meanwhile by processes that are not ours)."""
    with open(log, "wb") as out:
        out.write(("$ cd " + str(cwd) + " && " + " ".join(command) + "\n").encode())
        out.flush()
        busy, mine = busy_seconds(), sum(os.times()[:2])
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        watcher = Watch(process.pid)
        killer = threading.Timer(RUN_TIMEOUT, os.killpg, (process.pid, signal.SIGKILL))
        killer.start()
        # wait4: the usage it returns covers the child and every descendant it waited for.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        killer.cancel()
        process.returncode = code = os.waitstatus_to_exitcode(status)
        watcher.stop()
        foreign = busy_seconds() - busy - (usage.ru_utime + usage.ru_stime) - (sum(os.times()[:2]) - mine)
        if wall >= RUN_TIMEOUT:
            out.write(f"\nbench: killed after {RUN_TIMEOUT}s\n".encode())
    return wall, code, watcher.peak_kib * 1024, watcher.cpu_ticks / os.sysconf("SC_CLK_TCK"), max(0.0, foreign)


def outcome(testcase: ET.Element) -> str:
    found = []
    for child in testcase:
        kind = child.get("type") or ""
        if child.tag == "failure":
            found.append("timeout" if kind == "rxdist.timeout" else "failed")
        elif child.tag == "error":
            found.append({"rxdist.crash": "crashed", "rxdist.collection": "collection-error"}.get(kind, "error"))
        elif child.tag == "skipped" and not kind and child.get("message") == "collection skipped":
            found.append(MODULE_SKIP)  # pytest's record of a whole module skipped at import
        elif child.tag == "skipped":
            found.append({"pytest.xfail": "xfailed", "rxdist.notrun": "notrun"}.get(kind, "skipped"))
    return "+".join(sorted(found)) or "passed"


def read_outcomes(path: Path) -> dict:
    """{(classname, name): outcome}; a key seen twice keeps both outcomes, joined by '|'."""
    outcomes: dict[tuple[str, str], str] = {}
    if not path.is_file():
        return outcomes
    for testcase in ET.parse(path).getroot().iter("testcase"):
        key = (testcase.get("classname") or "", testcase.get("name") or "")
        value = outcome(testcase)
        outcomes[key] = f"{outcomes[key]}|{value}" if key in outcomes else value
    return outcomes


def compare(reference: dict, other: dict) -> tuple[list[str], list[str]]:
    """(differences of tests, differences of module-skip records): each 'id: serial X, here Y'."""
    tests, modules = [], []
    for key in sorted(reference.keys() | other.keys()):
        want, got = reference.get(key, "absent"), other.get(key, "absent")
        if want != got:
            line = f"{'::'.join(k for k in key if k)}: serial {want}, here {got}"
            (modules if MODULE_SKIP in (want, got) else tests).append(line)
    return tests, modules


def counts(outcomes: dict) -> str:
    tally: dict[str, int] = {}
    for value in outcomes.values():
        tally[value] = tally.get(value, 0) + 1
    return ", ".join(f"{n} {name}" for name, n in sorted(tally.items(), key=lambda item: -item[1]))


def suites(which: str) -> list[Suite]:
    chosen = []
    if which in ("generated", "both"):
        summary = generate_suite.generate()
        chosen.append(Suite(
            "generated", generate_suite.DEFAULT_DEST, ["-p", "no:cacheprovider"],
            f"bench/generate_suite.py: {summary['tests']} tests, {summary['files']} files, "
            f"{summary['work_seconds']} s of work, {round(summary['cpu_share'] * 100)}% CPU-bound",
        ))
    if which in ("networkx", "both"):
        import networkx  # the pinned wheel, tests included

        site = Path(networkx.__file__).resolve().parent.parent
        chosen.append(Suite(
            "networkx", site, ["networkx", "--rootdir", ".", "-p", "no:cacheprovider"],
            f"networkx {metadata.version('networkx')} from PyPI, its packaged tests, rootdir {site}",
        ))
    return chosen


def benchmark(suite: Suite, options: argparse.Namespace, env: dict) -> Results:
    work = options.work / suite.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pytest = ["pytest", *suite.args, "-o", "junit_family=xunit1"]
    rx = str(options.rxdist)
    n = str(options.workers)

    print(f"-- {suite.name}: {suite.description}", flush=True)
    warm = work / "warmup-serial.xml"
    wall, code, _, _, _ = execute([*pytest, f"--junitxml={warm}"], suite.cwd, env, work / "warmup-serial.log")
    reference = read_outcomes(warm)
    print(f"   warm-up serial: {wall:.1f}s, exit {code}, {len(reference)} testcases: {counts(reference)}", flush=True)
    if not reference:
        sys.exit(f"the warm-up run wrote no JUnit report; see {work / 'warmup-serial.log'}")
    history = work / "history.zst"
    if not options.skip_rxdist:
        # From the rootdir, as CI would: pytest's xunit1 `file` of an inherited test method is
        # the base class's file, and rxdist maps those through the files under the rootdir.
        recorded = subprocess.run([rx, "timings", "record", "--history", str(history), "--input", str(warm)],
                                  cwd=suite.cwd, env=env, capture_output=True, text=True)
        if recorded.returncode != 0:
            sys.exit(f"rxdist timings record failed ({recorded.returncode}):\n{recorded.stderr}")

    results = Results(suite, reference, code)
    configs = [c for c in CONFIGS if not (options.skip_rxdist and c.startswith("rxdist"))]
    for repetition in range(options.repeat):
        shift = repetition % len(configs)
        for config in configs[shift:] + configs[:shift]:
            if config == "serial" and repetition >= options.serial_repeat:
                continue
            stem = f"{config.replace('+', '-')}-{repetition}"
            junit, log = work / f"{stem}.xml", work / f"{stem}.log"
            if config == "serial":
                command = [*pytest, f"--junitxml={junit}"]
            elif config == "xdist":
                command = [*pytest[:1], "-n", n, "--dist", "load", *pytest[1:], f"--junitxml={junit}"]
            else:
                command = [rx, "run", "-n", n, "--dist", "load", "--junit-out", str(junit)]
                if config == "rxdist+h":
                    copy = work / f"{stem}-history.zst"
                    shutil.copyfile(history, copy)
                    command += ["--history", str(copy)]
                else:
                    command += ["--no-record"]
                command += ["--", *pytest]
            wall, code, peak, cpu, foreign = execute(command, suite.cwd, env, log)
            results.runs.append(Run(config, wall, code, junit, log, peak, cpu, foreign))
            print(f"   {config:<9} #{repetition + 1}: {wall:6.1f}s, exit {code}, "
                  f"top process: peak {peak / 2**20:.1f} MiB, CPU {cpu:.2f}s; "
                  f"other processes' CPU meanwhile {foreign:.1f}s", flush=True)
    return results


def report(all_results: list[Results], options: argparse.Namespace) -> bool:
    ok = True
    print()
    print("| suite | configuration | runs | median wall | min-max | speedup vs serial | rxdist/xdist | anchor "
          "| top process peak RSS | top process CPU | others' CPU | exit codes | outcomes vs serial |")
    print("|---|---|---:|---:|---|---:|---:|---|---:|---:|---:|---|---|")
    details = []
    for results in all_results:
        by_config: dict[str, list[Run]] = {}
        for run in results.runs:
            by_config.setdefault(run.config, []).append(run)
        medians = {c: statistics.median(r.wall for r in runs) for c, runs in by_config.items()}
        for config, runs in by_config.items():
            walls = [r.wall for r in runs]
            speedup = f"{medians['serial'] / medians[config]:.2f}x" if "serial" in medians else "-"
            ratio = anchor = "-"
            if config in ANCHORS and "xdist" in medians:
                value = medians[config] / medians["xdist"]
                met = value <= ANCHORS[config]
                ok &= met
                ratio = f"**{value:.3f}**"
                anchor = f"<= {ANCHORS[config]:.2f} {'ok' if met else 'MISSED'}"
            top = max(r.peak_bytes for r in runs) / 2**20
            peak = f"{top:.1f} MiB"
            if config.startswith("rxdist"):
                ok &= 0 < top < MEMORY_ANCHOR_MIB
                peak += f" (< {MEMORY_ANCHOR_MIB} {'ok' if 0 < top < MEMORY_ANCHOR_MIB else 'MISSED'})"
            cpu = f"{statistics.median(r.cpu_seconds for r in runs):.1f} s"
            foreign = f"{max(r.foreign_cpu for r in runs):.1f} s"
            codes = sorted({r.code for r in runs})
            differing, module_records = 0, 0
            for run in runs:
                differences, modules = compare(results.reference, read_outcomes(run.junit))
                module_records = max(module_records, len(modules))
                if differences or modules or run.code != results.reference_code:
                    details.append((results.suite.name, run, differences + modules))
                differing += bool(differences or run.code != results.reference_code)
            ok &= differing == 0
            verdict = "identical" if differing == 0 else f"DIFFERENT in {differing}/{len(runs)}"
            if module_records:
                verdict += f"; {module_records} module-skip records differ"
            print(f"| {results.suite.name} | {config} | {len(runs)} | {statistics.median(walls):.1f} s | "
                  f"{min(walls):.1f}-{max(walls):.1f} s | {speedup} | {ratio} | {anchor} | {peak} | {cpu} | {foreign} | "
                  f"{','.join(map(str, codes))} | {verdict} |")
    noisy = []
    for results in all_results:
        seen: dict[str, int] = {}
        for run in results.runs:
            seen[run.config] = seen.get(run.config, 0) + 1
            if run.foreign_cpu > NOISE_SECONDS:
                noisy.append(f"{results.suite.name} {run.config} #{seen[run.config]} ({run.foreign_cpu:.0f} s)")
    if noisy:
        print()
        print(f"NOISY: other processes used over {NOISE_SECONDS} s of CPU during: {', '.join(noisy)}; "
              "rerun on a quiet machine before trusting those figures")
    print()
    for results in all_results:
        print(f"{results.suite.name}: serial reference {len(results.reference)} testcases "
              f"({counts(results.reference)}), exit {results.reference_code}")
    if details:
        print()
        print("outcome or exit code differences (reference: the warm-up serial run):")
        for suite, run, differences in details:
            print(f"- {suite} {run.config}: exit {run.code}, {len(differences)} testcases differ; log {run.log}")
            for line in differences[:15]:
                print(f"    {line}")
            if len(differences) > 15:
                print(f"    ... and {len(differences) - 15} more")
    else:
        print("identical outcomes for every test in every run, and the same exit codes")
    print(f"({MODULE_SKIP}: pytest's JUnit record of a whole module skipped at import, e.g. by a "
          "module-level importorskip; no test of it was collected, so it is reported apart)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rxdist", type=Path, default=ROOT / "target/release/rxdist")
    parser.add_argument("--suite", choices=("generated", "networkx", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each parallel configuration")
    parser.add_argument("--serial-repeat", type=int, default=1,
                        help="measured serial runs (besides the warm-up): serial is context only")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=ROOT / "target/bench-run-compare",
                        help="where JUnit reports, logs and histories go")
    parser.add_argument("--skip-rxdist", action="store_true",
                        help="serial and xdist only (checks the suites without rxdist run)")
    options = parser.parse_args()
    options.rxdist = options.rxdist.resolve()
    options.work = options.work.resolve()
    venv_bin = Path(sys.executable).parent
    env = environment(venv_bin)
    if not options.skip_rxdist and not options.rxdist.is_file():
        sys.exit(f"{options.rxdist} not found: cargo build --release")

    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("pytest", "pytest-xdist", "networkx"))
    print(f"rxdist run vs pytest-xdist: {os.cpu_count()} cores, Python {platform.python_version()}, {versions}")
    print(f"{options.workers} workers; {options.repeat} runs per parallel configuration, interleaved; "
          f"{options.serial_repeat} measured serial run(s) after a warm-up; medians")
    started = time.monotonic()
    all_results = [benchmark(suite, options, env) for suite in suites(options.suite)]
    ok = report(all_results, options)
    print(f"({time.monotonic() - started:.0f}s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
