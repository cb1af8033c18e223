# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of outerloop.docker.registry_image_info: one manifest of a remote registry, without pulling
(_domain.registry_client)."""

from __future__ import annotations

from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import registry_client
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_error import RegistryError
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRefError,
    normalized_image,
    parse_image_ref,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import sanitize


def run_module(module) -> None:
    """Run outerloop.docker.registry_image_info with the module's parameters; exits the module."""
    params = module.params
    if params["timeout"] < 1:
        module.fail_json(msg=f"timeout must be at least 1 second, not {params['timeout']}")
    try:
        ref = parse_image_ref(params["image"])
    except ImageRefError as exc:
        module.fail_json(msg=f"{exc}; give REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST")
    image = normalized_image(ref)
    secrets = [params.get("password")]
    client = None
    try:
        client = registry_client(ref.registry_host, params, params["timeout"], image=image)
        info = client.lookup(ref)
    except RegistryError as exc:
        if client is not None:
            secrets.extend(client.secrets)
        module.fail_json(msg=sanitize(str(exc), secrets), image=image)
    module.no_log_values.update(client.secrets)
    module.exit_json(changed=False, **info.as_result())
