"""Times are stored as naive UTC and shown as naive local ISO times in the configured zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import lazy_gettext

from pcloud.core.clock import database_clock_offset


def utcnow() -> datetime:
    """Naive UTC, the form every timestamp column stores, by the database server's clock: every host that
    shares the database stamps and compares times alike, whatever its own clock says (`DatabaseClock`)."""
    return (datetime.now(UTC) + database_clock_offset()).replace(tzinfo=None)


def local_zone() -> ZoneInfo:
    name = current_app.config["PCLOUD_TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def to_local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    zone = local_zone()
    if dt.tzinfo is None:  # naive UTC: the zone's own step from UTC, what astimezone ends with, without its detour
        return zone.fromutc(dt.replace(tzinfo=zone)).replace(tzinfo=None)
    return dt.astimezone(zone).replace(tzinfo=None)


def format_local(dt: datetime | None) -> str | None:
    """`2021-02-15T18:49:43` in the configured zone."""
    local = to_local(dt)
    return local.replace(microsecond=0).isoformat() if local else None


def display_local(dt: datetime | None) -> str:
    """`2021-02-15 18:49:43` for pages and exports."""
    local = to_local(dt)
    return local.strftime("%Y-%m-%d %H:%M:%S") if local else ""


# The times and dates a filter or a field may name. A day's slack at each end keeps every conversion
# between the configured zone, an explicit offset and UTC inside what datetime (and so the databases'
# drivers) can hold: year 0001 in Asia/Shanghai underflows, 9999-12-31 with -12:00 overflows.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9999, 12, 30)
TIME_RANGE_MSG = lazy_gettext("时间超出范围，应在 %(earliest)s 至 %(latest)s 之间", earliest=EARLIEST_DAY,
                              latest=LATEST_DAY)
DATE_RANGE_MSG = lazy_gettext("日期超出范围，应在 %(earliest)s 至 %(latest)s 之间", earliest=EARLIEST_DAY,
                              latest=LATEST_DAY)


class OutOfRange(ValueError):
    """A well-formed time or date outside [EARLIEST_DAY, LATEST_DAY]; its message says the range."""


def day_in_range(day: date) -> date:
    """`day`, or OutOfRange when it lies outside the range every time column and conversion can hold."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise OutOfRange(str(DATE_RANGE_MSG))
    return day


def parse_to_utc(value: str | datetime) -> datetime:
    """Accept a local time without offset (configured zone) or one with an explicit offset. A malformed
    time is a ValueError; a time outside EARLIEST_DAY..LATEST_DAY (as written, or once in UTC) is
    OutOfRange, a ValueError too (the day's slack at each end keeps the conversion in range)."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if not EARLIEST_DAY <= dt.date() <= LATEST_DAY:
        raise OutOfRange(str(TIME_RANGE_MSG))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=local_zone())
    return dt.astimezone(UTC).replace(tzinfo=None)


def local_today() -> date:
    return to_local(utcnow()).date()


def local_day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, in naive UTC."""
    zone = local_zone()
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = datetime.fromordinal(day.toordinal() + 1).replace(tzinfo=zone)
    return (start.astimezone(UTC).replace(tzinfo=None), end.astimezone(UTC).replace(tzinfo=None))
