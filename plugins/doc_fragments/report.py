# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options of the reports of what runs (deployment_info, stack_info; module_utils._domain.report), which
    # compare what runs with a release and return the deployment history.
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
"""
