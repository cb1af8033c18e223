"""Runs the functional tests against a running notes application; writes JUnit XML.

    python3 tests/functional/run.py --base-url http://127.0.0.1:8090 --token TOKEN \
        [--expect-version V] [--expect-revision SHA] [--expect-build N] [--junit FILE]

Waits (bounded by --wait) for /healthz to answer 200, then runs tests/functional/test_app.py from
outside the containers, through the api's published port. Exit status 0 when every test passed, 1
otherwise, 2 when the JUnit file cannot be written. Standard library only; it reuses the JUnit writer of
../../run_tests.py, so run it from a checkout of the application.
"""

import argparse
import os
import sys
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
APP_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, APP_ROOT)

from run_tests import run_suite  # noqa: E402 - found through APP_ROOT

from tests.functional import test_app  # noqa: E402


def wait_until_healthy(base_url, timeout):
    """Polls /healthz until it answers 200 or timeout seconds pass; returns (healthy, last answer)."""
    url = base_url.rstrip("/") + "/healthz"
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                return True, f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            last = str(exc)
        if time.monotonic() >= deadline:
            return False, last
        time.sleep(0.5)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="the api's address, e.g. http://HOST:8090")
    parser.add_argument("--token", default=os.environ.get("NOTES_WRITE_TOKEN", ""), help="the api's write token")
    parser.add_argument("--expect-version", default="", help="the version that /version must answer")
    parser.add_argument("--expect-revision", default="", help="the source revision that /version must answer")
    parser.add_argument("--expect-build", default="", help="the build number that /version must answer")
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML to FILE (its directory is created)")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for /healthz (default 60)")
    parser.add_argument("--suite-name", default="functional", help="name of the JUnit test suite")
    args = parser.parse_args(argv)
    test_app.SETTINGS.update(
        base_url=args.base_url.rstrip("/"),
        token=args.token,
        version={"version": args.expect_version, "revision": args.expect_revision, "build": args.expect_build},
    )
    started = time.monotonic()
    healthy, answer = wait_until_healthy(args.base_url, args.wait)
    waited = time.monotonic() - started
    # Not healthy: run the tests anyway, so that they fail with the details and the JUnit file is written.
    state = "answered" if healthy else "not healthy:"
    print(f"{args.base_url}/healthz {state} {answer} after {waited:.1f}s", flush=True)
    suite = unittest.defaultTestLoader.loadTestsFromModule(test_app)
    return run_suite(suite, args.suite_name, args.junit)


if __name__ == "__main__":
    sys.exit(main())
