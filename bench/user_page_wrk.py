"""The user page under wrk (Debian's /usr/bin/wrk), a load generator that is not the bottleneck: the benches'
own Python client saturates at about 2,400 requests/s, wrk at 5,000-6,000 from a constant-JSON app.

    .venv/bin/python bench/user_page_wrk.py --seed sqlite:///tmp/u10k.db=10000 ...   (seed, then exit)
    .venv/bin/python bench/user_page_wrk.py --db small=sqlite:///tmp/u10k.db --db large=sqlite:///tmp/u100k.db \\
        --code main=/path/to/main/checkout --code branch=. [--connections 16] [--seconds 10] [--rounds 3]

`--seed URL=N` makes a database with N bench users (`pcloud init`, then bench.common.seed_users_sql and the
statistics step; a PostgreSQL database is dropped and created anew). `--db NAME=URL`: databases to serve;
`--code NAME=DIR`: checkouts whose `wsgi:app` serves them (gunicorn -w 2, one at a time), so two commits are
measured in the same run. Each round measures every (code, database, case) once, in alternating order;
prints per case the median requests/s and latency percentiles over the rounds, and the ratio of each
database's requests/s to the first one's (sizes: large / small).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ADMIN_PASSWORD,
    ADMIN_PHONE,
    analyse,
    bench_env,
    free_port,
    prepare_database,
    seed_users_sql,
)

PAGE = "/api/admin/system/user/page"
ROOT = Path(__file__).resolve().parent.parent
# wrk prints its own percentiles through this script: the request, then one RESULT line
LUA = """
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN")
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %d\\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout))
end
"""


def seed(url: str, count: int) -> None:
    prepare_database(url)  # a fresh schema: the PostgreSQL database recreated, `pcloud init`
    started = time.perf_counter()
    role_ids = seed_users_sql(url, count)
    analyse(url)
    print(f"{url}: {count:,} users seeded and analysed in {time.perf_counter() - started:.1f} s; roles {role_ids}")


class Gunicorn:
    def __init__(self, code_dir: str, url: str, workers: int = 2) -> None:
        self.port = free_port()
        instance = url.split("sqlite:///", 1)[1].rsplit("/", 1)[0] if url.startswith("sqlite") else tempfile.mkdtemp()
        self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b",
                                      f"127.0.0.1:{self.port}", "--log-level", "warning", "wsgi:app"],
                                     cwd=code_dir, env=bench_env(url, instance))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.post("/api/oauth/token", {})
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn in {code_dir} did not start")

    def post(self, path: str, body: Any, token: str | None = None) -> tuple[int, Any]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        conn.request("POST", path, body=json.dumps(body), headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, json.loads(data) if data else None

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


def wrk(port: int, token: str, body: dict[str, Any], connections: int, seconds: int, script: str,
        path: str = PAGE) -> dict[str, float]:
    # --timeout: a slow answer is measured, not counted as an error (wrk's own default gives up early)
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "60s",
                          "-s", script, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True,
                         env={**os.environ, "WRK_BODY": json.dumps(body), "WRK_TOKEN": token}).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    requests, duration_us, p50, p95, p99, errors = line.split()[1:]
    if int(errors):
        raise RuntimeError(f"{errors} failed requests: {out}")
    return {"rps": int(requests) / (int(duration_us) / 1e6), "p50": float(p50), "p95": float(p95),
            "p99": float(p99)}


def cases(server: Gunicorn, token: str, keyword: str) -> dict[str, dict[str, Any]]:
    status, roles = server.post("/api/admin/role/page", {"pageSize": 50, "roleCode": "ROLE_DEV"}, token)
    role_id = roles["data"][0]["id"]
    return {"first page": {"page": 1, "pageSize": 10},
            "role filter": {"page": 1, "pageSize": 10, "roleIds": [role_id]},
            "state filter": {"page": 1, "pageSize": 10, "state": 1},
            "keyword": {"page": 1, "pageSize": 10, "keyword": keyword}}


def add_wrk_options(parser: argparse.ArgumentParser) -> None:
    """The options of a wrk bench over databases and checkouts (see the module's docstring)."""
    parser.add_argument("--db", action="append", default=[], help="NAME=URL")
    parser.add_argument("--code", action="append", default=[], help="NAME=DIR")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="comma-separated cases to run")


def run_rounds(args: argparse.Namespace, path: str,
               make_cases: Callable[[Gunicorn, str], dict[str, dict[str, Any]]],
               check: Callable[[str, dict[str, Any]], None] | None = None
               ) -> dict[tuple[str, str, str], dict[str, float]]:
    """Every (code, database, case) once per round, in alternating order, under wrk; prints each measure and then
    per case the medians over the rounds (req/s, p50/p95/p99 ms) and the ratio of its requests/s to the first
    database's. `check(case, answer)`: asserts the first answer of each case is the one meant. Returns the medians."""
    dbs = dict(spec.split("=", 1) for spec in args.db)
    codes = dict(spec.split("=", 1) for spec in args.code) or {"this": str(ROOT)}
    script = Path(tempfile.mkdtemp(prefix="pcloud-wrk-")) / "post.lua"
    script.write_text(LUA, encoding="utf-8")
    results: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    for round_no in range(args.rounds):
        order = [(c, d) for c in codes for d in dbs]
        if round_no % 2:
            order.reverse()
        for code, db in order:
            server = Gunicorn(codes[code], dbs[db])
            try:
                status, signed = server.post("/api/oauth/token", {"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD,
                                                                   "grantType": "ADMIN"})
                token = signed["data"]["token"]
                for name, body in make_cases(server, token).items():
                    if args.only and name not in args.only.split(","):
                        continue
                    status, page = server.post(path, body, token)
                    assert status == 200, (name, status, page)
                    if check:
                        check(name, page)
                    server.post(path, body, token)  # warm both workers a little
                    got = wrk(server.port, token, body, args.connections, args.seconds, str(script), path)
                    got["total"] = page["total"]
                    results.setdefault((code, db, name), []).append(got)
                    print(f"round {round_no + 1} {code:8} {db:8} {name:14} {got['rps']:7.0f} req/s  "
                          f"p50/p95/p99 {got['p50']:.1f}/{got['p95']:.1f}/{got['p99']:.1f} ms  total {page['total']}",
                          flush=True)
            finally:
                server.stop()
    print("\nmedians over the rounds (req/s, p50/p95/p99 ms), ratio to the first database")
    first_db = next(iter(dbs))
    medians = {}
    for (code, db, name), runs in sorted(results.items()):
        med = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p95", "p99")}
        medians[(code, db, name)] = med
        base = statistics.median(r["rps"] for r in results[(code, first_db, name)])
        print(f"{code:8} {db:8} {name:14} {med['rps']:7.0f}  {med['p50']:.1f}/{med['p95']:.1f}/{med['p99']:.1f}  "
              f"ratio {med['rps'] / base:.2f}")
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", action="append", default=[], help="URL=N: make a database of N users")
    add_wrk_options(parser)
    parser.add_argument("--keyword", default="员工12", help="matches about 1.1%% of the bench users (i from 12...)")
    args = parser.parse_args()
    for spec in args.seed:
        url, count = spec.rsplit("=", 1)
        seed(url, int(count))
    if not args.db:
        return

    def check(name: str, page: dict[str, Any]) -> None:
        assert page["data"], (name, page)

    run_rounds(args, PAGE, lambda server, token: cases(server, token, args.keyword), check)


if __name__ == "__main__":
    main()
