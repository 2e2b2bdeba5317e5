"""操作日志 reads, and the retention that deletes old rows. Rows are written by core.recorder."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import Engine, and_, desc, func, select, true

from pcloud.actionlog.models import ActionLog
from pcloud.core import search
from pcloud.core.errors import Invalid, NotFound
from pcloud.core.messages import N_
from pcloud.core.paging import Page, newest_first_page, sample_estimate
from pcloud.core.recorder import readable_params
from pcloud.core.retention import delete_older_than
from pcloud.core.timefmt import local_day_bounds_utc, local_today, utcnow
from pcloud.datascope import service as datascope
from pcloud.extensions import db
from pcloud.params import service as params
from pcloud.users.models import User

DEFAULT_RETENTION_DAYS = 180
CLEAN_BATCH = 5000


def _kw(filters: dict[str, Any], key: str) -> str:
    return (filters.get(key) or "").strip()


def _within_scope() -> Any:
    """Rows of operators the principal's data scope reaches (by the operator's department)."""
    scope = datascope.current_scope()
    return true() if scope.all else ActionLog.user_id.in_(select(User.id).where(scope.user_clause(User)))


def _words(filters: dict[str, Any]) -> list[tuple[Any, str]]:
    """The keyword filters as (column, keyword): the operator's name and the path."""
    return [(column, kw) for key, column in (("name", ActionLog.name), ("path", ActionLog.path))
            if (kw := _kw(filters, key))]


def filtered_select(filters: dict[str, Any], driving: bool = True) -> Any:
    """Log rows matching the filters. `driving`: keyword conditions as trigram-index id sets (few
    matches); otherwise plain per-row LIKE checks for a scan in time order (many matches)."""
    dialect = db.engine.dialect.name
    stmt = select(ActionLog).where(_within_scope())
    words = _words(filters)
    if driving:
        stmt = search.join_matches(stmt, words, dialect)
    else:
        for column, kw in words:
            stmt = stmt.where(column.contains(kw, autoescape=True))
    if filters.get("user_id"):
        stmt = stmt.where(ActionLog.user_id == filters["user_id"])
    if filters.get("status"):
        stmt = stmt.where(ActionLog.status == filters["status"])
    if filters.get("title"):
        stmt = stmt.where(ActionLog.title == filters["title"])
    start: datetime | None = filters.get("start_time")
    end: datetime | None = filters.get("end_time")
    if start and end and start > end:
        raise Invalid(gettext("开始时间不能晚于结束时间"), field="startTime")
    if filters.get("visit_date"):
        day_start, day_end = local_day_bounds_utc(filters["visit_date"])
        stmt = stmt.where(ActionLog.gmt_created_date >= day_start, ActionLog.gmt_created_date < day_end)
    if start:
        stmt = stmt.where(ActionLog.gmt_created_date >= start)
    if end:
        stmt = stmt.where(ActionLog.gmt_created_date <= end)
    return stmt


def page_logs(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    """Newest first. Like the user page (see users.service.page_ids): a capped count through the
    filter's index, then the page read in the order's index, or (a keyword with few matches) the
    matches sorted in memory, written so that no statistics can change the plan (core.paging.unindexed)."""
    # a keyword of three characters or more starts from the trigram index, a name of one or two from its grams; a
    # short path is checked per row
    keyword = any(search.starts_from_an_index(column, kw) for column, kw in _words(filters))
    unfiltered = not any(filters.get(k) for k in ("name", "path", "user_id", "status", "title", "start_time",
                                                   "end_time")) and datascope.current_scope().all
    return newest_first_page(
        ActionLog, ActionLog.gmt_created_date, filtered_select(filters).with_only_columns(ActionLog.id),
        lambda: filtered_select(filters, driving=False).with_only_columns(ActionLog.id), keyword=keyword,
        estimate=_keyword_estimate(filters) if keyword else None,
        unfiltered_table="sys_action_log" if unfiltered else None, page=page, page_size=page_size)


def _keyword_estimate(filters: dict[str, Any]) -> int | None:
    """A keyword-only search whose matches are plainly many: their estimate from a sample (core.paging)."""
    if any(filters.get(k) for k in ("user_id", "status", "title", "start_time", "end_time")):
        return None
    words = [(key, _kw(filters, key)) for key in ("name", "path") if _kw(filters, key)]
    base = select(ActionLog.name, ActionLog.path).order_by(desc(ActionLog.gmt_created_date), desc(ActionLog.id))
    return sample_estimate(base, lambda sub: and_(*(sub.c[key].contains(kw, autoescape=True) for key, kw in words)),
                           "sys_action_log")


def get_log(log_id: int) -> ActionLog:
    row = db.session.get(ActionLog, log_id)
    if row is None or not datascope.current_scope().reaches_user_id(row.user_id):
        raise NotFound(gettext("日志不存在"))
    return row


def shown_params(params: str | None) -> str | None:
    """A row's recorded parameters as the reader may read them, on every door (the API's page and detail, the detail
    page): what a module keeps for a grant the reader lacks (a script's source and diff) masked
    (core.recorder.readable_params)."""
    return readable_params(params)


def pretty_params(params: str | None) -> str:
    """The recorded parameters as the reader may read them, as indented JSON (as recorded when they are not JSON,
    e.g. truncated)."""
    params = shown_params(params)
    if not params:
        return ""
    try:
        return json.dumps(json.loads(params), ensure_ascii=False, indent=2, sort_keys=True)
    except ValueError:
        return params


def statistics() -> dict[str, int]:
    """Today (local calendar day): distinct signed-in users with a logged action, and logged calls, of the
    operators within the principal's data scope (as the list)."""
    start, end = local_day_bounds_utc(local_today())
    today = (ActionLog.gmt_created_date >= start) & (ActionLog.gmt_created_date < end)
    users, calls = db.session.execute(
        select(func.count(func.distinct(ActionLog.user_id)), func.count(ActionLog.id)).where(
            today, _within_scope())).one()
    return {"daily_visits": int(users or 0), "daily_interface_visits": int(calls or 0)}


def titles() -> list[str]:
    """Every action title the application can record (from its routes: no scan of the log)."""
    found = {getattr(view, "_action_title", None) for view in current_app.view_functions.values()}
    return sorted(t for t in found if t)


# ---------------------------------------------------------------------------------------------
# Retention


def retention_days() -> int:
    """参数设置 sys.log.actionRetentionDays (default PCLOUD_ACTION_LOG_RETENTION_DAYS)."""
    return int(params.value("sys.log.actionRetentionDays"))


def clean_action_log(engine: Engine | None = None, days: int | None = None, batch: int = CLEAN_BATCH,
                     now: datetime | None = None) -> int:
    """Delete log rows older than `days` (default PCLOUD_ACTION_LOG_RETENTION_DAYS), `batch` rows per
    transaction so writers are never held up for long. Returns the number deleted. The job worker's
    maintenance job calls this; so does `pcloud clean-action-log`."""
    engine = engine or db.engine
    days = retention_days() if days is None else days
    cutoff = (now or utcnow()) - timedelta(days=days)
    table = ActionLog.__table__
    return delete_older_than(engine, table, table.c.gmt_created_date, cutoff, batch)


def write_action(row: dict[str, Any]) -> None:
    """The recorder's sink: one row, in its own connection and transaction, so a request that rolls
    back (or fails) is still logged."""
    with db.engine.begin() as conn:
        conn.execute(ActionLog.__table__.insert().values(**row))


SIGN_IN_TITLE = N_("登录")
SIGN_OUT_TITLE = N_("退出登录")


def daily_activity(days: int = 7, user_id: int | None = None) -> dict[str, list[Any]]:
    """Successful sign-ins and logged operations per local calendar day, the last `days` days up to today,
    of one user, or (None) of every operator within the principal's data scope (as the list). One query: a
    sum per day and kind."""
    from datetime import timedelta

    from sqlalchemy import case

    today = local_today()
    day_list = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    bounds = [local_day_bounds_utc(d) for d in day_list]
    when = ActionLog.gmt_created_date
    sign_in = (ActionLog.title == SIGN_IN_TITLE) & (ActionLog.status == "success")
    operation = ActionLog.title.not_in((SIGN_IN_TITLE, SIGN_OUT_TITLE))
    columns = []
    for start, end in bounds:
        in_day = (when >= start) & (when < end)
        columns.append(func.coalesce(func.sum(case((in_day & sign_in, 1), else_=0)), 0))
        columns.append(func.coalesce(func.sum(case((in_day & operation, 1), else_=0)), 0))
    stmt = select(*columns).where(when >= bounds[0][0], when < bounds[-1][1])
    stmt = stmt.where(_within_scope() if user_id is None else ActionLog.user_id == user_id)
    row = db.session.execute(stmt).one()
    return {"days": [d.strftime("%m-%d") for d in day_list],
            "sign_ins": [int(v) for v in row[0::2]], "operations": [int(v) for v in row[1::2]]}
