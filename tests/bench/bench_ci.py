"""Benchmark of the CI half (outerloop.docker.ci) on the lab, as ratios measured in one run.

    make bench-ci      (needs a provisioned lab: make demo, or make lab-up provision)

1. A new commit of the sample application through a plain shell script doing the same docker
   commands on the build host (tests/bench/ci_baseline.sh): build, unit tests, app up +
   functional tests, tag, push.
2. Another new commit through ci.yml (the same amount of building: each commit changes every
   service's build context).
3. ci.yml again on that unchanged commit.
Prints seconds and the ratios ci/shell (aim: at most 1.2) and rerun/first (aim: under 0.25).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
WORK = ROOT / "tests" / "output" / "bench-ci"
SSH = ["ssh", "-i", str(ROOT / ".lab/ssh/id_ed25519"), "-o", "StrictHostKeyChecking=no",
       "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "root@172.29.77.10"]  # fmt: skip
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@outerloop.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@outerloop.invalid"}  # fmt: skip


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(WORK / "repo"), *args], check=True, capture_output=True, text=True,
                          env=GIT_ENV).stdout.strip()  # fmt: skip


def new_commit(stamp: str) -> str:
    """Change every service's build context, so that each image really builds again."""
    for context in ("api", "worker", "store"):
        (WORK / "repo" / context / "BENCH_STAMP").write_text(stamp + "\n")
    git("add", "-A")
    git("commit", "-q", "-m", f"bench {stamp}")
    return git("rev-parse", "HEAD")


def timed(cmd: list[str], **kw) -> float:
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, **kw)
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:3])}... failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    return time.monotonic() - t0


def main() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    shutil.copytree(ROOT / "examples" / "sample-app", WORK / "repo", ignore=shutil.ignore_patterns("__pycache__"))
    git("init", "-q", "-b", "main")
    run_id = str(int(time.time()))
    minor = int(run_id) % 100_000_000

    # 1. The shell script, on its own commit.
    sha = new_commit(f"shell-{run_id}")
    src = f"/var/tmp/bench-{sha[:12]}"
    script = (ROOT / "tests" / "bench" / "ci_baseline.sh").read_text()
    archive = subprocess.run(["git", "-C", str(WORK / "repo"), "archive", "--format=tar", sha], capture_output=True,
                             check=True).stdout  # fmt: skip
    t0 = time.monotonic()
    subprocess.run([*SSH, f"mkdir -p {src} && tar -x -C {src}"], input=archive, check=True)
    subprocess.run([*SSH, "bash", "-s", "--", src, "reg1:5000/bench/sample-app", f"2.{minor}.0", "1", sha],
                   input=script.encode(), check=True)  # fmt: skip
    shell = time.monotonic() - t0

    # 2. and 3. ci.yml on another commit, twice.
    new_commit(f"ansible-{run_id}")
    ci = [str(VENV_BIN / "ansible-playbook"), "-i", "inventories/lab", "outerloop.docker.ci",
          "-e", f"@{ROOT}/examples/ci-sample-app.yml",
          "-e", json.dumps({"ci_source_repo": str(WORK / "repo"), "ci_version": f"3.{minor}.0",
                            "ci_repository_prefix": "bench/sample-app-ansible",
                            "ci_release_dir": str(WORK / "releases")})]  # fmt: skip
    first = timed(ci)
    second = timed(ci)

    print(f"{'measurement':44} {'seconds':>8}")
    print(f"{'shell script (build, test, tag, push)':44} {shell:8.1f}")
    print(f"{'ci.yml, first run on a new commit':44} {first:8.1f}")
    print(f"{'ci.yml, second run on the same commit':44} {second:8.1f}")
    print(f"ratio ci.yml / shell script: {first / shell:.2f} (aim <= 1.20)")
    print(f"ratio rerun / first run:     {second / first:.2f} (aim < 0.25)")


if __name__ == "__main__":
    main()
