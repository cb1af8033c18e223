# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The release manifest's format: its fields, its digest, its id, and the one validator.

A release manifest (schema 1, described in docs/release-manifest.md) is an immutable JSON build
artifact: application, SemVer version, source commit, build, test results, every service as
``REGISTRY/REPOSITORY@sha256:DIGEST`` and the compose file of the commit. Its ``digest`` field is
the sha256 of the canonical JSON of everything else, so a hand edit is detected on every read.

Everything here is pure: errors are raised as ReleaseError (or returned as a list by
validate_manifest) with messages that name the field, the service or the file.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime

from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import (
    ComposeFileError,
    load_compose,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRefError,
    parse_image_ref,
    validate_digest,
    validate_tag,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import (
    compose_credentials,
    is_credential_name,
    url_credentials,
)

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


def make_release_id(application: str, version: str, build_number: str, commit: str) -> str:
    """``APPLICATION-VERSION-bBUILD-COMMIT12``, with the ``+`` of SemVer build metadata written ``_``.

    Deterministic, and made of the characters ``[A-Za-z0-9_.-]`` only, so it is usable in file names,
    Docker tags (when short enough) and labels. An identifier: read the fields, do not parse it.
    """
    return f"{application}-{version.replace('+', '_')}-b{build_number}-{commit[:12]}"


def summary(prefix: str, errors: list) -> str:
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


def validate_manifest(manifest, *, verify_digest: bool = True, parse_compose: bool = True) -> list[str]:
    """Every problem of a manifest, one message each naming the field; an empty list when it is valid.

    ``parse_compose=False`` leaves out the checks that read the compose text as YAML (its services, the
    credentials written in it): for a host without PyYAML that only passes the release on. The compose
    text is still covered by its digest and the manifest's."""
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
        _validate_compose(
            manifest["compose"], services if isinstance(services, dict) else {}, errors, parse=parse_compose
        )
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


def _validate_compose(compose, services: dict, errors: list, *, parse: bool = True) -> None:
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
    if not isinstance(content, str) or not parse:
        return
    try:
        data = load_compose(content, name or "compose.content")
    except ComposeFileError as exc:
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


def check_manifest(manifest, source: str, *, parse_compose: bool = True) -> dict:
    """``manifest`` if it is valid; ReleaseError naming ``source`` and listing every problem otherwise.

    A module that only reads or compares a release (the promotion gate, the drift reports) passes
    ``parse_compose=HAS_YAML``: on a host without PyYAML every field and both digests are still checked.
    """
    errors = validate_manifest(manifest, parse_compose=parse_compose)
    if errors:
        raise ReleaseError(summary(f"release manifest {source} is not valid", errors), errors)
    return manifest
