import os
import tempfile
import threading
import unittest

from common.jobs import JobStore
from worker.app import Worker

from ..common.fake_store import FakeRedis


class WorkerTests(unittest.TestCase):
    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.heartbeat = os.path.join(directory.name, "heartbeat")
        self.store = JobStore(FakeRedis())
        self.worker = Worker(self.store, self.heartbeat, poll_seconds=0.01, retry_seconds=0.01)

    def test_does_a_queued_job(self):
        job_id = self.store.enqueue("hello")
        self.assertEqual(self.worker.run_once(), job_id)
        self.assertEqual(self.store.get(job_id), {"id": job_id, "status": "done", "result": "OLLEH"})
        self.assertEqual(self.worker.done, 1)

    def test_touches_the_heartbeat_even_without_jobs(self):
        self.assertIsNone(self.worker.run_once())
        self.assertTrue(os.path.exists(self.heartbeat))

    def test_first_turn_requeues_unfinished_jobs(self):
        job_id = self.store.enqueue("left over")
        self.store.take(0.01)  # taken by a worker that died before finishing
        self.assertEqual(self.worker.run_once(), job_id)
        self.assertEqual(self.store.get(job_id)["result"], "REVO TFEL")

    def test_no_heartbeat_when_the_store_is_unreachable(self):
        def unreachable(*args, **kwargs):
            raise ConnectionRefusedError(111, "Connection refused")

        self.store.client.execute = unreachable
        with self.assertRaises(ConnectionRefusedError):
            self.worker.run_once()
        self.assertFalse(os.path.exists(self.heartbeat))

    def test_run_survives_store_errors_and_stops_on_request(self):
        stop = threading.Event()
        calls = []

        def flaky_run_once():
            calls.append(1)
            if len(calls) == 1:
                raise ConnectionResetError("store went away")
            stop.set()

        self.worker.run_once = flaky_run_once
        self.worker.run(stop)
        self.assertEqual(len(calls), 2)
