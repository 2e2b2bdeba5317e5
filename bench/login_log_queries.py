"""The login-log page's database work in process (`loginlog.service.page_logins`, no HTTP, no gunicorn) at
10,000 and at 1,000,000 rows, the two databases side by side and measured in alternating rounds, so load drift
on a shared machine moves both sizes alike. Prints wall and CPU time per call and the ratio 10k / 1M (the
req/s ratio of bench/login_log.py); on SQLite the CPU time is the steadier figure (all the work is in process).

    .venv/bin/python bench/login_log_queries.py [--rounds 7] [--calls 50] [--database-url postgresql://...]

With --database-url the two databases are `<name>_s` and `<name>_l` (each dropped and created anew).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import analyse, prepare_database  # noqa: E402
from bench.login_log import seed_log  # noqa: E402

SIZES = (10_000, 1_000_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=50, help="calls per case per round")
    parser.add_argument("--database-url", help="PostgreSQL URL prefix; default SQLite files")
    args = parser.parse_args()

    from pcloud import create_app
    from pcloud.extensions import db
    from pcloud.loginlog import service

    apps = {}
    for size in SIZES:
        url = args.database_url + ("_s" if size == SIZES[0] else "_l") if args.database_url else None
        url, _instance = prepare_database(url)
        now = seed_log(url, size)
        analyse(url)
        apps[size] = (create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True}), now)
    wall: dict[tuple[str, int], list[float]] = {}
    cpu: dict[tuple[str, int], list[float]] = {}
    names: list[str] = []
    for _ in range(args.rounds):
        for size, (app, now) in apps.items():
            cases = {"first page": {},
                     "failures of one day": {"result": 1, "start_time": now - timedelta(days=3),
                                             "end_time": now - timedelta(days=2)},
                     "one address": {"client_ip": "10.0.7.1"},
                     "phone (contains)": {"phone": "13900001007"},
                     "phone, many matches": {"phone": "0010"}}
            names = list(cases)
            with app.app_context():
                for name, filters in cases.items():
                    started, cpu_started = time.perf_counter(), time.process_time()
                    for _ in range(args.calls):
                        service.page_logins(filters, 1, 10)
                        db.session.remove()
                    wall.setdefault((name, size), []).append((time.perf_counter() - started) / args.calls)
                    cpu.setdefault((name, size), []).append((time.process_time() - cpu_started) / args.calls)
    print(f"load average {os.getloadavg()[0]:.1f}; ms per call, median of {args.rounds} rounds")
    print("  case".ljust(24) + "wall 10k   wall 1M  ratio    cpu 10k    cpu 1M  ratio")
    for name in names:
        w = [statistics.median(wall[(name, s)]) * 1000 for s in SIZES]
        c = [statistics.median(cpu[(name, s)]) * 1000 for s in SIZES]
        print(f"  {name:22s}{w[0]:8.3f}  {w[1]:8.3f}  {w[0] / w[1]:5.2f}   "
              f"{c[0]:8.3f}  {c[1]:8.3f}  {c[0] / c[1]:5.2f}")


if __name__ == "__main__":
    main()
