# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Retention on a Docker host: after a successful deploy of a compose project, the stored releases beyond
the newest ``keep_releases`` go (_domain.history.releases_to_prune: never the running release nor the one a
rollback goes to), and with them the images that only those releases used.

An image goes only when no container of the host uses it (running or stopped, of any project) and no kept
release names it; it is removed by its digest reference, never forced, so an image the engine still
needs stays ("in use" is no failure).
"""

from __future__ import annotations

import json

from ansible_collections.outerloop.docker.plugins.module_utils._domain import history
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import (
    ComposeFileError,
    load_compose,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import HAS_DOCKER
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import digest_in

if HAS_DOCKER:
    import docker.errors


def release_image_refs(files: dict | None) -> set:
    """The images pinned by digest (REPOSITORY@sha256:...) of a stored release: its manifest's and those of
    its compose files (services outside the release, overrides)."""
    refs = set()
    files = files or {}
    try:
        manifest = json.loads(files.get("manifest.json") or "{}")
        refs |= {svc.get("image") for svc in (manifest.get("services") or {}).values() if isinstance(svc, dict)}
    except (ValueError, AttributeError):
        pass
    for name in ("compose.yaml", "compose.override.yaml"):
        if not files.get(name):
            continue
        try:
            services = load_compose(files[name], name).get("services") or {}
        except (ComposeFileError, ValueError, AttributeError):
            continue
        refs |= {svc.get("image") for svc in services.values() if isinstance(svc, dict)}
    return {ref for ref in refs if isinstance(ref, str) and digest_in(ref)}


def image_id(client, ref: str) -> str | None:
    try:
        return client.inspect_image(ref).get("Id")
    except docker.errors.NotFound:
        return None


def remove_unused_images(module, client, refs, kept_refs, check_mode: bool) -> list:
    """Remove each of ``refs`` that no container uses and no kept release names (by image id); the removed
    ones (in check mode, the ones a real run would remove)."""
    if not refs:
        return []
    used = {summary.get("ImageID") for summary in client.containers(all=True)}
    kept = {image_id(client, ref) for ref in kept_refs} - {None}
    removed = []
    for ref in sorted(refs):
        found = image_id(client, ref)
        if found is None or found in used or found in kept:
            continue
        if not check_mode:
            try:
                client.remove_image(ref)
            except docker.errors.NotFound:
                continue
            except docker.errors.APIError as exc:
                if exc.status_code != 409:  # 409: in use or referenced by another image; it stays
                    module.warn(f"retention: image {ref} was not removed: {exc.explanation or exc}")
                continue
        removed.append(ref)
    return removed


def prune_compose_releases(deployer, pending: dict | None = None) -> dict:
    """Retention of the deployer's project: ``{"releases": [...], "images": [...]}`` removed (in check mode,
    what a real run would remove; ``pending`` is then the entry the run would add)."""
    release_ids = deployer.retention_plan(pending)
    pruned = {"releases": release_ids, "images": []}
    if not release_ids:
        return pruned
    gone, kept = set(), set((pending or {}).get("images", {}).values())
    for release_id in history.stored_release_ids(deployer.state_dir, deployer.name):
        refs = release_image_refs(history.read_release_files(deployer.state_dir, deployer.name, release_id))
        (gone if release_id in release_ids else kept).update(refs)
    deployer.prune_release_files(release_ids)
    pruned["images"] = remove_unused_images(deployer.module, deployer.client, gone - kept, kept, deployer.check_mode)
    return pruned
