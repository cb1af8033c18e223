# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Adding a tag to a manifest that a registry already holds, and deleting a manifest, over the Registry
HTTP API v2.

A tag is a name for a manifest: ``GET /v2/<repository>/manifests/<digest>`` gives the manifest's
exact bytes and media type, ``PUT /v2/<repository>/manifests/<tag>`` with the same bytes and
``Content-Type`` names it. The blobs are already in the repository, so nothing else is uploaded,
and the registry answers with the digest of what it stored, which must be the digest asked for.

``DELETE /v2/<repository>/manifests/<digest>`` deletes a manifest and every tag on it (a registry deletes
by digest only); a registry whose deletion is disabled answers 405.

Authentication, TLS and messages are those of ``_domain.registry_client.RegistryClient``; this module only adds
the writes. Tokens are asked for with the ``pull,push`` scope of the repository, or ``delete`` to delete.
"""

from __future__ import annotations

import hashlib

from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_auth import run_helper
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import (
    ACCEPT,
    RegistryClient,
    registry_client,
    registry_error_text,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_error import RegistryError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_http import MAX_MANIFEST_BYTES
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRef,
    api_repository,
    normalized_name,
)


def push_scope(ref: ImageRef) -> str:
    return f"repository:{api_repository(ref)}:pull,push"


def delete_scope(ref: ImageRef) -> str:
    return f"repository:{api_repository(ref)}:delete"


class RegistryPushClient(RegistryClient):
    """A RegistryClient that can also read a manifest's raw bytes, put them under a tag, and delete a manifest."""

    def send(self, method: str, path: str, image: str, scope: str, *, headers=None, data=None):
        """``method`` base_url+path, answering one 401 challenge; returns (status, headers, body)."""
        if method == "GET" and data is None:
            return self.get(path, image, scope, accept=(headers or {}).get("Accept"))
        url = self.base_url + path
        headers = dict(headers or {})
        if scope in self._authorization:
            headers["Authorization"] = self._authorization[scope]
        status, response_headers, body = self._send(method, url, headers, image, data=data)
        if status != 401:
            return status, response_headers, body
        headers["Authorization"] = self._answer_challenge(
            response_headers.get("www-authenticate", ""), scope, image, body
        )
        status, response_headers, body = self._send(method, url, headers, image, data=data)
        if status == 401:
            self._fail_rejected(image, registry_error_text(body))
        self._authorization[scope] = headers["Authorization"]
        return status, response_headers, body

    def raw_manifest(self, ref: ImageRef, digest: str) -> tuple:
        """``(media_type, bytes)`` of the manifest ``digest`` in the repository of ``ref``.

        The bytes must hash to ``digest``: they are put back unchanged under a new tag.
        """
        image = f"{normalized_name(ref)}@{digest}"
        status, headers, body = self.send(
            "GET", f"/v2/{api_repository(ref)}/manifests/{digest}", image, push_scope(ref), headers={"Accept": ACCEPT}
        )
        if status == 404:
            raise RegistryError(
                f"{self._where(image)} has no manifest {digest}: the image was deleted or never pushed there. "
                "Publish the release again from CI."
            )
        if status == 403:
            raise RegistryError(
                f"{self._where(image)} denied access: {registry_error_text(body)}. "
                f"The registry let {self.auth.describe()} in, but not to this repository: "
                "grant it read and write access."
            )
        if status != 200:
            raise RegistryError(
                f"{self._where(image)} answered HTTP {status} for the manifest: {registry_error_text(body)}."
            )
        if len(body) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"{self._where(image)} sent a manifest larger than {MAX_MANIFEST_BYTES} bytes.")
        computed = "sha256:" + hashlib.sha256(body).hexdigest()
        if computed != digest:
            raise RegistryError(
                f"{self._where(image)} answered the digest {digest} with a manifest whose sha256 is {computed}."
            )
        media_type = headers.get("content-type", "").split(";")[0].strip()
        if not media_type:
            raise RegistryError(f"{self._where(image)} sent the manifest {digest} without a Content-Type.")
        return media_type, body

    def put_tag(self, ref: ImageRef, tag: str, media_type: str, body: bytes) -> str:
        """Put the manifest ``body`` under ``tag``; returns the digest the registry says it stored."""
        image = f"{normalized_name(ref)}:{tag}"
        status, headers, answer = self.send(
            "PUT",
            f"/v2/{api_repository(ref)}/manifests/{tag}",
            image,
            push_scope(ref),
            headers={"Content-Type": media_type},
            data=body,
        )
        if status in (401, 403):
            raise RegistryError(
                f"{self._where(image)} refused to write the tag ({registry_error_text(answer) or f'HTTP {status}'}). "
                f"The registry let {self.auth.describe()} read, but not push: use credentials of a user that may push."
            )
        if status not in (200, 201, 202):
            raise RegistryError(
                f"{self._where(image)} answered HTTP {status} to the new tag: {registry_error_text(answer)}."
            )
        stored = (headers.get("docker-content-digest") or "").strip()
        return stored or "sha256:" + hashlib.sha256(body).hexdigest()

    def delete_manifest(self, ref: ImageRef, digest: str) -> bool:
        """Delete the manifest ``digest`` from the repository of ``ref``, and with it every tag on it.

        True when the registry deleted it, False when it had no such manifest (already deleted). The space
        of its blobs is freed only by the registry's garbage collection.
        """
        image = f"{normalized_name(ref)}@{digest}"
        status, _headers, answer = self.send(
            "DELETE", f"/v2/{api_repository(ref)}/manifests/{digest}", image, delete_scope(ref)
        )
        if status in (200, 202, 204):
            return True
        if status == 404:
            return False
        text = registry_error_text(answer) or f"HTTP {status}"
        if status == 405:
            raise RegistryError(
                f"{self._where(image)} does not allow deleting manifests (HTTP 405, {text}). Enable deletion in the "
                "registry's configuration, storage.delete.enabled: true (outerloop.docker.registry: "
                "registry_delete_enabled: true), restart the registry and run again."
            )
        if status in (401, 403):
            raise RegistryError(
                f"{self._where(image)} refused to delete the manifest ({text}). The registry let "
                f"{self.auth.describe()} in, but not delete: use credentials of a user that may delete."
            )
        raise RegistryError(f"{self._where(image)} answered HTTP {status} to deleting the manifest: {text}.")


def push_client(registry: str, params: dict, timeout: int, *, image: str = "", runner=run_helper, transport=None):
    """A RegistryPushClient for ``registry`` from the REGISTRY_ARG_SPEC options of a module."""
    return registry_client(
        registry, params, timeout, image=image, runner=runner, transport=transport, client_class=RegistryPushClient
    )
