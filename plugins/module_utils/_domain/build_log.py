# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The output of the engine's classic builder, read as it streams: steps, cache hits, the image ID, errors.

Pure: it reads the decoded chunks that ``APIClient.build(decode=True)`` yields; image_build feeds it.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field

TAIL_LINES = 30
_KEPT_LINES = 1000
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_USING_CACHE = re.compile(r"^ ---> Using cache\s*$")
_STEP_RESULT = re.compile(r"^ ---> [0-9a-f]{12,64}\s*$")
_SUCCESS = re.compile(r"^Successfully built ([0-9a-f]{12,64})\s*$")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _as_text(value) -> str:
    return "" if value is None else str(value)


def _lines(count: int) -> str:
    return "line" if count == 1 else f"{count} lines"


def tail(lines, count: int = TAIL_LINES) -> list[str]:
    lines = list(lines)
    return lines[-count:] if count > 0 else []


@dataclass
class Step:
    text: str  # "Step 2/6 : RUN make"
    instruction: str  # "RUN"
    cached: bool = False  # " ---> Using cache" was printed
    produced: bool = False  # " ---> <image id>" was printed (an ARG before FROM prints neither)


@dataclass
class BuildLog:
    """Reads the decoded chunks of ``APIClient.build(decode=True)`` as the classic builder sends them.

    Chunks carry ``stream`` text (lines may be split across chunks, stderr of RUN steps comes
    wrapped in ANSI colours), ``status`` lines of a pull, ``aux`` with the image ID, or ``error`` and
    ``errorDetail`` when a step fails.
    """

    lines: collections.deque = field(default_factory=lambda: collections.deque(maxlen=_KEPT_LINES))
    steps: list = field(default_factory=list)
    image_id: str | None = None
    short_id: str | None = None
    error: str | None = None
    warnings: list = field(default_factory=list)
    _partial: str = ""

    def feed(self, chunk) -> None:
        if not isinstance(chunk, dict):
            return
        if "stream" in chunk:
            self._text(_as_text(chunk["stream"]))
        elif "status" in chunk:
            status = _as_text(chunk["status"])
            self._flush()
            self._line(f"{chunk['id']}: {status}" if chunk.get("id") else status)
        aux = chunk.get("aux")
        if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
            self.image_id = aux["ID"]
        if chunk.get("error") or chunk.get("errorDetail"):
            detail = chunk.get("errorDetail") or {}
            message = (detail.get("message") if isinstance(detail, dict) else None) or chunk.get("error")
            self.error = _ANSI.sub("", _as_text(message)).strip() or "unknown build error"
            self._flush()

    def finish(self) -> None:
        self._flush()

    def _text(self, text: str) -> None:
        text = (self._partial + _ANSI.sub("", text)).replace("\r\n", "\n").replace("\r", "\n")
        *complete, self._partial = text.split("\n")
        for line in complete:
            self._line(line)

    def _flush(self) -> None:
        if self._partial:
            line, self._partial = self._partial, ""
            self._line(line)

    def _line(self, line: str) -> None:
        line = line.rstrip()
        if not line.strip():
            return
        self.lines.append(line)
        step = _STEP.match(line)
        if step:
            instruction = step.group(3).split(None, 1)[0].upper() if step.group(3).strip() else ""
            self.steps.append(Step(text=line, instruction=instruction))
            return
        if _USING_CACHE.match(line) and self.steps:
            self.steps[-1].cached = True
            return
        if _STEP_RESULT.match(line) and self.steps:
            self.steps[-1].produced = True
            return
        success = _SUCCESS.match(line)
        if success:
            self.short_id = success.group(1)
        elif line.startswith("[Warning]"):
            self.warnings.append(line)

    @property
    def current_step(self) -> str | None:
        """The last ``Step N/M : ...`` line seen: the step that was running when the build failed."""
        return self.steps[-1].text if self.steps else None

    @property
    def cached(self) -> bool:
        """True when every step that made an image (all but FROM and an ARG before it) came from the cache."""
        building = [step for step in self.steps if step.produced and step.instruction != "FROM"]
        return bool(building) and all(step.cached for step in building)

    def tail(self, count: int = TAIL_LINES) -> list[str]:
        return tail(self.lines, count)


# Said after a build that failed at its FROM step, by either builder (classic here, BuildKit in buildkit_log).
MISSING_BASE_HINT = (
    " The base image is neither on the build host nor pullable from there: build or load it on this engine, or pass "
    "another base image through a build argument."
)


def failure_message(what: str, log: BuildLog) -> str:
    step = log.current_step
    where = f"at {step}" if step else "before the first Dockerfile step"
    msg = f"{what} failed {where}: {log.error}."
    if step and _STEP.match(step).group(3).upper().startswith("FROM"):
        msg += MISSING_BASE_HINT
    lines = log.tail()
    if lines:
        msg += f"\nLast {_lines(len(lines))} of the build output:\n" + "\n".join(lines)
    return msg
