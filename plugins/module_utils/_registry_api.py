# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading a remote registry over the Registry HTTP API v2, from the host the module runs on.

No pull, no Docker Engine, no new dependency: ``ansible.module_utils.urls`` does the HTTP.

- ``GET /v2/<repository>/manifests/<tag or digest>`` with an ``Accept`` header that names the OCI
  index and manifest and the Docker manifest list and v2 manifest;
- a 401 answer is a challenge (``WWW-Authenticate``): ``Basic`` gets the credentials, ``Bearer
  realm=...,service=...,scope=...`` gets a token from the realm (with the credentials, or an
  identity token as OAuth2 refresh token), then the request is sent again, as the Docker Engine does;
- the digest is ``sha256`` of the manifest bytes, checked against ``Docker-Content-Digest`` and,
  for a lookup by digest, against the digest asked for;
- TLS trusts the system's CAs plus ``ca_path`` (default: the ``*.crt`` files of
  ``/etc/docker/certs.d/HOST:PORT/``, the directory the Docker Engine reads).

Credentials come from the module options or, like ``docker``, from a Docker config file (inline
``auths`` entry, or the credential helper it names). Errors are raised as RegistryError with a
message that names the registry, the image and what to do next; secrets are masked at the edge.
"""

from __future__ import annotations

import glob
import hashlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import urllib.error
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlparse

from ansible.module_utils.urls import Request, make_context
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.docker_config import (
    DOCKER_HUB_NAMES,
    Credentials,
    DockerConfigError,
    credential_helper,
    default_config_path,
    encode_auth,
    entry_credentials,
    get_auths,
    load_config,
    normalize_registry,
    registry_keys,
    resolve_user,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    DOCKER_HUB,
    ImageRef,
    ImageRefError,
    parse_image_ref,
)
from ansible_collections.outerloop.docker.plugins.module_utils._registry_login import sanitize

MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_MEDIA_TYPES = frozenset((MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST))
MANIFEST_MEDIA_TYPES = frozenset((MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST))
ACCEPT = ", ".join((MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST, MEDIA_DOCKER_LIST, MEDIA_DOCKER_MANIFEST))

DOCKER_HUB_API_HOST = "registry-1.docker.io"
CERTS_D = "/etc/docker/certs.d"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution refuses larger manifests
MAX_CONFIG_BYTES = 16 * 1024 * 1024
USER_AGENT = "outerloop.docker"

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


class RegistryError(Exception):
    """A registry lookup that failed; the message names registry, image and the next step."""


# --- Pure helpers ----------------------------------------------------------------------------


def parse_www_authenticate(value: str) -> list:
    """The challenges of a ``WWW-Authenticate`` header (RFC 7235) as ``[(scheme, {param: value})]``.

    Schemes and parameter names are lowercased; quoted values keep their commas and lose their
    backslash escapes. Several challenges in one header (``Basic realm="a", Bearer realm="b"``)
    give several entries. Text that is not a challenge is skipped.
    """
    challenges = []
    current = None
    text = value or ""
    length = len(text)
    pos = 0

    def token_end(start):
        end = start
        while end < length and (text[end].isalnum() or text[end] in "!#$%&'*+-.^_`|~/"):
            end += 1
        return end

    def skip_spaces(start):
        while start < length and text[start] in " \t":
            start += 1
        return start

    def value_at(start):
        """(value, position after it) of a quoted string or a token."""
        if start < length and text[start] == '"':
            start += 1
            chars = []
            while start < length and text[start] != '"':
                if text[start] == "\\" and start + 1 < length:
                    start += 1
                chars.append(text[start])
                start += 1
            return "".join(chars), start + 1  # past the closing quote
        end = start
        while end < length and text[end] not in " \t,":
            end += 1
        return text[start:end], end

    while pos < length:
        while pos < length and text[pos] in " \t,":
            pos += 1
        if pos >= length:
            break
        end = token_end(pos)
        if end == pos:  # a character that starts nothing we know: skip it
            pos += 1
            continue
        name = text[pos:end]
        after = skip_spaces(end)
        if after < length and text[after] == "=":
            value, pos = value_at(skip_spaces(after + 1))
            if current is not None:  # a parameter before any scheme belongs to no challenge
                current[1][name.lower()] = value
        else:
            current = (name.lower(), {})
            challenges.append(current)
            pos = end
    return challenges


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


def api_host(registry: str) -> str:
    """The host that serves the API of a registry named in an image reference."""
    return DOCKER_HUB_API_HOST if registry.lower() in DOCKER_HUB_NAMES else registry


def api_repository(ref: ImageRef) -> str:
    """The repository path of the API (Docker Hub's official images live under ``library/``)."""
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


# --- Credentials -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryAuth:
    """The credentials a lookup or a push uses, and where they came from (for messages)."""

    credentials: Credentials | None
    source: str

    @property
    def secrets(self) -> list:
        if not self.credentials:
            return []
        creds = self.credentials
        return [s for s in (creds.password, creds.identity_token, encode_auth(creds.username, creds.password)) if s]

    def describe(self) -> str:
        if not self.credentials:
            return f"no credentials ({self.source})"
        if self.credentials.identity_token and not self.credentials.password:
            return f"an identity token of user {self.credentials.username!r} from {self.source}"
        return f"user {self.credentials.username!r} from {self.source}"


def run_helper(argv: list, stdin: str):
    """Run a credential helper; (rc, stdout, stderr). Raises FileNotFoundError when it is missing."""
    process = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60, check=False)
    return process.returncode, process.stdout, process.stderr


def helper_credentials(helper: str, key: str, runner=run_helper) -> Credentials | None:
    """The credentials ``docker-credential-<helper> get`` holds for registry ``key``, or None."""
    program = f"docker-credential-{helper}"
    try:
        rc, stdout, stderr = runner([program, "get"], key)
    except FileNotFoundError:
        raise DockerConfigError(
            f"the Docker config names the credential helper {helper!r} for {key}, but {program} is not installed "
            "on this host; install it, or give username and password"
        ) from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise DockerConfigError(f"the credential helper {program} failed to run: {exc}") from None
    if rc != 0:
        if "credentials not found" in (stdout + stderr).lower():
            return None
        raise DockerConfigError(
            f"the credential helper {program} failed for {key} (rc {rc}): {(stderr or stdout).strip()[:200]}"
        )
    try:
        answer = json.loads(stdout)
        username, secret = answer.get("Username") or "", answer.get("Secret") or ""
    except (ValueError, AttributeError):
        raise DockerConfigError(f"the credential helper {program} did not answer with JSON for {key}") from None
    if username == "<token>":
        return Credentials("", "", secret)
    return Credentials(username, secret, "") if (username or secret) else None


def credentials_from_config(config: dict, key: str, runner=run_helper) -> Credentials | None:
    """What Docker would send to registry ``key`` (an ``auths`` key, e.g. ``reg1:5000``) with this
    config: the credential helper's answer when one is set for it, else the inline entry."""
    helper = credential_helper(config, key)
    if helper:
        return helper_credentials(helper, key, runner)
    auths = get_auths(config)
    for name in registry_keys(auths, key):
        credentials = entry_credentials(auths[name])
        if credentials is not None:
            return credentials
    return None


def resolve_auth(params: dict, registry: str, runner=run_helper) -> RegistryAuth:
    """The credentials for ``registry`` (as written in an image reference): the username and
    password options when given, else what the Docker config (config_path, or ~/.docker/config.json
    of user or of the user running the module) stores for the registry."""
    if params.get("username"):
        return RegistryAuth(Credentials(params["username"], params.get("password") or "", ""), "the module options")
    key = normalize_registry(registry)
    path = params.get("config_path")
    if not path:
        path = default_config_path(resolve_user(params.get("user")).home)
    config = load_config(path)
    credentials = credentials_from_config(config, key, runner)
    if credentials is None:
        return RegistryAuth(None, f"{path} holds none for {key}")
    return RegistryAuth(credentials, path)


# --- TLS -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsSettings:
    ca_files: tuple = ()
    client_cert: str | None = None
    client_key: str | None = None
    validate_certs: bool = True

    def describe(self) -> str:
        if not self.validate_certs:
            return "certificate validation is off"
        if self.ca_files:
            return "trusting the system CAs and " + ", ".join(self.ca_files)
        return "trusting the system CAs only"


def tls_settings(registry: str, ca_path: str | None, validate_certs: bool = True, certs_d: str = CERTS_D):
    """The CAs and client certificate for a registry: ``ca_path``, or what the Docker Engine would use
    from ``certs_d/HOST:PORT/`` (every ``*.crt`` is a CA, ``NAME.cert`` + ``NAME.key`` a client pair)."""
    directory = os.path.join(certs_d, registry)
    client_cert = client_key = None
    for cert in sorted(glob.glob(os.path.join(directory, "*.cert"))):
        key = cert[: -len(".cert")] + ".key"
        if os.path.isfile(key):
            client_cert, client_key = cert, key
            break
    ca_files = (ca_path,) if ca_path else tuple(sorted(glob.glob(os.path.join(directory, "*.crt"))))
    return TlsSettings(ca_files, client_cert, client_key, validate_certs)


def ssl_context(settings: TlsSettings) -> ssl.SSLContext:
    """System CAs plus the extra ones, as the Docker Engine trusts certs.d on top of the system pool."""
    try:
        context = make_context(
            validate_certs=settings.validate_certs, client_cert=settings.client_cert, client_key=settings.client_key
        )
        if settings.validate_certs:
            for ca_file in settings.ca_files:
                context.load_verify_locations(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        files = ", ".join(settings.ca_files + tuple(filter(None, [settings.client_cert])))
        raise RegistryError(
            f"cannot load the TLS files ({files}): {getattr(exc, 'strerror', None) or exc}; "
            f"check ca_path and the files in {CERTS_D}"
        ) from None
    return context


# --- HTTP ------------------------------------------------------------------------------------


def _header_dict(message) -> dict:
    """Response headers as a dict with lowercase names; repeated headers joined with ', '."""
    headers = {}
    for raw_name, value in message.items() if message is not None else []:
        name = raw_name.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def urllib_transport(context: ssl.SSLContext, timeout: int):
    """``transport(method, url, headers, data=None, limit=...) -> (status, headers, body)`` over
    ansible.module_utils.urls. HTTP error statuses are answers, not exceptions; network and TLS
    failures raise (URLError, OSError, ...)."""
    request = Request(
        timeout=timeout,
        http_agent=USER_AGENT,
        follow_redirects="safe",
        use_netrc=False,
        # Blob downloads are often redirected to storage on another host, which must not get our token.
        unredirected_headers=["Authorization"],
        context=context,
    )

    def transport(method, url, headers, data=None, limit=MAX_MANIFEST_BYTES):
        try:
            response = request.open(method, url, headers=headers, data=data)
        except urllib.error.HTTPError as exc:
            try:
                body = exc.read(64 * 1024) if exc.fp is not None else b""
            except (OSError, http.client.HTTPException):
                body = b""
            return exc.code, _header_dict(exc.headers), body
        with response:
            body = response.read(limit + 1)
            return response.status, _header_dict(response.headers), body

    return transport


def describe_connection_error(exc: BaseException) -> tuple:
    """(``tls``, what happened) for a failure below HTTP: ``tls`` is True for certificate/TLS trouble."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ssl.SSLCertVerificationError):
        return True, f"TLS certificate not trusted: {reason.verify_message or reason}"
    if isinstance(reason, ssl.SSLError):
        text = str(reason)
        if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
            return True, "the registry does not speak TLS on that port (plain HTTP?)"
        return True, f"TLS handshake failed: {text}"
    if isinstance(reason, socket.gaierror):
        return False, f"host name not found ({reason.strerror or reason})"
    if isinstance(reason, ConnectionRefusedError):
        return False, "connection refused"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return False, "no answer within the timeout"
    if isinstance(reason, OSError) and reason.strerror:
        return False, reason.strerror
    return False, str(reason) or type(reason).__name__


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
        return f"registry {self.registry} (image {image}, from host {socket.gethostname()})"

    def _fail_connection(self, exc: BaseException, url: str, image: str):
        tls, what = describe_connection_error(exc)
        if tls:
            default_dir = os.path.join(CERTS_D, self.registry)
            hint = (
                f"TLS was set up {self.tls.describe()}. Give the CA that signed the registry's certificate "
                f"with ca_path, or put it at {default_dir}/ca.crt on this host (where the Docker Engine looks too)."
            )
        else:
            hint = "Check the registry address and port, that the registry runs, and that this host can reach it."
        raise RegistryError(f"cannot reach {self._where(image)} at {url}: {what}. {hint}") from None

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
                "Give username and password, or log in with outerloop.docker.registry_login."
            )
        raise RegistryError(
            f"{self._where(image)} rejected the credentials: {self.auth.describe()} ({text or 'HTTP 401'}). "
            "Check the user name and password, or log in again with outerloop.docker.registry_login."
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
        raise RegistryError(f"cannot read the credentials stored for registry {registry}{about}: {exc}") from None
    tls = tls_settings(api_host(registry), params.get("ca_path"), params.get("validate_certs", True))
    if transport is None:
        try:
            context = ssl_context(tls)
        except RegistryError as exc:
            about = f" (image {image})" if image else ""
            raise RegistryError(f"cannot set up TLS for registry {registry}{about}: {exc}") from None
        transport = urllib_transport(context, timeout)
    return client_class(registry, auth, transport, tls)


def run_module(module) -> None:
    """Run outerloop.docker.registry_image_info with the module's parameters; exits the module."""
    params = module.params
    if params["timeout"] < 1:
        module.fail_json(msg=f"timeout must be at least 1 second, not {params['timeout']}")
    try:
        ref = parse_image_ref(params["image"])
    except ImageRefError as exc:
        module.fail_json(msg=f"{exc}; give REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:DIGEST")
    image = normalized_image(ref)
    secrets = [params.get("password")]
    client = None
    try:
        client = registry_client(ref.registry_host, params, params["timeout"], image=image)
        info = client.lookup(ref)
    except RegistryError as exc:
        if client is not None:
            secrets.extend(client.secrets)
        module.fail_json(msg=sanitize(str(exc), secrets), image=image)
    module.no_log_values.update(client.secrets)
    module.exit_json(changed=False, **info.as_result())
