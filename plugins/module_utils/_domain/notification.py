# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The messages of deploy_notify: one event of a deploy or of the status, as the body of a webhook POST.

Formats: ``json`` (the event itself, schema ``outerloop.docker/notification/v1``), ``slack`` (an incoming
webhook's ``text``), ``teams`` (a Teams workflow webhook's message with one Adaptive Card). Pure: no I/O;
the deploy role POSTs the body with ansible.builtin.uri.
"""

from __future__ import annotations

SCHEMA = "outerloop.docker/notification/v1"
EVENTS = ("succeeded", "failed", "rolled_back", "alert")
FORMATS = ("json", "slack", "teams")
_TITLES = {
    "succeeded": "deployed",
    "failed": "deploy FAILED",
    "rolled_back": "deploy ROLLED BACK",
    "alert": "status ALERT",
}


class NotificationError(Exception):
    """An event or a format that cannot be sent (the message names it)."""


def event(kind: str, environment: str, project: str, message: str, **extra) -> dict:
    """The event in the json format: kind, where, what, and whatever ``extra`` adds (release_id, version,
    hosts, time, run, alerts)."""
    if kind not in EVENTS:
        raise NotificationError(f"the event must be one of {', '.join(EVENTS)}, not {kind!r}")
    body = {"schema": SCHEMA, "event": kind, "environment": environment or None, "project": project or None}
    body.update({key: value for key, value in extra.items() if value not in (None, "", [], {})})
    body["message"] = " ".join(str(message or "").split())
    return body


def title(body: dict) -> str:
    what = body.get("release_id") or body.get("version") or body.get("project") or "the application"
    return f"{body.get('environment') or 'environment'}: {_TITLES[body['event']]} ({what})"


def payload(body: dict, fmt: str = "json") -> dict:
    """The webhook body of ``body`` (an event) in ``fmt``."""
    if fmt not in FORMATS:
        raise NotificationError(f"deploy_notify format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if body.get("schema") != SCHEMA or body.get("event") not in EVENTS:
        raise NotificationError(f"not an event of {SCHEMA}: {body!r}")
    if fmt == "json":
        return body
    head = title(body)
    if fmt == "slack":
        return {"text": f"*{head}*\n{body['message']}"}
    facts = [{"title": name, "value": str(body[key])} for name, key in
             (("Release", "release_id"), ("Hosts", "hosts"), ("When", "time")) if body.get(key)]  # fmt: skip
    for fact in facts:
        if fact["title"] == "Hosts" and isinstance(body["hosts"], list):
            fact["value"] = ", ".join(body["hosts"])
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": head, "weight": "Bolder", "size": "Medium", "wrap": True,
             "color": "Good" if body["event"] == "succeeded" else "Attention"},
            {"type": "TextBlock", "text": body["message"], "wrap": True},
            {"type": "FactSet", "facts": facts},
        ],
    }  # fmt: skip
    return {"type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]}  # fmt: skip


def targets(notify, kind: str) -> list:
    """The entries of deploy_notify that want ``kind``, each checked: ``url`` (required), ``format``, ``events``,
    ``timeout``, ``retries``, ``headers``."""
    if not notify:
        return []
    if not isinstance(notify, list):
        raise NotificationError("deploy_notify must be a list of {url, format, events, timeout, retries, headers}")
    chosen = []
    for index, entry in enumerate(notify):
        where = f"deploy_notify[{index}]"
        if not isinstance(entry, dict) or not str(entry.get("url") or "").startswith(("http://", "https://")):
            raise NotificationError(f"{where} needs url, an http(s) URL")
        unknown = sorted(set(entry) - {"url", "format", "events", "timeout", "retries", "headers"})
        if unknown:
            raise NotificationError(f"{where}: unknown key(s) {', '.join(unknown)}")
        fmt = entry.get("format", "json")
        if fmt not in FORMATS:
            raise NotificationError(f"{where}.format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        events = entry.get("events", list(EVENTS))
        bad = [e for e in events if e not in EVENTS] if isinstance(events, list) else [events]
        if bad:
            raise NotificationError(f"{where}.events: {bad!r} are not among {', '.join(EVENTS)}")
        if kind in events:
            chosen.append({"url": entry["url"], "format": fmt, "timeout": int(entry.get("timeout", 10)),
                           "retries": int(entry.get("retries", 3)),
                           "headers": dict(entry.get("headers") or {})})  # fmt: skip
    return chosen


def notifications(notify, kind: str, environment: str, project: str, message: str, **extra) -> list:
    """What to POST for one event: ``[{url, body, timeout, retries, headers}]``, one per deploy_notify entry that
    wants ``kind``, each body in its entry's format."""
    body = event(kind, environment, project, message, **extra)
    return [{**{k: v for k, v in target.items() if k != "format"}, "body": payload(body, target["format"])}
            for target in targets(notify, kind)]  # fmt: skip
