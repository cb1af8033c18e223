# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of outerloop.docker.stack_info: what a Docker Swarm stack runs, read on a manager, and how it
differs from the release it should run.

Three sources, read only: the stack's deployment history that stack_deploy keeps on the manager
(_domain.history), the swarm (_platforms.swarm: the stack's services, their tasks, the nodes) and the
release to compare with (_domain.report).

Per service: the digest its spec runs, replicas running that digest / desired (tasks on nodes that are
down do not count), the nodes its running tasks are on, the swarm's update state. Drift: ``changed``
(the spec or a running task is on another digest than the release names), ``missing`` (a release
service the stack does not have), ``extra`` (a service in neither the release nor its compose file nor
the stored stack files). Nodes: every node of the swarm with its state, so a lost node shows.

``build_stack_report`` is pure; gather reads, run_module is the module's edge.
"""

from __future__ import annotations

from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import current_entry
from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import (
    drift_report,
    history_summary,
    report_inputs,
    run_report_module,
    stored_services,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.swarm import (
    SwarmError,
    assess_service,
    desired_replicas,
    node_summary,
    node_view,
    require_manager,
    spec_image,
    stack_services,
    validate_stack_name,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import engine_session
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import digest_in


def service_view(service: dict, tasks: list, want: str | None, names: dict, down: set, *, eligible=None) -> dict:
    """One service of the stack against the digest it should run (None: none to compare with)."""
    digest = digest_in(spec_image(service))
    assessed = assess_service(service, tasks, want or digest, None, nodes=names, down=down, eligible=eligible)
    running = [
        task
        for task in tasks
        if (task.get("Status") or {}).get("State") == "running"
        and task.get("DesiredState") == "running"
        and task.get("NodeID") not in down
    ]
    running_digests = sorted({digest_in(((t.get("Spec") or {}).get("ContainerSpec") or {}).get("Image")) or "unknown"
                              for t in running})  # fmt: skip
    lost = [t for t in tasks if t.get("NodeID") in down and t.get("DesiredState") == "running"]
    update = service.get("UpdateStatus") or {}
    desired = desired_replicas(service, tasks, down, eligible)
    return {
        "image": spec_image(service),
        "digest": digest,
        "running_digests": running_digests,
        "expected_digest": want,
        "in_sync": None if want is None else (digest == want and running_digests in ([], [want])),
        "running": assessed["running"],
        "desired": desired,
        "replicas": f"{assessed['running']}/{desired}",
        "converged": assessed["state"] == "converged",
        "mode": "global" if "Global" in ((service.get("Spec") or {}).get("Mode") or {}) else "replicated",
        "nodes": sorted({names.get(t.get("NodeID"), t.get("NodeID") or "?") for t in running}),
        "lost_on": sorted({names.get(t.get("NodeID"), t.get("NodeID") or "?") for t in lost}),
        "update_state": update.get("State"),
        "update_message": update.get("Message"),
        "errors": assessed["errors"],
    }


def build_stack_report(stack: str, services: dict, tasks: dict, nodes: list, entries: list, *, expected=None,
                       known=None, limit: int = 10) -> dict:  # fmt: skip
    """The ``stack`` result.

    ``services``: {short name: service inspect}; ``tasks``: {short name: [task]}; ``nodes``: node inspects;
    ``expected``: what _deployment_info.expected_from gives; ``known``: services of the release's compose
    file and stored stack files (None when unknown).
    """
    views = [node_view(node) for node in nodes]
    names, down, eligible = node_summary(views)
    digests = (expected or {}).get("services", {})
    report = {
        name: service_view(services[name], tasks.get(name, []), digests.get(name), names, down, eligible=eligible)
        for name in sorted(services)
    }
    for name, view in report.items():
        view["in_release"] = (name in digests) if expected else None
    drift = None
    if expected:
        changed = sorted(name for name, view in report.items() if name in digests and not view["in_sync"])
        missing = sorted(name for name in digests if name not in report)
        extra = sorted(name for name in report if name not in digests and (known is None or name not in known))
        drift = drift_report(expected, changed, missing, extra)
    return {
        "stack": stack,
        "exists": bool(services) or bool(entries),
        **history_summary(entries, limit),
        "converged": bool(services) and all(view["converged"] for view in report.values()),
        "services": report,
        "nodes": sorted(views, key=lambda view: view["hostname"]),
        "nodes_down": sorted(view["hostname"] for view in views if view["state"] != "ready"),
        "drift": drift,
    }


def gather(params: dict) -> dict:
    stack, entries, expected, known = report_inputs(params, "stack", "the stack name", check=validate_stack_name)
    if known is not None:
        known |= stored_services(params["state_dir"], stack, current_entry(entries))
    with engine_session(params) as client:
        require_manager(client, "stack_info")
        services = stack_services(client, stack)
        tasks = {name: client.tasks(filters={"service": svc["ID"]}) for name, svc in services.items()}
        nodes = client.nodes()
    return build_stack_report(stack, services, tasks, nodes, entries, expected=expected, known=known,
                              limit=params["history_limit"])  # fmt: skip


def run_module(module) -> None:
    """Run outerloop.docker.stack_info with the module's parameters; exits the module."""
    run_report_module(module, "stack", gather, reading="the swarm", errors=(SwarmError,))
