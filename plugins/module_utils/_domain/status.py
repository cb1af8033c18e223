# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The status of one environment as a monitor reads it: one document (docs/status.md, its JSON Schema in
docs/status.schema.json), built from what the reports returned (deployment_info per Compose host,
stack_info from a swarm manager), with the alerts that ``fail_on`` turns into a failed run.

Alert kinds:
- ``unhealthy``: a container (a Compose host) or a service (a swarm) that runs but is not healthy, or not
  all of its desired replicas;
- ``drift``: what runs differs from the release (another digest, a service missing, an extra one);
- ``restarting``: a container that restarts or has restarted since it was created (a Compose host), a
  service whose tasks failed (a swarm);
- ``down``: a host that cannot be reached or whose engine does not answer, an application with nothing
  running although a release is current, a swarm node that is not ready.

Pure: no I/O.
"""

from __future__ import annotations

SCHEMA = "outerloop.docker/status/v1"
KINDS = ("unhealthy", "drift", "restarting", "down")


class StatusError(Exception):
    """An input the status cannot be built from (the message names it)."""


def fail_on_kinds(value, name: str = "status_fail_on") -> list:
    """``value`` (a list, or a comma-separated string; empty = none) as a list of alert kinds."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise StatusError(f"{name} must be a list of {', '.join(KINDS)} (or one string with commas), not {value!r}")
    unknown = [str(kind) for kind in value if kind not in KINDS]
    if unknown:
        raise StatusError(
            f"{name}: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not an alert kind; "
            f"choose among {', '.join(KINDS)}"
        )
    return [kind for kind in KINDS if kind in value]


def _drift(drift) -> dict | None:
    if not drift:
        return None
    return {
        "in_sync": bool(drift.get("in_sync")),
        "changed": list(drift.get("changed") or []),
        "missing": list(drift.get("missing") or []),
        "extra": list(drift.get("extra") or []),
    }


def _drift_words(drift: dict) -> str:
    words = [*drift["changed"], *(f"{name} (missing)" for name in drift["missing"])]
    words += [f"{name} (extra)" for name in drift["extra"]]
    return ", ".join(words)


def _release(info: dict) -> dict:
    return {key: info.get(key) for key in ("release_id", "version", "commit", "deployed_at")}


def host_status(host: str, result, url: str = "") -> dict:
    """One Compose host's status and its alerts, from the registered result of deployment_info."""
    result = result or {}
    record = {"host": host, "url": url or None, "reachable": True, "error": None}
    if result.get("unreachable") or "deployment" not in result:
        reachable = not result.get("unreachable")
        error = result.get("msg") or ("unreachable" if not reachable else "no report")
        record.update(reachable=reachable, error=str(error), release_id=None, version=None, commit=None,
                      deployed_at=None, running=0, healthy=False, drift=None, services={})  # fmt: skip
        what = "cannot be reached" if not reachable else "did not answer the report"
        return {**record, "alerts": [_alert(host, "down", f"{host} {what}: {error}")]}
    info = result["deployment"]
    services = {}
    alerts = []
    for name, svc in sorted((info.get("services") or {}).items()):
        containers = svc.get("containers") or []
        restarting = [c["name"] for c in containers if c.get("state") == "restarting"]
        restarts = sum(int(c.get("restart_count") or 0) for c in containers)
        unhealthy = [c["name"] for c in containers if c.get("running") and not c.get("healthy")]
        stopped = [c["name"] for c in containers if not c.get("running") and c.get("state") != "restarting"]
        services[name] = {
            "running": int(svc.get("running") or 0),
            "containers": len(containers),
            "healthy": bool(svc.get("healthy")),
            "digest": svc.get("digest"),
            "in_sync": svc.get("in_sync"),
            "restarts": restarts,
            "health": sorted({c.get("health") or c.get("state") or "unknown" for c in containers}),
        }
        if unhealthy or stopped:
            bad = unhealthy + stopped
            states = ", ".join(f"{c['name']} is {c.get('health') or c.get('state')}" for c in containers
                               if c["name"] in bad)  # fmt: skip
            alerts.append(_alert(host, "unhealthy", f"{host}: {states}"))
        if restarting or restarts:
            what = f"{', '.join(restarting)} restarting; " if restarting else ""
            alerts.append(_alert(host, "restarting", f"{host}: {name} {what}{restarts} restart(s) since created"))
    drift = _drift(info.get("drift"))
    if drift and not drift["in_sync"]:
        release = info.get("release_id") or "its release"
        alerts.append(_alert(host, "drift", f"{host}: drift from {release} in {_drift_words(drift)}"))
    running = int(info.get("running") or 0)
    if info.get("release_id") and running == 0:
        said = f"{host}: nothing of {info.get('project')} runs, though {info['release_id']} is its current release"
        alerts.append(_alert(host, "down", said))
    record.update(_release(info), running=running, healthy=bool(info.get("healthy")), drift=drift,
                  services=services)  # fmt: skip
    return {**record, "alerts": alerts}


def stack_status(result, url: str = "") -> dict:
    """A swarm stack's status and its alerts, from the registered result of stack_info on a manager."""
    result = result or {}
    if result.get("unreachable") or "stack" not in result:
        error = str(result.get("msg") or "no report")
        down = _alert(None, "down", f"the swarm manager did not report: {error}")
        return {"reachable": False, "error": error, "url": url or None, "release_id": None, "version": None,
                "commit": None, "deployed_at": None, "converged": False, "drift": None, "services": {},
                "nodes": [], "alerts": [down]}  # fmt: skip
    stack = result["stack"]
    alerts = []
    services = {}
    for name, svc in sorted((stack.get("services") or {}).items()):
        errors = list(svc.get("errors") or [])
        services[name] = {
            "replicas": svc.get("replicas"),
            "running": int(svc.get("running") or 0),
            "desired": int(svc.get("desired") or 0),
            "converged": bool(svc.get("converged")),
            "digest": svc.get("digest"),
            "in_sync": svc.get("in_sync"),
            "nodes": list(svc.get("nodes") or []),
            "failed_tasks": len(errors),
        }
        if services[name]["desired"] and services[name]["running"] == 0:
            alerts.append(_alert(None, "down", f"service {name} runs no task (0/{services[name]['desired']})"))
        elif not services[name]["converged"]:
            alerts.append(_alert(None, "unhealthy", f"service {name} runs {svc.get('replicas')}"))
        if errors:
            alerts.append(_alert(None, "restarting", f"service {name}: {len(errors)} failed task(s), the newest: "
                                                     f"{_error_words(errors[-1])}"))  # fmt: skip
    for node in stack.get("nodes_down") or []:
        alerts.append(_alert(node, "down", f"swarm node {node} is not ready"))
    drift = _drift(stack.get("drift"))
    if drift and not drift["in_sync"]:
        alerts.append(_alert(None, "drift", f"drift from {stack.get('release_id') or 'its release'} in "
                                            f"{_drift_words(drift)}"))  # fmt: skip
    nodes = [{"hostname": n.get("hostname"), "state": n.get("state"), "role": n.get("role")}
             for n in stack.get("nodes") or []]  # fmt: skip
    return {"reachable": True, "error": None, "url": url or None, **_release(stack),
            "converged": bool(stack.get("converged")), "drift": drift, "services": services, "nodes": nodes,
            "alerts": alerts}  # fmt: skip


def _error_words(error) -> str:
    if isinstance(error, dict):
        return " on ".join(str(error[key]) for key in ("error", "node") if error.get(key)) or str(error)
    return str(error)


def _alert(host, kind: str, message: str) -> dict:
    return {"host": host, "kind": kind, "message": message}


def environment_status(
    environment: str,
    platform: str,
    project: str,
    reports,
    *,
    fail_on=None,
    generated_at: str = "",
    urls: dict | None = None,
) -> dict:
    """The status document of an environment.

    ``reports``: on Compose hosts ``{host: registered deployment_info result}``; on a swarm the registered
    stack_info result. ``fail_on``: the alert kinds that make ``ok`` false.
    """
    kinds = fail_on_kinds(fail_on)
    urls = urls or {}
    doc = {
        "schema": SCHEMA,
        "generated_at": generated_at,
        "environment": environment or None,
        "platform": platform,
        "project": project or None,
        "fail_on": kinds,
    }
    if platform == "compose":
        if not isinstance(reports, dict):
            raise StatusError(f"the reports of Compose hosts must be a dict of host -> result, not {type(reports)}")
        hosts = [host_status(host, result, urls.get(host, "")) for host, result in reports.items()]
        alerts = [alert for record in hosts for alert in record.pop("alerts")]
        doc["hosts"] = hosts
    elif platform == "swarm":
        stack = stack_status(reports, urls.get("stack", ""))
        alerts = stack.pop("alerts")
        doc["stack"] = stack
    else:
        raise StatusError(f"platform must be compose or swarm, not {platform!r}")
    doc["alerts"] = alerts
    doc["counts"] = {kind: sum(1 for alert in alerts if alert["kind"] == kind) for kind in KINDS}
    failing = [alert for alert in alerts if alert["kind"] in kinds]
    doc["ok"] = not failing
    doc["failing"] = failing
    return doc
