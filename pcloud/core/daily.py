"""Counts per local calendar day (the configured zone) of the rows of any table, in one query."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select

from pcloud.core.timefmt import local_day_bounds_utc, local_today
from pcloud.extensions import db


def last_days(days: int) -> list[date]:
    """The last `days` local calendar days, oldest first, today last."""
    today = local_today()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def daily_counts(when: Any, days: int, *where: Any) -> list[int]:
    """Rows whose `when` (a UTC timestamp column) falls on each of `last_days(days)`, filtered by `where`:
    one statement, a sum per day, so a week costs one round trip whatever the rows."""
    bounds = [local_day_bounds_utc(d) for d in last_days(days)]
    columns = [func.coalesce(func.sum(case(((when >= start) & (when < end), 1), else_=0)), 0)
               for start, end in bounds]
    stmt = select(*columns).where(when >= bounds[0][0], when < bounds[-1][1], *where)
    return [int(v) for v in db.session.execute(stmt).one()]
