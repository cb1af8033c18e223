import unittest

from common.jobs import (
    PROCESSING_KEY,
    QUEUE_KEY,
    STATUS_DONE,
    STATUS_QUEUED,
    JobStore,
    compute_result,
    job_key,
)
from common.resp import RespError

from .fake_store import FakeRedis


class ComputeTests(unittest.TestCase):
    def test_reversed_and_upper_cased(self):
        self.assertEqual(compute_result("hello"), "OLLEH")
        self.assertEqual(compute_result("Abc 123"), "321 CBA")
        self.assertEqual(compute_result(""), "")
        self.assertEqual(compute_result("straße"), "ESSARTS")


class JobStoreTests(unittest.TestCase):
    def setUp(self):
        self.redis = FakeRedis()
        self.store = JobStore(self.redis)

    def test_ping(self):
        self.assertTrue(self.store.ping())

    def test_enqueue_gives_increasing_ids_and_queues_them(self):
        self.assertEqual(self.store.enqueue("a"), 1)
        self.assertEqual(self.store.enqueue("b"), 2)
        self.assertEqual(self.redis.lists[QUEUE_KEY], [b"2", b"1"])
        self.assertEqual(self.store.get(1), {"id": 1, "status": STATUS_QUEUED, "result": None})

    def test_enqueue_is_one_transaction(self):
        self.store.enqueue("a")
        names = [command[0] for command in self.redis.commands]
        self.assertEqual(names, ["INCR", "MULTI", "HSET", "LPUSH", "EXEC"])

    def test_enqueue_rejects_non_strings(self):
        with self.assertRaises(TypeError):
            self.store.enqueue(b"bytes")

    def test_unknown_job(self):
        self.assertIsNone(self.store.get(99))

    def test_take_and_complete(self):
        job_id = self.store.enqueue("payload")
        self.assertEqual(self.store.take(0.1), (job_id, "payload"))
        self.assertEqual(self.redis.lists[QUEUE_KEY], [])
        self.assertEqual(self.redis.lists[PROCESSING_KEY], [b"1"])
        self.store.complete(job_id, "DAOLYAP")
        self.assertEqual(self.store.get(job_id), {"id": 1, "status": STATUS_DONE, "result": "DAOLYAP"})
        self.assertEqual(self.redis.lists[PROCESSING_KEY], [])
        self.assertGreater(self.redis.ttls[job_key(job_id)], 0)

    def test_jobs_are_taken_in_order(self):
        for payload in ("first", "second"):
            self.store.enqueue(payload)
        self.assertEqual(self.store.take(0.1), (1, "first"))
        self.assertEqual(self.store.take(0.1), (2, "second"))
        self.assertIsNone(self.store.take(0.1))

    def test_take_drops_an_id_without_its_job(self):
        self.redis.lists[QUEUE_KEY] = [b"7"]
        self.assertIsNone(self.store.take(0.1))
        self.assertEqual(self.redis.lists[PROCESSING_KEY], [])

    def test_requeue_unfinished(self):
        self.store.enqueue("a")
        self.store.enqueue("b")
        self.store.take(0.1)
        self.store.take(0.1)
        self.assertEqual(self.store.requeue_unfinished(), 2)
        self.assertEqual(self.redis.lists[PROCESSING_KEY], [])
        self.assertEqual(self.store.take(0.1), (1, "a"))

    def test_error_inside_a_transaction_is_raised(self):
        self.redis.pipeline = lambda commands, timeout=None: ["OK", "QUEUED", "QUEUED", [1, RespError("ERR oops")]]
        with self.assertRaisesRegex(RespError, "oops"):
            self.store.complete(1, "x")

    def test_aborted_transaction_is_raised(self):
        self.redis.pipeline = lambda commands, timeout=None: ["OK", "QUEUED", "QUEUED", "QUEUED", None]
        with self.assertRaisesRegex(RespError, "aborted"):
            self.store.enqueue("x")
