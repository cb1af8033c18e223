# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of outerloop.docker.compose_deploy: the deploy edge (_platforms.deploy) with the Compose host's
deployer (_platforms.compose_deployer)."""

from __future__ import annotations

from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_deployer import ComposeDeployment
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.deploy import run_deploy_module


def run_module(module) -> None:
    """Run outerloop.docker.compose_deploy with the module's parameters; exits the module."""
    run_deploy_module(module, ComposeDeployment)
