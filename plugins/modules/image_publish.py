#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_publish
short_description: Publish tested images under their release tags, and return the digests the registry holds
version_added: 0.1.0
description:
  - The "bless" step of a pipeline, run on the build host. It tags a local image that passed its tests
    with its release tags in a registry repository, pushes the tags through the Docker Engine, and
    returns the manifest digest of every tag as the registry reports it afterwards.
  - Nothing is tagged or pushed until every check passed, in this order. The inputs (O(repository),
    O(tags)). The local image, which gives the image ID. The test records of that ID in O(record_dir),
    where every suite in O(required_test_suites) must have a record that says it passed, else the module
    fails and names the missing or failed suites (the pipeline writes these records, for example
    M(outerloop.docker.image_test)). Then the registry's current manifest of every tag, read over the
    Registry HTTP API v2 (as M(outerloop.docker.registry_image_info) does).
  - "Per tag: a tag the registry does not have is pushed. A tag that already holds this image is left
    alone; it holds this image when its digest is one the engine recorded for the image in this
    repository (the image's C(RepoDigests), which a push or pull sets), or when its manifest's config
    digest is the image ID (the same image pushed from another host). A tag that holds another image
    makes the module fail, naming the tag, its digest and the image, unless the tag is in
    O(floating_tags) or O(force=true); then it is moved to this image."
  - When every tag already holds this image under one digest, nothing is pushed, nothing is uploaded and
    the task reports no change. Otherwise all tags end on the digest the push produces (a tag that holds
    this image under another manifest digest is pushed again), and every tag is read back from the
    registry and must show the digest the push reported.
  - With O(images), one task publishes several images (for example every service of a release) under the
    same O(tags). The checks of the inputs, of every local image and of every image's test records run
    first, for all of them; when one is refused, nothing is tagged or pushed for any. Then the images are
    published at the same time (at most O(parallel) at once), each as described above, with one result
    per image in RV(results).
author:
  - outerloop.docker contributors (@outerloop)
extends_documentation_fragment:
  - outerloop.docker.engine
  # Options below replace the fragment's: username, config_path, ca_path, validate_certs and timeout
  # also cover the engine's push.
  - outerloop.docker.registry
options:
  image:
    description:
      - The local image that was tested, as C(NAME:TAG) or image ID, on the Docker Engine at O(docker_host).
      - Required unless O(images) is given; not allowed with it.
    type: str
  repository:
    description:
      - The repository to publish to, C(REGISTRY/REPOSITORY) without tag, for example V(reg1:5000/shop/api).
        The registry must be written out (V(docker.io/...) for the Docker Hub).
      - Required unless O(images) is given; not allowed with it.
    type: str
  images:
    description:
      - Several images in one task, each with its own repository (see the description). Every other option
        is shared; O(images[].required_test_suites) replaces O(required_test_suites) for its image.
      - The result is then RV(results), one entry per image in this order.
    type: list
    elements: dict
    suboptions:
      image:
        description:
          - The local image, as O(image).
        type: str
        required: true
      repository:
        description:
          - Its repository, as O(repository).
        type: str
        required: true
      required_test_suites:
        description:
          - The suites this image must have passed; default the shared O(required_test_suites).
        type: list
        elements: str
  parallel:
    description:
      - With O(images), how many images are pushed at the same time. V(1) pushes one after another.
    type: int
    default: 4
  tags:
    description:
      - The release tags, for example V([1.4.0, 1.4, latest]). Each is validated as Docker does; duplicates
        are dropped.
    type: list
    elements: str
    required: true
  floating_tags:
    description:
      - Tags of O(tags) that are meant to move from release to release, such as V(latest) or V(1.4). They are
        moved to this image without O(force). Every other tag is immutable once published.
    type: list
    elements: str
    default: []
  required_test_suites:
    description:
      - The test suites that must have a passing record for the image ID in O(record_dir). Must not be empty.
    type: list
    elements: str
    default: [unit, functional]
  record_dir:
    description:
      - The directory of test records on the build host, C(IMAGEID.SUITE.json) files.
    type: path
    default: /var/lib/outerloop/test-records
  force:
    description:
      - Move tags that hold another image to this image. Without it such a tag (unless in O(floating_tags))
        makes the module fail before anything is pushed. It does not skip the test records.
    type: bool
    default: false
  username:
    description:
      - The user name at the registry, used for the registry lookups and for the push. When it is not given,
        the credentials stored for the registry in a Docker config file are used (see O(config_path)) for both,
        and without any the registry is used anonymously.
    type: str
  config_path:
    description:
      - The Docker config file whose stored credentials for the registry are used when O(username) is not
        given (an C(auths) entry, or the credential helper named by C(credHelpers) or C(credsStore)). Write
        it with M(outerloop.docker.registry_login).
      - Defaults to C(~/.docker/config.json) of O(user). E(DOCKER_CONFIG) is not consulted. The module reads
        the credentials once and hands the same ones to the engine for the push, so the lookups and the push
        always use the same identity.
    type: path
  ca_path:
    description:
      - A file of PEM CA certificates that signed the registry's certificate, for the registry lookups made
        by the module. They are trusted in addition to the system's CAs.
      - Defaults to the C(*.crt) files in C(/etc/docker/certs.d/HOST:PORT/), which is also where the Docker
        Engine looks for the CA of the registry it pushes to.
    type: path
  validate_certs:
    description:
      - Whether the registry's TLS certificate is verified by the lookups. The engine's push follows the
        engine's own rules.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the Docker Engine and for each answer of the registry.
    type: int
    default: 60
attributes:
  check_mode:
    support: full
    description:
      - Runs every check (image, test records, registry lookups, conflicts) and reports the tags that would be
        pushed in RV(pushed_tags), without tagging or pushing. The digest a push would produce is reported
        only when the engine already recorded one for this image in the repository.
  diff_mode:
    support: partial
    description:
      - Shows the registry's digest of every tag before and after (one diff per image with O(images)). In check
        mode a digest that only a push would tell is shown as unknown.
  idempotent:
    support: full
    description:
      - A second run with the same image and tags pushes nothing and reports no change.
requirements:
  - A running Docker Engine reachable at O(docker_host), and HTTPS access from the target to the registry
notes:
  - The engine trusts a registry's CA from C(/etc/docker/certs.d/HOST:PORT/ca.crt) on its host, and treats
    registries on C(127.0.0.0/8) as insecure (it does not verify their certificate); the module's own lookups
    verify the certificate unless O(validate_certs=false).
  - The image is left tagged locally with every pushed release tag.
seealso:
  - module: outerloop.docker.registry_image_info
  - module: outerloop.docker.registry_login
"""

EXAMPLES = r"""
- name: Publish the tested API image as release 1.4.0
  outerloop.docker.image_publish:
    image: shop/api:build-42
    repository: reg1:5000/shop/api
    tags: [1.4.0, "1.4", latest]
    floating_tags: ["1.4", latest]
  register: published

- name: Pin the release by digest
  ansible.builtin.debug:
    msg: "{{ published.pinned }}"

- name: Only report what would be pushed
  outerloop.docker.image_publish:
    image: "{{ build.image_id }}"
    repository: reg1:5000/shop/worker
    tags: ["{{ version }}"]
    required_test_suites: [unit]
    config_path: /home/build/.docker/config.json
  check_mode: true

- name: Publish every service of a release at once; none is pushed unless all passed their tests
  outerloop.docker.image_publish:
    images:
      - image: "{{ images.api }}"
        repository: reg1:5000/shop/api
      - image: "{{ images.worker }}"
        repository: reg1:5000/shop/worker
      - image: "{{ images.db }}"
        repository: reg1:5000/shop/db
        required_test_suites: [functional]
    tags: [1.4.0, "1.4", latest]
    floating_tags: ["1.4", latest]
  register: published_all

- name: Pin every image by digest
  ansible.builtin.debug:
    msg: "{{ published_all.results | map(attribute='pinned') | list }}"
"""

RETURN = r"""
image_id:
  description:
    - The ID of the local image that was checked and published.
  returned: when the image exists (with O(images), in every entry of RV(results))
  type: str
  sample: sha256:bc7fedd2466b6d0a1aa0ab9d0c3a2b8a4e2f5d8c1b7e3c9f0a6d4b2e8c1f7a3d5
repository:
  description:
    - The repository, as given.
  returned: success, and on failures after the repository was parsed (with O(images), in RV(results))
  type: str
  sample: reg1:5000/shop/api
digests:
  description:
    - The manifest digest of every tag, as the registry reports it after the run. In check mode, only the
      digests that are known without pushing.
  returned: success (with O(images), in every entry of RV(results))
  type: dict
  sample: {"1.4.0": "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"}
digest:
  description:
    - The one digest every tag holds.
  returned: success, when every tag's digest is known (always outside check mode); with O(images), in RV(results)
  type: str
  sample: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
pinned:
  description:
    - C(REGISTRY/REPOSITORY@DIGEST), the reference to deploy.
  returned: when RV(digest) is returned (with O(images), in RV(results))
  type: str
  sample: reg1:5000/shop/api@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
pushed_tags:
  description:
    - The tags that were pushed (in check mode, would be pushed). Empty when the registry already held the image
      under every tag.
  returned: success (with O(images), in every entry of RV(results))
  type: list
  elements: str
  sample: [1.4.0, "1.4"]
layers_uploaded:
  description:
    - How many layers the engine uploaded (layers the registry already had are not counted).
  returned: success (with O(images), in every entry of RV(results))
  type: int
  sample: 1
results:
  description:
    - With O(images), one entry per image, in the order of O(images), each with the keys above for that image
      and the keys below.
  returned: when O(images) is given and every image passed the checks
  type: list
  elements: dict
  contains:
    image:
      description: The entry's O(images[].image).
      type: str
      sample: shop/api:build-42
    changed:
      description: Whether this image was pushed under any tag.
      type: bool
      sample: true
    failed:
      description: Whether publishing this image failed.
      type: bool
      sample: false
    msg:
      description: Why publishing this image failed.
      type: str
      returned: when it failed
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import (
    REGISTRY_MUTUALLY_EXCLUSIVE,
    REGISTRY_REQUIRED_TOGETHER,
)
from ansible_collections.outerloop.docker.plugins.module_utils._image_publish import PUBLISH_ARG_SPEC, run_module
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import ENGINE_ARG_SPEC


def main():
    module = AnsibleModule(
        argument_spec=dict(PUBLISH_ARG_SPEC, **ENGINE_ARG_SPEC),
        required_together=[*REGISTRY_REQUIRED_TOGETHER, ("image", "repository")],
        mutually_exclusive=[*REGISTRY_MUTUALLY_EXCLUSIVE, ("image", "images"), ("repository", "images")],
        required_one_of=[("image", "images")],
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
