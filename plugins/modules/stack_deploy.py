#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: stack_deploy
short_description: Deploy a release manifest as a Docker Swarm stack, rolling and health-gated, with rollback
version_added: 0.1.0
description:
  - Runs on a manager of a Docker Swarm (for example the first host of the swarm role's managers group). Deploys
    the release manifest O(release) (written by M(outerloop.docker.release)) as the stack O(stack) with
    C(docker stack deploy --with-registry-auth --prune), every release service pinned by the release's digest,
    and keeps a deployment history on the manager under O(state_dir).
  - "Order of a deploy: validate the manifest (digest included); render the stack file: the release's compose file
    with every release image pinned by digest, C(version) set when missing, and each service's
    C(deploy.update_config) and C(deploy.rollback_config) filled from O(update_config) and O(rollback_config)
    where the compose file does not set them; take the stack's deploy lock; store the release under
    C(<state_dir>/<stack>/releases/<release_id>/); run C(docker stack deploy) with the stack file and the
    O(overrides) file, O(env) and O(secrets) in its environment for interpolation; wait until every service runs
    its desired replicas of the release digest (a task with a healthcheck runs only once healthy) and its update
    completed; run the O(smoke_checks) from the manager; record the deploy in C(<state_dir>/<stack>/history.json)."
  - When an update fails (a task exits or turns unhealthy within the monitor window), the swarm itself rolls the
    service back to its previous spec (O(update_config) C(failure_action=rollback)). The swarm does that per
    service, so the services whose update succeeded would keep the new release; the module waits for the swarm's
    rollback, then deploys the stored release before again, so that the whole stack runs one release, waits until
    it has converged, records the deploy with result C(rolled_back) and fails with the swarm's update message and
    the failing tasks' errors. When the stack does not converge within O(wait_timeout) it fails with result
    C(failed).
  - When the stack has converged but a smoke check fails, the module deploys the stored release before again the
    same way (the same O(smoke_checks) suboptions, retries and timeouts as M(outerloop.docker.compose_deploy)),
    records the deploy with result C(rolled_back) and fails naming the check.
  - "A node that goes down during the update: tasks on it no longer count (for a global service, neither does the
    node). When the swarm's updater waits for a new task placed on that node, which will never run, the module starts
    the update of that service again once (C(docker service update) of a service label only, which restarts no
    task), so that it completes on the nodes that are up; RV(services.update_restarted) says so. When the replicas
    cannot be placed on the nodes left, the wait ends at O(wait_timeout) with the tasks' errors."
  - O(state=rolled_back) deploys the stored files of O(rollback_to), or of the release before the current one in
    the history, the same way (a release from the history, not only the swarm's one previous spec).
    O(state=absent) runs C(docker stack rm) and waits until the stack's services and networks are gone.
  - Smoke checks (O(smoke_checks)) run on the manager once the stack has converged, after a deploy or a rollback
    that changed something. When one still fails after a deploy, the whole stack returns to the release that ran
    before and the module fails, naming the check (a first release is left as it is for diagnosis); when one
    fails after a rollback, the module fails.
author:
  - outerloop.docker contributors (@outerloop)
extends_documentation_fragment:
  - outerloop.docker.engine
  - outerloop.docker.deploy
  - outerloop.docker.deploy.smoke_checks
options:
  stack:
    description:
      - The stack name. Defaults to the manifest's C(application).
      - Required with O(state=absent) and O(state=rolled_back).
    type: str
  state_dir:
    description:
      - Where the manager keeps the stack's deployment history, stored releases and deploy lock, one directory per
        stack, in the format of compose_deploy's history.
      - Keep it on the manager that deploys; another manager has no history and deploys as for the first time.
    type: path
    default: /var/lib/outerloop/stacks
  update_config:
    description:
      - Defaults of every service's C(deploy.update_config); the compose file's own keys win, O(overrides) win over
        both. V({}) leaves the swarm's defaults (stop-first, failure_action pause).
    type: dict
    default:
      parallelism: 1
      delay: 5s
      order: start-first
      failure_action: rollback
      monitor: 30s
      max_failure_ratio: 0
  rollback_config:
    description:
      - Defaults of every service's C(deploy.rollback_config), merged the same way as O(update_config).
    type: dict
    default:
      parallelism: 1
      delay: 0s
      order: start-first
      failure_action: pause
      monitor: 10s
      max_failure_ratio: 0
  with_registry_auth:
    description:
      - Send the manager's stored registry login (C(~/.docker/config.json) of the user the module runs as) to the
        nodes with the stack, so that workers without a login can pull the private images.
    type: bool
    default: true
  resolve_image:
    description:
      - C(docker stack deploy --resolve-image). Release images are pinned by digest whatever is chosen.
    type: str
    choices: [always, changed, never]
    default: always
  wait_timeout:
    description:
      - Seconds to wait until the stack has converged, a swarm rollback included. Allow for every replica's start,
        healthcheck and monitor window, one after the other with parallelism 1.
    type: int
    default: 600
attributes:
  check_mode:
    support: full
    description:
      - Can run in check mode and then changes nothing; it reports what a real run would do.
    details:
      - Check mode takes no lock, writes nothing and runs no C(docker stack deploy); it validates the release,
        reads the stack's services and reports C(changed) and the digests per service as a real run would.
  diff_mode:
    support: full
    description:
      - Returns the release id and the image digest of every service before and after.
  idempotent:
    support: full
    description:
      - When the release is the stack's current one in the history with the same stack file, O(overrides),
        O(env) and O(secrets), and every service's spec runs the release digest, C(docker stack deploy) is not run,
        no task is restarted and C(changed=false) (unless retention, O(keep_releases), prunes a release's files).
        The module still checks that the stack has converged.
requirements:
  - PyYAML (C(python3-yaml)) on the manager
  - The Docker CLI (C(docker stack)) on the manager, which must be a swarm manager
notes:
  - "Files on the manager: C(<state_dir>/<stack>/history.json), C(<state_dir>/<stack>/lock) and
    C(<state_dir>/<stack>/releases/<release_id>/) with C(manifest.json), C(compose.yaml) (the stack file, pinned by
    digest), C(compose.override.yaml), C(.env) and C(secrets.env) (only with O(secrets)), mode C(0600)."
  - The swarm keeps O(secrets) in the service specs as environment variables (C(docker service inspect) on a
    manager shows them), as it keeps O(env).
  - A task that has a healthcheck is C(running) for the swarm only once healthy, so the wait is health-gated; keep
    the images' or compose file's healthchecks (the module never disables them).
  - On kernels without IPVS (some containers and CI machines) the routing mesh and virtual IPs do not work; give such
    environments C(deploy.endpoint_mode=dnsrr) and C(mode=host) ports in O(overrides). The defaults suit real clusters.
  - C(docker stack deploy) creates the stack's networks and services; services of the stack that are no longer in
    the stack file are removed (C(--prune)).
seealso:
  - module: outerloop.docker.compose_deploy
  - module: outerloop.docker.release
"""

EXAMPLES = r"""
- name: Deploy release 1.0.1 to the swarm, from its first manager
  outerloop.docker.stack_deploy:
    release: "{{ lookup('ansible.builtin.file', 'releases/sample-app-1.0.1.json') | from_json }}"
    environment: production
    overrides:
      services:
        api:
          deploy:
            replicas: 3
            placement:
              constraints: [node.labels.zone == a]
  delegate_to: "{{ groups['swarm_managers'][0] }}"
  run_once: true

- name: A longer monitor window for every service
  outerloop.docker.stack_deploy:
    release: "{{ release_manifest }}"
    update_config:
      parallelism: 1
      order: start-first
      failure_action: rollback
      monitor: 60s

- name: Go back to a named release of the history
  outerloop.docker.stack_deploy:
    stack: sample-app
    state: rolled_back
    rollback_to: sample-app-1.0.0-b7-0123456789ab
    reason: 1.0.1 breaks the reports

- name: Remove the stack
  outerloop.docker.stack_deploy:
    stack: sample-app
    state: absent
"""

RETURN = r"""
stack:
  description: The stack name.
  returned: always
  type: str
  sample: sample-app
release_id:
  description: The release the stack runs after the task (with O(state=absent), none).
  returned: always
  type: str
  sample: sample-app-1.0.1-b1-d280ca507fad
version:
  description: The version of RV(release_id).
  returned: when state is present or rolled_back
  type: str
  sample: 1.0.1
previous_release_id:
  description: The release that ran before the task (on an unchanged run, the one before the current release).
  returned: always
  type: str
rolled_back:
  description:
    - True when O(state=rolled_back) changed something. A failed deploy returns it with the failure, true when the
      swarm rolled the update back or the stack is back on the release before after a failed smoke check.
  returned: always
  type: bool
rolled_back_to:
  description: The release a deploy that failed its smoke checks went back to.
  returned: on failure of a smoke check after a deploy
  type: str
pruned:
  description:
    - What retention (O(keep_releases)) removed after the deploy; in check mode, what a real run would remove.
  returned: when state is present and the deploy succeeded
  type: dict
  sample:
    releases: [sample-app-1.0.1-b1-d280ca507fad]
    images: []
  contains:
    releases:
      description: The release ids whose stored files were removed, oldest first.
      type: list
      elements: str
    images:
      description: The image references removed; always empty here, the images are on the nodes.
      type: list
      elements: str
smoke:
  description: The results of the smoke checks, each with C(url), C(ok), C(status), C(attempts) and C(msg).
  returned: always
  type: list
  elements: dict
services:
  description: Per service of the stack (short name, without the stack prefix).
  returned: when state is present or rolled_back
  type: dict
  sample:
    web:
      image: reg1:5000/outerloop/sample-app/web@sha256:5592baeaecd7124bd7979abff7448602e3c3aa884b58222253e7695785aa005e
      digest: sha256:5592baeaecd7124bd7979abff7448602e3c3aa884b58222253e7695785aa005e
      before_digest: sha256:0b1e2f4a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f
      running_digest: sha256:5592baeaecd7124bd7979abff7448602e3c3aa884b58222253e7695785aa005e
      changed: true
      replicas: 3/3
      state: converged
      update_state: completed
      tasks: [0m1uj9qbd2n2pbxsx6lyq3b0c, 6x8kvkzfp9qh1k8fqybfxz1rd, p5mnnr5ud0ntcfaq9nc5h8q6y]
  contains:
    image:
      description: The release image of the service (by digest).
      type: str
    digest:
      description: The digest the service should run.
      type: str
    before_digest:
      description: The digest of the service's spec before the task.
      type: str
    running_digest:
      description: The digest of the service's spec after the task (not in check mode).
      type: str
    changed:
      description: Whether the service's digest changes.
      type: bool
    replicas:
      description: Tasks running the release digest / desired replicas (not in check mode).
      type: str
    state:
      description: V(converged), V(waiting), V(rolling_back), V(rolled_back) or V(failed) (not in check mode).
      type: str
    update_state:
      description: The swarm's C(UpdateStatus.State) of the service (C(completed), C(rollback_completed), ...).
      type: str
    tasks:
      description: The ids of the tasks that run the release digest; an unchanged run returns the same ids.
      type: list
      elements: str
    errors:
      description: Errors of the service's failed tasks, with their node.
      type: list
      elements: str
    update_restarted:
      description: Why the module started the service's update again (a node went down under it); absent otherwise.
      type: str
history:
  description: The newest five entries of the stack's deployment history on the manager.
  returned: always
  type: list
  elements: dict
lock_holder:
  description: Who holds the deploy lock.
  returned: when the lock was not free within O(lock_timeout)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import STACK_STATE_DIR
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.deploy import (
    DEPLOY_ARG_SPEC,
    deploy_required_if,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.swarm_deployer import (
    ROLLBACK_CONFIG_DEFAULTS,
    UPDATE_CONFIG_DEFAULTS,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import ENGINE_ARG_SPEC
from ansible_collections.outerloop.docker.plugins.module_utils._stack_deploy import run_module


def main():
    module = AnsibleModule(
        argument_spec={
            **DEPLOY_ARG_SPEC,
            **ENGINE_ARG_SPEC,
            "stack": {"type": "str"},
            "state_dir": {"type": "path", "default": STACK_STATE_DIR},
            "update_config": {"type": "dict", "default": dict(UPDATE_CONFIG_DEFAULTS)},
            "rollback_config": {"type": "dict", "default": dict(ROLLBACK_CONFIG_DEFAULTS)},
            "with_registry_auth": {"type": "bool", "default": True},
            "resolve_image": {"type": "str", "default": "always", "choices": ["always", "changed", "never"]},
            "wait_timeout": {"type": "int", "default": 600},
        },
        required_if=deploy_required_if("stack"),
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
