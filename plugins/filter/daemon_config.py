# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: daemon_config_errors
short_description: List what is wrong with a Docker daemon.json settings dictionary
version_added: 0.1.0
author: outerloop.docker contributors
description:
  - Checks a dictionary meant for C(/etc/docker/daemon.json) before it is written, so that a
    mistake fails the play on the controller instead of leaving C(dockerd) unable to start.
  - Reports keys that C(dockerd) does not know (it refuses to start on them), values of the wrong
    type (for example a number in C(log-opts), where C(dockerd) wants strings), malformed
    registry addresses, and the C(hosts) key, which conflicts with the C(-H) flag of the
    packaged C(docker.service).
  - Returns an empty list when the settings are fine.
options:
  _input:
    description: The daemon settings, as they would be written to C(daemon.json).
    type: raw
    required: true
  name:
    description: The variable name to use in the messages.
    type: str
    default: daemon_config
"""

EXAMPLES = r"""
- name: Refuse settings that would stop dockerd from starting
  ansible.builtin.assert:
    that: docker_host_daemon_config | outerloop.docker.daemon_config_errors('docker_host_daemon_config') | length == 0
    fail_msg: "{{ docker_host_daemon_config | outerloop.docker.daemon_config_errors('docker_host_daemon_config') }}"
"""

RETURN = r"""
_value:
  description: One message per problem, each naming the variable and the key; empty when valid.
  type: list
  elements: str
"""

from ansible_collections.outerloop.docker.plugins.module_utils._domain.daemon_config import daemon_config_errors


class FilterModule:
    def filters(self):
        return {"daemon_config_errors": daemon_config_errors}
