"""Schedules: Quartz cron (evaluated by croniter through this adapter), FIX_RATE and NONE.

Quartz and croniter disagree on a few points, which this adapter settles so that the rest of the
code only speaks Quartz:

- Quartz has seconds first and an optional seventh year field (1970-2099); croniter takes the same
  layout with ``second_at_beginning=True``.
- Quartz numbers the days of the week 1 = Sunday .. 7 = Saturday; croniter 0 = Sunday. Every
  day-of-week value, range, ``N#k`` and ``NL`` is rewritten. Wrapping ranges (``FRI-MON``,
  ``22-2``) are expanded here into explicit lists, because croniter reads a reversed weekday range
  as the whole week.
- Exactly one of day-of-month and day-of-week must be ``?`` (Quartz does not implement both).
- ``L-n`` (n days before the last day) and ``LW`` (last weekday of the month) are not croniter
  syntax: the day-of-month goes to croniter as ``*`` and the day is filtered here, jumping to the
  next day when it does not match so that a seconds-level expression costs one step per day.
- DST, in the job's IANA zone, as Quartz's ``CronExpression.getTimeAfter`` answers (its own answers
  are the test cases of tests/test_jobs_cron.py): the expression is matched against local wall
  times; a wall time the spring change skips does not exist, so its fire is skipped (``0 30 2 * * ?``
  does not fire on that day, it is not moved to 03:00); a wall time the autumn change repeats fires
  once, in its second copy (standard time), whatever the expression (Java's calendar reads an
  ambiguous wall time as the later instant). croniter is walked over naive wall times and each match
  is placed in the zone here, because croniter itself moves a skipped fire to the end of the gap.

``next_fire_times`` returns aware UTC datetimes; ``validate_schedule`` returns a Chinese message
naming what is wrong, or None.

Every computation has one budget, ``SCHEDULE_STEP_BUDGET`` steps: past it ``ScheduleTooExpensive`` (a
``CronError``) is raised, so the API and the pages answer 422 and the worker stops the job, instead of
spending minutes on an expression such as ``* * * L-30 2,4,6,9,11 ?`` that never fires.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import croniter
from croniter.croniter import CroniterError
from flask_babel import gettext

from pcloud.core.messages import N_
from pcloud.core.numbers import digits_only
from pcloud.core.timefmt import utcnow

SCHEDULE_TYPES = ("CRON", "FIX_RATE", "NONE")
MAX_FIX_RATE_SECONDS = 10 * 365 * 24 * 3600

MONTHS = {name: i for i, name in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
# Quartz numbering: 1 = Sunday
WEEKDAYS = {name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}

# Messages are said with gettext: in the request's language, or the deployment's outside one (worker).
FIELD_NAMES = [N_("秒"), N_("分"), N_("时"), N_("日"), N_("月"), N_("周"), N_("年")]
FIELD_RANGES = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2099)]
_TOKEN = re.compile(r"^(\*|[0-9A-Z]+)(?:-([0-9A-Z]+))?(?:/([0-9]+))?$")


class CronError(ValueError):
    """An expression Quartz would reject; the message is Chinese and names the field."""


@dataclass(frozen=True)
class _Compiled:
    expr: str  # for croniter, seconds first
    day_filter: Callable[[date], bool] | None


def _value(text: str, idx: int) -> int:
    names = MONTHS if idx == 4 else WEEKDAYS if idx == 5 else {}
    if text in names:
        return names[text]
    if not digits_only(text):
        raise CronError(gettext("%(field)s字段的值“%(value)s”无法识别", field=gettext(FIELD_NAMES[idx]), value=text))
    value = int(text)
    low, high = FIELD_RANGES[idx]
    if not low <= value <= high:
        raise CronError(gettext("%(field)s字段的值 %(value)s 超出范围 %(low)s-%(high)s",
                                field=gettext(FIELD_NAMES[idx]), value=value, low=low, high=high))
    return value


def _expand_set(field: str, idx: int) -> set[int]:
    """`*`, `N`, `A-B`, `*/s`, `A/s`, `A-B/s` and comma lists into the set of values (wrapping ranges allowed)."""
    low, high = FIELD_RANGES[idx]
    values: set[int] = set()
    for part in field.split(","):
        m = _TOKEN.match(part)
        if not part or not m:
            raise CronError(gettext("%(field)s字段的“%(value)s”格式不正确", field=gettext(FIELD_NAMES[idx]),
                                    value=part))
        start_s, end_s, step_s = m.groups()
        step = int(step_s) if step_s else 1
        if step_s is not None and step == 0:
            raise CronError(gettext("%(field)s字段的步长不能为 0", field=gettext(FIELD_NAMES[idx])))
        if step > high - low + 1:
            raise CronError(gettext("%(field)s字段的步长 %(step)s 过大", field=gettext(FIELD_NAMES[idx]), step=step))
        if start_s == "*":
            if end_s:
                raise CronError(gettext("%(field)s字段的“%(value)s”格式不正确", field=gettext(FIELD_NAMES[idx]),
                                    value=part))
            start, end = low, high
        else:
            start = _value(start_s, idx)
            end = _value(end_s, idx) if end_s else (high if step_s else start)
        span = (end - start) % (high - low + 1)  # wrapping range: FRI-MON, 22-2
        for offset in range(0, span + 1, step):
            values.add(low + (start - low + offset) % (high - low + 1))
    return values


def _join(values: set[int]) -> str:
    return ",".join(str(v) for v in sorted(values))


def _last_weekday(day: date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    candidate = date(day.year, day.month, last)
    while candidate.weekday() >= 5:
        candidate -= timedelta(days=1)
    return day == candidate


def _day_of_month(field: str) -> tuple[str, Callable[[date], bool] | None]:
    if field in ("?", "*"):
        return "*", None
    if field == "L":
        return "L", None
    if field == "LW":
        return "*", _last_weekday
    m = re.fullmatch(r"L-([0-9]+)", field)
    if m:
        back = int(m.group(1))
        if back > 30:
            raise CronError(gettext("日字段 L-n 中的 n 不能大于 30"))
        return "*", lambda d: d.day == calendar.monthrange(d.year, d.month)[1] - back
    m = re.fullmatch(r"([0-9]+)W", field)
    if m:
        day = int(m.group(1))
        if not 1 <= day <= 31:
            raise CronError(gettext("日字段的值 %(value)s 超出范围 1-31", value=day))
        return f"{day}W", None
    if "L" in field or "W" in field:
        raise CronError(gettext("日字段中 L 和 W 只能单独使用（L、L-3、LW、15W），不能出现在列表或范围中"))
    return _join(_expand_set(field, 3)), None


def _day_of_week(field: str) -> str:
    if field in ("?", "*"):
        return "*"
    if field == "L":  # alone, Quartz reads it as 7 = Saturday
        return "6"
    if "#" in field or "L" in field:
        if "," in field or "-" in field or "/" in field:
            raise CronError(gettext("周字段中 # 和 L 只能单独使用（如 6#3、6L），不能与列表或范围组合"))
        m = re.fullmatch(r"([0-9A-Z]+)#(\d+)", field)
        if m:
            nth = int(m.group(2))
            if not 1 <= nth <= 5:
                raise CronError(gettext("周字段 # 后的序号必须在 1-5 之间"))
            return f"{_value(m.group(1), 5) - 1}#{nth}"
        m = re.fullmatch(r"([0-9A-Z]+)L", field)
        if m:
            return f"L{_value(m.group(1), 5) - 1}"
        raise CronError(gettext("周字段的“%(value)s”格式不正确", value=field))
    return _join({v - 1 for v in _expand_set(field, 5)})


def _compile(conf: str) -> _Compiled:
    fields = (conf or "").strip().upper().split()
    if len(fields) not in (6, 7):
        raise CronError(gettext("Cron 表达式应有 6 或 7 个字段：秒 分 时 日 月 周 [年]"))
    for idx, field in enumerate(fields):
        if "?" in field and (idx not in (3, 5) or field != "?"):
            raise CronError(gettext("? 只能单独用于日或周字段，不能用于%(field)s字段", field=gettext(FIELD_NAMES[idx])))
    dom, dow = fields[3], fields[5]
    if (dom == "?") == (dow == "?"):
        raise CronError(gettext("日和周字段必须有且只有一个为 ?（Quartz 不支持同时指定日和周）"))
    for idx in (0, 1, 2, 4):
        # month names (JUL, AUG) contain the letters; _expand_set rejects anything else
        special = any(ch in fields[idx] for ch in "LW#")
        if special and not (idx == 4 and any(name in fields[idx] for name in MONTHS)):
            raise CronError(gettext("%(field)s字段不支持 L、W 或 #", field=gettext(FIELD_NAMES[idx])))
    hours = _expand_set(fields[2], 2)
    parts = [_join(_expand_set(fields[0], 0)), _join(_expand_set(fields[1], 1)), _join(hours)]
    dom_expr, day_filter = _day_of_month(dom)
    parts += [dom_expr, _join(_expand_set(fields[4], 4)), _day_of_week(dow)]
    if len(fields) == 7:
        years = _expand_set(fields[6], 6)
        parts.append("*" if len(years) == 130 else _join(years))
    return _Compiled(" ".join(parts), day_filter)


def _place_in_zone(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The instant of a local wall time as Quartz places it: None when the spring change skips it, the
    second (standard time) instant when the autumn change repeats it."""
    later = wall.replace(tzinfo=zone, fold=1)
    if later.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return None  # in the gap: this wall time never shows on a clock of the zone
    return later


# One budget for every schedule computation (page preview, API, job save/start, worker): the steps taken
# through croniter to find the next `n` fire times. Counted in steps, not seconds, so every host (web and
# worker, on any load) gives the same answer for the same expression. A day filter (L-n, LW) and the skip
# of a repeated autumn hour cost one step per day / per hour, so real schedules need a few hundred at most.
SCHEDULE_STEP_BUDGET = 1000


class ScheduleTooExpensive(CronError):
    """The expression needs more than SCHEDULE_STEP_BUDGET steps to find its fire times."""


def _too_expensive() -> ScheduleTooExpensive:
    return ScheduleTooExpensive(
        gettext("该调度的触发时间计算量过大（超过 %(n)s 步仍未算出），请简化 Cron 表达式", n=SCHEDULE_STEP_BUDGET))


def _cron_times(conf: str, zone: ZoneInfo, after: datetime, n: int) -> list[datetime]:
    compiled = _compile(conf)
    out: list[datetime] = []
    start = after.astimezone(zone).replace(tzinfo=None)  # wall time
    horizon = start + timedelta(days=366 * 130)
    it = croniter(compiled.expr, start, second_at_beginning=True, max_years_between_matches=130)
    steps = 0
    while len(out) < n:
        steps += 1
        if steps > SCHEDULE_STEP_BUDGET:
            raise _too_expensive()
        try:
            wall: datetime = it.get_next(datetime)
        except CroniterError:
            break
        if wall > horizon:
            break
        if compiled.day_filter and not compiled.day_filter(wall.date()):
            # skip the whole local day in one step
            it.set_current(datetime(wall.year, wall.month, wall.day) + timedelta(days=1) - timedelta(seconds=1))
            continue
        moment = _place_in_zone(wall, zone)
        if moment is None:
            # skipped by the spring change: go on from the next half hour (gaps start and end on one), so a
            # seconds-level expression costs two steps per hour of gap, not one per second
            half = wall.replace(minute=0 if wall.minute < 30 else 30, second=0, microsecond=0)
            it.set_current(half + timedelta(minutes=30) - timedelta(seconds=1))
            continue
        utc = moment.astimezone(UTC)
        if utc <= after or (out and utc <= out[-1]):
            continue
        out.append(utc)
    return out


def zone_or_error(tz: str | None) -> ZoneInfo:
    try:
        if not tz or tz not in _zone_names():
            raise ZoneInfoNotFoundError(tz)
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(gettext("时区“%(zone)s”不存在", zone=tz)) from None


_ZONES: set[str] | None = None


def _zone_names() -> set[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones()
    return _ZONES


def time_zone_choices() -> list[str]:
    """IANA names for the time-zone select, common ones first."""
    common = ["Asia/Shanghai", "UTC", "Asia/Tokyo", "Asia/Singapore", "Europe/London", "Europe/Berlin",
              "America/New_York", "America/Los_Angeles"]
    return common + sorted(z for z in _zone_names() if z not in common and "/" in z)


def next_fire_times(schedule_type: str, conf: str | None, tz: str, after: datetime, n: int = 5) -> list[datetime]:
    """The next `n` fire times strictly after `after` (aware, or naive UTC), as aware UTC datetimes.

    CRON: Quartz expression evaluated in `tz`. FIX_RATE: `conf` seconds, counted from `after` (the worker
    passes the planned time, so the phase is kept). NONE: no fire time. Raises CronError when invalid.
    """
    if after.tzinfo is None:
        after = after.replace(tzinfo=UTC)
    if schedule_type == "CRON":
        return _cron_times(conf or "", zone_or_error(tz), after, n)
    if schedule_type == "FIX_RATE":
        rate = _fix_rate(conf)
        return [(after + timedelta(seconds=rate * i)).astimezone(UTC) for i in range(1, n + 1)]
    if schedule_type == "NONE":
        return []
    raise CronError(gettext("调度类型必须是 CRON、FIX_RATE 或 NONE"))


def next_fire_time(schedule_type: str, conf: str | None, tz: str, after: datetime) -> datetime | None:
    times = next_fire_times(schedule_type, conf, tz, after, 1)
    return times[0] if times else None


def fix_rate_seconds(conf: str | None) -> int | None:
    """The seconds of a fixed rate, None when `conf` is not one."""
    try:
        return _fix_rate(conf)
    except CronError:
        return None


def _fix_rate(conf: str | None) -> int:
    text = (conf or "").strip()
    if not digits_only(text) or not 1 <= int(text) <= MAX_FIX_RATE_SECONDS:
        raise CronError(gettext("固定速度必须是 1 以上的整数秒数"))
    return int(text)


def schedule_type_error(schedule_type: str | None) -> str | None:
    """None for a known schedule type, else the message naming the known ones."""
    return None if schedule_type in SCHEDULE_TYPES else gettext("调度类型必须是 CRON、FIX_RATE 或 NONE")


def validate_schedule(schedule_type: str, conf: str | None, tz: str | None) -> str | None:
    """None when valid, else a Chinese message saying what is wrong."""
    try:
        zone_or_error(tz)
        if type_error := schedule_type_error(schedule_type):
            return type_error
        if schedule_type == "CRON":
            if not _cron_times(conf or "", zone_or_error(tz), utcnow().replace(tzinfo=UTC), 1):
                return gettext("该 Cron 表达式以后不会再触发")
        elif schedule_type == "FIX_RATE":
            _fix_rate(conf)
    except CronError as exc:
        return str(exc)
    return None


def validate_cron(conf: str) -> str | None:
    """Syntax only (no time zone, no 'fires again' check): None or a Chinese message."""
    try:
        _compile(conf)
    except CronError as exc:
        return str(exc)
    return None


def to_epoch_ms(moment: datetime) -> int:
    """Aware (or naive UTC) datetime -> epoch milliseconds, the unit of Job.trigger_next_time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def from_epoch_ms(ms: int) -> datetime:
    """Epoch milliseconds -> aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
