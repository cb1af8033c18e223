# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Several items of one module run at the same time, results in item order."""

from __future__ import annotations

import threading
import time

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.parallel import merged_params, run_each


def test_results_keep_the_order_of_the_items_whatever_finishes_first():
    def work(item):
        time.sleep(0.05 * (3 - item))
        return item * 10

    assert run_each(work, [0, 1, 2], 4) == [0, 10, 20]


def test_items_really_run_at_the_same_time_up_to_the_limit():
    both = threading.Barrier(2, timeout=5)
    assert run_each(lambda item: both.wait() is not None, ["a", "b"], 2) == [True, True]
    running, most = [0], [0]
    lock = threading.Lock()

    def work(item):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return item

    assert run_each(work, range(6), 2) == list(range(6))
    assert most[0] <= 2


def test_one_at_a_time_and_a_bad_limit():
    seen = []
    assert run_each(seen.append, [1, 2, 3], 1) == [None, None, None]
    assert seen == [1, 2, 3]
    with pytest.raises(ValueError, match="parallel must be at least 1"):
        run_each(seen.append, [1], 0)


def test_an_unexpected_exception_is_raised_again():
    def work(item):
        if item == 2:
            raise RuntimeError("boom")
        return item

    with pytest.raises(RuntimeError, match="boom"):
        run_each(work, [1, 2, 3], 3)


def test_an_item_sets_its_own_options_over_the_shared_ones():
    params = {"path": None, "name": None, "tags": ["42"], "dockerfile": "Dockerfile", "builds": [{}]}
    item = {"path": "/src", "name": "a/api", "dockerfile": None}
    assert merged_params(params, item, "builds") == {
        "path": "/src",
        "name": "a/api",
        "tags": ["42"],
        "dockerfile": "Dockerfile",
    }
