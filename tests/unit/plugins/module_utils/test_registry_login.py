# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""run_module with a stand-in module object and a stand-in engine check: no Docker needed."""

from __future__ import annotations

import base64
import json
import os
from typing import ClassVar

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils import _registry_login
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
