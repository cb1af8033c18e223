# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A Docker Swarm, read from a manager: a stack's services and their tasks, the nodes, and where each
service stands against the digest it should run.

Read by the deployer (_platforms.swarm_deployer) and by the report of what a stack runs (stack_info).
Everything but stack_services, read_nodes and require_manager is pure; errors are SwarmError.
"""

from __future__ import annotations

import calendar
import re
import socket
import time

from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import digest_in
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import STACK_NAMESPACE

_STACK = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
UPDATE_FAILED = ("paused", "rollback_started", "rollback_paused", "rollback_completed")
# Task states before "running": a task still in one of them on a node that is down will never get further.
NOT_YET_RUNNING = ("new", "pending", "assigned", "accepted", "preparing", "ready", "starting")
TASK_FAILED = ("failed", "rejected", "orphaned")


class SwarmError(Exception):
    """A swarm the module cannot work with (not a manager, a name that is no stack name); the message
    says what to do instead."""


def validate_stack_name(name) -> str:
    if not isinstance(name, str) or not _STACK.match(name):
        raise SwarmError(f"stack {name!r} is not a stack name (letters, digits, _ . -, at most 63 characters)")
    return name


def require_manager(client, module_name: str) -> None:
    """SwarmError unless the engine is a manager of a swarm (only a manager lists services and nodes)."""
    swarm = client.info().get("Swarm") or {}
    if not swarm.get("ControlAvailable"):
        raise SwarmError(
            f"{socket.gethostname()} is not a swarm manager (swarm state {swarm.get('LocalNodeState')}): run "
            f"{module_name} on a manager of the swarm (delegate_to the first host of the managers group; see the "
            "swarm role)"
        )


# --------------------------------------------------------------------------- nodes


def node_view(node: dict) -> dict:
    """One node of the swarm, from ``docker node inspect``."""
    spec = node.get("Spec") or {}
    status = node.get("Status") or {}
    manager = node.get("ManagerStatus") or {}
    return {
        "id": node.get("ID"),
        "hostname": (node.get("Description") or {}).get("Hostname") or node.get("ID"),
        "role": spec.get("Role"),
        "availability": spec.get("Availability"),
        "state": status.get("State"),
        "address": status.get("Addr"),
        "leader": bool(manager.get("Leader")),
        "manager_reachability": manager.get("Reachability"),
        "labels": spec.get("Labels") or {},
    }


def node_summary(views: list) -> tuple[dict, set, int]:
    """From node views: ({node id: host name}, {ids of nodes that are down}, how many are ready and active)."""
    names = {view["id"]: view["hostname"] for view in views}
    down = {view["id"] for view in views if view["state"] != "ready"}
    eligible = sum(1 for view in views if view["state"] == "ready" and view["availability"] == "active")
    return names, down, eligible


def read_nodes(client) -> list:
    """Every node of the swarm, as node_view gives it."""
    return [node_view(node) for node in client.nodes()]


# --------------------------------------------------------------------------- services and tasks


def spec_image(service: dict) -> str | None:
    return ((((service or {}).get("Spec") or {}).get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image")


def desired_replicas(service: dict, tasks: list, down=(), eligible: int | None = None) -> int:
    """Replicas a service should run: Replicated.Replicas, or for a global service its tasks that
    should run (one per eligible node), those of nodes that are down left out. ``eligible``: the nodes
    that are ready and active; a global service without placement constraints should run on each of
    them, also before the swarm has created all of its tasks (right after a first deploy)."""
    spec = (service or {}).get("Spec") or {}
    mode = spec.get("Mode") or {}
    if "Replicated" in mode:
        return int((mode.get("Replicated") or {}).get("Replicas") or 0)
    placed = len({task.get("NodeID") for task in tasks
                  if task.get("DesiredState") == "running" and task.get("NodeID") not in down})  # fmt: skip
    constrained = (((spec.get("TaskTemplate") or {}).get("Placement") or {}).get("Constraints")) or []
    return placed if eligible is None or constrained else max(placed, eligible)


def _parse_time(text) -> float | None:
    if not isinstance(text, str) or len(text) < 19:
        return None
    try:
        return float(calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return None


def _task_digest(task: dict) -> str | None:
    return digest_in(((task.get("Spec") or {}).get("ContainerSpec") or {}).get("Image"))


def task_error(task: dict, nodes: dict) -> str:
    status = task.get("Status") or {}
    node = nodes.get(task.get("NodeID"), task.get("NodeID") or "no node")
    message = status.get("Err") or status.get("Message") or ""
    code = (status.get("ContainerStatus") or {}).get("ExitCode")
    exit_text = f" (exit code {code})" if code is not None and status.get("State") != "running" else ""
    return f"task {str(task.get('ID'))[:12]} on {node}: {status.get('State')}: {message}".rstrip(": ") + exit_text


def assess_service(
    service: dict, tasks: list, want_digest: str | None, since: float | None, *, nodes=None, down=(), eligible=None
) -> dict:
    """Where one swarm service stands against the digest it should run.

    ``since``: when this run updated the service (epoch seconds), or None when it did not; only then do
    the service's UpdateStatus failures count. ``nodes``: {node id: host name}; ``down``: ids of nodes
    that are down, whose tasks the manager still lists as running but which serve nothing.
    Returns ``{"state", "running", "desired", "digest", "update_state", "update_message", "errors",
    "tasks"}``; state is ``converged``, ``waiting``,
    ``rolling_back``, ``rolled_back`` (the swarm went back to the previous spec) or ``failed``.
    """
    nodes = nodes or {}
    update = (service or {}).get("UpdateStatus") or {}
    update_state = update.get("State")
    ours = since is not None and (_parse_time(update.get("StartedAt")) or 0) >= since - 2
    digest = digest_in(spec_image(service))
    running = [
        task
        for task in tasks
        if (task.get("Status") or {}).get("State") == "running" and task.get("NodeID") not in down
    ]
    good = [task for task in running if task.get("DesiredState") == "running" and _task_digest(task) == want_digest]
    # Tasks of another digest that still run, shutting down ones included: not converged until they stop.
    others = [task for task in running if _task_digest(task) != want_digest]
    desired = desired_replicas(service, tasks, down, eligible)
    failed_tasks = [
        task
        for task in tasks
        if (task.get("Status") or {}).get("State") in TASK_FAILED
        or ((task.get("Status") or {}).get("Err") and (task.get("Status") or {}).get("State") != "running")
    ]
    if since is not None:
        failed_tasks = [task for task in failed_tasks if (_parse_time(task.get("CreatedAt")) or 0) >= since - 2]
    if ours and update_state in UPDATE_FAILED:
        # Tasks of the new digest that ended without an error of their own: a container that exits 0
        # when the swarm stops it for being unhealthy is "complete". They are why the update failed.
        ended = [
            task
            for task in tasks
            if _task_digest(task) == want_digest
            and (task.get("Status") or {}).get("State") in ("complete", "shutdown")
            and (_parse_time(task.get("CreatedAt")) or 0) >= since - 2
            and task not in failed_tasks
        ]
        failed_tasks += ended
    errors = [task_error(task, nodes) for task in failed_tasks][-5:]
    # The swarm's updater waits, start-first, for the new task to run; one placed on a node that went
    # down never does, and the update hangs until the node returns (the orchestrator has meanwhile
    # started a replacement elsewhere). A new update of the service gets it going on the nodes left.
    stuck = [
        task
        for task in tasks
        if task.get("NodeID") in down
        and _task_digest(task) == want_digest
        and (task.get("Status") or {}).get("State") in NOT_YET_RUNNING
        and since is not None
        and (_parse_time(task.get("CreatedAt")) or 0) >= since - 2
    ]
    result = {
        "running": len(good),
        "desired": desired,
        "digest": digest,
        "update_state": update_state,
        "update_message": update.get("Message"),
        "errors": errors,
        "tasks": sorted(str(task.get("ID")) for task in good),
        "stuck_on": sorted({nodes.get(task.get("NodeID"), task.get("NodeID")) for task in stuck})
        if update_state == "updating"
        else [],
    }
    if ours and update_state in ("rollback_completed",):
        return {**result, "state": "rolled_back"}
    if ours and update_state in ("rollback_started",):
        return {**result, "state": "rolling_back"}
    if ours and update_state in ("paused", "rollback_paused"):
        return {**result, "state": "failed"}
    if want_digest and digest != want_digest:
        return {**result, "state": "failed", "errors": [*errors, f"the service runs {digest}, not {want_digest}"]}
    if ours and update_state == "updating":
        return {**result, "state": "waiting"}
    if len(good) >= desired and not others:
        return {**result, "state": "converged"}
    return {**result, "state": "waiting"}


def overall(assessments: dict) -> str:
    """One word for a stack from its services' assessments (see assess_service)."""
    states = {item["state"] for item in assessments.values()}
    for word in ("failed", "rolling_back", "rolled_back", "waiting"):
        if word in states:
            return word
    return "converged"


def stack_services(client, stack: str) -> dict:
    """{short service name (without the stack prefix): service inspect} of a stack, from the manager."""
    found = client.services(filters={"label": f"{STACK_NAMESPACE}={stack}"})
    prefix = f"{stack}_"
    return {svc["Spec"]["Name"][len(prefix) :]: svc for svc in found if svc["Spec"]["Name"].startswith(prefix)}
