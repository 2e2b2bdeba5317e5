"""Benchmark: the job worker firing 10,000 once-a-minute CRON jobs plus 50 every-second jobs.

    .venv/bin/python bench/scheduler.py                                   # SQLite, one worker, 60 s
    .venv/bin/python bench/scheduler.py --workers 2 --database-url postgresql://pcloud:pcloud@127.0.0.1:5432/pcloud_bench

Builds a fresh database (`pcloud init`; a named PostgreSQL database is dropped and recreated), inserts
the jobs in bulk (the minute jobs spread over the 60 seconds of the minute, `S * * * * ?`; route
strategy ROUND, so that several workers share the runs), starts the
workers (`pcloud worker`), starts every job at once and lets them fire for --duration seconds (the
issue says 3 minutes; 60 s by default here to share the machine), then stops the jobs, waits for the
last runs and stops the workers. The handler is trivial: it returns the moment it started.

Prints the fire lag (handler start minus planned time) p50 / p99 / max, runs per second, missed
fires (a planned fire inside the window without a run) and duplicates (a fire with two runs), and
the CPU time and peak memory of each worker (its own process, and the whole tree with the fork
server and the children). Goals: 0 missed, 0 duplicates, p99 under 1 s, peak memory under 300 MB.

--chained 0.2 (issue 23) puts that share of the minute jobs into dependency chains of --chain-length
jobs (each one's parent the one before it, every one still on its own CRON second): each success of a
chain member triggers the next one (PARENT) once it has succeeded since the next one's last run. Prints
the PARENT runs, their duplicates (two PARENT runs of one job from one parent run) and their lag (handler
start minus the parent's end). --scripts 0.1 makes that share of all jobs (minute and second) script jobs,
alternately GLUE_SHELL and GLUE_PYTHON, each printing the time it started as its one line of output; they
are chosen apart from the chain members (chains stay handler jobs) and spread over the seconds of the
minute like the other jobs (--script-seconds 6 puts them on six seconds: a burst of ~170 scripts on each), and
their runs are reported on a line of their own: planned, run, failed, missed, duplicates and lag (the printed
start minus the planned time, so it includes starting the interpreter).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pcloud.jobs.handlers import JobContext, job_handler  # noqa: E402

SCRIPTS = [{"glue_type": "GLUE_SHELL", "glue_source": "date +%s.%N\n"},
           {"glue_type": "GLUE_PYTHON", "glue_source": "import time\nprint(f'{time.time():.6f}')\n"}]


@job_handler("benchNoop")
def bench_noop(ctx: JobContext) -> str:
    return f"{time.time():.6f}"


CLK = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """The process and all its descendants (the fork server and its children)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime
    except OSError:
        return 0.0


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    """VmHWM / VmRSS from /proc/PID/status, or Pss (shared pages counted once across the tree)."""
    path = f"/proc/{pid}/smaps_rollup" if key == "Pss" else f"/proc/{pid}/status"
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def report_runs(label: str, runs: list, expected: set[tuple[int, datetime]], start_n: datetime, end_n: datetime,
                duration: int) -> None:
    """Planned fires, runs, failures, lag, missed and duplicates of one kind of job (handler or script)."""
    seen: dict[tuple[int, datetime], int] = {}
    lags = []
    parts: dict[str, list[float]] = {"claim": [], "pick-up": [], "start": []}
    failed = unfinished = 0
    for job_id, when, code, msg, _ttype, fired, claimed in runs:
        key = (job_id, when)
        seen[key] = seen.get(key, 0) + 1
        if code == 200 and msg:
            lags.append(float(msg) - when.replace(tzinfo=UTC).timestamp())
            parts["claim"].append((fired - when).total_seconds())
            parts["pick-up"].append((claimed - fired).total_seconds())
            parts["start"].append(float(msg) - claimed.replace(tzinfo=UTC).timestamp())
        elif code == 0:  # still waiting (or running) when the bench stopped waiting for the last runs
            unfinished += 1
        elif code != 200:
            failed += 1
    in_window = [k for k in seen if start_n <= k[1] < end_n]
    missed = len(expected - set(seen))
    dups = sum(n - 1 for n in seen.values() if n > 1)
    lags.sort()

    def pct(p: float) -> float:
        return lags[min(len(lags) - 1, int(len(lags) * p))] * 1000 if lags else float("nan")

    prefix = f"[{label}] " if label else ""
    print(f"{prefix}planned fires in the window: {len(expected)}; runs: {len(runs)} ({len(in_window)} in the "
          f"window), failed {failed}, unfinished {unfinished}")
    print(f"{prefix}fire lag ms: p50 {pct(.5):.0f}  p99 {pct(.99):.0f}  max {lags[-1] * 1000 if lags else 0:.0f}")
    print(f"{prefix}  of which (p50 / p99 ms): " + ", ".join(
        f"{name} {sorted(v)[len(v) // 2] * 1000:.0f} / {sorted(v)[int(len(v) * .99)] * 1000:.0f}"
        for name, v in parts.items() if v))
    print(f"{prefix}runs per second: {len(in_window) / duration:.1f}; missed {missed}; duplicates {dups}")


def main() -> None:
    from bench.common import bench_env, prepare_database

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--minute-jobs", type=int, default=10_000)
    parser.add_argument("--second-jobs", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--warm-children", default="8", help="PCLOUD_WORKER_MIN_CHILDREN of the workers")
    parser.add_argument("--children", default="8", help="PCLOUD_WORKER_CHILDREN of the workers (most runs at once)")
    parser.add_argument("--chained", type=float, default=0.0, help="share of the minute jobs in dependency chains")
    parser.add_argument("--chain-length", type=int, default=4)
    parser.add_argument("--scripts", type=float, default=0.0, help="share of script (GLUE) jobs")
    parser.add_argument("--script-seconds", type=int, default=60,
                        help="the minute script jobs fire on this many seconds of the minute (6: bursts of ~170)")
    parser.add_argument("--analyze", action="store_true", help="refresh the planner statistics after loading the jobs")
    args = parser.parse_args()
    from pcloud.jobs.models import Job as JobModel

    if args.scripts and not hasattr(JobModel, "glue_type"):
        parser.error("--scripts needs script jobs (GLUE, issue 23 item 2), which this build does not have")
    if args.scripts and not 0 < args.scripts <= 0.5:
        parser.error("--scripts is a share between 0 and 0.5")

    url, instance = prepare_database(args.database_url)
    env = bench_env(url, instance, PCLOUD_JOB_HANDLER_MODULES="bench.scheduler", PYTHONPATH=str(ROOT),
                    PCLOUD_WORKER_REPORT_SECONDS="5", PCLOUD_WORKER_MIN_CHILDREN=args.warm_children,
                    PCLOUD_WORKER_CHILDREN=args.children)
    os.environ.update({"DATABASE_URL": url, "PCLOUD_INSTANCE_DIR": instance, "PCLOUD_SECRET_KEY": "bench"})
    from sqlalchemy import func, insert, select, update

    from pcloud import create_app
    from pcloud.extensions import db
    from pcloud.jobs.models import Executor, Job, JobRun, JobRunLine
    from pcloud.jobs.worker.runtime import _ms

    app = create_app()
    with app.app_context():
        executor = db.session.execute(select(Executor.id)).scalars().first()
        base = {"job_group": executor, "author": "bench", "schedule_type": "CRON", "timezone": "Asia/Shanghai",
                "executor_handler": "benchNoop", "executor_block_strategy": "SERIAL_EXECUTION",
                "executor_route_strategy": "ROUND", "trigger_status": 0,
                "trigger_next_time": 0}
        rows = [{**base, "job_desc": f"minute {i}", "schedule_conf": f"{i % 60} * * * * ?"}
                for i in range(args.minute_jobs)]
        rows += [{**base, "job_desc": f"second {i}", "schedule_conf": "* * * * * ?"} for i in range(args.second_jobs)]
        if args.scripts:  # script jobs print what benchNoop returns: the time they started
            every = round(1 / args.scripts)
            chain_step = round(1 / args.chained) if args.chained else 0
            # Never a chain member (those are the minute jobs n % chain_step == 0), and spread over the seconds of
            # the minute like the other jobs: ordered by second before taking every `every`-th. (Every tenth job
            # in creation order would put all of them on six seconds of the minute: n % 60 in 1, 11, ..., 51.)
            minute = [n for n in range(args.minute_jobs) if not chain_step or n % chain_step]
            seconds = sorted({n % 60 for n in minute})
            seconds = set(seconds[::max(1, len(seconds) // args.script_seconds)][:args.script_seconds])
            minute = sorted((n for n in minute if n % 60 in seconds), key=lambda n: (n % 60, n))
            chosen = minute[::max(1, round(len(minute) / (args.scripts * args.minute_jobs)))]
            chosen += list(range(args.minute_jobs, len(rows)))[::every]
            for n, at in enumerate(chosen):
                rows[at].update(executor_handler="", glue_updated_at=datetime.now(UTC).replace(tzinfo=None),
                                glue_remark="bench", **SCRIPTS[n % 2])
        db.session.execute(insert(Job), rows)
        db.session.commit()
        chains = 0
        if args.chained:
            from pcloud.jobs.models import JobDependency

            minute_ids = list(db.session.execute(select(Job.id).where(Job.job_desc.like("minute %"))
                                                 .order_by(Job.id)).scalars())
            step = round(1 / args.chained)
            members = minute_ids[::step]  # spread over the seconds of the minute
            links = []
            for at in range(0, len(members) - args.chain_length + 1, args.chain_length):
                chain = members[at:at + args.chain_length]
                links += [{"job_id": b, "parent_job_id": a} for a, b in zip(chain, chain[1:], strict=False)]
                chains += 1
            db.session.execute(insert(JobDependency), links)
            db.session.commit()
        if args.analyze:  # what the daily dbStatsHandler does: the planner sees 10k jobs, not init's four
            from sqlalchemy import text

            db.session.execute(text("ANALYZE"))
            db.session.commit()
    print(f"{url.split('@')[-1]}: {args.minute_jobs} minute jobs + {args.second_jobs} second jobs, "
          f"{chains * args.chain_length} in {chains} dependency chains, "
          f"{sum(1 for r in rows if r.get('glue_type'))} script jobs, {args.workers} worker(s) with "
          f"{args.warm_children}+ warm children (at most {args.children}), {args.duration} s")

    workers = []
    for i in range(args.workers):
        with open(Path(instance) / f"worker-{i}.log", "wb") as log_file:
            workers.append(subprocess.Popen([str(Path(sys.executable).parent / "pcloud"), "worker", "--name",
                                             f"bench-{i}"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                            stderr=log_file))
    with app.app_context():
        from pcloud.jobs.models import JobRegistry

        deadline = time.monotonic() + 120
        while db.session.execute(select(func.count()).select_from(JobRegistry)).scalar() < args.workers:
            assert time.monotonic() < deadline, "workers did not register"
            time.sleep(0.2)
            db.session.rollback()
        time.sleep(3)  # children warm
        # start everything: the first fire of each job is its first planned time after `start`
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
        end = start + timedelta(seconds=args.duration)
        minute_jobs = db.session.execute(select(Job.id, Job.schedule_conf).where(Job.author == "bench")).all()
        updates = []
        for job_id, conf in minute_jobs:
            second = conf.split()[0]
            if second == "*":
                first = start
            else:
                first = start.replace(second=int(second))
                if first < start:
                    first += timedelta(minutes=1)
            updates.append({"jid": job_id, "nxt": _ms(first)})
        from sqlalchemy import bindparam

        db.session.execute(update(Job.__table__).where(Job.__table__.c.id == bindparam("jid")).values(
            trigger_status=1, trigger_next_time=bindparam("nxt")), updates)
        db.session.commit()
        cpu0 = {w.pid: sum(cpu_seconds(p) for p in tree(w.pid)) for w in workers}
        cpu_main0 = {w.pid: cpu_seconds(w.pid) for w in workers}
        peak_tree = {w.pid: 0.0 for w in workers}
        while datetime.now(UTC) < end:
            for w in workers:
                peak_tree[w.pid] = max(peak_tree[w.pid], sum(rss_mb(p, "Pss") for p in tree(w.pid)))
            time.sleep(1)
        db.session.execute(update(Job).values(trigger_status=0, trigger_next_time=0))
        db.session.commit()
        cpu = {w.pid: sum(cpu_seconds(p) for p in tree(w.pid)) - cpu0[w.pid] for w in workers}
        cpu_main = {w.pid: cpu_seconds(w.pid) - cpu_main0[w.pid] for w in workers}
        peak_main = {w.pid: rss_mb(w.pid, "VmHWM") for w in workers}
        deadline = time.monotonic() + 60
        while db.session.execute(select(func.count()).select_from(JobRun).where(JobRun.status != "DONE")).scalar():
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
            db.session.rollback()
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(60)
        # a script's start is its first output line (its message is the exit code)
        first_line = (select(JobRunLine.log_id, func.min(JobRunLine.line_no).label("n"))
                      .group_by(JobRunLine.log_id).subquery())
        started = (select(JobRunLine.log_id, JobRunLine.content)
                   .join(first_line, (first_line.c.log_id == JobRunLine.log_id)
                         & (first_line.c.n == JobRunLine.line_no)).subquery())
        all_runs = db.session.execute(
            select(JobRun.job_id, JobRun.schedule_time, JobRun.handle_code,
                   func.coalesce(started.c.content, JobRun.handle_msg), JobRun.trigger_type, JobRun.trigger_time,
                   JobRun.claimed_at)
            .outerjoin(started, started.c.log_id == JobRun.id)
            .where(JobRun.trigger_type != "PARENT")).all()
        script_jobs = set(db.session.execute(select(Job.id).where(Job.author == "bench",
                                                                  Job.glue_type != "BEAN")).scalars())
        parent_end = db.session.query(JobRun.id, JobRun.handle_time).subquery()
        parent_runs = db.session.execute(
            select(JobRun.job_id, JobRun.parent_log_id, JobRun.handle_code, JobRun.handle_msg, parent_end.c.handle_time)
            .join(parent_end, parent_end.c.id == JobRun.parent_log_id).where(JobRun.trigger_type == "PARENT")).all()
        conf = dict(db.session.execute(select(Job.id, Job.schedule_conf).where(Job.author == "bench")).all())

    start_n, end_n = start.replace(tzinfo=None), end.replace(tzinfo=None)
    expected: dict[bool, set[tuple[int, datetime]]] = {False: set(), True: set()}  # by "is a script job"
    for job_id, c in conf.items():
        second = c.split()[0]
        t = start_n
        while t < end_n:
            if second == "*" or t.second == int(second):
                expected[job_id in script_jobs].add((job_id, t))
            t += timedelta(seconds=1)
    kinds = [(False, "handler jobs" if script_jobs else "")] + ([(True, "script jobs")] if script_jobs else [])
    for is_script, label in kinds:
        runs = [r for r in all_runs if r[0] in conf and (r[0] in script_jobs) == is_script]
        report_runs(label, runs, expected[is_script], start_n, end_n, args.duration)
    if args.chained:
        per_parent = Counter((job_id, parent) for job_id, parent, *_ in parent_runs)
        parent_lags = sorted(float(msg) - ended.replace(tzinfo=UTC).timestamp()
                             for _j, _p, code, msg, ended in parent_runs if code == 200 and msg and ended)

        def ppct(p: float) -> float:
            return parent_lags[min(len(parent_lags) - 1, int(len(parent_lags) * p))] * 1000 if parent_lags else 0

        print(f"PARENT runs (dependency chains): {len(parent_runs)}, failed "
              f"{sum(1 for r in parent_runs if r[2] not in (0, 200))}, unfinished "
              f"{sum(1 for r in parent_runs if r[2] == 0)}, duplicates {sum(n - 1 for n in per_parent.values())}; "
              f"lag after the parent's end ms: p50 {ppct(.5):.0f}  p99 {ppct(.99):.0f}  "
              f"max {parent_lags[-1] * 1000 if parent_lags else 0:.0f}")
    for i, w in enumerate(workers):
        print(f"worker bench-{i}: CPU {cpu_main[w.pid]:.1f} s own + tree {cpu[w.pid]:.1f} s "
              f"({cpu[w.pid] / args.duration * 100:.0f}% of one core); peak memory own {peak_main[w.pid]:.0f} MB, "
              f"tree {peak_tree[w.pid]:.0f} MB (proportional set size, shared pages counted once)")


ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    main()
