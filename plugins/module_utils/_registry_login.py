# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Logging in to a registry: the check through the Docker Engine, the check from this host, and the module run.

``verify_login`` asks the Docker Engine to log in (``POST /auth``, what ``docker login`` does):
the daemon contacts the registry itself, with the CA from ``/etc/docker/certs.d/HOST:PORT/``, so a
login that passes here is one that ``docker pull``/``docker push`` on that engine will accept.
``check_registry`` (``state=verified``) needs no engine: the registry client of _domain.registry_client
asks ``/v2/`` from this host, trusting what the engine here trusts, with the given credentials or the
stored login, and writes nothing (a preflight before a build that will push).
``run_module`` is the edge: it turns the errors of the pure helpers into ``fail_json``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_auth import login_hint
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import (
    RegistryClient,
    registry_client,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_error import RegistryError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_http import CERTS_D
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.docker_config import (
    INDEX_SERVER,
    DockerConfigError,
    check_username,
    credential_helper,
    default_config_path,
    encode_auth,
    load_config,
    normalize_registry,
    plan_login,
    plan_logout,
    resolve_user,
    write_config,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import docker_host_of
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import sanitize

try:
    import docker
    import requests.exceptions

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()


class RegistryLoginError(Exception):
    """The engine refused the login or could not be asked; the message names the next step."""


@contextlib.contextmanager
def _isolated_docker_config():
    """An empty Docker config for the SDK, so it neither reads the user's file (a credsStore there
    would run a helper, a malformed entry would make it fail) nor writes one.

    The SDK reads ``$DOCKER_CONFIG/config.json`` when it builds a client and the file given as
    ``dockercfg_path`` on login; both point at an empty document in a private temporary directory.
    """
    saved = os.environ.get("DOCKER_CONFIG")
    with tempfile.TemporaryDirectory(prefix="outerloop-login-") as directory:
        path = os.path.join(directory, "config.json")
        with open(path, "w") as handle:
            handle.write("{}")
        os.environ["DOCKER_CONFIG"] = directory
        try:
            yield path
        finally:
            if saved is None:
                os.environ.pop("DOCKER_CONFIG", None)
            else:
                os.environ["DOCKER_CONFIG"] = saved


def verify_login(docker_host: str, registry: str, username: str, password: str, timeout: int):
    """Log in through the Docker Engine; return the identity token the registry issued, or None.

    Raises RegistryLoginError, with the password masked, when the engine cannot be reached or the
    registry refuses the login.
    """
    secrets = (password, encode_auth(username, password))
    who = f"registry {registry} as user {username!r}"
    with _isolated_docker_config() as empty_config:
        try:
            client = docker.APIClient(base_url=docker_host, version="auto", timeout=timeout)
        except docker.errors.DockerException as exc:
            raise RegistryLoginError(
                f"Cannot log in to {who}: the Docker Engine at {docker_host} does not answer "
                f"({sanitize(str(exc), secrets)}). Check that dockerd runs and that docker_host (or DOCKER_HOST) "
                "points at its socket."
            ) from None
        try:
            response = client.login(
                username=username,
                password=password,
                registry=registry,
                reauth=True,
                dockercfg_path=empty_config,
            )
        except docker.errors.APIError as exc:
            engine_text = sanitize(str(exc.explanation or exc), secrets)
            raise RegistryLoginError(
                f"Login to {who} failed; the Docker Engine at {docker_host} reported: {engine_text}. "
                f"{login_hint(registry, engine_text)}"
            ) from None
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise RegistryLoginError(
                f"Login to {who} failed: no answer from the Docker Engine at {docker_host} within {timeout}s "
                f"({sanitize(str(exc), secrets)}). Check the engine, or raise timeout for a slow registry."
            ) from None
        finally:
            client.close()
    token = response.get("IdentityToken") if isinstance(response, dict) else None
    return token or None


class LoginCheckClient(RegistryClient):
    """The registry client of the login check: it trusts exactly what the Docker Engine on this host trusts."""

    def tls_hint(self) -> str:
        return (
            f"Put the CA that signed the registry's certificate at {CERTS_D}/{self.registry}/ca.crt on this host "
            "(the Docker Engine reads it there too, no restart needed), and check that the registry is named as "
            "its certificate names it."
        )


def check_registry(params: dict, no_log_values: set, transport=None) -> dict:
    """``state=verified``: the registry answers ``GET /v2/`` from this host over TLS trusted as the Docker
    Engine here trusts it, and accepts the credentials (the username/password options, else the login stored
    in the Docker config of ``user`` or ``config_path``). Reads only. Returns the module's result; raises
    RegistryError (with its ``kind``) or DockerConfigError. Every secret it meets goes into ``no_log_values``.
    """
    registry = normalize_registry(params["registry"])
    if params["username"]:
        check_username(params["username"])
        if not params["password"]:
            raise DockerConfigError(f"password is required with username {params['username']!r}")
        config_path = None
    else:
        config_path = params["config_path"] or default_config_path(resolve_user(params["user"]).home)
    client_params = {
        "username": params["username"],
        "password": params["password"],
        "config_path": config_path,
        "user": None,
    }
    # The client speaks to the registry named as in an image reference; the Docker Hub's key is its index URL.
    client_registry = "docker.io" if registry == INDEX_SERVER else registry
    client = registry_client(
        client_registry, client_params, params["timeout"], transport=transport, client_class=LoginCheckClient
    )
    no_log_values.update(client.secrets)
    try:
        authenticated = client.ping()
    finally:
        no_log_values.update(client.secrets)  # a token the registry issued on the way
    credentials = client.auth.credentials
    return {
        "changed": False,
        "registry": registry,
        "config_path": config_path,
        "username": credentials.username if credentials else None,
        "authenticated": authenticated,
        "credentials_from": "the module options" if params["username"] else (config_path if credentials else None),
    }


def run_verified(module) -> None:
    """``state=verified`` at the edge: ``changed`` is never true; a failure says why in ``reason`` (the ``kind``
    of RegistryError, or ``input`` for an option or a Docker config that cannot be used)."""
    secrets = set()
    try:
        result = check_registry(module.params, secrets)
    except (DockerConfigError, RegistryError) as exc:
        module.no_log_values.update(secrets)
        try:
            registry = normalize_registry(module.params["registry"])
        except DockerConfigError:
            registry = module.params["registry"]
        module.fail_json(
            msg=sanitize(str(exc), secrets), registry=registry, reason=getattr(exc, "kind", "input"), changed=False
        )
    else:
        module.no_log_values.update(secrets)
        module.exit_json(**result)


def run_module(module) -> None:
    """Run outerloop.docker.registry_login with the module's parameters; exits the module."""
    params = module.params
    state = params["state"]
    if state == "verified":
        if params["timeout"] < 1:
            module.fail_json(msg=f"timeout must be at least 1 second, not {params['timeout']}")
        run_verified(module)
        return
    username = params["username"]
    password = params["password"]
    if state == "present" and not HAS_DOCKER:
        module.fail_json(
            msg=missing_required_lib("docker (the Docker SDK for Python, Debian package python3-docker)"),
            exception=DOCKER_IMPORT_ERROR,
        )
    if params["timeout"] < 1:
        module.fail_json(msg=f"timeout must be at least 1 second, not {params['timeout']}")

    registry = config_path = None
    try:
        registry = normalize_registry(params["registry"])
        user = resolve_user(params["user"])
        config_path = params["config_path"] or default_config_path(user.home)
        config = load_config(config_path)
        if state == "present":
            check_username(username)
            helper = credential_helper(config, registry)
            if helper:
                raise DockerConfigError(
                    f"{config_path} names the credential helper {helper!r} for {registry}, so Docker would read the "
                    "credentials from that helper and ignore the auths entry this module writes. Remove "
                    "credsStore/credHelpers from that file, or set config_path to a config without them."
                )
            identity_token = verify_login(docker_host_of(params), registry, username, password, params["timeout"])
            if identity_token:
                module.no_log_values.add(identity_token)
            plan = plan_login(config, registry, username, password, identity_token)
        else:
            plan = plan_logout(config, registry)
        if plan.changed and not module.check_mode:
            write_config(config_path, plan.config, user.uid, user.gid)
    except (DockerConfigError, RegistryLoginError) as exc:
        msg = str(exc)
        if isinstance(exc, RegistryLoginError) and config_path:
            msg += f" Nothing was written to {config_path}; an earlier login stays as it was."
        failure = {"registry": registry} if registry else {}
        if config_path:
            failure["config_path"] = config_path
        module.fail_json(msg=msg, **failure)

    result = {"changed": plan.changed, "registry": registry, "config_path": config_path}
    if state == "present":
        result["username"] = username
    if module._diff:
        result["diff"] = {
            "before": plan.before,
            "after": plan.after,
            "before_header": config_path,
            "after_header": config_path,
        }
    module.exit_json(**result)
