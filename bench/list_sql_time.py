"""Where a user page's time goes in the database: each statement `page_users` (the page and the API) runs,
min of N, in process.

    .venv/bin/python bench/list_sql_time.py DATABASE_URL [--dept-id 2] [--repeat 40] [--explain]

Run it on a database a list bench left behind (bench/user_page.py, bench/dept_filter.py seed one per
size). Minima of many runs hardly move with the load of a shared machine, unlike requests/s, so the
same cases at 10,000 and 1,000,000 users show which statement grows with the table. `--explain`
prints PostgreSQL's EXPLAIN ANALYZE (SQLite: EXPLAIN QUERY PLAN) of each statement.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from sqlalchemy import event, text

    from pcloud import create_app
    from pcloud.core.dbstats import captured_selects, plan
    from pcloud.extensions import db
    from pcloud.users.service import page_users

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--dept-id", type=int, help="the department filter's department (dept_filter.py prints it)")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "SECRET_KEY": "bench"})
    with app.app_context():
        bench_roles = sorted(db.session.execute(text(
            "SELECT id FROM sys_role WHERE name LIKE 'bench-%' ORDER BY id")).scalars())
        cases: dict[str, dict[str, Any]] = {"first page": {}, "state filter": {"state": 1},
                                            "keyword filter": {"keyword": "王员工1"}}
        if bench_roles:
            cases["role filter"] = {"role_ids": [bench_roles[1]]}  # the one bench/user_page.py filters by
        if args.dept_id:
            cases["department filter"] = {"dept_id": args.dept_id}
        timings: dict[tuple[str, str], list[float]] = defaultdict(list)
        current: dict[str, Any] = {}

        def before(_c: Any, _cur: Any, _stmt: str, _p: Any, _ctx: Any, _many: bool) -> None:
            current["t"] = time.perf_counter()

        def after(_c: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, _many: bool) -> None:
            key = (current["case"], " ".join(statement.split())[:110])
            timings[key].append((time.perf_counter() - current["t"]) * 1000)

        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        for name, filters in cases.items():
            current["case"] = name
            totals = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                result = page_users(dict(filters), 1, 10)
                db.session.remove()
                totals.append((time.perf_counter() - started) * 1000)
            exact = "" if result.total_exact else " (estimate)"
            print(f"{name}: total {result.total}{exact}; page_users min {min(totals):.2f} ms")
            for (case, sql), spent in timings.items():
                if case == name:
                    print(f"  {min(spent):7.2f} ms  {sql}")
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
        if args.explain:
            for name, filters in cases.items():
                with captured_selects(db.engine) as seen:
                    page_users(dict(filters), 1, 10)
                db.session.remove()
                print(f"\n{name}")
                for sql, params in seen:
                    if "sys_user" in sql and "pg_class" not in sql and "sqlite_" not in sql:
                        print("  " + " ".join(sql.split())[:110])
                        for step in plan(db.engine, sql, params, analyse=True):
                            print("      " + step)


if __name__ == "__main__":
    main()
