import os
import tempfile
import time
import unittest

from common.health import check_heartbeat, check_http, main


class HeartbeatTests(unittest.TestCase):
    def setUp(self):
        handle, self.path = tempfile.mkstemp()
        os.close(handle)
        self.addCleanup(os.unlink, self.path)

    def test_fresh(self):
        healthy, message = check_heartbeat(self.path, max_age=10)
        self.assertTrue(healthy, message)

    def test_old(self):
        old = time.time() - 60
        os.utime(self.path, (old, old))
        healthy, message = check_heartbeat(self.path, max_age=10)
        self.assertFalse(healthy)
        self.assertIn("old", message)

    def test_missing(self):
        healthy, message = check_heartbeat(self.path + ".missing")
        self.assertFalse(healthy)
        self.assertIn("no heartbeat", message)

    def test_command_line_exit_status(self):
        self.assertEqual(main(["heartbeat", self.path, "--max-age", "10"]), 0)
        self.assertEqual(main(["heartbeat", self.path + ".missing"]), 1)


class HttpTests(unittest.TestCase):
    def test_invalid_url_is_unhealthy(self):
        healthy, message = check_http("not-a-url")
        self.assertFalse(healthy, message)
