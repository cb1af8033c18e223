# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# The filters diagnosis_report and diagnosis_markdown; their documentation is in diagnosis_report.yml and
# diagnosis_markdown.yml beside this file.
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
