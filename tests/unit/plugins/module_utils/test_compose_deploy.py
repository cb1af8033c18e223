"""compose_deploy's pure logic: .env text, pinning checks, health words, plans, smoke checks, the lock."""

import http.server
import json
import threading

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_deployer import check_images
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_host import (
    health_output,
    health_words,
    parse_json_lines,
    service_state,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.deploy import (
    DeployError,
    env_file_text,
    overrides_text,
    plan_services,
    smoke_check_spec,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.http_check import run_smoke_check

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
MANIFEST = {
    "release_id": "app-1.0.0-b1-0123456789ab",
    "services": {"api": {"image": "reg1:5000/app/api@" + DIGEST, "digest": DIGEST}},
}


def test_env_file_text_is_sorted_literal_and_refuses_bad_input():
    text = env_file_text({"B": "x$y", "A": 8080, "C": "it's", "D": None, "E": True})
    lines = text.splitlines()[1:]
    assert lines == ["A='8080'", "B='x$y'", 'C="it\'s"', "D=''", "E='true'"]
    with pytest.raises(DeployError, match="not a variable name"):
        env_file_text({"1BAD": "x"})
    with pytest.raises(DeployError, match="line break"):
        env_file_text({"A": "x\ny"})


def test_overrides_text_is_deterministic_json_or_none():
    assert overrides_text({}) is None
    assert overrides_text(None) is None
    text = overrides_text({"services": {"api": {"ports": ["8081:8080"]}}})
    assert json.loads(text) == {"services": {"api": {"ports": ["8081:8080"]}}}
    assert text == overrides_text({"services": {"api": {"ports": ["8081:8080"]}}})


def test_check_images_accepts_release_and_pinned_services():
    effective = {
        "services": {
            "api": {"image": "reg1:5000/app/api@" + DIGEST},
            "cache": {"image": "reg1:5000/lib/redis@" + OTHER},
            "tool": {"image": "reg1:5000/lib/tool:1.2"},
        }
    }
    images = check_images(effective, MANIFEST, ["tool"], "qa1")
    assert images["api"] == "reg1:5000/app/api@" + DIGEST
    assert set(images) == {"api", "cache", "tool"}


def test_check_images_refuses_unpinned_and_changed_release_images():
    effective = {"services": {"api": {"image": "reg1:5000/app/api:latest"}, "tool": {"image": "tool:1"}}}
    with pytest.raises(DeployError) as info:
        check_images(effective, MANIFEST, [], "qa1")
    message = str(info.value)
    assert "on qa1, nothing was changed" in message
    assert "service 'api' would run 'reg1:5000/app/api:latest'" in message
    assert "service 'tool'" in message
    assert "allow_unpinned" in message
    no_image = {"services": {"api": {"image": MANIFEST["services"]["api"]["image"]}, "worker": {}}}
    with pytest.raises(DeployError, match="'worker'"):
        check_images(no_image, MANIFEST, [], "h")


def test_parse_json_lines_reads_both_forms():
    assert parse_json_lines("") == []
    assert parse_json_lines('[{"a": 1}]') == [{"a": 1}]
    assert parse_json_lines('{"a": 1}\n{"a": 2}\n') == [{"a": 1}, {"a": 2}]


def container(status="running", health=None):
    state = {"Status": status}
    if health:
        state["Health"] = {"Status": health}
    return {"State": state}


@pytest.mark.parametrize(
    ("containers", "health", "ready", "failed"),
    [
        ([], "missing", False, False),
        ([container()], "running", True, False),
        ([container(health="healthy")], "healthy", True, False),
        ([container(health="healthy"), container(health="starting")], "starting", False, False),
        ([container(health="healthy"), container(health="unhealthy")], "unhealthy", False, True),
        ([container("restarting")], "restarting", False, False),
        ([container("exited")], "exited", False, False),
        ([container("dead")], "dead", False, True),
    ],
)
def test_service_state(containers, health, ready, failed):
    assert service_state(containers) == {"health": health, "ready": ready, "failed": failed}


def test_plan_services_marks_changes_and_new_and_gone_services():
    plan = plan_services({"api": DIGEST, "old": DIGEST}, {"api": OTHER, "new": DIGEST})
    assert plan["api"] == {"before_digest": DIGEST, "digest": OTHER, "changed": True}
    assert plan["old"]["changed"] is True
    assert plan["old"]["digest"] is None
    assert plan["new"]["before_digest"] is None
    assert plan_services({"api": DIGEST}, {"api": DIGEST})["api"]["changed"] is False


def test_smoke_check_spec_defaults_and_errors():
    assert smoke_check_spec("http://h/x") == {
        "url": "http://h/x",
        "status": 200,
        "contains": None,
        "timeout": 5,
        "retries": 5,
        "delay": 2,
    }
    assert smoke_check_spec({"url": "http://h", "status": 204, "retries": None})["retries"] == 5
    with pytest.raises(DeployError, match="needs a url"):
        smoke_check_spec({"status": 200})
    with pytest.raises(DeployError, match="not an http"):
        smoke_check_spec({"url": "ftp://h"})
    with pytest.raises(DeployError, match="unknown key"):
        smoke_check_spec({"url": "http://h", "expect": 1})


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = 200 if self.path == "/ok" else 503
        body = b'{"version": "1.0.1"}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(name="server")
def server_fixture():
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_run_smoke_check_against_a_local_server(server):
    ok = run_smoke_check(smoke_check_spec({"url": server + "/ok", "contains": "1.0.1"}))
    assert ok == {"url": server + "/ok", "ok": True, "status": 200, "attempts": 1, "msg": "ok"}
    wrong = run_smoke_check(smoke_check_spec({"url": server + "/ok", "contains": "2.0", "retries": 2, "delay": 0}))
    assert not wrong["ok"]
    assert wrong["attempts"] == 2
    assert "does not contain '2.0'" in wrong["msg"]
    down = run_smoke_check(smoke_check_spec({"url": server + "/down", "retries": 1}))
    assert down["msg"] == "status 503, expected 200"


def sick(output, code=1, status="unhealthy"):
    log = [{"ExitCode": 0, "Output": "GET /healthz: HTTP/1.0 200 OK"}, {"ExitCode": code, "Output": output}]
    return {"Name": "/app-api-1", "State": {"Status": "running", "Health": {"Status": status, "Log": log}}}


def test_the_health_checks_last_output_is_named_on_one_line():
    said = health_output([sick('GET /healthz: HTTP/1.0 503 Service Unavailable\n{"status": "store unreachable"}')])
    assert said == 'exit 1: GET /healthz: HTTP/1.0 503 Service Unavailable {"status": "store unreachable"}'
    assert health_words("api", [sick("boom")], "unhealthy") == "api is unhealthy (its health check said: exit 1: boom)"


def test_no_health_output_for_healthy_containers_or_without_a_log():
    assert health_output([sick("fine", code=0, status="healthy")]) is None
    assert health_output([{"State": {"Status": "exited"}}]) is None
    assert health_words("worker", [{"State": {"Status": "exited"}}], "exited") == "worker is exited"
    assert health_output([sick("x" * 500)]).endswith("x" * 300 + "...")
