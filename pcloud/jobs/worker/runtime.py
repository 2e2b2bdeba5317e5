"""`pcloud worker`: one process that is both a node (runs the runs addressed to it) and a scheduler
(fires due jobs), driven by a `schedule` loop of short ticks.

The states and columns it writes are those of ``pcloud.jobs.models`` (read its docstring first).

A tick reads the tables only when something may be new: the database said a job, run or executor changed
(``JOBS_CHANNEL``: NOTIFY on PostgreSQL, the data version of an SQLite file), the earliest next fire time read last
has come, or ``quiet_max`` (a second) has passed whatever happens. An idle worker costs a look at a socket or a
pragma per tick, not two queries.

Scheduler (every tick): in one write transaction (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite) take the due jobs, plan their fires (``misfire.plan_fires``, from the
planned time), route each fire (``routing.route`` over the executor's live nodes) and insert the runs
with ``ON CONFLICT DO NOTHING`` on the unique fire key, then advance ``trigger_next_time``. However many
schedulers run, a fire has one run.

Node (every tick): take the PENDING runs addressed to this node (or to any node of its executor),
apply the job's block strategy against what this node is running, mark them RUNNING with a
conditional update (so two nodes never take the same run) and hand them to the child pool. Output
lines are appended to ``job_log_line`` while the run executes; the outcome ends the run and triggers
its follow-ups: a retry (RETRY) within the retry budget, child jobs (PARENT) after a success, an alarm
after a failure.

Every few seconds any worker also ends the RUNNING runs of nodes that stopped beating (504, executor
lost; retried within the budget) and hands PENDING runs addressed to a dead node to any live node.

Settings (environment): PCLOUD_WORKER_TICK (0.05 s), PCLOUD_WORKER_HEARTBEAT_SECONDS (10),
PCLOUD_NODE_DEAD_SECONDS (30), PCLOUD_MISFIRE_GRACE_SECONDS (5), PCLOUD_WORKER_CHILDREN (8, the most
runs at once), PCLOUD_WORKER_SCRIPT_CHILDREN (half of them: the most script runs at once),
PCLOUD_WORKER_MIN_CHILDREN (2, kept warm even when idle), PCLOUD_WORKER_SHUTDOWN_GRACE
(10 s), PCLOUD_WORKER_MAX_LOG_LINES (100000 per run), PCLOUD_WORKER_QUIET_SECONDS (1 s: the longest a tick goes
without reading the tables; 0: every tick reads, for a database whose notifications cannot come through, such as
PostgreSQL behind PgBouncer in transaction mode, which has no LISTEN), PCLOUD_JOB_HANDLER_MODULES, and the alarm
settings of ``alarms``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import schedule
from flask_babel import gettext
from sqlalchemy import and_, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from pcloud.core.database import ChangeSignal, change_signal
from pcloud.core.i18n import clipped, joined, said, translated
from pcloud.core.messages import N_
from pcloud.core.numbers import digits_only
from pcloud.core.timefmt import format_local, utcnow
from pcloud.extensions import db
from pcloud.jobs import cron
from pcloud.jobs.handlers import handler_modules, load_entry_points
from pcloud.jobs.models import (
    ADDRESS_MANUAL,
    ALARM_NOT_NEEDED,
    ALARM_SUPPRESSED,
    GLUE_SCRIPT_TYPES,
    HANDLE_FAILED,
    HANDLE_KILLED,
    HANDLE_LOST,
    HANDLE_SUCCESS,
    HANDLE_TIMEOUT,
    MAX_CHAIN_DEPTH,
    RUN_DONE,
    RUN_PENDING,
    RUN_RUNNING,
    Executor,
    Job,
    JobDependency,
    JobRegistry,
    JobRun,
    JobRunLine,
)
from pcloud.jobs.worker import misfire, routing
from pcloud.jobs.worker.alarms import AlarmSender
from pcloud.jobs.worker.pool import ChildPool, Outcome
from pcloud.jobs.worker.script import make_undumpable

log = logging.getLogger("pcloud.worker")

DEFAULT_EXECUTOR = "pcloud-executor"
RETRY_CODES = (HANDLE_FAILED, HANDLE_TIMEOUT, HANDLE_LOST)
ALARM_CODES = (HANDLE_FAILED, HANDLE_TIMEOUT, HANDLE_LOST)
MSG_LIMIT = 4000
JOBS_CHANNEL = "pcloud_jobs"  # NOTIFYed by the triggers of migration 0036 when a job, run or executor changes
# pg_advisory_xact_lock(DEPENDENTS_LOCK, job id): one dependency check of a job at a time ("jobd" in ASCII)
DEPENDENTS_LOCK = 0x6A6F6264
# pg_advisory_xact_lock(BLOCK_LOCK, job id): one node at a time decides whether a job is busy ("jobb")
BLOCK_LOCK = 0x6A6F6262
# Run messages the worker stores: fixed ones marked N_, the others with their values by core.i18n.said, so that a page
# (and the API) says each in its reader's language; an alarm says them in the deployment's (PCLOUD_DEFAULT_LANGUAGE).
COVER_MSG = N_("阻塞处理策略生效：COVER_EARLY，被后续调度覆盖")
KILLED_MSG = N_("人工终止")
# a run this node still held after it stalled past the dead timeout, which the others ended and retried
LOST_ELSEWHERE_MSG = N_("本节点失联期间该运行已被判定丢失并另行处理，本地执行已终止")

JOB_T = Job.__table__
RUN_T = JobRun.__table__
LINE_T = JobRunLine.__table__
REG_T = JobRegistry.__table__
GROUP_T = Executor.__table__
DEP_T = JobDependency.__table__


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


@dataclass
class WorkerSettings:
    executor: str = DEFAULT_EXECUTOR
    name: str = ""
    tick: float = 0.05
    heartbeat: float = 10.0
    dead_after: float = 30.0
    misfire_grace: float = 5.0
    children: int = 8
    script_children: int = 4
    min_children: int = 2
    shutdown_grace: float = 10.0
    max_log_lines: int = 100_000
    claim_batch: int = 500
    quiet_max: float = 1.0  # the longest a tick goes without reading the tables, whatever the change signal says

    @classmethod
    def from_env(cls, executor: str | None = None, name: str | None = None) -> WorkerSettings:
        return cls(
            executor=executor or os.environ.get("PCLOUD_WORKER_GROUP") or DEFAULT_EXECUTOR,
            name=name or os.environ.get("PCLOUD_WORKER_NAME") or f"{socket.gethostname()}:{os.getpid()}",
            tick=_env_float("PCLOUD_WORKER_TICK", 0.05),
            heartbeat=_env_float("PCLOUD_WORKER_HEARTBEAT_SECONDS", 10),
            dead_after=_env_float("PCLOUD_NODE_DEAD_SECONDS", 30),
            misfire_grace=_env_float("PCLOUD_MISFIRE_GRACE_SECONDS", 5),
            children=(children := int(_env_float("PCLOUD_WORKER_CHILDREN", 8))),
            script_children=int(_env_float("PCLOUD_WORKER_SCRIPT_CHILDREN", max(1, children // 2))),
            min_children=int(_env_float("PCLOUD_WORKER_MIN_CHILDREN", 2)),
            shutdown_grace=_env_float("PCLOUD_WORKER_SHUTDOWN_GRACE", 10),
            max_log_lines=int(_env_float("PCLOUD_WORKER_MAX_LOG_LINES", 100_000)),
            quiet_max=_env_float("PCLOUD_WORKER_QUIET_SECONDS", 1.0),
        )


@dataclass
class LocalRun:
    """A run this node has claimed: what the pool needs, and its output waiting to be written."""

    id: int
    job_id: int
    handler: str
    param: str | None
    context: dict[str, Any]
    timeout: float
    lines: list[tuple[int, str]] = field(default_factory=list)
    line_no: int = 0
    truncated: bool = False
    submitted: bool = False

    @property
    def is_script(self) -> bool:
        return self.context.get("glue_type") in GLUE_SCRIPT_TYPES


def _naive(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@functools.lru_cache(maxsize=8192)
def next_fire_after(schedule_type: str, conf: str | None, tz: str, after: datetime) -> datetime | None:
    """The schedule's first fire after `after` (naive UTC). Cached: many jobs share an expression and
    fire at the same planned time, and croniter is the scheduler's main cost."""
    return _naive(cron.next_fire_time(schedule_type, conf, tz, after))


def _ms_to_naive(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None)


def _ms(moment: datetime) -> int:
    return cron.to_epoch_ms(moment)


class Worker:
    def __init__(self, settings: WorkerSettings, alarms: AlarmSender | None = None):
        self.settings = settings
        self.engine = db.engine
        self.pg = self.engine.dialect.name == "postgresql"
        self.alarms = alarms or AlarmSender()
        self.pool = ChildPool("pcloud.jobs.worker.child:invoke", setup="pcloud.jobs.worker.child:setup",
                              min_size=min(settings.min_children, settings.children), max_size=settings.children,
                              spare=1,
                              on_line=self._on_line, on_done=self._on_done,
                              preload=["pcloud.jobs.worker.child", *handler_modules()])
        self.rng = random.Random()
        self.local: dict[int, LocalRun] = {}
        self.by_job: dict[int, set[int]] = {}
        self.outcomes: list[Outcome] = []
        self.stopping = False
        self.executors: dict[int, Any] = {}
        self.my_executors: list[int] = []
        self.addressed_executors: list[int] = []
        self.live: dict[str, float] = {}  # node name -> seconds since heartbeat
        self.live_by_app: dict[str, list[routing.Node]] = {}
        self.live_read_at = 0.0
        self.scheduler = schedule.Scheduler()
        self.loop_at = time.monotonic()  # when the scheduling loop last came round: the heartbeat's watchdog
        self.beats_withheld = 0  # beats skipped for a stuck loop, in the periodic report
        self._beats_stop = threading.Event()
        self._beats: threading.Thread | None = None
        self.stats = {"fired": 0, "started": 0, "finished": 0}
        self._last_now = datetime.min
        self.tick_stats = dict.fromkeys(("n", "claim", "pick", "flush", "claim_max", "pick_max", "flush_max"), 0.0)
        self.changes: ChangeSignal | None = None  # made at the first tick (`_may_have_work`); None in memory
        self.changes_made = False
        self.change_seen: object | None = None
        self.tables_read_at = -math.inf
        self.first_due_ms: float = 0  # the earliest next fire of a started job, as the last read saw it

    # ------------------------------------------------------------------------------- plumbing
    @contextlib.contextmanager
    def tx(self) -> Iterator[Connection]:
        """A write transaction; on SQLite it takes the write lock up front (BEGIN IMMEDIATE) so that
        a read followed by a write never fails on a lock upgrade."""
        with self.engine.connect() as conn:
            if not self.pg:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def _guard(self, func: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            try:
                func()
            except Exception:  # noqa: BLE001 - the loop never dies of one failed step
                log.exception("worker step %s failed", func.__name__)

        run.__name__ = func.__name__
        return run

    # ------------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        self.pool.start()
        self.recover_own_runs()
        self.heartbeat()
        self.start_heartbeat()
        s = self.settings
        self.scheduler.every(s.tick).seconds.do(self._guard(self.tick))
        self.scheduler.every(0.5).seconds.do(self._guard(self.watch_kills))
        self.scheduler.every(min(2.0, s.dead_after / 3)).seconds.do(self._guard(self.sweep_lost))
        self.scheduler.every(0.5).seconds.do(self._guard(self.collect_alarms))
        self.scheduler.every(_env_float("PCLOUD_WORKER_REPORT_SECONDS", 60)).seconds.do(self._guard(self.report))
        log.info("worker %s started (executor %s, %s database, up to %s runs at once)", s.name, s.executor,
                 self.engine.dialect.name, s.children)

    def run_forever(self) -> None:
        def stop(signum: int, _frame: Any) -> None:
            if self.stopping:  # a second signal: do not wait for the grace period
                self.settings.shutdown_grace = 0
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.start()
        while not self.stopping:
            self.loop_at = time.monotonic()
            self.scheduler.run_pending()
            idle = self.scheduler.idle_seconds
            self.pool.poll(max(0.0, min(idle if idle is not None else self.settings.tick, self.settings.tick)))
            self._submit_waiting()
        self.shutdown()

    def shutdown(self) -> None:
        """Stop claiming, let running runs finish for the grace period, end the rest as killed (runs
        claimed but not started yet go back to PENDING)."""
        self.stopping = True
        log.info("worker %s stopping: %s runs running", self.settings.name, len(self.local))
        deadline = time.monotonic() + self.settings.shutdown_grace
        last_flush = time.monotonic()
        while self.pool.busy_count() and time.monotonic() < deadline:
            self.loop_at = time.monotonic()
            self.pool.poll(0.1)
            if time.monotonic() - last_flush > 0.5:
                self._guard(self.flush)()
                last_flush = time.monotonic()
        self.pool.shutdown(0, msg=N_("执行器停止，任务被终止"))
        self._guard(self.flush)()
        leftover = [run.id for run in self.local.values()]
        if leftover:  # claimed but never started: back to PENDING, for any node of the executor
            with self.tx() as conn:
                conn.execute(update(RUN_T).where(RUN_T.c.id.in_(leftover), RUN_T.c.status == RUN_RUNNING).values(
                    status=RUN_PENDING, executor_address=None, claimed_at=None,
                    trigger_msg=N_("原节点停止前未开始执行，改由执行器的任一在线节点执行")))
        self.local.clear()
        self.stop_heartbeat()  # before the row goes: a beat after would register the node again
        with contextlib.suppress(Exception), self.tx() as conn:
            conn.execute(delete(REG_T).where(REG_T.c.appname == self.settings.executor,
                                             REG_T.c.name == self.settings.name))
        self.alarms.close(timeout=5)
        if self.changes is not None:
            self.changes.close()
        self._guard(self.collect_alarms)()
        log.info("worker %s stopped", self.settings.name)

    # ------------------------------------------------------------------------------- node
    def start_heartbeat(self) -> None:
        """Beat from a thread of its own. Other nodes end the runs of a node that stopped beating and run them
        again elsewhere, so a beat must not wait behind a long tick or a slow write of the loop (under load, it
        did). It beats only while the loop comes round, though: a loop stuck for the dead-after time gets no
        beat, so that a node that does no work looks dead, as before."""

        def beat_forever() -> None:
            withholding = False
            while not self._beats_stop.wait(self.settings.heartbeat):
                stuck_for = time.monotonic() - self.loop_at
                if stuck_for > self.settings.dead_after:
                    if not withholding:
                        log.warning("worker %s: the scheduling loop has not come round for %.0f s; no heartbeat "
                                    "until it does", self.settings.name, stuck_for)
                    withholding = True
                    self.beats_withheld += 1
                    continue
                withholding = False
                self._guard(self.heartbeat)()

        self._beats = threading.Thread(target=beat_forever, name="heartbeat", daemon=True)
        self._beats.start()

    def stop_heartbeat(self) -> None:
        self._beats_stop.set()
        if self._beats is not None:
            self._beats.join(timeout=30)

    def heartbeat(self) -> None:
        """Write this node's beat, then read the executors and the live nodes. It runs in the heartbeat's thread
        while the loop reads them too: each read builds them anew and replaces them, never changes them in place."""
        now = utcnow()
        s = self.settings
        for attempt in range(2):
            try:
                with self.tx() as conn:
                    done = conn.execute(update(REG_T).where(REG_T.c.appname == s.executor, REG_T.c.name == s.name)
                                        .values(heartbeat_at=now)).rowcount
                    if not done:
                        conn.execute(insert(REG_T).values(appname=s.executor, name=s.name, address=s.name,
                                                          registered_at=now, heartbeat_at=now))
                break
            except IntegrityError:  # registered by a twin at the same moment: update next time round
                if attempt:
                    raise
        self._read_executors()
        self._read_live(force=True)

    def _read_executors(self) -> None:
        with self.engine.connect() as conn:
            rows = conn.execute(select(GROUP_T.c.id, GROUP_T.c.appname, GROUP_T.c.address_type,
                                       GROUP_T.c.address_list).where(GROUP_T.c.deleted_at.is_(None))).all()
        self.executors = {r.id: r for r in rows}
        self.my_executors = [r.id for r in rows if r.appname == self.settings.executor]
        # the executors whose runs may name this node: its own appname's, and a manual list naming it (the nodes
        # `nodes_for` routes to); a run of another executor addressed to it is not this node's to run
        self.addressed_executors = self.my_executors + [
            r.id for r in rows if r.appname != self.settings.executor and r.address_type == ADDRESS_MANUAL
            and self.settings.name in (a.strip() for a in (r.address_list or "").split(","))]

    def _read_live(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.live_read_at < 1.0:
            return
        now = utcnow()
        since = now - timedelta(seconds=self.settings.dead_after)
        with self.engine.connect() as conn:
            rows = conn.execute(select(REG_T.c.appname, REG_T.c.name, REG_T.c.heartbeat_at)
                                .where(REG_T.c.heartbeat_at >= since)).all()
        live: dict[str, float] = {}
        live_by_app: dict[str, list[routing.Node]] = {}
        for r in rows:
            age = (now - r.heartbeat_at).total_seconds()
            live[r.name] = min(age, live.get(r.name, age))
            live_by_app.setdefault(r.appname, []).append(routing.Node(r.name, age))
        self.live, self.live_by_app = live, live_by_app
        self.live_read_at = time.monotonic()

    def nodes_for(self, executor_id: int) -> list[routing.Node]:
        ex = self.executors.get(executor_id)
        if ex is None:
            self._read_executors()
            ex = self.executors.get(executor_id)
            if ex is None:
                return []
        if ex.address_type == ADDRESS_MANUAL:
            names = [a.strip() for a in (ex.address_list or "").split(",") if a.strip()]
            return [routing.Node(n, self.live[n]) for n in names if n in self.live]
        return list(self.live_by_app.get(ex.appname, []))

    # ------------------------------------------------------------------------------- the tick
    def tick(self) -> None:
        t0 = time.monotonic()
        if not self.stopping and self._may_have_work():
            self.claim_due()
            t1 = time.monotonic()
            self.pick_up()
        else:
            t1 = t0
        t2 = time.monotonic()
        self.flush()
        t3 = time.monotonic()
        st = self.tick_stats
        st["n"] += 1
        for key, value in (("claim", t1 - t0), ("pick", t2 - t1), ("flush", t3 - t2)):
            st[key] += value
            st[key + "_max"] = max(st[key + "_max"], value)

    def _may_have_work(self) -> bool:
        """Whether the tables may hold something new for this tick: a due job, a run to take. The change
        signal's value is taken before the tables are read, so a change made during the read counts next tick."""
        if self.settings.quiet_max <= 0:  # every tick reads, no signal asked
            return True
        if not self.changes_made:
            self.changes, self.changes_made = change_signal(self.engine, JOBS_CHANNEL), True
        now = time.monotonic()
        asking = now - self.tables_read_at >= self.settings.quiet_max
        seen = None if self.changes is None else self.changes.current() if asking else self.changes.heard()
        if not asking and seen is not None and seen == self.change_seen and _ms(utcnow()) < self.first_due_ms:
            return False
        self.change_seen, self.tables_read_at = seen, now
        return True

    def report(self) -> None:
        st = self.tick_stats
        if st["n"]:
            log.info("%s ticks; ms avg/max claim %.1f/%.0f pick-up %.1f/%.0f flush %.1f/%.0f; fired %s started %s "
                     "finished %s; %s local, %s children; %s heartbeats withheld since start", st["n"],
                     st["claim"] / st["n"] * 1000, st["claim_max"] * 1000, st["pick"] / st["n"] * 1000,
                     st["pick_max"] * 1000, st["flush"] / st["n"] * 1000, st["flush_max"] * 1000,
                     self.stats["fired"], self.stats["started"], self.stats["finished"], len(self.local),
                     len(self.pool.children), self.beats_withheld)
        self.tick_stats = dict.fromkeys(st, 0.0)

    def claim_due(self) -> None:
        """Fire every due job once: runs written, next fire time advanced, in one transaction."""
        now = utcnow()
        now_ms = _ms(now)
        self._read_live()
        query = (select(JOB_T).where(JOB_T.c.trigger_status == 1, JOB_T.c.deleted_at.is_(None),
                                     JOB_T.c.trigger_next_time > 0, JOB_T.c.trigger_next_time <= now_ms)
                 .order_by(JOB_T.c.trigger_next_time).limit(self.settings.claim_batch))
        if self.pg:
            query = query.with_for_update(skip_locked=True)
        failed_routes: list[dict[str, Any]] = []
        with self.engine.connect() as conn:  # a cheap read first: most ticks have nothing due
            first_due = conn.execute(select(JOB_T.c.trigger_next_time).where(
                JOB_T.c.trigger_status == 1, JOB_T.c.deleted_at.is_(None), JOB_T.c.trigger_next_time > 0)
                .order_by(JOB_T.c.trigger_next_time).limit(1)).scalar()
        self.first_due_ms = first_due if first_due is not None else math.inf
        if first_due is None or first_due > now_ms:
            return
        with self.tx() as conn:
            jobs = conn.execute(query).all()
            if not jobs:
                return
            runs: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            grace = timedelta(seconds=self.settings.misfire_grace)
            for job in jobs:
                planned = _ms_to_naive(job.trigger_next_time)

                def next_after(t: datetime, job: Any = job) -> datetime | None:
                    return next_fire_after(job.schedule_type, job.schedule_conf, job.timezone, t)

                try:
                    plan = misfire.plan_fires(job.schedule_type, planned, now, grace, job.misfire_strategy,
                                              next_after)
                except (cron.CronError, ValueError) as exc:
                    # an expression that no longer parses or is past the computation budget: stop the job,
                    # with the reason in a failed run of its log (and the usual alarm), never loop on it
                    log.warning("job %s stopped: its schedule is invalid (%s)", job.id, exc)
                    runs.append(self._failed_run(job, planned, now, said(N_("调度失败，任务已停止：%(why)s"), why=exc)))
                    updates.append({"jid": job.id, "last": job.trigger_last_time, "next": 0, "status": 0})
                    continue
                if plan.misfired:
                    log.info("job %s misfired (planned %s, %s): %s", job.id, planned, job.misfire_strategy,
                             "fired once now" if job.misfire_strategy == "FIRE_ONCE_NOW" else "skipped")
                for when, trigger_type in plan.fires:
                    runs += self._routed_runs(conn, job, when, trigger_type, now)
                last = plan.fires[-1][0] if plan.fires else planned
                next_ms = _ms(plan.next_time) if plan.next_time else 0
                updates.append({"jid": job.id, "last": _ms(last), "next": next_ms, "status": 1 if next_ms else 0})
            if runs:
                failed_routes = self._insert_runs(conn, runs)
            conn.execute(update(JOB_T).where(JOB_T.c.id == bindparam("jid")).values(
                trigger_last_time=bindparam("last"), trigger_next_time=bindparam("next"),
                trigger_status=bindparam("status")), updates)
        self.stats["fired"] += len(runs)
        for run in failed_routes:
            self._raise_alarm(run, None)

    def _routed_runs(self, conn: Connection, job: Any, when: datetime, trigger_type: str, now: datetime,
                     parent_log_id: int | None = None, retry_count: int | None = None,
                     param: str | None = None) -> list[dict[str, Any]]:
        nodes = self.nodes_for(job.job_group)

        def busy(name: str) -> bool:
            return conn.execute(select(RUN_T.c.id).where(
                RUN_T.c.job_id == job.id, RUN_T.c.executor_address == name,
                RUN_T.c.status.in_((RUN_PENDING, RUN_RUNNING))).limit(1)).first() is not None

        assignments = routing.route(job.executor_route_strategy, job.id, nodes,
                                    routing.SharedRouteState(conn, self.rng), is_busy=busy)
        base = {"job_group": job.job_group, "job_id": job.id, "trigger_type": trigger_type, "schedule_time": when,
                "executor_handler": job.executor_handler,
                "executor_param": job.executor_param if param is None else param,
                "executor_fail_retry_count": job.executor_fail_retry_count if retry_count is None else retry_count,
                "trigger_time": now, "parent_log_id": parent_log_id, "alarm_status": 0, "claimed_at": None,
                "handle_time": None, "handle_msg": None}
        if not assignments:
            return [{**base, **self._failure(N_("调度失败：执行器没有在线节点"), now)}]
        msg = said(N_("路由策略：%(strategy)s"), strategy=job.executor_route_strategy)
        return [{**base, "shard_index": a.shard_index, "shard_total": a.shard_total, "executor_address": a.node,
                 "trigger_code": 200, "trigger_msg": msg, "handle_code": 0, "status": RUN_PENDING}
                for a in assignments]

    @staticmethod
    def _failure(msg: str, now: datetime) -> dict[str, Any]:
        return {"shard_index": 0, "shard_total": 1, "executor_address": None, "trigger_code": 500,
                "trigger_msg": msg, "handle_code": HANDLE_FAILED, "status": RUN_DONE, "handle_time": now,
                "handle_msg": msg}

    def _failed_run(self, job: Any, when: datetime, now: datetime, msg: str) -> dict[str, Any]:
        """A run that never started, ended at once with `msg` (shown in the job's log, alarmed)."""
        return {"job_group": job.job_group, "job_id": job.id, "trigger_type": "CRON", "schedule_time": when,
                "executor_handler": job.executor_handler, "executor_param": job.executor_param,
                "executor_fail_retry_count": job.executor_fail_retry_count, "trigger_time": now,
                "parent_log_id": None, "alarm_status": 0, "claimed_at": None,
                **self._failure(clipped(msg, MSG_LIMIT) or "", now)}

    def _insert(self, table: Any) -> Any:
        if self.pg:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        return dialect_insert(table)

    def _insert_runs(self, conn: Connection, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert runs, skipping fires that already have their run. Returns the runs that failed to route."""
        stmt = self._insert(RUN_T).on_conflict_do_nothing().returning(*RUN_T.c)
        if len(runs) > 1:
            inserted = conn.execute(stmt, runs).mappings().all()
        else:
            inserted = conn.execute(stmt.values(runs[0])).mappings().all()
        return [dict(r) for r in inserted if r["status"] == RUN_DONE]

    def pick_up(self) -> None:
        """Claim PENDING runs for this node, as many as it has idle children, by block strategy."""
        self._submit_waiting()
        # Claim more runs than there are children: short runs queue here and start the moment a child is
        # free, instead of waiting for the next tick. (If this worker dies, they end as executor lost.)
        room = max(256, 16 * self.pool.max_size) - len(self.local)
        if room <= 0 or self.stopping:
            return
        me = self.settings.name
        mine = and_(RUN_T.c.executor_address == me, RUN_T.c.job_group.in_(self.addressed_executors))
        if self.addressed_executors:
            # a run for any node (run once, no node chosen): a node of its executor routes it, one of its AppName or
            # one its manual list names (a worker of another AppName: the run would otherwise wait for good)
            mine = or_(mine, and_(RUN_T.c.executor_address.is_(None),
                                  RUN_T.c.job_group.in_(self.addressed_executors)))
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(RUN_T.c.id, RUN_T.c.job_id, RUN_T.c.trigger_type, RUN_T.c.executor_handler,
                       RUN_T.c.executor_param, RUN_T.c.shard_index, RUN_T.c.shard_total, RUN_T.c.job_group,
                       RUN_T.c.executor_address, JOB_T.c.executor_block_strategy, JOB_T.c.executor_timeout,
                       JOB_T.c.executor_route_strategy, JOB_T.c.glue_type)
                .select_from(RUN_T.outerjoin(JOB_T, JOB_T.c.id == RUN_T.c.job_id))
                .where(RUN_T.c.status == RUN_PENDING, mine).order_by(RUN_T.c.id).limit(max(room * 4, 50))).all()
        if not rows:
            return
        now = utcnow()
        with self.tx() as conn:
            start, discard, handover, cover = self._choose_runs(conn, rows, room)
            if cover:  # COVER_EARLY over nodes: the other node's run of the job is told to stop, and why
                conn.execute(update(RUN_T).where(RUN_T.c.id.in_(cover), RUN_T.c.status == RUN_RUNNING)
                             .values(kill_requested=True, handle_msg=COVER_MSG))
            if handover:
                conn.execute(update(RUN_T).where(RUN_T.c.id == bindparam("rid"), RUN_T.c.status == RUN_PENDING,
                                                 RUN_T.c.executor_address.is_(None))
                             .values(executor_address=bindparam("node"), trigger_code=200,
                                     trigger_msg=bindparam("msg")),
                             handover)
            if discard:
                conn.execute(update(RUN_T).where(RUN_T.c.id.in_(discard), RUN_T.c.status == RUN_PENDING).values(
                    status=RUN_DONE, executor_address=me, trigger_code=200, handle_code=HANDLE_FAILED,
                    handle_time=now, handle_msg=N_("阻塞处理策略生效：DISCARD_LATER，丢弃本次调度"),
                    alarm_status=ALARM_NOT_NEEDED))
            claimed: set[int] = set()
            if start:
                claimed = set(conn.execute(update(RUN_T).where(
                    RUN_T.c.id.in_([r.id for r in start]), RUN_T.c.status == RUN_PENDING).values(
                    status=RUN_RUNNING, claimed_at=now, executor_address=me, trigger_code=200)
                    .returning(RUN_T.c.id)).scalars())
        for row in start:
            if row.id not in claimed:
                continue  # another node took it first
            run = LocalRun(row.id, row.job_id, row.executor_handler or "", row.executor_param,
                           {"job_id": row.job_id, "trigger_type": row.trigger_type, "shard_index": row.shard_index,
                            "shard_total": row.shard_total, "glue_type": row.glue_type,
                            "timeout": int(row.executor_timeout or 0)}, float(row.executor_timeout or 0))
            self.local[run.id] = run
            self.by_job.setdefault(run.job_id, set()).add(run.id)
        self._submit_waiting()

    def _choose_runs(self, conn: Connection, rows: list[Any], room: int
                     ) -> tuple[list[Any], list[int], list[dict[str, Any]], list[int]]:
        """Which PENDING runs this node starts, discards (DISCARD_LATER), hands to another node (a run for any
        node, routed by its job's strategy) and which other node's runs it tells to stop (COVER_EARLY).

        Block strategies apply per job over every node (issue 23, 5): a job is busy when a run of it is
        RUNNING here or on another node (a SHARDING_BROADCAST job's shards run side by side, so there only
        this node's runs count). On PostgreSQL each job is try-locked first until this transaction commits, so
        two nodes never both see a job idle (a job locked by another node is left for the next tick); SQLite's
        write lock does the same.
        """
        me = self.settings.name
        job_ids = sorted({row.job_id for row in rows})
        if self.pg:
            # try-locks: a job another node is deciding about right now waits here for the next tick, and no
            # node's loop ever waits on another's transaction
            got = set(conn.execute(text("SELECT j FROM unnest(CAST(:ids AS integer[])) AS j "
                                        "WHERE pg_try_advisory_xact_lock(:k, j)"),
                                   {"k": BLOCK_LOCK, "ids": job_ids}).scalars())
            rows = [row for row in rows if row.job_id in got]
            job_ids = sorted(got)
        # `rows` were read before this transaction: keep what is still PENDING as read (another node may have
        # routed, taken or discarded a run since), so a run is routed once and its route counted once
        still = set(conn.execute(select(RUN_T.c.id, RUN_T.c.executor_address).where(
            RUN_T.c.id.in_([row.id for row in rows]), RUN_T.c.status == RUN_PENDING)).tuples())
        rows = [row for row in rows if (row.id, row.executor_address) in still]
        elsewhere: dict[int, list[int]] = {}
        for run_id, job_id in conn.execute(select(RUN_T.c.id, RUN_T.c.job_id).where(
                RUN_T.c.job_id.in_(job_ids), RUN_T.c.status == RUN_RUNNING,
                or_(RUN_T.c.executor_address != me, RUN_T.c.executor_address.is_(None)))):
            elsewhere.setdefault(job_id, []).append(run_id)
        memory = routing.SharedRouteState(conn, self.rng)
        start: list[Any] = []
        discard: list[int] = []
        handover: list[dict[str, Any]] = []
        cover: list[int] = []
        starting_jobs: set[int] = set()
        for row in rows:
            if len(start) >= room:
                break
            if row.executor_address is None and row.shard_total == 1 and row.executor_route_strategy \
                    and row.executor_route_strategy != "SHARDING_BROADCAST":
                # a run for any node (the console's run once): route it by the job's strategy
                chosen = routing.route(row.executor_route_strategy, row.job_id, self.nodes_for(row.job_group), memory)
                if chosen and chosen[0].node != me:
                    handover.append({"rid": row.id, "node": chosen[0].node,
                                     "msg": said(N_("路由策略：%(strategy)s"), strategy=row.executor_route_strategy)})
                    continue
            running = self.by_job.get(row.job_id)
            remote = [] if row.executor_route_strategy == "SHARDING_BROADCAST" else elsewhere.get(row.job_id, [])
            busy = bool(running) or bool(remote) or row.job_id in starting_jobs
            strategy = row.executor_block_strategy or "SERIAL_EXECUTION"
            if busy and strategy == "SERIAL_EXECUTION":
                continue
            if busy and strategy == "DISCARD_LATER":
                discard.append(row.id)
                continue
            if busy and strategy == "COVER_EARLY":
                for run_id in list(running or ()):
                    self._kill_local(run_id, COVER_MSG)
                cover += remote
            start.append(row)
            starting_jobs.add(row.job_id)
        return start, discard, handover, cover

    def _kill_local(self, run_id: int, msg: str) -> None:
        run = self.local.get(run_id)
        if run is None:
            return
        if run.submitted:
            self.pool.kill(run_id, HANDLE_KILLED, msg)
        else:  # still queued here: it never starts
            run.submitted = True
            self.outcomes.append(Outcome(run_id, HANDLE_KILLED, msg))

    def _submit_waiting(self) -> None:
        """Hand the claimed runs to idle children, oldest first. Script runs hold at most `script_children`
        children at once: each starts an interpreter (tens of milliseconds of CPU), and a burst of them
        (a hundred script jobs on one CRON second) must not take every child while handler runs wait; the
        handler runs queued behind held-back scripts start meanwhile."""
        scripts = None
        for run in self.local.values():
            if run.submitted:
                continue
            if run.is_script:
                if scripts is None:
                    scripts = sum(1 for rid in self.pool.running() if (r := self.local.get(rid)) and r.is_script)
                if scripts >= self.settings.script_children:
                    continue
            if not self.pool.submit(run.id, run.handler, run.param, run.context, run.timeout):
                held = scripts is not None and scripts >= self.settings.script_children  # they need no child now
                self.pool.grow_for(sum(1 for r in self.local.values()
                                       if not r.submitted and not (held and r.is_script)))
                return
            run.submitted = True
            self.stats["started"] += 1
            if run.is_script and scripts is not None:
                scripts += 1

    # ------------------------------------------------------------------------------- output and outcomes
    def _on_line(self, run_id: int, text: str) -> None:
        run = self.local.get(run_id)
        if run is None:
            return
        if run.line_no >= self.settings.max_log_lines:
            if not run.truncated:
                run.truncated = True
                run.line_no += 1
                run.lines.append((run.line_no, gettext("…… 输出超过 %(n)s 行，其余部分不再记录",
                                                       n=self.settings.max_log_lines)))
            return
        run.line_no += 1
        run.lines.append((run.line_no, text))

    def _on_done(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def flush(self) -> None:
        """Write buffered output lines, then end the runs whose outcome arrived, with their follow-ups."""
        lines = [(run.id, no, text) for run in self.local.values() for no, text in run.lines]
        outcomes, self.outcomes = self.outcomes, []
        if not lines and not outcomes:
            return
        now = utcnow()
        ended: list[tuple[dict[str, Any], Outcome]] = []
        try:
            with self.tx() as conn:
                if lines:
                    # DO NOTHING on a line already there: a batch retried after a failed commit never wedges the loop
                    conn.execute(self._insert(LINE_T).on_conflict_do_nothing(),
                                 [{"log_id": i, "line_no": n, "content": t} for i, n, t in lines])
                    counts = {run.id: run.line_no for run in self.local.values() if run.lines}
                    conn.execute(update(RUN_T).where(RUN_T.c.id == bindparam("rid")).values(
                        line_count=bindparam("n")), [{"rid": k, "n": v} for k, v in counts.items()])
                job_ids = {run.job_id for o in outcomes if (run := self.local.get(o.task_id)) is not None}
                jobs = {j.id: j for j in conn.execute(select(JOB_T).where(JOB_T.c.id.in_(job_ids)))} if job_ids else {}
                succeeded = {run.job_id for o in outcomes if o.code == HANDLE_SUCCESS
                             and (run := self.local.get(o.task_id)) is not None}
                dependents = self._lock_dependents(conn, succeeded)
                waiting: list[tuple[int, dict[str, Any]]] = []  # (dependent, the parent run that just succeeded)
                plain = []  # successes without child jobs: one batched statement
                for outcome in outcomes:
                    run = self.local.get(outcome.task_id)
                    job = jobs.get(run.job_id) if run is not None else None
                    # a success with dependents goes the same way unless it is itself down a chain (then its depth
                    # is checked first); whether its dependents run is read from the database after the batch
                    chained = run is not None and run.context.get("trigger_type") in ("PARENT", "RETRY")
                    if outcome.code == HANDLE_SUCCESS and job is not None and not job.child_job_id \
                            and not (chained and job.id in dependents):
                        plain.append({"rid": outcome.task_id, "msg": clipped(outcome.msg, MSG_LIMIT)})
                        waiting += [(d, {"id": outcome.task_id}) for d in dependents.get(job.id, ())]
                        continue
                    row = self._finish(conn, outcome, now, jobs, dependents, waiting)
                    if row is not None:
                        ended.append((row, outcome))
                if plain:
                    conn.execute(update(RUN_T).where(RUN_T.c.id == bindparam("rid"), RUN_T.c.status == RUN_RUNNING)
                                 .values(status=RUN_DONE, handle_code=HANDLE_SUCCESS, handle_msg=bindparam("msg"),
                                         handle_time=now, alarm_status=ALARM_NOT_NEEDED), plain)
                if waiting:  # after every run of the batch has ended: each dependent checked once
                    self._trigger_dependents(conn, waiting, now)
        except Exception:
            self.outcomes = outcomes + self.outcomes  # try again next tick
            raise
        for run in self.local.values():
            run.lines.clear()
        for outcome in outcomes:
            run = self.local.pop(outcome.task_id, None)
            if run is not None:
                jobs = self.by_job.get(run.job_id)
                if jobs is not None:
                    jobs.discard(run.id)
                    if not jobs:
                        del self.by_job[run.job_id]
        self.stats["finished"] += len(outcomes)
        for row, outcome in ended:
            if outcome.code in ALARM_CODES:
                self._raise_alarm(row, None)

    def _finish(self, conn: Connection, outcome: Outcome, now: datetime, jobs: dict[int, Any],
                dependents: dict[int, list[int]], waiting: list[tuple[int, dict[str, Any]]]) -> dict[str, Any] | None:
        msg = clipped(outcome.msg, MSG_LIMIT)
        code = outcome.code
        row = conn.execute(update(RUN_T).where(RUN_T.c.id == outcome.task_id, RUN_T.c.status == RUN_RUNNING)
                           .values(status=RUN_DONE, handle_code=code, handle_msg=msg, handle_time=now,
                                   alarm_status=0 if code in ALARM_CODES else ALARM_NOT_NEEDED)
                           .returning(*RUN_T.c)).mappings().first()
        if row is None:  # already ended elsewhere (executor lost while we were slow): theirs stands
            return None
        self._follow_up(conn, dict(row), now, jobs.get(row["job_id"]), dependents.get(row["job_id"], []), waiting)
        return dict(row)

    def _follow_up(self, conn: Connection, run: dict[str, Any], now: datetime, job: Any = None,
                   dependents: list[int] | None = None, waiting: list[tuple[int, dict[str, Any]]] | None = None
                   ) -> None:
        """After a run ended: a retry within its budget, or child jobs after a success."""
        code = run["handle_code"]
        if job is None:
            job = conn.execute(select(JOB_T).where(JOB_T.c.id == run["job_id"])).first()
        if job is None:
            return
        # A killed run is retried within its budget, as XXL-JOB does (logKill ends the run as a failure and its
        # fail monitor retries every failed run with retries left); one covered by a later fire is not.
        retried = code in RETRY_CODES or (code == HANDLE_KILLED and run["handle_msg"] != COVER_MSG)
        if retried and (run["executor_fail_retry_count"] or 0) > 0:
            runs = self._routed_runs(conn, job, self._unique_now(), "RETRY", now, parent_log_id=run["id"],
                                     retry_count=run["executor_fail_retry_count"] - 1, param=run["executor_param"])
            for r in runs:
                r["shard_index"], r["shard_total"] = run["shard_index"], run["shard_total"]
            self._insert_follow_ups(conn, runs[:1])
        elif code == HANDLE_SUCCESS:
            if dependents is None:
                dependents = list(conn.execute(select(DEP_T.c.job_id).where(DEP_T.c.parent_job_id == job.id)
                                               .order_by(DEP_T.c.job_id)).scalars())
            if not job.child_job_id and not dependents:
                return
            depth = self._chain_depth(conn, run)
            if depth >= MAX_CHAIN_DEPTH:
                # a loop of child jobs (made before the console refused them) or a chain too long: stop here
                why = said(N_("子任务未触发：任务链已达 %(n)s 层（可能形成了循环）"), n=MAX_CHAIN_DEPTH)
                log.warning("run %s of job %s: children %s / dependents %s not triggered, chain depth %s", run["id"],
                            job.id, job.child_job_id, dependents, depth)
                conn.execute(update(RUN_T).where(RUN_T.c.id == run["id"]).values(
                    handle_msg=clipped(joined(run["handle_msg"], why), MSG_LIMIT)))
                return
            runs = []
            if job.child_job_id:
                ids = [int(x) for x in job.child_job_id.split(",") if digits_only(x.strip())]
                children = conn.execute(select(JOB_T).where(JOB_T.c.id.in_(ids), JOB_T.c.deleted_at.is_(None))).all()
                for child in children:
                    runs += self._routed_runs(conn, child, self._unique_now(), "PARENT", now, parent_log_id=run["id"])
            self._insert_follow_ups(conn, runs)
            pairs = [(dependent, run) for dependent in dependents]
            if waiting is None:
                self._trigger_dependents(conn, pairs, now)
            else:  # the principal checks them once the whole batch has ended
                waiting.extend(pairs)

    def _lock_dependents(self, conn: Connection, parent_ids: set[int]) -> dict[int, list[int]]:
        """The jobs that depend on each of `parent_ids` (those with none left out). On PostgreSQL those dependents
        are locked here, in id order (so two workers never wait on each other), until this transaction commits:
        the check of a dependent then reads every parent success committed before it, and only one worker
        writes its run. SQLite: the transaction already holds the write lock."""
        if not parent_ids:
            return {}
        rows = conn.execute(select(DEP_T.c.parent_job_id, DEP_T.c.job_id)
                            .where(DEP_T.c.parent_job_id.in_(parent_ids)).order_by(DEP_T.c.job_id)).all()
        if self.pg and rows:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k, j) FROM (SELECT unnest(CAST(:ids AS integer[])) AS j "
                              "ORDER BY 1) AS jobs"), {"k": DEPENDENTS_LOCK, "ids": sorted({r.job_id for r in rows})})
        out: dict[int, list[int]] = {}
        for parent, dependent in rows:
            out.setdefault(parent, []).append(dependent)
        return out

    def _trigger_dependents(self, conn: Connection, pairs: list[tuple[int, dict[str, Any]]], now: datetime) -> None:
        """Run each dependent of `pairs` once (PARENT) if every live parent has succeeded since its last run (its
        newest run's trigger time; never run: its creation). A parent's success is its newest successful run
        (by trigger time) ending after that. The run's schedule_time is the newest of those ends, so the unique
        fire key keeps it to one run per set of successes whoever checks. Three statements for the batch, each
        lookup one index probe, then the runs."""
        latest = {dependent: run for dependent, run in pairs}  # the parent run named as the cause: the last one
        last_run = (select(RUN_T.c.trigger_time).where(RUN_T.c.job_id == JOB_T.c.id)
                    .order_by(RUN_T.c.trigger_time.desc()).limit(1).scalar_subquery())
        jobs = conn.execute(select(JOB_T, last_run.label("last_run_at")).where(
            JOB_T.c.id.in_(list(latest)), JOB_T.c.deleted_at.is_(None)).order_by(JOB_T.c.id)).all()
        if not jobs:
            return
        parents_of: dict[int, list[int]] = {}
        for dependent, parent in conn.execute(select(DEP_T.c.job_id, DEP_T.c.parent_job_id).select_from(
                DEP_T.join(JOB_T, JOB_T.c.id == DEP_T.c.parent_job_id)).where(
                DEP_T.c.job_id.in_([j.id for j in jobs]), JOB_T.c.deleted_at.is_(None))):
            parents_of.setdefault(dependent, []).append(parent)
        newest_success = (select(RUN_T.c.handle_time).where(RUN_T.c.job_id == JOB_T.c.id,
                                                            RUN_T.c.handle_code == HANDLE_SUCCESS)
                          .order_by(RUN_T.c.trigger_time.desc()).limit(1).scalar_subquery())
        wanted = sorted({p for ps in parents_of.values() for p in ps})
        ended = dict(conn.execute(select(JOB_T.c.id, newest_success).where(JOB_T.c.id.in_(wanted))).tuples().all()) \
            if wanted else {}
        runs: list[dict[str, Any]] = []
        for job in jobs:
            parents = sorted(parents_of.get(job.id, []))
            since = max((t for t in (job.last_run_at, job.gmt_created_date) if t is not None), default=datetime.min)
            ends = [ended.get(p) for p in parents]
            if not parents or any(end is None or end <= since for end in ends):
                continue  # a parent has not succeeded since: wait for it
            routed = self._routed_runs(conn, job, max(e for e in ends if e is not None), "PARENT", now,
                                       parent_log_id=latest[job.id]["id"])
            why = said(N_("父任务 %(ids)s 均已成功"), ids=",".join(map(str, parents)))
            for r in routed:
                r["trigger_msg"] = clipped(joined(r["trigger_msg"], why), MSG_LIMIT)
            runs += routed
        self._insert_follow_ups(conn, runs, skip_fired=True)

    @staticmethod
    def _chain_depth(conn: Connection, run: dict[str, Any]) -> int:
        """How many PARENT links lead up to this run (retries in between are walked, not counted), at most
        MAX_CHAIN_DEPTH: one indexed lookup per link."""
        depth, trigger_type, parent = 0, run["trigger_type"], run["parent_log_id"]
        for _ in range(MAX_CHAIN_DEPTH * 8):
            if parent is None or depth >= MAX_CHAIN_DEPTH:
                break
            if trigger_type == "PARENT":
                depth += 1
            row = conn.execute(select(RUN_T.c.trigger_type, RUN_T.c.parent_log_id).where(RUN_T.c.id == parent)).first()
            if row is None:
                break
            trigger_type, parent = row
        return depth

    def _unique_now(self) -> datetime:
        """utcnow, strictly increasing in this process: RETRY/PARENT runs are keyed by it."""
        now = utcnow()
        if now <= self._last_now:
            now = self._last_now + timedelta(microseconds=1)
        self._last_now = now
        return now

    def _insert_follow_ups(self, conn: Connection, runs: list[dict[str, Any]], skip_fired: bool = False) -> None:
        """Insert follow-up runs; `skip_fired`: a run whose fire key exists already is not written again."""
        for r in runs:
            if r["status"] == RUN_DONE:  # nowhere to run it: leave it to the next worker that can route it
                r.update(status=RUN_PENDING, executor_address=None, trigger_code=0, handle_code=0,
                         handle_time=None, handle_msg=None, trigger_msg=N_("等待在线节点"))
        if runs:
            conn.execute(self._insert(RUN_T).on_conflict_do_nothing() if skip_fired else insert(RUN_T), runs)

    # ------------------------------------------------------------------------------- kills, lost nodes, alarms
    def watch_kills(self) -> None:
        ids = list(self.local)
        if not ids:
            return
        me = self.settings.name
        with self.engine.connect() as conn:
            killed = conn.execute(select(RUN_T.c.id, RUN_T.c.handle_msg).where(RUN_T.c.id.in_(ids),
                                                                                 RUN_T.c.kill_requested)).all()
            # ended or taken over meanwhile: this node stalled past the dead timeout (a paused VM, a stopped
            # process) and the others ended its runs as lost and retried them; running on here would do the
            # work twice (a review's resumed node ran on for 22 s beside the retry)
            taken = conn.execute(select(RUN_T.c.id).where(
                RUN_T.c.id.in_(ids), (RUN_T.c.status == RUN_DONE) | (RUN_T.c.executor_address != me))).scalars().all()
        for run_id, why in killed:  # a reason written with the request (COVER_EARLY of another node), else a user's
            self._kill_local(run_id, why or KILLED_MSG)
        for run_id in taken:
            self._kill_local(run_id, LOST_ELSEWHERE_MSG)

    def sweep_lost(self) -> None:
        """End the runs of nodes that stopped beating (504, retried within budget); re-address PENDING runs
        of dead nodes to any node of their executor."""
        self._read_live(force=True)
        live = list(self.live)
        now = utcnow()
        with self.engine.connect() as conn:
            lost = list(conn.execute(select(RUN_T.c.id).where(
                RUN_T.c.status == RUN_RUNNING, RUN_T.c.executor_address.not_in(live))).scalars())
            stale = list(conn.execute(select(RUN_T.c.id).where(
                RUN_T.c.status == RUN_PENDING, RUN_T.c.executor_address.is_not(None),
                RUN_T.c.executor_address.not_in(live),
                RUN_T.c.trigger_time < now - timedelta(seconds=self.settings.dead_after))).scalars())
        if stale:
            with self.tx() as conn:
                conn.execute(update(RUN_T).where(RUN_T.c.id.in_(stale), RUN_T.c.status == RUN_PENDING).values(
                    executor_address=None, trigger_msg=N_("原节点已失联，改由执行器的任一在线节点执行")))
        if lost:
            self._end_lost(lost, N_("执行器节点失联（心跳超时）"))

    def recover_own_runs(self) -> None:
        """At start: runs this node name left RUNNING belong to a previous process of the same name, which
        is gone (a restart under a fixed --name is faster than the dead timeout). End them as lost."""
        with self.engine.connect() as conn:
            ids = list(conn.execute(select(RUN_T.c.id).where(
                RUN_T.c.status == RUN_RUNNING, RUN_T.c.executor_address == self.settings.name)).scalars())
        if ids:
            self._end_lost(ids, N_("执行器节点重启，任务中断"))

    def _end_lost(self, ids: list[int], msg: str) -> None:
        now = utcnow()
        ended: list[dict[str, Any]] = []
        with self.tx() as conn:
            rows = conn.execute(update(RUN_T).where(RUN_T.c.id.in_(ids), RUN_T.c.status == RUN_RUNNING)
                                .values(status=RUN_DONE, handle_code=HANDLE_LOST, handle_time=now,
                                        handle_msg=msg, alarm_status=0)
                                .returning(*RUN_T.c)).mappings().all()
            for row in rows:
                ended.append(dict(row))
                self._follow_up(conn, dict(row), now)
        for row in ended:
            log.warning("run %s lost with node %s", row["id"], row["executor_address"])
            self._raise_alarm(row, None)

    def _raise_alarm(self, run: dict[str, Any], _unused: Any) -> None:
        with self.engine.connect() as conn:
            job = conn.execute(select(JOB_T.c.job_desc, JOB_T.c.alarm_email).where(JOB_T.c.id == run["job_id"])).first()
        emails = (job.alarm_email if job else None) or ""
        settings = self.alarms.settings
        if not ((emails.strip() and settings.smtp_host) or settings.webhook):
            with self.tx() as conn:
                conn.execute(update(RUN_T).where(RUN_T.c.id == run["id"]).values(alarm_status=ALARM_NOT_NEEDED))
            return
        if job is not None and not self._alarm_slot(run["job_id"], settings.min_interval):
            with self.tx() as conn:
                conn.execute(update(RUN_T).where(RUN_T.c.id == run["id"]).values(alarm_status=ALARM_SUPPRESSED))
            return
        ex = self.executors.get(run["job_group"])
        self.alarms.submit({
            "logId": run["id"], "jobId": run["job_id"], "jobGroup": run["job_group"],
            "appname": ex.appname if ex else None, "jobDesc": job.job_desc if job else None,
            "triggerType": run["trigger_type"], "scheduleTime": format_local(run["schedule_time"]),
            "executorAddress": run["executor_address"], "triggerCode": run["trigger_code"],
            "triggerMsg": translated(run["trigger_msg"]), "handleCode": run["handle_code"],
            "handleMsg": translated(run["handle_msg"]),
            "alarmEmail": emails})

    def _alarm_slot(self, job_id: int, interval: float) -> bool:
        """Take the job's alarm slot: one conditional UPDATE of its last alarm's time, so that of every worker on
        every host only one alarms a job within `interval` seconds (a job failing each second mailed its
        recipients each second)."""
        now = utcnow()
        with self.tx() as conn:
            return conn.execute(update(JOB_T).where(
                JOB_T.c.id == job_id, or_(JOB_T.c.alarm_at.is_(None), JOB_T.c.alarm_at <= now - timedelta(
                    seconds=interval))).values(alarm_at=now)).rowcount == 1

    def collect_alarms(self) -> None:
        results = self.alarms.results()
        if not results:
            return
        with self.tx() as conn:
            conn.execute(update(RUN_T).where(RUN_T.c.id == bindparam("rid")).values(alarm_status=bindparam("st")),
                         [{"rid": rid, "st": status or ALARM_NOT_NEEDED} for rid, status in results])


def run_worker(executor: str | None = None, name: str | None = None) -> None:
    """The `pcloud worker` command (inside an app context)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    load_entry_points()
    make_undumpable()  # a script job (a grandchild) must not read this process's environment (worker/script.py)
    worker = Worker(WorkerSettings.from_env(executor, name))
    worker.run_forever()
