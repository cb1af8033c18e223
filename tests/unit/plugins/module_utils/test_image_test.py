# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""image_test's pure logic and its run with a stand-in engine: no Docker needed."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path
from typing import ClassVar

import pytest
import requests
from ansible_collections.outerloop.docker.plugins.module_utils import _image_test
from ansible_collections.outerloop.docker.plugins.module_utils._domain.test_results import (
    ChunkReader,
    UnsafeArchiveError,
    extract_results,
    summarize,
)
from ansible_collections.outerloop.docker.plugins.module_utils._image_test import (
    ImageTestError,
    RunRequest,
    output_lines,
    parse_volume,
    run_test,
    tail,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import ImageRefError
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils import fake_module

IMAGE_ID = "sha256:" + "c" * 64
JUNIT_FAIL = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3">
<testcase classname="tests.test_api" name="test_health"/>
<testcase classname="tests.test_api" name="test_version"><failure message="assert 1 == 2"/></testcase>
<testcase classname="tests.test_api" name="test_skip"><skipped/></testcase>
</testsuite></testsuites>
"""


def tar_bytes(entries) -> bytes:
    """entries: (name, kind, data_or_linkname) with kind file, dir, symlink or fifo."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data
                archive.addfile(info)
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# -- safe extraction ----------------------------------------------------------------------------


def test_a_results_directory_lands_in_dest_itself(tmp_path):
    data = tar_bytes(
        [
            ("results", "dir", None),
            ("results/unit.xml", "file", b"<testsuite/>"),
            ("results/sub", "dir", None),
            ("results/sub/a.txt", "file", b"hi"),
            ("results/link", "symlink", "/etc/passwd"),
            ("results/pipe", "fifo", None),
        ]
    )
    written, skipped = extract_results(io.BytesIO(data), "results", str(tmp_path / "out"))
    assert sorted(written) == [str(tmp_path / "out" / "sub" / "a.txt"), str(tmp_path / "out" / "unit.xml")]
    assert (tmp_path / "out" / "sub" / "a.txt").read_bytes() == b"hi"
    assert skipped == ["link", "pipe"]
    assert not os.path.lexists(tmp_path / "out" / "link")
    assert oct(os.stat(tmp_path / "out" / "unit.xml").st_mode & 0o777) == "0o644"


def test_a_single_file_lands_under_its_name(tmp_path):
    written, _warnings = extract_results(io.BytesIO(tar_bytes([("unit.xml", "file", b"x")])), "unit.xml", str(tmp_path))
    assert written == [str(tmp_path / "unit.xml")]


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("results/../../evil", "contains '..'"),
        ("../evil", "contains '..'"),
        ("/etc/evil", "absolute path"),
        ("results/a/../../../evil", "contains '..'"),
    ],
)
def test_absolute_and_dotdot_members_are_refused(tmp_path, name, complaint):
    data = tar_bytes([("results", "dir", None), (name, "file", b"pwned")])
    dest = tmp_path / "a" / "b"
    with pytest.raises(UnsafeArchiveError, match=complaint):
        extract_results(io.BytesIO(data), "results", str(dest))
    assert not (tmp_path / "evil").exists()
    assert not (tmp_path / "a" / "evil").exists()


def test_an_existing_symlink_in_dest_does_not_lead_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "sub").symlink_to(outside)
    data = tar_bytes([("results", "dir", None), ("results/sub/x.xml", "file", b"pwned")])
    with pytest.raises(UnsafeArchiveError, match="outside"):
        extract_results(io.BytesIO(data), "results", str(dest))
    assert list(outside.iterdir()) == []


def test_a_symlinked_file_in_dest_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "unit.xml").symlink_to(victim)
    extract_results(io.BytesIO(tar_bytes([("results/unit.xml", "file", b"new")])), "results", str(dest))
    assert victim.read_text() == "keep"
    assert (dest / "unit.xml").read_bytes() == b"new"
    assert not (dest / "unit.xml").is_symlink()


def test_chunk_reader_streams_the_archive(tmp_path):
    data = tar_bytes([("results", "dir", None), ("results/big.bin", "file", b"x" * 300_000)])
    chunks = [data[i : i + 7_000] for i in range(0, len(data), 7_000)]
    written, _warnings = extract_results(ChunkReader(chunks), "results", str(tmp_path))
    assert os.path.getsize(written[0]) == 300_000


# -- output, summaries, inputs ------------------------------------------------------------------


def test_output_lines_and_tails():
    assert output_lines(b"a\r\n\x1b[31mb\x1b[0m\n\n  \nc") == ["a", "b", "c"]
    assert output_lines(b"\xff\n") == ["\ufffd"]
    lines = [str(n) for n in range(100)]
    assert tail(lines) == lines[70:]
    assert tail(lines, 3) == ["97", "98", "99"]


def test_summary_counts_junit_and_names_failed_tests(tmp_path):
    report = tmp_path / "unit.xml"
    report.write_bytes(JUNIT_FAIL)
    text, failed, warnings = summarize(1, [str(report)])
    assert text == (
        "rc 1; 3 tests, 1 failures, 0 errors, 1 skipped (failed: tests.test_api.test_version)"
    )  # fmt: skip
    assert failed == ["tests.test_api.test_version"]
    assert warnings == []


def test_summary_without_junit_and_with_a_broken_report(tmp_path):
    assert summarize(0, [])[0] == "rc 0"
    assert summarize(None, [], timed_out=True, run_timeout=5)[0] == "timed out after 5 s"
    broken = tmp_path / "x.xml"
    broken.write_text("<not closed")
    text, _counts, warnings = summarize(2, [str(broken)])
    assert text == "rc 2"
    assert "is not a JUnit XML report" in warnings[0]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("/srv/fixtures:/fixtures:ro", ("/srv/fixtures:/fixtures:ro", "/fixtures")),
        ("/srv/out:/out", ("/srv/out:/out:rw", "/out")),
        ("cache_vol:/cache:rw", ("cache_vol:/cache:rw", "/cache")),
    ],
)
def test_volumes(spec, expected):
    assert parse_volume(spec) == expected


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("/srv", "not HOST:CONTAINER"),
        ("/a:/b:ro:x", "not HOST:CONTAINER"),
        ("/a:b", "not absolute"),
        ("/a:/b:rx", "neither ro nor rw"),
        ("../a:/b", "neither an absolute host path nor a volume name"),
    ],
)
def test_bad_volumes(spec, complaint):
    with pytest.raises(ImageTestError, match=complaint):
        parse_volume(spec)


def params(**overrides):
    values = {
        "image": "sample/api:42",
        "command": ["sh", "-c", "true"],
        "env": None,
        "network": None,
        "user": None,
        "workdir": None,
        "run_timeout": 600,
        "volumes": None,
        "results_path": None,
        "results_dest": None,
        "suite": "unit",
        "record_dir": "/tmp/records",
        "fail_on_error": True,
        "container_prefix": "ibt-unit",
    }
    values.update(overrides)
    return values


def test_request_inputs():
    request = RunRequest.from_params(params(env={"N": 1, "B": False}, results_path="/results/", command="pytest -q"))
    assert request.env == {"N": "1", "B": "false"}
    assert request.results_path == "/results"
    assert request.command == "pytest -q"
    assert RunRequest.from_params(params(image=IMAGE_ID)).image == IMAGE_ID
    with pytest.raises(ImageTestError, match="must be an absolute path"):
        RunRequest.from_params(params(results_path="results"))
    with pytest.raises(ImageTestError, match="not /"):
        RunRequest.from_params(params(results_path="/"))
    with pytest.raises(ImageTestError, match="run_timeout"):
        RunRequest.from_params(params(run_timeout=0))
    with pytest.raises(ImageRefError):
        RunRequest.from_params(params(image="Bad/Name"))


# -- run_test with a stand-in engine ------------------------------------------------------------


class FakeEngine:
    """Plays a container's life: exit code, output, files under /results, or a hang."""

    def __init__(self, rc=0, stdout=b"", stderr=b"", files=None, hang=False):
        self.rc, self.stdout, self.stderr, self.files, self.hang = rc, stdout, stderr, files, hang
        self.calls = []
        self.removed = []

    def inspect_image(self, ref):
        if ref == "missing:1":
            raise _image_test.docker.errors.ImageNotFound(ref)
        return {"Id": IMAGE_ID}

    def create_host_config(self, **kwargs):
        return kwargs

    def create_container(self, image, **kwargs):
        self.calls.append(("create", image, kwargs))
        return {"Id": "ctr1"}

    def start(self, container):
        self.calls.append(("start",))

    def wait(self, container, timeout=None):
        self.calls.append(("wait", timeout))
        if self.hang and not any(call[0] == "kill" for call in self.calls):
            raise requests.exceptions.ConnectionError("Read timed out.")
        return {"StatusCode": 137 if self.hang else self.rc}

    def kill(self, container):
        self.calls.append(("kill",))

    def logs(self, container, stdout, stderr):
        return self.stdout if stdout else self.stderr

    def get_archive(self, container, path):
        if self.files is None:
            raise _image_test.docker.errors.NotFound(path)
        return iter([tar_bytes([("results", "dir", None), *self.files])]), {"name": "results"}

    def remove_container(self, container, force=False, v=False):
        self.removed.append((container["Id"], force, v))


def test_a_passing_run_writes_a_passing_record_and_removes_the_container(tmp_path):
    engine = FakeEngine(rc=0, stdout=b"4 passed\n", files=[("results/unit.xml", "file", b"<testsuite/>")])
    request = RunRequest.from_params(
        params(record_dir=str(tmp_path / "rec"), results_path="/results", results_dest=str(tmp_path / "out"))
    )
    result = run_test(engine, request)
    assert result["rc"] == 0
    assert result["passed"] is True
    assert result["changed"] is True
    assert result["stdout_tail"] == ["4 passed"]
    assert result["results"] == [str(tmp_path / "out" / "unit.xml")]
    assert result["container"].startswith("ibt-unit-unit-")
    assert engine.removed == [("ctr1", True, True)]
    create = engine.calls[0]
    assert create[1] == IMAGE_ID  # the image that was inspected, by ID
    assert create[2]["host_config"]["auto_remove"] is False
    record = json.loads(Path(result["record"]).read_text())
    assert record["image_id"] == IMAGE_ID
    assert record["passed"] is True
    assert record["junit"] == ["unit.xml"]


def test_a_failing_run_fails_after_writing_record_and_results(tmp_path):
    engine = FakeEngine(
        rc=1, stdout=b"FAILED tests/test_api.py::test_version\n", files=[("results/unit.xml", "file", JUNIT_FAIL)]
    )
    request = RunRequest.from_params(
        params(record_dir=str(tmp_path), results_path="/results", results_dest=str(tmp_path / "out"))
    )
    with pytest.raises(ImageTestError) as err:
        run_test(engine, request)
    msg = str(err.value)
    assert "failed: rc 1; 3 tests, 1 failures" in msg
    assert "FAILED tests/test_api.py::test_version" in msg
    details = err.value.details
    assert details["rc"] == 1
    assert details["failed_tests"] == ["tests.test_api.test_version"]
    assert json.loads(Path(details["record"]).read_text())["passed"] is False
    assert (tmp_path / "out" / "unit.xml").exists()
    assert engine.removed == [("ctr1", True, True)]


def test_fail_on_error_false_returns_the_failure(tmp_path):
    request = RunRequest.from_params(params(record_dir=str(tmp_path), fail_on_error=False))
    result = run_test(FakeEngine(rc=3), request)
    assert (result["rc"], result["passed"]) == (3, False)


def test_a_timeout_kills_records_failure_and_fails(tmp_path):
    engine = FakeEngine(hang=True, stdout=b"still running\n")
    request = RunRequest.from_params(params(record_dir=str(tmp_path), run_timeout=5))
    with pytest.raises(ImageTestError, match="timed out after 5 s"):
        run_test(engine, request)
    assert ("kill",) in engine.calls
    assert ("wait", 5) in engine.calls
    record = json.loads((tmp_path / ("c" * 64 + ".unit.json")).read_text())
    assert (record["passed"], record["rc"], record["summary"]) == (False, -1, "timed out after 5 s")
    assert engine.removed == [("ctr1", True, True)]


def test_the_container_is_removed_when_the_engine_fails_mid_run(tmp_path):
    engine = FakeEngine()

    def broken_logs(container, stdout, stderr):
        raise _image_test.docker.errors.APIError("logs broke")

    engine.logs = broken_logs
    with pytest.raises(ImageTestError, match="logs broke"):
        run_test(engine, RunRequest.from_params(params(record_dir=str(tmp_path))))
    assert engine.removed == [("ctr1", True, True)]
    assert list(tmp_path.iterdir()) == []  # no record for a run whose outcome is unknown


def test_missing_results_path_is_a_warning_not_a_failure(tmp_path):
    request = RunRequest.from_params(
        params(record_dir=str(tmp_path), results_path="/results", results_dest=str(tmp_path / "out"))
    )
    result = run_test(FakeEngine(files=None), request)
    assert result["results"] == []
    assert "does not exist in the container" in result["warnings"][0]


def test_check_mode_runs_nothing(tmp_path):
    engine = FakeEngine()
    result = run_test(engine, RunRequest.from_params(params(record_dir=str(tmp_path))), check_mode=True)
    assert result["changed"] is True
    assert result["record"] is None
    assert engine.calls == []
    assert list(tmp_path.iterdir()) == []


def test_a_missing_image_says_it_is_not_pulled(tmp_path):
    with pytest.raises(ImageTestError, match="does not pull"):
        run_test(FakeEngine(), RunRequest.from_params(params(image="missing:1", record_dir=str(tmp_path))))


# -- skip_passed and several runs in one task (tests) ---------------------------------------------


def test_skip_passed_takes_a_passing_record_and_runs_nothing(tmp_path):
    records = str(tmp_path / "rec")
    engine = FakeEngine(rc=0, stdout=b"4 passed\n")
    first = run_test(engine, RunRequest.from_params(params(record_dir=records, skip_passed=True)))
    assert first["tested_before"] is False
    assert first["changed"] is True
    assert len(engine.calls) == 3  # create, start, wait

    again = run_test(engine, RunRequest.from_params(params(record_dir=records, skip_passed=True)))
    assert len(engine.calls) == 3  # nothing more ran
    assert again["changed"] is False
    assert again["tested_before"] is True
    assert again["passed"] is True
    assert again["summary"] == first["summary"]
    assert again["record"] == first["record"]
    # check mode predicts the same
    assert (
        run_test(engine, RunRequest.from_params(params(record_dir=records, skip_passed=True)), check_mode=True)[
            "changed"
        ]
        is False
    )


def test_skip_passed_runs_a_failed_image_again_and_needs_a_suite(tmp_path):
    records = str(tmp_path / "rec")
    run_test(FakeEngine(rc=1), RunRequest.from_params(params(record_dir=records, fail_on_error=False)))
    engine = FakeEngine(rc=0)
    result = run_test(engine, RunRequest.from_params(params(record_dir=records, skip_passed=True)))
    assert result["tested_before"] is False
    assert result["passed"] is True
    assert engine.calls
    with pytest.raises(ImageTestError, match="skip_passed needs suite"):
        RunRequest.from_params(params(skip_passed=True, suite=None))


class RunsModule(fake_module.FakeModule):
    DEFAULTS: ClassVar[dict] = {**params(image=None), "skip_passed": False, "parallel": 4, "docker_host": None}

    def __init__(self, **values):
        super().__init__(**values)
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def run_tests_module(monkeypatch, engines, **values):
    """The module with `tests`; every run gets the FakeEngine of its image from ``engines``."""

    class Session:
        def __init__(self, params):
            self.engine = engines[params["image"]]

        def __enter__(self):
            return self.engine

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(_image_test, "require_sdk", lambda module: None)
    monkeypatch.setattr(_image_test, "engine_session", Session)
    module = RunsModule(**values)
    with pytest.raises(fake_module.Exited):
        _image_test.run_module(module)
    return module


def test_tests_run_every_entry_and_report_each(monkeypatch, tmp_path):
    engines = {"s/api:1": FakeEngine(rc=0, stdout=b"ok\n"), "s/worker:1": FakeEngine(rc=1, stdout=b"FAILED\n")}
    module = run_tests_module(
        monkeypatch,
        engines,
        tests=[{"name": "api", "image": "s/api:1", "command": ["t"]}, {"image": "s/worker:1", "env": {"A": 1}}],
        record_dir=str(tmp_path / "rec"),
        fail_on_error=False,
    )
    assert not module.failed, module.result
    assert module.result["changed"] is True
    assert module.result["passed"] is False
    api, worker = module.result["runs"]
    assert (api["name"], api["passed"], api["failed"]) == ("api", True, False)
    assert (worker["name"], worker["passed"], worker["rc"]) == ("s/worker:1", False, 1)
    assert engines["s/api:1"].calls[0][2]["command"] == ["t"]
    assert engines["s/worker:1"].calls[0][2]["command"] == ["sh", "-c", "true"]  # the shared command
    assert engines["s/worker:1"].calls[0][2]["environment"] == {"A": "1"}


def test_a_run_that_fails_the_task_is_named_and_the_others_still_report(monkeypatch, tmp_path):
    engines = {"s/api:1": FakeEngine(rc=0), "s/worker:1": FakeEngine(rc=2, stderr=b"Traceback\n")}
    module = run_tests_module(
        monkeypatch,
        engines,
        tests=[{"name": "api", "image": "s/api:1"}, {"name": "worker", "image": "s/worker:1"}],
        record_dir=str(tmp_path / "rec"),
    )
    assert module.failed
    assert module.result["msg"].startswith("[worker] the test suite unit in image s/worker:1")
    assert module.result["passed"] is False
    assert [run["failed"] for run in module.result["runs"]] == [False, True]
    assert module.result["runs"][0]["record"]
