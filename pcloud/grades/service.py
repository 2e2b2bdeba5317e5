"""职级管理 rules, shared by the pages and the JSON API. Grades are listed by level."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from pcloud.core.database import live_row, taken_meanwhile
from pcloud.core.errors import Conflict, Invalid, NotFound
from pcloud.core.messages import N_
from pcloud.core.paging import Page, paginate
from pcloud.core.schemas import limit_of
from pcloud.core.sorting import ordered
from pcloud.extensions import db
from pcloud.grades.models import Grade
from pcloud.users.models import User

DUPLICATE_NAME = N_("职级名称已存在")  # said with gettext() where it is raised


def get_grade(grade_id: int, *, for_update: bool = False) -> Grade:
    grade = live_row(Grade, grade_id, for_update=for_update)
    if grade is None:
        raise NotFound(gettext("职级不存在"))
    return grade


def to_item(grade: Grade) -> dict[str, Any]:
    return {
        "id": grade.id, "name": grade.name, "level": grade.level, "remark": grade.remark,
        "gmt_created_date": grade.gmt_created_date, "gmt_created_name": grade.gmt_created_name,
        "gmt_modified_date": grade.gmt_modified_date, "gmt_modified_name": grade.gmt_modified_name,
    }


GRADE_SORTS = {"level": Grade.level, "name": Grade.name, "gmtCreatedDate": Grade.gmt_created_date}


def page_grades(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    """A page of items (dicts) ordered by level, then id."""
    stmt = Grade.live()
    if filters.get("name") and filters["name"].strip():
        stmt = stmt.where(Grade.name.contains(filters["name"].strip(), autoescape=True))
    result = paginate(ordered(stmt, GRADE_SORTS, filters, Grade.level, Grade.id), page, page_size)
    result.items = [to_item(g) for g in result.items]
    return result


def holder_counts(ids: list[int] | None = None) -> dict[int, int]:
    """Live users per grade, for `ids` or (None) every grade: {id: n}."""
    return dict(db.session.execute(User.live_counts_by(User.grade_id, ids)).tuples().all())


def choices() -> list[tuple[int, str]]:
    """Every live grade as (id, name), by level: pickers."""
    rows = db.session.execute(Grade.live().order_by(Grade.level, Grade.id)).scalars()
    return [(g.id, g.name) for g in rows]


def delete_refusal(name: str, holders: int) -> str | None:
    if not holders:
        return None
    return gettext("不能删除职级「%(name)s」：仍有 %(holders)s 名用户是该职级。请先为这些用户更换职级。",
                   name=name, holders=holders)


def _clean_name(name: str | None, exclude_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid(gettext("职级名称不能为空"), field="name")
    if len(name) > (limit := limit_of(Grade.name)):
        raise Invalid(gettext("职级名称不能超过 %(max)d 个字符", max=limit), field="name")

    stmt = select(Grade.id).where(Grade.name == name, Grade.deleted_at.is_(None))
    if exclude_id:
        stmt = stmt.where(Grade.id != exclude_id)
    if db.session.execute(stmt.limit(1)).first() is not None:
        raise Conflict(gettext(DUPLICATE_NAME), errors={"name": [gettext(DUPLICATE_NAME)]})
    return name


def _clean_level(level: Any) -> int:
    if not isinstance(level, int) or isinstance(level, bool) or level < 0:
        raise Invalid(gettext("职级等级须为不小于 0 的整数"), field="level")
    return level


def create_grade(data: dict[str, Any]) -> Grade:
    name = _clean_name(data.get("name"))
    grade = Grade(name=name, level=_clean_level(data.get("level") or 0),
                  remark=(data.get("remark") or "").strip() or None)
    with taken_meanwhile(lambda: _clean_name(name)):
        db.session.add(grade)
        db.session.commit()
    return grade


def modify_grade(data: dict[str, Any]) -> Grade:
    grade = get_grade(data["id"])
    grade_id, name = grade.id, grade.name
    if data.get("name") is not None:
        name = _clean_name(data["name"], exclude_id=grade_id)
    with taken_meanwhile(lambda: _clean_name(name, exclude_id=grade_id)):
        grade.name = name
        if data.get("level") is not None:
            grade.level = _clean_level(data["level"])
        if "remark" in data:
            grade.remark = (data["remark"] or "").strip() or None
        db.session.commit()
    return grade


def delete_grade(grade_id: int) -> Grade:
    grade = get_grade(grade_id, for_update=True)
    holders = holder_counts([grade.id]).get(grade.id, 0)
    refusal = delete_refusal(grade.name, holders)
    if refusal:
        raise Conflict(refusal)
    grade.soft_delete()
    db.session.commit()
    return grade
