# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Validation of Docker daemon settings (daemon.json), before they reach a host.

dockerd refuses to start on a key it does not know or a value of the wrong JSON type; a bad
daemon.json therefore turns a configuration change into an outage. These checks are pure and
run on the controller.
"""

from __future__ import annotations

import re

_BOOL = "bool"
_INT = "int"
_STR = "str"
_STR_LIST = "list of str"
_STR_MAP = "dict of str"
_MAP = "dict"
_LIST = "list"

# Keys of daemon.json as documented for dockerd (https://docs.docker.com/reference/cli/dockerd/), from 20.10
# (cluster-*, removed in 23.0) to 28 (firewall-backend, allow-direct-routing, bridge-accept-fwmark). Engines
# that have `dockerd --validate` (23.0 and later) also check the file themselves before it is written.
_KEYS = {
    "allow-direct-routing": _BOOL,
    "allow-nondistributable-artifacts": _STR_LIST,
    "api-cors-header": _STR,
    "authorization-plugins": _STR_LIST,
    "bip": _STR,
    "bip6": _STR,
    "bridge": _STR,
    "bridge-accept-fwmark": _STR,
    "builder": _MAP,
    "cdi-spec-dirs": _STR_LIST,
    "cgroup-parent": _STR,
    "cluster-advertise": _STR,
    "cluster-store": _STR,
    "cluster-store-opts": _STR_MAP,
    "containerd": _STR,
    "containerd-namespace": _STR,
    "containerd-plugin-namespace": _STR,
    "cpu-rt-period": _INT,
    "cpu-rt-runtime": _INT,
    "cri-containerd": _BOOL,
    "data-root": _STR,
    "debug": _BOOL,
    "default-address-pools": _LIST,
    "default-cgroupns-mode": _STR,
    "default-gateway": _STR,
    "default-gateway-v6": _STR,
    "default-ipc-mode": _STR,
    "default-network-opts": _MAP,
    "default-runtime": _STR,
    "default-shm-size": _STR,
    "default-ulimits": _MAP,
    "dns": _STR_LIST,
    "dns-opts": _STR_LIST,
    "dns-search": _STR_LIST,
    "exec-opts": _STR_LIST,
    "exec-root": _STR,
    "experimental": _BOOL,
    "features": _MAP,
    "firewall-backend": _STR,
    "fixed-cidr": _STR,
    "fixed-cidr-v6": _STR,
    "group": _STR,
    "host-gateway-ip": _STR,
    "host-gateway-ips": _STR_LIST,
    "hosts": _STR_LIST,
    "icc": _BOOL,
    "init": _BOOL,
    "init-path": _STR,
    "insecure-registries": _STR_LIST,
    "ip": _STR,
    "ip-forward": _BOOL,
    "ip-forward-no-drop": _BOOL,
    "ip-masq": _BOOL,
    "ip6tables": _BOOL,
    "iptables": _BOOL,
    "ipv6": _BOOL,
    "labels": _STR_LIST,
    "live-restore": _BOOL,
    "log-driver": _STR,
    "log-format": _STR,
    "log-level": _STR,
    "log-opts": _STR_MAP,
    "max-concurrent-downloads": _INT,
    "max-concurrent-uploads": _INT,
    "max-download-attempts": _INT,
    "metrics-addr": _STR,
    "min-api-version": _STR,
    "mtu": _INT,
    "no-new-privileges": _BOOL,
    "node-generic-resources": _STR_LIST,
    "oom-score-adjust": _INT,
    "pidfile": _STR,
    "proxies": _STR_MAP,
    "raw-logs": _BOOL,
    "registry-mirrors": _STR_LIST,
    "runtimes": _MAP,
    "seccomp-profile": _STR,
    "selinux-enabled": _BOOL,
    "shutdown-timeout": _INT,
    "storage-driver": _STR,
    "storage-opts": _STR_LIST,
    "swarm-default-advertise-addr": _STR,
    "tls": _BOOL,
    "tlscacert": _STR,
    "tlscert": _STR,
    "tlskey": _STR,
    "tlsverify": _BOOL,
    "userland-proxy": _BOOL,
    "userland-proxy-path": _STR,
    "userns-remap": _STR,
}

_LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")
# HOST[:PORT] or a CIDR, as `insecure-registries` takes them: no scheme, no path.
_REGISTRY = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[0-9]{1,3})?$")
_MIRROR = re.compile(r"^https?://[^/\s]+(/\S*)?$")
# metrics-addr, the address of dockerd's Prometheus endpoint: HOST:PORT (an IPv6 host in brackets).
_LISTEN = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):[0-9]{1,5}$")


def _type_ok(value, kind: str) -> bool:
    if kind == _BOOL:
        return isinstance(value, bool)
    if kind == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _STR:
        return isinstance(value, str)
    if kind == _STR_LIST:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == _STR_MAP:
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if kind == _MAP:
        return isinstance(value, dict)
    return isinstance(value, list)


def _describe(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def daemon_config_errors(config, name: str = "daemon_config") -> list[str]:
    """Return one message per problem in ``config``; an empty list means dockerd accepts it."""
    if not isinstance(config, dict):
        return [f"{name} must be a dictionary of daemon.json settings, got {_describe(config)}"]
    errors = []
    for key in sorted(config, key=str):
        value = config[key]
        where = f"{name}['{key}']"
        kind = _KEYS.get(key)
        if kind is None:
            errors.append(f"{where}: unknown daemon.json key; dockerd refuses to start on unknown keys")
            continue
        if not _type_ok(value, kind):
            hint = " (quote numbers: dockerd reads log options as strings)" if key == "log-opts" else ""
            errors.append(f"{where} must be a {kind}, got {_describe(value)}{hint}")
            continue
        if key == "hosts":
            errors.append(
                f"{where}: conflicts with the -H flag of the packaged docker.service, so dockerd would "
                "not start; set listen addresses with a systemd drop-in instead"
            )
        elif key == "log-level" and value not in _LOG_LEVELS:
            errors.append(f"{where} must be one of {', '.join(_LOG_LEVELS)}, got {value!r}")
        elif key == "insecure-registries":
            errors.extend(
                f"{where}: {reg!r} is not HOST[:PORT] or a CIDR (no scheme, no path)"
                for reg in value
                if not _REGISTRY.match(reg)
            )
        elif key == "metrics-addr" and not _LISTEN.match(value):
            errors.append(
                f"{where} must be HOST:PORT where dockerd serves its metrics, e.g. '0.0.0.0:9323', got {value!r}"
            )
        elif key == "registry-mirrors":
            errors.extend(f"{where}: {url!r} is not an http(s) URL" for url in value if not _MIRROR.match(url))
        elif key == "default-address-pools":
            for pool in value:
                if not (
                    isinstance(pool, dict) and isinstance(pool.get("base"), str) and _type_ok(pool.get("size"), _INT)
                ):
                    errors.append(f"{where}: each pool needs base (a CIDR string) and size (an int), got {pool!r}")
    return errors
