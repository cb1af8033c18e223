# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of outerloop.docker.deployment_info: what runs on a Docker host for a compose project, and how
it differs from the release that should run.

Three sources, read only:

- the deployment history the deploy modules keep on the host (_domain.history): which release is
  current, when and by whom it was deployed, the last entries;
- the Docker Engine (_platforms.compose_host): the project's containers, their service, state, health,
  restarts, and the registry digest of their image (``RepoDigests`` of the image, the entry of the
  release's repository);
- the release to compare with, and the drift against it (_domain.report).

One-off containers (``docker compose run``) are not part of the deployment and are left out.

The watch (options ``watch``, ``watch_interval``, ``smoke_checks``; the soak of a canary) looks again and
again for ``watch`` seconds: every container running and healthy, no restart count grown and no container
replaced since the first look, the smoke checks (_primitives.http_check, the deploy modules' own) passing.
It stops at the first failure and the module fails naming what it saw; it still changes nothing.
Everything but gather, watch and run_module is pure.
"""

from __future__ import annotations

import socket
import time

from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import (
    InfoError,
    drift_report,
    history_summary,
    report_inputs,
    run_report_module,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_host import (
    project_containers,
    repo_digests_of,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives import http_check
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import engine_session
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


# --- The watch (pure) ------------------------------------------------------------------------

# The options of the watch, added to the report's (modules/deployment_info.py documents them).
WATCH_ARG_SPEC = {
    "watch": {"type": "int", "default": 0},
    "watch_interval": {"type": "int", "default": 5},
    "smoke_checks": http_check.SMOKE_CHECK_SPEC,
}


def watch_baseline(report: dict) -> dict:
    """``{container id: {"service", "name", "restart_count"}}`` of a report's containers: the first look."""
    return {
        view["id"]: {"service": name, "name": view["name"], "restart_count": view["restart_count"] or 0}
        for name, service in report["services"].items()
        for view in service["containers"]
    }


def container_trouble(view: dict) -> str | None:
    """Why a container is not running and healthy, in words; None when it is."""
    if view["healthy"]:
        return None
    if view["running"]:
        return f"{view['name']} is {view['health']}" + (
            " (its health check has not passed yet)" if view["health"] == "starting" else ""
        )
    code = f", exit code {view['exit_code']}" if view.get("exit_code") is not None else ""
    return f"{view['name']} is {view['state'] or 'not running'}{code}"


def watch_look(baseline: dict, report: dict) -> dict:
    """One look against the first: ``{"restarts": {service: n}, "restarted": [...], "problems": [...]}``.

    A restart is a restart count grown since the first look, or a container that was not there then (it
    replaced one); a problem is a container that does not run or is not healthy, a container gone, or no
    container at all."""
    restarts = {before["service"]: 0 for before in baseline.values()}
    restarted, problems, seen = [], [], set()
    for name, service in sorted(report["services"].items()):
        restarts.setdefault(name, 0)
        for view in service["containers"]:
            seen.add(view["id"])
            count = view["restart_count"] or 0
            before = baseline.get(view["id"])
            if before is None:
                restarts[name] += 1
                restarted.append(f"{view['name']} is a new container, started since the watch began")
            elif count > before["restart_count"]:
                restarts[name] += count - before["restart_count"]
                restarted.append(f"{view['name']}: restart count {before['restart_count']} -> {count}")
            trouble = container_trouble(view)
            if trouble:
                problems.append(trouble)
    problems += [f"{before['name']} is gone" for cid, before in sorted(baseline.items()) if cid not in seen]
    if not report["services"]:
        problems.append(f"no container of {report['project']} is there")
    return {"restarts": restarts, "restarted": restarted, "problems": problems}


def _counted(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def watch_failure(look: dict, smoke_failure: str | None) -> str | None:
    """What a look saw that fails the watch, in one sentence; None when all is well."""
    parts = [f"{name} restarted {_counted(count, 'time')}" for name, count in sorted(look["restarts"].items()) if count]
    if parts:
        parts[-1] += f" ({'; '.join(look['restarted'])})"
    parts += look["problems"]
    if smoke_failure:
        parts.append(smoke_failure)
    return "; ".join(parts) or None


def watch_summary(checks: int, elapsed: float, restarts: dict, smoke: list, failure: str | None) -> str:
    """``"3 checks in 15 s, 0 restarts, smoke ok"``, and what failed."""
    words = f"{_counted(checks, 'check')} in {round(elapsed)} s, {_counted(sum(restarts.values()), 'restart')}"
    if smoke:
        words += ", smoke " + ("ok" if all(result["ok"] for result in smoke) else "FAILED")
    return words + (f": {failure}" if failure else "")


# --- Against the host ------------------------------------------------------------------------


def collect(client, project: str) -> list:
    """``[(inspect, repo_digests)]`` of every container of the project, running or not."""
    cache = {}
    return [
        (info, repo_digests_of(client, info.get("Image"), cache) or []) for info in project_containers(client, project)
    ]


def watch(read, params: dict, *, clock=None, sleep=None) -> tuple[dict, dict]:
    """Look with ``read()`` (a report) and the smoke checks every ``watch_interval`` seconds for ``watch``
    seconds, stopping at the first failure: (the last report, the ``watch`` result)."""
    clock, sleep = clock or time.monotonic, sleep or time.sleep
    seconds, interval = params.get("watch") or 0, params.get("watch_interval") or 0
    if seconds < 0:
        raise InfoError(f"watch must be 0 or more seconds, not {seconds}")
    if interval < 1:
        raise InfoError(f"watch_interval must be 1 second or more, not {interval}")
    try:
        specs = [http_check.smoke_check_spec(check) for check in params.get("smoke_checks") or []]
    except http_check.SmokeCheckError as exc:
        raise InfoError(str(exc)) from None
    start = clock()
    report = read()
    baseline = watch_baseline(report)
    checks = 0
    while True:
        checks += 1
        look = watch_look(baseline, report)
        smoke, smoke_failure = http_check.run_smoke_checks(specs) if specs else ([], None)
        failure = watch_failure(look, smoke_failure)
        elapsed = clock() - start
        if failure or elapsed >= seconds:
            break
        sleep(min(interval, seconds - elapsed))
        report = read()
    return report, {
        "seconds": seconds,
        "interval": interval,
        "checks": checks,
        "elapsed": round(elapsed, 1),
        "restarts": look["restarts"],
        "restarted": look["restarted"],
        "problems": look["problems"],
        "smoke": smoke,
        "ok": failure is None,
        "failure": failure,
        "summary": watch_summary(checks, elapsed, look["restarts"], smoke, failure),
    }


def gather(params: dict):
    project, entries, expected, known = report_inputs(params, "project", "the compose project name")
    limit = params["history_limit"]
    with engine_session(params) as client:

        def read() -> dict:
            return build_report(project, collect(client, project), entries, expected=expected, known=known, limit=limit)

        if not params.get("watch") and not params.get("smoke_checks"):
            return read()
        report, result = watch(read, params)
    if not result["ok"]:
        raise InfoError(
            f"the watch of {project} on {socket.gethostname()} failed after {result['elapsed']:g} s "
            f"({result['summary']}). The watch changed nothing: look at the containers' logs "
            f"(docker logs NAME) and at their restart policy.",
            deployment=report,
            watch=result,
        )
    return report, {"watch": result}


def run_module(module) -> None:
    """Run outerloop.docker.deployment_info with the module's parameters; exits the module."""
    run_report_module(module, "deployment", gather, reading="the containers of the project")
