# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""deployment_info's watch (the soak of a canary): restart counts that grow, containers replaced, gone or
unhealthy, the smoke checks, the clock; with reports built from inspected containers, a fake clock and a
local HTTP server."""

from __future__ import annotations

import contextlib
import http.server
import threading

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils import _deployment_info
from ansible_collections.outerloop.docker.plugins.module_utils._deployment_info import (
    watch,
    watch_baseline,
    watch_failure,
    watch_look,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import InfoError
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_report import build_report
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils import fake_module
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils.test_deployment_info import (
    API,
    WORKER,
    FakeModule,
    container,
)

API_IMAGE = f"reg1:5000/sample/api@{API}"
WORKER_IMAGE = f"reg1:5000/sample/worker@{WORKER}"


def report_of(*containers):
    return build_report("sample-app", [(c, []) for c in containers], [])


def healthy(restarts=(0, 0, 0)):
    return [
        container("api", API_IMAGE, health="healthy", restarts=restarts[0]),
        container("worker", WORKER_IMAGE, number=1, restarts=restarts[1]),
        container("worker", WORKER_IMAGE, number=2, restarts=restarts[2]),
    ]


# --- One look against the first ----------------------------------------------------------------


def test_a_look_at_an_unchanged_project_sees_nothing():
    first = report_of(*healthy())
    look = watch_look(watch_baseline(first), report_of(*healthy()))
    assert look == {"restarts": {"api": 0, "worker": 0}, "restarted": [], "problems": []}
    assert watch_failure(look, None) is None


def test_restarts_already_counted_before_the_watch_do_not_count():
    first = report_of(*healthy(restarts=(3, 1, 0)))
    look = watch_look(watch_baseline(first), report_of(*healthy(restarts=(3, 1, 0))))
    assert look["restarts"] == {"api": 0, "worker": 0}


def test_a_grown_restart_count_is_a_restart_of_its_service():
    first = report_of(*healthy())
    look = watch_look(watch_baseline(first), report_of(*healthy(restarts=(0, 0, 2))))
    assert look["restarts"] == {"api": 0, "worker": 2}
    assert look["restarted"] == ["sample-app-worker-2: restart count 0 -> 2"]
    assert watch_failure(look, None) == "worker restarted 2 times (sample-app-worker-2: restart count 0 -> 2)"


def test_a_replaced_container_counts_as_a_restart_and_the_one_gone_as_a_problem():
    first = report_of(*healthy())
    replaced = container("api", API_IMAGE, health="healthy")
    replaced["Id"] = "a-new-id"
    look = watch_look(watch_baseline(first), report_of(replaced, *healthy()[1:]))
    assert look["restarts"]["api"] == 1
    assert look["restarted"] == ["sample-app-api-1 is a new container, started since the watch began"]
    assert look["problems"] == ["sample-app-api-1 is gone"]


def test_unhealthy_starting_and_exited_containers_are_problems():
    first = report_of(*healthy())
    now = [
        container("api", API_IMAGE, health="unhealthy"),
        container("worker", WORKER_IMAGE, number=1, health="starting", restarts=1),
        container("worker", WORKER_IMAGE, number=2, running=False),
    ]
    now[2]["State"].update(Status="exited", ExitCode=137)
    look = watch_look(watch_baseline(first), report_of(*now))
    assert look["problems"] == [
        "sample-app-api-1 is unhealthy",
        "sample-app-worker-1 is starting (its health check has not passed yet)",
        "sample-app-worker-2 is exited, exit code 137",
    ]
    failure = watch_failure(look, "smoke check http://x failed: status 503, expected 200")
    assert failure.startswith("worker restarted 1 time (sample-app-worker-1: restart count 0 -> 1); ")
    assert failure.endswith("; smoke check http://x failed: status 503, expected 200")


def test_a_project_without_containers_fails_the_first_look():
    empty = report_of()
    look = watch_look(watch_baseline(empty), empty)
    assert look["problems"] == ["no container of sample-app is there"]


# --- The watch over time -----------------------------------------------------------------------


class Clock:
    """A fake clock: sleep advances it; read() returns the next report of a script (the last one again)."""

    def __init__(self, reports):
        self.now, self.reports, self.reads, self.sleeps = 100.0, list(reports), 0, []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def read(self):
        self.reads += 1
        return self.reports[min(self.reads, len(self.reports)) - 1]


def params(**more):
    return {"watch": 15, "watch_interval": 5, "smoke_checks": [], **more}


def test_a_quiet_project_is_watched_for_the_whole_window():
    fake = Clock([report_of(*healthy())])
    report, result = watch(fake.read, params(), clock=fake.clock, sleep=fake.sleep)
    assert fake.sleeps == [5, 5, 5]
    assert (result["checks"], result["elapsed"], result["ok"], result["failure"]) == (4, 15.0, True, None)
    assert result["restarts"] == {"api": 0, "worker": 0}
    assert result["summary"] == "4 checks in 15 s, 0 restarts"
    assert report["healthy"] is True


def test_the_last_sleep_ends_at_the_window_and_watch_zero_looks_once():
    fake = Clock([report_of(*healthy())])
    _report, result = watch(fake.read, params(watch=7, watch_interval=5), clock=fake.clock, sleep=fake.sleep)
    assert (fake.sleeps, result["checks"]) == ([5, 2], 3)
    fake = Clock([report_of(*healthy())])
    _report, result = watch(fake.read, params(watch=0), clock=fake.clock, sleep=fake.sleep)
    assert (fake.sleeps, result["checks"], result["ok"]) == ([], 1, True)


def test_a_restart_stops_the_watch_at_the_look_that_sees_it():
    fake = Clock([report_of(*healthy()), report_of(*healthy()), report_of(*healthy(restarts=(0, 1, 0)))])
    _report, result = watch(fake.read, params(watch=300), clock=fake.clock, sleep=fake.sleep)
    assert (result["checks"], result["elapsed"], result["ok"]) == (3, 10.0, False)
    assert result["restarts"] == {"api": 0, "worker": 1}
    assert result["summary"] == (
        "3 checks in 10 s, 1 restart: worker restarted 1 time (sample-app-worker-1: restart count 0 -> 1)"
    )


def test_the_options_are_checked_before_anything_is_read():
    fake = Clock([report_of(*healthy())])
    with pytest.raises(InfoError, match="watch_interval must be 1 second or more, not 0"):
        watch(fake.read, params(watch_interval=0), clock=fake.clock, sleep=fake.sleep)
    with pytest.raises(InfoError, match="watch must be 0 or more seconds, not -1"):
        watch(fake.read, params(watch=-1), clock=fake.clock, sleep=fake.sleep)
    with pytest.raises(InfoError, match="not an http"):
        watch(fake.read, params(smoke_checks=[{"url": "ftp://x"}]), clock=fake.clock, sleep=fake.sleep)
    assert fake.reads == 0


class _Handler(http.server.BaseHTTPRequestHandler):
    answers: list = []  # noqa: RUF012 (the test's script of statuses, consumed in order)

    def do_GET(self):
        status = self.answers.pop(0) if self.answers else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_the_smoke_checks_run_at_every_look_and_a_failing_one_fails_the_watch(server):
    _Handler.answers = [200, 200, 503]
    check = {"url": server + "/healthz", "contains": '"ok"', "retries": 1, "delay": 0}
    fake = Clock([report_of(*healthy())])
    _report, result = watch(fake.read, params(smoke_checks=[check]), clock=fake.clock, sleep=fake.sleep)
    assert (result["checks"], result["ok"]) == (3, False)
    assert result["failure"] == f"smoke check {server}/healthz failed: status 503, expected 200"
    assert result["summary"].startswith("3 checks in 10 s, 0 restarts, smoke FAILED: ")
    _Handler.answers = []
    fake = Clock([report_of(*healthy())])
    _report, result = watch(fake.read, params(smoke_checks=[check]), clock=fake.clock, sleep=fake.sleep)
    assert result["summary"] == "4 checks in 15 s, 0 restarts, smoke ok"
    assert [r["ok"] for r in result["smoke"]] == [True]


# --- The module ----------------------------------------------------------------------------------


class Engine:
    """A fake engine whose containers change from one listing to the next (a script of container lists)."""

    def __init__(self, script):
        self.script, self.listings = script, 0
        self.now = {}

    def containers(self, **query):
        self.now = {c["Id"]: c for c in self.script[min(self.listings, len(self.script) - 1)]}
        self.listings += 1
        return [{"Id": cid} for cid in self.now]

    def inspect_container(self, cid):
        return self.now[cid]

    def inspect_image(self, image_id):
        return {"RepoDigests": []}


def run(monkeypatch, script, **options):
    engine = Engine(script)

    @contextlib.contextmanager
    def session(params):
        yield engine

    monkeypatch.setattr(_deployment_info, "engine_session", session)
    monkeypatch.setattr(_deployment_info.time, "sleep", lambda seconds: None)
    module = FakeModule(**{"project": "sample-app", "watch": 0, "watch_interval": 1, "smoke_checks": [], **options})
    with pytest.raises(fake_module.Exited):
        _deployment_info.run_module(module)
    return module, engine


def test_without_a_watch_the_result_is_the_report_alone(monkeypatch):
    module, engine = run(monkeypatch, [healthy()])
    assert not module.failed
    assert "watch" not in module.result
    assert engine.listings == 1


def test_a_failed_watch_fails_the_module_with_what_it_saw(monkeypatch):
    module, engine = run(monkeypatch, [healthy(), healthy(restarts=(0, 0, 1))], watch=60)
    assert module.failed
    assert engine.listings == 2
    assert "the watch of sample-app on " in module.result["msg"]
    assert "worker restarted 1 time (sample-app-worker-2: restart count 0 -> 1)" in module.result["msg"]
    assert "changed nothing" in module.result["msg"]
    assert module.result["watch"]["ok"] is False
    assert module.result["deployment"]["services"]["worker"]["restart_count"] == 1
