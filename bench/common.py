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
            [sys.executable, "-m", "gunicorn", "--preload", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
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
        # generous: on a loaded machine a fresh worker may take long over its first answer (bcrypt, imports)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
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


# ---------------------------------------------------------------------------------------------
# Ceiling comparison and fast seeding (issue 12)


def ceiling_server(body: bytes, database_url: str, instance_dir: str, workers: int) -> Server:
    """The constant-JSON ceiling (bench/ceiling.py) answering `body`, same gunicorn settings."""
    fd, path = tempfile.mkstemp(prefix="pcloud-ceiling-", suffix=".json")
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
    return Server("bench.ceiling:app", database_url, instance_dir, workers, CEILING_BODY_FILE=path)


def measure(servers: dict[str, tuple[Server, dict[str, str]]], cases: dict[str, tuple[str, dict[str, Any]]],
            path: str, requests: int, rounds: int, concurrency: int) -> dict[str, float]:
    """Median requests/s per case over `rounds` rounds (after a warm-up of every case). `cases` maps a case
    to (server name, body); in each round every case runs once, in turn, so a load that comes and goes on
    the machine falls on every case (the ceiling included) rather than on one of them."""
    def one(name: str, total: int) -> float:
        server, headers = servers[cases[name][0]]
        body = cases[name][1]
        return throughput(server, lambda _i: ("POST", path, body, headers), total, concurrency)["rps"]

    for name in cases:
        one(name, 40)
    runs: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name in cases:
            runs[name].append(one(name, requests))
    return {name: statistics.median(r) for name, r in runs.items()}


def add_load_options(parser: Any) -> None:
    """The options every page bench shares: table sizes, load shape, the database."""
    parser.add_argument("--sizes", default="10000,1000000", help="row counts to seed and measure")
    parser.add_argument("--requests", type=int, default=300, help="calls per case per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="PostgreSQL URL (that database is recreated); default SQLite")


def page_against_ceiling(server: Server, path: str, cases: dict[str, dict[str, Any]], body_case: str,
                         database_url: str, instance_dir: str, args: Any) -> tuple[dict[str, float], float]:
    """Check every case answers, then measure them and the ceiling (a constant-JSON app answering the very
    body of `body_case` under the same gunicorn settings) in alternating rounds; both servers are stopped
    afterwards."""
    ceiling = None
    try:
        headers = {"Authorization": f"Bearer {sign_in(server)}"}
        for name, body in cases.items():
            status, data = server.request("POST", path, body, headers)
            assert status == 200, data
            parsed = json.loads(data)
            estimate = " (estimate)" if parsed.get("totalExact") is False else ""
            print(f"  {name}: total {parsed['total']}{estimate}")
        _, constant_body = server.request("POST", path, cases[body_case], headers)
        ceiling = ceiling_server(constant_body, database_url, instance_dir, args.workers)
        rps = measure({"ours": (server, headers), "ceiling": (ceiling, {})},
                      {**{name: ("ours", body) for name, body in cases.items()}, "ceiling": ("ceiling", {})},
                      path, args.requests, args.rounds, args.concurrency)
    finally:
        server.stop()
        if ceiling is not None:
            ceiling.stop()
    top = rps.pop("ceiling")
    return rps, top


def analyse(database_url: str) -> None:
    """The steady state of a live database: PostgreSQL's autovacuum (VACUUM ANALYZE); on SQLite the
    application's own statistics step (pcloud.core.dbstats), nothing a person would add."""
    from sqlalchemy import create_engine

    from pcloud.config import normalise_database_url
    from pcloud.core.dbstats import refresh_statistics

    engine = create_engine(normalise_database_url(database_url))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        refresh_statistics(engine)
    engine.dispose()


def seed_users_sql(database_url: str, count: int, dept_ids: tuple[int, int] | None = None) -> list[int]:
    """`count` users in one INSERT ... SELECT (recursive CTE on SQLite, generate_series on PostgreSQL),
    one or two of three new roles each, 2% disabled, created over the last ~400 days, spread over the
    department id range `dept_ids` (first, last) when given. Returns the three role ids."""
    import bcrypt
    from sqlalchemy import create_engine, insert, text

    import pcloud.models  # noqa: F401 - every mapper
    from pcloud.config import normalise_database_url
    from pcloud.core.timefmt import utcnow
    from pcloud.roles.models import Role

    engine = create_engine(normalise_database_url(database_url))
    pg = engine.dialect.name == "postgresql"
    now = utcnow().replace(microsecond=0)
    bench_hash = bcrypt.hashpw(b"bench-user", bcrypt.gensalt(4)).decode()  # nobody signs in as these
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    lo, hi = dept_ids or (0, 0)
    big = "i::bigint" if pg else "i"  # i * 7919 overflows PostgreSQL's int4 past 271,000
    dept = f"{lo} + ({big} * 7919) % {hi - lo + 1}" if dept_ids else "NULL"
    with engine.begin() as conn:
        role_ids = [conn.execute(insert(Role.__table__).values(name=f"bench-{c}", role_code=c, built_in=False)
                                 ).inserted_primary_key[0] for c in ("ROLE_SALES", "ROLE_DEV", "ROLE_HR")]
        first = conn.execute(text("SELECT coalesce(max(id), 0) FROM sys_user")).scalar() + 1
        rebuild = without_trigram_indexes(conn, "sys_user")
        if pg:
            sql = (f"INSERT INTO sys_user (id, phone, name, password_hash, state, dept_id, gmt_created_date, "
                   f"gmt_modified_date, gmt_created_name) SELECT {first} + i, '15' || lpad(i::text, 9, '0'), "
                   f"substr(:surnames, 1 + (i * 7) % 20, 1) || '员工' || i, :hash, "
                   f"CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END, {dept}, "
                   f"CAST(:now AS timestamp) - ((i::bigint * 7919) % 34560000) * interval '1 second', "
                   f"CAST(:now AS timestamp), 'bench' FROM generate_series(0, :n - 1) AS i")
        else:
            sql = (f"WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < :n - 1) "
                   f"INSERT INTO sys_user (id, phone, name, password_hash, state, dept_id, gmt_created_date, "
                   f"gmt_modified_date, gmt_created_name) SELECT {first} + i, printf('15%09d', i), "
                   f"substr(:surnames, 1 + (i * 7) % 20, 1) || '员工' || i, :hash, "
                   f"CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END, {dept}, "
                   f"datetime(:now, '-' || ((i * 7919) % 34560000) || ' seconds'), :now, 'bench' FROM s")
        conn.execute(text(sql), {"n": count, "hash": bench_hash, "now": now, "surnames": surnames})
        a, b, c = role_ids
        conn.execute(text(f"INSERT INTO sys_user_role (user_id, role_id) SELECT id, CASE id % 3 WHEN 0 THEN {a} "
                          f"WHEN 1 THEN {b} ELSE {c} END FROM sys_user WHERE id >= :first"), {"first": first})
        conn.execute(text(f"INSERT INTO sys_user_role (user_id, role_id) SELECT id, CASE id % 3 WHEN 0 THEN {b} "
                          f"WHEN 1 THEN {c} ELSE {a} END FROM sys_user WHERE id >= :first AND id % 2 = 0"),
                     {"first": first})
        if pg:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('sys_user', 'id'), (SELECT max(id) FROM "
                              "sys_user))"))
        rebuild()
    engine.dispose()
    return role_ids


def without_trigram_indexes(conn: Any, table: str) -> Any:
    """PostgreSQL: drop `table`'s pg_trgm GIN indexes and return a function that builds them again, so
    a bulk load builds each index once instead of updating it a million times (SQLite: no-op)."""
    from pcloud.core import search

    if conn.dialect.name != "postgresql":
        return lambda: None
    for sql in search.postgres_drop_sql(table):
        conn.exec_driver_sql(sql)
    return lambda: [conn.exec_driver_sql(sql) for sql in search.postgres_create_sql(table)]


def print_table(title: str, sizes: list[int], rps: dict[int, dict[str, float]], ceiling: dict[int, float],
                goals: dict[str, float]) -> None:
    """Requests/s per route at each size, the ratio of the largest size to the smallest (with its goal),
    and each route's fraction of the constant-JSON ceiling."""
    small, large = sizes[0], sizes[-1]
    print(f"\n{title}")
    head = "  route".ljust(26) + "".join(f"{s:>12,}" for s in sizes) + f"{'ratio':>9}  goal"
    print(head)
    for route in rps[small]:
        ratio = rps[large][route] / rps[small][route]
        goal = goals.get(route)
        verdict = "" if goal is None else (f">= {goal}  {'OK' if ratio >= goal else 'BELOW GOAL'}")
        print(f"  {route:24s}" + "".join(f"{rps[s][route]:12.1f}" for s in sizes) + f"{ratio:9.2f}  {verdict}")
    print(f"  {'ceiling (constant JSON)':24s}" + "".join(f"{ceiling[s]:12.1f}" for s in sizes))
    for route in rps[small]:
        print(f"  {route + ' / ceiling':24s}" + "".join(f"{rps[s][route] / ceiling[s]:12.2f}" for s in sizes))


def run_list_bench(what: str, run_size: Callable[[int, Any], tuple[dict[str, float], float]], args: Any,
                   goals: dict[str, float]) -> None:
    """Every size of `args.sizes` through `run_size`, then one table: requests/s per route and size, the
    ratio largest/smallest against `goals`, and each route against the ceiling."""
    sizes = [int(s) for s in args.sizes.split(",")]
    rps, ceiling = {}, {}
    for size in sizes:
        rps[size], ceiling[size] = run_size(size, args)
    db = "postgresql" if (args.database_url or "").startswith("postgres") else "sqlite"
    print_table(f"{what}, requests/s ({db}, gunicorn -w {args.workers}, concurrency {args.concurrency}, "
                f"median of {args.rounds} rounds x {args.requests})", sizes, rps, ceiling, goals)
