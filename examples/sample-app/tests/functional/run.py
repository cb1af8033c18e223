"""Runs the functional tests against a running sample application; writes JUnit XML.

    python3 tests/functional/run.py --base-url http://127.0.0.1:8080 \
        [--expect-version V] [--expect-revision SHA] [--expect-build N] [--junit FILE]

Waits (bounded by --wait) for /healthz to answer 200, then runs tests/functional/test_app.py.
Exit status 0 when every test passed, 1 otherwise, 2 when the JUnit file cannot be written.
Standard library only; it reuses the JUnit writer of ../../run_tests.py, so run it from a checkout
of the application.
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
                if response.status == 200:
                    return True, f"HTTP {response.status}"
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            last = str(exc)
        if time.monotonic() >= deadline:
            return False, last
        time.sleep(0.5)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="the api's published address, e.g. http://HOST:8080")
    parser.add_argument("--expect-version", help="the version that /version must answer")
    parser.add_argument("--expect-revision", help="the source revision that /version must answer")
    parser.add_argument("--expect-build", help="the build number that /version must answer")
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML to FILE (its directory is created)")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for /healthz (default 60)")
    parser.add_argument("--job-timeout", type=float, default=20.0, help="seconds a job may take (default 20)")
    parser.add_argument("--suite-name", default="functional", help="name of the JUnit test suite")
    args = parser.parse_args(argv)

    settings = {
        "SAMPLE_APP_BASE_URL": args.base_url,
        "SAMPLE_APP_EXPECT_VERSION": args.expect_version or "",
        "SAMPLE_APP_EXPECT_REVISION": args.expect_revision or "",
        "SAMPLE_APP_EXPECT_BUILD": args.expect_build or "",
        "SAMPLE_APP_JOB_TIMEOUT": str(args.job_timeout),
    }
    os.environ.update(settings)

    started = time.monotonic()
    healthy, answer = wait_until_healthy(args.base_url, args.wait)
    waited = time.monotonic() - started
    if healthy:
        print(f"{args.base_url}/healthz answered {answer} after {waited:.1f}s", flush=True)
    else:
        # Run the tests anyway: they fail with the details, and the JUnit file is written.
        print(f"{args.base_url}/healthz not healthy after {waited:.1f}s: {answer}", flush=True)
    suite = unittest.defaultTestLoader.loadTestsFromModule(test_app)
    return run_suite(suite, args.suite_name, args.junit)


if __name__ == "__main__":
    sys.exit(main())
