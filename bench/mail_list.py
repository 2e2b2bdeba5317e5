"""The 站内信 list (POST /api/integration/admin/mail/page) at two sizes under wrk, filtered by a title that matches
nothing and by one that matches about 1% of the mail, with the unfiltered first page as the control; the harness
of bench/user_page_wrk.py (gunicorn -w 2, alternating rounds, two checkouts in the same run).

    .venv/bin/python bench/mail_list.py --seed sqlite:////tmp/mail10k.db=10000 --seed sqlite:////tmp/mail300k.db=300000
    .venv/bin/python bench/mail_list.py --db small=sqlite:////tmp/mail10k.db --db large=sqlite:////tmp/mail300k.db \\
        --code before=/path/to/a/checkout/of/the/commit/before --code after=. [--connections 16] [--seconds 10]

    .venv/bin/python bench/mail_list.py --db small=... --db large=... --in-process [--code before=DIR] [--calls 50]

`--in-process`: the page's service (`mail.service.page_mail`, no HTTP, no gunicorn) of one checkout (the first
`--code`, default this one) on each database, in alternating rounds: per case and database the p50 / p99 wall time
of a call and its median CPU time (on SQLite all the work is in process: the steadier figure on a shared machine).

`--seed URL=N`: `pcloud init`, 1,000 bench users, then N mail in one INSERT ... SELECT (a PostgreSQL database is
dropped and created anew; its trigram indexes are built once after the load), then the statistics step. Mail i
is titled 关于项目NN的通知（第i号） with NN = i mod 100, so 项目37的 matches 1% of the mail and 无此标题 none;
sent by a user (or, one in five, by the system) to one of the users, created over the last 170 days in id order,
half of them read, 1% deleted. The ratio printed is each size's requests/s over the first database's (the same
route on the smaller table), per checkout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ROOT,
    analyse,
    prepare_database,
    seed_users_sql,
    without_trigram_indexes,
)
from bench.user_page_wrk import add_wrk_options, run_rounds  # noqa: E402

PAGE = "/api/integration/admin/mail/page"
SPAN_SECONDS = 170 * 86400
USERS = 1000
NOTHING, ONE_PERCENT = "无此标题", "项目37的"
CASES = {"first page": {"page": 1, "pageSize": 10},
         "title: none": {"page": 1, "pageSize": 10, "name": NOTHING},
         "title: 1%": {"page": 1, "pageSize": 10, "name": ONE_PERCENT}}


def seed_mail(database_url: str, count: int) -> None:
    """`count` mail among the users already there (see the module's docstring)."""
    from sqlalchemy import create_engine, text

    from pcloud.config import normalise_database_url
    from pcloud.core.timefmt import utcnow

    engine = create_engine(normalise_database_url(database_url))
    pg = engine.dialect.name == "postgresql"
    now = utcnow().replace(microsecond=0)
    cols = ("sender_id, recipient_id, name, description, read_at, gmt_created_date, gmt_modified_date, "
            "gmt_created_name, deleted_at")
    nn = "lpad((i % 100)::text, 2, '0')" if pg else "printf('%02d', i % 100)"
    big = "CAST(i AS bigint)" if pg else "i"
    created = (f"CAST(:now AS timestamp) - (CAST(:n - i AS bigint) * {SPAN_SECONDS} / :n) * interval '1 second'"
               if pg else f"datetime(:now, '-' || ((:n - i) * {SPAN_SECONDS} / :n) || ' seconds')")
    values = (f"CASE WHEN i % 5 = 0 THEN NULL ELSE :lo + ({big} * 7919) % :users END, :lo + ({big} * 104729) % :users, "
              f"'关于项目' || {nn} || '的通知（第' || i || '号）', '请查收第' || i || '号通知的附件。', "
              f"CASE WHEN i % 2 = 0 THEN {created} END, {created}, {created}, 'bench', "
              f"CASE WHEN i % 100 = 99 THEN {created} END")
    with engine.begin() as conn:
        lo, hi = conn.execute(text("SELECT min(id), max(id) FROM sys_user")).one()
        params = {"n": count, "now": now, "lo": lo, "users": hi - lo + 1}
        rebuild = without_trigram_indexes(conn, "sys_mail")
        if pg:
            conn.execute(text(f"INSERT INTO sys_mail ({cols}) SELECT {values} FROM generate_series(0, :n - 1) AS i"),
                         params)
        else:  # the FTS table follows through sys_mail's triggers (migration 0033)
            conn.execute(text(f"WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < :n - 1) "
                              f"INSERT INTO sys_mail ({cols}) SELECT {values} FROM s"), params)
        rebuild()
    engine.dispose()


def seed(url: str, count: int) -> None:
    prepare_database(url)  # a fresh schema: the PostgreSQL database recreated, `pcloud init`
    started = time.perf_counter()
    seed_users_sql(url, USERS)
    seed_mail(url, count)
    analyse(url)
    print(f"{url}: {count:,} mail seeded and analysed in {time.perf_counter() - started:.1f} s")


def check(name: str, page: dict[str, Any]) -> None:
    """Each case answers what it is meant to: the keyword's mail and only those."""
    titles = [row["name"] for row in page["data"]]
    if name == "title: none":
        assert page["total"] == 0 and not titles, page
    else:
        assert len(titles) == 10, page
        assert name == "first page" or all(ONE_PERCENT in t for t in titles), titles


SERVICE_CASES = {name: {"name": body["name"]} if "name" in body else {} for name, body in CASES.items()}


def in_process(args: argparse.Namespace) -> None:
    """See the module's docstring: every call timed, the databases in alternating rounds."""
    import os
    import statistics

    codes = [spec.split("=", 1) for spec in args.code] or [("this", str(ROOT))]
    code_name, code_dir = codes[0]
    sys.path.insert(0, str(Path(code_dir).resolve()))  # that checkout's pcloud (the bench's own modules stay)
    import pcloud.models  # noqa: F401 - every mapper, before the service's aliases of User
    from pcloud import create_app
    from pcloud.extensions import db
    from pcloud.mail import service

    dbs = dict(spec.split("=", 1) for spec in args.db)
    apps = {name: create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True}) for name, url in dbs.items()}
    wall: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    for round_no in range(args.rounds):
        for db_name in (list(apps) if round_no % 2 == 0 else list(reversed(apps))):
            with apps[db_name].app_context():
                for case, filters in SERVICE_CASES.items():
                    service.page_mail(filters, 1, 10)  # warm
                    for _ in range(args.calls):
                        started, cpu_started = time.perf_counter(), time.process_time()
                        service.page_mail(filters, 1, 10)
                        wall.setdefault((case, db_name), []).append(time.perf_counter() - started)
                        cpu.setdefault((case, db_name), []).append(time.process_time() - cpu_started)
                    db.session.remove()
    first = next(iter(dbs))
    print(f"{code_name} in process, load average {os.getloadavg()[0]:.1f}; ms per call over {args.rounds} rounds x "
          f"{args.calls}; ratio: p50 of {first} / p50 of the database")
    for case in SERVICE_CASES:
        for db_name in dbs:
            times = sorted(wall[(case, db_name)])
            p50, p99 = statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000
            base = statistics.median(wall[(case, first)]) * 1000
            print(f"  {case:12} {db_name:8} p50 {p50:7.2f}  p99 {p99:7.2f}  cpu p50 "
                  f"{statistics.median(cpu[(case, db_name)]) * 1000:7.2f}  ratio {base / p50:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", action="append", default=[], help="URL=N: make a database of N mail")
    add_wrk_options(parser)
    parser.add_argument("--in-process", action="store_true", help="time the service in process instead")
    parser.add_argument("--calls", type=int, default=50, help="--in-process: calls per case, database and round")
    args = parser.parse_args()
    for spec in args.seed:
        url, count = spec.rsplit("=", 1)
        seed(url, int(count))
    if args.db and args.in_process:
        in_process(args)
    elif args.db:
        run_rounds(args, PAGE, lambda _server, _token: CASES, check)


if __name__ == "__main__":
    main()
