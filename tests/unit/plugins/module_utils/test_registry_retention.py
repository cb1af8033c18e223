# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""registry_retention: which digests go (pure), and the module against a scripted registry."""

from __future__ import annotations

import hashlib
import json
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils import _registry_retention as retention
from ansible_collections.outerloop.docker.plugins.module_utils._domain import registry_client as _registry_client
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import next_page
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.docker_config import encode_auth
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils import fake_module

PASSWORD = "s3cr:et,pw"
USER = "ci"


def digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


# --- Versions --------------------------------------------------------------------------------


def test_versions_sort_by_semver_precedence_not_by_string():
    tags = ["1.0.9", "1.0.10", "1.0.0-rc.1", "1.0.0", "1.0.0-rc.10", "1.0.0-rc.2", "1.0.0-alpha", "0.9.0", "10.0.0"]
    assert sorted(tags, key=retention.version_key) == [
        "0.9.0",
        "1.0.0-alpha",
        "1.0.0-rc.1",
        "1.0.0-rc.2",
        "1.0.0-rc.10",
        "1.0.0",
        "1.0.9",
        "1.0.10",
        "10.0.0",
    ]


def test_build_metadata_breaks_ties_only():
    assert retention.version_key("1.0.0_build.5")[:5] == retention.version_key("1.0.0")[:5]
    assert retention.version_key("1.0.0_b") > retention.version_key("1.0.0_a")
    assert retention.version_key("1.0.1") > retention.version_key("1.0.0_zzz")


@pytest.mark.parametrize("tag", ["latest", "1.2", "v1.0.0", "01.0.0", "1.0.0+b", "build-7", "passed-qa-1.0.0", ""])
def test_what_is_not_a_version_tag(tag):
    assert retention.version_key(tag) is None


def test_versions_given_with_plus_become_tags():
    assert retention.as_version_tag("1.0.0+build.5") == "1.0.0_build.5"
    with pytest.raises(retention.RetentionError, match="not a SemVer"):
        retention.as_version_tag("v1.0")


def test_passed_tags_split_environment_and_version():
    assert retention.parse_passed_tag("passed-qa-1.0.7") == ("qa", "1.0.7")
    assert retention.parse_passed_tag("passed-pre-prod-1.0.0-rc.1") == ("pre-prod", "1.0.0-rc.1")
    assert retention.parse_passed_tag("passed-prod-1-2.0.0") == ("prod-1", "2.0.0")
    assert retention.parse_passed_tag("passed-qa") is None
    assert retention.parse_passed_tag("passed-qa-latest") is None
    assert retention.parse_passed_tag("1.0.0") is None


def test_newest_versions_ignore_other_tags():
    tags = ["latest", "1.0", "1.0.9", "1.0.10", "passed-qa-9.9.9", "1.0.8"]
    assert retention.newest_versions(tags, 2) == ["1.0.10", "1.0.9"]


# --- The plan --------------------------------------------------------------------------------


def release_tags(versions, passed=None, extra=None):
    """{tag: digest}: one digest per version, with its passed tags and extra tags."""
    tags = {v: digest(v) for v in versions}
    for env, version in passed or []:
        tags[f"passed-{env}-{version}"] = digest(version)
    for tag, version in (extra or {}).items():
        tags[tag] = digest(version)
    return tags


def plan(tags, keep=5, protect=(), running=()):
    plans = retention.plan_repository("reg1:5000/app/api", tags, keep, set(protect), set(running))
    return {p.tags[0]: p for p in plans}


def doomed(plans):
    return sorted((p.tags[0] for p in plans.values() if p.delete), key=retention.version_key)


def test_keeps_the_n_newest_in_version_order():
    versions = [f"1.0.{n}" for n in range(1, 12)]  # 1.0.1 .. 1.0.11: string order would keep 1.0.7 .. 1.0.9
    assert doomed(plan(release_tags(versions))) == [f"1.0.{n}" for n in range(1, 7)]


def test_fewer_versions_than_keep_deletes_nothing():
    assert doomed(plan(release_tags(["1.0.0", "1.0.1"]))) == []


def test_a_protected_digest_stays_with_its_old_tags():
    tags = release_tags([f"1.0.{n}" for n in range(1, 9)], passed=[("qa", "1.0.2")])
    plans = plan(tags, protect=[digest("1.0.2")])
    assert doomed(plans) == ["1.0.1", "1.0.3"]
    assert plans["1.0.2"].tags == ["1.0.2", "passed-qa-1.0.2"]
    assert "protect" in plans["1.0.2"].reasons[0]


def test_a_running_version_keeps_its_version_tag_and_proofs():
    tags = release_tags([f"1.0.{n}" for n in range(1, 9)], passed=[("staging", "1.0.2"), ("qa", "1.0.3")])
    plans = plan(tags, running=["1.0.2"])
    assert doomed(plans) == ["1.0.1", "1.0.3"]
    assert any("passed staging, which an environment runs" in reason for reason in plans["1.0.2"].reasons)


def test_a_proof_of_a_running_version_on_an_old_digest_keeps_that_digest():
    # The same image (unchanged context) was published as 1.0.1 and promoted as 1.0.6: the old digest holds
    # the proof passed-staging-1.0.6 that a running 1.0.6 needs, even when keep no longer covers 1.0.6.
    tags = release_tags([f"1.0.{n}" for n in range(1, 12)])
    tags["passed-staging-1.0.6"] = digest("1.0.1")
    plans = plan(tags, keep=3, running=["1.0.6"])
    assert not plans["1.0.1"].delete
    assert plans["1.0.1"].reasons == [
        "passed-staging-1.0.6: proof that 1.0.6 passed staging, which an environment runs or rolls back to"
    ]
    assert doomed(plans) == ["1.0.2", "1.0.3", "1.0.4", "1.0.5", "1.0.7", "1.0.8"]


def test_a_digest_goes_only_when_every_tag_may_go():
    # One digest published as 1.0.1 and again as 1.0.8 (reproducible build): 1.0.8 is new, so it stays.
    tags = release_tags([f"1.0.{n}" for n in range(1, 9)])
    tags["1.0.8"] = digest("1.0.1")
    plans = plan(tags)
    assert plans["1.0.1"].tags == ["1.0.1", "1.0.8"]
    assert not plans["1.0.1"].delete
    assert plans["1.0.1"].reasons == ["1.0.8: version, one of the 5 newest versions"]
    assert doomed(plans) == ["1.0.2", "1.0.3"]


@pytest.mark.parametrize("other", ["latest", "1.0", "build-42", "3f2a9c1"])
def test_latest_and_non_release_tags_keep_their_digest(other):
    tags = release_tags([f"1.0.{n}" for n in range(1, 9)], extra={other: "1.0.1"})
    plans = plan(tags)
    assert not plans["1.0.1"].delete
    assert doomed(plans) == ["1.0.2", "1.0.3"]


def test_old_proofs_go_with_their_digest():
    tags = release_tags([f"1.0.{n}" for n in range(1, 9)], passed=[("qa", "1.0.1"), ("staging", "1.0.1")])
    plans = plan(tags)
    assert plans["1.0.1"].delete
    assert plans["1.0.1"].tags == ["1.0.1", "passed-qa-1.0.1", "passed-staging-1.0.1"]
    assert len(plans["1.0.1"].reasons) == 3


def test_the_plan_is_the_same_after_the_deletion():
    tags = release_tags([f"1.0.{n}" for n in range(1, 9)], passed=[("qa", "1.0.8")])
    first = plan(tags)
    remaining = {tag: d for tag, d in tags.items() if not any(p.delete and tag in p.tags for p in first.values())}
    assert doomed(plan(remaining)) == []


def test_protect_accepts_digests_and_pinned_images_only():
    d = digest("x")
    assert retention.protected_digests([d, f"reg1:5000/app/api@{d}"]) == {d}
    with pytest.raises(retention.RetentionError, match="protect"):
        retention.protected_digests(["reg1:5000/app/api:1.0.0"])


def test_repositories_from_options_and_releases():
    release = {"services": {"api": {"repository": "reg1:5000/app/api", "digest": digest("a")}}}
    refs = retention.repositories_of(["reg1:5000/app/worker", "reg1:5000/app/api"], [release])
    assert [ref.name for ref in refs] == ["reg1:5000/app/api", "reg1:5000/app/worker"]
    with pytest.raises(retention.RetentionError, match="tag or digest"):
        retention.repositories_of(["reg1:5000/app/api:1.0.0"], [])
    with pytest.raises(retention.RetentionError, match="no services"):
        retention.repositories_of([], [{"version": "1.0.0"}])


def test_next_page_of_a_link_header():
    assert next_page('</v2/app/api/tags/list?last=1.0.3&n=2>; rel="next"') == "/v2/app/api/tags/list?last=1.0.3&n=2"
    assert next_page("") == ""


# --- The module against a scripted registry --------------------------------------------------


class Registry:
    """A distribution-like registry of one repository: Basic auth, paged tag list, DELETE by digest."""

    def __init__(self, tags: dict, delete_enabled=True, page=3):
        self.tags = dict(tags)
        self.delete_enabled = delete_enabled
        self.page = page
        self.deleted = []

    def __call__(self, method, url, headers, data=None, limit=None):
        if headers.get("Authorization") != "Basic " + encode_auth(USER, PASSWORD):
            return 401, {"www-authenticate": 'Basic realm="r"'}, b'{"errors":[{"code":"UNAUTHORIZED"}]}'
        parsed = urlparse(url)
        path = parsed.path
        if path.endswith("/tags/list"):
            query = parse_qs(parsed.query)
            names = sorted(self.tags)
            last = query.get("last", [""])[0]
            names = [name for name in names if name > last]
            page, rest = names[: self.page], names[self.page :]
            headers_out = {"link": f'<{path}?last={page[-1]}&n={self.page}>; rel="next"'} if rest else {}
            return 200, headers_out, json.dumps({"name": "app/api", "tags": page}).encode()
        reference = path.rsplit("/", 1)[1]
        if method == "DELETE":
            if not self.delete_enabled:
                return 405, {}, b'{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}'
            if reference not in self.tags.values():
                return 404, {}, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}'
            self.deleted.append(reference)
            self.tags = {tag: d for tag, d in self.tags.items() if d != reference}
            return 202, {}, b""
        if reference not in self.tags:
            return 404, {}, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}'
        body = BODIES[self.tags[reference]]
        return 200, {"content-type": "application/vnd.oci.image.manifest.v1+json"}, body

    @staticmethod
    def manifest(name: str) -> bytes:
        return json.dumps(
            {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "n": name}
        ).encode()


BODIES = {}  # digest -> the manifest the Registry serves for it


def image_tags(versions, passed=()):
    """{tag: digest} with the digest of each version's manifest as the Registry serves it."""
    tags = {}
    for version in versions:
        body = Registry.manifest(version)
        tags[version] = "sha256:" + hashlib.sha256(body).hexdigest()
        BODIES[tags[version]] = body
    for env, version in passed:
        tags[f"passed-{env}-{version}"] = tags[version]
    return tags


class FakeModule(fake_module.FakeModule):
    DEFAULTS: ClassVar[dict] = {
        "repositories": ["reg1:5000/app/api"],
        "releases": None,
        "keep": 5,
        "protect": [],
        "protect_versions": [],
        "username": USER,
        "password": PASSWORD,
        "config_path": None,
        "user": None,
        "ca_path": None,
        "validate_certs": True,
        "timeout": 5,
    }


def run(monkeypatch, registry, check_mode=False, diff=False, **params):
    monkeypatch.setattr(_registry_client, "urllib_transport", lambda context, timeout: registry)
    module = FakeModule(check_mode=check_mode, diff=diff, **params)
    with pytest.raises(fake_module.Exited):
        retention.run_module(module)
    return module


def sorted_tags(registry):
    return sorted(
        registry.tags, key=lambda tag: (retention.version_key(tag) is None, retention.version_key(tag) or (), tag)
    )


def test_check_mode_lists_and_deletes_nothing_then_a_run_deletes_then_nothing(monkeypatch):
    versions = [f"1.0.{n}" for n in range(1, 9)]
    tags = image_tags(versions, passed=[("staging", "1.0.2"), ("staging", "1.0.7")])
    tags["latest"] = tags["1.0.8"]
    registry = Registry(tags)
    protect = [tags["1.0.1"]]

    check = run(monkeypatch, registry, check_mode=True, diff=True, protect=protect)
    assert not check.failed
    assert check.result["changed"] is True
    assert [entry["tags"] for entry in check.result["deleted"]] == [["1.0.3"], ["1.0.2", "passed-staging-1.0.2"]]
    assert registry.deleted == []
    assert "reg1:5000/app/api:1.0.2\n" in check.result["diff"]["before"]
    assert "reg1:5000/app/api:1.0.2\n" not in check.result["diff"]["after"]

    real = run(monkeypatch, registry, protect=protect)
    assert real.result["changed"] is True
    assert registry.deleted == [tags["1.0.3"], tags["1.0.2"]]
    assert real.result["summary"] == {
        "repositories": 1,
        "digests_deleted": 2,
        "tags_deleted": 3,
        "digests_kept": 6,
        "tags_kept": 8,
    }
    assert sorted_tags(registry) == [
        "1.0.1",
        "1.0.4",
        "1.0.5",
        "1.0.6",
        "1.0.7",
        "1.0.8",
        "latest",
        "passed-staging-1.0.7",
    ]

    again = run(monkeypatch, registry, protect=protect)
    assert again.result["changed"] is False
    assert again.result["deleted"] == []


def test_deletion_disabled_names_registry_host_and_setting_and_no_password(monkeypatch):
    registry = Registry(image_tags([f"1.0.{n}" for n in range(1, 8)]), delete_enabled=False)
    module = run(monkeypatch, registry)
    assert module.failed
    message = module.result["msg"]
    assert "registry reg1:5000" in message
    assert "from host" in message
    assert "HTTP 405" in message and "UNSUPPORTED" in message
    assert "storage.delete.enabled: true" in message
    assert "registry_delete_enabled" in message
    assert PASSWORD not in json.dumps(module.result)
    assert module.result["deleted"] == []


def test_keep_must_be_positive(monkeypatch):
    module = run(monkeypatch, Registry({}), keep=0)
    assert module.failed
    assert "keep must be at least 1" in module.result["msg"]


def test_an_unknown_repository_has_nothing_to_delete(monkeypatch):
    def transport(method, url, headers, data=None, limit=None):
        return 404, {}, b'{"errors":[{"code":"NAME_UNKNOWN"}]}'

    module = run(monkeypatch, transport)
    assert module.result["changed"] is False
    assert module.result["repositories"] == [{"repository": "reg1:5000/app/api", "tags_before": [], "tags_after": []}]
