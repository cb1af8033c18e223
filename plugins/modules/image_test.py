#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_test
short_description: Run test commands in throwaway containers from images and record the outcomes
version_added: 0.1.0
description:
  - Runs O(command) in a new container from O(image) on the Docker Engine, waits at most O(run_timeout)
    seconds for it to exit, collects its standard output and standard error, copies the files under
    O(results_path) in the container (for example JUnit XML reports) to O(results_dest) on the engine's
    host, and removes the container. The container is removed in every case, also when the test fails,
    times out or the module is terminated.
  - The image must already be on the engine; the module never pulls. Pass the
    RV(outerloop.docker.image_build#module:image_id) of the build to test exactly the image that was built.
  - With O(suite) set, the module writes a test record (C(RECORD_DIR/IMAGE_ID.SUITE.json)) for the image's
    ID after the run, with whether it passed (exit code 0), the exit code, a summary and the names of the JUnit
    files. M(outerloop.docker.image_publish) refuses to publish an image without passing records.
  - A non-zero exit code fails the task with the exit code, the counts and the names of the failed tests
    from the JUnit files, and the last lines of the output, after the record and the results are written
    (unless O(fail_on_error=false)). A run that exceeds O(run_timeout) is killed, recorded as failed and
    always fails the task.
  - With O(skip_passed=true), an image whose ID already has a passing record of O(suite) is not tested
    again; the result then comes from that record (RV(tested_before=true)) and nothing changes.
  - With O(tests), one task runs several tests at the same time (at most O(parallel) at once), for example
    the unit tests of every service of an application. Each entry of O(tests) gives its own O(image),
    O(command), O(env), O(results_path) and O(results_dest); every other option is shared. Each run is
    judged and recorded on its own (RV(runs)); when one fails, the others still finish, and the task
    fails naming every failed run.
author:
  - outerloop.docker contributors (@outerloop)
extends_documentation_fragment:
  - outerloop.docker.engine
options:
  image:
    description:
      - The image to test, as a reference (V(reg1:5000/sample/api:42)) or an image ID (V(sha256:...)).
      - Required unless O(tests) is given; not allowed with it.
    type: str
  command:
    description:
      - The command to run, instead of the image's C(CMD). The image's C(ENTRYPOINT), if any, still applies.
      - A list is run as it is. A string is split like a shell would split it, but not run by a shell; use
        V([sh, -c, "..."]) for pipes, redirections or C(&&).
      - If not set, the image's C(CMD) runs.
    type: raw
  env:
    description:
      - Environment variables for the command. Values are passed as strings.
    type: dict
  network:
    description:
      - The network the container joins, for example the network of the application under test, V(host) or
        V(none). The default is the engine's default bridge network.
    type: str
  user:
    description:
      - The user (and group) the command runs as, C(USER[:GROUP]) by name or number. The default is the
        image's C(USER).
    type: str
  workdir:
    description:
      - The working directory of the command in the container. The default is the image's C(WORKDIR).
    type: str
  run_timeout:
    description:
      - Seconds the command may run. When it still runs after that, the container is killed, the run is
        recorded as failed with exit code C(-1) and the task fails.
    type: int
    default: 600
  volumes:
    description:
      - Mounts, each C(HOST:CONTAINER[:ro]) (or C(:rw)), where HOST is an absolute path on the engine's host
        or the name of a volume.
    type: list
    elements: str
  results_path:
    description:
      - A directory (or a single file) in the container whose files are copied to O(results_dest) after the
        command has exited, for example V(/results) where the tests write JUnit XML.
      - Only regular files and directories are copied; symbolic links, devices and FIFOs are skipped with a
        warning. An archive member with an absolute path or C(..) stops the copy and fails the task.
      - If the path does not exist in the container, nothing is copied and a warning says so.
    type: str
  results_dest:
    description:
      - The directory on the engine's host the results are copied into; created if missing. Files of the same
        name are overwritten, other files in it are left alone.
      - Required with O(results_path).
    type: path
  suite:
    description:
      - The name of the test suite, for example V(unit). With it set, a test record is written to O(record_dir)
        for the image's ID; without it no record is written.
      - Letters, digits, C(_), C(.) and C(-).
    type: str
  record_dir:
    description:
      - The directory of the test records on the host the module runs on.
    type: path
    default: /var/lib/outerloop/test-records
  fail_on_error:
    description:
      - Fail the task when the command exits with a non-zero code.
      - With V(false) the task succeeds and RV(passed) and RV(rc) tell the outcome; the record says failed all the
        same. A timeout, a container that does not start and a failed copy of the results fail the task in any case.
    type: bool
    default: true
  skip_passed:
    description:
      - Do not test an image again whose ID already has a record of O(suite) in O(record_dir) that says it
        passed. The result then carries that record's RV(summary) and RV(rc), RV(tested_before=true) and
        RV(changed=false). Needs O(suite).
    type: bool
    default: false
  tests:
    description:
      - Several runs in one task, at the same time (see O(parallel)). The options of an entry replace the
        shared ones of the same name for that run.
      - The result is then RV(runs), one entry per run in this order, and RV(passed) for all of them.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - A name for this run in RV(runs) and in messages, for example the service. Default the image.
        type: str
      image:
        description:
          - The image of this run, as O(image).
        type: str
        required: true
      command:
        description:
          - The command of this run, as O(command).
        type: raw
      env:
        description:
          - The environment of this run, as O(env) (it replaces the shared one).
        type: dict
      results_path:
        description:
          - As O(results_path), for this run.
        type: str
      results_dest:
        description:
          - As O(results_dest), for this run. Required with this entry's O(tests[].results_path).
        type: path
  parallel:
    description:
      - With O(tests), how many runs go at the same time. V(1) runs them one after another.
    type: int
    default: 4
  container_prefix:
    description:
      - The container is named C(PREFIX-SUITE-RANDOM) (C(run) instead of SUITE when O(suite) is not set) and
        labelled C(io.outerloop.image-test=SUITE), so that a container left behind (for example when the engine
        failed during removal) can be found.
    type: str
    default: image-test
attributes:
  check_mode:
    support: partial
    description:
      - Can run in check mode; it then runs no test.
    details:
      - In check mode the module checks that the image is on the engine and that the options are valid, runs
        nothing, writes no record and reports RV(changed=true), because a real run always runs a container and
        writes a record; with O(skip_passed=true) and a passing record it reports RV(changed=false).
  diff_mode:
    support: none
    description:
      - Returns no diff; the record and RV(results) are the output.
  idempotent:
    support: partial
    description:
      - Running a test is not idempotent by nature. Every run starts and removes a container and, with O(suite),
        rewrites the record, so it reports RV(changed=true).
    details:
      - With O(skip_passed=true) an image that passed before is not run again, so a second run after a pass
        reports RV(changed=false). A failed test runs again.
requirements:
  - A running Docker Engine reachable at O(docker_host)
notes:
  - O(volumes) and O(results_dest) are paths on the host of the Docker Engine of O(docker_host); O(record_dir) is on
    the host the module runs on. Keep them the same host (the default) unless you know better. O(timeout) is for the
    engine's answers other than the wait for the command to exit (see O(run_timeout)).
  - The container is not started with C(--rm), so that the results can be copied out after the command exited;
    the module removes it (with its anonymous volumes) itself.
  - The output is read after the command exited. Only the last 30 lines of each stream are returned.
seealso:
  - module: outerloop.docker.image_build
  - module: outerloop.docker.image_publish
"""

EXAMPLES = r"""
- name: Run the unit tests inside the image that was just built, keep the JUnit report
  outerloop.docker.image_test:
    image: "{{ api_image.image_id }}"
    command: [python3, -m, pytest, -q, --junitxml=/results/unit.xml, tests/unit]
    suite: unit
    results_path: /results
    results_dest: /srv/build/results/api
    run_timeout: 900
  register: api_unit

- name: Unit tests of two services at once; images that passed before are not tested again
  outerloop.docker.image_test:
    tests:
      - name: api
        image: "{{ images.api }}"
        command: [python3, /app/run_tests.py, --junit, /results/unit.xml]
        results_path: /results
        results_dest: /srv/build/results/api
      - name: worker
        image: "{{ images.worker }}"
        command: [python3, /app/run_tests.py, --junit, /results/unit.xml]
        results_path: /results
        results_dest: /srv/build/results/worker
    suite: unit
    skip_passed: true
    fail_on_error: false
  register: unit

- name: Run a smoke check against the database of the test network, as an unprivileged user
  outerloop.docker.image_test:
    image: reg1:5000/sample/worker:42
    command: sh -c 'worker --check && echo ok'
    network: sample-test
    user: "1000:1000"
    env:
      DATABASE_URL: postgres://app@db/app
    volumes:
      - /srv/build/fixtures:/fixtures:ro
    suite: smoke
    fail_on_error: false
  register: worker_smoke
"""

RETURN = r"""
rc:
  description:
    - The exit code of the command. Null when it did not exit by itself (timeout) or did not start.
    - With O(fail_on_error=false) a non-zero code does not fail the task (the result carries C(failed=false)
      explicitly, since Ansible otherwise counts a non-zero C(rc) as a failure).
  returned: when the container was created
  type: int
  sample: 0
passed:
  description:
    - Whether the command exited with code 0 within O(run_timeout).
  returned: when the container was created
  type: bool
  sample: true
stdout_tail:
  description:
    - The last 30 lines of the command's standard output.
  returned: always
  type: list
  elements: str
  sample: ["tests/test_api.py ....  [100%]", "4 passed in 0.12s"]
stderr_tail:
  description:
    - The last 30 lines of the command's standard error.
  returned: always
  type: list
  elements: str
  sample: []
results:
  description:
    - The paths on the engine's host of the files copied from O(results_path).
  returned: always
  type: list
  elements: str
  sample: [/srv/build/results/api/unit.xml]
summary:
  description:
    - The exit code and, when JUnit XML files were copied, the number of tests, failures, errors and skipped tests
      and the names of the failed tests. The same text is in the record.
  returned: when the container was created
  type: str
  sample: "rc 1; 4 tests, 1 failures, 0 errors, 0 skipped (failed: tests.test_api.test_version)"
failed_tests:
  description:
    - The failed tests (C(classname.name)) found in the JUnit XML files copied out.
  returned: when the container was created
  type: list
  elements: str
  sample: [tests.test_api.test_version]
record:
  description:
    - The path of the test record written for the image. Null without O(suite) and in check mode.
  returned: always
  type: str
  sample: /var/lib/outerloop/test-records/e292a57c478898c604242cde2c5802d87366d8d2d773db1103098a43be6c1f41.unit.json
duration:
  description:
    - Seconds from the start of the container to the exit (or the kill) of the command.
  returned: when the container was created
  type: float
  sample: 3.214
image_id:
  description:
    - The ID of the image the test ran against (the one the record is for).
  returned: always
  type: str
  sample: sha256:e292a57c478898c604242cde2c5802d87366d8d2d773db1103098a43be6c1f41
container:
  description:
    - The name of the container the test ran in (removed by now).
  returned: when not in check mode
  type: str
  sample: image-test-unit-3f9c2a1b
changed:
  description:
    - V(true) when a test ran (see C(attributes)); V(false) when O(skip_passed) took a passing record instead.
    - With O(tests), V(true) when any entry ran.
  returned: always
  type: bool
tested_before:
  description:
    - Whether the image passed before and was not tested again (O(skip_passed)).
  returned: when the image was found
  type: bool
  sample: false
runs:
  description:
    - With O(tests), one entry per run, in the order of O(tests). Each has the keys a single run returns
      (RV(passed), RV(rc), RV(summary), RV(failed_tests), RV(results), RV(record), RV(stdout_tail),
      RV(stderr_tail), RV(image_id), RV(tested_before), RV(changed)) and the keys below. With
      O(tests), RV(passed) at the top says whether every run passed.
  returned: when O(tests) is given
  type: list
  elements: dict
  contains:
    name:
      description: The entry's O(tests[].name), or its image.
      type: str
      sample: api
    failed:
      description: Whether this run failed the task (a failing test with O(fail_on_error=false) does not).
      type: bool
      sample: false
    msg:
      description: Why this run failed the task.
      type: str
      returned: when this run failed
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._domain.test_records import DEFAULT_RECORD_DIR
from ansible_collections.outerloop.docker.plugins.module_utils._image_test import run_module
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import ENGINE_ARG_SPEC
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.parallel import PARALLEL_ARG_SPEC


def main():
    module = AnsibleModule(
        argument_spec={
            "image": {"type": "str"},
            "tests": {
                "type": "list",
                "elements": "dict",
                "options": {
                    "name": {"type": "str"},
                    "image": {"type": "str", "required": True},
                    "command": {"type": "raw"},
                    "env": {"type": "dict"},
                    "results_path": {"type": "str"},
                    "results_dest": {"type": "path"},
                },
                "required_together": [("results_path", "results_dest")],
            },
            "skip_passed": {"type": "bool", "default": False},
            **PARALLEL_ARG_SPEC,
            "command": {"type": "raw"},
            "env": {"type": "dict"},
            "network": {"type": "str"},
            "user": {"type": "str"},
            "workdir": {"type": "str"},
            "run_timeout": {"type": "int", "default": 600},
            "volumes": {"type": "list", "elements": "str"},
            "results_path": {"type": "str"},
            "results_dest": {"type": "path"},
            "suite": {"type": "str"},
            "record_dir": {"type": "path", "default": DEFAULT_RECORD_DIR},
            "fail_on_error": {"type": "bool", "default": True},
            "container_prefix": {"type": "str", "default": "image-test"},
            **ENGINE_ARG_SPEC,
        },
        required_together=[("results_path", "results_dest")],
        required_one_of=[("image", "tests")],
        mutually_exclusive=[("image", "tests")],
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
