"""角色管理 rules: built-in roles, role CRUD, grants, and what a caller may see (adminInfo, sidebar)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pcloud.access import permissions
from pcloud.access import service as access_service
from pcloud.access.models import PermissionVersion
from pcloud.core.errors import Conflict, Invalid, NotFound
from pcloud.core.paging import Page, paginate
from pcloud.core.routing import MAX_ID
from pcloud.core.schemas import limit_of
from pcloud.core.security import SUPER_ADMIN, current_actor
from pcloud.core.sorting import ordered
from pcloud.core.timefmt import utcnow
from pcloud.extensions import db
from pcloud.menus import service as menu_service
from pcloud.openplatform.models import OpenAccount, open_account_role
from pcloud.resources import service as resource_service
from pcloud.roles.models import Role
from pcloud.users.models import UserTally

ADMIN = "ROLE_ADMIN"
BUILT_IN_ROLES = ((SUPER_ADMIN, "超级管理员"), (ADMIN, "管理员"))
ROLE_CODE = re.compile(r"^ROLE_[A-Z0-9_]{1,59}$")
ROLE_CODE_HINT = "角色编码须以 ROLE_ 开头，后跟 1 到 59 位大写字母、数字或下划线"


def ensure_builtin_roles() -> list[str]:
    """Create the built-in roles and the version row if missing; returns what was created."""
    created = []
    if db.session.get(PermissionVersion, 1) is None:
        db.session.add(PermissionVersion(id=1, version=1))
    for code, name in BUILT_IN_ROLES:
        exists = db.session.execute(Role.live().where(Role.role_code == code)).scalar_one_or_none()
        if exists is None:
            db.session.add(Role(role_code=code, name=name, built_in=True))
            created.append(code)
    if created:
        permissions.bump_version()
    db.session.commit()
    return created


def role_by_code(code: str) -> Role | None:
    return db.session.execute(Role.live().where(Role.role_code == code)).scalar_one_or_none()


# ---------------------------------------------------------------------------------------------
# Reads


def get_role(role_id: int) -> Role:
    if not 0 < role_id <= MAX_ID:
        raise NotFound("角色不存在")
    role = db.session.execute(Role.live().where(Role.id == role_id)).scalar_one_or_none()
    if role is None:
        raise NotFound("角色不存在")
    return role


ROLE_SORTS = {"name": Role.name, "gmtCreatedDate": Role.gmt_created_date}


def page_roles(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    stmt = Role.live()
    if (filters.get("name") or "").strip():
        stmt = stmt.where(Role.name.contains(filters["name"].strip(), autoescape=True))
    if (filters.get("role_code") or "").strip():
        stmt = stmt.where(Role.role_code == filters["role_code"].strip())
    return paginate(ordered(stmt, ROLE_SORTS, filters, Role.id), page, page_size)


def list_roles(name: str | None = None) -> list[dict[str, Any]]:
    """Every live role as {id, name, role_code}, for pickers (no paging: roles are few)."""
    stmt = Role.live()
    if (name or "").strip():
        stmt = stmt.where(Role.name.contains(name.strip(), autoescape=True))
    return [{"id": r.id, "name": r.name, "role_code": r.role_code}
            for r in db.session.execute(stmt.order_by(Role.id)).scalars()]


def holder_counts(role_ids: list[int]) -> dict[int, int]:
    """Live users holding each role of a page: {role id: n}, roles nobody holds left out. The counts kept
    by the database (users.tally), which the user page's role filter reads for its total too."""
    if not role_ids:
        return {}
    return dict(db.session.execute(UserTally.counts("role", role_ids)).tuples().all())


def account_holder_counts(role_ids: list[int]) -> dict[int, int]:
    """Live open-platform accounts holding each role: {role id: n}."""
    if not role_ids:
        return {}
    return dict(db.session.execute(
        select(open_account_role.c.role_id, func.count()).select_from(open_account_role)
        .join(OpenAccount, OpenAccount.id == open_account_role.c.account_id)
        .where(open_account_role.c.role_id.in_(role_ids), OpenAccount.deleted_at.is_(None))
        .group_by(open_account_role.c.role_id)).tuples().all())


def to_items(roles: list[Role]) -> list[dict[str, Any]]:
    counts = holder_counts([r.id for r in roles])
    return [to_item(r, counts.get(r.id, 0)) for r in roles]


def list_rows(roles: list[Role]) -> list[dict[str, Any]]:
    """The roles page's rows: the API's items plus why 删除 would be refused (`refusal`, or None)."""
    ids = [r.id for r in roles]
    accounts = account_holder_counts(ids)
    rows = to_items(roles)
    for row in rows:
        row["refusal"] = delete_refusal(row["name"], row["built_in"], row["user_count"], accounts.get(row["id"], 0))
    return rows


def to_item(role: Role, user_count: int | None = None) -> dict[str, Any]:
    if user_count is None:
        user_count = holder_counts([role.id]).get(role.id, 0)
    return {"id": role.id, "name": role.name, "role_code": role.role_code, "user_count": user_count,
            "built_in": role.built_in,
            "gmt_created_date": role.gmt_created_date, "gmt_created_name": role.gmt_created_name,
            "gmt_modified_date": role.gmt_modified_date, "gmt_modified_name": role.gmt_modified_name}


def is_super_admin_role(role: Role) -> bool:
    return role.role_code == SUPER_ADMIN


def role_menu_view(role_id: int) -> dict[str, Any]:
    """GET {roleId}/menu: what the role holds, with the whole menu and resource trees to choose from."""
    role = get_role(role_id)
    menu_ids, resource_ids = access_service.granted_ids(role)
    return {"has_routers": menu_ids, "has_resources": resource_ids, **grant_trees()}


def grant_trees() -> dict[str, Any]:
    """The whole menu and resource trees a grant chooses from."""
    return {"routers": menu_service.node_tree(), "resources": resource_service.resource_tree()}


# ---------------------------------------------------------------------------------------------
# Writes


def _clean_code(code: str | None) -> str:
    code = (code or "").strip()
    if not code:
        raise Invalid("角色编码不能为空", field="roleCode")
    if not ROLE_CODE.match(code):
        raise Invalid(ROLE_CODE_HINT, field="roleCode")
    return code


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("角色名称不能为空", field="name")
    if len(name) > (limit := limit_of(Role.name)):
        raise Invalid(f"角色名称长度不能超过 {limit}", field="name")
    return name


def _code_taken(code: str, exclude_id: int | None = None) -> bool:
    stmt = Role.live().where(Role.role_code == code)
    if exclude_id:
        stmt = stmt.where(Role.id != exclude_id)
    return db.session.execute(stmt.limit(1)).first() is not None


def _duplicate(code: str) -> Conflict:
    return Conflict(f"角色编码 {code} 已存在", errors={"roleCode": [f"角色编码 {code} 已存在"]})


def _commit_role(code: str) -> None:
    """Commit; a concurrent insert of the same code trips the unique index and answers 409."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise _duplicate(code) from exc


def create_role(data: dict[str, Any]) -> Role:
    name = _clean_name(data.get("name"))
    code = _clean_code(data.get("role_code"))
    if _code_taken(code):
        raise _duplicate(code)
    role = Role(name=name, role_code=code, built_in=False)
    db.session.add(role)
    permissions.bump_version()
    _commit_role(code)
    return role


def modify_role(data: dict[str, Any]) -> Role:
    role = get_role(data["id"])
    if is_super_admin_role(role):
        raise Conflict("超级管理员角色不能修改")
    name = _clean_name(data["name"]) if data.get("name") is not None else role.name
    code = _clean_code(data["role_code"]) if data.get("role_code") is not None else role.role_code
    if code != role.role_code:
        if role.built_in:
            raise Conflict("内置角色的编码不能修改", errors={"roleCode": ["内置角色的编码不能修改"]})
        if _code_taken(code, exclude_id=role.id):
            raise _duplicate(code)
    role.name, role.role_code = name, code
    permissions.bump_version()
    _commit_role(code)
    return role


def holders(role_id: int) -> tuple[int, int]:
    """(live users, live open-platform accounts) holding the role."""
    return holder_counts([role_id]).get(role_id, 0), account_holder_counts([role_id]).get(role_id, 0)


def delete_refusal(name: str, built_in: bool, users: int, accounts: int) -> str | None:
    """Why a role cannot be deleted (None when it can): the delete's refusal, and the list's 删除 says it
    before anyone clicks (issue 24.3)."""
    if built_in:
        return f"内置角色「{name}」不能删除"
    if users:
        return f"角色「{name}」仍有 {users} 个用户在使用，请先为这些用户移除该角色"
    if accounts:
        return f"角色「{name}」仍有 {accounts} 个开放平台账号在使用，请先移除"
    return None


def delete_role(role_id: int) -> Role:
    role = get_role(role_id)
    refusal = delete_refusal(role.name, role.built_in, *holders(role.id))
    if refusal:
        raise Conflict(refusal)
    role.soft_delete()
    access_service.forget_role(role.id)
    permissions.bump_version()
    db.session.commit()
    return role


def grant(role_id: int, menu_ids: list[int], resource_ids: list[int]) -> Role:
    """Replace the role's grants (the rules are access's: `access.service.replace_grants`)."""
    role = get_role(role_id)
    if is_super_admin_role(role):
        raise Conflict("超级管理员拥有全部权限，不能修改其授权")
    access_service.replace_grants(role, menu_ids, resource_ids)
    _touch(role)  # grants are not columns of the role: record who changed them
    db.session.commit()
    return role


def _touch(role: Role) -> None:
    role.gmt_modified_date = utcnow()
    role.gmt_modified_name = current_actor()[1]


def refresh() -> int:
    """Make every process reload its permission cache on its next request; returns the new version."""
    permissions.bump_version()
    db.session.commit()
    permissions.invalidate()
    return permissions.current_version()
