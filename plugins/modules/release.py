#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release
short_description: Create, validate and read a release manifest, and render its compose file pinned by digest
version_added: 0.1.0
description:
  - A release manifest is the immutable JSON build artifact that names what a release deploys, each
    service as C(REGISTRY/REPOSITORY@sha256:DIGEST), together with the application, its SemVer version,
    the source repository and full commit SHA, the build number and host, its creation time, the test
    results and the compose file of the commit. Deployments take a release manifest as their input,
    never a mutable tag. Its schema is described in C(docs/release-manifest.md) and shipped as JSON
    Schema in C(docs/release-manifest.schema.json) of the collection.
  - With O(state=present) the module builds the manifest from its options, validates it, and writes it
    to O(path). The content depends on the options only (the creation time is one of them), so the same
    options give the same file. When O(path) already holds that manifest, nothing is written. When it
    holds anything else, that is another release, and a release is immutable; the module fails unless
    O(force=true).
  - With O(state=validated) the module reads the manifest at O(path), validates every field and checks
    its C(digest), which detects any edit made after it was written, and returns it. It fails listing
    every problem. There is no unvalidated read.
  - With O(render_compose), the module also writes the release's compose file with the image of every
    service of the release pinned by digest and its C(build) section removed, for C(docker compose) on
    a deploy host.
  - Validation refuses, among the rest, a version that is not SemVer 2.0, a commit that is not a full
    40-hex SHA, an image that is not pinned by digest (a tag alone is never enough) or that names no
    registry, a release service the compose file does not define, test results that did not pass, and
    any credential (see the notes).
  - The module runs where the manifest lives, normally on the controller (C(delegate_to=localhost)).
author:
  - outerloop.docker contributors (@outerloop)
options:
  path:
    description:
      - The release manifest file (JSON).
      - With O(state=present) it is written atomically with mode C(0644); missing parent directories are
        created with mode C(0755).
    type: path
    required: true
  state:
    description:
      - V(present) builds the manifest from the options and writes it to O(path), unless it is already there.
      - V(validated) reads the manifest at O(path), validates it and returns it.
    type: str
    choices: [present, validated]
    default: present
  application:
    description:
      - The application's name, a Compose project name (lowercase letters, digits, V(_) and V(-), starting
        with a letter or digit, up to 63 characters), for example V(sample-app).
      - Required with O(state=present).
    type: str
  version:
    description:
      - The release's version, a SemVer 2.0 version such as V(1.4.0) or V(1.0.0-rc.1+build.5), without a
        leading V(v), up to 64 characters.
      - Required with O(state=present).
    type: str
  source_repository:
    description:
      - Where the source came from, a Git URL or path, for example V(https://git.example.com/team/sample-app.git).
      - It must carry no credentials. A password in a URL (V(https://user:password@...)) and any user part in
        an http(s) URL (often a token) are refused; V(git@host:team/app.git) is fine.
      - Required with O(state=present).
    type: str
  commit:
    description:
      - The full SHA-1 of the commit the images were built from, 40 lowercase hex digits.
      - Required with O(state=present).
    type: str
  ref:
    description:
      - The Git ref the commit was resolved from, for example V(main) or V(refs/tags/v1.4.0). Informational.
    type: str
  build_number:
    description:
      - The build number (of the CI job), up to 64 letters, digits, V(_), V(.) and V(-), for example V(42).
      - Required with O(state=present).
    type: str
  build_host:
    description:
      - The host the images were built on.
      - Required with O(state=present).
    type: str
  created:
    description:
      - When the release was made, as an RFC 3339 date and time with a time zone, for example
        V(2026-11-26T13:00:00Z). Quote it in YAML.
      - It is an option, not the time of the run, so that running the module again gives the same manifest.
      - Required with O(state=present).
    type: str
  tests:
    description:
      - The test results, as C(suites), a dictionary of suite name to result, and optionally C(passed).
      - Each suite has C(passed) (bool), C(tests) and C(failures) (whole numbers) and optionally C(errors),
        C(skipped), C(junit) (a list of JUnit XML file names) and C(summary) (a line of text). A suite
        that passed reports no failures nor errors.
      - C(passed), when given, must agree with the suites; when left out it is computed from them.
      - A release is made only from a build whose tests passed, so every suite must have passed.
      - Required with O(state=present).
    type: dict
  services:
    description:
      - The services of the release, a dictionary of Compose service name to image.
      - Each image is either a string C(REGISTRY/REPOSITORY@sha256:DIGEST), or a dictionary with C(image)
        (that string), or with C(repository) (C(REGISTRY/REPOSITORY)) and C(digest) (C(sha256:...)) instead,
        and optionally C(tags), the tags pushed for that digest (informational).
      - A tag in C(image) next to the digest (C(REPO:TAG@DIGEST)) is moved to C(tags). An image without a
        digest is refused, and so is one without a registry (write C(docker.io/...) for the Docker Hub).
      - Every service must be defined in the compose file.
      - Required with O(state=present).
    type: dict
  compose_file:
    description:
      - The compose file of the commit, read from the host the module runs on. Its text is stored in the
        manifest as it is.
      - With O(state=present), either this or O(compose_content) is required.
    type: path
  compose_content:
    description:
      - The text of the compose file of the commit, instead of O(compose_file); for example what
        M(outerloop.docker.git_source) read from the commit.
      - O(compose_name) is then required.
    type: str
  compose_name:
    description:
      - The compose file's path inside the repository, stored as C(compose.file) of the manifest, for example
        V(deploy/compose.yaml).
      - Defaults to the file name of O(compose_file); required with O(compose_content).
    type: str
  force:
    description:
      - Replace a manifest at O(path) that holds another release. A release is immutable, so this is for
        repairing a pipeline, not for changing a release that has been deployed.
    type: bool
    default: false
  render_compose:
    description:
      - Also write the release's compose file to this path, with every service of the release pinned to its
        image digest, and its C(build) section (and C(pull_policy=build)) removed. Services that are not part
        of the release are written as they are, and returned in RV(other_services) and, when their image is
        not pinned by digest, in RV(unpinned_services).
      - The file is written atomically with mode C(0644), only when its content differs. YAML comments of the
        original are not kept.
    type: path
attributes:
  check_mode:
    support: full
    description:
      - Builds and validates the manifest, and reports whether the files would change (or that an existing
        release would be refused), exactly as a real run would, without writing anything.
  diff_mode:
    support: full
    description:
      - Shows the manifest file before and after, and the rendered compose file before and after.
  idempotent:
    support: full
    description:
      - With the same options, a second run reports no change and writes nothing.
requirements:
  - PyYAML (C(python3-yaml)) where the module runs, to read the compose file
notes:
  - A manifest holds no credentials. Validation refuses any key named like a credential (password, token,
    secret, auth, ...), any URL with a user and password, in the compose file too, and environment
    variables or build arguments of the compose file named like a credential with a literal value. Take
    those from the deploy host's environment (C(${DB_PASSWORD})), an C(env_file) or a Compose secret.
  - The manifest's C(digest) is the sha256 of its canonical JSON (sorted keys, no spaces, without the
    C(digest) field). It detects a manifest edited by hand; it does not prove who made it. A deployment
    that must not trust the file alone compares the digests with the registry.
  - Only the compose file is part of the release; files it refers to (C(env_file), configs) are not.
seealso:
  - name: Release manifest
    description: The schema, field by field, with an example (C(docs/release-manifest.md) in the collection).
    link: https://github.com/outerloop/docker/blob/main/docs/release-manifest.md
  - plugin: outerloop.docker.release
    plugin_type: lookup
  - plugin: outerloop.docker.release_images
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the release manifest on the controller
  outerloop.docker.release:
    path: "{{ playbook_dir }}/releases/sample-app-1.4.0.json"
    application: sample-app
    version: 1.4.0
    source_repository: https://git.example.com/team/sample-app.git
    commit: 3f2a9c1d0b8e4f5a6b7c8d9e0f1a2b3c4d5e6f70
    ref: main
    build_number: "42"
    build_host: build1
    created: "2026-11-26T13:00:00Z"
    tests:
      suites:
        unit-api: {passed: true, tests: 12, failures: 0}
        functional: {passed: true, tests: 5, failures: 0, junit: [functional.xml]}
    services:
      api:
        image: reg1:5000/sample/api@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
        tags: ["1.4.0", "42"]
      worker:
        repository: reg1:5000/sample/worker
        digest: sha256:0b5e8f0dd4a14b4e5f5b3b6c2b6f7c1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b
        tags: ["1.4.0", "42"]
    compose_file: /srv/build/sample-app/compose.yaml
  delegate_to: localhost
  register: release

- name: Read a release, refusing it when it was edited or is not valid
  outerloop.docker.release:
    path: releases/sample-app-1.4.0.json
    state: validated
  delegate_to: localhost
  register: release

- name: Render the compose file pinned by digest, for the deploy
  outerloop.docker.release:
    path: releases/sample-app-1.4.0.json
    state: validated
    render_compose: "{{ playbook_dir }}/build/compose.release.yaml"
  delegate_to: localhost
  register: release

- name: Refuse services that are not pinned by digest
  ansible.builtin.assert:
    that: release.unpinned_services | length == 0
    fail_msg: "Not pinned by digest: {{ release.unpinned_services | join(', ') }}"
"""

RETURN = r"""
path:
  description: The manifest file.
  returned: always
  type: str
  sample: /home/ci/releases/sample-app-1.4.0.json
manifest:
  description:
    - The release manifest, as written or read. See C(docs/release-manifest.md) for every field.
  returned: success
  type: dict
  sample:
    schema: 1
    application: sample-app
    version: 1.4.0
    release_id: sample-app-1.4.0-b42-3f2a9c1d0b8e
    source:
      repository: https://git.example.com/team/sample-app.git
      commit: 3f2a9c1d0b8e4f5a6b7c8d9e0f1a2b3c4d5e6f70
      ref: main
    build: {number: "42", host: build1, created: "2026-11-26T13:00:00Z"}
    tests:
      passed: true
      suites: {unit-api: {passed: true, tests: 12, failures: 0}}
    services:
      api:
        image: reg1:5000/sample/api@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
        repository: reg1:5000/sample/api
        digest: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
        tags: ["1.4.0", "42"]
    compose:
      file: compose.yaml
      content: "services:\n  api:\n    build: ./api\n"
      digest: sha256:4f1c9bc4a4f5c1b6e0a4c2c5d9f3e1a7b8c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2
    digest: sha256:9d2f8c7b6a5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c
release_id:
  description:
    - The release's identifier, C(APPLICATION-VERSION-bBUILD-COMMIT12), with the C(+) of SemVer build metadata
      written C(_). Made of letters, digits, V(_), V(.) and V(-) only.
  returned: success
  type: str
  sample: sample-app-1.4.0-b42-3f2a9c1d0b8e
digest:
  description: The manifest's digest, the sha256 of its canonical JSON without the C(digest) field.
  returned: success
  type: str
  sample: sha256:9d2f8c7b6a5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c
compose_path:
  description: The rendered compose file.
  returned: when O(render_compose) is set
  type: str
  sample: /home/ci/build/compose.release.yaml
images:
  description: The pinned image of every service of the release, as written to the rendered compose file.
  returned: when O(render_compose) is set
  type: dict
  sample:
    api: reg1:5000/sample/api@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
other_services:
  description:
    - The services of the compose file that are not part of the release, each with its C(image) (null when it
      has none, only a build section) and whether that image is C(pinned) by digest.
  returned: when O(render_compose) is set
  type: dict
  sample:
    redis: {image: "redis:7", pinned: false}
unpinned_services:
  description:
    - The names of the services in RV(other_services) whose image is not pinned by digest. A deployment
      should refuse them unless told otherwise.
  returned: when O(render_compose) is set
  type: list
  elements: str
  sample: [redis]
errors:
  description: Every problem found, one message each, naming the field, service or file.
  returned: failure
  type: list
  elements: str
  sample: ["digest mismatch: the manifest says sha256:... but its content hashes to sha256:..."]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._release import run_module

_PRESENT_REQUIRES = (
    "application",
    "version",
    "source_repository",
    "commit",
    "build_number",
    "build_host",
    "created",
    "tests",
    "services",
)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "validated"]},
            "application": {"type": "str"},
            "version": {"type": "str"},
            "source_repository": {"type": "str"},
            "commit": {"type": "str"},
            "ref": {"type": "str"},
            "build_number": {"type": "str"},
            "build_host": {"type": "str"},
            "created": {"type": "str"},
            "tests": {"type": "dict"},
            "services": {"type": "dict"},
            "compose_file": {"type": "path"},
            "compose_content": {"type": "str"},
            "compose_name": {"type": "str"},
            "force": {"type": "bool", "default": False},
            "render_compose": {"type": "path"},
        },
        required_if=[
            ("state", "present", _PRESENT_REQUIRES),
            ("state", "present", ("compose_file", "compose_content"), True),
        ],
        mutually_exclusive=[("compose_file", "compose_content")],
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
