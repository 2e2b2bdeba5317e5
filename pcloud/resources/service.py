"""访问资源 rules: the resource tree, its CRUD, and the sync of one built-in resource per API route."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select

from pcloud.core import tree
from pcloud.core.apinames import group_name, route_name
from pcloud.core.errors import Conflict, Forbidden, Invalid, NotFound
from pcloud.core.i18n import translated
from pcloud.core.messages import N_
from pcloud.core.paging import Page, paginate
from pcloud.core.routing import GRANT_METHODS, MAX_ID, render_rule
from pcloud.core.security import PUBLIC_ENDPOINTS, access_rules, current_principal_id_name
from pcloud.core.timefmt import utcnow
from pcloud.core.tree import build_tree, clean_parent, serialise_tree, walk
from pcloud.extensions import db
from pcloud.resources.models import Resource

INDENT = "\u00a0\u00a0"  # a level of a tree in a <select>: kept by the browser, and no Chinese on English pages
BIZ_TYPES = {0: lazy_gettext("接口"), 1: lazy_gettext("按钮")}
GROUP_PREFIX = "group:"
ROUTE_PREFIX = "api:"
_URL_OK = re.compile(r"^/[^\s?#]*$")
BUILT_IN_LOCKED = N_("内置资源由系统根据接口自动维护，不能修改")  # a reason: said through translated()
# Subtrees another module maintains (root code -> why they are locked here): the open platform's
# interface catalogue. Edited through 访问资源 they would bypass that module's own rules (its URL
# allow-list, its grants to accounts), so only that module changes them.
_RESERVED_ROOTS: dict[str, str] = {}


def reserve_subtree(root_code: str, reason: str) -> None:
    """Lock the resource with `root_code` and everything below it against this module's edits."""
    _RESERVED_ROOTS[root_code] = reason


# ---------------------------------------------------------------------------------------------
# Reads


def get_resource(resource_id: int) -> Resource:
    if not 0 < resource_id <= MAX_ID:
        raise NotFound(gettext("资源不存在"))
    res = db.session.execute(Resource.live().where(Resource.id == resource_id)).scalar_one_or_none()
    if res is None:
        raise NotFound(gettext("资源不存在"))
    return res


def child_counts(ids: list[int]) -> dict[int, int]:
    """Live children per parent resource: {id: n}, for a whole page of rows in one query."""
    return tree.child_counts(Resource, ids)


def locked_reasons(rows: list[Resource]) -> dict[int, str]:
    """Why each of these rows cannot be edited or deleted here (absent: it can), in a few queries."""
    reasons = {r.id: BUILT_IN_LOCKED for r in rows if r.built_in}
    if _RESERVED_ROOTS:
        roots = db.session.execute(select(Resource.id, Resource.code).where(
            Resource.code.in_(list(_RESERVED_ROOTS)), Resource.deleted_at.is_(None))).all()
        level = {rid: _RESERVED_ROOTS[code] for rid, code in roots}
        reserved: dict[int, str] = {}
        while level:  # walk down each reserved subtree, one query per depth
            reserved.update(level)
            below = db.session.execute(select(Resource.id, Resource.parent_id).where(
                Resource.parent_id.in_(list(level)), Resource.deleted_at.is_(None))).all()
            level = {rid: level[parent] for rid, parent in below if rid not in reserved}
        reasons.update({r.id: reserved[r.id] for r in rows if r.id in reserved})
    return reasons


def locked_reason(res: Resource) -> str | None:
    return locked_reasons([res]).get(res.id)


def _require_editable(res: Resource, deleting: bool = False) -> None:
    reason = locked_reason(res)
    if reason:
        raise Conflict(gettext("内置资源不能删除") if deleting and res.built_in else translated(reason))


BEYOND_REACH = N_("该资源超出了您的权限范围（您自己不能调用它），不能修改或删除：持有它的角色都会随之改变")


def beyond_reach_ids(rows: list[Resource]) -> set[int]:
    """The ids of these rows the signed-in principal may neither modify nor delete, asked once for all of them:
    what a resource allows is what every role holding it may call, so changing or deleting it changes those
    roles, and only someone who may call all of it already does that (the reach rule of handing it out,
    `access.permissions.beyond_reach`; the super administrator reaches everything, a group allows nothing)."""
    return access_rules().beyond_reach(resource_ids=[r.id for r in rows])[1]


def reach_refusal(res: Resource) -> str | None:
    """Why the principal may not modify or delete this resource (`beyond_reach_ids`), as source text; None: they
    may."""
    return BEYOND_REACH if beyond_reach_ids([res]) else None


def _require_reached(res: Resource) -> None:
    if reach_refusal(res):
        raise Forbidden(gettext(BEYOND_REACH))


def _require_editable_below(parent: Resource) -> None:
    """Built-in groups take custom children; a reserved subtree takes none from here."""
    reason = locked_reason(parent)
    if reason and reason != BUILT_IN_LOCKED:
        raise Conflict(reason)


def page_resources(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    """One level of the tree (`parent_id`, default 0), or, with a name and no parent, every level."""
    stmt = Resource.live()
    name = (filters.get("name") or "").strip()
    if name:
        stmt = stmt.where(Resource.name.contains(name, autoescape=True))
    parent_id = filters.get("parent_id")
    if parent_id is not None and not 0 <= parent_id <= MAX_ID:
        parent_id = -1  # no such parent: an empty level
    if parent_id is not None or not name:
        stmt = stmt.where(Resource.parent_id == (parent_id or 0))
    return paginate(stmt.order_by(Resource.id), page, page_size)


def to_items(rows: list[Resource]) -> list[dict[str, Any]]:
    counts = child_counts([r.id for r in rows])
    locked = locked_reasons(rows)
    beyond = beyond_reach_ids(rows)
    return [to_item(r, counts.get(r.id, 0) > 0, locked.get(r.id), r.id in beyond) for r in rows]


def to_item(res: Resource, has_children: bool | None = None, locked: str | None = None,
            beyond_reach: bool | None = None) -> dict[str, Any]:
    if has_children is None:
        has_children = child_counts([res.id]).get(res.id, 0) > 0
        locked = locked_reason(res)
    if beyond_reach is None:
        beyond_reach = bool(beyond_reach_ids([res]))
    # locked: why nobody edits it here; beyond_reach: the principal may not (the page offers neither 编辑 nor 删除)
    return {"locked": translated(locked), "beyond_reach": beyond_reach,
        "id": res.id, "parent_id": res.parent_id, "name": res.name, "label": res.name,
        "resource_url": res.resource_url, "method": res.method, "biz_type": res.biz_type,
        "biz_type_name": BIZ_TYPES.get(res.biz_type, str(res.biz_type)), "built_in": res.built_in,
        "has_children": has_children,
        "gmt_created_date": res.gmt_created_date, "gmt_created_name": res.gmt_created_name,
        "gmt_modified_date": res.gmt_modified_date, "gmt_modified_name": res.gmt_modified_name,
    }


def resource_level(parent_id: int | None) -> list[dict[str, Any]]:
    """Every live resource directly under `parent_id` (0 = the roots), with `has_children`: a lazy tree."""
    rows = list(db.session.execute(
        Resource.live().where(Resource.parent_id == (parent_id or 0)).order_by(Resource.id)).scalars())
    return to_items(rows)


def ancestors(resource_id: int) -> list[Resource]:
    """The path from a root down to (and including) the resource, for breadcrumbs."""
    chain: list[Resource] = []
    seen: set[int] = set()
    if not 0 < resource_id <= MAX_ID:
        return chain
    current = db.session.execute(Resource.live().where(Resource.id == resource_id)).scalar_one_or_none()
    while current is not None and current.id not in seen:
        chain.append(current)
        seen.add(current.id)
        if not current.parent_id:
            break
        current = db.session.execute(Resource.live().where(Resource.id == current.parent_id)).scalar_one_or_none()
    return list(reversed(chain))


def node(res: Any) -> dict[str, Any]:
    """A node of the resource tree (a Resource or a row with its columns)."""
    return {"id": res.id, "parent_id": res.parent_id, "name": res.name, "label": res.name,
            "resource_url": res.resource_url, "method": res.method, "biz_type": res.biz_type}


def resource_tree() -> list[dict[str, Any]]:
    """Every live resource as a tree (grant page, {roleId}/menu), in one query."""
    rows = db.session.execute(
        select(Resource.id, Resource.parent_id, Resource.name, Resource.resource_url, Resource.method,
               Resource.biz_type).where(Resource.deleted_at.is_(None)).order_by(Resource.id)).all()
    return build_tree(rows, node)


def live_ids(ids: list[int]) -> set[int]:
    if not ids:
        return set()
    found: set[int] = set()
    unique = sorted({i for i in ids if 0 < i <= MAX_ID})
    for start in range(0, len(unique), 900):  # stay under SQLite's bound-parameter limit
        chunk = unique[start:start + 900]
        found.update(db.session.execute(
            select(Resource.id).where(Resource.id.in_(chunk), Resource.deleted_at.is_(None))).scalars())
    return found


def all_live_ids() -> list[int]:
    return list(db.session.execute(select(Resource.id).where(Resource.deleted_at.is_(None))
                                   .order_by(Resource.id)).scalars())


def parent_choices(exclude_id: int | None = None) -> list[tuple[int, str]]:
    """Possible parents for the form: the tree as indented names, minus a resource's own subtree."""
    tree = resource_tree()
    excluded = set(_subtree_ids(tree, exclude_id)) if exclude_id else set()
    choices = []
    for depth, item in walk(tree):
        if item["id"] in excluded:
            continue
        if item["children"] or not item["resource_url"] or depth == 0:
            choices.append((item["id"], INDENT * depth + translated(item["name"])))
    return choices


def _subtree_ids(tree: list[dict[str, Any]], root_id: int | None) -> list[int]:
    for _depth, item in walk(tree):
        if item["id"] == root_id:
            return [root_id] + [n["id"] for _d, n in walk(item["children"])]
    return []


# ---------------------------------------------------------------------------------------------
# Writes


def _given(data: dict[str, Any], key: str, partial: bool) -> bool:
    return not partial or data.get(key) is not None


def _clean_values(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if _given(data, "name", partial):
        name = (data.get("name") or "").strip()
        if not name:
            raise Invalid(gettext("资源名称不能为空"), field="name")
        values["name"] = name
    if _given(data, "resource_url", partial):
        url = (data.get("resource_url") or "").strip()
        if not url:
            raise Invalid(gettext("资源路径不能为空"), field="resourceUrl")
        if not _URL_OK.match(url):
            raise Invalid(gettext("资源路径须以 / 开头，不含空格、? 或 #，如 /api/admin/role/{id}/delete"),
                          field="resourceUrl")
        values["resource_url"] = url
    if _given(data, "method", partial):
        method = (data.get("method") or "*").strip().upper()
        if method not in GRANT_METHODS:
            raise Invalid(gettext("请求方式必须是 GET、POST、PUT、DELETE 或 *"), field="method")
        values["method"] = method
    if _given(data, "biz_type", partial):
        biz_type = data.get("biz_type") or 0
        if biz_type not in BIZ_TYPES:
            raise Invalid(gettext("资源类型必须是 0（接口）或 1（按钮）"), field="bizType")
        values["biz_type"] = biz_type
    return values


def create_resource(data: dict[str, Any]) -> Resource:
    values = _clean_values(data, partial=False)
    parent_id = clean_parent(Resource, data.get("parent_id"), gettext("资源"))
    if parent_id:
        _require_editable_below(get_resource(parent_id))
    res = Resource(parent_id=parent_id, built_in=False, **values)
    db.session.add(res)
    access_rules().bump_version()
    db.session.commit()
    return res


def modify_resource(data: dict[str, Any]) -> Resource:
    res = get_resource(data["id"])
    _require_editable(res)
    _require_reached(res)
    values = _clean_values(data, partial=True)
    if "parent_id" in data and data["parent_id"] is not None:
        values["parent_id"] = clean_parent(Resource, data["parent_id"], gettext("资源"), self_id=res.id)
        if values["parent_id"]:
            _require_editable_below(get_resource(values["parent_id"]))
    new_method, new_url = values.get("method", res.method), values.get("resource_url", res.resource_url)
    if (new_method, new_url) != (res.method, res.resource_url):
        # widened (to `/**`, say), it widens every role holding it
        access_rules().require_resource_reach(res.method, res.resource_url, new_method, new_url)
    repointed = (new_method, new_url) != (res.method, res.resource_url)
    for key, value in values.items():
        setattr(res, key, value)
    if repointed:  # onto a job route: the roles holding it must not reach more executors than the editor
        db.session.flush()
        access_rules().require_holders_within_executors(resource_id=res.id)
    access_rules().bump_version()
    db.session.commit()
    return res


def delete_resource(resource_id: int) -> Resource:
    serialise_tree(Resource)  # no child placed under it meanwhile
    res = get_resource(resource_id)
    _require_editable(res, deleting=True)
    _require_reached(res)
    if child_counts([res.id]).get(res.id):
        raise Conflict(gettext("该资源下还有子资源，请先删除子资源"))
    discard(res)
    access_rules().bump_version()
    db.session.commit()
    return res


def discard(res: Resource) -> None:
    """A resource is gone (deleted here, retired by the sync, or a catalogue entry deleted by the open platform):
    soft-deleted, and no role holds it any more (a user's role or an account's alike). The caller bumps the
    permission version and commits."""
    res.soft_delete()
    access_rules().forget_grants(resource_id=res.id)


# ---------------------------------------------------------------------------------------------
# Built-in resources: one per API route of this application


def wanted_builtins() -> dict[str, dict[str, Any]]:
    """code -> values for every built-in the route table calls for (groups and routes)."""
    app = current_app
    wanted: dict[str, dict[str, Any]] = {}
    order = {name: index for index, name in enumerate(app.blueprints)}  # groups in registration order

    def sort_key(rule: Any) -> tuple[int, str, str]:
        return order.get(rule.endpoint.rsplit(".", 1)[0], len(order)), rule.rule, rule.endpoint

    for rule in sorted(app.url_map.iter_rules(), key=sort_key):
        if not (rule.rule == "/api" or rule.rule.startswith("/api/")):
            continue
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.startswith("api-docs."):
            continue
        view = app.view_functions.get(rule.endpoint)
        if view is None or getattr(view, "_public", False) or getattr(view, "_signed_in_only", False):
            continue  # open to everyone / every signed-in principal: nothing to grant
        blueprint_name = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else "app"
        group_code = f"{GROUP_PREFIX}{blueprint_name}"
        if group_code not in wanted:
            description = getattr(app.blueprints.get(blueprint_name), "description", None)
            wanted[group_code] = {"name": group_name(description, blueprint_name),
                                  "resource_url": "", "method": "*", "group": None}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            wanted[f"{ROUTE_PREFIX}{rule.endpoint}:{method}"] = {
                "name": route_name(getattr(view, "__doc__", None), rule.endpoint),
                "resource_url": render_rule(rule.rule)[:255],
                "method": method, "group": group_code}
    return wanted


def insert_builtin(model: Any, code: str, values: dict[str, Any]) -> int:
    """INSERT ... ON CONFLICT (code) DO NOTHING for a built-in row keyed by its unique `code` (menus and
    resources): a row another process added meanwhile is kept, never duplicated, and nobody fails.
    Returns 1 if this call inserted the row."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = sqlite if db.engine.dialect.name == "sqlite" else postgresql
    now, (principal_id, principal_name) = utcnow(), current_principal_id_name()
    row = {**values, "code": code, "gmt_created_date": now, "gmt_modified_date": now, "gmt_created_id": principal_id,
           "gmt_created_name": principal_name, "gmt_modified_name": principal_name}
    stmt = dialect.insert(model).values(**row).on_conflict_do_nothing(index_elements=["code"]).returning(model.id)
    return 1 if db.session.execute(stmt).first() is not None else 0


def sync_builtin_resources() -> dict[str, int]:
    """Create, update and retire built-in resources to match the route table. Idempotent.

    Rows are keyed by the unique `code`. A missing one is inserted with ON CONFLICT (code) DO NOTHING and
    read back, so two processes syncing at once end with one row per code and neither fails.
    """
    wanted = wanted_builtins()
    existing = {r.code: r for r in db.session.execute(
        select(Resource).where(Resource.code.is_not(None))).scalars() if r.code}
    created = updated = retired = 0
    ids: dict[str, int] = {}
    # Groups first, so their ids are known to the routes beneath them.
    for code in sorted(wanted, key=lambda c: not c.startswith(GROUP_PREFIX)):  # stable: keeps module order
        spec = wanted[code]
        values = {"name": spec["name"], "resource_url": spec["resource_url"], "method": spec["method"],
                  "parent_id": ids[spec["group"]] if spec["group"] else 0, "biz_type": 0, "built_in": True,
                  "deleted_at": None}
        res = existing.get(code)
        if res is None:
            inserted = insert_builtin(Resource, code, values)
            created += inserted
            res = db.session.execute(select(Resource).where(Resource.code == code)).scalar_one()
        if any(getattr(res, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(res, key, value)
            updated += 1
        ids[code] = res.id
    for code, res in existing.items():
        if code in wanted or not res.built_in or res.deleted_at is not None:
            continue
        # A stale built-in (its route is gone): retire it, its grants, and lift its custom children up.
        discard(res)
        retired += 1
    if retired:
        retired_ids = [r.id for c, r in existing.items() if c not in wanted and r.built_in]
        for child in db.session.execute(Resource.live().where(Resource.parent_id.in_(retired_ids))).scalars():
            child.parent_id = 0
    if created or updated or retired:
        access_rules().bump_version()
    db.session.commit()
    return {"created": created, "updated": updated, "retired": retired}
