# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Release manifests: built, validated, read, written and turned into a compose file in one place.

A release manifest (schema 1, described in docs/release-manifest.md) is an immutable JSON build
artifact: application, SemVer version, source commit, build, test results, every service as
``REGISTRY/REPOSITORY@sha256:DIGEST`` and the compose file of the commit. Its ``digest`` field is
the sha256 of the canonical JSON of everything else, so a hand edit is detected on every read.

Everything above ``run_module`` is pure (no AnsibleModule): errors are raised as ReleaseError with
messages that name the field, the service or the file. ``run_module`` is the module's edge.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import traceback
from datetime import datetime

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.outerloop.docker.plugins.module_utils._files import write_atomic
from ansible_collections.outerloop.docker.plugins.module_utils._image_ref import (
    ImageRefError,
    parse_image_ref,
    validate_digest,
    validate_tag,
)

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

SCHEMA = 1
MANIFEST_KEYS = (
    "schema",
    "application",
    "version",
    "release_id",
    "source",
    "build",
    "tests",
    "services",
    "compose",
    "digest",
)
SOURCE_KEYS = ("repository", "commit", "ref")
BUILD_KEYS = ("number", "host", "created")
SERVICE_KEYS = ("image", "repository", "digest", "tags")
COMPOSE_KEYS = ("file", "content", "digest")
SUITE_KEYS = ("passed", "tests", "failures", "errors", "skipped", "junit", "summary")
SUITE_COUNTS = ("tests", "failures", "errors", "skipped")

# SemVer 2.0.0 (https://semver.org), with ASCII digits only.
_SEMVER = re.compile(
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_APPLICATION = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # a Compose project name
_SERVICE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")  # a Compose service name
_SUITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # as in _test_record
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_BUILD_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # usable in a Docker tag
_NO_SPACE = re.compile(r"^[^\s\x00-\x1f\x7f]+$")
_COMPOSE_FILE = re.compile(r"^(?!/)(?!.*(?:^|/)\.\.(?:/|$))[A-Za-z0-9._/-]{1,255}$")
_RFC3339 = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?"
    r"(Z|[+-]([0-9]{2}):([0-9]{2}))$"
)
_SHA256_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_MAX_VERSION = 64

# Credentials: key names, environment variable names, URL user information.
_CREDENTIAL_WORDS = frozenset(
    (
        "auth",
        "authorization",
        "credential",
        "credentials",
        "pass",
        "passphrase",
        "passwd",
        "password",
        "passwords",
        "pwd",
        "secret",
        "secrets",
        "token",
        "tokens",
        "apikey",
        "privatekey",
    )
)
_CREDENTIAL_PAIRS = frozenset(("apikey", "privatekey", "accesskey", "secretkey", "clientsecret"))
_CREDENTIAL_PARTS = ("password", "passwd", "secret", "credential", "apikey", "privatekey")
_HARMLESS_VALUES = frozenset(("", "true", "false", "yes", "no", "on", "off", "0", "1", "none", "null"))
_URL_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://([^\s/?#@]*)@")
_INTERPOLATION = re.compile(r"^\$(?:\{[^{}]+\}|[A-Za-z_][A-Za-z0-9_]*)$")


class ReleaseError(ValueError):
    """A release that cannot be built, read, written or rendered; ``errors`` lists every problem."""

    def __init__(self, message: str, errors=None):
        super().__init__(message)
        self.errors = list(errors) if errors else [message]


# --------------------------------------------------------------------------- small validators


def validate_semver(version) -> str:
    """``version`` if it is a SemVer 2.0.0 version, else ReleaseError saying why."""
    if not isinstance(version, str):
        raise ReleaseError(f"version {version!r} is not a string")
    if version[:1] in ("v", "V") and _SEMVER.match(version[1:]):
        raise ReleaseError(f"version {version!r} is not SemVer 2.0: write it without the leading {version[0]!r}")
    if not _SEMVER.match(version):
        raise ReleaseError(
            f"version {version!r} is not SemVer 2.0: expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], numbers "
            "without leading zeros, for example 1.4.0 or 1.0.0-rc.1+build.5"
        )
    if len(version) > _MAX_VERSION:
        raise ReleaseError(f"version {version!r} is longer than {_MAX_VERSION} characters")
    return version


def _rfc3339_error(text) -> str | None:
    if not isinstance(text, str):
        return f"{text!r} is not a string"
    match = _RFC3339.match(text)
    if not match:
        return (
            f"{text!r} is not an RFC 3339 date and time: expected YYYY-MM-DDTHH:MM:SS[.fraction] followed by Z or "
            "+HH:MM, for example 2026-11-26T13:00:00Z (quote it in YAML)"
        )
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    try:
        datetime(year, month, day, hour, minute, min(second, 59))  # RFC 3339 allows a leap second, 60
    except ValueError as exc:
        return f"{text!r} is not a valid date and time: {exc}"
    if second > 60 or (match.group(8) != "Z" and (int(match.group(9)) > 23 or int(match.group(10)) > 59)):
        return f"{text!r} is not a valid date and time: a second or the UTC offset is out of range"
    return None


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [word for word in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if word]


def _pairs(words: list) -> list:
    return [(words[i], words[i + 1]) for i in range(len(words) - 1)]


def is_credential_name(name) -> bool:
    """True when a key or variable name says it holds a credential (password, token, secret, auth, ...)."""
    if not isinstance(name, str):
        return False
    words = _words(name)
    if any(word in _CREDENTIAL_WORDS for word in words):
        return True
    if any(a + b in _CREDENTIAL_PAIRS for a, b in _pairs(words)):
        return True
    flat = "".join(words)
    return any(part in flat for part in _CREDENTIAL_PARTS)


def _is_interpolated(value: str) -> bool:
    """True when a compose value takes its content from the environment (``${VAR}``, ``$VAR``)."""
    return "$" in value.replace("$$", "")


def url_credentials(text) -> list[str]:
    """The URLs in ``text`` that carry a credential: ``user:password@``, or any user part in http(s) URLs.

    A password (or http user) given as a compose interpolation (``${DB_PASSWORD}``) is no credential.
    """
    if not isinstance(text, str) or "@" not in text:
        return []
    found = []
    for match in _URL_USERINFO.finditer(text):
        scheme, userinfo = match.group(1).lower(), match.group(2)
        user, colon, password = userinfo.partition(":")
        if colon and password and not _INTERPOLATION.match(password):
            found.append(f"{scheme}://{user}:***@")
        elif not colon and scheme in ("http", "https") and user and not _INTERPOLATION.match(user):
            found.append(f"{scheme}://***@")
    return found


# --------------------------------------------------------------------------- digests and text


def canonical_json(manifest: dict) -> bytes:
    """The manifest without its ``digest`` field as canonical JSON: sorted keys, no spaces, UTF-8.

    For the values a manifest may hold (ASCII keys, strings, integers, booleans, no floats) this is
    the JSON Canonicalization Scheme of RFC 8785.
    """
    body = {key: value for key, value in manifest.items() if key != "digest"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def manifest_digest(manifest: dict) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(manifest)).hexdigest()


def content_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sorted(value):
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def manifest_text(manifest: dict) -> str:
    """The file form of a manifest: indented JSON, UTF-8, one final newline; deterministic.

    The top-level fields come in the order of MANIFEST_KEYS (``schema`` first, ``digest`` last), nested
    keys sorted. The order does not matter to the digest, which is computed on the canonical form.
    """
    rank = {key: index for index, key in enumerate(MANIFEST_KEYS)}
    body = _sorted(manifest)
    ordered = {key: body[key] for key in sorted(body, key=lambda k: (rank.get(k, len(rank)), k))}
    return json.dumps(ordered, indent=2, ensure_ascii=False) + "\n"


def make_release_id(application: str, version: str, build_number: str, commit: str) -> str:
    """``APPLICATION-VERSION-bBUILD-COMMIT12``, with the ``+`` of SemVer build metadata written ``_``.

    Deterministic, and made of the characters ``[A-Za-z0-9_.-]`` only, so it is usable in file names,
    Docker tags (when short enough) and labels. An identifier: read the fields, do not parse it.
    """
    return f"{application}-{version.replace('+', '_')}-b{build_number}-{commit[:12]}"


# --------------------------------------------------------------------------- building


def _service_from_input(name, value, errors: list) -> dict | None:
    """One service of the module's ``services`` option, as the manifest writes it."""
    where = f"services.{name}"
    if isinstance(value, str):
        value = {"image": value}
    if not isinstance(value, dict):
        errors.append(f"{where}: expected an image reference or a dictionary with image, or repository and digest")
        return None
    for key in sorted(set(value) - {"image", "repository", "digest", "tags"}, key=str):
        if is_credential_name(key):
            errors.append(f"{where}.{key}: a release manifest holds no credentials; remove this key")
        else:
            errors.append(f"{where}.{key}: unknown key (known: image, repository, digest, tags)")
    tags = value.get("tags") or []
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list):
        errors.append(f"{where}.tags: expected a list of tags")
        tags = []
    # Build numbers given as numbers are tags all the same.
    tags = [str(tag) if isinstance(tag, int) and not isinstance(tag, bool) else tag for tag in tags]
    bad = [tag for tag in tags if not isinstance(tag, str)]
    if bad:
        errors.append(f"{where}.tags: {bad[0]!r} is not a tag")
        return None
    image, repository, digest = value.get("image"), value.get("repository"), value.get("digest")
    try:
        if image:
            ref = parse_image_ref(image)
            if not ref.digest:
                raise ImageRefError(
                    f"image {image!r} is not pinned by digest; a release names every service as "
                    "REGISTRY/REPOSITORY@sha256:DIGEST, never by tag alone"
                )
            if ref.tag:
                tags.append(ref.tag)
            if repository and repository != ref.name:
                raise ImageRefError(f"repository {repository!r} is not the repository of image {image!r}")
            if digest and digest != ref.digest:
                raise ImageRefError(f"digest {digest!r} is not the digest of image {image!r}")
        elif repository and digest:
            ref = parse_image_ref(repository)
            if ref.tag or ref.digest:
                raise ImageRefError(f"repository {repository!r} must have no tag nor digest; give them as tags/digest")
            ref = ref.with_digest(digest)
        else:
            raise ImageRefError("give image (REGISTRY/REPOSITORY@sha256:DIGEST), or repository and digest")
    except ImageRefError as exc:
        errors.append(f"{where}: {exc}")
        return None
    return {
        "image": f"{ref.name}@{ref.digest}",
        "repository": ref.name,
        "digest": ref.digest,
        "tags": sorted(set(tags)),
    }


def _count(value):
    """Counts from playbooks may arrive as digit strings; the manifest holds integers."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def _tests_from_input(tests) -> dict:
    if not isinstance(tests, dict):
        return tests
    result = dict(tests)
    suites = tests.get("suites")
    if isinstance(suites, dict):
        result["suites"] = {}
        for name, given in suites.items():
            suite = given
            if isinstance(given, dict):
                suite = dict(given)
                for key in SUITE_COUNTS:
                    if key in suite:
                        suite[key] = _count(suite[key])
                if isinstance(suite.get("junit"), str):
                    suite["junit"] = [suite["junit"]]
            result["suites"][name] = suite
        if "passed" not in result:
            result["passed"] = bool(suites) and all(
                isinstance(s, dict) and s.get("passed") is True for s in suites.values()
            )
    return result


def build_manifest(
    *,
    application,
    version,
    source_repository,
    commit,
    build_number,
    build_host,
    created,
    tests,
    services,
    compose_file,
    compose_content,
    ref=None,
) -> dict:
    """A complete, validated manifest from the module's inputs; ReleaseError listing every problem otherwise.

    The result depends on the inputs only (``created`` is one of them), so the same inputs give the
    same manifest, byte for byte.
    """
    errors = []
    normalized = {}
    if isinstance(services, dict):
        for name, value in services.items():
            service = _service_from_input(name, value, errors)
            if service is not None:
                normalized[str(name)] = service
    source = {"repository": source_repository, "commit": commit}
    if ref not in (None, ""):
        source["ref"] = ref
    manifest = {
        "schema": SCHEMA,
        "application": application,
        "version": version,
        "source": source,
        "build": {"number": str(build_number) if isinstance(build_number, int) else build_number},
        "tests": _tests_from_input(tests),
        "services": normalized,
        "compose": {
            "file": compose_file,
            "content": compose_content,
            "digest": content_digest(compose_content) if isinstance(compose_content, str) else None,
        },
    }
    manifest["build"]["host"] = build_host
    manifest["build"]["created"] = created
    manifest["release_id"] = make_release_id(str(application), str(version), str(build_number), str(commit))
    manifest["digest"] = manifest_digest(manifest)
    for problem in validate_manifest(manifest):
        # A service refused above is not in the manifest: do not also say that none is there.
        if not (errors and problem.startswith("services: ")):
            errors.append(problem)
    if errors:
        raise ReleaseError(_summary("the release is not valid", errors), errors)
    return manifest


def _summary(prefix: str, errors: list) -> str:
    count = "1 problem" if len(errors) == 1 else f"{len(errors)} problems"
    return f"{prefix} ({count}): " + "; ".join(errors)


# --------------------------------------------------------------------------- validating


def _check_keys(obj: dict, where: str, allowed, required, errors: list) -> None:
    for key in obj:
        path = f"{where}.{key}" if where else str(key)
        if is_credential_name(key):
            errors.append(f"{path}: a release manifest holds no credentials; remove this key")
        elif key not in allowed:
            errors.append(f"{path}: unknown key (known: {', '.join(allowed)})")
    for key in required:
        if key not in obj:
            errors.append(f"{where + '.' if where else ''}{key}: missing")


def _string(obj: dict, key: str, where: str, errors: list, rule=None) -> str | None:
    """obj[key] if it is a non-empty string matching ``rule`` (pattern, hint); None after an error."""
    value = obj.get(key)
    if key not in obj:
        return None
    path = f"{where}.{key}" if where else key
    if not isinstance(value, str) or not value:
        errors.append(f"{path}: expected a non-empty string, not {value!r}")
        return None
    if rule is not None and not rule[0].match(value):
        errors.append(f"{path}: {value!r} is not valid: {rule[1]}")
        return None
    return value


def _credentials_in_strings(value, where: str, errors: list) -> None:
    """Every string anywhere in the manifest: no URL with a credential."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if path != "compose.content":  # the compose text is checked through its parsed form
                _credentials_in_strings(item, path, errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _credentials_in_strings(item, f"{where}[{index}]", errors)
    elif isinstance(value, str):
        for url in url_credentials(value):
            errors.append(f"{where}: holds a URL with credentials ({url}); a release manifest holds no credentials")


def validate_manifest(manifest, *, verify_digest: bool = True) -> list[str]:
    """Every problem of a manifest, one message each naming the field; an empty list when it is valid."""
    if not isinstance(manifest, dict):
        return [f"a release manifest is a JSON object, not {type(manifest).__name__}"]
    if manifest.get("schema") != SCHEMA or isinstance(manifest.get("schema"), bool):
        schema = manifest.get("schema")
        if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA:
            return [f"schema: {schema} is newer than this collection reads ({SCHEMA}); upgrade outerloop.docker"]
        return [f"schema: expected {SCHEMA}, not {schema!r}"]
    errors: list[str] = []
    _check_keys(manifest, "", MANIFEST_KEYS, MANIFEST_KEYS, errors)
    application = _string(
        manifest,
        "application",
        "",
        errors,
        (_APPLICATION, "a Compose project name: lowercase letters, digits, '_', '-'"),
    )
    version = manifest.get("version")
    if "version" in manifest:
        try:
            validate_semver(version)
        except ReleaseError as exc:
            errors.append(f"version: {exc}")
            version = None

    source = manifest.get("source")
    commit = None
    if "source" in manifest:
        if not isinstance(source, dict):
            errors.append("source: expected a dictionary with repository, commit and ref")
        else:
            _check_keys(source, "source", SOURCE_KEYS, ("repository", "commit"), errors)
            _string(source, "repository", "source", errors, (_NO_SPACE, "a URL or path without spaces"))
            commit = _string(source, "commit", "source", errors, (_COMMIT, "the full 40-hex SHA-1, in lowercase"))
            _string(source, "ref", "source", errors, (_NO_SPACE, "a Git ref without spaces"))

    build = manifest.get("build")
    number = None
    if "build" in manifest:
        if not isinstance(build, dict):
            errors.append("build: expected a dictionary with number, host and created")
        else:
            _check_keys(build, "build", BUILD_KEYS, BUILD_KEYS, errors)
            number = _string(
                build, "number", "build", errors, (_BUILD_NUMBER, "up to 64 letters, digits, '_', '.', '-' (a tag)")
            )
            _string(build, "host", "build", errors, (_NO_SPACE, "a host name without spaces"))
            if "created" in build:
                problem = _rfc3339_error(build["created"])
                if problem:
                    errors.append(f"build.created: {problem}")

    if "release_id" in manifest and application and version and number and commit:
        expected = make_release_id(application, version, number, commit)
        if manifest["release_id"] != expected:
            errors.append(f"release_id: {manifest['release_id']!r} is not {expected!r}, made from the fields")
    elif "release_id" in manifest and not isinstance(manifest["release_id"], str):
        errors.append("release_id: expected a string")

    if "tests" in manifest:
        _validate_tests(manifest["tests"], errors)
    services = manifest.get("services")
    if "services" in manifest:
        _validate_services(services, errors)
    if "compose" in manifest:
        _validate_compose(manifest["compose"], services if isinstance(services, dict) else {}, errors)
    _credentials_in_strings(manifest, "", errors)

    if "digest" in manifest:
        stated = manifest["digest"]
        if not isinstance(stated, str) or not _SHA256_DIGEST.match(stated):
            errors.append(f"digest: {stated!r} is not sha256: and 64 lowercase hex digits")
        elif verify_digest:
            try:
                actual = manifest_digest(manifest)
            except (TypeError, ValueError) as exc:
                errors.append(f"digest: the manifest holds a value that is not JSON ({exc})")
                return errors
            if stated != actual:
                errors.append(
                    f"digest mismatch: the manifest says {stated} but its content hashes to {actual}; it was changed "
                    "after it was written. A release is immutable: make a new release instead of editing one"
                )
    return errors


def _validate_tests(tests, errors: list) -> None:
    if not isinstance(tests, dict):
        errors.append("tests: expected a dictionary with passed and suites")
        return
    _check_keys(tests, "tests", ("passed", "suites"), ("passed", "suites"), errors)
    passed = tests.get("passed")
    if "passed" in tests and not isinstance(passed, bool):
        errors.append(f"tests.passed: expected true or false, not {passed!r}")
    suites = tests.get("suites")
    if "suites" not in tests:
        return
    if not isinstance(suites, dict) or not suites:
        errors.append("tests.suites: expected a dictionary of at least one test suite (name -> result)")
        return
    all_passed = True
    for name, suite in suites.items():
        where = f"tests.suites.{name}"
        if not isinstance(name, str) or not _SUITE.match(name):
            errors.append(f"{where}: the suite name is not valid (letters, digits, '_', '.', '-', up to 64)")
        if not isinstance(suite, dict):
            errors.append(f"{where}: expected a dictionary with passed, tests, failures")
            all_passed = False
            continue
        _check_keys(suite, where, SUITE_KEYS, ("passed", "tests", "failures"), errors)
        if not isinstance(suite.get("passed"), bool):
            errors.append(f"{where}.passed: expected true or false, not {suite.get('passed')!r}")
        for key in SUITE_COUNTS:
            value = suite.get(key)
            if key in suite and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                errors.append(f"{where}.{key}: expected a whole number of at least 0, not {value!r}")
        if "junit" in suite and (
            not isinstance(suite["junit"], list) or not all(isinstance(f, str) and f for f in suite["junit"])
        ):
            errors.append(f"{where}.junit: expected a list of file names")
        if "summary" in suite and not isinstance(suite["summary"], str):
            errors.append(f"{where}.summary: expected a string")
        failed = sum(
            suite.get(key) for key in ("failures", "errors") if isinstance(suite.get(key), int) and suite.get(key)
        )
        if suite.get("passed") is True and failed:
            errors.append(f"{where}: passed is true but it reports {failed} failures/errors")
        if suite.get("passed") is not True:
            all_passed = False
    if isinstance(passed, bool) and passed != all_passed:
        errors.append(f"tests.passed: {str(passed).lower()} but the suites say {str(all_passed).lower()}")
    if passed is False or not all_passed:
        failing = sorted(n for n, s in suites.items() if not (isinstance(s, dict) and s.get("passed") is True))
        errors.append(
            "tests: a release is made only from a build whose tests passed; failing suites: " + ", ".join(failing)
        )


def _validate_services(services, errors: list) -> None:
    if not isinstance(services, dict) or not services:
        errors.append("services: expected a dictionary of at least one service (name -> image)")
        return
    for name, service in services.items():
        where = f"services.{name}"
        if not isinstance(name, str) or not _SERVICE.match(name):
            errors.append(f"{where}: not a valid Compose service name (letters, digits, '_', '.', '-', up to 63)")
        if not isinstance(service, dict):
            errors.append(f"{where}: expected a dictionary with image, repository, digest and tags")
            continue
        _check_keys(service, where, SERVICE_KEYS, SERVICE_KEYS, errors)
        image = service.get("image")
        if "image" not in service:
            continue
        try:
            ref = parse_image_ref(image)
        except ImageRefError as exc:
            errors.append(f"{where}.image: {exc}")
            continue
        if not ref.digest:
            errors.append(
                f"{where}.image: {image!r} is not pinned by digest; a release names every service as "
                "REGISTRY/REPOSITORY@sha256:DIGEST, never by tag"
            )
            continue
        if ref.tag:
            errors.append(f"{where}.image: {image!r} carries a tag; write REGISTRY/REPOSITORY@DIGEST, tags go to tags")
        if not ref.registry:
            errors.append(
                f"{where}.image: {image!r} names no registry; write REGISTRY/REPOSITORY@DIGEST "
                "(docker.io/library/... for the Docker Hub)"
            )
        if "repository" in service and service["repository"] != ref.name:
            errors.append(f"{where}.repository: {service['repository']!r} is not {ref.name!r}, the image's repository")
        if "digest" in service and service["digest"] != ref.digest:
            errors.append(f"{where}.digest: {service['digest']!r} is not {ref.digest!r}, the image's digest")
        tags = service.get("tags")
        if "tags" in service:
            if not isinstance(tags, list):
                errors.append(f"{where}.tags: expected a list of tags")
                continue
            for tag in tags:
                try:
                    validate_tag(tag)
                except ImageRefError as exc:
                    errors.append(f"{where}.tags: {exc}")
            if len({t for t in tags if isinstance(t, str)}) != len(tags):
                errors.append(f"{where}.tags: a tag is listed twice")


def _validate_compose(compose, services: dict, errors: list) -> None:
    if not isinstance(compose, dict):
        errors.append("compose: expected a dictionary with file, content and digest")
        return
    _check_keys(compose, "compose", COMPOSE_KEYS, COMPOSE_KEYS, errors)
    name = _string(
        compose, "file", "compose", errors, (_COMPOSE_FILE, "a relative path (letters, digits, '.', '_', '-', '/')")
    )
    content = compose.get("content")
    if "content" in compose and not isinstance(content, str):
        errors.append("compose.content: expected the compose file's text")
        return
    if "digest" in compose:
        try:
            validate_digest(compose["digest"])
        except ImageRefError as exc:
            errors.append(f"compose.digest: {exc}")
        else:
            if isinstance(content, str) and compose["digest"] != content_digest(content):
                errors.append(
                    f"compose.digest: {compose['digest']} is not the sha256 of compose.content "
                    f"({content_digest(content)}): the compose text was changed"
                )
    if not isinstance(content, str):
        return
    try:
        data = load_compose(content, name or "compose.content")
    except ReleaseError as exc:
        errors.append(f"compose.content: {exc}")
        return
    compose_services = data["services"]
    for service in services:
        if service not in compose_services:
            errors.append(
                f"services.{service}: not a service of the compose file {name or 'compose.content'} "
                f"(it has: {', '.join(map(str, compose_services))})"
            )
    errors.extend(f"compose.content: {problem}" for problem in compose_credentials(data))


# --------------------------------------------------------------------------- compose files


class _Tagged:
    """A Compose-specific tag (!reset, !override) kept as written."""

    def __init__(self, tag, value):
        self.tag, self.value = tag, value


if HAS_YAML:

    class _ComposeLoader(yaml.SafeLoader):
        """Resolves plain scalars the way Compose's Go YAML parser (yaml.v3) does, not YAML 1.1's way.

        ``22:22`` stays a string (YAML 1.1 reads a base-60 number), ``yes``/``on`` stay strings, ``0755``
        is the octal number 493; duplicate keys are refused, as Compose does. One difference: a plain
        date stays a string (Compose reads a timestamp and refuses it where it wants a string), and is
        written quoted.
        """

    class _ComposeDumper(yaml.SafeDumper):
        """Quotes every string that YAML 1.1 or Compose's parser would read as something else, and
        writes shared values out in full (no anchors)."""

        def ignore_aliases(self, data):
            return True

    _ComposeLoader.yaml_implicit_resolvers = {}
    _GO_RESOLVERS = (
        ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
        (
            "tag:yaml.org,2002:int",
            r"^[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0[0-7_]+|0|[1-9][0-9_]*)$",
            list("-+0123456789"),
        ),
        (
            "tag:yaml.org,2002:float",
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            list("-+.0123456789"),
        ),
        ("tag:yaml.org,2002:merge", r"^<<$", ["<"]),
    )
    for _tag, _pattern, _first in _GO_RESOLVERS:
        _ComposeLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first)
        if _tag != "tag:yaml.org,2002:merge":
            _ComposeDumper.add_implicit_resolver(_tag, re.compile(_pattern), _first)

    def _construct_int(loader, node):
        text = loader.construct_scalar(node).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        text = text.lstrip("+-")
        for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
            if text.startswith(prefix):
                return sign * int(text[2:], base)
        if len(text) > 1 and text.startswith("0"):
            return sign * int(text, 8)
        return sign * int(text)

    def _construct_mapping(loader, node):
        """A mapping; a key written twice is an error (merged keys may be overridden, as in Compose)."""
        seen = set()
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if (key_node.tag, key_node.value) in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                    )  # fmt: skip
                seen.add((key_node.tag, key_node.value))
        return yaml.SafeLoader.construct_mapping(loader, node, deep=True)

    def _construct_tagged(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = _construct_mapping(loader, node)
        return _Tagged(node.tag, value)

    def _represent_tagged(dumper, data):
        if isinstance(data.value, dict):
            return dumper.represent_mapping(data.tag, data.value)
        if isinstance(data.value, list):
            return dumper.represent_sequence(data.tag, data.value)
        return dumper.represent_scalar(data.tag, data.value or "")

    def _represent_str(dumper, data):
        if "\n" in data:
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
        return dumper.represent_str(data)

    _ComposeLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    _ComposeLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
    _ComposeLoader.add_constructor("!reset", _construct_tagged)
    _ComposeLoader.add_constructor("!override", _construct_tagged)
    _ComposeDumper.add_representer(_Tagged, _represent_tagged)
    _ComposeDumper.add_representer(str, _represent_str)


def load_compose(text: str, name: str = "compose file") -> dict:
    """The compose file's content as data; ReleaseError naming the file when it is no compose file."""
    if not HAS_YAML:
        raise ReleaseError("PyYAML (python3-yaml) is needed to read compose files")
    try:
        documents = list(yaml.load_all(text, Loader=_ComposeLoader))
    except yaml.YAMLError as exc:
        raise ReleaseError(f"{name} is not valid YAML: {exc}") from None
    if len(documents) != 1:
        raise ReleaseError(f"{name} holds {len(documents)} YAML documents; a compose file is one")
    data = documents[0]
    if not isinstance(data, dict):
        raise ReleaseError(f"{name} is not a mapping of compose keys")
    services = data.get("services")
    if not isinstance(services, dict) or not services:
        raise ReleaseError(f"{name} has no services")
    return data


def dump_compose(data: dict) -> str:
    return yaml.dump(
        data, Dumper=_ComposeDumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100000
    )


def compose_credentials(data: dict) -> list[str]:
    """Credentials written into a compose file: literal values of environment variables and build
    arguments named like a credential, and URLs with a user and password. Values taken from the
    environment (``${VAR}``) are fine."""
    problems = []
    services = data.get("services") or {}
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        build = service.get("build")
        places = [("environment", service.get("environment"))]
        if isinstance(build, dict):
            places.append(("build.args", build.get("args")))
        for place, values in places:
            for key, value in _variables(values):
                if not is_credential_name(key) or value is None:
                    continue
                text = str(value).strip()
                if text.lower() in _HARMLESS_VALUES or _is_interpolated(text):
                    continue
                problems.append(
                    f"service {name!r} sets {place} {key} to a literal value; a release holds no credentials: "
                    f"take it from the deploy host's environment (${{{key}}}), an env_file or a Compose secret"
                )
    _walk_urls(data, "", problems)
    return problems


def _variables(values):
    if isinstance(values, dict):
        return [(str(k), v) for k, v in values.items()]
    if isinstance(values, list):
        pairs = []
        for item in values:
            if isinstance(item, str):
                key, equals, value = item.partition("=")
                pairs.append((key, value if equals else None))
        return pairs
    return []


def _walk_urls(value, where: str, problems: list) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _walk_urls(item, f"{where}.{key}" if where else str(key), problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk_urls(item, f"{where}[{index}]", problems)
    elif isinstance(value, _Tagged):
        _walk_urls(value.value, where, problems)
    elif isinstance(value, str):
        for url in url_credentials(value):
            problems.append(f"{where} holds a URL with credentials ({url}); a release holds no credentials")


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
    data = load_compose(compose["content"], compose["file"])
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


# --------------------------------------------------------------------------- files


def _reject_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_manifest(text: str, source: str = "release manifest"):
    """The JSON of a manifest file (not yet validated); ReleaseError naming ``source`` otherwise."""
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates)
    except ValueError as exc:
        raise ReleaseError(f"release manifest {source} is not valid JSON: {exc}") from None


def read_text(path: str) -> str | None:
    """The file's text, or None when it does not exist."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"{path} cannot be read: {exc}") from None


def check_manifest(manifest, source: str) -> dict:
    """``manifest`` if it is valid; ReleaseError naming ``source`` and listing every problem otherwise."""
    errors = validate_manifest(manifest)
    if errors:
        raise ReleaseError(_summary(f"release manifest {source} is not valid", errors), errors)
    return manifest


def read_manifest(path: str) -> dict:
    """Read and validate the manifest at ``path`` (digest verified); ReleaseError naming the file otherwise."""
    text = read_text(path)
    if text is None:
        raise ReleaseError(f"release manifest {path} does not exist")
    return check_manifest(parse_manifest(text, path), path)


def plan_manifest_file(path: str, manifest: dict, *, force: bool = False) -> dict:
    """What writing ``manifest`` to ``path`` does: ``{"changed", "before", "after"}``.

    Unchanged when the file holds the same manifest. A file holding anything else is another release,
    and a release is immutable: ReleaseError unless ``force``.
    """
    after = manifest_text(manifest)
    before = read_text(path)
    if before is None:
        return {"changed": True, "before": "", "after": after}
    try:
        existing = parse_manifest(before, path)
    except ReleaseError:
        existing = None
    if existing == manifest:
        return {"changed": False, "before": before, "after": before}
    if not force:
        if isinstance(existing, dict):
            what = f"release {existing.get('release_id')!r} (digest {existing.get('digest')})"
        else:
            what = "a file that is not a release manifest"
        raise ReleaseError(
            f"{path} already holds {what}, not release {manifest['release_id']!r} (digest {manifest['digest']}). "
            "A release is immutable: give a new version or build number, or another path; force: true replaces it"
        )
    return {"changed": True, "before": before, "after": after}


def plan_text_file(path: str, text: str) -> dict:
    before = read_text(path)
    return {"changed": before != text, "before": before or "", "after": text}


# --------------------------------------------------------------------------- the module


def run_module(module) -> None:
    """Run outerloop.docker.release with the module's parameters; exits the module."""
    params = module.params
    path = params["path"]
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML (python3-yaml)"), exception=YAML_IMPORT_ERROR)
    result = {"changed": False, "path": path}
    diffs = []
    try:
        if params["state"] == "present":
            compose_file = params["compose_file"]
            if compose_file:
                compose_text = read_text(compose_file)
                if compose_text is None:
                    raise ReleaseError(f"compose_file {compose_file} does not exist")
            else:
                compose_text = params["compose_content"]
                if not params["compose_name"]:
                    raise ReleaseError(
                        "compose_name is required with compose_content: the file's path in the repository"
                    )
            manifest = build_manifest(
                application=params["application"],
                version=params["version"],
                source_repository=params["source_repository"],
                commit=params["commit"],
                ref=params["ref"],
                build_number=params["build_number"],
                build_host=params["build_host"],
                created=params["created"],
                tests=params["tests"],
                services=params["services"],
                compose_file=params["compose_name"] or os.path.basename(compose_file or ""),
                compose_content=compose_text,
            )
            plan = plan_manifest_file(path, manifest, force=params["force"])
            if plan["changed"] and not module.check_mode:
                write_atomic(path, plan["after"], prefix=".release-")
            result["changed"] = plan["changed"]
            diffs.append(
                {"before": plan["before"], "after": plan["after"], "before_header": path, "after_header": path}
            )
        else:
            manifest = read_manifest(path)
        result.update(manifest=manifest, release_id=manifest["release_id"], digest=manifest["digest"])
        dest = params["render_compose"]
        if dest:
            rendered = render_compose(manifest)
            plan = plan_text_file(dest, rendered["content"])
            if plan["changed"] and not module.check_mode:
                write_atomic(dest, rendered["content"], prefix=".release-")
            result["changed"] = result["changed"] or plan["changed"]
            result.update(
                compose_path=dest,
                images=rendered["images"],
                other_services=rendered["other_services"],
                unpinned_services=rendered["unpinned_services"],
            )
            diffs.append(
                {"before": plan["before"], "after": plan["after"], "before_header": dest, "after_header": dest}
            )
    except ReleaseError as exc:
        module.fail_json(msg=str(exc), errors=exc.errors, path=path)
    except OSError as exc:
        module.fail_json(msg=f"cannot write {exc.filename or path}: {exc.strerror or exc}", path=path)
    if module._diff and diffs:
        result["diff"] = diffs if len(diffs) > 1 else diffs[0]
    module.exit_json(**result)
