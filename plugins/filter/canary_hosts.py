# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: canary_hosts
short_description: Pick the canary hosts of a deploy, from a count or a list of host names
version_added: 0.1.0
author: outerloop.docker contributors
description:
  - Returns the hosts that deploy first (the canary) among the hosts of a run, in the run's order.
  - A count picks that many hosts from the start of the list (all of them when it is as large as the list);
    V(0) picks none. A list (or a comma-separated string) of host names picks those hosts, each of which must
    be one of the run's hosts.
  - The deploy role uses it with C(deploy_canary_hosts) (P(outerloop.docker.deploy#role)).
options:
  _input:
    description: The hosts of the run, in order, for example C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  canary:
    description: How many hosts, or which hosts, deploy first.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: The first host of the run is the canary
  ansible.builtin.debug:
    msg: "{{ ['prod1', 'prod2', 'prod3'] | outerloop.docker.canary_hosts(1) }}"  # ['prod1']

- name: prod3 is the canary
  ansible.builtin.debug:
    msg: "{{ ['prod1', 'prod2', 'prod3'] | outerloop.docker.canary_hosts(['prod3']) }}"  # ['prod3']
"""

RETURN = r"""
_value:
  description: The canary hosts, in the order of the input.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError


def canary_hosts(hosts, canary, name: str = "deploy_canary_hosts") -> list:
    """The canary among ``hosts``: the first ``canary`` of them (a count), or the named ones (a list)."""
    hosts = [str(host) for host in hosts or []]
    if isinstance(canary, bool) or canary is None:
        raise AnsibleFilterError(f"{name}: give a count of hosts or a list of host names, not {canary!r}")
    if isinstance(canary, str):
        text = canary.strip()
        canary = int(text) if text.isdigit() else [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(canary, int):
        if canary < 0:
            raise AnsibleFilterError(f"{name}: {canary} is not a count of hosts; give 0 (no canary) or more")
        return hosts[:canary]
    if not isinstance(canary, (list, tuple)):
        raise AnsibleFilterError(f"{name}: give a count of hosts or a list of host names, not {canary!r}")
    wanted = [str(host) for host in canary]
    unknown = [host for host in wanted if host not in hosts]
    if unknown:
        raise AnsibleFilterError(
            f"{name}: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not among the hosts of this run "
            f"({', '.join(hosts) or 'none'}); name hosts of the environment's inventory, or give a count"
        )
    return [host for host in hosts if host in wanted]


class FilterModule:
    def filters(self):
        return {"canary_hosts": canary_hosts}
