#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: test_record
short_description: Read or write the test records that vouch for exact image IDs
version_added: 0.1.0
description:
  - A test record is the evidence, kept on the build host, that one test suite passed (or failed) against
    exactly one image ID, in C(RECORD_DIR/HEX.SUITE.json). M(outerloop.docker.image_test) writes one for
    every suite it runs inside an image, and M(outerloop.docker.image_publish) refuses to bless an image
    without a passing record of every required suite. A rebuilt image has another ID, so an old record
    never vouches for it.
  - This module writes the record of a suite that ran outside the images, for example the functional
    tests of the whole running application, for every image under test at once (O(state=present)), and
    reads the records of a suite for several images in one task (O(state=query)), so that a pipeline can
    skip what already passed.
author:
  - outerloop.docker contributors (@outerloop)
options:
  images:
    description:
      - The image IDs (C(sha256:...)) the suite ran against, or whose records are read.
    type: list
    elements: str
    required: true
  suite:
    description:
      - The name of the suite, for example V(functional) or V(unit).
    type: str
    required: true
  state:
    description:
      - V(present) writes a record for every image of O(images) (replacing an older record of the suite).
      - V(query) only reads them.
    type: str
    choices: [present, query]
    default: query
  passed:
    description:
      - Whether the suite passed. Required with O(state=present).
    type: bool
  rc:
    description:
      - The exit code of the test run.
      - Defaults to V(0) when O(passed) and V(1) otherwise.
    type: int
  summary:
    description:
      - One line about the outcome, for example V(12 tests, 0 failures).
    type: str
    default: ""
  junit:
    description:
      - The JUnit files of the run, relative to where the pipeline keeps them.
    type: list
    elements: str
    default: []
  details:
    description:
      - More facts to keep in each record, for example the application and the commit. They cannot replace
        the record's own keys.
    type: dict
    default: {}
  record_dir:
    description:
      - The directory of the records.
    type: path
    default: /var/lib/outerloop/test-records
attributes:
  check_mode:
    support: full
    description:
      - Can run in check mode and report what a real run would change.
    details:
      - With O(state=present), reports what it would write and writes nothing.
  diff_mode:
    support: none
    description:
      - Returns no diff.
  idempotent:
    support: partial
    description:
      - O(state=query) changes nothing; O(state=present) is not idempotent.
    details:
      - O(state=present) records a run, so it reports a change each time it writes, like a log; the finishing
        time makes every record new.
seealso:
  - module: outerloop.docker.image_test
  - module: outerloop.docker.image_publish
"""

EXAMPLES = r"""
- name: Which images passed the functional tests before?
  outerloop.docker.test_record:
    images: "{{ built_images.values() | list }}"
    suite: functional
  register: functional_before

- name: Record that the functional tests passed against every image of the application
  outerloop.docker.test_record:
    state: present
    images: "{{ built_images.values() | list }}"
    suite: functional
    passed: true
    summary: 5 tests, 0 failures
    junit: [functional/functional.xml]
    details:
      commit: "{{ commit }}"
  when: functional_before.passed_images | length < built_images | length
"""

RETURN = r"""
records:
  description: Every image of O(images) with its record of the suite, or V(null) when it has none.
  returned: always
  type: dict
  sample:
    "sha256:6c3c...": {"image_id": "sha256:6c3c...", "suite": "functional", "passed": true, "rc": 0,
                        "finished": "2026-11-26T13:00:00Z", "summary": "5 tests, 0 failures", "junit": [], "schema": 1}
passed_images:
  description: The images of O(images) whose record says the suite passed.
  returned: always
  type: list
  elements: str
all_passed:
  description: Whether every image of O(images) has a passing record of the suite.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._domain.test_records import DEFAULT_RECORD_DIR
from ansible_collections.outerloop.docker.plugins.module_utils._test_record import run_module


def main():
    module = AnsibleModule(
        argument_spec={
            "images": {"type": "list", "elements": "str", "required": True},
            "suite": {"type": "str", "required": True},
            "state": {"type": "str", "default": "query", "choices": ["present", "query"]},
            "passed": {"type": "bool"},
            "rc": {"type": "int"},
            "summary": {"type": "str", "default": ""},
            "junit": {"type": "list", "elements": "str", "default": []},
            "details": {"type": "dict", "default": {}},
            "record_dir": {"type": "path", "default": DEFAULT_RECORD_DIR},
        },
        required_if=[("state", "present", ("passed",))],
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
