"""stack_info's pure logic: per service replicas, digests and lost nodes, drift against a release."""

from ansible_collections.outerloop.docker.plugins.module_utils._domain import history
from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import stored_services
from ansible_collections.outerloop.docker.plugins.module_utils._stack_info import build_stack_report

from .test_stack_deploy import OLD, WEB, WORKER, service, task


def node(node_id, hostname, state="ready", role="worker"):
    return {"ID": node_id, "Description": {"Hostname": hostname}, "Status": {"State": state, "Addr": "10.0.0.1"},
            "Spec": {"Role": role, "Availability": "active", "Labels": {}}}  # fmt: skip


def worker_service(digest=WORKER):
    svc = service(digest, replicas=1)
    svc["Spec"]["Name"] = "sample-app_worker"
    return svc


NODES = [node("n1", "mgr1", role="manager"), node("n2", "wrk1"), node("n3", "wrk2", state="down")]
EXPECTED = {"against": "release", "release_id": "sample-app-1.0.0-b7-3f2a9c1d0b8e",
            "services": {"web": WEB, "worker": WORKER}, "repositories": {}}  # fmt: skip
HISTORY = [{"action": "deploy", "result": "succeeded", "release_id": "sample-app-1.0.0-b7-3f2a9c1d0b8e",
            "version": "1.0.0", "finished": "2026-11-26T13:00:00Z"}]  # fmt: skip


def report(services, tasks, known=None):
    return build_stack_report("sample-app", services, tasks, NODES, HISTORY, expected=EXPECTED, known=known)


def test_in_sync_stack_reports_replicas_nodes_and_the_lost_node():
    result = report(
        {"web": service(WEB, replicas=2), "worker": worker_service()},
        {"web": [task("a", node="n1"), task("b", node="n2"), task("c", node="n3")],
         "worker": [task("w", digest=WORKER, node="n2")]},
    )  # fmt: skip
    web = result["services"]["web"]
    assert web["replicas"] == "2/2" and web["converged"] and web["in_sync"]
    assert web["nodes"] == ["mgr1", "wrk1"] and web["lost_on"] == ["wrk2"]
    assert result["nodes_down"] == ["wrk2"] and [n["hostname"] for n in result["nodes"]] == ["mgr1", "wrk1", "wrk2"]
    assert result["drift"] == {"against": "release", "release_id": EXPECTED["release_id"], "in_sync": True,
                               "changed": [], "missing": [], "extra": []}  # fmt: skip
    assert result["converged"] and result["release_id"] == EXPECTED["release_id"]


def test_drift_changed_missing_and_extra():
    proxy = service(OLD, replicas=1)
    result = report({"web": service(OLD), "proxy": proxy}, {"web": [task("a", digest=OLD)], "proxy": []},
                    known={"web", "worker"})  # fmt: skip
    assert result["services"]["web"]["in_sync"] is False
    assert result["services"]["web"]["replicas"] == "0/2"  # none runs the release digest
    assert result["drift"]["changed"] == ["web"]
    assert result["drift"]["missing"] == ["worker"]
    assert result["drift"]["extra"] == ["proxy"]
    # a service the deploy's overrides added is not extra
    assert (
        report({"web": service(WEB), "proxy": proxy}, {"web": []}, known={"web", "worker", "proxy"})["drift"]["extra"]
        == []
    )


def test_a_task_still_on_the_old_digest_is_drift_even_when_the_spec_is_right():
    tasks = {"web": [task("a"), task("b", digest=OLD, node="n2")], "worker": [task("w", digest=WORKER)]}
    result = report({"web": service(WEB, replicas=2), "worker": worker_service()}, tasks)
    web = result["services"]["web"]
    assert web["running_digests"] == sorted([WEB, OLD]) and not web["in_sync"] and not web["converged"]
    assert result["drift"]["changed"] == ["web"]


def test_without_release_or_history_no_drift():
    result = build_stack_report("sample-app", {"web": service(WEB)}, {"web": [task("a")]}, NODES, [])
    assert result["drift"] is None and result["release_id"] is None
    assert result["services"]["web"]["in_sync"] is None and result["services"]["web"]["replicas"] == "1/2"


def test_stored_services_reads_the_override(tmp_path):
    override = '{"services": {"edge": {}}}'
    files = {"manifest.json": "{}", "compose.yaml": "services: {}\n", "compose.override.yaml": override, ".env": None}
    history.write_release_files(str(tmp_path), "sample-app", "r1", files)
    assert stored_services(str(tmp_path), "sample-app", {"release_id": "r1"}) == {"edge"}
    assert stored_services(str(tmp_path), "sample-app", None) == set()
