#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: git_source
short_description: Resolve a Git ref to one commit, check it, read files of it and archive its tree
version_added: 0.1.0
description:
  - The source step of a pipeline in one task, on the host that has the repository (usually the
    controller, delegated to C(localhost)), resolves O(ref) to the full commit SHA, refuses a
    working tree with uncommitted changes, reads the commit's time, subject and position in history
    (C(git rev-list --count), a build number that is the same for the same commit), returns the text of
    O(read_files) as they are in the commit, and writes the commit's tree as a tar archive.
  - Only committed content is read or archived, never the working tree, so a build is exactly one commit.
  - A repository given as a URL is cloned bare into O(cache_dir) once and fetched on later runs.
  - Uses the C(git) command line, which must be installed on the host.
author:
  - outerloop.docker contributors (@outerloop)
options:
  repo:
    description:
      - A Git work tree or bare repository on the host (a path), or a URL C(git clone) accepts
        (C(https://...), C(ssh://...), C(user@host:path)).
    type: str
    required: true
  ref:
    description:
      - The branch, tag or commit to build.
    type: str
    default: HEAD
  allow_dirty:
    description:
      - Accept a local work tree with uncommitted changes to tracked files. The changes are still not part
        of the archive or of O(read_files).
    type: bool
    default: false
  name:
    description:
      - The name of the source, used for the clone in O(cache_dir) and the archive's file name.
      - Defaults to the last part of O(repo) without C(.git).
    type: str
  cache_dir:
    description:
      - Where clones of remote repositories are kept (C(NAME.git)).
    type: path
    default: ~/.cache/outerloop/git
  read_files:
    description:
      - Paths inside the repository whose text at the commit is returned in RV(files). A path the commit
        does not have fails the module.
    type: list
    elements: str
    default: []
  archive_dir:
    description:
      - Write the commit's tree to C(ARCHIVE_DIR/NAME-COMMIT.tar) (C(git archive)), unless that file exists.
      - Not set, nothing is archived.
    type: path
attributes:
  check_mode:
    support: full
    description:
      - Can run in check mode and report what a real run would change.
    details:
      - Resolves and reads as in a real run; a clone, a fetch and the archive are reported, not made.
  diff_mode:
    support: none
    description:
      - Returns no diff.
  idempotent:
    support: full
    description:
      - A second run with the same options changes nothing.
    details:
      - The same commit gives the same results; the archive of a commit is written once.
notes:
  - Nothing that is returned holds credentials, but a URL with a password in it would be stored in the clone's
    configuration. Use SSH keys or a credential helper.
seealso:
  - module: outerloop.docker.image_build
"""

EXAMPLES = r"""
- name: Take the commit from source control
  delegate_to: localhost
  run_once: true
  outerloop.docker.git_source:
    repo: /home/dev/sample-app
    ref: main
    read_files: [compose.yaml]
    archive_dir: ~/.cache/outerloop/archives
  register: source

- name: Put exactly that tree on the build host
  ansible.builtin.unarchive:
    src: "{{ source.archive }}"
    dest: /srv/outerloop/workspace/sample-app/{{ source.commit }}

- name: Build from a remote repository's tag
  delegate_to: localhost
  outerloop.docker.git_source:
    repo: https://git.example.com/team/sample-app.git
    ref: v1.4.0
"""

RETURN = r"""
commit:
  description: The full SHA of the commit O(ref) resolves to.
  returned: success
  type: str
  sample: 3f2a9c1d0b8e4f5a6b7c8d9e0f1a2b3c4d5e6f70
short_commit:
  description: Its first 12 characters.
  returned: success
  type: str
  sample: 3f2a9c1d0b8e
committed:
  description: The commit's committer date, ISO 8601 with its offset.
  returned: success
  type: str
  sample: "2026-11-26T13:00:00+00:00"
subject:
  description: The first line of the commit message.
  returned: success
  type: str
count:
  description: The number of commits up to and including it (C(git rev-list --count)).
  returned: success
  type: int
  sample: 42
dirty_files:
  description: Uncommitted changes of tracked files in a local work tree, as C(git status --porcelain) lists them.
  returned: success
  type: list
  elements: str
  sample: ["M README.md"]
files:
  description: The text of each of O(read_files) at the commit.
  returned: success
  type: dict
  sample: {"compose.yaml": "services: ..."}
archive:
  description: The tar archive of the commit's tree.
  returned: when O(archive_dir) is set
  type: str
  sample: /root/.cache/outerloop/archives/sample-app-3f2a9c1d0b8e4f5a6b7c8d9e0f1a2b3c4d5e6f70.tar
git_dir:
  description: The repository the commit was read from (the clone, for a URL).
  returned: success
  type: str
failed_option:
  description: The option whose value stopped the module (V(repo), V(ref), V(allow_dirty) or V(read_files)).
  returned: failure
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._git_source import run_module


def main():
    module = AnsibleModule(
        argument_spec={
            "repo": {"type": "str", "required": True},
            "ref": {"type": "str", "default": "HEAD"},
            "allow_dirty": {"type": "bool", "default": False},
            "name": {"type": "str"},
            "cache_dir": {"type": "path", "default": "~/.cache/outerloop/git"},
            "read_files": {"type": "list", "elements": "str", "default": []},
            "archive_dir": {"type": "path"},
        },
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
