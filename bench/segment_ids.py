"""The ID service against its baselines, each ratio measured in one run:

1. in-process: ids/s of the allocator (`Allocator.next_id`) against a bare `threading.Lock` + counter;
2. HTTP: `GET /api/integration/segment/get/{bizTag}` with an OPEN token under gunicorn -w 2, against the
   ceiling (bench/ceiling.py: a Flask app answering the same bytes as constant JSON, same gunicorn
   settings); and ids/s of the batch route with count 1000 against the single route's ids/s;
3. the allocator against a naive one-UPDATE-per-id loop on the same database.

The HTTP load comes from wrk (Debian's /usr/bin/wrk), not from Python: the benches' own Python client
saturates near 2,400 req/s, below what the ceiling serves (5,000-6,000), so it would hide the ceiling and
flatter every ratio. `--compare DIR` also serves the route from another checkout of PCloud (e.g.
`git archive main | tar -x -C DIR`) on the same database, in the same alternating rounds.

    .venv/bin/python bench/segment_ids.py [--ids 1000000] [--seconds 5] [--rounds 5] [--connections 16]
        [--compare DIR] [--database-url URL]

A PostgreSQL database named in --database-url is dropped and recreated first.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.common import Server, ceiling_server, prepare_database, sign_in  # noqa: E402
from pcloud.config import normalise_database_url  # noqa: E402

TAG = "bench"
WORKERS = 2
GOAL = 0.5


def lock_counter(n: int) -> float:
    lock = threading.Lock()
    state = [0]

    def next_id() -> int:
        with lock:
            state[0] += 1
            return state[0]

    started = time.perf_counter()
    for _ in range(n):
        next_id()
    return n / (time.perf_counter() - started)


def allocator_rate(url: str, n: int) -> float:
    from pcloud.segments.allocator import Allocator

    alloc = Allocator(url)
    alloc.next_id(TAG)  # first range: the steady state is what is measured
    next_id = alloc.next_id
    started = time.perf_counter()
    for _ in range(n):
        next_id(TAG)
    rate = n / (time.perf_counter() - started)
    alloc.dispose()
    return rate


def naive_rate(url: str, n: int) -> float:
    """One UPDATE ... RETURNING per id, each in its own transaction (BEGIN IMMEDIATE on SQLite)."""
    engine = create_engine(url)
    stmt = text("UPDATE sys_segment SET max_id = max_id + 1 WHERE biz_tag = :tag RETURNING max_id")
    started = time.perf_counter()
    with engine.connect() as conn:
        for _ in range(n):
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.execute(stmt, {"tag": TAG}).scalar_one()
            conn.commit()
    rate = n / (time.perf_counter() - started)
    engine.dispose()
    return rate


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(server: Server, path: str, headers: dict[str, str], seconds: int, connections: int) -> dict[str, float]:
    """requests/s and latency percentiles of `path` under wrk; every answer must be a 2xx."""
    command = [shutil.which("wrk") or "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, f"http://127.0.0.1:{server.port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert bad is None, f"{path}: {bad.group(1)} answers were not 2xx\n{out}"
    found = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "99"):
        value, unit = re.search(rf"\b{pct}%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
        found[f"p{pct}_ms"] = float(value) * _UNIT_MS[unit]
    return found


def call(server: Server, method: str, path: str, body: Any, token: str) -> Any:
    status, data = server.request(method, path, body, {"Authorization": f"Bearer {token}"})
    assert status == 200, data
    return json.loads(data)["data"]


def setup_open_account(server: Server) -> str:
    admin = sign_in(server)
    call(server, "POST", "/api/integration/admin/segment/create", {"bizTag": TAG, "step": 1000}, admin)
    acct = call(server, "POST", "/api/open/admin/account/create", {"name": "bench"}, admin)
    entries = [e["id"] for e in call(server, "POST", "/api/open/admin/resource/list", {}, admin)
               if e["resourceUrl"].startswith("/api/integration/segment/")]
    call(server, "POST", "/api/open/admin/resource/grant", {"accountId": acct["id"], "resourceIds": entries}, admin)
    status, data = server.request("POST", "/api/oauth/token", {"grantType": "OPEN", "secureId": acct["secureId"],
                                                               "secureKey": acct["secureKey"]})
    assert status == 200, data
    return json.loads(data)["data"]["token"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ids", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=5, help="wrk's duration per side per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--naive", type=int, default=3000)
    parser.add_argument("--compare", help="another PCloud checkout to serve the same route in the same rounds")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url, instance_dir = prepare_database(args.database_url)
    engine_url = normalise_database_url(url)
    print(f"database: {create_engine(engine_url).url.render_as_string(hide_password=True)}")

    single_path = f"/api/integration/segment/get/{TAG}"
    servers = {"PCloud": Server("wsgi:app", url, instance_dir, workers=WORKERS)}
    try:
        token = setup_open_account(servers["PCloud"])
        auth = {"Authorization": f"Bearer {token}"}
        status, body = servers["PCloud"].request("GET", single_path, None, auth)
        assert status == 200, body
        servers["ceiling"] = ceiling_server(body, url, instance_dir, WORKERS)
        if args.compare:  # gunicorn --chdir: that checkout's `pcloud` package comes first on sys.path
            servers["compared"] = Server("wsgi:app", url, instance_dir, workers=WORKERS,
                                         GUNICORN_CMD_ARGS=f"--chdir {Path(args.compare).resolve()}")
        headers = {name: ({} if name == "ceiling" else auth) for name in servers}
        for name, server in servers.items():  # warm-up
            wrk(server, single_path, headers[name], 1, args.connections)
        # Alternating rounds: a load that comes and goes on the machine (another process) lands on every
        # side of a round instead of on one whole side.
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
        for _ in range(args.rounds):
            for name, server in servers.items():
                runs[name].append(wrk(server, single_path, headers[name], args.seconds, args.connections))
        print(f"\nHTTP: GET get/{{bizTag}} with an OPEN token vs the constant-JSON ceiling (wrk, "
              f"{args.connections} connections, gunicorn -w {WORKERS}, {args.rounds} alternating rounds of "
              f"{args.seconds:g} s; medians)")
        ratios: dict[str, float] = {}
        for name, results in runs.items():
            rps = statistics.median(r["rps"] for r in results)
            per_round = [r["rps"] / c["rps"] for r, c in zip(results, runs["ceiling"], strict=True)]
            ratios[name] = statistics.median(per_round)
            print(f"  {name:9} {rps:8.0f} req/s  p50 {statistics.median(r['p50_ms'] for r in results):5.1f} ms  "
                  f"p99 {statistics.median(r['p99_ms'] for r in results):5.1f} ms  of the ceiling "
                  f"{ratios[name]:.2f} (rounds {', '.join(f'{x:.2f}' for x in per_round)})")
        http_ratio = ratios["PCloud"]
        print(f"  PCloud/ceiling {http_ratio:.2f}  (goal >= {GOAL})  {'OK' if http_ratio >= GOAL else 'BELOW GOAL'}")
        batch = wrk(servers["PCloud"], f"/api/integration/segment/batch/{TAG}/1000", auth, args.seconds,
                    args.connections)
        batch_ids, single_ids = batch["rps"] * 1000, statistics.median(r["rps"] for r in runs["PCloud"])
        batch_ratio = batch_ids / single_ids
        print(f"\nHTTP: batch/{{bizTag}}/1000: {batch_ids:,.0f} ids/s ({batch['rps']:.1f} req/s, p50 "
              f"{batch['p50_ms']:.1f} ms) vs single route {single_ids:,.0f} ids/s")
        verdict = 'OK' if batch_ratio >= 100 else 'BELOW GOAL'
        print(f"  ratio batch/single = {batch_ratio:.0f}x  (goal >= 100x)  {verdict}")
    finally:
        for server in servers.values():
            server.stop()

    lock_ids = lock_counter(args.ids)
    ours_ids = allocator_rate(engine_url, args.ids)
    ratio = ours_ids / lock_ids
    print(f"\nin-process: Allocator.next_id {ours_ids:,.0f} ids/s vs threading.Lock + counter {lock_ids:,.0f} ids/s")
    print(f"  ratio allocator/lock = {ratio:.2f}  (goal >= 0.5)  {'OK' if ratio >= 0.5 else 'BELOW GOAL'}")
    naive = naive_rate(engine_url, args.naive)
    print(f"\nnaive one-UPDATE-per-id: {naive:,.0f} ids/s on the same database; "
          f"the allocator is {ours_ids / naive:,.0f}x faster")
    print(f"\nsummary: in-process {ratio:.2f}, HTTP {http_ratio:.2f}, batch {batch_ratio:.0f}x, "
          f"naive speed-up {ours_ids / naive:,.0f}x")


if __name__ == "__main__":
    main()
