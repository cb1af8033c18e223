"""Test records: written per image ID and suite, read back, and the gate image_publish applies."""

import json
import os

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.test_records import (
    RecordError,
    make_record,
    missing_passes,
    read_record,
    record_path,
    write_record,
)

IMAGE = "sha256:" + "1f" * 32
OTHER = "sha256:" + "2e" * 32


def test_round_trip(tmp_path):
    path = write_record(str(tmp_path), make_record(IMAGE, "unit", True, 0, summary="3 tests", junit=["unit.xml"]))
    assert path == str(tmp_path / ("1f" * 32 + ".unit.json"))
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    record = read_record(str(tmp_path), IMAGE, "unit")
    assert record["passed"] is True
    assert record["junit"] == ["unit.xml"]
    assert read_record(str(tmp_path), IMAGE, "functional") is None


def test_gate_names_each_missing_or_failed_suite(tmp_path):
    write_record(str(tmp_path), make_record(IMAGE, "unit", True, 0))
    write_record(str(tmp_path), make_record(IMAGE, "functional", False, 1, summary="1 of 4 failed"))
    assert missing_passes(str(tmp_path), IMAGE, ["unit"]) == []
    assert missing_passes(str(tmp_path), IMAGE, ["unit", "functional", "smoke"]) == [
        "functional: failed (1 of 4 failed)",
        f"smoke: never ran against {IMAGE}",
    ]
    assert missing_passes(str(tmp_path), OTHER, ["unit"]) == [f"unit: never ran against {OTHER}"]


def test_a_record_copied_to_another_image_is_refused(tmp_path):
    write_record(str(tmp_path), make_record(IMAGE, "unit", True, 0))
    forged = tmp_path / ("2e" * 32 + ".unit.json")
    forged.write_text((tmp_path / ("1f" * 32 + ".unit.json")).read_text())
    with pytest.raises(RecordError, match="another image"):
        read_record(str(tmp_path), OTHER, "unit")


def test_corrupt_record_names_the_file(tmp_path):
    (tmp_path / ("1f" * 32 + ".unit.json")).write_text("{not json")
    with pytest.raises(RecordError, match="cannot be read"):
        read_record(str(tmp_path), IMAGE, "unit")


@pytest.mark.parametrize(("image", "suite"), [("1f" * 32, "unit"), (IMAGE, "../x"), (IMAGE, "")])
def test_bad_inputs(image, suite):
    with pytest.raises(RecordError):
        record_path("/tmp", image, suite)


def test_record_is_plain_json(tmp_path):
    path = write_record(str(tmp_path), make_record(IMAGE, "unit", True, 0))
    with open(path) as fh:
        assert json.loads(fh.read())["schema"] == 1
