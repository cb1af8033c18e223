# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""image_build's pure logic and its engine conversation with a stand-in client: no Docker needed.

The build chunks below are what Docker Engine 20.10's classic builder sent through the SDK's
``APIClient.build(decode=True)`` on the lab machine.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils import _image_build
from ansible_collections.outerloop.docker.plugins.module_utils._domain.build_log import tail
from ansible_collections.outerloop.docker.plugins.module_utils._image_build import (
    LABEL_BUILD_NUMBER,
    LABEL_CREATED,
    LABEL_REVISION,
    LABEL_SOURCE,
    LABEL_VERSION,
    BuildLog,
    BuildRequest,
    ImageBuildError,
    build_changed,
    build_image,
    build_refs,
    check_context,
    compute_labels,
    failure_message,
    predict_changed,
    validate_created,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import ImageRefError
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils import fake_module

SHA = "3f9c2a1b7d0e4c5a8b6d9e0f1a2b3c4d5e6f7a8b"
ID_A = "sha256:" + "a" * 64
ID_B = "sha256:" + "b" * 64

FRESH = [
    {"stream": "Step 1/4 : FROM outerloop-lab/debian:bookworm"},
    {"stream": "\n"},
    {"stream": " ---> 35d72804f7ea\n"},
    {"stream": "Step 2/4 : COPY app.txt /app/app.txt"},
    {"stream": "\n"},
    {"stream": " ---> b90e8c8435fd\n"},
    {"stream": 'Step 3/4 : RUN echo "building $GREETING" && cat /app/app.txt'},
    {"stream": "\n"},
    {"stream": " ---> Running in 53a9cf0444da\n"},
    {"stream": "building hi\n"},
    {"stream": "v1\n"},
    {"stream": "Removing intermediate container 53a9cf0444da\n"},
    {"stream": " ---> f4e6faea510f\n"},
    {"stream": "Step 4/4 : LABEL a=b"},
    {"stream": "\n"},
    {"stream": " ---> Running in 26e948848471\n"},
    {"stream": "Removing intermediate container 26e948848471\n"},
    {"stream": " ---> e292a57c4788\n"},
    {"aux": {"ID": "sha256:e292a57c478898c604242cde2c5802d87366d8d2d773db1103098a43be6c1f41"}},
    {"stream": "Successfully built e292a57c4788\n"},
]

CACHED = [
    {"stream": "Step 1/3 : FROM outerloop-lab/debian:bookworm"},
    {"stream": "\n"},
    {"stream": " ---> 35d72804f7ea\n"},
    {"stream": "Step 2/3 : ARG GREETING=hello"},
    {"stream": "\n"},
    {"stream": " ---> Using cache\n"},
    {"stream": " ---> 17f8acb72224\n"},
    {"stream": "Step 3/3 : LABEL a=b"},
    {"stream": "\n"},
    {"stream": " ---> Using cache\n"},
    {"stream": " ---> e292a57c4788\n"},
    {"aux": {"ID": ID_A}},
    {"stream": "Successfully built e292a57c4788\n"},
]

FAILED = [
    {"stream": "Step 1/2 : FROM outerloop-lab/debian:bookworm"},
    {"stream": "\n"},
    {"stream": " ---> 35d72804f7ea\n"},
    {"stream": 'Step 2/2 : RUN echo "about to fail" && echo oops >&2 && exit 3'},
    {"stream": "\n"},
    {"stream": " ---> Running in 92925b4c6c04\n"},
    {"stream": "about to fail\n"},
    {"stream": "\x1b[91moops\n\x1b[0m"},
    {"stream": "Removing intermediate container 92925b4c6c04\n"},
    {
        "errorDetail": {"code": 3, "message": "The command '/bin/sh -c exit 3' returned a non-zero code: 3"},
        "error": "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
    },
]


def read(chunks):
    log = BuildLog()
    for chunk in chunks:
        log.feed(chunk)
    log.finish()
    return log


# -- the build stream ---------------------------------------------------------------------------


def test_a_fresh_build_has_steps_an_id_and_no_cache():
    log = read(FRESH)
    assert [step.text for step in log.steps] == [
        "Step 1/4 : FROM outerloop-lab/debian:bookworm",
        "Step 2/4 : COPY app.txt /app/app.txt",
        'Step 3/4 : RUN echo "building $GREETING" && cat /app/app.txt',
        "Step 4/4 : LABEL a=b",
    ]
    assert [step.instruction for step in log.steps] == ["FROM", "COPY", "RUN", "LABEL"]
    assert log.image_id == "sha256:e292a57c478898c604242cde2c5802d87366d8d2d773db1103098a43be6c1f41"
    assert log.short_id == "e292a57c4788"
    assert log.error is None
    assert log.cached is False
    assert "building hi" in log.lines


def test_all_steps_from_cache_is_cached_but_one_rebuilt_step_is_not():
    assert read(CACHED).cached is True
    partly = [dict(chunk) for chunk in CACHED]
    partly[9] = {"stream": " ---> Running in 26e948848471\n"}  # the LABEL step ran
    assert read(partly).cached is False


def test_an_arg_before_from_prints_no_cache_line_and_does_not_count():
    global_arg = [{"stream": "Step 0/3 : ARG BASE_IMAGE=python:3.12-slim"}, {"stream": "\n"}]
    log = read(global_arg + CACHED)
    assert log.steps[0].instruction == "ARG"
    assert log.steps[0].produced is False
    assert log.cached is True


def test_a_build_of_only_from_is_not_called_cached():
    assert read(CACHED[:3]).cached is False


def test_the_failing_step_is_the_last_step_seen_and_colours_are_stripped():
    log = read(FAILED)
    assert log.current_step == 'Step 2/2 : RUN echo "about to fail" && echo oops >&2 && exit 3'
    assert log.error == "The command '/bin/sh -c exit 3' returned a non-zero code: 3"
    assert "oops" in log.lines
    assert not any("\x1b" in line for line in log.lines)
    assert log.image_id is None


def test_failure_message_names_step_error_and_output_tail():
    msg = failure_message("Building sample/api from /ctx (Dockerfile) on unix:///x", read(FAILED))
    first, *rest = msg.split("\n")
    assert first == (
        "Building sample/api from /ctx (Dockerfile) on unix:///x failed at "
        'Step 2/2 : RUN echo "about to fail" && echo oops >&2 && exit 3: '
        "The command '/bin/sh -c exit 3' returned a non-zero code: 3."
    )
    assert rest[0] == "Last 7 lines of the build output:"
    assert rest[-3:] == ["about to fail", "oops", "Removing intermediate container 92925b4c6c04"]


def test_a_failing_from_step_gets_a_hint_and_an_early_failure_says_so():
    log = read([{"stream": "Step 1/1 : FROM outerloop-lab/nonexist:1"}, {"stream": "\n"}, {"error": "no such host"}])
    assert "The base image is neither on the build host nor pullable" in failure_message("Building x", log)
    early = read([{"error": "context canceled"}])
    assert failure_message("Building x", early).startswith("Building x failed before the first Dockerfile step")


def test_lines_split_across_chunks_are_joined_and_the_last_line_is_kept():
    log = read([{"stream": "Step 1/2 : FR"}, {"stream": "OM x\n ---> a"}, {"stream": "bc\r\nno newline at end"}])
    assert list(log.lines) == ["Step 1/2 : FROM x", " ---> abc", "no newline at end"]
    assert log.steps[0].instruction == "FROM"


def test_pull_status_and_warnings_are_kept():
    log = read(
        [
            {"status": "Pulling from library/debian", "id": "bookworm"},
            {"stream": "[Warning] One or more build-args [UNUSED] were not consumed\n"},
        ]
    )
    assert list(log.lines) == [
        "bookworm: Pulling from library/debian",
        "[Warning] One or more build-args [UNUSED] were not consumed",
    ]
    assert log.warnings == ["[Warning] One or more build-args [UNUSED] were not consumed"]


def test_tail_keeps_the_last_lines():
    log = read([{"stream": "".join(f"line {n}\n" for n in range(100))}])
    assert log.tail() == [f"line {n}" for n in range(70, 100)]
    assert log.tail(2) == ["line 98", "line 99"]
    assert tail(["a", "b"], 5) == ["a", "b"]
    assert tail(["a"], 0) == []


# -- labels -------------------------------------------------------------------------------------


def test_oci_labels_from_the_options():
    labels = compute_labels(
        {"team": "core"},
        revision=SHA,
        source="https://git.example.com/sample.git",
        version="1.4.0",
        created="2026-11-26T14:00:00+01:00",
        build_number=42,
    )
    assert labels == {
        "team": "core",
        LABEL_REVISION: SHA,
        LABEL_SOURCE: "https://git.example.com/sample.git",
        LABEL_VERSION: "1.4.0",
        LABEL_CREATED: "2026-11-26T14:00:00+01:00",
        LABEL_BUILD_NUMBER: "42",
    }


def test_options_left_out_set_no_label_and_created_never_defaults_to_now():
    assert compute_labels(None, revision=SHA) == {LABEL_REVISION: SHA}
    assert compute_labels({"x": 1, "y": True}) == {"x": "1", "y": "true"}
    assert compute_labels() == {}


def test_same_inputs_give_the_same_labels():
    one = compute_labels(revision=SHA, created="2026-11-26T13:00:00Z", build_number="7")
    two = compute_labels(revision=SHA, created="2026-11-26T13:00:00Z", build_number="7")
    assert one == two


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"revision": SHA[:12]}, "not a full commit SHA"),
        ({"revision": "HEAD"}, "not a full commit SHA"),
        ({"revision": SHA.upper()}, "not a full commit SHA"),
        ({"created": "2026-11-26"}, "not an RFC 3339 date-time"),
        ({"created": "2026-11-26T14:00:00"}, "not an RFC 3339 date-time"),
        ({"created": "2026-02-30T14:00:00Z"}, "not an RFC 3339 date-time"),
        ({"version": ""}, "version is empty"),
    ],
)
def test_bad_label_inputs(kwargs, complaint):
    with pytest.raises(ImageBuildError, match=complaint):
        compute_labels(**kwargs)


def test_a_label_set_twice_must_agree():
    assert compute_labels({LABEL_REVISION: SHA}, revision=SHA) == {LABEL_REVISION: SHA}
    with pytest.raises(ImageBuildError, match="set it in one place"):
        compute_labels({LABEL_REVISION: "b" * 40}, revision=SHA)


@pytest.mark.parametrize("good", ["2026-11-26T13:00:00Z", "2026-11-26t13:00:00.123z", "2026-11-26T14:00:00-05:30"])
def test_rfc3339_accepts_git_commit_times(good):
    assert validate_created(good) == good


# -- references and context ---------------------------------------------------------------------


def test_refs_for_every_tag_without_duplicates():
    refs = build_refs("reg1:5000/sample/api", ["42", "3f9c2a1b7d0e", "42"])
    assert [str(ref) for ref in refs] == ["reg1:5000/sample/api:42", "reg1:5000/sample/api:3f9c2a1b7d0e"]
    assert [str(ref) for ref in build_refs("sample/api", [7])] == ["sample/api:7"]


@pytest.mark.parametrize(
    ("name", "tags", "complaint"),
    [
        ("sample/api:1", ["2"], "without a tag or digest"),
        ("Sample/api", ["1"], "repository component 'Sample'"),
        ("sample/api", [], "tags is empty"),
        ("sample/api", ["-x"], "tag '-x'"),
    ],
)
def test_bad_refs(name, tags, complaint):
    with pytest.raises(ImageRefError, match=complaint):
        build_refs(name, tags)


def test_context_and_dockerfile_are_checked_before_building(tmp_path):
    with pytest.raises(ImageBuildError, match=f"build context {tmp_path}/nope does not exist"):
        check_context(str(tmp_path / "nope"), "Dockerfile")
    with pytest.raises(ImageBuildError, match=f"Dockerfile {tmp_path}/Dockerfile does not exist"):
        check_context(str(tmp_path), "Dockerfile")
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text("FROM scratch\n")
    assert check_context(str(tmp_path), "docker/Dockerfile") == str(tmp_path / "docker" / "Dockerfile")
    with pytest.raises(ImageBuildError, match="must be relative"):
        check_context(str(tmp_path), "/etc/Dockerfile")


# -- changed and check mode ---------------------------------------------------------------------


def test_unchanged_only_when_every_tag_already_named_the_built_image():
    assert build_changed({"a:1": ID_A, "a:abc": ID_A}, ID_A) is False
    assert build_changed({"a:1": ID_B, "a:abc": ID_A}, ID_A) is True  # the first tag moved
    assert build_changed({"a:1": ID_A, "a:abc": None}, ID_A) is True  # a new tag
    assert build_changed({"a:1": None}, ID_A) is True
    assert build_changed({}, ID_A) is True


def test_check_mode_predicts_no_change_only_for_the_same_revision_and_build_number():
    wanted = {LABEL_REVISION: SHA, LABEL_BUILD_NUMBER: "42", "x": "y"}
    same = {LABEL_REVISION: SHA, LABEL_BUILD_NUMBER: "42"}
    assert predict_changed({"a:42": (ID_A, same), "a:abc": (ID_A, same)}, wanted) is False
    assert predict_changed({"a:42": (ID_A, same), "a:abc": None}, wanted) is True
    assert predict_changed({"a:42": (ID_A, {**same, LABEL_BUILD_NUMBER: "41"})}, wanted) is True
    assert predict_changed({"a:42": (ID_A, {**same, LABEL_REVISION: "b" * 40})}, wanted) is True
    assert predict_changed({"a:42": (ID_A, same), "a:abc": (ID_B, same)}, wanted) is True  # two images
    assert predict_changed({"a:42": (ID_A, same)}, {"x": "y"}) is True  # no revision: no prediction
    assert predict_changed({"a:42": (ID_A, {LABEL_REVISION: SHA})}, {LABEL_REVISION: SHA}) is False


# -- build_image with a stand-in engine ---------------------------------------------------------


class FakeClient:
    def __init__(self, chunks, images=None):
        self.chunks = chunks
        self.images = dict(images or {})  # reference or id -> inspect dict
        self.tagged = []
        self.built = None
        self.closed = False

    def inspect_image(self, ref):
        if ref not in self.images:
            raise _image_build.docker.errors.ImageNotFound(ref)
        return self.images[ref]

    def build(self, **kwargs):
        self.built = kwargs
        yield from self.chunks

    def tag(self, image, repository, tag, force=False):
        self.tagged.append((image, f"{repository}:{tag}", force))
        self.images[f"{repository}:{tag}"] = self.images[image]

    def close(self):
        self.closed = True


def request(tmp_path, **params):
    (tmp_path / "Dockerfile").write_text("FROM outerloop-lab/debian:bookworm\nARG GREETING\n")
    defaults = {
        "path": str(tmp_path),
        "dockerfile": "Dockerfile",
        "name": "sample/api",
        "tags": ["42", "3f9c2a1b7d0e"],
        "build_args": {"GREETING": "hi"},
        "target": None,
        "pull": False,
        "nocache": False,
        "labels": None,
        "revision": SHA,
        "source": None,
        "version": None,
        "created": None,
        "build_number": "42",
        "build_timeout": 3600,
    }
    defaults.update(params)
    return BuildRequest.from_params(defaults)


def image(image_id, **labels):
    return {"Id": image_id, "Config": {"Labels": labels or None}}


def test_first_build_tags_every_ref_and_reports_a_change(tmp_path):
    client = FakeClient(CACHED, {ID_A: image(ID_A, a="b")})
    result = build_image(client, request(tmp_path), docker_host="unix:///x")
    assert result["changed"] is True
    assert result["image_id"] == ID_A
    assert result["tags"] == ["sample/api:42", "sample/api:3f9c2a1b7d0e"]
    assert client.tagged == [(ID_A, "sample/api:42", True), (ID_A, "sample/api:3f9c2a1b7d0e", True)]
    assert result["cached"] is True
    assert result["labels"] == {"a": "b"}
    assert client.built["labels"] == {LABEL_REVISION: SHA, LABEL_BUILD_NUMBER: "42"}
    assert client.built["buildargs"] == {"GREETING": "hi"}
    assert client.built["rm"] is client.built["forcerm"] is client.built["decode"] is True


def test_a_rebuild_to_the_same_id_changes_nothing_and_tags_nothing(tmp_path):
    known = image(ID_A)
    images = {ID_A: known, "sample/api:42": known, "sample/api:3f9c2a1b7d0e": known}
    client = FakeClient(CACHED, images)
    result = build_image(client, request(tmp_path))
    assert result["changed"] is False
    assert client.tagged == []


def test_a_failed_build_raises_with_step_and_tail_and_tags_nothing(tmp_path):
    client = FakeClient(FAILED, {})
    with pytest.raises(ImageBuildError) as err:
        build_image(client, request(tmp_path), docker_host="unix:///x")
    assert "failed at Step 2/2 : RUN" in str(err.value)
    assert err.value.details["step"].startswith("Step 2/2 : RUN")
    assert err.value.details["log_tail"][-1] == "Removing intermediate container 92925b4c6c04"
    assert client.tagged == []


def test_check_mode_builds_nothing(tmp_path):
    same = image(ID_A, **{LABEL_REVISION: SHA, LABEL_BUILD_NUMBER: "42"})
    client = FakeClient(FAILED, {"sample/api:42": same, "sample/api:3f9c2a1b7d0e": same})
    result = build_image(client, request(tmp_path), check_mode=True)
    assert client.built is None
    assert result["changed"] is False
    assert result["image_id"] == ID_A
    result = build_image(client, request(tmp_path, build_number="43"), check_mode=True)
    assert result["changed"] is True
    assert result["image_id"] is None


# -- several builds in one task (builds) ---------------------------------------------------------


class BuildsModule(fake_module.FakeModule):
    DEFAULTS: ClassVar[dict] = {
        "path": None,
        "name": None,
        "dockerfile": "Dockerfile",
        "tags": ["42"],
        "build_args": {"SHARED": "1", "BASE": "debian"},
        "labels": None,
        "parallel": 4,
        "builder": "classic",
        "secrets": None,
    }

    def __init__(self, **params):
        super().__init__(**params)
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)


def test_an_entry_of_builds_adds_its_build_args_to_the_shared_ones():
    params = dict(BuildsModule.DEFAULTS, builds=None)
    item = _image_build.merged_build_params(
        params, {"path": "/s", "name": "a/store", "dockerfile": None, "build_args": {"BASE": "alpine"}, "labels": None}
    )
    assert item["build_args"] == {"SHARED": "1", "BASE": "alpine"}
    assert item["dockerfile"] == "Dockerfile"
    assert item["path"] == "/s"
    assert "builds" not in item


def test_builds_run_every_build_and_keep_their_order(monkeypatch):
    seen = []

    def one(params, check_mode, builders=None):
        seen.append(params["name"])
        return {"changed": params["name"] == "a/worker", "image_id": f"id-{params['name']}", "warnings": ["slow"]}

    monkeypatch.setattr(_image_build, "require_sdk", lambda module: None)
    monkeypatch.setattr(_image_build, "_build_one", one)
    module = BuildsModule(
        builds=[{"path": "/s", "name": "a/api"}, {"path": "/s", "name": "a/worker", "dockerfile": "w/Dockerfile"}]
    )
    with pytest.raises(fake_module.Exited):
        _image_build.run_module(module)
    assert not module.failed
    assert sorted(seen) == ["a/api", "a/worker"]
    assert module.result["changed"] is True
    assert [r["image_id"] for r in module.result["results"]] == ["id-a/api", "id-a/worker"]
    assert [r["dockerfile"] for r in module.result["results"]] == ["Dockerfile", "w/Dockerfile"]
    assert all(r["failed"] is False for r in module.result["results"])
    assert module.warnings == ["a/api: slow", "a/worker: slow"]


def test_a_failed_build_fails_the_task_naming_it_after_the_others_finished(monkeypatch, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    monkeypatch.setattr(_image_build, "require_sdk", lambda module: None)

    class Session:
        def __init__(self, params):
            self.client = FakeClient(FAILED if params["name"] == "a/worker" else CACHED, {ID_A: image(ID_A)})

        def __enter__(self):
            return self.client

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(_image_build, "engine_session", Session)
    builds = [{"path": str(tmp_path), "name": name} for name in ("a/api", "a/worker", "a/store")]
    unset = dict.fromkeys(("revision", "source", "version", "created", "build_number", "target"))
    module = BuildsModule(builds=builds, pull=False, nocache=False, build_timeout=60, docker_host="unix:///x", **unset)
    with pytest.raises(fake_module.Exited):
        _image_build.run_module(module)
    assert module.failed
    assert module.result["msg"].startswith("1 of 3 builds failed: [a/worker] Building a/worker")
    results = module.result["results"]
    assert [r["failed"] for r in results] == [False, True, False]
    assert results[0]["image_id"] == ID_A and results[2]["image_id"] == ID_A
    assert results[1]["step"].startswith("Step 2/2 : RUN")
    assert module.result["changed"] is True
