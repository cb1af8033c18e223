"""Benchmark of the CD half on the lab, as ratios measured in one run.

    make bench-cd      (needs a provisioned lab: make demo, or make lab-up provision)

1. Three new commits of the sample application, each changing the api alone, through ci.yml: releases W, A
   and B (not timed). W goes through qa, staging and production first, so that production runs the release
   before A, as it does when a team promotes release after release (a host that ran nothing before pulls every
   layer of every image, and the first promote would then measure that pull); then A through qa and staging.
2. The production promote of A (canary first, soak, then the other host), then the same promote again
   with nothing to change, three times (the median). Ratio rerun / first (aim: at most 0.15). Between the reruns,
   the floor under them (tests/bench/one_look.yml: ansible-playbook and only the look at each host).
3. Per host, on qa1, release A then B as two projects of their own: one with today's deploy (docker
   compose up recreates the api, its port published by the container), one whose api switches behind
   the front proxy. Ratio switch / recreate for the deploy of B (aim: at most 1.3).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
WORK = ROOT / "tests" / "output" / "bench-cd"
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@outerloop.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@outerloop.invalid"}  # fmt: skip
ENV = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PWD": str(ROOT)}


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(WORK / "repo"), *args], check=True, capture_output=True, text=True,
                          env=GIT_ENV).stdout.strip()  # fmt: skip


def api_commit(stamp: str) -> None:
    app = WORK / "repo" / "api" / "app.py"
    app.write_text(app.read_text() + f"\n# bench {stamp}\n")
    git("commit", "-q", "-am", f"bench {stamp}")


def playbook(name: str, inventory: str, *extra: str) -> float:
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", inventory, name, *extra]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[1:5])}... failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    return time.monotonic() - t0


def project(name: str, port: int, proxied: bool) -> str:
    """Extra variables for a qa1 project of the bench: its own name and port, with or without the proxy."""
    proxy = {"services": {"api": {"port": port, "target": 8080, "health_path": "/healthz"}}, "drain_timeout": 10}
    settings = {
        "deploy_project": name,
        "deploy_env": {"API_PORT": str(port), "APP_ENVIRONMENT": "qa", "WORKER_POLL_SECONDS": "1"},
        "deploy_proxy": proxy if proxied else {},
        "deploy_smoke_checks": [{"url": f"http://127.0.0.1:{port}/healthz", "contains": '"ok"'}],
    }
    return json.dumps(settings)


def main() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    shutil.copytree(ROOT / "examples" / "sample-app", WORK / "repo", ignore=shutil.ignore_patterns("__pycache__"))
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "sample app")
    minor = int(time.time()) % 100_000_000
    manifests = []
    for n in range(3):
        api_commit(f"{minor}.{n}")
        version = f"4.{minor}.{n}"
        playbook("outerloop.docker.ci", "inventories/lab", "-e", f"@{ROOT}/examples/ci-sample-app.yml", "-e",
                 json.dumps({"ci_source_repo": str(WORK / "repo"), "ci_version": version,
                             "ci_release_dir": str(WORK / "releases")}))  # fmt: skip
        manifests.append(WORK / "releases" / f"sample-app-{version}.json")
    w, a, b = (f"outerloop_release_path={path}" for path in manifests)

    # The release before A, in every environment (not timed).
    playbook("outerloop.docker.deploy", "inventories/qa", "-e", w)
    playbook("outerloop.docker.promote", "inventories/staging", "-e", w)
    playbook("outerloop.docker.promote", "inventories/production", "-e", w)

    playbook("outerloop.docker.deploy", "inventories/qa", "-e", a)
    playbook("outerloop.docker.promote", "inventories/staging", "-e", a)
    first = playbook("outerloop.docker.promote", "inventories/production", "-e", a)
    # The rerun changes nothing, so it can be measured again: the median of three, each printed (the lab's
    # health checks and whatever else runs on the machine make single runs vary by a second or two). Between
    # them, on the same load, the floor: ansible-playbook with only the look the rerun takes at each host.
    reruns, floors = [], []
    for _attempt in range(3):
        reruns.append(playbook("outerloop.docker.promote", "inventories/production", "-e", a))
        floors.append(playbook(str(ROOT / "tests" / "bench" / "one_look.yml"), "inventories/production", "-e", a))
    rerun, floor = statistics.median(reruns), statistics.median(floors)

    times = {}
    for name, port, proxied in (("bench-recreate", 18091, False), ("bench-switch", 18092, True)):
        settings = project(name, port, proxied)
        playbook("outerloop.docker.deploy", "inventories/qa", "-e", a, "-e", settings)
        times[name] = playbook("outerloop.docker.deploy", "inventories/qa", "-e", b, "-e", settings)
        playbook("outerloop.docker.deploy", "inventories/qa", "-e", settings, "-e", "deploy_state=absent")

    print(f"{'measurement':58} {'seconds':>8}")
    print(f"{'production promote of a new release (canary, soak, prod2)':58} {first:8.1f}")
    print(f"{'the same promote again, nothing to change (median of 3)':58} {rerun:8.1f}")
    print(f"{'  the three reruns':58} {' / '.join(f'{t:.1f}' for t in reruns):>8}")
    print(f"{'  floor: ansible-playbook and one look per host (median)':58} {floor:8.1f}")
    print(f"{'qa1: deploy of the next release, docker compose up':58} {times['bench-recreate']:8.1f}")
    print(f"{'qa1: deploy of the next release, switched behind the proxy':58} {times['bench-switch']:8.1f}")
    print(f"ratio rerun / first promote:   {rerun / first:.2f} (aim <= 0.15; the floor alone: {floor / first:.2f})")
    print(f"ratio switch / compose up:     {times['bench-switch'] / times['bench-recreate']:.2f} (aim <= 1.30)")


if __name__ == "__main__":
    main()
