"""The HTTP API: health, version, and jobs that the worker computes.

    GET  /healthz        200 {"status": "ok", "version", "token": true|false} when the store answers, 503 otherwise;
                         "token" says whether API_TOKEN (a secret the deploy passes) is set, never its value
    GET  /version        {"version", "revision", "build"} from APP_VERSION, APP_REVISION, APP_BUILD
    POST /jobs           {"payload": "..."} -> 202 {"id": N}, the job is queued in the store
    GET  /jobs/<id>      {"id", "status": "queued" | "done", "result"}, 404 for an unknown id

``route`` holds all the logic and takes the store as an argument, so unit tests give it a fake;
``Handler`` only moves bytes between HTTP and ``route``.
"""

import json
import os
import re
import signal
import sys
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common.jobs import MAX_PAYLOAD_CHARS, JobStore
from common.resp import ConnectionPool, ProtocolError, RespError

MAX_BODY_BYTES = 64 * 1024
STORE_ERRORS = (OSError, RespError, ProtocolError)
_JOB_PATH = re.compile(r"^/jobs/([0-9]{1,18})$")


@dataclass
class Response:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)


def version_from_env(environ=None):
    """The version information that the image's build arguments put in its environment."""
    environ = os.environ if environ is None else environ
    return {
        "version": environ.get("APP_VERSION", "dev"),
        "revision": environ.get("APP_REVISION", "unknown"),
        "build": environ.get("APP_BUILD", "0"),
    }


def _error(status, message, **headers):
    return Response(status, {"error": message}, headers)


def _parse_job_request(body):
    """Returns (payload, None) or (None, error Response) for the body of POST /jobs."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, _error(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
    if not isinstance(data, dict) or "payload" not in data:
        return None, _error(HTTPStatus.BAD_REQUEST, 'the body must be a JSON object with a "payload" string')
    payload = data["payload"]
    if not isinstance(payload, str):
        return None, _error(HTTPStatus.BAD_REQUEST, '"payload" must be a string')
    if len(payload) > MAX_PAYLOAD_CHARS:
        return None, _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f'"payload" is longer than {MAX_PAYLOAD_CHARS}')
    return payload, None


def token_from_env(environ=None):
    """Whether the secret API_TOKEN reached the container (the value itself is never shown)."""
    environ = os.environ if environ is None else environ
    return bool(environ.get("API_TOKEN"))


def route(method, path, body, store, version, *, token=False):
    """Answers one request. ``store`` is a ``JobStore`` (or a fake), ``version`` a dict, ``token`` whether
    API_TOKEN is set."""
    path = path.split("?", 1)[0]
    job_match = _JOB_PATH.match(path)
    if path in ("/healthz", "/version") or job_match:
        allowed = "GET"
    elif path == "/jobs":
        allowed = "POST"
    else:
        return _error(HTTPStatus.NOT_FOUND, f"no such resource: {path}")
    if method != allowed:
        return _error(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed on {path}", Allow=allowed)

    if path == "/version":
        return Response(HTTPStatus.OK, dict(version))
    try:
        if path == "/healthz":
            if store.ping(timeout=2.0):
                return Response(
                    HTTPStatus.OK, {"status": "ok", "version": version.get("version"), "token": bool(token)}
                )
            return Response(HTTPStatus.SERVICE_UNAVAILABLE, {"status": "unavailable", "error": "store did not answer"})
        if path == "/jobs":
            payload, error = _parse_job_request(body)
            if error:
                return error
            job_id = store.enqueue(payload)
            return Response(HTTPStatus.ACCEPTED, {"id": job_id}, {"Location": f"/jobs/{job_id}"})
        job = store.get(int(job_match.group(1)))
    except STORE_ERRORS as exc:
        if path == "/healthz":
            return Response(HTTPStatus.SERVICE_UNAVAILABLE, {"status": "unavailable", "error": str(exc)})
        return _error(HTTPStatus.SERVICE_UNAVAILABLE, f"store unavailable: {exc}")
    if job is None:
        return _error(HTTPStatus.NOT_FOUND, f"no such job: {job_match.group(1)}")
    return Response(HTTPStatus.OK, job)


class Handler(BaseHTTPRequestHandler):
    server_version = "sample-app-api"
    protocol_version = "HTTP/1.1"
    # Seconds an idle keep-alive connection may hold its thread.
    timeout = 60

    def _handle(self):
        length = self.headers.get("Content-Length")
        try:
            length = int(length) if length else 0
        except ValueError:
            length = -1
        if length < 0:
            response = _error(HTTPStatus.BAD_REQUEST, "invalid Content-Length")
        elif length > MAX_BODY_BYTES:
            response = _error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is larger than {MAX_BODY_BYTES} bytes")
        else:
            body = self.rfile.read(length) if length else b""
            response = route(
                self.command, self.path, body, self.server.store, self.server.version, token=self.server.token
            )
        if response.status in (HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE):
            # The body may be unread: do not try to read the next request from this connection.
            self.close_connection = True
        data = json.dumps(response.body).encode("utf-8") + b"\n"
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def log_request(self, code="-", size="-"):
        # The health check asks every few seconds: log it only when it is not healthy.
        if self.path == "/healthz" and str(code) == "200":
            return
        super().log_request(code, size)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, store, version, token=False):
        self.store = store
        self.version = version
        self.token = token
        super().__init__(address, Handler)


def main():
    port = int(os.environ.get("PORT", "8080"))
    pool = ConnectionPool(os.environ.get("STORE_HOST", "store"), int(os.environ.get("STORE_PORT", "6379")), timeout=5.0)
    version = version_from_env()
    server = Server(("0.0.0.0", port), JobStore(pool), version, token_from_env())

    def stop(signum, _frame):
        print(f"api: signal {signum}, stopping", file=sys.stderr, flush=True)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"api: listening on :{port}, store {pool.host}:{pool.port}, version {json.dumps(version)}", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        pool.close()
    print("api: stopped", flush=True)
    return 0
