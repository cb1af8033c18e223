# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What an image holds, apart from the labels that change with every commit; pure functions.

``content_key`` hashes an image's layers (the rootfs diff IDs) and the parts of its configuration
that a container runs with. Two images with the same key behave the same, so a build whose key an
earlier image already carries can reuse that image (and so its registry digest) instead of making a
new one that differs only in its revision, creation time or build number.

``declared_build_args`` reads the ``ARG`` names of a Dockerfile, so that a build argument the
Dockerfile does not declare is not sent (the classic builder would ignore it with a warning).
"""

from __future__ import annotations

import hashlib
import json
import re

from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRefError,
    parse_image_ref,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import CONTENT_KEY

# The configuration a container runs with (the Engine API's image Config), besides the layers.
RUNTIME_CONFIG = (
    "Env",
    "Cmd",
    "Entrypoint",
    "User",
    "WorkingDir",
    "ExposedPorts",
    "Volumes",
    "Healthcheck",
    "StopSignal",
    "OnBuild",
)
# Build arguments every Dockerfile may use without declaring them (Docker's predefined ARGs).
PREDEFINED_ARGS = frozenset(
    name
    for upper in ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY")
    for name in (upper, upper.lower())
)
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_ARG_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:=|$)")


def content_key(info: dict) -> str:
    """``sha256:HEX`` over the layers, platform and runtime configuration of an image's inspect data.

    Labels count (those of the Dockerfile and its base image): image_build computes the key on the
    image built without the per-commit labels. The label ``io.outerloop.content-key`` is left out,
    so that one inherited from a base image does not count twice.
    """
    config = dict(info.get("Config") or {})
    labels = {key: value for key, value in (config.get("Labels") or {}).items() if key != CONTENT_KEY}
    rootfs = info.get("RootFS") or {}
    layers = list(rootfs.get("Layers") or [])
    if not layers:
        raise ValueError(f"image {info.get('Id')} has no layers in RootFS; cannot tell what it holds")
    document = {
        "layers": layers,
        "platform": [info.get("Os") or "", info.get("Architecture") or "", info.get("Variant") or ""],
        "config": {key: config.get(key) or None for key in RUNTIME_CONFIG},
        "labels": labels,
    }
    data = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _logical_lines(text: str):
    """The Dockerfile's instructions, continuation lines joined, comments and blank lines dropped."""
    escape = "\\"
    lines = text.splitlines()
    for line in lines:  # parser directives: comments of the form "# key=value" before anything else
        directive = _DIRECTIVE.match(line.strip())
        if not directive:
            break
        if directive.group(1).lower() == "escape" and directive.group(2) in ("\\", "`"):
            escape = directive.group(2)
    current = ""
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#") and not current:
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith(escape):
            current += stripped[: -len(escape)] + " "
            continue
        current += stripped
        if current.strip():
            yield current.strip()
        current = ""
    if current.strip():
        yield current.strip()


def declared_build_args(text: str) -> set:
    """The names that the Dockerfile ``text`` declares with ``ARG`` (in any stage, or before FROM)."""
    names = set()
    for line in _logical_lines(text):
        words = line.split()
        if words[0].upper() != "ARG":
            continue
        for word in words[1:]:
            match = _ARG_NAME.match(word)
            if match:
                names.add(match.group(1))
    return names


def split_build_args(build_args: dict, declared: set) -> tuple:
    """``(sent, ignored)``: the arguments the Dockerfile declares (or Docker predefines), and the others."""
    sent, ignored = {}, []
    for name, value in build_args.items():
        if name in declared or name in PREDEFINED_ARGS:
            sent[name] = value
        else:
            ignored.append(name)
    return sent, sorted(ignored)


def _repository_tags(image: dict, repository: str) -> list:
    tags = []
    for text in image.get("RepoTags") or []:
        try:
            ref = parse_image_ref(text)
        except ImageRefError:
            continue
        if ref.name == repository and ref.tag:
            tags.append(text)
    return sorted(tags)


def pick_reusable(images, repository: str, wanted_tags) -> dict | None:
    """The image to reuse among ``images`` (the engine's list of images carrying one content key).

    Only an image tagged in ``repository`` counts: that is where the earlier release was published
    from. An image that already has one of ``wanted_tags`` wins (a rerun keeps its image); otherwise
    the newest, which is the one the last release most likely pushed. Returns ``{"id", "tags"}``.
    """
    wanted = set(wanted_tags)
    candidates = []
    for image in images or []:
        tags = _repository_tags(image, repository)
        if tags and image.get("Id"):
            candidates.append((bool(wanted & set(tags)), int(image.get("Created") or 0), image["Id"], tags))
    if not candidates:
        return None
    best = max(candidates)
    return {"id": best[2], "tags": best[3]}
