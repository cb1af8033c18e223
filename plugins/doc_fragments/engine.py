# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The Docker Engine options of every module that talks to an engine (module_utils._primitives.engine
    # ENGINE_ARG_SPEC), one wording and one default for all of them, and the Docker SDK they need (MIN_SDK_VERSION and
    # SDK_NEEDS there). What an engine means for one module (where
    # its paths are, what its timeout leaves out) is in that module's notes.
    DOCUMENTATION = r"""
requirements:
  - The Docker SDK for Python (C(docker)) 5.0.3 or later where the module runs (Debian 12's C(python3-docker) is 5.0.3),
    and 7.1.0 or later beside C(requests) 2.32 or later (6.1.0 or later beside C(urllib3) 2). A module run with an SDK
    that cannot work fails, naming the version it found and the one it needs.
options:
  docker_host:
    description:
      - The Docker Engine the module talks to, for example V(unix:///var/run/docker.sock), V(tcp://127.0.0.1:2375)
        or V(ssh://user@host).
      - If not set, the value of E(DOCKER_HOST) in the module's environment is used, and if that is not set either,
        V(unix:///var/run/docker.sock).
      - The Docker CLI a module runs (C(docker compose), C(docker stack)) gets the same engine as its E(DOCKER_HOST).
    type: str
  timeout:
    description:
      - Seconds to wait for each answer of the Docker Engine API.
    type: int
    default: 60
"""
