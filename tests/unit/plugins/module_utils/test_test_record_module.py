"""The test_record module end to end on a temporary record directory."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.outerloop.docker.plugins.modules import test_record

API = "sha256:" + "a1" * 32
WORKER = "sha256:" + "b2" * 32


def run(capsys, module_args, check_mode=False):
    with patch_module_args(dict(module_args, _ansible_check_mode=check_mode)), pytest.raises(SystemExit):
        test_record.main()
    return json.loads(capsys.readouterr().out)


def test_query_write_query(capsys, tmp_path):
    base = {"images": [API, WORKER], "suite": "functional", "record_dir": str(tmp_path)}
    before = run(capsys, base)
    assert before["changed"] is False and before["all_passed"] is False
    assert before["records"] == {API: None, WORKER: None}

    dry = run(capsys, dict(base, state="present", passed=True), check_mode=True)
    assert dry["changed"] is True and list(tmp_path.iterdir()) == []

    written = run(capsys, dict(base, state="present", passed=True, summary="5 tests", details={"commit": "abc"}))
    assert written["changed"] is True
    record = json.loads((tmp_path / f"{API.split(':')[1]}.functional.json").read_text())
    assert (
        record["passed"] is True and record["rc"] == 0 and record["commit"] == "abc" and record["summary"] == "5 tests"
    )

    after = run(capsys, base)
    assert after["all_passed"] is True and after["passed_images"] == [API, WORKER]


def test_a_failed_run_vouches_for_nothing(capsys, tmp_path):
    base = {"images": [API], "suite": "functional", "record_dir": str(tmp_path)}
    run(capsys, dict(base, state="present", passed=False, details={"passed": True, "image_id": "forged"}))
    after = run(capsys, base)
    assert after["all_passed"] is False and after["records"][API]["rc"] == 1
    assert after["records"][API]["image_id"] == API


def test_bad_input_names_it(capsys, tmp_path):
    result = run(capsys, {"images": ["latest"], "suite": "functional", "record_dir": str(tmp_path)})
    assert result["failed"] is True
    assert "image id 'latest' is not sha256:<64 hex digits>" in result["msg"]
    result = run(capsys, {"images": [API], "suite": "functional", "state": "present"})
    assert "passed" in result["msg"]
