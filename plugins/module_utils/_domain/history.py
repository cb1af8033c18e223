# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The deployment history kept of each compose project (on its Docker host) and each stack (on the swarm
manager that deploys it): one format, read and written here.

Layout under ``state_dir`` (default COMPOSE_STATE_DIR on a Docker host, STACK_STATE_DIR on a swarm manager), one
directory per project (a stack on a swarm)::

    <state_dir>/<project>/history.json            JSON list of entries, oldest first, newest HISTORY_LIMIT kept
    <state_dir>/<project>/lock                    the deploy lock (fcntl.flock) with its holder as JSON
    <state_dir>/<project>/releases/<release_id>/  what brings that release up again without the controller:
        manifest.json           the release manifest as given
        compose.yaml            the release's compose file, every release image pinned by digest
        compose.override.yaml   the per-environment overrides (absent when there are none)
        compose.proxy.yaml      the published ports of the services behind the front proxy taken away (Compose
                                hosts with compose_deploy's proxy; absent otherwise)
        .env                    the project environment for interpolation (mode 0600: it may hold settings)
        secrets.env             the application's secrets for interpolation (mode 0600; absent without secrets).
                                The only file that ever holds a secret value: never in history.json, never
                                in the manifest nor in any other file of the release

Retention (``keep_releases`` of the deploy modules): only the newest N stored releases of a project keep
their directory (releases_to_prune); the running release and the one a rollback would go to are always
kept. The history keeps the entries of a pruned release, marked ``"pruned": true`` (mark_pruned).

An entry::

    {"release_id", "application", "version", "commit",
     "services": {service: "sha256:..."}, "images": {service: "REGISTRY/REPOSITORY@sha256:..."},
     "action": "deploy" | "rollback" | "remove",
     "result": "succeeded" | "failed" | "rolled_back",
     "started": RFC 3339 UTC, "finished": RFC 3339 UTC,
     "triggered_by": {"user": str or None, "awx_job_id": str or None, "host": str or None},
     "previous_release_id": str or None, "reason": str or None, "environment": str or None}

``triggered_by`` names who started the run on the controller. Modules run on the Docker host, where the
controller's user and AWX job are unknown, so the caller passes them (the deploy role fills the
module's ``triggered_by`` option from the controller's facts and AWX's ``awx_job_id``/``tower_job_id``
variables); what it leaves out is taken from the host's environment (see triggered_by()).

Everything except the *_file functions is pure. Errors are raised as HistoryError.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import shutil
import time

from ansible_collections.outerloop.docker.plugins.module_utils._primitives.files import write_atomic

# Where the history is kept by default: compose_deploy on each Docker host, stack_deploy on the manager.
COMPOSE_STATE_DIR = "/var/lib/outerloop/deployments"
STACK_STATE_DIR = "/var/lib/outerloop/stacks"
HISTORY_LIMIT = 50
ACTIONS = ("deploy", "rollback", "remove")
RESULTS = ("succeeded", "failed", "rolled_back")
ENTRY_KEYS = (
    "release_id",
    "application",
    "version",
    "commit",
    "services",
    "images",
    "action",
    "result",
    "started",
    "finished",
    "triggered_by",
    "previous_release_id",
    "reason",
    "environment",
)
RELEASE_FILES = ("manifest.json", "compose.yaml", "compose.override.yaml", "compose.proxy.yaml", ".env", "secrets.env")
SECRETS_FILE = "secrets.env"
# Beside a release's files: the {service: image} that ``docker compose config`` gave for them, so that a run that
# finds the same files stored needs no second look by Compose (a rerun that changes nothing).
IMAGES_FILE = "images.json"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class HistoryError(ValueError):
    """A history or release directory that cannot be read or written; the message names the file."""


# --------------------------------------------------------------------------- paths


def _safe(name, what: str) -> str:
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or name in (".", ".."):
        raise HistoryError(f"{what} {name!r} cannot be used as a directory name (letters, digits, _ . - only)")
    return name


def project_path(state_dir: str, project: str) -> str:
    return os.path.join(state_dir, _safe(project, "project"))


def history_path(state_dir: str, project: str) -> str:
    return os.path.join(project_path(state_dir, project), "history.json")


def lock_path(state_dir: str, project: str) -> str:
    return os.path.join(project_path(state_dir, project), "lock")


def release_path(state_dir: str, project: str, release_id: str) -> str:
    return os.path.join(project_path(state_dir, project), "releases", _safe(release_id, "release id"))


# --------------------------------------------------------------------------- time and people


def utc_now() -> str:
    """Now as RFC 3339 UTC with seconds, for example 2026-11-26T13:00:00Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def triggered_by(env=None, given=None) -> dict:
    """Who started the run: ``{"user", "awx_job_id", "host"}``.

    ``given`` (the module's ``triggered_by`` option, filled on the controller) wins key by key; what it
    leaves out comes from ``env`` (default os.environ): the user from USER or LOGNAME (else the process
    owner), the AWX job id from AWX_JOB_ID or TOWER_JOB_ID. ``host`` stays None unless given: the host
    running the module is the Docker host, not the controller.
    """
    env = os.environ if env is None else env
    given = given or {}
    user = given.get("user") or env.get("USER") or env.get("LOGNAME")
    if not user:
        try:
            user = getpass.getuser()
        except Exception:  # no name for this uid
            user = None
    job = given.get("awx_job_id") or env.get("AWX_JOB_ID") or env.get("TOWER_JOB_ID")
    return {
        "user": str(user) if user else None,
        "awx_job_id": str(job) if job not in (None, "") else None,
        "host": str(given["host"]) if given.get("host") else None,
    }


# --------------------------------------------------------------------------- entries (pure)


def release_images(manifest: dict) -> tuple[dict, dict]:
    """``(services, images)`` of a release manifest: {service: digest} and {service: image by digest}."""
    services = manifest.get("services") or {}
    return (
        {name: svc.get("digest") for name, svc in services.items()},
        {name: svc.get("image") for name, svc in services.items()},
    )


def new_entry(
    *,
    action: str,
    result: str,
    started: str,
    manifest: dict | None = None,
    release_id: str | None = None,
    application: str | None = None,
    version: str | None = None,
    commit: str | None = None,
    services: dict | None = None,
    images: dict | None = None,
    finished: str | None = None,
    triggered_by: dict | None = None,  # pylint: disable=redefined-outer-name
    previous_release_id: str | None = None,
    reason: str | None = None,
    environment: str | None = None,
) -> dict:
    """A history entry. The release fields come from ``manifest`` unless given one by one."""
    if action not in ACTIONS:
        raise HistoryError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
    if result not in RESULTS:
        raise HistoryError(f"result {result!r} is not one of {', '.join(RESULTS)}")
    if manifest:
        digests, refs = release_images(manifest)
        release_id = release_id or manifest.get("release_id")
        application = application or manifest.get("application")
        version = version or manifest.get("version")
        commit = commit or (manifest.get("source") or {}).get("commit")
        services = digests if services is None else services
        images = refs if images is None else images
    return {
        "release_id": release_id,
        "application": application,
        "version": version,
        "commit": commit,
        "services": dict(services or {}),
        "images": dict(images or {}),
        "action": action,
        "result": result,
        "started": started,
        "finished": finished or utc_now(),
        "triggered_by": dict(triggered_by or {"user": None, "awx_job_id": None, "host": None}),
        "previous_release_id": previous_release_id,
        "reason": reason,
        "environment": environment,
    }


def append_entry(entries: list, entry: dict, limit: int = HISTORY_LIMIT) -> list:
    """A new list: ``entries`` plus ``entry``, only the newest ``limit`` kept."""
    return [*entries, entry][-limit:]


def _succeeded(entry: dict, actions) -> bool:
    return isinstance(entry, dict) and entry.get("result") == "succeeded" and entry.get("action") in actions


def current_entry(entries: list) -> dict | None:
    """The release that should be running: the newest succeeded deploy or rollback, or None when a
    succeeded remove came after it (or nothing ever succeeded)."""
    for entry in reversed(entries):
        if _succeeded(entry, ("remove",)):
            return None
        if _succeeded(entry, ("deploy", "rollback")):
            return entry
    return None


def previous_entry(entries: list, current_release_id: str | None) -> dict | None:
    """The newest succeeded deploy or rollback of a release other than ``current_release_id`` that
    came before the current one: where a rollback goes by default. None when there is none."""
    index = len(entries)
    if current_release_id is not None:
        for i in range(len(entries) - 1, -1, -1):
            entry = entries[i]
            if entry.get("release_id") == current_release_id and _succeeded(entry, ("deploy", "rollback")):
                index = i
                break
    for entry in reversed(entries[:index]):
        if _succeeded(entry, ("deploy", "rollback")) and entry.get("release_id") != current_release_id:
            return entry
    return None


def find_entry(entries: list, release_id: str) -> dict | None:
    """The newest succeeded deploy or rollback of ``release_id``, else its newest entry of any kind."""
    matching = [entry for entry in entries if isinstance(entry, dict) and entry.get("release_id") == release_id]
    for entry in reversed(matching):
        if _succeeded(entry, ("deploy", "rollback")):
            return entry
    return matching[-1] if matching else None


def releases_to_prune(entries: list, stored, keep: int) -> list:
    """The stored releases (ids in ``stored``) that retention removes, oldest first: all but the newest
    ``keep`` of them, newest by their last entry in the history (a stored release the history does not name
    is the oldest). The current release and the one a rollback goes to (previous_entry) are never pruned;
    ``keep`` 0 (or less) keeps everything."""
    stored = set(stored or ())
    if keep is None or keep <= 0 or len(stored) <= keep:
        return []
    newest_first = []
    for entry in reversed(entries or []):
        release_id = entry.get("release_id") if isinstance(entry, dict) else None
        if release_id in stored and release_id not in newest_first:
            newest_first.append(release_id)
    current = current_entry(entries or [])
    current_id = current["release_id"] if current else None
    rollback = previous_entry(entries or [], current_id)
    kept = set(newest_first[:keep]) | {current_id, rollback["release_id"] if rollback else None}
    unknown = sorted(release_id for release_id in stored if release_id not in newest_first)
    return [release_id for release_id in unknown + list(reversed(newest_first)) if release_id not in kept]


def mark_pruned(entries: list, release_ids) -> list:
    """A new list: the entries of ``release_ids`` marked ``"pruned": true`` (their files are gone)."""
    gone = set(release_ids or ())
    return [{**entry, "pruned": True} if entry.get("release_id") in gone else entry for entry in entries]


def is_pruned(entries: list, release_id: str) -> bool:
    """True when the newest entry of ``release_id`` says that retention removed its files."""
    matching = [entry for entry in entries if isinstance(entry, dict) and entry.get("release_id") == release_id]
    return bool(matching) and bool(matching[-1].get("pruned"))


def missing_release_text(entries: list, release_id: str, where: str, state_dir: str, keep_option: str) -> str:
    """Why release ``release_id`` cannot be brought back from ``where``, and what to do instead."""
    if is_pruned(entries, release_id):
        return (
            f"release {release_id} was pruned on {where} by retention ({keep_option} keeps only the newest stored "
            f"releases under {state_dir}): deploy it again from its manifest with state=present (the deploy "
            "playbook with outerloop_release_path), or keep more releases"
        )
    return f"release {release_id} is not stored on {where} under {state_dir}"


def validate_history(data, source: str) -> list:
    """``data`` if it is a history (a list of entries), else HistoryError naming ``source``."""
    if not isinstance(data, list):
        raise HistoryError(f"{source} is not a JSON list of history entries; move it aside to start a new history")
    for index, entry in enumerate(data):
        if not isinstance(entry, dict) or not isinstance(entry.get("release_id"), (str, type(None))):
            raise HistoryError(f"{source}: entry {index} is not a history entry; move the file aside to start anew")
    return data


# --------------------------------------------------------------------------- files


def read_history(state_dir: str, project: str) -> list:
    """The project's history, oldest first; [] when there is none yet."""
    path = history_path(state_dir, project)
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError(f"{path} cannot be read: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise HistoryError(f"{path} is not valid JSON ({exc}); move it aside to start a new history") from None
    return validate_history(data, path)


def write_history(state_dir: str, project: str, entries: list, limit: int = HISTORY_LIMIT) -> None:
    """Write the newest ``limit`` entries atomically (temporary file, then os.replace), mode 0644."""
    path = history_path(state_dir, project)
    text = json.dumps(list(entries)[-limit:], indent=2, sort_keys=True) + "\n"
    write_atomic(path, text, 0o644)


def read_release_files(state_dir: str, project: str, release_id: str) -> dict | None:
    """{file name: text} of a stored release (only the files that exist), or None when it is not stored."""
    directory = release_path(state_dir, project, release_id)
    if not os.path.isdir(directory):
        return None
    files = {}
    for name in RELEASE_FILES:
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as fh:
                files[name] = fh.read()
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise HistoryError(f"{os.path.join(directory, name)} cannot be read: {exc}") from None
    return files


def stored_release_ids(state_dir: str, project: str) -> list:
    """The ids of the releases stored for the project (their directories), sorted."""
    directory = os.path.join(project_path(state_dir, project), "releases")
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(name for name in names if _SAFE_NAME.match(name) and os.path.isdir(os.path.join(directory, name)))


def remove_release_files(state_dir: str, project: str, release_id: str) -> None:
    """Remove a stored release's directory with its files."""
    directory = release_path(state_dir, project, release_id)
    if os.path.isdir(directory) and not os.path.islink(directory):
        shutil.rmtree(directory)


def images_key(files: dict, allow_unpinned) -> str:
    """What a stored images map was worked out from: every file of the release but the secrets (they are not part
    of the key, and never interpolated into an image), and the services allowed to run unpinned."""
    plain = {name: files.get(name) for name in RELEASE_FILES if name != SECRETS_FILE}
    text = json.dumps({"files": plain, "allow_unpinned": sorted(allow_unpinned or [])}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_release_images(state_dir: str, project: str, release_id: str, files: dict, *, allow_unpinned, images: dict):
    """Keep the {service: image} of a stored release's files (see IMAGES_FILE)."""
    document = {"key": images_key(files, allow_unpinned), "images": images}
    path = os.path.join(release_path(state_dir, project, release_id), IMAGES_FILE)
    write_atomic(path, json.dumps(document, sort_keys=True) + "\n", 0o600)


def read_release_images(state_dir: str, project: str, release_id: str, files: dict, allow_unpinned) -> dict | None:
    """The {service: image} kept for exactly these files of the release, or None (not kept, kept for other files,
    or unreadable: the caller asks Compose again)."""
    path = os.path.join(release_path(state_dir, project, release_id), IMAGES_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            document = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("key") != images_key(files, allow_unpinned):
        return None
    images = document.get("images")
    return images if isinstance(images, dict) else None


def write_release_files(state_dir: str, project: str, release_id: str, files: dict) -> str:
    """Store a release's files (mode 0600, directory 0700); a RELEASE_FILES name missing from ``files``
    (or None) is removed. Returns the directory."""
    directory = release_path(state_dir, project, release_id)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    for name in RELEASE_FILES:
        path = os.path.join(directory, name)
        text = files.get(name)
        if text is None:
            if os.path.exists(path):
                os.unlink(path)
            continue
        write_atomic(path, text, 0o600)
    return directory
