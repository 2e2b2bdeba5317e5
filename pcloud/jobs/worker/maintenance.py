"""Built-in maintenance: its handlers (run and action-log retention, expired sessions, database statistics)
and the maintenance jobs `pcloud init` creates on the default executor, once (an administrator may stop, edit or delete
them; init never brings a deleted one back).

The handlers register through the entry-point group ``pcloud.job_handlers`` (pyproject), so the
console knows them as well as the worker.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update

from pcloud.actionlog.service import clean_action_log
from pcloud.core.i18n import said
from pcloud.core.messages import N_
from pcloud.core.numbers import digits_only
from pcloud.core.timefmt import utcnow
from pcloud.extensions import db
from pcloud.jobs import service
from pcloud.jobs.handlers import RETENTION_FLOORS, JobContext, JobFailed, job_handler
from pcloud.loginlog.service import clean_login_log

SYSTEM_AUTHOR = "system"

# (handler, description, cron, param, started); the description is stored as the job's, shown translated.
# What the handlers return or raise is a run's stored message: its source string and values (N_, core.i18n.said),
# said in the reader's language where it is shown.
MAINTENANCE_JOBS = (
    ("jobLogCleanHandler", N_("调度日志保留（删除 30 天前的运行记录）"), "0 30 3 * * ?", "30", 1),
    ("actionLogCleanHandler", N_("操作日志与登录日志保留（删除 180 天前的日志）"), "0 40 3 * * ?", "180", 1),
    ("sessionCleanHandler", N_("过期会话清理（删除过期或注销超过 7 天的会话）"), "0 5 * * * ?", "7", 1),
    ("dbStatsHandler", N_("数据库统计信息刷新（SQLite PRAGMA optimize / ANALYZE）"), "0 50 3 * * ?", "", 1),
)


def _days_param(ctx: JobContext, handler: str) -> int:
    floor = RETENTION_FLOORS[handler]()
    text = ctx.param.strip()
    if not text:
        return floor
    if not digits_only(text) or int(text) < 1:
        raise JobFailed(N_("参数必须是保留的天数（正整数）"))
    if int(text) < floor:
        ctx.log.warning("parameter %s days is below the configured retention: kept %s days", text, floor)
        return floor
    return int(text)


@job_handler("jobLogCleanHandler",
             description=N_("调度日志保留：删除早于 N 天（参数，默认且至少 PCLOUD_JOB_LOG_RETENTION_DAYS）的运行记录"))
def job_log_clean_handler(ctx: JobContext) -> str:
    days = _days_param(ctx, "jobLogCleanHandler")
    removed = service.delete_runs_before(utcnow() - timedelta(days=days))
    ctx.log.info("deleted %s runs older than %s days", removed, days)
    return said(N_("删除 %(n)s 条调度日志"), n=removed)


@job_handler("actionLogCleanHandler",
             description=N_("操作日志与登录日志保留：删除早于 N 天（参数，默认且至少 "
                            "PCLOUD_ACTION_LOG_RETENTION_DAYS）的日志"))
def action_log_clean_handler(ctx: JobContext) -> str:
    days = _days_param(ctx, "actionLogCleanHandler")
    removed = clean_action_log(days=days)  # in batches, so sign-ins are never held up for long
    # The login log: the same job, its own retention parameter (参数设置 sys.log.loginRetentionDays).
    logins = clean_login_log()
    ctx.log.info("deleted %s action-log and %s login-log rows older than %s days", removed, logins, days)
    return said(N_("删除 %(n)s 条操作日志、%(logins)s 条登录日志"), n=removed, logins=logins)


@job_handler("sessionCleanHandler", description=N_("过期会话清理：删除过期或已注销超过 N 天（参数，默认 7）的会话"))
def session_clean_handler(ctx: JobContext) -> str:
    from pcloud.auth.models import SmsCode
    from pcloud.core.models import SubmittedForm
    from pcloud.sessions.models import UserSession

    text_param = ctx.param.strip()
    if text_param and (not digits_only(text_param) or int(text_param) < 0):
        raise JobFailed(N_("参数必须是天数（非负整数）"))
    days = int(text_param or 7)
    expired = record_expired_sessions()
    cutoff = utcnow() - timedelta(days=days)
    removed = db.session.execute(delete(UserSession).where(or_(
        UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff))).rowcount
    # SMS codes of more than a day ago: no check reads back further than an hour (the cooldown, the sends per
    # address, a code's lifetime), and the login log keeps every attempt. Nothing deleted them before, so any
    # visitor could grow the table without end.
    codes = db.session.execute(delete(SmsCode).where(SmsCode.created_at < utcnow() - timedelta(days=1))).rowcount
    # create forms' one-time tokens: a form is posted again within moments, not days (core.views)
    db.session.execute(delete(SubmittedForm).where(SubmittedForm.submitted_at < utcnow() - timedelta(days=1)))
    db.session.commit()
    ctx.log.info("deleted %s sessions expired or revoked before %s, and %s SMS codes of more than a day ago",
                 removed, cutoff, codes)
    return said(N_("删除 %(n)s 个过期会话，登记 %(expired)s 个会话过期"), n=removed, expired=expired)


EXPIRED_BATCH = 1000


def record_expired_sessions(now: datetime | None = None) -> int:
    """Write the login log's `expired` row of every session that ran out without being ended, at the time it
    ran out, and mark it ended (reason 'expired') so it is written once, however many workers run this.
    Sessions are ended in batches, each in a short transaction; the rows follow in their own."""
    from pcloud.loginlog import service as login_log
    from pcloud.openplatform.models import OpenAccount
    from pcloud.sessions.models import UserSession
    from pcloud.users.models import User

    now = now or utcnow()
    written = 0
    while True:
        found = db.session.execute(
            select(UserSession.id, UserSession.user_id, UserSession.ip, UserSession.user_agent,
                   UserSession.expires_at, func.coalesce(User.phone, OpenAccount.secure_id).label("phone"),
                   UserSession.subject)
            .outerjoin(User, User.id == UserSession.user_id)
            .outerjoin(OpenAccount, OpenAccount.id == UserSession.open_account_id)
            .where(UserSession.revoked_at.is_(None), UserSession.expires_at <= now)
            .order_by(UserSession.id).limit(EXPIRED_BATCH)).all()
        if not found:
            return written
        ended = db.session.execute(
            update(UserSession).where(UserSession.id.in_([r.id for r in found]), UserSession.revoked_at.is_(None))
            .values(revoked_at=UserSession.expires_at, revoke_reason="expired")
            .returning(UserSession.id)).scalars().all()
        db.session.commit()
        mine = set(ended)  # another worker may have ended some meanwhile: it writes theirs
        login_log.write_rows([login_log.login_row(
            "expired", reason=N_("会话过期"), phone=r.phone, user_id=r.user_id, ip=r.ip, user_agent=r.user_agent,
            grant_type="OPEN" if r.subject == "open" else None, at=r.expires_at) for r in found if r.id in mine])
        written += len(mine)
        if len(found) < EXPIRED_BATCH:
            return written


@job_handler("dbStatsHandler",
             description=N_("数据库统计信息刷新：SQLite 执行 PRAGMA optimize 与 ANALYZE，PostgreSQL 执行 ANALYZE"))
def db_stats_handler(ctx: JobContext) -> str:
    from pcloud.core.dbstats import refresh_statistics

    dialect = db.engine.dialect.name
    refresh_statistics(db.engine)  # the same step `pcloud init` runs; open SQLite connections reload it
    ctx.log.info("statistics refreshed on %s", dialect)
    return said(N_("%(dialect)s 统计信息已刷新"), dialect=dialect)


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
