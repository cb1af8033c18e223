# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: release_board
short_description: The release board, releases against environments, as one self-contained HTML page
version_added: 0.1.0
author: outerloop.docker contributors
description:
  - Renders the release board of the collection's C(docs/board.md) from the records the board playbook
    (C(outerloop.docker.board)) gathers per host of every environment.
  - Per environment, what runs on each Compose host (or the stack of a swarm), since when, its health, drift and
    alerts (the status of P(outerloop.docker.environment_status#filter)), and a timeline of the deployment history
    (deploys, rollbacks, failed deploys with their reason); the running releases against the environments, with the
    promotion proofs (C(passed-ENV-VERSION) tags) the registry holds for each.
  - The page has inline CSS, no script and no external asset, so it opens from a file and as a stored artifact.
    Every value is HTML-escaped.
options:
  _input:
    description:
      - The per-host records, a list of dictionaries with the keys C(host), C(environment), C(platform)
        (V(compose) or V(swarm)), C(project), C(requires) (the environment a release must pass before),
        C(url), C(reporter) (on a swarm, the manager whose report stands for the environment), C(report) (the
        registered result of M(outerloop.docker.deployment_info) or M(outerloop.docker.stack_info)) and
        C(proofs) (the registered results of M(outerloop.docker.registry_image_info) looped over
        P(outerloop.docker.release_board_proof_lookups#filter)).
      - Or the board's model that P(outerloop.docker.release_board_data#filter) made of them; the other options
        are then those it was made with.
    type: raw
    required: true
  generated_at:
    description: When the board was made (RFC 3339, UTC); the ages on the page are counted from it.
    type: str
    default: ""
  environments:
    description:
      - The environments to show, in this order. By default every environment of the records, each after the
        one it requires.
    type: list
    elements: str
  title:
    description: The page's title; by default C(Release board) and the applications.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Write the board from the records
  ansible.builtin.copy:
    content: "{{ records | outerloop.docker.release_board(generated_at=now(utc=true, fmt='%Y-%m-%dT%H:%M:%SZ')) }}"
    dest: board/board.html
    mode: "0644"
  delegate_to: localhost
  run_once: true

- name: The board's model once, for the page and for the job's artifacts
  ansible.builtin.set_fact:
    board: "{{ records | outerloop.docker.release_board_data(generated_at=now(utc=true, fmt='%Y-%m-%dT%H:%M:%SZ')) }}"
  run_once: true

- name: Write the board from its model
  ansible.builtin.copy:
    content: "{{ board | outerloop.docker.release_board }}"
    dest: board/board.html
    mode: "0644"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
_value:
  description: The HTML page.
  type: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.board import (
    SCHEMA,
    BoardError,
    board,
    proof_lookups,
    render_html,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.status import StatusError


def release_board(records, generated_at="", environments=None, title=""):
    """The page, from the records or from the model release_board_data made of them."""
    try:
        if isinstance(records, dict) and records.get("schema") == SCHEMA:
            return render_html(records)
        return render_html(board(records, generated_at=generated_at, environments=environments, title=title))
    except (BoardError, StatusError) as exc:
        raise AnsibleFilterError(str(exc)) from exc


def release_board_data(records, generated_at="", environments=None, title=""):
    try:
        return board(records, generated_at=generated_at, environments=environments, title=title)
    except (BoardError, StatusError) as exc:
        raise AnsibleFilterError(str(exc)) from exc


def release_board_proof_lookups(report, environments):
    return proof_lookups(report, environments)


class FilterModule:
    def filters(self):
        return {
            "release_board": release_board,
            "release_board_data": release_board_data,
            "release_board_proof_lookups": release_board_proof_lookups,
        }
