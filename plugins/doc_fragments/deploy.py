# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options both deploy modules share (module_utils._platforms.deploy DEPLOY_ARG_SPEC): compose_deploy on a
    # Docker host, stack_deploy on a swarm manager. What differs per platform is in each module's description.
    DOCUMENTATION = r"""
options:
  release:
    description:
      - The release manifest as a dictionary, for example
        C("{{ lookup('ansible.builtin.file', 'sample-app-1.0.1.json') | from_json }}") or the output of the
        C(outerloop.docker.release) lookup. It is validated, its digest included, before anything is done.
      - Required with O(state=present).
    type: dict
  state:
    description:
      - V(present) deploys O(release).
      - V(rolled_back) brings back O(rollback_to), or the release before the current one in the history. When the
        current release was itself reached by a rollback and O(rollback_to) is not given, nothing changes (name
        O(rollback_to) to go further back); this keeps the state idempotent.
      - V(absent) removes the application.
    type: str
    choices: [present, absent, rolled_back]
    default: present
  environment:
    description:
      - The name of the environment (V(qa), V(staging), V(production)), recorded in the history.
    type: str
  env:
    description:
      - Variables for Compose interpolation of the release's compose file and O(overrides), stored with the release
        as its C(.env) file (mode C(0600)).
      - A change of O(env) is a change of the deployment, which is then deployed again.
    type: dict
    default: {}
  overrides:
    description:
      - An extra compose file, as a dictionary, merged after the release's compose file, for what differs per
        environment (ports, replicas, placement, environment variables, resources).
      - It may not change the image of a service of the release.
    type: dict
    default: {}
  allow_unpinned:
    description:
      - Services outside the release (in its compose file or added by O(overrides)) whose image may be given by tag.
        Every other service must be pinned by digest, or the module refuses to deploy and changes nothing.
    type: list
    elements: str
    default: []
  smoke_checks:
    description:
      - HTTP checks run from the host the module runs on once every service is healthy (on a swarm, once the stack
        has converged), after a deploy or a rollback that changed something.
      - Each check is tried up to O(smoke_checks[].retries) times, O(smoke_checks[].delay) seconds apart. When one
        still fails after a deploy, the module returns the application to the release that ran before and fails,
        naming the check (a first release, with nothing to return to, is left as it is for diagnosis). When one fails
        after a rollback, the module fails.
    type: list
    elements: dict
    default: []
    suboptions:
      url:
        description: The URL to GET, for example V(http://127.0.0.1:8080/health).
        type: str
        required: true
      status:
        description: The expected HTTP status.
        type: int
        default: 200
      contains:
        description: A text the body must contain.
        type: str
      timeout:
        description: Seconds per request.
        type: int
        default: 5
      retries:
        description: Attempts before the check fails.
        type: int
        default: 5
      delay:
        description: Seconds between attempts.
        type: int
        default: 2
  rollback_to:
    description:
      - With O(state=rolled_back), the release id to go back to; it must be stored under O(state_dir) on the host the
        module runs on. Defaults to the release before the current one.
    type: str
  lock_timeout:
    description:
      - Seconds to wait for the application's deploy lock when another deployment of it runs. It then fails naming
        the holder.
    type: int
    default: 300
  triggered_by:
    description:
      - Who started the run, recorded in the history and the lock. The module runs on the Docker host and cannot see
        the controller's user or AWX job, so pass them from the controller (see the examples); the deploy role
        fills it from the controller's C(USER), its host name and AWX's C(awx_job_id) variable.
      - Keys left out are taken from the host's environment (C(USER) or C(LOGNAME), C(AWX_JOB_ID) or
        C(TOWER_JOB_ID)).
    type: dict
    suboptions:
      user:
        description: The user on the controller.
        type: str
      awx_job_id:
        description: The AWX or Tower job id.
        type: str
      host:
        description: The controller's host name.
        type: str
  reason:
    description:
      - Why, recorded in the history with O(state=rolled_back) and O(state=absent).
    type: str
"""
