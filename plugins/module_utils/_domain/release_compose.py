# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A release's compose file, pinned: every service of the release runs its digest, nothing is built."""

from __future__ import annotations

import copy

from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import ReleaseError
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import (
    ComposeFileError,
    dump_compose,
    load_compose,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRefError,
    parse_image_ref,
)


def _image_state(service) -> tuple[str | None, bool]:
    """(image text or None, pinned by digest?) of a compose service outside the release."""
    if not isinstance(service, dict) or not isinstance(service.get("image"), str):
        return None, False
    image = service["image"]
    try:
        return image, bool(parse_image_ref(image).digest)
    except ImageRefError:
        return image, False


def render_compose(manifest: dict) -> dict:
    """The release's compose file with every release service pinned by digest.

    For each service of the release: ``image`` set to REGISTRY/REPOSITORY@sha256:DIGEST, ``build``
    removed (and ``pull_policy: build``, which needs it). Every other service keeps what it has and is
    reported. Returns ``{"content": text, "images": {service: image}, "other_services": {service:
    {"image": str or None, "pinned": bool}}, "unpinned_services": [names]}``.
    The manifest must be valid (validate_manifest); a release service missing from the compose file
    raises ReleaseError.
    """
    compose = manifest["compose"]
    try:
        data = load_compose(compose["content"], compose["file"])
    except ComposeFileError as exc:
        raise ReleaseError(str(exc)) from None
    services = data["services"]
    images = {}
    for name, release_service in manifest["services"].items():
        if name not in services:
            raise ReleaseError(
                f"service {name!r} of release {manifest.get('release_id')} is not in the compose file {compose['file']}"
            )
        service = services[name]
        service = {} if service is None else copy.deepcopy(service)
        if not isinstance(service, dict):
            raise ReleaseError(f"service {name!r} in the compose file {compose['file']} is not a mapping")
        service.pop("build", None)
        if service.get("pull_policy") == "build":
            del service["pull_policy"]
        if "image" in service:
            service["image"] = release_service["image"]  # where it was, so the key order stays
        else:
            service = {"image": release_service["image"], **service}
        services[name] = service
        images[name] = release_service["image"]
    other = {}
    for name, service in services.items():
        if name in images:
            continue
        image, pinned = _image_state(service)
        other[str(name)] = {"image": image, "pinned": pinned}
    header = (
        f"# Rendered by outerloop.docker.release from release {manifest['release_id']}\n"
        f"# (manifest digest {manifest['digest']}, {compose['file']} at commit {manifest['source']['commit']}).\n"
        "# Every image of the release is pinned by digest. Do not edit: render it again from the manifest.\n"
    )
    return {
        "content": header + dump_compose(data),
        "images": images,
        "other_services": other,
        "unpinned_services": sorted(name for name, state in other.items() if not state["pinned"]),
    }
