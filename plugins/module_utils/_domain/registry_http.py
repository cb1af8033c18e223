# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The wire to a registry: TLS as the Docker Engine sets it up, and HTTP through ansible.module_utils.urls.

- TLS trusts the system's CAs plus ``ca_path`` (default: the ``*.crt`` files of
  ``/etc/docker/certs.d/HOST:PORT/``, the directory the Docker Engine reads), and presents a client
  certificate pair found there;
- the transport is a function ``(method, url, headers, data=None, limit=...) -> (status, headers,
  body)``: HTTP error statuses are answers, network and TLS failures raise (see
  describe_connection_error). It is the seam the unit tests replace.

RegistryError, the error of every registry module, is defined in registry_error.py (the modules that only catch
it need not import this one); everything here raises it.
"""

from __future__ import annotations

import glob
import http.client
import os
import socket
import ssl
import urllib.error
from dataclasses import dataclass

from ansible.module_utils.urls import Request, make_context
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_error import RegistryError

CERTS_D = "/etc/docker/certs.d"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution refuses larger manifests
USER_AGENT = "outerloop.docker"


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
