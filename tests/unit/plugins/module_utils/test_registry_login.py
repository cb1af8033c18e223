# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""run_module with a stand-in module object and a stand-in engine check: no Docker needed."""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import urllib.error
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils import _registry_login
from ansible_collections.outerloop.docker.plugins.module_utils._domain import registry_client as _registry_client
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_auth import login_hint
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import sanitize
from ansible_collections.outerloop.docker.plugins.module_utils._registry_login import RegistryLoginError, run_module
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils import fake_module


class FakeModule(fake_module.FakeModule):
    DEFAULTS: ClassVar[dict] = {
        "registry": "reg1:5000",
        "username": "ci",
        "password": "s3cr:t",
        "state": "present",
        "user": None,
        "config_path": None,
        "docker_host": "unix:///var/run/docker.sock",
        "timeout": 60,
    }


@pytest.fixture
def engine(monkeypatch):
    """Replaces the engine check; records calls; fails when ``engine.error`` is set."""

    class Engine:
        def __init__(self):
            self.calls = []
            self.error = None
            self.token = None

    state = Engine()

    def verify(docker_host, registry, username, password, timeout):
        state.calls.append((docker_host, registry, username))
        if state.error:
            raise RegistryLoginError(state.error)
        return state.token

    monkeypatch.setattr(_registry_login, "verify_login", verify)
    monkeypatch.setattr(_registry_login, "HAS_DOCKER", True)
    return state


def run(**kwargs):
    module = FakeModule(**kwargs)
    with pytest.raises(fake_module.Exited):
        run_module(module)
    return module


def auth(user, password):
    return base64.b64encode((f"{user}:{password}").encode()).decode()


def test_check_mode_predicts_change_and_writes_nothing(tmp_path, engine):
    path = tmp_path / "d" / "config.json"
    module = run(check_mode=True, config_path=str(path))
    assert not module.failed
    assert module.result["changed"] is True
    assert not (tmp_path / "d").exists()
    assert engine.calls == [("unix:///var/run/docker.sock", "reg1:5000", "ci")]


def test_present_then_idempotent(tmp_path, engine):
    path = tmp_path / "config.json"
    first = run(config_path=str(path), registry="https://reg1:5000/")
    assert first.result == {"changed": True, "registry": "reg1:5000", "config_path": str(path), "username": "ci"}
    assert json.loads(path.read_text()) == {"auths": {"reg1:5000": {"auth": auth("ci", "s3cr:t")}}}
    mtime = os.stat(path).st_mtime_ns
    for check_mode in (True, False):
        again = run(config_path=str(path), check_mode=check_mode)
        assert again.result["changed"] is False
    assert os.stat(path).st_mtime_ns == mtime
    assert len(engine.calls) == 3


def test_failed_verification_writes_nothing_and_names_next_step(tmp_path, engine):
    path = tmp_path / "config.json"
    original = json.dumps({"auths": {"reg1:5000": {"auth": auth("ci", "old")}}}).encode()
    path.write_bytes(original)
    engine.error = "Login to registry reg1:5000 as user 'ci' failed; unauthorized"
    module = run(config_path=str(path))
    assert module.failed
    assert "reg1:5000" in module.result["msg"] and "Nothing was written" in module.result["msg"]
    assert "s3cr:t" not in json.dumps(module.result)
    assert path.read_bytes() == original


def test_credential_store_fails_before_contacting_engine(tmp_path, engine):
    path = tmp_path / "config.json"
    path.write_text('{"credsStore": "pass"}')
    module = run(config_path=str(path))
    assert module.failed
    assert "credsStore" in module.result["msg"]
    assert engine.calls == []


def test_identity_token_is_stored_and_masked(tmp_path, engine):
    engine.token = "tok-xyz"
    path = tmp_path / "config.json"
    module = run(config_path=str(path))
    assert module.result["changed"] is True
    assert "tok-xyz" in module.no_log_values
    assert json.loads(path.read_text())["auths"]["reg1:5000"] == {"auth": auth("ci", ""), "identitytoken": "tok-xyz"}
    engine.token = "tok-other"
    assert run(config_path=str(path)).result["changed"] is False


def test_absent_removes_entry_without_engine(tmp_path, engine, monkeypatch):
    monkeypatch.setattr(_registry_login, "HAS_DOCKER", False)
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {"reg1:5000": {"auth": auth("ci", "x")}, "b:1": {}}}))
    module = run(config_path=str(path), state="absent", username=None, password=None, diff=True)
    assert module.result["changed"] is True
    assert "username" not in module.result
    assert module.result["diff"]["after"] == {"registry": "reg1:5000", "logged_in": False}
    assert json.loads(path.read_text()) == {"auths": {"b:1": {}}}
    assert run(config_path=str(path), state="absent").result["changed"] is False
    assert engine.calls == []


def test_present_without_sdk_fails_with_install_hint(tmp_path, monkeypatch):
    monkeypatch.setattr(_registry_login, "HAS_DOCKER", False)
    module = run(config_path=str(tmp_path / "config.json"))
    assert module.failed
    assert "python3-docker" in module.result["msg"]


def test_diff_hides_secrets(tmp_path, engine):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {"reg1:5000": {"auth": auth("ci", "old")}}}))
    module = run(config_path=str(path), diff=True)
    text = json.dumps(module.result)
    assert module.result["changed"] is True
    for secret in ("s3cr:t", "old", auth("ci", "s3cr:t"), auth("ci", "old")):
        assert secret not in text


def test_sanitize_masks_plain_and_encoded_forms():
    text = 'bad "p@ss w" p%40ss%20w ' + auth("ci", "p@ss w")
    cleaned = sanitize(text, ["p@ss w", auth("ci", "p@ss w"), None, ""])
    assert "p@ss" not in cleaned and "p%40ss" not in cleaned and auth("ci", "p@ss w") not in cleaned
    assert cleaned.startswith("bad ")


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            'Get "https://r:5443/v2/": x509: certificate signed by unknown authority',
            "/etc/docker/certs.d/r:5443/ca.crt",
        ),
        ("unauthorized: incorrect username or password", "username and password"),
        ("dial tcp: lookup r: no such host", "reachable"),
        ("http: server gave HTTP response to HTTPS client", "insecure-registries"),
        ("something else", "/etc/docker/certs.d/r:5443/ca.crt"),
    ],
)
def test_login_hint(text, expected):
    assert expected in login_hint("r:5443", text)


# --- state=verified: the preflight check from this host, against a scripted registry ----------


class ScriptedRegistry:
    """Answers ``GET /v2/`` like distribution with htpasswd (Basic) or a token service (Bearer); ``failure``
    is an exception every request raises instead (a network or TLS failure)."""

    def __init__(self, scheme="basic", user="ci", password="s3cr:t", failure=None, status=200):
        self.scheme, self.user, self.password, self.failure, self.status = scheme, user, password, failure, status
        self.requests = []

    def __call__(self, method, url, headers, data=None, limit=None):
        self.requests.append((method, url, dict(headers)))
        if self.failure is not None:
            raise self.failure
        good = "Basic " + auth(self.user, self.password)
        if url.startswith("https://auth.example/"):
            if headers.get("Authorization") != good:
                return 401, {}, b'{"details": "incorrect username or password"}'
            return 200, {}, b'{"token": "tok-123"}'
        if self.scheme is None:
            return self.status, {}, b"{}"
        if headers.get("Authorization") not in (good, "Bearer tok-123"):
            challenge = (
                'Basic realm="Registry Realm"'
                if self.scheme == "basic"
                else 'Bearer realm="https://auth.example/token",service="reg1:5000"'
            )
            return 401, {"www-authenticate": challenge}, b'{"errors":[{"code":"UNAUTHORIZED","message":"auth"}]}'
        return self.status, {}, b"{}"


def untrusted() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError("certificate verify failed")
    error.verify_message = "unable to get local issuer certificate"
    return error


@pytest.fixture
def registry(monkeypatch):
    """The registry every check of run_module talks to (the client's transport replaced)."""
    scripted = ScriptedRegistry()
    monkeypatch.setattr(_registry_client, "urllib_transport", lambda context, timeout: scripted)
    return scripted


def verified(**kwargs):
    return run(state="verified", **kwargs)


def test_verified_accepts_good_credentials_and_changes_nothing(tmp_path, registry, engine):
    for check_mode in (False, True):
        module = verified(check_mode=check_mode, config_path=str(tmp_path / "never-read.json"))
        assert not module.failed, module.result
        assert module.result == {
            "changed": False,
            "registry": "reg1:5000",
            "config_path": None,
            "username": "ci",
            "authenticated": True,
            "credentials_from": "the module options",
        }
    assert not (tmp_path / "never-read.json").exists()
    assert engine.calls == []  # no Docker Engine involved
    first, retried = registry.requests[:2]
    assert first[1] == "https://reg1:5000/v2/" and "Authorization" not in first[2]
    assert retried[2]["Authorization"] == "Basic " + auth("ci", "s3cr:t")


def test_verified_wrong_password_names_registry_user_host_and_next_step(registry):
    registry.password = "the-right-one"
    module = verified()
    assert module.failed
    assert module.result["reason"] == "credentials"
    assert module.result["changed"] is False
    msg = module.result["msg"]
    for part in ("reg1:5000", "'ci'", socket.gethostname(), "rejected the credentials", "registry_login"):
        assert part in msg, msg
    assert "s3cr:t" not in json.dumps(module.result)
    assert {"s3cr:t", auth("ci", "s3cr:t")} <= module.no_log_values


def test_verified_reads_the_stored_login_and_hides_it(tmp_path, registry):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {"https://reg1:5000": {"auth": auth("builder", "stored-pw")}}}))
    registry.user, registry.password = "builder", "stored-pw"
    module = verified(username=None, password=None, config_path=str(path))
    assert not module.failed, module.result
    assert module.result["username"] == "builder"
    assert module.result["credentials_from"] == str(path)
    assert module.result["config_path"] == str(path)
    assert "stored-pw" in module.no_log_values
    assert "stored-pw" not in json.dumps(module.result)


def test_verified_stale_stored_login_names_the_file(tmp_path, registry):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {"reg1:5000": {"auth": auth("builder", "rotated-away")}}}))
    registry.user = "builder"
    module = verified(username=None, password=None, config_path=str(path))
    assert module.result["reason"] == "credentials"
    assert f"user 'builder' from {path}" in module.result["msg"]
    assert "rotated-away" not in json.dumps(module.result)


def test_verified_without_a_stored_login(tmp_path, registry):
    module = verified(username=None, password=None, config_path=str(tmp_path / "config.json"))
    assert module.result["reason"] == "login_required"
    assert "requires a login" in module.result["msg"]
    assert "holds none for reg1:5000" in module.result["msg"]


def test_verified_registry_that_asks_for_nothing(registry):
    registry.scheme = None
    module = verified(username=None, password=None, config_path="/nonexistent/config.json")
    assert module.result["authenticated"] is False
    assert module.result["credentials_from"] is None


def test_verified_bearer_token_without_a_scope(registry):
    registry.scheme = "bearer"
    module = verified()
    assert module.result["authenticated"] is True
    token_request = next(r for r in registry.requests if r[1].startswith("https://auth.example/"))
    assert parse_qs(urlparse(token_request[1]).query) == {"service": ["reg1:5000"], "account": ["ci"]}
    assert "tok-123" in module.no_log_values


def test_verified_wrong_password_at_the_token_service(registry):
    registry.scheme, registry.password = "bearer", "other"
    module = verified()
    assert module.result["reason"] == "credentials"
    assert "token service auth.example" in module.result["msg"]


@pytest.mark.parametrize(
    "failure, reason, words",
    [
        (urllib.error.URLError(ConnectionRefusedError(111, "refused")), "unreachable", ["connection refused"]),
        (urllib.error.URLError(socket.gaierror(-2, "Name or service not known")), "unreachable", ["host name"]),
        (
            urllib.error.URLError(untrusted()),
            "tls",
            ["TLS certificate not trusted", "/etc/docker/certs.d/reg1:5000/ca.crt", "no restart needed"],
        ),
    ],
    ids=["refused", "unknown host", "untrusted certificate"],
)
def test_verified_unreachable_and_untrusted_are_told_apart(registry, failure, reason, words):
    registry.failure = failure
    module = verified()
    assert module.result["reason"] == reason
    for word in ["reg1:5000", *words]:
        assert word in module.result["msg"]
    assert "ca_path" not in module.result["msg"]  # not an option of registry_login: the engine would not read it


def test_verified_not_a_registry(registry):
    registry.scheme, registry.status = None, 404
    module = verified()
    assert module.result["reason"] == "error"
    assert "Registry HTTP API v2" in module.result["msg"]


def test_verified_bad_inputs(registry):
    assert verified(password=None).result["reason"] == "input"
    assert "password is required" in verified(password=None).result["msg"]
    assert verified(registry="not a registry").result["reason"] == "input"
    assert "does not exist" in verified(username=None, user="no-such-user-4711").result["msg"]
    assert verified(timeout=0).failed
    assert registry.requests == []
