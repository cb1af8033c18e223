#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: container_diagnose
short_description: Diagnose an application on a Docker host, since its last deploy
version_added: 0.1.0
description:
  - Gathers, for one compose project (one stack on a swarm manager) on the Docker host the module runs on, what
    a developer needs to find out why it fails, read from the Docker Engine (the Docker SDK for Python), the
    deployment history the deploy modules keep on the host, and the host's file system.
  - Per container (all of the project's, or those of O(service)), running or not, its state, its health with the
    last O(health_log) outputs of its health check (C(State.Health.Log)), its exit code, whether the kernel killed
    it for lack of memory (C(OOMKilled)), its restart count and policy, when it was started and when it ended, its
    last O(logs_tail) log lines since the last deploy, and one stats sample of a running one, CPU use and memory
    use against its memory limit.
  - Per host, the events of the project since the last deploy (V(die), V(oom), V(health_status)), from the engine's
    event log and, for what it no longer holds, from the containers' state (see RV(diagnosis.events)), the
    disk use of Docker's data (C(docker system df)), of the file system of Docker's root directory and of the
    releases the deploy stored under O(state_dir).
  - On a swarm manager where the project runs as a stack, the history of the stack's tasks on every node, newest
    first, with their errors and exit codes; the containers are then those of this node only, and the history is
    read from O(stack_state_dir).
  - The last deploy is the newest deploy or rollback of the history, whatever its result; logs and events are read
    since it started (or since O(since)). The release that runs is the history's newest deploy or rollback whose
    digests the containers run, a failed deploy left for diagnosis included. Its stored manifest gives its
    version, commit, CI build number and test summaries.
  - The containers' environment (where the application's secrets are) is never returned. Values of variables
    named like a credential (C(*PASSWORD*), C(*TOKEN*), C(*SECRET*), ...) and the values of the C(secrets.env) of
    the stored releases are masked in log lines and health check outputs.
  - The module only reads; it changes nothing.
author:
  - outerloop.docker contributors (@outerloop)
extends_documentation_fragment:
  - outerloop.docker.engine
options:
  project:
    description:
      - The compose project (on a swarm manager, the stack) to diagnose.
    type: str
    required: true
  service:
    description:
      - Only the containers and events of this service of the project. The disk use and the swarm's tasks are
        those of the whole project.
    type: str
  state_dir:
    description:
      - Where the deploy keeps each project's history and stored releases on a Docker host
        (M(outerloop.docker.compose_deploy)'s O(outerloop.docker.compose_deploy#module:state_dir)).
    type: path
    default: /var/lib/outerloop/deployments
  stack_state_dir:
    description:
      - Where the deploy keeps each stack's history on a swarm manager (M(outerloop.docker.stack_deploy)'s
        O(outerloop.docker.stack_deploy#module:state_dir)).
    type: path
    default: /var/lib/outerloop/stacks
  since:
    description:
      - Read logs and events since this time, an RFC 3339 time (V(2026-11-26T13:00:00Z)) or a number of seconds
        ago (V(600)), instead of since the start of the last deploy.
      - Without it and without a deploy in the history, the last hour.
    type: str
  logs_tail:
    description:
      - The last lines of each container's log (stdout and stderr, with the engine's time stamps) to return, of
        those written since the last deploy. V(0) returns none.
    type: int
    default: 100
  health_log:
    description:
      - How many of the last runs of each container's health check to return (the engine keeps five).
    type: int
    default: 5
  events_limit:
    description:
      - At most this many events are returned, the newest.
    type: int
    default: 200
  stats:
    description:
      - Take one stats sample of each running container (CPU and memory). A sample takes the engine about two
        seconds; the containers are sampled at the same time.
    type: bool
    default: true
  task_history:
    description:
      - On a swarm manager, at most this many tasks per node, the newest.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
    description:
      - The module only reads; check mode reads the same.
  diff_mode:
    support: none
    description:
      - The module changes nothing, so there is no difference to show.
  idempotent:
    support: full
    description:
      - The module never changes anything; RV(ignore:changed) is always V(false). What it reports changes with
        what runs.
notes:
  - The free space of Docker's root directory is read only when the engine is this host's (a C(unix://) socket).
  - The playbook C(outerloop.docker.diagnose) runs this module on every host of an environment and writes one
    bundle on the controller, traced back to the release and the JUnit files of its build (C(docs/diagnose.md)).
seealso:
  - module: outerloop.docker.deployment_info
  - module: outerloop.docker.stack_info
"""

EXAMPLES = r"""
- name: Diagnose sample-app since its last deploy
  outerloop.docker.container_diagnose:
    project: sample-app
  register: diagnose

- name: Say what is wrong
  ansible.builtin.debug:
    msg: "{{ diagnose.diagnosis.problems }}"

- name: The api alone, its last 20 log lines of the last ten minutes, no stats sample
  outerloop.docker.container_diagnose:
    project: sample-app
    service: api
    since: "600"
    logs_tail: 20
    stats: false
  register: diagnose
"""

RETURN = r"""
diagnosis:
  description: The diagnosis of the project on this host.
  returned: success
  type: dict
  contains:
    host:
      description: The host name of the Docker host.
      type: str
      sample: qa1
    project:
      description: The project (O(project)).
      type: str
      sample: sample-app
    service:
      description: The service (O(service)); null for all of them.
      type: str
    platform:
      description: V(compose), or V(swarm) when the project runs as a stack on this swarm manager.
      type: str
      sample: compose
    since:
      description: Logs and events are those from this time (RFC 3339, UTC).
      type: str
      sample: "2026-11-26T13:04:40Z"
    until:
      description: When the module looked (RFC 3339, UTC).
      type: str
      sample: "2026-11-26T13:20:00Z"
    deploy:
      description: The last deploy or rollback of the history (C(action), C(result), C(release_id), C(started),
        C(finished), C(reason)); null without history.
      type: dict
      sample: {"action": "deploy", "result": "failed", "release_id": "sample-app-1.5.0-b43-0a1b2c3d4e5f",
               "started": "2026-11-26T13:04:40Z", "finished": "2026-11-26T13:05:30Z",
               "reason": "api is unhealthy (its health check said: exit 1: GET /healthz: HTTP/1.0 503)"}
    release:
      description:
        - The release that runs, traced back to its build; null when no history entry matches what runs.
        - C(release_id), C(application), C(version), C(commit), C(short_commit) (the twelve characters the CI
          role names the JUnit directory of the build with), C(source) (the repository), C(build_number),
          C(build_host), C(built_at), C(tests_passed), C(tests) (per suite its summary), C(deployed_result) (the
          result of its deploy), C(deployed_at), C(environment).
      type: dict
      sample: {"release_id": "sample-app-1.5.0-b43-0a1b2c3d4e5f", "version": "1.5.0", "build_number": "43",
               "commit": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", "short_commit": "0a1b2c3d4e5f"}
    containers:
      description: The containers, by service and name.
      type: list
      elements: dict
      contains:
        name:
          description: The container name.
          type: str
          sample: sample-app-api-1
        id:
          description: The first twelve characters of its id.
          type: str
        service:
          description: Its service.
          type: str
          sample: api
        image:
          description: The image reference it was created from.
          type: str
        state:
          description: The engine's state (V(running), V(exited), V(restarting), V(created), ...).
          type: str
        running:
          description: Whether it runs (and is not restarting).
          type: bool
        health:
          description: Null without a health check; else C(status) (V(healthy), V(unhealthy), V(starting)),
            C(failing_streak), and C(log), the last runs of the check, oldest first, each C(start), C(exit_code)
            and C(output) (secrets masked).
          type: dict
          sample: {"status": "unhealthy", "failing_streak": 12, "log": [{"start": "2026-11-26T13:05:28.1Z",
                   "exit_code": 1, "output": "GET /healthz: HTTP/1.0 503 Service Unavailable"}]}
        exit_code:
          description: Its exit code when it does not run; null when it runs.
          type: int
        oom_killed:
          description: Whether the kernel killed it for lack of memory (C(State.OOMKilled)).
          type: bool
        error:
          description: The engine's error for it (C(State.Error)), null when none.
          type: str
        restart_count:
          description: How often the engine restarted it.
          type: int
        restart_policy:
          description: Its restart policy (V(no), V(always), V(unless-stopped), V(on-failure)).
          type: str
        created_at:
          description: When it was created (RFC 3339).
          type: str
        started_at:
          description: When it was last started (RFC 3339).
          type: str
        finished_at:
          description: When it last ended; null when it runs.
          type: str
        cpu_percent:
          description: CPU use in percent of one CPU over the stats sample; null when it does not run or without
            O(stats).
          type: float
        memory:
          description: C(usage) (bytes, without the page cache, as C(docker stats)), C(limit) (its memory limit,
            else the host's memory), C(limited) (whether it has a limit of its own), C(percent).
          type: dict
          sample: {"usage": 15728640, "limit": 16777216, "limited": true, "percent": 93.75}
        log_lines:
          description: Its last O(logs_tail) log lines since the last deploy, each with the engine's time stamp,
            secrets masked.
          type: list
          elements: str
        problems:
          description: What is wrong with it, in words.
          type: list
          elements: str
          sample: ["diag-app-oom-1 was killed for lack of memory (OOMKilled, limit 16.0 MiB)"]
    events:
      description:
        - The events of the project since RV(diagnosis.since), oldest first, each C(time), C(action) (V(die),
          V(oom), V(health_status)), C(container), C(service), C(exit_code) (of a V(die)), C(status) (the verdict of
          a V(health_status)) and C(source).
        - C(source) V(engine) is an event of the engine's event log. The engine keeps only its last 256 events in
          memory and every health check run adds three, so on a busy host older events are gone; C(source) V(state)
          is an event the container's own state still tells (the last V(die) with its exit code from C(FinishedAt),
          an V(oom) of an C(OOMKilled) container, the V(health_status) of an unhealthy one at the first failing run
          of its health log), given only when the engine's log has none of that action for that container.
      type: list
      elements: dict
      sample: [{"time": "2026-11-26T13:05:01Z", "action": "oom", "container": "diag-app-oom-1", "service": "oom",
                "exit_code": null, "status": null, "source": "engine"}]
    event_counts:
      description: How many events of each action, and of each health verdict.
      type: dict
      sample: {"die": 2, "oom": 1, "health_status": 3, "unhealthy": 1}
    disk:
      description: C(docker) (per kind, C(images), C(containers), C(volumes), C(build_cache), its C(count) and
        C(bytes)), C(filesystem) (C(path), C(total), C(free), C(used_percent) of Docker's root directory; null when
        unknown) and C(releases) (the stored releases of the project, C(count), C(bytes), and C(each) per release
        id).
      type: dict
    swarm:
      description: On a swarm manager where the project runs as a stack, C(nodes) (host names), C(tasks) (per
        node, the newest tasks, each C(service), C(task), C(slot), C(state), C(desired_state), C(error),
        C(message), C(exit_code), C(at)) and C(errors) (how many tasks have an error); null otherwise.
      type: dict
    problems:
      description: What is wrong, in words, one entry per finding.
      type: list
      elements: str
      sample: ["diag-app-api-1 is unhealthy: its health check said GET /healthz: HTTP/1.0 503 ..."]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._container_diagnose import ARG_SPEC, run_module


def main():
    run_module(AnsibleModule(argument_spec=ARG_SPEC, supports_check_mode=True))


if __name__ == "__main__":
    main()
