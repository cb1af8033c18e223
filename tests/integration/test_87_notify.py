"""deploy_notify against a real HTTP receiver: exactly one well-formed message per event (a deploy that succeeded,
one rolled back, one that failed, a status alert); a receiver that is down never fails the deploy; the webhook's
secret never shows, at -vvv either."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time

import pytest

from .cd_releases import manifest_path, release
from .conftest import on_host, playbook

SECRET = f"hook-secret-{time.time_ns()}"


class Receiver:
    """An HTTP server on the controller that keeps every POST it gets."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        received = self.messages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"path": self.path, "type": self.headers.get("Content-Type"), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{SECRET}"

    def take(self) -> list[dict]:
        """The messages since the last take, as JSON."""
        taken = [json.loads(m["body"]) for m in self.messages]
        assert all(m["type"] == "application/json" and m["path"] == f"/hooks/{SECRET}" for m in self.messages)
        self.messages.clear()
        return taken


@pytest.fixture(scope="module")
def receiver():
    each = Receiver()
    yield each
    each.server.shutdown()


def notify_vars(tmp_path, *hooks: dict):
    path = tmp_path / "notify.json"
    path.write_text(json.dumps({"deploy_notify": list(hooks)}))
    return f"@{path}"


def qa(patch: int, *extra: str):
    return playbook("outerloop.docker.deploy", "-e", f"outerloop_release_path={manifest_path(patch)}", *extra,
                    inventory="inventories/qa")  # fmt: skip


def well_formed(message: dict, event: str) -> None:
    assert message["schema"] == "outerloop.docker/notification/v1" and message["event"] == event, message
    assert message["environment"] == "qa" and message["project"] == "sample-app", message
    assert message["message"] and message["time"].endswith("Z") and message["run"]["user"], message


@pytest.fixture(scope="module")
def qa_on_release_0(releases):
    run = qa(0)
    assert run.rc == 0, run.out[-3000:]


def test_one_message_per_deploy_event(qa_on_release_0, receiver, tmp_path):
    hooks = notify_vars(tmp_path, {"url": receiver.url})
    receiver.take()

    ok = qa(1, "-e", hooks)
    assert ok.rc == 0, ok.out[-3000:]
    (done,) = receiver.take()
    well_formed(done, "succeeded")
    assert done["release_id"] == release(1)["release_id"] and done["hosts"] == ["qa1"]

    broken = qa(2, "-e", hooks)
    assert broken.rc != 0
    (back,) = receiver.take()
    well_formed(back, "rolled_back")
    assert back["release_id"] == release(2)["release_id"] and "its health check said" in back["message"], back

    on_host("reg1", "systemctl", "stop", "docker-registry", check=True)
    try:
        failed = qa(0, "-e", hooks)
    finally:
        on_host("reg1", "systemctl", "start", "docker-registry", check=True)
    assert failed.rc != 0
    (fail,) = receiver.take()
    well_formed(fail, "failed")
    assert "reg1:5000" in fail["message"], fail
    for run in (ok, broken, failed):
        assert SECRET not in run.out


def test_a_status_alert_is_one_message_in_the_format_asked(qa_on_release_0, receiver, tmp_path):
    hooks = notify_vars(tmp_path, {"url": receiver.url, "format": "slack", "events": ["alert"]})
    store = on_host("qa1", "docker", "ps", "-q", "--filter", "label=com.docker.compose.project=sample-app",
                    "--filter", "label=com.docker.compose.service=store").stdout.split()[0]  # fmt: skip
    image = on_host("qa1", "docker", "inspect", "-f", "{{.Image}}", store).stdout.strip()
    on_host("qa1", "docker", "run", "-d", "--name", "intruder", "--label", "com.docker.compose.project=sample-app",
            "--label", "com.docker.compose.service=intruder", "--no-healthcheck", image, "sleep", "600",
            check=True)  # fmt: skip
    receiver.take()
    try:
        run = playbook("outerloop.docker.status", "-e", "status_fail_on=drift", "-e", f"status_dir={tmp_path}",
                       "-e", hooks, inventory="inventories/qa")  # fmt: skip
    finally:
        on_host("qa1", "docker", "rm", "-f", "intruder")
    assert run.rc != 0
    (alert,) = receiver.take()
    assert set(alert) == {"text"} and alert["text"].startswith("*qa: status ALERT"), alert
    assert "intruder (extra)" in alert["text"], alert


def test_a_receiver_that_is_down_never_fails_the_deploy(qa_on_release_0, tmp_path):
    with socket_closed() as port:
        url = f"http://127.0.0.1:{port}/hooks/{SECRET}"
        run = qa(0, "-vvv", "-e", notify_vars(tmp_path, {"url": url, "retries": 1, "timeout": 2}))
    assert run.rc == 0, run.out[-3000:]
    said = " ".join(run.out.split())
    unsent = "1 of 1 notification(s) of the event succeeded could not be sent: 127.0.0.1 (status -1)"
    assert unsent in said, said[-3000:]
    assert SECRET not in run.out


class socket_closed:
    """A local port where nothing listens (bound, never listening: connections are refused)."""

    def __enter__(self) -> int:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()
