"""The swarm environment on the lab: provisioning forms the cluster; releases that passed qa and staging
on the compose hosts are promoted to it with the same playbooks; rolling updates, the swarm's own rollback,
a rollback from the history and the loss of a node, each under a continuous stream of requests.

The cluster is inventories/cluster: swarm1 (manager, holds the store) and the workers swarm2 and swarm3. Clients
reach the application through the lab's front proxy on port 8080 of any node (no IPVS here: see
inventories/cluster/group_vars/cluster/deploy.yml). The assertions look at the swarm itself (docker service
inspect on the manager), at what the proxy answers on every node, and at the requests that failed.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request

import pytest

from .cd_releases import manifest_path, release, version
from .conftest import CLUSTER_HOSTS, ROOT, on_host, playbook
from .traffic import Traffic

NODES = {"swarm1": "172.29.77.51", "swarm2": "172.29.77.52", "swarm3": "172.29.77.53"}
EDGE = "http://172.29.77.51:8080/healthz"  # the manager's proxy (the node the tests never stop), through every tier
TRAFFIC_REPORT = ROOT / "tests" / "output" / "swarm-traffic.json"


def cluster(playbook_name: str, *extra: str, patch: int | None = None):
    args = [f"outerloop.docker.{playbook_name}", *extra]
    if patch is not None:
        args += ["-e", f"outerloop_release_path={manifest_path(patch)}"]
    return playbook(*args, inventory="inventories/cluster")


def promote(env: str, patch: int):
    name = "deploy" if env == "qa" else "promote"
    return playbook(f"outerloop.docker.{name}", "-e", f"outerloop_release_path={manifest_path(patch)}",
                    inventory=f"inventories/{env}")  # fmt: skip


def stack_digests() -> dict[str, str]:
    """Service -> the digest of its spec, from the swarm manager."""
    names = on_host("swarm1", "docker", "stack", "services", "sample-app", "--format", "{{.Name}}").stdout.split()
    digests = {}
    for name in names:
        image = on_host("swarm1", "docker", "service", "inspect", name, "--format",
                        "{{.Spec.TaskTemplate.ContainerSpec.Image}}").stdout.strip()  # fmt: skip
        digests[name.removeprefix("sample-app_")] = image.rpartition("@")[2] if "@" in image else image
    return digests


def runs_release(patch: int) -> bool:
    digests = stack_digests()
    return all(digests.get(name) == svc["digest"] for name, svc in release(patch)["services"].items())


def task_ids() -> list[str]:
    out = on_host("swarm1", "docker", "stack", "ps", "sample-app", "--filter", "desired-state=running", "-q").stdout
    return sorted(out.split())


def served(node: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{NODES[node]}:8080/version", timeout=5) as resp:
            return json.load(resp)["version"]
    except OSError:
        return None


def record(name: str, traffic: Traffic, seconds: float) -> None:
    """Keep the request counts for the report (README, closing note)."""
    data = json.loads(TRAFFIC_REPORT.read_text()) if TRAFFIC_REPORT.exists() else {}
    data[name] = {"requests": traffic.sent, "failed": len(traffic.failures), "seconds": round(seconds, 1),
                  "versions": dict(traffic.versions), "first_failures": traffic.failures[:5]}  # fmt: skip
    TRAFFIC_REPORT.write_text(json.dumps(data, indent=2) + "\n")


def under_traffic(name: str, action):
    """Run action() while a client sends requests to the cluster; returns (action's result, traffic)."""
    t0 = time.monotonic()
    with Traffic(EDGE) as traffic:
        time.sleep(1)
        result = action()
        time.sleep(2)
    record(name, traffic, time.monotonic() - t0)
    return result, traffic


@pytest.fixture(scope="module")
def formed(releases, cluster_provisioning):
    """The cluster's hosts provisioned (Docker without live-restore) and the swarm formed by provision.yml
    (in the background since the lab was provisioned: conftest.cluster_provisioning). The releases come
    first: from an earlier file of the session, or made here while the swarm's hosts are provisioned."""
    TRAFFIC_REPORT.unlink(missing_ok=True)
    run, seed = cluster_provisioning
    assert seed is not None and seed.rc == 0, (seed or run).out[-3000:]
    return run


@pytest.fixture(scope="module")
def on_cluster(formed, releases):
    """Release 0 promoted to the cluster; it must have passed staging (test_30 did that, else it is done here)."""
    run = cluster("promote", patch=0)
    if run.rc != 0 and "has not passed staging" in run.out:
        for env in ("qa", "staging"):
            assert promote(env, 0).rc == 0
        run = cluster("promote", patch=0)
    return run


def test_provision_forms_the_swarm_from_the_inventory(formed):
    assert formed.rc == 0, formed.out[-3000:]
    nodes = on_host("swarm1", "docker", "node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}")
    assert sorted(nodes.stdout.splitlines()) == ["swarm1 Ready Leader", "swarm2 Ready ", "swarm3 Ready "]
    label = on_host("swarm1", "docker", "node", "inspect", "swarm1", "--format", "{{json .Spec.Labels}}").stdout
    assert json.loads(label) == {"outerloop.store": "true"}
    for host in CLUSTER_HOSTS:
        daemon = json.loads(on_host(host, "cat", "/etc/docker/daemon.json").stdout)
        assert daemon["live-restore"] is False, host
    again = playbook("outerloop.docker.provision", "--limit", "cluster", "--tags", "swarm")
    assert again.rc == 0, again.out[-3000:]
    assert again.changed() == dict.fromkeys(CLUSTER_HOSTS, 0), again.out[-3000:]


def test_the_release_from_staging_runs_on_the_swarm(on_cluster):
    assert on_cluster.rc == 0, on_cluster.out[-4000:]
    assert runs_release(0), stack_digests()
    assert all(served(node) == version(0) for node in NODES), {node: served(node) for node in NODES}
    # the status table at the end of the run: per service replicas and nodes, the nodes' state
    assert "SERVICE | REPLICAS | DIGEST | IN SYNC | NODES" in on_cluster.out
    assert "NODES: swarm1 ready, swarm2 ready, swarm3 ready" in on_cluster.out


def test_a_release_that_has_not_passed_staging_is_refused(on_cluster):
    before = stack_digests()
    run = cluster("promote", patch=2)
    assert run.rc != 0
    assert "has not passed staging" in run.out, run.out[-3000:]
    assert stack_digests() == before


def test_the_same_release_again_changes_nothing(on_cluster):
    before = task_ids()
    run = cluster("promote", patch=0)
    assert run.rc == 0, run.out[-3000:]
    assert run.changed() == {"swarm1": 0}, run.out[-3000:]
    assert task_ids() == before


def test_check_mode_shows_the_digests_that_would_change(on_cluster):
    run = cluster("deploy", "--check", "--diff", "-e", "deploy_requires_environment=", patch=1)
    assert run.rc == 0, run.out[-3000:]
    for name, svc in release(1)["services"].items():
        assert svc["digest"] in run.out, name
    assert runs_release(0)


def running_tasks(service: str) -> list[str]:
    out = on_host("swarm1", "docker", "service", "ps", f"sample-app_{service}", "-qf", "desired-state=running")
    return sorted(out.stdout.split())


def test_a_rolling_update_loses_no_request(on_cluster):
    def promote_release_1():
        run = cluster("promote", patch=1)
        if run.rc != 0 and "has not passed staging" in run.out:  # test_30 did not run before
            assert promote("qa", 1).rc == 0 and promote("staging", 1).rc == 0
            run = cluster("promote", patch=1)
        return run

    stateful = {service: running_tasks(service) for service in ("store", "worker")}
    run, traffic = under_traffic("rolling update", promote_release_1)
    assert run.rc == 0, run.out[-4000:]
    assert runs_release(1), stack_digests()
    # release 1 changes the api alone: the store and the workers keep their tasks
    assert {service: running_tasks(service) for service in stateful} == stateful
    assert traffic.sent > 100 and traffic.failures == [], str(traffic)
    assert traffic.versions[version(0)] > 0 and traffic.versions[version(1)] > 0, str(traffic)


def test_an_unhealthy_release_is_rolled_back_by_the_swarm_and_loses_no_request(on_cluster):
    # Release 2 never passed staging (it is the broken one): the gate is lifted for this deploy only.
    run, traffic = under_traffic(
        "swarm rollback", lambda: cluster("deploy", "-e", "deploy_requires_environment=", patch=2)
    )
    assert run.rc != 0
    assert "the swarm rolled it back" in run.out and "api: rolled_back" in run.out, run.out[-3000:]
    assert runs_release(1), stack_digests()
    assert traffic.failures == [] and set(traffic.versions) == {version(1)}, str(traffic)
    history = json.loads(on_host("swarm1", "cat", "/var/lib/outerloop/stacks/sample-app/history.json").stdout)
    assert history[-1]["result"] == "rolled_back" and history[-1]["version"] == version(2)


def test_rollback_goes_back_in_the_history_and_status_reports_it(on_cluster):
    run, traffic = under_traffic("rollback.yml", lambda: cluster("rollback", "-e", "deploy_project=sample-app"))
    assert run.rc == 0, run.out[-3000:]
    assert runs_release(0), stack_digests()
    assert traffic.failures == [], str(traffic)
    status = cluster("status", "-e", "deploy_project=sample-app", patch=1)
    assert status.rc == 0, status.out[-3000:]
    # compared with release 1, the stack (back on release 0) has drifted in the services whose image differs:
    # the api alone (CI kept the worker's and the store's images, their content did not change)
    before, after = release(0)["services"], release(1)["services"]
    services = sorted(name for name in after if after[name]["digest"] != before[name]["digest"])
    assert services == ["api"], services
    assert f"drift: {', '.join(services)}" in status.out, status.out[-3000:]


def test_a_release_that_fails_its_smoke_check_goes_back_to_the_release_before(on_cluster):
    """stack_deploy runs the smoke checks itself, as compose_deploy does: release 1 converges, its check fails,
    the stack returns to release 0 (the rollback test left it there) and the run names the check."""
    assert runs_release(0), stack_digests()
    checks = {"deploy_smoke_checks": [{"url": "http://127.0.0.1:8080/version", "contains": "no-such-version",
                                       "retries": 2, "delay": 1}]}  # fmt: skip
    run, traffic = under_traffic("smoke check rollback", lambda: cluster("promote", "-e", json.dumps(checks), patch=1))
    assert run.rc != 0
    said = " ".join(run.out.split())  # the failure as one line, however the output folded it
    assert "smoke check http://127.0.0.1:8080/version failed: status 200 but the body does not contain" in said
    assert f"Rolled back to {release(0)['release_id']}, which runs again" in said, run.out[-3000:]
    assert runs_release(0), stack_digests()
    assert traffic.failures == [], str(traffic)
    history = json.loads(on_host("swarm1", "cat", "/var/lib/outerloop/stacks/sample-app/history.json").stdout)
    assert history[-1]["result"] == "rolled_back" and history[-1]["version"] == version(1)
    assert "smoke check" in history[-1]["reason"]


def api_update_underway() -> str | None:
    """While the swarm updates the api: a worker to lose, one that runs no api task that serves (the lab's api has
    a single task: a node lost with it is an outage whatever deploys, until the swarm starts it elsewhere). The
    new task is still starting then (healthy at the earliest after its 2 s health interval). None before the
    update starts."""
    status = json.loads(on_host("swarm1", "docker", "service", "inspect", "sample-app_api", "--format",
                                "{{json .UpdateStatus}}").stdout or "null")  # fmt: skip
    if not status or status.get("State") != "updating":
        return None
    tasks = on_host("swarm1", "docker", "service", "ps", "sample-app_api", "--filter", "desired-state=running",
                    "--format", "{{.Node}} {{.CurrentState}}").stdout.splitlines()  # fmt: skip
    serving = {line.split()[0] for line in tasks if line.split()[1:2] == ["Running"]}
    # (None for the moment a new task runs and the old one has not stopped yet, both on the workers)
    return next((node for node in ("swarm3", "swarm2") if node not in serving), None)


def test_a_node_lost_during_a_deploy(on_cluster):
    """A worker is killed once the swarm is updating the api to release 1 (one that runs no api task that serves):
    the stack converges on the two other nodes, the run says the node is down, and no request is lost."""
    lost = []

    def deploy_and_lose_a_node():
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "inventories/cluster", "outerloop.docker.promote",
             "-e", f"outerloop_release_path={manifest_path(1)}"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 300
        while not lost and proc.poll() is None and time.monotonic() < deadline:
            node = api_update_underway()
            if node is not None:
                subprocess.run(["docker", "kill", node], check=True, capture_output=True)
                lost.append(node)
            time.sleep(0.2)
        out = proc.communicate(timeout=900)[0]
        return proc.returncode, out

    try:
        (rc, out), traffic = under_traffic("node loss", deploy_and_lose_a_node)
        assert lost, "the swarm never updated the api: " + out[-3000:]
        assert rc == 0, out[-4000:]
        assert runs_release(1), stack_digests()
        states = {node: "down" if node in lost else "ready" for node in NODES}
        assert f"NODES: swarm1 ready, swarm2 {states['swarm2']}, swarm3 {states['swarm3']}" in out, out[-3000:]
        assert all(served(node) == version(1) for node in NODES if node not in lost)
        assert traffic.failures == [], str(traffic)
        status = cluster("status", "-e", "deploy_project=sample-app")
        assert f"{lost[0]} down" in status.out and "in sync" in status.out, status.out[-3000:]
        # the status document (status/status-cluster-*.json) is the stack's, not a manager that did not report
        doc = json.loads(max((ROOT / "status").glob("status-cluster-*.json")).read_text())
        assert doc["stack"]["release_id"] == release(1)["release_id"], doc["alerts"]
        assert f"swarm node {lost[0]} is not ready" in [a["message"] for a in doc["alerts"]], doc["alerts"]
    finally:
        for node in lost:
            subprocess.run(["docker", "start", node], check=True, capture_output=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            nodes = swarm_nodes()
            if all(f"{node} Ready" in nodes for node in NODES):
                break
            time.sleep(2)
    assert all(f"{node} Ready" in nodes for node in NODES), nodes


def swarm_nodes() -> list[str]:
    out = on_host("swarm1", "docker", "node", "ls", "--format", "{{.Hostname}} {{.Status}}").stdout
    return sorted(out.splitlines())


def test_a_host_removed_from_the_inventory_leaves_and_joins_again_when_back(on_cluster, tmp_path):
    """swarm3 out of the inventory: drained and removed (only when told); back in it: it joins again."""
    inventory = tmp_path / "cluster"
    inventory.mkdir()
    hosts = (ROOT / "inventories" / "cluster" / "hosts.yml").read_text()
    without = hosts.replace("                swarm3:\n                  ansible_host: 172.29.77.53\n", "")
    assert without != hosts
    (inventory / "hosts.yml").write_text(without)
    (inventory / "group_vars").symlink_to(ROOT / "inventories" / "cluster" / "group_vars")
    lab = ["-e", f"lab_dir={ROOT / '.lab'}", "-e", f"deploy_inventory_dir={ROOT / 'inventories' / 'cluster'}"]

    report = playbook("outerloop.docker.provision", "--tags", "swarm", *lab, inventory=str(inventory / "hosts.yml"))
    assert report.rc == 0, report.out[-3000:]
    assert "swarm_workers: swarm3 (set swarm_remove_absent_nodes" in report.out, report.out[-3000:]
    assert "swarm3 Ready" in swarm_nodes()  # reported, not removed

    removed = playbook("outerloop.docker.provision", "--tags", "swarm", "-e", "swarm_remove_absent_nodes=true", *lab,
                       inventory=str(inventory / "hosts.yml"))  # fmt: skip
    assert removed.rc == 0, removed.out[-3000:]
    assert swarm_nodes() == ["swarm1 Ready", "swarm2 Ready"]

    back = playbook("outerloop.docker.provision", "--tags", "swarm", inventory="inventories/cluster")
    assert back.rc == 0, back.out[-3000:]
    assert swarm_nodes() == ["swarm1 Ready", "swarm2 Ready", "swarm3 Ready"]
