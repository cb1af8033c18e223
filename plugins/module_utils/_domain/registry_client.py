# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading a remote registry over the Registry HTTP API v2, from the host the module runs on.

No pull, no Docker Engine, no new dependency: ``ansible.module_utils.urls`` does the HTTP
(_domain.registry_http), the credentials are resolved as ``docker`` does (_domain.registry_auth).

- ``GET /v2/<repository>/manifests/<tag or digest>`` with an ``Accept`` header that names the OCI
  index and manifest and the Docker manifest list and v2 manifest;
- a 401 answer is a challenge (``WWW-Authenticate``): ``Basic`` gets the credentials, ``Bearer
  realm=...,service=...,scope=...`` gets a token from the realm (with the credentials, or an
  identity token as OAuth2 refresh token), then the request is sent again, as the Docker Engine does;
- the digest is ``sha256`` of the manifest bytes, checked against ``Docker-Content-Digest`` and,
  for a lookup by digest, against the digest asked for.

This client only reads (manifests, config blobs, tag lists); _domain.registry_push adds the writes the
collection needs (a tag, deleting a manifest).
Errors are raised as RegistryError with a message that names the registry, the image and what to do
next; secrets are masked at the edge.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import ssl
import urllib.error
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlparse

from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_auth import (
    RegistryAuth,
    parse_www_authenticate,
    resolve_auth,
    run_helper,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_error import RegistryError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_http import (
    CERTS_D,
    MAX_MANIFEST_BYTES,
    USER_AGENT,
    TlsSettings,
    describe_connection_error,
    ssl_context,
    tls_settings,
    urllib_transport,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.docker_config import (
    DockerConfigError,
    encode_auth,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    DOCKER_HUB_NAMES,
    ImageRef,
    api_repository,
    normalized_image,
    normalized_name,
)

MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_MEDIA_TYPES = frozenset((MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST))
MANIFEST_MEDIA_TYPES = frozenset((MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST))
ACCEPT = ", ".join((MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST, MEDIA_DOCKER_LIST, MEDIA_DOCKER_MANIFEST))

DOCKER_HUB_API_HOST = "registry-1.docker.io"
MAX_CONFIG_BYTES = 16 * 1024 * 1024
TAGS_PAGE = 1000  # tags asked for per page of a tag list
MAX_TAG_PAGES = 100


# Options every module that reads a registry spells the same way. Document them with the same words.
REGISTRY_ARG_SPEC = {
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "config_path": {"type": "path"},
    "user": {"type": "str"},
    "ca_path": {"type": "path"},
    "validate_certs": {"type": "bool", "default": True},
}
REGISTRY_REQUIRED_TOGETHER = [("username", "password")]
REGISTRY_MUTUALLY_EXCLUSIVE = [("username", "config_path"), ("username", "user"), ("config_path", "user")]


def split_digest(digest: str) -> tuple:
    """``(algorithm, hex)`` of ``ALGORITHM:HEX``; hex is empty when there is no colon."""
    parts = digest.split(":", 1)
    return parts[0], parts[1] if len(parts) == 2 else ""


def manifest_digest(body: bytes, header_digest: str | None = None, expected: str | None = None) -> str:
    """``sha256:<hex>`` of the manifest bytes, after checking it against what the registry claims.

    ``header_digest`` is the ``Docker-Content-Digest`` header (any algorithm hashlib knows);
    ``expected`` is the digest the lookup asked for. A mismatch raises RegistryError: the bytes are
    not the manifest they claim to be.
    """
    computed = "sha256:" + hashlib.sha256(body).hexdigest()
    if header_digest:
        algorithm, hex_digest = split_digest(header_digest.strip())
        algorithm = algorithm.lower()
        if algorithm not in hashlib.algorithms_available or not hex_digest:
            raise RegistryError(f"the registry sent the digest {header_digest!r}, whose algorithm is not supported")
        if hashlib.new(algorithm, body).hexdigest() != hex_digest.lower():
            raise RegistryError(
                f"the manifest the registry sent does not match its Docker-Content-Digest {header_digest} "
                f"(its bytes hash to {computed}); a proxy or the registry altered it"
            )
    if expected and expected != computed:
        raise RegistryError(f"the registry answered the digest {expected} with a manifest whose sha256 is {computed}")
    return computed


def registry_error_text(body: bytes) -> str:
    """The ``errors`` of a registry's JSON error body as one line, or the start of the raw body."""
    try:
        document = json.loads(body.decode("utf-8"))
        errors = document.get("errors") if isinstance(document, dict) else None
        if errors:
            return "; ".join(
                ": ".join(str(part) for part in (error.get("code"), error.get("message")) if part)
                for error in errors
                if isinstance(error, dict)
            )
    except (ValueError, UnicodeError, AttributeError):
        pass
    return body[:200].decode("utf-8", "replace").strip()


def next_page(link: str) -> str:
    """The path and query of the ``rel="next"`` URL of a ``Link`` header (RFC 8288), or ``""``."""
    for part in link.split(","):
        target, _sep, params = part.partition(";")
        target = target.strip()
        if target.startswith("<") and target.endswith(">") and 'rel="next"' in params.replace(" ", ""):
            url = urlparse(target[1:-1])
            return url.path + (f"?{url.query}" if url.query else "")
    return ""


def api_host(registry: str) -> str:
    """The host that serves the API of a registry named in an image reference."""
    return DOCKER_HUB_API_HOST if registry.lower() in DOCKER_HUB_NAMES else registry


def platform_entry(platform: dict | None, **extra) -> dict:
    """``{"platform": "os/arch[/variant]", "os", "architecture", "variant"?, ...extra}``."""
    platform = platform if isinstance(platform, dict) else {}
    os_name = platform.get("os") or "unknown"
    architecture = platform.get("architecture") or "unknown"
    entry = {"platform": f"{os_name}/{architecture}", "os": os_name, "architecture": architecture}
    if platform.get("variant"):
        entry["variant"] = platform["variant"]
        entry["platform"] += f"/{platform['variant']}"
    entry.update(extra)
    return entry


# --- The client ------------------------------------------------------------------------------


@dataclass
class ManifestInfo:
    """What a lookup found. ``exists`` False means the registry answered 404 for the reference."""

    image: str
    exists: bool
    digest: str | None = None
    media_type: str | None = None
    size: int | None = None
    config_digest: str | None = None
    labels: dict = field(default_factory=dict)
    created: str | None = None
    platforms: list = field(default_factory=list)

    def as_result(self) -> dict:
        return {
            "image": self.image,
            "exists": self.exists,
            "digest": self.digest,
            "media_type": self.media_type,
            "size": self.size,
            "labels": self.labels,
            "created": self.created,
            "platforms": self.platforms,
        }


class RegistryClient:
    """Read-only access to one registry's API v2; ``transport`` is the HTTP seam (see urllib_transport)."""

    def __init__(self, registry: str, auth: RegistryAuth, transport, tls: TlsSettings | None = None):
        self.registry = registry
        self.base_url = f"https://{api_host(registry)}"
        self.auth = auth
        self.tls = tls or TlsSettings()
        self._transport = transport
        self._authorization = {}  # scope -> Authorization header value that the registry accepted
        self.secrets = list(auth.secrets)

    # -- messages --

    def _where(self, image: str) -> str:
        about = f"image {image}, " if image else ""
        return f"registry {self.registry} ({about}from host {socket.gethostname()})"

    def tls_hint(self) -> str:
        """What to do about a certificate this host does not trust (a subclass without ca_path says less)."""
        default_dir = os.path.join(CERTS_D, self.registry)
        return (
            "Give the CA that signed the registry's certificate "
            f"with ca_path, or put it at {default_dir}/ca.crt on this host (where the Docker Engine looks too)."
        )

    def _fail_connection(self, exc: BaseException, url: str, image: str):
        tls, what = describe_connection_error(exc)
        if tls:
            hint = f"TLS was set up {self.tls.describe()}. {self.tls_hint()}"
        else:
            hint = "Check the registry address and port, that the registry runs, and that this host can reach it."
        raise RegistryError(
            f"cannot reach {self._where(image)} at {url}: {what}. {hint}", "tls" if tls else "unreachable"
        ) from None

    # -- HTTP with authentication --

    def _send(self, method, url, headers, image, *, data=None, limit=MAX_MANIFEST_BYTES):
        try:
            return self._transport(method, url, headers, data=data, limit=limit)
        except (urllib.error.URLError, OSError, http.client.HTTPException, ssl.SSLError) as exc:
            self._fail_connection(exc, url, image)

    def get(self, path: str, image: str, scope: str, *, accept: str | None = None, limit=MAX_MANIFEST_BYTES):
        """GET base_url+path, answering one 401 challenge; returns (status, headers, body)."""
        url = self.base_url + path
        headers = {"Accept": accept} if accept else {}
        if scope in self._authorization:
            headers["Authorization"] = self._authorization[scope]
        status, response_headers, body = self._send("GET", url, headers, image, limit=limit)
        if status != 401:
            return status, response_headers, body
        authorization = self._answer_challenge(response_headers.get("www-authenticate", ""), scope, image, body)
        headers["Authorization"] = authorization
        status, response_headers, body = self._send("GET", url, headers, image, limit=limit)
        if status == 401:
            self._fail_rejected(image, registry_error_text(body))
        self._authorization[scope] = authorization
        return status, response_headers, body

    def _fail_rejected(self, image: str, text: str):
        if self.auth.credentials is None:
            raise RegistryError(
                f"{self._where(image)} requires a login ({text or 'HTTP 401'}) and {self.auth.source}. "
                "Give username and password, or log in with outerloop.docker.registry_login.",
                "login_required",
            )
        raise RegistryError(
            f"{self._where(image)} rejected the credentials: {self.auth.describe()} ({text or 'HTTP 401'}). "
            "Check the user name and password, or log in again with outerloop.docker.registry_login.",
            "credentials",
        )

    def _answer_challenge(self, header: str, scope: str, image: str, body: bytes) -> str:
        challenges = dict(reversed(parse_www_authenticate(header)))  # the first of each scheme wins
        if "bearer" in challenges:
            token = self._bearer_token(challenges["bearer"], scope, image)
            return f"Bearer {token}"
        if "basic" in challenges:
            creds = self.auth.credentials
            if creds is None or not creds.username:
                self._fail_rejected(image, registry_error_text(body))
            return "Basic " + encode_auth(creds.username, creds.password)
        raise RegistryError(
            f"{self._where(image)} asks for an authentication scheme this module does not speak "
            f"(WWW-Authenticate: {header[:200] or 'missing'}); only Basic and Bearer tokens are supported."
        )

    def _bearer_token(self, params: dict, scope: str, image: str) -> str:
        realm = params.get("realm") or ""
        if urlparse(realm).scheme not in ("https", "http"):
            raise RegistryError(f"{self._where(image)} sent a Bearer challenge without a usable realm ({realm!r}).")
        query = {}
        if params.get("service"):
            query["service"] = params["service"]
        if params.get("scope") or scope:  # a login check (GET /v2/) asks for a token without a scope
            query["scope"] = params.get("scope") or scope
        creds = self.auth.credentials
        headers = {}
        data = None
        if creds is not None and creds.identity_token:
            # An identity token is an OAuth2 refresh token (what docker login stored).
            method, url = "POST", realm
            data = urlencode(
                dict(query, grant_type="refresh_token", refresh_token=creds.identity_token, client_id=USER_AGENT)
            ).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            if creds is not None and creds.username:
                query["account"] = creds.username
                headers["Authorization"] = "Basic " + encode_auth(creds.username, creds.password)
            method, url = "GET", realm + ("&" if "?" in realm else "?") + urlencode(query)
        reply = self._send(method, url, headers, image, data=data, limit=1024 * 1024)
        status, body = reply[0], reply[2]
        if status in (401, 403):
            self._fail_rejected(image, f"token service {urlparse(realm).netloc}: {registry_error_text(body)}")
        if status != 200:
            raise RegistryError(
                f"the token service {realm} of {self._where(image)} answered HTTP {status} "
                f"({registry_error_text(body)}). Check that the registry's auth service runs."
            )
        try:
            answer = json.loads(body.decode("utf-8"))
            token = answer.get("token") or answer.get("access_token")
        except (ValueError, UnicodeError, AttributeError):
            token = None
        if not token or not isinstance(token, str):
            raise RegistryError(f"the token service {realm} of {self._where(image)} answered without a token.")
        self.secrets.append(token)
        return token

    # -- the login check --

    def ping(self) -> bool:
        """``GET /v2/`` with the credentials, the check ``docker login`` makes: the registry answers, its
        TLS certificate is trusted here, and it accepts the credentials when it asks for any (a token without
        a scope from a token service). Nothing is read or pushed.

        Returns whether the registry asked for the credentials (False: it lets anyone in); raises
        RegistryError (with its ``kind``) when it cannot be reached, is not trusted or rejects them.
        """
        status, _headers, body = self.get("/v2/", "", "")
        if status == 200:
            return "" in self._authorization
        if status == 404:
            raise RegistryError(
                f"{self._where('')} answered HTTP 404 for /v2/: nothing there serves the Registry HTTP API v2. "
                "Check the registry address and port."
            )
        raise RegistryError(
            f"{self._where('')} answered HTTP {status} for /v2/ ({registry_error_text(body) or 'no details'}). "
            "Check that the registry runs and is healthy."
        )

    # -- lookups --

    def lookup(self, ref: ImageRef, fetch_config: bool = True) -> ManifestInfo:
        """The manifest of ``ref`` (by digest when it has one, else by tag, ``latest`` by default)."""
        image = normalized_image(ref)
        repository = api_repository(ref)
        scope = f"repository:{repository}:pull"
        reference = ref.digest or ref.tag or "latest"
        status, headers, body = self.get(f"/v2/{repository}/manifests/{reference}", image, scope, accept=ACCEPT)
        if status == 404:
            return ManifestInfo(image=image, exists=False)
        if status == 403:
            raise RegistryError(
                f"{self._where(image)} denied access to {repository}: {registry_error_text(body)}. "
                f"The registry let {self.auth.describe()} in, but not to this repository: grant it read access."
            )
        if status != 200:
            raise RegistryError(
                f"{self._where(image)} answered HTTP {status} for the manifest: {registry_error_text(body)}."
            )
        if len(body) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"{self._where(image)} sent a manifest larger than {MAX_MANIFEST_BYTES} bytes.")
        try:
            digest = manifest_digest(body, headers.get("docker-content-digest"), ref.digest or None)
        except RegistryError as exc:
            raise RegistryError(f"{self._where(image)}: {exc}.") from None
        try:
            manifest = json.loads(body.decode("utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeError) as exc:
            raise RegistryError(f"{self._where(image)} sent a manifest that is not JSON ({exc}).") from None
        media_type = manifest.get("mediaType") or headers.get("content-type", "").split(";")[0].strip()
        if manifest.get("schemaVersion") == 1:
            raise RegistryError(
                f"{self._where(image)} only has a Docker schema 1 manifest for it ({media_type}), which is deprecated "
                "and not supported; push the image again with a current Docker."
            )
        info = ManifestInfo(image=image, exists=True, digest=digest, media_type=media_type, size=len(body))
        if media_type in INDEX_MEDIA_TYPES or (media_type not in MANIFEST_MEDIA_TYPES and "manifests" in manifest):
            info.platforms = [
                platform_entry(
                    entry.get("platform"),
                    digest=entry.get("digest"),
                    media_type=entry.get("mediaType"),
                    size=entry.get("size"),
                )
                for entry in manifest.get("manifests") or []
                if isinstance(entry, dict)
            ]
            return info
        config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
        layers = [layer for layer in manifest.get("layers") or [] if isinstance(layer, dict)]
        sizes = [config.get("size")] + [layer.get("size") for layer in layers]
        info.size += sum(size for size in sizes if isinstance(size, int) and size > 0)
        info.config_digest = config.get("digest")
        if fetch_config and info.config_digest:
            self._read_config(ref, info, scope)
        return info

    def tags(self, ref: ImageRef) -> list:
        """The tags of the repository of ``ref``, sorted; empty when the registry does not know the repository.

        ``GET /v2/<repository>/tags/list``, page by page (``n``, and the ``Link`` header of the next page).
        """
        repository = api_repository(ref)
        image = normalized_name(ref)
        scope = f"repository:{repository}:pull"
        path = f"/v2/{repository}/tags/list?n={TAGS_PAGE}"
        found = set()
        for _page in range(MAX_TAG_PAGES):
            status, headers, body = self.get(path, image, scope, accept="application/json")
            if status == 404:
                return sorted(found)
            if status == 403:
                raise RegistryError(
                    f"{self._where(image)} denied listing the tags of {repository}: {registry_error_text(body)}. "
                    f"The registry let {self.auth.describe()} in, but not to this repository: grant it read access."
                )
            if status != 200:
                raise RegistryError(
                    f"{self._where(image)} answered HTTP {status} for the tag list: {registry_error_text(body)}."
                )
            try:
                answer = json.loads(body.decode("utf-8"))
                page = answer.get("tags") or []
                if not isinstance(page, list) or not all(isinstance(tag, str) for tag in page):
                    raise ValueError("tags is not a list of strings")
            except (ValueError, UnicodeError, AttributeError) as exc:
                raise RegistryError(f"{self._where(image)} sent a tag list that is not valid ({exc}).") from None
            found.update(page)
            path = next_page(headers.get("link", ""))
            if not path:
                return sorted(found)
        raise RegistryError(f"{self._where(image)} sent more than {MAX_TAG_PAGES} pages of tags.")

    def _read_config(self, ref: ImageRef, info: ManifestInfo, scope: str) -> None:
        path = f"/v2/{api_repository(ref)}/blobs/{info.config_digest}"
        reply = self.get(path, info.image, scope, limit=MAX_CONFIG_BYTES)
        status, body = reply[0], reply[2]
        if status != 200:
            raise RegistryError(
                f"{self._where(info.image)} has the manifest {info.digest} but answered HTTP {status} for its config "
                f"blob {info.config_digest} ({registry_error_text(body)}); the repository is damaged, push the image "
                "again."
            )
        algorithm, hex_digest = split_digest(info.config_digest)
        if algorithm not in hashlib.algorithms_available or hashlib.new(algorithm, body).hexdigest() != hex_digest:
            raise RegistryError(
                f"{self._where(info.image)} sent a config blob that does not match {info.config_digest}."
            )
        try:
            config = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeError):
            raise RegistryError(f"{self._where(info.image)} sent a config blob that is not JSON.") from None
        if not isinstance(config, dict):
            return
        container_config = config.get("config") if isinstance(config.get("config"), dict) else {}
        info.labels = dict(container_config.get("Labels") or {})
        info.created = config.get("created")
        info.platforms = [platform_entry(config, digest=info.digest, media_type=info.media_type, size=info.size)]


def registry_client(
    registry: str,
    params: dict,
    timeout: int,
    *,
    image: str = "",
    runner=run_helper,
    transport=None,
    client_class=RegistryClient,
) -> RegistryClient:
    """A RegistryClient (or subclass ``client_class``) for ``registry`` from a module's REGISTRY_ARG_SPEC options."""
    try:
        auth = resolve_auth(params, registry, runner)
    except DockerConfigError as exc:
        about = f" (image {image})" if image else ""
        raise RegistryError(
            f"cannot read the credentials stored for registry {registry}{about}: {exc}", "input"
        ) from None
    tls = tls_settings(api_host(registry), params.get("ca_path"), params.get("validate_certs", True))
    if transport is None:
        try:
            context = ssl_context(tls)
        except RegistryError as exc:
            about = f" (image {image})" if image else ""
            raise RegistryError(f"cannot set up TLS for registry {registry}{about}: {exc}") from None
        transport = urllib_transport(context, timeout)
    return client_class(registry, auth, transport, tls)
