"""The worker: takes jobs from the store's queue, computes their result, stores it, marks them done.

Each turn of the loop that reached the store touches a heartbeat file; the image's HEALTHCHECK
(``bash common/health.sh heartbeat``) calls the worker unhealthy when that file gets old, that is
when the worker is stuck or cannot reach the store.
"""

import os
import signal
import sys
import threading
from pathlib import Path

from common.jobs import JobStore, compute_result
from common.resp import Client, ProtocolError, RespError

STORE_ERRORS = (OSError, RespError, ProtocolError)
DEFAULT_HEARTBEAT = "/tmp/sample-app-worker.heartbeat"


def log(message):
    print(f"worker: {message}", file=sys.stderr, flush=True)


class Worker:
    def __init__(self, store, heartbeat_path, poll_seconds=1.0, retry_seconds=1.0, compute=compute_result):
        self.store = store
        self.heartbeat = Path(heartbeat_path)
        self.poll_seconds = poll_seconds
        self.retry_seconds = retry_seconds
        self.compute = compute
        self.done = 0
        self._recovered = False

    def beat(self):
        self.heartbeat.touch()

    def run_once(self):
        """One turn: waits up to poll_seconds for a job and does it. Returns the job id or None."""
        if not self._recovered:
            count = self.store.requeue_unfinished()
            self._recovered = True
            if count:
                log(f"put {count} unfinished job(s) back in the queue")
        job = self.store.take(self.poll_seconds)
        self.beat()
        if job is None:
            return None
        job_id, payload = job
        self.store.complete(job_id, self.compute(payload))
        self.done += 1
        self.beat()
        return job_id

    def run(self, stop):
        """Works until the ``stop`` event is set; survives the store going away and coming back."""
        failing = False
        while not stop.is_set():
            try:
                job_id = self.run_once()
            except STORE_ERRORS as exc:
                if not failing:
                    log(f"store unavailable ({exc}); retrying every {self.retry_seconds:g}s")
                failing = True
                stop.wait(self.retry_seconds)
                continue
            if failing:
                log("store reachable again")
                failing = False
            if job_id is not None:
                log(f"job {job_id} done")


def main():
    store_host = os.environ.get("STORE_HOST", "store")
    store_port = int(os.environ.get("STORE_PORT", "6379"))
    heartbeat = os.environ.get("HEARTBEAT_FILE", DEFAULT_HEARTBEAT)
    client = Client(store_host, store_port, timeout=5.0)
    worker = Worker(JobStore(client), heartbeat, poll_seconds=float(os.environ.get("POLL_SECONDS", "1")))
    stop = threading.Event()

    def on_signal(signum, _frame):
        log(f"signal {signum}, stopping after the current job")
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log(f"started, store {store_host}:{store_port}, heartbeat {heartbeat}")
    worker.run(stop)
    client.close()
    log(f"stopped after {worker.done} job(s)")
    return 0
