# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one way the collection's modules reach a Docker Engine: the Docker SDK for Python.

Modules add ENGINE_ARG_SPEC to their argument spec, call require_sdk(module) first and
engine_client(module.params) for an APIClient. Errors inside module_utils are raised as
EngineError and turned into fail_json at the edge, in the module's run function.
"""

from __future__ import annotations

import contextlib
import os
import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    import docker
    import docker.errors
    import requests.exceptions
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
