"""Make rows for tests through the same services the app uses, so they are always valid."""

from __future__ import annotations

import itertools
from typing import Any

from pcloud.extensions import db

_seq = itertools.count(1)


def next_phone() -> str:
    return f"139{next(_seq) + 10_000_000:08d}"


def make_user(app: Any, *, phone: str | None = None, name: str | None = None, password: str = "Passw0rd1",
              role_codes: tuple[str, ...] = (), **extra: Any) -> int:
    from pcloud.roles.models import Role
    from pcloud.users import service

    with app.app_context():
        role_ids = [r.id for r in db.session.execute(Role.live().where(Role.role_code.in_(role_codes))).scalars()]
        user = service.create_user({"phone": phone or next_phone(), "name": name or f"用户{next(_seq)}",
                                    "password": password, "role_ids": role_ids + extra.pop("role_ids", []),
                                    **extra})
        user_id = user.id
        db.session.remove()
    return user_id


def make_role(app: Any, code: str, name: str | None = None) -> int:
    from pcloud.core import permissions
    from pcloud.roles.models import Role

    with app.app_context():
        role = Role(role_code=code, name=name or code)
        db.session.add(role)
        permissions.bump_version()
        db.session.commit()
        role_id = role.id
        db.session.remove()
    return role_id


def make_dept(app: Any, name: str, parent_id: int = 0) -> int:
    from pcloud.depts.models import Dept

    with app.app_context():
        dept = Dept(name=name, parent_id=parent_id)
        db.session.add(dept)
        db.session.commit()
        dept_id = dept.id
        db.session.remove()
    return dept_id


def query(app: Any, fn: Any) -> Any:
    """Run fn() inside an app context and return its result (rows read fresh from the database)."""
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()
