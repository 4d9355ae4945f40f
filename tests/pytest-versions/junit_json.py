"""Prints a JUnit XML report as JSON, read with Python's ElementTree (not rxdist's own reader).

Usage: python junit_json.py REPORT.xml
"""

import json
import sys
import xml.etree.ElementTree as ET

RESULTS = ("failure", "error", "skipped")


def properties(element):
    return [
        [prop.get("name"), prop.get("value")]
        for props in element.findall("properties")
        for prop in props.findall("property")
    ]


def case_facts(case):
    result = None
    attempts = []
    for child in case:
        if child.tag in RESULTS:
            result = {"tag": child.tag, "type": child.get("type"), "message": child.get("message")}
        elif child.tag.startswith(("flaky", "rerun")):
            attempts.append(child.tag)
    return {
        "classname": case.get("classname"),
        "name": case.get("name"),
        "file": case.get("file"),
        "line": case.get("line"),
        "result": result,
        "attempts": attempts,
        "properties": properties(case),
        "stdout": case.findtext("system-out"),
        "stderr": case.findtext("system-err"),
    }


def main():
    root = ET.parse(sys.argv[1]).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    json.dump(
        {
            "properties": [p for suite in suites for p in properties(suite)],
            "cases": [case_facts(case) for suite in suites for case in suite.iter("testcase")],
        },
        sys.stdout,
    )


main()
