# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of outerloop.docker.container_diagnose: a diagnosis of one application on one Docker host.

Read only, from three sources:

- the deployment history the deploy modules keep on the host (_domain.history): when the last deploy started
  (events and logs are read since then), which release runs (the entry whose digests the containers run) and
  its stored manifest (version, commit, CI build number, tests);
- the Docker Engine through the SDK: the containers of the Compose project (or of the stack, on a swarm
  manager), one stats sample of each running one, their logs, the events, ``docker system df``, and on a
  swarm manager the stack's tasks on every node;
- the file system: the size of the stored releases and the free space of Docker's root directory.

Secrets: the containers' environment is read only to learn which values to mask (variables named like a
credential), with the values of the stored releases' ``secrets.env``; it is never returned. The pure parts
are in _domain.diagnosis.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time

from ansible_collections.outerloop.docker.plugins.module_utils._domain.diagnosis import (
    EVENT_ACTIONS,
    container_view,
    disk_view,
    event_counts,
    last_deploy,
    merge_events,
    parse_time,
    pick_events,
    release_view,
    rfc3339,
    running_entry,
    service_of,
    state_events,
    task_history,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import (
    COMPOSE_STATE_DIR,
    STACK_STATE_DIR,
    HistoryError,
    project_path,
    read_history,
    read_release_files,
    stored_release_ids,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import InfoError, run_report_module
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_host import (
    project_containers,
    repo_digests_of,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.swarm import read_nodes, stack_services
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import (
    ENGINE_ARG_SPEC,
    docker_host_of,
    engine_session,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import digest_in, repo_digest
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import (
    COMPOSE_PROJECT,
    STACK_NAMESPACE,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.parallel import run_each
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import is_credential_name

ARG_SPEC = {
    **ENGINE_ARG_SPEC,
    "project": {"type": "str", "required": True},
    "service": {"type": "str"},
    "state_dir": {"type": "path", "default": COMPOSE_STATE_DIR},
    "stack_state_dir": {"type": "path", "default": STACK_STATE_DIR},
    "since": {"type": "str"},
    "logs_tail": {"type": "int", "default": 100},
    "health_log": {"type": "int", "default": 5},
    "events_limit": {"type": "int", "default": 200},
    "stats": {"type": "bool", "default": True},
    "task_history": {"type": "int", "default": 10},
}
# Without a deploy in the history and without the since option: the last hour.
DEFAULT_WINDOW = 3600
_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def env_values(text: str) -> list:
    """The values of an env file as the deploy modules write it (KEY='value' or KEY="value")."""
    values = []
    for line in (text or "").splitlines():
        match = _ENV_LINE.match(line)
        if not match:
            continue
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1] if value[0] == "'" else re.sub(r"\\(.)", r"\1", value[1:-1])
        values.append(value)
    return values


def stored_secrets(state_dir: str, project: str) -> list:
    """Every value of the ``secrets.env`` of the project's stored releases."""
    values = []
    for release_id in stored_release_ids(state_dir, project):
        try:
            files = read_release_files(state_dir, project, release_id) or {}
        except HistoryError:
            continue
        values += env_values(files.get("secrets.env") or "")
    return values


def credential_values(inspect: dict) -> list:
    """The values of a container's environment variables named like a credential (to be masked, never shown)."""
    values = []
    for item in (inspect.get("Config") or {}).get("Env") or []:
        name, _sep, value = str(item).partition("=")
        if value and is_credential_name(name):
            values.append(value)
    return values


def directory_bytes(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def releases_disk(state_dir: str, project: str) -> dict:
    """{release id: bytes} of the project's stored releases."""
    base = os.path.join(project_path(state_dir, project), "releases")
    return {name: directory_bytes(os.path.join(base, name)) for name in stored_release_ids(state_dir, project)}


def since_of(params: dict, deploy: dict | None, now: float) -> float:
    given = params.get("since")
    if given:
        seconds = parse_time(given)
        if seconds is None:
            try:
                seconds = now - float(given)
            except ValueError:
                raise InfoError(
                    f"since must be an RFC 3339 time (2026-11-26T13:00:00Z) or a number of seconds ago, not {given!r}"
                ) from None
        return seconds
    started = parse_time((deploy or {}).get("started"))
    return started if started is not None else now - DEFAULT_WINDOW


# --------------------------------------------------------------------------- the engine


def read_containers(client, project: str, swarm: bool) -> list:
    if not swarm:
        return project_containers(client, project)
    found = []
    for summary in client.containers(all=True, filters={"label": f"{STACK_NAMESPACE}={project}"}):
        found.append(client.inspect_container(summary["Id"]))
    return found


def read_logs(client, cid: str, since: float, tail: int) -> list:
    if tail <= 0:
        return []
    data = client.logs(cid, stdout=True, stderr=True, timestamps=True, since=int(since), tail=tail)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    return text.splitlines()[-tail:]


def read_stats(client, cid: str):
    try:
        return client.stats(cid, stream=False)
    except Exception:  # a container that stopped in between has no stats: the view says so with nulls
        return None


def read_events(client, project: str, swarm: bool, since: float, until: float) -> list:
    label = f"{STACK_NAMESPACE if swarm else COMPOSE_PROJECT}={project}"
    filters = {"type": "container", "label": label, "event": list(EVENT_ACTIONS)}
    return list(client.events(since=int(since), until=int(until) + 1, filters=filters, decode=True))


def read_filesystem(params: dict, info: dict) -> dict | None:
    """Size and free space of Docker's root directory, when the engine is this host's."""
    root = info.get("DockerRootDir")
    if not root or not docker_host_of(params).startswith("unix://"):
        return None
    try:
        stat = os.statvfs(root)
    except OSError:
        return None
    return {"path": root, "total": stat.f_blocks * stat.f_frsize, "free": stat.f_bavail * stat.f_frsize}


def read_swarm(client, project: str, limit: int) -> dict | None:
    services = stack_services(client, project)
    if not services:
        return None
    nodes = {view["id"]: view["hostname"] for view in read_nodes(client)}
    names = {svc["ID"]: name for name, svc in services.items()}
    tasks = []
    for svc_id in names:
        tasks += client.tasks(filters={"service": svc_id})
    history = task_history(tasks, names, nodes, limit)
    errors = sum(1 for entries in history.values() for task in entries if task["error"])
    return {"nodes": sorted(nodes.values()), "tasks": history, "errors": errors}


def running_digests(client, containers: list) -> dict:
    """{service label: the registry digest its first running container runs}."""
    found, cache = {}, {}
    for info, view in containers:
        if view["service"] in found or not view["running"]:
            continue
        image = (info.get("Config") or {}).get("Image")
        digests = repo_digests_of(client, info.get("Image"), cache) or []
        found[view["service"]] = digest_in(image) or repo_digest(digests, None, image)
    return found


def gather(params: dict):
    project, service = params["project"], params.get("service")
    for name in ("logs_tail", "health_log", "events_limit", "task_history"):
        if params[name] < 0:
            raise InfoError(f"{name} must be 0 or more, not {params[name]}")
    now = time.time()
    with engine_session(params) as client:
        info = client.info()
        swarm_manager = bool((info.get("Swarm") or {}).get("ControlAvailable"))
        swarm = read_swarm(client, project, params["task_history"]) if swarm_manager else None
        state_dir = params["stack_state_dir"] if swarm else params["state_dir"]
        entries = read_history(state_dir, project)
        deploy = last_deploy(entries)
        since = since_of(params, deploy, now)
        inspects = [
            found
            for found in read_containers(client, project, bool(swarm))
            if service is None or service_of((found.get("Config") or {}).get("Labels") or {}, project) == service
        ]
        secrets = stored_secrets(state_dir, project)
        for inspected in inspects:
            secrets += credential_values(inspected)

        def one(inspected: dict) -> dict:
            cid = inspected["Id"]
            running = bool((inspected.get("State") or {}).get("Running"))
            stats = read_stats(client, cid) if params["stats"] and running else None
            lines = read_logs(client, cid, since, params["logs_tail"])
            return container_view(inspected, project, stats=stats, log_lines=lines, secrets=secrets,
                                  health_keep=params["health_log"])  # fmt: skip

        views = run_each(one, inspects, 8)
        containers = sorted(zip(inspects, views, strict=True), key=lambda pair: (pair[1]["service"], pair[1]["name"]))
        entry = running_entry(entries, running_digests(client, containers))
        manifest = None
        if entry and entry.get("release_id"):
            try:
                files = read_release_files(state_dir, project, entry["release_id"]) or {}
                manifest = json_or_none(files.get("manifest.json"))
            except HistoryError:
                manifest = None
        known = {view["id"]: view["service"] for view in views}
        raw_events = read_events(client, project, bool(swarm), since, now)
        engine_events = pick_events(raw_events, containers=known, service=service, limit=params["events_limit"])
        events = merge_events(engine_events, state_events(views, engine_events, since), params["events_limit"])
        disk = disk_view(client.df(), read_filesystem(params, info), releases_disk(state_dir, project))
    problems = [words for _info, view in containers for words in view["problems"]]
    if not containers and not swarm:
        problems.append(f"no container of {project}{' service ' + service if service else ''} is on this host")
    if swarm and swarm["errors"]:
        problems.append(f"{swarm['errors']} task(s) of the stack {project} failed with an error (see the swarm tasks)")
    return {
        "host": socket.gethostname(),
        "project": project,
        "service": service,
        "platform": "swarm" if swarm else "compose",
        "since": rfc3339(since),
        "until": rfc3339(now),
        "deploy": deploy,
        "release": release_view(manifest, entry),
        "containers": [view for _info, view in containers],
        "events": events,
        "event_counts": event_counts(events),
        "disk": disk,
        "swarm": swarm,
        "problems": problems,
    }


def json_or_none(text):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def run_module(module) -> None:
    """Run outerloop.docker.container_diagnose with the module's parameters; exits the module."""
    run_report_module(module, "diagnosis", gather, reading="the containers, logs and events of the project")
