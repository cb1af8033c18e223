# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of outerloop.docker.deployment_info: what runs on a Docker host for a compose project, and how
it differs from the release that should run.

Three sources, read only:

- the deployment history the deploy modules keep on the host (_domain.history): which release is
  current, when and by whom it was deployed, the last entries;
- the Docker Engine (_platforms.compose_report): the project's containers, their service, state, health,
  restarts, and the registry digest of their image (``RepoDigests`` of the image, the entry of the
  release's repository);
- the release to compare with, and the drift against it (_domain.report).

One-off containers (``docker compose run``) are not part of the deployment and are left out.

The watch (options ``watch``, ``watch_interval``, ``smoke_checks``; the soak of a canary) looks again and
again for ``watch`` seconds: every container running and healthy, no restart count grown and no container
replaced since the first look, the smoke checks (_primitives.http_check, the deploy modules' own) passing.
It stops at the first failure and the module fails naming what it saw; it still changes nothing.
The report itself is _platforms.compose_report's (compose_deploy's plan returns it too, option ``report``);
here are the watch and the module's edge. Everything but gather, watch and run_module is pure.
"""

from __future__ import annotations

import socket
import time

from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import InfoError, run_report_module
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_report import project_report
from ansible_collections.outerloop.docker.plugins.module_utils._primitives import http_check
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import engine_session

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
    with engine_session(params) as client:

        def read() -> dict:
            return project_report(client, params)

        if not params.get("watch") and not params.get("smoke_checks"):
            return read()
        report, result = watch(read, params)
    project = report["project"]
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
