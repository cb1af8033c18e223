"""The images' health checks (common/health.sh), run the way Docker runs them."""

import http.server
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest

HEALTH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "common", "health.sh")


def check(*args):
    proc = subprocess.run(["bash", HEALTH, *args], check=False, capture_output=True, text=True, timeout=30)
    return proc.returncode, proc.stdout.strip()


class HeartbeatTests(unittest.TestCase):
    def setUp(self):
        handle, self.path = tempfile.mkstemp()
        os.close(handle)
        self.addCleanup(os.unlink, self.path)

    def test_fresh(self):
        code, message = check("heartbeat", self.path, "10")
        self.assertEqual(code, 0, message)
        self.assertIn("heartbeat is", message)

    def test_old(self):
        old = time.time() - 60
        os.utime(self.path, (old, old))
        code, message = check("heartbeat", self.path, "10")
        self.assertEqual(code, 1)
        self.assertIn("old (limit 10s)", message)

    def test_missing(self):
        code, message = check("heartbeat", self.path + ".missing", "10")
        self.assertEqual(code, 1)
        self.assertIn("no heartbeat", message)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = 200 if self.path == "/healthz" else 503
        body = b'{"status": "ok"}' if status == 200 else b'{"status": "store unreachable"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class HttpTests(unittest.TestCase):
    def setUp(self):
        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = str(self.server.server_address[1])
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)

    def test_2xx_is_healthy(self):
        code, message = check("http", self.port, "/healthz")
        self.assertEqual(code, 0, message)
        self.assertIn("200", message)

    def test_an_error_status_is_unhealthy_and_says_why(self):
        code, message = check("http", self.port, "/other")
        self.assertEqual(code, 1)
        self.assertIn("503", message)
        self.assertIn("store unreachable", message)

    def test_nothing_listening_is_unhealthy(self):
        with socket.socket() as unused:  # a port bound but never listening: connections are refused
            unused.bind(("127.0.0.1", 0))
            code, message = check("http", str(unused.getsockname()[1]), "/healthz")
        self.assertEqual(code, 1)
        self.assertIn("nothing listens", message)

    def test_wrong_usage_exits_2(self):
        self.assertEqual(check("http", self.port)[0], 2)
        self.assertEqual(check("ping", self.port, "/healthz")[0], 2)
