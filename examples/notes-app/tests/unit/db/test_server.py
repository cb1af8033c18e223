"""Unit tests of the db service's routing, over a database in a temporary file."""

import json
import os
import tempfile
import unittest

from db.server import admin_route, route
from db.store import NotesDB

INFO = {"instance": "db-1", "started": "2026-12-02T00:00:00+00:00"}


class RouteTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.db = NotesDB(os.path.join(self.dir.name, "notes.db"))
        self.db.migrate()

    def tearDown(self):
        self.db.close()
        self.dir.cleanup()

    def post(self, body):
        raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
        return route("POST", "/notes", raw, self.db)

    def test_post_then_get(self):
        status, note, headers = self.post({"text": "hello"})
        self.assertEqual((status, note["text"], headers["Location"]), (201, "hello", f"/notes/{note['id']}"))
        self.assertEqual(route("GET", f"/notes/{note['id']}", b"", self.db)[1], note)
        self.assertEqual(route("GET", "/notes?limit=1", b"", self.db)[1], {"notes": [note]})

    def test_bad_bodies(self):
        self.assertEqual(self.post(b"nope")[0], 400)
        self.assertEqual(self.post([1])[0], 400)
        self.assertEqual(self.post({"text": ""})[0], 400)
        self.assertEqual(route("GET", "/notes?limit=x", b"", self.db)[0], 400)

    def test_unknown(self):
        self.assertEqual(route("GET", "/notes/5", b"", self.db)[0], 404)
        self.assertEqual(route("GET", "/other", b"", self.db)[0], 404)
        self.assertEqual(route("DELETE", "/notes/5", b"", self.db)[0], 405)

    def test_healthz(self):
        self.assertEqual(route("GET", "/healthz", b"", self.db)[:2], (200, {"status": "ok", "schema": 1}))

    def test_the_admin_port_reads_only(self):
        self.post({"text": "one"})
        status, stats = admin_route("GET", "/stats", self.db, INFO)[:2]
        self.assertEqual((status, stats["notes"], stats["instance"]), (200, 1, "db-1"))
        self.assertEqual(admin_route("POST", "/stats", self.db, INFO)[0], 405)
        self.assertEqual(admin_route("GET", "/notes", self.db, INFO)[0], 404)
        self.assertEqual(admin_route("GET", "/healthz", self.db, INFO)[0], 200)


if __name__ == "__main__":
    unittest.main()
