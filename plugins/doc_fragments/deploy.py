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
      - O(env) is shown in output like any option; put passwords, tokens and keys in O(secrets).
    type: dict
    default: {}
  secrets:
    description:
      - "The application's secrets, as C(NAME: value) Compose interpolation variables like O(env) (the compose file
        takes them as C(${NAME})), but kept out of every output. The option is C(no_log) and the module masks the
        values in everything it returns (results, diffs, failure messages, container logs) and in the history it
        writes."
      - "On a Docker host (M(outerloop.docker.compose_deploy)) they are stored with the release as the one file
        C(secrets.env), mode C(0600), and given to C(docker compose) as a second C(--env-file) after C(.env); a
        rollback uses the C(secrets.env) stored with the release it goes back to. On a swarm manager
        (M(outerloop.docker.stack_deploy)) C(docker stack deploy) reads them from its process environment (never its
        command line), and C(secrets.env) is stored with the release on the manager for a rollback."
      - No other file holds a value (not C(history.json), not the manifest, not C(.env)); names may appear.
      - A change of a value is a change of the deployment, found by comparing the stored C(secrets.env) with the one
        the values give (no hash of a value is kept anywhere); the same values again change nothing.
      - Names are variable names (letters, digits, C(_)); a name may not be in O(env) as well. Values are one line of
        text (numbers are written as text).
      - The containers still see the values in their environment (C(docker inspect) on the host shows them, as it
        shows any environment variable); feed them from Ansible Vault or an AWX credential, never from the
        release.
    type: dict
    default: {}
  keep_releases:
    description:
      - Retention. After a successful deploy (O(state=present), a changed or an unchanged run; not after a failure),
        only the newest O(keep_releases) stored releases of the application keep their directory under O(state_dir),
        newest by the history. The release that runs and the one a rollback goes to are never pruned. V(0) keeps
        every release.
      - "M(outerloop.docker.compose_deploy) also removes the images that only the pruned releases used, by their
        digest reference, unless a container of the host (running or not) or a kept release uses them; an image the
        engine refuses to remove as in use stays. M(outerloop.docker.stack_deploy) prunes only the stored files on
        the manager: the images are on the nodes and stay."
      - The history keeps the entries of a pruned release, marked C(pruned=true); a rollback to it fails saying so
        (deploy it again from its manifest instead). In check mode, RV(pruned) lists what a real run would prune.
    type: int
    default: 5
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

    # The smoke checks: the deploy modules run them after a deploy or a rollback, deployment_info at every look of
    # its watch (module_utils._primitives.http_check, one implementation); when and what a failure does is in
    # each module's description.
    SMOKE_CHECKS = r"""
options:
  smoke_checks:
    description:
      - HTTP checks run from the host the module runs on. When they run, and what a failing one does, is in the
        module's description.
      - Each check is tried up to O(smoke_checks[].retries) times, O(smoke_checks[].delay) seconds apart, before it
        counts as failed.
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
"""
