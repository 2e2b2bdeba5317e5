"""Built-in maintenance: its handlers (run and action-log retention, expired sessions, database statistics)
and the maintenance jobs `pcloud init` creates on the default executor, once (an administrator may stop, edit or delete
them; init never brings a deleted one back).

The handlers register through the entry-point group ``pcloud.job_handlers`` (pyproject), so the
console knows them as well as the worker.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_, select

from pcloud.actionlog.service import clean_action_log, retention_days
from pcloud.core.timefmt import utcnow
from pcloud.extensions import db
from pcloud.jobs import service
from pcloud.jobs.handlers import JobContext, JobFailed, job_handler

SYSTEM_AUTHOR = "system"

# (handler, description, cron, param, started)
MAINTENANCE_JOBS = (
    ("jobLogCleanHandler", "调度日志保留（删除 30 天前的运行记录）", "0 30 3 * * ?", "30", 1),
    ("actionLogCleanHandler", "操作日志保留（删除 180 天前的操作日志）", "0 40 3 * * ?", "180", 1),
    ("sessionCleanHandler", "过期会话清理（删除过期或注销超过 7 天的会话）", "0 5 * * * ?", "7", 1),
    ("dbStatsHandler", "数据库统计信息刷新（SQLite PRAGMA optimize / ANALYZE）", "0 50 3 * * ?", "", 1),
)


def _days_param(ctx: JobContext, default: int) -> int:
    text = ctx.param.strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise JobFailed("参数必须是保留的天数（正整数）")
    return int(text)


@job_handler("jobLogCleanHandler", description="调度日志保留：删除早于 N 天（参数，默认 30）的运行记录及其输出")
def job_log_clean_handler(ctx: JobContext) -> str:
    days = _days_param(ctx, 30)
    removed = service.delete_runs_before(utcnow() - timedelta(days=days))
    ctx.log.info("deleted %s runs older than %s days", removed, days)
    return f"删除 {removed} 条调度日志"


@job_handler("actionLogCleanHandler",
             description="操作日志保留：删除早于 N 天（参数，默认 PCLOUD_ACTION_LOG_RETENTION_DAYS）的操作日志")
def action_log_clean_handler(ctx: JobContext) -> str:
    days = _days_param(ctx, retention_days())  # default: PCLOUD_ACTION_LOG_RETENTION_DAYS
    removed = clean_action_log(days=days)  # in batches, so sign-ins are never held up for long
    ctx.log.info("deleted %s action-log rows older than %s days", removed, days)
    return f"删除 {removed} 条操作日志"


@job_handler("sessionCleanHandler", description="过期会话清理：删除过期或已注销超过 N 天（参数，默认 7）的会话")
def session_clean_handler(ctx: JobContext) -> str:
    from pcloud.sessions.models import UserSession

    text_param = ctx.param.strip()
    if text_param and (not text_param.isdigit() or int(text_param) < 0):
        raise JobFailed("参数必须是天数（非负整数）")
    days = int(text_param or 7)
    cutoff = utcnow() - timedelta(days=days)
    removed = db.session.execute(delete(UserSession).where(or_(
        UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff))).rowcount
    db.session.commit()
    ctx.log.info("deleted %s sessions expired or revoked before %s", removed, cutoff)
    return f"删除 {removed} 个过期会话"


@job_handler("dbStatsHandler",
             description="数据库统计信息刷新：SQLite 执行 PRAGMA optimize 与 ANALYZE，PostgreSQL 执行 ANALYZE")
def db_stats_handler(ctx: JobContext) -> str:
    from pcloud.core.dbstats import refresh_statistics

    dialect = db.engine.dialect.name
    refresh_statistics(db.engine)  # the same step `pcloud init` runs; open SQLite connections reload it
    ctx.log.info("statistics refreshed on %s", dialect)
    return f"{dialect} 统计信息已刷新"


def ensure_maintenance_jobs() -> list[str]:
    """Create the maintenance jobs that never existed. Returns the handlers of the jobs created."""
    from pcloud.jobs.models import Executor, Job

    executor = db.session.execute(Executor.live().where(Executor.appname == service.DEFAULT_EXECUTOR_APPNAME)
                                  ).scalar_one_or_none()
    if executor is None:
        return []
    known = set(db.session.execute(select(Job.executor_handler).where(Job.author == SYSTEM_AUTHOR)).scalars())
    created = []
    for handler, desc, conf, param, started in MAINTENANCE_JOBS:
        if handler in known:
            continue
        service.create_job({"job_group": executor.id, "job_desc": desc, "author": SYSTEM_AUTHOR,
                            "schedule_type": "CRON", "schedule_conf": conf, "executor_handler": handler,
                            "executor_param": param, "misfire_strategy": "DO_NOTHING",
                            "executor_block_strategy": "DISCARD_LATER", "trigger_status": started})
        created.append(handler)
    return created
