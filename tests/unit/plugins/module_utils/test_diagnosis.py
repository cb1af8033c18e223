# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The diagnosis' pure parts: containers from docker inspect and stats, events picked, the history read for the
last deploy and the release that runs, the document of a run and its Markdown; the filters over them."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.outerloop.docker.plugins.filter.diagnosis import FilterModule
from ansible_collections.outerloop.docker.plugins.module_utils._container_diagnose import (
    credential_values,
    env_values,
    since_of,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain import diagnosis as d
from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import InfoError

COMMIT = "cd0ad3dfbf6112aad7499821360926b240f98e7e"
API, WORKER = "sha256:" + "a1" * 32, "sha256:" + "b2" * 32
NEW_API = "sha256:" + "c3" * 32
MIB = 1024 * 1024


def inspect(name, service, *, running=True, health=None, log=(), exit_code=0, oom=False, restarts=0, memory=0,
            env=()):  # fmt: skip
    state = {"Status": "running" if running else "exited", "Running": running, "Restarting": False,
             "ExitCode": exit_code, "OOMKilled": oom, "Error": "", "StartedAt": "2026-11-26T13:05:00.123456789Z",
             "FinishedAt": "2026-11-26T13:05:09.5Z" if not running else "0001-01-01T00:00:00Z"}  # fmt: skip
    if health:
        state["Health"] = {"Status": health, "FailingStreak": 4, "Log": list(log)}
    return {
        "Id": f"{name:0<64}"[:64],
        "Name": f"/{name}",
        "Created": "2026-11-26T13:04:59Z",
        "RestartCount": restarts,
        "State": state,
        "Config": {"Image": f"reg1:5000/app/{service}@{API}", "Env": list(env),
                   "Labels": {"com.docker.compose.project": "app", "com.docker.compose.service": service}},
        "HostConfig": {"Memory": memory, "RestartPolicy": {"Name": "unless-stopped"}},
    }  # fmt: skip


def stats(*, total=2_000_000, pre_total=1_000_000, system=20_000_000, pre_system=10_000_000, usage=12 * MIB, cpus=2):
    return {
        "cpu_stats": {"cpu_usage": {"total_usage": total}, "system_cpu_usage": system, "online_cpus": cpus},
        "precpu_stats": {"cpu_usage": {"total_usage": pre_total}, "system_cpu_usage": pre_system},
        "memory_stats": {"usage": usage, "limit": 2048 * MIB, "stats": {"inactive_file": 2 * MIB}},
    }


def entry(release_id, action="deploy", result="succeeded", services=None, started="2026-11-26T13:04:40Z"):
    return {"release_id": release_id, "action": action, "result": result, "services": services or {},
            "started": started, "finished": started.replace(":40Z", ":59Z"), "commit": COMMIT, "version": "1.0.0",
            "application": "app", "reason": None, "environment": "qa"}  # fmt: skip


# --------------------------------------------------------------------------- containers


def test_a_running_container_with_cpu_and_memory_against_its_limit():
    view = d.container_view(inspect("app-api-1", "api", health="healthy", memory=64 * MIB), "app", stats=stats())
    assert view["service"] == "api" and view["running"] and view["exit_code"] is None
    assert view["cpu_percent"] == 20.0  # 1e6 of 1e7 system nanoseconds, 2 CPUs
    assert view["memory"] == {"usage": 10 * MIB, "limit": 64 * MIB, "limited": True, "percent": 15.62}
    assert view["finished_at"] is None and view["problems"] == []


def test_without_a_limit_of_its_own_memory_is_against_the_hosts():
    view = d.container_view(inspect("app-api-1", "api"), "app", stats=stats())
    assert view["memory"]["limited"] is False and view["memory"]["limit"] == 2048 * MIB


def test_an_oom_killed_container_and_its_exit_code():
    view = d.container_view(inspect("app-oom-1", "oom", running=False, exit_code=137, oom=True, memory=16 * MIB), "app")
    assert view["oom_killed"] and view["exit_code"] == 137 and view["cpu_percent"] is None
    assert view["memory"] == {"usage": None, "limit": 16 * MIB, "limited": True, "percent": None}
    assert view["problems"] == [
        "app-oom-1 was killed for lack of memory (OOMKilled, limit 16.0 MiB)",
        "app-oom-1 is exited with exit code 137",
    ]


def test_the_health_checks_last_outputs_with_secrets_masked():
    log = [{"Start": f"2026-11-26T13:05:0{i}Z", "ExitCode": 1, "Output": f"GET /healthz: HTTP/1.0 503 key=s3cr3t {i}\n"}
           for i in range(7)]  # fmt: skip
    view = d.container_view(inspect("app-api-1", "api", health="unhealthy", log=log), "app", secrets=["s3cr3t"],
                            health_keep=2)  # fmt: skip
    assert view["health"]["status"] == "unhealthy" and view["health"]["failing_streak"] == 4
    assert [run["output"] for run in view["health"]["log"]] == [
        "GET /healthz: HTTP/1.0 503 key=******** 5",
        "GET /healthz: HTTP/1.0 503 key=******** 6",
    ]
    assert view["problems"] == [
        "app-api-1 is unhealthy: its health check said GET /healthz: HTTP/1.0 503 key=******** 6"
    ]


def test_the_environment_is_never_copied_and_credentials_are_known_for_masking():
    raw = inspect("app-api-1", "api", env=["API_TOKEN=t0k3n", "DB_PASSWORD=pw", "STORE_HOST=store"])
    view = d.container_view(raw, "app", log_lines=["token t0k3n", "pw pw"], secrets=credential_values(raw))
    assert "t0k3n" not in repr(view) and "Env" not in repr(view) and "STORE_HOST" not in repr(view)
    assert view["log_lines"] == ["token ********", "******** ********"]
    assert sorted(credential_values(raw)) == ["pw", "t0k3n"]


def test_env_values_read_the_deploys_env_file_format():
    text = '# Written by outerloop.docker\nAPI_TOKEN=\'a b\'\nOTHER="x\\"y"\nPLAIN=z\n'
    assert env_values(text) == ["a b", 'x"y', "z"]


def test_a_swarm_tasks_container_is_named_by_its_service_without_the_stack():
    labels = {"com.docker.stack.namespace": "app", "com.docker.swarm.service.name": "app_api"}
    assert d.service_of(labels, "app") == "api"
    assert d.service_of({"com.docker.compose.service": "worker"}, "app") == "worker"


# --------------------------------------------------------------------------- events


def event(action, name, when, **attributes):
    return {"Type": "container", "Action": action, "timeNano": int(when * 1e9),
            "Actor": {"ID": f"{name:0<64}"[:64], "Attributes": {"name": name, **attributes}}}  # fmt: skip


def test_pick_events_keeps_die_oom_and_health_status_oldest_first():
    events = [
        event("health_status: unhealthy", "app-api-1", 1_764_162_330, **{"com.docker.compose.service": "api"}),
        event("die", "app-crash-1", 1_764_162_310, exitCode="3", **{"com.docker.compose.service": "crash"}),
        event("start", "app-crash-1", 1_764_162_300),
        event("exec_start: bash /app/health.sh", "app-api-1", 1_764_162_320),
        event("oom", "app-oom-1", 1_764_162_305),
        {"Type": "network", "Action": "die", "time": 1_764_162_306},
    ]
    picked = d.pick_events(events, containers={"app-oom-1".ljust(12, "0")[:12]: "oom"})
    assert [(e["action"], e["container"], e["service"], e["exit_code"], e["status"]) for e in picked] == [
        ("oom", "app-oom-1", "oom", None, None),
        ("die", "app-crash-1", "crash", 3, None),
        ("health_status", "app-api-1", "api", None, "unhealthy"),
    ]
    assert picked[0]["time"] == "2025-11-26T13:05:05Z"
    assert d.event_counts(picked) == {"die": 1, "oom": 1, "health_status": 1, "unhealthy": 1}


def test_pick_events_of_one_service_and_the_newest_limit():
    events = [
        event("die", "app-api-1", 100 + i, exitCode="1", **{"com.docker.compose.service": "api"}) for i in range(5)
    ]
    events.append(event("die", "app-worker-1", 200, **{"com.docker.compose.service": "worker"}))
    picked = d.pick_events(events, service="api", limit=2)
    assert [e["time"] for e in picked] == ["1970-01-01T00:01:43Z", "1970-01-01T00:01:44Z"]
    assert d.pick_events(events, limit=0) == []


# --------------------------------------------------------------------------- history and release


def test_the_last_deploy_is_the_newest_deploy_or_rollback_whatever_its_result():
    entries = [entry("r1"), entry("r2", result="failed", started="2026-11-27T09:00:40Z"), entry("r2", action="remove")]
    assert d.last_deploy(entries)["release_id"] == "r2" and d.last_deploy(entries)["result"] == "failed"
    assert d.last_deploy([]) is None


def test_the_release_that_runs_is_the_entry_whose_digests_run_even_a_failed_one():
    entries = [entry("r1", services={"api": API, "worker": WORKER}),
               entry("r2", result="failed", services={"api": NEW_API, "worker": WORKER})]  # fmt: skip
    assert d.running_entry(entries, {"api": NEW_API, "worker": WORKER, "oom": None})["release_id"] == "r2"
    assert d.running_entry(entries, {"api": API, "worker": WORKER})["release_id"] == "r1"
    assert d.running_entry(entries, {"api": "sha256:" + "d4" * 32}) is None


def test_the_release_view_comes_from_the_stored_manifest_and_the_entry():
    manifest = {"release_id": "app-1.0.0-b7-cd0ad3dfbf61", "application": "app", "version": "1.0.0",
                "source": {"commit": COMMIT, "repository": "https://git.example.com/app.git"},
                "build": {"number": "7", "host": "build1", "created": "2026-11-26T12:00:00Z"},
                "tests": {"passed": True, "suites": {"unit": {"summary": "3 passed"}}}}  # fmt: skip
    view = d.release_view(manifest, entry("app-1.0.0-b7-cd0ad3dfbf61", result="failed"))
    assert (
        view["short_commit"] == "cd0ad3dfbf61" and view["build_number"] == "7" and view["tests"] == {"unit": "3 passed"}
    )
    assert view["deployed_result"] == "failed" and view["environment"] == "qa"
    assert d.release_view(None, entry("r1"))["commit"] == COMMIT and d.release_view(None, None) is None


def test_since_is_the_deploys_start_or_the_option():
    now = 1_764_162_400.0
    assert since_of({}, {"started": "2026-11-26T13:04:40Z"}, now) == d.parse_time("2026-11-26T13:04:40Z")
    assert since_of({"since": "600"}, None, now) == now - 600
    assert since_of({}, None, now) == now - 3600
    with pytest.raises(InfoError, match="since must be an RFC 3339 time"):
        since_of({"since": "yesterday"}, None, now)


def test_parse_time_reads_the_engines_nanoseconds_and_zones():
    assert d.parse_time("2026-11-26T13:05:00.5Z") == d.parse_time("2026-11-26T14:05:00.5+01:00")
    assert d.parse_time("0001-01-01T00:00:00Z") is None and d.parse_time(None) is None


# --------------------------------------------------------------------------- disk and swarm


def test_disk_view():
    df = {"LayersSize": 300 * MIB, "Images": [{}, {}], "Containers": [{"SizeRw": MIB}],
          "Volumes": [{"UsageData": {"Size": 5 * MIB}}, {"UsageData": {"Size": -1}}], "BuildCache": []}  # fmt: skip
    disk = d.disk_view(df, {"path": "/var/lib/docker", "total": 100, "free": 25}, {"r1": 4096, "r2": 1024})
    assert disk["docker"]["images"] == {"count": 2, "bytes": 300 * MIB}
    assert disk["docker"]["volumes"] == {"count": 2, "bytes": 5 * MIB}
    assert disk["filesystem"]["used_percent"] == 75.0
    assert disk["releases"] == {"count": 2, "bytes": 5120, "each": {"r1": 4096, "r2": 1024}}


def test_task_history_per_node_newest_first_with_errors():
    tasks = [
        {"ID": "t1" * 10, "ServiceID": "s1", "NodeID": "n1", "Slot": 1, "DesiredState": "shutdown",
         "Status": {"State": "failed", "Err": "task: non-zero exit (1)", "Timestamp": "2026-11-26T13:00:00Z",
                    "ContainerStatus": {"ExitCode": 1}}},
        {"ID": "t2" * 10, "ServiceID": "s1", "NodeID": "n1", "Slot": 1, "DesiredState": "running",
         "Status": {"State": "running", "Timestamp": "2026-11-26T13:01:00Z"}},
        {"ID": "t3" * 10, "ServiceID": "s1", "NodeID": "n2", "Slot": 2, "DesiredState": "running",
         "Status": {"State": "running", "Timestamp": "2026-11-26T13:00:30Z"}},
    ]  # fmt: skip
    history = d.task_history(tasks, {"s1": "api"}, {"n1": "swarm1", "n2": "swarm2"}, limit=5)
    assert [t["state"] for t in history["swarm1"]] == ["running", "failed"]
    assert history["swarm1"][1]["error"] == "task: non-zero exit (1)" and history["swarm1"][1]["exit_code"] == 1
    assert (
        list(history) == ["swarm1", "swarm2"]
        and d.task_history(tasks, {}, {}, limit=1)["n1"][0]["task"] == "t2t2t2t2t2t2"
    )


# --------------------------------------------------------------------------- the document and its Markdown


def host_result():
    release = d.release_view(
        {"release_id": "app-1.0.0-b7-cd0ad3dfbf61", "version": "1.0.0", "application": "app",
         "source": {"commit": COMMIT}, "build": {"number": "7", "host": "build1"}},
        entry("app-1.0.0-b7-cd0ad3dfbf61", result="failed"),
    )  # fmt: skip
    log = [{"Start": "2026-11-26T13:05:08Z", "ExitCode": 1, "Output": "GET /healthz: HTTP/1.0 503 failing"}]
    api = d.container_view(inspect("app-api-1", "api", health="unhealthy", log=log), "app", stats=stats(),
                           log_lines=["2026-11-26T13:05:01Z serving on 8080"])  # fmt: skip
    oom = d.container_view(inspect("app-oom-1", "oom", running=False, exit_code=137, oom=True, memory=16 * MIB), "app")
    events = d.pick_events([event("oom", "app-oom-1", 1_764_162_305, **{"com.docker.compose.service": "oom"})])
    return {"changed": False, "diagnosis": {
        "host": "qa1", "project": "app", "deploy": d.last_deploy([entry("app-1.0.0-b7-cd0ad3dfbf61", result="failed")]),
        "since": "2026-11-26T13:04:40Z", "release": release, "containers": [api, oom], "events": events,
        "disk": d.disk_view({}, None, {"app-1.0.0-b7-cd0ad3dfbf61": 2048}), "swarm": None,
        "problems": api["problems"] + oom["problems"]}}  # fmt: skip


def test_the_document_traces_the_release_and_keeps_unreachable_hosts():
    doc = d.diagnosis_report({"qa1": host_result(), "qa2": {"unreachable": True, "msg": "ssh: timed out"}},
                             environment="qa", project="app", generated_at="2026-11-26T13:10:00Z",
                             junit={"dir": "/r/junit", "files": {"cd0ad3dfbf61": ["api/u.xml"]}})  # fmt: skip
    assert doc["schema"] == d.SCHEMA and doc["release"]["commit"] == COMMIT and len(doc["releases"]) == 1
    assert doc["hosts"][1] == {"host": "qa2", "reached": False, "error": "ssh: timed out"}
    assert doc["problems"][-1] == "qa2: ssh: timed out"
    assert "qa1: app-oom-1 was killed for lack of memory (OOMKilled, limit 16.0 MiB)" in doc["problems"]
    with pytest.raises(d.DiagnosisError):
        d.diagnosis_report(["qa1"])


def test_the_markdown_summary_says_what_a_developer_needs():
    junit = {"dir": "/r/junit", "files": {"cd0ad3dfbf61": ["api/u.xml", "functional/f.xml"]}}
    doc = d.diagnosis_report({"qa1": host_result()}, environment="qa", project="app", generated_at="now", junit=junit)
    text = d.diagnosis_markdown(doc)
    assert text.startswith("# Diagnosis of app in qa\n")
    assert f"- commit: `{COMMIT}`" in text and "- CI build: 7 on build1" in text
    assert "- JUnit files of the build (/r/junit/cd0ad3dfbf61, in the bundle under `junit/cd0ad3dfbf61/`):" in text
    assert "  - `functional/f.xml`" in text
    assert "| app-oom-1 | oom | exited | - | 137 | yes | 0 |" in text
    assert "| app-api-1 | api | running | unhealthy | - | no | 0 |" in text and "10.0 MiB of 2.0 GiB" in text
    assert "- 2026-11-26T13:05:08Z: exit 1: GET /healthz: HTTP/1.0 503 failing" in text
    assert "```text\n2026-11-26T13:05:01Z serving on 8080\n```" in text
    assert "| 2025-11-26T13:05:05Z | oom | app-oom-1 | oom | - | - |" in text
    assert "Last deploy: deploy of `app-1.0.0-b7-cd0ad3dfbf61`, failed, started 2026-11-26T13:04:40Z." in text
    assert "- stored releases: 1, 2.0 KiB" in text


def test_the_markdown_without_a_release_or_junit_files():
    doc = d.diagnosis_report({"qa1": {"msg": "the Docker Engine does not answer"}}, environment="qa", project="app")
    text = d.diagnosis_markdown(doc)
    assert "No release is recorded for what runs" in text and "Not diagnosed: the Docker Engine does not answer" in text


def test_the_filters():
    filters = FilterModule().filters()
    doc = filters["diagnosis_report"]({"qa1": host_result()}, environment="qa", project="app")
    assert filters["diagnosis_markdown"](doc, log_lines=1).startswith("# Diagnosis of app in qa")
    with pytest.raises(AnsibleFilterError):
        filters["diagnosis_report"]("qa1")
    with pytest.raises(AnsibleFilterError):
        filters["diagnosis_markdown"]({"not": "a diagnosis"})


def test_events_the_engine_no_longer_has_come_from_the_containers_state():
    """The engine keeps its last 256 events only; the state of each container still tells its die, oom and health."""
    since = d.parse_time("2026-11-26T13:04:40Z")
    log = [{"Start": f"2026-11-26T13:05:2{i}Z", "ExitCode": 0 if i < 2 else 1, "Output": "x"} for i in range(5)]
    api = d.container_view(inspect("app-api-1", "api", health="unhealthy", log=log), "app")
    api["health"]["failing_streak"] = 3
    oom = d.container_view(inspect("app-oom-1", "oom", running=False, exit_code=137, oom=True), "app")
    crash = d.container_view(inspect("app-crash-1", "crash", running=False, exit_code=3), "app")
    old = d.container_view(inspect("app-old-1", "old", running=False, exit_code=0), "app")
    old["finished_at"] = "2026-11-26T12:00:00Z"  # before the deploy: not an event of this window
    engine = d.pick_events(
        [event("die", "app-crash-1", since + 29, exitCode="3", **{"com.docker.compose.service": "crash"})]
    )
    derived = d.state_events([api, oom, crash, old], engine, since)
    assert [(e["action"], e["container"], e["exit_code"], e["status"], e["time"]) for e in derived] == [
        ("health_status", "app-api-1", None, "unhealthy", "2026-11-26T13:05:22Z"),
        ("oom", "app-oom-1", None, None, "2026-11-26T13:05:09Z"),
        ("die", "app-oom-1", 137, None, "2026-11-26T13:05:09Z"),
    ]  # the crash's die is the engine's own
    merged = d.merge_events(engine, derived)
    assert [(e["action"], e["source"]) for e in merged] == [
        ("die", "engine"), ("oom", "state"), ("die", "state"), ("health_status", "state"),
    ]  # fmt: skip
    assert len(d.merge_events(engine, derived, limit=2)) == 2 and d.merge_events(engine, derived, limit=0) == []
