"""角色管理 rules: built-in roles, role CRUD, grants, and what a principal may see (adminInfo, sidebar)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext
from sqlalchemy import delete, exists, false, func, insert, not_, select

from pcloud.access import permissions
from pcloud.access import service as access_service
from pcloud.access.models import PermissionVersion
from pcloud.core import search
from pcloud.core.database import live_row, taken_meanwhile, write_lock_first
from pcloud.core.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from pcloud.core.i18n import shown_containing, translated
from pcloud.core.messages import N_
from pcloud.core.paging import Page, paginate
from pcloud.core.routing import MAX_ID
from pcloud.core.schemas import limit_of
from pcloud.core.security import SUPER_ADMIN, Principal, current_principal, current_principal_id_name
from pcloud.core.sorting import ordered
from pcloud.core.timefmt import utcnow
from pcloud.core.tree import walk
from pcloud.datascope import service as datascope
from pcloud.depts.models import Dept
from pcloud.extensions import db
from pcloud.jobs.models import Executor, role_job_group
from pcloud.menus import service as menu_service
from pcloud.openplatform.models import OpenAccount, open_account_role
from pcloud.resources import service as resource_service
from pcloud.roles.models import Role, role_dept
from pcloud.users.models import User, UserTally, user_role

ADMIN = "ROLE_ADMIN"
# Named in the deployment's language when setup creates them (docs/API.md, Languages); an administrator may rename.
BUILT_IN_ROLES = ((SUPER_ADMIN, N_("超级管理员")), (ADMIN, N_("管理员")))
ROLE_CODE = re.compile(r"^ROLE_[A-Z0-9_]{1,59}$")
ROLE_CODE_HINT = N_("角色编码须以 ROLE_ 开头，后跟 1 到 59 位大写字母、数字或下划线")


def ensure_builtin_roles() -> list[str]:
    """Create the built-in roles and the version row if missing; returns what was created."""
    created = []
    if db.session.get(PermissionVersion, 1) is None:
        db.session.add(PermissionVersion(id=1, version=1))
    for code, name in BUILT_IN_ROLES:
        exists = db.session.execute(Role.live().where(Role.role_code == code)).scalar_one_or_none()
        if exists is None:
            db.session.add(Role(role_code=code, name=gettext(name), built_in=True))
            created.append(code)
    if created:
        permissions.bump_version()
    db.session.commit()
    return created


def role_by_code(code: str) -> Role | None:
    return db.session.execute(Role.live().where(Role.role_code == code)).scalar_one_or_none()


# ---------------------------------------------------------------------------------------------
# Reads


def get_role(role_id: int, *, for_update: bool = False) -> Role:
    """`for_update`: a change of the role takes its row first, before the permission version, in every
    write (modify, grant, delete, assign), so two of them queue instead of deadlocking; a user being given
    it meanwhile waits (see users' `_live_roles`) and is counted, or finds it gone."""
    if not 0 < role_id <= MAX_ID:
        raise NotFound(gettext("角色不存在"))
    role = live_row(Role, role_id, for_update=for_update)
    if role is None:
        raise NotFound(gettext("角色不存在"))
    return role


ROLE_SORTS = {"name": Role.name, "gmtCreatedDate": Role.gmt_created_date}


def page_roles(filters: dict[str, Any], page: int = 1, page_size: int = 10, *, as_shown: bool = False) -> Page:
    """`as_shown` (the page): the name filter also finds a built-in role by the name the page shows for it
    (`Role.shown`), in any case; the API's filter is the stored name's."""
    stmt = Role.live()
    if (filters.get("name") or "").strip():
        found = Role.name.contains(filters["name"].strip(), autoescape=True)
        if as_shown and (shown := _built_in_names_showing(filters["name"].strip())):
            found = found | (Role.built_in.is_(True) & Role.name.in_(shown))
        stmt = stmt.where(found)
    if (filters.get("role_code") or "").strip():
        stmt = stmt.where(Role.role_code == filters["role_code"].strip())
    return paginate(ordered(stmt, ROLE_SORTS, filters, Role.id), page, page_size)


def _built_in_names_showing(text: str) -> list[str]:
    """The stored names of the live built-in roles whose shown name contains `text`, in any case."""
    return shown_containing(db.session.execute(select(Role.name).where(
        Role.deleted_at.is_(None), Role.built_in.is_(True))).scalars(), text)


def role_choices() -> list[tuple[int, str]]:
    """(id, shown name) of every live role: a page's role picker."""
    return [(r.id, r.shown_name) for r in db.session.execute(Role.live().order_by(Role.id)).scalars()]


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


def scope_depts(role_ids: list[int]) -> dict[int, list[int]]:
    """The custom departments (data scope 2) of each role of a page, in one query: {role id: [dept ids]}."""
    if not role_ids:
        return {}
    found: dict[int, list[int]] = {}
    for role_id, dept_id in db.session.execute(
            select(role_dept.c.role_id, role_dept.c.dept_id).join(Dept, Dept.id == role_dept.c.dept_id)
            .where(role_dept.c.role_id.in_(role_ids), Dept.deleted_at.is_(None))
            .order_by(role_dept.c.role_id, role_dept.c.dept_id)):
        found.setdefault(role_id, []).append(dept_id)
    return found


def to_items(roles: list[Role]) -> list[dict[str, Any]]:
    ids = [r.id for r in roles]
    counts, depts, executors = holder_counts(ids), scope_depts(ids), job_group_ids_of(ids)
    return [{**to_item(r, counts.get(r.id, 0), depts.get(r.id, []), with_job_groups=False),
             "job_group_ids": executors.get(r.id, [])} for r in roles]


def list_rows(roles: list[Role]) -> list[dict[str, Any]]:
    """The roles page's rows: the API's items plus why 删除 would be refused (`refusal`, or None)."""
    ids = [r.id for r in roles]
    accounts = account_holder_counts(ids)
    rows = to_items(roles)
    for row in rows:
        row["refusal"] = delete_refusal(Role.shown(row["name"], row["built_in"]), row["built_in"], row["user_count"],
                                        accounts.get(row["id"], 0))
    return rows


def job_group_ids_of(role_ids: list[int]) -> dict[int, list[int]]:
    """The executors each role lists (`jobGroupIds`, issue 23): {role id: [ids]}, roles listing none left out."""
    found: dict[int, list[int]] = {}
    if role_ids:
        for role_id, group_id in db.session.execute(
                select(role_job_group.c.role_id, role_job_group.c.job_group_id)
                .where(role_job_group.c.role_id.in_(role_ids)).order_by(role_job_group.c.job_group_id)):
            found.setdefault(role_id, []).append(group_id)
    return found


def executor_choices(role_id: int | None = None) -> list[tuple[int, str]]:
    """The role form's executor list as (id, "title（appname）"): the live executors the principal reaches (all
    of them for one reaching every executor), and those the role lists already (keeping them is allowed)."""
    stmt = select(Executor).where(Executor.deleted_at.is_(None)).order_by(Executor.appname, Executor.id)
    principal = current_principal()
    reached = None if principal is None else permissions.executor_ids_of(principal)
    if reached is not None:
        held = job_group_ids_of([role_id]).get(role_id, []) if role_id else []
        stmt = stmt.where(Executor.id.in_(sorted(set(reached) | set(held))))
    # the default executor's stored title in the reader's language, as the jobs' pages show it
    return [(e.id, gettext("%(title)s（%(appname)s）", title=translated(e.title), appname=e.appname))
            for e in db.session.execute(stmt).scalars()]


def _clean_job_group_ids(ids: Any) -> list[int] | None:
    """None: the list is not being changed. Unknown or deleted executors: 422."""
    if ids is None:
        return None
    ids = sorted(set(ids))
    live = set(db.session.execute(select(Executor.id).where(Executor.id.in_(ids), Executor.deleted_at.is_(None)))
               .scalars()) if ids else set()
    missing = [i for i in ids if i not in live]
    if missing:
        raise Invalid(gettext("执行器不存在：%(ids)s", ids=", ".join(map(str, missing[:20]))), field="jobGroupIds")
    return ids


def _set_job_group_ids(role: Role, ids: list[int] | None) -> None:
    """Replace the role's executors (the principal checked them and commits; the version bump reloads caches)."""
    if ids is None:
        return
    permissions.require_job_group_reach(role.id, job_group_ids=ids, editing=True)
    db.session.execute(delete(role_job_group).where(role_job_group.c.role_id == role.id))
    if ids:
        db.session.execute(insert(role_job_group), [{"role_id": role.id, "job_group_id": i} for i in ids])


def to_item(role: Role, user_count: int | None = None, dept_ids: list[int] | None = None, *,
            with_job_groups: bool = True) -> dict[str, Any]:
    if user_count is None:
        user_count = holder_counts([role.id]).get(role.id, 0)
    if dept_ids is None:
        dept_ids = scope_depts([role.id]).get(role.id, [])
    return {"id": role.id, "name": role.name, "role_code": role.role_code, "user_count": user_count,
            "built_in": role.built_in, "data_scope": role.data_scope, "dept_ids": dept_ids,
            "job_group_ids": job_group_ids_of([role.id]).get(role.id, []) if with_job_groups else [],
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


def grant_page_trees(view: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The grant page's (menus, resources) from a grant view: buttons beside their pages (issue 24 item 8)."""
    return access_service.grant_page_trees(view["routers"], view["resources"],
                                           held=(view["has_routers"], view["has_resources"]))


def locked_count(menus: list[dict[str, Any]], resources: list[dict[str, Any]]) -> int:
    """How many entries of the grant page's trees (buttons included) the caller may not tick."""
    nodes = [n for tree in (menus, resources) for _d, n in walk(tree)]
    return sum(n.get("locked", False) + sum(b.get("locked", False) for b in n.get("buttons", ())) for n in nodes)


# ---------------------------------------------------------------------------------------------
# Writes


def _clean_code(code: str | None) -> str:
    code = (code or "").strip()
    if not code:
        raise Invalid(gettext("角色编码不能为空"), field="roleCode")
    if not ROLE_CODE.match(code):
        raise Invalid(gettext(ROLE_CODE_HINT), field="roleCode")
    return code


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid(gettext("角色名称不能为空"), field="name")
    if len(name) > (limit := limit_of(Role.name)):
        raise Invalid(gettext("角色名称长度不能超过 %(n)s", n=limit), field="name")
    return name


def _clean_scope(data: dict[str, Any], role: Role | None = None) -> tuple[int, list[int]] | None:
    """(data scope, custom departments) as sent, checked; None when the request leaves the scope as it is.
    2 needs departments that exist (422); a scope wider than the principal's own is 403 (the reach rule)."""
    kind = data.get("data_scope")
    dept_ids = sorted(set(data.get("dept_ids") or []))
    if kind is None and data.get("dept_ids") is None:
        return None
    if kind is None:
        kind = role.data_scope if role is not None else datascope.ALL
    if kind not in datascope.SCOPE_NAMES:
        raise Invalid(gettext("数据范围须为 1 到 5"), field="dataScope")
    if kind != datascope.CUSTOM:
        dept_ids = []
    elif not dept_ids:
        raise Invalid(gettext("自定义数据范围须至少选择一个部门"), field="deptIds")
    else:
        # shared until the commit: a delete of one of them waits and then finds this role naming it (409), or went
        # first (422 here); unlocked, a review's delete and role create at once both passed, 20 times of 25
        write_lock_first()
        live = set(db.session.execute(select(Dept.id).where(Dept.id.in_(sorted(set(dept_ids))),
                                                            Dept.deleted_at.is_(None))
                                      .order_by(Dept.id).with_for_update(read=True)).scalars())
        if missing := [d for d in dept_ids if d not in live]:
            raise Invalid(gettext("部门不存在：%(ids)s", ids=", ".join(map(str, missing[:20]))), field="deptIds")
    unchanged = role is not None and role.data_scope == kind and \
        set(scope_depts([role.id]).get(role.id, [])) >= set(dept_ids)
    if not unchanged:
        refusal = datascope.scope_refusal(kind, dept_ids)
        if refusal:
            raise Forbidden(refusal)
    return kind, dept_ids


def _save_scope(role: Role, scope: tuple[int, list[int]] | None) -> None:
    if scope is None:
        return
    role.data_scope, dept_ids = scope
    db.session.flush()  # a new role's id
    db.session.execute(delete(role_dept).where(role_dept.c.role_id == role.id))
    if dept_ids:
        db.session.execute(insert(role_dept), [{"role_id": role.id, "dept_id": d} for d in dept_ids])


def _code_taken(code: str, exclude_id: int | None = None) -> bool:
    stmt = Role.live().where(Role.role_code == code)
    if exclude_id:
        stmt = stmt.where(Role.id != exclude_id)
    return db.session.execute(stmt.limit(1)).first() is not None


def _duplicate(code: str) -> Conflict:
    msg = _duplicate_message(code)
    return Conflict(msg, errors={"roleCode": [msg]})


def _duplicate_message(code: str) -> str:
    return gettext("角色编码 %(code)s 已存在", code=code)


def form_problems(role_id: int | None, code: str | None) -> dict[str, list[str]]:
    """What a save of the role `role_id` (None: a new role) would say of its code that the page form's own
    validators do not: its format, another role holding it; by the API's field names, for a form refused on other
    fields, so that it says every wrong field at once. An empty code is the form's own error. Reads only."""
    errors = FieldErrors()
    if (code or "").strip() and (clean := errors.run(_clean_code, code)) is not None:
        errors.check(not _code_taken(clean, role_id), "roleCode", _duplicate_message(clean))
    return errors.errors


def _require_code_free(code: str, exclude_id: int | None = None) -> None:
    if _code_taken(code, exclude_id):
        raise _duplicate(code)


def create_role(data: dict[str, Any]) -> Role:
    name = _clean_name(data.get("name"))
    code = _clean_code(data.get("role_code"))
    _require_code_free(code)
    scope = _clean_scope(data) or _clean_scope({"data_scope": datascope.ALL})
    job_group_ids = _clean_job_group_ids(data.get("job_group_ids"))
    role = Role(name=name, role_code=code, built_in=False)
    # a concurrent create of the code trips the unique index at the flush for the id
    with taken_meanwhile(lambda: _require_code_free(code)):
        db.session.add(role)
        db.session.flush()
        _save_scope(role, scope)
        _set_job_group_ids(role, job_group_ids)
        permissions.bump_version()
        db.session.commit()
    return role


def beyond_reach(role: Role) -> str | None:
    """Why the signed-in principal may not change, strip or delete this role (None: they may). Such a change
    changes what its holders may do, so only someone who could hand the role out (its grants, executors and
    data scope within their own) makes it, as for users whose roles reach further."""
    if permissions.reach_refusal(roles=[role]):  # its grants, executors and data scope
        return gettext("角色「%(name)s」超出了您的权限范围，不能修改或删除", name=role.name)
    if held_beyond_scope([role.id]):
        # its grants are also theirs: a change would hand holders beyond the scope what the principal holds
        return gettext("角色「%(name)s」有您数据权限范围之外的用户，不能修改或删除", name=role.name)
    return None


def held_beyond_scope(role_ids: Iterable[int]) -> set[int]:
    """The roles among `role_ids` that a live user outside the signed-in principal's data scope holds (none for a
    scope of all data): the holder rule. Whoever changes such a role (`beyond_reach`) or addresses its holders
    (a notice's audience, notices.service) would reach those users. A user without a department is outside every
    scope but all data (`DataScope.covers_dept`): the scope's condition is NULL for them, counted as not reached.
    One EXISTS per role, each stopping at its first such holder."""
    ids = sorted(set(role_ids))
    scope = datascope.current_scope()
    if scope.all or not ids:
        return set()
    reached = func.coalesce(scope.user_clause(User), false())
    outside = select(user_role.c.user_id).join(User, User.id == user_role.c.user_id).where(
        user_role.c.role_id == Role.id, User.deleted_at.is_(None), not_(reached))
    return set(db.session.execute(select(Role.id).where(Role.id.in_(ids), exists(outside))).scalars())


def _require_role_within_reach(role: Role) -> None:
    refusal = beyond_reach(role)
    if refusal:
        raise Forbidden(refusal)


def modify_role(data: dict[str, Any]) -> Role:
    role = get_role(data["id"], for_update=True)
    if is_super_admin_role(role):
        raise Conflict(gettext("超级管理员角色不能修改"))
    _require_role_within_reach(role)
    name = _clean_name(data["name"]) if data.get("name") is not None else role.name
    code = _clean_code(data["role_code"]) if data.get("role_code") is not None else role.role_code
    if code != role.role_code:
        if role.built_in:
            raise Conflict(gettext("内置角色的编码不能修改"), errors={"roleCode": [gettext("内置角色的编码不能修改")]})
        _require_code_free(code, role.id)
    scope = _clean_scope(data, role)
    job_group_ids = _clean_job_group_ids(data.get("job_group_ids"))
    role_id = role.id
    # the new code is written by the first autoflush (the scope's statements), not only by the commit
    with taken_meanwhile(lambda: _require_code_free(code, role_id)):
        role.name, role.role_code = name, code
        _save_scope(role, scope)
        _set_job_group_ids(role, job_group_ids)
        permissions.bump_version()
        db.session.commit()
    return role


def holders(role_id: int) -> tuple[int, int]:
    """(live users, live open-platform accounts) holding the role."""
    return holder_counts([role_id]).get(role_id, 0), account_holder_counts([role_id]).get(role_id, 0)


def delete_refusal(name: str, built_in: bool, users: int, accounts: int) -> str | None:
    """Why a role cannot be deleted (None when it can): the delete's refusal, and the list's 删除 says it
    before anyone clicks (issue 24.3)."""
    if built_in:
        return gettext("内置角色「%(name)s」不能删除", name=name)
    if users:
        return gettext("角色「%(name)s」仍有 %(n)s 个用户在使用，请先为这些用户移除该角色", name=name, n=users)
    if accounts:
        return gettext("角色「%(name)s」仍有 %(n)s 个开放平台账号在使用，请先移除", name=name, n=accounts)
    return None


def delete_role(role_id: int) -> Role:
    role = get_role(role_id, for_update=True)
    refusal = delete_refusal(role.shown_name, role.built_in, *holders(role.id))
    if refusal:
        raise Conflict(refusal)
    _require_role_within_reach(role)
    role.soft_delete()
    access_service.forget_role(role.id)
    db.session.execute(delete(role_job_group).where(role_job_group.c.role_id == role.id))
    permissions.bump_version()
    db.session.commit()
    return role


def grant(role_id: int, menu_ids: list[int], resource_ids: list[int]) -> Role:
    """Replace the role's grants (the rules are access's: `access.service.replace_grants`)."""
    role = get_role(role_id, for_update=True)
    if is_super_admin_role(role):
        raise Conflict(gettext("超级管理员拥有全部权限，不能修改其授权"))
    _require_role_within_reach(role)
    access_service.replace_grants(role, menu_ids, resource_ids)
    _touch(role)  # grants are not columns of the role: record who changed them
    db.session.commit()
    return role


def _touch(role: Role) -> None:
    role.gmt_modified_date = utcnow()
    role.gmt_modified_name = current_principal_id_name()[1]


def refresh() -> int:
    """Make every process reload its permission cache on its next request; returns the new version."""
    permissions.bump_version()
    db.session.commit()
    permissions.invalidate()
    return permissions.current_version()


# ---------------------------------------------------------------------------------------------
# The users of a role (分配用户): who holds it, within the principal's data scope; add or remove it for
# chosen users. Roles sit below users in the package order, so this reads and writes the users' tables
# through their models; the kept counts (users.tally) follow sys_user_role by their triggers.


def role_users(role_id: int, filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    """Live users that hold (`assigned`, the default) or do not hold the role, reached by the principal's data
    scope, newest first; `keyword`: name or phone contains (core.search.contains_any: read newest first when the
    matches are plainly many, else from the trigram index's matches). Items: id, name, phone, state, dept_name."""
    role = get_role(role_id)
    holds = exists().where(user_role.c.user_id == User.id, user_role.c.role_id == role.id)
    stmt = (select(User.id, User.name, User.phone, User.state, Dept.name.label("dept_name"))
            .outerjoin(Dept, Dept.id == User.dept_id)
            .where(User.deleted_at.is_(None), holds if filters.get("assigned", True) else ~holds,
                   datascope.current_scope().user_clause(User)))
    newest_first = (User.gmt_created_date.desc(), User.id.desc())
    if (keyword := (filters.get("keyword") or "").strip()):
        # the sample is of all live users, not the role's: reading the first holders of a rare role could read them all
        columns = (User.name, User.phone)
        stmt = stmt.where(search.contains_any(columns, keyword, db.engine.dialect.name,
                                              select(*columns).where(User.deleted_at.is_(None)).order_by(*newest_first)))
    result = paginate(stmt.order_by(*newest_first), page, page_size, scalars=False)
    result.items = [dict(row._mapping) for row in result.items]
    return result


def assign_users(role_id: int, user_ids: list[int], assigned: bool, principal: Principal | None) -> tuple[Role, int]:
    """Give the role to (or take it from) these users; returns (role, how many changed). The reach rule: the
    role must lie within the principal's grants and data scope, every user within the principal's data scope (else
    404, as if absent) and none reaching further than the principal (403). The super administrator role is
    managed on the user page, where the last holder is kept."""
    role = get_role(role_id)
    if is_super_admin_role(role):
        raise Conflict(gettext("超级管理员角色的用户请在用户管理中调整"))
    ids = sorted(set(user_ids or []))
    if not ids:
        raise Invalid(gettext("请选择用户"), field="userIds")
    # The role shared (a delete waits, or has happened: 404), then the users locked in id order, as a user's
    # own modify locks its row before its roles: two changes of one user's roles queue, never deadlock.
    write_lock_first()
    if db.session.execute(select(Role.id).where(Role.id == role.id, Role.deleted_at.is_(None))
                          .with_for_update(read=True)).first() is None:
        raise NotFound(gettext("角色不存在"))
    scope = datascope.scope_of(principal) if principal is not None else datascope.current_scope()
    found = dict(db.session.execute(select(User.id, User.name).where(
        User.id.in_(ids), User.deleted_at.is_(None), scope.user_clause(User))
        .order_by(User.id).with_for_update(of=User)).tuples().all())
    if missing := [i for i in ids if i not in found]:
        raise NotFound(gettext("用户不存在：%(ids)s", ids=", ".join(map(str, missing[:20]))))
    if principal is not None and not principal.is_super_admin:
        permissions.require_within_reach(principal, roles=[role])
        held: dict[int, list[Role]] = {}
        for user_id, held_role in db.session.execute(
                select(user_role.c.user_id, Role).join(Role, Role.id == user_role.c.role_id)
                .where(user_role.c.user_id.in_(ids), Role.deleted_at.is_(None))).tuples():
            held.setdefault(user_id, []).append(held_role)
        for user_id, roles in held.items():
            if user_id == principal.user_id:
                continue
            if any(is_super_admin_role(r) for r in roles) or permissions.reach_refusal(principal, roles=roles):
                raise Forbidden(gettext("用户「%(name)s」的角色超出了您的权限范围，不能修改", name=found[user_id]))
    having = set(db.session.execute(select(user_role.c.user_id).where(
        user_role.c.role_id == role.id, user_role.c.user_id.in_(ids))).scalars())
    if assigned:
        todo = [i for i in ids if i not in having]
        if todo:
            # one multi-row statement (the kept counts' trigger runs once, not once per user)
            db.session.execute(insert(user_role).values([{"user_id": i, "role_id": role.id} for i in todo]))
    else:
        todo = [i for i in ids if i in having]
        if todo:
            db.session.execute(delete(user_role).where(user_role.c.role_id == role.id,
                                                       user_role.c.user_id.in_(todo)))
    db.session.commit()
    return role, len(todo)
