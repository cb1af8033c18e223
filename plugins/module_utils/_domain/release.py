# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Release manifests made, read and written: the inputs of the release module become a manifest
(_domain.manifest validates it), and a manifest becomes its file.

Everything is pure or touches only the file it names; errors are ReleaseError naming the field or the file.
"""

from __future__ import annotations

import json

from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import (
    MANIFEST_KEYS,
    SCHEMA,
    SUITE_COUNTS,
    ReleaseError,
    check_manifest,
    content_digest,
    make_release_id,
    manifest_digest,
    summary,
    validate_manifest,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.files import FileReadError, read_text
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRefError,
    parse_image_ref,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import is_credential_name


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
        raise ReleaseError(summary("the release is not valid", errors), errors)
    return manifest


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


def read_manifest(path: str) -> dict:
    """Read and validate the manifest at ``path`` (digest verified); ReleaseError naming the file otherwise."""
    text = read_release_text(path)
    if text is None:
        raise ReleaseError(f"release manifest {path} does not exist")
    return check_manifest(parse_manifest(text, path), path)


def plan_manifest_file(path: str, manifest: dict, *, force: bool = False) -> dict:
    """What writing ``manifest`` to ``path`` does: ``{"changed", "before", "after"}``.

    Unchanged when the file holds the same manifest. A file holding anything else is another release,
    and a release is immutable: ReleaseError unless ``force``.
    """
    after = manifest_text(manifest)
    before = read_release_text(path)
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
    before = read_release_text(path)
    return {"changed": before != text, "before": before or "", "after": text}


def read_release_text(path: str) -> str | None:
    """The text of a file a release reads or writes, or None when it does not exist; ReleaseError otherwise."""
    try:
        return read_text(path)
    except FileReadError as exc:
        raise ReleaseError(str(exc)) from None
