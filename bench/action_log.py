"""Measure the operation log page (POST /api/admin/log/action/page) at 10,000 and at 1,000,000 rows,
against the constant-JSON ceiling (bench/ceiling.py, a body of the same size, same gunicorn settings).

    .venv/bin/python bench/action_log.py [--sizes 10000,1000000] [--database-url postgresql://...]

Rows are seeded in one INSERT ... SELECT (recursive CTE on SQLite, generate_series on PostgreSQL):
20 operators, 30 paths, spread over the last 170 days. Routes: the first page unfiltered, operator +
one day, a path keyword and a two-character operator name. A PostgreSQL database named in --database-url is dropped and
recreated per size.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    Server,
    add_load_options,
    analyse,
    page_against_ceiling,
    prepare_database,
    run_list_bench,
)

PAGE = "/api/admin/log/action/page"
GOALS = {"first page": 0.9, "operator + one day": 0.9, "keyword (path)": 0.5, "two-character operator": 0.5}
SPAN_SECONDS = 170 * 86400


def seed_log(database_url: str, count: int) -> str:
    """`count` rows; returns the `now` (UTC, naive) they were seeded back from."""
    from sqlalchemy import create_engine, text

    from pcloud.config import normalise_database_url
    from pcloud.core.timefmt import utcnow

    engine = create_engine(normalise_database_url(database_url))
    now = utcnow().replace(microsecond=0)
    cols = ("user_id, name, phone, title, method, path, params, status, msg, client_ip, os, browser, cost_ms, "
            "gmt_created_date")
    # Row i is (count - i) * span / count seconds old: ids grow with time, as the recorder writes them.
    step = f"(CAST({count} - i AS bigint) * {SPAN_SECONDS} / {count})"
    common = ("1000 + i % 20, '操作员' || (i % 20), '1390000' || (1000 + i % 20), '用户修改', 'PUT', "
              "'/api/admin/system/module' || (i % 30) || '/modify', '{\"id\": ' || i || '}', "
              "CASE WHEN i % 97 = 0 THEN 'fail' ELSE 'success' END, 'success', '10.0.0.' || (i % 250), "
              "'Linux', 'Chrome 120', i % 50")
    from bench.common import without_trigram_indexes

    with engine.begin() as conn:
        rebuild = without_trigram_indexes(conn, "sys_action_log")
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"INSERT INTO sys_action_log ({cols}) SELECT {common}, "
                              f"CAST(:now AS timestamp) - {step} * interval '1 second' "
                              f"FROM generate_series(0, :n - 1) AS i"), {"n": count, "now": now})
        else:
            conn.execute(text(f"WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < :n - 1) "
                              f"INSERT INTO sys_action_log ({cols}) SELECT {common}, "
                              f"datetime(:now, '-' || {step} || ' seconds') FROM s"), {"n": count, "now": now})
        rebuild()
    engine.dispose()
    return now


def run_size(size: int, args: argparse.Namespace) -> tuple[dict[str, float], float]:
    url, instance = prepare_database(args.database_url)
    started = time.perf_counter()
    now = seed_log(url, size)
    analyse(url)
    print(f"{size:,} log rows seeded and analysed in {time.perf_counter() - started:.1f} s")
    from pcloud.core.timefmt import display_local

    day_start = display_local(now - timedelta(days=3)).replace(" ", "T")[:19]
    day_end = display_local(now - timedelta(days=2)).replace(" ", "T")[:19]
    cases = {"first page": {"page": 1, "pageSize": 10},
             "operator + one day": {"page": 1, "pageSize": 10, "userId": 1007, "startTime": day_start,
                                    "endTime": day_end},
             "keyword (path)": {"page": 1, "pageSize": 10, "path": "module7/"},
             # too short for a trigram, and no seeded operator is named so: before the name's grams, every row was read
             "two-character operator": {"page": 1, "pageSize": 10, "name": "张伟"}}
    ours = Server("wsgi:app", url, instance, args.workers)
    return page_against_ceiling(ours, PAGE, cases, "first page", url, instance, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_options(parser)
    args = parser.parse_args()
    run_list_bench("operation log page", run_size, args, GOALS)


if __name__ == "__main__":
    main()
