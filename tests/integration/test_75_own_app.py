"""Your own application: the second example (examples/notes-app, an API and a SQLite database on a volume)
from CI to production on the lab, with the commands of docs/your-own-app.md and nothing else.

The commands are read from the page: each fenced bash block after a marker ``<!-- test: NAME -->`` is a step,
run with bash from the repository's root as a user would (``variables`` first, for the steps that use its
names), so the page cannot drift from what runs here. The assertions look at what a user notices: the release
manifest CI wrote, the digests the containers run (docker inspect on each host), what the API answers through
each host's front proxy, the data of the database after the next release and after a rollback, and the status
of every environment. The notes app lives beside the sample app: its own project, ports (8090, 8091),
repositories (reg1:5000/outerloop/notes-app/*) and state directories.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, Run, ansible_env, on_host

DOC = ROOT / "docs" / "your-own-app.md"
BLOCK = re.compile(r"^<!-- test: (?P<name>[a-z-]+) -->\n```bash\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
PROJECT = "notes-app"
REPO = ROOT / ".lab" / "notes-app"
STATUS_DIR = ROOT / ".lab" / "status" / "notes-app"
ENVIRONMENTS = {"qa": ["qa1"], "staging": ["staging1"], "production": ["prod1", "prod2"]}
ADDRESSES = {"qa1": "172.29.77.21", "staging1": "172.29.77.31", "prod1": "172.29.77.41", "prod2": "172.29.77.42"}
# Steps that come before the repository exists do not take the names of the block "variables".
WITHOUT_VARIABLES = {"repository", "secret", "variables"}


def doc_steps() -> dict[str, str]:
    steps = {m["name"]: m["body"] for m in BLOCK.finditer(DOC.read_text())}
    expected = {"repository", "secret", "variables", "ci", "qa", "staging", "production", "status", "rollback"}
    assert expected <= set(steps), f"docs/your-own-app.md lacks the marked steps {sorted(expected - set(steps))}"
    return steps


def step(name: str, *after: str) -> Run:
    """One step of the page, with bash -e from the repository's root; ``after``: lines run after it."""
    steps = doc_steps()
    script = "\n".join(
        ["set -euo pipefail", *([] if name in WITHOUT_VARIABLES else [steps["variables"]]), steps[name], *after]
    )
    started, t0 = time.strftime("%H:%M:%S"), time.monotonic()
    proc = subprocess.run(["bash", "-c", script], cwd=ROOT, env=ansible_env(), capture_output=True, text=True,
                          timeout=900, check=False)  # fmt: skip
    out = proc.stdout + proc.stderr
    log = ROOT / "tests" / "output" / "integration.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as fh:
        fh.write(f"\n\n##### {started} docs/your-own-app.md step {name} -> rc {proc.returncode}"
                 f" in {time.monotonic() - t0:.0f} s\n{out}")  # fmt: skip
    return Run(proc.returncode, out)


def names() -> dict[str, str]:
    """VERSION and R (the release manifest) as the page's block "variables" gives them now."""
    run = step("variables", 'printf "%s\\n%s\\n" "$VERSION" "$R"')
    assert run.rc == 0, run.out
    version, manifest = run.out.split()[:2]
    return {"version": version, "manifest": manifest}


def token() -> str:
    text = (ROOT / ".lab" / "secrets" / "notes-app.yml").read_text()
    return re.search(r"^notes_app_write_token: (\S+)$", text, re.MULTILINE).group(1)


def call(host: str, method: str, path: str, body: dict | None = None, *, port: int = 8090, auth: str | None = None):
    """(status, JSON) of a request to a host's front proxy, from the controller (as a user's client)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://{ADDRESSES[host]}:{port}{path}", data=data, method=method)
    if auth:
        request.add_header("Authorization", f"Bearer {auth}")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def running_digests(host: str) -> dict[str, set[str]]:
    """Service -> the repository digests of the images its containers run, from docker on the host."""
    ids = on_host(host, "docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}").stdout.split()
    digests: dict[str, set[str]] = {}
    for cid in ids:
        info = json.loads(on_host(host, "docker", "inspect", cid, check=True).stdout)[0]
        image = json.loads(on_host(host, "docker", "image", "inspect", info["Image"], check=True).stdout)[0]
        service = info["Config"]["Labels"]["com.docker.compose.service"]
        digests.setdefault(service, set()).update(d.split("@", 1)[1] for d in image["RepoDigests"])
    return digests


def runs_release(host: str, manifest: dict) -> bool:
    running = running_digests(host)
    services = manifest["services"]
    return set(running) == set(services) and all(s["digest"] in running[n] for n, s in services.items())


def db_container(host: str) -> str:
    (cid,) = on_host(host, "docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}",
                     "--filter", "label=com.docker.compose.service=db").stdout.split()  # fmt: skip
    return cid


@pytest.fixture(scope="module")
def first_release(provisioned_lab):
    """The page's steps 1 to 5: the repository, the secret, CI, qa, staging, production."""
    for name in ("repository", "secret", "ci"):
        run = step(name)
        assert run.rc == 0, f"step {name}: {run.out[-4000:]}"
    release = names()
    release["manifest_data"] = json.loads(Path(release["manifest"]).read_text())
    release["runs"] = {}
    for env in ENVIRONMENTS:
        run = step(env)
        assert run.rc == 0, f"step {env}: {run.out[-4000:]}"
        release["runs"][env] = run
    return release


@pytest.fixture(scope="module")
def next_release(first_release):
    """A note written on qa1, then the page's step 8 there: a commit that changes the db (and so its image),
    CI again and the deploy to qa."""
    status, note = call("qa1", "POST", "/notes", {"text": "written before the next release"}, auth=token())
    assert status == 201, note
    db_before = db_container("qa1")
    server = REPO / "db" / "server.py"
    server.write_text(server.read_text() + f"\n# The next release ({time.strftime('%Y-%m-%dT%H:%M:%S')}).\n")
    git = ["git", "-C", str(REPO), "-c", "user.name=test", "-c", "user.email=test@outerloop.invalid"]
    subprocess.run([*git, "commit", "-q", "-am", "db: the next release"], check=True, capture_output=True)
    for name in ("ci", "qa"):
        run = step(name)
        assert run.rc == 0, f"step {name} of the next release: {run.out[-4000:]}"
    release = names()
    release["manifest_data"] = json.loads(Path(release["manifest"]).read_text())
    return {"release": release, "note": note, "db_before": db_before}


def test_ci_writes_a_release_with_a_digest_per_service(first_release):
    manifest = first_release["manifest_data"]
    assert manifest["application"] == PROJECT and manifest["version"] == first_release["version"]
    assert set(manifest["services"]) == {"api", "db"}
    for service, entry in manifest["services"].items():
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", entry["digest"]), entry
        assert entry["image"] == f"reg1:5000/outerloop/notes-app/{service}@{entry['digest']}"
    assert manifest["tests"]["passed"] is True
    assert manifest["tests"]["suites"]["unit"]["tests"] > 0 and manifest["tests"]["suites"]["functional"]["tests"] > 0
    junit_dir = ROOT / ".lab" / "releases" / "junit"
    junit = junit_dir / manifest["source"]["commit"][:12]
    for path in ("api/unit-junit.xml", "functional/functional.xml"):
        assert (junit / path).is_file(), f"no JUnit file {junit / path}"
    # The db bakes no version: when a run on a lab kept from before builds the same db image again, CI keeps
    # the image it tested then (and its JUnit file stays with that commit) instead of testing it again.
    assert (junit / "db" / "unit-junit.xml").is_file() or list(junit_dir.glob("*/db/unit-junit.xml"))


def test_every_environment_runs_exactly_the_release_digests(first_release):
    for hosts in ENVIRONMENTS.values():
        for host in hosts:
            assert runs_release(host, first_release["manifest_data"]), (host, running_digests(host))
    assert "prod1 | notes-app-" in first_release["runs"]["production"].out
    assert "prod2 | notes-app-" in first_release["runs"]["production"].out


def test_the_api_answers_through_the_front_proxy_on_every_host(first_release):
    for env, hosts in ENVIRONMENTS.items():
        for host in hosts:
            status, health = call(host, "GET", "/healthz")
            assert status == 200, (host, health)
            assert health["version"] == first_release["version"] and health["environment"] == env, health
            assert health["writes"] is True, health  # the secret reached the api
            text = f"a note on {host}"
            status, note = call(host, "POST", "/notes", {"text": text}, auth=token())
            assert status == 201, (host, note)
            assert call(host, "GET", f"/notes/{note['id']}")[1]["text"] == text
            assert call(host, "POST", "/notes", {"text": "no token"})[0] == 401
            status, stats = call(host, "GET", "/stats", port=8091)  # the db's admin port, through the proxy
            assert status == 200 and stats["schema"] == 1 and stats["notes"] >= 1, (host, stats)
            ports = on_host(host, "docker", "ps", "--filter", f"label=com.docker.compose.project={PROJECT}",
                            "--format", "{{.Ports}}").stdout  # fmt: skip
            assert "->" not in ports, (host, ports)  # the proxy owns the public ports, the containers publish none


def test_the_database_keeps_its_data_through_the_next_release(next_release, first_release):
    release = next_release["release"]["manifest_data"]
    before = first_release["manifest_data"]["services"]
    assert release["services"]["db"]["digest"] != before["db"]["digest"]
    assert release["services"]["api"]["digest"] != before["api"]["digest"]
    assert runs_release("qa1", release), running_digests("qa1")
    assert db_container("qa1") != next_release["db_before"]  # recreate: a new db container on the same volume
    note = next_release["note"]
    assert call("qa1", "GET", f"/notes/{note['id']}") == (200, note)
    assert call("qa1", "GET", "/healthz")[1]["version"] == next_release["release"]["version"]


def test_status_reports_every_environment_healthy(next_release):
    for path in STATUS_DIR.glob("status-*.json"):
        path.unlink()
    run = step("status")
    assert run.rc == 0, run.out[-4000:]
    for env, hosts in ENVIRONMENTS.items():
        (path,) = STATUS_DIR.glob(f"status-{env}-*.json")
        doc = json.loads(path.read_text())
        assert doc["ok"] is True and doc["alerts"] == [], (env, doc["alerts"])
        assert sorted(h["host"] for h in doc["hosts"]) == sorted(hosts)
        for host in doc["hosts"]:
            assert host["healthy"] is True and set(host["services"]) == {"api", "db"}, host
            assert host["release_id"].startswith("notes-app-"), host


def test_a_rollback_brings_back_the_release_before_with_the_data(next_release, first_release):
    run = step("rollback")
    assert run.rc == 0, run.out[-4000:]
    assert runs_release("qa1", first_release["manifest_data"]), running_digests("qa1")
    note = next_release["note"]
    assert call("qa1", "GET", f"/notes/{note['id']}") == (200, note)
    assert call("qa1", "GET", "/healthz")[1]["version"] == first_release["version"]
