# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A Docker host that runs applications with Docker Compose v2: the ``docker compose`` CLI for one project
(JSON output only), and what the engine says of the project's containers.

Read by the deployer (_platforms.compose_deployer) and by the report of what runs (deployment_info).
"""

from __future__ import annotations

import json
import os

from ansible_collections.outerloop.docker.plugins.module_utils._platforms.cli import DockerCli
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import HAS_DOCKER
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import repo_digest
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import (
    COMPOSE_ONEOFF,
    COMPOSE_PROJECT,
    COMPOSE_SERVICE,
)

if HAS_DOCKER:
    import docker.errors

# The compose file that takes the published ports of the services behind the front proxy away (compose_switch).
PROXY_FILE = "compose.proxy.yaml"


class Compose:
    """``docker compose`` for one project and one set of files (a stored release's directory); JSON output only."""

    def __init__(self, module, project: str, project_dir: str, directory: str | None, files: dict | None):
        self.cli = DockerCli(module)
        self.project = project
        self.project_dir = project_dir
        self.args = ["compose", "--ansi", "never", "-p", project]
        if directory is not None:
            self.args += ["--project-directory", project_dir, "-f", os.path.join(directory, "compose.yaml")]
            if (files or {}).get("compose.override.yaml") is not None:
                self.args += ["-f", os.path.join(directory, "compose.override.yaml")]
            if (files or {}).get(PROXY_FILE) is not None:
                self.args += ["-f", os.path.join(directory, PROXY_FILE)]
            self.args += ["--env-file", os.path.join(directory, ".env")]
            if (files or {}).get("secrets.env") is not None:  # the secrets, second: Compose reads them after .env
                self.args += ["--env-file", os.path.join(directory, "secrets.env")]

    def run(self, *args, check=True):
        return self.cli.run([*self.args, *args], env={"COMPOSE_PROJECT_NAME": self.project}, check=check,
                            what=f"docker compose {' '.join(args)}")  # fmt: skip

    def config(self) -> dict:
        _rc, out, _err = self.run("config", "--format", "json")
        return json.loads(out)

    def up(self):
        return self.run("up", "--detach", "--remove-orphans", "--pull", "never", "--quiet-pull", check=False)

    def down(self, volumes: bool):
        args = ["down", "--remove-orphans"] + (["--volumes"] if volumes else [])
        return self.run(*args)


# --------------------------------------------------------------------------- the engine's view (pure)


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


def health_output(containers: list, limit: int = 300) -> str | None:
    """What the health check of the first container that is not healthy said last (``State.Health.Log``), on one
    line and at most ``limit`` characters; None when none of them has a health log to show."""
    for info in containers:
        health = (info.get("State") or {}).get("Health") or {}
        if health.get("Status") == "healthy" or not health.get("Log"):
            continue
        last = health["Log"][-1]
        text = " ".join(str(last.get("Output") or "").split())
        text = text[:limit] + ("..." if len(text) > limit else "")
        return f"exit {last.get('ExitCode')}: {text}" if text else f"exit {last.get('ExitCode')}, no output"
    return None


def health_said(containers: list) -> str:
    """`` (its health check said: ...)`` to add to a sentence about ``containers``; empty with nothing to show."""
    said = health_output(containers)
    return f" (its health check said: {said})" if said else ""


def health_words(name: str, containers: list, health: str) -> str:
    """``NAME is HEALTH``, with what its health check said last when there is something to show."""
    return f"{name} is {health}{health_said(containers)}"


def state_word(info: dict) -> str:
    state = info.get("State") or {}
    health = (state.get("Health") or {}).get("Status")
    return f"{state.get('Status')} ({health})" if health else str(state.get("Status"))


# --------------------------------------------------------------------------- the engine


def project_containers(client, project: str) -> list:
    """Inspect results of every container of the project, running or not; one-off containers (``docker
    compose run``) are not part of it and are left out."""
    found = []
    for summary in client.containers(all=True, filters={"label": f"{COMPOSE_PROJECT}={project}"}):
        if (summary.get("Labels") or {}).get(COMPOSE_ONEOFF) == "True":
            continue
        try:
            found.append(client.inspect_container(summary["Id"]))
        except docker.errors.NotFound:
            continue  # removed between the listing and now
    return found


def by_service(containers: list) -> dict:
    """{service: [inspect results]} of a project's containers."""
    services = {}
    for info in containers:
        labels = (info.get("Config") or {}).get("Labels") or {}
        services.setdefault(labels.get(COMPOSE_SERVICE, "?"), []).append(info)
    return services


def repo_digests_of(client, image_id: str, cache: dict | None = None) -> list:
    """The ``RepoDigests`` of a local image ([] when it was removed under its container)."""
    cache = {} if cache is None else cache
    if image_id not in cache:
        try:
            cache[image_id] = client.inspect_image(image_id).get("RepoDigests") or []
        except docker.errors.NotFound:
            cache[image_id] = None
    return cache[image_id]


def running_digest(client, containers: list, cache: dict | None = None) -> str | None:
    """The registry digest one service's containers run (None when unknown or when they disagree)."""
    seen = set()
    for info in containers:
        digests = repo_digests_of(client, info["Image"], cache)
        seen.add(
            None if digests is None else repo_digest(digests, config_image=(info.get("Config") or {}).get("Image"))
        )
    return seen.pop() if len(seen) == 1 else None
