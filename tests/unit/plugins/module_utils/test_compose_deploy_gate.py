"""compose_deploy's option gate: the promotion gate in the same call as the deploy or its plan. A release the
gate refuses fails the module with ``refused`` before the deployer runs; an accepted one comes back as
``gate`` with whether the environment's proof is in the registry already."""

from __future__ import annotations

from typing import ClassVar

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils import _compose_deploy
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import registry_client
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils import fake_module
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils.test_release_gate import (
    API,
    PASSWORD,
    USER,
    WORKER,
    FakeRegistry,
    make_manifest,
)


class FakeModule(fake_module.FakeModule):
    DEFAULTS: ClassVar[dict] = {"release": None, "state": "present", "gate": None, "report": False}

    def warn(self, message):
        self.warning = message


def gate(registry, **gate_options):
    """(module, check_gate's result or None when it failed the module) against REGISTRY, logged in as the host's
    stored login would be."""
    module = FakeModule(check_mode=True, release=make_manifest(), gate={"timeout": 5, **gate_options})

    def factory(name, params, timeout, image=""):
        assert params["username"] is None and params["password"] is None  # the host's stored login, not options
        return registry_client(name, {**params, "username": USER, "password": PASSWORD}, timeout, image=image,
                               transport=registry)  # fmt: skip

    try:
        return module, _compose_deploy.check_gate(module, client_factory=factory)
    except fake_module.Exited:
        return module, None


def test_an_accepted_release_says_whether_the_proof_is_there():
    registry = FakeRegistry()
    registry.tag("sample/api", "passed-staging-1.4.0", API)
    registry.tag("sample/worker", "passed-staging-1.4.0", WORKER)
    registry.tag("sample/api", "passed-production-1.4.0", API)
    module, result = gate(registry, environment="production", required_environment="staging")
    assert not module.failed
    assert result["release_id"] == "sample-app-1.4.0-b42-3f2a9c1d0b8e"
    assert "changed" not in result
    actions = {name: service["record_action"] for name, service in result["services"].items()}
    assert actions == {"api": "present", "worker": None}  # the worker's proof is still to be recorded
    assert not registry.puts()


def test_a_refused_release_fails_the_module_before_anything_runs():
    module, result = gate(FakeRegistry(), environment="production", required_environment="staging")
    assert result is None
    assert module.failed and module.result["refused"] is True
    assert "has not passed staging" in module.result["msg"]
    assert PASSWORD not in module.result["msg"]
    assert module.result["gate"]["services"]["api"]["passed_required"] is False


def test_a_gate_timeout_below_one_second_is_refused():
    module = FakeModule(release=make_manifest(), gate={"timeout": 0})
    with pytest.raises(fake_module.Exited):
        _compose_deploy.check_gate(module)
    assert module.failed and "gate.timeout must be at least 1 second" in module.result["msg"]


def test_the_gate_options_are_release_gates_verified_with_the_host_login():
    options = _compose_deploy.gate_options(
        {"release": {"x": 1}, "gate": {"environment": "qa", "required_environment": None, "timeout": 5}}
    )
    assert options["state"] == "verified" and options["environment"] == "qa" and options["release"] == {"x": 1}
    assert options["required_environment"] is None and options["username"] is None
