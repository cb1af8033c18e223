"""Benchmark of the embedded lab against its targets (cold start < 6 min, warm start < 1 min).

    make bench             warm start, recreated hosts, provision second run
    make bench COLD=1      also a cold start: removes the lab images first (about 70 s more)

Prints each measurement, its target and the ratio measured/target (below 1.0 = within target),
all measured in this one run. Leaves the lab up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
LAB = [PY, str(ROOT / "tests" / "lab" / "lab.py")]


def timed(cmd: list[str]) -> float:
    t0 = time.monotonic()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0


def main() -> None:
    rows = []
    if os.environ.get("COLD") == "1":
        subprocess.run([*LAB, "purge"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        rows.append(("lab up, cold (images + hosts)", timed([*LAB, "up"]), 360.0))
    rows.append(("lab up, hosts recreated", timed([*LAB, "reset"]), 60.0))
    rows.append(("lab up, warm (hosts running)", timed([*LAB, "up"]), 60.0))
    print(f"{'measurement':36} {'seconds':>8} {'target':>8} {'ratio':>6}")
    for name, seconds, target in rows:
        print(f"{name:36} {seconds:8.1f} {target:8.0f} {seconds / target:6.2f}")
    if len(rows) > 2:
        print(f"warm/cold ratio: {rows[-1][1] / rows[0][1]:.3f}")


if __name__ == "__main__":
    main()
