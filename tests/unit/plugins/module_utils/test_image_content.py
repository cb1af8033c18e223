# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""image_build's reuse_unchanged: the content key, the declared build arguments, the image to reuse,
and build_image's reuse path with a stand-in engine. No Docker needed."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils import _image_build
from ansible_collections.outerloop.docker.plugins.module_utils._domain.image_content import (
    content_key,
    declared_build_args,
    pick_reusable,
    split_build_args,
)
from ansible_collections.outerloop.docker.plugins.module_utils._image_build import (
    LABEL_BUILD_NUMBER,
    LABEL_CREATED,
    LABEL_REVISION,
    LABEL_SOURCE,
    LABEL_VERSION,
    BuildRequest,
    build_image,
    predict_changed,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import CONTENT_KEY

SHA1 = "1" * 40
SHA2 = "2" * 40
BASE = "sha256:" + "b" * 64  # the build without per-commit labels
EARLIER = "sha256:" + "e" * 64  # the labelled image of an earlier commit
LABELLED = "sha256:" + "f" * 64  # a new labelled image

WORKER = {
    "Id": BASE,
    "Os": "linux",
    "Architecture": "amd64",
    "RootFS": {"Type": "layers", "Layers": ["sha256:" + "1" * 64, "sha256:" + "2" * 64]},
    "Config": {
        "Env": ["PATH=/usr/bin", "SERVICE_NAME=worker"],
        "Cmd": ["python3", "-m", "worker"],
        "Entrypoint": None,
        "User": "",
        "WorkingDir": "/app",
        "ExposedPorts": None,
        "Volumes": None,
        "Healthcheck": {"Test": ["CMD", "true"], "Interval": 2000000000},
        "StopSignal": "",
        "Labels": {"org.opencontainers.image.title": "sample-app-worker"},
        "Hostname": "",
    },
    "Created": "2026-12-01T10:00:00Z",
    "Parent": "sha256:" + "9" * 64,
}


def changed(**edits):
    info = copy.deepcopy(WORKER)
    for key, value in edits.items():
        if key in ("Os", "Architecture", "RootFS", "Id", "Created", "Parent"):
            info[key] = value
        else:
            info["Config"][key] = value
    return info


def test_the_content_key_is_stable_and_ignores_ids_times_and_the_key_label():
    key = content_key(WORKER)
    assert key.startswith("sha256:") and len(key) == 71
    assert content_key(copy.deepcopy(WORKER)) == key
    # What does not change what runs: the image ID, creation time, parent, hostname, the key label.
    assert content_key(changed(Id=LABELLED, Created="2027-01-01T00:00:00Z", Parent="", Hostname="x")) == key
    labels = {**WORKER["Config"]["Labels"], CONTENT_KEY: "sha256:" + "0" * 64}
    assert content_key(changed(Labels=labels)) == key
    # Empty and missing are the same.
    assert content_key(changed(ExposedPorts={}, Entrypoint=[])) == key


@pytest.mark.parametrize(
    "edit",
    [
        {"RootFS": {"Type": "layers", "Layers": ["sha256:" + "1" * 64, "sha256:" + "3" * 64]}},
        {"RootFS": {"Type": "layers", "Layers": ["sha256:" + "2" * 64, "sha256:" + "1" * 64]}},
        {"Env": ["PATH=/usr/bin", "SERVICE_NAME=worker", "APP_VERSION=1.0.2"]},
        {"Cmd": ["python3", "-m", "api"]},
        {"Entrypoint": ["tini", "--"]},
        {"User": "10001"},
        {"WorkingDir": "/srv"},
        {"ExposedPorts": {"8080/tcp": {}}},
        {"Volumes": {"/data": {}}},
        {"Healthcheck": {"Test": ["CMD", "false"], "Interval": 2000000000}},
        {"StopSignal": "SIGINT"},
        {"OnBuild": ["RUN true"]},
        {"Labels": {"org.opencontainers.image.title": "sample-app-api"}},
        {"Architecture": "arm64"},
    ],
)
def test_everything_a_container_runs_with_changes_the_key(edit):
    assert content_key(changed(**edit)) != content_key(WORKER)


def test_an_image_without_layers_has_no_key():
    with pytest.raises(ValueError, match="no layers"):
        content_key(changed(RootFS={"Type": "layers", "Layers": []}))


def test_declared_build_args_reads_every_arg_line():
    text = """# syntax=docker/dockerfile:1
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE} AS base
  arg lower_case
RUN echo \\
  ARG NOT_AN_ARG
ARG A=1 B="two words"
# ARG COMMENTED
FROM base
ARG APP_VERSION
ENV APP_VERSION=$APP_VERSION
"""
    assert declared_build_args(text) == {"BASE_IMAGE", "lower_case", "A", "B", "APP_VERSION"}


def test_declared_build_args_follows_the_escape_directive_and_continued_args():
    text = "# escape=`\nFROM scratch\nARG ONE=1 `\n    TWO\nRUN echo \\\nARG THREE\n"
    assert declared_build_args(text) == {"ONE", "TWO", "THREE"}


def test_split_build_args_sends_declared_and_proxy_arguments_only():
    args = {"BASE_IMAGE": "x", "APP_VERSION": "1.0.2", "APP_BUILD": "2", "HTTP_PROXY": "p", "no_proxy": "n"}
    sent, ignored = split_build_args(args, {"BASE_IMAGE"})
    assert sent == {"BASE_IMAGE": "x", "HTTP_PROXY": "p", "no_proxy": "n"}
    assert ignored == ["APP_BUILD", "APP_VERSION"]
    assert split_build_args({}, set()) == ({}, [])


def listed(image_id, created, *tags):
    return {"Id": image_id, "Created": created, "RepoTags": list(tags)}


def test_pick_reusable_takes_only_images_of_the_repository_and_prefers_the_wanted_tags():
    repo = "reg1:5000/sample/worker"
    older = listed("sha256:" + "1" * 64, 100, f"{repo}:build-1")
    newer = listed("sha256:" + "2" * 64, 200, f"{repo}:build-2", "other/worker:build-2")
    foreign = listed("sha256:" + "3" * 64, 300, "reg1:5000/sample/api:build-3")
    untagged = listed("sha256:" + "4" * 64, 400)
    assert pick_reusable([], repo, [f"{repo}:build-3"]) is None
    assert pick_reusable([foreign, untagged], repo, [f"{repo}:build-3"]) is None
    assert pick_reusable([older, newer, foreign], repo, [f"{repo}:build-3"]) == {
        "id": newer["Id"],
        "tags": [f"{repo}:build-2"],
    }
    # A rerun keeps the image its tags already name, even when a newer one carries the same key.
    assert pick_reusable([older, newer], repo, [f"{repo}:build-1"])["id"] == older["Id"]


def test_check_mode_with_reuse_accepts_an_image_of_an_earlier_commit():
    labels = {LABEL_REVISION: SHA2, LABEL_BUILD_NUMBER: "2"}
    earlier = (EARLIER, {LABEL_REVISION: SHA1, LABEL_BUILD_NUMBER: "1", CONTENT_KEY: "sha256:" + "0" * 64})
    existing = {"w:build-2": earlier, "w:222222222222": earlier}
    assert predict_changed(existing, labels) is True
    assert predict_changed(existing, labels, reuse=True) is False
    assert predict_changed({"w:build-2": earlier, "w:222222222222": None}, labels, reuse=True) is True
    unkeyed = (EARLIER, {LABEL_REVISION: SHA1, LABEL_BUILD_NUMBER: "1"})
    assert predict_changed({"w:build-2": unkeyed}, labels, reuse=True) is True


# ---------------------------------------------------------------------------------------------
# build_image with reuse_unchanged, against a stand-in engine


def built(image_id):
    return [{"stream": "Step 1/1 : FROM x\n"}, {"stream": " ---> Using cache\n"}, {"aux": {"ID": image_id}}]


class Engine:
    """Builds return the queued image IDs in turn; ``images(filters=label)`` searches ``store``."""

    def __init__(self, store, builds):
        self.store = dict(store)  # id or reference -> inspect dict (with RepoTags)
        self.builds = list(builds)
        self.calls = []
        self.tagged = []

    def inspect_image(self, ref):
        if ref not in self.store:
            raise _image_build.docker.errors.ImageNotFound(ref)
        return self.store[ref]

    def images(self, filters):
        key, value = filters["label"].split("=", 1)
        found = {}
        for info in self.store.values():
            if (info["Config"].get("Labels") or {}).get(key) == value:
                found[info["Id"]] = {"Id": info["Id"], "Created": 1, "RepoTags": info.get("RepoTags", [])}
        return list(found.values())

    def build(self, **kwargs):
        self.calls.append(kwargs)
        image_id, info = self.builds.pop(0)
        self.store[image_id] = info
        yield from built(image_id)

    def tag(self, image, repository, tag, force=False):
        self.tagged.append((image, f"{repository}:{tag}"))
        self.store[f"{repository}:{tag}"] = self.store[image]
        self.store[image].setdefault("RepoTags", []).append(f"{repository}:{tag}")

    def close(self):
        pass


def reuse_request(tmp_path, revision, build):
    (tmp_path / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM $BASE_IMAGE\nCOPY worker /app/worker\n")
    return BuildRequest.from_params(
        {
            "path": str(tmp_path),
            "dockerfile": "Dockerfile",
            "name": "reg1:5000/sample/worker",
            "tags": [f"build-{build}", revision[:12]],
            "build_args": {"BASE_IMAGE": "debian", "APP_VERSION": f"1.0.{build}"},
            "target": None,
            "pull": False,
            "nocache": False,
            "labels": None,
            "revision": revision,
            "source": "https://git.example.com/sample.git",
            "version": f"1.0.{build}",
            "created": "2026-12-01T10:00:00Z",
            "build_number": str(build),
            "build_timeout": 60,
            "reuse_unchanged": True,
        }
    )


def test_a_new_content_gets_the_per_commit_labels_and_the_key_on_top(tmp_path):
    base = copy.deepcopy(WORKER)
    base["Config"]["Labels"][LABEL_SOURCE] = "https://git.example.com/sample.git"
    key = content_key(base)
    labelled = copy.deepcopy(base)
    labelled["Id"] = LABELLED
    labelled["Config"]["Labels"].update({LABEL_REVISION: SHA1, CONTENT_KEY: key})
    engine = Engine({}, [(BASE, base), (LABELLED, labelled)])
    result = build_image(engine, reuse_request(tmp_path, SHA1, 1))
    first, second = engine.calls
    # The build itself has no per-commit label and no undeclared argument.
    assert first["labels"] == {LABEL_SOURCE: "https://git.example.com/sample.git"}
    assert first["buildargs"] == {"BASE_IMAGE": "debian"}
    assert result["ignored_build_args"] == ["APP_VERSION"]
    # The labels go on top, in a build of one FROM line.
    assert second["fileobj"].getvalue() == f"FROM {BASE}\n".encode()
    assert set(second["labels"]) == {LABEL_REVISION, LABEL_VERSION, LABEL_CREATED, LABEL_BUILD_NUMBER, CONTENT_KEY}
    assert second["labels"][CONTENT_KEY] == key
    assert result["image_id"] == LABELLED
    assert result["content_key"] == key
    assert result["reused"] is False and result["reused_from"] is None
    assert result["changed"] is True
    repo = "reg1:5000/sample/worker"
    assert engine.tagged == [(LABELLED, f"{repo}:build-1"), (LABELLED, f"{repo}:{SHA1[:12]}")]


def test_the_same_content_of_a_later_commit_reuses_the_earlier_image(tmp_path):
    key = content_key(WORKER)
    earlier = copy.deepcopy(WORKER)
    earlier.update(Id=EARLIER, RepoTags=["reg1:5000/sample/worker:build-1"])
    earlier["Config"]["Labels"].update({LABEL_REVISION: SHA1, CONTENT_KEY: key})
    engine = Engine({EARLIER: earlier, "reg1:5000/sample/worker:build-1": earlier}, [(BASE, copy.deepcopy(WORKER))])
    result = build_image(engine, reuse_request(tmp_path, SHA2, 2))
    assert len(engine.calls) == 1  # no labelling build
    assert result["image_id"] == EARLIER
    assert result["reused"] is True
    assert result["reused_from"] == {"image_id": EARLIER, "tags": ["reg1:5000/sample/worker:build-1"], "revision": SHA1}
    assert result["labels"][LABEL_REVISION] == SHA1  # the reused image keeps its labels
    assert result["changed"] is True
    repo = "reg1:5000/sample/worker"
    assert engine.tagged == [(EARLIER, f"{repo}:build-2"), (EARLIER, f"{repo}:{SHA2[:12]}")]
    # The same build again: nothing to tag, no change, still reported as reused.
    engine.builds.append((BASE, copy.deepcopy(WORKER)))
    again = build_image(engine, reuse_request(tmp_path, SHA2, 2))
    assert again["changed"] is False and again["reused"] is True and again["image_id"] == EARLIER
    assert len(engine.tagged) == 2


def test_a_changed_content_does_not_reuse(tmp_path):
    key = content_key(WORKER)
    earlier = copy.deepcopy(WORKER)
    earlier.update(Id=EARLIER, RepoTags=["reg1:5000/sample/worker:build-1"])
    earlier["Config"]["Labels"].update({LABEL_REVISION: SHA1, CONTENT_KEY: key})
    new = changed(Cmd=["python3", "-m", "worker", "--fast"])
    labelled = copy.deepcopy(new)
    labelled["Id"] = LABELLED
    engine = Engine({EARLIER: earlier}, [(BASE, new), (LABELLED, labelled)])
    result = build_image(engine, reuse_request(tmp_path, SHA2, 2))
    assert result["image_id"] == LABELLED and result["reused"] is False
    assert result["content_key"] != key
