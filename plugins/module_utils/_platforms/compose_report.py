# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What runs of a compose project on a Docker host, and how it differs from the release that should run: the
``deployment`` report of outerloop.docker.deployment_info, which compose_deploy also returns with its plan
(option ``report``), so that a run that changes nothing needs no second look.

Read only. The engine's view (_platforms.compose_host) of the project's containers, and the history the deploy
modules keep (_domain.history, read by _domain.report.report_inputs). container_view and build_report are pure.
"""

from __future__ import annotations

from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import (
    drift_report,
    history_summary,
    report_inputs,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_host import (
    project_containers,
    repo_digests_of,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import repo_digest
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import COMPOSE_ONEOFF, COMPOSE_SERVICE


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
        if str(labels.get(COMPOSE_ONEOFF, "False")).lower() == "true":
            continue
        name = labels.get(COMPOSE_SERVICE) or "?"
        config_image = (inspect.get("Config") or {}).get("Image")
        digest = repo_digest(repo_digests, repositories.get(name), config_image)
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


def collect(client, project: str) -> list:
    """``[(inspect, repo_digests)]`` of every container of the project, running or not."""
    cache = {}
    return [
        (info, repo_digests_of(client, info.get("Image"), cache) or []) for info in project_containers(client, project)
    ]


def project_report(client, params: dict) -> dict:
    """The ``deployment`` report for the options ``project`` (or the application of ``release``), ``release``
    (what to compare with), ``state_dir`` and ``history_limit``."""
    project, entries, expected, known = report_inputs(params, "project", "the compose project name")
    return build_report(
        project, collect(client, project), entries, expected=expected, known=known, limit=params["history_limit"]
    )
