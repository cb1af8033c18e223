# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""RegistryError, the error of every registry call, in a module of its own: code that only catches it (the
promotion gate, and through it the filters of the board) does not import the HTTP stack of registry_http.
Ansible imports every filter file of a collection for each task that uses one of its filters, in each worker."""

from __future__ import annotations


class RegistryError(Exception):
    """A registry that could not be reached or answered wrongly; the message names registry, image and
    the next step. ``kind`` says what went wrong, for a caller that picks its own next step:
    ``unreachable`` (no connection), ``tls`` (certificate or handshake), ``credentials`` (rejected),
    ``login_required`` (the registry asks for a login and none was found), ``input`` (stored credentials that
    cannot be read), or ``error`` (anything else)."""

    def __init__(self, message: str, kind: str = "error"):
        super().__init__(message)
        self.kind = kind
