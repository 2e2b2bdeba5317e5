"""A peer check (issue 20): PCloud's user page API against Flask-AppBuilder's REST list of the same users,
both under gunicorn -w 2 and Debian's /usr/bin/wrk (16 connections), in alternating rounds.

    .venv/bin/python bench/peer_fab.py [--users 100000] [--connections 16] [--seconds 10] [--rounds 3]

PCloud: `POST /api/admin/system/user/page` {"page": 1, "pageSize": 10} with a Bearer token (the database
made as bench/user_page_wrk.py makes it: `pcloud init`, bench.common.seed_users_sql, the statistics step).
Flask-AppBuilder: a model of the same user (phone, name, password hash, avatar, state, department, post,
grade, roles, created/modified dates), served by a `ModelRestApi` as
`GET /api/v1/benchuser/?q=(page:0,page_size:10,order_column:created,order_direction:desc)` with a JWT from
its `/api/v1/security/login`, in its own SQLite file seeded with the same rows by the same formulas
(an index on the created date, what it sorts by). Flask-AppBuilder lives in its OWN venv, never the
project's; the script makes it when missing:

    python3 -m venv /tmp/fabvenv && /tmp/fabvenv/bin/pip install flask-appbuilder gunicorn

Databases are kept in --data-dir (seeded once per size). Prints each round, then the medians of
requests/s and p50/p95/p99 for both and the ratio PCloud / Flask-AppBuilder (issue 20's goal: >= 20).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ADMIN_PASSWORD, ADMIN_PHONE, free_port  # noqa: E402
from bench.user_page_wrk import PAGE, Gunicorn, seed  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FAB_PASSWORD = "Bench12345"
FAB_LIST = "/api/v1/benchuser/?q=" + urllib.parse.quote(
    "(page:0,page_size:10,order_column:created,order_direction:desc)")
GOAL = 20.0
# One script for both sides: method, optional body and token from the environment; wrk prints one RESULT line
LUA = """
wrk.method = os.getenv("WRK_METHOD")
local body = os.getenv("WRK_BODY")
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN")
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %d\\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout))
end
"""

# The Flask-AppBuilder app, written next to its database and run by the FAB venv's Python (it imports
# nothing of PCloud). `python fab_app.py seed N` creates the tables, the admin and N users.
FAB_APP = '''
import os
import sqlite3
import sys

from flask import Flask
from flask_appbuilder import AppBuilder, Model
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.models.sqla.base import SQLA
from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table
from sqlalchemy.orm import relationship

bench_user_role = Table(
    "bench_user_role", Model.metadata,
    Column("user_id", Integer, ForeignKey("bench_user.id"), primary_key=True),
    Column("role_id", Integer, ForeignKey("bench_role.id"), primary_key=True),
)


class BenchDept(Model):
    __tablename__ = "bench_dept"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)


class BenchPost(Model):
    __tablename__ = "bench_post"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)


class BenchGrade(Model):
    __tablename__ = "bench_grade"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)


class BenchRole(Model):
    __tablename__ = "bench_role"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)
    role_code = Column(String(64))


class BenchUser(Model):
    __tablename__ = "bench_user"
    id = Column(Integer, primary_key=True)
    phone = Column(String(32), nullable=False, unique=True)
    name = Column(String(64), nullable=False, index=True)
    password_hash = Column(String(100), nullable=False)
    avatar = Column(String(512))
    state = Column(Integer, nullable=False, default=0)
    dept_id = Column(Integer, ForeignKey("bench_dept.id"))
    post_id = Column(Integer, ForeignKey("bench_post.id"))
    grade_id = Column(Integer, ForeignKey("bench_grade.id"))
    created = Column(DateTime, nullable=False, index=True)
    modified = Column(DateTime, nullable=False)
    created_by = Column(String(64))
    dept = relationship(BenchDept)
    post = relationship(BenchPost)
    grade = relationship(BenchGrade)
    roles = relationship(BenchRole, secondary=bench_user_role)


class BenchUserApi(ModelRestApi):
    resource_name = "benchuser"
    datamodel = SQLAInterface(BenchUser)
    list_columns = ["id", "phone", "name", "avatar", "state", "created", "modified", "created_by",
                    "dept.id", "dept.name", "post.id", "post.name", "grade.id", "grade.name",
                    "roles.id", "roles.name", "roles.role_code"]
    base_order = ("created", "desc")


app = Flask(__name__)
app.config.update(
    SQLALCHEMY_DATABASE_URI="sqlite:///" + os.environ["FAB_BENCH_DB"],
    SECRET_KEY="bench-peer-check-not-a-secret-0123456789", AUTH_TYPE=1, FAB_API_SWAGGER_UI=False,
    # Several workers start at once: only the seed step writes the permissions.
    FAB_UPDATE_PERMS=os.environ.get("FAB_BENCH_UPDATE_PERMS") == "1",
    FAB_CREATE_DB=os.environ.get("FAB_BENCH_UPDATE_PERMS") == "1",
)
db = SQLA(app)
with app.app_context():
    appbuilder = AppBuilder(app, db.session)
    appbuilder.add_api(BenchUserApi)


def seed(count):
    with app.app_context():
        db.create_all()
        admin = appbuilder.sm.find_role("Admin")
        if not appbuilder.sm.find_user(username="admin"):
            appbuilder.sm.add_user("admin", "Bench", "Admin", "admin@example.com", admin, sys.argv[3])
        db.session.commit()
    conn = sqlite3.connect(os.environ["FAB_BENCH_DB"])
    with conn:
        role_ids = [conn.execute("INSERT INTO bench_role (name, role_code) VALUES (?, ?)", ("bench-" + c, c)).lastrowid
                    for c in ("ROLE_SALES", "ROLE_DEV", "ROLE_HR")]
        a, b, c = role_ids
        # PCloud's bench formulas (bench.common.seed_users_sql): same phones, names, states, dates, roles
        conn.execute(
            "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ? - 1) "
            "INSERT INTO bench_user (id, phone, name, password_hash, state, created, modified, created_by) "
            "SELECT 2 + i, printf('15%09d', i), substr(?, 1 + (i * 7) % 20, 1) || '员工' || i, 'x', "
            "CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END, datetime('now', '-' || ((i * 7919) % 34560000) || ' seconds'), "
            "datetime('now'), 'bench' FROM s",
            (count, "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
        conn.execute(f"INSERT INTO bench_user_role SELECT id, CASE id % 3 WHEN 0 THEN {a} WHEN 1 THEN {b} "
                     f"ELSE {c} END FROM bench_user")
        conn.execute(f"INSERT INTO bench_user_role SELECT id, CASE id % 3 WHEN 0 THEN {b} WHEN 1 THEN {c} "
                     f"ELSE {a} END FROM bench_user WHERE id % 2 = 0")
    conn.execute("ANALYZE")
    conn.close()


if __name__ == "__main__" and sys.argv[1] == "seed":
    seed(int(sys.argv[2]))
'''


def fab_venv(path: Path) -> Path:
    """The FAB venv's Python, making the venv first when missing (never the project's venv)."""
    python = path / "bin" / "python"
    if not (path / "bin" / "gunicorn").exists():
        subprocess.run(["python3", "-m", "venv", str(path)], check=True)
        subprocess.run([str(path / "bin" / "pip"), "install", "-q", "flask-appbuilder", "gunicorn"], check=True)
    return python


def http_call(port: int, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, json.loads(data) if data else None


class FabServer:
    """Flask-AppBuilder under the FAB venv's gunicorn, same settings as PCloud's."""

    def __init__(self, python: Path, app_dir: Path, db_file: Path, workers: int) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([str(python), "-m", "gunicorn", "-w", str(workers), "-b",
                                      f"127.0.0.1:{self.port}", "--log-level", "warning", "fab_app:app"],
                                     cwd=app_dir, env={**os.environ, "FAB_BENCH_DB": str(db_file)})
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("Flask-AppBuilder did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


def wrk(port: int, method: str, path: str, body: dict[str, Any] | None, token: str, args: Any,
        script: str) -> dict[str, float]:
    out = subprocess.run(["/usr/bin/wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.seconds}s",
                          "--timeout", "30s", "-s", script, f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "WRK_METHOD": method, "WRK_BODY": json.dumps(body) if body else "",
                              "WRK_TOKEN": token}).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    requests, duration_us, p50, p95, p99, errors = line.split()[1:]
    if int(errors):
        raise RuntimeError(f"{errors} failed requests: {out}")
    return {"rps": int(requests) / (int(duration_us) / 1e6), "p50": float(p50), "p95": float(p95),
            "p99": float(p99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fab-venv", default="/tmp/fabvenv")
    parser.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "pcloud-peer-fab"))
    args = parser.parse_args()

    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    python = fab_venv(Path(args.fab_venv))
    (data / "fab_app.py").write_text(FAB_APP, encoding="utf-8")
    pcloud_db, fab_db = data / f"pcloud-{args.users}.db", data / f"fab-{args.users}.db"
    pcloud_url = f"sqlite:///{pcloud_db}"
    if not pcloud_db.exists():
        seed(pcloud_url, args.users)
    if not fab_db.exists():
        started = time.perf_counter()
        partial = fab_db.with_suffix(".part")  # renamed once seeded, so a failed seed is not reused
        partial.unlink(missing_ok=True)
        subprocess.run([str(python), "fab_app.py", "seed", str(args.users), FAB_PASSWORD], cwd=data, check=True,
                       env={**os.environ, "FAB_BENCH_DB": str(partial), "FAB_BENCH_UPDATE_PERMS": "1"})
        partial.rename(fab_db)
        print(f"{fab_db}: {args.users:,} users seeded in {time.perf_counter() - started:.1f} s")
    script = data / "peer.lua"
    script.write_text(LUA, encoding="utf-8")

    ours = Gunicorn(str(ROOT), pcloud_url, args.workers)
    fab = None
    try:
        fab = FabServer(python, data, fab_db, args.workers)
        _, signed = ours.post("/api/oauth/token", {"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD,
                                                   "grantType": "ADMIN"})
        ours_token = signed["data"]["token"]
        status, login = http_call(fab.port, "POST", "/api/v1/security/login",
                                  {"username": "admin", "password": FAB_PASSWORD, "provider": "db"})
        assert status == 200, login
        fab_token = login["access_token"]
        body = {"page": 1, "pageSize": 10}
        status, page = ours.post(PAGE, body, ours_token)
        assert status == 200 and len(page["data"]) == 10, page
        status, listed = http_call(fab.port, "GET", FAB_LIST, token=fab_token)
        assert status == 200 and len(listed["result"]) == 10, listed
        print(f"PCloud total {page['total']}, Flask-AppBuilder count {listed['count']}; first rows:\n"
              f"  PCloud: {json.dumps(page['data'][0], ensure_ascii=False)}\n"
              f"  FAB:    {json.dumps(listed['result'][0], ensure_ascii=False)}")
        sides = {"PCloud": (ours.port, "POST", PAGE, body, ours_token),
                 "FAB": (fab.port, "GET", FAB_LIST, None, fab_token)}
        results: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
        for round_no in range(args.rounds):
            order = list(sides) if round_no % 2 == 0 else list(reversed(sides))
            for name in order:
                port, method, path, req_body, token = sides[name]
                got = wrk(port, method, path, req_body, token, args, str(script))
                results[name].append(got)
                print(f"round {round_no + 1} {name:7} {got['rps']:8.1f} req/s  "
                      f"p50/p95/p99 {got['p50']:.1f}/{got['p95']:.1f}/{got['p99']:.1f} ms", flush=True)
    finally:
        ours.stop()
        if fab is not None:
            fab.stop()

    med = {name: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p95", "p99")}
           for name, runs in results.items()}
    print(f"\nmedians of {args.rounds} rounds, {args.users:,} users, gunicorn -w {args.workers}, "
          f"wrk {args.connections} connections x {args.seconds} s")
    for name, m in med.items():
        print(f"  {name:7} {m['rps']:8.1f} req/s  p50/p95/p99 {m['p50']:.1f}/{m['p95']:.1f}/{m['p99']:.1f} ms")
    ratio = med["PCloud"]["rps"] / med["FAB"]["rps"]
    print(f"  ratio PCloud / Flask-AppBuilder = {ratio:.1f}  (goal >= {GOAL:g})  "
          f"{'OK' if ratio >= GOAL else 'BELOW GOAL'}")


if __name__ == "__main__":
    main()
