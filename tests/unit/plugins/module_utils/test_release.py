"""Release manifests: building, the canonical digest, validation, compose rendering, files."""

import copy
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from ansible_collections.outerloop.docker.plugins.module_utils._domain import manifest as _manifest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import (
    ReleaseError,
    canonical_json,
    check_manifest,
    content_digest,
    make_release_id,
    manifest_digest,
    validate_manifest,
    validate_semver,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import (
    build_manifest,
    manifest_text,
    plan_manifest_file,
    plan_text_file,
    read_manifest,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release_compose import render_compose
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import (
    ComposeFileError,
    dump_compose,
    load_compose,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.files import write_atomic
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import (
    compose_credentials,
    is_credential_name,
    url_credentials,
)

DOCS = Path(__file__).resolve().parents[4] / "docs"
COMMIT = "3f2a9c1d0b8e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
API = "sha256:" + "a1" * 32
WORKER = "sha256:" + "b2" * 32
COMPOSE = (
    """\
# the sample application
services:
  api:
    build:
      context: ./api
      args:
        BASE_IMAGE: ${BASE_IMAGE:-python:3.12-slim}
    image: ${REGISTRY:-reg1:5000}/sample/api:${TAG:-dev}
    ports:
      - "8080:8000"
      - 3000:50
    environment:
      REDIS_URL: redis://redis:6379/0
      DEBUG: no
  worker:
    build: ./worker
    pull_policy: build
    command: ["python", "-m", "worker"]
  redis:
    image: redis:7.4-alpine
  cache:
    image: docker.io/library/memcached@sha256:"""
    + "c3" * 32
    + "\n"
)


def inputs(**changes):
    """Module inputs of a valid release; keyword arguments replace some."""
    values = {
        "application": "sample-app",
        "version": "1.4.0",
        "source_repository": "https://git.example.com/team/sample-app.git",
        "commit": COMMIT,
        "ref": "main",
        "build_number": "42",
        "build_host": "build1",
        "created": "2026-11-26T13:00:00Z",
        "tests": {
            "suites": {
                "unit-api": {"passed": True, "tests": 12, "failures": 0},
                "functional": {"passed": True, "tests": 5, "failures": 0, "junit": ["functional.xml"]},
            }
        },
        "services": {
            "api": {"image": f"reg1:5000/sample/api@{API}", "tags": ["1.4.0", "42"]},
            "worker": {"repository": "reg1:5000/sample/worker", "digest": WORKER, "tags": ["42", "1.4.0"]},
        },
        "compose_file": "compose.yaml",
        "compose_content": COMPOSE,
    }
    values.update(changes)
    return values


@pytest.fixture
def manifest():
    return build_manifest(**inputs())


def resign(manifest):
    """The manifest with a recomputed digest, so a test sees the one problem it introduced."""
    manifest["digest"] = manifest_digest(manifest)
    return manifest


# --------------------------------------------------------------------------- building


def test_build_writes_every_field(manifest):
    assert manifest["schema"] == 1
    assert manifest["release_id"] == "sample-app-1.4.0-b42-3f2a9c1d0b8e"
    assert manifest["source"] == {
        "repository": "https://git.example.com/team/sample-app.git",
        "commit": COMMIT,
        "ref": "main",
    }
    assert manifest["build"] == {"number": "42", "host": "build1", "created": "2026-11-26T13:00:00Z"}
    assert manifest["tests"]["passed"] is True
    assert manifest["services"]["api"] == {
        "image": f"reg1:5000/sample/api@{API}",
        "repository": "reg1:5000/sample/api",
        "digest": API,
        "tags": ["1.4.0", "42"],
    }
    assert manifest["services"]["worker"]["image"] == f"reg1:5000/sample/worker@{WORKER}"
    assert manifest["services"]["worker"]["tags"] == ["1.4.0", "42"]  # sorted, so the order given does not matter
    assert manifest["compose"] == {"file": "compose.yaml", "content": COMPOSE, "digest": content_digest(COMPOSE)}
    assert manifest["digest"] == manifest_digest(manifest)
    assert validate_manifest(manifest) == []


def test_build_is_deterministic():
    first = manifest_text(build_manifest(**inputs()))
    services = dict(reversed(list(inputs()["services"].items())))
    assert manifest_text(build_manifest(**inputs(services=services))) == first
    assert manifest_text(build_manifest(**inputs(created="2026-11-26T13:00:01Z"))) != first


def test_build_moves_a_tag_next_to_the_digest_into_tags():
    manifest = build_manifest(
        **inputs(services={"api": f"reg1:5000/sample/api:1.4.0@{API}", "worker": f"reg1:5000/sample/worker@{WORKER}"})
    )
    assert manifest["services"]["api"]["image"] == f"reg1:5000/sample/api@{API}"
    assert manifest["services"]["api"]["tags"] == ["1.4.0"]
    assert manifest["services"]["worker"]["tags"] == []


def test_build_counts_given_as_strings_and_numbers_become_integers_and_tags():
    tests = {"suites": {"unit": {"passed": True, "tests": "12", "failures": "0"}}}
    services = {"api": {"image": f"reg1:5000/sample/api@{API}", "tags": [42]}}
    manifest = build_manifest(**inputs(tests=tests, services=services))
    assert manifest["tests"]["suites"]["unit"]["tests"] == 12
    assert manifest["services"]["api"]["tags"] == ["42"]


def test_build_lists_every_problem():
    with pytest.raises(ReleaseError) as err:
        build_manifest(**inputs(version="1.0", commit="3f2a9c1", created="yesterday", application="Sample App"))
    text = str(err.value)
    assert "4 problems" in text
    assert "version: version '1.0' is not SemVer 2.0" in text
    assert "source.commit: '3f2a9c1' is not valid: the full 40-hex SHA-1" in text
    assert "build.created: 'yesterday' is not an RFC 3339 date and time" in text
    assert "application: 'Sample App' is not valid" in text
    assert len(err.value.errors) == 4


def test_build_refuses_a_tag_only_image():
    services = {"api": "reg1:5000/sample/api:1.4.0"}
    with pytest.raises(
        ReleaseError, match=r"services\.api: image 'reg1:5000/sample/api:1.4.0' is not pinned by digest"
    ):
        build_manifest(**inputs(services=services))
    with pytest.raises(ReleaseError, match=r"services\.api: give image .* or repository and digest"):
        build_manifest(**inputs(services={"api": {"repository": "reg1:5000/sample/api", "tags": ["1.4.0"]}}))


def test_validation_refuses_a_tag_only_image_in_a_manifest(manifest):
    manifest["services"]["api"]["image"] = "reg1:5000/sample/api:1.4.0"
    assert validate_manifest(resign(manifest)) == [
        "services.api.image: 'reg1:5000/sample/api:1.4.0' is not pinned by digest; a release names every service as "
        "REGISTRY/REPOSITORY@sha256:DIGEST, never by tag"
    ]
    manifest["services"]["api"]["image"] = f"reg1:5000/sample/api:1.4.0@{API}"
    assert validate_manifest(resign(manifest)) == [
        f"services.api.image: 'reg1:5000/sample/api:1.4.0@{API}' carries a tag; write REGISTRY/REPOSITORY@DIGEST, "
        "tags go to tags"
    ]


def test_build_refuses_an_image_without_registry_and_disagreeing_parts():
    with pytest.raises(ReleaseError, match=r"services\.api\.image: 'sample/api@sha256:.*' names no registry"):
        build_manifest(**inputs(services={"api": f"sample/api@{API}"}))
    with pytest.raises(ReleaseError, match=r"services\.api: digest .* is not the digest of image"):
        build_manifest(**inputs(services={"api": {"image": f"reg1:5000/sample/api@{API}", "digest": WORKER}}))


def test_build_refuses_unknown_and_credential_keys_in_a_service():
    services = {"api": {"image": f"reg1:5000/sample/api@{API}", "password": "hunter2", "label": "x"}}
    with pytest.raises(ReleaseError) as err:
        build_manifest(**inputs(services=services))
    assert err.value.errors == [
        "services.api.label: unknown key (known: image, repository, digest, tags)",
        "services.api.password: a release manifest holds no credentials; remove this key",
    ]
    assert "hunter2" not in str(err.value)


def test_a_value_that_is_not_json_is_an_error_not_a_crash(manifest):
    manifest["tests"]["suites"]["unit-api"]["junit"] = {"a.xml"}
    errors = validate_manifest(manifest)
    assert errors[-1].startswith("digest: the manifest holds a value that is not JSON")


def test_build_refuses_a_service_missing_from_the_compose_file():
    services = {"api": f"reg1:5000/sample/api@{API}", "web": f"reg1:5000/sample/web@{API}"}
    with pytest.raises(ReleaseError) as err:
        build_manifest(**inputs(services=services))
    assert err.value.errors == [
        "services.web: not a service of the compose file compose.yaml (it has: api, worker, redis, cache)"
    ]


def test_build_refuses_failed_tests():
    tests = {
        "suites": {
            "unit": {"passed": True, "tests": 3, "failures": 0},
            "functional": {"passed": False, "tests": 5, "failures": 2},
        }
    }
    with pytest.raises(
        ReleaseError, match="a release is made only from a build whose tests passed; failing suites: functional"
    ):
        build_manifest(**inputs(tests=tests))
    lying = {"suites": {"unit": {"passed": True, "tests": 3, "failures": 1}}}
    with pytest.raises(ReleaseError, match=r"tests\.suites\.unit: passed is true but it reports 1 failures/errors"):
        build_manifest(**inputs(tests=lying))
    with pytest.raises(ReleaseError, match=r"tests\.suites: expected a dictionary of at least one test suite"):
        build_manifest(**inputs(tests={"suites": {}}))


# --------------------------------------------------------------------------- SemVer, times, ids


@pytest.mark.parametrize(
    "version",
    ["0.0.0", "1.4.0", "1.0.0-rc.1+build.5", "1.0.0-alpha", "1.0.0-0.3.7", "1.0.0-x.7.z.92", "1.0.0+20130313144700",
     "1.0.0-alpha+001", "10.20.30", "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay", "1.0.0-0A.is.legal"],
)  # fmt: skip
def test_semver_valid(version):
    assert validate_semver(version) == version


@pytest.mark.parametrize(
    ("version", "complaint"),
    [
        ("1.0", "MAJOR.MINOR.PATCH"),
        ("01.0.0", "without leading zeros"),
        ("1.02.0", "without leading zeros"),
        ("1.0.0-01", "MAJOR.MINOR.PATCH"),  # numeric pre-release identifiers have no leading zeros
        ("1.0.0-", "MAJOR.MINOR.PATCH"),
        ("1.0.0+", "MAJOR.MINOR.PATCH"),
        ("1.0.0-rc..1", "MAJOR.MINOR.PATCH"),
        ("v1.4.0", "without the leading 'v'"),
        ("1.4.0 ", "MAJOR.MINOR.PATCH"),
        ("1.4.\u0663", "MAJOR.MINOR.PATCH"),  # an Arabic-Indic digit is no ASCII digit
        ("1.0.0-" + "a" * 60, "longer than 64"),
        (1.4, "not a string"),
    ],
)
def test_semver_invalid(version, complaint):
    with pytest.raises(ReleaseError, match=re.escape(complaint)):
        validate_semver(version)


@pytest.mark.parametrize(
    ("created", "valid"),
    [
        ("2026-11-26T13:00:00Z", True),
        ("2026-11-26T13:00:00.123456Z", True),
        ("2026-11-26T13:00:00+01:00", True),
        ("2016-12-31T23:59:60Z", True),  # a leap second
        ("2026-11-26 13:00:00Z", False),
        ("2026-11-26T13:00:00", False),  # no time zone
        ("2026-02-30T13:00:00Z", False),
        ("2026-11-26T24:00:00Z", False),
        ("2026-11-26T13:00:00+24:00", False),
    ],
)
def test_created_is_rfc3339(manifest, created, valid):
    manifest["build"]["created"] = created
    errors = validate_manifest(resign(manifest))
    assert (errors == []) is valid, errors


def test_without_the_compose_parse_every_other_field_and_both_digests_are_still_checked(manifest):
    # A host without PyYAML checks a release it only reads or compares (parse_compose=False): the
    # compose text is then covered by its digest and the manifest's, and nothing else is skipped.
    assert check_manifest(manifest, "x", parse_compose=False) is manifest
    unparsable = copy.deepcopy(manifest)
    unparsable["compose"]["content"] = "services: ["
    unparsable["compose"]["digest"] = content_digest("services: [")
    resign(unparsable)
    assert check_manifest(unparsable, "x", parse_compose=False) is unparsable
    with pytest.raises(ReleaseError, match=re.escape("compose.content: compose.yaml is not valid YAML")):
        check_manifest(unparsable, "x")
    broken = copy.deepcopy(manifest)
    broken["services"]["api"]["digest"] = WORKER
    with pytest.raises(ReleaseError, match="digest"):
        check_manifest(broken, "x", parse_compose=False)


def test_release_id_is_tag_safe_and_checked(manifest):
    assert make_release_id("app", "1.0.0-rc.1+build.5", "7", COMMIT) == "app-1.0.0-rc.1_build.5-b7-3f2a9c1d0b8e"
    manifest["release_id"] = "sample-app-1.4.1-b42-3f2a9c1d0b8e"
    assert validate_manifest(resign(manifest)) == [
        "release_id: 'sample-app-1.4.1-b42-3f2a9c1d0b8e' is not 'sample-app-1.4.0-b42-3f2a9c1d0b8e', "
        "made from the fields"
    ]


# --------------------------------------------------------------------------- digest and tampering


def test_canonical_json_is_sorted_compact_utf8_and_leaves_out_the_digest(manifest):
    sample = {"b": 1, "a": {"d": [1, '\u00e9\n"'], "c": True}, "digest": "sha256:whatever"}
    assert canonical_json(sample) == '{"a":{"c":true,"d":[1,"\u00e9\\n\\""]},"b":1}'.encode()
    assert canonical_json(dict(manifest, digest="sha256:" + "0" * 64)) == canonical_json(manifest)
    assert json.loads(canonical_json(manifest)) == {k: v for k, v in manifest.items() if k != "digest"}


def test_digest_is_stable_across_key_order_and_formatting(manifest):
    shuffled = json.loads(json.dumps(manifest, indent=4), object_pairs_hook=lambda pairs: dict(reversed(pairs)))
    assert list(shuffled) != list(manifest)
    assert manifest_digest(shuffled) == manifest_digest(manifest)
    # The digest of this very manifest is fixed: a change in canonicalization would break every release.
    assert manifest_digest(manifest) == manifest_digest(json.loads(manifest_text(manifest)))
    assert manifest["digest"] == "sha256:" + __import__("hashlib").sha256(canonical_json(manifest)).hexdigest()


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["services"]["api"].update(digest=WORKER, image=f"reg1:5000/sample/api@{WORKER}"),
        lambda m: m.update(version="1.4.1", release_id="sample-app-1.4.1-b42-3f2a9c1d0b8e"),
        lambda m: m["tests"]["suites"]["unit-api"].update(tests=13),
        lambda m: m["services"]["api"]["tags"].append("latest"),
    ],
)
def test_a_hand_edit_is_a_digest_mismatch(manifest, edit, tmp_path):
    edit(manifest)
    errors = validate_manifest(manifest)
    assert len(errors) == 1
    assert errors[0].startswith("digest mismatch: the manifest says sha256:")
    path = tmp_path / "release.json"
    path.write_text(manifest_text(manifest))
    with pytest.raises(ReleaseError, match=f"release manifest {re.escape(str(path))} is not valid .*digest mismatch"):
        read_manifest(str(path))


def test_an_edited_compose_text_is_detected_even_with_a_recomputed_manifest_digest(manifest):
    manifest["compose"]["content"] = manifest["compose"]["content"].replace("8080:8000", "80:8000")
    assert validate_manifest(resign(manifest)) == [
        f"compose.digest: {content_digest(COMPOSE)} is not the sha256 of compose.content "
        f"({content_digest(manifest['compose']['content'])}): the compose text was changed"
    ]


def test_read_refuses_duplicate_keys_and_other_schemas(manifest, tmp_path):
    path = tmp_path / "release.json"
    path.write_text(manifest_text(manifest).replace('"schema": 1', '"schema": 1,\n  "schema": 1'))
    with pytest.raises(ReleaseError, match="is not valid JSON: duplicate key 'schema'"):
        read_manifest(str(path))
    assert validate_manifest(dict(manifest, schema=2)) == [
        "schema: 2 is newer than this collection reads (1); upgrade outerloop.docker"
    ]
    assert validate_manifest(dict(manifest, schema=True)) == ["schema: expected 1, not True"]
    with pytest.raises(ReleaseError, match=r"release manifest .*missing\.json does not exist"):
        read_manifest(str(tmp_path / "missing.json"))


def test_unknown_and_missing_fields(manifest):
    del manifest["build"]["host"]
    manifest["source"]["branch"] = "main"
    manifest["services"]["api"]["labels"] = {}
    errors = validate_manifest(resign(manifest))
    assert errors == [
        "source.branch: unknown key (known: repository, commit, ref)",
        "build.host: missing",
        "services.api.labels: unknown key (known: image, repository, digest, tags)",
    ]


# --------------------------------------------------------------------------- no credentials


@pytest.mark.parametrize(
    ("name", "credential"),
    [
        ("password", True), ("registry_password", True), ("dbPassword", True), ("DBPASSWORD", True),
        ("token", True), ("access_token", True), ("auth", True), ("Authorization", True), ("secret", True),
        ("client_secret", True), ("API_KEY", True), ("apiKey", True), ("DB_PASS", True), ("credentials", True),
        ("author", False), ("tests", False), ("repository", False), ("passed", False), ("tokenizer", False),
        ("compose", False), ("digest", False), ("keyboard", False),
    ],
)  # fmt: skip
def test_credential_names(name, credential):
    assert is_credential_name(name) is credential


@pytest.mark.parametrize("where", ["top", "source", "build", "service", "suite"])
def test_credential_keys_are_refused_anywhere(manifest, where):
    target = {
        "top": manifest,
        "source": manifest["source"],
        "build": manifest["build"],
        "service": manifest["services"]["api"],
        "suite": manifest["tests"]["suites"]["unit-api"],
    }[where]
    target["registry_password"] = "hunter2"
    errors = validate_manifest(resign(manifest))
    assert len(errors) == 1, errors
    assert errors[0].endswith("registry_password: a release manifest holds no credentials; remove this key")


def test_service_and_suite_names_are_names_not_credential_fields():
    compose = COMPOSE.replace("  redis:", "  auth:")
    manifest = build_manifest(**inputs(compose_content=compose, services={"auth": f"reg1:5000/sample/auth@{API}"}))
    assert validate_manifest(manifest) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("https://ci:hunter2@git.example.com/app.git", ["https://ci:***@"]),
        ("https://ghp_abcdef@github.com/team/app.git", ["https://***@"]),
        ("ssh://git:pw@host/app.git", ["ssh://git:***@"]),
        ("ssh://git@host/app.git", []),
        ("git@github.com:team/app.git", []),
        ("postgres://app:${DB_PASSWORD}@db/app", []),
        ("redis://redis:6379/0", []),
        ("https://git.example.com/app.git", []),
    ],
)
def test_url_credentials(text, found):
    assert url_credentials(text) == found


def test_a_url_with_credentials_is_refused(manifest):
    manifest["source"]["repository"] = "https://ci:hunter2@git.example.com/app.git"
    errors = validate_manifest(resign(manifest))
    assert errors == [
        "source.repository: holds a URL with credentials (https://ci:***@); a release manifest holds no credentials"
    ]
    assert "hunter2" not in " ".join(errors)


def test_compose_credentials():
    data = load_compose(
        """
services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: example
      POSTGRES_USER: app
      REPLICATION_PASSWORD: ${REPLICATION_PASSWORD:?set it}
      TOKEN_AUTH_ENABLED: "true"
  api:
    image: api
    build:
      context: .
      args:
        - NPM_TOKEN=abc123
        - HTTP_PROXY=http://proxy:3128
    environment:
      - DATABASE_URL=postgres://app:example@db/app
      - API_KEY
"""
    )
    problems = compose_credentials(data)
    assert problems == [
        "service 'db' sets environment POSTGRES_PASSWORD to a literal value; a release holds no credentials: take "
        "it from the deploy host's environment (${POSTGRES_PASSWORD}), an env_file or a Compose secret",
        "service 'api' sets build.args NPM_TOKEN to a literal value; a release holds no credentials: take it from "
        "the deploy host's environment (${NPM_TOKEN}), an env_file or a Compose secret",
        "services.api.environment[0] holds a URL with credentials (postgres://app:***@); "
        "a release holds no credentials",
    ]
    assert not any("example" in p or "abc123" in p for p in problems)


def test_a_compose_file_with_a_literal_password_makes_no_release():
    compose = COMPOSE.replace("      DEBUG: no\n", "      DEBUG: no\n      ADMIN_PASSWORD: s3cret\n")
    with pytest.raises(ReleaseError, match=r"compose\.content: service 'api' sets environment ADMIN_PASSWORD"):
        build_manifest(**inputs(compose_content=compose))


# --------------------------------------------------------------------------- compose files


def test_render_pins_release_services_and_removes_build(manifest):
    rendered = render_compose(manifest)
    data = yaml.safe_load(rendered["content"])
    api, worker = data["services"]["api"], data["services"]["worker"]
    assert api["image"] == f"reg1:5000/sample/api@{API}"
    assert worker["image"] == f"reg1:5000/sample/worker@{WORKER}"
    assert "build" not in api and "build" not in worker
    assert "pull_policy" not in worker  # pull_policy: build needs a build section
    assert list(api) == ["image", "ports", "environment"]  # image stays where it was
    assert list(worker) == ["image", "command"]  # and goes first where there was none
    assert rendered["images"] == {"api": f"reg1:5000/sample/api@{API}", "worker": f"reg1:5000/sample/worker@{WORKER}"}
    assert rendered["other_services"] == {
        "redis": {"image": "redis:7.4-alpine", "pinned": False},
        "cache": {"image": "docker.io/library/memcached@sha256:" + "c3" * 32, "pinned": True},
    }
    assert rendered["unpinned_services"] == ["redis"]
    assert rendered["content"].startswith(
        f"# Rendered by outerloop.docker.release from release {manifest['release_id']}\n"
    )
    assert manifest["compose"]["content"] == COMPOSE  # the manifest is not changed


def test_render_keeps_what_compose_reads_unchanged(manifest):
    """Compose reads YAML as Go's yaml.v3 does: 3000:50 is a string (YAML 1.1 says 180050), no is a string."""
    content = render_compose(manifest)["content"]
    api = load_compose(content)["services"]["api"]
    assert api["ports"] == ["8080:8000", "3000:50"]
    assert api["environment"]["DEBUG"] == "no"
    assert "'3000:50'" in content and "DEBUG: 'no'" in content  # quoted, so a YAML 1.1 reader agrees
    assert yaml.safe_load(content)["services"]["api"]["ports"] == ["8080:8000", "3000:50"]
    assert render_compose(manifest)["content"] == content  # deterministic


def test_render_a_service_without_build_and_with_merge_keys():
    compose = """\
x-base: &base
  restart: unless-stopped
  build: ./common
services:
  api:
    <<: *base
    restart: "no"
  worker: *base
  extra:
    build: ./extra
"""
    manifest = build_manifest(**inputs(compose_content=compose))
    rendered = render_compose(manifest)
    data = load_compose(rendered["content"])
    assert data["services"]["api"] == {"image": f"reg1:5000/sample/api@{API}", "restart": "no"}
    assert data["services"]["worker"] == {"image": f"reg1:5000/sample/worker@{WORKER}", "restart": "unless-stopped"}
    assert data["x-base"] == {"restart": "unless-stopped", "build": "./common"}  # the shared anchor is untouched
    assert rendered["other_services"] == {"extra": {"image": None, "pinned": False}}
    assert "&" not in rendered["content"] and "*" not in rendered["content"]


def test_render_refuses_a_release_service_missing_from_the_compose_file(manifest):
    manifest["compose"]["content"] = "services:\n  api:\n    build: .\n"
    with pytest.raises(
        ReleaseError,
        match=re.escape(
            "service 'worker' of release sample-app-1.4.0-b42-3f2a9c1d0b8e is not in the compose file compose.yaml"
        ),
    ):
        render_compose(manifest)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("services: [", "compose.yaml is not valid YAML"),
        ("services:\n  a: {}\n  a: {}\n", "duplicate key 'a'"),
        ("- a\n", "is not a mapping of compose keys"),
        ("name: x\n", "has no services"),
        ("services: {a: {}}\n---\nservices: {b: {}}\n", "holds 2 YAML documents"),
    ],
)
def test_compose_files_that_are_not(text, complaint):
    with pytest.raises(ComposeFileError, match=re.escape(complaint)):
        load_compose(text, "compose.yaml")


def test_compose_specific_tags_survive():
    data = load_compose("services:\n  api:\n    image: x\n    ports: !reset []\n    environment: !override {A: '1'}\n")
    text = dump_compose(data)
    assert "ports: !reset []" in text and "environment: !override" in text


def test_compose_numbers_are_read_as_compose_reads_them():
    data = load_compose("services:\n  a:\n    x: [0755, 0o17, 0x1F, 1_000, 08, 1.5, .inf, yes, True, ~, 2026-01-01]\n")
    assert data["services"]["a"]["x"][:6] == [493, 15, 31, 1000, 8.0, 1.5]
    assert data["services"]["a"]["x"][7:] == ["yes", True, None, "2026-01-01"]


# --------------------------------------------------------------------------- files


def test_write_is_idempotent_and_a_release_is_immutable(manifest, tmp_path):
    path = str(tmp_path / "releases" / "sample-app-1.4.0.json")
    plan = plan_manifest_file(path, manifest)
    assert plan == {"changed": True, "before": "", "after": manifest_text(manifest)}
    write_atomic(path, plan["after"])
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert read_manifest(path) == manifest
    assert plan_manifest_file(path, copy.deepcopy(manifest))["changed"] is False

    other = build_manifest(**inputs(build_number="43"))
    with pytest.raises(ReleaseError) as err:
        plan_manifest_file(path, other)
    assert str(err.value) == (
        f"{path} already holds release 'sample-app-1.4.0-b42-3f2a9c1d0b8e' (digest {manifest['digest']}), not "
        f"release 'sample-app-1.4.0-b43-3f2a9c1d0b8e' (digest {other['digest']}). A release is immutable: give a "
        "new version or build number, or another path; force: true replaces it"
    )
    forced = plan_manifest_file(path, other, force=True)
    assert forced["changed"] is True and forced["before"] == manifest_text(manifest)


def test_a_broken_file_at_the_path_is_not_overwritten_without_force(manifest, tmp_path):
    path = tmp_path / "release.json"
    path.write_text("not json")
    with pytest.raises(ReleaseError, match="already holds a file that is not a release manifest"):
        plan_manifest_file(str(path), manifest)
    assert plan_manifest_file(str(path), manifest, force=True)["changed"] is True


def test_plan_text_file(tmp_path):
    path = tmp_path / "compose.yaml"
    assert plan_text_file(str(path), "a\n")["changed"] is True
    write_atomic(str(path), "a\n")
    assert plan_text_file(str(path), "a\n")["changed"] is False
    assert [p.name for p in tmp_path.iterdir()] == ["compose.yaml"]  # no temporary file left


# --------------------------------------------------------------------------- the documented schema


def _doc_example() -> dict:
    text = (DOCS / "release-manifest.md").read_text()
    block = re.search(r"<!-- example-manifest -->\n```json\n(.*?)\n```", text, re.S)
    assert block, "docs/release-manifest.md has no example manifest block"
    return json.loads(block.group(1))


def test_the_documented_example_is_a_valid_release():
    assert validate_manifest(_doc_example()) == []


def test_the_json_schema_matches_what_the_module_writes(manifest):
    schema = json.loads((DOCS / "release-manifest.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["required"]) == set(_manifest.MANIFEST_KEYS) == set(manifest)
    assert set(schema["properties"]) == set(_manifest.MANIFEST_KEYS)
    assert set(schema["properties"]["source"]["properties"]) == set(_manifest.SOURCE_KEYS)
    assert set(schema["properties"]["build"]["required"]) == set(_manifest.BUILD_KEYS) == set(manifest["build"])
    assert set(schema["properties"]["compose"]["required"]) == set(_manifest.COMPOSE_KEYS) == set(manifest["compose"])
    assert (
        set(schema["$defs"]["service"]["required"]) == set(_manifest.SERVICE_KEYS) == set(manifest["services"]["api"])
    )
    assert set(schema["$defs"]["suite"]["properties"]) == set(_manifest.SUITE_KEYS)


def test_the_json_schema_accepts_releases_and_refuses_what_it_can_express(manifest):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((DOCS / "release-manifest.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    assert list(validator.iter_errors(manifest)) == []
    assert list(validator.iter_errors(_doc_example())) == []
    for edit in (
        lambda m: m["services"]["api"].update(image="reg1:5000/sample/api:1.4.0"),
        lambda m: m["services"]["api"].update(image=f"sample/api@{API}"),
        lambda m: m.update(version="01.0.0"),
        lambda m: m["source"].update(commit="3f2a9c1"),
        lambda m: m["source"].update(password="x"),
        lambda m: m["tests"].update(passed=False),
        lambda m: m.pop("digest"),
    ):
        bad = copy.deepcopy(manifest)
        edit(bad)
        assert list(validator.iter_errors(bad)), bad
