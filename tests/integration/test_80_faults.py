"""Faults on the Compose path, each made for real: the registry down, ansible-playbook killed mid-deploy,
a full disk on the host (qa1), and a production host that stops answering in the middle of a run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from .cd_releases import manifest_path, release, version
from .conftest import ROOT, VENV_BIN, ansible_env, on_host, playbook

STATE = "/var/lib/outerloop/deployments/sample-app"


def qa(patch: int, *extra: str):
    return playbook("outerloop.docker.deploy", "-e", f"outerloop_release_path={manifest_path(patch)}", *extra,
                    inventory="inventories/qa")  # fmt: skip


def current(host: str) -> str | None:
    done = [e for e in json.loads(on_host(host, "cat", f"{STATE}/history.json").stdout or "[]")
            if e["result"] == "succeeded"]  # fmt: skip
    return done[-1]["release_id"] if done else None


def served(host: str) -> str | None:
    answer = on_host(host, "python3", "-c", "import urllib.request; print(urllib.request.urlopen("
                     "'http://127.0.0.1:8080/version', timeout=5).read().decode())")  # fmt: skip
    return json.loads(answer.stdout)["version"] if answer.returncode == 0 else None


@pytest.fixture(scope="module")
def qa_on_release_0(releases):
    run = qa(0)
    assert run.rc == 0, run.out[-3000:]
    assert served("qa1") == version(0)


def test_the_registry_down_changes_nothing_and_says_so(qa_on_release_0):
    on_host("reg1", "systemctl", "stop", "docker-registry", check=True)
    try:
        run = qa(1)
    finally:
        on_host("reg1", "systemctl", "start", "docker-registry", check=True)
    assert run.rc != 0
    said = " ".join(run.out.split())
    assert "reg1:5000" in said and ("Connection refused" in said or "cannot reach" in said), said[-3000:]
    assert served("qa1") == version(0) and current("qa1") == release(0)["release_id"]


def test_a_deploy_killed_with_sigkill_is_taken_over_by_the_next_run(qa_on_release_0):
    before = on_host("qa1", "stat", "-c", "%Y", f"{STATE}/lock").stdout.strip()
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "inventories/qa", "outerloop.docker.deploy",
           "-e", f"outerloop_release_path={manifest_path(1)}"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ansible_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    try:
        end = time.monotonic() + 240
        while on_host("qa1", "stat", "-c", "%Y", f"{STATE}/lock").stdout.strip() == before:
            assert time.monotonic() < end and proc.poll() is None, "the deploy never took the lock"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # ansible-playbook and its ssh connections, mid-deploy
        proc.wait(30)
    holder = json.loads(on_host("qa1", "cat", f"{STATE}/lock").stdout or "{}")
    assert holder.get("pid"), "the killed run left no holder in the lock file"
    on_host("qa1", "kill", "-KILL", str(holder["pid"]))  # the module on the host too, if it still ran
    rerun = qa(1, "-e", "deploy_lock_timeout=30")
    assert rerun.rc == 0, rerun.out[-3000:]
    assert served("qa1") == version(1) and current("qa1") == release(1)["release_id"]


def test_a_full_disk_is_said_and_the_release_before_keeps_serving(qa_on_release_0):
    runs = current("qa1")
    target = 0 if runs == release(1)["release_id"] else 1
    keeps = version(1 - target)
    releases_dir = f"{STATE}/releases"
    on_host("qa1", "mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", releases_dir, check=True)
    try:
        on_host("qa1", "sh", "-c", f"dd if=/dev/zero of={releases_dir}/fill bs=4k 2>/dev/null; true")
        run = qa(target, "-e", "deploy_keep_releases=0")
    finally:
        on_host("qa1", "umount", releases_dir, check=True)
    assert run.rc != 0
    said = " ".join(run.out.split())
    assert "No space left on device" in said and "is full" in said and "What ran before keeps running" in said, said[
        -3000:
    ]
    assert served("qa1") == keeps


def test_an_unreachable_production_host_mid_run_and_a_rerun_finishes(releases):
    """prod1 (the canary) deploys, then prod2 stops answering: the run says who runs what; a rerun finishes."""
    start = {host: current(host) for host in ("prod1", "prod2")}
    patch = 1 if start["prod1"] != release(1)["release_id"] else 0
    want = release(patch)["release_id"]
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "inventories/production", "outerloop.docker.promote",
           "-e", f"outerloop_release_path={manifest_path(patch)}", "-e", "deploy_canary_soak=5",
           "-e", "ansible_ssh_timeout=5"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)  # fmt: skip
    try:
        end = time.monotonic() + 300
        while current("prod1") != want:
            assert time.monotonic() < end and proc.poll() is None, "the canary never deployed"
            time.sleep(0.5)
        # The cgroup freezer can fail once ("unable to freeze") while a process of the host is busy: try again.
        for _attempt in range(5):
            paused = subprocess.run(["docker", "pause", "prod2"], capture_output=True, text=True, check=False)
            if paused.returncode == 0:
                break
            time.sleep(1)
        assert paused.returncode == 0, f"prod2 could not be paused: {paused.stderr}"
        out = proc.communicate(timeout=600)[0]
    finally:
        subprocess.run(["docker", "unpause", "prod2"], check=False)
    said = " ".join(out.split())
    assert proc.returncode != 0
    assert f"prod1 runs {want}" in said and "prod2 runs unknown (unreachable)" in said, said[-3000:]
    assert current("prod1") == want and current("prod2") == start["prod2"]
    rerun = playbook("outerloop.docker.promote", "-e", f"outerloop_release_path={manifest_path(patch)}",
                     inventory="inventories/production")  # fmt: skip
    assert rerun.rc == 0, rerun.out[-3000:]
    assert current("prod2") == want
