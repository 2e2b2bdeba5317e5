"""The ID service against its baselines, each ratio measured in one run:

1. in-process: ids/s of the allocator (`Allocator.next_id`) against a bare `threading.Lock` + counter;
2. HTTP: `GET /api/integration/segment/get/{bizTag}` with an OPEN token under gunicorn, against a
   minimal Flask app returning a constant JSON under the same gunicorn settings; and ids/s of the
   batch route with count 1000 against the single route's ids/s;
3. the allocator against a naive one-UPDATE-per-id loop on the same database.

    .venv/bin/python bench/segment_ids.py [--ids 1000000] [--requests 5000] [--rounds 5] [--database-url URL]

A PostgreSQL database named in --database-url is dropped and recreated first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.common import Server, prepare_database, report, sign_in, throughput  # noqa: E402
from pcloud.config import normalise_database_url  # noqa: E402

TAG = "bench"
WORKERS = 2
CONCURRENCY = 4


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


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


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
    parser.add_argument("--requests", type=int, default=5000, help="single-id requests per side, over the rounds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--naive", type=int, default=3000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url, instance_dir = prepare_database(args.database_url)
    engine_url = normalise_database_url(url)
    print(f"database: {create_engine(engine_url).url.render_as_string(hide_password=True)}")

    server = Server("wsgi:app", url, instance_dir, workers=WORKERS)
    base = Server("bench.baseline_constant:app", url, instance_dir, workers=WORKERS)
    try:
        token = setup_open_account(server)
        auth = {"Authorization": f"Bearer {token}"}
        single_path = f"/api/integration/segment/get/{TAG}"
        throughput(server, lambda i: ("GET", single_path, None, auth), 200, CONCURRENCY)  # warm-up
        throughput(base, lambda i: ("GET", "/baseline/id", None, {}), 200, CONCURRENCY)
        # Alternating rounds, each pair a few seconds apart: a load that comes and goes on the machine
        # (another process) lands on both sides of a pair instead of on one whole side.
        ours_runs, base_runs, ratios = [], [], []
        per_round = max(200, args.requests // args.rounds)
        for _ in range(args.rounds):
            ours_runs.append(throughput(server, lambda i: ("GET", single_path, None, auth), per_round, CONCURRENCY))
            base_runs.append(throughput(base, lambda i: ("GET", "/baseline/id", None, {}), per_round, CONCURRENCY))
            ratios.append(ours_runs[-1]["rps"] / base_runs[-1]["rps"])
        ours, floor = median_run(ours_runs), median_run(base_runs)
        report(f"HTTP: GET get/{{bizTag}} with an OPEN token vs constant JSON "
               f"(gunicorn -w {WORKERS}, {CONCURRENCY} client threads, {args.rounds} alternating rounds "
               f"of {per_round}; medians)", ours, floor, 0.6)
        http_ratio = statistics.median(ratios)
        print(f"  per-round ratios {', '.join(f'{r:.2f}' for r in ratios)}; median {http_ratio:.2f}  "
              f"{'OK' if http_ratio >= 0.6 else 'BELOW GOAL'}")
        batch_path = f"/api/integration/segment/batch/{TAG}/1000"
        batches = max(50, args.requests // 10)
        batch = throughput(server, lambda i: ("GET", batch_path, None, auth), batches, CONCURRENCY)
        batch_ids, single_ids = batch["rps"] * 1000, ours["rps"]
        batch_ratio = batch_ids / single_ids
        print(f"\nHTTP: batch/{{bizTag}}/1000: {batch_ids:,.0f} ids/s ({batch['rps']:.1f} req/s, p50 "
              f"{batch['p50_ms']:.1f} ms) vs single route {single_ids:,.0f} ids/s")
        verdict = 'OK' if batch_ratio >= 100 else 'BELOW GOAL'
        print(f"  ratio batch/single = {batch_ratio:.0f}x  (goal >= 100x)  {verdict}")
    finally:
        server.stop()
        base.stop()

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
