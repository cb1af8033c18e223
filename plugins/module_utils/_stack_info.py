# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a Docker Swarm stack runs, read on a manager, and how it differs from the release it should run.

Three sources, read only: the stack's deployment history that stack_deploy keeps on the manager, the
swarm (services with the label ``com.docker.stack.namespace``, their tasks, the nodes) and the release
to compare with (the ``release`` option, else the current release of the history).

Per service: the digest its spec runs, replicas running that digest / desired (tasks on nodes that are
down do not count), the nodes its running tasks are on, the swarm's update state. Drift: ``changed``
(the spec or a running task is on another digest than the release names), ``missing`` (a release
service the stack does not have), ``extra`` (a service in neither the release nor its compose file nor
the stored stack files). Nodes: every node of the swarm with its state, so a lost node shows.

``build_stack_report`` is pure; ``run_module`` is the module's edge.
"""

from __future__ import annotations

import json
import socket

from ansible_collections.outerloop.docker.plugins.module_utils._compose_deploy import DeployError
from ansible_collections.outerloop.docker.plugins.module_utils._deployment_info import (
    InfoError,
    compose_services,
    drift_report,
    expected_from,
    history_summary,
    stored_manifest,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import (
    HistoryError,
    current_entry,
    read_history,
    read_release_files,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import ReleaseError, check_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import HAS_YAML
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import (
    EngineError,
    engine_session,
    require_sdk,
)
from ansible_collections.outerloop.docker.plugins.module_utils._stack_deploy import (
    assess_service,
    desired_replicas,
    digest_in,
    spec_image,
    stack_services,
    validate_stack_name,
)


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
    names = {view["id"]: view["hostname"] for view in views}
    down = {view["id"] for view in views if view["state"] != "ready"}
    eligible = sum(1 for view in views if view["state"] == "ready" and view["availability"] == "active")
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


def gather(params: dict) -> dict:
    manifest = None
    if params.get("release") is not None:
        manifest = check_manifest(params["release"], "given in the release option", parse_compose=HAS_YAML)
    stack = params.get("stack") or (manifest or {}).get("application")
    if not stack:
        raise InfoError("give stack (the stack name), or release to take it from its application")
    validate_stack_name(stack)
    if params["history_limit"] < 0:
        raise InfoError(f"history_limit must be 0 or more, not {params['history_limit']}")
    entries = read_history(params["state_dir"], stack)
    current = current_entry(entries)
    expected = expected_from(manifest, current)
    known = compose_services(manifest or stored_manifest(params["state_dir"], stack, current))
    if known is not None:
        known |= stored_services(params["state_dir"], stack, current)
    with engine_session(params) as client:
        info = client.info()
        if not (info.get("Swarm") or {}).get("ControlAvailable"):
            raise InfoError(
                f"{socket.gethostname()} is not a swarm manager (swarm state "
                f"{(info.get('Swarm') or {}).get('LocalNodeState')}): run stack_info on a manager of the swarm"
            )
        services = stack_services(client, stack)
        tasks = {name: client.tasks(filters={"service": svc["ID"]}) for name, svc in services.items()}
        nodes = client.nodes()
    return build_stack_report(stack, services, tasks, nodes, entries, expected=expected, known=known,
                              limit=params["history_limit"])  # fmt: skip


def run_module(module) -> None:
    """Run outerloop.docker.stack_info with the module's parameters; exits the module."""
    require_sdk(module)
    host = socket.gethostname()
    try:
        stack = gather(module.params)
    except (InfoError, ReleaseError) as exc:
        module.fail_json(msg=str(exc))
    except HistoryError as exc:
        module.fail_json(msg=f"cannot read the stack's deployment history on {host}: {exc}")
    except EngineError as exc:
        module.fail_json(msg=f"cannot read the swarm on {host}: {exc}")
    except DeployError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, stack=stack)
