#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_login
short_description: Log a user in to a Docker registry, out of it, or check a login
version_added: 0.1.0
description:
  - Stores the credentials for one registry in a user's Docker CLI config file
    (C(~/.docker/config.json)), as C(docker login) does, so that C(docker pull), C(docker push)
    and Compose run by that user can use the registry. Removes them with O(state=absent), as
    C(docker logout) does.
  - With O(state=present) the module first asks the Docker Engine to log in to the registry
    (the engine's C(/auth) API, what C(docker login) uses). The engine contacts the registry itself
    and trusts the CA in C(/etc/docker/certs.d/HOST:PORT/ca.crt) on its host. When the registry
    refuses the login (wrong password, unknown registry, untrusted certificate) the module fails and
    writes nothing, so an earlier login stays intact. This check runs in check mode too; it changes
    nothing.
  - With O(state=verified) the module only checks, from the host it runs on, that the registry is reachable,
    that its TLS certificate is trusted there, and that it accepts the credentials (O(username) and O(password),
    else the login stored in the Docker config of O(user) or O(config_path)), with C(GET /v2/) as
    C(docker login) does. It needs neither the Docker Engine nor the Docker SDK, writes nothing and pushes
    nothing; each of the three failures has its own message and RV(reason). A CI run uses
    it as a preflight, to fail in seconds instead of after every build and test.
  - The file is only rewritten when the stored credentials for the registry differ from the wanted
    ones. Every other key of the file (other registries, C(proxies), C(credHelpers), ...) is kept
    as it is. The file is replaced atomically, with mode C(0600), owned by O(user).
author:
  - outerloop.docker contributors (@outerloop)
extends_documentation_fragment:
  - outerloop.docker.engine
options:
  registry:
    description:
      - The registry, as C(HOST[:PORT]), for example V(reg1:5000).
      - A scheme and a path are dropped (V(https://reg1:5000/v2/) is V(reg1:5000)), and V(docker.io)
        or V(index.docker.io) mean the Docker Hub, stored as V(https://index.docker.io/v1/), as the
        Docker CLI does.
    type: str
    required: true
  username:
    description:
      - The user name at the registry. Required with O(state=present).
      - With O(state=verified), the credentials to check; without it, the login stored in the Docker config of
        O(user) (or O(config_path)) is checked, read as C(docker) reads it (an inline C(auths) entry, or the
        credential helper the file names).
    type: str
  password:
    description:
      - The password or access token at the registry. Required with O(state=present), and with O(username) for
        O(state=verified).
      - Never logged nor returned.
    type: str
  state:
    description:
      - V(present) verifies the credentials through the Docker Engine and stores them.
      - V(absent) removes the registry's entry (including aliases such as V(https://reg1:5000)), without
        contacting the engine or the registry.
      - V(verified) checks, without the engine and without writing anything, that the registry answers from this
        host over TLS trusted here and accepts the credentials (O(username)/O(password), else the stored login
        of O(user) or O(config_path)). It fails when the registry is unreachable, its certificate is not trusted,
        it rejects the credentials, or it asks for a login and none is stored.
    type: str
    choices: [present, absent, verified]
    default: present
  user:
    description:
      - The account whose Docker config is written, C(~/.docker/config.json) in its home directory as
        given by the passwd database (not E(HOME)).
      - The file, and any directory the module creates for it (mode C(0700)), is owned by this user and
        its primary group.
      - Defaults to the user the module runs as. Writing for another user needs root (C(become)).
      - With O(state=verified) and no O(username), the account whose stored login is checked.
    type: str
  config_path:
    description:
      - The config file to manage instead of C(~/.docker/config.json) of O(user); the equivalent of
        C(docker --config DIR) is V(DIR/config.json). E(DOCKER_CONFIG) is not consulted.
      - If the file is a symlink, the file it points to is rewritten and the link is kept.
    type: path
attributes:
  check_mode:
    support: full
    description:
      - Verifies the credentials (verification writes nothing) and reports whether the file would
        change, exactly as a real run would, without writing it.
      - O(state=verified) never changes anything and runs the same check in check mode.
  diff_mode:
    support: full
    description:
      - Shows the registry's entry before and after, as the registry, whether a login is stored, the user
        name and the kind of secret. The password and the base64 C(auth) value are never shown.
  idempotent:
    support: full
    description:
      - A second run with the same options reports no change and does not rewrite the file.
      - O(state=verified) always reports no change.
requirements:
  - The Docker SDK for Python (C(docker), Debian package C(python3-docker)) on the target, for O(state=present)
  - A running Docker Engine reachable at O(docker_host), for O(state=present)
notes:
  - O(state=verified) contacts the registry from the host the module runs on, over HTTPS, trusting the system CAs
    and the C(*.crt) files of C(/etc/docker/certs.d/HOST:PORT/) there, and presenting a client certificate found
    there, as the Docker Engine on that host does; O(docker_host) is not used. O(timeout) is then the time to wait
    for each answer of the registry (or of its token service, which gets a token request without a scope, as
    C(docker login) sends). Whether the account may push to a given repository is decided by the registry at
    push time; a registry with plain htpasswd authentication lets every accepted user push.
  - The login is verified by the Docker Engine of O(docker_host), so the TLS certificates and the
    C(/etc/docker/certs.d) directory that count are the ones of that engine's host, and O(timeout) includes the time
    the engine takes to reach the registry.
  - The credentials are stored inline in C(auths), as C(auth) (base64 of C(user:password)), or as
    C(identitytoken) when the registry hands out one, exactly like C(docker login) without a credential
    helper. A registry that issues identity tokens gives a new one at every login; an entry that holds
    the same user name and a token counts as up to date.
  - If the config file sets C(credsStore), or a C(credHelpers) entry for the registry, Docker reads the
    credentials from that helper and ignores inline C(auths) entries. The module then fails with
    O(state=present) rather than write an entry nothing would use; remove the helper from the file or
    choose another O(config_path). O(state=absent) still removes an inline entry but does not touch
    credentials held by a helper.
  - An existing file that holds the same credentials is left untouched, including its mode and owner.
  - The Docker SDK is given an empty temporary config during the check, so it neither reads the user's
    file (nor runs a credential helper) nor writes one.
seealso:
  - name: docker login
    description: The Docker CLI command whose file format and behaviour this module follows.
    link: https://docs.docker.com/reference/cli/docker/login/
"""

EXAMPLES = r"""
- name: Log root in to the lab registry
  outerloop.docker.registry_login:
    registry: reg1:5000
    username: ci
    password: "{{ registry_password }}"
  become: true

- name: Log the build user in, so its docker push and compose runs can use the registry
  outerloop.docker.registry_login:
    registry: reg1:5000
    username: builder
    password: "{{ vault_registry_builder_password }}"
    user: build
  become: true

- name: Log the build user out of the registry
  outerloop.docker.registry_login:
    registry: reg1:5000
    user: build
    state: absent
  become: true

- name: Before a build, check that the registry is reachable, trusted and accepts the build user's stored login
  outerloop.docker.registry_login:
    registry: reg1:5000
    user: build
    state: verified
    timeout: 10
  become: true

- name: Check credentials from Vault without storing them
  outerloop.docker.registry_login:
    registry: reg1:5000
    username: ci
    password: "{{ vault_registry_ci_password }}"
    state: verified

- name: Write the credentials into a separate config, used with docker --config /srv/ci/.docker
  outerloop.docker.registry_login:
    registry: reg1:5000
    username: ci
    password: "{{ registry_password }}"
    config_path: /srv/ci/.docker/config.json
"""

RETURN = r"""
registry:
  description:
    - The key under which the credentials are stored in C(auths), that is C(HOST[:PORT]), or
      C(https://index.docker.io/v1/) for the Docker Hub.
  returned: always
  type: str
  sample: reg1:5000
config_path:
  description:
    - The Docker config file that was checked and, if the task changed it, written.
    - With O(state=verified), the file whose stored login was checked; V(null) when O(username) was given.
  returned: always
  type: str
  sample: /home/build/.docker/config.json
username:
  description:
    - The user name stored for the registry. The password is never returned.
    - With O(state=verified), the user name whose credentials were checked (V(null) when none were found and
      the registry did not ask for any).
  returned: when O(state=present) or O(state=verified)
  type: str
  sample: ci
authenticated:
  description:
    - Whether the registry asked for the credentials and accepted them. V(false) means it lets anyone in.
  returned: when O(state=verified) succeeds
  type: bool
  sample: true
credentials_from:
  description:
    - Where the checked credentials came from, V(the module options) or the Docker config file; V(null) when
      none were found.
  returned: when O(state=verified) succeeds
  type: str
  sample: /home/build/.docker/config.json
reason:
  description:
    - Why O(state=verified) failed, for a playbook that picks its own next step. V(unreachable) (no connection
      to the registry), V(tls) (its certificate is not trusted on this host, or the TLS handshake failed),
      V(credentials) (the registry rejected them), V(login_required) (it asks for a login and none is stored),
      V(input) (an option, or a stored login that cannot be read), V(error) (any other answer).
  returned: when O(state=verified) fails
  type: str
  sample: credentials
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import ENGINE_ARG_SPEC
from ansible_collections.outerloop.docker.plugins.module_utils._registry_login import run_module


def main():
    module = AnsibleModule(
        argument_spec={
            "registry": {"type": "str", "required": True},
            "username": {"type": "str"},
            "password": {"type": "str", "no_log": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent", "verified"]},
            "user": {"type": "str"},
            "config_path": {"type": "path"},
            **ENGINE_ARG_SPEC,
        },
        required_if=[("state", "present", ("username", "password"))],
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
