"""Written by rxdist into a temporary directory and loaded with ``-p rxdist_worker``.

It does three things inside one pytest process that rxdist started:

* selects the tests of this batch (described by the JSON file named in ``RXDIST_BATCH``) and
  keeps pytest from even importing the other test files;
* sets serial and grouped tests aside ("deferred") so that rxdist can schedule them itself;
* appends one JSON line per event to the events file: the options rxdist must take over, what
  was collected, each test's start and finish (outcome, duration, messages, captured output,
  the xunit1 ``classname``/``name``/``file``/``line`` pytest's own junitxml would write), and the
  end of the session.
* when rxdist measures coverage, writes what coverage.py has measured into its data file after
  a test (at most once a second), so that a process that dies later (a crash, a timeout) loses
  the coverage of its last second of tests, not of every test it finished.

It only uses hooks and helpers that exist in every pytest from 7.0 on.
"""

import hashlib
import json
import os
import sys
import time
from fnmatch import fnmatchcase

import pytest

try:
    from _pytest.junitxml import mangle_test_address
except ImportError:  # pragma: no cover - present in every supported pytest

    def mangle_test_address(address):
        path, *names = address.split("::")
        names.insert(0, path.replace("/", ".").rsplit(".py", 1)[0])
        return names


_spec = None
_session = None
_failures = 0
_events_fd = None
_known = None
_reports = {}
_coverage = None
_checkpointed_at = None

# At most one coverage checkpoint a second: one costs a few milliseconds (SQLite writes for
# every file the tests since the last one touched), which after every test made a covered
# networkx run 9% slower.
_CHECKPOINT_SECONDS = 1.0


def _text(value):
    """A str that survives a strict UTF-8 JSON reader (lone surrogates escaped visibly)."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _emit(event):
    if _events_fd is None:
        return
    line = json.dumps(event, separators=(",", ":"), ensure_ascii=True) + "\n"
    data = line.encode("ascii")
    while data:
        written = os.write(_events_fd, data)
        data = data[written:]


def _bucket(path, total):
    digest = hashlib.sha256(path.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % total


def _slice(path, total):
    # Independent of _bucket (salted), so slicing a shard's files does not follow its bucket.
    digest = hashlib.sha256(b"rxdist-slice:" + path.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % total


_slices = None


def _catch_all_wants(file):
    """Whether this batch's catch-all runs `file`: unknown to the history, in this shard's
    bucket, and in one of this batch's slices."""
    if file in _known:
        return False
    catch_all = _spec["catch_all"]
    bucket = catch_all.get("bucket")
    if bucket is not None and _bucket(file, bucket[1]) != bucket[0]:
        return False
    slices = catch_all.get("slices")
    return slices is None or _slice(file, slices["of"]) in _slices


def _relative(config, path):
    try:
        rel = os.path.relpath(str(path), str(config.rootpath))
    except ValueError:
        return None
    return rel.replace(os.sep, "/")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    global _spec, _events_fd, _known, _slices
    path = os.environ.get("RXDIST_BATCH")
    if not path:
        return
    with open(path, encoding="utf-8") as handle:
        _spec = json.load(handle)
    _events_fd = os.open(_spec["events"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    catch_all = _spec.get("catch_all")
    if catch_all is not None:
        _known = set(catch_all.get("known", ()))
        if catch_all.get("slices") is not None:
            _slices = set(catch_all["slices"]["take"])

    # Options that would fight rxdist are taken over, and reported so rxdist can say so.
    option = config.option
    taken = {}
    xmlpath = getattr(option, "xmlpath", None)
    if xmlpath:
        taken["junitxml"] = xmlpath
        option.xmlpath = None
    maxfail = getattr(option, "maxfail", 0) or 0
    if maxfail:
        taken["maxfail"] = maxfail
        option.maxfail = 0
    numprocesses = getattr(option, "numprocesses", None)
    if numprocesses:
        taken["numprocesses"] = str(numprocesses)
        option.numprocesses = None
        option.dist = "no"
        if hasattr(option, "tx"):
            option.tx = []
    for name in ("lf", "failedfirst", "newfirst", "stepwise"):
        if getattr(option, name, False):
            taken[name] = True
    _emit(
        {
            "e": "options",
            "taken": taken,
            "pytest": pytest.__version__,
            "python": _text(sys.executable),
        }
    )


def pytest_ignore_collect(collection_path, config):
    if _spec is None or not collection_path.is_file():
        return None
    # pytest < 8 makes a package's node from its __init__.py: ignoring that file would skip the
    # package's setup_module and package-scoped fixtures. Unselected tests are still dropped
    # in pytest_collection_modifyitems.
    if collection_path.name == "__init__.py":
        return None
    rel = _relative(config, collection_path)
    if rel is None:
        return None
    files = _spec.get("files")
    if files is not None and rel in files:
        return None
    if _known is not None:
        # Files other batches (or shards) run are never imported here.
        return None if _catch_all_wants(rel) else True
    if files is not None and rel.endswith(".py"):
        return True
    return None


def _file_of(nodeid):
    return nodeid.split("::", 1)[0]


def _selected(nodeid):
    file = _file_of(nodeid)
    files = _spec.get("files")
    if files is not None and file in files:
        rule = files[file]
        if rule is None:
            return True
        if "only" in rule:
            return nodeid in rule["_only"]
        return nodeid not in rule["_except"]
    if _known is not None:
        return _catch_all_wants(file)
    return files is None


def _deferral(item, defer):
    serial = defer.get("serial_marker")
    info = {}
    if serial and item.get_closest_marker(serial) is not None:
        info["serial"] = True
    if defer.get("xdist_group"):
        marker = item.get_closest_marker("xdist_group")
        if marker is not None:
            name = marker.args[0] if marker.args else marker.kwargs.get("name", "default")
            info["xdist_group"] = _text(name)
    groups = []
    for group in defer.get("groups", ()):
        marker = group.get("marker")
        if marker and item.get_closest_marker(marker) is not None:
            groups.append(group["name"])
            continue
        if any(fnmatchcase(item.nodeid, pattern) for pattern in group.get("tests", ())):
            groups.append(group["name"])
    if groups:
        info["groups"] = groups
    return info


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    if _spec is None:
        return
    files = _spec.get("files")
    if files is not None:
        for rule in files.values():
            if rule is not None:
                if "only" in rule:
                    rule["_only"] = set(rule["only"])
                else:
                    rule["_except"] = set(rule["except"])
    defer = _spec.get("defer")
    keep, dropped, deferred = [], [], []
    for item in items:
        if not _selected(item.nodeid):
            dropped.append(item)
            continue
        info = _deferral(item, defer) if defer else {}
        if info:
            info["id"] = _text(item.nodeid)
            deferred.append(info)
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    _emit(
        {
            "e": "collected",
            "items": [_text(item.nodeid) for item in keep],
            "deferred": deferred,
        }
    )


def pytest_collectreport(report):
    if _spec is None:
        return
    if report.failed:
        _emit(
            {
                "e": "collecterror",
                "path": _text(report.nodeid),
                "message": _text(_crash_message(report)),
                "details": _text(str(report.longrepr)),
            }
        )
    elif report.skipped and "::" not in report.nodeid and report.nodeid:
        # A module skipped at import (importorskip, skip(allow_module_level=True)): pytest's
        # junitxml reports it as a testcase named after the module.
        reason, _ = _skip_reason(report)
        _emit({"e": "collectskip", "path": _text(report.nodeid), "message": _text(reason)})


def pytest_sessionstart(session):
    global _session
    _session = session


def pytest_runtest_logstart(nodeid, location):
    if _spec is None:
        return
    _reports[nodeid] = []
    event = {"e": "start", "id": _text(nodeid), "file": _text(location[0]), "t": time.time()}
    if location[1] is not None:
        event["line"] = location[1]
    _emit(event)


def pytest_runtest_logreport(report):
    if _spec is None:
        return
    _reports.setdefault(report.nodeid, []).append(report)


def _crash_message(report):
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    return str(longrepr)


def _skip_reason(report):
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        filename, lineno, reason = longrepr
        if reason.startswith("Skipped: "):
            reason = reason[len("Skipped: ") :]
        return reason, f"{filename}:{lineno}: {reason}"
    return str(longrepr), str(longrepr)


def _xfail_reason(report):
    # Like pytest's junitxml: pytest < 8.4 writes xfail(run=False) as "reason: [NOTRUN] ...".
    reason = report.wasxfail
    if reason.startswith("reason: "):
        reason = reason[len("reason: ") :]
    return reason


def _verdict(reports):
    """The test's outcome, message and details, as pytest's junitxml would report them."""
    outcome, message, details = "passed", None, None
    teardown = None
    for report in reports:
        if report.when == "setup":
            if report.failed:
                return "error", f'failed on setup with "{_crash_message(report)}"', str(
                    report.longrepr
                ), None
            if report.skipped:
                if hasattr(report, "wasxfail"):
                    return "xfailed", _xfail_reason(report), None, None
                reason, details = _skip_reason(report)
                return "skipped", reason, details, None
        elif report.when == "call":
            if report.failed:
                if hasattr(report, "wasxfail"):
                    outcome, message = "failed", f"[XPASS(strict)] {report.wasxfail}"
                    details = None
                else:
                    outcome = "failed"
                    message = _crash_message(report)
                    details = str(report.longrepr)
            elif report.skipped:
                if hasattr(report, "wasxfail"):
                    outcome, message = "xfailed", _xfail_reason(report)
                else:
                    outcome = "skipped"
                    message, details = _skip_reason(report)
            elif hasattr(report, "wasxfail"):
                outcome = "xpassed"
        elif report.when == "teardown" and report.failed:
            teardown = (
                f'failed on teardown with "{_crash_message(report)}"',
                str(report.longrepr),
            )
    if teardown is not None and outcome in ("passed", "xpassed", "skipped", "xfailed"):
        return "error", teardown[0], teardown[1], None
    return outcome, message, details, teardown


def _checkpoint_coverage():
    """Hands what coverage.py's tracer has gathered since the last call to its data file.

    pytest-cov saves a process's coverage only when the session ends, so a worker that dies
    mid-run (``os._exit``, a segfault, rxdist killing it on a timeout) used to take the coverage
    of every test it had finished with it. The collector's ``flush_data`` is what coverage.py
    itself calls along the way; it writes to the same SQLite data file, which ``coverage
    combine`` then finds whether or not the process lived to save it. It returns at once when
    nothing new ran. Any coverage.py without it (or any failure here) leaves the old behaviour:
    the data is saved at the end of the session. The first test of a process is always
    checkpointed, then at most one test a second (see ``_CHECKPOINT_SECONDS``).
    """
    global _coverage, _checkpointed_at
    if _coverage is False:
        return
    now = time.monotonic()
    if _checkpointed_at is not None and now - _checkpointed_at < _CHECKPOINT_SECONDS:
        return
    _checkpointed_at = now
    if _coverage is None:
        module = sys.modules.get("coverage")
        current = getattr(getattr(module, "Coverage", None), "current", None)
        cov = current() if current is not None else None
        flush = getattr(getattr(cov, "_collector", None), "flush_data", None)
        _coverage = flush if flush is not None else False
    if _coverage:
        try:
            _coverage()
        except Exception:  # noqa: BLE001 - a checkpoint must never fail the run
            _coverage = False


def pytest_runtest_logfinish(nodeid, location):
    global _failures
    if _spec is None:
        return
    reports = _reports.pop(nodeid, [])
    outcome, message, details, teardown = _verdict(reports)
    names = mangle_test_address(nodeid)
    event = {
        "e": "finish",
        "id": _text(nodeid),
        "outcome": outcome,
        "duration": sum(getattr(report, "duration", 0.0) or 0.0 for report in reports),
        "classname": _text(".".join(names[:-1])),
        "name": _text(names[-1]),
        "file": _text(location[0]),
        "t": time.time(),
    }
    if location[1] is not None:
        event["line"] = location[1]
    if message is not None:
        event["message"] = _text(message)
    if details is not None:
        event["details"] = _text(details)
    if teardown is not None:
        event["teardown"] = _text(teardown[0] + "\n" + teardown[1])
    if reports:
        last = reports[-1]
        for key, value in (
            ("stdout", last.capstdout),
            ("stderr", last.capstderr),
            ("log", last.caplog),
        ):
            if value:
                event[key] = _text(value)
        properties = getattr(last, "user_properties", None)
        if properties:
            event["properties"] = [[_text(k), _text(v)] for k, v in properties]
    if _spec.get("coverage"):
        _checkpoint_coverage()
    _emit(event)
    if outcome in ("failed", "error"):
        _failures += 1
        maxfail = _spec.get("maxfail")
        if maxfail and _failures >= maxfail and _session is not None:
            # What pytest's own --maxfail does: finish this test, start no other.
            _session.shouldfail = f"rxdist: stopping after {_failures} failures (--maxfail)"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _spec is None:
        return
    _emit({"e": "done", "exit": int(exitstatus)})
