"""An independent reading of JUnit XML for test_corpus.rs: Python's ElementTree, not our reader.

Reads file paths (one a line) on stdin; writes one JSON object a line: the file, whether it is
self-consistent, and the counts of its test cases by outcome. A file is self-consistent when the
counts declared by its leaf <testsuite> elements (tests, failures, errors, skipped/skip plus
disabled) equal
what its <testcase> elements say, every test case has at most one outcome element, none is a
rerun or flaky retry, and no (classname, name) repeats. For those files the declared counts are
the truth twice over, and gantry must give the same.
"""

import json
import sys
import xml.etree.ElementTree as ET

OUTCOMES = ("failure", "error", "skipped")
RETRIES = ("rerunFailure", "rerunError", "flakyFailure", "flakyError")


def local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def reading(path):
    with open(path, "rb") as handle:
        data = handle.read()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return {"consistent": False, "why": "document type"}
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        return {"consistent": False, "why": f"parse: {error}"}
    if local(root.tag) not in ("testsuites", "testsuite"):
        return {"consistent": False, "why": f"root {local(root.tag)}"}
    suites = [e for e in root.iter() if local(e.tag) == "testsuite"]
    leaves = [s for s in suites if not any(local(c.tag) == "testsuite" for c in s)]
    declared = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in leaves:
        if suite.get("tests") is None:
            return {"consistent": False, "why": "a suite without tests="}
        try:
            declared["tests"] += int(suite.get("tests"))
            declared["failures"] += int(suite.get("failures") or 0)
            declared["errors"] += int(suite.get("errors") or 0)
            declared["skipped"] += int(suite.get("skipped") or suite.get("skip") or 0)
            # Disabled tests (GoogleTest, tst) are declared apart and are skipped too.
            declared["skipped"] += int(suite.get("disabled") or 0)
        except ValueError:
            return {"consistent": False, "why": "a count that is not a number"}
    counted = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    seen = set()
    for case in root.iter():
        if local(case.tag) != "testcase":
            continue
        kinds = [local(c.tag) for c in case]
        if any(kind in RETRIES for kind in kinds):
            return {"consistent": False, "why": "retries"}
        outcomes = [kind for kind in kinds if kind in OUTCOMES]
        if len(outcomes) > 1:
            return {"consistent": False, "why": "several outcomes"}
        key = (case.get("classname"), case.get("name"))
        if key in seen:
            return {"consistent": False, "why": "a repeated test"}
        seen.add(key)
        counted["tests"] += 1
        if outcomes == ["failure"]:
            counted["failures"] += 1
        elif outcomes == ["error"]:
            counted["errors"] += 1
        elif outcomes == ["skipped"] or case.get("status") in ("disabled", "notrun", "skipped"):
            counted["skipped"] += 1
    if counted != declared or counted["tests"] == 0:
        return {"consistent": False, "why": f"declared {declared} counted {counted}"}
    return {"consistent": True, **counted}


for line in sys.stdin:
    path = line.rstrip("\n")
    if path:
        print(json.dumps({"file": path, **reading(path)}))
