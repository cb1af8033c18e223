# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The front proxy of a Compose host: HAProxy, which the front_proxy role runs as the container
``outerloop-proxy`` (host network, master-worker mode) with ``<config_dir>/haproxy.cfg`` and one file per
Compose project under ``<config_dir>/conf.d``, and its master CLI at ``<runtime_dir>/master.sock``.

Pure: compose_deploy's ``proxy`` option checked (proxy_settings), a project's file (project_config), the
ports other projects bind (bound_ports), the master CLI's ``show proc`` read (parse_show_proc).
Runtime (FrontProxy): a project's file validated with ``haproxy -c`` inside the proxy's container with every
other file, put in place, the proxy reloaded through its master CLI (a new worker takes the new file; the old
worker stops listening, finishes the requests it holds, then exits: the drain) and the drain waited for.
Errors are raised as ProxyError, whose message names the proxy, the host and the next step.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time

from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import HAS_DOCKER
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.files import write_atomic

if HAS_DOCKER:
    import docker.errors

PROXY_CONTAINER = "outerloop-proxy"
PROXY_CONFIG_DIR = "/etc/outerloop/proxy"
PROXY_RUNTIME_DIR = "/var/lib/outerloop/proxy"
MASTER_SOCKET = "master.sock"
STRATEGIES = ("rolling", "recreate")
SERVICE_KEYS = ("port", "target", "health_path", "strategy")

# compose_deploy's option ``proxy`` (documented in plugins/modules/compose_deploy.py).
PROXY_ARG_SPEC = {
    "type": "dict",
    "options": {
        "services": {"type": "dict", "default": {}},
        "drain_timeout": {"type": "int", "default": 30},
        "reload_timeout": {"type": "int", "default": 15},
        "container": {"type": "str", "default": PROXY_CONTAINER},
        "config_dir": {"type": "path", "default": PROXY_CONFIG_DIR},
        "runtime_dir": {"type": "path", "default": PROXY_RUNTIME_DIR},
    },
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_BIND = re.compile(r"^\s*bind\s+\S*:(\d+)\b", re.MULTILINE)


class ProxyError(Exception):
    """The front proxy cannot take a change; the message says what, where and what to do next."""


# --------------------------------------------------------------------------- settings (pure)


def _port(value, where: str) -> int:
    if isinstance(value, bool):
        raise ProxyError(f"{where} must be a port number (1-65535), not {value!r}")
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ProxyError(f"{where} must be a port number (1-65535), not {value!r}") from None
    if not 1 <= port <= 65535:
        raise ProxyError(f"{where} must be a port number (1-65535), not {value!r}")
    return port


def proxy_settings(value) -> dict | None:
    """compose_deploy's ``proxy`` option checked and completed; None when no service is behind the proxy.

    Each service: ``port`` (the public port the proxy listens on, required), ``target`` (the container's port,
    default the same), ``health_path`` (the path the proxy and the switch check, default none: a TCP check) and
    ``strategy`` (``rolling``, the default, or ``recreate``)."""
    if not value or not value.get("services"):
        return None
    services = value["services"]
    if not isinstance(services, dict):
        raise ProxyError("proxy.services must be a dictionary {SERVICE: {port, target, health_path, strategy}}")
    checked, ports = {}, {}
    for name in sorted(services):
        spec = services[name]
        where = f"proxy.services.{name}"
        if not _NAME.match(str(name)):
            raise ProxyError(f"{where}: {name!r} is not a Compose service name")
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise ProxyError(f"{where} must be a dictionary with port, target, health_path and strategy")
        unknown = sorted(set(spec) - set(SERVICE_KEYS))
        if unknown:
            raise ProxyError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(SERVICE_KEYS)})")
        if spec.get("port") is None:
            raise ProxyError(f"{where}.port is required: the public port the front proxy listens on for {name}")
        port = _port(spec["port"], f"{where}.port")
        target = _port(spec["target"], f"{where}.target") if spec.get("target") is not None else port
        health = spec.get("health_path")
        if health is not None and (not isinstance(health, str) or not health.startswith("/") or " " in health):
            raise ProxyError(f"{where}.health_path must be a path starting with /, such as /healthz, not {health!r}")
        strategy = spec.get("strategy") or "rolling"
        if strategy not in STRATEGIES:
            raise ProxyError(f"{where}.strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
        if port in ports:
            raise ProxyError(f"proxy.services: {ports[port]} and {name} both want the public port {port}")
        ports[port] = name
        checked[name] = {"port": port, "target": target, "health_path": health, "strategy": strategy}
    settings = {key: value.get(key) for key in PROXY_ARG_SPEC["options"] if key != "services"}
    for key, option in PROXY_ARG_SPEC["options"].items():
        if key != "services" and settings[key] is None:
            settings[key] = option["default"]
    for key in ("drain_timeout", "reload_timeout"):
        if int(settings[key]) < 0:
            raise ProxyError(f"proxy.{key} must be 0 or more seconds")
    settings["services"] = checked
    return settings


# --------------------------------------------------------------------------- the project's file (pure)


def project_config(project: str, services: dict, servers: dict) -> str:
    """The text of ``conf.d/<project>.cfg``: per service a frontend on its public port and a backend with its
    containers as servers. ``servers``: {service: [(container name, address, port)]}.

    The text depends only on the settings and the servers, so that the same containers give the same file
    and no reload."""
    lines = [
        f"# Written by outerloop.docker.compose_deploy for the Compose project {project}: each deploy rewrites it,",
        "# do not edit. The front proxy (outerloop.docker.front_proxy) loads every file of this directory.",
    ]
    for name in sorted(services):
        spec = services[name]
        proxy = f"{project}.{name}"
        lines += ["", f"frontend {proxy}", f"    bind :{spec['port']}", f"    default_backend {proxy}"]
        lines += [
            "",
            f"backend {proxy}",
            "    balance roundrobin",
            "    option redispatch",
            "    retries 2",
            "    retry-on conn-failure empty-response",
        ]
        if spec["health_path"]:
            lines += [
                "    option httpchk",
                f"    http-check send meth GET uri {spec['health_path']}",
                "    http-check expect status 200-399",
            ]
        lines.append("    default-server check inter 2s fall 2 rise 2")
        for container, address, port in sorted(servers.get(name) or []):
            lines.append(f"    server {container} {address}:{port}")
    return "\n".join(lines) + "\n"


def bound_ports(text: str) -> set:
    """The ports a proxy file's ``bind`` lines listen on."""
    return {int(port) for port in _BIND.findall(text or "")}


def parse_show_proc(text: str) -> dict:
    """The master CLI's ``show proc``: ``{"reloads": int or None, "workers": [pid], "old_workers": [pid]}``."""
    parsed = {"reloads": None, "workers": [], "old_workers": []}
    section = "master"
    for line in (text or "").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            word = stripped.lstrip("#").strip().lower()
            if word.startswith("old worker"):
                section = "old_workers"
            elif word.startswith("worker"):
                section = "workers"
            elif word.startswith("program"):
                section = "programs"
            continue
        fields = stripped.split()
        if len(fields) < 3 or not fields[0].isdigit():
            continue
        if fields[1] == "master":
            with contextlib.suppress(ValueError):
                parsed["reloads"] = int(fields[2])
        elif fields[1] == "worker" and section in ("workers", "old_workers"):
            parsed[section].append(int(fields[0]))
    return parsed


# --------------------------------------------------------------------------- the running proxy


class FrontProxy:
    """The front proxy on this host, as the front_proxy role runs it."""

    def __init__(self, client, settings: dict, host: str):
        self.client = client
        self.settings = settings
        self.host = host
        self.container = settings["container"]
        self.config_dir = settings["config_dir"]
        self.conf_d = os.path.join(self.config_dir, "conf.d")
        self.master_socket = os.path.join(settings["runtime_dir"], MASTER_SOCKET)

    def hint(self) -> str:
        return (
            f"provision it with the role outerloop.docker.front_proxy (playbook outerloop.docker.provision, group "
            f"front_proxies) on {self.host}"
        )

    def preflight(self) -> None:
        """Refuse, before anything changes, when the proxy does not run here."""
        try:
            info = self.client.inspect_container(self.container)
        except docker.errors.NotFound:
            raise ProxyError(
                f"the front proxy {self.container} does not run on {self.host}, nothing was changed: {self.hint()}"
            ) from None
        if (info.get("State") or {}).get("Status") != "running":
            raise ProxyError(
                f"the front proxy {self.container} on {self.host} is {(info.get('State') or {}).get('Status')}, "
                f"nothing was changed: start it (docker start {self.container}) or {self.hint()}"
            )
        if not os.path.exists(os.path.join(self.config_dir, "haproxy.cfg")) or not os.path.exists(self.master_socket):
            raise ProxyError(
                f"the front proxy {self.container} on {self.host} has no {self.config_dir}/haproxy.cfg or no master "
                f"socket {self.master_socket}, nothing was changed: {self.hint()}"
            )

    # ----------------------------------------------------------------- files

    def path(self, project: str) -> str:
        return os.path.join(self.conf_d, f"{project}.cfg")

    def current(self, project: str) -> str | None:
        try:
            with open(self.path(project), encoding="utf-8") as fh:
                return fh.read()
        except FileNotFoundError:
            return None

    def others(self, project: str) -> list:
        """The files of the other projects, as HAProxy loads them (``*.cfg``, in lexical order)."""
        try:
            names = sorted(os.listdir(self.conf_d))
        except FileNotFoundError:
            return []
        return [os.path.join(self.conf_d, n) for n in names if n.endswith(".cfg") and n != f"{project}.cfg"]

    def port_conflicts(self, project: str, text: str) -> list:
        taken = []
        for path in self.others(project):
            with open(path, encoding="utf-8") as fh:
                for port in sorted(bound_ports(fh.read()) & bound_ports(text)):
                    taken.append(f"port {port} is already the front proxy's for {os.path.basename(path)}")
        return taken

    # ----------------------------------------------------------------- HAProxy

    def exec_in(self, argv: list) -> tuple[int, str]:
        exec_id = self.client.exec_create(self.container, argv, stdout=True, stderr=True)["Id"]
        output = self.client.exec_start(exec_id).decode("utf-8", "replace")
        return self.client.exec_inspect(exec_id).get("ExitCode"), output

    def validate(self, project: str, text: str) -> None:
        """``haproxy -c`` of the whole configuration with ``text`` as the project's file; ProxyError if invalid."""
        conflicts = self.port_conflicts(project, text)
        if conflicts:
            raise ProxyError(f"the front proxy on {self.host} cannot take project {project}: {'; '.join(conflicts)}. "
                             "Give each project's services their own public ports")  # fmt: skip
        candidate = os.path.join(self.conf_d, f".{project}.cfg.candidate")
        write_atomic(candidate, text, 0o644)
        try:
            argv = ["haproxy", "-c", "-q", "-f", os.path.join(self.config_dir, "haproxy.cfg")]
            for path in [*self.others(project), candidate]:
                argv += ["-f", path]
            rc, output = self.exec_in(argv)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(candidate)
        if rc != 0:
            raise ProxyError(
                f"the front proxy's configuration for project {project} is not valid on {self.host} (haproxy -c, exit "
                f"{rc}): {output.strip()[-1500:]}. The proxy was not changed"
            )

    def master(self, command: str, timeout: float = 5) -> str:
        """One command on the master CLI; its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(self.master_socket)
            sock.sendall(command.encode() + b"\n")
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            with contextlib.suppress(ConnectionResetError):
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace")

    def processes(self) -> dict | None:
        """``show proc``, or None while the master cannot answer (it re-executes itself during a reload)."""
        try:
            return parse_show_proc(self.master("show proc"))
        except OSError:
            return None

    def logs(self, tail: int = 15) -> str:
        try:
            text = self.client.logs(self.container, stdout=True, stderr=True, tail=tail)
        except docker.errors.APIError as exc:
            return f"(logs unavailable: {exc})"
        return " / ".join(text.decode("utf-8", "replace").strip().splitlines()[-tail:])

    def reload(self) -> dict:
        """Reload and wait until a new worker runs: ``{"old_workers", "worker", "seconds"}``; ProxyError when
        no new worker starts within reload_timeout (the old one keeps serving the old configuration)."""
        before = self.processes()
        if before is None:
            raise ProxyError(f"the front proxy's master CLI {self.master_socket} does not answer on {self.host}")
        old = set(before["workers"]) | set(before["old_workers"])
        started = time.monotonic()
        with contextlib.suppress(OSError):
            self.master("reload")
        deadline = started + float(self.settings["reload_timeout"])
        while time.monotonic() < deadline:
            now = self.processes()
            fresh = [pid for pid in (now or {}).get("workers", []) if pid not in old]
            if fresh:
                return {"old_workers": sorted(old), "worker": fresh[0], "seconds": round(time.monotonic() - started, 3)}
            time.sleep(0.05)
        raise ProxyError(
            f"the front proxy {self.container} on {self.host} started no new worker within "
            f"{self.settings['reload_timeout']} s of the reload; its old worker keeps serving the configuration "
            f"before. Its last log lines: {self.logs()}"
        )

    def wait_drained(self, workers: list, timeout: float) -> dict:
        """Wait until the old ``workers`` have finished the requests they held and exited."""
        started = time.monotonic()
        deadline = started + timeout
        pending = set(workers)
        while pending and time.monotonic() < deadline:
            now = self.processes()
            if now is not None:
                pending &= set(now["workers"]) | set(now["old_workers"])
            if pending:
                time.sleep(0.05)
        return {"drained": not pending, "seconds": round(time.monotonic() - started, 3)}

    # ----------------------------------------------------------------- changes

    def apply(self, project: str, text: str) -> dict:
        """Validate, put ``text`` in place as the project's file and reload; the file before comes back when the
        reload fails. ``{"changed": False}`` when the file already says so."""
        before = self.current(project)
        if before == text:
            return {"changed": False}
        self.validate(project, text)
        write_atomic(self.path(project), text, 0o644)
        try:
            reloaded = self.reload()
        except ProxyError:
            if before is None:
                with contextlib.suppress(OSError):
                    os.unlink(self.path(project))
            else:
                write_atomic(self.path(project), before, 0o644)
            raise
        return {"changed": True, **reloaded}

    def remove(self, project: str) -> dict:
        """Remove the project's file and reload; ``{"changed": False}`` when there is none."""
        if self.current(project) is None:
            return {"changed": False}
        os.unlink(self.path(project))
        return {"changed": True, **self.reload()}
