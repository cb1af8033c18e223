# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options of the reports of what runs (deployment_info, stack_info; module_utils._domain.report), which
    # compare what runs with a release and return the deployment history, and whose option query the action
    # plugin of each evaluates on the controller (plugin_utils._report_action).
    DOCUMENTATION = r"""
options:
  release:
    description:
      - A release manifest, as a dictionary, for example from the P(outerloop.docker.release#lookup) lookup,
        to compare what runs with. It is validated (its C(digest) field included).
      - Without it, what runs is compared with the current release of the deployment history, and without
        a history, no drift is reported (the result's C(drift) is null).
    type: dict
  history_limit:
    description:
      - How many history entries to return, newest first. V(0) returns none.
    type: int
    default: 10
  query:
    description:
      - A JMESPath expression (U(https://jmespath.org/)) applied to the module's result, returned as
        RV(query_result) beside the full result, for example to pick out what a job template hands on with
        C(set_stats).
      - Evaluated on the controller by the module's action plugin, with the Python library C(jmespath) of the
        controller (C(requirements.txt), the execution environment); the managed host needs nothing more.
      - An expression that is not valid JMESPath fails the task before the module runs, naming the expression,
        the module, the host and the JMESPath error.
    type: str
"""
