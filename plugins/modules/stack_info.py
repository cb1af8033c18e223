#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: stack_info
short_description: Report what a Docker Swarm stack runs, per service and node, and its drift from a release
version_added: 0.1.0
description:
  - Runs on a manager of a Docker Swarm. Reports, for the stack O(stack), the release it runs (release id, version,
    commit, environment, when and by whom, from the history that M(outerloop.docker.stack_deploy) keeps on the
    manager) and per service the digest of its spec, the replicas that run it against the desired ones, the nodes
    they run on, and the swarm's update state.
  - Tasks on a node that is down do not count as running; such nodes are listed in RV(stack.nodes_down) and, per
    service, in C(lost_on). Every node of the swarm is reported with its role, availability and state.
  - Compares the stack with a release (O(release), else the current release of the history) and reports the drift.
    A service is C(changed) when its spec or one of its running tasks is on another digest than the release names,
    C(missing) when the release names it and the stack has no such service, and C(extra) when it is neither in the
    release, nor in its compose file, nor in the stored overrides of the deploy.
  - The module only reads; it changes nothing.
author:
  - outerloop.docker contributors (@outerloop)
extends_documentation_fragment:
  - outerloop.docker.engine
  - outerloop.docker.report
options:
  stack:
    description:
      - The stack name. Defaults to the C(application) of O(release); one of them is required.
    type: str
  state_dir:
    description:
      - Where M(outerloop.docker.stack_deploy) keeps the stack's history on the manager.
    type: path
    default: /var/lib/outerloop/stacks
attributes:
  action:
    support: full
    description:
      - An action plugin runs the module on the host and applies O(query) to its result on the controller.
  check_mode:
    support: full
    description:
      - It only reads, so check mode runs it the same way.
  diff_mode:
    support: none
    description:
      - There is nothing to compare; the drift is in the result.
  idempotent:
    support: full
    description:
      - It never changes anything and always returns C(changed=false).
requirements:
  - PyYAML (C(python3-yaml)) on the manager, to read the release's compose file for RV(stack.drift.extra)
seealso:
  - module: outerloop.docker.stack_deploy
  - module: outerloop.docker.deployment_info
"""

EXAMPLES = r"""
- name: What the cluster runs, against the release that should run there
  outerloop.docker.stack_info:
    release: "{{ lookup('outerloop.docker.release', 'releases/sample-app-1.0.1.json') }}"
  delegate_to: "{{ groups['swarm_managers'][0] }}"
  run_once: true
  register: info

- name: Say which services differ and which nodes are lost
  ansible.builtin.debug:
    msg: >-
      drift {{ info.stack.drift.changed }} missing {{ info.stack.drift.missing }};
      nodes down {{ info.stack.nodes_down }}

- name: Replicas per service
  outerloop.docker.stack_info:
    stack: sample-app
    history_limit: 0
  register: info

- name: Only the release and whether it is in sync (query_result; the full result beside it)
  outerloop.docker.stack_info:
    stack: sample-app
    history_limit: 0
    query: "stack.{release: release_id, in_sync: drift.in_sync}"
  delegate_to: "{{ groups['swarm_managers'][0] }}"
  run_once: true
  register: info
"""

RETURN = r"""
query_result:
  description:
    - The result of O(query), applied on the controller to the module's result (RV(stack)).
  returned: when O(query) is given
  type: raw
  sample: {"release": "sample-app-1.4.0-b42-3f2a9c1d0b8e", "in_sync": true}
stack:
  description: What the stack runs.
  returned: success
  type: dict
  contains:
    stack:
      description: The stack name.
      type: str
      sample: sample-app
    exists:
      description: Whether the stack has services or a history on this manager.
      type: bool
    release_id:
      description: The current release of the history; null when there is none or a removal came after it.
      type: str
      sample: sample-app-1.4.0-b42-3f2a9c1d0b8e
    version:
      description: The version of the current release.
      type: str
    commit:
      description: The source commit of the current release.
      type: str
    environment:
      description: The environment the current release was deployed as.
      type: str
    deployed_at:
      description: When the deploy of the current release finished (RFC 3339, UTC).
      type: str
    deployed_by:
      description: Who started that deploy (C(user), C(awx_job_id), C(host)).
      type: dict
    last_action:
      description: The newest history entry in short (C(action), C(result), C(release_id), C(finished)).
      type: dict
    converged:
      description: Whether the stack has services and every one runs its desired replicas of its spec's digest.
      type: bool
    services:
      description: Per service of the stack (short name, without the stack prefix).
      type: dict
      sample:
        api:
          image: reg1:5000/sample-app/api@sha256:5592baeaecd7124bd7979abff7448602e3c3aa884b58222253e7695785aa005e
          digest: sha256:5592baeaecd7124bd7979abff7448602e3c3aa884b58222253e7695785aa005e
          running_digests: [sha256:5592baeaecd7124bd7979abff7448602e3c3aa884b58222253e7695785aa005e]
          expected_digest: sha256:5592baeaecd7124bd7979abff7448602e3c3aa884b58222253e7695785aa005e
          in_sync: true
          in_release: true
          running: 2
          desired: 2
          replicas: 2/2
          converged: true
          mode: replicated
          nodes: [swarm1, swarm2]
          lost_on: []
          update_state: completed
          update_message: update completed
          errors: []
      contains:
        image:
          description: The image of the service's spec.
          type: str
        digest:
          description: The digest of the service's spec; null when it names none.
          type: str
        running_digests:
          description: The distinct digests of its running tasks.
          type: list
          elements: str
        expected_digest:
          description: The digest the release names; null when not in the release or without one.
          type: str
        in_sync:
          description: Whether the spec and every running task are on the release's digest; null when not in the
            release.
          type: bool
        in_release:
          description: Whether the release names the service; null without a release to compare with.
          type: bool
        running:
          description: Tasks that run the expected digest (the spec's, without a release) on nodes that are up.
          type: int
        desired:
          description: Desired replicas (for a global service, one per node that is up and eligible).
          type: int
        replicas:
          description: C(running/desired).
          type: str
        converged:
          description: Whether it runs its desired replicas and no task of another digest.
          type: bool
        mode:
          description: V(replicated) or V(global).
          type: str
        nodes:
          description: The nodes its running tasks are on.
          type: list
          elements: str
        lost_on:
          description: Nodes that are down where the swarm still lists a task of it as desired.
          type: list
          elements: str
        update_state:
          description: The swarm's C(UpdateStatus.State) (C(completed), C(rollback_completed), ...).
          type: str
        update_message:
          description: The swarm's message about the last update.
          type: str
        errors:
          description: Errors of its failed tasks, with their node (the newest five).
          type: list
          elements: str
    nodes:
      description: Every node of the swarm.
      type: list
      elements: dict
      contains:
        id:
          description: The node id.
          type: str
        hostname:
          description: The node's host name.
          type: str
        role:
          description: V(manager) or V(worker).
          type: str
        availability:
          description: V(active), V(pause) or V(drain).
          type: str
        state:
          description: V(ready), V(down), V(unknown) or V(disconnected).
          type: str
        address:
          description: The address the node is reached at.
          type: str
        leader:
          description: Whether it is the leading manager.
          type: bool
        manager_reachability:
          description: For managers, V(reachable) or V(unreachable); null for workers.
          type: str
        labels:
          description: The node's labels.
          type: dict
    nodes_down:
      description: Host names of the nodes that are not ready.
      type: list
      elements: str
      sample: [swarm3]
    drift:
      description: The difference between the stack and the release; null when there is nothing to compare with.
      type: dict
      sample: {"against": "release", "release_id": "sample-app-1.4.0-b42-3f2a9c1d0b8e", "in_sync": false,
               "changed": ["api"], "missing": [], "extra": []}
      contains:
        against:
          description: V(release) (the O(release) option) or V(history) (the current release of the history).
          type: str
        release_id:
          description: The release compared with.
          type: str
        in_sync:
          description: Whether nothing is changed, missing or extra.
          type: bool
        changed:
          description: Release services on another digest.
          type: list
          elements: str
        missing:
          description: Release services the stack does not have.
          type: list
          elements: str
        extra:
          description: Services in neither the release nor its compose file nor the deploy's overrides.
          type: list
          elements: str
    history:
      description: The newest O(history_limit) entries of the stack's history, newest first.
      type: list
      elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import STACK_STATE_DIR
from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import report_module_args
from ansible_collections.outerloop.docker.plugins.module_utils._stack_info import run_module


def main():
    run_module(AnsibleModule(**report_module_args("stack", STACK_STATE_DIR)))


if __name__ == "__main__":
    main()
