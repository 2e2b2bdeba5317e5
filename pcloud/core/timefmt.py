"""Times are stored as naive UTC and shown as naive local ISO times in the configured zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """Naive UTC, the form every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


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


def parse_to_utc(value: str | datetime) -> datetime:
    """Accept a local time without offset (configured zone) or one with an explicit offset."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=local_zone())
    return dt.astimezone(UTC).replace(tzinfo=None)


def local_today() -> date:
    return datetime.now(local_zone()).date()


def local_day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, in naive UTC."""
    zone = local_zone()
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = datetime.fromordinal(day.toordinal() + 1).replace(tzinfo=zone)
    return (start.astimezone(UTC).replace(tzinfo=None), end.astimezone(UTC).replace(tzinfo=None))
