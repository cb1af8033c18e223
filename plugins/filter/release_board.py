# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# The filters release_board, release_board_data and release_board_proof_lookups (docs/board.md); each is documented
# in the YAML file of its name beside this one.

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.status import StatusError


def _board():
    """The board's module, imported on the first call of one of these filters, not when the file loads: ansible-core
    loads every filter file of the collection in each worker that uses any of its filters (the deploy's status, the
    canary), and only the board's own tasks need the board (and with it html, calendar and the promotion gate)."""
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.outerloop.docker.plugins.module_utils._domain import board  # noqa: PLC0415

    return board


def release_board(records, generated_at="", environments=None, title=""):
    """The page, from the records or from the model release_board_data made of them."""
    board = _board()
    try:
        if isinstance(records, dict) and records.get("schema") == board.SCHEMA:
            return board.render_html(records)
        return board.render_html(
            board.board(records, generated_at=generated_at, environments=environments, title=title)
        )
    except (board.BoardError, StatusError) as exc:
        raise AnsibleFilterError(str(exc)) from exc


def release_board_data(records, generated_at="", environments=None, title=""):
    board = _board()
    try:
        return board.board(records, generated_at=generated_at, environments=environments, title=title)
    except (board.BoardError, StatusError) as exc:
        raise AnsibleFilterError(str(exc)) from exc


def release_board_proof_lookups(reports, environments):
    if not isinstance(reports, dict):
        raise AnsibleFilterError(
            f"release_board_proof_lookups takes a dict of host -> report, not {type(reports).__name__}"
        )
    return _board().proof_plan(reports, environments)


class FilterModule:
    def filters(self):
        return {
            "release_board": release_board,
            "release_board_data": release_board_data,
            "release_board_proof_lookups": release_board_proof_lookups,
        }
