"""号段管理 rules and the ID service, shared by the pages and the JSON API."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_babel import gettext
from sqlalchemy import func, select, update

from pcloud.core.database import taken_meanwhile
from pcloud.core.errors import Conflict, Invalid, NotFound
from pcloud.core.messages import N_
from pcloud.core.paging import Page, paginate
from pcloud.core.sorting import ordered
from pcloud.core.timefmt import utcnow
from pcloud.extensions import db
from pcloud.segments.allocator import Allocator
from pcloud.segments.models import (
    BAD_NEW_TAG,
    BAD_TAG,
    MAX_ID_RANGE,
    MAX_SET_ID,
    MAX_STEP,
    NEW_TAG,
    NOT_WHOLE_MAX_ID,
    TAG,
    Segment,
    spelled_in_digits,
    whole_number,
)

MAX_BATCH = 1000
DUPLICATE_TAG = N_("业务标识已存在")
# {current}-formatted after translation (as core.messages' templates are): said with the current value
LOWERING = N_("最大 ID 不能调小：当前为 {current}，小于它的 ID 可能已经发放，调小会导致重复发号。只能保持不变或调大。")
_EXT = "pcloud.segments.allocator"
TOO_LONG = {"description": N_("描述不能超过 %(max)d 个字符"), "author": N_("负责人不能超过 %(max)d 个字符")}


# ---------------------------------------------------------------------------------------------
# The allocator of this process


def get_allocator(app: Flask | None = None) -> Allocator:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    allocator = app.extensions.get(_EXT)
    if allocator is None:
        cfg = app.config
        allocator = app.extensions.setdefault(_EXT, Allocator(
            cfg["SQLALCHEMY_DATABASE_URI"],
            wait_seconds=float(cfg.get("PCLOUD_SEGMENT_WAIT_SECONDS", 3)),
            max_step=int(cfg.get("PCLOUD_SEGMENT_MAX_STEP", MAX_STEP)),
            db_timeout_seconds=float(cfg.get("PCLOUD_SEGMENT_DB_TIMEOUT_SECONDS", 2))))
    return allocator


def clean_tag(tag: str | None, field: str = "bizTag", new: bool = False) -> str:
    tag = (tag or "").strip()
    if not (NEW_TAG if new else TAG).fullmatch(tag):
        raise Invalid(BAD_NEW_TAG if new else BAD_TAG, field=field)
    return tag


def _path_tag(tag: str) -> str:
    """The tag of an ID route's path, as sent: untrimmed (a padded tag is the caller's bug, refused as a padded
    count is)."""
    if not TAG.fullmatch(tag):
        raise Invalid(BAD_TAG, field="bizTag")
    return tag


def next_id(tag: str) -> str:
    return str(get_allocator().next_id(_path_tag(tag)))


def parse_count(raw: str | int) -> int:
    count = whole_number(raw)
    if count is None or not 1 <= count <= MAX_BATCH:
        raise Invalid(gettext("count 须为 1 到 %(max)s 之间的整数", max=MAX_BATCH), field="count")
    return count


def batch_ids(tag: str, count: str | int) -> list[str]:
    n = parse_count(count)
    return [str(i) for i in get_allocator().take(_path_tag(tag), n)]


def cache_states() -> list[dict[str, Any]]:
    return get_allocator().states()


def cache_state(tag: str) -> dict[str, Any] | None:
    return get_allocator().state(tag)


# ---------------------------------------------------------------------------------------------
# Administration


def get_segment(tag: str) -> Segment:
    seg = db.session.execute(select(Segment).where(Segment.biz_tag == tag)).scalar_one_or_none()
    if seg is None:
        raise NotFound(gettext("号段「%(tag)s」不存在", tag=tag))
    return seg


def to_item(seg: Segment) -> dict[str, Any]:
    return {"biz_tag": seg.biz_tag, "max_id": str(seg.max_id), "step": seg.step, "description": seg.description,
            "author": seg.author, "update_time": seg.update_time}


SEGMENT_SORTS = {"bizTag": Segment.biz_tag, "updateTime": Segment.update_time}


def page_segments(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    stmt = select(Segment)
    for key, column in (("biz_tag", Segment.biz_tag), ("description", Segment.description)):
        value = (filters.get(key) or "").strip()
        if value:
            stmt = stmt.where(column.contains(value, autoescape=True))
    result = paginate(ordered(stmt, SEGMENT_SORTS, filters, Segment.biz_tag), page, page_size)
    result.items = [to_item(s) for s in result.items]
    return result


def _clean_max_id(value: Any, current: int | None = None) -> int:
    """A maxId to set: at most MAX_SET_ID, unless it is the tag's `current` one (grown past it by handing out
    ids: a form or client echoing it back changes nothing)."""
    number = whole_number(value)
    if number is None and not spelled_in_digits(value):
        raise Invalid(gettext(NOT_WHOLE_MAX_ID), field="maxId")
    if number is None or not 1 <= number <= MAX_SET_ID and number != current:
        raise Invalid(gettext(MAX_ID_RANGE, max=MAX_SET_ID), field="maxId")
    return number


def _clean_step(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STEP:
        raise Invalid(gettext("步长须为 %(min)s 到 %(max)s 之间的整数", min=1, max=MAX_STEP), field="step")
    return value


def _text(value: Any, limit: int, too_long: str, field: str) -> str | None:
    """`too_long`: the refusal's source string, with %(max)d for the limit."""
    value = (value or "").strip()
    if len(value) > limit:
        raise Invalid(gettext(too_long, max=limit), field=field)
    return value or None


def _require_tag_free(tag: str) -> None:
    if db.session.execute(select(Segment.id).where(Segment.biz_tag == tag)).first() is not None:
        raise Conflict(gettext(DUPLICATE_TAG), errors={"bizTag": [gettext(DUPLICATE_TAG)]})


def create_segment(data: dict[str, Any]) -> Segment:
    tag = clean_tag(data.get("biz_tag"), new=True)
    seg = Segment(biz_tag=tag, max_id=_clean_max_id(data.get("max_id") or 1),
                  step=_clean_step(data.get("step") if data.get("step") is not None else 1000),
                  description=_text(data.get("description"), 256, TOO_LONG["description"], "description"),
                  author=_text(data.get("author"), 64, TOO_LONG["author"], "author"), update_time=utcnow())
    _require_tag_free(tag)
    with taken_meanwhile(lambda: _require_tag_free(tag)):
        db.session.add(seg)
        db.session.commit()
    return seg


def modify_segment(data: dict[str, Any]) -> Segment:
    seg = get_segment(clean_tag(data.get("biz_tag")))
    values: dict[str, Any] = {}
    if data.get("step") is not None:
        values["step"] = _clean_step(data["step"])
    for key, limit in (("description", 256), ("author", 64)):
        if key in data:
            values[key] = _text(data[key], limit, TOO_LONG[key], key)
    if data.get("max_id") is not None:
        new_max = _clean_max_id(data["max_id"], current=seg.max_id)
        # Atomic against concurrent range grabs: the row only moves if max_id is not above the new value.
        moved = db.session.execute(update(Segment).where(Segment.id == seg.id, Segment.max_id <= new_max)
                                   .values(max_id=new_max, update_time=utcnow())
                                   .execution_options(synchronize_session=False))
        if moved.rowcount == 0:
            db.session.rollback()
            current = db.session.execute(select(Segment.max_id).where(Segment.id == seg.id)).scalar_one()
            raise Invalid(gettext(LOWERING).format(current=current), field="maxId")
    if values:
        db.session.execute(update(Segment).where(Segment.id == seg.id).values(**values, update_time=utcnow())
                           .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.expire(seg)
    return seg


def count_segments() -> int:
    """Business tags defined (the home page's figure)."""
    return db.session.execute(select(func.count()).select_from(Segment)).scalar_one()
