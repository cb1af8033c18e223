# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Several items of one module run at the same time, in threads, each result kept in item order.

A pipeline step that builds, tests or pushes several images spends most of its time waiting for the
Docker Engine and the registry; one module invocation doing them at once saves the round trip of a
task per item and the waiting of one item for the next.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

PARALLEL_ARG_SPEC = {"parallel": {"type": "int", "default": 4}}


def merged_params(params: dict, item: dict, list_option: str) -> dict:
    """The module's parameters for one item: the item's own (those that are set) over the shared ones."""
    merged = {key: value for key, value in params.items() if key != list_option}
    merged.update({key: value for key, value in item.items() if value is not None})
    return merged


def run_each(work, items, parallel: int) -> list:
    """``work(item)`` for every item, at most ``parallel`` at a time; the return values in item order.

    ``work`` must not raise for an expected failure: it returns a result that says so. An exception
    that escapes it is raised here again, after every item finished.
    """
    items = list(items)
    if parallel < 1:
        raise ValueError(f"parallel must be at least 1, not {parallel}")
    if len(items) <= 1 or parallel == 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(parallel, len(items))) as pool:
        futures = [pool.submit(work, item) for item in items]
        return [future.result() for future in futures]
