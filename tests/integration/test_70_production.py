"""Production on the Compose hosts, under load: the front proxy's switch, the canary, secrets, retention.

prod1 and prod2 (inventories/production) run the sample app's api behind the front proxy (HAProxy,
role front_proxy) on port 8080; prod1 is the canary and soaks before prod2 follows. While each event
runs, a client sends a request every 50 ms to each host's proxy, at the api's /healthz, which needs
every tier (the api and the store), and counts the failures and the versions that answered.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import (
    make_release_id,
    manifest_digest,
)

from .cd_releases import ADDRESSES, OUT, manifest_path, release, version
from .conftest import ROOT, on_host, playbook
from .traffic import Traffic

HOSTS = ("prod1", "prod2")
STATE = "/var/lib/outerloop/deployments/sample-app"
REPORT = ROOT / "tests" / "output" / "production-traffic.json"


def prod(name: str, *extra: str, patch: int | None = None):
    args = ("-e", f"outerloop_release_path={manifest_path(patch)}") if patch is not None else ()
    return playbook(f"outerloop.docker.{name}", *args, *extra, inventory="inventories/production")


def promote_to(env: str, patch: int):
    name = "deploy" if env == "qa" else "promote"
    return playbook(f"outerloop.docker.{name}", "-e", f"outerloop_release_path={manifest_path(patch)}",
                    inventory=f"inventories/{env}")  # fmt: skip


def history(host: str) -> list[dict]:
    return json.loads(on_host(host, "cat", f"{STATE}/history.json", check=True).stdout)


def containers(host: str, service: str) -> list[str]:
    return sorted(on_host(host, "docker", "ps", "-q", "--filter", "label=com.docker.compose.project=sample-app",
                          "--filter", f"label=com.docker.compose.service={service}").stdout.split())  # fmt: skip


def current(host: str) -> str | None:
    done = [e for e in history(host) if e["result"] == "succeeded"]
    return done[-1]["release_id"] if done else None


def under_traffic(name: str, action):
    """Run action() while a client per host sends requests to its proxy; (result, {host: traffic})."""
    traffic = {host: Traffic(f"http://{ADDRESSES[host]}:8080/healthz") for host in HOSTS}
    t0 = time.monotonic()
    for each in traffic.values():
        each.__enter__()
    try:
        time.sleep(1)
        result = action()
        time.sleep(2)
    finally:
        for each in traffic.values():
            each.__exit__(None, None, None)
    data = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    data[name] = {host: {"requests": t.sent, "failed": len(t.failures), "versions": dict(t.versions),
                         "first_failures": t.failures[:5]} for host, t in traffic.items()}  # fmt: skip
    data[name]["seconds"] = round(time.monotonic() - t0, 1)
    REPORT.write_text(json.dumps(data, indent=2))
    return result, traffic


def in_background(action):
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", action()), daemon=True)
    thread.start()
    return thread, box


def wait_for(predicate, timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s")


def passed_staging(patch: int) -> bool:
    """Whether staging1's history holds a successful deploy of the release (test_30's, in a whole run)."""
    entries = json.loads(on_host("staging1", "cat", f"{STATE}/history.json").stdout or "[]")
    return any(e["release_id"] == release(patch)["release_id"] and e["result"] == "succeeded" for e in entries)


@pytest.fixture(scope="module")
def on_release_0(releases):
    """Releases 0 and 1 have passed staging (here, unless an earlier file of the session promoted them);
    production runs release 0 behind its front proxies."""
    for patch in (0, 1):
        if passed_staging(patch):
            continue
        for env in ("qa", "staging"):
            run = promote_to(env, patch)
            assert run.rc == 0, run.out[-3000:]
    run = prod("promote", "-e", "deploy_canary_soak=3", patch=0)
    assert run.rc == 0, run.out[-3000:]
    for host in HOSTS:
        assert current(host) == release(0)["release_id"], history(host)[-3:]
        proxy = on_host(host, "docker", "inspect", "-f", "{{.State.Status}} {{.HostConfig.NetworkMode}}",
                        "outerloop-proxy")  # fmt: skip
        assert proxy.stdout.split() == ["running", "host"], proxy.stdout + proxy.stderr
        ports = on_host(host, "docker", "ps", "--filter", "label=com.docker.compose.service=api", "--format",
                        "{{.Ports}}").stdout  # fmt: skip
        assert "8080->" not in ports, ports  # the proxy owns the public port, the api publishes nothing
    return run


def test_a_deploy_with_a_secret_switches_both_hosts_and_loses_no_request(on_release_0, tmp_path):
    """Release 1 (the api alone changed) goes canary first, at -vvv, with an application secret."""
    token = f"tok-{time.time_ns()}-secret"
    secrets = tmp_path / "secrets.json"  # what Vault or an AWX credential would give, outside the artifacts
    secrets.write_text(json.dumps({"deploy_secrets": {"API_TOKEN": token}}))
    kept = {host: {s: containers(host, s) for s in ("store", "worker")} for host in HOSTS}
    run, traffic = under_traffic("deploy", lambda: prod("promote", "-vvv", "-e", f"@{secrets}", patch=1))
    assert run.rc == 0, run.out[-4000:]
    out = " ".join(run.out.split())
    assert "canary prod1: " in out and " 0 restarts, smoke ok; then prod2" in out, out[-3000:]
    for host in HOSTS:
        assert current(host) == release(1)["release_id"], history(host)[-3:]
        each = traffic[host]
        assert each.sent > 100 and each.failures == [], str(each)
        assert set(each.versions) <= {version(0), version(1)} and each.versions[version(1)] > 0, str(each)
        assert {s: containers(host, s) for s in ("store", "worker")} == kept[host]  # only the api restarted
    # The canary soaked before prod2 started.
    soaked = history("prod1")[-1]["finished"], history("prod2")[-1]["started"]
    assert soaked[0] <= soaked[1], soaked
    # The secret reached the api, and nothing else.
    assert token not in run.out, "the secret is in the -vvv output"
    for host in HOSTS:
        assert (
            '"token": true'
            in on_host(
                host,
                "python3",
                "-c",
                "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/healthz').read().decode())",
            ).stdout
        )
        assert token not in on_host(host, "cat", f"{STATE}/history.json").stdout
        holders = on_host(host, "grep", "-rl", token, STATE, "/srv/outerloop/apps").stdout.split()
        assert holders and all(path.endswith("/secrets.env") for path in holders), holders
        modes = on_host(host, "sh", "-c", f"stat -c %a {STATE}/releases/*/secrets.env").stdout.split()
        assert modes and set(modes) == {"600"}, modes
    for path in (ROOT / "tests" / "output").rglob("*"):
        if path.is_file():
            assert token not in path.read_text(errors="replace"), path
    assert token not in json.dumps(release(1))


def test_an_unhealthy_release_never_gets_a_request(on_release_0):
    """Release 2's api fails /healthz wherever APP_ENVIRONMENT is set: its new container never gets traffic."""
    before = {host: containers(host, "api") for host in HOSTS}
    run, traffic = under_traffic("unhealthy release", lambda: prod("deploy", "-e", "deploy_requires_environment=",
                                                                   patch=2))  # fmt: skip
    assert run.rc != 0
    assert "rolled back" in run.out.lower(), run.out[-3000:]
    for host in HOSTS:
        assert traffic[host].failures == [], str(traffic[host])
        assert traffic[host].versions[version(2)] == 0, str(traffic[host])
        assert containers(host, "api") == before[host], host  # the running api was never replaced
    assert current("prod1") == release(1)["release_id"]
    assert history("prod2")[-1]["release_id"] == release(1)["release_id"]  # the canary failed: prod2 untouched


def test_a_canary_that_fails_its_soak_is_rolled_back_and_the_rest_is_untouched(on_release_0):
    """Release 0 again: prod1 deploys it, then its worker dies during the soak; prod1 goes back to release 1."""
    untouched = containers("prod2", "api"), len(history("prod2"))

    def promote_and_break_the_canary():
        thread, box = in_background(lambda: prod("deploy", "-e", "deploy_canary_soak=20", patch=0))
        wait_for(lambda: current("prod1") == release(0)["release_id"])
        on_host("prod1", "docker", "kill", "sample-app-worker-1", check=True)
        thread.join(600)
        return box["result"]

    run, traffic = under_traffic("canary fails its soak", promote_and_break_the_canary)
    assert run.rc != 0
    out = " ".join(run.out.split())
    assert "The canary failed its soak" in out and "prod1 was rolled back to" in out, out[-3000:]
    assert "The other hosts (prod2) were not touched." in out, out[-3000:]
    assert current("prod1") == release(1)["release_id"]
    assert (containers("prod2", "api"), len(history("prod2"))) == untouched
    for host in HOSTS:
        assert traffic[host].failures == [], str(traffic[host])
    assert set(traffic["prod2"].versions) == {version(1)}


def test_rollback_yml_switches_back_without_losing_a_request(on_release_0):
    target = release(0)["release_id"]
    run, traffic = under_traffic("rollback.yml", lambda: prod("rollback", "-e", f"deploy_rollback_to={target}"))
    assert run.rc == 0, run.out[-3000:]
    for host in HOSTS:
        assert current(host) == target
        assert traffic[host].failures == [], str(traffic[host])
        assert traffic[host].versions[version(0)] > 0, str(traffic[host])


def test_the_same_release_again_changes_nothing_and_reloads_no_proxy(on_release_0):
    def reloads(host: str) -> int:
        return on_host(host, "docker", "logs", "outerloop-proxy").stderr.count("Loading success")

    before = {host: (reloads(host), containers(host, "api")) for host in HOSTS}
    run = prod("rollback", "-e", f"deploy_rollback_to={release(0)['release_id']}")
    assert run.rc == 0, run.out[-3000:]
    assert run.changed() == dict.fromkeys(HOSTS, 0), run.out[-3000:]
    assert {host: (reloads(host), containers(host, "api")) for host in HOSTS} == before


def test_retention_keeps_the_newest_five_and_a_rollback_still_works(on_release_0):
    """Seven releases (release 0's images under seven versions) on prod1; five release directories stay."""
    variants = []
    for n in range(7):
        manifest = release(0)
        manifest["version"] = f"{version(0)}-r{n}"
        manifest.pop("digest", None)
        manifest["release_id"] = make_release_id(manifest["application"], manifest["version"],
                                                 manifest["build"]["number"], manifest["source"]["commit"])  # fmt: skip
        manifest["digest"] = manifest_digest(manifest)
        path = OUT / f"retention-{n}.json"
        path.write_text(json.dumps(manifest, indent=2))
        variants.append((manifest, path))
    play = ROOT / "tests" / "integration" / "deploy_without_gate.yml"
    paths = json.dumps({"release_paths": [str(path) for _manifest, path in variants]})
    run = playbook(str(play), "--limit", "prod1", "-e", paths, inventory="inventories/production")
    assert run.rc == 0, run.out[-3000:]
    stored = on_host("prod1", "ls", f"{STATE}/releases").stdout.split()
    assert len(stored) == 5, stored
    assert {variants[-1][0]["release_id"], variants[-2][0]["release_id"]} <= set(stored), stored
    assert any(e.get("pruned") for e in history("prod1") if e["release_id"] == variants[0][0]["release_id"])
    back = prod("rollback", "--limit", "prod1")
    assert back.rc == 0, back.out[-3000:]
    assert current("prod1") == variants[-2][0]["release_id"]
