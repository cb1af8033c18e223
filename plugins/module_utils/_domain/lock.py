# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The deploy lock: one deployment of an application at a time on a host (or a swarm manager).

An exclusive ``fcntl.flock`` on ``<state_dir>/<project>/lock`` (see _domain.history); the file also
says who holds it. The kernel releases the lock when its process dies, so content left by a dead run
never blocks the next one.
"""

from __future__ import annotations

import fcntl
import json
import os
import time

from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import utc_now


class LockError(Exception):
    """The lock was not free in time; ``holder`` is what its file says about the run that holds it."""

    def __init__(self, message: str, holder: dict | None):
        super().__init__(message)
        self.holder = holder


def lock_holder(host: str, manifest: dict | None, state: str, given_by: dict) -> dict:
    """What a deploy lock file says about the run that holds it."""
    return {
        "pid": os.getpid(),
        "host": host,
        "since": utc_now(),
        "release_id": (manifest or {}).get("release_id") or state,
        "controller": given_by.get("host"),
        "user": given_by.get("user"),
        "awx_job_id": given_by.get("awx_job_id"),
    }


def describe_holder(held) -> str:
    if not isinstance(held, dict):
        return "holder unknown"
    who = held.get("user") or "?"
    job = f", AWX job {held['awx_job_id']}" if held.get("awx_job_id") else ""
    return (
        f"pid {held.get('pid')} on {held.get('host')}, started by {who}{job} from "
        f"{held.get('controller') or '?'} since {held.get('since')}, deploying {held.get('release_id')}"
    )


class DeployLock:
    """An exclusive fcntl lock on ``path``, waited for at most ``timeout`` seconds; the file says who holds it."""

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
                    raise LockError(
                        f"another deployment of this project holds the lock {self.path} ({describe_holder(held)}) "
                        f"and did not finish within lock_timeout={self.timeout} s; wait for it, or raise lock_timeout",
                        held,
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
