"""Jobs: what the worker computes, and how jobs are kept in the store.

Layout in the store (Redis):
- ``sample-app:jobs:next-id``: counter that gives each job its id;
- ``sample-app:job:<id>``: hash with ``id``, ``payload``, ``status`` (queued or done) and ``result``;
- ``sample-app:jobs:queue``: list of queued job ids (pushed on the left, taken from the right);
- ``sample-app:jobs:processing``: ids a worker has taken and not finished yet. A job is moved there
  atomically when taken, so a worker that dies leaves it there, and the next worker that starts puts it
  back in the queue (the computation is deterministic: doing a job twice is harmless).
"""

from .resp import RespError

NEXT_ID_KEY = "sample-app:jobs:next-id"
QUEUE_KEY = "sample-app:jobs:queue"
PROCESSING_KEY = "sample-app:jobs:processing"
JOB_KEY_PREFIX = "sample-app:job:"
# A finished job is kept for a week, then the store forgets it.
DONE_JOB_TTL_SECONDS = 7 * 24 * 3600
MAX_PAYLOAD_CHARS = 10_000

STATUS_QUEUED = "queued"
STATUS_DONE = "done"


def compute_result(payload):
    """The work itself: the payload reversed and upper-cased (``"hello"`` gives ``"OLLEH"``)."""
    return payload[::-1].upper()


def job_key(job_id):
    return f"{JOB_KEY_PREFIX}{int(job_id)}"


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _check_transaction(replies):
    """Raises the first error of a MULTI ... EXEC pipeline, returns the replies of EXEC."""
    for reply in replies:
        if isinstance(reply, RespError):
            raise reply
    result = replies[-1]
    if result is None:
        raise RespError("transaction aborted by the store")
    for reply in result:
        if isinstance(reply, RespError):
            raise reply
    return result


class JobStore:
    """Jobs on top of a RESP client (``resp.Client``, ``resp.ConnectionPool`` or a fake in tests)."""

    def __init__(self, client):
        self.client = client

    def ping(self, timeout=None):
        return self.client.execute("PING", timeout=timeout) == "PONG"

    def enqueue(self, payload):
        """Stores a new queued job and returns its id."""
        if not isinstance(payload, str):
            raise TypeError("payload must be a string")
        job_id = int(self.client.execute("INCR", NEXT_ID_KEY))
        _check_transaction(
            self.client.pipeline(
                [
                    ("MULTI",),
                    ("HSET", job_key(job_id), "id", job_id, "payload", payload, "status", STATUS_QUEUED),
                    ("LPUSH", QUEUE_KEY, job_id),
                    ("EXEC",),
                ]
            )
        )
        return job_id

    def get(self, job_id):
        """Returns ``{"id", "status", "result"}`` for a job, or None when there is no such job."""
        flat = self.client.execute("HGETALL", job_key(job_id))
        if not flat:
            return None
        fields = {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}
        return {
            "id": int(job_id),
            "status": fields.get("status", STATUS_QUEUED),
            "result": fields.get("result"),
        }

    def take(self, timeout=1.0):
        """Waits up to ``timeout`` seconds for a queued job; returns ``(id, payload)`` or None.

        The job moves to the processing list in the same step, so it is not lost if the worker dies.
        """
        raw_id = self.client.execute(
            "BLMOVE", QUEUE_KEY, PROCESSING_KEY, "RIGHT", "LEFT", timeout, timeout=timeout + 5.0
        )
        if raw_id is None:
            return None
        job_id = int(raw_id)
        payload = self.client.execute("HGET", job_key(job_id), "payload")
        if payload is None:
            # An id without its job (deleted or expired): nothing to do, drop it.
            self.client.execute("LREM", PROCESSING_KEY, 1, job_id)
            return None
        return job_id, _text(payload)

    def complete(self, job_id, result):
        """Stores the result, marks the job done and takes it off the processing list."""
        _check_transaction(
            self.client.pipeline(
                [
                    ("MULTI",),
                    ("HSET", job_key(job_id), "status", STATUS_DONE, "result", result),
                    ("EXPIRE", job_key(job_id), DONE_JOB_TTL_SECONDS),
                    ("LREM", PROCESSING_KEY, 1, int(job_id)),
                    ("EXEC",),
                ]
            )
        )

    def requeue_unfinished(self):
        """Puts jobs that a worker took and never finished back in the queue; returns how many."""
        count = 0
        while self.client.execute("LMOVE", PROCESSING_KEY, QUEUE_KEY, "LEFT", "RIGHT") is not None:
            count += 1
        return count
