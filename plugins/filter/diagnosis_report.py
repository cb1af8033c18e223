# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: diagnosis_report
short_description: The diagnosis of an environment as one document, traced back to its release and build
version_added: 0.1.0
author: outerloop.docker contributors (@outerloop)
description:
  - Builds the document of one diagnosis run (schema C(outerloop.docker/diagnosis/v1), described in the
    collection's C(docs/diagnose.md)) from the registered results of M(outerloop.docker.container_diagnose), one
    per host, and the JUnit files found on the controller for the commit of the release that runs.
  - The document holds C(release) (the release that runs, when every host runs the same one), C(releases) (each
    release found), C(junit), C(problems) (prefixed with the host), and per host its diagnosis; a host that was not
    reached or whose module failed is in it with C(reached=false) and the reason.
  - The playbook C(outerloop.docker.diagnose) writes it as C(diagnosis.json) of its bundle, and its Markdown
    (P(outerloop.docker.diagnosis_markdown#filter)) as C(summary.md).
options:
  _input:
    description: A dictionary of host name to the registered result of container_diagnose.
    type: dict
    required: true
  environment:
    description: The environment's name.
    type: str
    default: ""
  project:
    description: The compose project or stack.
    type: str
    default: ""
  service:
    description: The one service diagnosed, if only one was.
    type: str
  junit:
    description:
      - 'The JUnit files of the builds, C({"dir": DIR, "files": {SHORT_COMMIT: [PATH, ...]}}), each path relative to
        C(DIR/SHORT_COMMIT) (the CI role''s C(ci_junit_dir) layout).'
    type: dict
  generated_at:
    description: When the diagnosis was made (RFC 3339), as the document records it.
    type: str
    default: ""
seealso:
  - module: outerloop.docker.container_diagnose
  - plugin: outerloop.docker.diagnosis_markdown
    plugin_type: filter
"""

EXAMPLES = r"""
- name: The diagnosis of the environment as one document
  ansible.builtin.set_fact:
    diagnosis: >-
      {{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, '_diagnose')))
         | outerloop.docker.diagnosis_report(environment='qa', project='sample-app',
                                             junit={'dir': 'releases/junit',
                                                    'files': {'0a1b2c3d4e5f': ['api/unit-junit.xml']}}) }}
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - The diagnosis document. Its keys are C(schema), C(generated_at), C(environment), C(project), C(service),
      C(release), C(releases), C(junit), C(problems) and C(hosts).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.diagnosis import (
    DiagnosisError,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.diagnosis import (
    diagnosis_markdown as _diagnosis_markdown,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.diagnosis import (
    diagnosis_report as _diagnosis_report,
)


def diagnosis_report(hosts, **options):
    """options: environment, project, service, junit, generated_at (DOCUMENTATION)."""
    try:
        return _diagnosis_report(hosts, **options)
    except DiagnosisError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def diagnosis_markdown(document, log_lines=20):
    if not isinstance(document, dict) or "hosts" not in document:
        raise AnsibleFilterError("diagnosis_markdown takes the document of the diagnosis_report filter")
    return _diagnosis_markdown(document, int(log_lines))


class FilterModule:
    def filters(self):
        return {"diagnosis_report": diagnosis_report, "diagnosis_markdown": diagnosis_markdown}
