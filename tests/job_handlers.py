"""Handlers for the worker tests, run inside the worker's child processes."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

log = logging.getLogger("tests.job_handlers")


def echo(param: str | None) -> str:
    print(f"echo {param}")
    log.info("logged %s", param)
    print("to stderr", file=sys.stderr)
    return f"ok {param}"


def sleep(param: str | None) -> str:
    seconds = float(param or 1)
    print(f"sleeping {seconds}", flush=True)
    time.sleep(seconds)
    print("woke up")
    return "slept"


def boom(param: str | None) -> None:
    print("about to fail")
    raise RuntimeError(f"boom {param}")


def hard_exit(param: str | None) -> None:
    print("exiting hard", flush=True)
    os._exit(int(param or 3))


def megabyte(param: str | None) -> str:
    line = "x" * 1023
    for _ in range(1024):
        print(line)
    sys.stdout.write("y" * 100_000)  # one long line without a newline at the end
    return "printed"


def pid(param: str | None) -> str:
    return str(os.getpid())


HANDLERS = {f.__name__: f for f in (echo, sleep, boom, hard_exit, megabyte, pid)}


def invoke(task: dict[str, Any]) -> Any:
    return HANDLERS[task["handler"]](task["param"])


# ---- registered for the worker process tests (PCLOUD_JOB_HANDLER_MODULES=tests.job_handlers)
from pcloud.jobs.handlers import JobContext, job_handler  # noqa: E402


@job_handler("testEcho")
def test_echo(ctx: JobContext) -> str:
    print(f"echo {ctx.param} shard {ctx.shard_index}/{ctx.shard_total} {ctx.trigger_type}", flush=True)
    ctx.log.info("logged %s", ctx.param)
    return f"ok {ctx.param}"


@job_handler("testSleep")
def test_sleep(ctx: JobContext) -> str:
    return sleep(ctx.param)


@job_handler("testSleepFirst")
def test_sleep_first(ctx: JobContext) -> str:
    """Sleeps for the parameter's seconds unless it is a retry (which ends at once)."""
    if ctx.trigger_type == "RETRY":
        print("retry: done at once")
        return "retried"
    return sleep(ctx.param)


@job_handler("testBoom")
def test_boom(ctx: JobContext) -> None:
    boom(ctx.param)


@job_handler("testExit")
def test_exit(ctx: JobContext) -> None:
    hard_exit(ctx.param)


@job_handler("testMegabyte")
def test_megabyte(ctx: JobContext) -> str:
    return megabyte(ctx.param)


@job_handler("testNoop")
def test_noop(ctx: JobContext) -> str:
    """The bench handler: returns when it started (epoch seconds), to measure the fire lag."""
    return f"{time.time():.6f}"
