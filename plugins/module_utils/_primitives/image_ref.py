# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Image references, parsed and validated in one place: REGISTRY/REPOSITORY[:TAG][@DIGEST].

The rules are Docker's (distribution/reference): the first path component is a registry when it
contains a dot or a colon or is `localhost`; repository components are lowercase; a tag is at most
128 word characters, dots and dashes; a digest is `sha256:` and 64 hex digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

DOCKER_HUB = "docker.io"
DOCKER_HUB_NAMES = frozenset((DOCKER_HUB, "index.docker.io"))
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_REGISTRY = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                       r"|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?$")  # fmt: skip


class ImageRefError(ValueError):
    """An image reference that Docker would refuse; the message names it and says why."""


@dataclass(frozen=True)
class ImageRef:
    registry: str  # "" for Docker Hub references written without one
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """REGISTRY/REPOSITORY, as written (no tag, no digest)."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def registry_host(self) -> str:
        """The registry to talk to: Docker Hub when the reference names none."""
        return self.registry or DOCKER_HUB

    def with_tag(self, tag: str) -> ImageRef:
        return replace(self, tag=validate_tag(tag), digest="")

    def with_digest(self, digest: str) -> ImageRef:
        return replace(self, tag="", digest=validate_digest(digest))

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def validate_tag(tag: str) -> str:
    if not isinstance(tag, str) or not _TAG.match(tag):
        raise ImageRefError(
            f"tag {tag!r} is not valid: up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
        )
    return tag


def validate_digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise ImageRefError(f"digest {digest!r} is not valid: expected sha256: and 64 lowercase hex digits")
    return digest


def parse_image_ref(text: str) -> ImageRef:
    """Parse REGISTRY/REPOSITORY[:TAG][@DIGEST]; raise ImageRefError naming the reference otherwise."""
    if not isinstance(text, str) or not text or text != text.strip():
        raise ImageRefError(f"image reference {text!r} is empty or has surrounding spaces")
    rest, _at, digest = text.partition("@")
    if digest:
        try:
            validate_digest(digest)
        except ImageRefError as exc:
            raise ImageRefError(f"image reference {text!r}: {exc}") from None
    registry = ""
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        registry, rest = first, remainder
        if not _REGISTRY.match(registry):
            raise ImageRefError(f"image reference {text!r}: registry {registry!r} is not HOST[:PORT]")
    repository, tag = rest, ""
    last_slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > last_slash:
        repository, tag = rest[:colon], rest[colon + 1 :]
        try:
            validate_tag(tag)
        except ImageRefError as exc:
            raise ImageRefError(f"image reference {text!r}: {exc}") from None
    components = repository.split("/")
    bad = [c for c in components if not _COMPONENT.match(c)]
    if bad:
        raise ImageRefError(
            f"image reference {text!r}: repository component {bad[0]!r} is not valid "
            "(lowercase letters, digits and single separators '.', '_', '__' or '-')"
        )
    if len(repository) > 255:
        raise ImageRefError(f"image reference {text!r}: repository name longer than 255 characters")
    return ImageRef(registry=registry, repository=repository, tag=tag, digest=digest)


# --- Normalised names: what Docker means by a reference --------------------------------------


def api_repository(ref: ImageRef) -> str:
    """The repository path of the registry API (Docker Hub's official images live under ``library/``)."""
    if ref.registry_host.lower() in DOCKER_HUB_NAMES and "/" not in ref.repository:
        return f"library/{ref.repository}"
    return ref.repository


def normalized_name(ref: ImageRef) -> str:
    """REGISTRY/REPOSITORY with the registry always written, e.g. ``docker.io/library/busybox``."""
    registry = DOCKER_HUB if ref.registry_host.lower() in DOCKER_HUB_NAMES else ref.registry_host
    return f"{registry}/{api_repository(ref)}"


def normalized_image(ref: ImageRef) -> str:
    """The full reference looked up: the name, then ``@digest`` or ``:tag`` (``latest`` if none)."""
    if ref.digest:
        return f"{normalized_name(ref)}@{ref.digest}"
    return f"{normalized_name(ref)}:{ref.tag or 'latest'}"


def same_repository(first: ImageRef, second: ImageRef) -> bool:
    return normalized_name(first) == normalized_name(second)


# --- Digests of references and of local images -----------------------------------------------


def digest_in(image) -> str | None:
    """The sha256 digest an image reference is pinned to (``name[:tag]@sha256:...``), else None."""
    if not isinstance(image, str) or "@" not in image:
        return None
    digest = image.rpartition("@")[2]
    return digest if _DIGEST.match(digest) else None


def _normalized(reference) -> str | None:
    try:
        return normalized_name(parse_image_ref(reference))
    except (ImageRefError, TypeError):
        return None


def repo_digest(repo_digests, repository: str | None = None, config_image: str | None = None) -> str | None:
    """The registry digest of a local image, preferably the one it has in ``repository``.

    ``repo_digests`` are the image's ``RepoDigests`` (``REGISTRY/REPOSITORY@sha256:...``, one per
    repository the image was pushed to or pulled from). The entry of ``repository`` wins (without one,
    of the repository named by ``config_image``, the reference a container was created from); else the
    digest ``config_image`` is pinned to; else the only entry. None when nothing tells.
    """
    entries = [entry for entry in repo_digests or [] if isinstance(entry, str) and "@" in entry]
    wanted = _normalized(repository) if repository else None
    if wanted is None and config_image:
        wanted = _normalized(config_image)
    if wanted is not None:
        for entry in entries:
            name, _sep, digest = entry.partition("@")
            if _normalized(name) == wanted:
                return digest
    pinned = digest_in(config_image)
    if pinned:
        return pinned
    if len(entries) == 1:
        return entries[0].partition("@")[2]
    return None
