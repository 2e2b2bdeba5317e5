"""Grants (授权) and what a principal sees: a role's menus and resources, the principal's menu tree (the sidebar,
adminInfo). The grant tables are access's; roles, above it, resolve the role and call in here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext
from sqlalchemy import delete, insert, select

from pcloud.access import permissions
from pcloud.access.models import role_menu, role_resource
from pcloud.core.errors import Invalid
from pcloud.core.security import SUPER_ADMIN, Principal
from pcloud.core.tree import build_tree, serialise_tree, walk
from pcloud.extensions import db
from pcloud.menus import icons as menu_icons
from pcloud.menus import service as menu_service
from pcloud.menus.models import Menu
from pcloud.resources import service as resource_service
from pcloud.resources.models import Resource

# ---------------------------------------------------------------------------------------------
# Grants


def granted_ids(role: Any) -> tuple[list[int], list[int]]:
    """(menu ids, resource ids) a role (a row with `id` and `role_code`) holds; the super administrator
    holds every one."""
    if role.role_code == SUPER_ADMIN:
        return menu_service.all_live_ids(), resource_service.all_live_ids()
    menus = db.session.execute(
        select(role_menu.c.menu_id).join(Menu, Menu.id == role_menu.c.menu_id)
        .where(role_menu.c.role_id == role.id, Menu.deleted_at.is_(None)).order_by(role_menu.c.menu_id)).scalars()
    resources = db.session.execute(
        select(role_resource.c.resource_id).join(Resource, Resource.id == role_resource.c.resource_id)
        .where(role_resource.c.role_id == role.id, Resource.deleted_at.is_(None))
        .order_by(role_resource.c.resource_id)).scalars()
    return list(menus), list(resources)


def with_parent_menus(menu_ids: set[int]) -> set[int]:
    """A menu granted with (some of) its children: a granted child's parent menu is granted too, so the
    sidebar keeps the group the child sits in. One rule for the grant page and the API."""
    parents = dict(db.session.execute(select(Menu.id, Menu.parent_id).where(Menu.deleted_at.is_(None))).tuples().all())
    result = set(menu_ids)
    for menu_id in menu_ids:
        parent = parents.get(menu_id)
        while parent and parent in parents and parent not in result:
            result.add(parent)
            parent = parents.get(parent)
    return result


def replace_grants(role: Any, menu_ids: list[int], resource_ids: list[int]) -> None:
    """Replace the role's grants (the calling code commits). Unknown (or deleted) ids: 422 and nothing changes.
    The menus and resources read live stay so until the commit: their deletes wait (core.tree.serialise_tree;
    a review's grant and delete at once both answered 200 and left the grant of a deleted resource)."""
    serialise_tree(Menu)
    serialise_tree(Resource)
    menus = sorted(set(menu_ids or []))
    resources = sorted(set(resource_ids or []))
    errors: dict[str, list[str]] = {}
    missing_menus = sorted(set(menus) - menu_service.live_ids(menus))
    if missing_menus:
        errors["routers"] = [gettext("菜单不存在：%(ids)s", ids=", ".join(map(str, missing_menus[:20])))]
    missing_resources = sorted(set(resources) - resource_service.live_ids(resources))
    if missing_resources:
        errors["resources"] = [gettext("资源不存在：%(ids)s", ids=", ".join(map(str, missing_resources[:20])))]
    if errors:
        raise Invalid(gettext("授权中包含不存在的菜单或资源，未做任何修改"), errors=errors)
    menus = sorted(with_parent_menus(set(menus)))
    held_menus, held_resources = granted_ids(role)
    # Only what is added must lie within the granter's reach: keeping what the role had is no escalation.
    permissions.require_within_reach(menu_ids=set(menus) - set(held_menus),
                                     resource_ids=set(resources) - set(held_resources))
    permissions.require_job_group_reach(role.id, menu_ids=menus, resource_ids=resources, editing=True)
    db.session.execute(delete(role_menu).where(role_menu.c.role_id == role.id))
    db.session.execute(delete(role_resource).where(role_resource.c.role_id == role.id))
    if menus:
        db.session.execute(insert(role_menu), [{"role_id": role.id, "menu_id": m} for m in menus])
    if resources:
        db.session.execute(insert(role_resource), [{"role_id": role.id, "resource_id": r} for r in resources])
    permissions.bump_version()


# The grant page (issue 24 item 8): a button-level permission (a resource of bizType 1) is shown beside the page
# it belongs to: the menu whose path is the longest prefix, at a segment boundary, of the button's URL, read as
# is or without the API's leading /api/admin or /api (/api/admin/system/user/export -> /system/user).
_API_PREFIXES = ("/api/admin", "/api")


def _page_of(url: str, menu_paths: dict[str, int]) -> int | None:
    candidates = [url] + [url[len(prefix):] for prefix in _API_PREFIXES if url.startswith(prefix + "/")]
    best: tuple[int, int] | None = None
    for candidate in candidates:
        for path, menu_id in menu_paths.items():
            matches = path and (candidate == path or candidate.startswith(path + "/"))
            if matches and (best is None or len(path) > best[0]):
                best = (len(path), menu_id)
    return best[1] if best else None


def grant_page_trees(menus: list[dict[str, Any]], resources: list[dict[str, Any]],
                     held: tuple[Iterable[int], Iterable[int]]) -> tuple[
        list[dict[str, Any]], list[dict[str, Any]]]:
    """The grant page's two trees: each menu node gets `buttons` (the leaf bizType-1 resources whose page it
    is), and those buttons leave the resource tree, which stays grouped by module (its built-in groups). Every
    node gets `locked`: beyond the signed-in caller's reach (permissions.beyond_reach) and not among `held`
    (menu ids, resource ids the role holds now, which the caller may keep or take away), so not to be ticked."""
    beyond_menus, beyond_resources = permissions.beyond_reach(
        [n["id"] for _d, n in walk(menus)], [n["id"] for _d, n in walk(resources)])
    locked_menus, locked_resources = beyond_menus - set(held[0]), beyond_resources - set(held[1])
    menu_paths = {n["path"].rstrip("/"): n["id"] for _d, n in walk(menus) if n.get("path")}
    by_menu: dict[int, list[dict[str, Any]]] = {}

    def keep(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = []
        for node in nodes:
            node = {**node, "children": keep(node.get("children", [])), "locked": node["id"] in locked_resources}
            page = (_page_of(node["resource_url"], menu_paths)
                    if node.get("biz_type") == 1 and node.get("resource_url") and not node["children"] else None)
            if page is None:
                kept.append(node)
            else:
                by_menu.setdefault(page, []).append(node)
        return kept

    kept = keep(resources)

    def attach(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**n, "children": attach(n.get("children", [])), "buttons": by_menu.get(n["id"], []),
                 "locked": n["id"] in locked_menus} for n in nodes]

    return attach(menus), kept


def forget_role(role_id: int) -> None:
    """A deleted role holds nothing any more."""
    db.session.execute(delete(role_menu).where(role_menu.c.role_id == role_id))
    db.session.execute(delete(role_resource).where(role_resource.c.role_id == role_id))


# ---------------------------------------------------------------------------------------------
# What a principal sees


def menu_node(menu: Menu) -> dict[str, Any]:
    """A node of the principal's menu tree. A path that is not a site path (a row from before paths were
    validated) is given as "" so neither the sidebar nor an API client ever follows it."""
    is_site_path = menu_service.is_site_path
    return {"id": menu.id, "parent_id": menu.parent_id, "name": menu.name, "name_en": menu.name_en,
            "label": menu.name, "path": menu.path if is_site_path(menu.path) else "", "component": menu.component,
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
    # A code names a permission once, however many resources share it (the same method and pattern made twice).
    resources = sorted({resource_code(r) for r in db.session.execute(stmt).scalars()})
    return {"id": principal.id, "phone": principal.phone, "name": principal.name, "avatar": principal.avatar,
            "routers": _snake(menu_tree_for(principal)), "permissions": sorted(principal.role_codes),
            "resources": resources}


def _snake(nodes: list[dict[str, Any]], top: bool = True) -> list[dict[str, Any]]:
    """adminInfo routers: the principal's menu tree nodes, in the
    shape of a vue-router route as the original PCloud front end builds its routes from them (API.md):
    `component` ("Layout" for a top menu that names none), `meta: {title, icon}` (its svg icon names)."""
    routers = []
    for n in nodes:
        component = n["component"] or ("Layout" if top else None)
        if component is None and not n["children"]:
            continue  # a page that front end has no view for (系统监控's): our pages only, not its routes
        if top and n["children"] and not _snake(n["children"], top=False):
            continue  # a group of such pages only
        route = {"id": n["id"], "parent_id": n["parent_id"], "name": n["name"], "label": n["label"],
                 "path": n["path"], "component": component, "redirect": n["redirect"], "icon": n["icon"],
                 "router": n["router"], "hidden": n["hidden"], "sequence": n["sequence"],
                 "meta": {"title": n["name"], "icon": menu_icons.for_client(n["icon"])},
                 "children": _snake(n["children"], top=False)}
        if top and not route["children"] and component != "Layout":
            # A top-level page: that front end shows top menus only as a Layout around their pages.
            route = {**route, "component": "Layout", "children": [{**route, "parent_id": n["id"], "children": []}]}
        routers.append(route)
    return routers
