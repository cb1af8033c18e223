# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters over release manifests: release_images, pinned_compose, release_errors.

Their documentation is in release_images.yml, pinned_compose.yml and release_errors.yml next to this file.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import (
    ReleaseError,
    check_manifest,
    validate_manifest,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release_compose import render_compose


def _valid(manifest, name: str) -> dict:
    try:
        return check_manifest(manifest, "given to " + name)
    except ReleaseError as exc:
        raise AnsibleFilterError(str(exc)) from None


def release_images(manifest) -> dict:
    """{service: REGISTRY/REPOSITORY@sha256:DIGEST} of a valid release manifest."""
    manifest = _valid(manifest, "release_images")
    return {name: service["image"] for name, service in manifest["services"].items()}


def pinned_compose(manifest) -> str:
    """The release's compose file with every release service pinned by digest and without build sections."""
    manifest = _valid(manifest, "pinned_compose")
    try:
        return render_compose(manifest)["content"]
    except ReleaseError as exc:
        raise AnsibleFilterError(str(exc)) from None


def release_errors(manifest) -> list:
    """Every problem of a release manifest; empty when it is valid."""
    return validate_manifest(manifest)


class FilterModule:
    def filters(self):
        return {"release_images": release_images, "pinned_compose": pinned_compose, "release_errors": release_errors}
