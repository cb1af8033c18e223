"""The releases the CD tests deploy (test_30 to the compose hosts, test_50 to the swarm), made once per session."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from .conftest import ROOT, playbook, sample_repo
from .test_20_ci import git

OUT = ROOT / "tests" / "output" / "cd"
RELEASES = OUT / "releases"
MINOR = int(time.time()) % 100_000_000
ADDRESSES = {"qa1": "172.29.77.21", "staging1": "172.29.77.31", "prod1": "172.29.77.41", "prod2": "172.29.77.42"}
# A bug that CI cannot see: the new api only knows the environments "dev" and "ci", so its
# /healthz fails wherever APP_ENVIRONMENT names another one (every inventory sets it).
BROKEN_FROM = "            if store.ping(timeout=2.0):"
BROKEN_TO = '            if store.ping(timeout=2.0) and os.environ.get("APP_ENVIRONMENT", "dev") in ("dev", "ci"):'


def version(patch: int) -> str:
    return f"2.{MINOR}.{patch}"


def manifest_path(patch: int) -> Path:
    return RELEASES / f"sample-app-{version(patch)}.json"


def release(patch: int) -> dict:
    return json.loads(manifest_path(patch).read_text())


@pytest.fixture(scope="session")
def releases(provisioned_lab):
    """Three releases of the sample application made by ci.yml: two good ones and one with the bug, each a change
    of the api alone."""
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    repo = sample_repo(OUT / "sample-app", git)
    for patch in range(3):
        if patch == 1:  # a change of the api's source alone: the worker's and the store's images stay
            app = repo / "api" / "app.py"
            app.write_text(app.read_text() + "\n# A second release.\n")
        if patch == 2:
            app = repo / "api" / "app.py"
            assert BROKEN_FROM in app.read_text()
            app.write_text(app.read_text().replace(BROKEN_FROM, BROKEN_TO))
        if patch > 0:
            git(repo, "commit", "-q", "-am", f"release {patch}")
        run = playbook("outerloop.docker.ci", "-e", f"@{ROOT}/examples/ci-sample-app.yml", "-e",
                       json.dumps({"ci_source_repo": str(repo), "ci_version": version(patch),
                                   "ci_release_dir": str(RELEASES)}))  # fmt: skip
        assert run.rc == 0, run.out[-3000:]
    return [release(p) for p in range(3)]
