"""Status as a monitor, on qa (qa1): status.yml with status_fail_on passes when all is well, fails on an api
made unhealthy by hand and on a container changed by hand, and writes its status as JSON in the documented
schema (docs/status.schema.json) every time."""

from __future__ import annotations

import json
import time

import jsonschema
import pytest

from .cd_releases import manifest_path, release
from .conftest import ROOT, on_host, playbook

SCHEMA = json.loads((ROOT / "docs" / "status.schema.json").read_text())
ALL_KINDS = "unhealthy,drift,restarting,down"


def qa_deploy(patch: int):
    return playbook("outerloop.docker.deploy", "-e", f"outerloop_release_path={manifest_path(patch)}",
                    inventory="inventories/qa")  # fmt: skip


def status(out_dir, fail_on: str = ALL_KINDS):
    return playbook("outerloop.docker.status", "-e", f"status_fail_on={fail_on}", "-e", f"status_dir={out_dir}",
                    inventory="inventories/qa")  # fmt: skip


def written(out_dir) -> dict:
    """The one status file of the run, validated against the schema."""
    (path,) = out_dir.glob("status-qa-*.json")
    doc = json.loads(path.read_text())
    jsonschema.validate(doc, SCHEMA)
    return doc


def container_of(service: str) -> str:
    """The name of the running container of a service of sample-app on qa1 (a switch behind the proxy gives the
    api new names: sample-app-api-2, ...)."""
    names = on_host("qa1", "docker", "ps", "--format", "{{.Names}}", "--filter",
                    "label=com.docker.compose.project=sample-app", "--filter",
                    f"label=com.docker.compose.service={service}").stdout.split()  # fmt: skip
    assert len(names) == 1, (service, names)
    return names[0]


def health(container: str) -> str:
    return on_host("qa1", "docker", "inspect", "-f", "{{.State.Health.Status}}", container).stdout.strip()


def wait_health(container: str, want: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while health(container) != want:
        assert time.monotonic() < end, f"{container} is {health(container)}, not {want}, after {timeout} s"
        time.sleep(1)


@pytest.fixture(scope="module")
def qa_on_release_0(releases):
    run = qa_deploy(0)
    assert run.rc == 0, run.out[-3000:]
    wait_health(container_of("api"), "healthy")


def test_all_well_passes_and_the_json_matches_the_schema(qa_on_release_0, tmp_path):
    run = status(tmp_path)
    assert run.rc == 0, run.out[-3000:]
    doc = written(tmp_path)
    assert doc["ok"] is True and doc["alerts"] == [], doc["alerts"]
    assert doc["environment"] == "qa" and doc["platform"] == "compose" and doc["fail_on"] == ALL_KINDS.split(",")
    (qa1,) = doc["hosts"]
    assert qa1["host"] == "qa1" and qa1["release_id"] == release(0)["release_id"] and qa1["healthy"] is True
    assert set(qa1["services"]) == {"api", "store", "worker"}


def test_an_api_made_unhealthy_by_hand_fails_the_status(qa_on_release_0, tmp_path):
    # The api itself keeps answering; its health check can no longer run.
    api = container_of("api")
    on_host("qa1", "docker", "exec", "-u", "0", api, "chmod", "000", "/app/common/health.sh", check=True)
    try:
        wait_health(api, "unhealthy")
        run = status(tmp_path)
    finally:
        on_host("qa1", "docker", "exec", "-u", "0", api, "chmod", "755", "/app/common/health.sh")
    assert run.rc != 0
    said = " ".join(run.out.split())
    alert = f"qa: 1 alert(s) of unhealthy, drift, restarting, down: qa1: {api} is unhealthy."
    assert alert in said, said[-2000:]
    doc = written(tmp_path)
    assert doc["ok"] is False and [(a["host"], a["kind"]) for a in doc["failing"]] == [("qa1", "unhealthy")]
    assert str(tmp_path) in said  # the failure names the status file
    wait_health(api, "healthy")


def test_a_container_changed_by_hand_is_drift(qa_on_release_0, tmp_path):
    """The worker replaced by hand with a container of the store's image: the worker drifted."""
    image = on_host("qa1", "docker", "inspect", "-f", "{{.Image}}", container_of("store")).stdout.strip()
    worker = container_of("worker")
    labels = ("--label", "com.docker.compose.project=sample-app", "--label", "com.docker.compose.service=worker")
    on_host("qa1", "docker", "rm", "-f", worker, check=True)
    on_host("qa1", "docker", "run", "-d", "--name", worker, *labels, "--no-healthcheck", image, "sleep", "600",
            check=True)  # fmt: skip
    try:
        run = status(tmp_path, fail_on="drift")
    finally:
        on_host("qa1", "docker", "rm", "-f", worker)
        again = qa_deploy(0)  # the next deploy puts the release's worker back
    assert run.rc != 0
    said = " ".join(run.out.split())
    assert f"qa1: drift from {release(0)['release_id']} in worker" in said, said[-2000:]
    doc = written(tmp_path)
    assert [a["kind"] for a in doc["failing"]] == ["drift"] and doc["hosts"][0]["drift"]["changed"] == ["worker"]
    assert again.rc == 0, again.out[-3000:]
    assert status(tmp_path / "after").rc == 0
