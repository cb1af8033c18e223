#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_gate
short_description: Check that a release is what CI published and passed the previous environment; record a pass
version_added: 0.1.0
description:
  - The promotion gate of the outer loop. A release deploys to an environment only after it succeeded in the
    environment before it (staging requires qa, production requires staging). The proof is kept in the
    registry, next to the images, so it can be checked from the target environment's inventory alone.
  - "The proof is a tag on the exact manifest digest of every service of the release:
    C(passed-ENVIRONMENT-VERSIONTAG), for example C(passed-qa-1.4.0)."
  - "The version tag is the release's version as CI publishes it: the SemVer version unchanged, except
    that the C(+) of build metadata, which Docker tags do not allow, is written C(_) (as in the release id):
    V(1.4.0) gives C(1.4.0), V(1.0.0-rc.1+build.5) gives C(1.0.0-rc.1_build.5)."
  - "Both states first check that the release is authentic: for every service, the version tag in the
    registry must hold exactly the digest the manifest names. A manifest edited to point at another digest
    (even with its own C(digest) field recomputed) is refused, naming the service and both digests."
  - With O(required_environment), both states then check that every service's
    C(passed-REQUIRED-VERSIONTAG) tag exists and holds the manifest's digest, and refuse the release
    otherwise, naming the environment it has to pass first.
  - With O(state=recorded), run after a successful deploy to O(environment), the module adds the
    C(passed-ENVIRONMENT-VERSIONTAG) tag to every service's digest. It reads the manifest by digest
    and puts the same bytes under the new tag (Registry HTTP API v2); no image is pulled and no blob is
    uploaded. The digest the registry stored must be the release's, and the tag is read back.
  - A tag that already holds the release's digest is left alone. A tag that holds another digest is
    refused, not moved.
  - The requests go from the host the module runs on, with the credentials and CAs of that host, as for
    M(outerloop.docker.registry_image_info).
author:
  - outerloop.docker contributors (@outerloop)
extends_documentation_fragment:
  # username below replaces the fragment's: O(state=recorded) needs push rights.
  - outerloop.docker.registry
options:
  release:
    description:
      - The release manifest, as a dictionary, for example from the P(outerloop.docker.release#lookup) lookup.
      - It is validated (its C(digest) field included) as M(outerloop.docker.release) validates it.
    type: dict
    required: true
  state:
    description:
      - V(verified) checks the release and changes nothing.
      - V(recorded) checks the release, then records that it passed O(environment).
    type: str
    choices: [verified, recorded]
    default: verified
  environment:
    description:
      - With O(state=recorded), the environment the release just succeeded in; required then.
      - With O(state=verified), the environment being deployed to. The messages name it, and the result says
        whether its promotion proof is in the registry already (RV(services.record_tag_digest), and
        RV(services.record_action) V(present)), so that a rerun can leave out recording it. Nothing is written
        then; a proof tag that holds another build is refused, as O(state=recorded) would refuse it.
      - Up to 32 lowercase letters, digits, C(_) or C(-), for example V(qa), V(staging), V(production).
    type: str
  required_environment:
    description:
      - The environment the release must have passed, for example V(qa) before staging and V(staging)
        before production. Without it, only the authenticity of the release is checked.
    type: str
  username:
    description:
      - The user name at the registry. When it is not given, the credentials stored for the registry in
        a Docker config file are used (see O(config_path)), and without any, the registry is asked anonymously.
      - With O(state=recorded) the user must be allowed to push.
    type: str
attributes:
  check_mode:
    support: full
    description:
      - Check mode makes the same checks and reports the tags O(state=recorded) would add, without adding them.
  diff_mode:
    support: none
    description:
      - The tags added are returned in RV(recorded_tags); there is no diff.
  idempotent:
    support: full
    description:
      - O(state=verified) never changes anything. O(state=recorded) adds only the tags that are missing; a
        second run finds them and reports RV(ignore:changed=false).
requirements:
  - HTTPS access from the target to the registry (and to its token service, for Bearer registries)
notes:
  - The tags prove what the registry's users with push access did; anyone who may push can write a
    C(passed-*) tag. Restrict push access to the accounts of the pipeline.
  - The tags are ordinary tags; deleting a C(passed-*) tag in the registry withdraws the proof.
  - Only HTTPS registries are supported, as for M(outerloop.docker.registry_image_info).
seealso:
  - module: outerloop.docker.release
  - module: outerloop.docker.registry_image_info
  - module: outerloop.docker.image_publish
"""

EXAMPLES = r"""
- name: Refuse a release that is not what CI published, or that did not pass qa
  outerloop.docker.release_gate:
    release: "{{ lookup('outerloop.docker.release', 'releases/sample-app-1.4.0.json') }}"
    environment: staging
    required_environment: qa
  delegate_to: "{{ groups['staging'] | first }}"
  run_once: true

- name: Record that the release succeeded in qa (after a healthy deploy)
  outerloop.docker.release_gate:
    release: "{{ release_manifest }}"
    state: recorded
    environment: qa
  register: gate
  run_once: true

- name: With explicit credentials of a user that may push
  outerloop.docker.release_gate:
    release: "{{ release_manifest }}"
    state: recorded
    environment: staging
    username: ci
    password: "{{ registry_password }}"
    ca_path: /etc/outerloop/registry-ca.crt
"""

RETURN = r"""
state:
  description: The state asked for.
  returned: when the release was read
  type: str
  sample: verified
release_id:
  description: The release's id.
  returned: when the release was read
  type: str
  sample: sample-app-1.4.0-b42-3f2a9c1d0b8e
application:
  description: The release's application.
  returned: when the release was read
  type: str
  sample: sample-app
version:
  description: The release's version.
  returned: when the release was read
  type: str
  sample: 1.4.0
version_tag:
  description: The tag CI published the version under, checked for authenticity.
  returned: when the release was read
  type: str
  sample: 1.4.0
environment:
  description: O(environment), or null.
  returned: when the release was read
  type: str
  sample: qa
required_environment:
  description: O(required_environment), or null.
  returned: when the release was read
  type: str
  sample: null
recorded_tags:
  description:
    - The tags O(state=recorded) added (in check mode, would add), as C(REGISTRY/REPOSITORY:TAG). Empty when
      they were all there.
  returned: when the release was read
  type: list
  elements: str
  sample: ["reg1:5000/sample-app/api:passed-qa-1.4.0"]
services:
  description:
    - Per service of the release, what was checked. Also returned when the gate refuses the release.
  returned: when the release was read
  type: dict
  sample:
    api:
      repository: reg1:5000/sample-app/api
      digest: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
      version_tag: 1.4.0
      version_tag_digest: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
      authentic: true
      required_tag: passed-qa-1.4.0
      required_tag_digest: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
      passed_required: true
      record_tag: null
      record_tag_digest: null
      record_action: null
  contains:
    repository:
      description: C(REGISTRY/REPOSITORY) of the service's image.
      type: str
    digest:
      description: The digest the release names.
      type: str
    version_tag:
      description: The version tag looked up.
      type: str
    version_tag_digest:
      description: The digest the version tag holds in the registry; null when the tag does not exist.
      type: str
    authentic:
      description: Whether the version tag holds the release's digest.
      type: bool
    required_tag:
      description: C(passed-REQUIRED-VERSIONTAG), or null without O(required_environment).
      type: str
    required_tag_digest:
      description: The digest the required tag holds; null when it does not exist or was not looked up.
      type: str
    passed_required:
      description: Whether the required tag holds the release's digest; null without O(required_environment).
      type: bool
    record_tag:
      description: With O(state=recorded), C(passed-ENVIRONMENT-VERSIONTAG); else null.
      type: str
    record_tag_digest:
      description:
        - The digest the record tag holds after the run (before it, in check mode, and with O(state=verified)).
      type: str
    record_action:
      description:
        - V(present) (already there), V(created), V(would create) (check mode), or null (with O(state=verified),
          not there yet or no O(environment)).
      type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import (
    REGISTRY_ARG_SPEC,
    REGISTRY_MUTUALLY_EXCLUSIVE,
    REGISTRY_REQUIRED_TOGETHER,
)
from ansible_collections.outerloop.docker.plugins.module_utils._release_gate import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            REGISTRY_ARG_SPEC,
            release={"type": "dict", "required": True},
            state={"type": "str", "choices": ["verified", "recorded"], "default": "verified"},
            environment={"type": "str"},
            required_environment={"type": "str"},
            timeout={"type": "int", "default": 60},
        ),
        required_together=REGISTRY_REQUIRED_TOGETHER,
        mutually_exclusive=REGISTRY_MUTUALLY_EXCLUSIVE,
        required_if=[("state", "recorded", ["environment"])],
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
