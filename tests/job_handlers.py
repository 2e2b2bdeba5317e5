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
