# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Files the modules read and write on the host they run on: written one way, atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile


class FileReadError(OSError):
    """A file that exists but cannot be read as text; the message names it."""


def write_atomic(
    path: str,
    text: str,
    mode: int = 0o644,
    *,
    prefix: str = ".tmp-",
    uid: int | None = None,
    gid: int | None = None,
    sync_directory: bool = False,
) -> None:
    """Replace ``path`` with ``text`` in one rename, creating missing parent directories (0755).

    The text goes to a temporary file named ``prefix...`` next to ``path``, gets ``mode`` (and the
    owner uid:gid when given) before any byte is written, is flushed and fsynced and renamed over
    ``path``; ``sync_directory`` also fsyncs the directory, so the rename survives a crash. On any
    failure the temporary file is removed and ``path`` is as it was.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            if uid is not None or gid is not None:
                os.fchown(fh.fileno(), -1 if uid is None else uid, -1 if gid is None else gid)
            os.fchmod(fh.fileno(), mode)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_directory:
        _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_text(path: str) -> str | None:
    """The file's text, or None when it does not exist; FileReadError naming it when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileReadError(f"{path} cannot be read: {exc}") from None
