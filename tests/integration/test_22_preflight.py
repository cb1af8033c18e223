"""Preflight before any build, and two CI runs at the same time on one build host (issue 13).

The registry is checked from build1 before the source is even taken: a wrong password fails in seconds
with nothing built or pushed, and an unreachable registry, an untrusted certificate and a missing stored
login each say so. Two applications built at once on build1 both pass their functional tests, each on
the port Docker picked for its run (examples/ci-sample-app.yml publishes the api on port 0).

Applications preflight-a and preflight-b, versions 9.STAMP.N and their own release directory: nothing here
touches the sample app's releases that the other tests use.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from .conftest import ROOT, on_host, playbook, sample_repo
from .test_20_ci import git, registry_digest

REGISTRY = "reg1:5000"
OUT = ROOT / "tests" / "output" / "preflight"
RELEASES = OUT / "releases"
STAMP = int(time.time()) % 100_000_000
WRONG = "not-the-password-4711"
SERVICES = ("api", "worker", "store")


def version(n: int) -> str:
    return f"9.{STAMP}.{n}"


def prefix(app: str) -> str:
    return f"outerloop/{app}"


def ci(app: str, repo: Path, ver: str, **extra):
    """outerloop.docker.ci on build1 with the sample app's inputs, as application `app`. The extra variables go
    through a file: a password on the command line would land in the run's log."""
    extra_file = OUT / f"extra-{app}-{ver}.json"
    extra_file.write_text(
        json.dumps(
            {
                "ci_application": app,
                "ci_repository_prefix": prefix(app),
                "ci_source_repo": str(repo),
                "ci_version": ver,
                "ci_release_dir": str(RELEASES),
                **extra,
            }
        )
    )
    return playbook("outerloop.docker.ci", "-e", f"@{ROOT}/examples/ci-sample-app.yml", "-e", f"@{extra_file}")


def built_on_build1(ver: str) -> list[str]:
    """The images on build1 whose OCI version label is ver."""
    images = on_host("build1", "docker", "images", "-q", "--filter", f"label=org.opencontainers.image.version={ver}")
    assert images.returncode == 0, images.stderr
    return images.stdout.split()


def assert_nothing_built_or_pushed(app: str, ver: str) -> None:
    assert built_on_build1(ver) == []
    assert all(registry_digest(f"{REGISTRY}/{prefix(app)}/{s}:{ver}") is None for s in SERVICES)
    assert not (RELEASES / f"{app}-{ver}.json").exists()


@pytest.fixture(scope="module")
def repos(provisioned_lab):
    """Two applications, each in a Git repository of its own (the sample app, the second one commit ahead)."""
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    first = sample_repo(OUT / "preflight-a", git)
    second = sample_repo(OUT / "preflight-b", git)
    readme = second / "README.md"
    readme.write_text(readme.read_text() + "\nThe second application of the preflight tests.\n")
    git(second, "commit", "-q", "-am", "the second application")
    return {"preflight-a": first, "preflight-b": second}


def test_a_wrong_password_fails_in_seconds_before_anything_is_built(repos):
    ver = version(0)
    started = time.monotonic()
    run = ci("preflight-a", repos["preflight-a"], ver, ci_registry_username="ci", ci_registry_password=WRONG)
    elapsed = time.monotonic() - started
    assert run.rc != 0, run.out[-3000:]
    assert elapsed < 10, f"the wrong password took {elapsed:.1f} s to fail"
    for part in (
        "Registry preflight on build1",
        f"registry {REGISTRY} (from host build1) rejected the credentials: user 'ci'",
        "Set ci_registry_password to the current password of ci",
        "registry_login",
        "Nothing was built or pushed",
    ):
        assert part in run.out, run.out[-3000:]
    assert "Take the commit from source control" not in run.out  # stopped before the source, let alone the build
    assert WRONG not in run.out
    assert_nothing_built_or_pushed("preflight-a", ver)


@pytest.mark.parametrize(
    ("n", "extra", "messages"),
    [
        (
            1,
            {"ci_registry": "reg1:5001"},
            [
                "cannot reach registry reg1:5001 (from host build1)",
                "connection refused",
                "Check ci_registry (reg1:5001)",
            ],
        ),
        (
            2,
            # reg1's address: no CA in /etc/docker/certs.d/172.29.77.11:5000 on build1, and not the certificate's name.
            {"ci_registry": "172.29.77.11:5000"},
            [
                "TLS certificate not trusted",
                "/etc/docker/certs.d/172.29.77.11:5000/ca.crt",
                "build1 does not trust the certificate of 172.29.77.11:5000",
                "--tags docker_host_configure --limit build1",
            ],
        ),
        (
            3,
            # An account of build1 that has no stored login: what a build user that was never logged in sees.
            {"ci_registry_user": "nobody"},
            [
                f"registry {REGISTRY} (from host build1) requires a login",
                f"/nonexistent/.docker/config.json holds none for {REGISTRY}",
                f"nobody on build1 has no login stored for {REGISTRY}",
                "--tags build_agent --limit build1",
            ],
        ),
    ],
    ids=["unreachable registry", "untrusted certificate", "no stored login"],
)
def test_each_registry_problem_has_its_own_message(repos, n, extra, messages):
    ver = version(n)
    run = ci("preflight-a", repos["preflight-a"], ver, **extra)
    assert run.rc != 0
    for message in messages:
        assert message in run.out, run.out[-3000:]
    assert "Nothing was built or pushed" in run.out
    assert built_on_build1(ver) == []


def test_two_runs_at_once_on_one_build_host_both_release(repos):
    versions = {"preflight-a": version(10), "preflight-b": version(11)}
    runs, spans = {}, {}

    def run(app: str) -> None:
        started = time.monotonic()
        runs[app] = ci(app, repos[app], versions[app])
        spans[app] = (started, time.monotonic())

    threads = [threading.Thread(target=run, args=(app,)) for app in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (a_start, a_end), (b_start, b_end) = spans["preflight-a"], spans["preflight-b"]
    assert a_start < b_end and b_start < a_end  # they ran at the same time
    for app, ver in versions.items():
        assert runs[app].rc == 0, runs[app].out[-4000:]
        release = json.loads((RELEASES / f"{app}-{ver}.json").read_text())
        assert release["application"] == app
        assert release["version"] == ver
        assert release["source"]["commit"] == git(repos[app], "rev-parse", "HEAD")
        assert release["tests"]["suites"]["functional"]["passed"] is True
        for name in SERVICES:
            digest = release["services"][name]["digest"]
            assert registry_digest(f"{REGISTRY}/{prefix(app)}/{name}:{ver}") == digest
    # Each run's application was taken down again: no compose project of these runs is left on build1.
    left = on_host("build1", "docker", "ps", "-a", "--filter", "label=com.docker.compose.project", "--format",
                   "{{.Label \"com.docker.compose.project\"}}")  # fmt: skip
    assert not [p for p in left.stdout.split() if p.startswith(("ci-preflight-a-", "ci-preflight-b-"))]
