# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP checks: a GET from the host the module runs on, tried until it answers the expected status (and
body text) or its retries run out.

One implementation for every module that checks an application over HTTP: the deploy modules' smoke
checks after a deploy or rollback (_platforms.deploy) and the watch of deployment_info (the soak of a
canary). SMOKE_CHECK_SPEC is the option's argument spec, documented once in doc_fragments/smoke_checks.py.
"""

from __future__ import annotations

import time
import urllib.error

from ansible.module_utils.urls import open_url

SMOKE_DEFAULTS = {"status": 200, "contains": None, "timeout": 5, "retries": 5, "delay": 2}

# The argument spec of a smoke_checks option (compose_deploy, stack_deploy, deployment_info).
SMOKE_CHECK_SPEC = {
    "type": "list",
    "elements": "dict",
    "default": [],
    "options": {
        "url": {"type": "str", "required": True},
        "status": {"type": "int", "default": SMOKE_DEFAULTS["status"]},
        "contains": {"type": "str"},
        "timeout": {"type": "int", "default": SMOKE_DEFAULTS["timeout"]},
        "retries": {"type": "int", "default": SMOKE_DEFAULTS["retries"]},
        "delay": {"type": "int", "default": SMOKE_DEFAULTS["delay"]},
    },
}


class SmokeCheckError(ValueError):
    """A check that cannot be run as given; the message names the check and what is wrong."""


def smoke_check_spec(check) -> dict:
    """A check with its defaults filled in, from a URL or a dictionary; SmokeCheckError when malformed."""
    if isinstance(check, str):
        check = {"url": check}
    if not isinstance(check, dict) or not check.get("url"):
        raise SmokeCheckError(f"smoke_checks: {check!r} needs a url")
    unknown = set(check) - set(SMOKE_DEFAULTS) - {"url"}
    if unknown:
        raise SmokeCheckError(f"smoke_checks: unknown key(s) {', '.join(sorted(unknown))} (known: url, status, "
                              "contains, timeout, retries, delay)")  # fmt: skip
    spec = {**SMOKE_DEFAULTS, **{k: v for k, v in check.items() if v is not None}}
    if not str(spec["url"]).startswith(("http://", "https://")):
        raise SmokeCheckError(f"smoke_checks: {spec['url']!r} is not an http:// or https:// URL")
    return spec


def run_smoke_check(spec: dict) -> dict:
    """GET ``spec["url"]`` from this host until it answers ``status`` (and holds ``contains``) or retries run out."""
    attempts, msg, status = 0, None, None
    for attempt in range(1, int(spec["retries"]) + 1):
        attempts = attempt
        try:
            with open_url(
                spec["url"], timeout=spec["timeout"], http_agent="outerloop.docker", use_proxy=False
            ) as response:
                status, body = response.status, response.read(1 << 20).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read(1 << 20).decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:
            status, body, msg = None, "", f"no answer ({getattr(exc, 'reason', exc)})"
        if status is not None:
            if status != int(spec["status"]):
                msg = f"status {status}, expected {spec['status']}"
            elif spec["contains"] and str(spec["contains"]) not in body:
                msg = f"status {status} but the body does not contain {spec['contains']!r}"
            else:
                return {"url": spec["url"], "ok": True, "status": status, "attempts": attempts, "msg": "ok"}
        if attempt < int(spec["retries"]):
            time.sleep(float(spec["delay"]))
    return {"url": spec["url"], "ok": False, "status": status, "attempts": attempts, "msg": msg}


def run_smoke_checks(checks) -> tuple[list, str | None]:
    """Every check in order until one fails: (results, None) or (results so far, the reason it failed).

    The checks are validated first (SmokeCheckError), so a malformed one never leaves the others half run."""
    specs = [smoke_check_spec(check) for check in checks or []]
    results = []
    for spec in specs:
        result = run_smoke_check(spec)
        results.append(result)
        if not result["ok"]:
            return results, f"smoke check {spec['url']} failed: {result['msg']}"
    return results, None
