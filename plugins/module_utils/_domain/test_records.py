# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test records: the evidence, kept on the build host, that an image passed a test suite.

A record is a JSON file RECORD_DIR/<image id hex>.<suite>.json written after a suite ran against
exactly that image ID (image_test writes in-container suites; the pipeline writes the functional
suite). image_publish refuses to bless an image unless every required suite has a passing record
for its image ID. A rebuilt image has another ID, so old records never vouch for it.

    {"schema": 1, "image_id": "sha256:...", "suite": "unit", "passed": true, "rc": 0,
     "finished": "2026-11-26T13:00:00Z", "summary": "12 tests, 0 failures", "junit": ["unit.xml"]}
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime

from ansible_collections.outerloop.docker.plugins.module_utils._primitives.files import write_atomic

DEFAULT_RECORD_DIR = "/var/lib/outerloop/test-records"
SCHEMA = 1
_IMAGE_ID = re.compile(r"^sha256:[a-f0-9]{64}$")
_SUITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class RecordError(ValueError):
    """A record that cannot be written or read; the message names the file or the input."""


def record_path(record_dir: str, image_id: str, suite: str) -> str:
    if not _IMAGE_ID.match(image_id or ""):
        raise RecordError(f"image id {image_id!r} is not sha256:<64 hex digits>")
    if not _SUITE.match(suite or ""):
        raise RecordError(f"test suite name {suite!r} is not valid (letters, digits, '_', '.', '-')")
    return os.path.join(record_dir, f"{image_id.split(':', 1)[1]}.{suite}.json")


def make_record(image_id: str, suite: str, passed: bool, rc: int, *, summary: str = "", junit=None) -> dict:
    return {
        "schema": SCHEMA,
        "image_id": image_id,
        "suite": suite,
        "passed": bool(passed),
        "rc": int(rc),
        "finished": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "summary": summary,
        "junit": list(junit or []),
    }


def write_record(record_dir: str, record: dict) -> str:
    """Write atomically; returns the path."""
    path = record_path(record_dir, record["image_id"], record["suite"])
    os.makedirs(record_dir, mode=0o755, exist_ok=True)
    write_atomic(path, json.dumps(record, indent=2, sort_keys=True) + "\n", 0o644, prefix=".record-")
    return path


def read_record(record_dir: str, image_id: str, suite: str):
    """The record, or None when the suite never ran against this image."""
    path = record_path(record_dir, image_id, suite)
    try:
        with open(path) as fh:
            record = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise RecordError(f"test record {path} cannot be read: {exc}") from None
    if record.get("image_id") != image_id or record.get("suite") != suite:
        raise RecordError(f"test record {path} is for another image or suite; remove it and test again")
    return record


def missing_passes(record_dir: str, image_id: str, suites) -> list[str]:
    """The suites of `suites` that have no passing record for image_id, each with the reason."""
    problems = []
    for suite in suites:
        record = read_record(record_dir, image_id, suite)
        if record is None:
            problems.append(f"{suite}: never ran against {image_id}")
        elif not record.get("passed"):
            problems.append(f"{suite}: failed ({record.get('summary') or 'rc ' + str(record.get('rc'))})")
    return problems
