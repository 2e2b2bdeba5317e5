"""What modules below users ask about users (plugged into their slots by the application factory): how many
users hold a role, post or grade or belong to a department, the manager picker's search, what a phone
number looks like (sign-in by SMS asks it too)."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, literal, select, union_all
from sqlalchemy.orm import aliased

from pcloud.access import permissions
from pcloud.core.paging import TOTAL_EXACT_LIMIT
from pcloud.core.security import current_principal
from pcloud.depts.models import Dept
from pcloud.extensions import db
from pcloud.users.models import User, user_role


def role_holder_counts(role_ids: list[int]) -> dict[int, int]:
    """Live users holding each role of a page, each counted up to core.paging.TOTAL_EXACT_LIMIT + 1 (a
    count above the limit means "more than that": counting a million members on every page is not)."""
    if not role_ids:
        return {}
    # One statement for the page: a capped count per role, glued with UNION ALL.
    parts = []
    for role_id in role_ids:
        members = (select(user_role.c.user_id).join(User, User.id == user_role.c.user_id)
                   .where(user_role.c.role_id == role_id, User.deleted_at.is_(None))
                   .limit(TOTAL_EXACT_LIMIT + 1).subquery())
        parts.append(select(literal(role_id).label("role_id"), func.count().label("n")).select_from(members))
    counts = dict(db.session.execute(union_all(*parts)).tuples().all())
    return {role_id: count for role_id, count in counts.items() if count}


def phone_is_valid(phone: str) -> bool:
    return bool(re.fullmatch(current_app.config["PCLOUD_PHONE_PATTERN"], phone or ""))


def _grouped(column: Any, ids: list[int] | None) -> dict[int, int]:
    """Live users per value of `column` (dept_id, post_id, grade_id), for `ids` or (None) every value."""
    stmt = select(column, func.count()).where(User.deleted_at.is_(None), column.is_not(None))
    if ids is not None:
        if not ids:
            return {}
        stmt = stmt.where(column.in_(ids))
    return {key: int(count) for key, count in db.session.execute(stmt.group_by(column))}


def dept_member_counts(dept_ids: list[int] | None = None) -> dict[int, int]:
    """Live users per department (direct members), in one grouped query."""
    return _grouped(User.dept_id, dept_ids)


def post_holder_counts(post_ids: list[int] | None = None) -> dict[int, int]:
    """Live users per post, in one grouped query."""
    return _grouped(User.post_id, post_ids)


def grade_holder_counts(grade_ids: list[int] | None = None) -> dict[int, int]:
    """Live users per grade, in one grouped query."""
    return _grouped(User.grade_id, grade_ids)


def user_names(user_ids: list[int]) -> dict[int, str]:
    """{id: name} of the live users among `user_ids`."""
    ids = sorted({i for i in user_ids if i})
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(
        User.id.in_(ids), User.deleted_at.is_(None))).tuples().all())


def may_see_phones() -> bool:
    """Phones are the user list's data: shown (and searchable) only to callers granted the user list API."""
    principal = current_principal()
    return principal is None or permissions.may_call_endpoint(principal, "users_api.page")


def search_users(q: str, limit: int = 10) -> list[dict[str, Any]]:
    """Live users whose name (or, for those who may see phones, phone) contains `q`, for the manager picker."""
    q = (q or "").strip()[:64]
    if not q:
        return []
    phones = may_see_phones()
    dept = aliased(Dept)
    match = User.name.contains(q, autoescape=True)
    if phones:
        match = match | User.phone.contains(q, autoescape=True)
    rows = db.session.execute(
        select(User.id, User.name, User.phone, User.state, dept.name)
        .outerjoin(dept, and_(dept.id == User.dept_id, dept.deleted_at.is_(None)))
        .where(User.deleted_at.is_(None), match)
        .order_by(User.name, User.id).limit(limit))
    return [{"id": uid, "name": name, "phone": phone if phones else None, "disabled": state == 1,
             "deptName": dept_name} for uid, name, phone, state, dept_name in rows]


def user_brief(user_id: int | None) -> dict[str, Any] | None:
    if not user_id:
        return None
    row = db.session.execute(select(User.id, User.name, User.phone).where(
        User.id == user_id, User.deleted_at.is_(None))).first()
    return {"id": row[0], "name": row[1], "phone": row[2] if may_see_phones() else None} if row else None
