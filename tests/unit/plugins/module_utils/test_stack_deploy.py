"""stack_deploy's pure logic: the stack file, .env round trip, service assessment against swarm state."""

import time

import pytest
import yaml
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import build_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.deploy import (
    DeployError,
    env_file_text,
    parse_env_text,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.swarm import (
    SwarmError,
    assess_service,
    desired_replicas,
    overall,
    validate_stack_name,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.swarm_deployer import (
    ROLLBACK_CONFIG_DEFAULTS,
    UPDATE_CONFIG_DEFAULTS,
    check_pinning,
    files_equal,
    stack_file,
    stack_files,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import digest_in

WEB = "sha256:" + "a1" * 32
OLD = "sha256:" + "0f" * 32
WORKER = "sha256:" + "b2" * 32
COMPOSE = """\
name: sample
services:
  web:
    build: ./web
    image: sample/web:${TAG:-dev}
    depends_on:
      worker:
        condition: service_healthy
    deploy:
      replicas: 3
      update_config:
        monitor: 60s
  worker:
    build: ./worker
"""
SINCE = 1_800_000_000.0


def stamp(offset=0.0):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(SINCE + offset))


@pytest.fixture(name="manifest")
def manifest_fixture():
    return build_manifest(
        application="sample-app",
        version="1.0.0",
        source_repository="https://git.example.com/sample.git",
        commit="3f2a9c1d0b8e4f5a6b7c8d9e0f1a2b3c4d5e6f70",
        build_number="7",
        build_host="build1",
        created="2026-11-26T13:00:00Z",
        tests={"suites": {"unit": {"passed": True, "tests": 1, "failures": 0}}},
        services={
            "web": {"image": f"reg1:5000/sample/web@{WEB}"},
            "worker": {"image": f"reg1:5000/sample/worker@{WORKER}"},
        },
        compose_file="compose.yaml",
        compose_content=COMPOSE,
    )


def service(image_digest=WEB, replicas=2, update=None):
    svc = {
        "ID": "svc1",
        "Spec": {
            "Name": "sample-app_web",
            "Mode": {"Replicated": {"Replicas": replicas}},
            "TaskTemplate": {"ContainerSpec": {"Image": f"reg1:5000/sample/web:1.0.0@{image_digest}"}},
        },
    }
    if update:
        svc["UpdateStatus"] = update
    return svc


def task(task_id, digest=WEB, state="running", *, desired="running", err=None, created=10.0, node="n1"):
    status = {"State": state, "Message": state}
    if err:
        status["Err"] = err
    return {
        "ID": task_id,
        "NodeID": node,
        "DesiredState": desired,
        "CreatedAt": stamp(created),
        "Status": status,
        "Spec": {"ContainerSpec": {"Image": f"reg1:5000/sample/web@{digest}"}},
    }


def test_stack_file_pins_digests_sets_version_and_fills_update_defaults(manifest):
    data = stack_file(manifest, UPDATE_CONFIG_DEFAULTS, ROLLBACK_CONFIG_DEFAULTS)
    assert data["version"] == "3.8"
    web, worker = data["services"]["web"], data["services"]["worker"]
    assert web["image"] == f"reg1:5000/sample/web@{WEB}" and "build" not in web
    assert worker["image"] == f"reg1:5000/sample/worker@{WORKER}"
    # the compose file's own keys win over the defaults, key by key
    assert web["deploy"]["update_config"]["monitor"] == "60s"
    assert web["deploy"]["update_config"]["order"] == "start-first"
    assert web["deploy"]["update_config"]["failure_action"] == "rollback"
    assert worker["deploy"]["update_config"] == UPDATE_CONFIG_DEFAULTS
    assert worker["deploy"]["rollback_config"] == ROLLBACK_CONFIG_DEFAULTS
    assert web["deploy"]["replicas"] == 3
    # what docker stack deploy misreads: a top-level name (it then sees no service) and depends_on
    # conditions (it wants a list)
    assert "name" not in data
    assert web["depends_on"] == ["worker"]


def test_stack_file_without_defaults_leaves_the_swarm_defaults(manifest):
    data = stack_file(manifest, {}, {})
    assert "rollback_config" not in data["services"]["worker"]["deploy"]
    assert data["services"]["web"]["deploy"]["update_config"] == {"monitor": "60s"}


def test_stack_files_give_the_override_the_stack_file_version(manifest):
    files = stack_files(manifest, {"services": {"web": {"deploy": {"replicas": 2}}}}, {"TAG": "x"}, {}, {})
    override = yaml.safe_load(files["compose.override.yaml"])
    assert override == {"version": "3.8", "services": {"web": {"deploy": {"replicas": 2}}}}
    assert parse_env_text(files[".env"]) == {"TAG": "x"}
    assert stack_files(manifest, {}, {}, {}, {})["compose.override.yaml"] is None
    assert files_equal(files, dict(files)) and not files_equal(None, files)
    assert not files_equal(stack_files(manifest, {}, {}, {}, {}), files)


def test_env_text_round_trip():
    env = {"A": "x$y", "B": "it's", "C": 'say "hi" \\ there', "D": ""}
    assert parse_env_text(env_file_text(env)) == env


def test_validate_stack_name():
    assert validate_stack_name("sample-app") == "sample-app"
    for bad in ("", "-x", "a b", None, "x" * 64):
        with pytest.raises(SwarmError, match="not a stack name"):
            validate_stack_name(bad)


def test_digest_in_and_desired_replicas():
    assert digest_in(f"reg/web:1@{WEB}") == WEB
    assert digest_in("reg/web:1") is None and digest_in(None) is None
    assert desired_replicas(service(replicas=3), []) == 3
    glob = {"Spec": {"Mode": {"Global": {}}}}
    tasks = [task("a"), task("b", node="n2"), task("c", desired="shutdown", node="n3"), task("d", node="n4")]
    assert desired_replicas(glob, tasks) == 3
    # a node that is down runs nothing the swarm can count on: not desired either
    assert desired_replicas(glob, tasks, down={"n4"}) == 2
    # right after a first deploy the swarm may not have made every node's task yet
    assert desired_replicas(glob, tasks[:1], eligible=3) == 3
    constrained = {
        "Spec": {"Mode": {"Global": {}}, "TaskTemplate": {"Placement": {"Constraints": ["node.role==worker"]}}}
    }
    assert desired_replicas(constrained, tasks[:1], eligible=3) == 1


def test_converged_when_every_replica_runs_the_release():
    result = assess_service(service(), [task("t2"), task("t1")], WEB, None)
    assert result["state"] == "converged"
    assert result["tasks"] == ["t1", "t2"] and result["running"] == 2 and result["desired"] == 2


def test_waiting_while_old_tasks_still_run_or_replicas_are_missing():
    old_stopping = task("old", digest=OLD, desired="shutdown")
    assert assess_service(service(), [task("t1"), task("t2"), old_stopping], WEB, None)["state"] == "waiting"
    assert assess_service(service(), [task("t1")], WEB, None)["state"] == "waiting"
    starting = task("t2", state="starting")  # a task with a healthcheck runs only once healthy
    assert assess_service(service(), [task("t1"), starting], WEB, None)["state"] == "waiting"


def test_updating_waits_even_when_replicas_look_right():
    update = {"State": "updating", "StartedAt": stamp(1)}
    assert assess_service(service(update=update), [task("t1"), task("t2")], WEB, SINCE)["state"] == "waiting"


def test_swarm_rollback_of_this_run_is_reported_with_the_task_errors():
    update = {"State": "rollback_completed", "StartedAt": stamp(1), "Message": "rollback completed"}
    tasks = [
        task("old1", digest=OLD),
        task("old2", digest=OLD),
        task(
            "bad", state="failed", desired="shutdown", err="task: non-zero exit (137): dockerexec: unhealthy container"
        ),
        task("ancient", state="failed", desired="shutdown", err="an older failure", created=-3600),
    ]
    result = assess_service(service(image_digest=OLD, update=update), tasks, WEB, SINCE, nodes={"n1": "sw1"})
    assert result["state"] == "rolled_back"
    assert result["errors"] == ["task bad on sw1: failed: task: non-zero exit (137): dockerexec: unhealthy container"]
    started = {"State": "rollback_started", "StartedAt": stamp(1)}
    assert assess_service(service(update=started), tasks, WEB, SINCE)["state"] == "rolling_back"
    paused = {"State": "paused", "StartedAt": stamp(1)}
    assert assess_service(service(update=paused), tasks, WEB, SINCE)["state"] == "failed"


def test_a_release_task_that_exited_0_when_stopped_unhealthy_is_named_as_the_reason():
    update = {"State": "rollback_completed", "StartedAt": stamp(1), "Message": "rollback completed"}
    done = task("done", state="complete", desired="shutdown", node="n2")
    done["Status"].update(Message="finished", ContainerStatus={"ExitCode": 0})
    tasks = [task("old1", digest=OLD), done, task("older", state="complete", desired="shutdown", created=-3600)]
    result = assess_service(service(image_digest=OLD, update=update), tasks, WEB, SINCE, nodes={"n2": "sw2"})
    assert result["state"] == "rolled_back"
    assert result["errors"] == ["task done on sw2: complete: finished (exit code 0)"]


def test_an_old_rollback_does_not_fail_an_unchanged_run():
    update = {"State": "rollback_completed", "StartedAt": stamp(-3600)}
    assert assess_service(service(update=update), [task("t1"), task("t2")], WEB, SINCE)["state"] == "converged"
    assert assess_service(service(update=update), [task("t1"), task("t2")], WEB, None)["state"] == "converged"


def test_a_spec_on_another_digest_fails():
    result = assess_service(service(image_digest=OLD), [task("t1", digest=OLD)], WEB, None)
    assert result["state"] == "failed"
    assert result["errors"][-1] == f"the service runs {OLD}, not {WEB}"


def test_overall_takes_the_worst_state():
    def item(state):
        return {"state": state}

    assert overall({"a": item("converged"), "b": item("converged")}) == "converged"
    assert overall({"a": item("converged"), "b": item("waiting")}) == "waiting"
    assert overall({"a": item("rolled_back"), "b": item("waiting")}) == "rolled_back"
    assert overall({"a": item("rolled_back"), "b": item("failed")}) == "failed"


def test_check_pinning_refuses_image_overrides_and_unpinned_services(manifest):
    check_pinning(manifest, {"services": {"web": {"deploy": {"replicas": 2}}}}, [], "mgr1")
    with pytest.raises(DeployError, match="image of release service 'web'"):
        check_pinning(manifest, {"services": {"web": {"image": "reg1:5000/sample/web:latest"}}}, [], "mgr1")
    proxy = {"services": {"proxy": {"image": "haproxy:2.9"}}}
    with pytest.raises(DeployError, match=r"add service 'proxy'.*allow_unpinned"):
        check_pinning(manifest, proxy, [], "mgr1")
    check_pinning(manifest, proxy, ["proxy"], "mgr1")
    check_pinning(manifest, {"services": {"proxy": {"image": f"haproxy@{OLD}"}}}, [], "mgr1")


def test_tasks_on_a_down_node_neither_count_nor_block():
    lost_old = task("lost", digest=OLD, node="n3")  # the manager still lists it as running
    tasks = [task("t1"), task("t2"), lost_old]
    assert assess_service(service(), tasks, WEB, None)["state"] == "waiting"
    assert assess_service(service(), tasks, WEB, None, down={"n3"})["state"] == "converged"
    lost_new = task("t2", node="n3")
    result = assess_service(service(), [task("t1"), lost_new], WEB, None, down={"n3"})
    assert result["state"] == "waiting" and result["running"] == 1


def test_an_update_waiting_for_a_task_on_a_node_that_went_down_is_stuck():
    update = {"State": "updating", "StartedAt": stamp(1)}
    placed = task("new-on-lost", state="assigned", desired="shutdown", node="n3", created=3)
    replacement = task("new-elsewhere", node="n2", created=20)
    tasks = [task("old", digest=OLD, node="n1"), placed, replacement]
    result = assess_service(service(update=update), tasks, WEB, SINCE, nodes={"n3": "sw3"}, down={"n3"})
    assert result["state"] == "waiting" and result["stuck_on"] == ["sw3"]
    # the same task on a node that is up is only slow; a completed update is not stuck
    assert assess_service(service(update=update), tasks, WEB, SINCE)["stuck_on"] == []
    done = {"State": "completed", "StartedAt": stamp(1)}
    assert assess_service(service(update=done), tasks, WEB, SINCE, down={"n3"})["stuck_on"] == []
