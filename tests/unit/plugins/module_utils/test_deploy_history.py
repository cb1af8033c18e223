"""The deployment history of a compose project on a Docker host: entries, current/previous, files."""

import json
import os
import stat

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import (
    HistoryError,
    append_entry,
    current_entry,
    find_entry,
    history_path,
    new_entry,
    previous_entry,
    read_history,
    read_release_files,
    read_release_images,
    release_path,
    triggered_by,
    write_history,
    write_release_files,
    write_release_images,
)

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
MANIFEST = {
    "application": "sample-app",
    "version": "1.0.0",
    "release_id": "sample-app-1.0.0-b1-0123456789ab",
    "source": {"commit": "0123456789ab" + "0" * 28},
    "services": {"api": {"image": "reg1:5000/sample/api@" + DIGEST_A, "digest": DIGEST_A}},
}


def entry(release_id, action="deploy", result="succeeded"):
    return new_entry(action=action, result=result, started="2026-01-01T00:00:00Z", release_id=release_id)


def test_new_entry_from_manifest_has_every_key():
    made = new_entry(
        action="deploy",
        result="succeeded",
        started="2026-01-01T00:00:00Z",
        manifest=MANIFEST,
        environment="qa",
        triggered_by={"user": "alice", "awx_job_id": "7", "host": "ctl"},
    )
    assert made["release_id"] == MANIFEST["release_id"]
    assert made["commit"] == MANIFEST["source"]["commit"]
    assert made["services"] == {"api": DIGEST_A}
    assert made["images"] == {"api": "reg1:5000/sample/api@" + DIGEST_A}
    assert made["environment"] == "qa"
    assert made["finished"].endswith("Z")
    assert set(made) == {
        "release_id",
        "application",
        "version",
        "commit",
        "services",
        "images",
        "action",
        "result",
        "started",
        "finished",
        "triggered_by",
        "previous_release_id",
        "reason",
        "environment",
    }


def test_new_entry_refuses_unknown_action_and_result():
    with pytest.raises(HistoryError, match="action"):
        new_entry(action="upgrade", result="succeeded", started="x")
    with pytest.raises(HistoryError, match="result"):
        new_entry(action="deploy", result="ok", started="x")


def test_current_entry_is_newest_success_and_remove_clears_it():
    entries = [entry("r1"), entry("r2"), entry("r3", result="rolled_back"), entry("r2", action="rollback")]
    assert current_entry(entries)["release_id"] == "r2"
    assert current_entry([*entries, entry("r2", action="remove")]) is None
    assert current_entry([*entries, entry("r2", action="remove"), entry("r4")])["release_id"] == "r4"
    assert current_entry([]) is None
    assert current_entry([entry("r1", result="failed")]) is None
    # A failed remove leaves the release current.
    assert current_entry([entry("r1"), entry("r1", action="remove", result="failed")])["release_id"] == "r1"


def test_previous_entry_skips_failures_and_the_current_release():
    entries = [entry("r1"), entry("r2", result="failed"), entry("r3"), entry("r3"), entry("r4", result="rolled_back")]
    assert previous_entry(entries, "r3")["release_id"] == "r1"
    assert previous_entry(entries, "r1") is None
    # After a rollback to r1, the previous release is r3 (what ran before r1 came back).
    entries.append(entry("r1", action="rollback"))
    assert previous_entry(entries, "r1")["release_id"] == "r3"
    assert previous_entry([], None) is None


def test_find_entry_prefers_a_success():
    entries = [entry("r1"), entry("r1", result="rolled_back"), entry("r2", result="failed")]
    assert find_entry(entries, "r1")["result"] == "succeeded"
    assert find_entry(entries, "r2")["result"] == "failed"
    assert find_entry(entries, "r9") is None


def test_append_entry_keeps_the_newest():
    entries = []
    for index in range(60):
        entries = append_entry(entries, entry(f"r{index}"), limit=50)
    assert len(entries) == 50
    assert entries[0]["release_id"] == "r10"
    assert entries[-1]["release_id"] == "r59"


def test_triggered_by_given_wins_then_environment():
    env = {"USER": "deploy", "TOWER_JOB_ID": "12"}
    assert triggered_by(env, {"user": "alice", "host": "ctl"}) == {"user": "alice", "awx_job_id": "12", "host": "ctl"}
    assert triggered_by({"LOGNAME": "bob", "AWX_JOB_ID": "3", "TOWER_JOB_ID": "4"}) == {
        "user": "bob",
        "awx_job_id": "3",
        "host": None,
    }
    assert triggered_by(env, {"awx_job_id": 99})["awx_job_id"] == "99"


def test_history_round_trip_and_cap(tmp_path):
    state = str(tmp_path)
    assert read_history(state, "app") == []
    write_history(state, "app", [entry(f"r{i}") for i in range(5)], limit=3)
    assert [e["release_id"] for e in read_history(state, "app")] == ["r2", "r3", "r4"]
    assert not [name for name in os.listdir(os.path.dirname(history_path(state, "app"))) if name.startswith(".tmp")]


def test_read_history_names_a_broken_file(tmp_path):
    path = history_path(str(tmp_path), "app")
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as fh:
        fh.write("{not json")
    with pytest.raises(HistoryError, match=r"history\.json is not valid JSON"):
        read_history(str(tmp_path), "app")
    with open(path, "w") as fh:
        json.dump({"release_id": "x"}, fh)
    with pytest.raises(HistoryError, match="not a JSON list"):
        read_history(str(tmp_path), "app")


def test_unsafe_names_are_refused(tmp_path):
    with pytest.raises(HistoryError, match="project"):
        history_path(str(tmp_path), "../etc")
    with pytest.raises(HistoryError, match="release id"):
        release_path(str(tmp_path), "app", "a/b")


def test_release_files_are_private_and_missing_ones_removed(tmp_path):
    state = str(tmp_path)
    assert read_release_files(state, "app", "r1") is None
    files = {
        "manifest.json": "{}",
        "compose.yaml": "services: {}\n",
        "compose.override.yaml": "x: 1\n",
        ".env": "A=1\n",
    }
    directory = write_release_files(state, "app", "r1", files)
    assert stat.S_IMODE(os.stat(os.path.join(directory, ".env")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert read_release_files(state, "app", "r1") == files
    write_release_files(state, "app", "r1", {**files, "compose.override.yaml": None})
    assert "compose.override.yaml" not in read_release_files(state, "app", "r1")


FILES = {"manifest.json": "{}", "compose.yaml": "services: {}\n", ".env": "A=1\n", "secrets.env": "TOKEN=s3cret\n"}
IMAGES = {"api": "reg1:5000/sample/api@" + DIGEST_A}


def test_kept_images_come_back_only_for_the_same_files(tmp_path):
    release = MANIFEST["release_id"]
    write_release_files(str(tmp_path), "sample-app", release, FILES)
    write_release_images(str(tmp_path), "sample-app", release, FILES, allow_unpinned=[], images=IMAGES)
    assert read_release_images(str(tmp_path), "sample-app", release, FILES, []) == IMAGES
    # another .env, another set of services allowed unpinned: Compose is asked again (None)
    assert read_release_images(str(tmp_path), "sample-app", release, {**FILES, ".env": "A=2\n"}, []) is None
    assert read_release_images(str(tmp_path), "sample-app", release, FILES, ["api"]) is None
    # the file holds no secret, and only its owner reads it
    path = os.path.join(release_path(str(tmp_path), "sample-app", release), "images.json")
    with open(path, encoding="utf-8") as fh:
        assert "s3cret" not in fh.read()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_kept_images_missing_or_broken_mean_ask_compose(tmp_path):
    release = MANIFEST["release_id"]
    assert read_release_images(str(tmp_path), "sample-app", release, FILES, []) is None
    write_release_files(str(tmp_path), "sample-app", release, FILES)
    path = os.path.join(release_path(str(tmp_path), "sample-app", release), "images.json")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("{not json")
    assert read_release_images(str(tmp_path), "sample-app", release, FILES, []) is None
