# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A diagnosis of what runs of an application: what a developer needs to find out why something failed.

Per host (outerloop.docker.container_diagnose): per container its state, health with the health check's last
outputs (``State.Health.Log``), exit code, OOM kill, restarts, start time, its last log lines since the deploy
and its CPU and memory use against its limit; the engine's events since the deploy (die, oom, health_status);
the disk use of Docker's data and of the stored releases; on a swarm manager, the task history per node.

Per run (the filters diagnosis_report and diagnosis_markdown, playbooks/diagnose.yml): one document (schema
SCHEMA, docs/diagnose.md) of every host, traced back to the release that runs (application, version, commit,
CI build number) and the JUnit files of its build, and the same as Markdown.

Nothing here copies a container's environment (``Config.Env``, where the application's secrets are); log
lines and health outputs pass through _primitives.secrets.sanitize with the values the caller knows to be
secret. Pure: no I/O.
"""

from __future__ import annotations

import calendar
import re
import time

from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import (
    COMPOSE_SERVICE,
    STACK_NAMESPACE,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import sanitize

SCHEMA = "outerloop.docker/diagnosis/v1"
# The engine events a diagnosis keeps: a container that ended, was killed for lack of memory, or whose health
# check changed its verdict. "health_status" events are named "health_status: healthy" and so on.
EVENT_ACTIONS = ("die", "oom", "health_status")
SWARM_SERVICE = "com.docker.swarm.service.name"
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


class DiagnosisError(Exception):
    """An input a diagnosis cannot be made from (the message names it)."""


# --------------------------------------------------------------------------- time


def parse_time(text) -> float | None:
    """Seconds since the epoch of an RFC 3339 time (the engine's nanoseconds, the history's ``Z``); None when it
    is not one (Docker's zero time ``0001-01-01T00:00:00Z`` included)."""
    match = _RFC3339.match(text) if isinstance(text, str) else None
    if not match or text.startswith("0001-"):
        return None
    seconds = float(calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")))
    seconds += float(match.group(2) or 0)
    zone = match.group(3) or "Z"
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds


def rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


# --------------------------------------------------------------------------- the history


def last_deploy(entries: list) -> dict | None:
    """The newest deploy or rollback of the history, whatever its result: what the diagnosis looks at what
    happened since (``started``). None without one."""
    for entry in reversed(entries or []):
        if entry.get("action") in ("deploy", "rollback"):
            return {key: entry.get(key) for key in ("action", "result", "release_id", "started", "finished", "reason")}
    return None


def running_entry(entries: list, running: dict) -> dict | None:
    """The newest deploy or rollback entry whose digests are those the containers run (``running``: {service:
    digest}): the release that runs, even when its deploy failed and was left for diagnosis. None when no entry
    matches every service it has in common with ``running``."""
    known = {name: digest for name, digest in (running or {}).items() if digest}
    for entry in reversed(entries or []):
        if entry.get("action") not in ("deploy", "rollback"):
            continue
        services = entry.get("services") or {}
        common = [name for name in services if name in known]
        if common and all(services[name] == known[name] for name in common):
            return entry
    return None


def release_view(manifest: dict | None, entry: dict | None) -> dict | None:
    """What the diagnosis says of the release that runs: from its stored manifest when there is one (the build
    number and tests are only there), else from its history entry."""
    if not manifest and not entry:
        return None
    manifest = manifest or {}
    entry = entry or {}
    build = manifest.get("build") or {}
    tests = manifest.get("tests") or {}
    commit = (manifest.get("source") or {}).get("commit") or entry.get("commit")
    return {
        "release_id": manifest.get("release_id") or entry.get("release_id"),
        "application": manifest.get("application") or entry.get("application"),
        "version": manifest.get("version") or entry.get("version"),
        "commit": commit,
        "short_commit": commit[:12] if commit else None,
        "source": (manifest.get("source") or {}).get("repository"),
        "build_number": build.get("number"),
        "build_host": build.get("host"),
        "built_at": build.get("created"),
        "tests_passed": tests.get("passed"),
        "tests": {name: suite.get("summary") for name, suite in sorted((tests.get("suites") or {}).items())},
        "deployed_result": entry.get("result"),
        "deployed_at": entry.get("finished"),
        "environment": entry.get("environment"),
    }


# --------------------------------------------------------------------------- containers


def cpu_percent(stats: dict | None) -> float | None:
    """CPU use in percent of one CPU (200.0 = two CPUs busy) between the two samples of one stats answer."""
    if not stats:
        return None
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    used = (cpu.get("cpu_usage") or {}).get("total_usage") or 0
    used -= (pre.get("cpu_usage") or {}).get("total_usage") or 0
    system = (cpu.get("system_cpu_usage") or 0) - (pre.get("system_cpu_usage") or 0)
    cpus = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    if system <= 0 or used < 0:
        return 0.0 if system > 0 else None
    return round(used / system * cpus * 100.0, 2)


def memory_view(stats: dict | None, configured_limit: int | None) -> dict:
    """Memory use against the limit: ``{"usage", "limit", "limited", "percent"}`` in bytes. ``usage`` leaves the
    page cache out as ``docker stats`` does (cgroup v2 ``inactive_file``, v1 ``cache``); ``limit`` is the
    container's own (``HostConfig.Memory``), else what the engine reports (the host's memory)."""
    memory = (stats or {}).get("memory_stats") or {}
    usage = memory.get("usage")
    if usage is not None:
        details = memory.get("stats") or {}
        usage -= details.get("inactive_file", details.get("total_inactive_file", details.get("cache", 0))) or 0
        usage = max(usage, 0)
    limit = configured_limit or memory.get("limit") or None
    return {
        "usage": usage,
        "limit": limit,
        "limited": bool(configured_limit),
        "percent": round(usage / limit * 100.0, 2) if usage is not None and limit else None,
    }


def health_view(state: dict, secrets=(), keep: int = 5) -> dict | None:
    """The health check's verdict and its last ``keep`` runs (``State.Health.Log``, oldest first), each
    ``{"start", "exit_code", "output"}`` with the secrets masked; None without a health check."""
    health = (state or {}).get("Health")
    if not health:
        return None
    runs = (health.get("Log") or [])[-keep:] if keep > 0 else []
    return {
        "status": health.get("Status"),
        "failing_streak": health.get("FailingStreak", 0),
        "log": [
            {
                "start": run.get("Start"),
                "exit_code": run.get("ExitCode"),
                "output": sanitize(str(run.get("Output") or "").strip(), secrets),
            }
            for run in runs
        ],
    }


def service_of(labels: dict, project: str) -> str:
    """A container's service: its Compose service, or its swarm service without the stack's prefix."""
    if labels.get(COMPOSE_SERVICE):
        return labels[COMPOSE_SERVICE]
    name = labels.get(SWARM_SERVICE) or "?"
    if labels.get(STACK_NAMESPACE) == project and name.startswith(f"{project}_"):
        return name[len(project) + 1 :]
    return name


def container_view(inspect: dict, project: str, *, stats=None, log_lines=(), secrets=(), health_keep: int = 5) -> dict:
    """One container as the diagnosis shows it, from ``docker inspect``, one stats sample (None when it does not
    run) and its last log lines. Its environment is never copied."""
    state = inspect.get("State") or {}
    config = inspect.get("Config") or {}
    host_config = inspect.get("HostConfig") or {}
    running = bool(state.get("Running")) and not state.get("Restarting")
    view = {
        "name": (inspect.get("Name") or "").lstrip("/"),
        "id": (inspect.get("Id") or "")[:12],
        "service": service_of(config.get("Labels") or {}, project),
        "image": config.get("Image"),
        "state": state.get("Status"),
        "running": running,
        "health": health_view(state, secrets, health_keep),
        "exit_code": None if running else state.get("ExitCode"),
        "oom_killed": bool(state.get("OOMKilled")),
        "error": state.get("Error") or None,
        "restart_count": inspect.get("RestartCount", 0) or 0,
        "restart_policy": (host_config.get("RestartPolicy") or {}).get("Name") or "no",
        "created_at": inspect.get("Created"),
        "started_at": state.get("StartedAt"),
        "finished_at": None if running else state.get("FinishedAt"),
        "cpu_percent": cpu_percent(stats) if running else None,
        "memory": memory_view(stats if running else None, host_config.get("Memory") or None),
        "log_lines": [sanitize(line, secrets) for line in log_lines],
    }
    view["problems"] = container_problems(view)
    return view


def container_problems(view: dict) -> list:
    """What is wrong with a container, in words (empty when nothing is)."""
    problems = []
    health = view["health"] or {}
    if view["oom_killed"]:
        limit = size(view["memory"]["limit"])
        problems.append(f"{view['name']} was killed for lack of memory (OOMKilled, limit {limit})")
    if not view["running"]:
        code = f" with exit code {view['exit_code']}" if view["exit_code"] is not None else ""
        problems.append(f"{view['name']} is {view['state']}{code}")
    elif health.get("status") == "unhealthy":
        said = next((run["output"] for run in reversed(health["log"]) if run["output"]), "")
        problems.append(f"{view['name']} is unhealthy" + (f": its health check said {one_line(said)}" if said else ""))
    if view["restart_count"]:
        problems.append(f"{view['name']} restarted {view['restart_count']} time(s)")
    return problems


# --------------------------------------------------------------------------- events


def pick_events(events, *, containers: dict | None = None, service: str | None = None, limit: int = 100) -> list:
    """The engine's events (as the SDK decodes them) a diagnosis keeps, oldest first, the newest ``limit``:
    container events of EVENT_ACTIONS only, of the given ``containers`` ({container id: service}) or, where the
    engine names the project's labels, of ``service``. Each ``{"time", "action", "container", "service",
    "exit_code", "status"}``."""
    picked = []
    for event in events or []:
        if event.get("Type", "container") != "container":
            continue
        action = str(event.get("Action") or event.get("status") or "")
        kind, _sep, status = action.partition(":")
        if kind.strip() not in EVENT_ACTIONS:
            continue
        actor = event.get("Actor") or {}
        attributes = actor.get("Attributes") or {}
        cid = actor.get("ID") or event.get("id") or ""
        name = attributes.get("name") or cid[:12]
        known = containers or {}
        svc = attributes.get(COMPOSE_SERVICE) or known.get(cid[:12]) or known.get(cid) or attributes.get(SWARM_SERVICE)
        if service is not None and svc != service:
            continue
        when = event.get("timeNano")
        seconds = when / 1e9 if when else float(event.get("time") or 0)
        code = attributes.get("exitCode")
        picked.append(
            {
                "time": rfc3339(seconds),
                "action": kind.strip(),
                "container": name,
                "service": svc,
                "exit_code": int(code) if code not in (None, "") and str(code).lstrip("-").isdigit() else None,
                "status": status.strip() or None,
                "source": "engine",
                "_at": seconds,
            }
        )
    picked.sort(key=lambda item: item["_at"])
    for item in picked:
        del item["_at"]
    return picked[-limit:] if limit > 0 else []


def state_events(views: list, engine_events: list, since: float) -> list:
    """The events the containers' own state still tells when the engine's event log no longer has them.

    The engine keeps only its last 256 events in memory, and every health check run adds three (``exec_create``,
    ``exec_start``, ``exec_die``): on a host with a few health-checked containers, an event is gone after a minute
    or less. A container that ended since ``since`` (``FinishedAt``) gives its ``die`` with its exit code, an
    ``oom`` as well when it was ``OOMKilled``; a container that is unhealthy gives a ``health_status`` at the first
    failing run its health log still holds. Each is marked ``"source": "state"``, and left out when the engine's
    events (``engine_events``, from pick_events) have one of the same action for that container."""
    seen = {(event["action"], event["container"]) for event in engine_events}
    derived = []

    def add(action, view, when, exit_code=None, status=None):
        if when is not None and when >= since and (action, view["name"]) not in seen:
            derived.append(
                {
                    "time": rfc3339(when),
                    "action": action,
                    "container": view["name"],
                    "service": view["service"],
                    "exit_code": exit_code,
                    "status": status,
                    "source": "state",
                }
            )

    for view in views:
        if not view["running"]:
            ended = parse_time(view.get("finished_at"))
            if view["oom_killed"]:
                add("oom", view, ended)
            add("die", view, ended, exit_code=view["exit_code"])
        health = view.get("health") or {}
        if view["running"] and health.get("status") == "unhealthy":
            streak = max(int(health.get("failing_streak") or 1), 1)
            runs = health.get("log") or []
            failing = [run for run in runs[-streak:] if run.get("exit_code") not in (0, None)]
            if failing:
                add("health_status", view, parse_time(failing[0].get("start")), status="unhealthy")
    return derived


def merge_events(engine_events: list, derived: list, limit: int = 100) -> list:
    """The engine's events and those derived from the containers' state, oldest first, the newest ``limit``."""
    merged = sorted([*engine_events, *derived], key=lambda event: (event["time"], event["source"]))
    return merged[-limit:] if limit > 0 else []


def event_counts(events: list) -> dict:
    """``{"die": n, "oom": n, "health_status": n}``, and per health verdict (``unhealthy`` ...)."""
    counts = dict.fromkeys(EVENT_ACTIONS, 0)
    for event in events:
        counts[event["action"]] = counts.get(event["action"], 0) + 1
        if event["action"] == "health_status" and event["status"]:
            counts[event["status"]] = counts.get(event["status"], 0) + 1
    return counts


# --------------------------------------------------------------------------- disk


def disk_view(df: dict | None, filesystem: dict | None, releases: dict | None) -> dict:
    """Disk use: Docker's data (``docker system df``: images, containers, volumes, build cache), the file system
    of Docker's root directory (``{"path", "total", "free"}``), and the stored releases ({release id: bytes})."""
    df = df or {}
    images = df.get("Images") or []
    containers = df.get("Containers") or []
    volumes = df.get("Volumes") or []
    cache = df.get("BuildCache") or []
    releases = releases or {}
    fs = dict(filesystem or {})
    if fs.get("total"):
        fs["used_percent"] = round((fs["total"] - fs.get("free", 0)) / fs["total"] * 100.0, 1)
    return {
        "docker": {
            "images": {"count": len(images), "bytes": df.get("LayersSize") or sum(i.get("Size") or 0 for i in images)},
            "containers": {"count": len(containers), "bytes": sum(c.get("SizeRw") or 0 for c in containers)},
            "volumes": {
                "count": len(volumes),
                "bytes": sum(max((v.get("UsageData") or {}).get("Size") or 0, 0) for v in volumes),
            },
            "build_cache": {"count": len(cache), "bytes": sum(c.get("Size") or 0 for c in cache)},
        },
        "filesystem": fs or None,
        "releases": {"count": len(releases), "bytes": sum(releases.values()), "each": dict(sorted(releases.items()))},
    }


# --------------------------------------------------------------------------- swarm


def task_history(tasks: list, services: dict, nodes: dict, limit: int = 10) -> dict:
    """The task history of a stack per node, newest first: {node: [{"service", "task", "slot", "state",
    "desired_state", "error", "exit_code", "at"}]}, at most ``limit`` per node. ``services``: {service id: short
    name}, ``nodes``: {node id: host name}."""
    per_node = {}
    for task in sorted(tasks or [], key=lambda t: str((t.get("Status") or {}).get("Timestamp") or ""), reverse=True):
        status = task.get("Status") or {}
        node = nodes.get(task.get("NodeID"), task.get("NodeID") or "no node")
        entries = per_node.setdefault(node, [])
        if len(entries) >= limit:
            continue
        entries.append(
            {
                "service": services.get(task.get("ServiceID"), task.get("ServiceID")),
                "task": str(task.get("ID"))[:12],
                "slot": task.get("Slot"),
                "state": status.get("State"),
                "desired_state": task.get("DesiredState"),
                "error": status.get("Err") or None,
                "message": status.get("Message") or None,
                "exit_code": (status.get("ContainerStatus") or {}).get("ExitCode"),
                "at": status.get("Timestamp"),
            }
        )
    return dict(sorted(per_node.items()))


# --------------------------------------------------------------------------- the document of a run


def size(value) -> str:
    """Bytes in words: ``16.0 MiB``; ``-`` when unknown."""
    if value is None:
        return "-"
    value = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def one_line(text, limit: int = 300) -> str:
    text = " ".join(str(text or "").split())
    return text[:limit] + ("..." if len(text) > limit else "")


def diagnosis_report(hosts: dict, *, environment: str = "", project: str = "", service: str | None = None,
                     junit: dict | None = None, generated_at: str = "") -> dict:  # fmt: skip
    """The document of one run from ``hosts`` ({host: the registered result of container_diagnose}) and the JUnit
    files found for the commits of the releases that run (``{"dir": where the CI role keeps them, "files": {short
    commit: [paths relative to DIR/SHORT_COMMIT]}}``): schema SCHEMA, docs/diagnose.md."""
    if not isinstance(hosts, dict):
        raise DiagnosisError(f"the diagnosis needs a dictionary of host to container_diagnose result, not {hosts!r}")
    views, releases, problems = [], {}, []
    for host in sorted(hosts):
        result = hosts[host] or {}
        found = result.get("diagnosis")
        if not found:
            reason = one_line(result.get("msg") or "no diagnosis (the host was not reached)")
            views.append({"host": host, "reached": False, "error": reason})
            problems.append(f"{host}: {reason}")
            continue
        views.append({"host": host, "reached": True, **found})
        if found.get("release"):
            releases.setdefault(found["release"]["release_id"], found["release"])
        problems += [f"{host}: {words}" for words in found.get("problems") or []]
    ordered = sorted(releases.values(), key=lambda release: str(release.get("release_id")))
    return {
        "schema": SCHEMA,
        "generated_at": generated_at,
        "environment": environment,
        "project": project,
        "service": service or None,
        "release": ordered[0] if len(ordered) == 1 else None,
        "releases": ordered,
        "junit": {"dir": (junit or {}).get("dir"), "files": dict((junit or {}).get("files") or {})},
        "problems": problems,
        "hosts": views,
    }


def _cell(value) -> str:
    return "-" if value in (None, "") else str(value).replace("|", "\\|")


def _release_lines(release: dict, junit: dict) -> list:
    lines = [
        f"- release: `{release.get('release_id')}` ({_cell(release.get('deployed_result'))} "
        f"at {_cell(release.get('deployed_at'))})",
        f"- application: {_cell(release.get('application'))}, version {_cell(release.get('version'))}",
        f"- commit: `{_cell(release.get('commit'))}`" + (f" from {release['source']}" if release.get("source") else ""),
        f"- CI build: {_cell(release.get('build_number'))} on {_cell(release.get('build_host'))} "
        f"at {_cell(release.get('built_at'))}",
    ]
    for suite, summary in (release.get("tests") or {}).items():
        lines.append(f"- tests, {suite}: {_cell(summary)}")
    short = release.get("short_commit")
    files = ((junit or {}).get("files") or {}).get(short) or []
    where = f"{(junit or {}).get('dir')}/{short}" if (junit or {}).get("dir") else None
    if files:
        lines.append(f"- JUnit files of the build ({where}, in the bundle under `junit/{short}/`):")
        lines += [f"  - `{name}`" for name in files]
    else:
        lines.append(f"- JUnit files of the build: none found in {_cell(where)}")
    return lines


def diagnosis_markdown(doc: dict, log_lines: int = 20) -> str:
    """The document as the bundle's readable summary (``summary.md``), with the last ``log_lines`` lines of
    each container's log (every line is in the bundle's ``logs/``)."""
    title = " ".join(part for part in (doc.get("project"), doc.get("service")) if part) or "application"
    out = [f"# Diagnosis of {title} in {doc.get('environment') or 'the environment'}", ""]
    out.append(f"Generated {_cell(doc.get('generated_at'))}.")
    out.append("")
    out.append("## Release")
    out.append("")
    if doc.get("releases"):
        for release in doc["releases"]:
            out += _release_lines(release, doc.get("junit"))
            out.append("")
    else:
        out += ["No release is recorded for what runs (no deployment history on the hosts).", ""]
    out += ["## Problems", ""]
    out += [f"- {one_line(words, 500)}" for words in doc.get("problems") or []] or ["None found."]
    out.append("")
    for host in doc.get("hosts") or []:
        out += _host_markdown(host, log_lines)
    return "\n".join(out).rstrip() + "\n"


def _host_markdown(host: dict, log_lines: int) -> list:
    out = [f"## Host {host['host']}", ""]
    if not host.get("reached"):
        return [*out, f"Not diagnosed: {host.get('error')}", ""]
    deploy = host.get("deploy")
    if deploy:
        reason = f"; reason: {one_line(deploy['reason'])}" if deploy.get("reason") else ""
        out.append(
            f"Last deploy: {deploy.get('action')} of `{deploy.get('release_id')}`, {deploy.get('result')}, "
            f"started {deploy.get('started')}{reason}."
        )
    else:
        out.append("No deploy in the history of this host.")
    out += [f"Looked at events and logs since {_cell(host.get('since'))}.", ""]
    out += ["| container | service | state | health | exit code | OOM killed | restarts | started | CPU % | memory |",
            "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for view in host.get("containers") or []:
        memory = view.get("memory") or {}
        used = f"{size(memory.get('usage'))} of {size(memory.get('limit'))}" if memory.get("usage") is not None else "-"
        if memory.get("percent") is not None:
            used += f" ({memory['percent']}%{'' if memory.get('limited') else ', no limit'})"
        elif memory.get("limited"):
            used = f"limit {size(memory.get('limit'))}"
        out.append(
            f"| {view['name']} | {_cell(view.get('service'))} | {_cell(view.get('state'))} "
            f"| {_cell((view.get('health') or {}).get('status'))} | {_cell(view.get('exit_code'))} "
            f"| {'yes' if view.get('oom_killed') else 'no'} | {view.get('restart_count', 0)} "
            f"| {_cell(view.get('started_at'))} | {_cell(view.get('cpu_percent'))} | {used} |"
        )
    out.append("")
    for view in host.get("containers") or []:
        health = view.get("health") or {}
        if health.get("log") and health.get("status") != "healthy":  # a healthy check's runs are in the JSON
            out += [f"### Health check of {view['name']} ({health.get('status')})", ""]
            out += [f"- {run['start']}: exit {run['exit_code']}: {one_line(run['output'])}" for run in health["log"]]
            out.append("")
        lines = view.get("log_lines") or []
        out += [f"### Last log lines of {view['name']}", ""]
        if lines:
            out += ["```text", *lines[-log_lines:], "```"]
        else:
            out.append("No log lines since the deploy.")
        out.append("")
    events = host.get("events") or []
    out += [f"### Events since the deploy ({len(events)})", ""]
    if events:
        out.append(
            "From `engine`: the engine's event log; from `state`: what a container's state still tells (the engine "
            "keeps its last 256 events only)."
        )
        out.append("")
        out += ["| time | event | container | service | exit code | status | from |", "|---|---|---|---|---|---|---|"]
        out += [
            f"| {event['time']} | {event['action']} | {event['container']} | {_cell(event.get('service'))} "
            f"| {_cell(event.get('exit_code'))} | {_cell(event.get('status'))} | {_cell(event.get('source'))} |"
            for event in events
        ]
    else:
        out.append("None.")
    out.append("")
    out += _disk_markdown(host.get("disk") or {})
    if host.get("swarm"):
        out += _swarm_markdown(host["swarm"])
    return out


def _disk_markdown(disk: dict) -> list:
    out = ["### Disk", ""]
    docker = disk.get("docker") or {}
    for kind in ("images", "containers", "volumes", "build_cache"):
        part = docker.get(kind) or {}
        out.append(f"- Docker {kind.replace('_', ' ')}: {part.get('count', 0)}, {size(part.get('bytes'))}")
    fs = disk.get("filesystem") or {}
    if fs:
        out.append(
            f"- file system of {fs.get('path')}: {size(fs.get('free'))} free of {size(fs.get('total'))} "
            f"({fs.get('used_percent')}% used)"
        )
    releases = disk.get("releases") or {}
    out.append(f"- stored releases: {releases.get('count', 0)}, {size(releases.get('bytes'))}")
    out.append("")
    return out


def _swarm_markdown(swarm: dict) -> list:
    out = ["### Swarm tasks per node (newest first)", ""]
    for node, tasks in (swarm.get("tasks") or {}).items():
        out.append(f"- {node}:")
        for task in tasks:
            words = f"{task['service']} task {task['task']}: {task['state']} (desired {task['desired_state']})"
            if task.get("error"):
                words += f", error: {one_line(task['error'])}"
            if task.get("exit_code") not in (None, 0):
                words += f", exit code {task['exit_code']}"
            out.append(f"  - {task.get('at')}: {words}")
    out.append("")
    return out
