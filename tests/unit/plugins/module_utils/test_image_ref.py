"""Image references: one parser, Docker's rules."""

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRef,
    ImageRefError,
    digest_in,
    parse_image_ref,
    repo_digest,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("busybox", ImageRef("", "busybox")),
        ("library/busybox:1.36", ImageRef("", "library/busybox", "1.36")),
        ("reg1:5000/outerloop/api:42", ImageRef("reg1:5000", "outerloop/api", "42")),
        ("localhost/app", ImageRef("localhost", "app")),
        ("registry.example.com/team/app@" + DIGEST, ImageRef("registry.example.com", "team/app", "", DIGEST)),
        ("reg1:5000/app:1.0@" + DIGEST, ImageRef("reg1:5000", "app", "1.0", DIGEST)),
        ("[::1]:5000/app:v1", ImageRef("[::1]:5000", "app", "v1")),
        ("my_team/app-name__x.y", ImageRef("", "my_team/app-name__x.y")),
    ],
)
def test_parse(text, expected):
    ref = parse_image_ref(text)
    assert ref == expected
    assert str(ref) == text


def test_registry_host_defaults_to_docker_hub():
    assert parse_image_ref("busybox").registry_host == "docker.io"
    assert parse_image_ref("reg1:5000/busybox").registry_host == "reg1:5000"


def test_with_tag_and_digest_replace_each_other():
    ref = parse_image_ref("reg1:5000/outerloop/api:42")
    assert str(ref.with_digest(DIGEST)) == "reg1:5000/outerloop/api@" + DIGEST
    assert str(ref.with_digest(DIGEST).with_tag("1.0.0")) == "reg1:5000/outerloop/api:1.0.0"
    assert ref.name == "reg1:5000/outerloop/api"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "empty"),
        (" app", "surrounding spaces"),
        ("App/x", "repository component 'App'"),
        ("reg1:5000/Team/app", "repository component 'Team'"),
        ("app:-bad", "tag '-bad'"),
        ("app:" + "x" * 129, "tag"),
        ("app@sha256:abc", "digest 'sha256:abc'"),
        ("app@md5:" + "a" * 64, "digest"),
        ("reg-:5000/app", "registry 'reg-:5000'"),
        ("team//app", "repository component ''"),
    ],
)
def test_invalid_references_name_the_problem(text, complaint):
    with pytest.raises(ImageRefError) as err:
        parse_image_ref(text)
    assert complaint in str(err.value)


def test_with_tag_validates():
    with pytest.raises(ImageRefError, match="tag 'a b'"):
        parse_image_ref("app").with_tag("a b")


API = "sha256:" + "a1" * 32
WORKER = "sha256:" + "b2" * 32
OTHER = "sha256:" + "c3" * 32


def test_image_digest_prefers_the_release_repository():
    digests = [f"docker.io/library/busybox@{OTHER}", f"reg1:5000/sample/api@{API}"]
    assert repo_digest(digests, "reg1:5000/sample/api") == API
    assert repo_digest(digests, None, "reg1:5000/sample/api:1.4.0") == API
    assert repo_digest(digests, None, "busybox:latest") == OTHER  # docker.io/library/ normalised


def test_image_digest_falls_back_to_the_reference_then_a_single_entry():
    assert repo_digest([], "reg1:5000/sample/api", f"reg1:5000/sample/api@{API}") == API
    assert repo_digest([f"reg1:5000/sample/worker@{WORKER}"], "reg1:5000/sample/api", "x:1") == WORKER
    assert repo_digest([], "reg1:5000/sample/api", "api:dev") is None  # built on the host, never pushed


def test_repo_digest_names_no_digest_it_cannot_tell():
    # Two entries, neither of the repository asked for nor of the reference's: no guess.
    digests = ["reg1:5000/other/api@" + OTHER, "reg1:5000/app/api@" + API]
    assert repo_digest(digests, config_image="reg1:5000/app/api@" + API) == API
    assert repo_digest(digests, config_image="reg1:5000/nope/x:1") is None
    assert repo_digest([], config_image="x") is None


def test_digest_in_reads_only_a_pinned_reference():
    assert digest_in("reg1:5000/app/api:1.0@" + API) == API
    assert digest_in("reg1:5000/app/api:1.0") is None
    assert digest_in("x@sha256:short") is None
    assert digest_in(None) is None
