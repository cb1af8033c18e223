# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Git commit as the source of a build: resolved, checked, read and archived with the git CLI.

Everything goes through ``git`` (``run`` is ``AnsibleModule.run_command``, a list of arguments, never
a shell), in one module run, so that a pipeline pays one task for what takes a dozen git calls.
"""

from __future__ import annotations

import os
import re

# A repository given as a URL (or scp-like ``user@host:path``) is cloned; anything else is a path.
_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[^/:@]+@[^/:]+:)", re.IGNORECASE)


class SourceError(Exception):
    """A source that cannot be built; ``option`` names the module option at fault."""

    def __init__(self, option: str, message: str):
        super().__init__(message)
        self.option = option


def is_remote(repo: str) -> bool:
    return bool(_URL.match(repo))


def repo_name(repo: str) -> str:
    """``https://git.example.com/team/sample-app.git`` -> ``sample-app``; a path -> its last part."""
    tail = re.split(r"[/:]", repo.rstrip("/"))[-1]
    return re.sub(r"\.git$", "", tail) or "source"


def archive_path(archive_dir: str, name: str, commit: str) -> str:
    return os.path.join(archive_dir, f"{name}-{commit}.tar")


def parse_dirty(porcelain: str) -> list:
    """``git status --porcelain`` lines, trimmed: ``[' M README.md']`` -> ``['M README.md']``."""
    return [line.strip() for line in porcelain.splitlines() if line.strip()]


class GitSource:
    """The git calls of one module run; ``run(argv) -> (rc, stdout, stderr)``."""

    def __init__(self, run, repo: str, cache_dir: str, name: str):
        self.run = run
        self.repo = repo
        self.name = name
        self.remote = is_remote(repo)
        self.git_dir = os.path.join(cache_dir, f"{name}.git") if self.remote else repo
        self.changed = False

    def try_git(self, *args: str) -> tuple:
        """(rc, stdout, stderr) of a git command in the repository."""
        return self.run(["git", "-C", self.git_dir, *args])

    def git(self, *args: str) -> str:
        """The standard output of a git command that has to succeed."""
        rc, out, err = self.try_git(*args)
        if rc != 0:
            raise SourceError("repo", f"git {' '.join(args)} failed in {self.git_dir}: {err.strip() or out.strip()}")
        return out

    def prepare(self) -> None:
        """Clone a remote repository (bare) or fetch what changed in it; check a local one."""
        if not self.remote:
            if not os.path.isdir(self.repo):
                raise SourceError("repo", f"{self.repo} is not a directory. Give the path of a Git work tree or a URL.")
            rc, out, err = self.try_git("rev-parse", "--git-dir")
            if rc != 0:
                raise SourceError("repo", f"{self.repo} is not a Git repository ({err.strip() or out.strip()}).")
            return
        if not os.path.isdir(self.git_dir):
            os.makedirs(os.path.dirname(self.git_dir), mode=0o700, exist_ok=True)
            rc, out, err = self.run(["git", "clone", "--quiet", "--bare", self.repo, self.git_dir])
            if rc != 0:
                why = err.strip() or out.strip()
                raise SourceError("repo", f"cannot clone {self.repo}: {why}. Check the URL and the access to it.")
            self.changed = True
        rc, out, err = self.try_git("fetch", "--prune", "--tags", "origin", "+refs/heads/*:refs/heads/*")
        if rc != 0:
            raise SourceError("repo", f"cannot fetch {self.repo} into {self.git_dir}: {err.strip() or out.strip()}")
        self.changed = self.changed or bool(err.strip())

    def resolve(self, ref: str) -> str:
        rc, out, _err = self.try_git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if rc != 0:
            raise SourceError(
                "ref",
                f"'{ref}' is not a commit of {self.repo}. Check the branch, tag or SHA "
                f"(git -C {self.git_dir} log --oneline -5); nothing was built or pushed.",
            )
        return out.strip()

    def dirty_files(self) -> list:
        if self.remote:
            return []
        return parse_dirty(self.git("status", "--porcelain", "--untracked-files=no"))

    def commit_info(self, commit: str) -> dict:
        committed, subject = [*self.git("log", "-1", "--format=%cI%n%s", commit).splitlines(), "", ""][:2]
        count = int(self.git("rev-list", "--count", commit).strip())
        return {"committed": committed, "subject": subject, "count": count}

    def read_file(self, commit: str, path: str) -> str:
        rc, out, err = self.try_git("show", f"{commit}:{path}")
        if rc != 0:
            raise SourceError(
                "read_files",
                f"'{path}' is not in commit {commit[:12]} of {self.repo} ({err.strip()}). "
                "Give the path of the file inside the repository.",
            )
        return out

    def archive(self, commit: str, dest: str, check_mode: bool) -> bool:
        """Write the commit's tree as a tar file once; the same commit is the same tree."""
        if os.path.exists(dest):
            return False
        if check_mode:
            return True
        os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)
        partial = f"{dest}.partial"
        self.git("archive", "--format=tar", f"--output={partial}", commit)
        os.replace(partial, dest)
        return True


def describe(run, params: dict, check_mode: bool) -> dict:
    """Everything the module returns; raises SourceError for a source that cannot be built."""
    repo = params["repo"]
    name = params["name"] or repo_name(repo)
    source = GitSource(run, repo, params["cache_dir"], name)
    source.prepare()
    commit = source.resolve(params["ref"])
    dirty = source.dirty_files()
    if dirty and not params["allow_dirty"]:
        raise SourceError(
            "allow_dirty",
            f"{repo} has uncommitted changes ({', '.join(dirty)}); only committed trees are built. Commit them, or "
            f"allow a dirty tree to build {commit[:12]} without them.",
        )
    result = {
        "changed": source.changed,
        "commit": commit,
        "short_commit": commit[:12],
        "git_dir": source.git_dir,
        "dirty_files": dirty,
        "files": {path: source.read_file(commit, path) for path in params["read_files"]},
        **source.commit_info(commit),
    }
    if params["archive_dir"]:
        dest = archive_path(params["archive_dir"], name, commit)
        result["archive"] = dest
        result["changed"] = source.archive(commit, dest, check_mode) or result["changed"]
    return result


def run_module(module) -> None:
    """Run outerloop.docker.git_source with the module's parameters; exits the module."""
    module.run_command_environ_update = {"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    try:
        result = describe(module.run_command, module.params, module.check_mode)
    except SourceError as exc:
        module.fail_json(msg=str(exc), failed_option=exc.option)
    module.exit_json(**result)
