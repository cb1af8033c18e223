# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of outerloop.docker.release_gate: the promotion gate of _domain.promotion_gate, checked
(state=verified) or recorded (state=recorded) with the module's registry options; the module's edge."""

from __future__ import annotations

import socket

from ansible_collections.outerloop.docker.plugins.module_utils._domain.promotion_gate import gate_outcome
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import registry_client
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_push import push_client


def run_module(module, client_factory=None) -> None:
    """Run outerloop.docker.release_gate with the module's parameters; exits the module."""
    params = module.params
    if params["timeout"] < 1:
        module.fail_json(msg=f"timeout must be at least 1 second, not {params['timeout']}")
    if client_factory is None:
        client_factory = push_client if params["state"] == "recorded" else registry_client
    result, refusal, secrets = gate_outcome(params, module.check_mode, client_factory, socket.gethostname(),
                                            params["timeout"])  # fmt: skip
    if refusal is not None:
        module.fail_json(msg=refusal, **result)
    module.no_log_values.update(secrets)
    module.exit_json(**result)
