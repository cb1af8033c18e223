# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Deploy a release manifest as a Docker Swarm stack from the manager the module runs on.

One run (StackDeployment): plan, ``docker stack deploy`` (the Docker CLI, which no SDK call replaces),
wait until converged (_platforms.swarm), smoke checks, the whole stack back on the release before when
the swarm rolled a service back or a smoke check failed, history. What every platform does alike (the
edge, the lock, the history entries, the smoke checks, the environment files) is _platforms.deploy's.

The history and the stored releases use _domain.history's format under ``<state_dir>/<stack>/``; the
stored ``compose.yaml`` is the stack file as deployed (pinned by digest, with the update defaults).
"""

from __future__ import annotations

import json
import os
import tempfile
import time

from ansible_collections.outerloop.docker.plugins.module_utils._domain import history
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import check_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import manifest_text
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release_compose import render_compose
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.cli import CliError, DockerCli
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.deploy import (
    Deployer,
    DeployError,
    env_file_text,
    overrides_text,
    plan_services,
    secrets_file_text,
    stored_environment,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.swarm import (
    SwarmError,
    assess_service,
    node_summary,
    overall,
    read_nodes,
    require_manager,
    spec_image,
    stack_services,
    validate_stack_name,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import (
    dump_compose,
    load_compose,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import digest_in
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import (
    STACK_NAMESPACE,
    UPDATE_RESTARTED,
)

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

# --------------------------------------------------------------------------- the stack file (pure)


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


def stack_files(manifest: dict, overrides, env, update_config, rollback_config, *, secrets=None) -> dict:
    """The files of a stored release (see _domain.history.RELEASE_FILES); ``secrets.env`` is None without
    secrets (kept for a rollback or a restore: ``docker stack deploy`` reads them from its environment)."""
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
        "secrets.env": secrets_file_text(secrets),
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


def files_equal(stored: dict | None, files: dict) -> bool:
    if stored is None:
        return False
    return {k: v for k, v in stored.items() if v is not None} == {k: v for k, v in files.items() if v is not None}


# --------------------------------------------------------------------------- one run


class StackDeployment(Deployer):
    """One run of stack_deploy: the stack ``name``, from the swarm manager the module runs on."""

    where = "swarm manager"
    errors = (SwarmError,)

    def __init__(self, module, client, name: str):
        super().__init__(module, client, name)
        self.stack = name
        self.cli = DockerCli(module)
        # {service: [nodes]}: updates started again because a node went down under them (see wait).
        self.restarted = {}

    @classmethod
    def name_of(cls, params: dict, manifest: dict | None, host: str) -> str:
        return validate_stack_name(params["stack"] or (manifest or {}).get("application"))

    def preflight(self) -> None:
        require_manager(self.client, "stack_deploy")

    # ----------------------------------------------------------------- reading the swarm

    def services(self) -> dict:
        """{short service name: service inspect} of the stack."""
        return stack_services(self.client, self.stack)

    def tasks(self, service_id: str) -> list:
        return self.client.tasks(filters={"service": service_id})

    def assess(self, want: dict, since: float | None) -> dict:
        services = self.services()
        nodes, down, eligible = node_summary(read_nodes(self.client))
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
                    label = f"{UPDATE_RESTARTED}={int(time.time())}"
                    self.run_cli(["service", "update", "--detach", "--with-registry-auth", "--label-add", label,
                                  f"{self.stack}_{name}"])  # fmt: skip
                    self.restarted[name] = state["stuck_on"]
            time.sleep(2)

    # ----------------------------------------------------------------- the CLI

    def run_cli(self, args: list, env: dict | None = None, cwd: str | None = None) -> str:
        _rc, out, _err = self.cli.run(
            args, env=env, cwd=cwd, what=f"`docker {' '.join(args[:2])}` of stack {self.stack}"
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

    def prune_stack_files(self, pending: dict | None = None) -> dict:
        """Retention on the manager: the stored files of the releases beyond keep_releases (the images are
        on the nodes and stay). In check mode, what a real run would prune (``pending``: its new entry)."""
        release_ids = self.retention_plan(pending)
        self.prune_release_files(release_ids)
        return {"releases": release_ids, "images": []}

    # ----------------------------------------------------------------- results

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
            secrets = self.secrets()
            check_pinning(manifest, params["overrides"], params["allow_unpinned"], self.host)
            files = stack_files(manifest, params["overrides"], params["env"] or {}, params["update_config"],
                                params["rollback_config"], secrets=secrets)  # fmt: skip
            # docker stack deploy interpolates from its process environment: the secrets go there, never
            # on its command line.
            env = {**(params["env"] or {}), **secrets}
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
            "smoke": [],
            "diff": {
                "before": {"release_id": (current or {}).get("release_id"), "services": before},
                "after": {"release_id": manifest["release_id"], "services": after},
            },
        }
        if self.check_mode:
            plan = plan_services(before, after)
            result["services"] = {name: {**item, "image": manifest["services"].get(name, {}).get("image")}
                                  for name, item in plan.items()}  # fmt: skip
            if action == "deploy":
                pending = self.entry(manifest, action, "succeeded", history.utc_now()) if changed else None
                result["pruned"] = self.prune_stack_files(pending)
                result["changed"] = changed or bool(result["pruned"]["releases"])
            return result
        started = history.utc_now()
        previous_id = (current or {}).get("release_id")
        since = None
        if changed:
            history.write_release_files(self.state_dir, self.stack, manifest["release_id"], files)
            since = time.time()
            try:
                self.stack_deploy(files, env if env is not None else {})
            except CliError as exc:
                self.record(self.entry(manifest, action, "failed", started, previous=previous_id, reason=reason))
                raise DeployError(
                    f"{exc}; services it did not update keep running what they ran. Fix the input and run again",
                    history=self.entries[-5:],
                ) from None
        assessments = self.wait(want, since)
        result["services"] = self.service_report(manifest, before, assessments)
        word = overall(assessments)
        if word == "converged":
            if not changed:
                if action == "deploy":
                    result["pruned"] = self.prune_stack_files()
                    result["changed"] = bool(result["pruned"]["releases"])
                return result
            result["smoke"], failure = self.smoke()
            if failure is None:
                self.record(self.entry(manifest, action, "succeeded", started, previous=previous_id, reason=reason))
                if action == "deploy":
                    result["pruned"] = self.prune_stack_files()
                return result
            return self.smoke_failed(manifest, action, started, previous_id, failure=failure, result=result)
        if not changed:
            raise DeployError(
                f"stack {self.stack} runs release {manifest['release_id']} but has not converged within "
                f"wait_timeout={params['wait_timeout']} s on {self.host}: {self.failure_text(assessments)}. "
                "Check the nodes (docker node ls) and the tasks (docker service ps)",
                services=result["services"],
            )
        swarm_rolled_back = word in ("rolled_back", "rolling_back")
        result_word = "rolled_back" if swarm_rolled_back else "failed"
        self.record(self.entry(manifest, action, result_word, started, previous=previous_id, reason=reason))
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

    def smoke_failed(self, manifest: dict, action: str, started: str, previous_id, *, failure: str, result: dict):
        """A release that converged but failed a smoke check: back on the release before, as when the swarm
        rolls an update back (a rollback that fails its checks, or a first release, is left for diagnosis)."""
        details = {"services": result["services"], "smoke": result["smoke"], "release_id": manifest["release_id"]}
        if action == "rollback" or not previous_id:
            self.record(self.entry(manifest, action, "failed", started, previous=previous_id, reason=failure))
            if action == "rollback":
                msg = (
                    f"rollback of stack {self.stack} to {manifest['release_id']} on {self.host} is not healthy: "
                    f"{failure}"
                )
            else:
                msg = (
                    f"release {manifest['release_id']} is not healthy on stack {self.stack} ({self.host}): {failure}. "
                    f"There is no previous release of {self.stack} in {self.state_dir} to roll back to, so it was left "
                    "as it is for diagnosis: fix the release and deploy again, or remove it with state=absent"
                )
            raise DeployError(msg, rolled_back=False, history=self.entries[-5:], **details)
        self.record(self.entry(manifest, action, "rolled_back", started, previous=previous_id, reason=failure))
        problem = self.restore(previous_id)
        if problem is None:
            msg = (
                f"release {manifest['release_id']} failed on stack {self.stack} ({self.host}): {failure}. Rolled back "
                f"to {previous_id}, which runs again"
            )
        else:
            msg = (
                f"release {manifest['release_id']} failed on stack {self.stack} ({self.host}): {failure}; the rollback "
                f"to {previous_id} did not converge either: {problem}. Look at `docker service ps --no-trunc` of the "
                "stack's services"
            )
        raise DeployError(msg, rolled_back=problem is None, rolled_back_to=previous_id, history=self.entries[-5:],
                          **details)  # fmt: skip

    def restore(self, release_id: str) -> str | None:
        """Deploy the stored files of release_id again and wait until converged; None, or what went wrong."""
        stored = history.read_release_files(self.state_dir, self.stack, release_id)
        if not stored or "manifest.json" not in stored:
            return f"its files are not stored under {history.project_path(self.state_dir, self.stack)} on {self.host}"
        manifest = check_manifest(json.loads(stored["manifest.json"]), f"stored release {release_id}")
        since = time.time()
        try:
            self.stack_deploy({name: stored.get(name) for name in history.RELEASE_FILES}, stored_environment(stored))
        except CliError as exc:
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
                return {"stack": self.stack, "changed": False, "rolled_back": False, "smoke": [],
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
                f"{self.missing_release(target_id)} (stack {self.stack}): roll back to a release deployed from this "
                "manager (see the history), or deploy it"
            )
        manifest = check_manifest(json.loads(stored["manifest.json"]), f"stored release {target_id}")
        files = {name: stored.get(name) for name in history.RELEASE_FILES}
        result = self.deploy(manifest, files, stored_environment(stored), "rollback", self.params.get("reason"))
        result["rolled_back"] = result["changed"]
        return result

    def remove(self) -> dict:
        services = self.services()
        current = history.current_entry(self.entries)
        result = {"stack": self.stack, "release_id": None, "changed": bool(services), "rolled_back": False,
                  "smoke": [], "previous_release_id": (current or {}).get("release_id"),
                  "diff": {"before": {"services": {n: digest_in(spec_image(s)) for n, s in services.items()}},
                           "after": {"services": {}}}}  # fmt: skip
        if not services or self.module.check_mode:
            return result
        started = history.utc_now()
        self.run_cli(["stack", "rm", self.stack])
        deadline = time.monotonic() + self.params["wait_timeout"]
        while self.services() or self.client.networks(filters={"label": f"{STACK_NAMESPACE}={self.stack}"}):
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
        self.record(entry)
        return result
