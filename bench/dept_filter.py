"""Benchmark: the user page filtered by a department near the root, against the same page unfiltered.

    .venv/bin/python bench/dept_filter.py                      # SQLite in a temporary directory
    .venv/bin/python bench/dept_filter.py --database-url postgresql://pcloud:pcloud@127.0.0.1:5432/pcloud_bench

For each size (default 10,000 and 1,000,000 users): a fresh database (`pcloud init`, 5,000 departments
in a deep tree, users in one INSERT ... SELECT, the application's statistics step), served by gunicorn
on loopback; requests/s of the first page unfiltered and filtered by the department below the root
holding the most users, interleaved round by round, then the constant-JSON ceiling (bench/ceiling.py)
answering a body of the same size under the same gunicorn settings. Prints requests/s per size, the
ratio 1,000,000 / 10,000 (goal >= 0.9) and each route against the ceiling, plus the filtered plan.
A PostgreSQL database named in --database-url is dropped and recreated first.

Issue 21: a third case, "scope: department and below", is the same unfiltered page asked by a user whose
only role has data scope 4 (own department and below), sitting in that same department: the data scope
must cost what the department filter costs (goal: 1,000,000 / 10,000 >= 0.9).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    Server,
    add_load_options,
    ceiling_server,
    measure,
    prepare_database,
    run_list_bench,
    sign_in,
)

PAGE = "/api/admin/system/user/page"
SCOPE_CASE = "scope: department and below"
SCOPED_PHONE, SCOPED_PASSWORD = "13700000000", "Passw0rd1"


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

    # Users spread over every department in one INSERT ... SELECT (bench.common.seed_users_sql).
    from bench.common import seed_users_sql

    seed_users_sql(database_url, users, dept_ids=(levels[0][0], levels[-1][-1]))
    # The steady state autovacuum keeps a live database in: statistics, and a visibility map that lets
    # PostgreSQL count through an index without visiting every row.
    from bench.common import analyse

    analyse(database_url)
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


def make_scoped_principal(database_url: str, dept_id: int) -> None:
    """A user in `dept_id` whose only role (data scope 4: own department and below) is granted the user page."""
    from sqlalchemy import select

    from pcloud import create_app
    from pcloud.datascope.service import OWN_DEPT_AND_BELOW
    from pcloud.extensions import db
    from pcloud.resources.models import Resource
    from pcloud.roles import service as roles
    from pcloud.users import service as users

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    with app.app_context():
        role = roles.create_role({"name": "部门主管", "role_code": "ROLE_BENCH_HEAD",
                                  "data_scope": OWN_DEPT_AND_BELOW})
        page = db.session.execute(select(Resource.id).where(Resource.code == "api:users_api.page:POST")).scalar_one()
        roles.grant(role.id, [], [page])
        users.create_user({"phone": SCOPED_PHONE, "name": "部门主管", "password": SCOPED_PASSWORD,
                           "role_ids": [role.id], "dept_id": dept_id})
        db.engine.dispose()


def scoped_sign_in(server: Server) -> str:
    status, data = server.request("POST", "/api/oauth/token", {"phone": SCOPED_PHONE, "password": SCOPED_PASSWORD,
                                                               "grantType": "ADMIN"})
    assert status == 200, data
    return json.loads(data)["data"]["token"]


def explain(database_url: str, dept_id: int) -> str:
    """The database's plans for the statements the filtered page really runs (count and page)."""
    from pcloud import create_app
    from pcloud.core.dbstats import captured_selects, plan
    from pcloud.extensions import db
    from pcloud.users.service import page_users

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    lines = []
    with app.app_context(), captured_selects(db.engine) as seen:
        page_users({"dept_id": dept_id}, 1, 10)
        for sql, params in seen:
            if "sys_user" in sql and ("count" in sql.lower() or "ORDER BY" in sql):
                lines.append("  " + " ".join(sql.split())[:100] + " ...")
                lines += ["      " + step for step in plan(db.engine, sql, params)]
        db.engine.dispose()
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- load


def run_size(size: int, args: argparse.Namespace) -> tuple[dict[str, float], float]:
    database_url, instance_dir = prepare_database(args.database_url)
    facts = seed(database_url, args.depts, size, args.depth, args.seed)
    print(f"seeded {args.depts} departments ({facts['levels']} levels) and {size:,} users "
          f"in {facts['build_seconds']:.1f} s; filter: department {facts['dept_id']} below the root, "
          f"{facts['subtree']} departments, {facts['members']} users")
    print("plan of the filtered page query:")
    print(explain(database_url, facts["dept_id"]))
    make_scoped_principal(database_url, facts["dept_id"])
    body = {"page": 1, "pageSize": 10}
    cases = {"unfiltered": ("admin", body), "department filter": ("admin", {**body, "deptId": facts["dept_id"]}),
             SCOPE_CASE: ("scoped", body)}
    server = Server("wsgi:app", database_url, instance_dir, workers=args.workers)
    ceiling = None
    try:
        principals = {"admin": (server, {"Authorization": f"Bearer {sign_in(server)}"}),
                   "scoped": (server, {"Authorization": f"Bearer {scoped_sign_in(server)}"})}
        answers = {}
        for name, (who, sent) in cases.items():
            status, data = server.request("POST", PAGE, sent, principals[who][1])
            assert status == 200, data
            answers[name] = json.loads(data)
            print(f"  {name}: total {answers[name]['total']}")
        # the scope is the department filter: the same users, the same total
        assert answers[SCOPE_CASE]["total"] == answers["department filter"]["total"]
        assert [u["id"] for u in answers[SCOPE_CASE]["data"]] == [u["id"] for u in answers["department filter"]["data"]]
        _, constant = server.request("POST", PAGE, cases["department filter"][1], principals["admin"][1])
        ceiling = ceiling_server(constant, database_url, instance_dir, args.workers)
        rps = measure({**principals, "ceiling": (ceiling, {})}, {**cases, "ceiling": ("ceiling", {})}, PAGE,
                      args.requests, args.rounds, args.concurrency)
    finally:
        server.stop()
        if ceiling is not None:
            ceiling.stop()
    return rps, rps.pop("ceiling")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_options(parser)
    parser.add_argument("--depts", type=int, default=5000)
    parser.add_argument("--depth", type=int, default=12, help="levels of the department tree")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    run_list_bench("user page by department", run_size, args, {"unfiltered": 0.9, "department filter": 0.9,
                                                               SCOPE_CASE: 0.9})


if __name__ == "__main__":
    main()
