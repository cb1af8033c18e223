# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""JMESPath queries over the collection's reports, evaluated on the controller (where jmespath is installed:
requirements.txt, the execution environment), so that the managed hosts need nothing more.

Used by the action plugins of deployment_info and stack_info (option ``query``) and by the filter
jmespath_query (the status playbook's ``status_query``).
"""

from __future__ import annotations

try:
    import jmespath
    import jmespath.exceptions

    HAS_JMESPATH = True
except ImportError:
    HAS_JMESPATH = False

SPECIFICATION = "https://jmespath.org/specification.html"


class QueryError(Exception):
    """A query that cannot be compiled or evaluated; the message names the expression, where, and why."""


def compile_query(expression, where: str):
    """The compiled expression. ``where`` names what it is applied to and on which host, for the message."""
    if not HAS_JMESPATH:
        raise QueryError(
            f"query {expression!r} of {where} needs the Python library jmespath on the controller (where Ansible "
            "runs, or in the execution environment): pip install jmespath (requirements.txt of outerloop.docker)"
        )
    if not isinstance(expression, str) or not expression.strip():
        raise QueryError(f"query of {where} must be a JMESPath expression (a non-empty string), not {expression!r}")
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        raise QueryError(
            f"query {expression!r} of {where} is not a valid JMESPath expression: {one_line(exc)}. "
            f"Fix the expression ({SPECIFICATION})"
        ) from None


def search(compiled, expression: str, data, where: str):
    """The compiled expression applied to data; an expression that fails on these data (a function given the
    wrong type, say) raises QueryError."""
    try:
        return compiled.search(data)
    except jmespath.exceptions.JMESPathError as exc:
        raise QueryError(
            f"query {expression!r} of {where} failed on the result: {one_line(exc)}. Fix the expression "
            f"({SPECIFICATION})"
        ) from None


def apply_query(expression, data, where: str):
    """compile_query and search in one step."""
    return search(compile_query(expression, where), expression, data, where)


def one_line(exc: Exception) -> str:
    """A JMESPath error as one line (a parse error draws the expression and a caret below it)."""
    return " ".join(str(exc).split())
