"""The release board (_domain/board.py and the release_board filters): its model from the playbook's per-host
records, the promotion proofs, the timeline, and the HTML: self-contained, every value escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.outerloop.docker.plugins.filter.release_board import (
    release_board,
    release_board_data,
    release_board_proof_lookups,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.board import (
    BoardError,
    age,
    board,
    proof_lookups,
    proof_plan,
    render_html,
    short_time,
)

API = "sha256:" + "a" * 64
WORKER = "sha256:" + "b" * 64
OTHER = "sha256:" + "c" * 64
REPO = "reg1:5000/outerloop/sample-app"
NOW = "2026-12-01T12:00:00Z"


def release_id(version):
    return f"sample-app-{version}-b7-3f2a9c1d0b8e"


def entry(version, *, action="deploy", result="succeeded", finished="2026-12-01T10:00:00Z", reason=None, previous=None):
    return {"release_id": release_id(version), "version": version, "action": action, "result": result,
            "finished": finished, "reason": reason, "previous_release_id": previous,
            "triggered_by": {"user": "alice"}}  # fmt: skip


def compose_report(version="1.0.2", *, healthy=True, history=None, drift=None, since="2026-12-01T10:00:00Z"):
    containers = {
        "api": [{"name": "sample-app-api-1", "state": "running", "running": True, "healthy": healthy,
                 "health": "healthy" if healthy else "unhealthy", "restart_count": 0}],
        "worker": [{"name": "sample-app-worker-1", "state": "running", "running": True, "healthy": True,
                    "health": "healthy", "restart_count": 0}],
    }  # fmt: skip
    digests = {"api": API, "worker": WORKER}
    services = {
        name: {"image": f"{REPO}/{name}@{digests[name]}", "digest": digests[name], "expected_digest": digests[name],
               "in_release": True, "in_sync": True, "running": 1, "healthy": all(c["healthy"] for c in cs),
               "containers": cs}
        for name, cs in containers.items()
    }  # fmt: skip
    deployment = {"project": "sample-app", "release_id": release_id(version), "version": version,
                  "commit": "3f2a9c1d0b8e", "deployed_at": since, "running": 2, "healthy": healthy,
                  "services": services,
                  "drift": drift or {"in_sync": True, "changed": [], "missing": [], "extra": []},
                  "history": history if history is not None else [entry(version, finished=since)]}  # fmt: skip
    return {"changed": False, "deployment": deployment}


def stack_report(version="1.0.1"):
    services = {
        "api": {"image": f"{REPO}/api@{API}", "digest": API, "expected_digest": API, "in_release": True,
                "in_sync": True, "replicas": "1/1", "running": 1, "desired": 1, "converged": True,
                "nodes": ["swarm2"], "errors": []},
        "edge": {"image": "outerloop-lab/edge:1", "digest": None, "expected_digest": None, "in_release": False,
                 "in_sync": None, "replicas": "3/3", "running": 3, "desired": 3, "converged": True,
                 "nodes": ["swarm1", "swarm2", "swarm3"], "errors": []},
    }  # fmt: skip
    stack = {"stack": "sample-app", "release_id": release_id(version), "version": version, "commit": "abc",
             "deployed_at": "2026-12-01T09:00:00Z", "converged": True, "services": services,
             "nodes": [{"hostname": "swarm1", "state": "ready", "role": "manager"}], "nodes_down": [],
             "drift": {"in_sync": True, "changed": [], "missing": [], "extra": []},
             "history": [entry(version, finished="2026-12-01T09:00:00Z")]}  # fmt: skip
    return {"changed": False, "stack": stack}


def proofs_for(report, environments, answers):
    """What registry_image_info registered over the lookups: answers maps an environment to what its tags hold
    (True: the release's digest, a digest: that one, None: no such tag, "fail": the lookup failed)."""
    results = []
    for item in proof_lookups(report, environments):
        answer = answers.get(item["environment"])
        if answer == "fail":
            results.append({"item": item, "failed": True, "msg": "registry unreachable"})
        else:
            digest = item["digest"] if answer is True else answer
            results.append({"item": item, "exists": answer is not None, "digest": digest or ""})
    return results


def record(host, environment, report, *, platform="compose", requires="", proofs=None, reporter=True):
    return {"host": host, "environment": environment, "platform": platform, "project": "sample-app",
            "requires": requires, "url": f"http://{host}:8080", "reporter": reporter, "report": report,
            "proofs": proofs or []}  # fmt: skip


ENVS = ["qa", "staging", "production", "cluster"]


def lab_records():
    qa = compose_report("1.0.2", history=[
        entry("1.0.3", result="rolled_back", finished="2026-12-01T11:00:00Z",
              reason="api is unhealthy: <script>alert(1)</script> HTTP 503", previous=release_id("1.0.2")),
        entry("1.0.2", finished="2026-12-01T10:00:00Z"),
    ])  # fmt: skip
    staging = compose_report("1.0.2")
    prod1 = compose_report("1.0.1", since="2026-11-30T12:00:00Z")
    prod2 = compose_report("1.0.1", healthy=False, since="2026-11-30T12:00:00Z")
    swarm = stack_report("1.0.1")
    passed_102 = {"qa": True, "staging": True}
    passed_101 = dict.fromkeys(ENVS, True)
    return [
        # The inventory's order is not the promotion order: the board puts each environment after its requirement.
        record("prod1", "production", prod1, requires="staging", proofs=proofs_for(prod1, ENVS, passed_101)),
        record("prod2", "production", prod2, requires="staging", proofs=proofs_for(prod2, ENVS, passed_101)),
        record("qa1", "qa", qa, proofs=proofs_for(qa, ENVS, passed_102)),
        record("staging1", "staging", staging, requires="qa", proofs=proofs_for(staging, ENVS, passed_102)),
        record("swarm1", "cluster", swarm, platform="swarm", requires="staging",
               proofs=proofs_for(swarm, ENVS, passed_101)),
    ]  # fmt: skip


class Rows(HTMLParser):
    """The data-* attributes of the page's rows, and every tag and attribute seen."""

    def __init__(self):
        super().__init__()
        self.rows, self.tags, self.attrs, self.text = [], set(), [], []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        self.attrs.append((tag, attrs))
        if tag == "tr" and "data-host" in attrs:
            self.rows.append(attrs)

    def handle_data(self, data):
        self.text.append(data)


def parsed(page: str) -> Rows:
    rows = Rows()
    rows.feed(page)
    return rows


def test_the_proof_lookups_name_each_service_of_the_release_per_environment():
    lookups = proof_lookups(compose_report("1.0.0+build.5"), ["qa", "staging"])
    assert [(x["service"], x["environment"], x["image"]) for x in lookups] == [
        ("api", "qa", f"{REPO}/api:passed-qa-1.0.0_build.5"),
        ("api", "staging", f"{REPO}/api:passed-staging-1.0.0_build.5"),
        ("worker", "qa", f"{REPO}/worker:passed-qa-1.0.0_build.5"),
        ("worker", "staging", f"{REPO}/worker:passed-staging-1.0.0_build.5"),
    ]
    assert {x["digest"] for x in lookups if x["service"] == "api"} == {API}
    # The swarm's edge is not in the release (and has no registry): left out.
    assert {x["service"] for x in proof_lookups(stack_report(), ["qa"])} == {"api"}
    assert proof_lookups({"deployment": {"release_id": None}}, ["qa"]) == []
    assert proof_lookups({"unreachable": True, "msg": "no route"}, ["qa"]) == []
    assert release_board_proof_lookups({"qa1": compose_report()}, ["Not An Env"]) == {"qa1": []}


def test_the_plan_asks_each_proof_once_and_shares_the_lookups_among_the_hosts():
    reports = {"prod1": compose_report("1.0.1"), "prod2": compose_report("1.0.1"), "qa1": compose_report("1.0.2"),
               "down1": {"unreachable": True}}  # fmt: skip
    plan = proof_plan(reports, ["qa", "staging"])
    asked = [(x["release_id"], x["image"]) for lookups in plan.values() for x in lookups]
    assert len(asked) == len(set(asked)) == 8  # 2 releases x 2 services x 2 environments
    assert [len(plan[h]) for h in ("prod1", "prod2", "qa1", "down1")] == [3, 3, 2, 0]
    with pytest.raises(AnsibleFilterError, match="dict of host"):
        release_board_proof_lookups([compose_report()], ["qa"])


def test_the_model_orders_environments_by_promotion_and_says_what_runs_where():
    model = board(lab_records(), generated_at=NOW)
    assert [env["name"] for env in model["environments"]] == ["qa", "staging", "production", "cluster"]
    versions = {env["name"]: {row["host"]: row["version"] for row in env["hosts"]} for env in model["environments"]}
    assert versions == {"qa": {"qa1": "1.0.2"}, "staging": {"staging1": "1.0.2"},
                        "production": {"prod1": "1.0.1", "prod2": "1.0.1"},
                        "cluster": {"stack sample-app": "1.0.1"}}  # fmt: skip
    production = model["environments"][2]
    assert production["ok"] is False and [a["host"] for a in production["alerts"]] == ["prod2"]
    assert production["hosts"][0]["since"] == "2026-11-30T12:00:00Z"
    assert [r["version"] for r in model["releases"]] == ["1.0.2", "1.0.1"]
    newest, older = model["releases"]
    assert newest["runs"] == {"qa": ["qa1"], "staging": ["staging1"]}
    assert older["runs"] == {"production": ["prod1", "prod2"], "cluster": ["stack sample-app"]}
    assert {env: p["state"] for env, p in newest["proofs"].items()} == {
        "qa": "passed", "staging": "passed", "production": "absent", "cluster": "absent"}  # fmt: skip
    assert {p["state"] for p in older["proofs"].values()} == {"passed"}


def test_a_given_list_of_environments_is_the_order_and_a_missing_one_is_said():
    model = board(lab_records(), environments=["production", "qa", "dr"])
    assert [env["name"] for env in model["environments"]] == ["production", "qa", "dr"]
    assert model["environments"][2]["missing"] is True
    assert 'data-environment="dr"' in render_html(model)


@pytest.mark.parametrize(
    ("answers", "state"),
    [
        ({"staging": True}, "passed"),
        ({"staging": None}, "absent"),
        ({"staging": OTHER}, "conflict"),
        ({"staging": "fail"}, "unknown"),
    ],
)
def test_a_proof_is_passed_absent_another_build_or_unknown(answers, state):
    report = compose_report("1.0.2")
    model = board([record("staging1", "staging", report, proofs=proofs_for(report, ["staging"], answers))])
    assert model["releases"][0]["proofs"]["staging"]["state"] == state


def test_a_proof_on_some_services_only_is_partial():
    report = compose_report("1.0.2")
    results = proofs_for(report, ["qa"], {"qa": True})
    results[1].update(exists=False, digest="")  # the worker's tag is not there (yet)
    assert board([record("qa1", "qa", report, proofs=results)])["releases"][0]["proofs"]["qa"]["state"] == "partial"


def test_the_timeline_merges_the_hosts_newest_first_with_the_reason_of_a_failed_deploy():
    model = board(lab_records(), generated_at=NOW)
    qa = model["environments"][0]
    assert [(e["kind"], e["version"]) for e in qa["events"]] == [("rolled back", "1.0.3"), ("deployed", "1.0.2")]
    assert "HTTP 503" in qa["events"][0]["reason"]
    production = model["environments"][2]
    assert [e["host"] for e in production["events"]] == ["prod2", "prod1"]  # same time: by host, newest first
    rollback = board([record("qa1", "qa", compose_report(history=[entry("1.0.1", action="rollback")]))])
    assert rollback["environments"][0]["events"][0]["kind"] == "rollback"


def test_an_unreachable_host_and_a_silent_swarm_are_down():
    model = board([record("qa1", "qa", {"unreachable": True, "msg": "ssh: no route to host"}),
                   record("swarm1", "cluster", {}, platform="swarm", reporter=False)])  # fmt: skip
    qa, cluster = model["environments"]
    assert qa["hosts"][0]["reachable"] is False and qa["alerts"][0]["kind"] == "down"
    assert cluster["hosts"][0]["reachable"] is False and "no swarm manager" in cluster["hosts"][0]["error"]
    page = render_html(model)
    assert "ssh: no route to host" in page and model["releases"] == []


def test_the_page_is_self_contained_and_carries_each_host_and_version():
    page = release_board(lab_records(), generated_at=NOW)
    seen = parsed(page)
    assert not seen.tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert not [a for _tag, attrs in seen.attrs for name, a in attrs.items() if name == "src"]
    assert not re.search(r"(?i)url\(|@import|https?://(?!qa1|staging1|prod1|prod2|swarm1)", page)
    rows = [(r["data-environment"], r["data-host"], r["data-version"]) for r in seen.rows]
    assert rows == [("qa", "qa1", "1.0.2"), ("staging", "staging1", "1.0.2"), ("production", "prod1", "1.0.1"),
                    ("production", "prod2", "1.0.1"), ("cluster", "stack sample-app", "1.0.1")]  # fmt: skip
    text = " ".join(" ".join(seen.text).split())
    assert "Release board: sample-app" in text and "rolled back" in text and "1 alert(s)" in text
    # The same page from the model that release_board_data made.
    assert release_board(release_board_data(lab_records(), generated_at=NOW)) == page


def test_every_value_is_escaped():
    records = lab_records()
    records[0]["host"] = 'prod1"><script>alert(2)</script>'
    page = release_board(records, generated_at=NOW, title="<b>board</b>")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;board&lt;/b&gt;" in page
    seen = parsed(page)
    assert "script" not in seen.tags and 'prod1"><script>alert(2)</script>' in {r["data-host"] for r in seen.rows}


def test_records_it_cannot_use_are_refused_by_name():
    with pytest.raises(BoardError, match="needs a host and an environment"):
        board([{"host": "qa1"}])
    with pytest.raises(AnsibleFilterError, match="both platforms"):
        release_board([record("a", "qa", compose_report()), record("b", "qa", stack_report(), platform="swarm")])
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        release_board_data("qa1")


def test_times_in_words():
    assert short_time("2026-12-01T09:58:12.123456789Z") == "2026-12-01 09:58 UTC"
    assert short_time("2026-12-01T10:58:12+01:00") == "2026-12-01 09:58 UTC"
    assert short_time("yesterday") == "yesterday"
    assert age("2026-12-01T11:59:30Z", NOW) == "30 s"
    assert age("2026-12-01T11:00:00Z", NOW) == "1 h"
    assert age("2026-11-28T12:00:00Z", NOW) == "3 d"
    assert age("2026-12-01T13:00:00Z", NOW) == "" and age(None, NOW) == ""


def test_containers_without_a_recorded_release_are_said_so():
    report = compose_report(history=[])
    report["deployment"].update(release_id=None, version=None, commit=None, deployed_at=None, drift=None)
    page = release_board([record("qa1", "qa", report)])
    assert "no release recorded" in page and ">nothing<" not in page
