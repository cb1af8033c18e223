# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The registry connection options of modules that talk to a registry over the Registry HTTP API v2
    # (module_utils._registry_api REGISTRY_ARG_SPEC, and timeout). A module whose wording of an option
    # differs documents that option itself; its entry takes precedence over the one here.
    DOCUMENTATION = r"""
options:
  username:
    description:
      - The user name at the registry. When it is not given, the credentials stored for the registry in
        a Docker config file are used (see O(config_path)), and without any, the registry is asked anonymously.
    type: str
  password:
    description:
      - The password or access token of O(username). Never logged nor returned.
    type: str
  config_path:
    description:
      - The Docker config file whose stored credentials for the registry are used when O(username) is
        not given, as C(docker) would use them (an C(auths) entry, or the credential helper named by
        C(credHelpers) or C(credsStore)). Write it with M(outerloop.docker.registry_login).
      - Defaults to C(~/.docker/config.json) of O(user). E(DOCKER_CONFIG) is not consulted.
    type: path
  user:
    description:
      - The account whose C(~/.docker/config.json) (home directory from the passwd database) holds the
        credentials. Defaults to the user the module runs as.
    type: str
  ca_path:
    description:
      - A file of PEM CA certificates that signed the registry's certificate. They are trusted in
        addition to the system's CAs.
      - Defaults to the C(*.crt) files in C(/etc/docker/certs.d/HOST:PORT/), the directory the Docker
        Engine reads for the same registry (usually C(ca.crt)), when there are any; a client certificate
        pair C(NAME.cert) and C(NAME.key) in that directory is presented as well.
    type: path
  validate_certs:
    description:
      - Whether the registry's TLS certificate is verified. Set V(false) only for a throwaway test registry.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each answer of the registry and of its token service.
    type: int
    default: 60
"""
