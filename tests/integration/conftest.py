"""Integration tests drive the real lab (files run in the order of their number).

The hosts are systemd containers reached over SSH, each with its own Docker Engine, and a TLS registry.

The session starts from FRESH lab hosts (no Docker on them). A whole run provisions them through the
tests themselves (test_10: check mode first, then the real run, then the idempotency runs); every
other file also runs alone, its fixtures making what it needs when no earlier file of the session has:
provisioned_lab (the hosts provisioned, the build host seeded), releases (cd_releases.py: three CI
releases), cluster_provisioning (the swarm's hosts provisioned and the swarm formed, in the background
while the other tests run, only in a session that collected a test that needs it).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
RECAP = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)",
    re.MULTILINE,
)
_spec = importlib.util.spec_from_file_location("outerloop_lab", ROOT / "tests" / "lab" / "lab.py")
lab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lab)

# The hosts test_10 provisions, and the swarm's, which test_50 provisions and forms.
LAB_HOSTS = ["reg1", "build1", "qa1", "staging1", "prod1", "prod2"]
DOCKER_HOSTS = ["qa1", "staging1", "prod1", "prod2"]
ENGINE_HOSTS = ["build1", *DOCKER_HOSTS]
CLUSTER_HOSTS = ["swarm1", "swarm2", "swarm3"]
# Every host but the swarm's (group cluster).
NOT_CLUSTER = ("--limit", "all:!cluster")


@dataclass
class Run:
    rc: int
    out: str

    @property
    def recap(self) -> dict[str, dict[str, int]]:
        return {
            m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"} for m in RECAP.finditer(self.out)
        }

    def changed(self) -> dict[str, int]:
        return {host: stats["changed"] for host, stats in self.recap.items()}


def ansible_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
        PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
        PWD=str(ROOT),
    )
    return env


def playbook(*args: str, inventory: str = "inventories/lab", timeout: int = 900) -> Run:
    """Run ansible-playbook from the repository root, as the README does, and keep all output (with when it
    started and how long it took: runs of the background thread interleave with the others)."""
    started, t0 = time.strftime("%H:%M:%S"), time.monotonic()
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", inventory, *args],
        cwd=ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    out = proc.stdout + proc.stderr
    log = ROOT / "tests" / "output" / "integration.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as fh:
        fh.write(
            f"\n\n##### {started} ansible-playbook {' '.join(args)} -> rc {proc.returncode}"
            f" in {time.monotonic() - t0:.0f} s\n{out}"
        )
    return Run(proc.returncode, out)


def adhoc(pattern: str, module: str, module_args: str, *extra: str) -> Run:
    proc = subprocess.run(
        [str(VENV_BIN / "ansible"), pattern, "-m", module, "-a", module_args, *extra],
        cwd=ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return Run(proc.returncode, proc.stdout + proc.stderr)


def on_host(host: str, *cmd: str, check: bool = False) -> subprocess.CompletedProcess:
    """Look at a lab host from outside Ansible (docker exec), to assert on its real state."""
    return subprocess.run(["docker", "exec", host, *cmd], capture_output=True, text=True, check=check, timeout=300)


def secret(name: str) -> str:
    return (ROOT / ".lab" / "secrets" / name).read_text().split()[0]


@pytest.fixture(scope="session")
def fresh_lab():
    """Every lab host recreated from the host image: no Docker, no registry, no logins.

    OUTERLOOP_KEEP_LAB=1 keeps the running lab as it is, for running one later test file while
    developing (test_10 needs fresh hosts and fails then).
    """
    if os.environ.get("OUTERLOOP_KEEP_LAB") != "1":
        subprocess.run([sys.executable, str(ROOT / "tests" / "lab" / "lab.py"), "reset"], check=True, timeout=600)
    subprocess.run([str(ROOT / "scripts" / "install-collection.sh")], check=True, capture_output=True, timeout=300)
    return LAB_HOSTS


def lab_provisioned() -> bool:
    """What provision.yml leaves on the hosts outside the swarm: the registry service on reg1, Docker on
    every other host, the front proxy on the deploy hosts, the build user in the docker group (a run stopped
    half-way lacks something)."""
    if on_host("reg1", "systemctl", "is-active", "docker-registry").stdout.strip() != "active":
        return False
    if any(on_host(h, "systemctl", "is-active", "docker").stdout.strip() != "active" for h in ENGINE_HOSTS):
        return False
    proxies = (on_host(h, "docker", "inspect", "-f", "{{.State.Running}}", "outerloop-proxy") for h in DOCKER_HOSTS)
    if any(proxy.stdout.strip() != "true" for proxy in proxies):
        return False
    return "docker" in on_host("build1", "id", "-nG", "builder").stdout.split()


@pytest.fixture(scope="session")
def provisioned_lab(fresh_lab, request):
    """Provisioned hosts (provisioning them, but not the swarm's, when no earlier test file has) and the
    build host's base image. When the session has collected a test that needs the cluster, the swarm's
    hosts are provisioned in the background from here on (cluster_provisioning)."""
    if not lab_provisioned():
        run = playbook("outerloop.docker.provision", *NOT_CLUSTER)
        assert run.rc == 0, run.out[-3000:]
    seed = playbook(str(ROOT / "tests" / "lab" / "seed.yml"), "--limit", "build_hosts")
    assert seed.rc == 0, seed.out[-3000:]
    if any("cluster_provisioning" in item.fixturenames for item in request.session.items):
        _CLUSTER.start()
    request.addfinalizer(_CLUSTER.join)  # the session ends after the background run, never during it
    return fresh_lab


class ClusterProvisioning:
    """Provisions the swarm's hosts, forms the swarm and loads the lab's proxy on them, in a thread: their
    Docker installation then overlaps the CI and CD tests instead of adding to the run. The registry host
    is in the play because the Docker hosts trust the CA its role exports.

    Started at most once a session and always waited for (by cluster_provisioning, lab_idle, and at the
    end of the session, even when no test waited for it): a playbook is never cut off half-way."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._result: tuple[Run, Run | None] | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="cluster-provisioning")
            self._thread.start()

    def _work(self) -> None:
        try:
            run = playbook("outerloop.docker.provision", "--limit", "registry:cluster")
            seed = playbook(str(ROOT / "tests" / "lab" / "seed.yml"), "--limit", "cluster") if run.rc == 0 else None
            self._result = (run, seed)
        except BaseException as exc:  # a playbook timeout: raised again in the test that waits for it
            self._error = exc

    def join(self) -> None:
        """Wait until the background run (if one was started) has ended."""
        if self._thread is not None:
            self._thread.join()

    def result(self) -> tuple[Run, Run | None]:
        """The provision run of the swarm's hosts and the seed run after it (None when provisioning failed);
        started here when provisioned_lab did not start it."""
        self.start()
        self.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


_CLUSTER = ClusterProvisioning()


@pytest.fixture(scope="session")
def cluster_provisioning(provisioned_lab):
    """(provision run, seed run) of the swarm's hosts, what test_50 needs: started in the background by
    provisioned_lab (because a collected test needs this fixture) and waited for here."""
    return _CLUSTER.result()


@pytest.fixture
def lab_idle():
    """No playbook of this session still runs on the lab (for a test that takes the lab down)."""
    _CLUSTER.join()


def sample_repo(path: Path, git) -> Path:
    """The sample application in a Git repository of its own at path, one commit, as the pipeline expects."""
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(ROOT / "examples" / "sample-app", path, ignore=shutil.ignore_patterns("__pycache__"))
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "sample-app")
    return path


def start_extra_host(name: str, addr: str) -> Path:
    """Start a host like the lab's, outside the lab inventory; returns an inventory file for it."""
    subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True, check=False)
    subprocess.run(
        ["docker", "run", "-d", "--name", name, "--hostname", name, "--network", "outerloop-lab", "--ip", addr,
         "-v", f"{lab.SSH_KEY}.pub:/root/.ssh/authorized_keys:ro", *lab.HOST_RUN, lab.HOST_IMAGE],
        check=True, capture_output=True,
    )  # fmt: skip
    lab.wait_ssh({name: addr})
    inventory = ROOT / "tests" / "output" / name / "hosts.yml"
    inventory.parent.mkdir(parents=True, exist_ok=True)
    inventory.write_text(
        f"""all:
  vars:
    ansible_user: root
    ansible_python_interpreter: /usr/bin/python3
    ansible_ssh_private_key_file: {lab.SSH_KEY}
    ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
  children:
    docker_hosts:
      hosts:
        {name}:
          ansible_host: {addr}
"""
    )
    return inventory


# The CD tests' releases, made once per session (a fixture shared by test files is found here).
from .cd_releases import releases  # noqa: E402, F401  # pylint: disable=unused-import
