"""image_build with BuildKit on the build host: a cache mount, a multi-stage build, build secrets that leak
nowhere, an unchanged build that changes nothing, the classic builder when asked for, and a failing step.

One playbook run (tests/integration/files/buildkit/build.yml, at -vvv) builds every case on build1, one
after another, and keeps each result; the tests then look at the results, the images on build1 and the
run's whole output.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid

import pytest

from .conftest import ROOT, on_host, playbook

FILES = ROOT / "tests" / "integration" / "files" / "buildkit"
OUT = ROOT / "tests" / "output" / "buildkit"
BUILD_DIR = "/srv/outerloop-test-buildkit"
APP = "outerloop-test/buildkit-app"
STAGE = "outerloop-test/buildkit-stage"
CLASSIC = "outerloop-test/buildkit-classic"
BROKEN = "outerloop-test/buildkit-broken"
# Unique to this session: the cache mount and the build host keep what earlier sessions left.
RUN_ID = uuid.uuid4().hex[:12]
TOKEN = f"tok-{uuid.uuid4().hex}"
FILE_TOKEN = f"ftok-{uuid.uuid4().hex}"
SECRETS = [{"id": "token", "value": TOKEN}, {"id": "file_token", "src": f"{BUILD_DIR}/file_token"}]


def revision(number: int) -> str:
    return hashlib.sha1(f"{RUN_ID}-{number}".encode()).hexdigest()


def source(number: int) -> str:
    return f"line-{RUN_ID}-{number}"


STEPS = [
    # BuildKit (builder auto): a first build, a changed source line, the same again, the same content at
    # the next commit (reuse_unchanged keeps the image), the build stage alone.
    {"id": "first", "source": source(1), "name": APP, "revision": revision(1), "build_number": "1",
     "secrets": SECRETS},
    {"id": "changed", "source": source(2), "name": APP, "revision": revision(2), "build_number": "2",
     "secrets": SECRETS},
    {"id": "again", "source": source(2), "name": APP, "revision": revision(2), "build_number": "2",
     "secrets": SECRETS},
    {"id": "next_commit", "source": source(2), "name": APP, "revision": revision(3), "build_number": "3",
     "secrets": SECRETS},
    {"id": "stage", "source": source(2), "name": STAGE, "target": "build", "revision": revision(3),
     "build_number": "3", "secrets": SECRETS},
    # The classic builder, when asked for; not with secrets.
    {"id": "classic", "source": source(2), "name": CLASSIC, "dockerfile": "Dockerfile.classic",
     "builder": "classic", "revision": revision(3), "build_number": "3"},
    {"id": "classic_again", "source": source(2), "name": CLASSIC, "dockerfile": "Dockerfile.classic",
     "builder": "classic", "revision": revision(3), "build_number": "3"},
    {"id": "classic_secret", "source": source(2), "name": CLASSIC, "dockerfile": "Dockerfile.classic",
     "builder": "classic", "revision": revision(3), "build_number": "3", "secrets": SECRETS},
    # A step that fails.
    {"id": "broken", "source": source(2), "name": BROKEN, "dockerfile": "Dockerfile.broken",
     "revision": revision(3), "build_number": "3"},
]  # fmt: skip


@pytest.fixture(scope="module")
def built(provisioned_lab):
    """(the playbook run at -vvv, {step id: image_build's result})."""
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    # The images of an earlier session (left for a look after it) go; the cache mount stays.
    on_host("build1", "sh", "-c", "docker images -q 'outerloop-test/buildkit-*' | sort -u | xargs -r docker rmi -f")
    extra = OUT / "vars.json"  # through a file: the secrets stay off the command line
    extra.write_text(
        json.dumps({"bk_steps": STEPS, "bk_file_token": FILE_TOKEN, "bk_result_file": str(OUT / "results.json")})
    )
    run = playbook(str(FILES / "build.yml"), "-vvv", "-e", f"@{extra}")
    extra.unlink()
    assert run.rc == 0, run.out[-4000:]
    return run, json.loads((OUT / "results.json").read_text())


def in_image(image: str, *cmd: str):
    return on_host("build1", "docker", "run", "--rm", image, *cmd)


def test_buildkit_is_the_default_and_sets_the_oci_labels(built):
    results = built[1]
    first = results["first"]
    assert first.get("image_id"), first.get("msg")  # (failed_when: false in the playbook)
    assert first["builder"] == "buildkit"
    # Debian's docker.io 20.10 CLI on the lab's build host has no buildx plugin.
    assert first["build_cli"] == "DOCKER_BUILDKIT=1 docker build"
    assert first["changed"] is True
    labels = first["labels"]
    assert labels["org.opencontainers.image.revision"] == revision(1)
    assert labels["org.opencontainers.image.created"] == "2026-12-01T12:00:00Z"
    assert labels["io.outerloop.build-number"] == "1"
    assert labels["org.example.fixture"] == "buildkit"
    assert first["tags"] == [f"{APP}:build-1"]
    inspect = on_host("build1", "docker", "image", "inspect", "--format", "{{.Id}}", f"{APP}:build-1")
    assert inspect.stdout.strip() == first["image_id"]


def test_a_cache_mount_keeps_what_the_build_before_wrote(built):
    results = built[1]
    changed = results["changed"]
    assert changed.get("image_id"), changed.get("msg")  # (failed_when: false in the playbook)
    assert changed["changed"] is True and changed["image_id"] != results["first"]["image_id"]
    assert in_image(f"{APP}:build-2", "cat", "/app/source.txt").stdout.strip() == source(2)
    seen = in_image(f"{APP}:build-2", "cat", "/app/cache-before.txt").stdout
    assert source(1) in seen, seen  # written into the cache mount by the first build
    assert source(1) not in in_image(f"{APP}:build-1", "cat", "/app/cache-before.txt").stdout


def test_a_multi_stage_build_keeps_only_the_final_stage(built):
    results = built[1]
    assert in_image(f"{APP}:build-2", "test", "-e", "/src/build-stage-only.txt").returncode != 0
    assert in_image(f"{APP}:build-2", "test", "-s", "/app/token.sha256").returncode == 0
    stage = results["stage"]
    assert stage.get("image_id"), stage.get("msg")  # (failed_when: false in the playbook)
    assert in_image(f"{STAGE}:build-3", "cat", "/src/build-stage-only.txt").stdout.strip() == "only in the build stage"
    assert "org.example.fixture" not in stage["labels"]  # a label of the final stage


def test_an_unchanged_build_changes_nothing_and_the_next_commit_keeps_the_image(built):
    results = built[1]
    again, changed, following = results["again"], results["changed"], results["next_commit"]
    assert again["changed"] is False
    assert again["image_id"] == changed["image_id"]
    assert again["cached"] is True
    # reuse_unchanged: the same content at the next commit keeps the image (and so its digest) of commit 2.
    assert following["reused"] is True
    assert following["image_id"] == changed["image_id"]
    assert following["reused_from"]["revision"] == revision(2)
    assert following["changed"] is True  # it got the tag build-3
    assert following["tags"] == [f"{APP}:build-3"]


def test_the_secrets_reach_the_build_and_nothing_else(built):
    run, results = built
    # The build saw them: their hashes are in the image.
    assert (
        in_image(f"{APP}:build-2", "cat", "/app/token.sha256").stdout.strip()
        == hashlib.sha256(TOKEN.encode()).hexdigest()
    )
    assert (
        in_image(f"{APP}:build-2", "cat", "/app/file_token.sha256").stdout.strip()
        == hashlib.sha256(FILE_TOKEN.encode()).hexdigest()
    )
    for image in (f"{APP}:build-2", f"{STAGE}:build-3"):
        # Not in any layer or the configuration: the saved image holds neither value.
        saved = on_host("build1", "sh", "-c", f"docker save {image} | grep -a -c -F -e {TOKEN} -e {FILE_TOKEN}")
        assert saved.stdout.strip() == "0", (image, saved.stdout, saved.stderr)
        history = on_host("build1", "docker", "history", "--no-trunc", image)
        assert history.returncode == 0 and "# buildkit" in history.stdout, history.stdout
        assert TOKEN not in history.stdout and FILE_TOKEN not in history.stdout
    # The build stage's history has the step that read them, not what it read.
    stage_history = on_host("build1", "docker", "history", "--no-trunc", f"{STAGE}:build-3").stdout
    assert 'echo "the token is $(cat /run/secrets/token)' in stage_history, stage_history
    # Not in the output at -vvv, although a build step printed them: masked in log_tail.
    assert TOKEN not in run.out and FILE_TOKEN not in run.out
    assert "the token is ********, the file token ********" in "\n".join(results["first"]["log_tail"])
    # The value's temporary file is gone.
    left = on_host("build1", "sh", "-c", f"grep -rlF -e {TOKEN} /tmp /var/tmp /root/.ansible 2>/dev/null")
    assert left.stdout.strip() == ""


def test_the_classic_builder_when_asked_for_and_never_with_secrets(built):
    results = built[1]
    classic, again, refused = results["classic"], results["classic_again"], results["classic_secret"]
    assert classic.get("image_id"), classic.get("msg")  # (failed_when: false in the playbook)
    assert classic["builder"] == "classic" and classic["build_cli"] is None
    assert classic["labels"]["org.opencontainers.image.revision"] == revision(3)
    assert any(line.startswith("Step 3/4 : COPY source.txt") for line in classic["log_tail"]), classic["log_tail"]
    assert again["changed"] is False and again["image_id"] == classic["image_id"]
    # (failed_when: false in the playbook, so the failure shows as its message and no image)
    assert "image_id" not in refused
    assert "need BuildKit, and builder is classic" in refused["msg"] and "builder: auto" in refused["msg"]


def test_a_failing_step_is_named_with_its_output_and_the_host(built):
    results = built[1]
    broken = results["broken"]
    assert "image_id" not in broken  # failed (failed_when: false in the playbook keeps the run going)
    msg = broken["msg"]
    assert f"Building {BROKEN} from {BUILD_DIR}/context (Dockerfile.broken) on build1" in msg, msg
    assert "test -e /no-such-file-outerloop" in broken["step"], broken["step"]
    assert "exit code: 1" in msg
    assert "about to fail" in msg  # the step's own output, in the tail
    assert on_host("build1", "docker", "image", "inspect", f"{BROKEN}:build-3").returncode != 0
