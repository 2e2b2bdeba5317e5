"""部门管理 rules, shared by the pages and the JSON API.

Subtrees and ancestor chains are computed in the database with recursive CTEs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import ColumnElement, and_, case, func, select, update
from sqlalchemy.orm import aliased

from pcloud.core import search, tree
from pcloud.core.database import taken_meanwhile, write_lock_first
from pcloud.core.errors import Conflict, Forbidden, Invalid, NotFound
from pcloud.core.i18n import translated
from pcloud.core.messages import N_
from pcloud.core.paging import Page, paginate
from pcloud.core.schemas import limit_of
from pcloud.core.security import access_rules, current_principal
from pcloud.core.tree import build_tree, walk
from pcloud.datascope import service as datascope
from pcloud.depts.models import Dept, DeptClosure
from pcloud.extensions import db
from pcloud.params import service as params
from pcloud.roles.models import Role, role_dept
from pcloud.users.models import User, UserTally

DUPLICATE_NAME = N_("同一上级部门下已有同名部门")  # said with gettext() where it is raised


# ---------------------------------------------------------------------------------------------
# Tree queries (the closure table sys_dept_closure, kept by the mapper events in models.py)


def subtree_ids_select(dept_id: int) -> Any:
    """SELECT id of the department and every live department below it (one index range scan)."""
    return select(DeptClosure.descendant_id.label("id")).where(DeptClosure.ancestor_id == dept_id)


def subtree_ids(dept_id: int) -> list[int]:
    return list(db.session.execute(subtree_ids_select(dept_id)).scalars())


def ancestor_ids_select(dept_id: int) -> Any:
    """SELECT id of the department and every live department above it, up to its root."""
    return select(DeptClosure.ancestor_id.label("id")).where(DeptClosure.descendant_id == dept_id)


def is_within(dept_id: int, ancestor_id: int) -> bool:
    """True when `dept_id` is `ancestor_id` itself or lies anywhere below it."""
    return db.session.execute(select(DeptClosure.depth).where(
        DeptClosure.ancestor_id == ancestor_id, DeptClosure.descendant_id == dept_id)).first() is not None


def path_of(dept_id: int) -> list[Dept]:
    """The live departments from the root down to `dept_id` (breadcrumbs of the org chart)."""
    rows = {d.id: d for d in db.session.execute(Dept.live().where(Dept.id.in_(ancestor_ids_select(dept_id))))
            .scalars()}
    chain: list[Dept] = []
    node = rows.get(dept_id)
    while node is not None and len(chain) <= len(rows):
        chain.append(node)
        node = rows.get(node.parent_id)
    return list(reversed(chain))


# ---------------------------------------------------------------------------------------------
# Reads


def get_dept(dept_id: int) -> Dept:
    dept = db.session.execute(Dept.live().where(Dept.id == dept_id)).scalar_one_or_none()
    if dept is None:
        raise NotFound(gettext("部门不存在"))
    return dept


def member_counts(dept_ids: list[int] | None = None) -> dict[int, int]:
    """Live users per department (direct members), for `ids` or (None) every department: {id: n}, from the
    counts the database keeps (users.tally)."""
    return dict(db.session.execute(UserTally.counts("dept", dept_ids)).tuples().all())


def user_names(user_ids: list[int]) -> dict[int, str]:
    """{id: name} of the live users among `user_ids` (managers), as the principal may see them: a user beyond their
    data scope is named by that alone, as the user page would not list them (the department and that it has a
    manager are the organisation's, the person is not)."""
    ids = sorted({i for i in user_ids if i})
    if not ids:
        return {}
    reached = datascope.current_scope().user_clause(User)
    beyond = gettext("（超出您的数据权限范围）")
    return {uid: name if seen else beyond for uid, name, seen in db.session.execute(
        select(User.id, User.name, case((reached, True), else_=False)).where(
            User.id.in_(ids), User.deleted_at.is_(None))).tuples()}


def may_see_phones() -> bool:
    """Phones are the user list's data: shown (and searchable) only to principals granted the user list API."""
    principal = current_principal()
    return principal is None or access_rules().may_call_endpoint(principal, "users_api.page")


def search_users(q: str, limit: int = 10, within: ColumnElement[bool] | None = None) -> list[dict[str, Any]]:
    """The console's user picker (the manager's, and the mail's recipient through `mail.service`): live users whose
    name (or, for those who may see phones, phone) contains `q`, first by name: read in name order when the matches
    are plainly many, else from the trigram index's matches (core.search.contains_any); exactly LIKE's rows either
    way. `within`: the rule of the form that offers them, a condition on `User` (the mail's recipients); by default
    the principal's data scope (a manager)."""
    q = (q or "").strip()[:64]
    if not q:
        return []
    if within is None:
        within = datascope.current_scope().user_clause(User)
    phones = may_see_phones()
    columns = (User.name, User.phone) if phones else (User.name,)
    by_name = (User.name, User.id)
    match = search.contains_any(columns, q, db.engine.dialect.name,
                                select(*columns).where(User.deleted_at.is_(None)).order_by(*by_name))
    rows = db.session.execute(
        select(User.id, User.name, User.phone, User.state, Dept.name)
        .outerjoin(Dept, and_(Dept.id == User.dept_id, Dept.deleted_at.is_(None)))
        .where(User.deleted_at.is_(None), match, within)
        .order_by(*by_name).limit(limit))
    return [{"id": uid, "name": name, "phone": phone if phones else None, "disabled": state == 1,
             "deptName": dept_name} for uid, name, phone, state, dept_name in rows]


def user_brief(user_id: int | None, within: ColumnElement[bool] | None = None) -> dict[str, Any] | None:
    """The picked user (a manager; `within`: as `search_users`), as the picker shows them."""
    if not user_id:
        return None
    if within is None:
        within = datascope.current_scope().user_clause(User)
    row = db.session.execute(select(User.id, User.name, User.phone).where(
        User.id == user_id, User.deleted_at.is_(None), within)).first()
    return {"id": row[0], "name": row[1], "phone": row[2] if may_see_phones() else None} if row else None


def _item_select() -> Any:
    """Departments with their parent's names, in one query (managers' names: `_with_managers`)."""
    parent = aliased(Dept)
    return (select(Dept, parent.name)
            .outerjoin(parent, and_(parent.id == Dept.parent_id, parent.deleted_at.is_(None)))
            .where(Dept.deleted_at.is_(None)))


def _with_managers(rows: Any) -> list[dict[str, Any]]:
    """Items of (dept, parent name) rows, with their managers' names (one query for all of them)."""
    rows = list(rows)
    names = user_names([dept.manager_id for dept, _parent in rows if dept.manager_id])
    return [to_item(dept, parent_name, names.get(dept.manager_id or 0)) for dept, parent_name in rows]


def to_item(dept: Dept, parent_name: str | None = None, manager_name: str | None = None) -> dict[str, Any]:
    return {
        "id": dept.id, "parent_id": dept.parent_id, "parent_name": parent_name, "name": dept.name,
        "label": dept.name, "manager_id": dept.manager_id, "manager_name": manager_name,
        "established_time": dept.established_time, "sequence": dept.sequence,
        "gmt_created_date": dept.gmt_created_date, "gmt_created_name": dept.gmt_created_name,
        "gmt_modified_date": dept.gmt_modified_date, "gmt_modified_name": dept.gmt_modified_name,
    }


def page_depts(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    """A page of items (dicts), ordered like the tree's siblings: sequence, then id."""
    stmt = _item_select()
    if filters.get("name") and filters["name"].strip():
        stmt = stmt.where(Dept.name.contains(filters["name"].strip(), autoescape=True))
    if filters.get("parent_id") is not None:
        stmt = stmt.where(Dept.parent_id == filters["parent_id"])
    result = paginate(stmt.order_by(Dept.sequence, Dept.id), page, page_size, scalars=False)
    result.items = _with_managers(result.items)
    return result


def org_tree(root_id: int | None = None, within: Callable[[int], bool] | None = None) -> list[dict[str, Any]]:
    """The live organisation as nested nodes (each with the item fields), or one department's subtree; `within`:
    only the departments it admits, one whose parent it leaves out being a root."""
    stmt = _item_select()
    if root_id:
        stmt = stmt.where(Dept.id.in_(subtree_ids_select(root_id)))
    rows = db.session.execute(stmt)
    if within is not None:
        rows = [(dept, parent_name) for dept, parent_name in rows if within(dept.id)]
    return build_tree(_with_managers(rows), dict)


def picker_tree() -> list[dict[str, Any]]:
    """The departments a picker offers the principal (`POST /api/admin/dept/tree`, the original front end's): those
    whose members their data scope reaches (`DataScope.covers_dept`, the rule of the console's pickers:
    `filter_choices`, the user form's `users.service.placeable_dept_choices`), as a tree; a department whose parent
    lies beyond the scope is a root. Under all data, the whole organisation."""
    scope = datascope.current_scope()
    return org_tree() if scope.all else org_tree(within=scope.covers_dept)


def single_root(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """The organisation as one tree, for org-chart widgets: the only root as it is, else every root under
    one synthetic node (id 0) named after the company (PCLOUD_COMPANY_NAME)."""
    if len(nodes) == 1:
        return nodes[0]
    name = translated(params.value("sys.company.name")) or gettext("公司")  # the built-in default in the reader's words
    return {"id": 0, "parent_id": 0, "parent_name": None, "name": name, "label": name, "manager_id": None,
            "manager_name": None, "established_time": None, "sequence": 0, "children": nodes}


def annotate(nodes: list[dict[str, Any]], counts: dict[int, int]) -> None:
    """Add `members` (direct), `total_members` (whole subtree), `child_count` and `descendants` to each node."""
    def visit(node: dict[str, Any]) -> tuple[int, int]:
        total, below = counts.get(node["id"], 0), 0
        for child in node["children"]:
            child_total, child_below = visit(child)
            total += child_total
            below += child_below + 1
        node["members"] = counts.get(node["id"], 0)
        node["child_count"] = len(node["children"])
        node["total_members"] = total
        node["descendants"] = below
        return total, below

    for root in nodes:
        visit(root)


def scoped_member_counts() -> dict[int, int]:
    """Live users per department that the principal's data scope reaches: the kept counts of the departments
    it reaches (all of a department's members or none), plus oneself under "only oneself"."""
    scope = datascope.current_scope()
    counts = member_counts()
    if scope.all:
        return counts
    reached = scope.reached_dept_ids() or frozenset()
    counts = {dept_id: n for dept_id, n in counts.items() if dept_id in reached}
    if scope.user_id is not None:
        own = db.session.execute(select(User.dept_id).where(User.id == scope.user_id,
                                                            User.deleted_at.is_(None))).scalar()
        if own and own not in reached:
            counts[own] = counts.get(own, 0) + 1
    return counts


def tree_with_members(root_id: int | None = None) -> list[dict[str, Any]]:
    """The org chart: departments with the members the principal's data scope reaches."""
    nodes = org_tree(root_id)
    annotate(nodes, scoped_member_counts())
    return nodes


def child_counts(ids: list[int]) -> dict[int, int]:
    """Live children per parent department: {id: n}."""
    return tree.child_counts(Dept, ids)


def delete_refusal(name: str, children: int, members: int) -> str | None:
    """Why a department cannot be deleted (None when it can), in words an administrator can act on."""
    if not children and not members:
        return None
    if children and members:
        return gettext("不能删除部门「%(name)s」：其下还有 %(children)s 个下级部门和 %(members)s 名成员。"
                       "请先删除或移走下级部门，并把成员调到其他部门。", name=name, children=children, members=members)
    if children:
        return gettext("不能删除部门「%(name)s」：其下还有 %(children)s 个下级部门。请先删除或移走下级部门。",
                       name=name, children=children)
    return gettext("不能删除部门「%(name)s」：其下还有 %(members)s 名成员。请先把成员调到其他部门。",
                   name=name, members=members)


def choices() -> list[tuple[int, str]]:
    """Every live department as (id, indented name), in tree order: pickers and filters."""
    rows = db.session.execute(Dept.live()).scalars()
    tree = build_tree(rows, lambda d: {"id": d.id, "parent_id": d.parent_id, "name": d.name,
                                       "sequence": d.sequence})
    return [(node["id"], "　" * depth + node["name"]) for depth, node in walk(tree)]


def filter_choices(keep: int | None = None) -> list[tuple[int, str]]:
    """(id, indented name) of the departments a list of people is filtered by (the user list's 部门): those whose
    members the principal's data scope reaches (`DataScope.covers_dept`, the rule the list applies), in tree
    order, so that no option lists nobody for being beyond the scope. `keep`, a department the filter was given
    beyond the scope (a bookmark, a link), stays in its place, said to be beyond it: the filter bar shows what the
    list is filtered by (the users below it the scope reaches, often none)."""
    scope = datascope.current_scope()
    return [(dept_id, label if scope.covers_dept(dept_id) else gettext("%(name)s（超出您的数据权限范围）", name=label))
            for dept_id, label in choices() if dept_id == keep or scope.covers_dept(dept_id)]


def parent_choices(exclude_id: int | None = None, keep: int | None = None) -> list[tuple[int, str]]:
    """(id, indented name) of every live department a department may be put under: without `exclude_id` and its
    subtree, and only those `scope_refusal` lets the principal move a department under (the save's rule), but for
    `keep`, a department's present parent, shown as it is."""
    excluded = set(subtree_ids(exclude_id)) if exclude_id else set()
    return [(dept_id, label) for dept_id, label in choices()
            if dept_id not in excluded and (dept_id == keep or scope_refusal(dept_id) is None)]


# ---------------------------------------------------------------------------------------------
# Writes


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid(gettext("部门名称不能为空"), field="name")
    if len(name) > (limit := limit_of(Dept.name)):
        raise Invalid(gettext("部门名称不能超过 %(max)d 个字符", max=limit), field="name")

    return name


def _lock(*dept_ids: int) -> int:
    """Row-lock live departments (in id order, so two requests never wait on each other in a circle) with
    a no-op UPDATE; returns how many were live. A delete and a child's create, or two mutual moves, then
    run one after the other on both databases instead of interleaving their checks."""
    ids = sorted({i for i in dept_ids if i})
    locked = 0
    for dept_id in ids:
        locked += db.session.execute(update(Dept).where(Dept.id == dept_id, Dept.deleted_at.is_(None))
                                     .values(sequence=Dept.sequence)).rowcount or 0
    return locked


def _clean_parent(parent_id: int | None, dept_id: int | None = None) -> int:
    """The parent exists and stays so until we commit (locked: a concurrent delete waits or wins cleanly), and
    the department (with the levels below it, when moved) stays within tree.MAX_DEPTH levels."""
    if not parent_id:
        return 0
    if not _lock(parent_id):
        raise Invalid(gettext("上级部门不存在"), field="parentId")
    parent_depth = db.session.execute(select(func.count()).select_from(ancestor_ids_select(parent_id)
                                                                        .subquery())).scalar_one()
    below = 0
    if dept_id:  # a move: the levels below the department move with it
        below = db.session.execute(select(func.max(DeptClosure.depth)).where(
            DeptClosure.ancestor_id == dept_id)).scalar() or 0
    tree.require_depth(parent_depth + 1 + below, gettext("部门"))
    return parent_id


def _clean_manager(manager_id: int | None) -> int | None:
    """A live user the principal's data scope reaches (one beyond it is as absent as on the user page), shared
    until the commit: the user's delete, which takes them off the departments they manage, waits for this."""
    if not manager_id:
        return None
    write_lock_first()
    manager = db.session.execute(select(User.id, User.dept_id).where(User.id == manager_id,
                                                                     User.deleted_at.is_(None))
                                 .with_for_update(read=True)).first()
    if manager is None or not datascope.current_scope().covers_user(manager.id, manager.dept_id):
        raise Invalid(gettext("负责人不存在"), field="managerId")
    return manager_id


def scope_refusal(dept_id: int | None) -> str | None:
    """Why the principal may not create under, change, move or delete this department (None: they may): a
    department's members are the data scope's unit, so it is for a principal whose scope reaches them; a root (0)
    only under the scope of all data. Otherwise a move would carry another department's users into reach. The tree
    page asks it of each row, to offer only what a click would be allowed."""
    scope = datascope.current_scope()
    if scope.all or (dept_id and scope.covers_dept(dept_id)):
        return None
    return gettext("部门超出您的数据权限范围")


def _require_within_scope(*dept_ids: int | None) -> None:
    """`scope_refusal` of every department named, as a 403."""
    for dept_id in dept_ids:
        if (refusal := scope_refusal(dept_id)) is not None:
            raise Forbidden(refusal)


def _check_unique_name(parent_id: int, name: str, exclude_id: int | None = None) -> None:
    stmt = select(Dept.id).where(Dept.parent_id == parent_id, Dept.name == name, Dept.deleted_at.is_(None))
    if exclude_id:
        stmt = stmt.where(Dept.id != exclude_id)
    if db.session.execute(stmt.limit(1)).first() is not None:
        raise Conflict(gettext(DUPLICATE_NAME), errors={"name": [gettext(DUPLICATE_NAME)]})


def create_dept(data: dict[str, Any]) -> Dept:
    name = _clean_name(data.get("name"))
    _require_within_scope(data.get("parent_id"))
    parent_id = _clean_parent(data.get("parent_id"))
    manager_id = _clean_manager(data.get("manager_id"))
    _check_unique_name(parent_id, name)
    dept = Dept(parent_id=parent_id, name=name, manager_id=manager_id,
                established_time=data.get("established_time"), sequence=data.get("sequence") or 0)
    with taken_meanwhile(lambda: _check_unique_name(parent_id, name)):
        db.session.add(dept)
        db.session.commit()
    return dept


def modify_dept(data: dict[str, Any]) -> Dept:
    dept = get_dept(data["id"])
    _require_within_scope(dept.id)
    parent_id = dept.parent_id
    if data.get("parent_id") is not None and data["parent_id"] != dept.parent_id:
        parent_id = data["parent_id"]
        _require_within_scope(parent_id)
        _lock(dept.id, parent_id)  # then the closure read below is the committed one
        if parent_id and is_within(parent_id, dept.id):
            raise Invalid(gettext("不能把部门移动到它自己或它的下级部门之下"), field="parentId")
        # everything below moves with it: a department beyond the scope would be carried, its users into reach
        if (beyond := datascope.current_scope().first_beyond_below(dept.id)) is not None:
            raise Forbidden(gettext(
                "不能移动部门「%(name)s」：它的下级部门「%(below)s」超出您的数据权限范围，会随之移动",
                name=dept.name, below=beyond))
        parent_id = _clean_parent(parent_id, dept.id)
    name = _clean_name(data["name"]) if data.get("name") is not None else dept.name
    if parent_id != dept.parent_id or name != dept.name:
        _check_unique_name(parent_id, name, exclude_id=dept.id)
    dept_id = dept.id
    manager_id = _clean_manager(data["manager_id"]) if "manager_id" in data else dept.manager_id
    with taken_meanwhile(lambda: _check_unique_name(parent_id, name, exclude_id=dept_id)):
        dept.parent_id, dept.name, dept.manager_id = parent_id, name, manager_id
        if "established_time" in data:
            dept.established_time = data["established_time"]
        if data.get("sequence") is not None:
            dept.sequence = data["sequence"]
        db.session.commit()
    return dept


def delete_dept(dept_id: int) -> Dept:
    dept = get_dept(dept_id)
    _require_within_scope(dept.id)
    if not _lock(dept.id):
        raise NotFound(gettext("部门不存在"))
    refusal = delete_refusal(dept.name, child_counts([dept.id]).get(dept.id, 0),
                             member_counts([dept.id]).get(dept.id, 0))
    if refusal:
        raise Conflict(refusal)
    # a role's custom data scope naming it would be left naming nothing (a review: that role's form then
    # refused every save, 自定义数据范围须至少选择一个部门)
    scoped = list(db.session.execute(
        select(Role.name).join(role_dept, role_dept.c.role_id == Role.id)
        .where(role_dept.c.dept_id == dept.id, Role.deleted_at.is_(None), Role.data_scope == datascope.CUSTOM)
        .order_by(Role.id).limit(5)).scalars())
    if scoped:
        raise Conflict(gettext("不能删除部门「%(name)s」：它在角色「%(roles)s」的自定义数据范围中。"
                               "请先在这些角色的数据范围里去掉它。", name=dept.name, roles=gettext("、").join(scoped)))
    dept.soft_delete()
    db.session.commit()
    return dept


def local_midnight_utc(day: Any) -> datetime | None:
    """A calendar date picked on a page, as the naive UTC instant of its local midnight."""
    from pcloud.core.timefmt import parse_to_utc

    if day is None:
        return None
    return parse_to_utc(datetime(day.year, day.month, day.day))
