"""操作日志 reads. Rows are written by core.recorder; nothing here changes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from pcloud.actionlog.models import ActionLog
from pcloud.core.errors import Invalid
from pcloud.core.paging import Page, paginate
from pcloud.core.timefmt import local_day_bounds_utc, local_today
from pcloud.extensions import db


def filtered_select(filters: dict[str, Any]) -> Any:
    stmt = select(ActionLog)
    if filters.get("name"):
        stmt = stmt.where(ActionLog.name.contains(filters["name"].strip(), autoescape=True))
    if filters.get("path"):
        stmt = stmt.where(ActionLog.path.contains(filters["path"].strip(), autoescape=True))
    if filters.get("status"):
        stmt = stmt.where(ActionLog.status == filters["status"])
    if filters.get("title"):
        stmt = stmt.where(ActionLog.title == filters["title"])
    start: datetime | None = filters.get("start_time")
    end: datetime | None = filters.get("end_time")
    if start and end and start > end:
        raise Invalid("开始时间不能晚于结束时间", field="startTime")
    if filters.get("visit_date"):
        day_start, day_end = local_day_bounds_utc(filters["visit_date"])
        stmt = stmt.where(ActionLog.gmt_created_date >= day_start, ActionLog.gmt_created_date < day_end)
    if start:
        stmt = stmt.where(ActionLog.gmt_created_date >= start)
    if end:
        stmt = stmt.where(ActionLog.gmt_created_date <= end)
    return stmt


def page_logs(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    return paginate(filtered_select(filters).order_by(ActionLog.id.desc()), page, page_size)


def statistics() -> dict[str, int]:
    """Today (local calendar day): distinct signed-in users with a logged action, and logged calls."""
    start, end = local_day_bounds_utc(local_today())
    today = (ActionLog.gmt_created_date >= start) & (ActionLog.gmt_created_date < end)
    users, calls = db.session.execute(
        select(func.count(func.distinct(ActionLog.user_id)), func.count(ActionLog.id)).where(today)).one()
    return {"daily_visits": int(users or 0), "daily_interface_visits": int(calls or 0)}


def titles() -> list[str]:
    return list(db.session.execute(select(ActionLog.title).distinct().order_by(ActionLog.title)).scalars())


def write_action(row: dict[str, Any]) -> None:
    """The recorder's sink: one row, in its own connection and transaction, so a request that rolls
    back (or fails) is still logged."""
    with db.engine.begin() as conn:
        conn.execute(ActionLog.__table__.insert().values(**row))


SIGN_IN_TITLE = "登录"
SIGN_OUT_TITLE = "退出登录"


def daily_activity(days: int = 7, user_id: int | None = None) -> dict[str, list[Any]]:
    """Successful sign-ins and logged operations per local calendar day, the last `days` days up to today,
    for everyone or for one user. One query: a sum per day and kind."""
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
    if user_id is not None:
        stmt = stmt.where(ActionLog.user_id == user_id)
    row = db.session.execute(stmt).one()
    return {"days": [d.strftime("%m-%d") for d in day_list],
            "sign_ins": [int(v) for v in row[0::2]], "operations": [int(v) for v in row[1::2]]}
