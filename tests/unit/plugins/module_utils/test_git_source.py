"""git_source against real throwaway Git repositories (git is a local CLI, nothing is mocked)."""

from __future__ import annotations

import subprocess
import tarfile

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._git_source import (
    SourceError,
    describe,
    is_remote,
    parse_dirty,
    repo_name,
)

ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.invalid", "PATH": "/usr/bin:/bin"}  # fmt: skip


def run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, env=ENV, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def git(repo, *args):
    rc, out, err = run(["git", "-C", str(repo), *args])
    assert rc == 0, err
    return out.strip()


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "sample-app"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "compose.yaml").write_text("services:\n  api:\n    build: .\n")
    (path / "README.md").write_text("hello\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "first")
    (path / "README.md").write_text("hello again\n")
    git(path, "commit", "-q", "-am", "second commit")
    return path


def params(repo, tmp_path, **changes):
    values = {"repo": str(repo), "ref": "HEAD", "allow_dirty": False, "name": None,
              "cache_dir": str(tmp_path / "cache"), "read_files": ["compose.yaml"],
              "archive_dir": str(tmp_path / "archives")}  # fmt: skip
    values.update(changes)
    return values


def test_a_commit_is_resolved_read_and_archived_once(repo, tmp_path):
    result = describe(run, params(repo, tmp_path), check_mode=False)
    head = git(repo, "rev-parse", "HEAD")
    assert result["commit"] == head and result["short_commit"] == head[:12]
    assert result["count"] == 2 and result["subject"] == "second commit"
    assert result["files"] == {"compose.yaml": "services:\n  api:\n    build: .\n"}
    assert result["archive"] == str(tmp_path / "archives" / f"sample-app-{head}.tar")
    with tarfile.open(result["archive"]) as tar:
        assert sorted(tar.getnames()) == ["README.md", "compose.yaml"]
    assert result["changed"] is True
    assert describe(run, params(repo, tmp_path), check_mode=False)["changed"] is False


def test_an_older_ref_gives_its_own_tree_and_number(repo, tmp_path):
    result = describe(run, params(repo, tmp_path, ref="HEAD~1", archive_dir=None), check_mode=False)
    assert result["count"] == 1 and result["subject"] == "first"
    assert "archive" not in result


def test_check_mode_writes_no_archive(repo, tmp_path):
    result = describe(run, params(repo, tmp_path), check_mode=True)
    assert result["changed"] is True
    assert not (tmp_path / "archives").exists()


def test_an_unknown_ref_names_the_ref(repo, tmp_path):
    with pytest.raises(SourceError) as err:
        describe(run, params(repo, tmp_path, ref="no-such-branch"), check_mode=False)
    assert err.value.option == "ref"
    assert str(err.value).startswith(f"'no-such-branch' is not a commit of {repo}")


def test_a_dirty_tree_is_refused_unless_allowed_and_never_archived(repo, tmp_path):
    (repo / "README.md").write_text("uncommitted\n")
    with pytest.raises(SourceError) as err:
        describe(run, params(repo, tmp_path), check_mode=False)
    assert err.value.option == "allow_dirty"
    assert "has uncommitted changes (M README.md)" in str(err.value)
    result = describe(run, params(repo, tmp_path, allow_dirty=True), check_mode=False)
    assert result["dirty_files"] == ["M README.md"]
    with tarfile.open(result["archive"]) as tar:
        assert tar.extractfile("README.md").read() == b"hello again\n"


def test_a_missing_file_and_a_missing_repository(repo, tmp_path):
    with pytest.raises(SourceError) as err:
        describe(run, params(repo, tmp_path, read_files=["deploy/compose.yaml"]), check_mode=False)
    assert err.value.option == "read_files" and "'deploy/compose.yaml' is not in commit" in str(err.value)
    with pytest.raises(SourceError) as err:
        describe(run, params(tmp_path / "nope", tmp_path), check_mode=False)
    assert err.value.option == "repo" and "is not a directory" in str(err.value)


def test_a_url_is_cloned_bare_then_fetched(repo, tmp_path):
    url = f"file://{repo}"
    first = describe(run, params(url, tmp_path, name="app"), check_mode=False)
    assert first["git_dir"] == str(tmp_path / "cache" / "app.git")
    assert first["commit"] == git(repo, "rev-parse", "HEAD")
    (repo / "README.md").write_text("third\n")
    git(repo, "commit", "-q", "-am", "third")
    again = describe(run, params(url, tmp_path, name="app", ref="main"), check_mode=False)
    assert again["commit"] == git(repo, "rev-parse", "HEAD") and again["count"] == 3


@pytest.mark.parametrize(
    ("repo", "remote", "name"),
    [("https://git.example.com/team/sample-app.git", True, "sample-app"), ("git@host:team/app.git", True, "app"),
     ("/srv/src/sample-app/", False, "sample-app"), ("relative/dir", False, "dir")],
)  # fmt: skip
def test_names_and_kinds_of_repositories(repo, remote, name):
    assert is_remote(repo) is remote
    assert repo_name(repo) == name


def test_porcelain_lines_are_trimmed():
    assert parse_dirty(" M README.md\nA  new.txt\n\n") == ["M README.md", "A  new.txt"]
