# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The publish decision and the publish run, with a stand-in engine and registry: no Docker, no network."""

from __future__ import annotations

from typing import ClassVar

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils import _image_publish
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_auth import RegistryAuth
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import ManifestInfo
from ansible_collections.outerloop.docker.plugins.module_utils._domain.test_records import make_record, write_record
from ansible_collections.outerloop.docker.plugins.module_utils._image_publish import (
    ABSENT,
    OTHER,
    SAME,
    PublishRefused,
    PushError,
    TagState,
    also_push,
    check_tags,
    classify,
    first_pushes,
    own_digests,
    parse_push_stream,
    parse_repository,
    plan_publish,
    predict,
    push_auth_config,
    run_module,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.docker_config import Credentials
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils import fake_module

IMAGE_ID = "sha256:" + "a" * 64
OTHER_ID = "sha256:" + "b" * 64
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
REPO = "reg1:5000/shop/api"
PASSWORD = "s3cret:pw"


# --- Inputs ----------------------------------------------------------------------------------


def test_repository_needs_a_registry_and_no_tag():
    assert parse_repository(REPO).registry == "reg1:5000"
    with pytest.raises(PublishRefused, match="names no registry"):
        parse_repository("shop/api")
    with pytest.raises(PublishRefused, match="carries a tag"):
        parse_repository(REPO + ":1.0")


def test_tags_are_validated_and_deduplicated():
    assert check_tags(["1.4.0", "1.4", "1.4.0", "latest"], ["latest"]) == ["1.4.0", "1.4", "latest"]
    with pytest.raises(PublishRefused, match="tags: tag '-bad'"):
        check_tags(["1.0", "-bad"], [])
    with pytest.raises(PublishRefused, match="empty"):
        check_tags([], [])
    with pytest.raises(PublishRefused, match="floating_tags"):
        check_tags(["1.0"], ["latest"])


def test_own_digests_only_for_this_repository():
    repo_digests = [f"{REPO}@{D1}", f"reg2:5000/shop/api@{D2}", f"reg1:5000/shop/web@{D3}", "garbage@@"]
    assert own_digests(repo_digests, parse_repository(REPO)) == {D1}
    hub = parse_repository("docker.io/library/busybox")
    assert own_digests([f"busybox@{D2}"], hub) == {D2}


# --- The decision rule -----------------------------------------------------------------------


def test_classify():
    assert classify(TagState("1", None), IMAGE_ID, {D1}) == ABSENT
    assert classify(TagState("1", D1), IMAGE_ID, {D1}) == SAME
    assert classify(TagState("1", D2, IMAGE_ID), IMAGE_ID, set()) == SAME  # same config, pushed elsewhere
    assert classify(TagState("1", D2, OTHER_ID), IMAGE_ID, {D1}) == OTHER
    assert classify(TagState("1", D2, None), IMAGE_ID, set()) == OTHER  # an index: only RepoDigests count


def test_all_absent_pushes_every_tag_in_order():
    plan = plan_publish([TagState("1.0"), TagState("latest")], IMAGE_ID, set())
    assert plan.push == ["1.0", "latest"]
    assert not plan.up_to_date


def test_everything_in_place_pushes_nothing():
    plan = plan_publish([TagState("1.0", D1), TagState("latest", D1)], IMAGE_ID, {D1})
    assert plan.push == []
    assert plan.up_to_date
    assert first_pushes(plan, {D1}) == []
    assert predict(plan, {D1}) == ([], {"1.0": D1, "latest": D1})


def test_conflicting_tag_is_refused_naming_tag_digest_and_image():
    states = [TagState("1.0", D2, OTHER_ID), TagState("latest")]
    with pytest.raises(PublishRefused) as caught:
        plan_publish(states, IMAGE_ID, {D1}, image="shop/api:build-7", repository=REPO)
    message = str(caught.value)
    assert f"tag 1.0 holds {D2}" in message
    assert "shop/api:build-7" in message
    assert IMAGE_ID in message
    assert f"this image's digest in {REPO} is {D1}" in message
    assert "force" in message


def test_conflict_without_repo_digest_explains_the_rule():
    rule = r"no RepoDigest in reg1:5000/shop/api, and the tag's config digest is not its image ID"
    with pytest.raises(PublishRefused, match=rule):
        plan_publish([TagState("1.0", D2, OTHER_ID)], IMAGE_ID, set(), repository=REPO)


def test_force_and_floating_tags_move_conflicting_tags():
    states = [TagState("1.1", None), TagState("latest", D2, OTHER_ID)]
    assert plan_publish(states, IMAGE_ID, set(), floating=["latest"]).push == ["1.1", "latest"]
    assert plan_publish(states, IMAGE_ID, set(), force=True).push == ["1.1", "latest"]
    with pytest.raises(PublishRefused):
        plan_publish(states, IMAGE_ID, set(), floating=["1.1"])


def test_same_image_under_another_manifest_is_unified_after_the_push():
    # "1.0" holds this image (same config) under manifest D2; "1.1" is new.
    states = [TagState("1.0", D2, IMAGE_ID), TagState("1.1")]
    plan = plan_publish(states, IMAGE_ID, set())
    assert plan.push == ["1.1"]
    assert also_push(plan, D1, ["1.1"]) == ["1.0"]  # the push produced D1: move 1.0 to it
    assert also_push(plan, D2, ["1.1"]) == []


def test_same_image_under_two_digests_is_not_up_to_date():
    plan = plan_publish([TagState("1.0", D2, IMAGE_ID), TagState("1.1", D1)], IMAGE_ID, {D1})
    assert plan.push == []
    assert not plan.up_to_date
    assert first_pushes(plan, {D1}) == ["1.0"]
    assert predict(plan, {D1}) == (["1.0"], {"1.0": D1, "1.1": D1})


def test_check_mode_prediction_without_a_known_digest():
    plan = plan_publish([TagState("1.0"), TagState("latest", D2, IMAGE_ID)], IMAGE_ID, set())
    would, after = predict(plan, set())
    assert would == ["1.0"]
    assert after == {"1.0": None, "latest": D2}


# --- The push stream -------------------------------------------------------------------------


def test_push_stream_digest_and_layers():
    lines = [
        {"status": "The push refers to repository [reg1:5000/shop/api]"},
        {"status": "Preparing", "id": "aaa"},
        {"status": "Pushing", "id": "aaa", "progressDetail": {"current": 1}},
        {"status": "Pushed", "id": "aaa"},
        {"status": "Layer already exists", "id": "bbb"},
        {"status": f"1.0: digest: {D1} size: 527"},
        {"progressDetail": {}, "aux": {"Tag": "1.0", "Digest": D1, "Size": 527}},
    ]
    assert parse_push_stream(lines) == {"digest": D1, "uploaded": ["aaa"], "existing": ["bbb"]}
    assert parse_push_stream([{"status": f"x: digest: {D2} size: 1"}])["digest"] == D2


def test_push_stream_error_and_missing_digest():
    error = {"errorDetail": {"message": "unauthorized: authentication required"}, "error": "unauthorized: x"}
    with pytest.raises(PushError, match="unauthorized"):
        parse_push_stream([{"status": "Preparing", "id": "a"}, error])
    with pytest.raises(PushError, match="without a manifest digest"):
        parse_push_stream([{"status": "Pushed", "id": "a"}])


def test_push_auth_config_is_always_explicit():
    assert push_auth_config(RegistryAuth(None, "none"), "reg1:5000") == {}
    assert push_auth_config(RegistryAuth(Credentials("ci", PASSWORD, ""), "x"), "reg1:5000") == {
        "serveraddress": "reg1:5000",
        "username": "ci",
        "password": PASSWORD,
    }
    assert push_auth_config(RegistryAuth(Credentials("ci", "", "tok"), "x"), "docker.io")["identitytoken"] == "tok"


# --- The run, with a stand-in engine and registry --------------------------------------------


class FakeRegistry:
    def __init__(self, tags=None, configs=None):
        self.tags = dict(tags or {})  # tag -> digest
        self.configs = dict(configs or {})  # digest -> config digest
        self.auth = RegistryAuth(Credentials("ci", PASSWORD, ""), "the module options")
        self.secrets = [PASSWORD]
        self.lookups = 0

    def lookup(self, ref, fetch_config=True):
        self.lookups += 1
        digest = self.tags.get(ref.tag)
        if digest is None:
            return ManifestInfo(image=str(ref), exists=False)
        return ManifestInfo(image=str(ref), exists=True, digest=digest, config_digest=self.configs.get(digest))


class FakeEngine:
    def __init__(self, registry, image_id=IMAGE_ID, repo_digests=(), push_digest=D1, push_error=None):
        self.registry = registry
        self.image_id = image_id
        self.repo_digests = list(repo_digests)
        self.push_digest = push_digest
        self.push_error = push_error
        self.tagged = []
        self.pushed = []
        self.auth_configs = []

    def inspect_image(self, image):
        return {"Id": self.image_id, "RepoDigests": self.repo_digests}

    def tag(self, image, repository, tag):
        self.tagged.append((image, repository, tag))
        return True

    def push(self, repository, tag, stream, decode, auth_config):
        self.auth_configs.append(auth_config)
        if self.push_error:
            return iter([{"error": self.push_error, "errorDetail": {"message": self.push_error}}])
        self.pushed.append(tag)
        self.registry.tags[tag] = self.push_digest
        self.registry.configs[self.push_digest] = self.image_id
        entry = f"{repository}@{self.push_digest}"
        if entry not in self.repo_digests:
            self.repo_digests.append(entry)
        return iter([{"status": "Pushed", "id": "l1"}, {"aux": {"Tag": tag, "Digest": self.push_digest}}])


class FakeModule(fake_module.FakeModule):
    DEFAULTS: ClassVar[dict] = {
        "image": "shop/api:build-7",
        "repository": REPO,
        "images": None,
        "parallel": 4,
        "tags": ["1.0", "latest"],
        "floating_tags": ["latest"],
        "required_test_suites": ["unit", "functional"],
        "record_dir": None,
        "force": False,
        "username": "ci",
        "password": PASSWORD,
        "config_path": None,
        "user": None,
        "ca_path": None,
        "validate_certs": True,
        "docker_host": "unix:///var/run/docker.sock",
        "timeout": 5,
    }

    def __init__(self, check_mode=False, **params):
        super().__init__(check_mode=check_mode, diff=True, **params)


@pytest.fixture
def world(monkeypatch, tmp_path):
    """A registry, an engine, passing records for IMAGE_ID; ``world.run(**params)`` runs the module."""

    class World:
        registry = FakeRegistry()
        engine = FakeEngine(registry)
        record_dir = str(tmp_path / "records")

        def run(self, check_mode=False, **params):
            module = FakeModule(check_mode=check_mode, record_dir=self.record_dir, **params)
            with pytest.raises(fake_module.Exited):
                run_module(module)
            return module

    world = World()
    for suite in ("unit", "functional"):
        write_record(world.record_dir, make_record(IMAGE_ID, suite, True, 0))
    monkeypatch.setattr(_image_publish, "require_sdk", lambda module: None)
    monkeypatch.setattr(_image_publish, "engine_client", lambda params: world.engine)
    monkeypatch.setattr(_image_publish, "registry_client", lambda *args, **kwargs: world.registry)
    return world


def test_publish_then_publish_again(world):
    check = world.run(check_mode=True)
    assert check.result["changed"] is True
    assert check.result["pushed_tags"] == ["1.0", "latest"]
    assert world.engine.pushed == []
    assert world.engine.tagged == []

    first = world.run()
    assert not first.failed, first.result
    assert first.result["changed"] is True
    assert first.result["pushed_tags"] == ["1.0", "latest"]
    assert first.result["digests"] == {"1.0": D1, "latest": D1}
    assert first.result["pinned"] == f"{REPO}@{D1}"
    assert first.result["image_id"] == IMAGE_ID
    assert world.engine.tagged == [(IMAGE_ID, REPO, "1.0"), (IMAGE_ID, REPO, "latest")]
    assert world.engine.auth_configs[0] == {"serveraddress": "reg1:5000", "username": "ci", "password": PASSWORD}
    assert first.result["diff"]["before"] == {"1.0": "(absent)", "latest": "(absent)"}

    again = world.run()
    assert again.result["changed"] is False
    assert again.result["pushed_tags"] == []
    assert again.result["digest"] == D1
    assert world.engine.pushed == ["1.0", "latest"]  # nothing more


def test_missing_or_failed_records_refuse_before_touching_the_registry(world):
    write_record(world.record_dir, make_record(IMAGE_ID, "functional", False, 1, summary="2 failures"))
    module = world.run(required_test_suites=["unit", "functional", "smoke"])
    assert module.failed
    message = module.result["msg"]
    assert "shop/api:build-7" in message
    assert "functional: failed (2 failures)" in message
    assert "smoke: never ran" in message
    assert world.registry.lookups == 0
    assert world.engine.pushed == []
    assert module.result["image_id"] == IMAGE_ID


def test_existing_release_tag_with_another_image_is_refused_then_forced(world):
    world.registry.tags["1.0"] = D2
    world.registry.configs[D2] = OTHER_ID
    refused = world.run()
    assert refused.failed
    assert f"tag 1.0 holds {D2}" in refused.result["msg"]
    assert world.engine.pushed == []
    assert world.engine.tagged == []

    forced = world.run(force=True)
    assert forced.result["changed"] is True
    assert forced.result["digests"] == {"1.0": D1, "latest": D1}


def test_push_error_names_the_identity_and_registry_login_not_the_password(world):
    world.engine.push_error = f"unauthorized: authentication required for ci:{PASSWORD}"
    module = world.run()
    assert module.failed
    message = module.result["msg"]
    assert "user 'ci' from the module options" in message
    assert "outerloop.docker.registry_login" in message
    assert "Nothing was pushed" in message
    assert PASSWORD not in message


def test_registry_disagreeing_after_the_push_fails(world):
    class Liar(FakeEngine):
        def push(self, *args, **kwargs):
            stream = list(super().push(*args, **kwargs))
            self.registry.tags[kwargs.get("tag") or args[1]] = D3  # the registry ends up elsewhere
            return iter(stream)

    world.engine = Liar(world.registry)
    module = world.run()
    assert module.failed
    assert "not the digest" in module.result["msg"]


def test_empty_suites_are_refused(world):
    module = world.run(required_test_suites=[])
    assert module.failed
    assert "required_test_suites is empty" in module.result["msg"]


# -- several images in one task (images) ----------------------------------------------------------


def test_images_are_published_each_with_its_own_result(world):
    first = world.run(
        image=None,
        repository=None,
        images=[{"image": "shop/api:build-7", "repository": REPO}, {"image": IMAGE_ID, "repository": REPO}],
        parallel=2,
    )
    assert not first.failed, first.result
    assert first.result["changed"] is True
    results = first.result["results"]
    assert [result["image"] for result in results] == ["shop/api:build-7", IMAGE_ID]
    assert all(result["pinned"] == f"{REPO}@{D1}" for result in results)
    assert len(first.result["diff"]) == 2
    assert PASSWORD in first.no_log_values

    again = world.run(image=None, repository=None, images=[{"image": "shop/api:build-7", "repository": REPO}])
    assert again.result["changed"] is False
    assert again.result["results"][0]["pushed_tags"] == []


def test_one_refused_image_stops_every_push(world):
    module = world.run(
        image=None,
        repository=None,
        images=[
            {"image": "shop/api:build-7", "repository": REPO},
            {"image": "shop/db:build-7", "repository": "reg1:5000/shop/db", "required_test_suites": ["smoke"]},
        ],
    )
    assert module.failed
    assert module.result["msg"].startswith("[shop/db:build-7] refusing to publish shop/db:build-7")
    assert "smoke: never ran" in module.result["msg"]
    assert "Nothing was tagged or pushed for any of the images." in module.result["msg"]
    assert world.engine.pushed == []
    assert world.engine.tagged == []
