# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The zero-downtime switch of a Compose project behind the front proxy (_platforms.front_proxy).

For each ``rolling`` service whose containers run another configuration than the release's (Compose's own
config hash, ``docker compose config --hash``): the release's containers start beside the old ones, in the same
project (``docker compose up --no-deps --no-recreate --scale SERVICE=OLD+NEW``, as docker-rollout does, so
``docker compose ps``, logs and ``down`` keep seeing one project); they must be healthy and pass the checks
sent to them directly (the service's health path and the smoke checks aimed at its public port, at
CONTAINER_IP:TARGET) before the proxy's file names them; then the proxy reloads (validated first, a new worker
takes the new servers), the old worker finishes the requests in flight (the drain) and the old containers stop
and are removed. A release that fails before the reload has its new containers removed: the proxy never sent
them a request. ``recreate`` services and services not behind the proxy go through ``docker compose up`` as
before; the proxy's file then follows the containers they run.

Pure: the compose file that takes the proxied services' published ports away (proxy_compose_text), what to do
per service (plan_services), the address of a container, the checks sent to one container.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_host import (
    Compose,
    by_service,
    health_said,
    project_containers,
    service_state,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.deploy import run_smoke_checks
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.front_proxy import (
    FrontProxy,
    ProxyError,
    project_config,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import HAS_DOCKER

if HAS_DOCKER:
    import docker.errors

CONFIG_HASH = "com.docker.compose.config-hash"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "0.0.0.0", "::1", "[::1]")


# --------------------------------------------------------------------------- pure


def proxy_compose_text(services) -> str | None:
    """The compose file merged last when services sit behind the proxy: their ``ports`` reset (the front proxy
    owns their public ports), stored with the release as compose.proxy.yaml. None without services."""
    if not services:
        return None
    lines = [
        "# Written by outerloop.docker.compose_deploy: these services sit behind the front proxy, which owns their",
        "# public ports, so they publish none (`!reset`, Compose 2.24 or later).",
        "services:",
    ]
    for name in sorted(services):
        lines += [f'  "{name}":', "    ports: !reset []"]
    return "\n".join(lines) + "\n"


def parse_hashes(text: str) -> dict:
    """``docker compose config --hash '*'``: one ``SERVICE HASH`` line per service."""
    hashes = {}
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) == 2:
            hashes[fields[0]] = fields[1]
    return hashes


def replicas_of(service: dict) -> int:
    """How many containers a service of the effective compose configuration runs."""
    service = service or {}
    if service.get("scale") is not None:
        return int(service["scale"])
    replicas = (service.get("deploy") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def check_proxied(config: dict, services: dict, where: str) -> list:
    """What in the effective compose configuration keeps the proxied services from the switch."""
    problems = []
    defined = config.get("services") or {}
    for name, spec in sorted(services.items()):
        if name not in defined:
            problems.append(f"proxy.services.{name}: {name} is not a service of the release's compose files")
            continue
        service = defined[name] or {}
        if spec["strategy"] == "rolling" and service.get("container_name"):
            problems.append(
                f"service {name} sets container_name, so two of its containers cannot run side by side: remove "
                f"container_name, or give {name} strategy: recreate"
            )
        if spec["strategy"] == "rolling" and (service.get("network_mode") or "").startswith(("host", "service:")):
            problems.append(
                f"service {name} has network_mode {service['network_mode']}: the proxy reaches containers by their "
                "own addresses; remove it, or leave the service out of proxy.services"
            )
    return [f"{p} (on {where})" for p in problems]


def running(info: dict) -> bool:
    return (info.get("State") or {}).get("Status") == "running"


def plan_services(containers: dict, hashes: dict, services: dict, replicas: dict) -> dict:
    """Per proxied service: ``{"strategy", "keep", "old", "start", "roll"}``: the running containers that already
    run the release's configuration (keep), the others (old), how many to start, and whether the service goes
    through the rolling switch (``roll``: it has old containers and something running to keep serving)."""
    plan = {}
    for name, spec in sorted(services.items()):
        infos = containers.get(name, [])
        want = hashes.get(name)
        keep = [i["Id"] for i in infos if want and (i["Config"].get("Labels") or {}).get(CONFIG_HASH) == want
                and running(i)]  # fmt: skip
        old = [i["Id"] for i in infos if i["Id"] not in keep]
        count = replicas.get(name, 1)
        roll = spec["strategy"] == "rolling" and bool(old) and any(running(i) for i in infos)
        plan[name] = {
            "strategy": spec["strategy"],
            "keep": keep,
            "old": old,
            "start": max(count - len(keep), 0) if roll else 0,
            "roll": roll,
        }
    return plan


def container_address(info: dict, project: str) -> str | None:
    """The container's address on the project's default network, else on its first network by name."""
    networks = (info.get("NetworkSettings") or {}).get("Networks") or {}
    for name in [f"{project}_default", *sorted(networks)]:
        address = (networks.get(name) or {}).get("IPAddress")
        if address:
            return address
    return None


def servers_of(infos: list, project: str, target: int) -> list:
    """[(container name, address, port)] of a service's running containers."""
    servers = []
    for info in infos:
        address = container_address(info, project)
        if running(info) and address:
            servers.append((info["Name"].lstrip("/"), address, target))
    return servers


def published_ports(info: dict) -> set:
    """The host ports a container publishes."""
    ports = set()
    for bindings in ((info.get("HostConfig") or {}).get("PortBindings") or {}).values():
        for binding in bindings or []:
            if str(binding.get("HostPort") or "").isdigit():
                ports.add(int(binding["HostPort"]))
    return ports


def direct_checks(smoke_checks, spec: dict, address: str) -> list:
    """The checks sent to one new container before it gets traffic: GET its health path, and every smoke check
    aimed at the service's public port on this host, at ADDRESS:TARGET instead."""
    checks = []
    base = f"{address}:{spec['target']}"
    if spec["health_path"]:
        checks.append({"url": f"http://{base}{spec['health_path']}", "status": 200, "retries": 3, "delay": 1})
    for given in smoke_checks or []:
        check = {"url": given} if isinstance(given, str) else dict(given)
        parts = urlsplit(str(check.get("url") or ""))
        if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS and parts.port == spec["port"]:
            check["url"] = urlunsplit(("http", base, parts.path, parts.query, parts.fragment))
            checks.append({key: value for key, value in check.items() if value is not None})
    return checks


# --------------------------------------------------------------------------- the switch


class ProxySwitch:
    """The switch of one Compose project run (``deployment``: the ComposeDeployment) behind the front proxy."""

    def __init__(self, deployment, settings: dict):
        self.deployment = deployment
        self.module = deployment.module
        self.client = deployment.client
        self.project = deployment.project
        self.settings = settings
        self.services = settings["services"]
        self.proxy = FrontProxy(deployment.client, settings, deployment.host)
        self.host = deployment.host

    def preflight(self) -> None:
        self.proxy.preflight()

    def containers(self) -> dict:
        return by_service(project_containers(self.client, self.project))

    def hashes(self, compose: Compose) -> dict:
        _rc, out, _err = compose.run("config", "--hash", "*")
        return parse_hashes(out)

    def desired(self, containers: dict) -> str:
        servers = {
            name: servers_of(containers.get(name, []), self.project, spec["target"])
            for name, spec in self.services.items()
        }
        return project_config(self.project, self.services, servers)

    def settled(self, containers: dict) -> bool:
        """The proxy's file names the containers that run now."""
        return self.proxy.current(self.project) == self.desired(containers)

    def check(self, config: dict) -> None:
        """Refuse a release whose proxied services the proxy cannot serve (ProxyError), before anything changes."""
        problems = check_proxied(config, self.services, self.host)
        if problems:
            raise ProxyError("refusing to deploy, nothing was changed: " + "; ".join(problems))

    def preview(self, compose: Compose, config: dict) -> dict:
        """Check mode: what a real run would do with each proxied service."""
        self.check(config)
        containers = self.containers()
        replicas = {name: replicas_of((config.get("services") or {}).get(name)) for name in self.services}
        plan = plan_services(containers, self.hashes(compose), self.services, replicas)
        return {name: {"strategy": p["strategy"], "switch": p["roll"] or bool(p["old"]), "old": len(p["old"]),
                       "start": p["start"] if p["roll"] else replicas[name]} for name, p in plan.items()}  # fmt: skip

    # ----------------------------------------------------------------- one switch

    def wait_ready(self, ids: list, timeout: int) -> str | None:
        """Wait until the containers ``ids`` run and are healthy; None, or why not."""
        deadline = time.monotonic() + timeout
        while True:
            infos = []
            for cid in ids:
                try:
                    infos.append(self.client.inspect_container(cid))
                except docker.errors.NotFound:
                    return f"container {cid[:12]} was removed"
            state = service_state(infos)
            if state["ready"]:
                return None
            if state["failed"] or time.monotonic() >= deadline:
                names = ", ".join(i["Name"].lstrip("/") for i in infos)
                return (
                    f"{names} {'is' if len(infos) == 1 else 'are'} {state['health']}"
                    + ("" if state["failed"] else f" after {timeout} s")
                    + health_said(infos)
                )
            time.sleep(0.5)

    def check_directly(self, name: str, ids: list) -> tuple[list, str | None]:
        results = []
        for cid in ids:
            info = self.client.inspect_container(cid)
            address = container_address(info, self.project)
            if not address:
                return results, f"{info['Name'].lstrip('/')} has no address the proxy can reach"
            checks = direct_checks(self.deployment.params["smoke_checks"], self.services[name], address)
            found, reason = run_smoke_checks(checks)
            results += found
            if reason:
                return results, f"{info['Name'].lstrip('/')} of service {name}: {reason}"
        return results, None

    def discard(self, ids: list) -> None:
        for cid in ids:
            try:
                self.client.remove_container(cid, force=True, v=True)
            except docker.errors.NotFound:
                continue

    def retire(self, ids: list) -> None:
        """Stop (gracefully, with the container's own stop timeout) and remove containers."""
        for cid in ids:
            try:
                info = self.client.inspect_container(cid)
                timeout = (info.get("Config") or {}).get("StopTimeout")
                self.client.stop(cid, timeout=10 if timeout is None else timeout)
                self.client.remove_container(cid, v=True)
            except docker.errors.NotFound:
                continue

    def switch(self, directory: str, files: dict, config: dict) -> tuple[int, str, dict]:
        """Bring the release of ``files`` (stored in ``directory``) up behind the proxy; (rc, reason, report).

        rc 0: done (the caller still waits for every service's health and runs the smoke checks through the
        proxy). rc != 0: the release is not up; new containers of rolling services were removed and the proxy
        still sends every request to the containers before."""
        started = time.monotonic()
        problems = check_proxied(config, self.services, self.host)
        if problems:
            return 1, "; ".join(problems), {}
        compose = Compose(self.module, self.project, self.deployment.project_dir, directory, files)
        before = self.containers()
        replicas = {name: replicas_of((config.get("services") or {}).get(name)) for name in self.services}
        plan = plan_services(before, self.hashes(compose), self.services, replicas)
        rolling = sorted(name for name, p in plan.items() if p["roll"])
        report = {"services": {n: {"strategy": p["strategy"], "rolling": n in rolling} for n, p in plan.items()},
                  "switched": False}  # fmt: skip
        others = sorted(name for name in (config.get("services") or {}) if name not in rolling)
        if others:
            args = ["up", "--detach", "--remove-orphans", "--pull", "never", "--quiet-pull"]
            args += ["--no-deps", *others] if rolling else []
            rc, out, err = compose.run(*args, check=False)
            if rc != 0:
                return rc, f"docker compose up failed (exit {rc}): {(err or out).strip()[-1500:]}", report
        new, checks = {}, []
        for name in rolling:
            p = plan[name]
            known = {i["Id"] for i in before.get(name, [])}
            total = len(known) + p["start"]
            rc, out, err = compose.run("up", "--detach", "--no-deps", "--no-recreate", "--pull", "never",
                                       "--quiet-pull", "--scale", f"{name}={total}", name, check=False)  # fmt: skip
            new[name] = [i["Id"] for i in self.containers().get(name, []) if i["Id"] not in known]
            reason = None
            if rc != 0:
                reason = f"docker compose up --scale {name}={total} failed (exit {rc}): {(err or out).strip()[-1500:]}"
            else:
                reason = self.wait_ready(new[name], self.deployment.params["wait_timeout"])
                if reason is None:
                    found, reason = self.check_directly(name, new[name])
                    checks += found
            if reason is not None:
                # Their logs first, for the failure's message: removed, they have none to show.
                new_ids = {cid for ids in new.values() for cid in ids}
                failed = {n: [i for i in infos if i["Id"] in new_ids] for n, infos in self.containers().items()}
                report["logs"] = self.deployment.logs_of({n: infos for n, infos in failed.items() if infos})
                self.discard(sorted(new_ids))
                report["checks"] = checks
                return 1, f"{reason}; its new containers were removed before the proxy sent them any request", report
        report["checks"] = checks
        old = [cid for name in rolling for cid in plan[name]["old"]]
        now = self.containers()
        # A container of the release before that publishes a port the proxy takes (the first switch of an
        # environment that published it, docs/production.md) gives it up first: a gap of one reload.
        ports = {spec["port"] for spec in self.services.values()}
        blocking = [i["Id"] for infos in now.values() for i in infos if i["Id"] in old and published_ports(i) & ports]
        if blocking:
            self.retire(blocking)
            report["ports_moved"] = True
            now = self.containers()
        text = self.desired({name: [i for i in infos if i["Id"] not in old] for name, infos in now.items()})
        switch_started = time.monotonic()
        try:
            applied = self.proxy.apply(self.project, text)
        except (ProxyError, OSError) as exc:
            self.discard([cid for ids in new.values() for cid in ids])
            return 1, f"{exc}; the new containers were removed", report
        report["switched"] = bool(rolling)
        if applied["changed"]:
            drain = self.proxy.wait_drained(applied["old_workers"], float(self.settings["drain_timeout"]))
            report.update(reloaded=True, reload_seconds=applied["seconds"], drain_seconds=drain["seconds"],
                          drained=drain["drained"])  # fmt: skip
        else:
            report["reloaded"] = False
        report["switch_seconds"] = round(time.monotonic() - switch_started, 3)
        retiring = time.monotonic()
        self.retire([cid for cid in old if cid not in blocking])
        report["stop_seconds"] = round(time.monotonic() - retiring, 3)
        report["seconds"] = round(time.monotonic() - started, 3)
        return 0, "", report

    def follow(self) -> dict:
        """Point the proxy at the containers that run now (after ``up`` without a switch, or to repair it)."""
        applied = self.proxy.apply(self.project, self.desired(self.containers()))
        if applied["changed"]:
            applied.update(self.proxy.wait_drained(applied["old_workers"], float(self.settings["drain_timeout"])))
        return applied

    def remove(self) -> dict:
        return self.proxy.remove(self.project)
