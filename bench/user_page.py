"""Measure the user page (POST /api/admin/system/user/page) at 10,000 and at 1,000,000 users, against
the ceiling: a constant-JSON Flask app (bench/ceiling.py) returning a body of the same size under the
same gunicorn settings. Never against "the same SQL": such a baseline cannot see a bad plan (issue 12).

    .venv/bin/python bench/user_page.py [--sizes 10000,1000000] [--database-url postgresql://...]

For each size: a fresh database made by `pcloud init`, users seeded in bulk (INSERT ... SELECT), the
application's own statistics step (PostgreSQL: VACUUM ANALYZE as autovacuum would), then requests/s for
the first page unfiltered, with the role filter, the state filter and a keyword filter. Prints each
route's requests/s per size, the ratio largest/smallest size with the goals of issue 12, and each route
against the ceiling. A PostgreSQL database named in --database-url is dropped and recreated per size.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    Server,
    analyse,
    ceiling_server,
    measure,
    prepare_database,
    print_table,
    seed_users_sql,
    sign_in,
)

PAGE = "/api/admin/system/user/page"
GOALS = {"first page": 0.9, "role filter": 0.9, "state filter": 0.9, "keyword filter": 0.5}


def run_size(size: int, args: argparse.Namespace) -> tuple[dict[str, float], float]:
    url, instance = prepare_database(args.database_url)
    started = time.perf_counter()
    role_ids = seed_users_sql(url, size)
    analyse(url)
    print(f"{size:,} users seeded and analysed in {time.perf_counter() - started:.1f} s")
    cases = {"first page": {"page": 1, "pageSize": 10},
             "role filter": {"page": 1, "pageSize": 10, "roleIds": [role_ids[1]]},
             "state filter": {"page": 1, "pageSize": 10, "state": 1},
             "keyword filter": {"page": 1, "pageSize": 10, "keyword": "王员工1"}}
    ours = Server("wsgi:app", url, instance, args.workers)
    try:
        headers = {"Authorization": f"Bearer {sign_in(ours)}"}
        for name, body in cases.items():
            status, data = ours.request("POST", PAGE, body, headers)
            assert status == 200, data
            parsed = json.loads(data)
            print(f"  {name}: total {parsed['total']}{' (estimate)' if parsed.get('totalExact') is False else ''}")
        _, first_body = ours.request("POST", PAGE, cases["first page"], headers)
        rps = measure(ours, cases, lambda _n: PAGE, headers, args.requests, args.rounds, args.concurrency)
    finally:
        ours.stop()
    ceiling = ceiling_server(first_body, url, instance, args.workers)
    try:
        top = measure(ceiling, {"ceiling": {}}, lambda _n: PAGE, {}, args.requests, args.rounds,
                      args.concurrency)["ceiling"]
    finally:
        ceiling.stop()
    return rps, top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--requests", type=int, default=300, help="calls per route per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rps, ceiling = {}, {}
    for size in sizes:
        rps[size], ceiling[size] = run_size(size, args)
    db = "postgresql" if (args.database_url or "").startswith("postgres") else "sqlite"
    print_table(f"user page, requests/s ({db}, gunicorn -w {args.workers}, concurrency {args.concurrency}, "
                f"median of {args.rounds} rounds x {args.requests})", sizes, rps, ceiling, GOALS)


if __name__ == "__main__":
    main()
