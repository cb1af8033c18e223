"""Functional tests of the running application, from outside its containers, through the api's port.

Run them with ``python3 tests/functional/run.py --base-url http://HOST:PORT --token TOKEN``, which fills
SETTINGS, waits for the application and writes JUnit XML. Standard library only.
"""

import json
import unittest
import urllib.error
import urllib.request
import uuid

SETTINGS = {"base_url": "http://127.0.0.1:8090", "token": "", "version": {}}


def call(method, path, body=None, token=None):
    """(status, parsed JSON body, headers); HTTP errors are answers, not exceptions."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode("utf-8"))
    request = urllib.request.Request(SETTINGS["base_url"] + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw, headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, raw, headers = exc.code, exc.read(), exc.headers
    try:
        return status, json.loads(raw.decode("utf-8")), headers
    except ValueError:
        return status, raw.decode("utf-8", "replace"), headers


class NotesAppTests(unittest.TestCase):
    maxDiff = None

    def test_healthz_answers_ok(self):
        status, body = call("GET", "/healthz")[:2]
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "ok")
        self.assertTrue(body["writes"], "the api has no write token (NOTES_WRITE_TOKEN)")

    def test_version_is_the_build(self):
        status, body = call("GET", "/version")[:2]
        self.assertEqual(status, 200, body)
        for key, expected in SETTINGS["version"].items():
            if expected:
                self.assertEqual(body[key], expected, key)

    def test_a_note_written_is_read_back(self):
        text = f"functional test {uuid.uuid4()}"
        status, note, headers = call("POST", "/notes", {"text": text}, SETTINGS["token"])
        self.assertEqual(status, 201, note)
        self.assertEqual(headers["Location"], f"/notes/{note['id']}")
        self.assertEqual(call("GET", f"/notes/{note['id']}")[1]["text"], text)
        status, listing = call("GET", "/notes?limit=10")[:2]
        self.assertEqual(status, 200, listing)
        self.assertIn(text, [n["text"] for n in listing["notes"]])

    def test_a_write_without_the_token_is_refused(self):
        self.assertEqual(call("POST", "/notes", {"text": "nope"})[0], 401)
        self.assertEqual(call("POST", "/notes", {"text": "nope"}, "wrong-token")[0], 401)

    def test_a_bad_note_is_a_bad_request(self):
        self.assertEqual(call("POST", "/notes", {"text": ""}, SETTINGS["token"])[0], 400)
        self.assertEqual(call("POST", "/notes", b"{oops", SETTINGS["token"])[0], 400)

    def test_unknown_note_and_path(self):
        self.assertEqual(call("GET", "/notes/999999999")[0], 404)
        self.assertEqual(call("GET", "/nothing-here")[0], 404)


if __name__ == "__main__":
    unittest.main()
