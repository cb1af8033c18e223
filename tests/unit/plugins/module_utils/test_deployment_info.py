# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""deployment_info: the report from inspected containers and a history, with a fake engine client."""

from __future__ import annotations

import contextlib
from typing import ClassVar

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils import _deployment_info
from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import new_entry, write_history
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import build_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import expected_from
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_report import (
    build_report,
    container_view,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import HAS_YAML
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils import fake_module

COMMIT = "3f2a9c1d0b8e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
API = "sha256:" + "a1" * 32
WORKER = "sha256:" + "b2" * 32
OTHER = "sha256:" + "c3" * 32
COMPOSE = "services:\n  api:\n    build: ./api\n  worker:\n    build: ./worker\n  redis:\n    image: redis:7\n"


def make_manifest():
    return build_manifest(
        application="sample-app",
        version="1.4.0",
        source_repository="https://git.example.com/team/sample-app.git",
        commit=COMMIT,
        build_number="42",
        build_host="build1",
        created="2026-11-26T13:00:00Z",
        tests={"suites": {"unit": {"passed": True, "tests": 3, "failures": 0}}},
        services={
            "api": {"image": f"reg1:5000/sample/api@{API}", "tags": ["1.4.0"]},
            "worker": {"image": f"reg1:5000/sample/worker@{WORKER}", "tags": ["1.4.0"]},
        },
        compose_file="compose.yaml",
        compose_content=COMPOSE,
    )


def container(service, image, *, number=1, running=True, health=None, restarts=0, oneoff=False, project="sample-app"):
    state = {"Status": "running" if running else "exited", "Running": running, "Restarting": False, "ExitCode": 0}
    state["StartedAt"] = "2026-11-26T13:05:00.123456789Z"
    if health:
        state["Health"] = {"Status": health}
    labels = {
        "com.docker.compose.project": project,
        "com.docker.compose.service": service,
        "com.docker.compose.container-number": str(number),
        "com.docker.compose.oneoff": "True" if oneoff else "False",
    }
    return {
        "Id": f"{project}-{service}-{number}-id",
        "Name": f"/{project}-{service}-{number}",
        "Image": "sha256:img-" + image.rpartition("@")[2][-6:],
        "RestartCount": restarts,
        "State": state,
        "Config": {"Image": image, "Labels": labels},
    }


# --- Pure helpers ----------------------------------------------------------------------------


def test_container_view():
    view = container_view(container("api", f"reg1:5000/sample/api@{API}", health="starting", restarts=2), API)
    assert view["name"] == "sample-app-api-1"
    assert view["running"] is True
    assert view["healthy"] is False
    assert view["health"] == "starting"
    assert view["restart_count"] == 2
    assert view["exit_code"] is None
    stopped = container_view(container("api", "x", running=False), None)
    assert stopped["healthy"] is False
    assert stopped["exit_code"] == 0


# --- The report ------------------------------------------------------------------------------


def entries():
    manifest = make_manifest()
    return [
        new_entry(action="deploy", result="succeeded", started="2026-11-25T10:00:00Z", manifest=manifest,
                  finished="2026-11-25T10:01:00Z", environment="staging", triggered_by={"user": "bob"}),
        new_entry(action="deploy", result="rolled_back", started="2026-11-26T10:00:00Z",
                  release_id="sample-app-1.5.0-b43-x", finished="2026-11-26T10:02:00Z", environment="staging"),
    ]  # fmt: skip


def in_sync_containers():
    return [
        (container("api", f"reg1:5000/sample/api@{API}", health="healthy"), [f"reg1:5000/sample/api@{API}"]),
        (container("worker", f"reg1:5000/sample/worker@{WORKER}"), [f"reg1:5000/sample/worker@{WORKER}"]),
        (container("redis", "redis:7"), [f"docker.io/library/redis@{OTHER}"]),
    ]


def test_report_in_sync_with_the_release():
    manifest = make_manifest()
    report = build_report(
        "sample-app", in_sync_containers(), entries(), expected=expected_from(manifest, None), known={"redis"}
    )
    assert report["exists"] is True
    assert report["release_id"] == manifest["release_id"]  # the rolled back attempt is not current
    assert report["version"] == "1.4.0"
    assert report["commit"] == COMMIT
    assert report["environment"] == "staging"
    assert report["deployed_at"] == "2026-11-25T10:01:00Z"
    assert report["last_action"]["result"] == "rolled_back"
    assert report["healthy"] is True
    assert report["running"] == 3
    assert report["drift"] == {
        "against": "release",
        "release_id": manifest["release_id"],
        "in_sync": True,
        "changed": [],
        "missing": [],
        "extra": [],
    }
    assert report["services"]["api"]["digest"] == API
    assert report["services"]["api"]["in_sync"] is True
    assert report["services"]["redis"]["in_release"] is False
    assert report["services"]["redis"]["in_sync"] is None
    assert report["history"][0]["release_id"] == "sample-app-1.5.0-b43-x"  # newest first


def test_report_drift_changed_missing_extra_and_one_offs_left_out():
    manifest = make_manifest()
    containers = [
        (container("api", f"reg1:5000/sample/api@{OTHER}"), [f"reg1:5000/sample/api@{OTHER}"]),
        (container("api", f"reg1:5000/sample/api@{API}", number=2), [f"reg1:5000/sample/api@{API}"]),
        (container("debug", "busybox"), []),
        (container("worker", f"reg1:5000/sample/worker@{WORKER}", oneoff=True), []),
    ]
    report = build_report("sample-app", containers, [], expected=expected_from(manifest, None), known=set())
    drift = report["drift"]
    assert drift["in_sync"] is False
    assert drift["changed"] == ["api"]
    assert drift["missing"] == ["worker"]
    assert drift["extra"] == ["debug"]
    api = report["services"]["api"]
    assert api["digest"] is None  # its containers disagree
    assert api["digests"] == sorted([API, OTHER])
    assert [c["name"] for c in api["containers"]] == ["sample-app-api-1", "sample-app-api-2"]
    assert "worker" not in report["services"]
    assert report["release_id"] is None
    assert report["history"][:1] == []


def test_report_against_the_history_without_a_release():
    history = entries()
    containers = in_sync_containers()[:1]
    report = build_report("sample-app", containers, history, expected=expected_from(None, history[0]), known=None)
    assert report["drift"]["against"] == "history"
    assert report["drift"]["missing"] == ["worker"]
    assert report["drift"]["extra"] == []


def test_report_of_nothing():
    report = build_report("nothing", [], [], expected=None, known=None)
    assert report["exists"] is False
    assert report["healthy"] is False
    assert report["drift"] is None
    assert report["last_action"] is None


def test_history_limit_zero_returns_none():
    report = build_report("sample-app", [], entries(), limit=0)
    assert report["history"] == []
    assert report["release_id"] is not None


# --- The module edge -------------------------------------------------------------------------


class FakeClient:
    def __init__(self, containers):
        self.inspected = {c["Id"]: c for c, _digests in containers}
        self.images = {c["Image"]: {"RepoDigests": d} for c, d in containers}
        self.filters = None

    def containers(self, **query):
        assert query["all"] is True
        self.filters = query["filters"]
        project = self.filters["label"].partition("=")[2]
        return [
            {"Id": cid}
            for cid, c in self.inspected.items()
            if c["Config"]["Labels"]["com.docker.compose.project"] == project
        ]

    def inspect_container(self, cid):
        return self.inspected[cid]

    def inspect_image(self, image_id):
        return self.images[image_id]


class FakeModule(fake_module.FakeModule):
    DEFAULTS: ClassVar[dict] = {
        "project": None,
        "release": None,
        "state_dir": "/nonexistent",
        "history_limit": 10,
        "docker_host": None,
        "timeout": 5,
    }


def run(monkeypatch, containers, **params):
    client = FakeClient(containers)

    @contextlib.contextmanager
    def session(params):
        yield client

    monkeypatch.setattr(_deployment_info, "engine_session", session)
    module = FakeModule(**params)
    with pytest.raises(fake_module.Exited):
        _deployment_info.run_module(module)
    return module, client


def test_module_takes_the_project_from_the_release_and_reads_the_history(monkeypatch, tmp_path):
    write_history(str(tmp_path), "sample-app", entries())
    others = [(container("api", "x", project="other-app"), [])]
    module, client = run(
        monkeypatch, in_sync_containers() + others, release=make_manifest(), state_dir=str(tmp_path), history_limit=1
    )
    assert not module.failed, module.result
    assert module.result["changed"] is False
    deployment = module.result["deployment"]
    assert client.filters == {"label": "com.docker.compose.project=sample-app"}
    assert deployment["project"] == "sample-app"
    assert len(deployment["history"]) == 1
    assert deployment["drift"]["in_sync"] is HAS_YAML  # without PyYAML, redis is not known to be the app's
    assert set(deployment["services"]) == {"api", "worker", "redis"}


def test_module_needs_a_project(monkeypatch):
    module, _client = run(monkeypatch, [])
    assert module.failed
    assert "give project" in module.result["msg"]


def test_module_names_a_broken_history(monkeypatch, tmp_path):
    (tmp_path / "sample-app").mkdir()
    (tmp_path / "sample-app" / "history.json").write_text("{", encoding="utf-8")
    module, _client = run(monkeypatch, [], project="sample-app", state_dir=str(tmp_path))
    assert module.failed
    assert "cannot read the deployment history on host" in module.result["msg"]
    assert "history.json is not valid JSON" in module.result["msg"]


def test_module_refuses_an_edited_release(monkeypatch):
    manifest = make_manifest()
    manifest["services"]["api"]["digest"] = OTHER
    module, _client = run(monkeypatch, [], release=manifest)
    assert module.failed
    assert "digest mismatch" in module.result["msg"]
