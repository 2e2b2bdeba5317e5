"""登录日志: the writer (called by sign-in, sign-out, forced offline and the session clean-up), the reads
behind the page, its export, and the retention (the operation log's setting).

A row is written in its own short transaction on its own connection (`db.engine.begin()`), after the
sign-in's own transaction has ended, so it never holds or waits for a lock the sign-in holds, and a
refused or rolled-back sign-in is logged too. A single INSERT per attempt: hundreds of attempts per second
append rows side by side (PostgreSQL) or take the write lock for one short statement each (SQLite, WAL).
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy import Engine, delete, desc, exists, select, text
from sqlalchemy.exc import OperationalError

from pcloud.core import search
from pcloud.core.errors import Invalid, NotFound
from pcloud.core.i18n import clipped, said, stored, translated
from pcloud.core.messages import N_
from pcloud.core.paging import Page, newest_first_page, sample_estimate
from pcloud.core.retention import delete_older_than
from pcloud.core.timefmt import display_local, utcnow
from pcloud.core.useragent import parse_user_agent
from pcloud.datascope import service as datascope
from pcloud.dicts import service as dicts
from pcloud.extensions import db
from pcloud.loginlog.models import LoginLog, LoginLogPhone
from pcloud.params import service as params
from pcloud.users.models import User

log = logging.getLogger(__name__)
EVENTS = ("login", "logout", "offline", "expired")
EVENT_NAMES = {"login": lazy_gettext("登录"), "logout": lazy_gettext("退出"), "offline": lazy_gettext("强制下线"),
               "expired": lazy_gettext("会话过期")}
RESULT_NAMES = {0: lazy_gettext("成功"), 1: lazy_gettext("失败")}
GRANT_TYPES = ("ADMIN", "SMS", "OPEN")
# An offline row's reason names who ended the session: stored with the name as a value (core.i18n.said), as every
# reason with a value; rows stored earlier as the finished Chinese sentence are read by `shown_reason`.
FORCED_OFFLINE_BY = N_("被%(name)s强制下线")
FORCED_OFFLINE = N_("被强制下线")
_FORCED_OFFLINE_BY = re.compile(r"被(.+)强制下线", re.S)
WRITE_TRIES = 6
CLEAN_BATCH = 5000
EXPORT_CAP = 100_000
# lazy: each export says them in its reader's language (str() them for the sheet)
EXPORT_HEADERS = (lazy_gettext("时间"), lazy_gettext("事件"), lazy_gettext("登录方式"), lazy_gettext("结果"),
                  lazy_gettext("原因"), lazy_gettext("手机号/secureId"), lazy_gettext("用户ID"), "IP",
                  lazy_gettext("浏览器"), lazy_gettext("操作系统"), "User-Agent")


def login_row(event: str, *, result: int = 0, reason: str | None = None, grant_type: str | None = None,
              phone: str | None = None, user_id: int | None = None, ip: str | None = None,
              user_agent: str | None = None, at: datetime | None = None) -> dict[str, Any]:
    """One row's values, the agent parsed (core.useragent) and every text cut to its column. `reason`: a source
    string, a sentence with values from core.i18n.said, or one `gettext` said (stored as its source and values,
    core.i18n.stored), never text said only in the writer's language."""
    os_name, browser = parse_user_agent(user_agent or "")
    return {"event": event, "grant_type": (grant_type or None) and grant_type[:8], "result": result,
            "reason": clipped(stored(reason), 200), "phone": (phone or "").strip()[:64] or None,
            "user_id": user_id, "client_ip": (ip or "")[:64] or None,
            "user_agent": (user_agent or "")[:255] or None, "browser": browser or None, "os": os_name or None,
            "signed_in_at": at or utcnow()}


def write_rows(rows: list[dict[str, Any]], engine: Engine | None = None) -> None:
    """Insert the rows in one short transaction of their own. A busy database (SQLite's write lock taken for
    longer than its timeout) is retried; what still fails is logged, never raised: the login log must not
    break a sign-in."""
    if not rows:
        return
    engine = engine or db.engine
    for attempt in range(1, WRITE_TRIES + 1):
        try:
            with engine.begin() as conn:
                conn.execute(LoginLog.__table__.insert(), rows)
            return
        except OperationalError:
            if attempt == WRITE_TRIES:
                log.exception("could not write %d login log rows", len(rows))
            else:  # SQLite may answer "locked" at once (a write lock it will not wait for): back off, then again
                time.sleep(random.uniform(0.01, 0.05) * 2 ** attempt)
        except Exception:  # noqa: BLE001 - never break the sign-in or sign-out it records
            log.exception("could not write %d login log rows", len(rows))
            return


def record(event: str, **values: Any) -> None:
    """Write one event (see `login_row` for the values)."""
    write_rows([login_row(event, **values)])


# ---------------------------------------------------------------------------------------------
# Reads


def _phone(filters: dict[str, Any]) -> str:
    return (filters.get("phone") or "").strip()


def phones_containing(keyword: str) -> Any:
    """The distinct phones of the log that contain `keyword` (LIKE's rules): a scan of sys_login_log_phone,
    whose size is the number of distinct phones, not of rows."""
    return select(LoginLogPhone.phone).where(LoginLogPhone.phone.contains(keyword, autoescape=True))


def filtered_select(filters: dict[str, Any], driving: bool = True) -> Any:
    """Rows matching the filters. `driving`: the phone keyword as its matching distinct phones, read through
    the log's phone index (few rows); otherwise a plain per-row LIKE for a scan in time order (many), as the
    operation log does."""
    stmt = select(LoginLog)
    scope = datascope.current_scope()
    if not scope.all:  # rows of operators the principal's data scope reaches (by the operator's department)
        stmt = stmt.where(LoginLog.user_id.in_(select(User.id).where(scope.user_clause(User))))
    if (phone := _phone(filters)):
        if driving:
            stmt = stmt.where(LoginLog.phone.in_(phones_containing(phone)))
        else:
            stmt = stmt.where(search.contains_per_row(LoginLog.phone, phone))
    if filters.get("result") is not None:
        stmt = stmt.where(LoginLog.result == filters["result"])
    if filters.get("grant_type"):
        stmt = stmt.where(LoginLog.grant_type == filters["grant_type"].upper())
    if filters.get("event"):
        stmt = stmt.where(LoginLog.event == filters["event"])
    if (ip := (filters.get("client_ip") or "").strip()):
        stmt = stmt.where(LoginLog.client_ip == ip)
    if filters.get("user_id"):
        stmt = stmt.where(LoginLog.user_id == filters["user_id"])
    start: datetime | None = filters.get("start_time")
    end: datetime | None = filters.get("end_time")
    if start and end and start > end:
        raise Invalid(gettext("开始时间不能晚于结束时间"), field="startTime")
    if start:
        stmt = stmt.where(LoginLog.signed_in_at >= start)
    if end:
        stmt = stmt.where(LoginLog.signed_in_at <= end)
    return stmt


FILTER_KEYS = ("phone", "result", "grant_type", "event", "client_ip", "user_id", "start_time", "end_time")
NEWEST = (desc(LoginLog.signed_in_at), desc(LoginLog.id))


def page_logins(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    """Newest first, as the operation log's page (actionlog.service.page_logs): a capped count, then the page's
    ids read in time order, or (a phone keyword with few matches) the matches sorted, written so that no
    statistics can change the plan (core.paging.unindexed)."""
    keyword = bool(_phone(filters))
    unfiltered = all(filters.get(k) in (None, "") for k in FILTER_KEYS) and datascope.current_scope().all
    return newest_first_page(
        LoginLog, LoginLog.signed_in_at, filtered_select(filters).with_only_columns(LoginLog.id),
        lambda: filtered_select(filters, driving=False).with_only_columns(LoginLog.id), keyword=keyword,
        estimate=_keyword_estimate(filters) if keyword else None,
        unfiltered_table="sys_login_log" if unfiltered else None, page=page, page_size=page_size)


def _keyword_estimate(filters: dict[str, Any]) -> int | None:
    """A phone-only search whose matches are plainly many: their estimate from a sample (core.paging)."""
    if any(filters.get(k) not in (None, "") for k in FILTER_KEYS if k != "phone"):
        return None
    phone = _phone(filters)
    base = select(LoginLog.phone).order_by(*NEWEST)
    return sample_estimate(base, lambda sub: sub.c.phone.contains(phone, autoescape=True), "sys_login_log")


def forced_offline_reason(name: str | None) -> str:
    """The stored reason of a session an administrator ended (强制下线), naming them when known."""
    return said(FORCED_OFFLINE_BY, name=name) if name else FORCED_OFFLINE


def shown_reason(reason: str | None) -> str | None:
    """A stored reason in the reader's language (the list, the detail, the export, the API): a source string by its
    catalogue entry, a sentence with values (core.i18n.said: a lock's minutes, who forced a session offline) said
    with them; an offline one stored earlier in Chinese with the name of who ended the session kept as named."""
    if reason and reason != FORCED_OFFLINE and (match := _FORCED_OFFLINE_BY.fullmatch(reason)):
        return gettext(FORCED_OFFLINE_BY, name=match.group(1))
    return translated(reason)


def get_login(log_id: int) -> LoginLog:
    row = db.session.get(LoginLog, log_id)
    if row is None or not datascope.current_scope().reaches_user_id(row.user_id):
        raise NotFound(gettext("登录日志不存在"))
    return row


def export_rows(filters: dict[str, Any]) -> Iterator[list[Any]]:
    """The filtered rows, newest first, at most EXPORT_CAP, streamed in batches."""
    stmt = filtered_select(filters, driving=False).order_by(*NEWEST).limit(EXPORT_CAP)
    results = {**{str(k): v for k, v in RESULT_NAMES.items()}, **dict(dicts.options("login_result"))}  # 字典管理
    for row in db.session.execute(stmt.execution_options(yield_per=1000)).scalars():
        yield [display_local(row.signed_in_at), EVENT_NAMES.get(row.event, row.event), row.grant_type or "",
               results.get(str(row.result), ""), shown_reason(row.reason) or "", row.phone or "", row.user_id or "",
               row.client_ip or "", row.browser or "", row.os or "", row.user_agent or ""]


# ---------------------------------------------------------------------------------------------
# Retention: 参数设置 sys.log.loginRetentionDays (default PCLOUD_LOGIN_LOG_RETENTION_DAYS, else the operation
# log's), the same batches.


def retention_days() -> int:
    return int(params.value("sys.log.loginRetentionDays"))


def clean_login_log(engine: Engine | None = None, days: int | None = None, batch: int = CLEAN_BATCH,
                    now: datetime | None = None) -> int:
    """Delete rows older than `days` (default: the retention parameter), `batch` rows per transaction so
    sign-ins are never held up long."""
    engine = engine or db.engine
    days = retention_days() if days is None else days
    cutoff = (now or utcnow()) - timedelta(days=days)
    table = LoginLog.__table__
    deleted = delete_older_than(engine, table, table.c.signed_in_at, cutoff, batch)
    if deleted:
        forget_phones(engine, batch)
    return deleted


def forget_phones(engine: Engine | None = None, batch: int = CLEAN_BATCH) -> int:
    """Drop the distinct phones no row holds any more, `batch` per transaction, so the phone keyword's lookup
    stays as small as the log's distinct phones. PostgreSQL: each batch first locks out the triggers' inserts
    (SHARE ROW EXCLUSIVE conflicts with an INSERT's ROW EXCLUSIVE), so a sign-in writing one of these phones
    either committed before the check sees its row, or adds the phone again after the delete."""
    engine = engine or db.engine
    forgotten, after = 0, ""
    while True:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("LOCK TABLE sys_login_log_phone IN SHARE ROW EXCLUSIVE MODE"))
            keys = list(conn.execute(select(LoginLogPhone.phone).where(LoginLogPhone.phone > after)
                                     .order_by(LoginLogPhone.phone).limit(batch)).scalars())
            if not keys:
                return forgotten
            forgotten += conn.execute(delete(LoginLogPhone).where(
                LoginLogPhone.phone.in_(keys), ~exists().where(LoginLog.phone == LoginLogPhone.phone))).rowcount
        after = keys[-1]
