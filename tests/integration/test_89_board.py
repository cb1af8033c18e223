"""The release board (playbooks/board.yml) on the lab, seen in a real browser: headless Chromium (Debian's
chromium) opens the page from its file, takes a screenshot, and dumps the DOM it rendered. Every environment of
the lab's inventory is there, and each host shows the version that the hosts themselves say they run: the
org.opencontainers.image.version label of the api's containers, read with docker on each host. The board only
reads: the page is the one change of the run."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser

import pytest
import yaml

from .conftest import ROOT, on_host, playbook

CHROMIUM = shutil.which("chromium")
WIDTH, HEIGHT = 1280, 1600
PROJECT = "sample-app"
VERSION_LABEL = "org.opencontainers.image.version"
ENVIRONMENTS = ("qa", "staging", "production", "cluster")


def lab_environments() -> dict[str, list[str]]:
    """The hosts of each environment, from the lab's inventory file."""
    groups = yaml.safe_load((ROOT / "inventories" / "lab" / "hosts.yml").read_text())["all"]["children"]

    def hosts(group: dict) -> list[str]:
        found = list((group or {}).get("hosts") or {})
        for child in ((group or {}).get("children") or {}).values():
            found += hosts(child)
        return found

    docker_hosts = groups["docker_hosts"]["children"]
    return {env: hosts(docker_hosts[env]) for env in ENVIRONMENTS}


def api_versions(host: str, *labels: str) -> set[str]:
    """The version labels of the running containers with all these labels on a host (empty when Docker does not
    answer)."""
    filters = [arg for label in labels for arg in ("--filter", f"label={label}")]
    run = on_host(host, "docker", "ps", *filters, "--format", f'{{{{.Label "{VERSION_LABEL}"}}}}')
    return {line.strip() for line in run.stdout.splitlines() if line.strip()}


def expected_versions() -> dict[tuple[str, str], str]:
    """(environment, board row) -> version, from the hosts: a Compose host's api container; on the swarm the api
    tasks' containers, on whichever node they run."""
    expected = {}
    for env, hosts in lab_environments().items():
        if env == "cluster":
            seen = set().union(*(api_versions(h, f"com.docker.swarm.service.name={PROJECT}_api") for h in hosts))
            assert len(seen) <= 1, f"the swarm runs api tasks of several versions: {seen}"
            expected[(env, f"stack {PROJECT}")] = seen.pop() if seen else ""
            continue
        for host in hosts:
            seen = api_versions(host, f"com.docker.compose.project={PROJECT}", "com.docker.compose.service=api")
            assert len(seen) <= 1, f"{host} runs api containers of several versions: {seen}"
            expected[(env, host)] = seen.pop() if seen else ""
    return expected


class Dom(HTMLParser):
    """What the board's DOM holds: the host rows, the environment sections, the proof badges, every tag."""

    def __init__(self):
        super().__init__()
        self.rows, self.sections, self.proofs, self.tags = [], [], [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "tr" and "data-host" in attrs:
            self.rows.append(attrs)
        if tag == "section" and "data-environment" in attrs:
            self.sections.append(attrs["data-environment"])
        if "data-proof-state" in attrs:
            self.proofs.append((attrs["data-proof"], attrs["data-proof-state"]))


def png_size_and_colours(path) -> tuple[int, int, int]:
    """Width, height and the number of distinct colours (sampled) of an 8-bit RGB(A) PNG, decoded here: every
    chunk's CRC checked, the image data inflated and unfiltered."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in the PNG chunk {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    width, height, depth, colour, _comp, _filter, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour in (2, 6), interlace) == (8, True, 0), (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(raw) == height * (stride + 1)
    prev, colours = bytearray(stride), set()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride) if kind else ():
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        if y % 8 == 0:
            colours.update(bytes(line[i : i + 3]) for i in range(0, stride, bpp * 4))
        prev = line
    return width, height, len(colours)


def chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def board(provisioned_lab, tmp_path_factory):
    out = tmp_path_factory.mktemp("board")
    run = playbook("outerloop.docker.board", "-e", f"board_dir={out}")
    return run, out / "board.html"


def test_the_board_shows_every_environment_with_the_version_each_host_runs(board, tmp_path):
    assert CHROMIUM is not None, "Debian's chromium is not installed: scripts/bootstrap.sh installs it"
    run, page = board
    assert run.rc == 0, run.out[-3000:]
    assert f"The release board: {page}" in run.out
    # Read-only for the hosts: the page on the controller is the one change of the run.
    assert sum(run.changed().values()) == 1, run.recap
    expected = expected_versions()

    shot = tmp_path / "board.png"
    taken = chromium(f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page.as_uri())
    assert taken.returncode == 0 and shot.exists(), taken.stderr[-2000:]
    width, height, colours = png_size_and_colours(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    assert colours > 20, f"the screenshot is blank: {colours} colour(s)"

    dumped = chromium("--dump-dom", page.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = Dom()
    dom.feed(dumped.stdout)
    assert not dom.tags & {"script", "img", "link", "iframe"}, "the page is self-contained"
    assert dom.sections == list(ENVIRONMENTS)
    shown = {(row["data-environment"], row["data-host"]): row["data-version"] for row in dom.rows}
    assert shown == expected
    # The proofs of every running release are read from the registry, one badge per environment.
    running = {version for version in expected.values() if version}
    if running:
        states = {state for _env, state in dom.proofs}
        assert states <= {"passed", "partial", "absent", "conflict", "unknown"} and states != {"unknown"}, states
