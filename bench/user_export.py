"""Measure the user export on 100,000 users: time, file size, and peak Python memory while writing.

The export streams rows in id batches into xlsxwriter's constant-memory mode, so peak memory must stay
flat as the user count grows. Run with two sizes to see it:

    .venv/bin/python bench/user_export.py --users 20000 100000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import prepare_database  # noqa: E402
from bench.user_page import seed_users  # noqa: E402


def measure(count: int) -> tuple[float, float, int]:
    url, instance = prepare_database(None)
    seed_users(url, count)
    os.environ["PCLOUD_INSTANCE_DIR"] = instance
    from pcloud import create_app
    from pcloud.core.xlsx import write_xlsx
    from pcloud.users import service

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        # Timed without tracemalloc (it slows Python several times), then traced for memory.
        started = time.perf_counter()
        path = write_xlsx(service.EXPORT_HEADERS, service.export_rows([], {}), "用户信息")
        elapsed = time.perf_counter() - started
        os.unlink(path)
        tracemalloc.start()
        path = write_xlsx(service.EXPORT_HEADERS, service.export_rows([], {}), "用户信息")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    size = os.path.getsize(path)
    os.unlink(path)
    return elapsed, peak / 2**20, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, nargs="+", default=[20_000, 100_000])
    args = parser.parse_args()
    results = [(n, *measure(n)) for n in args.users]
    print("\nuser export (xlsxwriter constant_memory, id-keyset batches of 2,000)")
    for n, elapsed, peak, size in results:
        print(f"  {n:>7} users: {elapsed:5.1f} s, {n / elapsed:8.0f} rows/s, peak Python memory {peak:6.1f} MiB, "
              f"file {size / 2**20:5.1f} MiB")
    if len(results) > 1:
        ratio = results[-1][2] / results[0][2]
        print(f"  peak memory ratio largest/smallest = {ratio:.2f} for {results[-1][0] / results[0][0]:.0f}x the rows "
              f"(flat means streaming works)")


if __name__ == "__main__":
    main()
