# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: jmespath_query
short_description: Apply a JMESPath expression to a report, with an error that names the expression
version_added: 0.1.0
author: outerloop.docker contributors
description:
  - Returns the result of a JMESPath expression (U(https://jmespath.org/)) applied to the input, for example the
    status of an environment (the playbook C(outerloop.docker.status) with C(status_query), the deploy role's
    C(deploy_status_query)).
  - An expression that is not valid JMESPath, or that fails on the input, fails with a message that names the
    expression, what it was applied to (O(where)) and the JMESPath error.
  - The same evaluation as the O(outerloop.docker.deployment_info#module:query) option of the report modules.
requirements:
  - The Python library C(jmespath) on the controller (C(requirements.txt), the execution environment)
options:
  _input:
    description: The data to query, for example C(deploy_status).
    type: raw
    required: true
  expression:
    description: The JMESPath expression.
    type: str
    required: true
  where:
    description: What the data are, for the message of a failure.
    type: str
    default: the input
"""

EXAMPLES = r"""
- name: The hosts that do not run healthy
  ansible.builtin.debug:
    msg: "{{ deploy_status | outerloop.docker.jmespath_query('hosts[?!healthy].host', where='the status') }}"
"""

RETURN = r"""
_value:
  description: What the expression selects; null when it selects nothing.
  type: raw
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.outerloop.docker.plugins.plugin_utils._query import QueryError, apply_query


def jmespath_query(data, expression, where: str = "the input"):
    try:
        return apply_query(expression, data, where)
    except QueryError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"jmespath_query": jmespath_query}
