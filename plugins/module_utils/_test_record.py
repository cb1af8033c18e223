# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of outerloop.docker.test_record: write or read the records that vouch for exact image IDs
(_domain.test_records)."""

from __future__ import annotations

from ansible_collections.outerloop.docker.plugins.module_utils._domain.test_records import (
    RecordError,
    make_record,
    read_record,
    record_path,
    write_record,
)


def run_module(module) -> None:
    """Run outerloop.docker.test_record with the module's parameters; exits the module."""
    params = module.params
    images = list(dict.fromkeys(params["images"]))
    records = {}
    try:
        if params["state"] == "present":
            passed = params["passed"]
            rc = params["rc"] if params["rc"] is not None else (0 if passed else 1)
            for image_id in images:
                made = make_record(image_id, params["suite"], passed, rc, summary=params["summary"],
                                   junit=params["junit"])  # fmt: skip
                record = {**params["details"], **made}
                if module.check_mode:
                    record_path(params["record_dir"], image_id, params["suite"])
                else:
                    write_record(params["record_dir"], record)
                records[image_id] = record
        else:
            records = {image_id: read_record(params["record_dir"], image_id, params["suite"]) for image_id in images}
    except (RecordError, OSError) as exc:
        module.fail_json(msg=f"test records of suite {params['suite']} in {params['record_dir']}: {exc}")
    passed_images = [image_id for image_id, record in records.items() if record and record.get("passed")]
    module.exit_json(
        changed=params["state"] == "present",
        records=records,
        passed_images=passed_images,
        all_passed=len(passed_images) == len(images),
    )
