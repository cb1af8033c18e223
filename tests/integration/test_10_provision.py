"""Provisioning the lab for real: registry, Docker hosts and build host, check mode, idempotency, failures.

The fixtures form one story on fresh hosts: check mode -> real run -> second run -> smoke push/pull.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pytest

from .conftest import (
    DOCKER_HOSTS,
    ENGINE_HOSTS,
    LAB_HOSTS,
    NOT_CLUSTER,
    ROOT,
    VENV_BIN,
    Run,
    adhoc,
    ansible_env,
    lab,
    on_host,
    playbook,
    secret,
    start_extra_host,
)

# The swarm's hosts (group cluster, NOT_CLUSTER leaves them out) are provisioned and formed for test_50_swarm.
REGISTRY = "reg1:5000"


def sha256(host: str, path: str) -> str:
    return on_host(host, "sha256sum", path).stdout.split(" ")[0]


def dockerd_pid(host: str) -> str:
    return on_host(host, "systemctl", "show", "--property=MainPID", "--value", "docker").stdout.strip()


@pytest.fixture(scope="module")
def check_run(fresh_lab):
    return playbook("outerloop.docker.provision", *NOT_CLUSTER, "--check", "--diff")


@pytest.fixture(scope="module")
def first_run(check_run):
    return playbook("outerloop.docker.provision", *NOT_CLUSTER)


@pytest.fixture(scope="module")
def second_run(first_run):
    assert first_run.rc == 0, first_run.out[-3000:]
    return playbook("outerloop.docker.provision", *NOT_CLUSTER)


@pytest.fixture(scope="module")
def smoke_run(second_run):
    return playbook("outerloop.docker.smoke", *NOT_CLUSTER)


def test_check_mode_on_fresh_hosts_predicts_changes_and_changes_nothing(check_run):
    assert check_run.rc == 0, check_run.out[-3000:]
    assert set(check_run.recap) == set(LAB_HOSTS)
    assert all(changed > 0 for changed in check_run.changed().values()), check_run.changed()
    for host in ENGINE_HOSTS:
        assert on_host(host, "dpkg-query", "-W", "-f=${Status}", "docker.io").stdout != "install ok installed"
        assert on_host(host, "test", "-e", "/etc/docker").returncode == 1, f"{host}: /etc/docker was created"
    assert on_host("reg1", "test", "-e", "/usr/bin/docker-registry").returncode == 1
    assert on_host("build1", "id", "builder").returncode == 1, "check mode created the build user"


def test_real_run_provisions_every_host(first_run):
    assert first_run.rc == 0, first_run.out[-3000:]
    assert set(first_run.recap) == set(LAB_HOSTS)
    assert all(stats["failed"] == 0 and stats["unreachable"] == 0 for stats in first_run.recap.values())
    for host in ENGINE_HOSTS:
        assert on_host(host, "systemctl", "is-active", "docker").stdout.strip() == "active", host
        assert on_host(host, "docker", "compose", "version", "--short").stdout.startswith("2."), host
        ca = on_host(host, "cat", f"/etc/docker/certs.d/{REGISTRY}/ca.crt").stdout
        assert "BEGIN CERTIFICATE" in ca, f"{host} does not trust the registry CA"
        daemon = json.loads(on_host(host, "cat", "/etc/docker/daemon.json").stdout)
        assert daemon["log-opts"] == {"max-size": "10m", "max-file": "3"}
        assert daemon["live-restore"] is True
        assert daemon["metrics-addr"] == "0.0.0.0:9323"  # the lab's inventory (docs/monitoring.md)
    # dockerd's Prometheus endpoint, scraped from the controller as Prometheus would
    addresses = lab.load_inventory()[0]
    for host in ENGINE_HOSTS:
        with urllib.request.urlopen(f"http://{addresses[host]}:9323/metrics", timeout=10) as resp:
            assert "engine_daemon_engine_info" in resp.read().decode(), host
    assert on_host("reg1", "systemctl", "is-active", "docker-registry").stdout.strip() == "active"
    assert on_host("build1", "id", "-nG", "builder").stdout.split().count("docker") == 1


def test_second_run_changes_nothing(second_run):
    assert second_run.rc == 0, second_run.out[-3000:]
    assert second_run.changed() == dict.fromkeys(LAB_HOSTS, 0)


@pytest.fixture(scope="module")
def verbose_check_run(second_run):
    """Check mode with -vvv and diff on the provisioned hosts: the most verbose run that handles every password."""
    return playbook("outerloop.docker.provision", *NOT_CLUSTER, "--check", "--diff", "-vvv")


def test_check_mode_on_provisioned_hosts_predicts_no_change(verbose_check_run):
    assert verbose_check_run.rc == 0, verbose_check_run.out[-3000:]
    assert verbose_check_run.changed() == dict.fromkeys(LAB_HOSTS, 0)


def test_build_host_pushes_and_every_docker_host_pulls_and_runs(smoke_run):
    assert smoke_run.rc == 0, smoke_run.out[-3000:]
    for host in DOCKER_HOSTS:
        assert f"smoke ok from {host}" not in smoke_run.out  # the container's hostname is not the host's
    assert smoke_run.out.count("smoke ok from ") == len(DOCKER_HOSTS)
    assert smoke_run.out.count(f"pulled {REGISTRY}/outerloop/smoke@sha256:") == len(DOCKER_HOSTS)


def test_registry_answers_401_without_and_200_with_credentials(smoke_run):
    probe = (
        "import base64, ssl, sys, urllib.request, urllib.error\n"
        "ctx = ssl.create_default_context(cafile='/etc/docker/certs.d/reg1:5000/ca.crt')\n"
        "req = urllib.request.Request('https://reg1:5000/v2/')\n"
        "if len(sys.argv) > 1:\n"
        "    req.add_header('Authorization', 'Basic ' + base64.b64encode(sys.argv[1].encode()).decode())\n"
        "try: print(urllib.request.urlopen(req, context=ctx).status)\n"
        "except urllib.error.HTTPError as e: print(e.code)\n"
    )
    assert on_host("qa1", "python3", "-c", probe).stdout.strip() == "401"
    assert on_host("qa1", "python3", "-c", probe, f"deploy:{secret('registry-deploy')}").stdout.strip() == "200"
    assert on_host("qa1", "python3", "-c", probe, "deploy:not-the-password").stdout.strip() == "401"


def test_anonymous_push_is_refused(smoke_run):
    push = on_host(
        "build1",
        "sh",
        "-c",
        f"docker tag outerloop-lab/busybox:1 {REGISTRY}/outerloop/anonymous:1 && "
        f"DOCKER_CONFIG=$(mktemp -d) docker push {REGISTRY}/outerloop/anonymous:1",
    )
    assert push.returncode != 0
    assert "no basic auth credentials" in push.stderr + push.stdout


def test_wrong_password_fails_clearly_and_keeps_the_previous_login(smoke_run):
    config = "/root/.docker/config.json"
    before = sha256("qa1", config)
    run = adhoc("qa1", "outerloop.docker.registry_login", f"registry={REGISTRY} username=deploy password=wrong-pw-4711")
    assert run.rc != 0
    assert "wrong-pw-4711" not in run.out
    assert REGISTRY in run.out and "deploy" in run.out, run.out
    assert sha256("qa1", config) == before
    image = f"{REGISTRY}/outerloop/smoke:build1"
    pull = on_host("qa1", "docker", "pull", image)
    assert pull.returncode == 0, pull.stderr


def test_malformed_daemon_setting_fails_in_preflight_and_changes_nothing(second_run):
    before = {h: (sha256(h, "/etc/docker/daemon.json"), dockerd_pid(h)) for h in ("qa1", "staging1")}
    run = playbook(
        "outerloop.docker.provision",
        "--limit",
        "qa1,staging1",
        "-e",
        json.dumps({"docker_host_daemon_config": {"log-opts": {"max-file": 5}}}),
    )
    assert run.rc != 0
    assert "docker_host_daemon_config['log-opts'] must be a dict of str" in run.out
    assert "nothing was changed on the host" in run.out
    assert run.changed() == {"qa1": 0, "staging1": 0}
    assert {h: (sha256(h, "/etc/docker/daemon.json"), dockerd_pid(h)) for h in ("qa1", "staging1")} == before


@pytest.fixture
def fedora_host(fresh_lab):
    """A lab host that reports itself as Fedora: what the roles must refuse to touch."""
    inventory = start_extra_host("odd1", "172.29.77.99")
    on_host(
        "odd1",
        "sh",
        "-c",
        "printf 'NAME=Fedora Linux\\nID=fedora\\nVERSION_ID=40\\n' > /etc/os-release; "
        "echo 'Fedora release 40 (Forty)' > /etc/redhat-release; rm -f /etc/debian_version",
        check=True,
    )
    yield str(inventory)
    subprocess.run(["docker", "rm", "-f", "-v", "odd1"], capture_output=True, check=False)


def test_unsupported_os_fails_in_preflight_and_changes_nothing(fedora_host):
    run = playbook("outerloop.docker.provision", inventory=fedora_host)
    assert run.rc != 0
    assert "outerloop.docker.docker_host supports" in run.out
    assert "odd1 runs Fedora" in run.out, run.out[-2000:]
    assert run.changed() == {"odd1": 0}
    assert on_host("odd1", "test", "-e", "/etc/docker").returncode == 1


def test_docker_repository_source_is_predicted_in_check_mode(second_run):
    """Docker's own repository cannot be reached here: check what the role would write for it."""
    run = playbook(
        "outerloop.docker.provision",
        "--limit",
        "qa1",
        "--check",
        "--diff",
        "--tags",
        "docker_host_repository",
        "-e",
        json.dumps({"docker_host_package_source": "docker", "docker_host_docker_repo_key": "ARMORED KEY"}),
    )
    assert run.rc == 0, run.out[-3000:]
    for line in (
        "+URIs: https://download.docker.com/linux/debian",
        "+Suites: bookworm",
        "+Components: stable",
        "+Architectures: amd64",
        "+Signed-By: /etc/apt/keyrings/docker.asc",
    ):
        assert line in run.out
    assert on_host("qa1", "test", "-e", "/etc/apt/sources.list.d/docker.sources").returncode == 1


def test_installed_collection_works_from_any_directory(second_run, tmp_path):
    """A user's own playbook, elsewhere, with the collection installed from the built tarball."""
    tarball = max((ROOT / "build").glob("outerloop-docker-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    collections = tmp_path / "collections"
    subprocess.run(
        [str(VENV_BIN / "ansible-galaxy"), "collection", "install", "-p", str(collections), str(tarball)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (tmp_path / "site.yml").write_text(
        "- hosts: qa1\n"
        "  roles:\n"
        "    - outerloop.docker.docker_host\n"
        "  post_tasks:\n"
        "    - ansible.builtin.debug:\n"
        '        msg: "engine {{ docker_host_engine.server_version }} {{ docker_host_engine.storage_driver }}'
        ' compose {{ docker_host_engine.compose_version }}"\n'
    )
    env = {k: v for k, v in ansible_env().items() if k != "ANSIBLE_CONFIG"}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(ROOT / "inventories" / "lab"), "site.yml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "engine 20.10.24+dfsg1 overlay2 compose v2.40.3" in out
    assert Run(proc.returncode, out).changed() == {"qa1": 0}


def test_credentials_never_reach_the_output(verbose_check_run):
    run = verbose_check_run
    assert run.rc == 0, run.out[-3000:]
    assert "TASK [outerloop.docker.docker_host : Log in to the registries]" in run.out
    for name in ("registry-ci", "registry-deploy"):
        assert secret(name) not in run.out
    log = (ROOT / "tests" / "output" / "integration.log").read_text()
    assert secret("registry-ci") not in log
    assert secret("registry-deploy") not in log


def test_rotating_a_registry_password(second_run, tmp_path):
    """New password, rotated as roles/registry/README.md says (the users and the logins): the registry and
    every host that logs in with it change, the build host (another user) does not, and the hosts pull with
    it. A whole provision run would do the same; the second run above shows that it changes nothing else."""
    old = secret("registry-deploy")
    new = "rotated-" + old[::-1]
    extra = tmp_path / "rotate.json"
    extra.write_text(json.dumps({"lab_deploy_password": new}))
    try:
        run = playbook(
            "outerloop.docker.provision", *NOT_CLUSTER, "--tags", "users,docker_host_login", "-e", f"@{extra}"
        )
        assert run.rc == 0, run.out[-3000:]
        changed = run.changed()
        assert changed["reg1"] >= 1 and changed["build1"] == 0, changed
        assert all(changed[h] == 1 for h in DOCKER_HOSTS), changed
        assert new not in run.out and old not in run.out
        assert on_host("qa1", "docker", "pull", f"{REGISTRY}/outerloop/smoke:build1").returncode == 0
    finally:  # back to the lab's password: only the registry's users and the hosts' logins need a look
        restored = playbook("outerloop.docker.provision", *NOT_CLUSTER, "--tags", "users,docker_host_login")
    assert restored.rc == 0, restored.out[-3000:]
    assert on_host("qa1", "docker", "pull", f"{REGISTRY}/outerloop/smoke:build1").returncode == 0
