"""The playbooks run the way AWX runs them: ansible-runner, a private data directory, no prompts.

The collection comes from the built tarball (installed with ansible-galaxy into the data
directory, as a project's collections/requirements.yml would), not from the repository; the
project holds only wrapper playbooks; every input is an extra variable; the CI job's set_stats
artifacts become the deploy job's extra variables, as an AWX workflow passes them on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, VENV_BIN, on_host, sample_repo
from .test_20_ci import git

OUT = ROOT / "tests" / "output" / "awx"
VERSION = f"3.{int(time.time()) % 100_000_000}.0"


def runner_env() -> dict[str, str]:
    """What a job's process gets: no ansible.cfg of this repository, no collection of its tree."""
    keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "USER", "LOGNAME")}
    return {**keep, "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin"}


def run_job(pdd: Path, playbook_file: str, ident: str, inventory: Path, extravars: dict) -> tuple[int, str, list]:
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-runner"), "run", str(pdd), "-p", playbook_file, "--ident", ident,
         "--inventory", str(inventory)],
        cwd=pdd, env=runner_env(), capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    artifacts = pdd / "artifacts" / ident
    events = [json.loads(p.read_text()) for p in sorted((artifacts / "job_events").glob("*.json"))]
    rc = int((artifacts / "rc").read_text())
    assert (artifacts / "status").read_text() == ("successful" if rc == 0 else "failed")
    return rc, proc.stdout + proc.stderr, events


@pytest.fixture(scope="module")
def pdd(provisioned_lab):
    """A private data directory: wrapper project, the collection from its tarball, env files."""
    shutil.rmtree(OUT, ignore_errors=True)
    path = OUT / "run"
    (path / "project").mkdir(parents=True)
    (path / "env").mkdir()
    tarballs = sorted((ROOT / "build").glob("outerloop-docker-*.tar.gz"))
    assert tarballs, "scripts/install-collection.sh builds the tarball"
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "install", "--force", str(tarballs[-1]),
                    "-p", str(path / "collections")], check=True, capture_output=True, env=runner_env())  # fmt: skip
    for name in ("ci", "deploy", "status"):
        (path / "project" / f"{name}.yml").write_text(
            f"---\n- ansible.builtin.import_playbook: outerloop.docker.{name}\n"
        )
    (path / "env" / "envvars").write_text(yaml.safe_dump({"ANSIBLE_COLLECTIONS_PATH": str(path / "collections")}))
    sample_repo(OUT / "sample-app", git)
    return path


def test_ci_then_qa_through_ansible_runner_with_the_artifacts_handed_on(pdd):
    ci_vars = yaml.safe_load((ROOT / "examples" / "ci-sample-app.yml").read_text())
    ci_vars.update(ci_source_repo=str(OUT / "sample-app"), ci_version=VERSION, ci_release_dir=str(OUT / "releases"))
    rc, out, events = run_job(pdd, "ci.yml", "ci-1", ROOT / "inventories" / "lab", ci_vars)
    assert rc == 0, out[-4000:]
    stats = next(e for e in events if e["event"] == "playbook_on_stats")
    artifacts = stats["event_data"]["artifact_data"]
    assert artifacts["outerloop_release"]["version"] == VERSION
    assert set(artifacts["outerloop_release"]["services"]) == {"api", "worker", "store"}

    # The deploy job gets the artifacts as its extra variables and nothing else.
    rc, out, events = run_job(pdd, "deploy.yml", "deploy-qa-1", ROOT / "inventories" / "qa", artifacts)
    assert rc == 0, out[-4000:]
    with urllib.request.urlopen("http://172.29.77.21:8080/version", timeout=5) as resp:
        assert json.load(resp)["version"] == VERSION
    history = json.loads(on_host("qa1", "cat", "/var/lib/outerloop/deployments/sample-app/history.json").stdout)
    assert history[-1]["version"] == VERSION and history[-1]["result"] == "succeeded"

    rc, out, events = run_job(pdd, "status.yml", "status-qa-1", ROOT / "inventories" / "qa", artifacts)
    assert rc == 0, out[-4000:]
    assert "| healthy | in sync |" in out, out[-3000:]
