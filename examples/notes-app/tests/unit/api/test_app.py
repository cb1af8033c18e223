"""Unit tests of the api's routing, with a fake database client (no network)."""

import json
import unittest

from api.app import DbError, authorized, route, settings_from_env

SETTINGS = {"version": {"version": "1.2.3", "revision": "abc", "build": "7"}, "environment": "qa", "token": "t0ken"}


class FakeDb:
    def __init__(self, healthy=True, down=False):
        self.notes, self.healthy, self.down, self.calls = {}, healthy, down, []

    def request(self, method, path, body=None):
        self.calls.append((method, path, body))
        if self.down:
            raise DbError("the database at http://db:8081 did not answer: refused")
        if path == "/healthz":
            return (200, {"status": "ok", "schema": 1}) if self.healthy else (503, {"status": "unavailable"})
        if method == "POST":
            note = {"id": len(self.notes) + 1, "text": body["text"], "created": "2026-12-02T00:00:00+00:00"}
            self.notes[note["id"]] = note
            return 201, note
        if path.startswith("/notes/"):
            note = self.notes.get(int(path.rsplit("/", 1)[1]))
            return (200, note) if note else (404, {"error": "no note"})
        return 200, {"notes": list(reversed(self.notes.values()))}


def call(method, path, body=None, auth=None, *, db=None, settings=None):
    settings = SETTINGS if settings is None else settings
    raw = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
    return route(method, path, raw, db or FakeDb(), settings, authorization=auth)


class RouteTests(unittest.TestCase):
    def test_healthz_is_ok_when_the_database_answers(self):
        status, body = call("GET", "/healthz")[:2]
        self.assertEqual(status, 200)
        self.assertEqual(body, {"status": "ok", "version": "1.2.3", "environment": "qa", "writes": True})

    def test_healthz_is_unavailable_when_the_database_is_not(self):
        self.assertEqual(call("GET", "/healthz", db=FakeDb(healthy=False))[0], 503)
        status, body = call("GET", "/healthz", db=FakeDb(down=True))[:2]
        self.assertEqual(status, 503)
        self.assertIn("did not answer", body["error"])

    def test_healthz_never_shows_the_token(self):
        self.assertNotIn("t0ken", json.dumps(call("GET", "/healthz")))

    def test_version(self):
        self.assertEqual(call("GET", "/version")[1], SETTINGS["version"])

    def test_a_note_written_with_the_token_can_be_read_back(self):
        db = FakeDb()
        status, note, headers = call("POST", "/notes", {"text": "hello"}, "Bearer t0ken", db=db)
        self.assertEqual(status, 201)
        self.assertEqual(headers["Location"], f"/notes/{note['id']}")
        self.assertEqual(call("GET", f"/notes/{note['id']}", db=db)[1]["text"], "hello")
        self.assertEqual([n["text"] for n in call("GET", "/notes", db=db)[1]["notes"]], ["hello"])

    def test_the_query_goes_to_the_database(self):
        db = FakeDb()
        call("GET", "/notes?limit=5", db=db)
        self.assertEqual(db.calls[-1], ("GET", "/notes?limit=5", None))

    def test_a_write_without_the_right_token_is_refused(self):
        db = FakeDb()
        self.assertEqual(call("POST", "/notes", {"text": "x"}, None, db=db)[0], 401)
        self.assertEqual(call("POST", "/notes", {"text": "x"}, "Bearer wrong", db=db)[0], 401)
        self.assertEqual(db.calls, [])

    def test_writes_are_off_without_a_token(self):
        settings = dict(SETTINGS, token="")
        status, body = call("POST", "/notes", {"text": "x"}, "Bearer ", settings=settings)[:2]
        self.assertEqual(status, 503)
        self.assertIn("NOTES_WRITE_TOKEN", body["error"])

    def test_a_body_that_is_not_json_is_a_bad_request(self):
        self.assertEqual(call("POST", "/notes", b"{not json", "Bearer t0ken")[0], 400)

    def test_unknown_paths_and_methods(self):
        self.assertEqual(call("GET", "/nope")[0], 404)
        status, headers = call("DELETE", "/notes")[::2]
        self.assertEqual((status, headers["Allow"]), (405, "GET, POST"))
        self.assertEqual(call("POST", "/version")[0], 405)

    def test_a_database_that_is_down_is_a_503(self):
        self.assertEqual(call("GET", "/notes", db=FakeDb(down=True))[0], 503)


class SettingsTests(unittest.TestCase):
    def test_defaults(self):
        settings = settings_from_env({})
        self.assertEqual(settings["version"], {"version": "dev", "revision": "unknown", "build": "0"})
        self.assertEqual((settings["environment"], settings["token"]), ("dev", ""))

    def test_authorized(self):
        self.assertTrue(authorized("Bearer abc", "abc"))
        self.assertFalse(authorized("Bearer abd", "abc"))
        self.assertFalse(authorized("abc", "abc"))
        self.assertFalse(authorized("Bearer ", ""))


if __name__ == "__main__":
    unittest.main()
