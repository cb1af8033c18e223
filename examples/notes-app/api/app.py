"""The notes HTTP API, the application's public face (stateless: its data lives in the db service).

    GET  /healthz        200 {"status": "ok", "version", "environment", "writes"} when the database
                         answers, 503 otherwise; "writes" says whether NOTES_WRITE_TOKEN (a secret the
                         deploy passes) is set, never its value
    GET  /version        {"version", "revision", "build"} from APP_VERSION, APP_REVISION, APP_BUILD
    GET  /notes          {"notes": [{"id", "text", "created"}, ...]}, newest first
    POST /notes          {"text": "..."} with "Authorization: Bearer NOTES_WRITE_TOKEN" -> 201 the note;
                         401 without the token, 503 when no token is set (writes are off)
    GET  /notes/<id>     the note, 404 for an unknown id

``route`` holds the logic and takes the database client as an argument, so unit tests give it a fake;
``Handler`` only moves bytes between HTTP and ``route``.
"""

import hmac
import json
import os
import re
import signal
import sys
import threading
import urllib.error
import urllib.request
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY_BYTES = 16 * 1024
_NOTE_PATH = re.compile(r"^/notes/([0-9]{1,18})$")


class DbError(Exception):
    """The db service did not answer, or answered with something other than JSON."""


class DbClient:
    """The db service's data port over HTTP: request(method, path, body) -> (status, JSON body)."""

    def __init__(self, base_url, timeout=5.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except OSError as exc:
            raise DbError(f"the database at {self.base_url} did not answer: {exc}") from exc
        try:
            return status, json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            raise DbError(f"the database at {self.base_url} answered {status} without JSON") from exc


def settings_from_env(environ=None):
    """What the api takes from its environment: the version the build baked in, the environment's name and
    the write token (a secret)."""
    environ = os.environ if environ is None else environ
    return {
        "version": {
            "version": environ.get("APP_VERSION", "dev"),
            "revision": environ.get("APP_REVISION", "unknown"),
            "build": environ.get("APP_BUILD", "0"),
        },
        "environment": environ.get("NOTES_ENVIRONMENT", "dev"),
        "token": environ.get("NOTES_WRITE_TOKEN", ""),
    }


def _error(status, message, **headers):
    return status, {"error": message}, headers


def authorized(header, token):
    """Whether an Authorization header carries the write token (compared in constant time)."""
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].encode("utf-8"), token.encode("utf-8"))


def route(method, path, body, db, settings, *, authorization=None):
    """Answers one request: (status, JSON body, headers). ``db`` is a ``DbClient`` (or a fake)."""
    target, path = path, path.split("?", 1)[0]
    note = _NOTE_PATH.match(path)
    allowed = {"/healthz": "GET", "/version": "GET", "/notes": "GET, POST"}.get(path, "GET" if note else None)
    if allowed is None:
        return _error(HTTPStatus.NOT_FOUND, f"no such resource: {path}")
    if method not in allowed.split(", "):
        return _error(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed on {path}", Allow=allowed)
    if path == "/version":
        return HTTPStatus.OK, dict(settings["version"]), {}
    if method == "POST":
        if not settings["token"]:
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, "writes are off: NOTES_WRITE_TOKEN is not set")
        if not authorized(authorization, settings["token"]):
            return _error(HTTPStatus.UNAUTHORIZED, "a write needs the header Authorization: Bearer TOKEN")
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(HTTPStatus.BAD_REQUEST, 'the body must be a JSON object with a "text" string')
    try:
        if path == "/healthz":
            status, answer = db.request("GET", "/healthz")
            if status != HTTPStatus.OK:
                return HTTPStatus.SERVICE_UNAVAILABLE, {"status": "unavailable", "error": answer}, {}
            body = {"status": "ok", "version": settings["version"]["version"]}
            body.update(environment=settings["environment"], writes=bool(settings["token"]))
            return HTTPStatus.OK, body, {}
        if method == "POST":
            status, answer = db.request("POST", "/notes", data)
            headers = {"Location": f"/notes/{answer['id']}"} if status == HTTPStatus.CREATED else {}
            return status, answer, headers
        return (*db.request("GET", target), {})
    except DbError as exc:
        if path == "/healthz":
            return HTTPStatus.SERVICE_UNAVAILABLE, {"status": "unavailable", "error": str(exc)}, {}
        return _error(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))


class Handler(BaseHTTPRequestHandler):
    server_version = "notes-api"
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
        auth = self.headers.get("Authorization")
        return self._answer(
            *route(self.command, self.path, body, self.server.db, self.server.settings, authorization=auth)
        )

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    def log_request(self, code="-", size="-"):
        if self.path == "/healthz" and str(code) == "200":  # the health checks, every few seconds
            return
        super().log_request(code, size)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, db, settings):
        self.db, self.settings = db, settings
        super().__init__(address, Handler)


def main():
    port = int(os.environ.get("PORT", "8080"))
    db = DbClient(os.environ.get("DB_URL", "http://db:8081"))
    settings = settings_from_env()
    server = Server(("0.0.0.0", port), db, settings)

    def stop(signum, _frame):
        print(f"api: signal {signum}, stopping", file=sys.stderr, flush=True)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"api: listening on :{port}, database {db.base_url}, version {json.dumps(settings['version'])}", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
    print("api: stopped", flush=True)
    return 0
