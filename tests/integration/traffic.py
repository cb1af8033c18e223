"""A client that keeps sending requests while something changes, and counts the ones that failed.

Bounded in count and in time, and only to lab addresses (172.29.77.0/24), so a test can never flood
anything else. Each request opens a new connection, as independent clients would.
"""

from __future__ import annotations

import ipaddress
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from urllib.parse import urlparse

LAB_NETWORK = ipaddress.ip_network("172.29.77.0/24")


class Traffic:
    """``with Traffic(url) as traffic: ...`` sends GET url every ``interval`` seconds until the block ends."""

    def __init__(self, url: str, *, interval: float = 0.05, max_requests: int = 20000, max_seconds: float = 900):
        host = urlparse(url).hostname or ""
        if ipaddress.ip_address(host) not in LAB_NETWORK:
            raise ValueError(f"traffic goes to lab addresses only, not {host}")
        self.url = url
        self.interval = interval
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.sent = 0
        self.failures: list[str] = []
        self.versions: Counter = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and self.sent < self.max_requests and time.monotonic() < deadline:
            self.sent += 1
            try:
                with urllib.request.urlopen(self.url, timeout=10) as response:
                    body = json.loads(response.read())
                self.versions[body.get("version")] += 1
            except (OSError, ValueError, urllib.error.URLError) as exc:
                self.failures.append(f"{time.strftime('%H:%M:%S')} {exc}")
            self._stop.wait(self.interval)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def __str__(self) -> str:
        return f"{self.sent} requests, {len(self.failures)} failed {self.failures[:5]}, versions {dict(self.versions)}"


def main(argv: list[str]) -> int:
    """``python3 tests/integration/traffic.py URL...``: a client per URL until SIGINT or SIGTERM, then one
    line per URL with its counts (make demo counts production's requests during the promote)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    clients = [Traffic(url) for url in argv]
    for client in clients:
        client.__enter__()
    stop.wait()
    for client in clients:
        client.__exit__(None, None, None)
        print(f"{client.url}: {client}", file=sys.stdout, flush=True)
    return 0 if all(not client.failures for client in clients) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
