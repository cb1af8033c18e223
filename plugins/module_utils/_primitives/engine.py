# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one way the collection's modules reach a Docker Engine: the Docker SDK for Python.

Modules add ENGINE_ARG_SPEC to their argument spec, call require_sdk(module) first (it also refuses an SDK
older than MIN_SDK_VERSION, or one too old for the requests/urllib3 beside it) and
engine_client(module.params) for an APIClient. Errors inside module_utils are raised as
EngineError and turned into fail_json at the edge, in the module's run function.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import sys
import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    import docker
    import docker.errors
    import requests
    import requests.exceptions
    import urllib3
    import urllib3.exceptions

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
    # What a client raises when the engine does not answer in time or the connection breaks.
    TRANSPORT_ERRORS = (requests.exceptions.RequestException, urllib3.exceptions.HTTPError)
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()
    TRANSPORT_ERRORS = ()

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"

# The oldest Docker SDK for Python the modules work with: Debian 12's python3-docker, which the lab's hosts run
# in every integration test (tests/integration/test_36_dependencies.py asserts they run exactly this version).
MIN_SDK_VERSION = "5.0.3"
# Newer releases of the SDK's HTTP libraries break older SDKs at the first request ("Not supported URL scheme
# http+docker", "unexpected keyword argument 'chunked'"): (library, its first such release, the first SDK that
# copes). Debian 12's python3-docker 5.0.3 comes with requests 2.28 and urllib3 1.26, which it works with.
SDK_NEEDS = (
    ("urllib3", "2.0.0", "6.1.0"),
    ("requests", "2.32.0", "7.1.0"),
)


def version_tuple(text: str) -> tuple[int, ...]:
    """The leading numbers of a version string: "5.0.3" -> (5, 0, 3), "2.0.0rc1" -> (2, 0, 0)."""
    numbers = []
    for part in str(text).split("."):
        match = re.match(r"\d+", part)
        if not match:
            break
        numbers.append(int(match.group()))
        if match.end() < len(part):
            break
    return tuple(numbers)


def sdk_problem(sdk: str, libraries: dict[str, str], where: str = "") -> str | None:
    """Why the Docker SDK of version ``sdk`` cannot work beside ``libraries`` ({name: version}), or None.

    ``where`` names the host and the Python of the message, which also says what to install.
    """
    found = f"the Docker SDK for Python {sdk}{' on ' + where if where else ''}"
    if version_tuple(sdk) < version_tuple(MIN_SDK_VERSION):
        return (
            f"{found} is older than {MIN_SDK_VERSION}, the oldest version outerloop.docker works with. Install a "
            f"newer one for that Python: Debian 12's python3-docker ({MIN_SDK_VERSION}), or "
            f"pip install 'docker>={MIN_SDK_VERSION}'"
        )
    for library, breaking, needed in SDK_NEEDS:
        version = libraries.get(library)
        if version and version_tuple(version) >= version_tuple(breaking) and version_tuple(sdk) < version_tuple(needed):
            return (
                f"{found} does not work with {library} {version} ({library} {breaking} and later need the Docker SDK "
                f"{needed} or later). For that Python, pip install 'docker>={needed}', or a {library} older than "
                f"{breaking}"
            )
    return None


def installed_sdk_problem() -> str | None:
    """sdk_problem() for the Docker SDK this Python imported, on this host (None without one: see require_sdk)."""
    if not HAS_DOCKER:
        return None
    libraries = {"requests": requests.__version__, "urllib3": urllib3.__version__}
    return sdk_problem(docker.__version__, libraries, where=f"{platform.node()} ({sys.executable})")


# Options every engine module spells the same way. Document them with the same words.
ENGINE_ARG_SPEC = {
    "docker_host": {"type": "str", "default": None},
    "timeout": {"type": "int", "default": 60},
}


class EngineError(Exception):
    """A failure talking to the engine; the message says what failed and what to do next."""


def require_sdk(module) -> None:
    if not HAS_DOCKER:
        module.fail_json(
            msg=missing_required_lib("docker (the Docker SDK for Python, Debian package python3-docker)"),
            exception=DOCKER_IMPORT_ERROR,
        )
    problem = installed_sdk_problem()
    if problem:
        module.fail_json(msg=problem)


def docker_host_of(params: dict) -> str:
    return params.get("docker_host") or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def engine_client(params: dict):
    """An APIClient for the engine named by docker_host (or DOCKER_HOST, or the local socket)."""
    host = docker_host_of(params)
    try:
        client = docker.APIClient(base_url=host, version="auto", timeout=params.get("timeout") or 60)
        client.ping()
    except Exception as exc:  # any failure here means the same thing to the user
        raise EngineError(
            f"the Docker Engine at {host} does not answer ({exc}); check that the docker service runs "
            "(systemctl status docker) and that this user may use its socket"
        ) from None
    return client


@contextlib.contextmanager
def engine_session(params: dict):
    """An engine client for the length of a with-block; engine failures leave it as EngineError."""
    host = docker_host_of(params)
    client = engine_client(params)
    try:
        yield client
    except docker.errors.APIError as exc:
        raise EngineError(f"the Docker Engine at {host} failed: {exc.explanation or exc}") from None
    except TRANSPORT_ERRORS as exc:
        raise EngineError(
            f"the Docker Engine at {host} did not answer within {params.get('timeout') or 60} s ({exc}); "
            "raise timeout if the engine is busy"
        ) from None
    finally:
        client.close()
