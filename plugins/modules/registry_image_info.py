#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_image_info
short_description: Look up an image's manifest in a remote registry, without pulling it
version_added: 0.1.0
description:
  - Asks a registry, over the Registry HTTP API v2, for the manifest of a tag or digest and returns
    whether it exists, its digest, media type, size, and for a single-platform image its labels and
    creation time; for a multi-platform index, the list of platforms.
  - The request goes from the host the module runs on, not through a Docker Engine. Nothing is pulled;
    the module downloads the manifest and, for a single-platform image, its config blob (a few KiB).
  - Registries that answer with a C(Basic) challenge (htpasswd, as in the registry role) get the
    credentials; registries that answer with a C(Bearer) challenge (Docker Hub, GitLab, Harbor, a
    distribution registry with token auth) get a token from the token service the challenge names,
    fetched with the credentials, and the request is sent again with it.
  - The digest is the SHA-256 of the manifest bytes. It is checked against the registry's
    C(Docker-Content-Digest) header and, for a lookup by digest, against that digest; a mismatch fails.
  - A reference the registry does not know (HTTP 404) is not a failure; RV(exists) is V(false).
author:
  - outerloop.docker contributors (@outerloop)
extends_documentation_fragment:
  - outerloop.docker.registry
options:
  image:
    description:
      - The image, as C(REGISTRY/REPOSITORY:TAG) or C(REGISTRY/REPOSITORY@sha256:DIGEST), for example
        V(reg1:5000/shop/api:1.4.0).
      - Without a tag or digest, the tag V(latest) is looked up. With both, the digest is looked up.
      - Without a registry, the Docker Hub (V(docker.io)) is asked.
    type: str
    required: true
attributes:
  check_mode:
    support: full
    description:
      - The module only reads; check mode runs the same lookups.
  diff_mode:
    support: none
    description:
      - The module changes nothing, so there is no difference to show.
  idempotent:
    support: full
    description:
      - The module never changes anything; RV(ignore:changed) is always V(false).
requirements:
  - HTTPS access from the target to the registry (and to its token service, for Bearer registries)
notes:
  - Only HTTPS registries are supported, as the Docker Engine only speaks plain HTTP to registries
    listed as insecure.
  - Schema 1 manifests (deprecated, from Docker before 1.10) are not supported.
seealso:
  - module: outerloop.docker.registry_login
  - module: outerloop.docker.image_publish
  - name: The OCI distribution specification (Registry HTTP API v2)
    description: The API this module speaks.
    link: https://github.com/opencontainers/distribution-spec/blob/main/spec.md
"""

EXAMPLES = r"""
- name: Is release 1.4.0 of the API in the registry?
  outerloop.docker.registry_image_info:
    image: reg1:5000/shop/api:1.4.0
  register: api_release

- name: Fail unless the release is there
  ansible.builtin.assert:
    that: api_release.exists
    fail_msg: reg1:5000/shop/api:1.4.0 is not in the registry

- name: Read the revision label of a pinned image, with explicit credentials and CA
  outerloop.docker.registry_image_info:
    image: reg1:5000/shop/api@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
    username: ci
    password: "{{ registry_password }}"
    ca_path: /etc/outerloop/registry-ca.crt
  register: pinned

- name: Show the revision
  ansible.builtin.debug:
    msg: "{{ pinned.labels['org.opencontainers.image.revision'] }}"
"""

RETURN = r"""
image:
  description:
    - The reference looked up, normalised C(REGISTRY/REPOSITORY:TAG) or C(REGISTRY/REPOSITORY@DIGEST),
      with the registry written out (V(docker.io/library/...) for the Docker Hub).
  returned: always
  type: str
  sample: reg1:5000/shop/api:1.4.0
exists:
  description:
    - Whether the registry has a manifest for the reference. V(false) when it answered 404.
  returned: always
  type: bool
  sample: true
digest:
  description:
    - The manifest digest, C(sha256:) and 64 hex digits, the digest to pin the image by.
  returned: always
  type: str
  sample: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
media_type:
  description:
    - The manifest's media type, for example V(application/vnd.docker.distribution.manifest.v2+json),
      V(application/vnd.oci.image.manifest.v1+json) or, for a multi-platform image,
      V(application/vnd.oci.image.index.v1+json).
  returned: always
  type: str
  sample: application/vnd.docker.distribution.manifest.v2+json
size:
  description:
    - Bytes of the manifest plus, for a single-platform image, its config and its (compressed) layers
      as the manifest lists them. For an index, the bytes of the index only.
  returned: always
  type: int
  sample: 1187
labels:
  description:
    - The image's labels, from its config. Empty for an index or when the image has none.
  returned: always
  type: dict
  sample: {"org.opencontainers.image.revision": "2f9c1e0d6b"}
created:
  description:
    - When the image was built, from its config (RFC 3339). Null for an index.
  returned: always
  type: str
  sample: "2026-11-26T13:40:02.187Z"
platforms:
  description:
    - For an index, one entry per manifest it lists; for a single-platform image, one entry from its
      config, with the manifest's own digest. Empty when the reference does not exist.
  returned: always
  type: list
  elements: dict
  contains:
    platform:
      description: C(OS/ARCHITECTURE[/VARIANT]).
      type: str
      sample: linux/amd64
    os:
      description: The operating system.
      type: str
      sample: linux
    architecture:
      description: The CPU architecture.
      type: str
      sample: amd64
    variant:
      description: The CPU variant, when there is one.
      type: str
      sample: v8
    digest:
      description: The digest of that platform's manifest.
      type: str
    media_type:
      description: The media type of that platform's manifest.
      type: str
    size:
      description: The size of that platform's manifest, as the index gives it (the image's size for a single manifest).
      type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import (
    REGISTRY_ARG_SPEC,
    REGISTRY_MUTUALLY_EXCLUSIVE,
    REGISTRY_REQUIRED_TOGETHER,
)
from ansible_collections.outerloop.docker.plugins.module_utils._registry_image_info import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            REGISTRY_ARG_SPEC,
            image={"type": "str", "required": True},
            timeout={"type": "int", "default": 60},
        ),
        required_together=REGISTRY_REQUIRED_TOGETHER,
        mutually_exclusive=REGISTRY_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
