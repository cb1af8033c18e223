# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Docker CLI configuration file (``~/.docker/config.json``) as data.

Pure helpers: they read, compare, change and write the document and raise
DockerConfigError; they never import AnsibleModule. The caller turns errors into
``fail_json`` at the edge.

The file is read and written the way the Docker CLI does it
(github.com/docker/cli, ``cli/config/configfile`` and ``cli/config/credentials``):

- a missing or empty file is an empty configuration;
- ``auths`` maps a registry key to ``{"auth": base64("user:password")}``, plus
  ``"identitytoken"`` when the registry handed out a token instead;
- the key of a registry is ``HOST[:PORT]`` without scheme or path, except for the
  Docker Hub, whose key is ``https://index.docker.io/v1/``;
- the file is rewritten through a temporary file in the same directory, mode 0600, and a
  symlinked config.json is followed, not replaced.
"""

from __future__ import annotations

import base64
import binascii
import collections
import copy
import json
import os
import pwd
import re

from ansible_collections.outerloop.docker.plugins.module_utils._primitives.files import write_atomic
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import DOCKER_HUB_NAMES

INDEX_SERVER = "https://index.docker.io/v1/"
"""The key of the Docker Hub in ``auths`` (the Docker CLI's ``registry.IndexServer``)."""


CONFIG_FILE_MODE = 0o600
CONFIG_DIR_MODE = 0o700

# Host grammar of distribution/reference (domain components or a bracketed IPv6 address),
# with an optional port.
_HOST_RE = re.compile(
    r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)"
    r"(?::[0-9]{1,5})?$"
)

Credentials = collections.namedtuple("Credentials", ["username", "password", "identity_token"])
"""What an ``auths`` entry holds, decoded. Secrets: never log or return password/identity_token."""

Plan = collections.namedtuple("Plan", ["changed", "config", "before", "after"])
"""Result of planning a login or logout: whether the file changes, the new document (the same
object as the input when nothing changes) and secret-free before/after views for diff mode."""

TargetUser = collections.namedtuple("TargetUser", ["name", "uid", "gid", "home"])


class DockerConfigError(Exception):
    """The configuration file or an input cannot be used; the message says what to do."""


# --- Registry keys ---------------------------------------------------------------------------


def registry_host(key: str) -> str:
    """Host part of an ``auths`` key, as the Docker CLI's ``ConvertToHostname`` computes it.

    The Docker Hub names map to INDEX_SERVER. No validation: keys found in a file may be odd.
    """
    host = key
    for scheme in ("http://", "https://"):
        if host.lower().startswith(scheme):
            host = host[len(scheme) :]
            break
    host = host.split("/", 1)[0]
    if host.lower() in DOCKER_HUB_NAMES:
        return INDEX_SERVER
    return host


def normalize_registry(registry: str) -> str:
    """The ``auths`` key for a registry given by a user.

    ``docker.io``, ``index.docker.io`` and ``https://index.docker.io/v1/`` give INDEX_SERVER;
    anything else gives ``HOST[:PORT]`` with scheme and path removed
    (``https://reg1:5000/v2/`` gives ``reg1:5000``).
    """
    if not isinstance(registry, str) or not registry.strip():
        raise DockerConfigError("registry must be a registry host name such as reg1:5000, not an empty string")
    value = registry.strip()
    if any(char.isspace() for char in value):
        raise DockerConfigError(f"registry {registry!r} contains white space; give HOST[:PORT], for example reg1:5000")
    key = registry_host(value)
    if key == INDEX_SERVER:
        return key
    if not key or not _HOST_RE.match(key):
        raise DockerConfigError(
            f"registry {registry!r} is not a registry address; give HOST[:PORT] "
            "(for example reg1:5000 or 10.0.0.5:5443), optionally with https:// in front"
        )
    port = key.rsplit(":", 1)[1] if ":" in key and not key.endswith("]") else None
    if port is not None and not 0 < int(port) < 65536:
        raise DockerConfigError(f"registry {registry!r} has port {port}, which is not between 1 and 65535")
    return key


def registry_keys(auths: dict, key: str) -> list:
    """The keys of ``auths`` that name registry ``key``: the exact key first, then aliases
    such as ``https://reg1:5000`` (the keys ``docker logout`` removes)."""
    keys = [key] if key in auths else []
    keys.extend(k for k in auths if k != key and isinstance(k, str) and registry_host(k) == key)
    return keys


# --- Entries ---------------------------------------------------------------------------------


def check_username(username: str) -> None:
    if not username:
        raise DockerConfigError("username must not be empty")
    if ":" in username:
        raise DockerConfigError(
            f"username {username!r} contains ':'; the Docker config stores base64(user:password), so a user name "
            "cannot contain a colon"
        )


def encode_auth(username: str, password: str) -> str:
    """``base64("user:password")``, the ``auth`` field of an entry."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def decode_auth(auth: str):
    """``(username, password)`` from an ``auth`` field, or None if it is not valid."""
    if not isinstance(auth, str):
        return None
    try:
        decoded = base64.b64decode(auth.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    username, sep, password = decoded.partition(":")
    if not sep:
        return None
    return username, password


def make_entry(username: str, password: str, identity_token: str | None = None) -> dict:
    """The entry the Docker CLI writes after a successful login.

    With an identity token, the CLI drops the password and stores the token instead.
    """
    check_username(username)
    if identity_token:
        return {"auth": encode_auth(username, ""), "identitytoken": identity_token}
    return {"auth": encode_auth(username, password)}


def entry_credentials(entry):
    """Credentials of a stored entry, read like the Docker CLI (``auth`` wins over the
    ``username``/``password`` fields); None if the entry holds none or cannot be decoded."""
    if not isinstance(entry, dict):
        return None
    token = entry.get("identitytoken") or ""
    if not isinstance(token, str):
        return None
    if entry.get("auth"):
        pair = decode_auth(entry["auth"])
        if pair is None:
            return None
        username, password = pair
    else:
        username, password = entry.get("username") or "", entry.get("password") or ""
        if not isinstance(username, str) or not isinstance(password, str):
            return None
    if not username and not password and not token:
        return None
    return Credentials(username, password, token)


def entry_is_current(entry, username: str, password: str, identity_token: str | None = None) -> bool:
    """Whether a stored entry already holds the credentials a login would store.

    A registry that answers with an identity token issues a new one on every login, so an
    entry holding the same username and some identity token (and no password) counts as current.
    """
    stored = entry_credentials(entry)
    if stored is None:
        return False
    if identity_token:
        return stored.username == username and not stored.password and bool(stored.identity_token)
    return stored == Credentials(username, password, "")


# --- The document ----------------------------------------------------------------------------


def get_auths(config: dict) -> dict:
    auths = config.get("auths")
    if auths is None:
        return {}
    if not isinstance(auths, dict):
        raise DockerConfigError(f"'auths' in the Docker config is a {type(auths).__name__}, not a JSON object")
    return auths


def credential_helper(config: dict, key: str):
    """Name of the credential helper Docker uses for registry ``key`` (``credHelpers`` entry,
    else ``credsStore``), or None when Docker reads the inline ``auths`` entry."""
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        for name, helper in helpers.items():
            if helper and isinstance(name, str) and (name == key or registry_host(name) == key):
                return helper
    store = config.get("credsStore")
    return store or None


def describe_login(config: dict, key: str) -> dict:
    """What the document says about registry ``key``, without any secret (for diff mode)."""
    auths = get_auths(config)
    keys = registry_keys(auths, key)
    view = {"registry": key, "logged_in": False}
    stored = entry_credentials(auths[keys[0]]) if keys else None
    if stored is not None:
        view["logged_in"] = True
        view["username"] = stored.username
        view["credentials"] = "identity token (hidden)" if stored.identity_token else "password (hidden)"
    if keys and keys != [key]:
        view["config_keys"] = keys
    return view


def plan_login(config: dict, key: str, username: str, password: str, identity_token: str | None = None) -> Plan:
    """Store the credentials for ``key``, leaving every other part of the document as it is."""
    auths = get_auths(config)
    before = describe_login(config, key)
    if key in auths and entry_is_current(auths[key], username, password, identity_token):
        return Plan(False, config, before, before)
    new_config = copy.deepcopy(config)
    if new_config.get("auths") is None:
        new_config["auths"] = {}
    new_config["auths"][key] = make_entry(username, password, identity_token)
    after = describe_login(new_config, key)
    stored = entry_credentials(auths.get(key))
    if stored is not None and stored.username == username:
        # Same user, other secret: say so, since the views show no secret.
        after["credentials"] += ", replaced"
    return Plan(True, new_config, before, after)


def plan_logout(config: dict, key: str) -> Plan:
    """Remove registry ``key`` (and its aliases, as ``docker logout`` does); nothing else."""
    auths = get_auths(config)
    before = describe_login(config, key)
    keys = registry_keys(auths, key)
    if not keys:
        return Plan(False, config, before, before)
    new_config = copy.deepcopy(config)
    for name in keys:
        del new_config["auths"][name]
    return Plan(True, new_config, before, describe_login(new_config, key))


# --- The file --------------------------------------------------------------------------------


def resolve_user(name: str | None = None) -> TargetUser:
    """The OS account whose Docker config is managed (default: the effective user)."""
    try:
        entry = pwd.getpwnam(name) if name else pwd.getpwuid(os.geteuid())
    except KeyError:
        if name:
            raise DockerConfigError(f"user {name!r} does not exist on this host; create the account first") from None
        raise DockerConfigError(
            f"the user id {os.geteuid()} this runs as has no passwd entry; set user explicitly"
        ) from None
    return TargetUser(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


def default_config_path(home: str) -> str:
    return os.path.join(home, ".docker", "config.json")


def load_config(path: str) -> dict:
    """The document at ``path``; a missing or empty file is ``{}``."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise DockerConfigError(f"cannot read the Docker config {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeError:
        raise DockerConfigError(f"the Docker config {path} is not UTF-8 text; fix or remove it") from None
    if not text.strip():
        return {}
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise DockerConfigError(
            f"the Docker config {path} is not valid JSON ({exc}); fix or remove it, it is not overwritten"
        ) from exc
    if not isinstance(config, dict):
        raise DockerConfigError(f"the Docker config {path} holds a JSON {type(config).__name__}, not an object")
    try:
        get_auths(config)
    except DockerConfigError as exc:
        raise DockerConfigError(f"{path}: {exc}; fix or remove it, it is not overwritten") from exc
    return config


def dump_config(config: dict) -> str:
    """JSON text as the Docker CLI writes it (tab indentation), with a final newline."""
    return json.dumps(config, indent="\t", ensure_ascii=False) + "\n"


def ensure_directory(path: str, uid: int | None = None, gid: int | None = None) -> list:
    """Create ``path`` and missing parents with mode 0700, owned by uid:gid; return what was created."""
    missing = []
    current = os.path.abspath(path)
    while not os.path.isdir(current):
        if os.path.lexists(current):
            raise DockerConfigError(f"{current} exists and is not a directory")
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    created = []
    for directory in reversed(missing):
        try:
            os.mkdir(directory, CONFIG_DIR_MODE)
        except FileExistsError:
            continue
        except OSError as exc:
            raise DockerConfigError(f"cannot create directory {directory}: {exc.strerror or exc}") from exc
        created.append(directory)
        if uid is not None:
            try:
                os.chown(directory, uid, -1 if gid is None else gid)
            except OSError as exc:
                raise DockerConfigError(f"cannot give directory {directory} to uid {uid}: {exc.strerror}") from exc
    return created


def write_config(path: str, config: dict, uid: int | None = None, gid: int | None = None) -> str:
    """Write ``config`` to ``path`` atomically, mode 0600, owned by uid:gid (default: unchanged).

    A reader sees the old or the new document, never half of one (``write_atomic``). A symlinked
    config.json is followed (as the Docker CLI does) so the link survives. Missing directories are
    created (0700). Returns the path of the file actually written.
    """
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    ensure_directory(directory, uid, gid)
    try:
        write_atomic(target, dump_config(config), CONFIG_FILE_MODE, prefix=f".{os.path.basename(target)}.",
                     uid=uid, gid=gid, sync_directory=True)  # fmt: skip
    except OSError as exc:
        raise DockerConfigError(f"cannot write the Docker config {target}: {exc.strerror or exc}") from exc
    return target
