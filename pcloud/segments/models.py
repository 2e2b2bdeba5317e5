"""号段 (segments): one row per business tag; `max_id` is the next id nobody has been given yet."""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import BigInteger, CheckConstraint, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.messages import N_
from pcloud.core.models import Base
from pcloud.core.timefmt import utcnow

MAX_ID_LIMIT = 2**63 - 1  # BIGINT's top; ids handed out stay below it
# The highest maxId anyone may set (create, modify): the 4.6e18 ids above it are left to hand out, so no edit can
# exhaust a tag (a review set one to 2^63-1, which can never be lowered: an outage nobody could undo). A jump
# past an older system's ids stays possible.
MAX_SET_ID = 2**62
MAX_STEP = 1_000_000
# The rules of a segment's values, for the schemas, the forms and the service alike. Any existing tag is
# looked up by TAG; a new one must also start with a letter or digit (NEW_TAG), so "." or ".." (which a
# URL path cannot carry) is never created. Numbers given as text are ASCII digits only: no sign, space,
# underscore or other script's digits, all of which int() would take.
TAG = re.compile(r"^[A-Za-z0-9_.:-]{1,128}\Z")
NEW_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}\Z")
BAD_TAG = lazy_gettext("业务标识只能包含字母、数字和 _ . : -，长度 1 到 128")
# A maxId refused, by the API's schema and the service alike (source strings, said with gettext): one range, the
# one a maxId may be set to
MAX_ID_RANGE = N_("最大 ID 须在 1 到 %(max)s 之间")
NOT_WHOLE_MAX_ID = N_("最大 ID 须为整数（数字字符串或 JSON 整数）")
BAD_NEW_TAG = lazy_gettext("业务标识须以字母或数字开头，只能包含字母、数字和 _ . : -，长度 1 到 128")
_DIGITS = re.compile(r"[0-9]{1,19}")


def spelled_in_digits(value: object) -> bool:
    """A string of ASCII digits however long: a whole number, if maybe too large to be an id."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def whole_number(value: object) -> int | None:
    """A JSON integer as it is, a string of 1 to 19 ASCII digits as its value; anything else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and _DIGITS.fullmatch(value) else None


class Segment(Base):
    __tablename__ = "sys_segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    biz_tag: Mapped[str] = mapped_column(String(128), unique=True)
    max_id: Mapped[int] = mapped_column(BigInteger, default=1)
    step: Mapped[int] = mapped_column(Integer, default=1000)
    description: Mapped[str | None] = mapped_column(String(256))
    author: Mapped[str | None] = mapped_column(String(64))
    create_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        # SQLite turns an overflowing integer into a float silently: the bounds refuse it on both databases.
        CheckConstraint(f"max_id >= 1 AND max_id <= {MAX_ID_LIMIT}", name="max_id_range"),
        CheckConstraint(f"step >= 1 AND step <= {MAX_STEP}", name="step_range"),
    )
