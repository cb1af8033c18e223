# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What runs on a Docker host for a compose project, and how it differs from the release that should run.

Three sources, read only:

- the deployment history the deploy modules keep on the host (``_deploy_history``): which release is
  current, when and by whom it was deployed, the last entries;
- the Docker Engine: the project's containers (label ``com.docker.compose.project``), their service
  (label ``com.docker.compose.service``), state, health, restarts, and the registry digest of their
  image (``RepoDigests`` of the image, the entry of the release's repository);
- the release to compare with: the ``release`` option, else the current entry of the history.

Drift is per service: ``changed`` (a container runs another digest than the release names, or one whose
digest is unknown), ``missing`` (a release service without a container), ``extra`` (a container of a
service that is neither in the release nor in its compose file). One-off containers (``docker compose
run``) are not part of the deployment and are left out.

Everything above ``collect`` is pure; ``run_module`` is the module's edge.
"""

from __future__ import annotations

import socket

from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import (
    HistoryError,
    current_entry,
    read_history,
    read_release_files,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import ReleaseError, check_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import parse_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import HAS_YAML, load_compose
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import (
    HAS_DOCKER,
    EngineError,
    engine_session,
    require_sdk,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRefError,
    normalized_name,
    parse_image_ref,
)

if HAS_DOCKER:
    import docker.errors

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"
NUMBER_LABEL = "com.docker.compose.container-number"


class InfoError(Exception):
    """Options the module cannot work with; the message says what to give instead."""


# --- Pure helpers ----------------------------------------------------------------------------


def _name(reference: str) -> str | None:
    """REGISTRY/REPOSITORY of an image reference, normalised; None when it is no reference."""
    try:
        return normalized_name(parse_image_ref(reference))
    except (ImageRefError, TypeError):
        return None


def image_digest(repo_digests, repository: str | None, config_image: str | None = None) -> str | None:
    """The registry digest of a container's image, preferably in ``repository``.

    ``repo_digests`` are the image's ``RepoDigests`` (``REGISTRY/REPOSITORY@sha256:...``, one per
    repository the image was pushed to or pulled from). The entry of ``repository`` wins (without one,
    of the repository the container was created from, ``config_image``); else the digest the container
    was created from when it names one; else the only entry. None when nothing tells.
    """
    entries = [entry for entry in repo_digests or [] if isinstance(entry, str) and "@" in entry]
    wanted = _name(repository) if repository else None
    if wanted is None and config_image:
        wanted = _name(config_image)
    if wanted is not None:
        for entry in entries:
            name, _sep, digest = entry.partition("@")
            if _name(name) == wanted:
                return digest
    if config_image and "@" in config_image:
        return config_image.rpartition("@")[2]
    if len(entries) == 1:
        return entries[0].partition("@")[2]
    return None


def container_view(inspect: dict, digest: str | None) -> dict:
    """What the report says about one container, from ``docker inspect``."""
    state = inspect.get("State") or {}
    config = inspect.get("Config") or {}
    health = (state.get("Health") or {}).get("Status")
    running = bool(state.get("Running")) and not state.get("Restarting")
    return {
        "name": (inspect.get("Name") or "").lstrip("/"),
        "id": inspect.get("Id"),
        "image": config.get("Image"),
        "image_id": inspect.get("Image"),
        "digest": digest,
        "state": state.get("Status"),
        "running": running,
        "health": health,
        "healthy": running and health in (None, "healthy"),
        "restart_count": inspect.get("RestartCount", 0),
        "started_at": state.get("StartedAt"),
        "exit_code": None if running else state.get("ExitCode"),
    }


def compose_services(manifest: dict | None) -> set | None:
    """The services of a release's compose file; None when they cannot be read (no PyYAML here)."""
    if not manifest or not HAS_YAML:
        return None
    try:
        return set(load_compose(manifest["compose"]["content"])["services"])
    except (ReleaseError, KeyError, TypeError):
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


def build_report(project: str, containers: list, entries: list, *, expected=None, known=None, limit: int = 10) -> dict:
    """The ``deployment`` result from the engine's view and the history.

    ``containers`` is a list of ``(inspect, repo_digests)`` of the project's containers, ``expected`` is
    what expected_from gives, ``known`` the compose file's services (None when unknown).
    """
    repositories = (expected or {}).get("repositories", {})
    digests = (expected or {}).get("services", {})
    services = {}
    for inspect, repo_digests in containers:
        labels = (inspect.get("Config") or {}).get("Labels") or {}
        if str(labels.get(ONEOFF_LABEL, "False")).lower() == "true":
            continue
        name = labels.get(SERVICE_LABEL) or "?"
        config_image = (inspect.get("Config") or {}).get("Image")
        digest = image_digest(repo_digests, repositories.get(name), config_image)
        service = services.setdefault(name, {"containers": []})
        service["containers"].append(container_view(inspect, digest))
    for name, service in services.items():
        views = sorted(service["containers"], key=lambda view: view["name"])
        found = sorted({view["digest"] for view in views if view["digest"]})
        service.update(
            containers=views,
            image=views[0]["image"],
            digest=found[0] if len(found) == 1 else None,
            digests=found,
            running=sum(1 for view in views if view["running"]),
            healthy=all(view["healthy"] for view in views),
            restart_count=sum(view["restart_count"] or 0 for view in views),
            in_release=(name in digests) if expected else None,
            expected_digest=digests.get(name),
            in_sync=None,
        )
    drift = None
    if expected:
        changed, extra = [], []
        for name, service in services.items():
            if name in digests:
                service["in_sync"] = all(view["digest"] == digests[name] for view in service["containers"])
                if not service["in_sync"]:
                    changed.append(name)
            elif known is None or name not in known:
                extra.append(name)
        missing = sorted(name for name in digests if name not in services)
        drift = drift_report(expected, changed, missing, extra)
    return {
        "project": project,
        "exists": bool(services) or bool(entries),
        **history_summary(entries, limit),
        "running": sum(service["running"] for service in services.values()),
        "healthy": bool(services) and all(service["healthy"] for service in services.values()),
        "services": services,
        "drift": drift,
    }


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


# --- Against the host ------------------------------------------------------------------------


def collect(client, project: str) -> list:
    """``[(inspect, repo_digests)]`` of every container of the project, running or not."""
    found = []
    images = {}
    for summary in client.containers(all=True, filters={"label": f"{PROJECT_LABEL}={project}"}):
        try:
            inspect = client.inspect_container(summary["Id"])
        except docker.errors.NotFound:
            continue  # removed between the listing and now
        image_id = inspect.get("Image")
        if image_id not in images:
            try:
                images[image_id] = client.inspect_image(image_id).get("RepoDigests") or []
            except docker.errors.NotFound:
                images[image_id] = []  # the image was removed under the container
        found.append((inspect, images[image_id]))
    return found


def stored_manifest(state_dir: str, project: str, entry: dict | None) -> dict | None:
    """The manifest the deploy stored for the current release, when it is there and readable."""
    if not entry or not entry.get("release_id"):
        return None
    try:
        files = read_release_files(state_dir, project, entry["release_id"]) or {}
        return parse_manifest(files["manifest.json"]) if "manifest.json" in files else None
    except (HistoryError, ReleaseError):
        return None


def gather(params: dict) -> dict:
    manifest = None
    if params.get("release") is not None:
        manifest = check_manifest(params["release"], "given in the release option", parse_compose=HAS_YAML)
    project = params.get("project") or (manifest or {}).get("application")
    if not project:
        raise InfoError("give project (the compose project name), or release to take it from its application")
    if params["history_limit"] < 0:
        raise InfoError(f"history_limit must be 0 or more, not {params['history_limit']}")
    entries = read_history(params["state_dir"], project)
    current = current_entry(entries)
    expected = expected_from(manifest, current)
    known = compose_services(manifest or stored_manifest(params["state_dir"], project, current))
    with engine_session(params) as client:
        containers = collect(client, project)
    return build_report(project, containers, entries, expected=expected, known=known, limit=params["history_limit"])


def run_module(module) -> None:
    """Run outerloop.docker.deployment_info with the module's parameters; exits the module."""
    require_sdk(module)
    host = socket.gethostname()
    try:
        deployment = gather(module.params)
    except (InfoError, ReleaseError) as exc:
        module.fail_json(msg=str(exc))
    except HistoryError as exc:
        module.fail_json(msg=f"cannot read the deployment history on host {host}: {exc}")
    except EngineError as exc:
        module.fail_json(msg=f"cannot list the containers of the project on host {host}: {exc}")
    module.exit_json(changed=False, deployment=deployment)
