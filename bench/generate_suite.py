#!/usr/bin/env python3
"""Writes a deterministic synthetic pytest project for bench/run_compare.py.

The project (default target/bench-suites/generated/) has 5,200 tests over 240 files in 10
areas and 30 directories, shaped like a real application's suite:

- durations are long-tailed: most tests take 1-20 ms (lognormal, scaled per file), about 8%
  take 20-100 ms, about 1.3% 100 ms-1 s, and five take several seconds; slow tests cluster in
  the integration-like areas, as they do in real suites;
- about 40% of the time is CPU-bound (a fixed number of interpreter loop iterations, so two
  workers really compete for two cores), the rest is time.sleep (I/O-bound);
- module import cost: some modules sleep or spin at import, many import heavy stdlib modules;
- fixtures with setup cost: an autouse session fixture, module-scoped fixtures in some files,
  a cheap function-scoped fixture used by many tests, a unittest class with setUpClass;
- deterministic non-pass outcomes: skips (marker, skipif, inside the test, a whole module
  skipped at import), xfails (strict and not), non-strict and strict xpasses, failures, setup
  errors and one teardown error. Nothing depends on time, order or randomness at run time.

The same seed gives byte-identical files. A stamp holding the sha256 of this script skips the
rewrite when nothing changed. Serial wall time is about 100 s on the project's 2-core machine
(the CPU work is sized for about 13,000 loop iterations per millisecond).

Usage: bench/generate_suite.py [--dest DIR] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = ROOT / "target/bench-suites/generated"
SEED = 20261123
FILES = 240
TESTS = 5200
ITERATIONS_PER_MS = 13_000
AREAS = ("api", "auth", "billing", "cli", "core", "db", "integration", "io", "search", "utils")
SLOW_AREAS = ("db", "integration", "search")
HEAVY_IMPORTS = (
    "asyncio", "decimal", "email.mime.multipart", "http.client", "xml.dom.minidom", "sqlite3",
    "unittest.mock", "concurrent.futures", "csv", "logging.handlers", "urllib.request",
    "difflib", "tarfile", "zipfile", "statistics", "fractions", "argparse", "inspect",
)


@dataclass
class Test:
    name: str
    sleep_ms: float
    cpu_ms: float
    outcome: str = "passed"  # passed failed error skipped xfailed xpassed
    how: str = ""  # how a non-pass outcome is produced
    uses_workspace: bool = False
    prints: bool = False


@dataclass
class Module:
    path: str
    tests: list[Test] = field(default_factory=list)
    import_sleep_ms: float = 0.0
    import_cpu_ms: float = 0.0
    imports: tuple[str, ...] = ()
    module_fixture_ms: float = 0.0
    style: str = "functions"  # functions | class | params | unittest
    skip_module: bool = False


def duration_ms(rng: random.Random, file_factor: float, slow_area: bool) -> float:
    """One test's duration: a lognormal body, a 20-100 ms shoulder and a 100 ms-1 s tail."""
    draw = rng.random()
    tail = 0.022 if slow_area else 0.005
    shoulder = 0.14 if slow_area else 0.07
    if draw < tail:
        return math.exp(rng.uniform(math.log(100), math.log(1000)))
    if draw < tail + shoulder:
        return math.exp(rng.uniform(math.log(20), math.log(100)))
    return min(40.0, max(0.3, rng.lognormvariate(math.log(2.3), 0.85) * file_factor))


def plan(rng: random.Random) -> list[Module]:
    directories = []
    for area in AREAS:
        for sub in rng.sample(("models", "views", "helpers", "services", "edge", "unit"), 3):
            directories.append(f"tests/{area}/{sub}")
    # Tests per file: lognormal weights, at least 2 per file, exactly TESTS in all.
    weights = [rng.lognormvariate(0, 0.8) for _ in range(FILES)]
    counts = [2 + int((TESTS - 2 * FILES) * w / sum(weights)) for w in weights]
    for i in range(TESTS - sum(counts)):
        counts[i % FILES] += 1
    modules = []
    names_used: dict[str, int] = {}
    for number, count in enumerate(counts):
        directory = directories[number % len(directories)] if number < len(directories) else rng.choice(directories)
        stem = rng.choice(("models", "views", "parse", "render", "cache", "queue", "client", "schema",
                           "export", "import", "rules", "limits", "session", "tokens", "report"))
        key = f"{directory}/test_{stem}"
        names_used[key] = names_used.get(key, 0) + 1
        suffix = f"_{names_used[key]}" if names_used[key] > 1 else ""
        module = Module(path=f"{key}{suffix}.py")
        area = directory.split("/")[1]
        slow = area in SLOW_AREAS
        factor = rng.lognormvariate(0, 0.5)
        cpu_share = 0.8 if rng.random() < 0.4 else 0.12
        module.style = rng.choices(("functions", "class", "params", "unittest"), (45, 30, 24, 1))[0]
        if rng.random() < 0.15:
            module.import_sleep_ms = rng.uniform(50, 250)
        if rng.random() < 0.08:
            module.import_cpu_ms = rng.uniform(30, 150)
        module.imports = tuple(sorted(rng.sample(HEAVY_IMPORTS, rng.randint(0, 4))))
        if module.style != "unittest" and rng.random() < 0.08:
            module.module_fixture_ms = rng.uniform(100, 400)
        for index in range(count):
            total = duration_ms(rng, factor, slow)
            cpu = total * cpu_share
            module.tests.append(Test(
                name=f"test_{stem}_{index}", sleep_ms=total - cpu, cpu_ms=cpu,
                uses_workspace=module.style != "unittest" and rng.random() < 0.3,
                prints=rng.random() < 0.05,
            ))
        modules.append(module)

    # A few tests of several seconds (one CPU-bound), in the slow areas.
    slow_modules = [m for m in modules if m.path.split("/")[1] in SLOW_AREAS and m.style != "unittest"]
    for seconds, cpu in ((5.0, 0.0), (4.0, 0.0), (3.0, 3.0), (2.5, 0.5), (2.0, 0.0)):
        test = rng.choice(rng.choice(slow_modules).tests)
        test.sleep_ms, test.cpu_ms = (seconds - cpu) * 1000, cpu * 1000

    # Deterministic non-pass outcomes, on tests of "functions" or "class" modules.
    candidates = [t for m in modules if m.style in ("functions", "class") for t in m.tests if t.outcome == "passed"]
    picks = iter(rng.sample(candidates, 60))
    for outcome, how, times in (
        ("skipped", "marker", 8), ("skipped", "skipif", 6), ("skipped", "inside", 6),
        ("xfailed", "xfail", 8), ("xfailed", "xfail-raises", 3), ("xfailed", "xfail-strict", 2),
        ("passed", "xpass", 2), ("failed", "xpass-strict", 1),
        ("failed", "assert", 5), ("failed", "exception", 2),
        ("error", "setup", 2), ("error", "teardown", 1),
    ):
        for _ in range(times):
            test = next(picks)
            test.outcome, test.how = outcome, how
            test.uses_workspace = False
    skipped = rng.choice([m for m in modules if m.style == "functions" and all(t.outcome == "passed" for t in m.tests)])
    skipped.skip_module = True
    return modules


def body(test: Test, indent: str) -> list[str]:
    lines = []
    if test.how == "inside":
        lines.append(f"{indent}pytest.skip('backend not configured in this environment')")
    if test.prints:
        lines.append(f"{indent}print('checking {test.name}')")
    lines.append(f"{indent}value = work({test.sleep_ms:.3f}, {round(test.cpu_ms * ITERATIONS_PER_MS)})")
    if test.how in ("assert", "xfail", "xfail-strict"):
        lines.append(f"{indent}assert value == checksum(-1), 'checksum mismatch'")
    elif test.how in ("exception", "xfail-raises"):
        lines.append(f"{indent}raise KeyError('missing key {test.name}')")
    else:
        lines.append(f"{indent}assert value == value")
    return lines


def decorators(test: Test) -> list[str]:
    return {
        "marker": ["@pytest.mark.skip(reason='not supported yet')"],
        "skipif": ["@pytest.mark.skipif(sys.version_info >= (3,), reason='legacy python only')"],
        "xfail": ["@pytest.mark.xfail(reason='known bug')"],
        "xfail-raises": ["@pytest.mark.xfail(raises=KeyError, reason='known missing key')"],
        "xfail-strict": ["@pytest.mark.xfail(strict=True, reason='known bug, strict')"],
        "xpass": ["@pytest.mark.xfail(reason='fixed upstream, marker left')"],
        "xpass-strict": ["@pytest.mark.xfail(strict=True, reason='fixed upstream, strict marker left')"],
    }.get(test.how, [])


def arguments(test: Test, module: Module, method: bool) -> str:
    names = ["self"] if method else []
    if test.uses_workspace:
        names.append("workspace")
    if module.module_fixture_ms:
        names.append("dataset")
    if test.how == "setup":
        names.append("broken_service")
    if test.how == "teardown":
        names.append("leaky_resource")
    return ", ".join(names)


def render(module: Module) -> str:
    out = [f'"""Generated benchmark tests: {module.path}."""', "", "import sys", ""]
    out += [f"import {name}  # noqa: F401" for name in module.imports]
    out += ["import pytest", "", "from benchlib import checksum, spin, work", ""]
    if module.skip_module:
        out += ["pytest.importorskip('rxdist_bench_optional_dependency')", ""]
    if module.import_sleep_ms or module.import_cpu_ms:
        out += ["# Import-time cost, like a module that builds tables or connects at import."]
        if module.import_sleep_ms:
            out += ["import time", "", f"time.sleep({module.import_sleep_ms / 1000:.4f})"]
        if module.import_cpu_ms:
            out += [f"TABLE = spin({round(module.import_cpu_ms * ITERATIONS_PER_MS)})"]
        out += [""]
    if module.module_fixture_ms:
        out += ["", "@pytest.fixture(scope='module')", "def dataset():",
                f"    return work({module.module_fixture_ms:.3f}, {round(module.module_fixture_ms * 0.5 * ITERATIONS_PER_MS)})", ""]
    out += [""]
    if module.style == "params":
        table = ", ".join(f"({t.sleep_ms:.3f}, {round(t.cpu_ms * ITERATIONS_PER_MS)})" for t in module.tests)
        fixture = ", dataset" if module.module_fixture_ms else ""
        out += [f"CASES = [{table}]", "", "",
                "@pytest.mark.parametrize('case', range(len(CASES)), ids=lambda i: f'case{i}')",
                f"def test_{Path(module.path).stem[5:]}_table(case{fixture}):",
                "    sleep_ms, iterations = CASES[case]",
                "    value = work(sleep_ms, iterations)",
                "    assert value == value", ""]
    elif module.style == "unittest":
        out += ["import unittest", "", "",
                f"class {camel(module.path)}Case(unittest.TestCase):",
                "    @classmethod", "    def setUpClass(cls):", "        cls.state = work(120.0, 60000)", ""]
        for test in module.tests:
            out += [f"    def {test.name}(self):", *body(test, " " * 8), ""]
    elif module.style == "class":
        out += [f"class Test{camel(module.path)}:"]
        for test in module.tests:
            out += [f"    {line}" for line in decorators(test)]
            out += [f"    def {test.name}({arguments(test, module, True)}):", *body(test, " " * 8), ""]
    else:
        for test in module.tests:
            out += decorators(test)
            out += [f"def {test.name}({arguments(test, module, False)}):", *body(test, "    "), "", ""]
    return "\n".join(out).rstrip() + "\n"


def camel(path: str) -> str:
    return "".join(part.capitalize() for part in Path(path).stem[5:].split("_"))


CONFTEST = '''\
"""Shared fixtures of the generated benchmark suite."""

import pytest

from benchlib import work


@pytest.fixture(scope="session", autouse=True)
def service():
    """A per-process service start, paid once by every pytest process."""
    work(250.0, 650000)
    yield "service"


@pytest.fixture
def workspace(tmp_path):
    """A cheap per-test fixture with a little setup."""
    (tmp_path / "settings.ini").write_text("[main]\\nmode = test\\n")
    work(1.5, 6500)
    return tmp_path


@pytest.fixture
def broken_service():
    raise ConnectionRefusedError("service on port 5999 refused the connection")


@pytest.fixture
def leaky_resource():
    yield "resource"
    raise RuntimeError("resource still held at teardown")
'''

BENCHLIB = '''\
"""Helpers of the generated benchmark suite: CPU and I/O work of a fixed size."""

import time


def spin(iterations):
    """CPU-bound work: a fixed number of interpreter loop iterations."""
    x = 0
    for i in range(iterations):
        x = (x * 31 + i) & 0xFFFF
    return x


def work(sleep_ms, iterations):
    """I/O-bound part (sleep) then CPU-bound part; returns a value the test can check."""
    if sleep_ms:
        time.sleep(sleep_ms / 1000)
    return spin(iterations)


def checksum(seed):
    return seed * 7 + 3
'''

PYTEST_INI = '''\
[pytest]
testpaths = tests
pythonpath = .
python_files = test_*.py
'''


def expected(modules: list[Module]) -> dict:
    outcomes: dict[str, int] = {}
    for module in modules:
        if module.skip_module:  # one skipped collection report stands for the whole file
            outcomes["skipped"] = outcomes.get("skipped", 0) + 1
            continue
        for test in module.tests:
            outcomes[test.outcome] = outcomes.get(test.outcome, 0) + 1
    ms = sum(t.sleep_ms + t.cpu_ms for m in modules for t in m.tests)
    ms += sum(m.import_sleep_ms + m.import_cpu_ms + m.module_fixture_ms for m in modules)
    cpu = sum(t.cpu_ms for m in modules for t in m.tests) + sum(m.import_cpu_ms + m.module_fixture_ms * 0.5 for m in modules)
    return {
        "tests": sum(len(m.tests) for m in modules),
        "testcases_in_junit": sum(outcomes.values()),
        "files": len(modules),
        "directories": len({str(Path(m.path).parent) for m in modules}),
        "outcomes": dict(sorted(outcomes.items())),
        "work_seconds": round(ms / 1000, 1),
        "cpu_share": round(cpu / ms, 2),
        "slowest_seconds": sorted((round((t.sleep_ms + t.cpu_ms) / 1000, 2) for m in modules for t in m.tests), reverse=True)[:8],
    }


def generate(dest: Path = DEFAULT_DEST, force: bool = False) -> dict:
    """Writes the suite into dest unless its stamp matches; returns the summary."""
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    stamp = dest / ".generator-sha256"
    summary_file = dest / "summary.json"
    if not force and stamp.is_file() and stamp.read_text().strip() == digest and summary_file.is_file():
        return json.loads(summary_file.read_text())
    modules = plan(random.Random(SEED))
    staging = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "pytest.ini").write_text(PYTEST_INI)
    (staging / "conftest.py").write_text(CONFTEST)
    (staging / "benchlib.py").write_text(BENCHLIB)
    for module in modules:
        path = staging / module.path
        path.parent.mkdir(parents=True, exist_ok=True)
        for package in [path.parent, *path.parent.parents]:
            if package == staging:
                break
            (package / "__init__.py").touch()
        path.write_text(render(module))
    summary = expected(modules)
    (staging / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    (staging / ".generator-sha256").write_text(digest + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST)
    parser.add_argument("--force", action="store_true", help="rewrite even if the stamp matches")
    options = parser.parse_args()
    print(json.dumps(generate(options.dest, options.force), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
