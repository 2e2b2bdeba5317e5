"""A pool of warm child processes that run handlers for the worker.

Why children: a handler that hangs, leaks, crashes the interpreter or calls ``os._exit`` must never take
the worker down, and a kill (logKill, COVER_EARLY, a timeout) must stop it at once. Why warm: hundreds of
short runs a second must not each pay for a new interpreter and a new Flask app.

Children come from a ``forkserver`` (a clean process forked before the worker opened database
connections or started threads), each in its own process group and a subreaper of whatever it starts, so
that a kill also reaches whatever the handler started (even in a new session: ``kill_tree``), and each dies,
with all it started, when the worker dies (a hang-up of its task pipe, ``_die_with_worker``; and with the fork
server, ``PR_SET_PDEATHSIG``).

Per child:

- one pipe worker -> child carries tasks (a dict: ``id``, ``handler``, ``param``, ``context``);
- the child's file descriptors 1 and 2 are one pipe child -> worker. Everything the handler prints,
  what its subprocesses print and what ``logging`` emits arrives there in order, and is read by the
  worker line by line without blocking. When a task ends the child writes a result line starting with
  a marker private to that child, so output and result cannot overtake each other;
- a temporary directory of its own (its ``TMPDIR``): whatever a handler or script writes there goes when the
  worker forgets the child, even when the child was killed before it could clean up (a script's files, which
  may carry credentials, would otherwise stay in /tmp after every kill or timeout).

The pool is driven from the worker's loop: ``poll()`` reads output, finishes tasks, enforces timeouts
and replaces dead children. It never blocks longer than the timeout it is given.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import importlib
import json
import logging
import multiprocessing
import os
import secrets
import select
import selectors
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from pcloud.core.i18n import clipped, said
from pcloud.core.messages import N_

log = logging.getLogger("pcloud.worker.pool")

CODE_SUCCESS = 200
CODE_FAILED = 500
CODE_TIMEOUT = 502
CODE_KILLED = 503

MAX_LINE_BYTES = 16 * 1024  # a longer line (a megabyte without a newline) is cut into pieces of this size
READ_CHUNK = 256 * 1024
_READY = "ready"


class QuietFailure(Exception):
    """Raised by an invoker to fail a task with its message only (no traceback in the output)."""


@dataclass
class Outcome:
    """How a task ended: ``code`` is the run's handle code (200, 500, 502, 503)."""

    task_id: int
    code: int
    msg: str | None
    duration: float = 0.0


@dataclass
class _Child:
    proc: Any
    task_conn: Connection
    out_fd: int
    marker: bytes
    scratch: str
    ready: bool = False
    task: dict[str, Any] | None = None
    started: float = 0.0
    deadline: float | None = None
    buf: bytearray = field(default_factory=bytearray)
    kill_outcome: tuple[int, str] | None = None
    kill_sent_at: float = 0.0
    eof: bool = False


def _import(path: str | None) -> Callable[..., Any] | None:
    if not path:
        return None
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper() -> None:
    """Linux: what a handler or script starts and orphans (``setsid cmd &``, a double fork) is re-parented to
    this child instead of init, so it stays among the child's descendants, where ``kill_tree`` finds it. A
    new session or process group escapes ``killpg``; the parent chain cannot be escaped."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def descendants(root: int) -> set[int]:
    """Every process below `root` in the parent chain (from /proc; empty where there is no /proc)."""
    children: dict[int, list[int]] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])  # after the name: state, ppid
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    todo = [root]
    while todo:
        for pid in children.get(todo.pop(), ()):
            if pid not in found:
                found.add(pid)
                todo.append(pid)
    return found


def kill_tree(root: int, *, include_root: bool = True) -> int:
    """SIGKILL every descendant of `root` (and `root` itself unless told not to), whatever session or group they
    made for themselves. They are stopped first (SIGSTOP) until a walk finds no new one, so that none forks a
    process the walk has not seen while the others die. Returns how many processes were killed."""
    frozen: set[int] = set()
    if include_root:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(root, signal.SIGSTOP)
    for _ in range(1000):  # bounded: each round stops at least one new process, a fork bomb is not endless
        new = descendants(root) - frozen
        if not new:
            break
        for pid in new:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGSTOP)
        frozen |= new
    killed = 0
    for pid in sorted(frozen) + ([root] if include_root else []):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            killed += 1
    return killed


def _die_with_parent() -> None:
    """Linux: the kernel kills this child when its parent (the fork server) exits."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


SCRATCH_PREFIX = "pcloud-job-"


def _remove_orphaned_scratch() -> None:
    """Remove the children's directories of pools whose worker died without forgetting them (kill -9: its
    children die with it, a running script's files stay). A directory is named after its worker's pid, so one
    of a worker still running (on this host's /tmp) is never touched."""
    for path in glob.glob(os.path.join(tempfile.gettempdir(), f"{SCRATCH_PREFIX}*-*")):
        owner = os.path.basename(path).removeprefix(SCRATCH_PREFIX).partition("-")[0]
        if not owner.isdigit():
            continue
        try:
            os.kill(int(owner), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:  # alive, another user's
            continue


def _die_with_worker(task_conn: Connection) -> None:
    """Kill this child, and everything it started, as soon as the worker is gone, even in the middle of a run.
    `_die_with_parent` alone does not: the parent is the fork server, which every child keeps alive through a
    descriptor of its own, so a review's quiet handler ran on for minutes after `kill -9` of its worker, while
    its run was retried on another node. The worker holds the only write end of the task pipe: the kernel
    reports a hang-up on the read end when it dies, which a thread here waits for."""
    def watch() -> None:
        poller = select.poll()
        poller.register(task_conn.fileno(), 0)  # hang-ups and errors only, never a task waiting to be read
        while True:
            for _fd, _event in poller.poll():
                kill_tree(os.getpid(), include_root=False)
                os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="die-with-worker", daemon=True).start()


def _child_main(task_conn: Connection, out_conn: Connection, marker: bytes, setup_path: str | None,
                invoke_path: str, scratch: str) -> None:
    """The child: route fds 1/2 into the output pipe, set up once, then run tasks until told to stop."""
    os.setpgrp()
    _die_with_parent()
    _become_subreaper()
    _die_with_worker(task_conn)
    os.environ["TMPDIR"] = tempfile.tempdir = scratch
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the worker, which decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    fd = out_conn.fileno()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    out_conn.close()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    out = open(1, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)  # noqa: SIM115
    err = open(2, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)  # noqa: SIM115
    sys.stdout, sys.stderr = out, err
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    stream = logging.StreamHandler(err)
    stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(stream)
    root.setLevel(logging.INFO)

    def emit(payload: dict[str, Any]) -> None:
        for f in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                f.flush()
        os.write(1, marker + json.dumps(payload, ensure_ascii=False).encode() + b"\n")

    setup = _import(setup_path)
    if setup is not None:
        setup()
    invoke = _import(invoke_path)
    assert invoke is not None
    emit({"id": None, "ready": True})
    while True:
        try:
            task = task_conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        if task is None:
            os._exit(0)
        sys.stdout, sys.stderr = out, err  # a previous handler may have replaced them
        ok, msg = True, None
        try:
            result = invoke(task)
            msg = None if result is None else str(result)
        except SystemExit as exc:  # sys.exit(0) is a normal end; anything else a failure
            ok = exc.code in (None, 0)
            msg = None if ok else f"SystemExit: {exc.code}"
        except QuietFailure as exc:
            ok, msg = False, str(exc)
        except BaseException as exc:  # noqa: BLE001 - every failure of a handler is the run's failure
            traceback.print_exc()
            ok = False
            msg = f"{type(exc).__name__}: {exc}"
        emit({"id": task["id"], "ok": ok, "msg": (clipped(msg, 2000) or "") if msg is not None else None})


class ChildPool:
    """Warm children running tasks; callbacks receive output lines and outcomes from ``poll``.

    ``invoke`` ("module:function") is called in a child with the task dict and returns the run's
    message (or raises); ``setup`` ("module:function") runs once in each new child (e.g. create the app).
    """

    def __init__(self, invoke: str, *, setup: str | None = None, min_size: int = 1, max_size: int = 8,
                 spare: int = 1, on_line: Callable[[int, str], None] | None = None,
                 on_done: Callable[[Outcome], None] | None = None, preload: list[str] | None = None):
        self.invoke = invoke
        self.setup = setup
        self.min_size = max(0, min_size)
        self.max_size = max(1, max_size)
        self.spare = spare
        self.on_line = on_line or (lambda _id, _line: None)
        self.on_done = on_done or (lambda _o: None)
        self.ctx = multiprocessing.get_context("forkserver")
        modules = [m.partition(":")[0] for m in (invoke, setup) if m]
        self.ctx.set_forkserver_preload(list(dict.fromkeys([*(preload or []), *modules])))
        self.children: list[_Child] = []
        self.by_task: dict[int, _Child] = {}
        self.selector = selectors.DefaultSelector()
        self.closing = False
        self.replaced = 0  # children replaced after a kill, timeout or crash (for tests and stats)

    # ----------------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        _remove_orphaned_scratch()
        for _ in range(self.min_size):
            self._spawn()

    def _spawn(self) -> _Child | None:
        if len(self.children) >= self.max_size or self.closing:
            return None
        task_r, task_w = self.ctx.Pipe(duplex=False)
        out_r, out_w = os.pipe()
        out_conn = Connection(out_w, readable=False, writable=True)
        marker = b"\x1e" + secrets.token_hex(8).encode() + b" "
        scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        os.chmod(scratch, 0o711)  # a script run as nobody enters its own directory below, lists nothing here
        proc = self.ctx.Process(target=_child_main, args=(task_r, out_conn, marker, self.setup, self.invoke,
                                                          scratch), name="pcloud-job-child")
        try:
            proc.start()
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        finally:
            task_r.close()
            out_conn.close()
        os.set_blocking(out_r, False)
        child = _Child(proc=proc, task_conn=task_w, out_fd=out_r, marker=marker, scratch=scratch)
        self.children.append(child)
        self.selector.register(out_r, selectors.EVENT_READ, child)
        return child

    def shutdown(self, grace: float = 0.0, msg: str = N_("执行器停止，任务被终止")) -> None:
        """Stop taking tasks, let running ones finish up to `grace` seconds, kill the rest (503)."""
        self.closing = True
        deadline = time.monotonic() + max(0.0, grace)
        while self.busy_count() and time.monotonic() < deadline:
            self.poll(min(0.1, max(0.0, deadline - time.monotonic())))
        for child in list(self.children):
            if child.task is not None:
                self._kill_child(child, CODE_KILLED, msg)
        end = time.monotonic() + 5
        while any(c.task is not None for c in self.children) and time.monotonic() < end:
            self.poll(0.05)
        for child in list(self.children):
            with contextlib.suppress(Exception):
                child.task_conn.send(None)
        end = time.monotonic() + 2
        for child in list(self.children):
            child.proc.join(max(0.0, end - time.monotonic()))
            if child.proc.exitcode is None:
                self._signal(child, signal.SIGKILL)
                child.proc.join(1)
            self._forget(child)

    # ----------------------------------------------------------------------------------- tasks
    def busy_count(self) -> int:
        return sum(1 for c in self.children if c.task is not None)

    def capacity(self) -> int:
        """How many more tasks could run now or very soon (idle children plus room to grow)."""
        if self.closing:
            return 0
        return self.max_size - self.busy_count()

    def idle_ready(self) -> int:
        """Children that would take a task right now."""
        return sum(1 for c in self.children if c.ready and c.task is None and c.kill_outcome is None)

    def running(self) -> list[int]:
        return list(self.by_task)

    def submit(self, task_id: int, handler: str, param: str | None = None, context: dict[str, Any] | None = None,
               timeout: float = 0) -> bool:
        """Hand a task to a ready idle child. False when none is ready (the calling code keeps it for later)."""
        if self.closing or task_id in self.by_task:
            return False
        child = next((c for c in self.children if c.ready and c.task is None and c.kill_outcome is None), None)
        if child is None:
            self._grow()
            return False
        task = {"id": task_id, "handler": handler, "param": param, "context": context or {}}
        try:
            child.task_conn.send(task)
        except (OSError, ValueError):  # the child died between two polls; poll() will replace it
            child.ready = False
            return False
        child.task = task
        child.started = time.monotonic()
        child.deadline = child.started + timeout if timeout and timeout > 0 else None
        self.by_task[task_id] = child
        self._grow()
        return True

    def kill(self, task_id: int, code: int = CODE_KILLED, msg: str = N_("任务被终止")) -> bool:
        child = self.by_task.get(task_id)
        if child is None:
            return False
        self._kill_child(child, code, msg)
        return True

    def grow_for(self, backlog: int) -> None:
        """Tasks are waiting for a child: start enough children at once (up to max_size), since a new one
        takes a moment to become ready."""
        idle = sum(1 for c in self.children if c.task is None and c.kill_outcome is None)
        for _ in range(max(0, backlog - idle)):
            if self._spawn() is None:
                break

    def _grow(self) -> None:
        idle = sum(1 for c in self.children if c.task is None and c.kill_outcome is None)
        want = max(self.min_size - len(self.children), self.spare - idle)
        for _ in range(max(0, want)):
            if self._spawn() is None:
                break

    # ----------------------------------------------------------------------------------- polling
    def poll(self, timeout: float = 0.0) -> None:
        """Read whatever output is ready (waiting at most `timeout`), end tasks, enforce timeouts."""
        if self.children:
            for key, _ in self.selector.select(timeout):
                self._read(key.data)
        elif timeout:
            time.sleep(timeout)
        now = time.monotonic()
        for child in list(self.children):
            if child.task is not None and child.deadline is not None and now >= child.deadline \
                    and child.kill_outcome is None:
                self._kill_child(child, CODE_TIMEOUT, N_("任务执行超时，已终止"))
            if child.eof or (child.kill_outcome is not None and now - child.kill_sent_at > 2
                             and child.proc.exitcode is not None):
                self._finish_dead(child)
            elif not child.eof and child.proc.exitcode is not None and child.task is None and not child.ready:
                # died during setup without closing its pipe (cannot normally happen): replace it
                self._finish_dead(child)
        if not self.closing:
            self._grow()

    def _read(self, child: _Child) -> None:
        while True:
            try:
                data = os.read(child.out_fd, READ_CHUNK)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                child.eof = True
                break
            child.buf += data
            self._lines(child)
            if len(data) < READ_CHUNK:
                break

    def _lines(self, child: _Child, final: bool = False) -> None:
        buf = child.buf
        start = 0
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                if len(buf) - start >= MAX_LINE_BYTES:
                    self._line(child, bytes(buf[start:start + MAX_LINE_BYTES]))
                    start += MAX_LINE_BYTES
                    continue
                break
            self._line(child, bytes(buf[start:nl]))
            start = nl + 1
        del buf[:start]
        if final and buf:
            self._line(child, bytes(buf))
            buf.clear()

    def _line(self, child: _Child, raw: bytes) -> None:
        at = raw.find(child.marker)
        if at >= 0:  # the result line; output without a final newline may stand before it
            if at:
                self._line(child, raw[:at])
            self._result(child, json.loads(raw[at + len(child.marker):]))
            return
        text = raw.decode("utf-8", "replace").rstrip("\r")
        if child.task is not None:
            try:
                self.on_line(child.task["id"], text)
            except Exception:  # noqa: BLE001 - a failing sink must not break the pool
                log.exception("output sink failed")
        else:
            log.info("job child %s: %s", child.proc.pid, text)

    def _result(self, child: _Child, payload: dict[str, Any]) -> None:
        if payload.get("ready"):
            child.ready = True
            return
        if child.task is None or payload.get("id") != child.task["id"] or child.kill_outcome is not None:
            return  # a result racing a kill: the kill's outcome wins
        code = CODE_SUCCESS if payload.get("ok") else CODE_FAILED
        self._complete(child, Outcome(child.task["id"], code, payload.get("msg")))

    def _complete(self, child: _Child, outcome: Outcome) -> None:
        task = child.task
        child.task = None
        child.deadline = None
        if task is None:
            return
        self.by_task.pop(task["id"], None)
        outcome.duration = time.monotonic() - child.started
        try:
            self.on_done(outcome)
        except Exception:  # noqa: BLE001
            log.exception("outcome sink failed")

    def _kill_child(self, child: _Child, code: int, msg: str) -> None:
        if child.kill_outcome is None:
            child.kill_outcome = (code, msg)
            child.kill_sent_at = time.monotonic()
        self._signal(child, signal.SIGKILL)

    def _signal(self, child: _Child, sig: int) -> None:
        pid = child.proc.pid
        if pid is None:
            return
        if sig == signal.SIGKILL:  # also what left the child's group or session (a subreaper keeps them below it)
            kill_tree(pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)  # the child leads its own group: its subprocesses go too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)

    def _finish_dead(self, child: _Child) -> None:
        """The child is gone (EOF) or was killed: flush its last output, end its task, replace it."""
        if not child.eof:
            with contextlib.suppress(Exception):
                self._read(child)
        self._lines(child, final=True)
        child.proc.join(1)
        if child.task is not None:
            if child.kill_outcome is not None:
                code, msg = child.kill_outcome
            else:
                exitcode = child.proc.exitcode
                code, msg = CODE_FAILED, said(N_("执行进程异常退出 (exit code %(code)s)"), code=exitcode)
            self._complete(child, Outcome(child.task["id"], code, msg))
        if not self.closing:
            self.replaced += 1
        self._forget(child)

    def _forget(self, child: _Child) -> None:
        if child in self.children:
            self.children.remove(child)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(child.out_fd)
        with contextlib.suppress(OSError):
            os.close(child.out_fd)
        with contextlib.suppress(Exception):
            child.task_conn.close()
        if child.task is not None:
            self.by_task.pop(child.task["id"], None)
        shutil.rmtree(child.scratch, ignore_errors=True)
