"""Diagnose, on qa1, a deliberately broken deploy of the project diag-app (never sample-app, which other tests use):
release 2 (its api's /healthz fails outside dev and ci), with two services added by overrides, one killed for lack of
memory (mem_limit 16m, it allocates 64 MiB) and one that exits with code 3 after printing its token. The first deploy
of a project is left as it is for diagnosis, so the broken release keeps running.

playbooks/diagnose.yml then writes one bundle; the test reads what a user reads: the Markdown summary, the JSON and
the raw logs in the archive. They show the health check's output, the exit code, the OOM kill, the engine's events,
the release's commit and CI build, and the JUnit files of that build; the token appears nowhere."""

from __future__ import annotations

import json
import secrets
import subprocess
import tarfile

import pytest
import yaml

from .cd_releases import RELEASES, manifest_path
from .conftest import ROOT, VENV_BIN, ansible_env, on_host, playbook, secret

PROJECT = "diag-app"
TOKEN = f"diag-token-{secrets.token_hex(8)}"


def deploy_playbook(tmp_path, patch: int, state: str = "present"):
    """compose_deploy of release PATCH as diag-app on qa1, the api on port 18088 (no proxy, no collision)."""
    worker = json.loads(manifest_path(patch).read_text())["services"]["worker"]["image"]
    overrides = {
        "services": {
            "api": {"environment": {"APP_ENVIRONMENT": "${APP_ENVIRONMENT}"}},
            "oom": {
                "image": worker,
                "command": ["python3", "-c", "import time; x = bytearray(64 * 1024 * 1024); time.sleep(600)"],
                "mem_limit": "16m",
                "memswap_limit": "16m",
                "restart": "no",
                "healthcheck": {"disable": True},
            },
            "crash": {
                "image": worker,
                "command": ["sh", "-c", 'echo "diag-crash: the token is $$API_TOKEN, giving up"; exit 3'],
                "environment": {"API_TOKEN": "${API_TOKEN}"},
                "restart": "no",
                "healthcheck": {"disable": True},
            },
        }
    }
    task = {
        "project": PROJECT,
        "state": state,
        "environment": "qa",
        "wait_timeout": 60,
        "remove_volumes": True,
    }
    if state == "present":
        task.update(
            release=f"{{{{ lookup('outerloop.docker.release', '{manifest_path(patch)}') }}}}",
            env={"API_PORT": "18088", "APP_ENVIRONMENT": "qa"},
            secrets={"API_TOKEN": TOKEN},
            overrides=overrides,
        )
    play = [{"name": f"diag-app {state}", "hosts": "qa1", "gather_facts": False,
             "tasks": [{"outerloop.docker.compose_deploy": task, "register": "deployed", "failed_when": False},
                       {"ansible.builtin.debug": {"msg": "{{ deployed.msg | default('ok') }}"}}]}]  # fmt: skip
    path = tmp_path / f"diag-{state}.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return playbook(str(path), inventory="inventories/qa")


def diagnose(out_dir, *extra: str):
    return playbook("outerloop.docker.diagnose", "-e", "diagnose_host=qa1", "-e", f"deploy_project={PROJECT}",
                    "-e", f"diagnose_dir={out_dir}", "-e", f"diagnose_junit_dir={RELEASES / 'junit'}", *extra,
                    inventory="inventories/qa")  # fmt: skip


def unpack(out_dir) -> dict:
    """{path in the archive: text} of the one bundle of the run."""
    (archive,) = out_dir.glob("diagnose-qa-diag-app-*.tar.gz")
    with tarfile.open(archive) as tar:
        return {
            member.name.split("/", 1)[1]: tar.extractfile(member).read().decode()
            for member in tar.getmembers()
            if member.isfile()
        }


@pytest.fixture(scope="module")
def broken(releases, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("diag")
    run = deploy_playbook(tmp, 2)
    assert run.rc == 0, run.out[-3000:]
    said = " ".join(run.out.split())
    assert "for diagnosis" in said, said[-2000:]  # the first deploy of the project: nothing to roll back to
    yield releases[2]
    gone = deploy_playbook(tmp, 2, state="absent")
    on_host("qa1", "rm", "-rf", f"/var/lib/outerloop/deployments/{PROJECT}", f"/srv/outerloop/apps/{PROJECT}")
    assert gone.rc == 0, gone.out[-3000:]


@pytest.fixture(scope="module")
def bundle(broken, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    run = diagnose(out)
    assert run.rc == 0, run.out[-3000:]
    assert run.recap["qa1"]["changed"] == 0 and run.recap["qa1"]["failed"] == 0
    files = unpack(out)
    return run, files, json.loads(files["diagnosis.json"]), files["summary.md"]


def container(doc: dict, service: str) -> dict:
    (host,) = doc["hosts"]
    (found,) = [view for view in host["containers"] if view["service"] == service]
    return found


def test_the_bundle_holds_a_summary_the_json_and_the_raw_logs(bundle):
    run, files, doc, summary = bundle
    said = " ".join(run.out.split())
    assert "Diagnosis bundle: " in said and ".tar.gz" in said
    assert doc["schema"] == "outerloop.docker/diagnosis/v1" and doc["environment"] == "qa" and doc["project"] == PROJECT
    names = {view["name"] for view in doc["hosts"][0]["containers"]}
    assert {f"logs/qa1/{name}.log" for name in names} <= set(files), sorted(files)
    assert summary.startswith(f"# Diagnosis of {PROJECT} in qa")


def test_it_traces_the_release_to_its_commit_build_and_junit_files(bundle):
    _run, files, doc, summary = bundle
    release = json.loads(manifest_path(2).read_text())
    traced = doc["release"]
    assert traced["release_id"] == release["release_id"] and traced["version"] == release["version"]
    assert traced["commit"] == release["source"]["commit"] and traced["build_number"] == release["build"]["number"]
    assert traced["deployed_result"] == "failed"  # the first deploy of the project, left for diagnosis
    short = release["source"]["commit"][:12]
    on_controller = sorted(
        str(p.relative_to(RELEASES / "junit" / short)) for p in (RELEASES / "junit" / short).rglob("*.xml")
    )
    assert on_controller and doc["junit"]["files"] == {short: on_controller}
    for name in on_controller:
        assert files[f"junit/{short}/{name}"] == (RELEASES / "junit" / short / name).read_text()
        assert f"`{name}`" in summary
    assert f"commit: `{release['source']['commit']}`" in summary
    assert f"CI build: {release['build']['number']} on build1" in summary


def test_it_shows_the_health_check_output_of_the_broken_api(bundle):
    _run, _files, doc, summary = bundle
    api = container(doc, "api")
    assert api["health"]["status"] == "unhealthy"
    outputs = [run["output"] for run in api["health"]["log"]]
    assert outputs and all("GET /healthz" in output and "503" in output for output in outputs), outputs
    assert f"### Health check of {api['name']} (unhealthy)" in summary
    assert outputs[-1].split()[0] in summary and "503" in summary.split(f"### Health check of {api['name']}")[1]


def test_it_shows_the_exit_code_and_the_oom_kill(bundle):
    _run, files, doc, summary = bundle
    crash, oom = container(doc, "crash"), container(doc, "oom")
    assert crash["state"] == "exited" and crash["exit_code"] == 3 and not crash["oom_killed"]
    assert oom["oom_killed"] is True and oom["exit_code"] == 137 and oom["memory"]["limit"] == 16 * 1024 * 1024
    rows = {
        line.split(" | ")[0].lstrip("| "): line for line in summary.splitlines() if line.startswith(f"| {PROJECT}-")
    }
    assert " | exited | - | 3 | no | " in rows[crash["name"]]
    assert " | exited | - | 137 | yes | " in rows[oom["name"]]
    assert f"{oom['name']} was killed for lack of memory (OOMKilled, limit 16.0 MiB)" in summary
    assert "diag-crash: the token is ********, giving up" in files[f"logs/qa1/{crash['name']}.log"]


def test_it_shows_the_engine_events_since_the_deploy(bundle):
    _run, _files, doc, summary = bundle
    events = doc["hosts"][0]["events"]
    crash, oom, api = container(doc, "crash"), container(doc, "oom"), container(doc, "api")
    seen = {(event["action"], event["container"], event["exit_code"], event["status"]) for event in events}
    assert ("die", crash["name"], 3, None) in seen, events
    assert ("oom", oom["name"], None, None) in seen, events
    assert ("die", oom["name"], 137, None) in seen, events
    assert ("health_status", api["name"], None, "unhealthy") in seen, events
    # From the engine's event log, or (the engine keeps its last 256 events only) from the containers' state.
    assert {event["source"] for event in events} <= {"engine", "state"}
    assert f"| oom | {oom['name']} | oom |" in summary and f"| die | {crash['name']} | crash | 3 |" in summary
    since = doc["hosts"][0]["since"]
    assert since == doc["hosts"][0]["deploy"]["started"] and all(event["time"] >= since for event in events)


def test_the_disk_use_and_the_cpu_and_memory_of_what_runs(bundle):
    _run, _files, doc, summary = bundle
    disk = doc["hosts"][0]["disk"]
    assert disk["docker"]["images"]["count"] > 0 and disk["releases"]["count"] == 1
    assert disk["filesystem"]["path"] == "/var/lib/docker"
    store = container(doc, "store")
    assert store["running"] and store["cpu_percent"] is not None and store["memory"]["usage"] > 0
    assert "- stored releases: 1," in summary


def test_no_credential_reaches_the_bundle(bundle):
    _run, files, _doc, _summary = bundle
    password = on_host("qa1", "cat", "/root/.docker/config.json").stdout
    auths = [entry.get("auth") for entry in json.loads(password or "{}").get("auths", {}).values() if entry.get("auth")]
    registry_password = secret("registry-deploy")
    for name, text in files.items():
        assert TOKEN not in text, name
        assert registry_password not in text, name
        assert all(auth not in text for auth in auths), name
        assert "API_TOKEN=" not in text, name


def test_the_module_in_check_mode_for_one_service(broken):
    """container_diagnose alone, as a playbook of a user's would run it: check mode, one service, changed false."""
    proc = subprocess.run(
        [str(VENV_BIN / "ansible"), "qa1", "-i", "inventories/qa", "-m", "outerloop.docker.container_diagnose",
         "-a", f"project={PROJECT} service=api stats=false logs_tail=5", "--check"],
        cwd=ROOT, env={**ansible_env(), "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    result = json.loads(proc.stdout.partition("qa1 | SUCCESS => ")[2])
    assert result["changed"] is False
    found = result["diagnosis"]
    assert found["service"] == "api" and [view["service"] for view in found["containers"]] == ["api"]
    assert {event["service"] for event in found["events"]} == {"api"}
    assert found["containers"][0]["health"]["status"] == "unhealthy" and len(found["containers"][0]["log_lines"]) <= 5
