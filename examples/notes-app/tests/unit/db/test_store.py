"""Unit tests of the database: its schema, its queries, and that what it stores is in the file."""

import os
import sqlite3
import tempfile
import unittest

from db.store import MAX_TEXT_CHARS, SCHEMA_VERSION, NoteError, NotesDB


class StoreTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "notes.db")
        self.db = NotesDB(self.path)
        self.db.migrate()

    def tearDown(self):
        self.db.close()
        self.dir.cleanup()

    def test_migrations_run_once(self):
        self.assertEqual(self.db.migrate(), 0)
        self.assertEqual(self.db.stats()["schema"], SCHEMA_VERSION)

    def test_a_note_is_in_the_file_after_the_database_is_closed(self):
        note = self.db.add("kept")
        self.db.close()
        self.db = NotesDB(self.path)
        self.assertEqual(self.db.migrate(), 0)
        self.assertEqual(self.db.get(note["id"]), note)

    def test_latest_is_newest_first_and_limited(self):
        for text in ("a", "b", "c"):
            self.db.add(text)
        self.assertEqual([n["text"] for n in self.db.latest(2)], ["c", "b"])

    def test_unknown_note(self):
        self.assertIsNone(self.db.get(999))

    def test_bad_text_is_refused(self):
        for text in (None, "", "   ", 7, "x" * (MAX_TEXT_CHARS + 1)):
            with self.subTest(text=str(text)[:10]), self.assertRaises(NoteError):
                self.db.add(text)
        self.assertEqual(self.db.stats()["notes"], 0)

    def test_a_database_of_a_newer_release_is_refused(self):
        conn = sqlite3.connect(self.path)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.close()
        with self.assertRaisesRegex(RuntimeError, "newer than this release"):
            self.db.migrate()

    def test_stats(self):
        self.db.add("one")
        stats = self.db.stats()
        self.assertEqual((stats["notes"], stats["schema"]), (1, SCHEMA_VERSION))
        self.assertGreater(stats["bytes"], 0)


if __name__ == "__main__":
    unittest.main()
