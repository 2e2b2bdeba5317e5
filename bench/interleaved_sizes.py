"""The user page at two sizes served at once, requests interleaved in short bursts, so the ratio of the
sizes is measured under the same load (on a shared machine, sizes measured minutes apart are not).

    .venv/bin/python bench/interleaved_sizes.py SMALL_URL LARGE_URL [--dept-id 2] [--rounds 5] [--scoped]

SMALL_URL and LARGE_URL: databases a list bench left behind (bench/user_page.py or bench/dept_filter.py;
SQLite URLs serve from their file's directory as the instance). Prints per route the median requests/s
of each size and the ratio large / small. `--scoped` (databases of bench/dept_filter.py) adds the case of
its data-scope principal ("department and below", issue 21): the unfiltered page as that user asks it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Server, sign_in, throughput  # noqa: E402

PAGE = "/api/admin/system/user/page"


def _instance(url: str) -> str:
    return url.split("sqlite:///", 1)[1].rsplit("/", 1)[0] if url.startswith("sqlite") else tempfile.mkdtemp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("small_url")
    parser.add_argument("large_url")
    parser.add_argument("--dept-id", type=int)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--burst", type=int, default=100, help="requests per case, size and round")
    parser.add_argument("--scoped", action="store_true", help="add bench/dept_filter.py's data-scope principal")
    args = parser.parse_args()
    servers = {"small": Server("wsgi:app", args.small_url, _instance(args.small_url)),
               "large": Server("wsgi:app", args.large_url, _instance(args.large_url))}
    try:
        headers = {k: {"Authorization": f"Bearer {sign_in(s)}"} for k, s in servers.items()}
        role = {}
        for k, s in servers.items():
            _, data = s.request("POST", "/api/admin/role/page", {"pageSize": 100}, headers[k])
            role[k] = sorted(r["id"] for r in json.loads(data)["data"] if r["name"].startswith("bench-"))[1]
        cases: dict[str, Any] = {"first page": {}, "role filter": None, "state filter": {"state": 1},
                                 "keyword filter": {"keyword": "王员工1"}, "two-character name": {"keyword": "张伟"}}
        if args.dept_id:
            cases["department filter"] = {"deptId": args.dept_id}
        principals = {case: headers for case in cases}
        if args.scoped:
            from bench.dept_filter import SCOPE_CASE, scoped_sign_in

            cases[SCOPE_CASE] = {}
            principals[SCOPE_CASE] = {k: {"Authorization": f"Bearer {scoped_sign_in(s)}"} for k, s in servers.items()}
        runs: dict[tuple[str, str], list[float]] = {(k, c): [] for k in servers for c in cases}
        for _ in range(args.rounds):
            for case, filters in cases.items():
                for k, server in servers.items():
                    body = {"page": 1, "pageSize": 10, **(filters if filters is not None else {"roleIds": [role[k]]})}
                    runs[(k, case)].append(throughput(
                        server, lambda _i, b=body, h=principals[case][k]: ("POST", PAGE, b, h), args.burst, 4)["rps"])
        for case in cases:
            small, large = statistics.median(runs[("small", case)]), statistics.median(runs[("large", case)])
            print(f"  {case:28s} small {small:7.1f}  large {large:7.1f}  ratio {large / small:.2f}")
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
