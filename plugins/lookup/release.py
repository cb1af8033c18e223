# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: release
short_description: Read a release manifest on the controller, validated
version_added: 0.1.0
author: outerloop.docker contributors (@outerloop)
description:
  - Reads release manifests (JSON files written by M(outerloop.docker.release)) on the controller and
    returns each as a dictionary, after the same validation as
    O(outerloop.docker.release#module:state=validated). It checks every field, the SemVer
    version, the full commit SHA, every image pinned by digest, no credentials, and the manifest's
    C(digest), which detects a file edited by hand.
  - Fails, naming the file and listing every problem, when a manifest is not valid.
  - Relative paths are looked up like the P(ansible.builtin.file#lookup) lookup does (the C(files/)
    directories of the role and play, then their own directories).
options:
  _terms:
    description: Paths of release manifest files on the controller.
    type: list
    elements: path
    required: true
seealso:
  - module: outerloop.docker.release
  - plugin: outerloop.docker.release_images
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Deploy the release given as release_manifest (a path on the controller)
  ansible.builtin.set_fact:
    release: "{{ lookup('outerloop.docker.release', release_manifest) }}"

- name: Show what it deploys
  ansible.builtin.debug:
    msg: "{{ release.release_id }}: {{ release | outerloop.docker.release_images }}"
"""

RETURN = r"""
_raw:
  description: One release manifest (a dictionary) per path, as described in C(docs/release-manifest.md).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import ReleaseError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import read_manifest


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        manifests = []
        for term in terms:
            path = self.find_file_in_search_path(variables, "files", term, ignore_missing=True)
            if not path:
                raise AnsibleLookupError(f"release manifest {term!r} not found on the controller")
            try:
                manifests.append(read_manifest(path))
            except ReleaseError as exc:
                raise AnsibleLookupError(str(exc)) from None
        return manifests
