"""The lab cluster's front proxy: what a load balancer does in front of a real swarm.

This machine's kernel has no IPVS, so the swarm's routing mesh and virtual IPs cannot route here. The
lab's cluster environment runs this proxy as a global service instead, published in host mode on
every node; it sends each request to a task of the backend service, found by the swarm's DNS
(``tasks.SERVICE``, ``endpoint_mode: dnsrr``). A task that refuses or cannot be reached is skipped
and the next one tried, as a load balancer's health check would, so a rolling update that starts a
new task before it stops the old one loses no request. A request that reached a backend and failed
there is not sent again unless its method is safe to repeat.

    EDGE_BACKEND=tasks.api:8080 EDGE_PORT=8080 python3 edge.py

Only the Python standard library: the image is the lab's Debian base with python3.
"""

import http.client
import os
import random
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BACKEND_HOST, BACKEND_PORT = os.environ.get("EDGE_BACKEND", "tasks.api:8080").rsplit(":", 1)
PORT = int(os.environ.get("EDGE_PORT", "8080"))
# How long a request may wait for a backend to answer at all, trying one after the other.
RETRY_SECONDS = float(os.environ.get("EDGE_RETRY_SECONDS", "15"))
CONNECT_TIMEOUT = float(os.environ.get("EDGE_CONNECT_TIMEOUT", "0.5"))
READ_TIMEOUT = float(os.environ.get("EDGE_READ_TIMEOUT", "30"))
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def backends():
    """The addresses of the backend's tasks, in random order; [] when the name does not resolve."""
    try:
        found = socket.getaddrinfo(BACKEND_HOST, int(BACKEND_PORT), socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    addresses = sorted({info[4][0] for info in found})
    random.shuffle(addresses)
    return addresses


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "outerloop-lab-edge"

    def forward(self):
        if self.path == "/edge/healthz":
            return self.reply(200, b'{"status": "ok"}\n')
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        headers["Host"] = f"{BACKEND_HOST}:{BACKEND_PORT}"
        deadline = time.monotonic() + RETRY_SECONDS
        last = "no task of the backend resolves"
        while True:
            for address in backends():
                conn = http.client.HTTPConnection(address, int(BACKEND_PORT), timeout=CONNECT_TIMEOUT)
                sent = False
                try:
                    conn.connect()
                    conn.sock.settimeout(READ_TIMEOUT)
                    conn.request(self.command, self.path, body=body, headers=headers)
                    sent = True
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    last = f"{address}: {exc}"
                    if sent and self.command not in SAFE_METHODS:
                        return self.reply(502, f'{{"error": "backend failed: {last}"}}\n'.encode())
                    continue
                finally:
                    conn.close()
                passed = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}]
                return self.reply(response.status, data, passed)
            if time.monotonic() >= deadline:
                return self.reply(502, f'{{"error": "no backend answered: {last}"}}\n'.encode())
            time.sleep(0.2)

    def reply(self, status, data, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if not any(header[0].lower() == "content-type" for header in headers):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = forward

    def log_request(self, code="-", size="-"):
        # Only what went wrong: the proxy answers many requests a second during a test.
        if str(code).startswith("5"):
            sys.stderr.write(f"{self.requestline} -> {code}\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    server = Server(("0.0.0.0", PORT), Handler)
    print(f"edge: port {PORT} -> {BACKEND_HOST}:{BACKEND_PORT}", flush=True)
    server.serve_forever()
