# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: notifications
short_description: The webhook messages of one event of a deploy or of the status, per deploy_notify entry
version_added: 0.1.0
author: outerloop.docker contributors
description:
  - Returns what to POST for one event, one item per entry of C(deploy_notify) that wants the event, each with
    C(url), C(body) (in the entry's format), C(timeout), C(retries) and C(headers).
  - Events are V(succeeded), V(failed), V(rolled_back) (a deploy) and V(alert) (the status failed on an alert).
  - Formats are V(json) (the event itself, schema C(outerloop.docker/notification/v1)), V(slack) (an incoming
    webhook's C(text)) and V(teams) (a Teams workflow webhook's message with one Adaptive Card).
  - The deploy role sends them with C(ansible.builtin.uri) (P(outerloop.docker.deploy#role), C(deploy_notify)).
options:
  _input:
    description: C(deploy_notify), a list of C({url, format, events, timeout, retries, headers}).
    type: list
    elements: dict
    required: true
  event:
    description: The event.
    type: str
    choices: [succeeded, failed, rolled_back, alert]
    required: true
  environment:
    description: The environment.
    type: str
    required: true
  project:
    description: The application (compose project or stack).
    type: str
    required: true
  message:
    description: What happened, in words.
    type: str
    required: true
  release_id:
    description: The release of the event.
    type: str
  version:
    description: Its version.
    type: str
  hosts:
    description: The hosts of the event.
    type: list
    elements: str
  time:
    description: When it happened (RFC 3339).
    type: str
  run:
    description: Who ran it (C(user), C(awx_job_id)).
    type: dict
  alerts:
    description: The alerts of a status (event V(alert)).
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: What to POST when the deploy failed
  ansible.builtin.debug:
    msg: >-
      {{ [{'url': 'https://hooks.example.com/deploys', 'format': 'slack'}]
         | outerloop.docker.notifications(event='failed', environment='qa', project='sample-app',
                                          message='qa1: release 1.4.0 is not healthy') }}
"""

RETURN = r"""
_value:
  description: One item per C(deploy_notify) entry that wants the event.
  type: list
  elements: dict
  contains:
    url:
      description: Where to POST.
      type: str
    body:
      description: The JSON body, in the entry's format.
      type: dict
    timeout:
      description: Seconds for one attempt.
      type: int
    retries:
      description: Attempts after the first one.
      type: int
    headers:
      description: Extra HTTP headers.
      type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.notification import NotificationError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.notification import (
    notifications as _notifications,
)


def notifications(notify, event, environment, project, message, **extra):
    try:
        return _notifications(notify, event, environment, project, message, **extra)
    except NotificationError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"notifications": notifications}
