"""Retention in the lab's registry (reg1, TLS and htpasswd): registry_retention and its playbook.

The module runs on build1 as the build user, whose registry login pushes, as the playbook runs it. The
first test pushes eight small release images of its own repository and deletes what is more than five
versions old; the second runs the playbook over what the environments of the lab run, which must all
still be in the registry afterwards (the running release and the one a rollback goes to).
"""

from __future__ import annotations

import pytest
import yaml

from .conftest import adhoc, on_host, playbook, secret

REPO = "reg1:5000/itest/retention"
AS_BUILDER = ("--become", "--become-user", "builder")


def module_result(run) -> dict:
    """What an ad-hoc run prints after 'build1 | CHANGED => ' (or SUCCESS, FAILED!): YAML (ansible.cfg)."""
    _head, sep, body = run.out.partition(" => ")
    assert sep, run.out[-3000:]
    return yaml.safe_load(body)


def retention(*extra: str, **args: str) -> dict:
    module_args = " ".join([f"repositories={REPO} keep=5", *(f"{k}={v}" for k, v in args.items())])
    run = adhoc("build1", "outerloop.docker.registry_retention", module_args, *AS_BUILDER, *extra)
    assert secret("registry-ci") not in run.out
    return module_result(run)


def tags_now() -> list[str]:
    # check mode reads the registry and deletes nothing: its "before" is what the registry holds
    result = retention("--check", keep="1000")
    return sorted(result["repositories"][0]["tags_before"])


def image_exists(image: str) -> bool:
    run = adhoc("build1", "outerloop.docker.registry_image_info", f"image={image}", *AS_BUILDER)
    return module_result(run).get("exists") is True


@pytest.fixture(scope="module")
def eight_versions(provisioned_lab):
    """1.0.1 to 1.0.8 of a one-file image, passed-staging on 1.0.2 and 1.0.7, latest on 1.0.8."""
    script = (
        "set -e; d=$(mktemp -d); cd $d; printf 'FROM scratch\\nCOPY v /v\\n' > Dockerfile; "
        "for n in 1 2 3 4 5 6 7 8; do echo $n > v; docker build -q -t REPO:1.0.$n . >/dev/null; "
        "docker push -q REPO:1.0.$n >/dev/null; done; "
        "for pair in passed-staging-1.0.2=1.0.2 passed-staging-1.0.7=1.0.7 latest=1.0.8; do "
        "docker tag REPO:${pair#*=} REPO:${pair%=*}; docker push -q REPO:${pair%=*} >/dev/null; done; rm -rf $d"
    ).replace("REPO", REPO)
    done = on_host("build1", "runuser", "-u", "builder", "--", "sh", "-c", script)
    assert done.returncode == 0, done.stdout + done.stderr


def test_old_release_images_are_deleted_and_protected_ones_kept(eight_versions):
    before = tags_now()
    versions = [f"1.0.{n}" for n in range(1, 9)]
    assert before == sorted([*versions, "passed-staging-1.0.2", "passed-staging-1.0.7", "latest"])
    oldest = next(t for t in retention("--check", keep="1000")["kept"] if "1.0.1" in t.get("tags", []))
    protected = oldest["digest"]

    check = retention("--check", "--diff", protect=protected)
    assert check["changed"] is True
    assert sorted(t for d in check["deleted"] for t in d["tags"]) == ["1.0.2", "1.0.3", "passed-staging-1.0.2"]
    assert tags_now() == before, "check mode deleted something"

    real = retention(protect=protected)
    assert real["changed"] is True and real["summary"]["digests_deleted"] == 2, real["summary"]
    kept = ["1.0.1", "1.0.4", "1.0.5", "1.0.6", "1.0.7", "1.0.8", "latest", "passed-staging-1.0.7"]
    assert tags_now() == sorted(kept)
    assert image_exists(f"{REPO}@{protected}")

    again = retention(protect=protected)
    assert again["changed"] is False and again["deleted"] == []


def test_the_playbook_keeps_what_every_environment_runs_and_would_roll_back_to(releases):
    check = playbook("outerloop.docker.registry_retention", "--check", "--diff", "-e", "registry_retention_keep=1")
    assert check.rc == 0, check.out[-3000:]
    real = playbook("outerloop.docker.registry_retention", "-e", "registry_retention_keep=1")
    assert real.rc == 0, real.out[-3000:]
    assert secret("registry-ci") not in check.out + real.out
    # what each Compose host runs and would roll back to is still in the registry
    needed: dict[str, tuple[str, str]] = {}  # image -> (a host that needs it, the release)
    for host in ("qa1", "staging1", "prod1", "prod2"):
        info = module_result(adhoc(host, "outerloop.docker.deployment_info", "project=sample-app history_limit=50"))
        history = [e for e in info["deployment"].get("history", []) if e["result"] == "succeeded"]
        wanted = []
        for entry in history:  # newest first
            if entry["release_id"] not in [w["release_id"] for w in wanted]:
                wanted.append(entry)
        for entry in wanted[:2]:
            for image in entry["images"].values():
                needed.setdefault(image, (host, entry["release_id"]))
    assert needed
    for image, (host, release_id) in needed.items():  # each image asked once, however many hosts need it
        assert image_exists(image), (host, release_id, image)
    again = playbook("outerloop.docker.registry_retention", "-e", "registry_retention_keep=1")
    assert again.rc == 0 and again.changed().get("build1", 0) == 0, again.out[-3000:]
