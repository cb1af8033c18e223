"""Runs unittest tests, prints a readable summary and writes JUnit XML (the pytest layout).

In the api and db images:       python3 /app/run_tests.py --junit /results/unit-junit.xml
In a checkout of the app:       python3 run_tests.py [--start-dir tests/unit]

Exit status: 0 when every test passed, 1 when a test failed or errored (or none ran), 2 when the
JUnit file cannot be written. The functional tests reuse ``JUnitResult`` and ``write_junit``.
"""

import argparse
import os
import re
import socket
import sys
import time
import traceback
import unittest
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

HERE = os.path.dirname(os.path.abspath(__file__))
# Characters XML 1.0 cannot hold (test output may contain terminal escapes and the like).
_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text):
    return _XML_INVALID.sub("?", text)


def _test_names(test):
    """(classname, name) of a test the way pytest's junit names them."""
    test_id = test.id()
    if isinstance(test, unittest.case._SubTest):
        parent_id = test.test_case.id()
        classname, name = parent_id.rsplit(".", 1)
        return classname, name + test_id[len(parent_id) :]
    classname, name = test_id.rsplit(".", 1) if "." in test_id else ("", test_id)
    return classname, name


class JUnitResult(unittest.TextTestResult):
    """A TextTestResult that also records every test's outcome and duration for JUnit XML."""

    def __init__(self, stream, descriptions, verbosity, **kwargs):
        super().__init__(stream, descriptions, verbosity, **kwargs)
        self.records = []
        self._started = {}

    def startTest(self, test):
        self._started[test.id()] = time.monotonic()
        super().startTest(test)

    def _record(self, test, outcome, message="", details=""):
        started = self._started.get(test.id())
        if started is None and isinstance(test, unittest.case._SubTest):
            started = self._started.get(test.test_case.id())
        elapsed = time.monotonic() - started if started is not None else 0.0
        classname, name = _test_names(test)
        self.records.append(
            {
                "classname": classname,
                "name": name,
                "time": elapsed,
                "outcome": outcome,
                "message": message,
                "details": details,
            }
        )

    def _exc_record(self, test, err, outcome):
        details = self._exc_info_to_string(err, test)
        exc_type, exc_value = err[0], err[1]
        message = "".join(traceback.format_exception_only(exc_type, exc_value)).strip()
        self._record(test, outcome, message, details)
        return exc_type.__name__

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._exc_record(test, err, "failure")

    def addError(self, test, err):
        super().addError(test, err)
        self._exc_record(test, err, "error")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test, "skipped", "expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test, "failure", "unexpected success: the test is marked as an expected failure")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            outcome = "failure" if issubclass(err[0], test.failureException) else "error"
            self._exc_record(subtest, err, outcome)


def write_junit(path, suite_name, records, total_time):
    """Writes records as <testsuites><testsuite><testcase>, with failure/error/skipped children."""
    counts = {kind: sum(1 for r in records if r["outcome"] == kind) for kind in ("failure", "error", "skipped")}
    suites = ET.Element("testsuites", name=suite_name)
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=suite_name,
        tests=str(len(records)),
        failures=str(counts["failure"]),
        errors=str(counts["error"]),
        skipped=str(counts["skipped"]),
        time=f"{total_time:.3f}",
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
        hostname=socket.gethostname(),
    )
    for record in records:
        case = ET.SubElement(
            suite, "testcase", classname=record["classname"], name=record["name"], time=f"{record['time']:.3f}"
        )
        if record["outcome"] in ("failure", "error", "skipped"):
            child = ET.SubElement(case, record["outcome"], message=_xml_text(record["message"]))
            if record["outcome"] != "skipped":
                child.set("type", _xml_text(record["message"].split(":", 1)[0]))
                child.text = _xml_text(record["details"])
    ET.indent(suites)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def run_suite(suite, suite_name, junit=None, verbosity=2, stream=None):
    """Runs a suite, prints the summary, writes JUnit XML if asked; returns the exit status."""
    stream = sys.stdout if stream is None else stream
    runner = unittest.TextTestRunner(stream=stream, verbosity=verbosity, resultclass=JUnitResult, buffer=True)
    started = time.monotonic()
    result = runner.run(suite)
    elapsed = time.monotonic() - started
    records = result.records
    counts = {
        kind: sum(1 for r in records if r["outcome"] == kind) for kind in ("passed", "failure", "error", "skipped")
    }
    ok = result.wasSuccessful() and result.testsRun > 0
    print(
        f"\n{suite_name}: {'PASSED' if ok else 'FAILED'}: {result.testsRun} tests, {counts['passed']} passed, "
        f"{counts['failure']} failed, {counts['error']} errors, {counts['skipped']} skipped in {elapsed:.2f}s",
        file=stream,
    )
    for record in records:
        if record["outcome"] in ("failure", "error"):
            first_line = record["message"].splitlines()[0] if record["message"] else ""
            print(
                f"  {record['outcome'].upper()}: {record['classname']}.{record['name']}: {first_line[:200]}",
                file=stream,
            )
    if result.testsRun == 0:
        print("  no tests ran: is the test directory there?", file=stream)
    if junit:
        try:
            write_junit(junit, suite_name, records, elapsed)
        except OSError as exc:
            print(f"{suite_name}: cannot write the JUnit XML {junit}: {exc}", file=stream)
            return 2
        print(f"  JUnit XML: {junit}", file=stream)
    stream.flush()
    return 0 if ok else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the unit tests; print a summary; write JUnit XML.")
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML to FILE (its directory is created)")
    parser.add_argument("--start-dir", default=os.path.join(HERE, "tests", "unit"), help="where discovery starts")
    parser.add_argument("--pattern", default="test_*.py", help="file name pattern of test modules")
    parser.add_argument(
        "--suite-name",
        default=os.environ.get("SERVICE_NAME", "notes-app") + "-unit",
        help="name of the JUnit test suite (default: $SERVICE_NAME-unit)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="one dot per test instead of one line")
    args = parser.parse_args(argv)
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.discover(args.start_dir, pattern=args.pattern, top_level_dir=HERE)
    return run_suite(suite, args.suite_name, args.junit, verbosity=1 if args.quiet else 2)


if __name__ == "__main__":
    sys.exit(main())
