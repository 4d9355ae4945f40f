"""Written by rxdist into a temporary directory and loaded with ``-p rxdist_worker``.

It does three things inside one pytest process that rxdist started:

* selects the tests of this batch (described by the JSON file named in ``RXDIST_BATCH``) and
  keeps pytest from even importing the other test files;
* sets serial and grouped tests aside ("deferred") so that rxdist can schedule them itself;
* appends one JSON line per event to the events file: the options rxdist must take over, what
  was collected, each test's start and finish (outcome, duration, messages, captured output,
  the xunit1 ``classname``/``name``/``file``/``line`` pytest's own junitxml would write), and the
  end of the session.

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
_events_fd = None
_known = None
_reports = {}


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


def _relative(config, path):
    try:
        rel = os.path.relpath(str(path), str(config.rootpath))
    except ValueError:
        return None
    return rel.replace(os.sep, "/")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    global _spec, _events_fd, _known
    path = os.environ.get("RXDIST_BATCH")
    if not path:
        return
    with open(path, encoding="utf-8") as handle:
        _spec = json.load(handle)
    _events_fd = os.open(_spec["events"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    catch_all = _spec.get("catch_all")
    if catch_all is not None:
        _known = set(catch_all.get("known", ()))

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
    rel = _relative(config, collection_path)
    if rel is None:
        return None
    files = _spec.get("files")
    if files is not None and rel in files:
        return None
    if _known is not None:
        if rel in _known:
            return True
        return None
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
    catch_all = _spec.get("catch_all")
    if catch_all is not None:
        if file in _known:
            return False
        bucket = catch_all.get("bucket")
        return bucket is None or _bucket(file, bucket[1]) == bucket[0]
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
    if _spec is None or not report.failed:
        return
    _emit(
        {
            "e": "collecterror",
            "path": _text(report.nodeid),
            "message": _text(_crash_message(report)),
            "details": _text(str(report.longrepr)),
        }
    )


def pytest_runtest_logstart(nodeid, location):
    if _spec is None:
        return
    _reports[nodeid] = []
    _emit({"e": "start", "id": _text(nodeid), "t": time.time()})


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
                    return "xfailed", report.wasxfail, None, None
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
                    outcome, message = "xfailed", report.wasxfail
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


def pytest_runtest_logfinish(nodeid, location):
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
    _emit(event)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _spec is None:
        return
    _emit({"e": "done", "exit": int(exitstatus)})
