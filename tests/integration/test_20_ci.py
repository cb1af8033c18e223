"""The CI half on the lab: the sample application from its own Git repository to a release manifest.

Each case runs outerloop.docker.ci as a user would, then looks at the real registry (through
registry_image_info on the build host), the controller's files and a deploy host's engine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import ROOT, VENV_BIN, ansible_env, on_host, playbook, sample_repo

REGISTRY = "reg1:5000"
PREFIX = "outerloop/sample-app"
SERVICES = ("api", "worker", "store")
OUT = ROOT / "tests" / "output" / "ci"
RELEASES = OUT / "releases"
# Versions unique to this session: the lab registry may hold releases of earlier sessions.
MINOR = int(time.time()) % 100_000_000
GIT_ENV = {
    "GIT_AUTHOR_NAME": "outerloop tests",
    "GIT_AUTHOR_EMAIL": "tests@outerloop.invalid",
    "GIT_COMMITTER_NAME": "outerloop tests",
    "GIT_COMMITTER_EMAIL": "tests@outerloop.invalid",
}


def version(patch: int) -> str:
    return f"1.{MINOR}.{patch}"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    ).stdout.strip()


def commit_on_branch(repo: Path, branch: str, edit) -> str:
    """Make `branch` from main with one change; returns its commit."""
    git(repo, "checkout", "-q", "-B", branch, "main")
    edit(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{branch}: a change for the tests")
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    return sha


def ci(repo: Path, ver: str, *extra: str):
    return playbook(
        "outerloop.docker.ci",
        "-e",
        f"@{ROOT}/examples/ci-sample-app.yml",
        "-e",
        json.dumps({"ci_source_repo": str(repo), "ci_version": ver, "ci_release_dir": str(RELEASES)}),
        *extra,
    )


def registry_digest(image: str) -> str | None:
    """The digest the registry holds for image (REPO:TAG), or None; looked up without pulling."""
    proc = subprocess.run(
        [str(VENV_BIN / "ansible"), "build1", "-o", "-m", "outerloop.docker.registry_image_info",
         "-a", f"image={image} user=builder"],
        cwd=ROOT, env=ansible_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    line = next((x for x in proc.stdout.splitlines() if x.startswith("build1 |")), "")
    assert proc.returncode == 0 and "=>" in line, proc.stdout + proc.stderr
    result = json.loads(line.split("=>", 1)[1])
    return result["digest"] if result["exists"] else None


def manifest(ver: str) -> Path:
    return RELEASES / f"sample-app-{ver}.json"


@pytest.fixture(scope="module")
def lab_ready(provisioned_lab):
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)


@pytest.fixture(scope="module")
def repo(lab_ready):
    """The sample application in a Git repository of its own, as the pipeline expects."""
    return sample_repo(OUT / "sample-app", git)


@pytest.fixture(scope="module")
def first(repo):
    return ci(repo, version(0))


def test_pipeline_publishes_every_image_and_writes_the_release(first, repo):
    assert first.rc == 0, first.out[-4000:]
    commit = git(repo, "rev-parse", "HEAD")
    release = json.loads(manifest(version(0)).read_text())
    assert release["source"]["commit"] == commit
    assert release["tests"]["passed"] is True
    assert release["tests"]["suites"]["unit"]["tests"] > 0
    assert release["tests"]["suites"]["functional"]["tests"] > 0
    assert sorted(release["services"]) == sorted(SERVICES)
    for name in SERVICES:
        service = release["services"][name]
        assert service["image"] == f"{REGISTRY}/{PREFIX}/{name}@{service['digest']}"
        assert registry_digest(f"{REGISTRY}/{PREFIX}/{name}:{version(0)}") == service["digest"]
    # The floating tags follow the newest release.
    api = release["services"]["api"]["digest"]
    assert registry_digest(f"{REGISTRY}/{PREFIX}/api:latest") == api
    assert registry_digest(f"{REGISTRY}/{PREFIX}/api:1.{MINOR}") == api
    junit = list((RELEASES / "junit" / commit[:12]).rglob("*.xml"))
    assert len(junit) == 3, junit  # api and worker unit tests, functional tests
    assert "password" not in manifest(version(0)).read_text().lower()


def test_a_deploy_host_pulls_the_release_by_digest(first, repo):
    release = json.loads(manifest(version(0)).read_text())
    image = release["services"]["api"]["image"]
    assert on_host("qa1", "docker", "pull", image).returncode == 0
    label = on_host(
        "qa1",
        "docker",
        "image",
        "inspect",
        "--format",
        '{{ index .Config.Labels "org.opencontainers.image.revision" }}',
        image,
    )
    assert label.stdout.strip() == git(repo, "rev-parse", "HEAD")


def test_second_run_on_the_same_commit_changes_nothing(first, repo):
    before = manifest(version(0)).read_bytes()
    run = ci(repo, version(0))
    assert run.rc == 0, run.out[-3000:]
    assert run.changed() == {"build1": 0}
    assert manifest(version(0)).read_bytes() == before


def test_failing_unit_test_stops_before_anything_is_pushed(first, repo):
    def break_unit_test(path: Path) -> None:
        test = path / "tests" / "unit" / "worker" / "test_worker.py"
        test.write_text(test.read_text().replace('"result": "OLLEH"', '"result": "HELLO"'))

    commit_on_branch(repo, "broken-unit", break_unit_test)
    run = ci(repo, version(1), "-e", "ci_source_ref=broken-unit")
    assert run.rc != 0
    assert "unit tests of service worker failed" in run.out
    assert "test_does_a_queued_job" in run.out or "WorkerTests" in run.out, run.out[-3000:]
    assert "nothing was tagged or pushed" in run.out
    assert not manifest(version(1)).exists()
    assert all(registry_digest(f"{REGISTRY}/{PREFIX}/{s}:{version(1)}") is None for s in SERVICES)


def test_failing_functional_test_stops_before_anything_is_pushed(first, repo):
    def break_functional_test(path: Path) -> None:
        test = path / "tests" / "functional" / "test_app.py"
        test.write_text(test.read_text().replace("return payload[::-1].upper()", "return payload[::-1].lower()"))

    commit_on_branch(repo, "broken-functional", break_functional_test)
    run = ci(repo, version(2), "-e", "ci_source_ref=broken-functional")
    assert run.rc != 0
    assert "functional tests failed" in run.out
    assert "test_job_is_done_by_the_worker" in run.out, run.out[-3000:]
    assert not manifest(version(2)).exists()
    assert all(registry_digest(f"{REGISTRY}/{PREFIX}/{s}:{version(2)}") is None for s in SERVICES)


@pytest.mark.parametrize(
    ("patch", "extra", "messages"),
    [
        (11, {"ci_source_ref": "no-such-branch"}, ["ci_source_ref: 'no-such-branch' is not a commit"]),
        (12, {"ci_version": "1.0"}, ["ci_version '1.0' on build1: is not a SemVer 2.0 version"]),
        (13, {"ci_registry": "reg9.invalid:5000"}, ["reg9.invalid:5000"]),
        (
            14,
            {"ci_registry_username": "ci", "ci_registry_password": "not-the-password-0815"},
            [REGISTRY, "registry_login"],
        ),
    ],
    ids=["unknown ref", "invalid version", "unreachable registry", "wrong registry password"],
)
def test_bad_inputs_fail_clearly_and_push_nothing(first, repo, patch, extra, messages):
    ver = version(patch)
    # Through a file: a password on the command line would land in the run's log.
    extra_file = OUT / f"extra-{patch}.json"
    extra_file.write_text(json.dumps({"ci_version": ver, **extra}))
    run = ci(repo, ver, "-e", f"@{extra_file}")
    assert run.rc != 0
    for message in messages:
        assert message in run.out, run.out[-3000:]
    assert "not-the-password-0815" not in run.out
    assert not manifest(extra.get("ci_version", ver)).exists()
    assert all(registry_digest(f"{REGISTRY}/{PREFIX}/{s}:{ver}") is None for s in SERVICES)


def test_missing_dockerfile_names_the_path(first, repo):
    commit_on_branch(repo, "no-dockerfile", lambda p: (p / "worker" / "Dockerfile").unlink())
    run = ci(repo, version(3), "-e", "ci_source_ref=no-dockerfile")
    assert run.rc != 0
    assert "worker/Dockerfile" in run.out, run.out[-3000:]
    assert not manifest(version(3)).exists()


def test_dockerfile_failing_at_a_step_names_the_step(first, repo):
    def break_build(path: Path) -> None:
        dockerfile = path / "worker" / "Dockerfile"
        lines = dockerfile.read_text().splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("FROM")) + 1
        lines.insert(at, "RUN test -e /no-such-file-outerloop")
        dockerfile.write_text("\n".join(lines) + "\n")

    commit_on_branch(repo, "bad-step", break_build)
    run = ci(repo, version(4), "-e", "ci_source_ref=bad-step")
    assert run.rc != 0
    assert "RUN test -e /no-such-file-outerloop" in run.out, run.out[-3000:]
    assert not manifest(version(4)).exists()
    assert registry_digest(f"{REGISTRY}/{PREFIX}/worker:{version(4)}") is None


def test_republishing_a_version_with_other_digests_is_refused(first, repo):
    def change_api(path: Path) -> None:
        app = path / "api" / "app.py"
        app.write_text(app.read_text() + "\n# a change that makes another image\n")

    commit_on_branch(repo, "changed-api", change_api)
    before = registry_digest(f"{REGISTRY}/{PREFIX}/api:{version(0)}")
    # The controller's release manifest refuses it before any work...
    run = ci(repo, version(0), "-e", "ci_source_ref=changed-api")
    assert run.rc != 0
    assert f"ci_version {version(0)} of sample-app was already released from commit" in run.out, run.out[-3000:]
    assert before in run.out
    # ...and without that manifest (another controller), the registry's release tags refuse it.
    elsewhere = OUT / "other-controller"
    run = ci(repo, version(0), "-e", "ci_source_ref=changed-api", "-e", f"ci_release_dir={elsewhere}")
    assert run.rc != 0
    assert version(0) in run.out and before in run.out, run.out[-3000:]
    assert not (elsewhere / f"sample-app-{version(0)}.json").exists()
    assert registry_digest(f"{REGISTRY}/{PREFIX}/api:{version(0)}") == before


def test_a_dirty_working_tree_is_refused_unless_allowed(first, repo):
    readme = repo / "README.md"
    original = readme.read_text()
    readme.write_text(original + "\nuncommitted\n")
    try:
        run = ci(repo, version(5))
        assert run.rc != 0
        assert "has uncommitted changes (M README.md)" in run.out, run.out[-3000:]
        assert "ci_allow_dirty" in run.out
        assert not manifest(version(5)).exists()
    finally:
        readme.write_text(original)
