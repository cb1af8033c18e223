# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one way the platforms run the Docker CLI: ``docker compose`` on a Compose host, ``docker stack`` and
``docker service`` on a swarm manager, for what no Docker SDK call does.

The CLI talks to the engine of the module's options (``DOCKER_HOST`` in its environment, as the SDK
client); its output is read as JSON where the command has a JSON format. A failure is raised as
CliError naming the command, the host and the CLI's own words.
"""

from __future__ import annotations

import socket

from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import docker_host_of

OUTPUT_TAIL = 2000
# The exit code of a command that `timeout` stopped.
TIMED_OUT_RC = 124


class CliError(Exception):
    """A Docker CLI command that failed; the message names the command, the host and what it said."""


class DockerCli:
    """``docker`` on the host the module runs on, against the engine named by the module's options."""

    def __init__(self, module):
        self.module = module
        self.docker = module.get_bin_path("docker", required=True)
        self.host = self.hostname()

    @staticmethod
    def hostname() -> str:
        """The name of the host the module runs on, for messages."""
        return socket.gethostname()

    def run(self, args: list, *, env: dict | None = None, cwd: str | None = None, check: bool = True,
            what: str | None = None, timeout: int | None = None) -> tuple[int, str, str]:  # fmt: skip
        """Run ``docker ARGS``; (rc, stdout, stderr). With ``check``, a non-zero exit raises CliError that
        names ``what`` (default: the command's first two words).

        With ``timeout`` (seconds), coreutils' ``timeout`` stops the command when it runs longer (then the
        exit code is TIMED_OUT_RC, or 137 when it had to be killed); without coreutils it is not bounded."""
        environ = {"DOCKER_HOST": docker_host_of(self.module.params)}
        environ.update({key: "" if value is None else str(value) for key, value in (env or {}).items()})
        argv = [self.docker, *args]
        limiter = self.module.get_bin_path("timeout") if timeout else None
        if limiter:
            argv = [limiter, "--kill-after=10", str(int(timeout)), *argv]
        rc, out, err = self.module.run_command(argv, environ_update=environ, cwd=cwd)
        if check and rc != 0:
            what = what or f"`docker {' '.join(args[:2])}`"
            raise CliError(f"{what} failed on {self.host} (exit {rc}): {(err or out).strip()[-OUTPUT_TAIL:]}")
        return rc, out, err
