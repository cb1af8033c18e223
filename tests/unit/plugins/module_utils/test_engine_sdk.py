"""The Docker SDK's minimum version: a module run with an SDK that cannot work fails naming what it found."""

import platform
from pathlib import Path

import pytest
import yaml
from ansible_collections.outerloop.docker.plugins.module_utils._primitives import engine
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import (
    MIN_SDK_VERSION,
    require_sdk,
    sdk_problem,
    version_tuple,
)

from . import fake_module
from .fake_module import FakeModule

# What Debian 12 (the lab's hosts) installs with python3-docker.
BOOKWORM = {"requests": "2.28.1", "urllib3": "1.26.12"}
# What pip installs today.
CURRENT = {"requests": "2.34.2", "urllib3": "2.8.0"}


def test_minimum_is_debian_12s_python3_docker():
    assert MIN_SDK_VERSION == "5.0.3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5.0.3", (5, 0, 3)), ("7.1.0", (7, 1, 0)), ("2.0.0rc1", (2, 0, 0)), ("4.1.0+dfsg", (4, 1, 0)), ("10", (10,))],
)
def test_version_tuple(text, expected):
    assert version_tuple(text) == expected


@pytest.mark.parametrize(
    ("sdk", "libraries"),
    [("5.0.3", BOOKWORM), ("6.1.3", BOOKWORM), ("7.1.0", CURRENT), ("7.2.0", CURRENT), ("6.1.0", {"urllib3": "2.0.7"})],
)
def test_sdks_that_work(sdk, libraries):
    assert sdk_problem(sdk, libraries) is None


def test_older_sdk_names_the_version_found_the_minimum_and_the_host():
    message = sdk_problem("4.1.0", BOOKWORM, where="qa1 (/usr/bin/python3)")
    assert message.startswith("the Docker SDK for Python 4.1.0 on qa1 (/usr/bin/python3) is older than 5.0.3")
    assert "python3-docker" in message
    assert "pip install 'docker>=5.0.3'" in message


@pytest.mark.parametrize(
    ("sdk", "libraries", "library", "needed"),
    [
        # docker 5.0.3 with urllib3 2: "HTTPConnection.request() got an unexpected keyword argument 'chunked'".
        ("5.0.3", {"requests": "2.31.0", "urllib3": "2.0.7"}, "urllib3 2.0.7", "6.1.0"),
        # docker 7.0.0 with requests 2.32: "Not supported URL scheme http+docker".
        ("7.0.0", CURRENT, "requests 2.34.2", "7.1.0"),
    ],
)
def test_sdk_too_old_for_its_http_libraries(sdk, libraries, library, needed):
    message = sdk_problem(sdk, libraries, where="build1 (/usr/bin/python3)")
    assert f"the Docker SDK for Python {sdk} on build1 (/usr/bin/python3) does not work with {library}" in message
    assert f"pip install 'docker>={needed}'" in message


def test_require_sdk_fails_a_module_with_an_old_sdk(monkeypatch):
    monkeypatch.setattr(engine.docker, "__version__", "4.4.4")
    module = FakeModule()
    with pytest.raises(fake_module.Exited):
        require_sdk(module)
    assert module.failed
    assert "Docker SDK for Python 4.4.4" in module.result["msg"]
    assert "older than 5.0.3" in module.result["msg"]
    assert platform.node() in module.result["msg"]


def test_require_sdk_lets_the_controllers_sdk_through():
    module = FakeModule()
    require_sdk(module)
    assert not module.failed


def test_docker_host_role_checks_the_same_minimum():
    root = Path(__file__).resolve().parents[4]
    role_vars = yaml.safe_load((root / "roles" / "docker_host" / "vars" / "main.yml").read_text())
    assert role_vars["_docker_host_sdk_minimum"] == MIN_SDK_VERSION
