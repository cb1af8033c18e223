# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of outerloop.docker.compose_deploy: the deploy edge (_platforms.deploy) with the Compose host's
deployer (_platforms.compose_deployer); with the option ``gate``, the promotion gate (_domain.promotion_gate)
first, and with ``report``, what runs afterwards (_platforms.compose_report), all in one call."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.outerloop.docker.plugins.module_utils._domain.promotion_gate import gate_outcome
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import (
    REGISTRY_ARG_SPEC,
    registry_client,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import InfoError
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_deployer import ComposeDeployment
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_report import project_report
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.deploy import run_deploy_module

# The history entries of the report (option report), as the deploy role's status shows them.
REPORT_HISTORY = 3


def gate_options(params: dict) -> dict:
    """release_gate's options (state=verified, the host's stored registry login) from compose_deploy's."""
    gate = params["gate"]
    return {
        **{name: spec.get("default") for name, spec in REGISTRY_ARG_SPEC.items()},
        "release": params["release"],
        "state": "verified",
        "environment": gate.get("environment"),
        "required_environment": gate.get("required_environment"),
    }


def _gate_timeout(module) -> int:
    timeout = module.params["gate"]["timeout"]
    if timeout < 1:
        module.fail_json(msg=f"gate.timeout must be at least 1 second, not {timeout}")
    return timeout


def _gate_lookup(module, client_factory, timeout: int):
    """The gate's lookups in the registry: (result, refusal, secrets); changes nothing, fails nothing."""
    return gate_outcome(gate_options(module.params), True, client_factory, socket.gethostname(), timeout)


def _gate_answer(module, outcome) -> dict:
    """The gate's result, or the module failed with ``refused`` when the gate refused the release or could not
    check it."""
    result, refusal, secrets = outcome
    if refusal is not None:
        module.fail_json(msg=refusal, refused=True, gate=result)
    module.no_log_values.update(secrets)
    result.pop("changed", None)
    return result


def check_gate(module, client_factory=registry_client) -> dict:
    """The promotion gate of the release (option gate); fails the module with ``refused`` when it refuses the
    release or cannot check it, before anything is changed."""
    return _gate_answer(module, _gate_lookup(module, client_factory, _gate_timeout(module)))


def report_after(module):
    """``after`` for run_deploy_module: adds the ``deployment`` report (option report) to the result."""
    params = module.params

    def after(client, result: dict) -> None:
        release = params["release"] if params["state"] == "present" else None
        options = {
            "project": params["project"] or result.get("project"),
            "release": release,
            "state_dir": params["state_dir"],
            "history_limit": REPORT_HISTORY,
        }
        try:
            result["deployment"] = project_report(client, options)
        except InfoError as exc:  # the deploy itself went through: say why there is no report, and go on
            module.warn(f"no report of what runs: {exc}")

    return after


def run_module(module) -> None:
    """Run outerloop.docker.compose_deploy with the module's parameters; exits the module."""
    params = module.params
    report = report_after(module) if params["report"] else None
    if not (params.get("gate") and params["state"] == "present" and params.get("release")):
        run_deploy_module(module, ComposeDeployment, after=report)
        return
    if not module.check_mode:  # the gate first: a refused release changes nothing
        run_deploy_module(module, ComposeDeployment, extra={"gate": check_gate(module)}, after=report)
        return
    # Check mode changes nothing either way: the gate's registry lookups run while the deployer looks at the host
    # (the plan of a deploy, every host at once: one round of waiting instead of two). The gate's answer is taken
    # once the plan is there, and a refusal fails the module as before.
    timeout = _gate_timeout(module)
    with ThreadPoolExecutor(max_workers=1) as pool:
        lookup = pool.submit(_gate_lookup, module, registry_client, timeout)

        def after(client, result: dict) -> None:
            result["gate"] = _gate_answer(module, lookup.result())
            if report is not None:
                report(client, result)

        run_deploy_module(module, ComposeDeployment, after=after)
