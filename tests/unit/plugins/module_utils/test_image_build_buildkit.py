# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""image_build with BuildKit: choosing the builder, the command line, the build secrets, reading BuildKit's
output, and build_image over a stand-in docker CLI. No Docker needed.

The 20.10 outputs below are what ``DOCKER_BUILDKIT=1 docker build --progress=plain`` (Debian's docker.io
20.10.24) printed on this machine; the buildx one follows the format buildx 0.10+ prints.
"""

from __future__ import annotations

import os
import stat
from typing import ClassVar

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils import _image_build
from ansible_collections.outerloop.docker.plugins.module_utils._domain.buildkit_log import (
    BuildKitLog,
    buildkit_failure_message,
)
from ansible_collections.outerloop.docker.plugins.module_utils._image_build import (
    LABEL_BUILD_NUMBER,
    LABEL_CONTENT_KEY,
    LABEL_REVISION,
    BuildKitBuilder,
    BuildRequest,
    ImageBuildError,
    build_image,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.buildkit import (
    BUILDX,
    DOCKER_BUILD,
    BuildKitError,
    BuildRun,
    BuildSecret,
    build_command,
    choose_builder,
    parse_secrets,
    secret_args,
    secret_flag,
    secret_masks,
)
from ansible_collections.outerloop.docker.tests.unit.plugins.module_utils import fake_module

SHA = "3f9c2a1b7d0e4c5a8b6d9e0f1a2b3c4d5e6f7a8b"
ID_A = "sha256:" + "a" * 64
ID_B = "sha256:" + "b" * 64
ID_C = "sha256:" + "c" * 64

FRESH = """#1 [internal] load build definition from Dockerfile
#1 sha256:cb036657e9cd3fa752c89d0e336748607b6d878a8c97183d4edc7600cd34823a
#1 transferring dockerfile: 436B 0.0s done
#1 DONE 0.0s

#3 [internal] load metadata for docker.io/outerloop-lab/busybox:1
#3 DONE 0.0s

#4 [build 1/4] FROM docker.io/outerloop-lab/busybox:1
#4 DONE 0.1s

#6 [build 2/4] COPY src.txt /src/src.txt
#6 DONE 0.5s

#7 [build 3/4] RUN --mount=type=cache,target=/cache,id=bk-exp ls /cache > /seen.txt; echo "hello hi"
#7 0.452 hello hi
#7 DONE 0.5s

#9 [stage-1 2/2] COPY --from=build /seen.txt /
#9 DONE 0.0s

#10 exporting to image
#10 writing image sha256:3de75873de21d045bc64b4e51ea5a80e62361d3a0297a296fe8653c10eb69ada done
#10 DONE 0.0s
"""

CACHED = """#4 [build 1/4] FROM docker.io/outerloop-lab/busybox:1
#4 DONE 0.0s

#7 [build 3/4] RUN --mount=type=cache,target=/cache,id=bk-exp ls /cache > /seen.txt; echo "hello hi"
#7 sha256:f53b2fa552f503682235a7baf8dbfd58c857838ac1b5e238266acaceeda4a534
#7 CACHED

#6 [build 2/4] COPY src.txt /src/src.txt
#6 CACHED

#9 [stage-1 2/2] COPY --from=build /seen.txt /
#9 CACHED

#10 exporting to image
#10 DONE 0.0s
"""

FAILED_2010 = """#4 [1/2] FROM docker.io/outerloop-lab/busybox:1
#4 CACHED

#5 [2/2] RUN echo about to fail && echo oops >&2 && exit 3
#5 sha256:9f0bad35b1c7b7a692b7f5f8876ff32d58fd7336c4db7eb6cc555ff9af876838
#5 0.334 about to fail
#5 0.337 oops
#5 ERROR: executor failed running [/bin/sh -c echo about to fail && echo oops >&2 && exit 3]: exit code: 3
------
 > [2/2] RUN echo about to fail && echo oops >&2 && exit 3:
------
executor failed running [/bin/sh -c echo about to fail && echo oops >&2 && exit 3]: exit code: 3
"""

FAILED_BUILDX = """#5 [2/2] RUN make test
#5 0.334 FAIL: test_api
#5 ERROR: process "/bin/sh -c make test" did not complete successfully: exit code: 2
------
 > [2/2] RUN make test:
0.334 FAIL: test_api
------
Dockerfile:2
--------------------
   1 |     FROM python:3.12-slim
   2 | >>> RUN make test
--------------------
ERROR: failed to solve: process "/bin/sh -c make test" did not complete successfully: exit code: 2
"""

NO_BASE = """#3 [internal] load metadata for docker.io/library/nosuch:1
#3 ERROR: pull access denied, repository does not exist or may require authorization
------
 > [internal] load metadata for docker.io/library/nosuch:1:
------
failed to solve with frontend dockerfile.v0: failed to create LLB definition: pull access denied
"""


# -- choosing the builder -------------------------------------------------------------------------


def test_auto_and_buildkit_use_buildx_where_it_answers_else_docker_build():
    for requested in ("auto", "buildkit"):
        assert choose_builder(requested, docker_cli="/usr/bin/docker", has_buildx=True, host="b1") == BUILDX
        assert choose_builder(requested, docker_cli="/usr/bin/docker", has_buildx=False, host="b1") == DOCKER_BUILD


def test_classic_only_when_asked_for_and_without_a_cli_buildkit_fails_naming_the_host():
    assert choose_builder("classic", docker_cli=None, has_buildx=False, host="b1") is None
    with pytest.raises(BuildKitError) as err:
        choose_builder("auto", docker_cli=None, has_buildx=False, host="build1")
    assert "not installed on build1" in str(err.value) and "builder: classic" in str(err.value)
    with pytest.raises(BuildKitError):
        choose_builder("kaniko", docker_cli="/usr/bin/docker", has_buildx=False, host="b1")


class KitModule:
    """A stand-in AnsibleModule for BuildKitCli: a docker CLI whose buildx answers or not."""

    def __init__(self, docker="/usr/bin/docker", buildx_rc=1):
        self.docker, self.buildx_rc, self.params, self.calls = docker, buildx_rc, {}, []

    def get_bin_path(self, name, required=False):
        return self.docker if name == "docker" else None

    def run_command(self, argv, environ_update=None, cwd=None):
        self.calls.append(argv)
        return (self.buildx_rc, "", "docker: 'buildx' is not a docker command.") if "buildx" in argv else (0, "", "")


def test_the_cli_asks_buildx_once_and_not_at_all_for_classic():
    from ansible_collections.outerloop.docker.plugins.module_utils._platforms.buildkit import BuildKitCli  # noqa: PLC0415

    module = KitModule(buildx_rc=0)
    assert BuildKitCli(module, "auto").build_cli == BUILDX
    assert module.calls == [["/usr/bin/docker", "buildx", "version"]]
    module = KitModule(buildx_rc=1)
    assert BuildKitCli(module, "auto").build_cli == DOCKER_BUILD
    module = KitModule(docker=None)
    assert BuildKitCli(module, "classic").build_cli is None and module.calls == []


# -- the command line ------------------------------------------------------------------------------


def test_docker_build_command_line():
    args, env = build_command(
        DOCKER_BUILD,
        context="/srv/ctx",
        dockerfile="/srv/ctx/api/Dockerfile",
        iidfile="/tmp/iid",
        labels={"b": "2", "a": "1"},
        build_args={"Z": "z", "BASE": "debian"},
        target="test",
        pull=True,
        nocache=True,
        secrets=["--secret", "id=token,src=/tmp/s"],
    )
    assert args == [
        "build", "--progress=plain", "--iidfile", "/tmp/iid", "--file", "/srv/ctx/api/Dockerfile",
        "--target", "test", "--pull", "--no-cache",
        "--build-arg", "BASE=debian", "--build-arg", "Z=z",
        "--label", "a=1", "--label", "b=2",
        "--secret", "id=token,src=/tmp/s",
        "/srv/ctx",
    ]  # fmt: skip
    assert env["DOCKER_BUILDKIT"] == "1"


def test_buildx_loads_the_image_into_the_engine_without_attestations():
    args, env = build_command(BUILDX, context="/c", dockerfile="/c/Dockerfile", iidfile="/i")
    assert args == ["buildx", "build", "--load", "--progress=plain", "--iidfile", "/i", "--file", "/c/Dockerfile", "/c"]
    assert env["BUILDX_NO_DEFAULT_ATTESTATIONS"] == "1"
    with pytest.raises(ValueError):
        build_command(None, context="/c", dockerfile="/c/Dockerfile", iidfile="/i")


# -- secrets ---------------------------------------------------------------------------------------


def test_secrets_are_checked_naming_the_entry(tmp_path):
    token = tmp_path / "token"
    token.write_text("t0ken")
    assert parse_secrets([{"id": "a", "value": "x"}, {"id": "b", "src": str(token)}], host="b1") == [
        BuildSecret(id="a", value="x"),
        BuildSecret(id="b", src=str(token)),
    ]
    bad = [
        ([{"id": "a b", "value": "x"}], "secrets[0]: id 'a b'"),
        ([{"id": "a", "value": "x"}, {"id": "a", "value": "y"}], "secrets[1]: id 'a' is given twice"),
        ([{"id": "a", "value": "x", "src": str(token)}], "exactly one of src"),
        ([{"id": "a"}], "exactly one of src"),
        ([{"id": "a", "src": str(tmp_path / "nope")}], "is not a file on b1"),
    ]
    for items, complaint in bad:
        with pytest.raises(BuildKitError) as err:
            parse_secrets(items, host="b1")
        assert complaint in str(err.value)
        assert "x" not in str(err.value).replace("exactly", "").replace("next", "")  # no value in the message


def test_a_value_lives_in_a_file_only_its_owner_reads_and_only_during_the_build(tmp_path):
    src = tmp_path / "netrc"
    src.write_text("machine x")
    secrets = [BuildSecret(id="token", value="s3cr3t-value"), BuildSecret(id="netrc", src=str(src))]
    with secret_args(secrets, str(tmp_path)) as args:
        assert args[0] == "--secret" and args[2:] == ["--secret", f"id=netrc,src={src}"]
        written = args[1].split("src=", 1)[1]
        assert args[1] == f"id=token,src={written}"
        assert os.path.dirname(written) == str(tmp_path)
        assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
        with open(written, encoding="utf-8") as handle:
            assert handle.read() == "s3cr3t-value"
        assert "s3cr3t-value" not in " ".join(args)
    assert not os.path.exists(written)
    assert src.exists()  # a src file is the user's: left alone
    with pytest.raises(RuntimeError), secret_args(secrets[:1], str(tmp_path)) as args:
        written = args[1].split("src=", 1)[1]
        raise RuntimeError("the build broke")
    assert not os.path.exists(written)


def test_a_src_with_a_comma_is_quoted_as_the_cli_reads_it():
    assert secret_flag("token", "/srv/a,b") == 'id=token,"src=/srv/a,b"'
    assert secret_flag("token", "/srv/a") == "id=token,src=/srv/a"


def test_masks_are_the_values_and_what_small_src_files_hold(tmp_path):
    src = tmp_path / "token"
    src.write_text("file-secret-123\n")
    masks = secret_masks([BuildSecret(id="a", value="v-secret"), BuildSecret(id="b", src=str(src))])
    assert "v-secret" in masks and "file-secret-123" in masks


# -- BuildKit's output --------------------------------------------------------------------------------


def test_a_fresh_build_has_steps_and_is_not_cached():
    log = BuildKitLog.parse(FRESH)
    assert [step.name for step in log.steps][:2] == [
        "[build 1/4] FROM docker.io/outerloop-lab/busybox:1",
        "[build 2/4] COPY src.txt /src/src.txt",
    ]
    assert log.cached is False
    assert log.error is None or log.failed_vertex is None
    assert not any(line.startswith("#1 sha256:") for line in log.lines)  # digests are noise
    assert "#7 0.452 hello hi" in log.tail()


def test_a_rebuild_of_the_same_source_is_cached_whatever_the_order_of_the_vertices():
    assert BuildKitLog.parse(CACHED).cached is True


def test_a_failed_step_is_named_with_the_cli_summary_and_the_output():
    log = BuildKitLog.parse(FAILED_2010)
    assert log.current_step == "[2/2] RUN echo about to fail && echo oops >&2 && exit 3"
    assert (
        log.error == "executor failed running [/bin/sh -c echo about to fail && echo oops >&2 && exit 3]: exit code: 3"
    )
    msg = buildkit_failure_message("Building a/api from /s (Dockerfile) on build1", log)
    assert msg.startswith("Building a/api from /s (Dockerfile) on build1 failed at [2/2] RUN echo about to fail")
    assert "#5 0.337 oops" in msg and "exit code: 3" in msg


def test_buildx_failures_are_read_too():
    log = BuildKitLog.parse(FAILED_BUILDX)
    assert log.current_step == "[2/2] RUN make test"
    assert log.error == 'failed to solve: process "/bin/sh -c make test" did not complete successfully: exit code: 2'


def test_a_missing_base_image_gets_a_hint_and_a_cli_without_buildx_too():
    msg = buildkit_failure_message("Building a", BuildKitLog.parse(NO_BASE))
    assert "failed at [internal] load metadata for docker.io/library/nosuch:1" in msg
    assert "The base image is neither on the build host" in msg
    # What a docker CLI 23+ without the buildx plugin prints for DOCKER_BUILDKIT=1 docker build.
    text = (
        "ERROR: BuildKit is enabled but the buildx component is missing or broken.\n"
        "       Install the buildx component to build images with BuildKit:\n"
        "       https://docs.docker.com/go/buildx/\n"
    )
    msg = buildkit_failure_message("Building a", BuildKitLog.parse(text))
    assert msg.startswith(
        "Building a failed before the first Dockerfile step: BuildKit is enabled but the buildx component is missing"
    )
    assert "docker-buildx-plugin" in msg and "builder: classic" in msg


# -- build_image with BuildKit over a stand-in CLI and engine -------------------------------------


class FakeKit:
    """A BuildKitCli stand-in: each build returns the next of ``runs`` and records its options."""

    build_cli = DOCKER_BUILD

    def __init__(self, *runs):
        self.runs = list(runs)
        self.builds = []

    def build(self, *, timeout, **options):
        self.builds.append(options)
        return self.runs.pop(0)


class FakeClient:
    def __init__(self, images=None, by_label=None, relabelled=None):
        self.images_by_ref = dict(images or {})
        self.by_label = by_label or []
        self.tagged = []
        self.relabelled = relabelled  # the image ID the engine's one-line build FROM the built image gives
        self.builds = []

    def build(self, **kwargs):
        self.builds.append(kwargs)
        yield {"stream": "Step 1/2 : FROM x\n"}
        yield {"aux": {"ID": self.relabelled}}

    def inspect_image(self, ref):
        if ref not in self.images_by_ref:
            raise _image_build.docker.errors.ImageNotFound(ref)
        return self.images_by_ref[ref]

    def images(self, filters=None):
        return self.by_label

    def tag(self, image, repository, tag, force=False):
        self.tagged.append((image, f"{repository}:{tag}"))
        self.images_by_ref[f"{repository}:{tag}"] = self.images_by_ref[image]


def image(image_id, layers=("sha256:l1",), **labels):
    return {"Id": image_id, "Config": {"Labels": labels or None}, "RootFS": {"Layers": list(layers)}, "Os": "linux"}


def request(tmp_path, **params):
    (tmp_path / "Dockerfile").write_text("FROM outerloop-lab/debian:bookworm\nARG GREETING\n")
    defaults = {
        "path": str(tmp_path),
        "dockerfile": "Dockerfile",
        "name": "sample/api",
        "tags": ["42"],
        "build_args": {"GREETING": "hi", "UNUSED": "x"},
        "target": None,
        "pull": True,
        "nocache": False,
        "labels": None,
        "revision": SHA,
        "source": None,
        "version": None,
        "created": None,
        "build_number": "42",
        "build_timeout": 600,
    }
    defaults.update(params)
    return BuildRequest.from_params(defaults)


def test_a_buildkit_build_sends_the_absolute_dockerfile_and_only_declared_args_and_tags_the_iid(tmp_path):
    kit = FakeKit(BuildRun(rc=0, output=CACHED, timed_out=False, image_id=ID_A))
    client = FakeClient({ID_A: image(ID_A, a="b")})
    result = build_image(client, request(tmp_path), builder=BuildKitBuilder(kit), host="build1")
    options = kit.builds[0]
    assert options["dockerfile"] == str(tmp_path / "Dockerfile") and options["context"] == str(tmp_path)
    assert options["build_args"] == {"GREETING": "hi"}
    assert options["labels"] == {LABEL_REVISION: SHA, LABEL_BUILD_NUMBER: "42"}
    assert options["pull"] is True
    assert client.tagged == [(ID_A, "sample/api:42")]
    assert result["builder"] == "buildkit" and result["build_cli"] == DOCKER_BUILD
    assert result["changed"] is True and result["cached"] is True
    assert result["ignored_build_args"] == ["UNUSED"]


def test_an_unchanged_buildkit_build_changes_nothing(tmp_path):
    kit = FakeKit(BuildRun(rc=0, output=CACHED, timed_out=False, image_id=ID_A))
    known = image(ID_A)
    client = FakeClient({ID_A: known, "sample/api:42": known})
    result = build_image(client, request(tmp_path), builder=BuildKitBuilder(kit))
    assert result["changed"] is False and client.tagged == []


def test_reuse_unchanged_with_buildkit_puts_the_commit_labels_on_the_built_image(tmp_path):
    # No earlier image with the content key: the engine's one-line build FROM the built image adds every label (no
    # second BuildKit build, whose cache several services building at once on a fresh host could miss).
    kit = FakeKit(BuildRun(rc=0, output=FRESH, timed_out=False, image_id=ID_A))
    client = FakeClient({ID_A: image(ID_A), ID_B: image(ID_B, **{LABEL_REVISION: SHA})}, relabelled=ID_B)
    result = build_image(client, request(tmp_path, reuse_unchanged=True, nocache=True), builder=BuildKitBuilder(kit))
    (first,) = kit.builds
    assert LABEL_REVISION not in first["labels"] and first["nocache"] is True and first["pull"] is True
    (relabel,) = client.builds
    assert relabel["fileobj"].getvalue() == f"FROM {ID_A}\n".encode()
    assert relabel["labels"][LABEL_REVISION] == SHA and relabel["labels"][LABEL_CONTENT_KEY] == result["content_key"]
    assert result["image_id"] == ID_B and result["reused"] is False
    assert client.tagged == [(ID_B, "sample/api:42")]


def test_reuse_unchanged_refuses_a_labelled_image_with_other_layers(tmp_path):
    kit = FakeKit(BuildRun(rc=0, output=FRESH, timed_out=False, image_id=ID_A))
    client = FakeClient({ID_A: image(ID_A), ID_B: image(ID_B, layers=("sha256:other",))}, relabelled=ID_B)
    with pytest.raises(ImageBuildError) as err:
        build_image(client, request(tmp_path, reuse_unchanged=True), builder=BuildKitBuilder(kit))
    assert "has other layers than the one built" in str(err.value)
    assert client.tagged == []


def test_reuse_unchanged_with_buildkit_keeps_the_earlier_image(tmp_path):
    kit = FakeKit(BuildRun(rc=0, output=CACHED, timed_out=False, image_id=ID_A))
    earlier = image(ID_C, **{LABEL_REVISION: "b" * 40})
    client = FakeClient(
        {ID_A: image(ID_A), ID_C: earlier}, by_label=[{"Id": ID_C, "RepoTags": ["sample/api:41"], "Created": 1}]
    )
    result = build_image(client, request(tmp_path, reuse_unchanged=True), builder=BuildKitBuilder(kit))
    assert len(kit.builds) == 1
    assert result["image_id"] == ID_C and result["reused"] is True
    assert result["reused_from"]["revision"] == "b" * 40


def test_a_failed_buildkit_build_names_the_step_masks_secrets_and_tags_nothing(tmp_path):
    output = FAILED_2010.replace("about to fail", "about to fail with s3cr3t-value")
    kit = FakeKit(BuildRun(rc=1, output=output, timed_out=False, image_id=None))
    client = FakeClient({})
    with pytest.raises(ImageBuildError) as err:
        build_image(client, request(tmp_path), builder=BuildKitBuilder(kit, masks=["s3cr3t-value"]), host="build1")
    assert str(err.value).startswith("Building sample/api from")
    assert " on build1" in str(err.value)
    assert "s3cr3t-value" not in str(err.value) and "with ********" in str(err.value)
    assert err.value.details["step"].startswith("[2/2] RUN echo about to fail")
    assert client.tagged == []


def test_a_buildkit_build_that_runs_too_long_says_so(tmp_path):
    kit = FakeKit(BuildRun(rc=124, output=FRESH, timed_out=True, image_id=None))
    with pytest.raises(ImageBuildError) as err:
        build_image(FakeClient({}), request(tmp_path, build_timeout=5), builder=BuildKitBuilder(kit))
    assert "timed out after 5 s" in str(err.value) and "build_timeout" in str(err.value)


# -- the module's edge -------------------------------------------------------------------------------


class BuildModule(fake_module.FakeModule):
    DEFAULTS: ClassVar[dict] = {
        "path": "/nowhere",
        "name": "a/api",
        "builds": None,
        "builder": "classic",
        "secrets": None,
        "docker_host": "unix:///x",
    }


def test_secrets_with_the_classic_builder_fail_before_building(monkeypatch):
    monkeypatch.setattr(_image_build, "require_sdk", lambda module: None)
    module = BuildModule(secrets=[{"id": "token", "value": "s3cr3t-value", "src": None}])
    with pytest.raises(fake_module.Exited):
        _image_build.run_module(module)
    assert module.failed
    assert "secrets (token) need BuildKit, and builder is classic" in module.result["msg"]
    assert "builder: auto" in module.result["msg"]
    assert "s3cr3t-value" not in str(module.result)
