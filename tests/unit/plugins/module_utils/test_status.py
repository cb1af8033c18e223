"""The status document of an environment (_domain/status.py): its alerts, fail_on, and its JSON Schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.status import (
    KINDS,
    StatusError,
    environment_status,
    fail_on_kinds,
)

SCHEMA = json.loads((Path(__file__).resolve().parents[4] / "docs" / "status.schema.json").read_text())
DIGEST = "sha256:" + "a" * 64


def container(name, state="running", health="healthy", restarts=0):
    running = state == "running"
    return {"name": name, "state": state, "running": running, "health": health,
            "healthy": running and health in ("healthy", None), "restart_count": restarts}  # fmt: skip


def host_report(*containers, drift=None, release_id="app-1.0.0-b1-abc"):
    services = {}
    for each in containers:
        name = each["name"].split("-")[1]
        svc = services.setdefault(name, {"containers": [], "digest": DIGEST, "in_sync": True})
        svc["containers"].append(each)
    for svc in services.values():
        svc["running"] = sum(1 for c in svc["containers"] if c["running"])
        svc["healthy"] = all(c["healthy"] for c in svc["containers"])
    drift = drift or {"in_sync": True, "changed": [], "missing": [], "extra": []}
    deployment = {"project": "app", "release_id": release_id, "version": "1.0.0", "commit": "abc",
                  "deployed_at": "2026-12-01T10:00:00Z", "services": services, "drift": drift,
                  "running": sum(s["running"] for s in services.values()),
                  "healthy": all(s["healthy"] for s in services.values())}  # fmt: skip
    return {"changed": False, "deployment": deployment}


WELL = host_report(container("app-api-1"), container("app-store-1"))


def status(reports, fail_on=KINDS, platform="compose"):
    doc = environment_status("qa", platform, "app", reports, fail_on=fail_on, generated_at="2026-12-01T11:00:00Z",
                             urls={"qa1": "http://qa1:8080"})  # fmt: skip
    jsonschema.validate(json.loads(json.dumps(doc)), SCHEMA)  # what the playbook writes, as JSON
    return doc


def test_all_well_is_ok_with_no_alert():
    doc = status({"qa1": WELL, "qa2": WELL})
    assert doc["ok"] is True and doc["alerts"] == [] and doc["failing"] == []
    assert [h["host"] for h in doc["hosts"]] == ["qa1", "qa2"]
    assert doc["hosts"][0]["url"] == "http://qa1:8080" and doc["hosts"][0]["release_id"] == "app-1.0.0-b1-abc"
    assert doc["counts"] == dict.fromkeys(KINDS, 0)


def test_an_unhealthy_container_fails_when_asked_and_only_then():
    sick = host_report(container("app-api-1", health="unhealthy"), container("app-store-1"))
    doc = status({"qa1": sick})
    assert doc["ok"] is False
    assert [(a["host"], a["kind"]) for a in doc["failing"]] == [("qa1", "unhealthy")]
    assert "app-api-1 is unhealthy" in doc["failing"][0]["message"]
    relaxed = status({"qa1": sick}, fail_on=["drift"])
    assert relaxed["ok"] is True and relaxed["counts"]["unhealthy"] == 1 and relaxed["failing"] == []


def test_drift_names_the_services():
    drift = {"in_sync": False, "changed": ["api"], "missing": ["worker"], "extra": ["intruder"]}
    drifted = host_report(container("app-api-1"), drift=drift)
    doc = status({"qa1": drifted}, fail_on="drift")
    assert doc["ok"] is False
    assert doc["failing"][0]["message"].endswith("in api, worker (missing), intruder (extra)")


def test_restarts_and_a_restarting_container():
    flapping = host_report(container("app-api-1", state="restarting", health=None, restarts=4),
                           container("app-store-1"))  # fmt: skip
    doc = status({"qa1": flapping}, fail_on=["restarting"])
    assert [a["kind"] for a in doc["failing"]] == ["restarting"]
    assert "app-api-1 restarting; 4 restart(s)" in doc["failing"][0]["message"]
    assert doc["counts"]["unhealthy"] == 0  # a restarting container is said once, as restarting


def test_an_unreachable_host_and_an_application_that_runs_nothing_are_down():
    stopped = host_report(container("app-api-1", state="exited", health=None))
    doc = status({"qa1": {"unreachable": True, "msg": "ssh: connect to host qa1 port 22: No route to host"},
                  "qa2": stopped}, fail_on=["down"])  # fmt: skip
    assert [(a["host"], a["kind"]) for a in doc["failing"]] == [("qa1", "down"), ("qa2", "down")]
    assert "qa1 cannot be reached: ssh: connect" in doc["failing"][0]["message"]
    assert doc["hosts"][0]["reachable"] is False and doc["hosts"][0]["release_id"] is None


def test_a_swarm_stack():
    stack = {"stack": {
        "release_id": "app-1.0.0-b1-abc", "version": "1.0.0", "commit": "abc", "deployed_at": "x", "converged": False,
        "services": {
            "api": {"replicas": "1/3", "running": 1, "desired": 3, "converged": False, "digest": DIGEST,
                    "in_sync": True, "nodes": ["swarm1"],
                    "errors": ["task exited 1 on swarm2", "task exited 1 on swarm3"]},
            "store": {"replicas": "0/1", "running": 0, "desired": 1, "converged": False, "digest": DIGEST,
                      "in_sync": True, "nodes": [], "errors": []}},
        "nodes": [{"hostname": "swarm1", "state": "ready", "role": "manager", "id": "x"}],
        "nodes_down": ["swarm3"], "drift": {"in_sync": True, "changed": [], "missing": [], "extra": []}}}  # fmt: skip
    doc = status(stack, platform="swarm")
    kinds = sorted(a["kind"] for a in doc["alerts"])
    assert kinds == ["down", "down", "restarting", "unhealthy"], doc["alerts"]
    assert "service api runs 1/3" in [a["message"] for a in doc["alerts"]]
    assert any(a["message"].endswith("the newest: task exited 1 on swarm3") for a in doc["alerts"])
    assert doc["stack"]["nodes"] == [{"hostname": "swarm1", "state": "ready", "role": "manager"}]


@pytest.mark.parametrize(("given", "kinds"), [(None, []), ("", []), ("drift, down", ["drift", "down"]),
                                              (["down", "unhealthy"], ["unhealthy", "down"])])  # fmt: skip
def test_fail_on_as_a_list_or_a_string(given, kinds):
    assert fail_on_kinds(given) == kinds


@pytest.mark.parametrize("given", ["sick", ["drift", "broken"], 3])
def test_fail_on_refuses_what_is_not_a_kind(given):
    with pytest.raises(StatusError, match="status_fail_on"):
        fail_on_kinds(given)


def test_the_schema_refuses_a_document_that_lost_a_key():
    doc = json.loads(json.dumps(status({"qa1": WELL})))
    broken = copy.deepcopy(doc)
    del broken["hosts"][0]["drift"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
