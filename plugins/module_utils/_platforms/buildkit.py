# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Builds with BuildKit through the docker CLI: ``docker buildx build`` where the buildx plugin is installed,
``DOCKER_BUILDKIT=1 docker build`` otherwise (Docker 20.10's CLI, as Debian packages it).

The Docker SDK for Python only drives the engine's classic builder, so BuildKit builds go through the
CLI, against the engine of the module's options (``DOCKER_HOST``). The pure parts (which builder, the
command line, the ``--secret`` flags) are plain functions; ``BuildKitCli`` runs the command.

Build secrets reach the build as files: one given as a value is written to a file only its owner can
read, in the module's temporary directory, and removed when the build is over.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass

from ansible_collections.outerloop.docker.plugins.module_utils._platforms.cli import TIMED_OUT_RC, DockerCli

BUILDER_CHOICES = ("auto", "buildkit", "classic")
# The docker CLI's words for the two BuildKit front ends, as the module returns them (build_cli).
BUILDX = "docker buildx build"
DOCKER_BUILD = "DOCKER_BUILDKIT=1 docker build"
_SECRET_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# A secret file read to mask its content in the build output is at most this big.
_MASK_READ_LIMIT = 64 * 1024
_MASK_MIN_LENGTH = 4


# The exit code of a build that `timeout` had to kill (128 + SIGKILL) after it did not stop in time.
KILLED_RC = 128 + 9


def build_host_name() -> str:
    """The name of the host the module runs on (the build host), for messages."""
    return DockerCli.hostname()


class BuildKitError(Exception):
    """A BuildKit build that cannot start: no docker CLI, a bad secret. The message says what to do."""


def choose_builder(requested: str, *, docker_cli: str | None, has_buildx: bool, host: str) -> str | None:
    """The docker CLI command that builds (BUILDX or DOCKER_BUILD), or None for the classic builder.

    ``auto`` and ``buildkit`` mean BuildKit: through buildx when the plugin answers ``docker buildx version``,
    else through ``docker build`` with DOCKER_BUILDKIT=1. BuildKit needs the docker CLI on the build host.
    """
    if requested not in BUILDER_CHOICES:
        raise BuildKitError(f"builder {requested!r} is none of {', '.join(BUILDER_CHOICES)}")
    if requested == "classic":
        return None
    if not docker_cli:
        raise BuildKitError(
            f"builder {requested} builds with BuildKit through the docker CLI, which is not installed on {host}: "
            "install it (docker-ce-cli and docker-buildx-plugin from Docker's apt repository, or Debian's "
            "docker.io), or set builder: classic for the engine's classic builder"
        )
    return BUILDX if has_buildx else DOCKER_BUILD


@dataclass(frozen=True)
class BuildSecret:
    """One ``--secret``: its id (the file /run/secrets/ID inside RUN --mount=type=secret) and where it comes from."""

    id: str
    src: str | None = None
    value: str | None = None


def parse_secrets(items, *, host: str) -> list:
    """The module's O(secrets), checked: an id each, unique, and exactly one of src and value."""
    secrets, seen = [], set()
    for index, given in enumerate(items or []):
        item = given or {}
        secret_id = item.get("id")
        where = f"secrets[{index}]"
        if not secret_id or not _SECRET_ID.match(str(secret_id)):
            raise BuildKitError(
                f"{where}: id {secret_id!r} must be 1 to 64 letters, digits, '_', '.' or '-' (the name that "
                "RUN --mount=type=secret,id=ID uses)"
            )
        secret_id = str(secret_id)
        if secret_id in seen:
            raise BuildKitError(f"{where}: id {secret_id!r} is given twice; give each secret once")
        seen.add(secret_id)
        src, value = item.get("src"), item.get("value")
        if (src is None) == (value is None):
            raise BuildKitError(f"{where} (id {secret_id}): give exactly one of src (a file on {host}) and value")
        if src is not None:
            src = os.path.abspath(os.path.expanduser(str(src)))
            if not os.path.isfile(src):
                raise BuildKitError(
                    f"{where} (id {secret_id}): src {src} is not a file on {host}; put the secret file on the "
                    "build host first, or give its value (from Vault)"
                )
            if not os.access(src, os.R_OK):
                raise BuildKitError(f"{where} (id {secret_id}): src {src} on {host} cannot be read by this user")
        secrets.append(BuildSecret(id=secret_id, src=src, value=None if value is None else str(value)))
    return secrets


def secret_masks(secrets) -> list:
    """The texts to hide in the build output: every value, and what a small src file holds."""
    masks = []
    for secret in secrets:
        text = secret.value
        if text is None and secret.src:
            try:
                if os.path.getsize(secret.src) <= _MASK_READ_LIMIT:
                    with open(secret.src, encoding="utf-8", errors="replace") as handle:
                        text = handle.read()
            except OSError:
                text = None
        if not text:
            continue
        masks.append(text)
        masks.extend(line.strip() for line in text.splitlines() if len(line.strip()) >= _MASK_MIN_LENGTH)
        if len(text.strip()) >= _MASK_MIN_LENGTH:
            masks.append(text.strip())
    return sorted(set(masks), key=len, reverse=True)


def _csv_field(text: str) -> str:
    """One field of the CLI's comma-separated ``--secret`` value, quoted when it holds a comma or a quote."""
    if any(char in text for char in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def secret_flag(secret_id: str, src: str) -> str:
    return f"{_csv_field('id=' + secret_id)},{_csv_field('src=' + src)}"


@contextlib.contextmanager
def secret_args(secrets, tmpdir: str | None = None):
    """``--secret id=ID,src=FILE`` for every secret; a value is written to a 0600 file that is removed after."""
    written = []
    try:
        args = []
        for secret in secrets:
            src = secret.src
            if src is None:
                handle, src = tempfile.mkstemp(prefix="outerloop-secret-", dir=tmpdir)
                written.append(src)
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(secret.value)
                os.chmod(src, 0o600)
            args += ["--secret", secret_flag(secret.id, src)]
        yield args
    finally:
        for path in written:
            with contextlib.suppress(OSError):
                os.unlink(path)


def build_command(
    build_cli: str,
    *,
    context: str,
    dockerfile: str,
    iidfile: str,
    labels: dict | None = None,
    build_args: dict | None = None,
    target: str | None = None,
    pull: bool = False,
    nocache: bool = False,
    secrets: list | None = None,
) -> tuple[list, dict]:
    """``(args, env)``: the arguments after ``docker`` and the environment of one BuildKit build.

    ``dockerfile`` is an absolute path (the CLI reads ``--file`` relative to its working directory, not
    to the context); ``secrets`` are the ``--secret`` arguments of ``secret_args``. The image ID is
    written to ``iidfile``; the image lands in the engine's image store (buildx: ``--load``) untagged,
    image_build tags it.
    """
    if build_cli == BUILDX:
        args = ["buildx", "build", "--load"]
    elif build_cli == DOCKER_BUILD:
        args = ["build"]
    else:
        raise ValueError(f"not a BuildKit command: {build_cli!r}")
    args += ["--progress=plain", "--iidfile", iidfile, "--file", dockerfile]
    if target:
        args += ["--target", target]
    if pull:
        args.append("--pull")
    if nocache:
        args.append("--no-cache")
    for key, value in sorted((build_args or {}).items()):
        args += ["--build-arg", f"{key}={value}"]
    for key, value in sorted((labels or {}).items()):
        args += ["--label", f"{key}={value}"]
    args += list(secrets or [])
    args.append(context)
    env = {
        "DOCKER_BUILDKIT": "1",
        # Without provenance attestations (buildx 0.10+ adds them by default): the same build gives the same
        # image ID, and the image stays a plain image rather than an index.
        "BUILDX_NO_DEFAULT_ATTESTATIONS": "1",
        "DOCKER_SCAN_SUGGEST": "false",
        "BUILDKIT_PROGRESS": "plain",
    }
    return args, env


@dataclass
class BuildRun:
    rc: int
    output: str
    timed_out: bool
    image_id: str | None


class BuildKitCli:
    """BuildKit builds through the docker CLI of the host the module runs on."""

    def __init__(self, module, requested: str = "auto"):
        self.module = module
        self.docker = module.get_bin_path("docker")
        self.cli = None
        host = build_host_name()
        has_buildx = False
        if requested != "classic" and self.docker:
            self.cli = DockerCli(module)
            rc, _out, _err = self.cli.run(["buildx", "version"], check=False)
            has_buildx = rc == 0
        self.build_cli = choose_builder(requested, docker_cli=self.docker, has_buildx=has_buildx, host=host)
        self.host = host

    def build(self, *, timeout: int, **options) -> BuildRun:
        """One build (``options`` as ``build_command`` takes them, without iidfile); its output and image ID."""
        handle, iidfile = tempfile.mkstemp(prefix="outerloop-iid-", dir=getattr(self.module, "tmpdir", None))
        os.close(handle)
        try:
            args, env = build_command(self.build_cli, iidfile=iidfile, **options)
            rc, out, err = self.cli.run(args, env=env, check=False, timeout=timeout)
            image_id = None
            if rc == 0:
                with open(iidfile, encoding="utf-8") as handle_in:
                    image_id = handle_in.read().strip() or None
            timed_out = rc in (TIMED_OUT_RC, KILLED_RC)
            return BuildRun(rc=rc, output=(out or "") + (err or ""), timed_out=timed_out, image_id=image_id)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(iidfile)
