"""paramiko: a deploy and a status over ansible_connection=paramiko, as controllers and execution environments
without an OpenSSH client run them; the status's and deployment_info's JMESPath query on the way.

The Docker hosts of inventories/qa get ansible_connection=paramiko from a second inventory source (as a user's
group_vars would set it). Not with -e: an extra variable also reaches the tasks the roles delegate to localhost
(the status file), which paramiko would then try to reach over SSH. Host keys are checked: paramiko reads
~/.ssh/known_hosts (no other file can be named), so the runs get a HOME of their own whose known_hosts holds
qa1's key, read from the host as an administrator would check its fingerprint. -vvv shows each connection.

qa1 is shared: the file deploys release 1 (a change of the api), then release 0 again, the release the other
test files start from. paramiko has no pipelining (every module is copied over SFTP, then run); on the busy lab
a deploy over it took 43 to 87 s, over OpenSSH 63 to 79 s.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from .cd_releases import ADDRESSES, manifest_path, release
from .conftest import ROOT, VENV_BIN, ansible_env, on_host, playbook
from .test_30_cd import runs_release, served_version, version

QA1 = ADDRESSES["qa1"]
PARAMIKO = f"<{QA1}> ESTABLISH PARAMIKO SSH CONNECTION FOR USER: root on PORT 22 TO {QA1}"
OPENSSH = f"<{QA1}> ESTABLISH SSH CONNECTION"


@pytest.fixture(scope="module")
def paramiko_env(tmp_path_factory):
    """(HOME with qa1's host key in .ssh/known_hosts, the inventory source that selects paramiko)."""
    base = tmp_path_factory.mktemp("paramiko")
    ssh = base / "home" / ".ssh"
    ssh.mkdir(parents=True)
    key = on_host("qa1", "cat", "/etc/ssh/ssh_host_ed25519_key.pub", check=True).stdout.split()
    (ssh / "known_hosts").write_text(f"{QA1} {key[0]} {key[1]}\n")
    inventory = base / "paramiko.yml"
    inventory.write_text("all:\n  children:\n    docker_hosts:\n      vars:\n        ansible_connection: paramiko\n")
    return base / "home", inventory


def over_paramiko(paramiko_env, command: str, *args: str, env: dict | None = None):
    """ansible-playbook or ansible on inventories/qa, as conftest runs them, with paramiko for the Docker hosts;
    (rc, output)."""
    home, extra = paramiko_env
    t0 = time.monotonic()
    proc = subprocess.run(
        [str(VENV_BIN / command), "-i", "inventories/qa", "-i", str(extra), *args],
        cwd=ROOT,
        env={**ansible_env(), "HOME": str(home), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = proc.stdout + proc.stderr
    log = ROOT / "tests" / "output" / "integration.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as fh:
        fh.write(
            f"\n\n##### paramiko: {command} {' '.join(args)} -> rc {proc.returncode}"
            f" in {time.monotonic() - t0:.0f} s\n{out}"
        )
    return proc.returncode, out


def deploy(paramiko_env, patch: int, *extra: str):
    path = f"outerloop_release_path={manifest_path(patch)}"
    return over_paramiko(paramiko_env, "ansible-playbook", "outerloop.docker.deploy", "-e", path, *extra)


@pytest.fixture(scope="module")
def deployed(releases, paramiko_env):
    """Release 1 deployed to qa1 over paramiko; release 0, which the other files start from, deployed back at the
    end over OpenSSH."""
    run = deploy(paramiko_env, 1, "-vvv")
    yield run
    path = f"outerloop_release_path={manifest_path(0)}"
    back = playbook("outerloop.docker.deploy", "-e", path, inventory="inventories/qa")
    assert back.rc == 0, back.out[-3000:]


def test_a_deploy_over_paramiko_converges(deployed):
    rc, out = deployed
    assert rc == 0, out[-4000:]
    assert PARAMIKO in out
    assert OPENSSH not in out
    # What runs on qa1, seen from outside Ansible: the digests of release 1, and its version answering.
    assert runs_release("qa1", 1)
    assert served_version("qa1") == version(1)


def test_the_status_over_paramiko_reports_it_and_its_query_picks_it_out(deployed, paramiko_env, tmp_path):
    query = "hosts[].{host: host, release: release_id, healthy: healthy, in_sync: drift.in_sync}"
    rc, out = over_paramiko(
        paramiko_env, "ansible-playbook", "outerloop.docker.status", "-vvv",
        "-e", f"outerloop_release_path={manifest_path(1)}", "-e", f"status_dir={tmp_path}",
        "-e", json.dumps({"status_fail_on": "unhealthy,drift,restarting,down", "status_query": query}),
    )  # fmt: skip
    assert rc == 0, out[-4000:]
    assert PARAMIKO in out
    assert OPENSSH not in out
    picked = [{"host": "qa1", "release": release(1)["release_id"], "healthy": True, "in_sync": True}]
    assert f"{query}: {json.dumps(picked)}" in " ".join(out.split()), out[-3000:]
    # The whole status is still written (and handed on): the query adds to it.
    (path,) = tmp_path.glob("status-qa-*.json")
    status = json.loads(path.read_text())
    assert status["ok"] is True
    assert status["hosts"][0]["release_id"] == release(1)["release_id"]
    assert '"outerloop_status_query"' in out or "outerloop_status_query:" in out


def test_a_bad_status_query_names_it_and_writes_nothing(deployed, tmp_path):
    """(Over OpenSSH: where the query is evaluated does not depend on the connection.)"""
    run = playbook("outerloop.docker.status", "-e", f"status_dir={tmp_path}",
                   "-e", json.dumps({"status_query": "hosts[?healthy"}), inventory="inventories/qa")  # fmt: skip
    assert run.rc != 0
    said = " ".join(run.out.split())
    assert "query 'hosts[?healthy' of the status of qa (deploy_status_query, on the controller for qa1)" in said, said[
        -3000:
    ]
    assert "is not a valid JMESPath expression" in said
    assert list(tmp_path.iterdir()) == []


def test_deployment_info_query_over_paramiko(deployed, paramiko_env):
    as_json = {"ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
    args = "project=sample-app history_limit=0 query='deployment.{release: release_id, digests: services.*.digest}'"
    rc, out = over_paramiko(
        paramiko_env, "ansible", "qa1", "-m", "outerloop.docker.deployment_info", "-a", args, env=as_json
    )
    assert rc == 0, out[-3000:]
    # The JSON result, then ansible's warnings (stderr).
    result, _end = json.JSONDecoder().raw_decode(out, out.index("qa1 | SUCCESS => ") + len("qa1 | SUCCESS => "))
    # Picked out of the full result, which comes beside it (the JSON output sorts keys: the digests as a set).
    assert result["query_result"]["release"] == result["deployment"]["release_id"] == release(1)["release_id"]
    picked = set(result["query_result"]["digests"])
    assert picked == {service["digest"] for service in result["deployment"]["services"].values()}
    assert picked == {service["digest"] for service in release(1)["services"].values()}

    rc, out = over_paramiko(paramiko_env, "ansible", "qa1", "-m", "outerloop.docker.deployment_info",
                            "-a", "project=sample-app query='deployment.services['")  # fmt: skip
    assert rc != 0
    said = " ".join(out.split())
    assert "query 'deployment.services[' of outerloop.docker.deployment_info on qa1 is not a valid JMESPath" in said
