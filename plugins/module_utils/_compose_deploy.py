# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Deploy a release manifest as a Docker Compose project on the Docker host the module runs on.

Layers, top-down: run_module (the module's edge: parameters in, exit_json/fail_json out) -> Deployment
(one run: lock, plan, pull, switch, health gate, smoke checks, automatic rollback, history) -> Compose
(the ``docker compose`` CLI, JSON output only) and the Docker SDK (containers, images, health, logs).
The helpers at the top are pure and unit-tested. Errors inside are raised as DeployError and become
fail_json only in run_module.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import tempfile
import time
import urllib.error

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.urls import open_url
from ansible_collections.outerloop.docker.plugins.module_utils._domain import history
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import ReleaseError, check_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import manifest_text
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release_compose import render_compose
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import (
    HAS_YAML,
    YAML_IMPORT_ERROR,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import (
    EngineError,
    docker_host_of,
    engine_session,
    require_sdk,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRefError,
    parse_image_ref,
)

try:
    import docker.errors
except ImportError:  # pragma: no cover - require_sdk() reports it
    docker = None

DEFAULT_PROJECT_DIR = "/srv/outerloop/apps"
SERVICE_LABEL = "com.docker.compose.service"
PROJECT_LABEL = "com.docker.compose.project"
ONEOFF_LABEL = "com.docker.compose.oneoff"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SMOKE_DEFAULTS = {"status": 200, "contains": None, "timeout": 5, "retries": 5, "delay": 2}


class DeployError(Exception):
    """A deployment that cannot go on; the message says what failed, where, and what to do next.

    ``details`` are returned with the failure (services, logs, history, ...)."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.details = details


# --------------------------------------------------------------------------- pure helpers


def env_file_text(env: dict | None) -> str:
    """The .env text for compose interpolation: one KEY='value' line per variable, sorted.

    Single quotes keep the value literal (no ``$`` interpolation); a value holding a single quote is
    written in double quotes with ``\\`` and ``"`` escaped. Newlines are refused.
    """
    lines = ["# Written by outerloop.docker.compose_deploy: the project environment for interpolation."]
    for key in sorted(env or {}):
        if not _ENV_NAME.match(str(key)):
            raise DeployError(f"env: {key!r} is not a variable name (letters, digits, _; not starting with a digit)")
        value = (env or {})[key]
        if value is None:
            value = ""
        elif isinstance(value, bool):
            value = "true" if value else "false"
        value = str(value)
        if "\n" in value or "\r" in value:
            raise DeployError(f"env: the value of {key} holds a line break; a .env value is one line")
        if "'" not in value:
            lines.append(f"{key}='{value}'")
        else:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{key}="{escaped}"')
    return "\n".join(lines) + "\n"


def overrides_text(overrides: dict | None) -> str | None:
    """The per-environment compose file (JSON, which Compose reads as YAML), or None without overrides."""
    if not overrides:
        return None
    if not isinstance(overrides, dict):
        raise DeployError("overrides: expected a dictionary in compose file form, for example {services: {api: ...}}")
    return json.dumps(overrides, indent=2, sort_keys=True) + "\n"


def release_files(manifest: dict, overrides: dict | None, env: dict | None) -> dict:
    """Every file of a release directory (see _deploy_history.RELEASE_FILES); ``compose.override.yaml``
    is None without overrides. The compose file is the release's, rendered pinned by digest."""
    rendered = render_compose(manifest)
    return {
        "manifest.json": manifest_text(manifest),
        "compose.yaml": rendered["content"],
        "compose.override.yaml": overrides_text(overrides),
        ".env": env_file_text(env),
    }


def _pinned(image) -> bool:
    try:
        return bool(parse_image_ref(image).digest)
    except ImageRefError:
        return False


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
        elif not _pinned(image) and name not in allowed:
            problems.append(
                f"service {name!r} is not in release {manifest['release_id']} and its image {image!r} is not "
                f"pinned by digest: pin it as REGISTRY/REPOSITORY@sha256:DIGEST, or list {name} in allow_unpinned"
            )
    if problems:
        raise DeployError(f"refusing to deploy on {where}, nothing was changed: " + "; ".join(problems))
    return images


def parse_json_lines(text: str) -> list:
    """``docker compose ... --format json`` output: a JSON array, or one JSON object per line."""
    text = (text or "").strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def service_state(containers: list) -> dict:
    """The readiness of one service's containers (SDK inspect results): ``{"health", "ready", "failed"}``.

    ``health`` is one word: healthy, running (no healthcheck), starting, unhealthy, or the container
    state (created, restarting, exited, ...). ``failed`` means waiting longer will not help."""
    if not containers:
        return {"health": "missing", "ready": False, "failed": False}
    words = []
    for info in containers:
        state = info.get("State") or {}
        status = state.get("Status")
        health = (state.get("Health") or {}).get("Status")
        if status != "running":
            words.append(status or "unknown")
        elif health:
            words.append(health)
        else:
            words.append("running")
    order = ("unhealthy", "exited", "dead", "restarting", "created", "missing", "starting", "paused", "unknown")
    worst = next((word for word in order if word in words), None)
    if worst is None:
        worst = "healthy" if "healthy" in words else "running"
    return {"health": worst, "ready": worst in ("healthy", "running"), "failed": worst in ("unhealthy", "dead")}


def plan_services(before: dict, after: dict) -> dict:
    """Per service: ``{"before_digest", "digest", "changed"}`` from {service: digest} before and after."""
    names = sorted(set(before) | set(after))
    return {
        name: {
            "before_digest": before.get(name),
            "digest": after.get(name),
            "changed": before.get(name) != after.get(name),
        }
        for name in names
    }


def smoke_check_spec(check) -> dict:
    if isinstance(check, str):
        check = {"url": check}
    if not isinstance(check, dict) or not check.get("url"):
        raise DeployError(f"smoke_checks: {check!r} needs a url")
    unknown = set(check) - set(SMOKE_DEFAULTS) - {"url"}
    if unknown:
        raise DeployError(f"smoke_checks: unknown key(s) {', '.join(sorted(unknown))} (known: url, status, contains, "
                          "timeout, retries, delay)")  # fmt: skip
    spec = {**SMOKE_DEFAULTS, **{k: v for k, v in check.items() if v is not None}}
    if not str(spec["url"]).startswith(("http://", "https://")):
        raise DeployError(f"smoke_checks: {spec['url']!r} is not an http:// or https:// URL")
    return spec


def digest_of(repo_digests, image_ref) -> str | None:
    """The digest of ``image_ref``'s repository among an image's RepoDigests (the first one otherwise)."""
    wanted = None
    try:
        wanted = parse_image_ref(image_ref).name if image_ref else None
    except ImageRefError:
        wanted = None
    fallback = None
    for item in repo_digests or []:
        name, _at, digest = item.partition("@")
        fallback = fallback or digest
        if wanted and name == wanted:
            return digest
    return fallback


# --------------------------------------------------------------------------- the deploy lock


def lock_holder(host: str, manifest: dict | None, state: str, given_by: dict) -> dict:
    """What a deploy lock file says about the run that holds it (compose_deploy and stack_deploy)."""
    return {
        "pid": os.getpid(),
        "host": host,
        "since": history.utc_now(),
        "release_id": (manifest or {}).get("release_id") or state,
        "controller": given_by.get("host"),
        "user": given_by.get("user"),
        "awx_job_id": given_by.get("awx_job_id"),
    }


def exit_with_result(module, result: dict) -> None:
    """Exit a deploy module; its ``diff`` is returned only when Ansible asked for diffs."""
    diff = result.pop("diff", None)
    if module._diff and diff:
        result["diff"] = diff
    module.exit_json(**result)


class DeployLock:
    """An exclusive fcntl lock on ``<state_dir>/<project>/lock``; the file also says who holds it.

    The kernel releases the lock when its process dies, so content left by a dead run never blocks."""

    def __init__(self, path: str, holder: dict, timeout: int):
        self.path, self.holder, self.timeout = path, holder, timeout
        self.fd = None

    def __enter__(self):
        os.makedirs(os.path.dirname(self.path), mode=0o755, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    held = self.read_holder()
                    os.close(self.fd)
                    self.fd = None
                    raise DeployError(
                        f"another deployment of this project holds the lock {self.path} ({describe_holder(held)}) "
                        f"and did not finish within lock_timeout={self.timeout} s; wait for it, or raise lock_timeout",
                        lock_holder=held,
                    ) from None
                time.sleep(1)
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, (json.dumps(self.holder, sort_keys=True) + "\n").encode(), 0)
        return self

    def read_holder(self) -> dict | None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                return json.loads(fh.read() or "null")
        except (OSError, ValueError):
            return None

    def __exit__(self, *exc):
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
        return False


def describe_holder(held) -> str:
    if not isinstance(held, dict):
        return "holder unknown"
    who = held.get("user") or "?"
    job = f", AWX job {held['awx_job_id']}" if held.get("awx_job_id") else ""
    return (
        f"pid {held.get('pid')} on {held.get('host')}, started by {who}{job} from "
        f"{held.get('controller') or '?'} since {held.get('since')}, deploying {held.get('release_id')}"
    )


# --------------------------------------------------------------------------- docker compose CLI


class Compose:
    """``docker compose`` for one project and one set of files; JSON output only."""

    def __init__(self, module, project: str, project_dir: str, directory: str | None, files: dict | None):
        self.module = module
        self.project = project
        self.project_dir = project_dir
        self.docker = module.get_bin_path("docker", required=True)
        self.args = [self.docker, "compose", "--ansi", "never", "-p", project]
        if directory is not None:
            self.args += ["--project-directory", project_dir, "-f", os.path.join(directory, "compose.yaml")]
            if (files or {}).get("compose.override.yaml") is not None:
                self.args += ["-f", os.path.join(directory, "compose.override.yaml")]
            self.args += ["--env-file", os.path.join(directory, ".env")]

    def run(self, *args, check=True):
        env = {"COMPOSE_PROJECT_NAME": self.project, "DOCKER_HOST": docker_host_of(self.module.params)}
        rc, out, err = self.module.run_command(self.args + list(args), environ_update=env)
        if check and rc != 0:
            raise DeployError(
                f"docker compose {' '.join(args)} failed on {socket.gethostname()} (exit {rc}): "
                f"{(err or out).strip()[-2000:]}"
            )
        return rc, out, err

    def config(self) -> dict:
        _rc, out, _err = self.run("config", "--format", "json")
        return json.loads(out)

    def up(self):
        return self.run("up", "--detach", "--remove-orphans", "--pull", "never", "--quiet-pull", check=False)

    def down(self, volumes: bool):
        args = ["down", "--remove-orphans"] + (["--volumes"] if volumes else [])
        return self.run(*args)


def write_files(directory: str, files: dict) -> None:
    os.makedirs(directory, mode=0o700, exist_ok=True)
    for name, text in files.items():
        if text is None:
            continue
        path = os.path.join(directory, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)


# --------------------------------------------------------------------------- one run


class Deployment:
    """One run of compose_deploy against the engine ``client``."""

    def __init__(self, module, client):
        self.module = module
        self.params = module.params
        self.client = client
        self.check_mode = module.check_mode
        self.host = socket.gethostname()
        self.state_dir = self.params["state_dir"]
        self.project = None
        self.project_dir = None
        self.entries = []
        self.given_by = history.triggered_by(given=self.params.get("triggered_by"))

    # ----------------------------------------------------------------- engine views

    def containers(self) -> dict:
        """{service: [inspect results]} of the project's containers (one-off containers left out)."""
        found = {}
        for summary in self.client.containers(all=True, filters={"label": f"{PROJECT_LABEL}={self.project}"}):
            labels = summary.get("Labels") or {}
            if labels.get(ONEOFF_LABEL) == "True":
                continue
            try:
                info = self.client.inspect_container(summary["Id"])
            except docker.errors.NotFound:
                continue
            found.setdefault(labels.get(SERVICE_LABEL, "?"), []).append(info)
        return found

    def running_digests(self, containers: dict) -> dict:
        """{service: digest the containers run} (None when unknown or when they disagree)."""
        digests = {}
        for service, infos in containers.items():
            seen = set()
            for info in infos:
                ref = (info.get("Config") or {}).get("Image")
                try:
                    image = self.client.inspect_image(info["Image"])
                except docker.errors.NotFound:
                    seen.add(None)
                    continue
                seen.add(digest_of(image.get("RepoDigests"), ref))
            digests[service] = seen.pop() if len(seen) == 1 else None
        return digests

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
                reason = "not healthy within {} s: {}".format(
                    timeout, ", ".join(f"{name} is {state['health']}" for name, state in sorted(shown.items()))
                )
                if failed:
                    reason = "unhealthy: " + ", ".join(f"{name} is {s['health']}" for name, s in sorted(failed.items()))
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

    def smoke(self) -> tuple[list, str | None]:
        results = []
        for check in self.params["smoke_checks"] or []:
            spec = smoke_check_spec(check)
            result = run_smoke_check(spec)
            results.append(result)
            if not result["ok"]:
                return results, f"smoke check {spec['url']} failed: {result['msg']}"
        return results, None

    # ----------------------------------------------------------------- history

    def record(self, entry: dict) -> None:
        self.entries = history.append_entry(self.entries, entry)
        if not self.check_mode:
            history.write_history(self.state_dir, self.project, self.entries)

    def entry(self, manifest, action, result, started, *, previous=None, reason=None) -> dict:
        return history.new_entry(
            manifest=manifest,
            action=action,
            result=result,
            started=started,
            triggered_by=self.given_by,
            previous_release_id=previous,
            reason=reason,
            environment=self.params["environment"],
        )

    # ----------------------------------------------------------------- switching

    def switch(self, directory: str, files: dict) -> tuple[int, str]:
        compose = Compose(self.module, self.project, self.project_dir, directory, files)
        rc, out, err = compose.up()
        return rc, (err or out).strip()

    def bring_up(self, manifest: dict, files: dict, images: dict) -> tuple[bool, dict, str | None]:
        """Store the release's files, ``up`` them and wait until healthy; (ok, containers, reason)."""
        directory = history.write_release_files(self.state_dir, self.project, manifest["release_id"], files)
        rc, output = self.switch(directory, files)
        ok, containers, reason = self.wait_healthy(images, self.params["wait_timeout"] if rc == 0 else 0)
        if rc != 0:
            reason = f"docker compose up failed (exit {rc}): {output[-1500:]}"
            ok = False
        return ok, containers, reason

    def effective(self, files: dict, manifest: dict) -> dict:
        """Check the files with ``docker compose config`` in a private temporary directory: {service: image}."""
        staging = tempfile.mkdtemp(prefix="outerloop-deploy-")
        try:
            write_files(staging, files)
            try:
                config = Compose(self.module, self.project, self.project_dir, staging, files).config()
            except DeployError as exc:
                raise DeployError(
                    f"the compose files of release {manifest['release_id']} with the given overrides and env are "
                    f"not valid on {self.host}, nothing was changed: {exc}"
                ) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return check_images(config, manifest, self.params["allow_unpinned"], self.host)

    # ----------------------------------------------------------------- states

    def result_base(self) -> dict:
        return {"changed": False, "project": self.project, "project_dir": self.project_dir, "rolled_back": False}

    def deploy(self, manifest: dict) -> dict:
        files = release_files(manifest, self.params["overrides"], self.params["env"])
        images = self.effective(files, manifest)
        after = {name: svc["digest"] for name, svc in manifest["services"].items()}
        current = history.current_entry(self.entries)
        before = dict(current["services"]) if current else {}
        containers = self.containers()
        running = self.running_digests(containers)
        for name, digest in running.items():
            before.setdefault(name, digest)
        stored = history.read_release_files(self.state_dir, self.project, manifest["release_id"])
        wanted_files = {name: text for name, text in files.items() if text is not None}
        same = (
            current is not None
            and current["release_id"] == manifest["release_id"]
            and current.get("services") == after
            and stored == wanted_files
            and self.settled(containers, images)
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
            return result
        result["changed"] = True
        result["pulled"] = self.pull_missing(images)
        if self.check_mode:
            result.update(services=self.service_report(containers, images, before, after), smoke=[])
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
            return result
        logs = self.logs_of(containers, only=[n for n in images if not service_state(containers.get(n, []))["ready"]])
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
        back_manifest = json.loads(back_files["manifest.json"])
        back_ok, _back_containers, back_reason = self.return_to(
            back_manifest, back_files, manifest["release_id"], reason
        )
        details = {
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
        stored_files = dict(files)
        stored_files.setdefault("compose.override.yaml", None)
        stored_files.setdefault(".env", "")
        images = {name: svc["image"] for name, svc in manifest["services"].items()}
        directory = history.release_path(self.state_dir, self.project, manifest["release_id"])
        config_images = self.effective(stored_files, manifest)
        self.pull_missing(config_images)
        history.write_release_files(self.state_dir, self.project, manifest["release_id"], stored_files)
        rc, output = self.switch(directory, stored_files)
        ok, containers, back_reason = self.wait_healthy(
            config_images or images, self.params["wait_timeout"] if rc == 0 else 0
        )
        if rc != 0:
            ok, back_reason = False, f"docker compose up failed (exit {rc}): {output[-1500:]}"
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
                known = sorted({e["release_id"] for e in self.entries if e.get("release_id")})
                raise DeployError(
                    f"rollback_to: release {wanted} of {self.project} is not stored on {self.host} in "
                    f"{self.state_dir}; known releases: {', '.join(known) or 'none'}"
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
            raise DeployError(f"release {target['release_id']} has no stored files on {self.host}; deploy it instead")
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
        stored = dict(files)
        stored.setdefault("compose.override.yaml", None)
        stored.setdefault(".env", "")
        config_images = self.effective(stored, manifest)
        if (
            current is not None
            and current["release_id"] == target["release_id"]
            and self.settled(containers, config_images)
        ):
            result["previous_release_id"] = current.get("previous_release_id")
            result["services"] = self.service_report(containers, config_images, before, after)
            return result
        result["changed"] = True
        result["rolled_back"] = True
        if self.check_mode:
            result["pulled"] = self.pull_missing(config_images)
            result["services"] = self.service_report(containers, images, before, after)
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


def state_word(info: dict) -> str:
    state = info.get("State") or {}
    health = (state.get("Health") or {}).get("Status")
    return f"{state.get('Status')} ({health})" if health else str(state.get("Status"))


def run_smoke_check(spec: dict) -> dict:
    """GET ``spec["url"]`` from this host until it answers ``status`` (and holds ``contains``) or retries run out."""
    attempts, msg, status = 0, None, None
    for attempt in range(1, int(spec["retries"]) + 1):
        attempts = attempt
        try:
            with open_url(
                spec["url"], timeout=spec["timeout"], http_agent="outerloop.docker.compose_deploy", use_proxy=False
            ) as response:
                status, body = response.status, response.read(1 << 20).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read(1 << 20).decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:
            status, body, msg = None, "", f"no answer ({getattr(exc, 'reason', exc)})"
        if status is not None:
            if status != int(spec["status"]):
                msg = f"status {status}, expected {spec['status']}"
            elif spec["contains"] and str(spec["contains"]) not in body:
                msg = f"status {status} but the body does not contain {spec['contains']!r}"
            else:
                return {"url": spec["url"], "ok": True, "status": status, "attempts": attempts, "msg": "ok"}
        if attempt < int(spec["retries"]):
            time.sleep(float(spec["delay"]))
    return {"url": spec["url"], "ok": False, "status": status, "attempts": attempts, "msg": msg}


# --------------------------------------------------------------------------- the module's edge


def run_module(module) -> None:
    """Run outerloop.docker.compose_deploy with the module's parameters; exits the module."""
    require_sdk(module)
    if not HAS_YAML:
        module.fail_json(
            msg=missing_required_lib("PyYAML (Debian package python3-yaml) on the Docker host"),
            exception=YAML_IMPORT_ERROR,
        )
    params = module.params
    host = socket.gethostname()
    state = params["state"]
    manifest = None
    try:
        if state == "present":
            if not params["release"]:
                raise DeployError("release is required with state=present: give the release manifest (a dict)")
            try:
                manifest = check_manifest(params["release"], "given as release")
            except ReleaseError as exc:
                raise DeployError(
                    f"refusing to deploy on {host}, nothing was changed: {exc}; give the manifest written by "
                    "outerloop.docker.release, unedited",
                    errors=exc.errors,
                ) from None
        project = params["project"] or (manifest or {}).get("application")
        if not project:
            raise DeployError(f"project is required with state={state} (the compose project name on {host})")
        deployment_project = history.project_path(params["state_dir"], project) and project
        with engine_session(params) as client:
            deployment = Deployment(module, client)
            deployment.project = deployment_project
            deployment.project_dir = params["project_dir"] or os.path.join(DEFAULT_PROJECT_DIR, project)
            holder = lock_holder(host, manifest, state, deployment.given_by)
            if module.check_mode:
                result = _run_state(deployment, state, manifest)
            else:
                with DeployLock(history.lock_path(params["state_dir"], project), holder, params["lock_timeout"]):
                    result = _run_state(deployment, state, manifest)
            result["history"] = deployment.entries[-5:]
    except (DeployError, history.HistoryError, ReleaseError, EngineError) as exc:
        details = getattr(exc, "details", {}) or {}
        module.fail_json(msg=str(exc), **details)
    except OSError as exc:
        module.fail_json(msg=f"cannot write {exc.filename or '?'} on {host}: {exc.strerror or exc}")
    exit_with_result(module, result)


def _run_state(deployment: Deployment, state: str, manifest: dict | None) -> dict:
    deployment.entries = history.read_history(deployment.state_dir, deployment.project)
    if state == "present":
        return deployment.deploy(manifest)
    if state == "rolled_back":
        return deployment.rollback()
    return deployment.remove()
