"""The deploy lock: exclusive, says who holds it, never blocked by what a killed run left."""

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.lock import (
    DeployLock,
    LockError,
    describe_holder,
)


def test_describe_holder_names_who_holds_the_lock():
    text = describe_holder(
        {
            "pid": 42,
            "host": "qa1",
            "user": "alice",
            "awx_job_id": "9",
            "controller": "ctl",
            "since": "2026-01-01T00:00:00Z",
            "release_id": "r1",
        }
    )
    assert text == "pid 42 on qa1, started by alice, AWX job 9 from ctl since 2026-01-01T00:00:00Z, deploying r1"
    assert describe_holder(None) == "holder unknown"


def test_lock_is_exclusive_names_its_holder_and_ignores_stale_content(tmp_path):
    path = str(tmp_path / "app" / "lock")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "lock").write_text('{"pid": 999999, "user": "ghost"}\n')  # left by a killed run
    with DeployLock(path, {"pid": 1, "host": "qa1", "user": "alice"}, timeout=0):
        with (
            pytest.raises(LockError, match="pid 1 on qa1, started by alice") as info,
            DeployLock(path, {"pid": 2}, timeout=0),
        ):
            pass  # pragma: no cover
        assert info.value.holder["user"] == "alice"
    with DeployLock(path, {"pid": 3}, timeout=0) as lock:
        assert lock.read_holder() == {"pid": 3}
