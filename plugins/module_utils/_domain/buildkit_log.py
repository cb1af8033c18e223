# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The output of a BuildKit build (``docker build --progress=plain`` or ``docker buildx build``), read after it ran.

Pure: it reads the text the CLI printed. BuildKit prints each step of the build graph as a numbered
vertex (``#6 [build 2/4] COPY src.txt /src``), then lines of that vertex (``#6 0.452 output``,
``#6 CACHED``, ``#6 DONE 0.5s``, ``#6 ERROR: ...``); vertices of stages that run in parallel
interleave. A failed build ends with the CLI's own summary (``executor failed running [...]: exit
code: 3`` from Docker 20.10, ``ERROR: failed to solve: ...`` from buildx).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ansible_collections.outerloop.docker.plugins.module_utils._domain.build_log import (
    MISSING_BASE_HINT,
    TAIL_LINES,
    tail,
)

_VERTEX = re.compile(r"^#(\d+) (.*)$")
_STEP_NAME = re.compile(r"^\[(?:(\S+) )?(\d+)/(\d+)\] (\S+)")
_TIMED_OUTPUT = re.compile(r"^\d+\.\d+ ")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_SUMMARY_PREFIXES = ("ERROR: ", "error: ", "ERROR ", "error ")


@dataclass
class Vertex:
    name: str  # "[build 2/4] COPY src.txt /src/src.txt" or "[internal] load metadata for ..."
    cached: bool = False
    error: str | None = None

    @property
    def instruction(self) -> str | None:
        """The Dockerfile instruction of a step (RUN, COPY, FROM, ...); None for BuildKit's internal vertices."""
        match = _STEP_NAME.match(self.name)
        return match.group(4).upper() if match else None


@dataclass
class BuildKitLog:
    """What a BuildKit build printed: its steps, which came from the cache, which failed and why."""

    lines: list = field(default_factory=list)
    vertices: dict = field(default_factory=dict)
    summary: str | None = None
    warnings: list = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> BuildKitLog:
        log = cls()
        last_plain = last_error = None
        for raw in _ANSI.sub("", text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            line = raw.rstrip()
            if not line.strip():
                continue
            vertex = _VERTEX.match(line)
            if not vertex:
                log.lines.append(line)
                if line.strip("-") and not line.startswith((" > ", ">>> ")) and not re.match(r"^\s*\d+ \| ", line):
                    last_plain = line.strip()
                    if last_plain.startswith(_SUMMARY_PREFIXES):
                        last_error = last_plain
                continue
            number, rest = int(vertex.group(1)), vertex.group(2).strip()
            if _DIGEST.match(rest):
                continue  # the vertex's digest: noise in a log a person reads
            log.lines.append(line)
            known = log.vertices.get(number)
            if known is None:
                log.vertices[number] = Vertex(name=rest)
            elif rest == "CACHED":
                known.cached = True
            elif rest.startswith("ERROR"):
                known.error = rest[len("ERROR") :].lstrip(": ").strip() or "failed"
            elif rest.startswith("WARN"):
                log.warnings.append(f"{known.name}: {rest}")
        if last_error or last_plain:
            summary = last_error or last_plain
            for prefix in _SUMMARY_PREFIXES:
                if summary.startswith(prefix):
                    summary = summary[len(prefix) :]
            log.summary = summary.strip() or None
        return log

    @property
    def steps(self) -> list:
        """The Dockerfile steps (FROM, RUN, COPY, ...), in the order BuildKit started them."""
        return [self.vertices[number] for number in sorted(self.vertices) if self.vertices[number].instruction]

    @property
    def failed_vertex(self) -> Vertex | None:
        failed = [self.vertices[number] for number in sorted(self.vertices) if self.vertices[number].error]
        return failed[0] if failed else None

    @property
    def current_step(self) -> str | None:
        """The step that failed (or, when none says so, the last step started)."""
        failed = self.failed_vertex
        if failed is not None:
            return failed.name
        steps = self.steps
        return steps[-1].name if steps else None

    @property
    def error(self) -> str | None:
        """Why the build failed: the CLI's summary, else the failed step's error."""
        failed = self.failed_vertex
        return self.summary or (failed.error if failed else None)

    @property
    def cached(self) -> bool:
        """True when every step but FROM came from the build cache."""
        building = [step for step in self.steps if step.instruction != "FROM"]
        return bool(building) and all(step.cached for step in building)

    def tail(self, count: int = TAIL_LINES) -> list[str]:
        return tail(self.lines, count)


def buildkit_failure_message(what: str, log: BuildKitLog) -> str:
    step = log.current_step
    where = f"at {step}" if step else "before the first Dockerfile step"
    msg = f"{what} failed {where}: {log.error or 'the build failed without saying why'}."
    if step and ("load metadata for" in step or (_STEP_NAME.match(step) and _STEP_NAME.match(step).group(4) == "FROM")):
        msg += MISSING_BASE_HINT
    if any("buildx component is missing" in line for line in log.lines):
        msg += (
            " This docker CLI builds with BuildKit only through the buildx plugin: install it (Debian/Ubuntu: "
            "docker-buildx-plugin from Docker's apt repository), or set builder: classic."
        )
    lines = log.tail()
    if lines:
        count = "line" if len(lines) == 1 else f"{len(lines)} lines"
        msg += f"\nLast {count} of the build output:\n" + "\n".join(lines)
    return msg
