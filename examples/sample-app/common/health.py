"""Health checks that the images' HEALTHCHECK instructions run.

    python3 -m common.health http http://127.0.0.1:8080/healthz [--timeout 2]
    python3 -m common.health heartbeat /tmp/sample-app-worker.heartbeat [--max-age 10]

Exit status 0 when healthy, 1 otherwise, with the reason on stdout (Docker keeps it in the
container's health log).
"""

import argparse
import os
import sys
import time
import urllib.error
import urllib.request


def check_http(url, timeout=2.0):
    """Returns (healthy, message): healthy when the URL answers 2xx within the timeout."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return True, f"{url}: HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url}: HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return False, f"{url}: {exc}"


def check_heartbeat(path, max_age=10.0, now=None):
    """Returns (healthy, message): healthy when the file was touched less than max_age seconds ago."""
    try:
        mtime = os.stat(path).st_mtime
    except OSError as exc:
        return False, f"no heartbeat: {exc}"
    age = (time.time() if now is None else now) - mtime
    if age > max_age:
        return False, f"heartbeat is {age:.1f}s old (limit {max_age:g}s)"
    return True, f"heartbeat is {age:.1f}s old"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m common.health", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="kind", required=True)
    http = sub.add_parser("http", help="GET a URL, healthy on 2xx")
    http.add_argument("url")
    http.add_argument("--timeout", type=float, default=2.0)
    beat = sub.add_parser("heartbeat", help="healthy when a file was touched recently")
    beat.add_argument("path")
    beat.add_argument("--max-age", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.kind == "http":
        healthy, message = check_http(args.url, args.timeout)
    else:
        healthy, message = check_heartbeat(args.path, args.max_age)
    print(message)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
