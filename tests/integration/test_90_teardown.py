"""The lab goes away with one command and leaves no container, network or volume behind."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import CLUSTER_HOSTS, LAB_HOSTS, ROOT


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def test_lab_down_leaves_nothing_behind(fresh_lab, lab_idle):
    lab = [sys.executable, str(ROOT / "tests" / "lab" / "lab.py")]
    subprocess.run([*lab, "up"], check=True, capture_output=True, timeout=600)
    volumes = [
        mount["Name"]
        for host in LAB_HOSTS + CLUSTER_HOSTS
        for mount in json.loads(docker("inspect", host))[0]["Mounts"]
        if mount["Type"] == "volume"
    ]
    assert len(volumes) == len(LAB_HOSTS + CLUSTER_HOSTS)  # each host's /var/lib/docker
    try:
        subprocess.run([*lab, "down"], check=True, capture_output=True, timeout=600)
        assert docker("ps", "-aq", "--filter", "label=io.outerloop.lab=host").strip() == ""
        assert docker("network", "ls", "-q", "--filter", "name=^outerloop-lab$").strip() == ""
        remaining = set(docker("volume", "ls", "-q").split())
        assert remaining.isdisjoint(volumes)
    finally:
        # Leave a lab for whatever runs next (the demo, a later test): fresh hosts, images reused.
        subprocess.run([*lab, "up"], check=True, capture_output=True, timeout=600)
