# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Runs the module stack_info on its host and applies its option query (JMESPath) here, on the controller."""

from __future__ import annotations

from ansible_collections.outerloop.docker.plugins.plugin_utils._report_action import ReportQueryAction


class ActionModule(ReportQueryAction):
    pass
