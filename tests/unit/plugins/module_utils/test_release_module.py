"""The release module end to end (AnsibleModule, argument spec, check and diff mode) on temporary files."""

import json
import os

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from ansible_collections.outerloop.docker.plugins.modules import release as release_module

COMMIT = "3f2a9c1d0b8e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
API = "sha256:" + "a1" * 32
WORKER = "sha256:" + "b2" * 32
COMPOSE = """\
services:
  api:
    build: ./api
    ports: ["8080:8000"]
  worker:
    build: ./worker
  redis:
    image: redis:7.4-alpine
"""


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    return tmp_path


def args(workdir, **changes):
    values = {
        "path": str(workdir / "releases" / "sample-app-1.4.0.json"),
        "application": "sample-app",
        "version": "1.4.0",
        "source_repository": "https://git.example.com/team/sample-app.git",
        "commit": COMMIT,
        "ref": "main",
        "build_number": 42,
        "build_host": "build1",
        "created": "2026-11-26T13:00:00Z",
        "tests": {"suites": {"unit": {"passed": True, "tests": 12, "failures": 0}}},
        "services": {"api": f"reg1:5000/sample/api@{API}", "worker": f"reg1:5000/sample/worker@{WORKER}"},
        "compose_file": str(workdir / "compose.yaml"),
    }
    values.update(changes)
    return values


def run(capsys, module_args, check_mode=False, diff=False):
    """Run the module's main(); returns its result, with ``failed`` when it failed."""
    module_args = dict(module_args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(module_args), pytest.raises(SystemExit):
        release_module.main()
    return json.loads(capsys.readouterr().out)


def test_create_check_mode_then_real_then_idempotent(capsys, workdir):
    manifest_path = workdir / "releases" / "sample-app-1.4.0.json"
    result = run(capsys, args(workdir), check_mode=True, diff=True)
    assert result["changed"] is True
    assert not manifest_path.parent.exists()  # check mode writes nothing, not even the directory
    assert (
        result["diff"]["before"] == ""
        and '"release_id": "sample-app-1.4.0-b42-3f2a9c1d0b8e"' in result["diff"]["after"]
    )

    result = run(capsys, args(workdir))
    assert result["changed"] is True
    assert result["release_id"] == "sample-app-1.4.0-b42-3f2a9c1d0b8e"
    assert result["manifest"]["build"]["number"] == "42"
    assert json.loads(manifest_path.read_text()) == result["manifest"]
    assert oct(os.stat(manifest_path).st_mode & 0o777) == "0o644"
    mtime = os.stat(manifest_path).st_mtime_ns

    for check_mode in (True, False):
        again = run(capsys, args(workdir), check_mode=check_mode)
        assert again["changed"] is False
        assert again["digest"] == result["digest"]
    assert os.stat(manifest_path).st_mtime_ns == mtime


def test_different_content_is_refused_without_force_even_in_check_mode(capsys, workdir):
    run(capsys, args(workdir))
    before = (workdir / "releases" / "sample-app-1.4.0.json").read_text()
    (workdir / "compose.yaml").write_text(COMPOSE.replace("8080:8000", "8081:8000"))
    for check_mode in (True, False):
        result = run(capsys, args(workdir), check_mode=check_mode)
        assert result["failed"] is True
        assert "A release is immutable" in result["msg"]
    assert (workdir / "releases" / "sample-app-1.4.0.json").read_text() == before
    result = run(capsys, args(workdir, force=True))
    assert result["changed"] is True
    assert (workdir / "releases" / "sample-app-1.4.0.json").read_text() != before


def test_validated_returns_the_manifest_and_refuses_a_hand_edit(capsys, workdir):
    created = run(capsys, args(workdir))
    path = workdir / "releases" / "sample-app-1.4.0.json"
    result = run(capsys, {"path": str(path), "state": "validated"})
    assert result["changed"] is False
    assert result["manifest"] == created["manifest"]

    path.write_text(path.read_text().replace(API, "sha256:" + "ff" * 32))
    result = run(capsys, {"path": str(path), "state": "validated"})
    assert result["failed"] is True
    assert f"release manifest {path} is not valid" in result["msg"]
    assert "digest mismatch" in result["msg"]
    assert result["errors"][0].startswith("digest mismatch")


def test_render_compose_is_idempotent_and_reports_unpinned_services(capsys, workdir):
    run(capsys, args(workdir))
    dest = workdir / "deploy" / "compose.yaml"
    state = {"path": args(workdir)["path"], "state": "validated", "render_compose": str(dest)}
    result = run(capsys, state, check_mode=True)
    assert result["changed"] is True and not dest.exists()
    result = run(capsys, state, diff=True)
    assert result["changed"] is True
    assert result["compose_path"] == str(dest)
    assert result["unpinned_services"] == ["redis"]
    assert result["other_services"] == {"redis": {"image": "redis:7.4-alpine", "pinned": False}}
    data = yaml.safe_load(dest.read_text())
    assert data["services"]["api"] == {"image": f"reg1:5000/sample/api@{API}", "ports": ["8080:8000"]}
    assert "build" not in data["services"]["worker"]
    assert result["diff"]["after"] == dest.read_text()
    assert run(capsys, state)["changed"] is False


def test_present_with_render_compose_reports_both_diffs(capsys, workdir):
    dest = workdir / "compose.release.yaml"
    result = run(capsys, args(workdir, render_compose=str(dest)), diff=True)
    assert result["changed"] is True
    assert [d["after_header"] for d in result["diff"]] == [args(workdir)["path"], str(dest)]
    assert run(capsys, args(workdir, render_compose=str(dest)))["changed"] is False


def test_invalid_inputs_fail_listing_every_problem(capsys, workdir):
    result = run(capsys, args(workdir, version="1.0", services={"api": "reg1:5000/sample/api:1.4.0"}))
    assert result["failed"] is True
    assert result["errors"] == [
        "services.api: image 'reg1:5000/sample/api:1.4.0' is not pinned by digest; a release names every service "
        "as REGISTRY/REPOSITORY@sha256:DIGEST, never by tag alone",
        "version: version '1.0' is not SemVer 2.0: expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], numbers without "
        "leading zeros, for example 1.4.0 or 1.0.0-rc.1+build.5",
    ]
    assert not (workdir / "releases").exists()


def test_missing_inputs_and_files(capsys, workdir):
    result = run(capsys, {"path": str(workdir / "r.json"), "application": "sample-app"})
    assert result["failed"] is True
    assert "state is present but all of the following are missing" in result["msg"]
    result = run(capsys, args(workdir, compose_file=str(workdir / "nope.yaml")))
    assert result["msg"] == f"compose_file {workdir / 'nope.yaml'} does not exist"
    result = run(capsys, {"path": str(workdir / "r.json"), "state": "validated"})
    assert result["msg"] == f"release manifest {workdir / 'r.json'} does not exist"


def test_compose_text_given_instead_of_a_file(capsys, workdir):
    text = (workdir / "compose.yaml").read_text()
    given = args(workdir, compose_content=text, compose_name="deploy/compose.yaml")
    del given["compose_file"]
    result = run(capsys, given)
    assert result.get("msg") is None
    assert result["changed"] is True
    assert result["manifest"]["compose"]["file"] == "deploy/compose.yaml"
    assert result["manifest"]["compose"]["content"] == text
    result = run(capsys, dict(given, compose_name=None))
    assert result["msg"] == "compose_name is required with compose_content: the file's path in the repository"
    given = args(workdir)
    del given["compose_file"]
    result = run(capsys, given)
    assert "any of the following are missing: compose_file, compose_content" in result["msg"]
