"""The notes database service: the SQLite file on the volume, served over HTTP on two ports.

Port 8081, the data port, for the api only (on the application's network, never published):

    GET  /healthz        200 {"status": "ok", "schema"} when the database answers, 503 otherwise
    GET  /notes          200 {"notes": [...]}, newest first (at most ?limit=N, default 100)
    POST /notes          {"text": "..."} -> 201 {"id", "text", "created"}; 400 for a bad body
    GET  /notes/<id>     200 the note, 404 for an unknown id

Port 8082, the admin port, read-only (the deploy puts it behind the host's front proxy):

    GET  /healthz        as above
    GET  /stats          200 {"notes", "schema", "bytes", "instance", "started"}

``route`` and ``admin_route`` hold the logic and take the database as an argument (unit tests give
them a database in a temporary file); the handlers only move bytes between HTTP and them.
"""

import json
import os
import re
import signal
import socket
import sqlite3
import sys
import threading
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from db.store import SCHEMA_VERSION, NoteError, NotesDB

MAX_BODY_BYTES = 16 * 1024
_NOTE_PATH = re.compile(r"^/notes/([0-9]{1,18})$")


def _error(status, message, **headers):
    return status, {"error": message}, headers


def _health(db):
    try:
        db.ping()
    except sqlite3.Error as exc:
        return HTTPStatus.SERVICE_UNAVAILABLE, {"status": "unavailable", "error": str(exc)}, {}
    return HTTPStatus.OK, {"status": "ok", "schema": SCHEMA_VERSION}, {}


def route(method, target, body, db):
    """Answers one request of the data port: (status, JSON body, headers)."""
    url = urlsplit(target)
    path = url.path
    note = _NOTE_PATH.match(path)
    allowed = {"/healthz": "GET", "/notes": "GET, POST"}.get(path, "GET" if note else None)
    if allowed is None:
        return _error(HTTPStatus.NOT_FOUND, f"no such resource: {path}")
    if method not in allowed.split(", "):
        return _error(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed on {path}", Allow=allowed)
    if path == "/healthz":
        return _health(db)
    if note:
        found = db.get(int(note.group(1)))
        return (HTTPStatus.OK, found, {}) if found else _error(HTTPStatus.NOT_FOUND, f"no note {note.group(1)}")
    if method == "GET":
        try:
            limit = int(parse_qs(url.query).get("limit", ["100"])[0])
        except ValueError:
            return _error(HTTPStatus.BAD_REQUEST, "limit must be a number")
        return HTTPStatus.OK, {"notes": db.latest(max(1, min(limit, 1000)))}, {}
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _error(HTTPStatus.BAD_REQUEST, 'the body must be a JSON object with a "text" string')
    if not isinstance(data, dict):
        return _error(HTTPStatus.BAD_REQUEST, 'the body must be a JSON object with a "text" string')
    try:
        created = db.add(data.get("text"))
    except NoteError as exc:
        return _error(HTTPStatus.BAD_REQUEST, str(exc))
    return HTTPStatus.CREATED, created, {"Location": f"/notes/{created['id']}"}


def admin_route(method, target, db, info):
    """Answers one request of the read-only admin port; ``info`` is {"instance", "started"}."""
    path = urlsplit(target).path
    if path not in ("/healthz", "/stats"):
        return _error(HTTPStatus.NOT_FOUND, f"no such resource: {path}")
    if method != "GET":
        return _error(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed on {path}", Allow="GET")
    if path == "/healthz":
        return _health(db)
    return HTTPStatus.OK, {**db.stats(), **info}, {}


class Handler(BaseHTTPRequestHandler):
    server_version = "notes-db"
    protocol_version = "HTTP/1.1"

    def _answer(self, status, body, headers):
        raw = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return self._answer(*_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the body is too large"))
        body = self.rfile.read(length) if length else b""
        if self.server.admin:
            return self._answer(*admin_route(self.command, self.path, self.server.db, self.server.info))
        return self._answer(*route(self.command, self.path, body, self.server.db))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    def log_request(self, code="-", size="-"):
        if self.path == "/healthz" and str(code) == "200":  # the health checks, every few seconds
            return
        super().log_request(code, size)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, db, admin, info):
        self.db, self.admin, self.info = db, admin, info
        super().__init__(address, Handler)


def main():
    path = os.environ.get("DB_PATH", "/var/lib/notes/notes.db")
    db = NotesDB(path)
    ran = db.migrate()
    info = {"instance": socket.gethostname(), "started": datetime.now(UTC).isoformat(timespec="seconds")}
    servers = [
        Server(("0.0.0.0", int(os.environ.get("PORT", "8081"))), db, False, info),
        Server(("0.0.0.0", int(os.environ.get("ADMIN_PORT", "8082"))), db, True, info),
    ]

    def stop(signum, _frame):
        print(f"db: signal {signum}, stopping", file=sys.stderr, flush=True)
        for server in servers:
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"db: {path}, schema {SCHEMA_VERSION} ({ran} migration(s) ran), {db.stats()['notes']} notes", flush=True)
    admin = threading.Thread(target=servers[1].serve_forever, kwargs={"poll_interval": 0.5}, daemon=True)
    admin.start()
    try:
        servers[0].serve_forever(poll_interval=0.5)
    finally:
        admin.join(timeout=5)
        for server in servers:
            server.server_close()
        db.close()
    print("db: stopped", flush=True)
    return 0
