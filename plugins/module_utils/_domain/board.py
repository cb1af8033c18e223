# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The release board: releases against environments, as one self-contained HTML page (docs/board.md).

The board playbook (playbooks/board.yml) gathers, per host of every environment of its inventory, one record::

    {"host", "environment", "platform": "compose" | "swarm", "project", "requires", "url",
     "reporter": bool,           # on a swarm: the manager whose stack_info report stands for the environment
     "report": {...},            # the registered result of deployment_info (Compose) or stack_info (swarm)
     "proofs": [{...}, ...]}     # the registered results of registry_image_info over its share of proof_plan()

``board()`` turns the records into the board's model: per environment its status (the status document of
_domain/status.py, its alerts included), its hosts (or its stack) with the release they run and since when, and
a timeline of the deployment history; and the running releases against the environments, with the promotion
proofs (``passed-ENV-VERSION`` tags) the registry holds for each. ``render_html()`` writes the model as HTML:
inline CSS, no script, no external asset, every value escaped.

Pure: no I/O.
"""

from __future__ import annotations

import calendar
import html
import re
import time

from ansible_collections.outerloop.docker.plugins.module_utils._domain.promotion_gate import (
    PASSED_PREFIX,
    GateError,
    check_environment,
    passed_tag,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.status import environment_status
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRefError,
    parse_image_ref,
)

SCHEMA = "outerloop.docker/board/v1"
# The promotion proofs of a release in one environment, as the board shows them.
PROOF_STATES = ("passed", "partial", "absent", "conflict", "unknown")
_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


class BoardError(ValueError):
    """Records the board cannot be built from (the message names the record)."""


# --------------------------------------------------------------------------- the proofs to look up


def _report_info(report) -> dict:
    report = report or {}
    return report.get("deployment") or report.get("stack") or {}


def proof_lookups(report, environments) -> list:
    """The registry references that prove the release a host (or a stack) runs passed each of ``environments``.

    One per service of the release with a digest and an image in a registry, and per environment:
    ``{"release_id", "environment", "service", "image": "REGISTRY/REPO:passed-ENV-VERSION", "digest"}``, the digest
    being the release's (what the tag must hold). Empty when the report names no current release.
    """
    info = _report_info(report)
    release_id, version = info.get("release_id"), info.get("version")
    if not release_id or not version:
        return []
    lookups = []
    for name, svc in sorted((info.get("services") or {}).items()):
        if svc.get("in_release") is False:
            continue
        digest = svc.get("expected_digest") or svc.get("digest")
        try:
            ref = parse_image_ref(svc.get("image") or "")
        except ImageRefError:
            continue
        if not digest or not ref.registry:
            continue
        for environment in environments or []:
            try:  # an environment or a version that cannot make a tag has no proof to look up
                tag = passed_tag(check_environment(environment, "environment"), str(version))
            except (GateError, ImageRefError):
                continue
            lookups.append({"release_id": release_id, "environment": environment, "service": name,
                            "image": f"{ref.name}:{tag}", "digest": digest})  # fmt: skip
    return lookups


def proof_plan(reports: dict, environments) -> dict:
    """``{host: [lookup, ...]}``: every distinct lookup of proof_lookups() over the hosts' reports once, shared out in
    turn among the hosts whose report names a release (hosts that run the same release ask the registry once).
    ``reports``: ``{host: registered result of deployment_info or stack_info}``."""
    plan: dict = {host: [] for host in reports}
    askers, lookups, seen = [], [], set()
    for host, report in reports.items():
        mine = proof_lookups(report, environments)
        if mine:
            askers.append(host)
        for lookup in mine:
            key = (lookup["release_id"], lookup["image"], lookup["digest"])
            if key not in seen:
                seen.add(key)
                lookups.append(lookup)
    for index, lookup in enumerate(lookups):
        plan[askers[index % len(askers)]].append(lookup)
    return plan


def _proof_results(records) -> dict:
    """{(release_id, environment): {service: "passed" | "absent" | "conflict" | "unknown"}} from the lookups' results
    of every host; a service answered by one host is known (another host's failed lookup does not hide it)."""
    found: dict = {}
    for record in records:
        for result in record.get("proofs") or []:
            item = result.get("item") if isinstance(result, dict) else None
            if not isinstance(item, dict) or not item.get("release_id"):
                continue
            if result.get("skipped"):
                continue
            if result.get("failed") or result.get("unreachable") or "exists" not in result:
                state = "unknown"
            elif not result.get("exists"):
                state = "absent"
            elif result.get("digest") == item.get("digest"):
                state = "passed"
            else:
                state = "conflict"
            services = found.setdefault((item["release_id"], item.get("environment")), {})
            if services.get(item.get("service")) in (None, "unknown"):
                services[item.get("service")] = state
    return found


def _proof_state(services: dict | None) -> str:
    if not services:
        return "unknown"
    states = set(services.values())
    if "conflict" in states:
        return "conflict"
    if states == {"passed"}:
        return "passed"
    if "passed" in states:
        return "partial"
    if states == {"absent"}:
        return "absent"
    return "unknown"


# --------------------------------------------------------------------------- the model


def _environment_order(environments: list, requires: dict, wanted) -> list:
    """``wanted`` as given, else the promotion order: an environment after the one it requires, ties in the order
    the inventory gave them."""
    if wanted:
        return [str(name) for name in wanted]
    placed: list = []
    pending = list(environments)
    while pending:
        ready = next((env for env in pending if requires.get(env) not in pending), pending[0])
        placed.append(ready)
        pending.remove(ready)
    return placed


def _history_of(report) -> list:
    return list(_report_info(report).get("history") or [])


def _event(entry: dict, host: str | None) -> dict:
    action, result = entry.get("action"), entry.get("result")
    if action == "deploy":
        kind = {"succeeded": "deployed", "failed": "failed", "rolled_back": "rolled back"}.get(result, result)
    elif action == "rollback":
        kind = "rollback" if result == "succeeded" else f"rollback {result}"
    elif action == "remove":
        kind = "removed" if result == "succeeded" else f"remove {result}"
    else:
        kind = f"{action} {result}"
    return {
        "at": entry.get("finished") or entry.get("started"),
        "host": host,
        "kind": kind,
        "action": action,
        "result": result,
        "release_id": entry.get("release_id"),
        "version": entry.get("version"),
        "previous_release_id": entry.get("previous_release_id"),
        "reason": entry.get("reason"),
        "by": (entry.get("triggered_by") or {}).get("user"),
    }


def _drift_words(drift) -> str | None:
    if not drift:
        return None
    if drift.get("in_sync"):
        return "in sync"
    words = [*drift.get("changed", []), *(f"{name} (missing)" for name in drift.get("missing", []))]
    words += [f"{name} (extra)" for name in drift.get("extra", [])]
    return "drift: " + ", ".join(words)


def _compose_environment(name: str, records: list, generated_at: str) -> dict:
    project = next((r.get("project") for r in records if r.get("project")), "")
    reports = {r["host"]: r.get("report") or {"msg": "not reported"} for r in records}
    urls = {r["host"]: r.get("url") or "" for r in records}
    status = environment_status(name, "compose", project, reports, generated_at=generated_at, urls=urls)
    alerts: dict = {}
    for alert in status["alerts"]:
        alerts.setdefault(alert["host"], []).append(alert)
    rows = []
    for host in status["hosts"]:
        rows.append({"host": host["host"], "url": host["url"], "reachable": host["reachable"], "error": host["error"],
                     "release_id": host["release_id"], "version": host["version"], "commit": host["commit"],
                     "since": host["deployed_at"], "running": host["running"], "healthy": host["healthy"],
                     "drift": _drift_words(host["drift"]), "services": host["services"],
                     "alerts": alerts.get(host["host"], [])})  # fmt: skip
    events = [_event(entry, r["host"]) for r in records for entry in _history_of(r.get("report"))]
    return {"project": project, "status": status, "hosts": rows, "events": events}


def _swarm_environment(name: str, records: list, generated_at: str) -> dict:
    reporter = next((r for r in records if r.get("reporter")), None)
    project = next((r.get("project") for r in records if r.get("project")), "")
    report = (reporter or {}).get("report") or {"msg": "no swarm manager of the environment reported"}
    status = environment_status(name, "swarm", project, report, generated_at=generated_at,
                                urls={"stack": (reporter or {}).get("url") or ""})  # fmt: skip
    stack = status["stack"]
    row = {"host": f"stack {project}" if project else "stack", "manager": (reporter or {}).get("host"),
           "url": stack["url"], "reachable": stack["reachable"], "error": stack["error"],
           "release_id": stack["release_id"], "version": stack["version"], "commit": stack["commit"],
           "since": stack["deployed_at"], "healthy": stack["converged"], "drift": _drift_words(stack["drift"]),
           "services": stack["services"], "nodes": stack["nodes"], "alerts": status["alerts"]}  # fmt: skip
    events = [_event(entry, (reporter or {}).get("host")) for entry in _history_of(report)]
    return {"project": project, "status": status, "hosts": [row], "events": events}


def board(records, *, generated_at: str = "", environments=None, title: str = "") -> dict:
    """The board's model from the playbook's per-host records (see the module's docstring)."""
    if not isinstance(records, (list, tuple)):
        raise BoardError(f"the board's records must be a list of per-host records, not {type(records).__name__}")
    by_env: dict = {}
    requires: dict = {}
    platforms: dict = {}
    for record in records:
        if not isinstance(record, dict) or not record.get("host") or not record.get("environment"):
            raise BoardError(f"a board record needs a host and an environment: {record!r}")
        env = str(record["environment"])
        by_env.setdefault(env, []).append(record)
        requires.setdefault(env, record.get("requires") or None)
        platform = record.get("platform") or "compose"
        if platforms.setdefault(env, platform) != platform:
            raise BoardError(f"environment {env}: hosts of both platforms compose and swarm ({record['host']})")
    order = _environment_order(list(by_env), requires, environments)
    proofs = _proof_results(records)
    envs = []
    for name in order:
        members = by_env.get(name, [])
        if not members:
            envs.append({"name": name, "platform": None, "requires": None, "project": None, "status": None,
                         "hosts": [], "events": [], "missing": True})  # fmt: skip
            continue
        build = _swarm_environment if platforms[name] == "swarm" else _compose_environment
        env = build(name, members, generated_at)
        env["events"].sort(key=lambda e: (e["at"] or "", e["host"] or ""), reverse=True)
        status = env["status"]
        env.update(name=name, platform=platforms[name], requires=requires.get(name), missing=False,
                   ok=not status["alerts"], counts=status["counts"], alerts=status["alerts"])  # fmt: skip
        envs.append(env)
    releases: dict = {}
    for env in envs:
        for row in env["hosts"]:
            if not row.get("release_id"):
                continue
            release = releases.setdefault(row["release_id"], {"release_id": row["release_id"],
                                                              "version": row["version"], "commit": row["commit"],
                                                              "runs": {}})  # fmt: skip
            release["runs"].setdefault(env["name"], []).append(row["host"])
    for release in releases.values():
        release["proofs"] = {
            env: {"state": _proof_state(proofs.get((release["release_id"], env))),
                  "services": dict(sorted((proofs.get((release["release_id"], env)) or {}).items()))}
            for env in order
        }  # fmt: skip
    projects = sorted({env["project"] for env in envs if env.get("project")})
    return {
        "schema": SCHEMA,
        "title": title or f"Release board: {', '.join(projects) or 'no application'}",
        "generated_at": generated_at,
        "projects": projects,
        "environments": envs,
        "releases": sorted(releases.values(), key=_release_key, reverse=True),
    }


def _release_key(release: dict) -> tuple:
    return (_version_key(release["version"]), release["release_id"])


def _version_key(version) -> tuple:
    """A SemVer-ish order: the numbers of MAJOR.MINOR.PATCH, then a release before its pre-releases."""
    core, _sep, pre = str(version or "").partition("+")[0].partition("-")
    numbers = tuple(int(part) if part.isdigit() else 0 for part in core.split("."))
    return (numbers, 0 if pre else 1, pre)


# --------------------------------------------------------------------------- time in words


def _parse_time(text) -> int | None:
    """An RFC 3339 time as seconds since the epoch (UTC); None when it is not one."""
    match = _TIME.match(str(text or ""))
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    seconds = calendar.timegm((int(year), int(month), int(day), int(hour), int(minute), int(second), 0, 0, 0))
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + int(digits[2:]) * 60
        seconds += -offset if zone[0] == "+" else offset
    return seconds


def short_time(text) -> str:
    """``2026-12-01 09:58 UTC`` from an RFC 3339 time; the text as it is when it is not one."""
    when = _parse_time(text)
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(when)) if when is not None else str(text or "")


def age(text, now) -> str:
    """How long before ``now`` (both RFC 3339): ``42 s``, ``17 min``, ``5 h``, ``3 d``; empty when unknown."""
    then, at = _parse_time(text), _parse_time(now)
    if then is None or at is None:
        return ""
    seconds = at - then
    if seconds < 0:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


# --------------------------------------------------------------------------- HTML

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f3f5f8;color:#1c2833;
font:14px/1.45 "DejaVu Sans",system-ui,-apple-system,"Segoe UI",sans-serif}
header{background:#1c2833;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px;font-weight:600}
header p{margin:2px 0 0;color:#aab7c4;font-size:13px}
main{padding:16px 24px 32px}
h2{font-size:16px;margin:22px 0 8px}
h3{font-size:13px;margin:14px 0 6px;color:#4a5866;text-transform:uppercase;letter-spacing:.04em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:12px}
.card,.env{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:12px 14px}
.card{border-top:4px solid #2e8540}
.card.alerting{border-top-color:#c62828}
.card.missing{border-top-color:#9aa5b1}
.card h2{margin:0 0 4px;font-size:16px}
.card .version{font-size:22px;font-weight:700;margin:2px 0}
.card .where{color:#4a5866;font-size:12px}
.env{margin:14px 0}
.env > h2{margin:0 0 6px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e4e9ef;vertical-align:top}
th{font-size:11px;color:#5b6b7b;text-transform:uppercase;letter-spacing:.04em;background:#f7f9fb}
.matrix td{min-width:120px}
.badge{display:inline-block;padding:1px 8px;margin:1px 2px 1px 0;border-radius:10px;font-size:12px;font-weight:600;
white-space:nowrap}
.ok{background:#dcf3e2;color:#17642d}.bad{background:#fde0de;color:#a61b1b}.warn{background:#fff0c7;color:#7d5200}
.muted{background:#e9edf2;color:#56636f}.info{background:#e1ecfb;color:#1b4f91}
code,.mono{font:12px "DejaVu Sans Mono",ui-monospace,monospace}
.small{font-size:12px;color:#5b6b7b}
ul.alerts{margin:6px 0 0;padding-left:18px;color:#a61b1b}
ol.timeline{list-style:none;margin:0;padding:0 0 0 14px;border-left:2px solid #d5dce4}
ol.timeline li{margin:0 0 6px;position:relative}
ol.timeline li:before{content:"";position:absolute;left:-20px;top:5px;width:10px;height:10px;border-radius:50%;
background:#2e8540}
ol.timeline li.failed:before,ol.timeline li.rolled-back:before{background:#c62828}
ol.timeline li.rollback:before{background:#e0a100}
ol.timeline li.removed:before{background:#9aa5b1}
.reason{display:block;color:#a61b1b;font-size:12px}
footer{color:#7b8794;font-size:12px;padding:0 24px 24px}
"""


def _e(value) -> str:
    """A value as HTML text, escaped (quotes too, for attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _badge(text, tone: str, title=None) -> str:
    hint = f' title="{_e(title)}"' if title else ""
    return f'<span class="badge {tone}"{hint}>{_e(text)}</span>'


def _health_badge(row: dict, platform: str) -> str:
    if not row.get("reachable", True):
        return _badge("down", "bad", row.get("error"))
    if not row.get("release_id") and not row.get("running"):
        return _badge("nothing runs", "muted")
    if row.get("healthy"):
        return _badge("converged" if platform == "swarm" else "healthy", "ok")
    return _badge("not converged" if platform == "swarm" else "unhealthy", "bad")


def _drift_badge(words) -> str:
    if words is None:
        return _badge("-", "muted")
    return _badge(words, "ok" if words == "in sync" else "warn")


_PROOF_TONES = {"passed": "ok", "partial": "warn", "absent": "muted", "conflict": "bad", "unknown": "muted"}
_PROOF_WORDS = {"passed": "passed", "partial": "partly passed", "absent": "not passed", "conflict": "other build",
                "unknown": "unknown"}  # fmt: skip


def _proof_badge(env: str, proof: dict) -> str:
    state = proof.get("state", "unknown")
    services = ", ".join(f"{name}: {value}" for name, value in (proof.get("services") or {}).items())
    mark = {"passed": "\u2713 ", "conflict": "\u2717 "}.get(state, "")
    return (f'<span class="badge {_PROOF_TONES[state]}" data-proof="{_e(env)}" data-proof-state="{_e(state)}"'
            f' title="{_e(services or "no lookup")}">{mark}{_e(PASSED_PREFIX)}-{_e(env)}</span>')  # fmt: skip


def _nothing(running) -> str:
    """What a host without a current release runs: nothing, or containers no deploy recorded."""
    return "no release recorded" if running else "nothing"


def _card(env: dict, now: str) -> str:
    name = env["name"]
    if env.get("missing"):
        return (f'<div class="card missing" data-card="{_e(name)}"><h2>{_e(name)}</h2>'
                '<div class="where">no host of this environment in the inventory</div></div>')  # fmt: skip
    versions = sorted({row["version"] for row in env["hosts"] if row.get("version")}, key=_version_key, reverse=True)
    unrecorded = any(row.get("running") and not row.get("release_id") for row in env["hosts"])
    alerts = env["alerts"]
    state = _badge("all well", "ok") if not alerts else _badge(f"{len(alerts)} alert(s)", "bad")
    hosts = ", ".join(row["host"] for row in env["hosts"])
    since = [row["since"] for row in env["hosts"] if row.get("since")]
    when = f"since {age(min(since), now)}" if since and age(min(since), now) else ""
    return (
        f'<div class="card{" alerting" if alerts else ""}" data-card="{_e(name)}">'
        f'<h2>{_e(name)}</h2><div class="version">{_e(" / ".join(versions) or _nothing(unrecorded))}</div>'
        f'<div class="where">{_e(env["platform"])}: {_e(hosts)}</div>'
        f'<div>{state} <span class="small">{_e(when)}</span></div></div>'
    )


def _matrix(model: dict) -> str:
    envs = [env["name"] for env in model["environments"]]
    if not model["releases"]:
        return '<p class="small">No environment runs a release.</p>'
    head = "".join(f"<th>{_e(name)}</th>" for name in envs)
    rows = []
    for release in model["releases"]:
        cells = []
        for name in envs:
            hosts = release["runs"].get(name, [])
            runs = f"<div><b>{_e(', '.join(hosts))}</b></div>" if hosts else ""
            cells.append(f'<td data-env="{_e(name)}">{runs}{_proof_badge(name, release["proofs"][name])}</td>')
        commit = (release.get("commit") or "")[:12]
        rows.append(
            f'<tr data-release="{_e(release["release_id"])}"><td><b>{_e(release["version"])}</b>'
            f'<div class="small mono">{_e(release["release_id"])}</div>'
            f'<div class="small">commit <code>{_e(commit or "-")}</code></div></td>{"".join(cells)}</tr>'
        )
    return (f'<table class="matrix"><thead><tr><th>release</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')  # fmt: skip


def _host_rows(env: dict, model: dict, now: str) -> str:
    proofs = {release["release_id"]: release["proofs"] for release in model["releases"]}
    rows = []
    for row in env["hosts"]:
        services = []
        for name, svc in (row.get("services") or {}).items():
            if env["platform"] == "swarm":
                nodes = ", ".join(svc.get("nodes") or [])
                text = f"{name} {svc.get('replicas')}" + (f" on {nodes}" if nodes else "")
                tone = "ok" if svc.get("converged") else "bad"
            else:
                text = f"{name} {svc.get('running')}/{svc.get('containers')}"
                tone = "ok" if svc.get("healthy") else "bad"
                if svc.get("restarts"):
                    text += f", {svc['restarts']} restart(s)"
            services.append(_badge(text, tone, svc.get("digest")))
        release_proofs = proofs.get(row.get("release_id")) or {}
        proof_badges = "".join(_proof_badge(name, proof) for name, proof in release_proofs.items()) or "-"
        since = row.get("since")
        since_words = (
            f"{short_time(since)}" + (f" ({age(since, now)} ago)" if age(since, now) else "") if since else "-"
        )
        url = row.get("url")
        link = f'<a href="{_e(url)}">{_e(url)}</a>' if url else ""
        nodes = ""
        if row.get("nodes"):
            nodes = '<div class="small">nodes: ' + ", ".join(
                f"{_e(node.get('hostname'))} ({_e(node.get('role'))}, {_e(node.get('state'))})" for node in row["nodes"]
            ) + "</div>"  # fmt: skip
        manager = f'<div class="small">reported by {_e(row["manager"])}</div>' if row.get("manager") else ""
        error = f'<div class="small">{_e(row["error"])}</div>' if row.get("error") else ""
        alerts = "".join(f"<li>{_e(alert['message'])}</li>" for alert in row.get("alerts") or [])
        rows.append(
            f'<tr data-environment="{_e(env["name"])}" data-host="{_e(row["host"])}"'
            f' data-version="{_e(row.get("version") or "")}" data-release="{_e(row.get("release_id") or "")}">'
            f'<td><b>{_e(row["host"])}</b>{manager}<div class="small">{link}</div></td>'
            f'<td><b class="version">{_e(row.get("version") or _nothing(row.get("running")))}</b>'
            f'<div class="small mono">{_e(row.get("release_id") or "")}</div>'
            f'<div class="small">commit <code>{_e((row.get("commit") or "-")[:12])}</code></div></td>'
            f"<td>{_e(since_words)}</td>"
            f"<td>{_health_badge(row, env['platform'])}{error}</td>"
            f"<td>{_drift_badge(row.get('drift'))}</td>"
            f"<td>{''.join(services) or '-'}{nodes}</td>"
            f"<td>{proof_badges}</td></tr>"
            + (f'<tr><td colspan="7"><ul class="alerts">{alerts}</ul></td></tr>' if alerts else "")
        )
    return "".join(rows)


def _timeline(env: dict) -> str:
    if not env["events"]:
        return '<p class="small">No deployment history.</p>'
    items = []
    for event in env["events"]:
        css = event["kind"].replace(" ", "-")
        previous = f" (from {event['previous_release_id']})" if event.get("previous_release_id") else ""
        by = f", by {event['by']}" if event.get("by") else ""
        reason = f'<span class="reason">{_e(event["reason"])}</span>' if event.get("reason") else ""
        items.append(
            f'<li class="{_e(css)}" data-event="{_e(event["kind"])}"><span class="small mono">'
            f"{_e(short_time(event['at']))}</span> <b>{_e(event['kind'])}</b> {_e(event.get('version') or '')}"
            f' on {_e(event.get("host") or "?")} <span class="small">{_e(event.get("release_id") or "")}'
            f"{_e(previous)}{_e(by)}</span>{reason}</li>"
        )
    return f'<ol class="timeline">{"".join(items)}</ol>'


def _environment(env: dict, model: dict, now: str) -> str:
    name = env["name"]
    if env.get("missing"):
        return (f'<section class="env" id="env-{_e(name)}" data-environment="{_e(name)}"><h2>{_e(name)}</h2>'
                '<p class="small">No host of this environment in the inventory.</p></section>')  # fmt: skip
    requires = f", after {env['requires']}" if env.get("requires") else ""
    counts = ", ".join(f"{count} {kind}" for kind, count in env["counts"].items() if count)
    state = _badge("all well", "ok") if env["ok"] else _badge(f"alerts: {counts}", "bad")
    head = "".join(f"<th>{_e(h)}</th>" for h in ("host", "release", "since", "health", "drift", "services", "proofs"))
    return (
        f'<section class="env" id="env-{_e(name)}" data-environment="{_e(name)}">'
        f"<h2>{_e(name)} {state}</h2>"
        f'<div class="small">{_e(env["platform"])}, project {_e(env.get("project") or "-")}{_e(requires)}</div>'
        f"<h3>What runs</h3><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{_host_rows(env, model, now)}</tbody></table>"
        f"<h3>History</h3>{_timeline(env)}</section>"
    )


_LEGEND = " ".join(
    [
        _badge("\u2713 passed", "ok"),
        "every service,",
        _badge("partly", "warn"),
        "some,",
        _badge("not passed", "muted"),
        "none (or unknown),",
        _badge("\u2717 other build", "bad"),
        "a tag on another digest.",
    ]
)


def render_html(model: dict) -> str:
    """The board as one self-contained HTML page (inline CSS, no script, no external asset)."""
    now = model.get("generated_at") or ""
    envs = model["environments"]
    alerts = sum(len(env.get("alerts") or []) for env in envs)
    summary = (f"{len(envs)} environment(s), {len(model['releases'])} release(s) running, "
               f"{alerts} alert(s)" + (f"; generated {short_time(now)}" if now else ""))  # fmt: skip
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="outerloop.docker release_board ({_e(model["schema"])})">',
            f"<title>{_e(model['title'])}</title><style>{_CSS}</style></head>\n<body>",
            f'<header><h1>{_e(model["title"])}</h1><p data-generated-at="{_e(now)}">{_e(summary)}</p></header>',
            '<main><div class="cards">',
            "".join(_card(env, now) for env in envs),
            "</div><h2>Releases against environments</h2>",
            '<p class="small">Where each running release runs, and the promotion proofs the registry holds for it: '
            "a <code>passed-ENV-VERSION</code> tag on the digest of every service. " + _LEGEND + "</p>",
            _matrix(model),
            "".join(_environment(env, model, now) for env in envs),
            "</main>",
            f"<footer>{_e(model['schema'])} \u00b7 written by the playbook outerloop.docker.board</footer>",
            "</body></html>\n",
        ]
    )


def release_board_html(records, **options) -> str:
    """The board page from the playbook's records: board() then render_html()."""
    return render_html(board(records, **options))
