# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: environment_status
short_description: The status of an environment as one document, with the alerts a monitor fails on
version_added: 0.1.0
author: outerloop.docker contributors
description:
  - Builds the status document of one environment (schema C(outerloop.docker/status/v1), described in the
    collection's C(docs/status.md), JSON Schema in C(docs/status.schema.json)) from what the reports returned,
    per Compose host the registered result of M(outerloop.docker.deployment_info), or on a swarm the
    registered result of M(outerloop.docker.stack_info).
  - Alerts are of four kinds. V(unhealthy) is a container or service that runs but is not healthy (or runs
    fewer replicas than desired). V(drift) is what runs differing from the release. V(restarting) is a
    container that restarts or restarted, or a service whose tasks failed. V(down) is a host that cannot be
    reached, an application with nothing running, or a swarm node that is not ready.
  - The status playbook (C(outerloop.docker.status)) uses it with C(status_fail_on); the deploy role's entry
    point C(status) does (P(outerloop.docker.deploy#role)).
options:
  _input:
    description: On Compose hosts a dictionary of host name to the registered result of deployment_info; on a
      swarm the registered result of stack_info.
    type: raw
    required: true
  environment:
    description: The environment's name.
    type: str
    required: true
  platform:
    description: Where the application runs.
    type: str
    choices: [compose, swarm]
    required: true
  project:
    description: The compose project or the stack.
    type: str
    default: ""
  fail_on:
    description: The alert kinds that make the status not ok (a list, or one string with commas).
    type: raw
    default: []
  generated_at:
    description: When the status was taken (RFC 3339), as the document records it.
    type: str
    default: ""
  urls:
    description: Where the application answers, per host (on a swarm, under the key C(stack)).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: The status of the environment, failing on unhealthy hosts and on drift
  ansible.builtin.set_fact:
    status: >-
      {{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, 'deploy_info')))
         | outerloop.docker.environment_status(environment='qa', platform='compose', project='sample-app',
                                               fail_on=['unhealthy', 'drift']) }}
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - The status document. Its keys are C(schema), C(generated_at), C(environment), C(platform), C(project),
      C(fail_on), C(hosts) (Compose) or C(stack) (swarm), C(alerts), C(counts) (per kind), C(ok) and C(failing)
      (the alerts of the C(fail_on) kinds).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.status import StatusError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.status import (
    environment_status as _environment_status,
)


def environment_status(reports, environment, platform, project="", **options):
    """options: fail_on, generated_at, urls (DOCUMENTATION)."""
    try:
        return _environment_status(environment, platform, project, reports, **options)
    except StatusError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"environment_status": environment_status}
