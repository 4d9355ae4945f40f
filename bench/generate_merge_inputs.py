#!/usr/bin/env python3
"""Writes the deterministic inputs of bench/merge_compare.py (the `rxdist merge` benchmark).

Three data sets, each in its own directory under target/bench-merge/data/ (never committed):

- junit: 1,000,000 testcases over 200 shard files, the way CI shards leave them.
  140 files are shaped like pytest's report (one line, `<testsuites name="pytest tests">`
  around one `<testsuite name="pytest">`, so the same suite repeats in every file; xunit2
  classnames `pkg.module.Class.Nested`, parametrize ids, `<skipped type="pytest.skip">`,
  xfails, setup errors, a call failure followed by a teardown error for the same id as pytest
  writes it, captured output in some testcases). 60 files are shaped like Maven Surefire's
  (pretty-printed, one `<testsuite>` per class with ~40 `<properties>` each, CDATA stack
  traces and output, `<flakyFailure>`, JUnit 5 parameter names; a class split over two
  consecutive shards gives the same suite in both). About 2% of the testcases fail with a
  multi-line message and a traceback, about 3% are skipped; a few hundred failures reappear as
  passes in the next shard (a retried test), and one Surefire suite carries a wrong `tests`
  counter (a producer's bug). Test names and durations come from the real pytest-split
  history of OneGov/onegov-cloud in ../shared/bench-data/ (read by path; every id seen in any
  of its versions), replicated over 200-odd packages; without that file, from word lists.
- big: one pytest-shaped file whose testcase holds a 1 GiB `<system-out>` (escaped log lines
  with entities), plus two ordinary 500-testcase shards to merge it with.
- cobertura: 50 shard files of about 20 MB each, shaped like coverage.py 7's `coverage xml`
  with branch coverage (tab-indented, `<sources>`, one `<package>` per directory, one `<class>`
  per file, `hits` 0/1, `branch="true" condition-coverage="50% (1/2)" missing-branches="..."`,
  `exit` destinations). Every shard runs from a different checkout root, so the same file has
  a different `<source>` in each; most files appear in every shard with a different hit set
  (what that shard's tests executed), some with no hits (measured source never imported) and
  a few only in the shards that imported them.

`--scale` shrinks every data set (testcase count, system-out size, files of the project) for a
quick run; file counts (200 JUnit shards, 50 Cobertura shards) stay the same.

Each directory holds a manifest.json with the generator's hash, the parameters and the truth
the benchmark checks outputs against (testcase and outcome counts; for Cobertura the exact
`coverage combine` totals: the union of lines, of covered lines and of taken branches). The
same seed and scale give byte-identical files; a directory whose manifest matches is reused.

Usage: bench/generate_merge_inputs.py [--only junit|big|cobertura] [--scale S] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "target/bench-merge/data"


def bench_data() -> Path:
    """shared/bench-data/onegov-cloud.jsonl.zst beside the checkout or beside one of its parents
    (a git worktree), as bench/drift_replay.py finds it."""
    for parent in ROOT.parents:
        candidate = parent / "shared/bench-data/onegov-cloud.jsonl.zst"
        if candidate.is_file():
            return candidate
    return ROOT.parent / "shared/bench-data/onegov-cloud.jsonl.zst"


BENCH_DATA = bench_data()
SEED = 20261124
KINDS = ("junit", "big", "cobertura")

JUNIT_TESTCASES = 1_000_000
JUNIT_FILES = 200
SUREFIRE_FILES = 60  # the last 60 shards are Surefire-shaped, the first 140 pytest-shaped
BIG_BYTES = 1 << 30
BIG_COMPANION_TESTCASES = 500
COBERTURA_SHARDS = 50
COBERTURA_SOURCE_FILES = 2_100

HOSTS = ("fv-az512-331", "fv-az771-20", "fv-az1024-117", "fv-az335-905", "runner-7f3c", "runner-02ab",
         "ip-10-0-3-17", "ip-10-0-9-201")
ROOTS = ("/home/runner/work/acme/acme", "/builds/platform/acme", "/var/lib/jenkins/workspace/acme@{k}",
         "/tmp/ci-shard-{k}/acme", "/Users/runner/work/acme/acme", "/srv/buildkite/builds/agent-{k}/acme/acme",
         "/home/circleci/project", "/opt/atlassian/pipelines/agent/build")
WORDS = ("account", "activity", "api", "archive", "auth", "ballot", "billing", "cache", "calendar",
         "cli", "core", "directory", "election", "event", "export", "feriennet", "file", "form",
         "gazette", "import", "invoice", "layout", "mail", "newsletter", "org", "page", "parser",
         "payment", "people", "person", "reservation", "search", "security", "settings", "sms",
         "swissvotes", "ticket", "town", "upload", "user", "views", "websockets", "wiki")
PARAMS = (("sqlite", "postgres"), ("en_US", "de_CH", "fr_CH", "it_CH"), ("True", "False"),
          ("0", "1", "2", "5", "10", "100"), ("get", "post", "put", "delete"),
          ("admin", "editor", "member", "anonymous"), ("utf-8", "latin-1", "ascii"))
JAVA_PROPERTIES = (
    ("java.runtime.name", "OpenJDK Runtime Environment"), ("sun.boot.library.path", "/opt/java/openjdk/lib"),
    ("java.vm.version", "17.0.9+9"), ("java.vm.vendor", "Eclipse Adoptium"), ("maven.multiModuleProjectDirectory", "{root}"),
    ("java.vendor.url", "https://adoptium.net/"), ("guice.disable.misplaced.annotation.check", "true"),
    ("path.separator", ":"), ("java.vm.name", "OpenJDK 64-Bit Server VM"), ("user.country", "US"),
    ("sun.java.launcher", "SUN_STANDARD"), ("java.vm.specification.name", "Java Virtual Machine Specification"),
    ("user.dir", "{root}"), ("java.vm.compressedOopsMode", "Zero based"), ("java.runtime.version", "17.0.9+9"),
    ("os.arch", "amd64"), ("java.io.tmpdir", "/tmp"), ("line.separator", "&#10;"),
    ("java.vm.specification.vendor", "Oracle Corporation"), ("os.name", "Linux"),
    ("maven.conf", "/usr/share/maven/conf"), ("sun.jnu.encoding", "UTF-8"),
    ("java.library.path", "/usr/java/packages/lib:/usr/lib64:/lib64:/lib:/usr/lib"),
    ("maven.build.version", "Apache Maven 3.9.6 (bc0240f3c744dd6b6ec2920b3cd08dcc295161ae)"),
    ("java.class.version", "61.0"), ("java.specification.name", "Java Platform API Specification"),
    ("sun.management.compiler", "HotSpot 64-Bit Tiered Compilers"), ("os.version", "6.5.0-1025-azure"),
    ("library.jansi.path", "/usr/share/maven/lib/jansi-native"), ("user.home", "/home/runner"),
    ("user.timezone", "Etc/UTC"), ("file.encoding", "UTF-8"), ("java.specification.version", "17"),
    ("user.name", "runner"), ("java.class.path", "/usr/share/maven/boot/plexus-classworlds-2.7.0.jar"),
    ("java.vm.specification.version", "17"), ("sun.arch.data.model", "64"),
    ("java.home", "/opt/java/openjdk"), ("sun.java.command", "org.codehaus.plexus.classworlds.launcher.Launcher -B test"),
    ("java.specification.vendor", "Oracle Corporation"), ("file.separator", "/"), ("java.version", "17.0.9"),
)


def script_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def attr(text: str) -> str:
    """Escapes text for a double-quoted XML attribute, newlines as character references."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;"))


def body(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


# ---------------------------------------------------------------------------------------------
# Test vocabulary


def vocabulary() -> list[tuple[str, str, float]]:
    """(file path, test name, seconds) of every pytest id in the real history, or a synthetic list."""
    found: dict[str, float] = {}
    if BENCH_DATA.is_file():
        text = subprocess.run(["zstd", "-dc", "--long=27", str(BENCH_DATA)], capture_output=True, check=True).stdout
        for line in text.splitlines():
            for test_id, seconds in json.loads(line)["durations"].items():
                found[test_id] = seconds
    if not found:
        rng = random.Random(SEED)
        for number in range(6000):
            area, sub = rng.choice(WORDS), rng.choice(WORDS)
            found[f"tests/{area}/test_{sub}_{number % 400}.py::test_{rng.choice(WORDS)}_{number}"] = rng.lognormvariate(-1, 1.3)
    tests = []
    for test_id in sorted(found):
        path, _, name = test_id.partition("::")
        if "::" in name or "[" in name:
            name = name.split("::")[-1].split("[")[0]  # keep the base name; parameters are added below
        tests.append((path, name, max(0.0001, found[test_id])))
    # One entry per (path, name): the parametrized variants of the source collapse into one base.
    unique = {}
    for path, name, seconds in tests:
        unique.setdefault((path, name), seconds)
    return [(path, name, seconds) for (path, name), seconds in unique.items()]


def modules(vocab: list[tuple[str, str, float]]):
    """Yields (replica, path, [(name, seconds)]) forever: the vocabulary's modules, replicated."""
    by_path: dict[str, list[tuple[str, float]]] = {}
    for path, name, seconds in vocab:
        by_path.setdefault(path, []).append((name, seconds))
    paths = sorted(by_path)
    replica = 0
    while True:
        for path in paths:
            yield replica, path, by_path[path]
        replica += 1


def camel(words: str) -> str:
    parts = [p for p in words.replace("-", "_").split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)


class Testcase:
    """One generated testcase, in neutral form; rendered as pytest or Surefire XML."""

    __slots__ = ("module", "klass", "name", "params", "param_index", "seconds", "outcome", "detail", "stdout", "flaky")

    def __init__(self, module, klass, name, params, param_index, seconds, outcome, detail, stdout, flaky):
        self.module, self.klass, self.name, self.params, self.param_index = module, klass, name, params, param_index
        self.seconds, self.outcome, self.detail, self.stdout, self.flaky = seconds, outcome, detail, stdout, flaky

    def pytest_id(self) -> tuple[str, str]:
        classname = self.module.replace("/", ".").removesuffix(".py")
        if self.klass:
            classname += "." + self.klass
        name = self.name + (f"[{self.params}]" if self.params else "")
        return classname, name

    def surefire_id(self) -> tuple[str, str]:
        parts = self.module.removesuffix(".py").split("/")
        leaf = camel(parts[-1].removeprefix("test_")) + "Test"
        classname = "org." + ".".join(p for p in parts[:-1] if p != "tests") + "." + leaf
        if self.klass:
            classname += "$" + "$".join(camel(k.removeprefix("Test")) + "Tests" for k in self.klass.split("."))
        method = self.name.removeprefix("test_")
        method = method[:1] + camel(method)[1:] if method else "test"
        if self.params:
            return classname, f"{method}(String)[{self.param_index + 1}]"
        return classname, f"{method}()"


def make_testcases(rng: random.Random, replica: int, path: str, tests: list[tuple[str, float]]) -> list[Testcase]:
    """The testcases of one module of one replica: classes, parameters and outcomes drawn from rng."""
    module = path if replica == 0 else f"pkg{replica:03d}/{path}"
    klass_of_module = None
    if rng.random() < 0.35:
        klass_of_module = "Test" + camel(Path(path).stem.removeprefix("test_"))
    nested_from = len(tests) - rng.randint(1, 6) if klass_of_module and rng.random() < 0.3 else len(tests)
    nested = f"{klass_of_module}.Test{camel(rng.choice(WORDS))}"
    out = []
    for position, (name, seconds) in enumerate(tests):
        # The last few tests of some classes sit in a nested class (pytest's Outer.Inner).
        klass = nested if position >= nested_from else klass_of_module
        expansions = 1 if rng.random() < 0.7 else rng.choice((2, 2, 3, 4, 4, 6, 8, 12))
        axes = rng.sample(PARAMS, 2)
        for index in range(expansions):
            params = ""
            if expansions > 1:
                first, second = axes
                params = f"{first[index % len(first)]}-{second[index // len(first) % len(second)]}"
                if index >= len(first) * len(second) or rng.random() < 0.1:
                    params += f"-case{index}"  # keeps every id unique, as pytest does
            duration = seconds * rng.uniform(0.5, 1.6) / (expansions ** 0.5)
            draw = rng.random()
            outcome, detail = "passed", ""
            if draw < 0.02:
                outcome = "failed"
            elif draw < 0.023:
                outcome = "error"
            elif draw < 0.047:
                outcome = "skipped"
                detail = rng.choice(("requires postgres >= 16", "no network in this environment",
                                     "slow test, run with --runslow", "platform is not windows",
                                     "optional dependency 'lxml' is not installed"))
            elif draw < 0.053:
                outcome = "xfail"
                detail = f"known issue #{rng.randint(100, 9999)}"
            stdout = ""
            if rng.random() < 0.012:
                stdout = "\n".join(f"{rng.choice(('INFO', 'DEBUG', 'WARNING'))} {rng.choice(WORDS)}.{rng.choice(WORDS)}: "
                                   f"handled request id={rng.getrandbits(48):x} in {rng.randint(1, 900)} ms <ok>"
                                   for _ in range(rng.randint(1, 25)))
            flaky = outcome == "passed" and rng.random() < 0.002
            out.append(Testcase(module, klass, name, params, index, duration, outcome, detail, stdout, flaky))
    return out


def traceback(rng: random.Random, case: Testcase) -> tuple[str, str]:
    """(message, text) of a pytest assertion failure with a multi-line traceback."""
    want, got = rng.randint(0, 50), rng.randint(51, 99)
    message = f"AssertionError: assert {got} == {want}\n +  where {got} = len([<Item {rng.choice(WORDS)}>, ...])"
    lines = [f"{rng.choice(WORDS)}_session = <sqlalchemy.orm.session.Session object at 0x7f{rng.getrandbits(40):010x}>",
             "", f"    def {case.name}({rng.choice(WORDS)}_session):"]
    for _ in range(rng.randint(3, 18)):
        lines.append(f"        {rng.choice(WORDS)} = {rng.choice(WORDS)}_session.query({camel(rng.choice(WORDS))})"
                     f".filter_by({rng.choice(WORDS)}={rng.randint(0, 999)!r}).all()")
    lines += [f">       assert len(items) == {want}", f"E       {message.splitlines()[0]}",
              f"E       {message.splitlines()[1]}", "", f"{case.module}:{rng.randint(10, 900)}: AssertionError"]
    return message, "\n".join(lines)


def java_trace(rng: random.Random, classname: str, kind: str) -> str:
    frames = [f"{kind}: expected: <{rng.randint(0, 50)}> but was: <{rng.randint(51, 99)}>"]
    frames += [f"\tat org.junit.jupiter.api.AssertionFailureBuilder.build(AssertionFailureBuilder.java:{rng.randint(100, 200)})",
               f"\tat org.junit.jupiter.api.AssertEquals.assertEquals(AssertEquals.java:{rng.randint(100, 200)})"]
    frames += [f"\tat {classname}.{rng.choice(WORDS)}({classname.rsplit('.', 1)[-1].split('$')[0]}.java:{rng.randint(20, 400)})"
               for _ in range(rng.randint(1, 4))]
    frames += ["\tat java.base/java.lang.reflect.Method.invoke(Method.java:568)",
               "\tat org.junit.platform.commons.util.ReflectionUtils.invokeMethod(ReflectionUtils.java:728)"] * rng.randint(2, 8)
    return "\n".join(frames)


# ---------------------------------------------------------------------------------------------
# JUnit writers


def pytest_testcase(rng: random.Random, case: Testcase, teardown_error: bool) -> str:
    classname, name = case.pytest_id()
    head = f'<testcase classname="{attr(classname)}" name="{attr(name)}" time="{case.seconds:.3f}"'
    inner = ""
    if case.outcome == "failed":
        message, text = traceback(rng, case)
        inner = f'<failure message="{attr(message)}">{body(text)}</failure>'
    elif case.outcome == "error":
        fixture = f"{rng.choice(WORDS)}_{rng.choice(WORDS)}"
        inner = (f'<error message="failed on setup with &quot;fixture \'{fixture}\' not found&quot;">'
                 f"file {case.module}, line {rng.randint(5, 500)}\n  def {case.name}({fixture}):\nE       fixture "
                 f"'{fixture}' not found\n&gt;       available fixtures: cache, capfd, caplog, monkeypatch, tmp_path"
                 f"\n&gt;       use 'pytest --fixtures [testpath]' for help on them.</error>")
    elif case.outcome == "skipped":
        inner = f'<skipped type="pytest.skip" message="{attr(case.detail)}">{case.module}:{rng.randint(5, 500)}: {body(case.detail)}</skipped>'
    elif case.outcome == "xfail":
        inner = f'<skipped type="pytest.xfail" message="{attr(case.detail)}" />'
    if case.stdout:
        inner += f"<system-out>--------------------------------- Captured Log ---------------------------------\n{body(case.stdout)}</system-out>"
        if rng.random() < 0.3:
            inner += f"<system-err>{body(case.stdout.splitlines()[0])}\n</system-err>"
    record = head + (f">{inner}</testcase>" if inner else " />")
    if teardown_error:
        record += (f'{head}><error message="failed on teardown with &quot;AssertionError: '
                   f'connection leaked&quot;">def teardown():\n&gt;       assert pool.checkedout() == 0\n'
                   f"E       AssertionError: connection leaked\n\n{case.module}:12: AssertionError</error></testcase>")
    return record


def counters(cases: list[Testcase], extra: list[bool]) -> dict[str, int]:
    tally = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for case, pair in zip(cases, extra):
        tally["tests"] += 1 + pair
        tally["failures"] += case.outcome == "failed"
        tally["errors"] += (case.outcome == "error") + pair
        tally["skipped"] += case.outcome in ("skipped", "xfail")
    return tally


def write_pytest_file(path: Path, rng: random.Random, cases: list[Testcase], pairs: list[bool], host: str, stamp: str) -> None:
    tally = counters(cases, pairs)
    seconds = sum(c.seconds for c in cases)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
                  f'<testsuite name="pytest" errors="{tally["errors"]}" failures="{tally["failures"]}" '
                  f'skipped="{tally["skipped"]}" tests="{tally["tests"]}" time="{seconds:.3f}" '
                  f'timestamp="{stamp}" hostname="{host}">')
        out.write("".join(pytest_testcase(rng, case, pair) for case, pair in zip(cases, pairs)))
        out.write("</testsuite></testsuites>")


def surefire_testcase(rng: random.Random, case: Testcase) -> str:
    classname, name = case.surefire_id()
    head = f'    <testcase name="{attr(name)}" classname="{attr(classname)}" time="{case.seconds:.3f}"'
    inner = []
    if case.outcome == "failed":
        trace = java_trace(rng, classname, "org.opentest4j.AssertionFailedError")
        inner.append(f'      <failure message="{attr(trace.splitlines()[0].split(": ", 1)[1])}" '
                     f'type="org.opentest4j.AssertionFailedError">{cdata(trace)}</failure>')
        if rng.random() < 0.3:  # rerunFailingTestsCount: the reruns failed too
            inner.append(f'      <rerunFailure message="expected: &lt;1&gt; but was: &lt;2&gt;" '
                         f'type="org.opentest4j.AssertionFailedError">\n        <stackTrace>{cdata(trace)}</stackTrace>\n      </rerunFailure>')
    elif case.outcome == "error":
        trace = java_trace(rng, classname, "java.lang.IllegalStateException")
        inner.append(f'      <error message="Failed to load ApplicationContext" type="java.lang.IllegalStateException">{cdata(trace)}</error>')
    elif case.outcome in ("skipped", "xfail"):
        inner.append(f'      <skipped message="{attr(case.detail)}"/>')
    if case.flaky:
        trace = java_trace(rng, classname, "org.opentest4j.AssertionFailedError")
        inner.append(f'      <flakyFailure message="{attr(trace.splitlines()[0].split(": ", 1)[1])}" '
                     f'type="org.opentest4j.AssertionFailedError">\n        <stackTrace>{cdata(trace)}</stackTrace>\n'
                     f"        <system-out>{cdata('first attempt' + chr(10) + case.stdout)}</system-out>\n      </flakyFailure>")
    if case.stdout:
        text = case.stdout
        if rng.random() < 0.05:
            text += "\nprinted a CDATA terminator ]]> in the middle of the output"
        inner.append(f"      <system-out>{cdata(text)}</system-out>")
    if not inner:
        return head + "/>\n"
    return head + ">\n" + "\n".join(inner) + "\n    </testcase>\n"


def write_surefire_file(path: Path, rng: random.Random, cases: list[Testcase], host: str, stamp: str, wrong_counter: bool, root: str) -> int:
    """Writes one Surefire-shaped shard: one suite per run of testcases with the same class.
    Returns how much the suites' `tests` counters overstate the testcases (a producer's bug)."""
    properties = "".join(f'      <property name="{k}" value="{v.format(root=root)}"/>\n' for k, v in JAVA_PROPERTIES)
    groups: list[list[Testcase]] = []
    for case in cases:
        if groups and groups[-1][0].surefire_id()[0] == case.surefire_id()[0]:
            groups[-1].append(case)
        else:
            groups.append([case])
    overstated = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n')
        for number, group in enumerate(groups):
            tally = counters(group, [False] * len(group))
            if wrong_counter and number == len(groups) // 2:
                tally["tests"] += 5
                overstated = 5
            classname = group[0].surefire_id()[0]
            out.write(f'  <testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                      f'xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd" '
                      f'version="3.0.2" name="{attr(classname)}" time="{sum(c.seconds for c in group):.3f}" '
                      f'tests="{tally["tests"]}" errors="{tally["errors"]}" skipped="{tally["skipped"]}" '
                      f'failures="{tally["failures"]}" hostname="{host}" timestamp="{stamp}">\n'
                      f"    <properties>\n{properties}    </properties>\n")
            out.write("".join(surefire_testcase(rng, case) for case in group))
            out.write("  </testsuite>\n")
        out.write("</testsuites>\n")
    return overstated


def generate_junit(dest: Path, scale: float) -> dict:
    total = max(JUNIT_FILES * 5, round(JUNIT_TESTCASES * scale))
    rng = random.Random(f"{SEED}:junit")
    source = modules(vocabulary())
    pending: list[Testcase] = []  # failures retried by the next shard
    carry: list[Testcase] = []  # the rest of a module cut at a shard boundary
    truth = {"testcases": 0, "failures": 0, "errors": 0, "skipped": 0, "retried": 0, "teardown_pairs": 0,
             "flaky_elements": 0, "wrong_counter_overstates_by": 0, "ids": 0}
    written = 0
    files = []
    for shard in range(JUNIT_FILES):
        surefire = shard >= JUNIT_FILES - SUREFIRE_FILES
        goal = round(total * (shard + 1) / JUNIT_FILES) - written
        cases, pairs = [], []
        for case in pending:
            case.outcome, case.detail = "passed", ""
            cases.append(case)
            pairs.append(False)
        truth["retried"] += len(pending)
        pending = []
        while len(cases) + sum(pairs) < goal:
            if not carry:
                replica, path, tests = next(source)
                carry = make_testcases(random.Random(f"{SEED}:{replica}:{path}"), replica, path, tests)
            case = carry.pop(0)
            pair = not surefire and case.outcome == "failed" and rng.random() < 0.01
            cases.append(case)
            pairs.append(pair)
            # A failure retried by the next shard, when that shard writes the same shape of id.
            next_same_shape = shard + 1 < JUNIT_FILES and (shard + 1 >= JUNIT_FILES - SUREFIRE_FILES) == surefire
            if case.outcome == "failed" and not pair and next_same_shape and rng.random() < 0.025:
                pending.append(Testcase(case.module, case.klass, case.name, case.params, case.param_index,
                                        case.seconds * 0.9, "passed", "", "", False))
        if len(cases) + sum(pairs) > goal and pairs[-1]:
            pairs[-1] = False  # keep the count exact: drop the teardown error of the last one
        host = HOSTS[shard % len(HOSTS)]
        stamp = f"2026-11-24T09:{shard // 60 % 60:02d}:{shard % 60:02d}.{rng.randint(0, 999999):06d}+00:00"
        path = dest / f"shard-{shard:03d}.xml"
        root = ROOTS[shard % len(ROOTS)].format(k=shard)
        if surefire:
            truth["wrong_counter_overstates_by"] += write_surefire_file(path, rng, cases, host, stamp, shard == JUNIT_FILES - 7, root)
        else:
            write_pytest_file(path, rng, cases, pairs, host, stamp)
        tally = counters(cases, pairs)
        for key in ("failures", "errors", "skipped"):
            truth[key] += tally[key]
        truth["testcases"] += tally["tests"]
        truth["teardown_pairs"] += sum(pairs)
        truth["flaky_elements"] += sum(c.flaky for c in cases) if surefire else 0
        written += tally["tests"]
        files.append(path.name)
    truth["ids"] = truth["testcases"] - truth["teardown_pairs"] - truth["retried"]
    return {"files": files, "truth": truth}


def generate_big(dest: Path, scale: float) -> dict:
    size = max(1 << 20, round(BIG_BYTES * scale))
    rng = random.Random(f"{SEED}:big")
    blocks = []
    for _ in range(16):
        lines, length = [], 0
        while length < (1 << 20) - 200:
            lines.append(f"2026-11-24 09:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d},{rng.randint(0, 999):03d} "
                         f"{rng.choice(('INFO', 'DEBUG', 'WARNING'))} [worker-{rng.randint(0, 7)}] "
                         f"{rng.choice(WORDS)}.{rng.choice(WORDS)}: request id={rng.getrandbits(64):016x} "
                         f"&lt;{rng.choice(WORDS)}&gt; took {rng.randint(1, 999)} ms &amp; returned {rng.choice((200, 201, 204, 302, 404))}\n")
            length += len(lines[-1])
        blocks.append("".join(lines).encode())
    path = dest / "big-system-out.xml"
    head = ('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0" '
            'failures="1" skipped="0" tests="5" time="912.337" timestamp="2026-11-24T09:00:00.000000+00:00" hostname="fv-az512-331">'
            '<testcase classname="tests.soak.test_soak" name="test_warmup" time="0.812" />'
            '<testcase classname="tests.soak.test_soak" name="test_ingest_small" time="1.523" />'
            '<testcase classname="tests.soak.test_soak" name="test_soak_24h[replay-full]" time="905.114"><system-out>')
    tail = ('</system-out></testcase>'
            '<testcase classname="tests.soak.test_soak" name="test_drain" time="4.002"><failure message="AssertionError: '
            'queue not empty&#10;assert 3 == 0">def test_drain(queue):\n&gt;       assert queue.size() == 0\nE       '
            'AssertionError: queue not empty\n\ntests/soak/test_soak.py:88: AssertionError</failure></testcase>'
            '<testcase classname="tests.soak.test_soak" name="test_shutdown" time="0.886" /></testsuite></testsuites>')
    with open(path, "wb") as out:
        out.write(head.encode())
        left = size
        while left > 0:
            block = blocks[rng.randrange(len(blocks))]
            out.write(block[:left])
            left -= len(block)
    fix_tail(path, tail)  # the last block was cut anywhere: end on a whole line
    size = path.stat().st_size - len(head) - len(tail)
    files = [path.name]
    truth = {"testcases": 5, "failures": 1, "errors": 0, "skipped": 0, "retried": 0, "teardown_pairs": 0,
             "flaky_elements": 0, "wrong_counter_overstates_by": 0, "system_out_bytes": size}
    source = modules(vocabulary())
    for number in range(2):
        cases = []
        while len(cases) < BIG_COMPANION_TESTCASES:
            replica, module, tests = next(source)
            cases += make_testcases(random.Random(f"{SEED}:big:{replica}:{module}"), replica, module, tests)
        cases = cases[:BIG_COMPANION_TESTCASES]
        companion = dest / f"companion-{number}.xml"
        write_pytest_file(companion, rng, cases, [False] * len(cases), HOSTS[number + 1], f"2026-11-24T09:00:0{number}.000000+00:00")
        tally = counters(cases, [False] * len(cases))
        for key in ("failures", "errors", "skipped"):
            truth[key] += tally[key]
        truth["testcases"] += tally["tests"]
        files.append(companion.name)
    truth["ids"] = truth["testcases"]
    return {"files": files, "truth": truth}


def fix_tail(path: Path, tail: str) -> None:
    """Cuts the file back to its last newline (a whole log line) and appends the tail."""
    with open(path, "r+b") as handle:
        handle.seek(-4096, 2)
        end = handle.tell() + handle.read().rfind(b"\n") + 1
        handle.truncate(end)
        handle.seek(0, 2)
        handle.write(tail.encode())


# ---------------------------------------------------------------------------------------------
# Cobertura (coverage.py shape)


class SourceFile:
    """One measured source file: its statements, functions and branch lines."""

    def __init__(self, rng: random.Random, path: str):
        self.path = path
        self.package = path.rsplit("/", 1)[0].replace("/", ".") if "/" in path else "."
        self.optional = rng.random() < 0.04  # reported only by shards that imported it
        statements = max(4, min(1600, round(rng.lognormvariate(5.0, 0.8))))
        numbers, line = [], 1
        for _ in range(statements):
            numbers.append(line)
            line += rng.choice((1, 1, 1, 1, 2, 2, 3, 4))
        self.numbers = numbers
        n = len(numbers)
        # Module-level statements (imports, defs, class bodies) run on import; function bodies
        # run only when a test calls them.
        # Some functions no test calls and some lines (error handling) no test reaches: what
        # every shard together still leaves uncovered.
        self.module_mask = 0
        self.functions: list[int] = []
        index = 0
        while index < n:
            self.module_mask |= 1 << index
            index += 1
            if rng.random() < 0.25:
                continue  # another module-level statement
            length = min(n - index, rng.randint(2, 30))
            if length > 0 and rng.random() < 0.88:
                reachable = ((1 << length) - 1) & ~sum(1 << b for b in range(length) if rng.random() < 0.08)
                self.functions.append(reachable << index)
            index += length
        self.branches: dict[int, list[str]] = {}  # statement index -> destinations
        for i in range(n):
            if not (self.module_mask >> i) & 1 and rng.random() < 0.16:
                later = [numbers[j] for j in range(i + 2, min(n, i + 12))]
                first = str(numbers[i + 1]) if i + 1 < n else "exit"
                second = str(rng.choice(later)) if later and rng.random() < 0.9 else "exit"
                if second == first:
                    second = "exit" if first != "exit" else str(numbers[i] + 1)
                dests = [first, second]
                if rng.random() < 0.04 and later:
                    dests.append(str(later[-1]) if str(later[-1]) not in dests else "exit")
                self.branches[i] = sorted(set(dests), key=lambda d: (d == "exit", int(d) if d != "exit" else 0))
        self.arc_base: dict[int, int] = {}
        self.reachable_arcs: dict[int, int] = {}  # statement index -> mask of arcs some test can take
        arcs = 0
        for i in sorted(self.branches):
            self.arc_base[i] = arcs
            k = len(self.branches[i])
            arcs += k
            self.reachable_arcs[i] = ((1 << k) - 1) & ~(1 << rng.randrange(k) if rng.random() < 0.2 else 0)
        self.arcs = arcs
        self.plain = [(f'\t\t\t\t\t\t<line number="{num}" hits="0"/>\n', f'\t\t\t\t\t\t<line number="{num}" hits="1"/>\n')
                      for num in numbers]

    def run(self, rng: random.Random) -> tuple[int, int]:
        """(hit statements, taken arcs) as bit masks, for one shard that imported the file."""
        hit = self.module_mask
        share = rng.choice((0.05, 0.15, 0.3, 0.5, 0.7, 0.9))
        bits = len(self.numbers)
        for function in self.functions:
            if rng.random() < share:
                hit |= function & (rng.getrandbits(bits) | rng.getrandbits(bits) | rng.getrandbits(bits))
        taken = 0
        for i, dests in self.branches.items():
            if (hit >> i) & 1:
                reachable = self.reachable_arcs[i]
                mine = reachable & (rng.getrandbits(len(dests)) | rng.getrandbits(len(dests)))
                if not mine:  # an executed branch line leaves by at least one of its exits
                    mine = reachable & -reachable
                taken |= mine << self.arc_base[i]
        return hit, taken

    def render(self, hit: int, taken: int) -> tuple[str, int, int, int]:
        """(the <line> elements, covered statements, branch arcs, taken arcs)."""
        n = len(self.numbers)
        flags = format(hit, "b").zfill(n)[::-1] if hit else "0" * n
        out = []
        arcs = covered = 0
        for i in range(n):
            dests = self.branches.get(i)
            if dests is None:
                out.append(self.plain[i][flags[i] == "1"])
                continue
            base, k = self.arc_base[i], len(dests)
            mine = (taken >> base) & ((1 << k) - 1)
            count = bin(mine).count("1")
            arcs += k
            covered += count
            missing = ",".join(d for j, d in enumerate(dests) if not (mine >> j) & 1)
            text = (f'\t\t\t\t\t\t<line number="{self.numbers[i]}" hits="{flags[i]}" branch="true" '
                    f'condition-coverage="{100 * count // k}% ({count}/{k})"')
            out.append(text + (f' missing-branches="{missing}"/>\n' if missing else "/>\n"))
        return "".join(out), flags.count("1"), arcs, covered


def rate(hit: int, total: int) -> str:
    return "%.4g" % (hit / total) if total else "1"  # coverage.py's own formatting


def source_paths(rng: random.Random, count: int) -> list[str]:
    bases = sorted({p.removeprefix("tests/").replace("/test_", "/").replace("test_", "") for p, _, _ in vocabulary()})
    paths = []
    replica = 0
    while len(paths) < count:
        for base in bases:
            parts = base.split("/")
            if replica:
                parts[0] = f"{parts[0]}_{replica}"
            paths.append("/".join(parts))
        replica += 1
    return sorted(rng.sample(paths, count))


def generate_cobertura(dest: Path, scale: float) -> dict:
    rng = random.Random(f"{SEED}:cobertura")
    count = max(20, round(COBERTURA_SOURCE_FILES * scale))
    sources = [SourceFile(random.Random(f"{SEED}:file:{path}"), path) for path in source_paths(rng, count)]
    union_hit = [0] * len(sources)
    union_taken = [0] * len(sources)
    present = [False] * len(sources)
    files = []
    for shard in range(COBERTURA_SHARDS):
        root = ROOTS[shard % len(ROOTS)].format(k=shard)
        packages: dict[str, list[tuple[str, int, int, int, int]]] = {}
        for number, source in enumerate(sources):
            draw = rng.random()
            if source.optional and draw < 0.5:
                continue  # never imported by this shard, and not under a configured source
            hit, taken = source.run(rng) if draw < 0.9 else (0, 0)
            present[number] = True
            union_hit[number] |= hit
            union_taken[number] |= taken
            lines, covered, arcs, arcs_taken = source.render(hit, taken)
            name = source.path.rsplit("/", 1)[-1]
            head = (f'\t\t\t\t<class name="{name}" filename="{source.path}" complexity="0" '
                    f'line-rate="{rate(covered, len(source.numbers))}" branch-rate="{rate(arcs_taken, arcs)}">\n'
                    "\t\t\t\t\t<methods/>\n\t\t\t\t\t<lines>\n")
            packages.setdefault(source.package, []).append(
                (head + lines + "\t\t\t\t\t</lines>\n\t\t\t\t</class>\n", len(source.numbers), covered, arcs, arcs_taken))
        totals = [sum(c[i] for classes in packages.values() for c in classes) for i in range(1, 5)]
        path = dest / f"coverage-{shard:02d}.xml"
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            out.write('<?xml version="1.0" ?>\n'
                      f'<coverage version="7.6.1" timestamp="{1795000000000 + shard * 61_000}" lines-valid="{totals[0]}" '
                      f'lines-covered="{totals[1]}" line-rate="{rate(totals[1], totals[0])}" branches-covered="{totals[3]}" '
                      f'branches-valid="{totals[2]}" branch-rate="{rate(totals[3], totals[2])}" complexity="0">\n'
                      "\t<!-- Generated by coverage.py: https://coverage.readthedocs.io/en/7.6.1 -->\n"
                      "\t<!-- Based on https://raw.githubusercontent.com/cobertura/web/master/htdocs/xml/coverage-04.dtd -->\n"
                      f"\t<sources>\n\t\t<source>{root}/src</source>\n\t</sources>\n\t<packages>\n")
            for package in sorted(packages):
                classes = packages[package]
                valid, covered, arcs, taken = (sum(c[i] for c in classes) for i in range(1, 5))
                out.write(f'\t\t<package name="{package}" line-rate="{rate(covered, valid)}" '
                          f'branch-rate="{rate(taken, arcs)}" complexity="0">\n\t\t\t<classes>\n')
                out.write("".join(c[0] for c in classes))
                out.write("\t\t\t</classes>\n\t\t</package>\n")
            out.write("\t</packages>\n</coverage>\n")
        files.append(path.name)
    merged = [s for s, p in zip(sources, present) if p]
    lines_valid = sum(len(s.numbers) for s in merged)
    lines_covered = sum(bin(h).count("1") for h, p in zip(union_hit, present) if p)
    branches_valid = sum(s.arcs for s in merged)
    branches_covered = sum(bin(t).count("1") for t, p in zip(union_taken, present) if p)
    truth = {"files": len(merged), "lines_valid": lines_valid, "lines_covered": lines_covered,
             "branches_valid": branches_valid, "branches_covered": branches_covered,
             "line_rate": rate(lines_covered, lines_valid), "branch_rate": rate(branches_covered, branches_valid),
             "packages": len({s.package for s in merged})}
    return {"files": files, "truth": truth}


GENERATORS = {"junit": generate_junit, "big": generate_big, "cobertura": generate_cobertura}


def ensure(kind: str, scale: float, force: bool = False, quiet: bool = False) -> tuple[Path, dict]:
    """Generates one data set unless its manifest already matches; returns (directory, manifest)."""
    dest = DATA / f"{kind}-x{scale:g}"
    manifest_path = dest / "manifest.json"
    key = {"kind": kind, "scale": scale, "seed": SEED, "generator": script_hash(),
           "bench_data": BENCH_DATA.is_file()}
    if not force and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("key") == key and all((dest / f).is_file() for f in manifest["files"]):
            return dest, manifest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    start = time.perf_counter()
    if not quiet:
        print(f"generating {kind} at scale {scale:g} into {dest} ...", file=sys.stderr, flush=True)
    manifest = GENERATORS[kind](dest, scale)
    manifest["key"] = key
    manifest["bytes"] = sum((dest / f).stat().st_size for f in manifest["files"])
    manifest_path.write_text(json.dumps(manifest, indent=1))
    if not quiet:
        print(f"  {len(manifest['files'])} files, {manifest['bytes'] / 1e6:,.1f} MB in {time.perf_counter() - start:.0f} s",
              file=sys.stderr, flush=True)
    return dest, manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=KINDS)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--force", action="store_true", help="regenerate even when the manifest matches")
    options = parser.parse_args()
    for kind in (options.only,) if options.only else KINDS:
        dest, manifest = ensure(kind, options.scale, options.force)
        print(json.dumps({"dir": str(dest), "bytes": manifest["bytes"], "truth": manifest["truth"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
