"""Benchmark: what an idle job worker costs (no job due, no run to take), against the same worker reading the
tables on every tick, as it did before it listened for changes (PCLOUD_WORKER_QUIET_SECONDS=0).

    .venv/bin/python bench/worker_idle.py                                 # SQLite, 30 s each
    .venv/bin/python bench/worker_idle.py --database-url postgresql://pcloud:pcloud@127.0.0.1:5432/pcloud_bench_idle

A fresh database (`pcloud init`: its maintenance jobs are started, the next due in hours), one `pcloud worker`
at a time, left to settle, then measured for --duration seconds: the CPU of the worker's process tree (its own,
the fork server and the warm children), on PostgreSQL also the server's own CPU (every postgres process of this
machine: run it on a quiet server) and the transactions the database counted (pg_stat_database). Lower is better;
the baseline is the cost we had, the ceiling is nothing at all.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, bench_env, prepare_database  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        children = Path(f"/proc/{current}/task/{current}/children")
        if children.exists():
            todo += [int(c) for c in children.read_text().split()]
    return found


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _transactions(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        count = conn.execute(text("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                                  "WHERE datname = current_database()")).scalar_one()
    engine.dispose()
    return int(count)


def measure(url: str, instance: str, quiet: str, duration: float) -> dict[str, float]:
    env = bench_env(url, instance, PCLOUD_WORKER_QUIET_SECONDS=quiet)
    worker = subprocess.Popen([str(Path(sys.executable).parent / "pcloud"), "worker", "--name", f"idle-{quiet}"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(10)  # started, registered, children warm
        pg = url.startswith("postgres")
        tree = _tree(worker.pid)
        cpu, server = _cpu_of(tree), _cpu_of(_postgres_pids()) if pg else 0.0
        transactions = _transactions(url) if pg else 0
        time.sleep(duration)
        result = {"worker": (_cpu_of(tree) - cpu) / duration * 100}
        if pg:
            result["server"] = (_cpu_of(_postgres_pids()) - server) / duration * 100
            result["transactions"] = (_transactions(url) - transactions - 2) / duration  # less this bench's own
        return result
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--duration", type=float, default=30)
    args = parser.parse_args()
    url, instance = prepare_database(args.database_url)
    rows = {"every tick reads (baseline)": measure(url, instance, "0", args.duration),
            "reads when told (ours)": measure(url, instance, "1", args.duration)}
    print(f"{url.split('@')[-1]}: an idle worker over {args.duration:.0f} s")
    for name, figures in rows.items():
        said = f"worker tree {figures['worker']:.1f}% of a core"
        if "server" in figures:
            said += f", PostgreSQL {figures['server']:.1f}% of a core, {figures['transactions']:.1f} transactions/s"
        print(f"  {name:30} {said}")


if __name__ == "__main__":
    main()
