# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The registry API client against a scripted transport: no network, no Docker."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import ssl
import urllib.error
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils import _registry_image_info
from ansible_collections.outerloop.docker.plugins.module_utils._domain import registry_client as _registry_client
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_auth import (
    RegistryAuth,
    credentials_from_config,
    helper_credentials,
    parse_www_authenticate,
    resolve_auth,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import (
    ACCEPT,
    MEDIA_DOCKER_LIST,
    MEDIA_DOCKER_MANIFEST,
    MEDIA_OCI_INDEX,
    MEDIA_OCI_MANIFEST,
    RegistryClient,
    manifest_digest,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_http import (
    RegistryError,
    describe_connection_error,
    tls_settings,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.docker_config import (
    INDEX_SERVER,
    Credentials,
    DockerConfigError,
    encode_auth,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    normalized_image,
    parse_image_ref,
)
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils import fake_module

PASSWORD = "pa:ss,wo=rd"
USER = "ci"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --- WWW-Authenticate ------------------------------------------------------------------------


def test_basic_challenge():
    assert parse_www_authenticate('Basic realm="Registry Realm"') == [("basic", {"realm": "Registry Realm"})]


def test_bearer_challenge_with_quoted_commas_and_escapes():
    header = (
        'Bearer realm="https://auth.example.com/token?x=1,2",service="registry.example.com",'
        'scope="repository:shop/api:pull,push", error="invalid_token", note="a \\"quoted\\" word"'
    )
    assert parse_www_authenticate(header) == [
        (
            "bearer",
            {
                "realm": "https://auth.example.com/token?x=1,2",
                "service": "registry.example.com",
                "scope": "repository:shop/api:pull,push",
                "error": "invalid_token",
                "note": 'a "quoted" word',
            },
        )
    ]


def test_several_challenges_unquoted_values_and_case():
    header = 'Basic realm="a, b", BEARER Realm=https://auth/token , Service=reg'
    assert parse_www_authenticate(header) == [
        ("basic", {"realm": "a, b"}),
        ("bearer", {"realm": "https://auth/token", "service": "reg"}),
    ]


def test_empty_and_garbage_headers():
    assert parse_www_authenticate("") == []
    assert parse_www_authenticate(None) == []
    assert parse_www_authenticate('realm="x"') == []


def test_accept_names_the_four_manifest_types():
    accepted = [part.strip() for part in ACCEPT.split(",")]
    assert accepted == [MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST, MEDIA_DOCKER_LIST, MEDIA_DOCKER_MANIFEST]


# --- Digests ---------------------------------------------------------------------------------


def test_digest_is_sha256_of_the_bytes_and_checked_against_the_header():
    body = b'{"schemaVersion": 2}'
    assert manifest_digest(body) == sha(body)
    assert manifest_digest(body, sha(body)) == sha(body)
    assert manifest_digest(body, "sha512:" + hashlib.sha512(body).hexdigest()) == sha(body)
    with pytest.raises(RegistryError, match="does not match its Docker-Content-Digest"):
        manifest_digest(body, sha(b"something else"))
    with pytest.raises(RegistryError, match="not supported"):
        manifest_digest(body, "md42:abc")


def test_digest_must_be_the_one_asked_for():
    body = b"{}"
    with pytest.raises(RegistryError, match="answered the digest"):
        manifest_digest(body, None, sha(b"other"))
    assert manifest_digest(body, None, sha(body)) == sha(body)


# --- Credentials -----------------------------------------------------------------------------


def test_credentials_from_inline_auths_and_aliases():
    config = {"auths": {"https://reg1:5000": {"auth": encode_auth(USER, PASSWORD)}, "other:1": {}}}
    assert credentials_from_config(config, "reg1:5000") == Credentials(USER, PASSWORD, "")
    assert credentials_from_config(config, "reg2:5000") is None
    token_config = {"auths": {INDEX_SERVER: {"auth": encode_auth(USER, ""), "identitytoken": "tok"}}}
    assert credentials_from_config(token_config, INDEX_SERVER) == Credentials(USER, "", "tok")


def test_credentials_from_a_helper():
    calls = []

    def runner(argv, stdin):
        calls.append((argv, stdin))
        return 0, json.dumps({"ServerURL": stdin, "Username": USER, "Secret": PASSWORD}), ""

    config = {"credHelpers": {"reg1:5000": "pass"}, "auths": {"reg1:5000": {"auth": encode_auth("x", "y")}}}
    assert credentials_from_config(config, "reg1:5000", runner) == Credentials(USER, PASSWORD, "")
    assert calls == [(["docker-credential-pass", "get"], "reg1:5000")]


def test_helper_token_not_found_and_missing():
    def token(argv, stdin):
        return 0, json.dumps({"Username": "<token>", "Secret": "id-token"}), ""

    def not_found(argv, stdin):
        return 1, "credentials not found in native keychain\n", ""

    def missing(argv, stdin):
        raise FileNotFoundError(argv[0])

    assert helper_credentials("x", "reg", token) == Credentials("", "", "id-token")
    assert helper_credentials("x", "reg", not_found) is None
    with pytest.raises(DockerConfigError, match="docker-credential-x is not installed"):
        helper_credentials("x", "reg", missing)


def test_resolve_auth_prefers_options_then_config(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {"reg1:5000": {"auth": encode_auth("stored", "pw")}}}))
    params = {"username": USER, "password": PASSWORD, "config_path": None, "user": None}
    assert resolve_auth(params, "reg1:5000").credentials == Credentials(USER, PASSWORD, "")
    stored = resolve_auth({"config_path": str(path)}, "reg1:5000")
    assert stored.credentials.username == "stored"
    assert stored.source == str(path)
    none = resolve_auth({"config_path": str(path)}, "reg9:5000")
    assert none.credentials is None
    assert "holds none for reg9:5000" in none.describe()


def test_tls_settings_read_certs_d(tmp_path):
    directory = tmp_path / "reg1:5000"
    directory.mkdir()
    (directory / "ca.crt").write_text("x")
    (directory / "client.cert").write_text("x")
    (directory / "client.key").write_text("x")
    tls = tls_settings("reg1:5000", None, certs_d=str(tmp_path))
    assert tls.ca_files == (str(directory / "ca.crt"),)
    assert tls.client_cert == str(directory / "client.cert")
    assert tls_settings("reg1:5000", "/my/ca.pem", certs_d=str(tmp_path)).ca_files == ("/my/ca.pem",)
    assert tls_settings("reg2:5000", None, certs_d=str(tmp_path)).ca_files == ()


def test_connection_errors_are_told_apart():
    cert = ssl.SSLCertVerificationError("certificate verify failed")
    cert.verify_message = "unable to get local issuer certificate"
    assert describe_connection_error(urllib.error.URLError(cert)) == (
        True,
        "TLS certificate not trusted: unable to get local issuer certificate",
    )
    assert describe_connection_error(urllib.error.URLError(ConnectionRefusedError(111, "refused"))) == (
        False,
        "connection refused",
    )
    assert describe_connection_error(urllib.error.URLError(socket.gaierror(-2, "Name or service not known")))[
        1
    ].startswith("host name not found")


# --- The client against a scripted registry --------------------------------------------------

CONFIG = json.dumps(
    {"created": "2026-11-26T13:40:02Z", "os": "linux", "architecture": "amd64", "config": {"Labels": {"a": "b"}}}
).encode()
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": MEDIA_DOCKER_MANIFEST,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(CONFIG),
            "digest": sha(CONFIG),
        },
        "layers": [{"size": 1000, "digest": "sha256:" + "1" * 64}],
    }
).encode()


class FakeRegistry:
    """Answers like distribution: Basic (htpasswd) or Bearer (token service) auth."""

    def __init__(self, scheme="basic", manifests=None, blobs=None, bad_header=False):
        self.scheme = scheme
        self.manifests = manifests if manifests is not None else {"1.0": MANIFEST}
        self.blobs = blobs if blobs is not None else {sha(CONFIG): CONFIG}
        self.bad_header = bad_header
        self.requests = []

    def _authorized(self, headers):
        value = headers.get("Authorization", "")
        if self.scheme == "basic":
            return value == "Basic " + encode_auth(USER, PASSWORD)
        return value == "Bearer the-token"

    def __call__(self, method, url, headers, data=None, limit=None):
        self.requests.append((method, url, dict(headers), data))
        parsed = urlparse(url)
        if parsed.netloc == "auth.example":
            query = parse_qs(parsed.query)
            if headers.get("Authorization") != "Basic " + encode_auth(USER, PASSWORD):
                return 401, {}, b'{"details": "incorrect username or password"}'
            assert query["scope"] == ["repository:shop/api:pull"]
            return 200, {}, json.dumps({"token": "the-token", "account": query["account"][0]}).encode()
        if not self._authorized(headers):
            challenge = (
                'Basic realm="reg"'
                if self.scheme == "basic"
                else 'Bearer realm="https://auth.example/token",service="reg",scope="repository:shop/api:pull"'
            )
            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
            return 401, {"www-authenticate": challenge}, body
        path = parsed.path
        if "/manifests/" in path:
            reference = path.rsplit("/", 1)[1]
            body = self.manifests.get(reference)
            if body is None:
                body = next((b for b in self.manifests.values() if sha(b) == reference), None)
            if body is None:
                return 404, {}, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'
            assert headers["Accept"] == ACCEPT
            digest = sha(b"tampered") if self.bad_header else sha(body)
            return 200, {"docker-content-digest": digest, "content-type": MEDIA_DOCKER_MANIFEST}, body
        if "/blobs/" in path:
            blob = self.blobs.get(path.rsplit("/", 1)[1])
            return (200, {}, blob) if blob is not None else (404, {}, b"")
        return 404, {}, b""


def client_for(transport, username=USER, password=PASSWORD, registry="reg1:5000"):
    credentials = Credentials(username, password, "") if username else None
    return RegistryClient(registry, RegistryAuth(credentials, "the module options"), transport)


def test_basic_lookup_returns_digest_size_labels():
    registry = FakeRegistry()
    info = client_for(registry).lookup(parse_image_ref("reg1:5000/shop/api:1.0"))
    assert info.exists
    assert info.digest == sha(MANIFEST)
    assert info.size == len(MANIFEST) + len(CONFIG) + 1000
    assert info.labels == {"a": "b"}
    assert info.created == "2026-11-26T13:40:02Z"
    assert info.platforms[0]["platform"] == "linux/amd64"
    assert info.image == "reg1:5000/shop/api:1.0"
    first, retried, blob = registry.requests
    assert "Authorization" not in first[2]
    assert retried[2]["Authorization"].startswith("Basic ")
    assert blob[2]["Authorization"] == retried[2]["Authorization"]  # reused, no second challenge


def test_bearer_lookup_fetches_a_token_with_the_credentials():
    registry = FakeRegistry(scheme="bearer")
    info = client_for(registry).lookup(parse_image_ref("reg1:5000/shop/api:1.0"), fetch_config=False)
    assert info.digest == sha(MANIFEST)
    token_request = registry.requests[1]
    query = parse_qs(urlparse(token_request[1]).query)
    assert query == {"service": ["reg"], "scope": ["repository:shop/api:pull"], "account": [USER]}
    assert registry.requests[2][2]["Authorization"] == "Bearer the-token"


def test_bearer_with_an_identity_token_posts_a_refresh_token():
    seen = {}

    def transport(method, url, headers, data=None, limit=None):
        if url.startswith("https://auth.example"):
            seen["method"], seen["form"] = method, parse_qs(data.decode())
            return 200, {}, b'{"access_token": "the-token"}'
        if headers.get("Authorization") != "Bearer the-token":
            return 401, {"www-authenticate": 'Bearer realm="https://auth.example/token",service="reg"'}, b""
        return 404, {}, b""

    auth = RegistryAuth(Credentials(USER, "", "refresh-me"), "config.json")
    info = RegistryClient("reg1:5000", auth, transport).lookup(parse_image_ref("reg1:5000/shop/api:2"))
    assert info.exists is False
    assert seen["method"] == "POST"
    assert seen["form"]["grant_type"] == ["refresh_token"]
    assert seen["form"]["refresh_token"] == ["refresh-me"]
    assert seen["form"]["scope"] == ["repository:shop/api:pull"]


def test_missing_tag_is_not_a_failure():
    info = client_for(FakeRegistry()).lookup(parse_image_ref("reg1:5000/shop/api:9.9"))
    assert info.exists is False
    assert info.digest is None


def test_lookup_by_digest():
    info = client_for(FakeRegistry()).lookup(parse_image_ref(f"reg1:5000/shop/api@{sha(MANIFEST)}"))
    assert info.exists
    assert info.image == f"reg1:5000/shop/api@{sha(MANIFEST)}"


def test_tampered_digest_header_fails():
    with pytest.raises(RegistryError, match="does not match its Docker-Content-Digest"):
        client_for(FakeRegistry(bad_header=True)).lookup(parse_image_ref("reg1:5000/shop/api:1.0"))


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_wrong_password_names_registry_user_and_next_step_but_not_the_password(scheme):
    client = client_for(FakeRegistry(scheme=scheme), password="wrong-" + PASSWORD)
    with pytest.raises(RegistryError) as caught:
        client.lookup(parse_image_ref("reg1:5000/shop/api:1.0"))
    message = str(caught.value)
    assert "rejected the credentials" in message
    assert "registry reg1:5000" in message
    assert "reg1:5000/shop/api:1.0" in message
    assert "user 'ci'" in message
    assert "registry_login" in message
    assert PASSWORD not in message


def test_no_credentials_for_a_basic_registry():
    with pytest.raises(RegistryError, match="requires a login"):
        client_for(FakeRegistry(), username=None).lookup(parse_image_ref("reg1:5000/shop/api:1.0"))


def test_index_returns_platforms_and_skips_the_config():
    amd64 = {"os": "linux", "architecture": "amd64"}
    arm64 = {"os": "linux", "architecture": "arm64", "variant": "v8"}
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_OCI_INDEX,
            "manifests": [
                {"digest": sha(b"a"), "size": 7, "mediaType": MEDIA_OCI_MANIFEST, "platform": amd64},
                {"digest": sha(b"b"), "size": 8, "mediaType": MEDIA_OCI_MANIFEST, "platform": arm64},
            ],
        }
    ).encode()
    registry = FakeRegistry(manifests={"multi": index}, blobs={})
    info = client_for(registry).lookup(parse_image_ref("reg1:5000/shop/api:multi"))
    assert info.media_type == MEDIA_OCI_INDEX
    assert [p["platform"] for p in info.platforms] == ["linux/amd64", "linux/arm64/v8"]
    assert info.size == len(index)
    assert info.labels == {}
    assert not any("/blobs/" in request[1] for request in registry.requests)


def test_docker_hub_names():
    ref = parse_image_ref("busybox")
    assert normalized_image(ref) == "docker.io/library/busybox:latest"
    assert RegistryClient(ref.registry_host, RegistryAuth(None, "x"), None).base_url == "https://registry-1.docker.io"


def test_connection_failure_names_registry_image_and_certs_d():
    def transport(method, url, headers, data=None, limit=None):
        error = ssl.SSLCertVerificationError("certificate verify failed")
        error.verify_message = "self-signed certificate in certificate chain"
        raise urllib.error.URLError(error)

    with pytest.raises(RegistryError) as caught:
        client_for(transport).lookup(parse_image_ref("reg1:5000/shop/api:1.0"))
    message = str(caught.value)
    assert "registry reg1:5000" in message
    assert "self-signed" in message
    assert "/etc/docker/certs.d/reg1:5000/ca.crt" in message


# --- The module edge: secrets never leave ----------------------------------------------------


class FakeModule(fake_module.FakeModule):
    DEFAULTS: ClassVar[dict] = {
        "image": "reg1:5000/shop/api:1.0",
        "username": USER,
        "password": PASSWORD,
        "config_path": None,
        "user": None,
        "ca_path": None,
        "validate_certs": True,
        "timeout": 5,
    }


def run(monkeypatch, registry, **params):
    monkeypatch.setattr(_registry_client, "urllib_transport", lambda context, timeout: registry)
    module = FakeModule(**params)
    with pytest.raises(fake_module.Exited):
        _registry_image_info.run_module(module)
    return module


def test_run_module_success(monkeypatch):
    module = run(monkeypatch, FakeRegistry())
    assert not module.failed
    assert module.result["changed"] is False
    assert module.result["exists"] is True
    assert module.result["digest"] == sha(MANIFEST)


def test_run_module_masks_the_password_in_failures(monkeypatch):
    def echo_transport(method, url, headers, data=None, limit=None):
        # A registry that quotes back what it got, including the Authorization header.
        body = json.dumps({"errors": [{"code": "DENIED", "message": f"bad {headers.get('Authorization')}"}]})
        if "Authorization" not in headers:
            return 401, {"www-authenticate": 'Basic realm="r"'}, body.encode()
        return 401, {}, body.encode()

    module = run(monkeypatch, echo_transport, password=PASSWORD)
    assert module.failed
    message = module.result["msg"]
    assert "rejected the credentials" in message
    assert PASSWORD not in message
    assert encode_auth(USER, PASSWORD) not in message
    assert "********" in message


def test_run_module_reads_the_config_file(monkeypatch, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps({"auths": {"reg1:5000": {"auth": base64.b64encode(b"ci:" + PASSWORD.encode()).decode()}}})
    )
    module = run(monkeypatch, FakeRegistry(), username=None, password=None, config_path=str(path))
    assert module.result["exists"] is True


def test_run_module_bad_reference(monkeypatch):
    module = run(monkeypatch, FakeRegistry(), image="reg1:5000/Shop/API:1.0")
    assert module.failed
    assert "REGISTRY/REPOSITORY:TAG" in module.result["msg"]
