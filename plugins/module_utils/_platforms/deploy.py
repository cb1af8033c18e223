# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a deploy does the same way on every platform: the module's edge, its options, one run's history,
the environment files and the smoke checks.

A platform's deployer (_platforms.compose_deployer, _platforms.swarm_deployer) subclasses Deployer and
implements deploy, rollback and remove; run_deploy_module is the edge both deploy modules share: the
manifest checked, the name checked, the engine session, the deploy lock (none in check mode), every
error turned into fail_json, and the result returned with the diff only when Ansible asked for one.
"""

from __future__ import annotations

import errno
import json
import re
import socket

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.outerloop.docker.plugins.module_utils._domain import history
from ansible_collections.outerloop.docker.plugins.module_utils._domain.lock import DeployLock, LockError, lock_holder
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import ReleaseError, check_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.cli import CliError
from ansible_collections.outerloop.docker.plugins.module_utils._primitives import http_check
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import (
    HAS_YAML,
    YAML_IMPORT_ERROR,
    ComposeFileError,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import (
    EngineError,
    engine_session,
    require_sdk,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import sanitize

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")

# The options both deploy modules spell, default and document the same way (doc_fragments/deploy.py).
DEPLOY_ARG_SPEC = {
    "release": {"type": "dict"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent", "rolled_back"]},
    "environment": {"type": "str"},
    "env": {"type": "dict", "default": {}, "no_log": False},
    "secrets": {"type": "dict", "default": {}, "no_log": True},
    "keep_releases": {"type": "int", "default": 5},
    "overrides": {"type": "dict", "default": {}},
    "allow_unpinned": {"type": "list", "elements": "str", "default": []},
    "smoke_checks": http_check.SMOKE_CHECK_SPEC,
    "rollback_to": {"type": "str"},
    "lock_timeout": {"type": "int", "default": 300},
    "triggered_by": {
        "type": "dict",
        "options": {"user": {"type": "str"}, "awx_job_id": {"type": "str"}, "host": {"type": "str"}},
    },
    "reason": {"type": "str"},
}


def deploy_required_if(name_option: str) -> list:
    """The required_if of a deploy module whose application is named by ``name_option``."""
    return [("state", "present", ("release",)), ("state", "absent", (name_option,)),
            ("state", "rolled_back", (name_option,))]  # fmt: skip


class DeployError(Exception):
    """A deployment that cannot go on; the message says what failed, where, and what to do next.

    ``details`` are returned with the failure (services, logs, history, ...)."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = details


# --------------------------------------------------------------------------- environment files (pure)


def env_file_text(env: dict | None, option: str = "env") -> str:
    """The .env text for compose interpolation: one KEY='value' line per variable, sorted.

    Single quotes keep the value literal (no ``$`` interpolation); a value holding a single quote is
    written in double quotes with ``\\`` and ``"`` escaped. Newlines are refused. ``option`` names the
    option the variables come from in errors (which never show a value).
    """
    if option == "secrets":
        lines = ["# Written by outerloop.docker: the application's secrets for interpolation. Keep it mode 0600."]
    else:  # unchanged, so that the .env of releases stored before stays the same file
        lines = ["# Written by outerloop.docker.compose_deploy: the project environment for interpolation."]
    for key in sorted(env or {}):
        if not _ENV_NAME.match(str(key)):
            raise DeployError(
                f"{option}: {key!r} is not a variable name (letters, digits, _; not starting with a digit)"
            )
        value = (env or {})[key]
        if value is None:
            value = ""
        elif isinstance(value, bool):
            value = "true" if value else "false"
        value = str(value)
        if "\n" in value or "\r" in value:
            raise DeployError(f"{option}: the value of {key} holds a line break; a .env value is one line")
        if "'" not in value:
            lines.append(f"{key}='{value}'")
        else:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key}="{escaped}"')
    return "\n".join(lines) + "\n"


def checked_secrets(secrets, env, where: str) -> dict:
    """The ``secrets`` option as {NAME: str}: names are variable names, values strings (numbers are
    written as text), and no name is in ``env`` as well. DeployError naming the variable, never a value."""
    checked = {}
    for key, value in sorted((secrets or {}).items()):
        if not _ENV_NAME.match(str(key)):
            raise DeployError(f"secrets: {key!r} is not a variable name (letters, digits, _; not starting with a "
                              f"digit), on {where}; nothing was changed")  # fmt: skip
        if key in (env or {}):
            raise DeployError(f"{key} is given both in env and in secrets for {where}: keep it in secrets only "
                              "(env is shown in output, secrets never are); nothing was changed")  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise DeployError(f"secrets: the value of {key} is a {type(value).__name__}, not a string, on {where}: "
                              "quote it (a secret is one line of text); nothing was changed")  # fmt: skip
        checked[str(key)] = str(value)
    return checked


def secrets_file_text(secrets: dict) -> str | None:
    """The release's ``secrets.env`` (the env file format of env_file_text), or None without secrets."""
    return env_file_text(secrets, "secrets") if secrets else None


def stored_environment(files: dict) -> dict:
    """The interpolation variables of a stored release: its ``.env`` and its ``secrets.env``."""
    return {**parse_env_text(files.get(".env") or ""), **parse_env_text(files.get("secrets.env") or "")}


def masked(value, secrets):
    """``value`` (text, or lists and dictionaries of it) with every secret value masked (sanitize)."""
    if not secrets:
        return value
    if isinstance(value, str):
        return sanitize(value, secrets)
    if isinstance(value, dict):
        return {key: masked(item, secrets) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(item, secrets) for item in value]
    return value


def secret_values(params: dict) -> list:
    """The values of the ``secrets`` option, as text, for masking."""
    values = (params.get("secrets") or {}).values()
    return [str(value) for value in values if value not in (None, "") and not isinstance(value, (dict, list))]


def overrides_text(overrides: dict | None) -> str | None:
    """The per-environment compose file (JSON, which Compose reads as YAML), or None without overrides."""
    if not overrides:
        return None
    if not isinstance(overrides, dict):
        raise DeployError("overrides: expected a dictionary in compose file form, for example {services: {api: ...}}")
    return json.dumps(overrides, indent=2, sort_keys=True) + "\n"


def parse_env_text(text: str) -> dict:
    """The variables of a .env text written by env_file_text (the inverse of it)."""
    env = {}
    for line in (text or "").splitlines():
        match = _ENV_LINE.match(line)
        if not match:
            continue
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        env[key] = value
    return env


def plan_services(before: dict, after: dict) -> dict:
    """Per service: ``{"before_digest", "digest", "changed"}`` from {service: digest} before and after."""
    names = sorted(set(before) | set(after))
    return {
        name: {
            "before_digest": before.get(name),
            "digest": after.get(name),
            "changed": before.get(name) != after.get(name),
        }
        for name in names
    }


# --------------------------------------------------------------------------- smoke checks


def smoke_check_spec(check) -> dict:
    """A smoke check with its defaults (_primitives.http_check), a malformed one refused as a DeployError."""
    try:
        return http_check.smoke_check_spec(check)
    except http_check.SmokeCheckError as exc:
        raise DeployError(str(exc)) from None


def run_smoke_checks(checks) -> tuple[list, str | None]:
    """Every check in order until one fails (_primitives.http_check): (results, None) or (results, reason)."""
    try:
        return http_check.run_smoke_checks(checks)
    except http_check.SmokeCheckError as exc:
        raise DeployError(str(exc)) from None


# --------------------------------------------------------------------------- one run


class Deployer:
    r"""One run of a deploy module against one engine: the platform's deployer implements deploy(manifest),
    rollback() and remove(), each returning the module's result (with \`\`diff\`\`) or raising DeployError.

    \`\`where\`\`: what the module runs on, for messages; \`\`errors\`\`: the platform's own exceptions that the
    edge reports as failures (their message is the failure's)."""

    where = "Docker host"
    errors: tuple = ()

    def __init__(self, module, client, name: str):
        self.module = module
        self.client = client
        self.params = module.params
        self.name = name
        self.check_mode = module.check_mode
        self.host = socket.gethostname()
        self.state_dir = self.params["state_dir"]
        self.entries = []
        self.given_by = history.triggered_by(given=self.params.get("triggered_by"))

    @classmethod
    def name_of(cls, params: dict, manifest: dict | None, host: str) -> str:
        """The application's name on this platform (checked), from the options or the manifest."""
        raise NotImplementedError

    def preflight(self) -> None:
        """Refuse, before the lock and before any change, to run where the platform is not."""

    def run(self, state: str, manifest: dict | None) -> dict:
        self.entries = history.read_history(self.state_dir, self.name)
        if state == "present":
            return self.deploy(manifest)
        if state == "rolled_back":
            return self.rollback()
        return self.remove()

    def deploy(self, manifest: dict) -> dict:
        raise NotImplementedError

    def rollback(self) -> dict:
        raise NotImplementedError

    def remove(self) -> dict:
        raise NotImplementedError

    def entry(self, manifest, action, result, started, *, previous=None, reason=None) -> dict:
        return history.new_entry(
            manifest=manifest,
            action=action,
            result=result,
            started=started,
            triggered_by=self.given_by,
            previous_release_id=previous,
            reason=reason,
            environment=self.params.get("environment"),
        )

    def record(self, entry: dict) -> None:
        """Append an entry to the history (written unless in check mode); no secret value reaches it."""
        entry = masked(entry, secret_values(self.params))
        self.entries = history.append_entry(self.entries, entry)
        if not self.check_mode:
            history.write_history(self.state_dir, self.name, self.entries)

    def smoke(self) -> tuple[list, str | None]:
        return run_smoke_checks(self.params["smoke_checks"])

    # ----------------------------------------------------------------- retention

    def secrets(self) -> dict:
        """The ``secrets`` option, checked (checked_secrets)."""
        return checked_secrets(self.params.get("secrets"), self.params.get("env"), self.host)

    def retention_plan(self, pending: dict | None = None) -> list:
        """The stored releases that retention prunes now (``pending``: the entry a check-mode run would add)."""
        keep = self.params.get("keep_releases")
        if keep is not None and keep < 0:
            raise DeployError(f"keep_releases: {keep} is negative; give the number of releases to keep (0 keeps all)")
        entries = self.entries + ([pending] if pending else [])
        stored = set(history.stored_release_ids(self.state_dir, self.name))
        if pending:
            stored.add(pending["release_id"])
        return history.releases_to_prune(entries, stored, keep)

    def prune_release_files(self, release_ids: list) -> None:
        """Remove the stored files of ``release_ids`` and mark their history entries pruned."""
        if not release_ids or self.check_mode:
            return
        for release_id in release_ids:
            history.remove_release_files(self.state_dir, self.name, release_id)
        self.entries = history.mark_pruned(self.entries, release_ids)
        history.write_history(self.state_dir, self.name, self.entries)

    def missing_release(self, release_id: str) -> str:
        """Why a release to go back to is not stored here, and what to do (retention named when it pruned it)."""
        return history.missing_release_text(self.entries, release_id, self.host, self.state_dir, "keep_releases")


# --------------------------------------------------------------------------- the edge


def exit_with_result(module, result: dict) -> None:
    """Exit a deploy module; its ``diff`` is returned only when Ansible asked for diffs."""
    diff = result.pop("diff", None)
    if module._diff and diff:
        result["diff"] = diff
    module.exit_json(**result)


def run_deploy_module(module, deployer_class, *, extra: dict | None = None, after=None) -> None:
    """Run a deploy module with its platform's deployer; exits the module. ``extra``: more keys of the result;
    ``after(client, result)``: called with the engine session still open once the deployer succeeded."""
    require_sdk(module)
    if not HAS_YAML:
        module.fail_json(
            msg=missing_required_lib(f"PyYAML (Debian package python3-yaml) on the {deployer_class.where}"),
            exception=YAML_IMPORT_ERROR,
        )
    params = module.params
    host = socket.gethostname()
    state = params["state"]
    manifest = None
    result = {}
    try:
        if state == "present":
            if not params["release"]:
                raise DeployError("release is required with state=present: give the release manifest (a dict)")
            try:
                manifest = check_manifest(params["release"], "given as release")
            except ReleaseError as exc:
                raise DeployError(
                    f"refusing to deploy on {host}, nothing was changed: {exc}; give the manifest written by "
                    "outerloop.docker.release, unedited",
                    errors=exc.errors,
                ) from None
        name = deployer_class.name_of(params, manifest, host)
        history.project_path(params["state_dir"], name)
        with engine_session(params) as client:
            deployer = deployer_class(module, client, name)
            deployer.preflight()
            if module.check_mode:
                result = deployer.run(state, manifest)
            else:
                holder = lock_holder(host, manifest, state, deployer.given_by)
                with DeployLock(history.lock_path(params["state_dir"], name), holder, params["lock_timeout"]):
                    result = deployer.run(state, manifest)
            result["history"] = deployer.entries[-5:]
            if after is not None:
                after(client, result)
            result.update(extra or {})
    except LockError as exc:
        module.fail_json(msg=str(exc), lock_holder=exc.holder)
    except (DeployError, history.HistoryError, ReleaseError, EngineError, CliError, ComposeFileError,
            *deployer_class.errors) as exc:  # fmt: skip
        # A secret value may come back in what the CLI or a container said: masked here, before Ansible's
        # own no_log masking, so that no result, diff or history entry ever holds one.
        secrets = secret_values(params)
        module.fail_json(msg=masked(str(exc), secrets), **masked(getattr(exc, "details", {}) or {}, secrets))
    except OSError as exc:
        msg = f"cannot write {exc.filename or '?'} on {host}: {exc.strerror or exc}"
        if exc.errno == errno.ENOSPC:
            msg += (
                f"; the file system of {params['state_dir']} is full. What ran before keeps running. Free space "
                "there (docker image prune, or fewer releases kept: keep_releases) and run again"
            )
        module.fail_json(msg=msg)
    exit_with_result(module, masked(result, secret_values(params)))
