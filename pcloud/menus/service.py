"""菜单管理 rules: the menu tree, its CRUD and moves, and the sync of built-in menus."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy import String, func, select

from pcloud.core import tree
from pcloud.core.database import taken_meanwhile
from pcloud.core.errors import Conflict, FieldErrors, Invalid, NotFound
from pcloud.core.i18n import LANGUAGES, language
from pcloud.core.routing import MAX_ID
from pcloud.core.schemas import limit_of
from pcloud.core.security import access_rules
from pcloud.core.tree import build_tree, clean_parent, serialise_tree, walk
from pcloud.extensions import db
from pcloud.menus.builtin import BUILTIN_MENUS, CLIENT_VIEWS
from pcloud.menus.models import Menu
from pcloud.resources.service import INDENT, insert_builtin

# ---------------------------------------------------------------------------------------------
# Reads


def get_menu(menu_id: int) -> Menu:
    if not 0 < menu_id <= MAX_ID:
        raise NotFound(gettext("菜单不存在"))
    menu = db.session.execute(Menu.live().where(Menu.id == menu_id)).scalar_one_or_none()
    if menu is None:
        raise NotFound(gettext("菜单不存在"))
    return menu


def shown_name(menu: Any) -> str:
    """The name a page shows for a menu (a Menu or a node dict): its English label on an English page when it
    has one, else its name (docs/API.md, Languages)."""
    name, name_en = (menu.get("name"), menu.get("name_en")) if isinstance(menu, dict) else (menu.name, menu.name_en)
    if name_en and language() != LANGUAGES[0]:
        return name_en
    return name or ""


def live_menus() -> list[Menu]:
    return list(db.session.execute(Menu.live().order_by(Menu.sequence, Menu.id)).scalars())


def to_item(menu: Menu) -> dict[str, Any]:
    """API item (snake_case attributes; the schema puts them on the wire in camelCase)."""
    return {"id": menu.id, "parent_id": menu.parent_id, "name": menu.name, "name_en": menu.name_en,
            "label": menu.name, "path": menu.path, "component": menu.component, "redirect": menu.redirect,
            "icon": menu.icon,
            "router": menu.router, "hidden": menu.hidden, "sequence": menu.sequence, "built_in": menu.built_in,
            "gmt_created_date": menu.gmt_created_date, "gmt_created_name": menu.gmt_created_name,
            "gmt_modified_date": menu.gmt_modified_date, "gmt_modified_name": menu.gmt_modified_name}


def _tree(menus: list[Menu]) -> list[dict[str, Any]]:
    return build_tree(menus, to_item)


def menu_tree(name: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """The whole tree, or the menus whose name (or English label, any case) contains `name` with their
    ancestors; (roots, node count)."""
    menus = live_menus()
    name = (name or "").strip()
    if name:
        by_id = {m.id: m for m in menus}
        keep: set[int] = set()
        for menu in menus:
            if name in menu.name or name.casefold() in (menu.name_en or "").casefold():
                current: Menu | None = menu
                while current is not None and current.id not in keep:
                    keep.add(current.id)
                    current = by_id.get(current.parent_id)
        menus = [m for m in menus if m.id in keep]
    return _tree(menus), len(menus)


def node(menu: Menu) -> dict[str, Any]:
    """A plain tree node for grant screens: {id, parent_id, name, label, path, ...}."""
    return {"id": menu.id, "parent_id": menu.parent_id, "name": menu.name, "name_en": menu.name_en,
            "label": menu.name, "path": menu.path, "icon": menu.icon, "hidden": menu.hidden, "sequence": menu.sequence}


def node_tree() -> list[dict[str, Any]]:
    return build_tree(live_menus(), node)


def live_ids(ids: list[int]) -> set[int]:
    wanted = sorted({i for i in ids or [] if 0 < i <= MAX_ID})
    if not wanted:
        return set()
    return set(db.session.execute(
        select(Menu.id).where(Menu.id.in_(wanted), Menu.deleted_at.is_(None))).scalars())


def all_live_ids() -> list[int]:
    return list(db.session.execute(select(Menu.id).where(Menu.deleted_at.is_(None)).order_by(Menu.id)).scalars())


def descendant_ids(menu_id: int, menus: list[Menu] | None = None) -> set[int]:
    menus = menus if menus is not None else live_menus()
    children: dict[int, list[int]] = {}
    for menu in menus:
        children.setdefault(menu.parent_id, []).append(menu.id)
    found: set[int] = set()
    stack = list(children.get(menu_id, []))
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def parent_choices(exclude_id: int | None = None) -> list[tuple[int, str]]:
    """(id, indented name) of every menu a menu may move under: not itself nor its descendants."""
    menus = live_menus()
    excluded = ({exclude_id} | descendant_ids(exclude_id, menus)) if exclude_id else set()
    tree = build_tree([m for m in menus if m.id not in excluded], node)
    return [(item["id"], INDENT * depth + shown_name(item)) for depth, item in walk(tree)]


# ---------------------------------------------------------------------------------------------
# Writes

# A menu path is a path of this site and nothing else: `/`, then segments of letters, digits and
# `-_.~`, never `.`/`..`, no scheme, no `//`, no backslash, no query, no control or space characters.
# It is rendered as a link for users who may not have written it, so `javascript:`, `data:`,
# `//host` and `https://host` must never get in (and are not rendered if an old row holds one).
_SEGMENT = r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*"
_SITE_PATH = re.compile(rf"^/(?:{_SEGMENT}(?:/{_SEGMENT})*/?)?$")
PATH_HINT = lazy_gettext(
    "路由地址须是本站路径：以 / 开头，由字母、数字及 - _ . ~ 组成的各段，不能含协议、//、\\ 或空白")  # noqa: E501


def is_site_path(path: object) -> bool:
    """True for a path this site may render as a link (the allow-list above)."""
    if not isinstance(path, str) or len(path) > 255:
        return False
    return bool(_SITE_PATH.match(path)) and not any(seg in (".", "..") for seg in path.split("/"))


def _check_site_path(key: str, label: str, value: str | None) -> None:
    if value and not is_site_path(value):
        raise Invalid(gettext("%(label)s无效：%(hint)s", label=label, hint=PATH_HINT), field=key)


def _path_taken(path: str) -> Conflict:
    msg = gettext("路由地址 %(path)s 已被其他菜单使用", path=path)
    return Conflict(msg, errors={"path": [msg]})


def _check_unique_path(path: str, exclude_id: int | None = None) -> None:
    """One live menu per path: two menus on one path would make page ownership ambiguous. The partial
    unique index uq_sys_menu_path_live settles a race between two requests (see _commit)."""
    stmt = select(Menu.id).where(Menu.path == path, Menu.deleted_at.is_(None))
    if exclude_id:
        stmt = stmt.where(Menu.id != exclude_id)
    if db.session.execute(stmt.limit(1)).first() is not None:
        raise _path_taken(path)


def form_problems(menu_id: int | None, path: str | None, redirect: str | None) -> dict[str, list[str]]:
    """What a save of the menu `menu_id` (None: a new menu) would say of its route and redirect that the page form's
    own validators do not: a path this site may not link to, a route another menu has; by the API's field names, for
    a form refused on other fields, so that it says every wrong field at once. Reads only."""
    errors = FieldErrors()
    path, redirect = (path or "").strip(), (redirect or "").strip()
    if path:
        path = path.rstrip("/") or "/"  # as a save keeps it
        errors.run(_check_site_path, "path", _TEXT_FIELDS["path"][0], path)
        if "path" not in errors.errors:
            errors.run(_check_unique_path, path, menu_id)
    if redirect:
        errors.run(_check_site_path, "redirect", _TEXT_FIELDS["redirect"][0], redirect)
    return errors.errors


_TEXT_FIELDS = {"name": (lazy_gettext("菜单名称"), limit_of(Menu.name), True),
                "name_en": (lazy_gettext("英文名称"), limit_of(Menu.name_en), False),
                "path": (lazy_gettext("路由地址"), limit_of(Menu.path), True),
                "component": (lazy_gettext("组件"), limit_of(Menu.component), False),
                "redirect": (lazy_gettext("重定向"), limit_of(Menu.redirect), False),
                "icon": (lazy_gettext("图标"), limit_of(Menu.icon), False)}


def _clean_values(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, (label, max_len, required) in _TEXT_FIELDS.items():
        if partial and key not in data:
            continue
        value = (data.get(key) or "").strip()
        if required and not value:
            raise Invalid(gettext("%(label)s不能为空", label=label), field=key)
        if len(value) > max_len:
            raise Invalid(gettext("%(label)s长度不能超过 %(n)s", label=label, n=max_len), field=key)
        if key == "path" and len(value) > 1:
            value = value.rstrip("/") or "/"  # `/report/` and `/report` are one page owner
        values[key] = value if (value or required) else None
        if key in ("path", "redirect"):
            _check_site_path(key, label, value)
    for key, default in (("router", True), ("hidden", False)):
        if not partial or data.get(key) is not None:
            value = data.get(key)
            values[key] = default if value is None else bool(value)
    if not partial or data.get("sequence") is not None:
        values["sequence"] = int(data.get("sequence") or 0)
    return values


def create_menu(data: dict[str, Any]) -> Menu:
    values = _clean_values(data, partial=False)
    _check_unique_path(values["path"])
    menu = Menu(parent_id=clean_parent(Menu, data.get("parent_id"), gettext("菜单")), built_in=False, **values)
    # the permission version's update autoflushes the menu: a path a concurrent request took trips the index there
    with taken_meanwhile(lambda: _check_unique_path(values["path"])):
        db.session.add(menu)
        access_rules().bump_version()
        db.session.commit()
    return menu


def modify_menu(data: dict[str, Any]) -> Menu:
    """Change any field, including moving it: parentId (not below itself) and sequence."""
    menu = get_menu(data["id"])
    values = _clean_values(data, partial=True)
    if menu.built_in and "path" in values and values["path"] != menu.path:
        raise Conflict(gettext("内置菜单的路由地址由系统维护，不能修改"),
                       errors={"path": [gettext("内置菜单的路由地址不能修改")]})
    if "path" in values and values["path"] != menu.path:
        _check_unique_path(values["path"], exclude_id=menu.id)
        access_rules().require_page_reach(values["path"])  # its holders open the new page
        access_rules().require_page_release(menu.path)  # and the menu above the old one, the old pages
    if data.get("parent_id") is not None:
        values["parent_id"] = clean_parent(Menu, data["parent_id"], gettext("菜单"), self_id=menu.id)
    moved = "path" in values and values["path"] != menu.path
    menu_id, path = menu.id, values.get("path", menu.path)
    with taken_meanwhile(lambda: _check_unique_path(path, exclude_id=menu_id)):
        for key, value in values.items():
            setattr(menu, key, value)
        if moved:  # onto a job page: the roles holding it must not reach more executors than the editor
            db.session.flush()
            access_rules().require_holders_within_executors(menu_id=menu.id)
        access_rules().bump_version()
        db.session.commit()
    return menu


def move_menu(menu_id: int, parent_id: int, sequence: int | None = None) -> Menu:
    data: dict[str, Any] = {"id": menu_id, "parent_id": parent_id}
    if sequence is not None:
        data["sequence"] = sequence
    return modify_menu(data)


def child_counts(ids: list[int]) -> dict[int, int]:
    """Live children per parent menu: {id: n}."""
    return tree.child_counts(Menu, ids)


def delete_menu(menu_id: int) -> Menu:
    serialise_tree(Menu)  # no child placed under it meanwhile
    menu = get_menu(menu_id)
    if menu.built_in:
        raise Conflict(gettext("内置菜单不能删除"))
    if child_counts([menu.id]).get(menu.id):
        raise Conflict(gettext("该菜单下还有子菜单，请先删除或移走子菜单"))
    access_rules().require_page_release(menu.path)  # its pages fall to the menu above it
    menu.soft_delete()
    access_rules().forget_grants(menu_id=menu.id)
    access_rules().bump_version()
    db.session.commit()
    return menu


# ---------------------------------------------------------------------------------------------
# Built-in menus


def builtin_component(entry: dict[str, object]) -> str | None:
    """The original front end's component of a built-in (see builtin.py)."""
    component = entry.get("component") or CLIENT_VIEWS.get(str(entry["code"]))
    if component:
        return str(component)
    return None if entry.get("parent") else "Layout"


def _free_path(path: str, code: str) -> None:
    """A built-in's path is the code's to take: a live custom menu already on it (made before the built-in
    existed) moves aside to `<path>-custom-<id>`, where an administrator sees and fixes it."""
    from sqlalchemy import update

    db.session.execute(update(Menu).where(
        Menu.path == path, Menu.deleted_at.is_(None), (Menu.code.is_(None)) | (Menu.code != code))
        .values(path=func.substr(Menu.path, 1, 200) + "-custom-" + func.cast(Menu.id, String)))


def sync_builtin_menus() -> dict[str, int]:
    """Create the built-in menus by code; keep their path (what the page guard uses) as the code says.

    Name, icon, parent and sequence are set when a built-in is created; after that they belong to the
    administrator, who may rename, hide or move it on the 菜单管理 page, and a later sync keeps that. The English
    label is filled where it is empty (so a database from before it existed gets the built-ins'), never replaced.
    A built-in menu no longer listed is retired with its grants; one deleted by hand is revived.
    Missing rows are inserted with ON CONFLICT (code) DO NOTHING, so concurrent syncs neither duplicate
    nor fail.
    """
    existing = {m.code: m for m in db.session.execute(select(Menu).where(Menu.code.is_not(None))).scalars()}
    created = updated = 0
    by_code: dict[str, Menu] = {}
    for entry in BUILTIN_MENUS:
        code = str(entry["code"])
        menu = existing.get(code)
        parent = by_code.get(str(entry["parent"])) if entry["parent"] else None
        _free_path(str(entry["path"]), code)
        if menu is None:
            created += insert_builtin(Menu, code, {
                "built_in": True, "router": True, "hidden": False, "name": entry["name"],
                "name_en": entry.get("name_en"), "path": entry["path"],
                "icon": entry["icon"], "sequence": entry["sequence"], "parent_id": parent.id if parent else 0,
                "component": builtin_component(entry)})
            menu = db.session.execute(select(Menu).where(Menu.code == code)).scalar_one()
        else:
            fixed = {"path": entry["path"], "built_in": True, "deleted_at": None}
            if not menu.component and builtin_component(entry):  # filled once; an administrator may change it
                fixed["component"] = builtin_component(entry)
            if not menu.name_en and entry.get("name_en"):  # filled once, like component
                fixed["name_en"] = entry["name_en"]
            if menu.deleted_at is not None:  # revived: back where the code puts it
                fixed.update(parent_id=parent.id if parent else 0, name=entry["name"], name_en=entry.get("name_en"),
                             icon=entry["icon"], sequence=entry["sequence"])
            if any(getattr(menu, k) != v for k, v in fixed.items()):
                for key, value in fixed.items():
                    setattr(menu, key, value)
                updated += 1
        by_code[code] = menu
    retired = 0
    wanted = {str(e["code"]) for e in BUILTIN_MENUS}
    for code, menu in existing.items():
        if code not in wanted and menu.built_in and menu.deleted_at is None:
            menu.soft_delete()
            access_rules().forget_grants(menu_id=menu.id)
            for child in db.session.execute(Menu.live().where(Menu.parent_id == menu.id)).scalars():
                child.parent_id = menu.parent_id
            retired += 1
    if created or updated or retired:
        access_rules().bump_version()
    db.session.commit()
    return {"created": created, "updated": updated, "retired": retired}
