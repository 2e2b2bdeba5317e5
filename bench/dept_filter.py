"""Benchmark: the user page filtered by a department near the root, against the same page unfiltered.

    .venv/bin/python bench/dept_filter.py                      # SQLite in a temporary directory
    .venv/bin/python bench/dept_filter.py --database-url postgresql://pcloud:pcloud@127.0.0.1:5432/pcloud_bench

Builds a fresh database (`pcloud init`, then 5,000 departments in a deep tree and 100,000 users,
inserted in bulk with one bcrypt hash shared by all), serves it with gunicorn on loopback, and sends
the same bounded number of `POST /api/admin/system/user/page` calls for each case, alternating the
cases round by round so drift hits both alike. Prints both throughputs and their ratio
(filtered / unfiltered; the goal is at least 0.7), plus the database's plan for the filtered query.
A PostgreSQL database named in --database-url is dropped and recreated first.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Server, prepare_database, sign_in, throughput  # noqa: E402

PAGE = "/api/admin/system/user/page"


# ---------------------------------------------------------------------------------------------- data


def level_sizes(total: int, depth: int) -> list[int]:
    """Level sizes of a tree `depth` levels deep holding `total` departments: 1 root, 4 divisions,
    then levels growing geometrically (the deep, bottom-heavy shape of a real organisation)."""
    sizes = [1, 4]
    weights = [1.45 ** i for i in range(depth - 2)]
    scale = (total - 5) / sum(weights)
    sizes += [max(1, int(w * scale)) for w in weights]
    sizes[-1] += total - sum(sizes)
    return sizes


def seed(database_url: str, depts: int, users: int, depth: int, rng_seed: int) -> dict[str, Any]:
    """Bulk rows on the schema `pcloud init` made. Returns facts about the tree for the report."""
    from sqlalchemy import create_engine, func, insert, select, text

    import pcloud.models  # noqa: F401 - every mapper, before the first query
    from pcloud.auth.passwords import _DUMMY
    from pcloud.config import normalise_database_url
    from pcloud.core.timefmt import utcnow
    from pcloud.depts.models import Dept, rebuild_dept_closure
    from pcloud.depts.service import subtree_ids_select
    from pcloud.users.models import User

    rng = random.Random(rng_seed)
    engine = create_engine(normalise_database_url(database_url))
    now = utcnow().replace(microsecond=0)
    started = time.perf_counter()

    # Departments level by level, each under a random department of the level above. Ids are
    # assigned here so the whole tree goes in as a few multi-row inserts.
    levels: list[list[int]] = []
    with engine.begin() as conn:
        next_id = (conn.execute(select(func.max(Dept.id))).scalar() or 0) + 1
        rows = []
        for level, size in enumerate(level_sizes(depts, depth)):
            ids = list(range(next_id, next_id + size))
            next_id += size
            for n, dept_id in enumerate(ids):
                rows.append({"id": dept_id, "parent_id": rng.choice(levels[-1]) if levels else 0,
                             "name": f"部门{level}-{n}", "sequence": n, "gmt_created_date": now,
                             "gmt_modified_date": now, "gmt_created_name": "bench"})
            levels.append(ids)
        for chunk in range(0, len(rows), 1000):
            conn.execute(insert(Dept.__table__), rows[chunk:chunk + 1000])
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('sys_dept', 'id'), :v)"), {"v": next_id})
        rebuild_dept_closure(conn)  # the bulk insert bypassed the ORM events that keep it

    # Users spread over every department, created over the last ~400 days. One bcrypt hash for all
    # (the module's dummy hash: nobody signs in as these users).
    all_depts = [d for level in levels for d in level]
    with engine.begin() as conn:
        for start in range(0, users, 5000):
            batch = []
            for n in range(start, min(start + 5000, users)):
                created = now - timedelta(seconds=rng.randrange(400 * 86400))
                batch.append({"phone": f"137{n:08d}", "name": f"用户{n}", "password_hash": _DUMMY, "state": 0,
                              "dept_id": rng.choice(all_depts), "gmt_created_date": created,
                              "gmt_modified_date": created, "gmt_created_name": "bench"})
            conn.execute(insert(User.__table__), batch)
    # The steady state autovacuum keeps a live database in: statistics, and a visibility map that lets
    # PostgreSQL count through an index without visiting every row.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"))
    built = time.perf_counter() - started

    # "Near the root": the division directly below the root holding the most users.
    best: dict[str, Any] = {}
    with engine.connect() as conn:
        for division in levels[1]:
            sub = select(subtree_ids_select(division).subquery().c.id)
            size = conn.execute(select(func.count()).select_from(sub.subquery())).scalar()
            members = conn.execute(select(func.count()).select_from(User).where(
                User.dept_id.in_(sub), User.deleted_at.is_(None))).scalar()
            if not best or members > best["members"]:
                best = {"dept_id": division, "subtree": size, "members": members}
    engine.dispose()
    return {**best, "levels": len(levels), "build_seconds": built}


def explain(database_url: str, dept_id: int) -> str:
    """The database's plan for the filtered page query, built by the same code the app runs."""
    from sqlalchemy import create_engine, text

    from pcloud.config import normalise_database_url
    from pcloud.users.models import User
    from pcloud.users.service import filtered_select

    engine = create_engine(normalise_database_url(database_url))
    stmt = filtered_select({"dept_id": dept_id}).order_by(User.gmt_created_date.desc(), User.id.desc()).limit(10)
    sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            lines = [str(row[-1]) for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql))]
        else:
            lines = [row[0] for row in conn.execute(text("EXPLAIN ANALYZE " + sql))]
    engine.dispose()
    return "\n".join("    " + line for line in lines)


# ---------------------------------------------------------------------------------------------- load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (that database is recreated); default SQLite")
    parser.add_argument("--depts", type=int, default=5000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=12, help="levels of the department tree")
    parser.add_argument("--requests", type=int, default=400, help="calls per case per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    database_url, instance_dir = prepare_database(args.database_url)
    print(f"database: {database_url.rsplit('@', 1)[-1]}")
    facts = seed(database_url, args.depts, args.users, args.depth, args.seed)
    print(f"seeded {args.depts} departments ({facts['levels']} levels) and {args.users} users "
          f"in {facts['build_seconds']:.1f} s")
    print(f"filter: department {facts['dept_id']}, directly below the root: {facts['subtree']} departments "
          f"in its subtree, {facts['members']} users")
    print("plan of the filtered page query:")
    print(explain(database_url, facts["dept_id"]))

    server = Server("wsgi:app", database_url, instance_dir, workers=args.workers)
    try:
        headers = {"Authorization": f"Bearer {sign_in(server)}"}
        cases = {"unfiltered": {"page": 1, "pageSize": 10},
                 "filtered": {"page": 1, "pageSize": 10, "deptId": facts["dept_id"]}}
        totals = {}
        for name, body in cases.items():
            status, data = server.request("POST", PAGE, body, headers)
            assert status == 200, data
            totals[name] = json.loads(data)["total"]
        assert totals["filtered"] == facts["members"], totals
        for body in cases.values():  # warm both code paths in every worker
            throughput(server, lambda _i, b=body: ("POST", PAGE, b, headers), 20 * args.workers, args.concurrency)
        results: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, body in cases.items():
                results[name].append(throughput(server, lambda _i, b=body: ("POST", PAGE, b, headers),
                                                args.requests, args.concurrency))
    finally:
        server.stop()

    print(f"\ngunicorn workers {args.workers}, concurrency {args.concurrency}, "
          f"{args.rounds} rounds x {args.requests} calls per case (median of the rounds)")
    rps = {}
    for name, runs in results.items():
        rps[name] = statistics.median(r["rps"] for r in runs)
        p50 = statistics.median(r["p50_ms"] for r in runs)
        p95 = statistics.median(r["p95_ms"] for r in runs)
        print(f"  {name:10s} (total {totals[name]:6d}): {rps[name]:7.1f} req/s   p50 {p50:6.1f} ms   "
              f"p95 {p95:6.1f} ms   rounds " + ", ".join(f"{r['rps']:.1f}" for r in runs))
    ratio = rps["filtered"] / rps["unfiltered"]
    print(f"  ratio filtered/unfiltered = {ratio:.2f}  (goal >= 0.7)  {'OK' if ratio >= 0.7 else 'BELOW GOAL'}")


if __name__ == "__main__":
    main()
