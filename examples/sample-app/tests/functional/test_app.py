"""Functional tests of the running application, through the api's published port.

Run them with ``python3 tests/functional/run.py --base-url http://HOST:PORT`` (which waits for the
application and writes JUnit XML), or directly with unittest and the same settings in the environment:

    SAMPLE_APP_BASE_URL=http://127.0.0.1:8080 python3 -m unittest tests.functional.test_app

SAMPLE_APP_EXPECT_VERSION, SAMPLE_APP_EXPECT_REVISION and SAMPLE_APP_EXPECT_BUILD, when set, are what
/version must answer; SAMPLE_APP_JOB_TIMEOUT is how long a job may take (seconds, default 20).
Standard library only: it runs with python3 3.11 or later, on the controller or a lab host.
"""

import json
import os
import time
import unittest
import urllib.error
import urllib.request
import uuid


def compute_expected(payload):
    """What the worker must answer for a payload (the application's contract, written out again)."""
    return payload[::-1].upper()


class Api:
    def __init__(self, base_url, timeout=5.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method, path, body=None):
        """Returns (status, parsed JSON body or raw text); HTTP errors are answers, not exceptions."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode("utf-8"))
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw.decode("utf-8"))
        except ValueError:
            return status, raw.decode("utf-8", "replace")


class SampleAppTests(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        base_url = os.environ.get("SAMPLE_APP_BASE_URL")
        if not base_url:
            raise unittest.SkipTest("SAMPLE_APP_BASE_URL is not set")
        cls.api = Api(base_url)
        cls.job_timeout = float(os.environ.get("SAMPLE_APP_JOB_TIMEOUT", "20"))

    def test_healthz(self):
        status, body = self.api.request("GET", "/healthz")
        self.assertEqual((status, body.get("status")), (200, "ok"), body)
        self.assertIsInstance(body.get("token"), bool, body)
        expected = os.environ.get("SAMPLE_APP_EXPECT_TOKEN")  # "true"/"false": whether API_TOKEN was given
        if expected:
            self.assertEqual(body["token"], expected == "true", body)
        self.assertIn("version", body)

    def test_version(self):
        status, body = self.api.request("GET", "/version")
        self.assertEqual(status, 200, body)
        self.assertEqual(sorted(body), ["build", "revision", "version"], body)
        for key in ("version", "revision", "build"):
            expected = os.environ.get(f"SAMPLE_APP_EXPECT_{key.upper()}")
            if expected:
                self.assertEqual(body[key], expected, f"/version answers {key} {body[key]!r}, expected {expected!r}")

    def test_job_is_done_by_the_worker(self):
        payload = f"functional test {uuid.uuid4()}"
        status, body = self.api.request("POST", "/jobs", {"payload": payload})
        self.assertEqual(status, 202, body)
        self.assertIsInstance(body.get("id"), int, body)
        job_id = body["id"]
        deadline = time.monotonic() + self.job_timeout
        while True:
            status, job = self.api.request("GET", f"/jobs/{job_id}")
            self.assertEqual(status, 200, job)
            if job.get("status") == "done" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(job.get("status"), "done", f"job {job_id} not done after {self.job_timeout:g}s: {job}")
        self.assertEqual(job.get("id"), job_id, job)
        expected = compute_expected(payload)
        self.assertEqual(job.get("result"), expected, f"job {job_id}: wrong result for the payload {payload!r}")

    def test_unknown_job_is_404(self):
        status, body = self.api.request("GET", "/jobs/999999999999")
        self.assertEqual(status, 404, body)
        self.assertIn("error", body)

    def test_bad_job_request_is_400(self):
        status, body = self.api.request("POST", "/jobs", b"this is not JSON")
        self.assertEqual(status, 400, body)
        status, body = self.api.request("POST", "/jobs", {"no-payload": "x"})
        self.assertEqual(status, 400, body)

    def test_unknown_path_is_404(self):
        status, body = self.api.request("GET", "/no-such-path")
        self.assertEqual(status, 404, body)
