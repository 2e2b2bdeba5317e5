"""Shared bench plumbing: a database built by `pcloud init`, gunicorn servers, a bounded HTTP load loop.

Every request goes to 127.0.0.1 only, in a fixed count per run.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PHONE = "13800000000"
ADMIN_PASSWORD = "Bench12345"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(database_url: str, instance_dir: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "PCLOUD_INSTANCE_DIR": instance_dir,
            "PCLOUD_SECRET_KEY": "bench", "PCLOUD_ADMIN_PASSWORD": ADMIN_PASSWORD, **extra}


def recreate_postgres(url: str) -> None:
    """Drop and create the named PostgreSQL database, so a bench never measures a previous run's rows."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from pcloud.config import normalise_database_url

    parsed = make_url(normalise_database_url(url))
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def prepare_database(database_url: str | None) -> tuple[str, str]:
    """(database URL, instance dir): a fresh SQLite file, or the named PostgreSQL database dropped and
    created anew; the schema via `pcloud init`."""
    instance_dir = tempfile.mkdtemp(prefix="pcloud-bench-")
    if database_url and database_url.startswith("postgres"):
        recreate_postgres(database_url)
    url = database_url or f"sqlite:///{instance_dir}/bench.db"
    subprocess.run([str(Path(sys.executable).parent / "pcloud"), "init"],
                   cwd=ROOT, env=bench_env(url, instance_dir), check=True, stdout=subprocess.DEVNULL)
    return url, instance_dir


class Server:
    def __init__(self, app: str, database_url: str, instance_dir: str, workers: int = 2, **env: str):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
             "--log-level", "warning", app],
            cwd=ROOT, env=bench_env(database_url, instance_dir, **env))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{app} did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
                ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data


def sign_in(server: Server) -> str:
    status, data = server.request("POST", "/api/oauth/token", {"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD,
                                                               "grantType": "ADMIN"})
    assert status == 200, data
    return json.loads(data)["data"]["token"]


def throughput(server: Server, make_request: Callable[[int], tuple[str, str, Any, dict[str, str]]],
               total: int, concurrency: int = 4, check: Callable[[int, bytes], None] | None = None
               ) -> dict[str, float]:
    """Send `total` requests from `concurrency` threads; requests/s and latency percentiles."""
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(total))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            method, path, body, headers = make_request(i)
            started = time.perf_counter()
            status, data = server.request(method, path, body, headers)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
            if status != 200:
                errors.append(f"{status} {data[:200]!r}")
            elif check:
                check(i, data)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, first: {errors[0]}")
    latencies.sort()
    return {"rps": total / wall, "p50_ms": statistics.median(latencies) * 1000,
            "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000}


def report(title: str, ours: dict[str, float], base: dict[str, float], goal: float) -> float:
    ratio = ours["rps"] / base["rps"]
    print(f"\n{title}")
    print(f"  PCloud:   {ours['rps']:8.1f} req/s   p50 {ours['p50_ms']:6.1f} ms   p95 {ours['p95_ms']:6.1f} ms")
    print(f"  baseline: {base['rps']:8.1f} req/s   p50 {base['p50_ms']:6.1f} ms   p95 {base['p95_ms']:6.1f} ms")
    print(f"  ratio PCloud/baseline = {ratio:.2f}  (goal >= {goal})  {'OK' if ratio >= goal else 'BELOW GOAL'}")
    return ratio
