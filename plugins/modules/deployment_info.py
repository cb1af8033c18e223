#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: deployment_info
short_description: Report what runs on a Docker host for a compose application, and its drift from a release
version_added: 0.1.0
description:
  - Reports, for one compose project on the Docker host the module runs on, the release that is deployed
    (release id, version, commit, environment, when and by whom, from the deployment history the deploy
    keeps on the host), and per service its image, the registry digest it runs, its containers with their
    state, health, restart count and start time.
  - Compares what runs with a release (O(release), else the current release of the history) and reports
    the drift per service. A service is C(changed) when one of its containers runs an image whose
    registry digest differs from the one the release names (or whose digest is unknown, for example an
    image built on the host), C(missing) when the release names it and it has no container, and a
    container is C(extra) when its service is neither in the release nor in the release's compose file.
  - The digest of a container is the C(RepoDigests) entry of its image for the release's repository, the
    digest the image has in the registry; images are never pulled.
  - The containers are those labelled C(com.docker.compose.project=PROJECT) by Docker Compose, running or
    not. One-off containers (C(docker compose run)) are left out.
  - With O(watch) (the soak of a canary, the deploy role's C(deploy_canary_soak)), the module looks again
    every O(watch_interval) seconds for O(watch) seconds. Each look reads the containers and runs the
    O(smoke_checks). The watch fails at the first look where a container does not run or is not healthy, a
    container's restart count grew or a container was replaced since the first look, a container is gone,
    or a smoke check fails; the module then fails, saying what it saw, and returns RV(watch) and
    RV(deployment) with the failure.
  - The module only reads; it changes nothing, and a failed watch changes nothing either.
  - Smoke checks (O(smoke_checks)) run at every look of the O(watch) (once without O(watch)), with the same code
    as the deploy modules' (M(outerloop.docker.compose_deploy)), so the deploy role passes its
    C(deploy_smoke_checks) to both; when one still fails after its retries, the watch fails.
author:
  - outerloop.docker contributors (@outerloop)
extends_documentation_fragment:
  - outerloop.docker.engine
  - outerloop.docker.report
  - outerloop.docker.deploy.smoke_checks
options:
  project:
    description:
      - The compose project name. Defaults to the C(application) of O(release); one of them is required.
    type: str
  state_dir:
    description:
      - The directory where the deploy keeps each project's history (C(STATE_DIR/PROJECT/history.json)).
    type: path
    default: /var/lib/outerloop/deployments
  watch:
    description:
      - Seconds to keep looking at the project (health, restart counts and the O(smoke_checks)), one look
        every O(watch_interval) seconds, the first one at once. V(0) looks once, and runs the O(smoke_checks)
        once when there are any.
      - The task runs this long when all is well; it stops at the first failure.
    type: int
    default: 0
  watch_interval:
    description:
      - Seconds between two looks of the O(watch); at least V(1).
    type: int
    default: 5
attributes:
  action:
    support: full
    description:
      - An action plugin runs the module on the host and applies O(query) to its result on the controller.
  check_mode:
    support: full
    description:
      - The module only reads; check mode runs the same queries, the O(watch) and its O(smoke_checks) (HTTP
        GETs) included.
  diff_mode:
    support: none
    description:
      - The module changes nothing, so there is no difference to show.
  idempotent:
    support: full
    description:
      - The module never changes anything; RV(ignore:changed) is always V(false).
notes:
  - Compose services that are not in the release (a public C(redis), say) are recognised as part of the
    application from the release's compose file, which needs PyYAML (C(python3-yaml)) on the host. Without
    PyYAML their containers are reported as C(extra).
  - The history is read as the deploy modules write it; a project deployed by hand has no history, and
    then only the containers are reported.
seealso:
  - module: outerloop.docker.release
  - module: outerloop.docker.release_gate
"""

EXAMPLES = r"""
- name: What runs of sample-app, compared with the release that should run
  outerloop.docker.deployment_info:
    release: "{{ lookup('outerloop.docker.release', 'releases/sample-app-1.4.0.json') }}"
  register: info

- name: Fail on drift
  ansible.builtin.assert:
    that: info.deployment.drift.in_sync
    fail_msg: >-
      {{ inventory_hostname }} is not running {{ info.deployment.drift.release_id }}:
      changed {{ info.deployment.drift.changed }}, missing {{ info.deployment.drift.missing }},
      extra {{ info.deployment.drift.extra }}

- name: Soak a canary for 5 minutes, a look every 10 s; fails on a restart, an unhealthy container or a smoke check
  outerloop.docker.deployment_info:
    project: sample-app
    history_limit: 1
    watch: 300
    watch_interval: 10
    smoke_checks:
      - url: http://127.0.0.1:8080/healthz
        contains: '"ok"'
  register: soak

- name: Say what the soak saw
  ansible.builtin.debug:
    msg: "canary {{ inventory_hostname }}: {{ soak.watch.summary }}"

- name: What runs of a project, compared with its own history
  outerloop.docker.deployment_info:
    project: sample-app
    history_limit: 3
  register: info

# A job template that hands on only what the next one needs (query_result, the full result beside it).
- name: The release, its health and the digest of each service
  outerloop.docker.deployment_info:
    project: sample-app
    history_limit: 0
    query: "deployment.{release: release_id, healthy: healthy, digests: services.*.digest}"
  register: info

- name: Hand it on (the job's artifacts in AWX)
  ansible.builtin.set_stats:
    data:
      running: "{{ info.query_result }}"
"""

RETURN = r"""
query_result:
  description:
    - The result of O(query), applied on the controller to the module's result (RV(deployment), RV(watch), ...).
  returned: when O(query) is given
  type: raw
  sample: {"release": "sample-app-1.4.0-b42-3f2a9c1d0b8e", "healthy": true, "digests": ["sha256:6c3c624b58db..."]}
watch:
  description:
    - What the O(watch) saw; on a failed watch it is returned with the failure.
  returned: when O(watch) or O(smoke_checks) is given
  type: dict
  contains:
    seconds:
      description: The O(watch) asked for.
      type: int
      sample: 15
    interval:
      description: The O(watch_interval).
      type: int
      sample: 5
    checks:
      description: How many looks were made, the first one included.
      type: int
      sample: 4
    elapsed:
      description: Seconds from the first look to the last.
      type: float
      sample: 15.0
    restarts:
      description: Per service, the restarts seen since the first look (restart counts grown, containers replaced).
      type: dict
      sample: {"api": 0, "store": 0, "worker": 1}
    restarted:
      description: Which container restarted, in words.
      type: list
      elements: str
      sample: ["sample-app-worker-1: restart count 0 -> 1"]
    problems:
      description: At the last look, the containers that do not run, are not healthy or are gone.
      type: list
      elements: str
      sample: ["sample-app-worker-1 is starting (its health check has not passed yet)"]
    smoke:
      description: The results of the smoke checks at the last look, each with C(url), C(ok), C(status),
        C(attempts) and C(msg).
      type: list
      elements: dict
    ok:
      description: Whether the watch saw nothing wrong.
      type: bool
      sample: true
    failure:
      description: What failed the watch, in one sentence; null when nothing did.
      type: str
      sample: "worker restarted 1 time (sample-app-worker-1: restart count 0 -> 1)"
    summary:
      description: The watch in a few words, for a run's summary.
      type: str
      sample: "4 checks in 15 s, 0 restarts, smoke ok"
deployment:
  description: What runs of the project on this host.
  returned: success
  type: dict
  contains:
    project:
      description: The compose project.
      type: str
      sample: sample-app
    exists:
      description: Whether the project has containers or a history on this host.
      type: bool
      sample: true
    release_id:
      description: The current release of the history (the newest succeeded deploy or rollback); null
        when there is none or a removal came after it.
      type: str
      sample: sample-app-1.4.0-b42-3f2a9c1d0b8e
    version:
      description: The version of the current release.
      type: str
      sample: 1.4.0
    commit:
      description: The source commit of the current release.
      type: str
      sample: 3f2a9c1d0b8e4f5a6b7c8d9e0f1a2b3c4d5e6f70
    environment:
      description: The environment the current release was deployed as, when the deploy recorded one.
      type: str
      sample: staging
    deployed_at:
      description: When the deploy of the current release finished (RFC 3339, UTC).
      type: str
      sample: "2026-11-26T13:05:12Z"
    deployed_by:
      description: Who started that deploy (C(user), C(awx_job_id), C(host)), as the history records it.
      type: dict
      sample: {"user": "alice", "awx_job_id": null, "host": "controller1"}
    last_action:
      description: The newest history entry in short (C(action), C(result), C(release_id), C(finished)),
        which may be a failed or rolled back attempt; null without history.
      type: dict
      sample: {"action": "deploy", "result": "rolled_back", "release_id": "sample-app-1.5.0-b43-0a1b2c3d4e5f",
               "finished": "2026-11-27T09:00:00Z"}
    running:
      description: How many containers of the project run.
      type: int
      sample: 3
    healthy:
      description: Whether the project has containers and every one runs and is healthy (or has no health check).
      type: bool
      sample: true
    services:
      description: Per service that has containers.
      type: dict
      contains:
        image:
          description: The image reference the (first) container was created from.
          type: str
          sample: reg1:5000/sample-app/api@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
        digest:
          description: The registry digest all its containers run; null when unknown or when they differ.
          type: str
        digests:
          description: The distinct registry digests its containers run.
          type: list
          elements: str
        expected_digest:
          description: The digest the release names for it; null when it is not in the release or there is none.
          type: str
        in_release:
          description: Whether the release names it; null without a release to compare with.
          type: bool
        in_sync:
          description: Whether every container runs the release's digest; null when not in the release.
          type: bool
        running:
          description: How many of its containers run.
          type: int
        healthy:
          description: Whether every container runs and is healthy (or has no health check).
          type: bool
        restart_count:
          description: The restarts of its containers, added up.
          type: int
        containers:
          description: Its containers, by name.
          type: list
          elements: dict
          contains:
            name:
              description: The container name.
              type: str
              sample: sample-app-api-1
            id:
              description: The container id.
              type: str
            image:
              description: The image reference it was created from.
              type: str
            image_id:
              description: The local image id.
              type: str
            digest:
              description: The registry digest of its image; null when unknown.
              type: str
            state:
              description: The engine's state, V(running), V(exited), V(restarting), V(created), V(paused), ...
              type: str
            running:
              description: Whether it runs (and is not restarting).
              type: bool
            health:
              description: V(healthy), V(unhealthy) or V(starting); null without a health check.
              type: str
            healthy:
              description: Whether it runs and its health check, if any, says healthy.
              type: bool
            restart_count:
              description: How often the engine restarted it.
              type: int
            started_at:
              description: When it was last started (RFC 3339, from the engine).
              type: str
            exit_code:
              description: The exit code when it does not run; null when it runs.
              type: int
    drift:
      description: The difference between what runs and the release; null when there is nothing to compare with.
      type: dict
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
          description: Services of the release whose containers run another digest (or an unknown one).
          type: list
          elements: str
        missing:
          description: Services of the release without a container.
          type: list
          elements: str
        extra:
          description: Services with containers that are neither in the release nor in its compose file.
          type: list
          elements: str
      sample: {"against": "release", "release_id": "sample-app-1.4.0-b42-3f2a9c1d0b8e", "in_sync": false,
               "changed": ["api"], "missing": [], "extra": []}
    history:
      description: >-
        The newest O(history_limit) entries of the deployment history, newest first, as the deploy wrote
        them.
      type: list
      elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._deployment_info import WATCH_ARG_SPEC, run_module
from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import COMPOSE_STATE_DIR
from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import report_module_args


def main():
    args = report_module_args("project", COMPOSE_STATE_DIR)
    args["argument_spec"].update(WATCH_ARG_SPEC)
    run_module(AnsibleModule(**args))


if __name__ == "__main__":
    main()
