"""Measure the user page (POST /api/admin/system/user/page) at 10,000 and at 1,000,000 users, against
the ceiling: a constant-JSON Flask app (bench/ceiling.py) returning a body of the same size under the
same gunicorn settings. Never against "the same SQL": such a baseline cannot see a bad plan (issue 12).

    .venv/bin/python bench/user_page.py [--sizes 10000,1000000] [--database-url postgresql://...]

For each size: a fresh database made by `pcloud init`, users seeded in bulk (INSERT ... SELECT), the
application's own statistics step (PostgreSQL: VACUUM ANALYZE as autovacuum would), then requests/s for
the first page unfiltered, with the role filter, the state filter, a keyword filter and a two-character
name. Prints each route's requests/s per size, the ratio largest/smallest size with the goals of issue 12,
and each route against the ceiling. A PostgreSQL database named in --database-url is dropped and recreated per size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    Server,
    add_load_options,
    analyse,
    page_against_ceiling,
    prepare_database,
    run_list_bench,
    seed_users_sql,
)

PAGE = "/api/admin/system/user/page"
GOALS = {"first page": 0.9, "role filter": 0.9, "state filter": 0.9, "keyword filter": 0.5, "two-character name": 0.5}


def run_size(size: int, args: argparse.Namespace) -> tuple[dict[str, float], float]:
    url, instance = prepare_database(args.database_url)
    started = time.perf_counter()
    role_ids = seed_users_sql(url, size)
    analyse(url)
    print(f"{size:,} users seeded and analysed in {time.perf_counter() - started:.1f} s")
    cases = {"first page": {"page": 1, "pageSize": 10},
             "role filter": {"page": 1, "pageSize": 10, "roleIds": [role_ids[1]]},
             "state filter": {"page": 1, "pageSize": 10, "state": 1},
             "keyword filter": {"page": 1, "pageSize": 10, "keyword": "王员工1"},
             # too short for a trigram, and no seeded name holds it: before the name's grams, every user was read
             "two-character name": {"page": 1, "pageSize": 10, "keyword": "张伟"}}
    ours = Server("wsgi:app", url, instance, args.workers)
    return page_against_ceiling(ours, PAGE, cases, "first page", url, instance, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_options(parser)
    args = parser.parse_args()
    run_list_bench("user page", run_size, args, GOALS)


if __name__ == "__main__":
    main()
