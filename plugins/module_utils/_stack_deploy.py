# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Deploy a release manifest as a Docker Swarm stack from the manager the module runs on.

Layers, top-down: run_module (parameters in, exit_json/fail_json out) -> StackDeployment (one run: lock,
plan, ``docker stack deploy``, wait until converged, history) -> the Docker CLI (``docker stack deploy``
and ``docker stack rm``, which no SDK call replaces) and the Docker SDK (services, tasks, nodes).
The helpers at the top are pure and unit-tested. Errors inside are raised as DeployError and become
fail_json only in run_module.

The history and the stored releases use _deploy_history's format under ``<state_dir>/<stack>/``; the
stored ``compose.yaml`` is the stack file as deployed (pinned by digest, with the update defaults).
"""

from __future__ import annotations

import calendar
import json
import os
import re
import socket
import tempfile
import time

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.outerloop.docker.plugins.module_utils._compose_deploy import (
    DeployError,
    DeployLock,
    env_file_text,
    exit_with_result,
    lock_holder,
    overrides_text,
    plan_services,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain import history
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import ReleaseError, check_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import manifest_text
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release_compose import render_compose
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import (
    HAS_YAML,
    YAML_IMPORT_ERROR,
    dump_compose,
    load_compose,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import (
    EngineError,
    docker_host_of,
    engine_session,
    require_sdk,
)

DEFAULT_STATE_DIR = "/var/lib/outerloop/stacks"
STACK_LABEL = "com.docker.stack.namespace"
STACK_FILE_VERSION = "3.8"
# What a careful operator sets for every service: one task at a time, the new one started and healthy
# before the old one stops, watched for a monitor window, and the swarm rolls back on its own on failure.
UPDATE_CONFIG_DEFAULTS = {
    "parallelism": 1,
    "delay": "5s",
    "order": "start-first",
    "failure_action": "rollback",
    "monitor": "30s",
    "max_failure_ratio": 0,
}
ROLLBACK_CONFIG_DEFAULTS = {
    "parallelism": 1,
    "delay": "0s",
    "order": "start-first",
    "failure_action": "pause",
    "monitor": "10s",
    "max_failure_ratio": 0,
}
_STACK = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
UPDATE_FAILED = ("paused", "rollback_started", "rollback_paused", "rollback_completed")
# Task states before "running": a task still in one of them on a node that is down will never get further.
NOT_YET_RUNNING = ("new", "pending", "assigned", "accepted", "preparing", "ready", "starting")
TASK_FAILED = ("failed", "rejected", "orphaned")


# --------------------------------------------------------------------------- pure helpers


def validate_stack_name(name) -> str:
    if not isinstance(name, str) or not _STACK.match(name):
        raise DeployError(f"stack {name!r} is not a stack name (letters, digits, _ . -, at most 63 characters)")
    return name


def stack_file(manifest: dict, update_config: dict | None, rollback_config: dict | None) -> dict:
    """The stack file as data: the release's compose file pinned by digest (render_compose), with
    ``version`` set when missing (``docker stack deploy`` of Docker 20.10 needs it) and every service's
    ``deploy.update_config``/``deploy.rollback_config`` filled from the given defaults where the compose
    file does not say (the compose file wins key by key; overrides, a second file, win over both)."""
    data = load_compose(render_compose(manifest)["content"], manifest["compose"]["file"])
    # What the Compose Specification allows and the stack file format refuses or misreads: the
    # top-level name (docker stack deploy then reads no service at all, and --prune would remove them
    # all) and depends_on with conditions (a list there; the swarm ignores the order anyway).
    data.pop("name", None)
    data.setdefault("version", STACK_FILE_VERSION)
    for name in list(data["services"]):
        svc = data["services"][name] or {}
        if isinstance(svc.get("depends_on"), dict):
            svc["depends_on"] = sorted(svc["depends_on"])
        deploy = svc.get("deploy") or {}
        svc["deploy"] = deploy
        for key, defaults in (("update_config", update_config), ("rollback_config", rollback_config)):
            if defaults:
                deploy[key] = {**defaults, **(deploy.get(key) or {})}
        data["services"][name] = svc
    return data


def stack_files(manifest: dict, overrides, env, update_config, rollback_config) -> dict:
    """The files of a stored release (see _deploy_history.RELEASE_FILES)."""
    header = (
        f"# Stack file of release {manifest['release_id']}, rendered by outerloop.docker.stack_deploy: every image\n"
        "# of the release pinned by digest, with the update and rollback defaults. Do not edit.\n"
    )
    data = stack_file(manifest, update_config, rollback_config)
    if overrides and isinstance(overrides, dict):
        # docker stack deploy merges files of one version only.
        overrides = {"version": data["version"], **overrides}
    return {
        "manifest.json": manifest_text(manifest),
        "compose.yaml": header + dump_compose(data),
        "compose.override.yaml": overrides_text(overrides),
        ".env": env_file_text(env),
    }


def check_pinning(manifest: dict, overrides, allow_unpinned, where: str) -> None:
    """Refuse overrides that change a release service's image, and services outside the release whose
    image is not pinned by digest unless listed in ``allow_unpinned``; DeployError listing them."""
    problems = []
    release = manifest["services"]
    for name, svc in sorted(((overrides or {}).get("services") or {}).items()):
        image = (svc or {}).get("image") if isinstance(svc, dict) else None
        if image is None:
            continue
        if name in release and image != release[name]["image"]:
            problems.append(f"overrides set the image of release service {name!r} to {image!r}: remove it (a release's "
                            "services run its digests)")  # fmt: skip
        elif name not in release and not digest_in(image) and name not in (allow_unpinned or []):
            problems.append(f"overrides add service {name!r} with image {image!r}, not pinned by digest: pin it or "
                            "list it in allow_unpinned")  # fmt: skip
    rendered = render_compose(manifest)
    for name in rendered["unpinned_services"]:
        if name not in (allow_unpinned or []):
            problems.append(
                f"service {name!r} is not in release {manifest['release_id']} and its image "
                f"{rendered['other_services'][name]['image']!r} is not pinned by digest: pin it as "
                f"REGISTRY/REPOSITORY@sha256:DIGEST, or list {name} in allow_unpinned"
            )
    if problems:
        raise DeployError(f"refusing to deploy on {where}, nothing was changed: " + "; ".join(problems))


def parse_env_text(text: str) -> dict:
    """The variables of a .env text written by env_file_text (the inverse of it)."""
    env = {}
    for line in (text or "").splitlines():
        match = _ENV_LINE.match(line)
        if not match:
            continue
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        env[key] = value
    return env


def digest_in(image) -> str | None:
    """The sha256 digest of an image reference (``name[:tag]@sha256:...``), else None."""
    if not isinstance(image, str) or "@" not in image:
        return None
    digest = image.rpartition("@")[2]
    return digest if digest.startswith("sha256:") else None


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


def files_equal(stored: dict | None, files: dict) -> bool:
    if stored is None:
        return False
    return {k: v for k, v in stored.items() if v is not None} == {k: v for k, v in files.items() if v is not None}


def stack_services(client, stack: str) -> dict:
    """{short service name (without the stack prefix): service inspect} of a stack, from the manager."""
    found = client.services(filters={"label": f"{STACK_LABEL}={stack}"})
    prefix = f"{stack}_"
    return {svc["Spec"]["Name"][len(prefix) :]: svc for svc in found if svc["Spec"]["Name"].startswith(prefix)}


# --------------------------------------------------------------------------- one run


class StackDeployment:
    """One run of the module against the swarm manager it runs on."""

    def __init__(self, module, client, stack: str):
        self.module = module
        self.client = client
        self.params = module.params
        self.stack = stack
        self.state_dir = self.params["state_dir"]
        self.host = socket.gethostname()
        self.entries = []
        # {service: [nodes]}: updates started again because a node went down under them (see wait).
        self.restarted = {}
        self.given_by = history.triggered_by(given=self.params.get("triggered_by"))
        self.docker = module.get_bin_path("docker", required=True)

    # ----------------------------------------------------------------- reading the swarm

    def check_manager(self) -> None:
        info = self.client.info()
        swarm = info.get("Swarm") or {}
        if not swarm.get("ControlAvailable"):
            raise DeployError(
                f"{self.host} is not a swarm manager (swarm state {swarm.get('LocalNodeState')}): run stack_deploy "
                "on a manager of the swarm (delegate_to the first host of the managers group; see the swarm role)"
            )

    def services(self) -> dict:
        """{short service name: service inspect} of the stack."""
        return stack_services(self.client, self.stack)

    def nodes(self) -> tuple[dict, set, int]:
        """({node id: host name}, {ids of nodes that are down}, how many nodes are ready and active)."""
        found = self.client.nodes()
        names = {node["ID"]: (node.get("Description") or {}).get("Hostname") or node["ID"] for node in found}
        down = {node["ID"] for node in found if (node.get("Status") or {}).get("State") != "ready"}
        eligible = sum(1 for node in found if node["ID"] not in down
                       and (node.get("Spec") or {}).get("Availability") == "active")  # fmt: skip
        return names, down, eligible

    def tasks(self, service_id: str) -> list:
        return self.client.tasks(filters={"service": service_id})

    def assess(self, want: dict, since: float | None) -> dict:
        services = self.services()
        nodes, down, eligible = self.nodes()
        result = {}
        for name in sorted(set(want) | set(services)):
            svc = services.get(name)
            if svc is None:
                result[name] = {"state": "waiting", "running": 0, "desired": None, "digest": None,
                                "update_state": None, "update_message": None, "errors": ["service missing"],
                                "tasks": [], "stuck_on": []}  # fmt: skip
                continue
            result[name] = assess_service(
                svc, self.tasks(svc["ID"]), want.get(name), since, nodes=nodes, down=down, eligible=eligible
            )
        return result

    def wait(self, want: dict, since: float | None) -> dict:
        deadline = time.monotonic() + self.params["wait_timeout"]
        while True:
            assessments = self.assess(want, since)
            word = overall(assessments)
            if word in ("converged", "failed", "rolled_back") or time.monotonic() >= deadline:
                return assessments
            for name, state in sorted(assessments.items()):
                if state.get("stuck_on") and name not in self.restarted:
                    # A new update of the same task spec (only a service label changes, so no task is dirty
                    # for it): the swarm stops the waiting updater, keeps the slots' tasks that already run
                    # the release and stops the old ones beside them.
                    label = f"io.outerloop.update-restarted={int(time.time())}"
                    self.run_cli(["service", "update", "--detach", "--with-registry-auth", "--label-add", label,
                                  f"{self.stack}_{name}"])  # fmt: skip
                    self.restarted[name] = state["stuck_on"]
            time.sleep(2)

    # ----------------------------------------------------------------- the CLI

    def run_cli(self, args: list, env: dict | None = None, cwd: str | None = None) -> str:
        environ = {"DOCKER_HOST": docker_host_of(self.params)}
        environ.update({k: "" if v is None else str(v) for k, v in (env or {}).items()})
        rc, out, err = self.module.run_command([self.docker, *args], environ_update=environ, cwd=cwd)
        if rc != 0:
            raise DeployError(
                f"`docker {' '.join(args[:2])}` of stack {self.stack} failed on {self.host} (rc {rc}): "
                f"{(err or out).strip()}",
            )
        return out

    def stack_deploy(self, files: dict, env: dict) -> None:
        with tempfile.TemporaryDirectory(prefix="stack-deploy-") as directory:
            args = ["stack", "deploy", "--prune", "--resolve-image", self.params["resolve_image"]]
            if self.params["with_registry_auth"]:
                args.append("--with-registry-auth")
            for name in ("compose.yaml", "compose.override.yaml"):
                if files.get(name):
                    path = os.path.join(directory, name)
                    with open(path, "w", encoding="utf-8") as fh:
                        fh.write(files[name])
                    args += ["--compose-file", path]
            self.run_cli([*args, self.stack], env=env, cwd=directory)

    # ----------------------------------------------------------------- results

    def record(self, action, result, started, *, manifest=None, previous=None, reason=None):
        entry = history.new_entry(
            action=action,
            result=result,
            started=started,
            manifest=manifest,
            triggered_by=self.given_by,
            previous_release_id=previous,
            reason=reason,
            environment=self.params.get("environment"),
        )
        self.entries = history.append_entry(self.entries, entry)
        history.write_history(self.state_dir, self.stack, self.entries)

    def service_report(self, manifest: dict, before: dict, assessments: dict) -> dict:
        after = {name: svc["digest"] for name, svc in manifest["services"].items()}
        plan = plan_services(before, after)
        report = {}
        for name in sorted(set(plan) | set(assessments)):
            item = dict(plan.get(name) or {"before_digest": before.get(name), "digest": None, "changed": False})
            item["image"] = manifest["services"].get(name, {}).get("image")
            state = assessments.get(name)
            if state:
                item.update(
                    running_digest=state["digest"],
                    replicas=f"{state['running']}/{state['desired']}",
                    state=state["state"],
                    update_state=state["update_state"],
                    tasks=state["tasks"],
                )
                if state["errors"]:
                    item["errors"] = state["errors"]
                if name in self.restarted:
                    item["update_restarted"] = f"node {', '.join(self.restarted[name])} went down during the update"
            report[name] = item
        return report

    @staticmethod
    def failure_text(assessments: dict) -> str:
        parts = []
        for name, state in sorted(assessments.items()):
            if state["state"] == "converged":
                continue
            words = [f"{name}: {state['state']} ({state['running']}/{state['desired']} running the release)"]
            if state.get("update_message"):
                words.append(state["update_message"])
            words += state["errors"]
            parts.append("; ".join(words))
        return " | ".join(parts)

    # ----------------------------------------------------------------- the states

    def deploy(self, manifest: dict, files: dict | None = None, env: dict | None = None, action: str = "deploy",
               reason: str | None = None) -> dict:  # fmt: skip
        params = self.params
        if files is None:
            env = params["env"] or {}
            check_pinning(manifest, params["overrides"], params["allow_unpinned"], self.host)
            files = stack_files(manifest, params["overrides"], env, params["update_config"], params["rollback_config"])
        current = history.current_entry(self.entries)
        services = self.services()
        before = {name: digest_in(spec_image(svc)) for name, svc in services.items()}
        want = {name: svc["digest"] for name, svc in manifest["services"].items()}
        stored = history.read_release_files(self.state_dir, self.stack, manifest["release_id"])
        same_files = files_equal(stored, files)
        specs_match = all(before.get(name) == digest for name, digest in want.items())
        # --prune: after the deploy the stack has the services of its files, the release's on its digests.
        names = set(load_compose(files["compose.yaml"], "stack file")["services"])
        if files.get("compose.override.yaml"):
            names |= set(json.loads(files["compose.override.yaml"]).get("services") or {})  # overrides_text: JSON
        after = {**{name: before.get(name) for name in sorted(names)}, **want}
        unchanged = bool(current) and current.get("release_id") == manifest["release_id"] and same_files and specs_match
        changed = not unchanged
        result = {
            "stack": self.stack,
            "release_id": manifest["release_id"],
            "version": manifest["version"],
            "previous_release_id": (current or {}).get("release_id")
            if changed
            else ((history.previous_entry(self.entries, manifest["release_id"]) or {}).get("release_id")),
            "changed": changed,
            "rolled_back": False,
            "diff": {
                "before": {"release_id": (current or {}).get("release_id"), "services": before},
                "after": {"release_id": manifest["release_id"], "services": after},
            },
        }
        if self.module.check_mode:
            plan = plan_services(before, after)
            result["services"] = {name: {**item, "image": manifest["services"].get(name, {}).get("image")}
                                  for name, item in plan.items()}  # fmt: skip
            return result
        started = history.utc_now()
        previous_id = (current or {}).get("release_id")
        since = None
        if changed:
            history.write_release_files(self.state_dir, self.stack, manifest["release_id"], files)
            since = time.time()
            try:
                self.stack_deploy(files, env if env is not None else {})
            except DeployError as exc:
                self.record(action, "failed", started, manifest=manifest, previous=previous_id, reason=reason)
                raise DeployError(
                    f"{exc}; services it did not update keep running what they ran. Fix the input and run again",
                    history=self.entries[-5:],
                ) from None
        assessments = self.wait(want, since)
        result["services"] = self.service_report(manifest, before, assessments)
        word = overall(assessments)
        if word == "converged":
            if changed:
                self.record(action, "succeeded", started, manifest=manifest, previous=previous_id, reason=reason)
            return result
        if not changed:
            raise DeployError(
                f"stack {self.stack} runs release {manifest['release_id']} but has not converged within "
                f"wait_timeout={params['wait_timeout']} s on {self.host}: {self.failure_text(assessments)}. "
                "Check the nodes (docker node ls) and the tasks (docker service ps)",
                services=result["services"],
            )
        swarm_rolled_back = word in ("rolled_back", "rolling_back")
        result_word = "rolled_back" if swarm_rolled_back else "failed"
        self.record(action, result_word, started, manifest=manifest, previous=previous_id, reason=reason)
        if swarm_rolled_back:
            # The swarm rolls back only the services whose update failed; the others already run the new
            # release. The whole stack goes back to the release before, so that it is one release again.
            problem = self.restore(previous_id) if previous_id else "there is no release before it"
            back = (
                f"the other services were returned to {previous_id} as well, which runs again"
                if problem is None
                else f"the other services may still run the new release: returning them failed ({problem})"
            )
            msg = (
                f"release {manifest['release_id']} failed on stack {self.stack} and the swarm rolled it back "
                f"(update_config.failure_action rollback): {self.failure_text(assessments)}. {back[0].upper()}"
                f"{back[1:]}; fix the release and deploy a new one"
            )
        else:
            msg = (
                f"release {manifest['release_id']} did not converge on stack {self.stack} within "
                f"wait_timeout={params['wait_timeout']} s ({self.host}): {self.failure_text(assessments)}. "
                "Look at `docker service ps --no-trunc` of the services named, then roll back with "
                "state=rolled_back or deploy a fixed release"
            )
        raise DeployError(msg, services=result["services"], rolled_back=swarm_rolled_back,
                          history=self.entries[-5:])  # fmt: skip

    def restore(self, release_id: str) -> str | None:
        """Deploy the stored files of release_id again and wait until converged; None, or what went wrong."""
        stored = history.read_release_files(self.state_dir, self.stack, release_id)
        if not stored or "manifest.json" not in stored:
            return f"its files are not stored under {history.project_path(self.state_dir, self.stack)} on {self.host}"
        manifest = check_manifest(json.loads(stored["manifest.json"]), f"stored release {release_id}")
        since = time.time()
        try:
            self.stack_deploy({name: stored.get(name) for name in history.RELEASE_FILES},
                              parse_env_text(stored.get(".env") or ""))  # fmt: skip
        except DeployError as exc:
            return str(exc)
        want = {name: svc["digest"] for name, svc in manifest["services"].items()}
        assessments = self.wait(want, since)
        word = overall(assessments)
        return None if word == "converged" else f"{word}: {self.failure_text(assessments)}"

    def rollback(self) -> dict:
        current = history.current_entry(self.entries)
        target_id = self.params["rollback_to"]
        if not target_id:
            if current is None:
                raise DeployError(f"stack {self.stack} has no current release in {self.state_dir} to roll back from")
            if current.get("action") == "rollback":
                return {"stack": self.stack, "changed": False, "rolled_back": False,
                        "release_id": current.get("release_id"), "version": current.get("version"),
                        "previous_release_id": current.get("previous_release_id")}  # fmt: skip
            target = history.previous_entry(self.entries, current.get("release_id"))
            if target is None:
                raise DeployError(
                    f"stack {self.stack} has no release before {current.get('release_id')} in its history on "
                    f"{self.host}: name one with rollback_to"
                )
            target_id = target["release_id"]
        stored = history.read_release_files(self.state_dir, self.stack, target_id)
        if not stored or "manifest.json" not in stored:
            raise DeployError(
                f"release {target_id} is not stored under {history.project_path(self.state_dir, self.stack)}/releases "
                f"on {self.host}: roll back to a release deployed from this manager (see the history), or deploy it"
            )
        manifest = check_manifest(json.loads(stored["manifest.json"]), f"stored release {target_id}")
        files = {name: stored.get(name) for name in history.RELEASE_FILES}
        result = self.deploy(manifest, files, parse_env_text(stored.get(".env") or ""), "rollback",
                             self.params.get("reason"))  # fmt: skip
        result["rolled_back"] = result["changed"]
        return result

    def remove(self) -> dict:
        services = self.services()
        current = history.current_entry(self.entries)
        result = {"stack": self.stack, "release_id": None, "changed": bool(services), "rolled_back": False,
                  "previous_release_id": (current or {}).get("release_id"),
                  "diff": {"before": {"services": {n: digest_in(spec_image(s)) for n, s in services.items()}},
                           "after": {"services": {}}}}  # fmt: skip
        if not services or self.module.check_mode:
            return result
        started = history.utc_now()
        self.run_cli(["stack", "rm", self.stack])
        deadline = time.monotonic() + self.params["wait_timeout"]
        while self.services() or self.client.networks(filters={"label": f"{STACK_LABEL}={self.stack}"}):
            if time.monotonic() >= deadline:
                raise DeployError(f"stack {self.stack} was removed but its services or networks remain after "
                                  f"wait_timeout={self.params['wait_timeout']} s on {self.host}")  # fmt: skip
            time.sleep(1)
        entry = history.new_entry(
            action="remove", result="succeeded", started=started, release_id=(current or {}).get("release_id"),
            application=(current or {}).get("application"), version=(current or {}).get("version"),
            triggered_by=self.given_by, previous_release_id=(current or {}).get("release_id"),
            reason=self.params.get("reason"), environment=self.params.get("environment"),
        )  # fmt: skip
        self.entries = history.append_entry(self.entries, entry)
        history.write_history(self.state_dir, self.stack, self.entries)
        return result


# --------------------------------------------------------------------------- the module's edge


def run_module(module) -> None:
    """Run outerloop.docker.stack_deploy with the module's parameters; exits the module."""
    require_sdk(module)
    if not HAS_YAML:
        module.fail_json(
            msg=missing_required_lib("PyYAML (Debian package python3-yaml) on the swarm manager"),
            exception=YAML_IMPORT_ERROR,
        )
    params = module.params
    host = socket.gethostname()
    state = params["state"]
    manifest = None
    result = {}
    deployment = None
    try:
        if state == "present":
            try:
                manifest = check_manifest(params["release"], "given as release")
            except ReleaseError as exc:
                raise DeployError(
                    f"refusing to deploy on {host}, nothing was changed: {exc}; give the manifest written by "
                    "outerloop.docker.release, unedited",
                    errors=exc.errors,
                ) from None
        stack = validate_stack_name(params["stack"] or (manifest or {}).get("application"))
        history.project_path(params["state_dir"], stack)
        with engine_session(params) as client:
            deployment = StackDeployment(module, client, stack)
            deployment.check_manager()
            holder = lock_holder(host, manifest, state, deployment.given_by)
            if module.check_mode:
                result = _run_state(deployment, state, manifest)
            else:
                with DeployLock(history.lock_path(params["state_dir"], stack), holder, params["lock_timeout"]):
                    result = _run_state(deployment, state, manifest)
            result["history"] = deployment.entries[-5:]
    except (DeployError, history.HistoryError, ReleaseError, EngineError) as exc:
        details = getattr(exc, "details", {}) or {}
        module.fail_json(msg=str(exc), **details)
    except OSError as exc:
        module.fail_json(msg=f"cannot write {exc.filename or '?'} on {host}: {exc.strerror or exc}")
    exit_with_result(module, result)


def _run_state(deployment: StackDeployment, state: str, manifest: dict | None) -> dict:
    deployment.entries = history.read_history(deployment.state_dir, deployment.stack)
    if state == "present":
        return deployment.deploy(manifest)
    if state == "rolled_back":
        return deployment.rollback()
    return deployment.remove()
