# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The promotion gate against a scripted registry: no network, no Docker."""

from __future__ import annotations

import hashlib
import json
from typing import ClassVar
from urllib.parse import urlparse

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils import _release_gate
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import manifest_digest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.promotion_gate import (
    CREATED,
    PRESENT,
    WOULD_CREATE,
    GateError,
    check_environment,
    passed_tag,
    version_tag,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import MEDIA_DOCKER_MANIFEST
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_push import push_client
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import build_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.docker_config import encode_auth
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils import fake_module

USER = "deploy"
PASSWORD = "s3cret:pass"
COMMIT = "3f2a9c1d0b8e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
COMPOSE = "services:\n  api:\n    build: ./api\n  worker:\n    build: ./worker\n  redis:\n    image: redis:7\n"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image_manifest(name: str) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 10,
                "digest": sha(name.encode()),
            },
            "layers": [],
        },
        indent=3,
    ).encode()


API_BODY = image_manifest("api")
WORKER_BODY = image_manifest("worker")
OTHER_BODY = image_manifest("other")
API, WORKER, OTHER = sha(API_BODY), sha(WORKER_BODY), sha(OTHER_BODY)


def make_manifest(version="1.4.0", api=API, worker=WORKER):
    return build_manifest(
        application="sample-app",
        version=version,
        source_repository="https://git.example.com/team/sample-app.git",
        commit=COMMIT,
        build_number="42",
        build_host="build1",
        created="2026-11-26T13:00:00Z",
        tests={"suites": {"unit": {"passed": True, "tests": 3, "failures": 0}}},
        services={
            "api": {"image": f"reg1:5000/sample/api@{api}", "tags": [version_tag(version)]},
            "worker": {"image": f"reg1:5000/sample/worker@{worker}", "tags": [version_tag(version)]},
        },
        compose_file="compose.yaml",
        compose_content=COMPOSE,
    )


class FakeRegistry:
    """A distribution registry with Basic auth: manifests by digest, tags, GET and PUT."""

    def __init__(self, version="1.4.0"):
        self.repos = {
            "sample/api": {"manifests": {API: API_BODY, OTHER: OTHER_BODY}, "tags": {version: API}},
            "sample/worker": {"manifests": {WORKER: WORKER_BODY}, "tags": {version: WORKER}},
        }
        self.requests = []
        self.rewrite = False

    def tag(self, repo, tag, digest):
        self.repos[repo]["tags"][tag] = digest

    def puts(self):
        return [r for r in self.requests if r[0] == "PUT"]

    def __call__(self, method, url, headers, data=None, limit=None):
        self.requests.append((method, url, dict(headers), data))
        if headers.get("Authorization") != "Basic " + encode_auth(USER, PASSWORD):
            return 401, {"www-authenticate": 'Basic realm="reg"'}, b'{"errors":[{"code":"UNAUTHORIZED"}]}'
        path = urlparse(url).path
        repo, _sep, reference = path[len("/v2/") :].partition("/manifests/")
        store = self.repos.get(repo)
        if store is None:
            return 404, {}, b'{"errors":[{"code":"NAME_UNKNOWN"}]}'
        if method == "PUT":
            assert headers["Content-Type"] == MEDIA_DOCKER_MANIFEST
            digest = sha(b"rewritten") if self.rewrite else sha(data)
            store["manifests"][sha(data)] = data
            store["tags"][reference] = sha(data)
            return 201, {"docker-content-digest": digest}, b""
        digest = store["tags"].get(reference, reference)
        body = store["manifests"].get(digest)
        if body is None:
            return 404, {}, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'
        return 200, {"docker-content-digest": digest, "content-type": MEDIA_DOCKER_MANIFEST}, body


class FakeModule(fake_module.FakeModule):
    DEFAULTS: ClassVar[dict] = {
        "release": None,
        "state": "verified",
        "environment": None,
        "required_environment": None,
        "username": USER,
        "password": PASSWORD,
        "config_path": None,
        "user": None,
        "ca_path": None,
        "validate_certs": True,
        "timeout": 5,
    }


def run(registry, check_mode=False, **params):
    params.setdefault("release", make_manifest())
    module = FakeModule(check_mode=check_mode, **params)

    def factory(registry_name, module_params, timeout, image=""):
        return push_client(registry_name, module_params, timeout, image=image, transport=registry)

    with pytest.raises(fake_module.Exited):
        _release_gate.run_module(module, client_factory=factory)
    return module


# --- Pure helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "tag"),
    [("1.4.0", "1.4.0"), ("1.0.0-rc.1", "1.0.0-rc.1"), ("1.0.0-rc.1+build.5", "1.0.0-rc.1_build.5")],
)
def test_version_tag_writes_build_metadata_with_underscore(version, tag):
    assert version_tag(version) == tag


def test_passed_tag():
    assert passed_tag("qa", "1.0.0+b.7") == "passed-qa-1.0.0_b.7"


@pytest.mark.parametrize("name", ["QA", "", "-qa", "qa prod", "a" * 33, None, "qa.1"])
def test_environment_names_are_refused(name):
    with pytest.raises(GateError, match="not an environment name"):
        check_environment(name, "environment")


# --- verified --------------------------------------------------------------------------------


def test_an_authentic_release_passes_and_changes_nothing():
    registry = FakeRegistry()
    module = run(registry)
    assert not module.failed, module.result
    result = module.result
    assert result["changed"] is False
    assert result["release_id"] == "sample-app-1.4.0-b42-3f2a9c1d0b8e"
    api = result["services"]["api"]
    assert api["authentic"] is True
    assert api["version_tag"] == "1.4.0"
    assert api["version_tag_digest"] == API
    assert api["passed_required"] is None
    assert registry.puts() == []


def test_verified_with_an_environment_says_whether_its_proof_is_there_and_writes_nothing():
    registry = FakeRegistry()
    registry.tag("sample/api", "passed-qa-1.4.0", API)
    module = run(registry, environment="qa")
    assert not module.failed, module.result
    assert module.result["changed"] is False and module.result["recorded_tags"] == []
    api, worker = module.result["services"]["api"], module.result["services"]["worker"]
    assert (api["record_tag_digest"], api["record_action"]) == (API, PRESENT)
    assert (worker["record_tag_digest"], worker["record_action"]) == (None, None)
    assert registry.puts() == []


def test_verified_refuses_a_proof_that_holds_another_build():
    registry = FakeRegistry()
    registry.tag("sample/api", "passed-qa-1.4.0", OTHER)
    module = run(registry, environment="qa")
    assert module.failed and "already records another build" in module.result["msg"]
    assert registry.puts() == []


def test_an_edited_manifest_is_refused_naming_service_and_both_digests():
    forged = make_manifest(api=OTHER)  # a valid manifest, digest recomputed, pointing api elsewhere
    module = run(FakeRegistry(), release=forged)
    assert module.failed
    msg = module.result["msg"]
    assert "service api" in msg
    assert OTHER in msg
    assert API in msg
    assert "does not match what CI published" in msg
    assert "service worker" not in msg
    assert module.result["services"]["api"]["authentic"] is False
    assert module.result["services"]["worker"]["authentic"] is True


def test_a_manifest_edited_without_recomputing_its_digest_is_refused_before_the_registry():
    forged = make_manifest()
    forged["services"]["api"]["digest"] = OTHER
    forged["services"]["api"]["image"] = f"reg1:5000/sample/api@{OTHER}"
    registry = FakeRegistry()
    module = run(registry, release=forged)
    assert module.failed
    assert "digest mismatch" in module.result["msg"]
    assert registry.requests == []


def test_a_version_the_registry_does_not_have_is_refused():
    module = run(FakeRegistry(version="1.3.0"))
    assert module.failed
    assert "has no tag reg1:5000/sample/api:1.4.0" in module.result["msg"]


def test_a_required_environment_not_passed_is_refused_with_the_next_step():
    module = run(FakeRegistry(), environment="staging", required_environment="qa")
    assert module.failed
    msg = module.result["msg"]
    assert "sample-app-1.4.0-b42-3f2a9c1d0b8e has not passed qa" in msg
    assert "staging only accepts" in msg
    assert "passed-qa-1.4.0" in msg
    assert "ansible-playbook outerloop.docker.deploy -i inventories/qa" in msg
    assert module.result["services"]["api"]["passed_required"] is False


def test_a_required_tag_on_another_build_is_refused():
    registry = FakeRegistry()
    registry.tag("sample/api", "passed-qa-1.4.0", OTHER)
    registry.tag("sample/worker", "passed-qa-1.4.0", WORKER)
    module = run(registry, required_environment="qa")
    assert module.failed
    assert f"holds {OTHER}, another build" in module.result["msg"]
    assert "service worker" not in module.result["msg"]


def test_a_passed_required_environment_is_accepted():
    registry = FakeRegistry()
    registry.tag("sample/api", "passed-qa-1.4.0", API)
    registry.tag("sample/worker", "passed-qa-1.4.0", WORKER)
    module = run(registry, required_environment="qa", environment="staging")
    assert not module.failed, module.result
    assert module.result["services"]["worker"]["passed_required"] is True
    assert module.result["changed"] is False


# --- recorded --------------------------------------------------------------------------------


def test_record_check_mode_predicts_and_writes_nothing():
    registry = FakeRegistry()
    module = run(registry, check_mode=True, state="recorded", environment="qa")
    assert not module.failed, module.result
    assert module.result["changed"] is True
    assert module.result["services"]["api"]["record_action"] == WOULD_CREATE
    assert module.result["recorded_tags"] == [
        "reg1:5000/sample/api:passed-qa-1.4.0",
        "reg1:5000/sample/worker:passed-qa-1.4.0",
    ]
    assert registry.puts() == []


def test_record_puts_the_same_manifest_bytes_under_the_tag_then_is_idempotent():
    registry = FakeRegistry()
    module = run(registry, state="recorded", environment="qa")
    assert not module.failed, module.result
    assert module.result["changed"] is True
    assert module.result["services"]["api"]["record_action"] == CREATED
    assert module.result["services"]["api"]["record_tag_digest"] == API
    puts = registry.puts()
    assert [urlparse(p[1]).path for p in puts] == [
        "/v2/sample/api/manifests/passed-qa-1.4.0",
        "/v2/sample/worker/manifests/passed-qa-1.4.0",
    ]
    assert puts[0][3] == API_BODY  # byte for byte: same digest
    assert registry.repos["sample/api"]["tags"]["passed-qa-1.4.0"] == API

    again = FakeRegistry()
    again.repos = registry.repos
    module = run(again, state="recorded", environment="qa")
    assert module.result["changed"] is False
    assert module.result["services"]["worker"]["record_action"] == PRESENT
    assert module.result["recorded_tags"] == []
    assert again.puts() == []


def test_record_refuses_to_move_a_tag_that_holds_another_build():
    registry = FakeRegistry()
    registry.tag("sample/api", "passed-qa-1.4.0", OTHER)
    module = run(registry, state="recorded", environment="qa")
    assert module.failed
    assert "already records another build" in module.result["msg"]
    assert registry.puts() == []


def test_record_fails_when_the_registry_stores_another_digest():
    registry = FakeRegistry()
    registry.rewrite = True
    module = run(registry, state="recorded", environment="qa")
    assert module.failed
    assert "rewrote the manifest" in module.result["msg"]


def test_record_does_not_record_a_forged_release():
    registry = FakeRegistry()
    module = run(registry, state="recorded", environment="qa", release=make_manifest(worker=OTHER))
    assert module.failed
    assert "does not match what CI published" in module.result["msg"]
    assert registry.puts() == []


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"state": "recorded"}, "needs environment"),
        ({"environment": "qa", "required_environment": "qa"}, "cannot require itself"),
        ({"required_environment": "Prod"}, "not an environment name"),
    ],
)
def test_option_errors(params, complaint):
    module = run(FakeRegistry(), **params)
    assert module.failed
    assert complaint in module.result["msg"]


def test_the_password_never_appears_in_a_failure():
    def echo(method, url, headers, data=None, limit=None):
        body = json.dumps({"errors": [{"code": "DENIED", "message": f"bad {headers.get('Authorization')} {PASSWORD}"}]})
        if "Authorization" not in headers:
            return 401, {"www-authenticate": 'Basic realm="r"'}, body.encode()
        return 401, {}, body.encode()

    module = run(echo)
    assert module.failed
    text = json.dumps(module.result)
    assert PASSWORD not in text
    assert encode_auth(USER, PASSWORD) not in text
    assert "rejected the credentials" in module.result["msg"]


def test_manifest_digest_of_the_fixture_is_valid():
    manifest = make_manifest()
    assert manifest["digest"] == manifest_digest(manifest)
