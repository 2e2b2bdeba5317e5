"""Measure the user import (issue 21, item 3): a dry run plus the import of N rows, against the ceiling, a bulk
INSERT of the same rows (same columns, roles and places resolved beforehand, no password hashing, no checks),
and the process's peak memory at two sizes (it must not grow with the file).

Each measurement runs in a fresh child process on a fresh database, so its peak resident memory (VmHWM) is
that run's own:

    .venv/bin/python bench/user_import.py --rows 10000 100000
    .venv/bin/python bench/user_import.py --rows 10000 100000 --database-url postgresql://pcloud:pcloud@127.0.0.1:5432/pcloud_bench

Rows leave 初始密码 blank (a generated password each, the import's usual case) and name a department path, a
post, a grade and a role, so every lookup and the role links are exercised.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import prepare_database  # noqa: E402

LIMIT_SECONDS = 60


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM). Not getrusage's ru_maxrss: Linux carries that across exec
    from the forking parent, so a child would report at least the bench's own size."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def write_file(path: str, rows: int) -> None:
    import xlsxwriter

    from pcloud.users.imports import COLUMNS

    # Shared strings, as Excel and WPS save a file (constant_memory would write inline strings, which openpyxl
    # reads several times slower).
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("用户导入")
    sheet.write_row(0, 0, COLUMNS)
    for i in range(rows):
        sheet.write_row(i + 1, 0, [f"导入用户{i}", f"15{i:09d}", "总部/研发中心" if i % 2 else "总部", "ENG", "P5",
                                   "ROLE_STAFF", "正常", ""])
    workbook.close()


def _app(url: str, instance: str):  # noqa: ANN202 - a Flask app
    os.environ["PCLOUD_INSTANCE_DIR"] = instance
    from pcloud import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})


def _seed_places(app) -> dict[str, int]:  # noqa: ANN001
    from pcloud.depts import service as depts
    from pcloud.extensions import db
    from pcloud.grades.models import Grade
    from pcloud.posts.models import Post
    from pcloud.roles.models import Role

    with app.app_context():
        hq = depts.create_dept({"name": "总部", "parent_id": 0}).id
        rd = depts.create_dept({"name": "研发中心", "parent_id": hq}).id
        post, grade, role = Post(name="工程师", code="ENG"), Grade(name="P5"), Role(name="员工", role_code="ROLE_STAFF")
        db.session.add_all([post, grade, role])
        db.session.commit()
        return {"hq": hq, "rd": rd, "post": post.id, "grade": grade.id, "role": role.id}


class WriteProbe:
    """SQLite: another connection writes every 20 ms without a busy timeout while the import runs, and keeps the
    longest stretch in which the database refused it: how long a user's save waits behind the import (over the
    busy timeout, 10 s, it is a 503)."""

    def __init__(self, database_file: str) -> None:
        import sqlite3
        import threading

        self.conn = sqlite3.connect(database_file, timeout=0, isolation_level=None, check_same_thread=False)
        self.conn.execute("CREATE TABLE bench_write_probe (x INTEGER)")
        self.longest = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import sqlite3

        refused_since = None
        while not self.stop.is_set():
            try:
                self.conn.execute("INSERT INTO bench_write_probe VALUES (1)")
                if refused_since is not None:
                    self.longest = max(self.longest, time.monotonic() - refused_since)
                    refused_since = None
            except sqlite3.OperationalError:
                refused_since = refused_since or time.monotonic()
            time.sleep(0.02)

    def finish(self) -> float:
        time.sleep(0.1)  # one more try after the import's commit
        self.stop.set()
        self.thread.join()
        self.conn.close()
        return self.longest


def child_import(url: str, instance: str, path: str, traced: bool = False) -> dict[str, float]:
    """The dry run, then the import, then the answer's list of generated passwords read through, as the API
    writes it. `traced`: Python's own peak allocation (tracemalloc, which slows Python several times) instead
    of the times."""
    import tracemalloc

    app = _app(url, instance)
    _seed_places(app)
    from pcloud.users import imports

    times = {}
    if traced:
        tracemalloc.start()
    with app.test_request_context():
        for label, dry_run in (("dry_run", True), ("commit", False)):
            probe = WriteProbe(url.removeprefix("sqlite:///")) if url.startswith("sqlite") and not dry_run else None
            started, cpu = time.perf_counter(), time.process_time()
            with open(path, "rb") as fh:
                result = imports.import_users(fh, None, dry_run=dry_run)
                listed = sum(1 for _ in result.passwords())
            times[label] = time.perf_counter() - started
            times["write_waited"] = probe.finish() if probe is not None else float("nan")
            times[f"{label}_cpu"] = time.process_time() - cpu
            times[f"{label}_maxrss_mib"] = peak_rss_mib()
            assert result.error_count == 0 and result.created == result.total, result.errors[:5]
            assert listed == (0 if dry_run else result.total)
    if traced:
        times["python_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    times["maxrss_mib"] = peak_rss_mib()
    return times


def child_ceiling(url: str, instance: str, rows: int) -> dict[str, float]:
    """The same rows written as fast as the schema allows: one transaction, batches of 500, no checks, no hashing."""
    app = _app(url, instance)
    ids = _seed_places(app)
    from sqlalchemy import insert

    from pcloud.core.timefmt import utcnow
    from pcloud.extensions import db
    from pcloud.users.models import User, user_role

    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        now, batch = utcnow(), 500
        for start in range(0, rows, batch):
            values = [{"phone": f"15{i:09d}", "name": f"导入用户{i}", "state": 0,
                       "dept_id": ids["rd"] if i % 2 else ids["hq"], "post_id": ids["post"], "grade_id": ids["grade"],
                       "password_hash": "x" * 89, "gmt_created_date": now, "gmt_modified_date": now}
                      for i in range(start, min(start + batch, rows))]
            made = db.session.execute(insert(User.__table__).returning(User.__table__.c.id), values).scalars().all()
            db.session.execute(insert(user_role).values([{"user_id": uid, "role_id": ids["role"]} for uid in made]))
        db.session.commit()
        elapsed = time.perf_counter() - started
    return {"ceiling": elapsed, "ceiling_cpu": time.process_time() - cpu,
            "maxrss_mib": peak_rss_mib()}


def run_child(kind: str, database_url: str | None, rows: int, path: str) -> dict[str, float]:
    url, instance = prepare_database(database_url)
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--url", url, "--instance", instance,
                          "--path", path, "--rows", str(rows)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--traced", action="store_true", help="also Python's peak allocation (tracemalloc, slow)")
    parser.add_argument("--no-ceiling", action="store_true", help="leave the bulk INSERT out (memory runs)")
    parser.add_argument("--child", default=None)
    parser.add_argument("--url")
    parser.add_argument("--instance")
    parser.add_argument("--path")
    args = parser.parse_args()
    if args.child:
        result = (child_ceiling(args.url, args.instance, args.rows[0]) if args.child == "ceiling"
                  else child_import(args.url, args.instance, args.path, traced=args.child == "traced"))
        print(json.dumps(result))
        return
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\nuser import on {database} (openpyxl read-only, batches of 500, generated passwords)")
    for rows in args.rows:
        fd, path = tempfile.mkstemp(suffix=".xlsx")
        os.close(fd)
        write_file(path, rows)
        size = os.path.getsize(path) / 2**20
        got = run_child("import", args.database_url, rows, path)
        ceiling = (run_child("ceiling", args.database_url, rows, path) if not args.no_ceiling
                   else {"ceiling": float("nan"), "ceiling_cpu": float("nan"), "maxrss_mib": float("nan")})
        traced = run_child("traced", args.database_url, rows, path) if args.traced else None
        os.unlink(path)
        total = got["dry_run"] + got["commit"]
        floor = ceiling["ceiling"]
        print(f"  {rows:>7} rows ({size:4.1f} MiB file): dry run {got['dry_run']:5.1f} s + import "
              f"{got['commit']:5.1f} s = {total:5.1f} s ({'within' if total < LIMIT_SECONDS else 'OVER'} "
              f"{LIMIT_SECONDS} s); ceiling (bulk INSERT) {floor:5.1f} s; import/ceiling {got['commit'] / floor:4.1f}x,"
              f" (dry run + import)/ceiling {total / floor:4.1f}x; peak RSS {got['maxrss_mib']:6.1f} MiB"
              f" (after the dry run {got['dry_run_maxrss_mib']:6.1f} MiB; "
              f"ceiling process {ceiling['maxrss_mib']:6.1f} MiB)")
        if args.database_url is None:
            print(f"  {'':>7} a parallel write waited at most {got['write_waited']:5.1f} s during the import's "
                  f"{got['commit']:5.1f} s (SQLite's write lock; a save waits up to the busy timeout, 10 s, then 503)")
        if traced:
            print(f"  {'':>7} Python's peak allocation (tracemalloc) over dry run + import: "
                  f"{traced['python_peak_mib']:6.1f} MiB")
        cpu_floor = ceiling["ceiling_cpu"]
        print(f"  {'':>7} CPU time of the process: dry run {got['dry_run_cpu']:5.1f} s + import "
              f"{got['commit_cpu']:5.1f} s, ceiling {cpu_floor:5.1f} s; "
              f"import/ceiling {got['commit_cpu'] / cpu_floor:4.1f}x"
              f" (a loaded machine stretches the wall-clock figures; CPU time does not count PostgreSQL's server)")


if __name__ == "__main__":
    main()
