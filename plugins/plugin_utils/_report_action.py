# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The action of the report modules (deployment_info, stack_info): the module runs on the host as always, and
its option ``query`` is applied to the result here, on the controller (plugin_utils._query).

A query that is not valid JMESPath fails the task before the module runs, naming the expression, the module
and the host; the full result is returned beside ``query_result``.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash
from ansible_collections.outerloop.docker.plugins.plugin_utils._query import QueryError, compile_query, search


class ReportQueryAction(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        args = dict(self._task.args)
        expression = args.pop("query", None)
        module = self._task.resolved_action or self._task.action
        where = f"{module} on {(task_vars or {}).get('inventory_hostname', 'this host')}"
        compiled = None
        if expression is not None:
            try:
                compiled = compile_query(expression, where)
            except QueryError as exc:
                return merge_hash(result, {"failed": True, "msg": str(exc)})
            if self._task.async_val:
                return merge_hash(result, {"failed": True, "msg": f"query of {where} cannot be used with async"})

        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(
            result,
            self._execute_module(module_name=module, module_args=args, task_vars=task_vars, wrap_async=wrap_async),
        )
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)

        if compiled is not None and not result.get("failed"):
            data = {key: value for key, value in result.items() if key != "invocation" and not key.startswith("_")}
            try:
                result["query_result"] = search(compiled, expression, data, where)
            except QueryError as exc:
                result.update(failed=True, msg=str(exc))
        return result
