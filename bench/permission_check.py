"""Measure what the permission check costs: one protected endpoint, 200 roles and 2,000 resources in
the database, requests/s with the check on against the same endpoint with the check bypassed, in the
same run (gunicorn, several workers each), and print both and their ratio (goal >= 0.9).

    .venv/bin/python bench/permission_check.py [--requests 2000] [--workers 3] [--database-url URL]

The principal is an ordinary user (not a super administrator, whose check short-circuits) holding five of
the 200 roles; the endpoint (POST /api/admin/menu/page) is granted only by the fifth, so the check
walks the exact keys and the wildcard patterns of the other four first. The bypassed server is the
very same application with `permissions.may_call` replaced by `lambda *a: True` in its own process
(`bench.permission_check:bypassed_app`): same code, same token, same SQL, minus the check. The session
query that carries the permission version runs in both, since the principal has to be authenticated anyway.

Loopback only; a fixed number of requests per run.
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

from sqlalchemy import create_engine, insert, select, update  # noqa: E402

from bench.common import Server, prepare_database, throughput  # noqa: E402
from pcloud.config import normalise_database_url  # noqa: E402

ROLES, RESOURCES, GROUPS = 200, 2000, 10
USER_PHONE, USER_PASSWORD = "13700000001", "Bench12345"
TARGET = ("POST", "/api/admin/menu/page")
TARGET_CODE = "api:menus_api.page:POST"
OUTSIDE = ("POST", "/api/admin/role/page")  # not granted: proves the check is really on


def __getattr__(name: str) -> Any:
    """`gunicorn bench.permission_check:bypassed_app`: the app with the permission check switched off."""
    if name != "bypassed_app":
        raise AttributeError(name)
    from pcloud import create_app
    from pcloud.access import permissions

    permissions.may_call = lambda *_args, **_kw: True  # type: ignore[assignment]
    app = create_app()
    globals()["bypassed_app"] = app
    return app


def seed(database_url: str) -> None:
    """200 roles, 2,000 resources (a tenth of them wildcards), 40 grants per role, one user with 5 roles."""
    import bcrypt

    import pcloud.models  # noqa: F401 - every mapper, before the first query
    from pcloud.access.models import PermissionVersion, role_resource
    from pcloud.core.timefmt import utcnow
    from pcloud.resources.models import Resource
    from pcloud.roles.models import Role
    from pcloud.users.models import User, user_role

    rng = random.Random(11)
    engine = create_engine(normalise_database_url(database_url))
    now = utcnow()
    audit = {"gmt_created_date": now, "gmt_modified_date": now}
    started = time.perf_counter()
    with engine.begin() as conn:
        resource_ids: list[int] = []
        for g in range(GROUPS):
            group_id = conn.execute(insert(Resource.__table__).values(
                parent_id=0, name=f"压测分组{g}", resource_url="", method="*", **audit)).inserted_primary_key[0]
            rows = []
            for i in range(RESOURCES // GROUPS):
                if i % 10 == 0:
                    url, method = f"/api/bench/g{g}/r{i}/**", "*"
                elif i % 10 == 1:
                    url, method = f"/api/bench/g{g}/*/r{i}", "GET"
                else:
                    url, method = f"/api/bench/g{g}/r{i}/{{id}}", ("GET", "POST", "PUT", "DELETE")[i % 4]
                rows.append({"parent_id": group_id, "name": f"压测资源{g}-{i}", "resource_url": url,
                             "method": method, **audit})
            conn.execute(insert(Resource.__table__), rows)
            resource_ids += list(conn.execute(select(Resource.id).where(Resource.parent_id == group_id)).scalars())
        role_ids = []
        for r in range(ROLES):
            role_ids.append(conn.execute(insert(Role.__table__).values(
                name=f"压测角色{r}", role_code=f"ROLE_BENCH_{r:03d}", **audit)).inserted_primary_key[0])
            conn.execute(insert(role_resource), [{"role_id": role_ids[-1], "resource_id": rid}
                                                 for rid in rng.sample(resource_ids, 40)])
        target = conn.execute(select(Resource.id).where(Resource.code == TARGET_CODE)).scalar_one()
        held = role_ids[-5:]
        conn.execute(insert(role_resource), [{"role_id": held[-1], "resource_id": target}])
        password_hash = bcrypt.hashpw(USER_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
        user_id = conn.execute(insert(User.__table__).values(
            phone=USER_PHONE, name="压测用户", password_hash=password_hash, state=0, **audit)).inserted_primary_key[0]
        conn.execute(insert(user_role), [{"user_id": user_id, "role_id": rid} for rid in held])
        conn.execute(update(PermissionVersion).where(PermissionVersion.id == 1)
                     .values(version=PermissionVersion.version + 1))
    engine.dispose()
    print(f"seeded {ROLES} roles, {RESOURCES} resources, {ROLES * 40} grants in {time.perf_counter() - started:.1f} s")


def time_the_check_in_process(database_url: str, instance: str, calls: int = 20000) -> float:
    """Microseconds per `may_call` with a warm cache, for the same user and route: the noise-free figure."""
    import os

    os.environ.update(DATABASE_URL=database_url, PCLOUD_INSTANCE_DIR=instance, PCLOUD_SECRET_KEY="bench")
    from pcloud import create_app
    from pcloud.access import permissions
    from pcloud.auth.service import load_principal
    from pcloud.extensions import db
    from pcloud.sessions.service import open_session
    from pcloud.users.models import User

    app = create_app()
    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.phone == USER_PHONE)).scalar_one()
        token, _ = open_session("api", user_id=user_id)
        db.session.commit()
        principal = load_principal(token, "api")
        assert principal is not None
        method, path = TARGET
        assert permissions.may_call(principal, method, path, path)  # loads the cache
        started = time.perf_counter()
        for _ in range(calls):
            permissions.may_call(principal, method, path, path)
        elapsed = time.perf_counter() - started
        db.session.remove()
    return elapsed / calls * 1e6


def sign_in(server: Server) -> dict[str, str]:
    status, data = server.request("POST", "/api/oauth/token", {"phone": USER_PHONE, "password": USER_PASSWORD,
                                                               "grantType": "ADMIN"})
    assert status == 200, data
    return {"Authorization": "Bearer " + json.loads(data)["data"]["token"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="per server, split over the rounds")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    url, instance = prepare_database(args.database_url)
    seed(url)
    checked = Server("wsgi:app", url, instance, args.workers)
    bypassed = Server("bench.permission_check:bypassed_app", url, instance, args.workers)
    try:
        auth = sign_in(checked)
        # The check is really on in one and really off in the other.
        assert checked.request(*TARGET, {}, auth)[0] == 200
        assert checked.request(*OUTSIDE, {}, auth)[0] == 403
        assert bypassed.request(*OUTSIDE, {}, auth)[0] == 200
        assert checked.request(*TARGET, {}, auth)[1].count(b'"id"') == bypassed.request(*TARGET, {}, auth)[1].count(
            b'"id"')

        def make(_i: int) -> tuple[str, str, Any, dict[str, str]]:
            return TARGET[0], TARGET[1], {}, auth

        for server in (checked, bypassed):  # warm every worker's caches and connections
            throughput(server, make, 100, args.concurrency)
        per_round = max(args.requests // args.rounds, 1)
        results: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
        for _ in range(args.rounds):  # interleaved, so drift of the machine hits both alike
            results["on"].append(throughput(checked, make, per_round, args.concurrency))
            results["off"].append(throughput(bypassed, make, per_round, args.concurrency))
    finally:
        checked.stop()
        bypassed.stop()

    def best(rs: list[dict[str, float]]) -> dict[str, float]:
        return max(rs, key=lambda r: r["rps"])

    on, off = best(results["on"]), best(results["off"])
    ratio = on["rps"] / off["rps"]
    print(f"\npermission check, {TARGET[0]} {TARGET[1]}, {ROLES} roles, {RESOURCES} resources, user with 5 roles, "
          f"{per_round * args.rounds} requests per server, concurrency {args.concurrency}, "
          f"gunicorn -w {args.workers} ({url.split(':')[0]})")
    for label, r in (("check on:      ", on), ("check bypassed:", off)):
        print(f"  {label} {r['rps']:8.1f} req/s   p50 {r['p50_ms']:6.1f} ms   p95 {r['p95_ms']:6.1f} ms")
    print("  every round (on / bypassed): " + ", ".join(
        f"{a['rps']:.0f}/{b['rps']:.0f}" for a, b in zip(results["on"], results["off"], strict=True)))
    print(f"  ratio on/bypassed = {ratio:.3f}  (goal >= 0.9)  {'OK' if ratio >= 0.9 else 'BELOW GOAL'}")
    micros = time_the_check_in_process(url, instance)
    print(f"  in process, warm cache: {micros:.1f} µs per check (a bypassed request's p50 latency: "
          f"{off['p50_ms']:.1f} ms); the servers share this machine with the load generator, so compare the rounds")


if __name__ == "__main__":
    main()
