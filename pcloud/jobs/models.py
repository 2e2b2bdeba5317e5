"""Scheduled jobs: executors, jobs, runs, run output, worker nodes and the daily run report.

What the console writes and what the worker must write
======================================================

Times: every DateTime column is naive UTC (``pcloud.core.timefmt.utcnow``). ``Job.trigger_last_time`` and
``Job.trigger_next_time`` are epoch milliseconds (UTC instants, as XXL-JOB keeps them; 0 = none).

Jobs (``job_info``)
-------------------
- ``trigger_status`` 1 = running (scheduled), 0 = stopped. Start computes ``trigger_next_time`` from now
  (``cron.next_fire_time``); stop sets both ``trigger_status`` and ``trigger_next_time`` to 0. A deleted job
  (``deleted_at`` set) is always stopped.
- The scheduler claims jobs with ``trigger_status = 1 AND trigger_next_time <= now_ms`` (index
  ``ix_job_info_trigger``; also filter ``deleted_at IS NULL``), writes the run rows, then sets
  ``trigger_last_time`` = the planned time and ``trigger_next_time`` = the next fire after the planned time
  (``cron.next_fire_time(schedule_type, schedule_conf, timezone, planned)``), or 0 + ``trigger_status`` 0 when
  the schedule never fires again.

Runs (``job_log``)
------------------
One row per execution. ``UNIQUE (job_id, schedule_time, trigger_type, shard_index)`` makes a fire happen once:
insert and treat an IntegrityError as "another scheduler already fired it".

- ``schedule_time``: for CRON / FIX_RATE / MISFIRE the planned fire time; for MANUAL / RETRY / PARENT the
  moment the run was requested (microsecond precision), so those never collide.
- ``shard_index`` / ``shard_total``: 0 / 1 unless SHARDING_BROADCAST (one run per node, index 0..n-1).
- ``status`` is the worker's state machine; ``handle_code`` is what users see:

  ======== ============ ============================================================================
  status   handle_code  meaning
  ======== ============ ============================================================================
  PENDING  0            written (by the console's trigger or by the scheduler), not yet picked up.
                        ``executor_address`` = the node name it is routed to, or NULL = any live
                        node of ``job_group`` may take it. ``trigger_code`` 0 until routed.
  RUNNING  0            a node claimed it: sets ``status``, ``claimed_at``, ``executor_address`` (its
                        node name) and ``trigger_code`` 200.
  DONE     200          success (``handle_time`` = end, ``handle_msg`` = the handler's return value).
  DONE     500          the handler failed (raised, or exited non-zero), or it could not be routed:
                        then ``trigger_code`` = 500 and ``trigger_msg`` says why.
  DONE     502          timed out (``executor_timeout`` seconds).
  DONE     503          killed (``logKill``; the console sets ``kill_requested`` on a RUNNING run and
                        finishes a PENDING run itself with 503).
  DONE     504          executor lost (the node that claimed it stopped beating).
  ======== ============ ============================================================================

  A node picks up: ``status = 'PENDING' AND job_group = :group AND (executor_address = :node OR
  executor_address IS NULL)`` (index ``ix_job_log_pending``). It watches ``kill_requested`` of its RUNNING
  runs. The list filter "running" (logStatus 3) is ``handle_code = 0``; "fail" (2) is ``handle_code >= 500``.
- ``alarm_status``: 0 none yet, 1 not needed, 2 sent, 3 sending failed, 4 suppressed (another alarm of the
  job went out less than PCLOUD_ALARM_MIN_INTERVAL_SECONDS before; set after a DONE failure).
- ``parent_log_id``: the run a RETRY or PARENT run comes from.

Run output (``job_log_line``)
-----------------------------
The worker appends lines while the run executes: rows ``(log_id, line_no, content)`` with ``line_no``
counting from 1, inserted in batches, and keeps ``JobRun.line_count`` = the last line number written.
``logDetailCat(fromLineNum)`` reads ``line_no >= fromLineNum`` by primary key, and ``isEnd`` is
``status == 'DONE'`` and nothing beyond ``line_count``.

Worker nodes (``job_registry``)
-------------------------------
One row per (appname, node name); the node upserts ``heartbeat_at`` every 10 s. A node is live while
``heartbeat_at`` is newer than 30 s (``NODE_DEAD_SECONDS``).

Dependencies (``job_dependency``)
--------------------------------
One row per (job, parent): the job runs once (trigger type PARENT) when every parent has succeeded since the
job's last run (``trigger_time`` of its newest run, or its creation). The PARENT run's ``schedule_time`` is
the newest of those successes' ``handle_time``, so the unique fire key makes one run of one set of successes.

Route state (``job_route_state``)
---------------------------------
ROUND, LEAST_FREQUENTLY_USED and LEAST_RECENTLY_USED decide over every scheduler's fires: per (job, node)
``use_count`` (LFU, counted since ``counted_since``, reset after a day) and ``used_seq`` (LRU); the row with
node ``''`` holds the job's ROUND counter in ``use_count``. Read and written under a per-job lock.

Report (``job_report``)
-----------------------
Counts per local calendar day (configured zone) of runs by state, refreshed from ``job_log`` by
``service.refresh_report`` (the console refreshes recent days lazily; the worker may call it too).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin
from pcloud.core.timefmt import utcnow

# 64-bit ids on PostgreSQL; SQLite only autoincrements a column declared INTEGER.
BigId = BigInteger().with_variant(Integer, "sqlite")

NODE_DEAD_SECONDS = 30

ADDRESS_AUTO = 0
ADDRESS_MANUAL = 1

SCHEDULE_TYPES = ("CRON", "FIX_RATE", "NONE")
MISFIRE_STRATEGIES = ("DO_NOTHING", "FIRE_ONCE_NOW")
ROUTE_STRATEGIES = ("FIRST", "LAST", "ROUND", "RANDOM", "CONSISTENT_HASH", "LEAST_FREQUENTLY_USED",
                    "LEAST_RECENTLY_USED", "FAILOVER", "BUSYOVER", "SHARDING_BROADCAST")
BLOCK_STRATEGIES = ("SERIAL_EXECUTION", "DISCARD_LATER", "COVER_EARLY")
TRIGGER_TYPES = ("CRON", "FIX_RATE", "MANUAL", "RETRY", "PARENT", "MISFIRE")
# 运行模式: a registered handler (BEAN) or a script kept with the job (GLUE, see JobGlueVersion)
GLUE_BEAN = "BEAN"
GLUE_SCRIPT_TYPES = ("GLUE_PYTHON", "GLUE_SHELL")
GLUE_TYPES = (GLUE_BEAN, *GLUE_SCRIPT_TYPES)

RUN_PENDING = "PENDING"
RUN_RUNNING = "RUNNING"
RUN_DONE = "DONE"

HANDLE_RUNNING = 0
HANDLE_SUCCESS = 200
HANDLE_FAILED = 500
HANDLE_TIMEOUT = 502
HANDLE_KILLED = 503
HANDLE_LOST = 504

ALARM_NONE, ALARM_NOT_NEEDED, ALARM_SENT, ALARM_FAILED, ALARM_SUPPRESSED = 0, 1, 2, 3, 4


# Limits of the unbounded text columns (what a form or an API call may store), defined once here.
ADDRESS_LIST_MAX = 4000
EXECUTOR_PARAM_MAX = 10000
GLUE_SOURCE_MAX = 65536
PARENTS_MAX = 64  # parents of one job
# child jobs and dependents triggered at most this many links below the first run (a loop stops there): the worker
# stops a chain there, and the console checks who may run a chain that deep (jobs.service.require_may_run_followers)
MAX_CHAIN_DEPTH = 16


class Executor(AuditMixin, SoftDeleteMixin, Base):
    """执行器 (XXL-JOB job_group)."""

    __tablename__ = "job_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    appname: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(64))
    address_type: Mapped[int] = mapped_column(Integer, default=ADDRESS_AUTO, server_default="0")
    # comma-separated node names, for address_type 1
    address_list: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("uq_job_group_appname_live", "appname", unique=True, **LIVE_ONLY),)


class Job(AuditMixin, SoftDeleteMixin, Base):
    """任务 (XXL-JOB job_info)."""

    __tablename__ = "job_info"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_group: Mapped[int] = mapped_column(ForeignKey("job_group.id"))
    job_desc: Mapped[str] = mapped_column(String(255))
    author: Mapped[str] = mapped_column(String(64))
    alarm_email: Mapped[str | None] = mapped_column(String(255))
    alarm_at: Mapped[datetime | None] = mapped_column(DateTime)  # the job's last alarm (workers' throttle)
    schedule_type: Mapped[str] = mapped_column(String(16), default="CRON", server_default="CRON")
    schedule_conf: Mapped[str | None] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64))
    misfire_strategy: Mapped[str] = mapped_column(String(16), default="DO_NOTHING", server_default="DO_NOTHING")
    executor_route_strategy: Mapped[str] = mapped_column(String(32), default="FIRST", server_default="FIRST")
    executor_handler: Mapped[str] = mapped_column(String(255))
    executor_param: Mapped[str | None] = mapped_column(Text)
    executor_block_strategy: Mapped[str] = mapped_column(String(32), default="SERIAL_EXECUTION",
                                                         server_default="SERIAL_EXECUTION")
    executor_timeout: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    executor_fail_retry_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    child_job_id: Mapped[str | None] = mapped_column(String(255))
    trigger_status: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    trigger_last_time: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    trigger_next_time: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # script jobs (migration 0019): the current source; every saved source is also a JobGlueVersion
    glue_type: Mapped[str] = mapped_column(String(16), default=GLUE_BEAN, server_default=GLUE_BEAN)
    glue_source: Mapped[str | None] = mapped_column(Text)
    glue_remark: Mapped[str | None] = mapped_column(String(128))
    glue_updated_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_job_info_trigger", "trigger_status", "trigger_next_time"),
        Index("ix_job_info_group", "job_group"),
    )


class JobGlueVersion(Base):
    """One saved version of a script job's source (XXL-JOB job_logglue): who saved it, when and why."""

    __tablename__ = "job_glue_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job_info.id"))
    glue_type: Mapped[str] = mapped_column(String(16))
    glue_source: Mapped[str] = mapped_column(Text, default="")
    glue_remark: Mapped[str] = mapped_column(String(128))
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_by_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_job_glue_version_job", "job_id", "id"),)


class JobRun(Base):
    """One run (XXL-JOB job_log). See the module docstring for the states."""

    __tablename__ = "job_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_group: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[int] = mapped_column(Integer)
    trigger_type: Mapped[str] = mapped_column(String(16))
    schedule_time: Mapped[datetime] = mapped_column(DateTime)
    shard_index: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    shard_total: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    executor_address: Mapped[str | None] = mapped_column(String(255))
    executor_handler: Mapped[str | None] = mapped_column(String(255))
    executor_param: Mapped[str | None] = mapped_column(Text)
    executor_fail_retry_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    trigger_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    trigger_code: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    trigger_msg: Mapped[str | None] = mapped_column(Text)
    handle_time: Mapped[datetime | None] = mapped_column(DateTime)
    handle_code: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    handle_msg: Mapped[str | None] = mapped_column(Text)
    alarm_status: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default=RUN_PENDING, server_default=RUN_PENDING)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    kill_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    line_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    parent_log_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("job_id", "schedule_time", "trigger_type", "shard_index", name="uq_job_log_fire"),
        # the report counts per day from this index alone
        Index("ix_job_log_time_code", "trigger_time", "handle_code"),
        Index("ix_job_log_job_time", "job_id", "trigger_time"),
        Index("ix_job_log_job_code_time", "job_id", "handle_code", "trigger_time"),
        Index("ix_job_log_group_time", "job_group", "trigger_time"),
        Index("ix_job_log_code", "handle_code"),
        Index("ix_job_log_pending", "status", "job_group", "executor_address"),
    )

    @property
    def executor_sharding_param(self) -> str | None:
        return f"{self.shard_index}/{self.shard_total}" if self.shard_total > 1 else None


class JobRunLine(Base):
    """Output of a run, one row per line, appended by the worker while the run executes."""

    __tablename__ = "job_log_line"

    log_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content: Mapped[str] = mapped_column(Text, default="")


class JobRegistry(Base):
    """A worker node of an executor (XXL-JOB job_registry), kept alive by its heartbeat."""

    __tablename__ = "job_registry"

    id: Mapped[int] = mapped_column(primary_key=True)
    appname: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(255))
    registered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("appname", "name", name="uq_job_registry_node"),
        Index("ix_job_registry_heartbeat", "heartbeat_at"),
    )


class JobReport(Base):
    """Runs per local day by state (XXL-JOB job_log_report), the chart's source."""

    __tablename__ = "job_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger_day: Mapped[date] = mapped_column(Date, unique=True)
    running_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    suc_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fail_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refreshed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# Executor permissions (issue 23, 1): the executors a role's holders may see and work on. A role with no row
# here reaches every executor (when it grants the job routes at all); the permission cache keeps these rows
# with the grants (`access.permissions`), and a role change bumps the permission version as a grant does.
role_job_group = Table(
    "sys_role_job_group",
    Base.metadata,
    Column("role_id", Integer, ForeignKey("sys_role.id", ondelete="CASCADE"), primary_key=True),
    Column("job_group_id", Integer, ForeignKey("job_group.id", ondelete="CASCADE"), primary_key=True),
)


class JobDependency(Base):
    """A job waits for its parent: it runs once every parent has succeeded since its last run."""

    __tablename__ = "job_dependency"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job_info.id"))
    parent_job_id: Mapped[int] = mapped_column(ForeignKey("job_info.id"))

    __table_args__ = (
        UniqueConstraint("job_id", "parent_job_id", name="uq_job_dependency"),
        Index("ix_job_dependency_parent", "parent_job_id"),
    )


ROUND_ROW = ""  # the node of the row holding a job's ROUND counter


class JobRouteState(Base):
    """Cluster-wide memory of the ROUND, LFU and LRU route strategies, per (job, node)."""

    __tablename__ = "job_route_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(Integer)
    node: Mapped[str] = mapped_column(String(128))
    use_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    used_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    counted_since: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("job_id", "node", name="uq_job_route_state"),)
