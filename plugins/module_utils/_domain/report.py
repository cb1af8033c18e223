# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the reports of what runs (deployment_info on a Docker host, stack_info on a swarm manager) share:
the release to compare with, the history's summary, drift, and their module edge.

The release to compare with is the ``release`` option, else the current entry of the deployment history
(_domain.history). Drift is per service: ``changed`` (another digest runs than the release names),
``missing`` (a release service that does not run), ``extra`` (a service in neither the release nor its
compose file). Everything but report_inputs and run_report_module is pure.
"""

from __future__ import annotations

import json
import socket

from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import (
    HistoryError,
    current_entry,
    read_history,
    read_release_files,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import ReleaseError, check_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import parse_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import (
    HAS_YAML,
    ComposeFileError,
    load_compose,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import (
    ENGINE_ARG_SPEC,
    EngineError,
    require_sdk,
)

# The options both reports spell, default and document the same way (doc_fragments/report.py).
REPORT_ARG_SPEC = {
    "release": {"type": "dict"},
    "history_limit": {"type": "int", "default": 10},
    # A JMESPath expression, applied to the result on the controller by the action plugin (plugin_utils._query),
    # which takes it out of the module's arguments: the module itself never sees it.
    "query": {"type": "str"},
}


def report_module_args(name_option: str, state_dir: str) -> dict:
    """The AnsibleModule arguments of a report whose application is named by ``name_option`` (or by the
    release) and whose history is kept under ``state_dir`` by default."""
    return {
        "argument_spec": {
            **REPORT_ARG_SPEC,
            **ENGINE_ARG_SPEC,
            name_option: {"type": "str"},
            "state_dir": {"type": "path", "default": state_dir},
        },
        "required_one_of": [(name_option, "release")],
        "supports_check_mode": True,
    }


class InfoError(Exception):
    """Options the module cannot work with, or a watch that saw a failure; the message says what to give
    instead or what was seen. ``details`` are returned with the failure."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = details


def compose_services(manifest: dict | None) -> set | None:
    """The services of a release's compose file; None when they cannot be read (no PyYAML here)."""
    if not manifest or not HAS_YAML:
        return None
    try:
        return set(load_compose(manifest["compose"]["content"])["services"])
    except (ComposeFileError, KeyError, TypeError):
        return None


def expected_from(manifest: dict | None, entry: dict | None) -> dict | None:
    """``{"against", "release_id", "services": {service: digest}, "repositories": {service: repo}}``."""
    if manifest:
        services = manifest["services"]
        return {
            "against": "release",
            "release_id": manifest["release_id"],
            "services": {name: svc["digest"] for name, svc in services.items()},
            "repositories": {name: svc["repository"] for name, svc in services.items()},
        }
    if entry:
        images = entry.get("images") or {}
        return {
            "against": "history",
            "release_id": entry.get("release_id"),
            "services": dict(entry.get("services") or {}),
            "repositories": {name: ref.partition("@")[0] for name, ref in images.items() if isinstance(ref, str)},
        }
    return None


def drift_report(expected: dict, changed, missing, extra) -> dict:
    """The ``drift`` result from the services found changed, missing and extra against ``expected``."""
    return {
        "against": expected["against"],
        "release_id": expected["release_id"],
        "in_sync": not (changed or missing or extra),
        "changed": sorted(changed),
        "missing": sorted(missing),
        "extra": sorted(extra),
    }


def history_summary(entries: list, limit: int) -> dict:
    """What a report says from the deployment history: the current release, when and by whom, the
    last action, and the newest ``limit`` entries, newest first."""
    current = current_entry(entries) or {}
    newest_first = list(reversed(entries))[:limit] if limit > 0 else []
    return {
        "release_id": current.get("release_id"),
        "version": current.get("version"),
        "commit": current.get("commit"),
        "environment": current.get("environment"),
        "deployed_at": current.get("finished"),
        "deployed_by": current.get("triggered_by"),
        "last_action": {key: newest_first[0].get(key) for key in ("action", "result", "release_id", "finished")}
        if newest_first
        else None,
        "history": newest_first,
    }


# --- The history's files ------------------------------------------------------------------


def stored_manifest(state_dir: str, project: str, entry: dict | None) -> dict | None:
    """The manifest the deploy stored for the current release, when it is there and readable."""
    if not entry or not entry.get("release_id"):
        return None
    try:
        files = read_release_files(state_dir, project, entry["release_id"]) or {}
        return parse_manifest(files["manifest.json"]) if "manifest.json" in files else None
    except (HistoryError, ReleaseError):
        return None


def stored_services(state_dir: str, stack: str, entry: dict | None) -> set:
    """Services the stored files of the current release add (the overrides' services, e.g. a proxy)."""
    if not entry or not entry.get("release_id"):
        return set()
    try:
        files = read_release_files(state_dir, stack, entry["release_id"]) or {}
    except HistoryError:
        return set()
    text = files.get("compose.override.yaml")
    try:
        return set((json.loads(text).get("services") or {}) if text else {})
    except (ValueError, AttributeError):
        return set()


# --- The edge --------------------------------------------------------------------------------


def report_inputs(params: dict, name_option: str, what: str, check=None) -> tuple:
    """(name, history entries, what to compare with, the release's compose services or None) of a report.

    ``name_option``: the option that names the application (project, stack), ``what`` says what it is,
    ``check`` validates the name before anything is read.
    """
    manifest = None
    if params.get("release") is not None:
        manifest = check_manifest(params["release"], "given in the release option", parse_compose=HAS_YAML)
    name = params.get(name_option) or (manifest or {}).get("application")
    if not name:
        raise InfoError(f"give {name_option} ({what}), or release to take it from its application")
    if check is not None:
        check(name)
    if params["history_limit"] < 0:
        raise InfoError(f"history_limit must be 0 or more, not {params['history_limit']}")
    entries = read_history(params["state_dir"], name)
    current = current_entry(entries)
    expected = expected_from(manifest, current)
    known = compose_services(manifest or stored_manifest(params["state_dir"], name, current))
    return name, entries, expected, known


def run_report_module(module, key: str, gather, *, reading: str, errors: tuple = ()) -> None:
    """Run a report module: ``gather(params)`` is its result under ``key`` (or ``(report, more result
    keys)``); it never changes anything. ``reading`` names what the engine was asked, for a failure's message."""
    require_sdk(module)
    host = socket.gethostname()
    more = {}
    try:
        report = gather(module.params)
        if isinstance(report, tuple):
            report, more = report
    except (InfoError, ReleaseError, *errors) as exc:
        module.fail_json(msg=str(exc), **(getattr(exc, "details", None) or {}))
    except HistoryError as exc:
        module.fail_json(msg=f"cannot read the deployment history on host {host}: {exc}")
    except EngineError as exc:
        module.fail_json(msg=f"cannot read {reading} on host {host}: {exc}")
    module.exit_json(changed=False, **{key: report}, **more)
