# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test results: the files a suite writes inside its container, copied out safely, and their JUnit summary.

``extract_results`` reads the tar stream the engine's ``get_archive`` yields (ChunkReader), writing only
directories and regular files below the destination; ``summarize`` turns an exit code and JUnit XML
files into the one-line summary a test record and a release manifest carry. Pure, tested without Docker.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
from dataclasses import dataclass, field
from xml.etree import ElementTree


class UnsafeArchiveError(ValueError):
    """A results archive member that would be written outside the destination."""


class ChunkReader(io.RawIOBase):
    """A file object over the byte chunks ``get_archive`` yields, so the tar is never held whole."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self):
        return True

    def readinto(self, target):
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        count = min(len(target), len(self._buffer))
        target[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count


def _member_parts(name: str) -> list[str]:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise UnsafeArchiveError(f"results archive member {name!r} has an absolute path; nothing more is copied")
    parts = [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"results archive member {name!r} contains '..'; nothing more is copied")
    return parts


def extract_results(fileobj, top: str, dest: str) -> tuple[list[str], list[str]]:
    """Extract the tar stream of ``get_archive(container, PATH)`` into ``dest``, safely.

    The archive's top entry is ``top`` (the base name of PATH): a directory's content lands in
    ``dest`` itself, a single file as ``dest/top``. Only directories and regular files are written;
    links, devices and FIFOs are skipped (their names are returned). A member with an absolute path
    or ``..``, or one that would end up outside ``dest`` through an existing symlink, raises
    UnsafeArchiveError. Returns (paths written, names skipped).
    """
    dest = os.path.abspath(dest)
    os.makedirs(dest, exist_ok=True)
    real_dest = os.path.realpath(dest)
    written, skipped = [], []
    with tarfile.open(fileobj=fileobj, mode="r|*") as archive:
        for member in archive:
            parts = _member_parts(member.name)
            if parts and parts[0] == top:
                parts = parts[1:] or ([top] if not member.isdir() else [])
            if not parts:
                continue
            target = os.path.join(dest, *parts)
            real_parent = os.path.realpath(os.path.dirname(target))
            if real_parent != real_dest and not real_parent.startswith(real_dest + os.sep):
                raise UnsafeArchiveError(
                    f"results archive member {member.name!r} would be written outside {dest}; nothing more is copied"
                )
            if member.isdir():
                if os.path.islink(target):
                    raise UnsafeArchiveError(f"{target} is a symlink; refusing to extract {member.name!r} through it")
                os.makedirs(target, exist_ok=True)
                continue
            if not member.isreg():
                skipped.append("/".join(parts))
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.islink(target):
                os.unlink(target)
            source = archive.extractfile(member)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
            with os.fdopen(fd, "wb") as handle:
                while True:
                    block = source.read(1 << 20)
                    if not block:
                        break
                    handle.write(block)
            written.append(target)
    return written, skipped


@dataclass
class JUnitSummary:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    failed: list = field(default_factory=list)
    files: int = 0

    def add_file(self, path: str) -> None:
        root = ElementTree.parse(path).getroot()
        if root.tag not in ("testsuites", "testsuite"):
            raise ValueError(f"root element is <{root.tag}>, not <testsuites> or <testsuite>")
        self.files += 1
        for case in root.iter("testcase"):
            self.tests += 1
            name = case.get("name") or "?"
            if case.get("classname"):
                name = f"{case.get('classname')}.{name}"
            if case.find("failure") is not None:
                self.failures += 1
                self.failed.append(name)
            elif case.find("error") is not None:
                self.errors += 1
                self.failed.append(name)
            elif case.find("skipped") is not None:
                self.skipped += 1

    def text(self) -> str:
        text = f"{self.tests} tests, {self.failures} failures, {self.errors} errors, {self.skipped} skipped"
        if self.failed:
            shown = ", ".join(self.failed[:10])
            more = f" and {len(self.failed) - 10} more" if len(self.failed) > 10 else ""
            text += f" (failed: {shown}{more})"
        return text


def summarize(rc, junit_files, *, timed_out: bool = False, run_timeout: int = 0, start_error: str = ""):
    """(summary text, failed test names, warnings) for the record and the result."""
    warnings = []
    junit = JUnitSummary()
    for path in junit_files:
        try:
            junit.add_file(path)
        except (ElementTree.ParseError, ValueError, OSError) as exc:
            warnings.append(f"{path} is not a JUnit XML report ({exc}); it is not counted in the summary")
    if start_error:
        text = f"the container did not start: {start_error}"
    elif timed_out:
        text = f"timed out after {run_timeout} s"
    else:
        text = f"rc {rc}"
    if junit.files:
        text += f"; {junit.text()}"
    return text, junit.failed, warnings
