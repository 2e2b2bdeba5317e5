"""Work a request starts but its answer must not wait for: a gateway's round trip whose duration would tell
the caller something (an SMS code is sent to a registered phone only, so answering after the send would say
which phones are registered).

A small thread pool per process (created in the process that uses it, so a forked worker gets its own), so the
web worker answers at once and serves its next request while the gateway answers. The work runs with a copy of
the request's context (the app, its config, the database session). Outside a request (a CLI command) it runs
at once. Lost if the process is killed before it ran: the work must be something that may be asked for again.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import copy_current_request_context, has_request_context

log = logging.getLogger(__name__)

# A budget: at most this many gateway calls at once per process; more wait their turn in the pool's queue.
THREADS = 4

_pools: dict[int, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    with _lock:
        pool = _pools.get(os.getpid())
        if pool is None:
            pool = _pools[os.getpid()] = ThreadPoolExecutor(THREADS, thread_name_prefix="pcloud-background")
        return pool


def run_in_background(work: Callable[[], None]) -> None:
    """Run `work` beside the request, in its context; any exception is logged, never raised to the caller."""
    def logged() -> None:
        try:
            work()
        except Exception:  # noqa: BLE001 - nobody is left to answer: log it
            log.exception("background work failed")

    if not has_request_context():
        logged()
        return
    _pool().submit(copy_current_request_context(logged))
