# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.docker_config import (
    INDEX_SERVER,
    DockerConfigError,
    credential_helper,
    decode_auth,
    default_config_path,
    describe_login,
    encode_auth,
    entry_credentials,
    entry_is_current,
    load_config,
    make_entry,
    normalize_registry,
    plan_login,
    plan_logout,
    registry_keys,
    resolve_user,
    write_config,
)


def b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


# --- normalize_registry ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, key",
    [
        ("reg1:5000", "reg1:5000"),
        ("reg1", "reg1"),
        ("https://reg1:5000", "reg1:5000"),
        ("http://reg1:5000/", "reg1:5000"),
        ("https://reg1:5000/v2/", "reg1:5000"),
        ("reg1:5000/some/path", "reg1:5000"),
        ("  127.0.0.1:5443  ", "127.0.0.1:5443"),
        ("registry.example.com", "registry.example.com"),
        ("[::1]:5000", "[::1]:5000"),
        ("docker.io", INDEX_SERVER),
        ("index.docker.io", INDEX_SERVER),
        ("Docker.IO", INDEX_SERVER),
        ("https://index.docker.io/v1/", INDEX_SERVER),
        ("https://docker.io", INDEX_SERVER),
    ],
)
def test_normalize_registry(given, key):
    assert normalize_registry(given) == key


@pytest.mark.parametrize(
    "given", ["", "   ", "reg 1:5000", "https://", "reg1:port", "reg1:0", "reg1:70000", "-reg1", "reg1:5000:1", None]
)
def test_normalize_registry_rejects(given):
    with pytest.raises(DockerConfigError):
        normalize_registry(given)


def test_registry_keys_exact_first_then_aliases():
    auths = {"https://reg1:5000": {}, "other:5000": {}, "reg1:5000": {}, "http://reg1:5000/v2/": {}}
    assert registry_keys(auths, "reg1:5000") == ["reg1:5000", "https://reg1:5000", "http://reg1:5000/v2/"]
    assert registry_keys(auths, "reg2:5000") == []
    assert registry_keys({"docker.io": {}, INDEX_SERVER: {}}, INDEX_SERVER) == [INDEX_SERVER, "docker.io"]


# --- entries ---------------------------------------------------------------------------------


def test_encode_auth_is_base64_of_user_colon_password():
    assert encode_auth("ci", "secret") == "Y2k6c2VjcmV0"
    assert decode_auth("Y2k6c2VjcmV0") == ("ci", "secret")


def test_password_may_contain_colons_and_unicode():
    auth = encode_auth("ci", "a:b:ç")
    assert decode_auth(auth) == ("ci", "a:b:ç")


@pytest.mark.parametrize("auth", ["not base64!", b64("no-colon"), 42, None, "////"])
def test_decode_auth_invalid(auth):
    assert decode_auth(auth) is None


def test_make_entry_is_what_docker_login_writes():
    assert make_entry("ci", "secret") == {"auth": b64("ci:secret")}
    assert make_entry("ci", "secret", "tok") == {"auth": b64("ci:"), "identitytoken": "tok"}


@pytest.mark.parametrize("username", ["", "a:b"])
def test_make_entry_rejects_unusable_usernames(username):
    with pytest.raises(DockerConfigError):
        make_entry(username, "secret")


def test_entry_credentials_reads_auth_before_fields():
    entry = {"auth": b64("ci:secret"), "username": "other", "password": "other"}
    assert entry_credentials(entry) == ("ci", "secret", "")
    assert entry_credentials({"username": "ci", "password": "pw"}) == ("ci", "pw", "")
    assert entry_credentials({}) is None
    assert entry_credentials({"auth": "%%%"}) is None
    assert entry_credentials("a string") is None


def test_entry_is_current_compares_user_and_password():
    entry = {"auth": b64("ci:secret")}
    assert entry_is_current(entry, "ci", "secret")
    assert not entry_is_current(entry, "ci", "secret2")
    assert not entry_is_current(entry, "cd", "secret")
    assert not entry_is_current({}, "ci", "secret")
    assert not entry_is_current(None, "ci", "secret")
    # An entry with a token is not current for a password login, and the reverse.
    assert not entry_is_current({"auth": b64("ci:secret"), "identitytoken": "t"}, "ci", "secret")


def test_entry_is_current_with_identity_token_ignores_token_value():
    entry = {"auth": b64("ci:"), "identitytoken": "old-token"}
    assert entry_is_current(entry, "ci", "secret", "new-token")
    assert not entry_is_current(entry, "cd", "secret", "new-token")
    assert not entry_is_current({"auth": b64("ci:secret")}, "ci", "secret", "new-token")


# --- credential helpers ----------------------------------------------------------------------


def test_credential_helper():
    assert credential_helper({}, "reg1:5000") is None
    assert credential_helper({"credsStore": ""}, "reg1:5000") is None
    assert credential_helper({"credsStore": "pass"}, "reg1:5000") == "pass"
    helpers = {"credHelpers": {"reg1:5000": "ecr-login"}}
    assert credential_helper(helpers, "reg1:5000") == "ecr-login"
    assert credential_helper(helpers, "reg2:5000") is None
    assert credential_helper({"credHelpers": {"https://reg1:5000": "x"}, "credsStore": "y"}, "reg1:5000") == "x"


# --- plans -----------------------------------------------------------------------------------


OTHER_KEYS = {
    "auths": {"other:5000": {"auth": b64("bob:pw")}},
    "credHelpers": {"gcr.io": "gcloud"},
    "proxies": {"default": {"httpProxy": "http://proxy:3128"}},
    "psFormat": "table {{.ID}}",
}


def test_plan_login_on_empty_config():
    plan = plan_login({}, "reg1:5000", "ci", "secret")
    assert plan.changed
    assert plan.config == {"auths": {"reg1:5000": {"auth": b64("ci:secret")}}}
    assert plan.before == {"registry": "reg1:5000", "logged_in": False}
    assert plan.after == {
        "registry": "reg1:5000",
        "logged_in": True,
        "username": "ci",
        "credentials": "password (hidden)",
    }


def test_plan_login_keeps_every_other_key_and_does_not_mutate_input():
    config = json.loads(json.dumps(OTHER_KEYS))
    plan = plan_login(config, "reg1:5000", "ci", "secret")
    assert config == OTHER_KEYS
    assert plan.changed
    expected = json.loads(json.dumps(OTHER_KEYS))
    expected["auths"]["reg1:5000"] = {"auth": b64("ci:secret")}
    assert plan.config == expected
    assert list(plan.config) == list(OTHER_KEYS)


def test_plan_login_identical_is_unchanged():
    config = {"auths": {"reg1:5000": {"auth": b64("ci:secret")}}, "psFormat": "x"}
    plan = plan_login(config, "reg1:5000", "ci", "secret")
    assert not plan.changed
    assert plan.config is config
    assert plan.before == plan.after


def test_plan_login_new_password_replaces_entry_and_says_so_without_secret():
    config = {"auths": {"reg1:5000": {"auth": b64("ci:old"), "email": "x@y"}}}
    plan = plan_login(config, "reg1:5000", "ci", "new")
    assert plan.changed
    assert plan.config["auths"]["reg1:5000"] == {"auth": b64("ci:new")}
    assert plan.before["credentials"] != plan.after["credentials"]
    text = json.dumps([plan.before, plan.after])
    for secret in ("old", "new", b64("ci:old"), b64("ci:new")):
        assert secret not in text


def test_plan_login_other_user_shows_in_diff():
    plan = plan_login({"auths": {"reg1:5000": {"auth": b64("bob:pw")}}}, "reg1:5000", "ci", "pw")
    assert plan.changed
    assert (plan.before["username"], plan.after["username"]) == ("bob", "ci")


def test_plan_login_alias_only_adds_normalised_key():
    config = {"auths": {"https://reg1:5000": {"auth": b64("ci:secret")}}}
    plan = plan_login(config, "reg1:5000", "ci", "secret")
    assert plan.changed
    assert plan.config["auths"] == {
        "https://reg1:5000": {"auth": b64("ci:secret")},
        "reg1:5000": {"auth": b64("ci:secret")},
    }


def test_plan_login_with_null_auths():
    plan = plan_login({"auths": None}, "reg1:5000", "ci", "secret")
    assert plan.config == {"auths": {"reg1:5000": {"auth": b64("ci:secret")}}}


def test_plan_logout_removes_only_that_registry_and_aliases():
    config = json.loads(json.dumps(OTHER_KEYS))
    config["auths"]["reg1:5000"] = {"auth": b64("ci:secret")}
    config["auths"]["https://reg1:5000/v2/"] = {"auth": b64("ci:older")}
    plan = plan_logout(config, "reg1:5000")
    assert plan.changed
    assert plan.config == OTHER_KEYS
    assert plan.before["logged_in"] and plan.before["username"] == "ci"
    assert plan.before["config_keys"] == ["reg1:5000", "https://reg1:5000/v2/"]
    assert plan.after == {"registry": "reg1:5000", "logged_in": False}
    assert "reg1:5000" in config["auths"]


def test_plan_logout_absent_is_unchanged():
    plan = plan_logout(OTHER_KEYS, "reg1:5000")
    assert not plan.changed
    assert plan.config is OTHER_KEYS
    assert not plan_logout({}, "reg1:5000").changed


def test_describe_login_never_contains_secrets():
    config = {"auths": {"reg1:5000": {"auth": b64("ci:"), "identitytoken": "tok-123"}}}
    view = describe_login(config, "reg1:5000")
    assert view == {
        "registry": "reg1:5000",
        "logged_in": True,
        "username": "ci",
        "credentials": "identity token (hidden)",
    }


def test_auths_of_wrong_type_is_an_error():
    with pytest.raises(DockerConfigError):
        plan_login({"auths": []}, "reg1:5000", "ci", "pw")


# --- the file --------------------------------------------------------------------------------


def test_load_missing_or_empty_file_is_empty(tmp_path):
    assert load_config(str(tmp_path / "nope" / "config.json")) == {}
    empty = tmp_path / "config.json"
    empty.write_text("  \n")
    assert load_config(str(empty)) == {}


@pytest.mark.parametrize("text", ["{not json", "[]", '{"auths": "x"}', '"str"'])
def test_load_invalid_file_raises_with_path(tmp_path, text):
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(DockerConfigError, match=str(path)):
        load_config(str(path))


def test_write_creates_directories_file_mode_0600_and_round_trips(tmp_path):
    path = tmp_path / "home" / ".docker" / "config.json"
    config = plan_login(OTHER_KEYS, "reg1:5000", "ci", "secret").config
    written = write_config(str(path), config)
    assert written == str(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) & 0o077 == 0
    assert load_config(str(path)) == config
    assert os.listdir(path.parent) == ["config.json"]


def test_write_replaces_loose_mode_of_existing_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    write_config(str(path), {"auths": {}})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == {"auths": {}}


def test_write_sets_owner(tmp_path):
    path = tmp_path / "config.json"
    write_config(str(path), {}, os.geteuid(), os.getegid())
    info = os.stat(path)
    assert (info.st_uid, info.st_gid) == (os.geteuid(), os.getegid())


def test_write_follows_symlink(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("{}")
    link = tmp_path / "config.json"
    link.symlink_to(real)
    write_config(str(link), {"auths": {"a:1": {}}})
    assert link.is_symlink()
    assert json.loads(real.read_text()) == {"auths": {"a:1": {}}}


def test_write_failure_leaves_old_file_and_no_temp(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"old": true}')
    with pytest.raises(TypeError):
        write_config(str(path), {"bad": object()})
    assert path.read_text() == '{"old": true}'
    assert os.listdir(tmp_path) == ["config.json"]


def test_write_into_a_file_as_directory_fails_clearly(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DockerConfigError, match="not a directory"):
        write_config(str(blocker / "config.json"), {})


def test_resolve_user_and_default_path():
    user = resolve_user()
    assert user.uid == os.geteuid()
    assert resolve_user(user.name) == user
    assert default_config_path("/home/build") == "/home/build/.docker/config.json"
    with pytest.raises(DockerConfigError, match="does not exist"):
        resolve_user("no-such-user-outerloop")
