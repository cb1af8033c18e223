"""The notes database: SQLite, one file on the db service's volume, its schema and its queries.

``NotesDB`` holds one connection behind a lock (the server's threads share it). Every write commits
before it returns, so a note that was answered with 201 is on the volume: it survives a restart, a
new container of the service and a deploy of the next release.
"""

import os
import sqlite3
import threading
from datetime import UTC, datetime

MAX_TEXT_CHARS = 2000
# Schema migrations, in order: the database's PRAGMA user_version says how many have run. A release
# that needs another table or column appends a step; one that has run never changes.
MIGRATIONS = ("CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL, created TEXT NOT NULL)",)
SCHEMA_VERSION = len(MIGRATIONS)


class NoteError(ValueError):
    """A note that cannot be stored; the message says why."""


def check_text(text):
    """The text of a new note, checked: a non-empty string of at most MAX_TEXT_CHARS characters."""
    if not isinstance(text, str) or not text.strip():
        raise NoteError('"text" must be a non-empty string')
    if len(text) > MAX_TEXT_CHARS:
        raise NoteError(f'"text" is longer than {MAX_TEXT_CHARS} characters')
    return text


class NotesDB:
    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA synchronous = FULL")

    def migrate(self):
        """Runs the migrations the database has not had yet; returns how many ran."""
        with self._lock:
            done = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if done > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} has schema {done}, newer than this release's {SCHEMA_VERSION}: "
                    "deploy the release that wrote it, or a newer one"
                )
            for number, statement in enumerate(MIGRATIONS[done:], start=done + 1):
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {number}")
                self._conn.execute("COMMIT")
            return SCHEMA_VERSION - done

    def add(self, text):
        text = check_text(text)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock:
            cursor = self._conn.execute("INSERT INTO notes (text, created) VALUES (?, ?)", (text, created))
            return {"id": cursor.lastrowid, "text": text, "created": created}

    def get(self, note_id):
        with self._lock:
            row = self._conn.execute("SELECT id, text, created FROM notes WHERE id = ?", (note_id,)).fetchone()
        return dict(row) if row else None

    def latest(self, limit=100):
        with self._lock:
            rows = self._conn.execute("SELECT id, text, created FROM notes ORDER BY id DESC LIMIT ?", (limit,))
            return [dict(row) for row in rows.fetchall()]

    def ping(self):
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM notes").fetchone() is not None

    def stats(self):
        with self._lock:
            notes = self._conn.execute("SELECT count(*) FROM notes").fetchone()[0]
            schema = self._conn.execute("PRAGMA user_version").fetchone()[0]
        size = os.path.getsize(self.path) if os.path.exists(self.path) else 0
        return {"notes": notes, "schema": schema, "bytes": size}

    def close(self):
        with self._lock:
            self._conn.close()
