#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: compose_deploy
short_description: Deploy a release manifest as a Docker Compose project, health-gated, with automatic rollback
version_added: 0.1.0
description:
  - Runs on the Docker host. Deploys the release manifest O(release) (written by M(outerloop.docker.release))
    as the Compose project O(project) with the Docker Compose v2 CLI, every release service pinned by digest,
    and keeps a deployment history on the host under O(state_dir).
  - "Order of a deploy: validate the manifest (digest included) and refuse any service whose image is not pinned
    by digest; take the project's deploy lock; check the compose files with the given O(overrides) and O(env)
    with C(docker compose config); pull every image that is not on the host yet; only then store the release
    under C(<state_dir>/<project>/releases/<release_id>/) and run C(docker compose up --detach --remove-orphans
    --pull never); wait until every service's containers run and, where they have a healthcheck, are healthy;
    run the O(smoke_checks) from the host; record the deploy in C(<state_dir>/<project>/history.json)."
  - When the new release is not healthy within O(wait_timeout), a container turns unhealthy, C(up) fails or a
    smoke check fails, the module brings the release that ran before back up from its stored files, waits until
    it is healthy, records the failed deploy (result C(rolled_back)) and the rollback, and fails with the reason
    and the last O(logs_tail) lines of the logs of the failing containers.
  - When there is no release to go back to (the first deploy of a project), the failed release is left as it
    is for diagnosis, recorded with result C(failed), and the module fails saying so. Remove it with
    O(state=absent) or deploy a fixed release.
  - A failed pull, an invalid manifest, an unpinned image or invalid overrides change nothing that runs.
  - O(state=rolled_back) brings back O(rollback_to), or the release that ran before the current one, health-gated
    and recorded as a rollback. O(state=absent) runs C(docker compose down) and records a removal.
  - "With O(proxy), the services it names sit behind the host's front proxy (HAProxy, provisioned by the role
    C(outerloop.docker.front_proxy)) and switch with zero
    downtime: see O(proxy) and C(docs/production.md)."
  - Smoke checks (O(smoke_checks)) run once every service is healthy, after a deploy or a rollback that changed
    something. When one still fails after a deploy, the module returns the application to the release that ran
    before and fails, naming the check (a first release, with nothing to return to, is left as it is for
    diagnosis); when one fails after a rollback, the module fails.
author:
  - outerloop.docker contributors (@outerloop)
extends_documentation_fragment:
  - outerloop.docker.engine
  - outerloop.docker.deploy
  - outerloop.docker.deploy.smoke_checks
options:
  project:
    description:
      - The Compose project name. Defaults to the manifest's C(application).
      - Required with O(state=absent) and O(state=rolled_back).
    type: str
  project_dir:
    description:
      - The Compose project directory (C(--project-directory)); relative paths of the compose file resolve here.
      - Defaults to C(/srv/outerloop/apps/<project>). It is created when missing.
    type: path
  state_dir:
    description:
      - Where the host keeps the deployment history, the stored releases and the deploy lock, one directory per
        project. The format is shared with M(outerloop.docker.deployment_info).
    type: path
    default: /var/lib/outerloop/deployments
  wait_timeout:
    description:
      - Seconds to wait for every service to run and be healthy after C(up), and again after a rollback.
    type: int
    default: 180
  remove_volumes:
    description:
      - With O(state=absent), also remove the project's named volumes (C(docker compose down --volumes)). Data is
        lost.
    type: bool
    default: false
  logs_tail:
    description:
      - Lines of logs returned per failing container.
    type: int
    default: 40
  gate:
    description:
      - "With O(state=present), check the release against the registry before anything else, in the same call: the
        promotion gate of M(outerloop.docker.release_gate) with O(outerloop.docker.release_gate#module:state=verified),
        from this host with its stored registry login. A release the gate refuses fails the module (RV(refused))
        and changes nothing."
      - In check mode, which changes nothing either way, the gate's registry lookups run while the module looks at
        the host, and its answer is taken before the module returns.
      - The role C(outerloop.docker.deploy) gives it to the plan of the first play of C(deploy.yml), so that one
        call per host checks the release, says what it would change and reports what runs (O(report)).
    type: dict
    suboptions:
      environment:
        description:
          - The environment of this deploy; the result then says whether its promotion proof is in the registry
            already (C(record_action) C(present) in the C(services) of RV(gate)).
        type: str
      required_environment:
        description:
          - The environment the release must have succeeded in before (its C(passed-) tags in the registry).
        type: str
      timeout:
        description: Seconds for each registry request.
        type: int
        default: 60
  report:
    description:
      - Also return RV(deployment), what runs of the project after the call (in check mode, what runs now), as
        M(outerloop.docker.deployment_info) reports it, compared with O(release), with the last 3 history entries.
    type: bool
    default: false
  proxy:
    description:
      - The services that sit behind the host's front proxy, and how they switch from one release to the next.
        Without it (or with no O(proxy.services)), every service goes through C(docker compose up) as described above.
      - "A V(rolling) service: the release's containers start beside the old ones in the same project (C(docker
        compose up --no-deps --no-recreate --scale SERVICE=OLD+NEW)); they must be healthy and pass their
        O(proxy.services) C(health_path) and every smoke check aimed at the service's public port on this host, sent
        to each new container directly (C(CONTAINER_IP:TARGET)), before the proxy names them; then the project's file
        C(<config_dir>/conf.d/<project>.cfg) is rewritten, checked with C(haproxy -c) and the proxy reloaded (a new
        worker takes the new containers), the old worker finishes the requests in flight (at most
        O(proxy.drain_timeout) seconds are waited for) and the old containers stop and are removed."
      - A release whose new containers turn unhealthy or fail a check before the reload has them removed; the proxy
        never sent them a request. The module then fails and rolls back as described above. Rollbacks, automatic or
        with O(state=rolled_back), go through the same switch.
      - A V(recreate) service (a stateful singleton) is recreated by C(docker compose up), then the proxy follows it.
      - "The services behind the proxy publish no port: the module adds C(compose.proxy.yaml) to the release's
        files, which resets their C(ports) (C(ports: !reset []), Compose 2.24 or later); the proxy listens on their
        public ports instead. When the containers that run publish such a port (an environment moving behind the
        proxy), they stop just before the reload that gives the port to the proxy."
      - A rolling service may not set C(container_name) nor C(network_mode) C(host).
    type: dict
    suboptions:
      services:
        description:
          - "C({SERVICE: {port, target, health_path, strategy}}): C(port), required, the public port the proxy listens
            on (all addresses); C(target), the container's port (default C(port)); C(health_path), the path
            (C(/healthz)) the switch checks on each new container and the proxy checks on each server (default: a
            TCP check); C(strategy), V(rolling) (default) or V(recreate)."
        type: dict
        default: {}
      drain_timeout:
        description:
          - Seconds to wait for the old worker of the proxy to finish the requests in flight before the old containers
            stop. The front proxy's C(hard-stop-after) ends it at the latest.
        type: int
        default: 30
      reload_timeout:
        description:
          - Seconds to wait for the new worker of the proxy after a reload; without one, the module fails and the old
            worker keeps serving.
        type: int
        default: 15
      container:
        description: The front proxy's container (the role's C(front_proxy_container_name)).
        type: str
        default: outerloop-proxy
      config_dir:
        description: The front proxy's configuration directory (the role's C(front_proxy_config_dir)).
        type: path
        default: /etc/outerloop/proxy
      runtime_dir:
        description: Where the front proxy's master CLI C(master.sock) is (the role's C(front_proxy_runtime_dir)).
        type: path
        default: /var/lib/outerloop/proxy
attributes:
  check_mode:
    support: full
    description:
      - Can run in check mode and then changes nothing; it reports what a real run would do.
    details:
      - Check mode takes no lock, pulls nothing and writes nothing; it validates the release, checks the compose
        files with C(docker compose config) in a private temporary directory, and reports the images a real run
        would pull (RV(pulled)) and C(changed) computed as a real run does; with O(proxy), which services would
        switch (RV(proxy)).
  diff_mode:
    support: full
    description:
      - Returns the release id and the digest of every service before and after.
  idempotent:
    support: full
    description:
      - When the release is the current one in the history with the same digests, the same O(overrides),
        O(env) and O(secrets), and every service's containers run the release's image and are healthy (and, with
        O(proxy), the proxy's file names the containers that run), nothing is pulled or recreated, the proxy is not
        reloaded and C(changed=false) (unless retention, O(keep_releases), prunes a release).
requirements:
  - PyYAML (C(python3-yaml)) on the Docker host
  - Docker Compose v2 (C(docker compose)) on the Docker host
notes:
  - Images are pulled with the Docker SDK using the host's stored registry login (C(/root/.docker/config.json) for
    root); see M(outerloop.docker.registry_login). An image already on the host is not pulled again.
  - A service outside the release listed in O(allow_unpinned) with a tag is pulled only when missing.
  - "Files on the host: C(<state_dir>/<project>/history.json) (newest 50 entries), C(<state_dir>/<project>/lock)
    and C(<state_dir>/<project>/releases/<release_id>/) with C(manifest.json), C(compose.yaml) (pinned by digest),
    C(compose.override.yaml), C(.env) and C(secrets.env) (only with O(secrets)), mode C(0600), enough to bring a
    release up without the controller: C(docker compose -p PROJECT --project-directory PROJECT_DIR -f compose.yaml
    [-f compose.override.yaml] --env-file .env [--env-file secrets.env] up -d)."
  - The deploy lock is an C(flock) on C(<state_dir>/<project>/lock) that holds the holder's pid, host, user, AWX job
    and start time. The kernel releases it when the holder dies, so a killed run never blocks the next one.
  - The smoke checks run on the Docker host, so C(127.0.0.1) and published ports of the host work.
  - A failed pull is not recorded in the history, as nothing was deployed.
seealso:
  - module: outerloop.docker.release
  - module: outerloop.docker.registry_login
"""

EXAMPLES = r"""
- name: Production behind the front proxy, the api switched with zero downtime
  outerloop.docker.compose_deploy:
    release: "{{ release_manifest }}"
    environment: production
    smoke_checks:
      - url: http://127.0.0.1:8080/healthz
    proxy:
      services:
        api: {port: 8080, target: 8080, health_path: /healthz}
      drain_timeout: 10

- name: Deploy release 1.0.1 of the sample application to QA
  outerloop.docker.compose_deploy:
    release: "{{ lookup('ansible.builtin.file', 'releases/sample-app-1.0.1.json') | from_json }}"
    environment: qa
    env:
      API_PORT: "8080"
    secrets:
      API_TOKEN: "{{ vault_api_token }}"
    keep_releases: 5
    smoke_checks:
      - url: http://127.0.0.1:8080/version
        contains: "1.0.1"
    triggered_by:
      user: "{{ lookup('ansible.builtin.env', 'USER') }}"
      awx_job_id: "{{ awx_job_id | default(omit) }}"
      host: "{{ lookup('ansible.builtin.pipe', 'hostname') }}"

- name: Two replicas of the worker in production, from an override
  outerloop.docker.compose_deploy:
    release: "{{ release_manifest }}"
    environment: production
    overrides:
      services:
        worker:
          deploy:
            replicas: 2

- name: Go back to the release before the current one
  outerloop.docker.compose_deploy:
    project: sample-app
    state: rolled_back
    reason: 1.0.2 breaks the reports

- name: Take the application down, keeping its volumes
  outerloop.docker.compose_deploy:
    project: sample-app
    state: absent
"""

RETURN = r"""
gate:
  description:
    - What the promotion gate checked (O(gate)), as M(outerloop.docker.release_gate) returns it.
  returned: when O(gate) is given with O(state=present)
  type: dict
  sample: {"release_id": "sample-app-1.4.0-b42-3f2a9c1d0b8e", "environment": "production",
           "required_environment": "staging", "services": {"api": {"record_action": "present"}}}
refused:
  description: True when the promotion gate refused the release (O(gate)); nothing was changed then.
  returned: when the gate refused the release
  type: bool
  sample: true
deployment:
  description:
    - What runs of the project, as RV(outerloop.docker.deployment_info#module:deployment) says it.
  returned: when O(report=true) and the call succeeded
  type: dict
  sample: {"project": "sample-app", "release_id": "sample-app-1.4.0-b42-3f2a9c1d0b8e", "healthy": true,
           "drift": {"in_sync": true, "changed": [], "missing": [], "extra": []}}
release_id:
  description: The release that runs after the task (with O(state=absent), none).
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
  sample: sample-app-1.0.0-b7-0123456789ab
project:
  description: The Compose project name.
  returned: always
  type: str
  sample: sample-app
project_dir:
  description: The Compose project directory.
  returned: always
  type: str
  sample: /srv/outerloop/apps/sample-app
rolled_back:
  description:
    - True when the task rolled back (O(state=rolled_back) that changed something). A failed deploy returns it with
      the failure, true when the previous release is healthy again.
  returned: always
  type: bool
rolled_back_to:
  description: The release a failed deploy rolled back to.
  returned: on failure after an automatic rollback
  type: str
services:
  description: Per service of the project.
  returned: when state is present or rolled_back
  type: dict
  sample:
    api:
      image: reg1:5000/outerloop/sample-app/api@sha256:5592baeaecd7124bd7979abff7448602e3c3aa884b58222253e7695785aa005e
      digest: sha256:5592baeaecd7124bd7979abff7448602e3c3aa884b58222253e7695785aa005e
      running_digest: sha256:5592baeaecd7124bd7979abff7448602e3c3aa884b58222253e7695785aa005e
      before_digest: sha256:0b1e2f4a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f
      changed: true
      health: healthy
      containers:
        - id: 3f2a9c1d0b8e
          name: sample-app-api-1
          status: running (healthy)
  contains:
    image:
      description: The image the service is deployed with.
      type: str
    digest:
      description: The digest the service runs after the task.
      type: str
    running_digest:
      description: The digest the service's containers run, read from the engine (null when unknown).
      type: str
    before_digest:
      description: The digest of the service before the task.
      type: str
    changed:
      description: Whether the service's digest changes.
      type: bool
    health:
      description:
        - V(healthy), V(running) (no healthcheck), V(starting), V(unhealthy), V(missing) or the container state.
      type: str
    containers:
      description: The service's containers, with C(id), C(name) and C(status).
      type: list
      elements: dict
pulled:
  description: The images pulled (in check mode, the images a real run would pull).
  returned: when the release changes
  type: list
  elements: str
pruned:
  description:
    - What retention (O(keep_releases)) removed after the deploy; in check mode, what a real run would remove.
  returned: when state is present and the deploy succeeded
  type: dict
  sample:
    releases: [sample-app-1.0.1-b1-d280ca507fad]
    images: [reg1:5000/outerloop/sample-app/api@sha256:5592baeaecd7124bd7979abff7448602e3c3aa884b58222253e7695785aa005e]
  contains:
    releases:
      description: The release ids whose stored files were removed, oldest first.
      type: list
      elements: str
    images:
      description: The image references removed (the images that only they used).
      type: list
      elements: str
smoke:
  description: The results of the smoke checks, each with C(url), C(ok), C(status), C(attempts) and C(msg).
  returned: always
  type: list
  elements: dict
history:
  description: The newest five entries of the project's deployment history on the host (see C(_deploy_history)).
  returned: always
  type: list
  elements: dict
logs:
  description: The last O(logs_tail) lines of the logs of the failing containers, per container name.
  returned: on failure of a deploy or rollback
  type: dict
proxy:
  description:
    - With O(proxy), what the switch did. In check mode, C(plan), per service C(strategy), C(switch) (whether it
      would switch), C(old) and C(start) (containers to stop and start).
    - Otherwise C(services) (per service C(strategy) and C(rolling), whether it went through the rolling switch),
      C(checks) (the checks sent to the new containers directly), C(switched), C(reloaded), C(reload_seconds) (until
      the new worker ran), C(drain_seconds) and C(drained) (the old worker finished its requests), C(switch_seconds)
      (the file, the reload and the drain), C(stop_seconds) (the old containers stopped) and C(seconds) (all).
  returned: when proxy is set and something changed
  type: dict
  sample:
    services: {api: {strategy: rolling, rolling: true}}
    switched: true
    reloaded: true
    reload_seconds: 0.33
    drain_seconds: 1.98
    drained: true
    switch_seconds: 2.74
    stop_seconds: 0.6
    seconds: 9.4
lock_holder:
  description: Who holds the deploy lock (pid, host, user, awx_job_id, since, release_id).
  returned: when the lock was not free within O(lock_timeout)
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._compose_deploy import run_module
from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import COMPOSE_STATE_DIR
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.deploy import (
    DEPLOY_ARG_SPEC,
    deploy_required_if,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.front_proxy import PROXY_ARG_SPEC
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import ENGINE_ARG_SPEC


def main():
    module = AnsibleModule(
        argument_spec={
            **DEPLOY_ARG_SPEC,
            **ENGINE_ARG_SPEC,
            "project": {"type": "str"},
            "project_dir": {"type": "path"},
            "state_dir": {"type": "path", "default": COMPOSE_STATE_DIR},
            "wait_timeout": {"type": "int", "default": 180},
            "remove_volumes": {"type": "bool", "default": False},
            "logs_tail": {"type": "int", "default": 40},
            "proxy": PROXY_ARG_SPEC,
            "gate": {
                "type": "dict",
                "options": {
                    "environment": {"type": "str"},
                    "required_environment": {"type": "str"},
                    "timeout": {"type": "int", "default": 60},
                },
            },
            "report": {"type": "bool", "default": False},
        },
        required_if=deploy_required_if("project"),
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
