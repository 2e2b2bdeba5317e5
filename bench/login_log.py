"""Measure the login log page (POST /api/admin/log/login/page) at 10,000 and at 1,000,000 rows, against
the constant-JSON ceiling, as bench/action_log.py measures the operation log (issue 22.8: the same figure).

    .venv/bin/python bench/login_log.py [--sizes 10000,1000000] [--database-url postgresql://...]

Rows are seeded in one INSERT ... SELECT: 2,000 phones, 250 addresses, one attempt in 7 a failure, spread
over the last 170 days. Routes: the first page unfiltered, failures of one day, one address (the unlock's
question), and a phone (contains).
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

PAGE = "/api/admin/log/login/page"
GOALS = {"first page": 0.9, "failures of one day": 0.9, "one address": 0.9, "phone (contains)": 0.5}
SPAN_SECONDS = 170 * 86400


def seed_log(database_url: str, count: int) -> str:
    """`count` rows; returns the `now` (UTC, naive) they were seeded back from."""
    from sqlalchemy import create_engine, text

    from pcloud.config import normalise_database_url
    from pcloud.core.timefmt import utcnow

    engine = create_engine(normalise_database_url(database_url))
    now = utcnow().replace(microsecond=0)
    cols = "event, grant_type, result, reason, phone, user_id, client_ip, user_agent, browser, os, signed_in_at"
    step = f"(CAST({count} - i AS bigint) * {SPAN_SECONDS} / {count})"
    common = ("'login', CASE WHEN i % 5 = 0 THEN 'SMS' ELSE 'ADMIN' END, CASE WHEN i % 7 = 0 THEN 1 ELSE 0 END, "
              "CASE WHEN i % 7 = 0 THEN '手机号或密码错误' ELSE '登录成功' END, '1390000' || (1000 + i % 2000), "
              "CASE WHEN i % 7 = 0 THEN NULL ELSE 1000 + i % 2000 END, '10.0.' || (i % 250) || '.1', "
              "'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.0.0', 'Chrome 120.0.0', 'Windows 10'")
    with engine.begin() as conn:  # the distinct phones follow through sys_login_log's triggers (migration 0025)
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"INSERT INTO sys_login_log ({cols}) SELECT {common}, "
                              f"CAST(:now AS timestamp) - {step} * interval '1 second' "
                              f"FROM generate_series(0, :n - 1) AS i"), {"n": count, "now": now})
        else:
            conn.execute(text(f"WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < :n - 1) "
                              f"INSERT INTO sys_login_log ({cols}) SELECT {common}, "
                              f"datetime(:now, '-' || {step} || ' seconds') FROM s"), {"n": count, "now": now})
    engine.dispose()
    return now


def run_size(size: int, args: argparse.Namespace) -> tuple[dict[str, float], float]:
    url, instance = prepare_database(args.database_url)
    started = time.perf_counter()
    now = seed_log(url, size)
    analyse(url)
    print(f"{size:,} login rows seeded and analysed in {time.perf_counter() - started:.1f} s")
    from pcloud.core.timefmt import display_local

    day_start = display_local(now - timedelta(days=3)).replace(" ", "T")[:19]
    day_end = display_local(now - timedelta(days=2)).replace(" ", "T")[:19]
    cases = {"first page": {"page": 1, "pageSize": 10},
             "failures of one day": {"page": 1, "pageSize": 10, "result": 1, "startTime": day_start,
                                     "endTime": day_end},
             "one address": {"page": 1, "pageSize": 10, "clientIp": "10.0.7.1"},
             "phone (contains)": {"page": 1, "pageSize": 10, "phone": "13900001007"}}
    ours = Server("wsgi:app", url, instance, args.workers)
    return page_against_ceiling(ours, PAGE, cases, "first page", url, instance, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_options(parser)
    args = parser.parse_args()
    run_list_bench("login log page", run_size, args, GOALS)


if __name__ == "__main__":
    main()
