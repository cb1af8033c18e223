"""deploy_notify's messages (_domain/notification.py): one per entry that wants the event, in its format."""

from __future__ import annotations

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.notification import (
    SCHEMA,
    NotificationError,
    notifications,
)

HOOKS = [
    {"url": "https://hooks.example.com/all"},
    {"url": "https://hooks.slack.example/T0/B0/secret", "format": "slack", "events": ["failed", "rolled_back"]},
    {"url": "https://teams.example/workflows/x", "format": "teams", "events": ["alert"], "retries": 1},
]


def sent(kind, message="qa1: release r1 is not healthy", **extra):
    return notifications(HOOKS, kind, "qa", "sample-app", message, release_id="sample-app-1.0.0-b1-abc", **extra)


def test_each_event_goes_to_the_webhooks_that_want_it():
    assert [n["url"] for n in sent("succeeded")] == ["https://hooks.example.com/all"]
    assert [n["url"] for n in sent("failed")] == [
        "https://hooks.example.com/all",
        "https://hooks.slack.example/T0/B0/secret",
    ]
    assert [n["url"] for n in sent("alert")] == ["https://hooks.example.com/all", "https://teams.example/workflows/x"]
    assert notifications([], "failed", "qa", "app", "x") == []


def test_the_json_body_is_the_event():
    (body,) = [n["body"] for n in sent("succeeded", "r1 runs  on\\nqa1", hosts=["qa1"], time="t", version="")]
    assert body == {"schema": SCHEMA, "event": "succeeded", "environment": "qa", "project": "sample-app",
                    "release_id": "sample-app-1.0.0-b1-abc", "hosts": ["qa1"], "time": "t",
                    "message": "r1 runs on\\nqa1"}  # fmt: skip


def test_slack_and_teams_bodies():
    slack = sent("rolled_back")[1]["body"]
    assert slack == {"text": "*qa: deploy ROLLED BACK (sample-app-1.0.0-b1-abc)*\nqa1: release r1 is not healthy"}
    teams = sent("alert", hosts=["qa1", "qa2"])[1]
    assert teams["retries"] == 1 and teams["timeout"] == 10 and teams["headers"] == {}
    card = teams["body"]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    blocks = card["content"]["body"]
    assert blocks[0]["text"] == "qa: status ALERT (sample-app-1.0.0-b1-abc)" and blocks[0]["color"] == "Attention"
    assert {"title": "Hosts", "value": "qa1, qa2"} in blocks[2]["facts"]


@pytest.mark.parametrize(
    ("notify", "complaint"),
    [
        ({"url": "https://x"}, "must be a list"),
        ([{"url": "ftp://x"}], "deploy_notify[0] needs url"),
        ([{"url": "https://x", "format": "xml"}], "deploy_notify[0].format"),
        ([{"url": "https://x", "events": ["deployed"]}], "deploy_notify[0].events"),
        ([{"url": "https://x", "token": "t"}], "unknown key(s) token"),
    ],
)
def test_bad_entries_are_refused_naming_them(notify, complaint):
    with pytest.raises(NotificationError, match=complaint.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
                       .replace(")", r"\)")):  # fmt: skip
        notifications(notify, "failed", "qa", "app", "x")


def test_an_unknown_event_is_refused():
    with pytest.raises(NotificationError, match="event must be one of"):
        notifications(HOOKS, "deployed", "qa", "app", "x")
