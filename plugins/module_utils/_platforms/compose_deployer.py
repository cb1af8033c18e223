# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Deploy a release manifest as a Docker Compose project on the Docker host the module runs on.

One run (ComposeDeployment): plan, pull, switch, health gate, smoke checks, automatic rollback, history,
over the ``docker compose`` CLI (_platforms.compose_host) and the Docker SDK (containers, images,
health, logs). What every platform does alike (the edge, the lock, the history entries, the smoke
checks, the environment files) is _platforms.deploy's. Errors are raised as DeployError.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time

from ansible_collections.outerloop.docker.plugins.module_utils._domain import history
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import manifest_text
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release_compose import render_compose
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.cli import CliError
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_host import (
    PROXY_FILE,
    Compose,
    by_service,
    health_words,
    project_containers,
    running_digest,
    service_state,
    state_word,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_retention import (
    prune_compose_releases,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_switch import (
    ProxySwitch,
    proxy_compose_text,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.deploy import (
    Deployer,
    DeployError,
    env_file_text,
    overrides_text,
    secrets_file_text,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.front_proxy import ProxyError, proxy_settings
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import HAS_DOCKER
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.files import write_atomic
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import digest_in, parse_image_ref

if HAS_DOCKER:
    import docker.errors

DEFAULT_PROJECT_DIR = "/srv/outerloop/apps"


# --------------------------------------------------------------------------- the files of a release (pure)


def release_files(manifest: dict, overrides: dict | None, env: dict | None, secrets: dict | None = None) -> dict:
    """Every file of a release directory (see _domain.history.RELEASE_FILES); ``compose.override.yaml``
    is None without overrides, ``secrets.env`` None without secrets. The compose file is the release's,
    rendered pinned by digest."""
    rendered = render_compose(manifest)
    return {
        "manifest.json": manifest_text(manifest),
        "compose.yaml": rendered["content"],
        "compose.override.yaml": overrides_text(overrides),
        ".env": env_file_text(env),
        "secrets.env": secrets_file_text(secrets),
    }


def check_images(effective: dict, manifest: dict, allow_unpinned, where: str) -> dict:
    """{service: image} of the effective compose configuration (release, overrides and env merged).

    Every release service must run the release's image (overrides may not change it) and every other
    service must be pinned by digest unless it is in ``allow_unpinned``; DeployError listing them otherwise.
    """
    allowed = set(allow_unpinned or [])
    release = {name: svc["image"] for name, svc in manifest["services"].items()}
    images, problems = {}, []
    for name, service in sorted((effective.get("services") or {}).items()):
        image = (service or {}).get("image")
        images[name] = image
        if name in release:
            if image != release[name]:
                problems.append(
                    f"service {name!r} would run {image!r}, not the release's {release[name]}: remove the image "
                    "from overrides (a release's services run its digests)"
                )
        elif not digest_in(image) and name not in allowed:
            problems.append(
                f"service {name!r} is not in release {manifest['release_id']} and its image {image!r} is not "
                f"pinned by digest: pin it as REGISTRY/REPOSITORY@sha256:DIGEST, or list {name} in allow_unpinned"
            )
    if problems:
        raise DeployError(f"refusing to deploy on {where}, nothing was changed: " + "; ".join(problems))
    return images


def write_files(directory: str, files: dict) -> None:
    """The files of a release into a private directory (mode 0600), for ``docker compose config``."""
    for name, text in files.items():
        if text is not None:
            write_atomic(os.path.join(directory, name), text, 0o600)


# --------------------------------------------------------------------------- one run


class ComposeDeployment(Deployer):
    """One run of compose_deploy: the project ``name`` on the Docker host the module runs on."""

    where = "Docker host"
    errors = (ProxyError,)

    def __init__(self, module, client, name: str):
        super().__init__(module, client, name)
        self.project = name
        self.project_dir = self.params["project_dir"] or os.path.join(DEFAULT_PROJECT_DIR, name)
        # The services behind the front proxy switch with zero downtime (_platforms.compose_switch).
        settings = proxy_settings(self.params.get("proxy"))
        self.switcher = ProxySwitch(self, settings) if settings else None
        self.effective_config = {}
        self.proxy_report = None
        self._preview_files = None  # check mode: the files whose switch proxy_plan() shows, when asked

    def preflight(self) -> None:
        if self.switcher is not None:
            self.switcher.preflight()

    def with_proxy(self, files: dict) -> dict:
        """A release's files with compose.proxy.yaml as the proxy option says now (none without it)."""
        return {**files, PROXY_FILE: proxy_compose_text(self.switcher.services if self.switcher else None)}

    @classmethod
    def name_of(cls, params: dict, manifest: dict | None, host: str) -> str:
        project = params["project"] or (manifest or {}).get("application")
        if not project:
            raise DeployError(f"project is required with state={params['state']} (the compose project name on {host})")
        return project

    # ----------------------------------------------------------------- engine views

    def containers(self) -> dict:
        """{service: [inspect results]} of the project's containers (one-off containers left out)."""
        return by_service(project_containers(self.client, self.project))

    def running_digests(self, containers: dict) -> dict:
        """{service: digest the containers run} (None when unknown or when they disagree)."""
        cache = {}
        return {service: running_digest(self.client, infos, cache) for service, infos in containers.items()}

    def service_report(self, containers: dict, images: dict, before: dict, after: dict) -> dict:
        report = {}
        running = self.running_digests(containers)
        for name in sorted(set(images) | set(containers)):
            infos = containers.get(name, [])
            state = service_state(infos)
            report[name] = {
                "image": images.get(name),
                "digest": after.get(name) or running.get(name),
                "running_digest": running.get(name),
                "before_digest": before.get(name),
                "changed": before.get(name) != (after.get(name) or running.get(name)),
                "health": state["health"],
                "containers": [
                    {"id": info["Id"][:12], "name": info["Name"].lstrip("/"), "status": state_word(info)}
                    for info in infos
                ],
            }
        return report

    def settled(self, containers: dict, images: dict) -> bool:
        """True when every expected service runs its image and is healthy, with no orphans."""
        if set(containers) != set(images):
            return False
        for name, infos in containers.items():
            if not service_state(infos)["ready"]:
                return False
            if any((info.get("Config") or {}).get("Image") != images[name] for info in infos):
                return False
        return True

    def wait_healthy(self, images: dict, timeout: int) -> tuple[bool, dict, str | None]:
        """Wait until every service of ``images`` is ready; (ok, containers, reason)."""
        deadline = time.monotonic() + timeout
        while True:
            containers = self.containers()
            states = {name: service_state(containers.get(name, [])) for name in images}
            bad = {name: state for name, state in states.items() if not state["ready"]}
            if not bad:
                return True, containers, None
            failed = {name: state for name, state in bad.items() if state["failed"]}
            if failed or time.monotonic() >= deadline:
                shown = failed or bad
                words = ", ".join(health_words(name, containers.get(name, []), state["health"])
                                  for name, state in sorted(shown.items()))  # fmt: skip
                reason = f"unhealthy: {words}" if failed else f"not healthy within {timeout} s: {words}"
                return False, containers, reason
            time.sleep(1)

    def logs_of(self, containers: dict, only=None) -> dict:
        tail = self.params["logs_tail"]
        logs = {}
        for name, infos in containers.items():
            if only is not None and name not in only:
                continue
            for info in infos:
                try:
                    text = self.client.logs(info["Id"], stdout=True, stderr=True, tail=tail)
                except docker.errors.APIError as exc:
                    text = f"(logs unavailable: {exc})".encode()
                logs[info["Name"].lstrip("/")] = text.decode("utf-8", "replace").splitlines()[-tail:]
        return logs

    def pull_missing(self, images: dict) -> list:
        """Pull every image not on the engine yet (before anything running is touched); the pulled refs."""
        pulled = []
        for name, image in sorted(images.items()):
            if not image:
                continue
            try:
                self.client.inspect_image(image)
                continue
            except docker.errors.NotFound:
                pass
            if self.check_mode:
                pulled.append(image)
                continue
            ref = parse_image_ref(image)
            repository = ref.name
            try:
                if ref.digest:
                    self.client.pull(repository, tag=ref.digest)
                else:
                    self.client.pull(repository, tag=ref.tag or "latest")
            except docker.errors.APIError as exc:
                registry = repository.split("/", 1)[0]
                raise DeployError(
                    f"pulling image {image} of service {name} from registry {registry} failed on {self.host}: "
                    f"{exc.explanation or exc}. The running release was not touched. Check that the digest was "
                    f"pushed to {registry} and that {self.host} is logged in to it (docker login {registry}, "
                    "outerloop.docker.registry_login)"
                ) from None
            pulled.append(image)
        return pulled

    # ----------------------------------------------------------------- switching

    def switch(self, directory: str, files: dict) -> tuple[int, str]:
        """Bring the stored release up: behind the front proxy through its switch, else ``up``; (rc, reason)."""
        if self.switcher is not None:
            rc, reason, self.proxy_report = self.switcher.switch(directory, files, self.effective_config)
            return rc, reason
        compose = Compose(self.module, self.project, self.project_dir, directory, files)
        rc, out, err = compose.up()
        return rc, f"docker compose up failed (exit {rc}): {(err or out).strip()[-1500:]}"

    def store(self, release_id: str, files: dict, images: dict) -> str:
        """Store a release's files, and beside them the images Compose gave for them; returns the directory."""
        directory = history.write_release_files(self.state_dir, self.project, release_id, files)
        history.write_release_images(
            self.state_dir, self.project, release_id, files, allow_unpinned=self.params["allow_unpinned"], images=images
        )
        return directory

    def bring_up(self, manifest: dict, files: dict, images: dict) -> tuple[bool, dict, str | None]:
        """Store the release's files, ``up`` them and wait until healthy; (ok, containers, reason)."""
        directory = self.store(manifest["release_id"], files, images)
        rc, output = self.switch(directory, files)
        ok, containers, reason = self.wait_healthy(images, self.params["wait_timeout"] if rc == 0 else 0)
        if rc != 0:
            reason = output
            ok = False
        return ok, containers, reason

    def effective(self, files: dict, manifest: dict) -> dict:
        """Check the files with ``docker compose config`` in a private temporary directory: {service: image}."""
        staging = tempfile.mkdtemp(prefix="outerloop-deploy-")
        try:
            write_files(staging, files)
            compose = Compose(self.module, self.project, self.project_dir, staging, files)
            try:
                config = compose.config()
            except CliError as exc:
                raise DeployError(
                    f"the compose files of release {manifest['release_id']} with the given overrides and env are "
                    f"not valid on {self.host}, nothing was changed: {exc}"
                ) from None
            self.effective_config = config
            if self.switcher is not None:
                self.switcher.check(config)  # what the proxy cannot serve is refused before anything changes
                self._preview_files = dict(files) if self.check_mode else None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return check_images(config, manifest, self.params["allow_unpinned"], self.host)

    def proxy_plan(self) -> dict | None:
        """Check mode: what the switch would do with each proxied service, worked out only for a result that shows
        it (it asks Compose for the services' config hashes, a run of the CLI that a rerun does not need)."""
        if self.switcher is None or self._preview_files is None:
            return self.proxy_report
        staging = tempfile.mkdtemp(prefix="outerloop-deploy-")
        try:
            write_files(staging, self._preview_files)
            compose = Compose(self.module, self.project, self.project_dir, staging, self._preview_files)
            self.proxy_report = {"plan": self.switcher.preview(compose, self.effective_config)}
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._preview_files = None
        return self.proxy_report

    # ----------------------------------------------------------------- states

    def result_base(self) -> dict:
        return {"changed": False, "project": self.project, "project_dir": self.project_dir, "rolled_back": False}

    def deploy(self, manifest: dict) -> dict:
        files = self.with_proxy(release_files(manifest, self.params["overrides"], self.params["env"], self.secrets()))
        stored = history.read_release_files(self.state_dir, self.project, manifest["release_id"])
        wanted_files = {name: text for name, text in files.items() if text is not None}
        # The files stored as they are wanted: the images Compose gave for them when they were deployed, without
        # asking Compose again (a rerun). Anything else is checked with Compose below, before it changes anything.
        kept = (
            history.read_release_images(
                self.state_dir, self.project, manifest["release_id"], wanted_files, self.params["allow_unpinned"]
            )
            if stored == wanted_files
            else None
        )
        images = kept if kept is not None else self.effective(files, manifest)
        after = {name: svc["digest"] for name, svc in manifest["services"].items()}
        current = history.current_entry(self.entries)
        before = dict(current["services"]) if current else {}
        containers = self.containers()
        running = self.running_digests(containers)
        for name, digest in running.items():
            before.setdefault(name, digest)
        same = (
            current is not None
            and current["release_id"] == manifest["release_id"]
            and current.get("services") == after
            and stored == wanted_files
            and self.settled(containers, images)
            and (self.switcher is None or self.switcher.settled(containers))
        )
        result = self.result_base()
        result.update(
            release_id=manifest["release_id"],
            version=manifest["version"],
            previous_release_id=current["release_id"] if current else None,
            diff={
                "before": {"release_id": current["release_id"] if current else None, "services": before},
                "after": {"release_id": manifest["release_id"], "services": after},
            },
        )
        if same:
            result.update(services=self.service_report(containers, images, before, after), smoke=[])
            result["previous_release_id"] = current.get("previous_release_id")
            result["pruned"] = prune_compose_releases(self)
            result["changed"] = bool(result["pruned"]["releases"])
            return result
        if kept is not None:  # something is to be done after all: the files through Compose first, as always
            images = self.effective(files, manifest)
        result["changed"] = True
        result["pulled"] = self.pull_missing(images)
        if self.check_mode:
            result.update(services=self.service_report(containers, images, before, after), smoke=[])
            pending = self.entry(manifest, "deploy", "succeeded", history.utc_now())
            result["pruned"] = prune_compose_releases(self, pending)
            plan = self.proxy_plan()
            result.update({"proxy": plan} if plan else {})
            return result
        started = history.utc_now()
        os.makedirs(self.project_dir, mode=0o755, exist_ok=True)
        # The release that runs now, to come back to: its files as stored before this run overwrote anything.
        fallback = None
        if current is not None:
            fallback_files = stored if current["release_id"] == manifest["release_id"] else None
            fallback_files = fallback_files or history.read_release_files(
                self.state_dir, self.project, current["release_id"]
            )
            if fallback_files and "manifest.json" in fallback_files:
                fallback = (current, fallback_files)
        ok, containers, reason = self.bring_up(manifest, files, images)
        smoke = []
        if ok:
            smoke, reason = self.smoke()
            ok = reason is None
        result["smoke"] = smoke
        if ok:
            self.record(self.entry(manifest, "deploy", "succeeded", started, previous=result["previous_release_id"]))
            result.update(services=self.service_report(self.containers(), images, before, after))
            result.update({"proxy": self.proxy_report} if self.proxy_report else {})
            result["pruned"] = prune_compose_releases(self)
            return result
        # The logs of the containers that failed: the new ones the switch removed (it kept their logs), or those
        # that are not ready; all of them only when no container can be blamed (a smoke check failed).
        switched_out = (self.proxy_report or {}).pop("logs", None)
        logs = switched_out or self.logs_of(
            containers, only=[n for n in images if not service_state(containers.get(n, []))["ready"]]
        )
        logs = logs or self.logs_of(containers)
        failed_report = self.service_report(containers, images, before, after)
        if fallback is None:
            self.record(
                self.entry(manifest, "deploy", "failed", started, previous=result["previous_release_id"], reason=reason)
            )
            raise DeployError(
                f"release {manifest['release_id']} is not healthy on {self.host}: {reason}. There is no previous "
                f"release of {self.project} in {self.state_dir} to roll back to, so it was left as it is for "
                f"diagnosis: fix the release and deploy again, or remove it with state=absent",
                services=failed_report,
                logs=logs,
                smoke=smoke,
                release_id=manifest["release_id"],
                history=self.entries[-5:],
            )
        self.record(
            self.entry(
                manifest, "deploy", "rolled_back", started, previous=result["previous_release_id"], reason=reason
            )
        )
        back_entry, back_files = fallback
        failed_proxy = self.proxy_report
        back_manifest = json.loads(back_files["manifest.json"])
        back_ok, _back_containers, back_reason = self.return_to(
            back_manifest, back_files, manifest["release_id"], reason
        )
        details = {
            "proxy": failed_proxy,
            "services": failed_report,
            "logs": logs,
            "smoke": smoke,
            "release_id": manifest["release_id"],
            "rolled_back": back_ok,
            "rolled_back_to": back_entry["release_id"],
            "history": self.entries[-5:],
        }
        if back_ok:
            raise DeployError(
                f"release {manifest['release_id']} failed on {self.host}: {reason}. Rolled back to "
                f"{back_entry['release_id']}, which is healthy again and serving. See logs for the failed containers",
                **details,
            )
        raise DeployError(
            f"release {manifest['release_id']} failed on {self.host}: {reason}; the rollback to "
            f"{back_entry['release_id']} is not healthy either: {back_reason}. Look at the logs and the containers "
            f"of project {self.project} on {self.host}",
            **details,
        )

    def return_to(self, manifest: dict, files: dict, from_release: str | None, reason: str | None):
        """Bring a stored release up again (recorded as a rollback); (ok, containers, reason)."""
        started = history.utc_now()
        stored_files = self.with_proxy(files)
        stored_files.setdefault("compose.override.yaml", None)
        stored_files.setdefault(".env", "")
        images = {name: svc["image"] for name, svc in manifest["services"].items()}
        directory = history.release_path(self.state_dir, self.project, manifest["release_id"])
        config_images = self.effective(stored_files, manifest)
        self.pull_missing(config_images)
        self.store(manifest["release_id"], stored_files, config_images)
        rc, output = self.switch(directory, stored_files)
        ok, containers, back_reason = self.wait_healthy(
            config_images or images, self.params["wait_timeout"] if rc == 0 else 0
        )
        if rc != 0:
            ok, back_reason = False, output
        note = f"rollback from {from_release}" + (f": {reason}" if reason else "")
        outcome = "succeeded" if ok else "failed"
        why = note if ok else f"{note}; {back_reason}"
        self.record(self.entry(manifest, "rollback", outcome, started, previous=from_release, reason=why))
        return ok, containers, back_reason

    def rollback(self) -> dict:
        current = history.current_entry(self.entries)
        wanted = self.params["rollback_to"]
        result = self.result_base()
        if wanted:
            target = history.find_entry(self.entries, wanted)
            if target is None or history.read_release_files(self.state_dir, self.project, wanted) is None:
                known = history.stored_release_ids(self.state_dir, self.project)
                raise DeployError(
                    f"rollback_to: {self.missing_release(wanted)} (project {self.project}); stored releases: "
                    f"{', '.join(known) or 'none'}"
                )
        elif current is not None and current["action"] == "rollback":
            target = current  # already rolled back; name rollback_to to go further back
        else:
            target = history.previous_entry(self.entries, current["release_id"] if current else None)
            if target is None:
                raise DeployError(
                    f"there is no previous release of {self.project} on {self.host} to roll back to "
                    f"(history in {history.history_path(self.state_dir, self.project)}); name one with rollback_to"
                )
        files = history.read_release_files(self.state_dir, self.project, target["release_id"])
        if not files or "manifest.json" not in files:
            raise DeployError(f"{self.missing_release(target['release_id'])}: deploy it instead")
        manifest = json.loads(files["manifest.json"])
        images = {name: svc["image"] for name, svc in manifest["services"].items()}
        after = {name: svc["digest"] for name, svc in manifest["services"].items()}
        before = dict(current["services"]) if current else {}
        containers = self.containers()
        result.update(
            release_id=target["release_id"],
            version=manifest.get("version"),
            previous_release_id=current["release_id"] if current else None,
            diff={
                "before": {"release_id": current["release_id"] if current else None, "services": before},
                "after": {"release_id": target["release_id"], "services": after},
            },
            smoke=[],
        )
        stored = self.with_proxy(files)
        stored.setdefault("compose.override.yaml", None)
        stored.setdefault(".env", "")
        config_images = self.effective(stored, manifest)
        if (
            current is not None
            and current["release_id"] == target["release_id"]
            and self.settled(containers, config_images)
            and (self.switcher is None or self.switcher.settled(containers))
        ):
            result["previous_release_id"] = current.get("previous_release_id")
            result["services"] = self.service_report(containers, config_images, before, after)
            return result
        result["changed"] = True
        result["rolled_back"] = True
        if self.check_mode:
            result["pulled"] = self.pull_missing(config_images)
            result["services"] = self.service_report(containers, images, before, after)
            plan = self.proxy_plan()
            result.update({"proxy": plan} if plan else {})
            return result
        os.makedirs(self.project_dir, mode=0o755, exist_ok=True)
        ok, containers, reason = self.return_to(
            manifest, files, current["release_id"] if current else None, self.params["reason"] or "requested"
        )
        smoke = []
        if ok:
            smoke, reason = self.smoke()
            ok = reason is None
        result["smoke"] = smoke
        result["services"] = self.service_report(self.containers(), config_images, before, after)
        result.update({"proxy": self.proxy_report} if self.proxy_report else {})
        if not ok:
            raise DeployError(
                f"rollback of {self.project} to {target['release_id']} on {self.host} is not healthy: {reason}",
                logs=self.logs_of(containers),
                **result,
            )
        return result

    def remove(self) -> dict:
        current = history.current_entry(self.entries)
        containers = self.containers()
        result = self.result_base()
        result.update(
            release_id=None,
            previous_release_id=current["release_id"] if current else None,
            diff={
                "before": {
                    "release_id": current["release_id"] if current else None,
                    "services": dict(current["services"]) if current else self.running_digests(containers),
                },
                "after": {"release_id": None, "services": {}},
            },
            services={},
            smoke=[],
        )
        if not containers and current is None:
            return result
        result["changed"] = True
        if self.check_mode:
            return result
        started = history.utc_now()
        compose = Compose(self.module, self.project, self.project_dir, None, None)
        if current is not None:
            directory = history.release_path(self.state_dir, self.project, current["release_id"])
            files = history.read_release_files(self.state_dir, self.project, current["release_id"])
            if files and "compose.yaml" in files:
                compose = Compose(self.module, self.project, self.project_dir, directory, files)
        compose.down(self.params["remove_volumes"])
        if self.switcher is not None:
            result["proxy"] = self.switcher.remove()
        self.record(
            history.new_entry(
                action="remove",
                result="succeeded",
                started=started,
                release_id=current["release_id"] if current else None,
                application=current["application"] if current else self.project,
                version=current["version"] if current else None,
                commit=current["commit"] if current else None,
                triggered_by=self.given_by,
                previous_release_id=current["release_id"] if current else None,
                reason=self.params["reason"],
                environment=self.params["environment"],
            )
        )
        return result
