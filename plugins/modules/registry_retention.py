#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_retention
short_description: Delete the release images of a registry that are too old to keep and run nowhere
version_added: 0.1.0
description:
  - Reads every tag of the given repositories over the Registry HTTP API v2 and deletes, by manifest
    digest, the releases that are more than O(keep) versions old and that no environment runs.
  - A registry deletes by digest, and deleting a digest deletes every tag on it. So a digest is deleted
    only when every one of its tags may go, and no environment runs it (O(protect)).
  - A version tag (a SemVer version as CI publishes it, V(1.4.0), V(1.0.0-rc.1), with V(_) for the V(+) of
    build metadata) may go when it is not one of the O(keep) newest versions of its repository, in SemVer
    order (V(1.0.10) is newer than V(1.0.9)), and is not in O(protect_versions).
  - A promotion proof C(passed-ENVIRONMENT-VERSION) (see M(outerloop.docker.release_gate)) may go under the
    same condition on its version, so a release that runs keeps the proofs it needs to be promoted
    further or rolled back to.
  - V(latest) and every other tag (C(MAJOR.MINOR) floating tags, build tags, tags pushed by hand) are
    kept, and with them their digest.
  - Deleting a manifest frees no disk space by itself; the registry's garbage collection does (see the
    notes).
  - Before it deletes anything from a repository, the module reads its tag list again and fails when it
    changed since it was planned (a CI run that publishes meanwhile), deleting nothing from it.
author:
  - outerloop.docker contributors (@outerloop)
extends_documentation_fragment:
  - outerloop.docker.registry
options:
  repositories:
    description:
      - The repositories to look at, as C(REGISTRY/REPOSITORY) without tag or digest, for example
        V(reg1:5000/sample-app/api). They may be in different registries; the same credentials options apply
        to all.
      - One of O(repositories) and O(releases) is required; both may be given.
    type: list
    elements: str
  releases:
    description:
      - Release manifests (see M(outerloop.docker.release)); the repositories of their services are looked at.
    type: list
    elements: dict
  keep:
    description:
      - How many of the newest versions of each repository stay, whatever runs.
    type: int
    default: 5
  protect:
    description:
      - The digests that some environment runs or would roll back to, as V(sha256:...) or as images pinned by
        digest (V(REGISTRY/REPOSITORY@sha256:...)). A digest named here stays, with all its tags, in every
        repository.
      - The playbook C(outerloop.docker.registry_retention) gathers them from every environment.
    type: list
    elements: str
    default: []
  protect_versions:
    description:
      - The versions that some environment runs or would roll back to (V(1.4.0), or as tags, V(1.0.0_build.5)).
        Their version tags and promotion proofs stay, whatever their age.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description:
      - Reads the same tags and returns in RV(deleted) what a real run would delete; deletes nothing.
  diff_mode:
    support: full
    description:
      - The tags of every repository before and after, one C(REPOSITORY:TAG) a line.
  idempotent:
    support: full
    description:
      - What was deleted is gone, and the O(keep) newest versions are the same ones, so a second run deletes
        nothing and reports RV(ignore:changed=false) (unless a new version was published meanwhile).
requirements:
  - HTTPS access from the target to the registry (and to its token service, for Bearer registries)
  - A registry that allows deletion (distribution C(storage.delete.enabled=true)), and credentials that may delete
notes:
  - The credentials are those of the user the module runs as (or O(user)); run it on the build host as the
    build user, whose login pushes.
  - "After deleting, free the space with the registry's garbage collection, with the registry stopped or
    read-only: C(registry garbage-collect --delete-untagged /etc/docker/registry/config.yml) (Debian's package:
    C(docker-registry garbage-collect ...)). See the README of the role C(outerloop.docker.registry),
    section Retention."
  - Run it when no pipeline publishes to the repositories.
seealso:
  - module: outerloop.docker.registry_image_info
  - module: outerloop.docker.release_gate
  - name: The OCI distribution specification (deleting manifests)
    description: The API this module speaks.
    link: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#deleting-manifests
"""

EXAMPLES = r"""
- name: What would go? (check mode)
  outerloop.docker.registry_retention:
    repositories:
      - reg1:5000/sample-app/api
      - reg1:5000/sample-app/worker
    keep: 5
    protect: "{{ running_digests }}"
    protect_versions: "{{ running_versions }}"
  check_mode: true
  register: retention

- name: Show it
  ansible.builtin.debug:
    msg: "{{ retention.deleted | map(attribute='image') | list }}"

- name: Delete them, as the build user whose registry login may push and delete
  outerloop.docker.registry_retention:
    releases: ["{{ lookup('outerloop.docker.release', 'releases/sample-app-1.4.0.json') }}"]
    keep: 5
    protect: "{{ running_digests }}"
  become: true
  become_user: builder
"""

RETURN = r"""
deleted:
  description:
    - The digests deleted, with every tag they carried, newest versions first. In check mode, those a real run
      would delete.
  returned: success, and on failure those deleted before it
  type: list
  elements: dict
  contains:
    repository:
      description: C(REGISTRY/REPOSITORY).
      type: str
      sample: reg1:5000/sample-app/api
    digest:
      description: The manifest digest.
      type: str
      sample: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
    image:
      description: C(REGISTRY/REPOSITORY@DIGEST).
      type: str
    tags:
      description: Its tags, versions in SemVer order first.
      type: list
      elements: str
      sample: ["1.0.1", "passed-qa-1.0.1"]
    reasons:
      description: Why each tag could go.
      type: list
      elements: str
      sample: ["1.0.1: version, older than the 5 newest versions and running nowhere"]
kept:
  description:
    - The digests kept, newest versions first, each with the reasons that keep it (the tags that must stay, or
      that an environment runs it).
  returned: success
  type: list
  elements: dict
  contains:
    repository:
      description: C(REGISTRY/REPOSITORY).
      type: str
    digest:
      description: The manifest digest.
      type: str
    image:
      description: C(REGISTRY/REPOSITORY@DIGEST).
      type: str
    tags:
      description: Its tags.
      type: list
      elements: str
    reasons:
      description: Why it stays.
      type: list
      elements: str
      sample: ["1.0.7: version, one of the 5 newest versions", "latest is always kept"]
repositories:
  description: Per repository, its tags before and after (in check mode, after a real run).
  returned: success
  type: list
  elements: dict
  contains:
    repository:
      description: C(REGISTRY/REPOSITORY).
      type: str
    tags_before:
      description: The tags it had.
      type: list
      elements: str
    tags_after:
      description: The tags it has (would have) after.
      type: list
      elements: str
summary:
  description: Counts of digests and tags deleted (or that would be) and kept.
  returned: success
  type: dict
  sample: {"repositories": 1, "digests_deleted": 2, "tags_deleted": 3, "digests_kept": 6, "tags_kept": 9}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import (
    REGISTRY_ARG_SPEC,
    REGISTRY_MUTUALLY_EXCLUSIVE,
    REGISTRY_REQUIRED_TOGETHER,
)
from ansible_collections.outerloop.docker.plugins.module_utils._registry_retention import run_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            REGISTRY_ARG_SPEC,
            repositories={"type": "list", "elements": "str"},
            releases={"type": "list", "elements": "dict"},
            keep={"type": "int", "default": 5},
            protect={"type": "list", "elements": "str", "default": []},
            protect_versions={"type": "list", "elements": "str", "default": []},
            timeout={"type": "int", "default": 60},
        ),
        required_one_of=[("repositories", "releases")],
        required_together=REGISTRY_REQUIRED_TOGETHER,
        mutually_exclusive=REGISTRY_MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
