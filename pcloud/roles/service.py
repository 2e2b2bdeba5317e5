"""角色管理 rules: built-in roles, role CRUD, grants, and what a caller may see (adminInfo, sidebar)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from pcloud.access import permissions
from pcloud.core.errors import Conflict, Invalid, NotFound
from pcloud.core.paging import Page, paginate
from pcloud.core.routing import MAX_ID
from pcloud.core.security import SUPER_ADMIN, Principal
from pcloud.core.sorting import ordered
from pcloud.core.tree import build_tree
from pcloud.extensions import db
from pcloud.menus import icons as menu_icons
from pcloud.menus.models import Menu
from pcloud.resources.models import Resource
from pcloud.roles.models import PermissionVersion, Role, role_menu, role_resource
from pcloud.users.models import User, user_role

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


def user_counts(role_ids: list[int]) -> dict[int, int]:
    """Live users holding each role of a page, each counted up to core.paging.TOTAL_EXACT_LIMIT + 1 (a
    count above the limit means "more than that": counting a million members on every page is not)."""
    from sqlalchemy import literal, union_all

    from pcloud.core.paging import TOTAL_EXACT_LIMIT

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


def to_items(roles: list[Role]) -> list[dict[str, Any]]:
    counts = user_counts([r.id for r in roles])
    return [to_item(r, counts.get(r.id, 0)) for r in roles]


def to_item(role: Role, user_count: int | None = None) -> dict[str, Any]:
    if user_count is None:
        user_count = user_counts([role.id]).get(role.id, 0)
    return {"id": role.id, "name": role.name, "role_code": role.role_code, "user_count": user_count,
            "built_in": role.built_in,
            "gmt_created_date": role.gmt_created_date, "gmt_created_name": role.gmt_created_name,
            "gmt_modified_date": role.gmt_modified_date, "gmt_modified_name": role.gmt_modified_name}


def is_super_admin_role(role: Role) -> bool:
    return role.role_code == SUPER_ADMIN


def granted_ids(role: Role) -> tuple[list[int], list[int]]:
    """(menu ids, resource ids) the role holds; the super administrator holds every one."""
    from pcloud.menus import service as menu_service
    from pcloud.resources import service as resource_service

    if is_super_admin_role(role):
        return menu_service.all_live_ids(), resource_service.all_live_ids()
    menus = db.session.execute(
        select(role_menu.c.menu_id).join(Menu, Menu.id == role_menu.c.menu_id)
        .where(role_menu.c.role_id == role.id, Menu.deleted_at.is_(None)).order_by(role_menu.c.menu_id)).scalars()
    resources = db.session.execute(
        select(role_resource.c.resource_id).join(Resource, Resource.id == role_resource.c.resource_id)
        .where(role_resource.c.role_id == role.id, Resource.deleted_at.is_(None))
        .order_by(role_resource.c.resource_id)).scalars()
    return list(menus), list(resources)


def role_menu_view(role_id: int) -> dict[str, Any]:
    """GET {roleId}/menu: what the role holds, with the whole menu and resource trees to choose from."""
    from pcloud.menus import service as menu_service
    from pcloud.resources import service as resource_service

    role = get_role(role_id)
    menu_ids, resource_ids = granted_ids(role)
    return {"has_routers": menu_ids, "routers": menu_service.node_tree(),
            "has_resources": resource_ids, "resources": resource_service.resource_tree()}


# ---------------------------------------------------------------------------------------------
# Writes


def _check_code(code: str | None) -> str:
    code = (code or "").strip()
    if not code:
        raise Invalid("角色编码不能为空", field="roleCode")
    if not ROLE_CODE.match(code):
        raise Invalid(ROLE_CODE_HINT, field="roleCode")
    return code


def _check_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("角色名称不能为空", field="name")
    if len(name) > 64:
        raise Invalid("角色名称长度不能超过 64", field="name")
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
    name = _check_name(data.get("name"))
    code = _check_code(data.get("role_code"))
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
    name = _check_name(data["name"]) if data.get("name") is not None else role.name
    code = _check_code(data["role_code"]) if data.get("role_code") is not None else role.role_code
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
    from pcloud.openplatform.models import OpenAccount, open_account_role

    users = user_counts([role_id]).get(role_id, 0)
    accounts = db.session.execute(
        select(func.count()).select_from(open_account_role)
        .join(OpenAccount, OpenAccount.id == open_account_role.c.account_id)
        .where(open_account_role.c.role_id == role_id, OpenAccount.deleted_at.is_(None))).scalar_one()
    return users, accounts


def delete_role(role_id: int) -> Role:
    role = get_role(role_id)
    if role.built_in:
        raise Conflict(f"内置角色「{role.name}」不能删除")
    users, accounts = holders(role.id)
    if users:
        raise Conflict(f"角色「{role.name}」仍有 {users} 个用户在使用，请先为这些用户移除该角色")
    if accounts:
        raise Conflict(f"角色「{role.name}」仍有 {accounts} 个开放平台账号在使用，请先移除")
    role.soft_delete()
    db.session.execute(delete(role_menu).where(role_menu.c.role_id == role.id))
    db.session.execute(delete(role_resource).where(role_resource.c.role_id == role.id))
    permissions.bump_version()
    db.session.commit()
    return role


def grant(role_id: int, menu_ids: list[int], resource_ids: list[int]) -> Role:
    """Replace the role's grants. Unknown (or deleted) ids: 422 and nothing changes."""
    from pcloud.menus import service as menu_service
    from pcloud.resources import service as resource_service

    role = get_role(role_id)
    if is_super_admin_role(role):
        raise Conflict("超级管理员拥有全部权限，不能修改其授权")
    menus = sorted(set(menu_ids or []))
    resources = sorted(set(resource_ids or []))
    errors: dict[str, list[str]] = {}
    missing_menus = sorted(set(menus) - menu_service.live_ids(menus))
    if missing_menus:
        errors["routers"] = [f"菜单不存在：{', '.join(map(str, missing_menus[:20]))}"]
    missing_resources = sorted(set(resources) - resource_service.live_ids(resources))
    if missing_resources:
        errors["resources"] = [f"资源不存在：{', '.join(map(str, missing_resources[:20]))}"]
    if errors:
        raise Invalid("授权中包含不存在的菜单或资源，未做任何修改", errors=errors)
    held_menus, held_resources = granted_ids(role)
    # Only what is added must lie within the granter's reach: keeping what the role had is no escalation.
    permissions.require_within_reach(menu_ids=set(menus) - set(held_menus),
                                     resource_ids=set(resources) - set(held_resources))
    db.session.execute(delete(role_menu).where(role_menu.c.role_id == role.id))
    db.session.execute(delete(role_resource).where(role_resource.c.role_id == role.id))
    if menus:
        db.session.execute(insert(role_menu), [{"role_id": role.id, "menu_id": m} for m in menus])
    if resources:
        db.session.execute(insert(role_resource), [{"role_id": role.id, "resource_id": r} for r in resources])
    _touch(role)  # grants are not columns of the role: record who changed them
    permissions.bump_version()
    db.session.commit()
    return role


def _touch(role: Role) -> None:
    from pcloud.core.security import current_actor
    from pcloud.core.timefmt import utcnow

    role.gmt_modified_date = utcnow()
    role.gmt_modified_name = current_actor()[1]


def refresh() -> int:
    """Make every process reload its permission cache on its next request; returns the new version."""
    permissions.bump_version()
    db.session.commit()
    permissions.invalidate()
    return permissions.current_version()


# ---------------------------------------------------------------------------------------------
# What a caller sees


def menu_node(menu: Menu) -> dict[str, Any]:
    """A node of the caller's menu tree. A path that is not a site path (a row from before paths were
    validated) is given as "" so neither the sidebar nor an API client ever follows it."""
    from pcloud.menus.service import is_site_path

    return {"id": menu.id, "parentId": menu.parent_id, "name": menu.name, "label": menu.name,
            "path": menu.path if is_site_path(menu.path) else "", "component": menu.component,
            "redirect": menu.redirect if is_site_path(menu.redirect) else None, "icon": menu.icon,
            "router": menu.router, "hidden": menu.hidden, "sequence": menu.sequence}


def granted_menus(principal: Principal) -> list[Menu]:
    ids = permissions.granted_menu_ids(principal)
    stmt = Menu.live().order_by(Menu.sequence, Menu.id)
    if ids is not None:
        if not ids:
            return []
        stmt = stmt.where(Menu.id.in_(ids))
    return list(db.session.execute(stmt).scalars())


def menu_tree_for(principal: Principal) -> list[dict[str, Any]]:
    return build_tree(granted_menus(principal), menu_node)


def resource_code(res: Resource) -> str:
    return res.code or f"{res.method}:{res.resource_url}"


def admin_info(principal: Principal) -> dict[str, Any]:
    ids = permissions.granted_resource_ids(principal)
    stmt = select(Resource).where(Resource.deleted_at.is_(None), Resource.resource_url != "")
    if ids is not None:
        stmt = stmt.where(Resource.id.in_(ids or [-1]))
    resources = sorted(resource_code(r) for r in db.session.execute(stmt).scalars())
    return {"id": principal.id, "phone": principal.phone, "name": principal.name, "avatar": principal.avatar,
            "routers": _snake(menu_tree_for(principal)), "permissions": sorted(principal.role_codes),
            "resources": resources}


def _snake(nodes: list[dict[str, Any]], top: bool = True) -> list[dict[str, Any]]:
    """adminInfo routers: tree nodes (built camelCase for templates) as the API schema's attributes, in the
    shape of a vue-router route as the original PCloud front end builds its routes from them (API.md):
    `component` ("Layout" for a top menu that names none), `meta: {title, icon}` (its svg icon names)."""
    routers = []
    for n in nodes:
        component = n["component"] or ("Layout" if top else None)
        route = {"id": n["id"], "parent_id": n["parentId"], "name": n["name"], "label": n["label"],
                 "path": n["path"], "component": component, "redirect": n["redirect"], "icon": n["icon"],
                 "router": n["router"], "hidden": n["hidden"], "sequence": n["sequence"],
                 "meta": {"title": n["name"], "icon": menu_icons.for_client(n["icon"])},
                 "children": _snake(n["children"], top=False)}
        if top and not route["children"] and component != "Layout":
            # A top-level page: that front end shows top menus only as a Layout around their pages.
            route = {**route, "component": "Layout", "children": [{**route, "parent_id": n["id"], "children": []}]}
        routers.append(route)
    return routers
