"""角色管理 rules: built-in roles, grants and what a caller may see (adminInfo)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pcloud.core import permissions
from pcloud.core.security import SUPER_ADMIN, Principal
from pcloud.core.tree import build_tree
from pcloud.extensions import db
from pcloud.menus.models import Menu
from pcloud.resources.models import Resource
from pcloud.roles.models import PermissionVersion, Role

ADMIN = "ROLE_ADMIN"
BUILT_IN_ROLES = ((SUPER_ADMIN, "超级管理员"), (ADMIN, "管理员"))


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
    db.session.commit()
    return created


def role_by_code(code: str) -> Role | None:
    return db.session.execute(Role.live().where(Role.role_code == code)).scalar_one_or_none()


def menu_node(menu: Menu) -> dict[str, Any]:
    return {"id": menu.id, "parentId": menu.parent_id, "name": menu.name, "label": menu.name,
            "path": menu.path, "component": menu.component, "redirect": menu.redirect, "icon": menu.icon,
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


def _snake(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tree nodes are built camelCase for templates; the API schema dumps snake_case attributes."""
    return [{"id": n["id"], "parent_id": n["parentId"], "name": n["name"], "label": n["label"],
             "path": n["path"], "component": n["component"], "redirect": n["redirect"], "icon": n["icon"],
             "router": n["router"], "hidden": n["hidden"], "sequence": n["sequence"],
             "children": _snake(n["children"])} for n in nodes]
