"""The CD half on the lab: releases made by ci.yml deployed to qa, promoted to staging and production.

Each environment is its own inventory (inventories/qa, staging, production), run as a user would:
ansible-playbook -i inventories/ENV outerloop.docker.deploy|promote|rollback|status. The assertions
look at real state: what the api answers on each host's published port, which digests the
containers run (docker inspect on the host), the hosts' deployment history.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import manifest_digest

from .cd_releases import ADDRESSES, OUT, manifest_path, release, version
from .conftest import ROOT, VENV_BIN, adhoc, ansible_env, on_host, playbook

ENVIRONMENTS = {"qa": ["qa1"], "staging": ["staging1"], "production": ["prod1", "prod2"]}


def deploy(env: str, patch_or_path, playbook_name: str = "deploy", *extra: str):
    path = patch_or_path if isinstance(patch_or_path, Path) else manifest_path(patch_or_path)
    return playbook(f"outerloop.docker.{playbook_name}", "-e", f"outerloop_release_path={path}", *extra,
                    inventory=f"inventories/{env}")  # fmt: skip


def served_version(host: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{ADDRESSES[host]}:8080/version", timeout=5) as resp:
            return json.load(resp)["version"]
    except OSError:
        return None


def running_digests(host: str) -> dict[str, set[str]]:
    """Service -> the repository digests of the images its containers run, from docker on the host."""
    ids = on_host(host, "docker", "ps", "-q", "--filter", "label=com.docker.compose.project=sample-app").stdout.split()
    digests: dict[str, set[str]] = {}
    for cid in ids:
        info = json.loads(on_host(host, "docker", "inspect", cid, check=True).stdout)[0]
        image = json.loads(on_host(host, "docker", "image", "inspect", info["Image"], check=True).stdout)[0]
        service = info["Config"]["Labels"]["com.docker.compose.service"]
        digests.setdefault(service, set()).update(d.split("@", 1)[1] for d in image["RepoDigests"])
    return digests


def runs_release(host: str, patch: int) -> bool:
    services = release(patch)["services"]
    running = running_digests(host)
    return set(running) == set(services) and all(s["digest"] in running[n] for n, s in services.items())


def container_ids(host: str) -> list[str]:
    return sorted(
        on_host(host, "docker", "ps", "-q", "--filter", "label=com.docker.compose.project=sample-app").stdout.split()
    )


def history(host: str) -> list[dict]:
    return json.loads(on_host(host, "cat", "/var/lib/outerloop/deployments/sample-app/history.json", check=True).stdout)


@pytest.fixture(scope="module")
def promoted(releases):
    """Release 0 through qa, staging and production, as the outer loop does."""
    runs = {"qa": deploy("qa", 0), "staging": deploy("staging", 0, "promote"),
            "production": deploy("production", 0, "promote")}  # fmt: skip
    return runs


def test_a_release_goes_through_every_environment_with_its_exact_digests(promoted):
    for env, run in promoted.items():
        assert run.rc == 0, f"{env}: {run.out[-4000:]}"
    for hosts in ENVIRONMENTS.values():
        for host in hosts:
            assert served_version(host) == version(0), host
            assert runs_release(host, 0), (host, running_digests(host))
    assert "prod1 | sample-app-" in promoted["production"].out and "prod2 | sample-app-" in promoted["production"].out


def test_the_same_release_again_changes_nothing(promoted):
    before = container_ids("qa1")
    run = deploy("qa", 0)
    assert run.rc == 0, run.out[-3000:]
    assert run.changed()["qa1"] == 0, run.out[-3000:]
    assert container_ids("qa1") == before


def test_a_promote_to_the_first_environment_is_refused_and_changes_nothing(promoted):
    before = container_ids("qa1")
    run = deploy("qa", 0, "promote")
    assert run.rc != 0
    said = " ".join(run.out.split())
    assert "qa requires no environment before it, so there is nothing to promote from" in said, said[-3000:]
    assert "outerloop.docker.deploy" in said
    assert container_ids("qa1") == before


def test_production_refuses_a_release_not_yet_successful_in_staging(promoted):
    run = deploy("production", 1, "promote")
    assert run.rc != 0
    assert "has not passed staging" in run.out, run.out[-3000:]
    assert "inventories/staging" in run.out
    assert all(runs_release(h, 0) for h in ENVIRONMENTS["production"])


def test_a_manifest_edited_to_point_at_another_digest_is_refused(promoted):
    forged = release(0)
    api, other = forged["services"]["api"], release(1)["services"]["api"]
    api["digest"], api["image"] = other["digest"], other["image"]
    forged.pop("digest", None)
    forged["digest"] = manifest_digest(forged)
    path = OUT / "forged.json"
    path.write_text(json.dumps(forged, indent=2))
    run = deploy("qa", path)
    assert run.rc != 0
    assert "does not match what CI published" in run.out, run.out[-3000:]
    assert runs_release("qa1", 0)


def test_an_unhealthy_release_rolls_back_by_itself(promoted):
    run = deploy("qa", 2)
    assert run.rc != 0
    assert "rolled back" in run.out.lower(), run.out[-4000:]
    # the failure names what the api's health check said last: the status and the body of its /healthz
    said = " ".join(run.out.split())
    health_said = r"api(-\d+)? is unhealthy \(its health check said: exit 1: GET /healthz: HTTP/1\.\d 503"
    assert re.search(health_said, said), said[-3000:]
    assert "503" in said and "store did not answer" in said, said[-3000:]
    # short: the reason and what runs now, not the module's whole result with the history
    assert "history:" not in run.out and "previous_release_id" not in run.out, run.out[-4000:]
    assert served_version("qa1") == version(0)
    assert runs_release("qa1", 0)
    entries = history("qa1")
    broken = [e for e in entries if e["version"] == version(2)]
    assert broken and broken[-1]["result"] == "rolled_back", entries[-3:]
    assert entries[-1]["release_id"] == release(0)["release_id"] and entries[-1]["result"] == "succeeded"


def test_two_deploys_at_once_leave_one_consistent_release(promoted):
    deploy("staging", 0, "promote")  # staging stays at release 0 for the next tests
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "inventories/qa", "outerloop.docker.deploy",
           "-e", f"outerloop_release_path={manifest_path(1)}"]  # fmt: skip
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for run_no in range(2)]  # fmt: skip
    outs = [p.communicate(timeout=600)[0] for p in procs]
    codes = [p.returncode for p in procs]
    assert 0 in codes, outs
    for code, out in zip(codes, outs, strict=True):
        if code != 0:
            assert "lock" in out.lower(), out[-3000:]
    assert served_version("qa1") == version(1)
    assert runs_release("qa1", 1)


def service_containers(host: str, service: str) -> list[str]:
    return sorted(on_host(host, "docker", "ps", "-q", "--filter", "label=com.docker.compose.project=sample-app",
                          "--filter", f"label=com.docker.compose.service={service}").stdout.split())  # fmt: skip


def test_a_release_that_changes_only_the_api_keeps_the_other_images(releases):
    """CI reuses an image whose content did not change: the manifest names every service's digest, the
    same as before for the worker and the store."""
    for name in ("worker", "store"):
        assert len({r["services"][name]["digest"] for r in releases}) == 1, name
    assert len({r["services"]["api"]["digest"] for r in releases}) == 3


def test_production_goes_host_by_host_and_stops_at_the_first_failing_host(promoted):
    """Release 1 (in qa since the test before) reaches staging, then production, where prod2's smoke
    check fails: prod1 keeps release 1, prod2 rolls back to release 0, the run says so. Release 1
    changes only the api: the store and the workers keep running, the same containers."""
    assert deploy("staging", 1, "promote").rc == 0
    kept = {service: service_containers("prod1", service) for service in ("store", "worker")}
    checks = [{"url": "http://127.0.0.1:8080/version", "status": 200,
               "contains": "{{ 'no such text' if inventory_hostname == 'prod2' else '\"version\"' }}"}]  # fmt: skip
    run = deploy("production", 1, "promote", "-e", json.dumps({"deploy_smoke_checks": checks}))
    assert run.rc != 0
    assert served_version("prod1") == version(1) and runs_release("prod1", 1)
    assert served_version("prod2") == version(0) and runs_release("prod2", 0)
    assert {service: service_containers("prod1", service) for service in kept} == kept
    ids = release(1)["release_id"], release(0)["release_id"]
    assert f"Now: prod1 runs {ids[0]}; prod2 runs {ids[1]}." in " ".join(run.out.split()), run.out[-3000:]
    # No promotion proof for production: the run stopped before the play that records it.
    assert "Record in the registry that the release succeeded in production" not in run.out


def test_check_mode_shows_the_digests_that_would_change_and_changes_nothing(promoted):
    before = container_ids("qa1")
    run = deploy("qa", 0, "deploy", "--check", "--diff")
    assert run.rc == 0, run.out[-3000:]
    assert release(1)["services"]["api"]["digest"] in run.out and release(0)["services"]["api"]["digest"] in run.out
    assert container_ids("qa1") == before and served_version("qa1") == version(1)


def test_rollback_and_status_playbooks(promoted):
    run = playbook("outerloop.docker.rollback", inventory="inventories/qa")
    assert run.rc == 0, run.out[-3000:]
    assert served_version("qa1") == version(0)
    status = playbook("outerloop.docker.status",
                      "-e", f"outerloop_release_path={manifest_path(0)}", inventory="inventories/qa")  # fmt: skip
    assert status.rc == 0, status.out[-3000:]
    assert f"qa1 | {release(0)['release_id']} | healthy | in sync" in status.out, status.out[-3000:]


def test_absent_removes_the_application_and_keeps_its_data(promoted):
    args = "project=sample-app state=absent"
    first = adhoc("qa1", "outerloop.docker.compose_deploy", args)
    assert first.rc == 0 and "qa1 | CHANGED" in first.out, first.out[-3000:]
    assert container_ids("qa1") == [] and served_version("qa1") is None
    volumes = on_host("qa1", "docker", "volume", "ls", "-q").stdout.split()
    assert "sample-app_store-data" in volumes
    again = adhoc("qa1", "outerloop.docker.compose_deploy", args)
    assert again.rc == 0 and "qa1 | SUCCESS" in again.out, again.out[-3000:]
