import json
import unittest

from api.app import MAX_PAYLOAD_CHARS, route, token_from_env, version_from_env
from common.jobs import JobStore
from common.resp import RespError

from ..common.fake_store import FakeRedis

VERSION = {"version": "1.2.3", "revision": "0123abcd", "build": "42"}


class BrokenStore:
    """A store that cannot be reached."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionRefusedError(111, "Connection refused")

        return fail


def post(path, body, store):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return route("POST", path, data, store, VERSION)


def get(path, store):
    return route("GET", path, b"", store, VERSION)


class HealthTests(unittest.TestCase):
    def test_ok_when_the_store_answers(self):
        response = get("/healthz", JobStore(FakeRedis()))
        self.assertEqual(
            (response.status, response.body), (200, {"status": "ok", "version": VERSION["version"], "token": False})
        )

    def test_healthz_says_whether_the_token_is_set_never_its_value(self):
        token = token_from_env({"API_TOKEN": "t0k"})
        response = route("GET", "/healthz", b"", JobStore(FakeRedis()), VERSION, token=token)
        self.assertEqual(response.body, {"status": "ok", "version": VERSION["version"], "token": True})
        self.assertNotIn("t0k", json.dumps(response.body))
        self.assertFalse(token_from_env({}))
        self.assertFalse(token_from_env({"API_TOKEN": ""}))

    def test_503_when_the_store_is_unreachable(self):
        response = get("/healthz", BrokenStore())
        self.assertEqual(response.status, 503)
        self.assertEqual(response.body["status"], "unavailable")
        self.assertIn("refused", response.body["error"])

    def test_503_when_the_store_answers_an_error(self):
        redis = FakeRedis()

        def loading(*args, timeout=None):
            raise RespError("LOADING Redis is loading the dataset in memory")

        redis.execute = loading
        self.assertEqual(get("/healthz", JobStore(redis)).status, 503)


class VersionTests(unittest.TestCase):
    def test_version_does_not_need_the_store(self):
        response = get("/version", BrokenStore())
        self.assertEqual((response.status, response.body), (200, VERSION))

    def test_version_from_environment(self):
        env = {"APP_VERSION": "2.0.0", "APP_REVISION": "f" * 40, "APP_BUILD": "7"}
        self.assertEqual(version_from_env(env), {"version": "2.0.0", "revision": "f" * 40, "build": "7"})

    def test_version_defaults(self):
        self.assertEqual(version_from_env({}), {"version": "dev", "revision": "unknown", "build": "0"})


class JobTests(unittest.TestCase):
    def setUp(self):
        self.store = JobStore(FakeRedis())

    def test_post_queues_a_job(self):
        response = post("/jobs", {"payload": "hello"}, self.store)
        self.assertEqual((response.status, response.body), (202, {"id": 1}))
        self.assertEqual(response.headers["Location"], "/jobs/1")
        self.assertEqual(self.store.take(0.1), (1, "hello"))

    def test_get_a_queued_then_done_job(self):
        post("/jobs", {"payload": "hello"}, self.store)
        response = get("/jobs/1", self.store)
        self.assertEqual((response.status, response.body), (200, {"id": 1, "status": "queued", "result": None}))
        self.store.complete(1, "OLLEH")
        self.assertEqual(get("/jobs/1", self.store).body, {"id": 1, "status": "done", "result": "OLLEH"})

    def test_unknown_job_is_404(self):
        response = get("/jobs/12345", self.store)
        self.assertEqual(response.status, 404)
        self.assertIn("12345", response.body["error"])

    def test_bad_bodies_are_400(self):
        for body in (b"not json", b"\xff\xfe", [], {"data": "x"}, {"payload": 5}, {"payload": None}):
            with self.subTest(body=body):
                self.assertEqual(post("/jobs", body, self.store).status, 400)
        self.assertEqual(self.store.get(1), None)

    def test_too_long_payload_is_413(self):
        self.assertEqual(post("/jobs", {"payload": "x" * (MAX_PAYLOAD_CHARS + 1)}, self.store).status, 413)

    def test_store_down_is_503(self):
        self.assertEqual(post("/jobs", {"payload": "x"}, BrokenStore()).status, 503)
        self.assertEqual(get("/jobs/1", BrokenStore()).status, 503)


class RoutingTests(unittest.TestCase):
    def test_unknown_paths_are_404(self):
        for path in ("/", "/jobs/", "/jobs/abc", "/jobs/-1", "/healthz/x", "/versions"):
            with self.subTest(path=path):
                self.assertEqual(get(path, BrokenStore()).status, 404)

    def test_wrong_method_is_405_with_allow(self):
        cases = [
            ("POST", "/healthz", "GET"),
            ("DELETE", "/jobs/1", "GET"),
            ("GET", "/jobs", "POST"),
            ("PUT", "/version", "GET"),
        ]
        for method, path, allowed in cases:
            with self.subTest(method=method, path=path):
                response = route(method, path, b"", BrokenStore(), VERSION)
                self.assertEqual(response.status, 405)
                self.assertEqual(response.headers["Allow"], allowed)

    def test_query_string_is_ignored(self):
        self.assertEqual(get("/version?verbose=1", BrokenStore()).status, 200)
