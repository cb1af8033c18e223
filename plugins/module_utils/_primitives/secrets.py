# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Secrets, recognised and hidden in one place.

- ``sanitize`` masks known secret values (and their usual encodings) in a text before it is shown;
- ``is_credential_name`` and ``url_credentials`` tell a credential by its name or in a URL;
- ``compose_credentials`` lists the credentials written literally into a compose file, which a
  release (an artifact anyone with read access sees) must never hold.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import Tagged

MASK = "********"

# Credentials: key names, environment variable names, URL user information.
_CREDENTIAL_WORDS = frozenset(
    (
        "auth",
        "authorization",
        "credential",
        "credentials",
        "pass",
        "passphrase",
        "passwd",
        "password",
        "passwords",
        "pwd",
        "secret",
        "secrets",
        "token",
        "tokens",
        "apikey",
        "privatekey",
    )
)
_CREDENTIAL_PAIRS = frozenset(("apikey", "privatekey", "accesskey", "secretkey", "clientsecret"))
_CREDENTIAL_PARTS = ("password", "passwd", "secret", "credential", "apikey", "privatekey")
_HARMLESS_VALUES = frozenset(("", "true", "false", "yes", "no", "on", "off", "0", "1", "none", "null"))
_URL_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://([^\s/?#@]*)@")
_INTERPOLATION = re.compile(r"^\$(?:\{[^{}]+\}|[A-Za-z_][A-Za-z0-9_]*)$")


def sanitize(text: str, secrets) -> str:
    """``text`` with every secret (and its usual encodings) replaced by a mask."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        for form in dict.fromkeys((secret, quote(secret, safe=""), json.dumps(secret)[1:-1])):
            text = text.replace(form, MASK)
    return text


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [word for word in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if word]


def _pairs(words: list) -> list:
    return [(words[i], words[i + 1]) for i in range(len(words) - 1)]


def is_credential_name(name) -> bool:
    """True when a key or variable name says it holds a credential (password, token, secret, auth, ...)."""
    if not isinstance(name, str):
        return False
    words = _words(name)
    if any(word in _CREDENTIAL_WORDS for word in words):
        return True
    if any(a + b in _CREDENTIAL_PAIRS for a, b in _pairs(words)):
        return True
    flat = "".join(words)
    return any(part in flat for part in _CREDENTIAL_PARTS)


def _is_interpolated(value: str) -> bool:
    """True when a compose value takes its content from the environment (``${VAR}``, ``$VAR``)."""
    return "$" in value.replace("$$", "")


def url_credentials(text) -> list[str]:
    """The URLs in ``text`` that carry a credential: ``user:password@``, or any user part in http(s) URLs.

    A password (or http user) given as a compose interpolation (``${DB_PASSWORD}``) is no credential.
    """
    if not isinstance(text, str) or "@" not in text:
        return []
    found = []
    for match in _URL_USERINFO.finditer(text):
        scheme, userinfo = match.group(1).lower(), match.group(2)
        user, colon, password = userinfo.partition(":")
        if colon and password and not _INTERPOLATION.match(password):
            found.append(f"{scheme}://{user}:***@")
        elif not colon and scheme in ("http", "https") and user and not _INTERPOLATION.match(user):
            found.append(f"{scheme}://***@")
    return found


def compose_credentials(data: dict) -> list[str]:
    """Credentials written into a compose file: literal values of environment variables and build
    arguments named like a credential, and URLs with a user and password. Values taken from the
    environment (``${VAR}``) are fine."""
    problems = []
    services = data.get("services") or {}
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        build = service.get("build")
        places = [("environment", service.get("environment"))]
        if isinstance(build, dict):
            places.append(("build.args", build.get("args")))
        for place, values in places:
            for key, value in _variables(values):
                if not is_credential_name(key) or value is None:
                    continue
                text = str(value).strip()
                if text.lower() in _HARMLESS_VALUES or _is_interpolated(text):
                    continue
                problems.append(
                    f"service {name!r} sets {place} {key} to a literal value; a release holds no credentials: "
                    f"take it from the deploy host's environment (${{{key}}}), an env_file or a Compose secret"
                )
    _walk_urls(data, "", problems)
    return problems


def _variables(values):
    if isinstance(values, dict):
        return [(str(k), v) for k, v in values.items()]
    if isinstance(values, list):
        pairs = []
        for item in values:
            if isinstance(item, str):
                key, equals, value = item.partition("=")
                pairs.append((key, value if equals else None))
        return pairs
    return []


def _walk_urls(value, where: str, problems: list) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _walk_urls(item, f"{where}.{key}" if where else str(key), problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk_urls(item, f"{where}[{index}]", problems)
    elif isinstance(value, Tagged):
        _walk_urls(value.value, where, problems)
    elif isinstance(value, str):
        for url in url_credentials(value):
            problems.append(f"{where} holds a URL with credentials ({url}); a release holds no credentials")
