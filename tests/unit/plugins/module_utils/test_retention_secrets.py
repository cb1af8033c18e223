"""Retention (which stored releases go) and application secrets (checked, written, masked): pure logic."""

import os
import stat

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.history import (
    is_pruned,
    mark_pruned,
    missing_release_text,
    new_entry,
    read_release_files,
    releases_to_prune,
    remove_release_files,
    stored_release_ids,
    write_release_files,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_host import Compose
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_retention import release_image_refs
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.deploy import (
    DeployError,
    checked_secrets,
    env_file_text,
    masked,
    parse_env_text,
    secret_values,
    secrets_file_text,
    stored_environment,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import MASK

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def entry(release_id, action="deploy", result="succeeded"):
    return new_entry(action=action, result=result, started="2026-01-01T00:00:00Z", release_id=release_id)


def deploys(*ids):
    return [entry(release_id) for release_id in ids]


# --------------------------------------------------------------------------- which releases go


def test_seven_deploys_keep_the_newest_five():
    ids = [f"r{n}" for n in range(1, 8)]
    assert releases_to_prune(deploys(*ids), ids, 5) == ["r1", "r2"]


def test_nothing_goes_with_keep_0_or_few_releases():
    ids = ["r1", "r2", "r3"]
    assert releases_to_prune(deploys(*ids), ids, 0) == []
    assert releases_to_prune(deploys(*ids), ids, 3) == []
    assert releases_to_prune(deploys(*ids), ids, 5) == []


def test_the_running_release_and_the_rollback_target_are_never_pruned():
    # r1 deployed, then r2..r4, then a rollback back to r1: the running release is r1, the rollback target r4.
    entries = [*deploys("r1", "r2", "r3", "r4"), entry("r1", action="rollback")]
    assert releases_to_prune(entries, ["r1", "r2", "r3", "r4"], 1) == ["r2", "r3"]
    # r4 failed and was rolled back to r3 automatically: r3 runs (newest), r2 is the rollback target; the
    # failed r4 and the old r1 go.
    entries = [*deploys("r1", "r2", "r3"), entry("r4", result="rolled_back"), entry("r3", action="rollback")]
    assert releases_to_prune(entries, ["r1", "r2", "r3", "r4"], 1) == ["r1", "r4"]


def test_stored_releases_the_history_does_not_name_go_first_and_pruned_ones_are_not_counted():
    entries = mark_pruned(deploys("old1", "r1", "r2", "r3"), ["old1"])
    assert releases_to_prune(entries, ["stray", "r1", "r2", "r3"], 2) == ["stray", "r1"]


def test_a_release_deployed_again_counts_as_new():
    entries = deploys("r1", "r2", "r3", "r1")
    assert releases_to_prune(entries, ["r1", "r2", "r3"], 2) == ["r2"]


def test_pruned_entries_are_marked_and_named_in_the_error():
    entries = mark_pruned(deploys("r1", "r2"), ["r1"])
    assert entries[0]["pruned"] is True and "pruned" not in entries[1]
    assert is_pruned(entries, "r1") and not is_pruned(entries, "r2") and not is_pruned(entries, "zz")
    text = missing_release_text(entries, "r1", "prod1", "/var/lib/x", "keep_releases")
    assert "pruned on prod1" in text and "keep_releases" in text and "state=present" in text
    assert "pruned" not in missing_release_text(entries, "zz", "prod1", "/var/lib/x", "keep_releases")


def test_stored_release_ids_and_removal(tmp_path):
    state = str(tmp_path)
    assert stored_release_ids(state, "app") == []
    for release_id in ("r2", "r1"):
        write_release_files(state, "app", release_id, {"manifest.json": "{}", "secrets.env": "A='x'\n"})
    assert stored_release_ids(state, "app") == ["r1", "r2"]
    remove_release_files(state, "app", "r1")
    remove_release_files(state, "app", "missing")
    assert stored_release_ids(state, "app") == ["r2"]
    assert read_release_files(state, "app", "r1") is None


# --------------------------------------------------------------------------- secrets


def test_checked_secrets_stringifies_numbers_and_refuses_bad_names_types_and_env_clashes():
    assert checked_secrets({"B": 12, "A": "x"}, {}, "h1") == {"A": "x", "B": "12"}
    with pytest.raises(DeployError, match=r"'1BAD' is not a variable name.*h1"):
        checked_secrets({"1BAD": "x"}, {}, "h1")
    with pytest.raises(DeployError, match="TOKEN is given both in env and in secrets for h1") as exc:
        checked_secrets({"TOKEN": "s3cr3t-value"}, {"TOKEN": "s3cr3t-value"}, "h1")
    assert "s3cr3t-value" not in str(exc.value)
    for bad in (None, True, ["x"], {"a": "b"}):
        with pytest.raises(DeployError, match="value of A is a") as exc:
            checked_secrets({"A": bad}, {}, "h1")
    with pytest.raises(DeployError, match="value of A holds a line break") as exc:
        secrets_file_text(checked_secrets({"A": "line1\nsecret-line2"}, {}, "h1"))
    assert "secret-line2" not in str(exc.value)


def test_secrets_file_round_trips_and_is_none_without_secrets():
    assert secrets_file_text({}) is None
    values = {"TOKEN": "a'b$c\"d", "KEY": "plain"}
    text = secrets_file_text(values)
    assert text.startswith("# Written by outerloop.docker: the application's secrets")
    assert parse_env_text(text) == values
    files = {".env": env_file_text({"PORT": "80", "KEY": "env"}), "secrets.env": text}
    assert stored_environment(files) == {"PORT": "80", "KEY": "plain", "TOKEN": "a'b$c\"d"}


def test_the_env_file_header_is_unchanged_so_stored_releases_stay_equal():
    assert (
        env_file_text({})
        == "# Written by outerloop.docker.compose_deploy: the project environment for interpolation.\n"
    )


def test_masked_hides_values_in_nested_results():
    secrets = secret_values({"secrets": {"A": "tok-123", "B": 42, "C": ""}})
    assert sorted(secrets) == ["42", "tok-123"]
    result = {"msg": "bad tok-123", "logs": {"api": ["token=tok-123", "ok"]}, "n": 42, "urlenc": "tok%2D123"}
    shown = masked(result, secrets)
    assert shown["msg"] == f"bad {MASK}" and shown["logs"]["api"] == [f"token={MASK}", "ok"]
    assert shown["n"] == 42
    assert masked(result, []) is result


def test_release_files_with_secrets_are_0600(tmp_path):
    state = str(tmp_path)
    directory = write_release_files(state, "app", "r1", {"manifest.json": "{}", "secrets.env": "A='x'\n"})
    assert stat.S_IMODE(os.stat(os.path.join(directory, "secrets.env")).st_mode) == 0o600
    write_release_files(state, "app", "r1", {"manifest.json": "{}"})
    assert not os.path.exists(os.path.join(directory, "secrets.env"))


class _Module:
    def __init__(self):
        self.params = {"docker_host": "unix:///var/run/docker.sock"}

    @staticmethod
    def get_bin_path(name, required=False):
        return "/usr/bin/" + name


def test_compose_reads_secrets_env_after_env():
    with_secrets = Compose(_Module(), "app", "/srv/app", "/rel", {"secrets.env": "A='x'\n"}).args
    assert with_secrets[-4:] == ["--env-file", "/rel/.env", "--env-file", "/rel/secrets.env"]
    without = Compose(_Module(), "app", "/srv/app", "/rel", {"secrets.env": None}).args
    assert "/rel/secrets.env" not in without


# --------------------------------------------------------------------------- the images of a release


def test_release_image_refs_reads_manifest_and_pinned_compose_images():
    files = {
        "manifest.json": '{"services": {"api": {"image": "reg/api@' + DIGEST_A + '"}}}',
        "compose.yaml": "services:\n  api:\n    image: reg/api@"
        + DIGEST_A
        + "\n  db:\n    image: reg/db@"
        + DIGEST_B
        + "\n  tagged:\n    image: redis:7\n",
        "compose.override.yaml": '{"services": {"x": {"image": "reg/x:1"}}}',
    }
    assert release_image_refs(files) == {"reg/api@" + DIGEST_A, "reg/db@" + DIGEST_B}
    assert release_image_refs({"manifest.json": "not json", "compose.yaml": ": bad"}) == set()
    assert release_image_refs(None) == set()
