# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which credentials a registry gets, and how its authentication challenge is read.

Credentials come from the module options or, like ``docker``, from a Docker config file (inline
``auths`` entry, or the credential helper it names). A 401 answer carries a challenge
(``WWW-Authenticate``, RFC 7235) that parse_www_authenticate reads.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

from ansible_collections.outerloop.docker.plugins.module_utils._primitives.docker_config import (
    Credentials,
    DockerConfigError,
    credential_helper,
    default_config_path,
    encode_auth,
    entry_credentials,
    get_auths,
    load_config,
    normalize_registry,
    registry_keys,
    resolve_user,
)


def parse_www_authenticate(value: str) -> list:
    """The challenges of a ``WWW-Authenticate`` header (RFC 7235) as ``[(scheme, {param: value})]``.

    Schemes and parameter names are lowercased; quoted values keep their commas and lose their
    backslash escapes. Several challenges in one header (``Basic realm="a", Bearer realm="b"``)
    give several entries. Text that is not a challenge is skipped.
    """
    challenges = []
    current = None
    text = value or ""
    length = len(text)
    pos = 0

    def token_end(start):
        end = start
        while end < length and (text[end].isalnum() or text[end] in "!#$%&'*+-.^_`|~/"):
            end += 1
        return end

    def skip_spaces(start):
        while start < length and text[start] in " \t":
            start += 1
        return start

    def value_at(start):
        """(value, position after it) of a quoted string or a token."""
        if start < length and text[start] == '"':
            start += 1
            chars = []
            while start < length and text[start] != '"':
                if text[start] == "\\" and start + 1 < length:
                    start += 1
                chars.append(text[start])
                start += 1
            return "".join(chars), start + 1  # past the closing quote
        end = start
        while end < length and text[end] not in " \t,":
            end += 1
        return text[start:end], end

    while pos < length:
        while pos < length and text[pos] in " \t,":
            pos += 1
        if pos >= length:
            break
        end = token_end(pos)
        if end == pos:  # a character that starts nothing we know: skip it
            pos += 1
            continue
        name = text[pos:end]
        after = skip_spaces(end)
        if after < length and text[after] == "=":
            value, pos = value_at(skip_spaces(after + 1))
            if current is not None:  # a parameter before any scheme belongs to no challenge
                current[1][name.lower()] = value
        else:
            current = (name.lower(), {})
            challenges.append(current)
            pos = end
    return challenges


@dataclass(frozen=True)
class RegistryAuth:
    """The credentials a lookup or a push uses, and where they came from (for messages)."""

    credentials: Credentials | None
    source: str

    @property
    def secrets(self) -> list:
        if not self.credentials:
            return []
        creds = self.credentials
        return [s for s in (creds.password, creds.identity_token, encode_auth(creds.username, creds.password)) if s]

    def describe(self) -> str:
        if not self.credentials:
            return f"no credentials ({self.source})"
        if self.credentials.identity_token and not self.credentials.password:
            return f"an identity token of user {self.credentials.username!r} from {self.source}"
        return f"user {self.credentials.username!r} from {self.source}"


def run_helper(argv: list, stdin: str):
    """Run a credential helper; (rc, stdout, stderr). Raises FileNotFoundError when it is missing."""
    process = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60, check=False)
    return process.returncode, process.stdout, process.stderr


def helper_credentials(helper: str, key: str, runner=run_helper) -> Credentials | None:
    """The credentials ``docker-credential-<helper> get`` holds for registry ``key``, or None."""
    program = f"docker-credential-{helper}"
    try:
        rc, stdout, stderr = runner([program, "get"], key)
    except FileNotFoundError:
        raise DockerConfigError(
            f"the Docker config names the credential helper {helper!r} for {key}, but {program} is not installed "
            "on this host; install it, or give username and password"
        ) from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise DockerConfigError(f"the credential helper {program} failed to run: {exc}") from None
    if rc != 0:
        if "credentials not found" in (stdout + stderr).lower():
            return None
        raise DockerConfigError(
            f"the credential helper {program} failed for {key} (rc {rc}): {(stderr or stdout).strip()[:200]}"
        )
    try:
        answer = json.loads(stdout)
        username, secret = answer.get("Username") or "", answer.get("Secret") or ""
    except (ValueError, AttributeError):
        raise DockerConfigError(f"the credential helper {program} did not answer with JSON for {key}") from None
    if username == "<token>":
        return Credentials("", "", secret)
    return Credentials(username, secret, "") if (username or secret) else None


def credentials_from_config(config: dict, key: str, runner=run_helper) -> Credentials | None:
    """What Docker would send to registry ``key`` (an ``auths`` key, e.g. ``reg1:5000``) with this
    config: the credential helper's answer when one is set for it, else the inline entry."""
    helper = credential_helper(config, key)
    if helper:
        return helper_credentials(helper, key, runner)
    auths = get_auths(config)
    for name in registry_keys(auths, key):
        credentials = entry_credentials(auths[name])
        if credentials is not None:
            return credentials
    return None


def resolve_auth(params: dict, registry: str, runner=run_helper) -> RegistryAuth:
    """The credentials for ``registry`` (as written in an image reference): the username and
    password options when given, else what the Docker config (config_path, or ~/.docker/config.json
    of user or of the user running the module) stores for the registry."""
    if params.get("username"):
        return RegistryAuth(Credentials(params["username"], params.get("password") or "", ""), "the module options")
    key = normalize_registry(registry)
    path = params.get("config_path")
    if not path:
        path = default_config_path(resolve_user(params.get("user")).home)
    config = load_config(path)
    credentials = credentials_from_config(config, key, runner)
    if credentials is None:
        return RegistryAuth(None, f"{path} holds none for {key}")
    return RegistryAuth(credentials, path)


def login_hint(registry: str, engine_text: str) -> str:
    """What to try next, judged from the engine's error text."""
    text = engine_text.lower()
    if "x509" in text or "certificate" in text or "tls:" in text:
        return (
            "The Docker Engine does not trust the registry's TLS certificate: on the engine's host, put the CA "
            f"that signed it at /etc/docker/certs.d/{registry}/ca.crt (no engine restart needed)."
        )
    if "http response to https client" in text:
        return (
            f"The registry answers plain HTTP: serve it with TLS, or list {registry} in insecure-registries of the "
            "engine's daemon.json."
        )
    if "unauthorized" in text or "incorrect username or password" in text or "401" in text:
        return "Check the username and password (the registry rejected them)."
    if any(word in text for word in ("no such host", "connection refused", "timeout", "no route to host")):
        return (
            "Check the registry address and that the registry runs and is reachable from the Docker Engine's "
            "host (name resolution, port, firewall)."
        )
    return (
        "Check the password, that the registry is reachable from the Docker Engine's host, and that "
        f"/etc/docker/certs.d/{registry}/ca.crt on that host holds the registry's CA."
    )
