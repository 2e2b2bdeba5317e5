"""Measure the run report and the run log list on 1,000,000 runs over 90 days, against the same routes on
an empty run table, in the same run.

    .venv/bin/python bench/job_report.py [--runs 1000000] [--requests 300] [--database-url URL]

Two databases built by `pcloud init`: one with 100 jobs and `--runs` runs spread over the last 90 days,
one with the same jobs and no run. Each is served by gunicorn; both get the same calls:
`POST /api/job/chartInfo` for the last 30 days and `POST /api/job/joblog/pageList` filtered by job and
status (success, fail). Goal: each route's p50 latency on the full table within 3x of the empty one.
A PostgreSQL database named in --database-url (and one named <name>_empty) is dropped and recreated.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select  # noqa: E402

from bench.common import Server, prepare_database, sign_in, throughput  # noqa: E402
from pcloud.config import normalise_database_url  # noqa: E402

JOBS = 100
DAYS = 90


def seed(database_url: str, runs: int) -> list[int]:
    """An executor, JOBS jobs and `runs` finished/running runs evenly over the last DAYS days."""
    import pcloud.models  # noqa: F401 - every mapper
    from pcloud.core.timefmt import utcnow
    from pcloud.jobs.models import Executor, Job, JobRun

    engine = create_engine(normalise_database_url(database_url))
    rng = random.Random(11)
    started = time.perf_counter()
    now = utcnow()
    with engine.begin() as conn:
        executor = conn.execute(select(Executor.id).limit(1)).scalar()
        if executor is None:
            executor = conn.execute(insert(Executor.__table__).values(
                appname="bench-app", title="bench", address_type=0, gmt_created_date=now,
                gmt_modified_date=now)).inserted_primary_key[0]
        job_rows = [{"job_group": executor, "job_desc": f"bench job {i}", "author": "bench", "schedule_type": "CRON",
                     "schedule_conf": "0 * * * * ?", "timezone": "Asia/Shanghai", "misfire_strategy": "DO_NOTHING",
                     "executor_route_strategy": "FIRST", "executor_handler": "demoJobHandler",
                     "executor_block_strategy": "SERIAL_EXECUTION", "executor_timeout": 0,
                     "executor_fail_retry_count": 0, "trigger_status": 0, "trigger_last_time": 0,
                     "trigger_next_time": 0, "gmt_created_date": now, "gmt_modified_date": now} for i in range(JOBS)]
        conn.execute(insert(Job.__table__), job_rows)
        job_ids = list(conn.execute(select(Job.id).order_by(Job.id)).scalars())
        if runs:
            first = now - timedelta(days=DAYS)
            step = timedelta(days=DAYS) / runs
            batch = 20_000
            for start in range(0, runs, batch):
                rows = []
                for i in range(start, min(start + batch, runs)):
                    at = first + step * i
                    roll = rng.random()
                    recent = (now - at) < timedelta(minutes=10)
                    code = 0 if recent else 200 if roll < 0.9 else 500 if roll < 0.98 else 502
                    rows.append({"job_group": executor, "job_id": job_ids[i % JOBS], "trigger_type": "CRON",
                                 "schedule_time": at, "shard_index": 0, "shard_total": 1, "executor_address": "n1",
                                 "executor_handler": "demoJobHandler", "executor_fail_retry_count": 0,
                                 "trigger_time": at, "trigger_code": 200, "handle_time": None if recent else at,
                                 "handle_code": code, "handle_msg": None, "alarm_status": 0,
                                 "status": "RUNNING" if recent else "DONE", "kill_requested": False,
                                 "line_count": 0})
                conn.execute(insert(JobRun.__table__), rows)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(f"seeded {JOBS} jobs and {runs} runs in {time.perf_counter() - started:.1f} s")
    return job_ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    empty_url_arg = f"{args.database_url}_empty" if args.database_url else None
    full_url, full_instance = prepare_database(args.database_url)
    empty_url, empty_instance = prepare_database(empty_url_arg)
    job_ids = seed(full_url, args.runs)
    seed(empty_url, 0)
    full = Server("wsgi:app", full_url, full_instance, args.workers)
    empty = Server("wsgi:app", empty_url, empty_instance, args.workers)
    try:
        from datetime import date

        today = date.today()
        chart_body = {"startDate": (today - timedelta(days=29)).isoformat(), "endDate": today.isoformat()}
        auth = {s: {"Authorization": f"Bearer {sign_in(s)}"} for s in (full, empty)}
        routes = {
            "chartInfo, 30 days": lambda s, i: ("POST", "/api/job/chartInfo", chart_body, auth[s]),
            "joblog/pageList, job + success": lambda s, i: (
                "POST", "/api/job/joblog/pageList",
                {"jobGroup": 0, "jobId": job_ids[i % 7], "logStatus": 1, "page": 1 + i % 3, "pageSize": 10}, auth[s]),
            "joblog/pageList, job + fail": lambda s, i: (
                "POST", "/api/job/joblog/pageList",
                {"jobId": job_ids[i % 7], "logStatus": 2, "page": 1, "pageSize": 10}, auth[s]),
        }
        import json

        _, body = full.request(*routes["chartInfo, 30 days"](full, 0)[:3], auth[full])
        chart = json.loads(body)["data"]
        print(f"chartInfo on the full table: {sum(chart['triggerDayCountSucList'])} successes, "
              f"{sum(chart['triggerDayCountFailList'])} failures over {len(chart['triggerDayList'])} days")
        _, body = full.request(*routes["joblog/pageList, job + success"](full, 0)[:3], auth[full])
        print(f"pageList total for one job + success: {json.loads(body)['total']}")
        print(f"\n{'route':34} {'full p50':>9} {'empty p50':>9} {'full p95':>9} {'empty p95':>9} {'ratio':>6}")
        worst = 0.0
        for name, make in routes.items():
            for server in (full, empty):  # warm-up (the first chartInfo fills the daily report once)
                throughput(server, lambda i, s=server, m=make: m(s, i), 20, args.concurrency)
            rounds: dict[str, list[dict[str, float]]] = {"full": [], "empty": []}
            for _ in range(2):  # interleaved, so drift affects both alike
                rounds["full"].append(throughput(full, lambda i, m=make: m(full, i), args.requests // 2,
                                                 args.concurrency))
                rounds["empty"].append(throughput(empty, lambda i, m=make: m(empty, i), args.requests // 2,
                                                  args.concurrency))
            f = min(rounds["full"], key=lambda r: r["p50_ms"])
            e = min(rounds["empty"], key=lambda r: r["p50_ms"])
            ratio = f["p50_ms"] / e["p50_ms"]
            worst = max(worst, ratio)
            print(f"{name:34} {f['p50_ms']:8.1f}ms {e['p50_ms']:8.1f}ms {f['p95_ms']:8.1f}ms {e['p95_ms']:8.1f}ms "
                  f"{ratio:6.2f}")
        print(f"\n{args.runs} runs over {DAYS} days, {args.requests} requests per route and table, concurrency "
              f"{args.concurrency}, gunicorn -w {args.workers} ({full_url.split(':')[0]})")
        print(f"worst p50 ratio full/empty = {worst:.2f}  (goal <= 3)  {'OK' if worst <= 3 else 'ABOVE GOAL'}")
    finally:
        full.stop()
        empty.stop()


if __name__ == "__main__":
    main()
