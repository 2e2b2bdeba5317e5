"""The ID service's guarantees under real concurrency, restarts and an unavailable database.

- uniqueness: 4 processes x 4 threads plus a second independent engine in this process draw >= 200,000
  ids of one tag with a small step while the step is changed through the API: no duplicate, each
  thread's ids increasing;
- restart: a process holding two buffers is killed with SIGKILL; every id of its successor is greater
  than every id issued before;
- database unavailable: buffered ids are still served, then a 503 envelope, then service resumes by
  itself once the database is back.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from pcloud.segments.allocator import Allocator
from tests.conftest import ROOT, ApiClient

ADMIN = "/api/integration/admin/segment"
IDS = "/api/integration/segment"
_EXT = "pcloud.segments.allocator"


def spawn(url: str, tag: str, threads: int, per_thread: int, max_step: int, outfile: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.segment_worker", url, tag, str(threads), str(per_thread),
                             str(max_step), str(outfile)], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()


@pytest.fixture
def fresh_allocator(app: Any) -> Iterator[None]:
    """Each test starts this process's allocator without buffers (the tables were wiped)."""
    saved = app.extensions.pop(_EXT, None)
    yield
    current = app.extensions.pop(_EXT, None)
    if current is not None:
        current.dispose()
    if saved is not None:
        app.extensions[_EXT] = saved


def test_unique_across_processes_threads_and_a_second_engine(api: ApiClient, app: Any, tmp_path: Path,
                                                              fresh_allocator: None) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    api.data("POST", f"{ADMIN}/create", {"bizTag": "load", "step": 20})
    per_thread = 12_500  # 4 x 4 x 12,500 = 200,000, plus the second engine's share
    procs = [spawn(url, "load", 4, per_thread, 64, tmp_path / f"p{i}.txt") for i in range(4)]
    second = Allocator(url, max_step=64)
    mine: list[list[int]] = [[], []]
    stop = threading.Event()

    def draw(i: int) -> None:
        while not stop.is_set():
            mine[i].extend(second.take("load", 3))

    local = [threading.Thread(target=draw, args=(i,)) for i in range(2)]
    for p in procs:
        go(p)
    for t in local:
        t.start()
    try:
        # the stored step changes mid-run, through the API, while every process is still drawing
        for step in (7, 50, 13, 30):
            while sum(map(len, mine)) < 2_000 * (1 + (7, 50, 13, 30).index(step)):
                if all(p.poll() is not None for p in procs):
                    break
                threading.Event().wait(0.005)
            assert any(p.poll() is None for p in procs), "the step change must happen mid-run"
            api.data("PUT", f"{ADMIN}/modify", {"bizTag": "load", "step": step})
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "done"
            assert p.wait(60) == 0
    finally:
        stop.set()
        for t in local:
            t.join()
        second.dispose()
        for p in procs:
            if p.poll() is None:
                p.kill()
    threads = [[int(x) for x in line.split()] for i in range(4)
               for line in (tmp_path / f"p{i}.txt").read_text().splitlines()] + mine
    assert len(threads) == 18 and all(len(t) == per_thread for t in threads[:16])
    every = [i for t in threads for i in t]
    assert len(every) >= 200_000
    assert len(set(every)) == len(every), "an id was handed out twice"
    assert all(all(a < b for a, b in zip(t, t[1:], strict=False)) for t in threads), "ids must increase per thread"
    # the step change reached the allocators: later ranges were cut with the new stored step as the floor
    assert api.post(f"{ADMIN}/page", {"bizTag": "load"}).get_json()["data"][0]["step"] == 30


def test_restart_after_kill_never_reissues(api: ApiClient, app: Any, tmp_path: Path) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    api.data("POST", f"{ADMIN}/create", {"bizTag": "restart", "step": 100})
    issued: list[int] = []
    for _round in range(3):
        proc = spawn(url, "restart", 0, 30, 1000, tmp_path / "unused")
        go(proc)
        assert proc.stdout is not None
        report = json.loads(proc.stdout.readline())
        ids = report["ids"]
        assert report["state"]["next_ready"], "the victim must hold two buffers when it dies"
        assert ids == sorted(ids) and (not issued or min(ids) > max(issued))
        issued.extend(ids)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    # the web process (another allocator) continues above everything issued before
    after = [int(i) for i in api.data("GET", f"{IDS}/batch/restart/10")]
    assert min(after) > max(issued)


class TcpProxy:
    """127.0.0.1 proxy to the database that can be taken down and brought back on the same port."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = 0
        self.listener: socket.socket | None = None
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()

    def up(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        self.port = sock.getsockname()[1]
        self.listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def down(self) -> None:
        with self.lock:
            if self.listener is not None:
                # wakes the accepting thread; a bare close() would leave it listening
                with contextlib.suppress(OSError):
                    self.listener.shutdown(socket.SHUT_RDWR)
                self.listener.close()
                self.listener = None
            for conn in self.conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self.conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()


class Outage:
    """Makes the allocator's database unavailable and available again.

    SQLite: another connection holds the write lock (BEGIN EXCLUSIVE), so BEGIN IMMEDIATE times out;
    readers (sign-in, permission checks) still work, as they do with WAL. PostgreSQL: the allocator
    connects through a TCP proxy that is taken down, dropping its connections and refusing new ones.
    """

    def __init__(self, url: str):
        self.url = url
        self.proxy: TcpProxy | None = None
        self.holder: sqlite3.Connection | None = None
        if url.startswith("postgresql"):
            parsed = make_url(url)
            self.proxy = TcpProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
            self.proxy.up()
            self.allocator_url = parsed.set(host="127.0.0.1", port=self.proxy.port).render_as_string(
                hide_password=False)
        else:
            self.allocator_url = url

    def down(self) -> None:
        if self.proxy:
            self.proxy.down()
        else:
            self.holder = sqlite3.connect(make_url(self.url).database, isolation_level=None)
            self.holder.execute("BEGIN EXCLUSIVE")

    def up(self) -> None:
        if self.proxy:
            self.proxy.up()
        elif self.holder is not None:
            self.holder.execute("COMMIT")
            self.holder.close()
            self.holder = None


def test_database_down_serves_buffers_then_503_then_recovers(api: ApiClient, app: Any,
                                                             fresh_allocator: None) -> None:
    outage = Outage(app.config["SQLALCHEMY_DATABASE_URI"])
    alloc = Allocator(outage.allocator_url, wait_seconds=1.0, db_timeout_seconds=0.5)
    app.extensions[_EXT] = alloc
    api.data("POST", f"{ADMIN}/create", {"bizTag": "down", "step": 50})
    before = [int(api.data("GET", f"{IDS}/get/down")) for _ in range(10)]
    for _ in range(300):  # the preload of the second range runs in the background
        if alloc.state("down")["next_ready"]:
            break
        threading.Event().wait(0.01)
    state = alloc.state("down")
    buffered = state["current"]["remaining"] + state["next"]["remaining"]
    assert buffered == 40 + state["next"]["step"]  # the rest of the first range and all of the second
    outage.down()
    try:
        served = [int(api.data("GET", f"{IDS}/get/down")) for _ in range(buffered)]
        assert served == list(range(before[-1] + 1, before[-1] + 1 + buffered))
        started = time.monotonic()
        resp = api.get(f"{IDS}/get/down")
        waited = time.monotonic() - started
        body = resp.get_json()
        assert resp.status_code == 503 and body["code"] == 503 and body["data"] is None
        assert "数据库" in body["msg"] and waited < 5, waited
        assert api.get(f"{IDS}/batch/down/3").status_code == 503
        assert "数据库" in (api.data("GET", f"{ADMIN}/cache")[0]["lastError"] or "")
    finally:
        outage.up()
    resumed = [int(api.data("GET", f"{IDS}/get/down")) for _ in range(5)]
    assert resumed == sorted(resumed) and min(resumed) > max(served)
    alloc.dispose()
    if outage.proxy:
        outage.proxy.down()
