"""Measure POST /api/admin/system/user/page (keyword filter, paged) on 100,000 users with roles,
served by gunicorn, against a bare Flask endpoint running the same SQL, in the same run.

    .venv/bin/python bench/user_page.py [--users 100000] [--requests 400] [--database-url URL]

A PostgreSQL database named in --database-url is dropped and recreated first.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, select  # noqa: E402

from bench.common import Server, prepare_database, report, sign_in, throughput  # noqa: E402
from pcloud.config import normalise_database_url  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def seed_users(database_url: str, count: int) -> None:
    """Bulk insert users (one bcrypt hash shared by all) and give each one or two of three roles."""
    import pcloud.models  # noqa: F401 - every mapper, before the first query
    from pcloud.auth.passwords import _DUMMY
    from pcloud.roles.models import Role
    from pcloud.users.models import User, user_role

    engine = create_engine(normalise_database_url(database_url))
    rng = random.Random(7)
    started = time.perf_counter()
    with engine.begin() as conn:
        role_ids = []
        for code in ("ROLE_SALES", "ROLE_DEV", "ROLE_HR"):
            result = conn.execute(insert(Role.__table__).values(name=code, role_code=code, built_in=False))
            role_ids.append(result.inserted_primary_key[0])
        first_id = (conn.execute(select(User.id).order_by(User.id.desc()).limit(1)).scalar() or 0) + 1
        batch = 5000
        from pcloud.core.timefmt import utcnow

        now = utcnow()
        for start in range(0, count, batch):
            rows = [{"id": first_id + i, "phone": f"15{i:09d}", "name": f"{rng.choice(SURNAMES)}员工{i}",
                     "password_hash": _DUMMY, "state": 0, "gmt_created_date": now, "gmt_modified_date": now}
                    for i in range(start, min(start + batch, count))]
            conn.execute(insert(User.__table__), rows)
            links = [{"user_id": r["id"], "role_id": rid} for r in rows
                     for rid in rng.sample(role_ids, rng.choice((1, 2)))]
            conn.execute(insert(user_role), links)
    if engine.dialect.name == "postgresql":  # the steady state autovacuum keeps a live database in
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    print(f"seeded {count} users in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    url, instance = prepare_database(args.database_url)
    seed_users(url, args.users)
    keywords = ["王员工1", "李员工2", "员工99", "张员工"]
    ours = Server("wsgi:app", url, instance, args.workers)
    base = Server("bench.baseline_user_page:app", url, instance, args.workers)
    try:
        token = sign_in(ours)
        auth = {"Authorization": f"Bearer {token}"}

        def ours_request(i: int) -> tuple[str, str, object, dict[str, str]]:
            return ("POST", "/api/admin/system/user/page",
                    {"keyword": keywords[i % len(keywords)], "page": 1 + i % 5, "pageSize": 20}, auth)

        def base_request(i: int) -> tuple[str, str, object, dict[str, str]]:
            return ("POST", "/baseline/user/page",
                    {"keyword": keywords[i % len(keywords)], "page": 1 + i % 5, "pageSize": 20}, {})

        # Same answer from both, so they do the same work.
        _, a = ours.request(*ours_request(0)[:3], ours_request(0)[3])
        _, b = base.request(*base_request(0)[:3])
        assert json.loads(a)["total"] == json.loads(b)["total"] > 0
        assert [u["id"] for u in json.loads(a)["data"]] == [u["id"] for u in json.loads(b)["data"]]

        for server, make in ((ours, ours_request), (base, base_request)):  # warm-up
            throughput(server, make, 40, args.concurrency)
        results = {"ours": [], "base": []}
        for _ in range(2):  # interleaved rounds, so drift affects both alike
            results["ours"].append(throughput(ours, ours_request, args.requests // 2, args.concurrency))
            results["base"].append(throughput(base, base_request, args.requests // 2, args.concurrency))
        pick = lambda rs: max(rs, key=lambda r: r["rps"])  # noqa: E731
        report(f"user page, keyword filter, {args.users} users, {args.requests} requests, "
               f"concurrency {args.concurrency}, gunicorn -w {args.workers} ({url.split(':')[0]})",
               pick(results["ours"]), pick(results["base"]), 0.5)
    finally:
        ours.stop()
        base.stop()


if __name__ == "__main__":
    main()
