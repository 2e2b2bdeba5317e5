"""用户管理 rules, shared by the pages and the JSON API."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy import and_, asc, bindparam, desc, exists, func, or_, select, update

from pcloud.access import permissions
from pcloud.core import search
from pcloud.core.database import taken_meanwhile, write_lock_first
from pcloud.core.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from pcloud.core.i18n import translated
from pcloud.core.messages import N_
from pcloud.core.paging import (
    TOTAL_EXACT_LIMIT,
    Page,
    capped_count,
    count_total,
    sample_estimate,
    scan_is_cheaper,
    unindexed,
)
from pcloud.core.passwords import hash_password, verify_password
from pcloud.core.security import SUPER_ADMIN, Principal, current_principal
from pcloud.core.timefmt import display_local, utcnow
from pcloud.datascope import service as datascope
from pcloud.depts.models import Dept
from pcloud.depts.service import is_within, subtree_ids_select
from pcloud.dicts import service as dicts
from pcloud.extensions import db
from pcloud.grades.models import Grade
from pcloud.loginlog import service as login_log
from pcloud.params import service as params
from pcloud.posts.models import Post
from pcloud.roles.models import Role
from pcloud.sessions import service as sessions
from pcloud.uploads import service as uploads
from pcloud.users import tally
from pcloud.users.lookups import phone_is_valid
from pcloud.users.models import User, user_role

STATE_NAMES = {0: lazy_gettext("正常"), 1: lazy_gettext("禁用")}
EXPORT_HEADERS = [lazy_gettext("用户名"), lazy_gettext("手机号码"), lazy_gettext("角色"), lazy_gettext("部门"),
                  lazy_gettext("岗位"), lazy_gettext("职级"), lazy_gettext("状态"), lazy_gettext("创建时间")]


def export_headers() -> list[str]:
    """The export's header row in the request's language."""
    return [str(header) for header in EXPORT_HEADERS]


# The list reads its ids with Core columns of the tables: no ORM execution step for a list of ids (issue 20).
_users, _roles = User.__table__, Role.__table__
_SORT_COLUMNS = {"id": _users.c.id, "name": _users.c.name, "phone": _users.c.phone, "state": _users.c.state,
                 "gmtCreatedDate": _users.c.gmt_created_date}


# ---------------------------------------------------------------------------------------------
# Validation


def password_problem(password: str) -> str | None:
    """The password policy of 参数设置 (minimum length, classes required)."""
    return params.password_problem(password)


def password_hint() -> str:
    """The password policy of 参数设置, as the hint under a new password field says it."""
    return params.password_hint()


def phone_problem(phone: str) -> str | None:
    """What is wrong with a phone number (None: nothing); the API's and the page form's one message."""
    return None if phone_is_valid(phone.strip()) else gettext("手机号格式不正确")


PHONE_TAKEN = N_("手机号已被其他用户使用")  # said with gettext() where it is raised
OLD_PASSWORD_WRONG = N_("原密码不正确")  # said with gettext() where it is raised; auth's lock warning extends it


def phone_taken(phone: str, exclude_id: int | None = None) -> bool:
    stmt = User.live().where(User.phone == phone.strip())
    if exclude_id:
        stmt = stmt.where(User.id != exclude_id)
    return db.session.execute(stmt.limit(1)).first() is not None


def _clean_phone(phone: str, exclude_id: int | None = None) -> str:
    phone = phone.strip()
    problem = phone_problem(phone)
    if problem:
        raise Invalid(problem, field="phone")
    if phone_taken(phone, exclude_id):
        raise Conflict(gettext(PHONE_TAKEN), errors={"phone": [gettext(PHONE_TAKEN)]})
    return phone


def _check_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise Invalid(problem, field="password")


def _live_roles(role_ids: list[int]) -> list[Role]:
    ids = sorted(set(role_ids or []))
    if not ids:
        return []
    # shared until the commit: a delete of one of them waits, and then counts this user (or ran first: 422)
    write_lock_first()
    roles = list(db.session.execute(Role.live().where(Role.id.in_(ids)).with_for_update(read=True)).scalars())
    missing = sorted(set(ids) - {r.id for r in roles})
    if missing:
        raise Invalid(gettext("角色不存在：%(ids)s", ids=", ".join(map(str, missing))), field="roleIds")
    return roles


def _clean_ref(model: Any, ref_id: int | None, field: str, missing: str) -> int | None:
    """`missing`: the refusal's source string (N_), said here in the request's language."""
    if ref_id in (None, 0):
        return None
    # shared until the commit: a delete of the department, post or grade waits, and then counts this user (or
    # ran first: 422), so no user is left in a deleted one
    write_lock_first()
    if db.session.execute(model.live().where(model.id == ref_id).with_for_update(read=True)).first() is None:
        raise Invalid(gettext(missing), field=field)
    return ref_id


def _super_admin_holders() -> int:
    return db.session.execute(
        select(func.count(func.distinct(User.id))).join(user_role, user_role.c.user_id == User.id)
        .join(Role, Role.id == user_role.c.role_id)
        .where(Role.role_code == SUPER_ADMIN, Role.deleted_at.is_(None), User.deleted_at.is_(None),
               User.state == 0)).scalar_one()


def _lock_super_admin_rule() -> None:
    """Serialise every change that could leave no super administrator: a no-op UPDATE of the role row
    takes its row lock (PostgreSQL) or the write lock (SQLite) before the holders are counted, so two
    super administrators disabling each other at once cannot both pass the count."""
    db.session.execute(update(Role).where(Role.role_code == SUPER_ADMIN, Role.deleted_at.is_(None))
                       .values(role_code=Role.role_code))


def _is_super_admin(user: User) -> bool:
    return any(r.role_code == SUPER_ADMIN and r.deleted_at is None for r in user.roles)


def outreaches(principal: Principal | None, user: User) -> bool:
    """Whether `user`'s live roles reach further than `principal`'s own (access.permissions.reach_refusal): then
    the principal may not change, delete, sign out (`_guard_super_admin`) or unlock (auth.service) the user, who
    could be taken over by them. Never oneself; never for a super administrator or the command line (None)."""
    if principal is None or principal.is_super_admin or principal.user_id == user.id:
        return False
    return bool(permissions.roles_beyond_reach([r for r in user.roles if r.deleted_at is None], principal))


def target_refusals(principal: Principal | None, users: Iterable[User]) -> dict[int, str]:
    """Why the principal may not change, delete, sign out or unlock each of these users (absent: they may), the
    rule of `_guard_super_admin`'s target: only a super administrator touches a super administrator, nobody a user
    whose roles reach further than their own (`outreaches`). For a page of users at once: their roles loaded with
    them, the reach asked once for all the roles (permissions.roles_beyond_reach)."""
    if principal is None or principal.is_super_admin:
        return {}
    users = list(users)
    live = {user.id: [r for r in user.roles if r.deleted_at is None] for user in users}
    beyond = permissions.roles_beyond_reach(
        {r.id: r for user in users if user.id != principal.user_id for r in live[user.id]}.values(), principal)
    out: dict[int, str] = {}
    for user in users:
        if _is_super_admin(user):
            out[user.id] = gettext("只有超级管理员可以修改超级管理员账号")
        elif user.id != principal.user_id and any(r.id in beyond for r in live[user.id]):
            out[user.id] = gettext("该用户的角色超出了您的权限范围，不能修改、删除或强制下线")
    return out


def _guard_super_admin(principal: Principal | None, target: User | None = None, roles: list[Role] | None = None
                       ) -> None:
    """Nobody hands out, or takes over, more than they hold (issue 7, finding 3).

    `roles`: the roles being given; each must lie within the principal's own grants (the one rule in
    access.permissions.require_within_reach). `target`: a user whose roles reach further than the
    principal's may not be changed, deleted or signed out by them (else: reset its password, sign in as it).
    Only a super administrator touches a super administrator. `principal` None is the trusted command line.
    """
    if principal is None or principal.is_super_admin:
        return
    if target is not None and (refusal := target_refusals(principal, [target]).get(target.id)):
        raise Forbidden(refusal)
    if roles:
        permissions.require_within_reach(principal, roles=roles)  # grants, executors and data scope


# ---------------------------------------------------------------------------------------------
# Reads


def get_user(user_id: int, *, for_update: bool = False) -> User:
    """A live user within the principal's data scope (one's own account always): outside it, 404 exactly as
    if absent (datascope). `for_update`: locked until the commit, so two changes of one user queue."""
    stmt = User.live().where(User.id == user_id)
    if for_update:
        write_lock_first()
        stmt = stmt.with_for_update(of=User)
    user = db.session.execute(stmt).scalar_one_or_none()
    if user is None or not (datascope.current_scope().covers_user(user.id, user.dept_id) or _is_principal(user.id)):
        raise NotFound(gettext("用户不存在"))
    return user


def _is_principal(user_id: int) -> bool:
    principal = current_principal()
    return principal is not None and principal.user_id == user_id


def _require_placeable(dept_id: int | None, oneself: bool = False) -> None:
    """A write may not put a user where the principal's data scope does not reach (403). Oneself included: an
    "only self" role reaches oneself in any department, but moving oneself would carry an "own department
    (and below)" role along to the new department; so, holding one, one moves only where the scope reaches the
    whole subtree (a department listed alone in a custom scope does not bring what lies below it)."""
    scope = datascope.current_scope()
    if not scope.covers_dept(dept_id):
        raise Forbidden(gettext("不能把用户放到您的数据权限范围之外的部门"),
                        errors={"deptId": [gettext("超出您的数据权限范围")]})
    if oneself and dept_id and datascope.OWN_DEPT_AND_BELOW in scope.kinds \
            and (beyond := scope.first_beyond_below(dept_id)) is not None:
        msg = gettext("不能把自己移到该部门：您「本部门及以下」的数据权限会因此扩大到范围之外的「%(name)s」",
                      name=beyond)
        raise Forbidden(msg, errors={"deptId": [msg]})


def placeable_dept_choices(choices: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The department picker's options a principal may put a user in (their data scope); every one under "all"."""
    scope = datascope.current_scope()
    # (0, "（无）"), no department, is reached only under "all": covers_dept(0) is False
    return choices if scope.all else [(dept_id, label) for dept_id, label in choices if scope.covers_dept(dept_id)]


def scoped_filters(filters: dict[str, Any]) -> dict[str, Any] | None:
    """The list's filters with the principal's data scope in them; None when nobody can match. A lone "own
    department and below" is the department filter itself (its kept count and plans, issue 21), else the
    scope rides along as a condition (`scope`)."""
    scope = datascope.current_scope()
    if scope.all:
        return filters
    if scope.is_empty:
        return None
    root = scope.single_subtree()
    if root is None:
        return {**filters, "scope": scope}
    wanted = filters.get("dept_id")
    if wanted and wanted != root and not is_within(wanted, root):
        if not is_within(root, wanted):
            return None
        wanted = root
    return {**filters, "dept_id": wanted or root}


def _keyword(filters: dict[str, Any], key: str) -> str:
    return (filters.get(key) or "").strip()


def _words(filters: dict[str, Any]) -> list[tuple[Any, str]]:
    """The keyword filters as (column, keyword): the phone fragment and the name fragment."""
    return [(column, kw) for key, column in (("phone", _users.c.phone), ("keyword", _users.c.name))
            if (kw := _keyword(filters, key))]


def filtered_select(filters: dict[str, Any], driving: bool = True, in_order: bool = False) -> Any:
    """SELECT id of the live users matching the filters (a Core statement of the table's columns).
    `driving`: the keyword and role conditions as a plan starts from them (their index's matches);
    otherwise as per-row checks for a scan in the order's index (many matches, so the first page is found
    after a few rows); `in_order`: conditions no index can answer, so that the scan is the only plan."""
    dialect = db.engine.dialect.name
    stmt = select(_users.c.id).where(_users.c.deleted_at.is_(None))
    words = _words(filters)
    if driving:
        stmt = search.join_matches(stmt, words, dialect)
    else:
        for column, kw in words:
            stmt = stmt.where(search.contains_per_row(column, kw) if in_order else column.contains(kw, autoescape=True))
    if filters.get("state") is not None:
        stmt = stmt.where(_users.c.state == filters["state"])
    if filters.get("role_ids"):
        roles = list(filters["role_ids"])
        if driving:  # a semi-join: a user holding several of the roles is listed once
            stmt = stmt.where(_users.c.id.in_(select(user_role.c.user_id).where(user_role.c.role_id.in_(roles))))
        else:
            stmt = stmt.where(exists().where(and_(user_role.c.user_id == _users.c.id, user_role.c.role_id.in_(roles))))
    if filters.get("dept_id"):
        dept = unindexed(_users.c.dept_id, dialect) if in_order else _users.c.dept_id
        stmt = stmt.where(dept.in_(subtree_ids_select(filters["dept_id"])))
    if filters.get("scope") is not None:  # the principal's data scope (scoped_filters)
        scope = filters["scope"]
        stmt = stmt.where(scope.user_clause(_users, dept_column=unindexed(_users.c.dept_id, dialect)
                                            if in_order else None))
    return stmt


def _keyword_only(filters: dict[str, Any]) -> bool:
    return bool(_words(filters)) and not (filters.get("role_ids") or filters.get("dept_id")
                                          or filters.get("state") is not None or filters.get("scope") is not None)


def _keyword_estimate(filters: dict[str, Any]) -> int | None:
    """A keyword-only search whose matches are plainly many: their estimate from a sample (core.paging)."""
    if not _keyword_only(filters):
        return None
    words = _words(filters)
    base = User.live().with_only_columns(User.name, User.phone).order_by(desc(User.gmt_created_date),
                                                                          desc(User.id))
    return sample_estimate(base, lambda sub: and_(*(sub.c[column.name].contains(kw, autoescape=True)
                                                   for column, kw in words)), "sys_user")


# Deleted users whose keyword match is looked up one by one when a keyword's total is counted; beyond this
# many, the matches are listed once instead.
DEAD_PROBE_LIMIT = 100


def _keyword_count(filters: dict[str, Any]) -> int | None:
    """A keyword-only search on SQLite counted from the trigram index alone: its matches, minus the deleted
    users among them (read from the index of deleted users), so no user row is visited (issue 12: the
    count read every matching row). Exact, as the index then agrees with LIKE (core.search.matching_rowids);
    None where it does not. More than TOTAL_EXACT_LIMIT live matches: TOTAL_EXACT_LIMIT + 1, so that they are
    not counted a second time (at a million users, counting a keyword's matches is most of the request)."""
    if not _keyword_only(filters):
        return None
    words = _words(filters)
    matched = search.matching_rowids(words, db.engine.dialect.name)
    if matched is None:
        return None
    every = capped_count(matched)
    dead = select(User.id).where(User.deleted_at.is_not(None))
    few = capped_count(dead, DEAD_PROBE_LIMIT) <= DEAD_PROBE_LIMIT
    if every > TOTAL_EXACT_LIMIT and not few:
        return None  # how many of the (capped) matches are deleted is not known cheaply: counted live instead
    # Few deleted users (the usual case): each is looked up in the index by rowid. Many: the matches are
    # listed once.
    among = search.row_matches(words, db.engine.dialect.name) if few else User.id.in_(matched)
    dead_matches = capped_count(dead.where(among), TOTAL_EXACT_LIMIT)
    if every > TOTAL_EXACT_LIMIT:
        return TOTAL_EXACT_LIMIT + 1 if dead_matches == 0 else None
    return every - dead_matches


def _selective(filters: dict[str, Any]) -> bool:
    """Whether a filter's own index gives the matches (a keyword through the trigram index or the name's grams,
    roles, a department subtree); otherwise (none, or the state) the page is read in order from the live users'
    indexes."""
    indexed = any(search.starts_from_an_index(column, kw) for column, kw in _words(filters))
    return bool(indexed or filters.get("role_ids") or filters.get("dept_id") or filters.get("scope") is not None)


def _total(filters: dict[str, Any]) -> tuple[int, bool]:
    """(total, exact): the count kept per filter (users.tally: no filter, one role, one state, one
    department subtree), else a keyword's count from the trigram index or its sampled estimate, else the
    capped count (core.paging)."""
    kept = tally.kept_count(filters)
    if kept is not None:
        return kept, True
    from_index = _keyword_count(filters)
    if from_index is not None and from_index <= TOTAL_EXACT_LIMIT:
        return from_index, True
    estimate = _keyword_estimate(filters)
    if estimate is not None:
        return estimate, False
    if from_index is not None:  # more than the limit, as capped_count below would find again
        return from_index, False
    selective = _selective(filters)
    counted = filtered_select(filters, driving=selective).with_only_columns(_users.c.id)
    if not selective:  # counted in page order, through the live users' index (a short keyword checked per row)
        counted = counted.order_by(desc(_users.c.gmt_created_date), desc(_users.c.id))
    unfiltered = None if selective or filters.get("state") is not None or filters.get("scope") is not None \
        else "sys_user"
    return count_total(counted, unfiltered_table=unfiltered, in_order=not selective)


def page_ids(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    """The page's ids within the principal's data scope (see `_page_ids`)."""
    scoped = scoped_filters(filters)
    if scoped is None:
        return Page([], 0, page, page_size, True)
    return _page_ids(scoped, page, page_size)


def _sort(filters: dict[str, Any]) -> tuple[str, Any]:
    """The list's order, which the export follows too: (key of _SORT_COLUMNS, asc or desc), newest first unless
    `order_by` names another column; the id, in the same direction, breaks ties."""
    order = filters.get("order_by") or "gmtCreatedDate"
    if order not in _SORT_COLUMNS:
        order = "gmtCreatedDate"
    return order, desc if filters.get("order_dir") != "asc" else asc


def _page_ids(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    """The ids of one page of live users matching `filters`, and its total.

    The plan does not depend on statistics (issue 12): the newest-first page either starts from the
    filter's matches and sorts them (at most TOTAL_EXACT_LIMIT of them) or, when more match, reads the
    live users in creation order and checks each until the page is full, whichever reads fewer rows
    (core.paging.scan_is_cheaper)."""
    order, direction = _sort(filters)
    total, exact = _total(filters)
    if order != "gmtCreatedDate":
        plan = "filtered"
    elif _selective(filters) and scan_is_cheaper(total, exact, page * page_size, "sys_user") \
            and not (exact and _words(filters) and db.engine.dialect.name == "postgresql"):
        # PostgreSQL cannot estimate the scan's per-row keyword check (search.contains_per_row hides it from the
        # statistics on purpose), so with few matches it takes the scan for one that finds almost nothing and
        # reads the whole table instead of walking the newest users (13 ms at 100,000 users, 1,111 matches).
        # Matches counted exactly are at most TOTAL_EXACT_LIMIT: sorting them from the trigram index is bounded.
        plan = "scan"
    else:
        plan = "counted"
    ids = _ids_select(filters, plan, order, direction).limit(page_size).offset((page - 1) * page_size)
    rows = list(db.session.execute(ids).scalars())
    result = Page(rows, total, page, page_size, exact)
    if not exact:
        result.total = max(total, (page - 1) * page_size + len(rows) + (1 if len(rows) == page_size else 0))
    return result


def _ids_select(filters: dict[str, Any], plan: str, order: str, direction: Any) -> Any:
    """The page's ids in order. `filtered`: another order than the default; `scan`: the live users newest
    first, each checked; `counted`: the filter's matches (through its index), sorted."""
    if plan == "filtered":
        ids = filtered_select(filters, driving=False).with_only_columns(_users.c.id)
        columns: tuple[Any, ...] = (_SORT_COLUMNS[order], _users.c.id)
    elif plan == "scan":
        ids = filtered_select(filters, driving=False, in_order=True).with_only_columns(_users.c.id)
        columns = (_users.c.gmt_created_date, _users.c.id)
    else:
        selective = _selective(filters)
        ids = filtered_select(filters, driving=selective).with_only_columns(_users.c.id)
        # a selective filter's matches, sorted: the order written so that no index in page order is read instead
        columns = tuple(unindexed(c, db.engine.dialect.name) if selective else c
                        for c in (_users.c.gmt_created_date, _users.c.id))
    return ids.order_by(*(direction(c) for c in columns))


# The columns of the list, labelled as users.schemas.UserOut's attributes (places by name: a place deleted
# since is still named), read with Core for the page's ids (bound as `ids`) at `now`: no user entity is
# loaded, so no ORM identity map or relationship loader runs for a list (the API's CPU, issue 20).
_PAGE_ROWS = (
    select(*(_users.c[name] for name in ("id", "phone", "name", "avatar", "state", "dept_id", "post_id", "grade_id",
                                         "gmt_created_date", "gmt_created_name", "gmt_modified_date",
                                         "gmt_modified_name")),
           Dept.__table__.c.name.label("dept_name"), Post.__table__.c.name.label("post_name"),
           Grade.__table__.c.name.label("grade_name"),
           sessions.has_live_session(_users.c.id, bindparam("now")).label("online"))
    .select_from(_users.outerjoin(Dept.__table__, Dept.__table__.c.id == _users.c.dept_id)
                 .outerjoin(Post.__table__, Post.__table__.c.id == _users.c.post_id)
                 .outerjoin(Grade.__table__, Grade.__table__.c.id == _users.c.grade_id))
    .where(_users.c.id.in_(bindparam("ids", expanding=True))))
# The live roles of the page's users, in one statement (what User.live_roles gives one user).
_PAGE_ROLES = (select(user_role.c.user_id, _roles.c.id, _roles.c.name, _roles.c.role_code, _roles.c.deleted_at,
                      _roles.c.built_in)
               .join(_roles, _roles.c.id == user_role.c.role_id)
               .where(user_role.c.user_id.in_(bindparam("ids", expanding=True)), _roles.c.deleted_at.is_(None))
               .order_by(user_role.c.user_id, _roles.c.id))


def page_users(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    """One page of users with their live roles, places and online flag: what the page and the API both show
    (the API as users.schemas.UserOut). Each item is a row of the list's columns with attribute access
    (`roles` and `live_roles`: the live roles, each with id, name, role_code), as service.refusals and
    templates/users/list.html read a User."""
    result = page_ids(filters, page, page_size)
    if result.items:
        ids = result.items
        roles: dict[int, list[SimpleNamespace]] = {i: [] for i in ids}
        for row in db.session.execute(_PAGE_ROLES, {"ids": ids}).mappings():
            roles[row["user_id"]].append(SimpleNamespace(**row, shown_name=Role.shown(row["name"], row["built_in"])))
        users = {}
        for row in db.session.execute(_PAGE_ROWS, {"ids": ids, "now": utcnow()}).mappings():
            user = SimpleNamespace(**row)
            user.online, user.roles = bool(user.online), roles[user.id]
            user.live_roles = user.roles
            users[user.id] = user
        result.items = [users[i] for i in ids if i in users]
    return result


# What nobody may do to their own account, whichever door asks; the list hides these actions on one's own row.
SELF_REFUSALS = {"delete": lazy_gettext("不能删除自己"), "offline": lazy_gettext("不能强制自己下线")}


def _is_self(principal: Principal | None, user: Any) -> bool:
    return principal is not None and principal.user_id == user.id


def _refuse_on_self(principal: Principal | None, user: User, action: str) -> None:
    if _is_self(principal, user):
        raise Conflict(str(SELF_REFUSALS[action]))


def import_refusal(principal: Principal | None, user: User, roles: list[Role] | None) -> str | None:
    """Why an import may not change this existing user (users.imports), else None: modify_user's rules (reach,
    oneself) plus what an import does not do, disable a super administrator or take that role away."""
    try:
        _guard_super_admin(principal, target=user)
    except Forbidden as exc:
        return exc.msg
    if _is_self(principal, user):
        return gettext("不能通过导入修改自己的账号")
    if _is_super_admin(user) and roles is not None and not any(r.role_code == SUPER_ADMIN for r in roles):
        return gettext("不能通过导入移除超级管理员角色")
    return None


def refusals(principal: Principal | None, users: list[Any]) -> dict[int, dict[str, str]]:
    """The row actions the service would always refuse this principal on each of these users (Users or items of
    page_users, with `online`), with the reason, by user id (the list hides them: no 删除 on yourself, no 强制下线
    for someone not online). The reach is asked once for the whole page (`target_refusals`)."""
    if principal is None:
        return {user.id: {} for user in users}
    beyond = target_refusals(principal, users)  # the same users are not theirs to unlock (auth._require_unlockable)
    out: dict[int, dict[str, str]] = {}
    for user in users:
        row: dict[str, str] = {}
        if (why := beyond.get(user.id)) is not None:
            row.update(edit=why, delete=why, offline=why, unlock=why)
        if _is_self(principal, user):
            row.update({action: str(refusal) for action, refusal in SELF_REFUSALS.items()})
        if not user.online:
            row.setdefault("offline", gettext("该用户当前不在线"))
        out[user.id] = row
    return out


# ---------------------------------------------------------------------------------------------
# Writes


def must_change_admin_set_password() -> bool:
    """Whether a password someone else set (an administrator's create, reset or import) must be changed by its
    user at the next sign-in: the parameter sys.password.changeAtFirstSignIn."""
    return bool(params.value("sys.password.changeAtFirstSignIn"))


def form_problems(user_id: int | None, phone: str | None, avatar: str | None) -> dict[str, list[str]]:
    """What a save of the user `user_id` (None: a new user) would say that a page form's own validators do not: a
    phone another user has, an avatar address refused; by the API's field names, for a form refused on other
    fields, so that it says every wrong field at once. Reads only."""
    errors = FieldErrors()
    errors.check(not (phone and phone_taken(phone, user_id)), "phone", gettext(PHONE_TAKEN))
    user = db.session.get(User, user_id) if user_id is not None else None
    old = user.avatar if user is not None else None
    errors.run(uploads.check_avatar, old, avatar or None, current_principal(), user_id)
    return errors.errors


def create_user(data: dict[str, Any], principal: Principal | None = None) -> User:
    errors = FieldErrors()  # every wrong field reported at once
    roles = errors.run(_live_roles, data.get("role_ids") or []) or []
    _guard_super_admin(principal, roles=roles)
    phone = errors.run(_clean_phone, data["phone"])
    name = data["name"].strip()
    errors.check(bool(name), "name", gettext("用户名不能为空"))
    if errors.check(bool(data["password"]), "password", gettext("请设置初始密码")):
        errors.run(_check_password, data["password"])
    dept_id = errors.run(_clean_ref, Dept, data.get("dept_id"), "deptId", N_("部门不存在"))
    post_id = errors.run(_clean_ref, Post, data.get("post_id"), "postId", N_("岗位不存在"))
    grade_id = errors.run(_clean_ref, Grade, data.get("grade_id"), "gradeId", N_("职级不存在"))
    avatar = data.get("avatar") or None
    errors.run(uploads.check_avatar, None, avatar, principal, None)
    errors.raise_if_any()
    _require_placeable(dept_id)
    password_hash = hash_password(data["password"])  # slow on purpose: before the write lock below
    # SQLite: the write lock before the insert, which its triggers (the kept counts, the trigram index) make
    # several writes: begun without it, a create racing another failed at once with "database is locked" (a
    # 503) instead of waiting its turn and then answering the phone's 409
    write_lock_first()
    user = User(
        phone=phone, name=name, password_hash=password_hash,
        state=data.get("state") or 0, avatar=avatar,
        dept_id=dept_id, post_id=post_id, grade_id=grade_id,
        password_change_required=must_change_admin_set_password(),
    )
    user.roles = roles
    with taken_meanwhile(lambda: _clean_phone(phone)):
        db.session.add(user)
        if avatar:
            db.session.flush()  # the new user's id, whose avatar the upload becomes
            uploads.replace_avatar(None, avatar, user.id)
        db.session.commit()
    return user


def modify_user(data: dict[str, Any], principal: Principal | None) -> User:
    user = get_user(data["id"], for_update=True)
    user_id = user.id
    is_own_profile = _is_self(principal, user) and set(data) <= {
        "id", "name", "avatar"}
    if not is_own_profile:
        _guard_super_admin(principal, target=user)
    is_self = _is_self(principal, user)
    revoke = False
    old_avatar = user.avatar
    errors = FieldErrors()  # every wrong field reported at once; nothing is changed before all pass
    phone = name = None
    if "phone" in data and data["phone"] is not None:
        phone = errors.run(_clean_phone, data["phone"], exclude_id=user.id)
    if "name" in data and data["name"] is not None:
        name = data["name"].strip()
        errors.check(bool(name), "name", gettext("用户名不能为空"))
    if data.get("password"):
        # one's own password changes only through the door that asks for the old one (and counts wrong ones)
        errors.check(not is_self, "password", gettext("修改自己的密码请到个人中心，并输入原密码"))
        errors.run(_check_password, data["password"])
    refs = {}
    for key, model, field, missing in (("dept_id", Dept, "deptId", N_("部门不存在")),
                                       ("post_id", Post, "postId", N_("岗位不存在")),
                                       ("grade_id", Grade, "gradeId", N_("职级不存在"))):
        if key in data:
            refs[key] = errors.run(_clean_ref, model, data[key], field, missing)

    roles = None
    if "role_ids" in data and data["role_ids"] is not None:
        roles = errors.run(_live_roles, data["role_ids"])
    if "avatar" in data:
        errors.run(uploads.check_avatar, old_avatar, data["avatar"] or None, principal, user.id)
    errors.raise_if_any()
    if "dept_id" in refs and refs["dept_id"] != user.dept_id:  # before anything changes
        _require_placeable(refs["dept_id"], oneself=_is_self(principal, user))
    # from the first change on: an autoflush of any later query may write the phone
    with taken_meanwhile(lambda: phone is None or _clean_phone(phone, exclude_id=user_id)):
        if phone is not None:
            user.phone = phone
        if name:
            user.name = name
        if data.get("password"):
            user.password_hash = hash_password(data["password"])  # an administrator's reset (never one's own)
            user.password_change_required = must_change_admin_set_password()
            revoke = True
        if "avatar" in data:
            user.avatar = data["avatar"] or None
            uploads.replace_avatar(old_avatar, user.avatar, user.id)  # in this transaction: a refusal keeps both
        for key, value in refs.items():
            setattr(user, key, value)
        was_super = _is_super_admin(user)
        if was_super and (data.get("role_ids") is not None or data.get("state") == 1):
            _lock_super_admin_rule()
        if roles is not None:
            held = {r.id for r in user.roles if r.deleted_at is None}
            _guard_super_admin(principal, roles=[r for r in roles if r.id not in held])  # only what is added
            if was_super and not any(r.role_code == SUPER_ADMIN for r in roles) and _super_admin_holders() <= 1:
                raise Conflict(gettext("不能移除最后一位超级管理员的超级管理员角色"))
            user.roles = roles
        if "state" in data and data["state"] is not None and data["state"] != user.state:
            if data["state"] == 1:
                if is_self:
                    raise Conflict(gettext("不能禁用自己"))
                if was_super and _super_admin_holders() <= 1:
                    raise Conflict(gettext("不能禁用最后一位超级管理员"))
                revoke = True
            user.state = data["state"]
        if revoke:
            sessions.revoke_user_sessions(user.id, "password" if data.get("password") else "disabled")
        db.session.commit()
    return user


def delete_user(user_id: int, principal: Principal | None) -> None:
    user = get_user(user_id, for_update=True)
    _guard_super_admin(principal, target=user)
    _refuse_on_self(principal, user, "delete")
    if _is_super_admin(user):
        _lock_super_admin_rule()
        if _super_admin_holders() <= 1:
            raise Conflict(gettext("不能删除最后一位超级管理员"))

    user.soft_delete()
    # the departments they managed have none now (a deleted manager stayed on the org chart as nobody, and the
    # department's form refused every save: 负责人不存在); a manager being set meanwhile holds the user's row
    db.session.execute(update(Dept).where(Dept.manager_id == user.id).values(manager_id=None))
    sessions.revoke_user_sessions(user.id, "deleted")
    db.session.commit()


def force_offline(user_id: int, principal: Principal | None) -> int:
    user = get_user(user_id)
    _guard_super_admin(principal, target=user)
    _refuse_on_self(principal, user, "offline")
    ended = [offline_row(s, user.phone, principal) for s in sessions.live_sessions_of(user.id)]
    count = sessions.revoke_user_sessions(user.id, "forced")
    db.session.commit()
    login_log.write_rows(ended)  # after the commit, in a transaction of its own
    return count


def offline_row(session: Any, phone: str | None, principal: Principal | None) -> dict[str, Any]:
    """The login log's row of a session an administrator ended (强制下线), from the session's own address."""
    by = login_log.forced_offline_reason(principal.name if principal is not None else None)
    return login_log.login_row("offline", reason=by, phone=phone, user_id=session.user_id, ip=session.ip,
                               user_agent=session.user_agent)


def change_own_password(user_id: int, old_password: str, new_password: str,
                        keep_session_id: int | None = None) -> None:
    """Change one's own password; every other session and token of the user ends (a thief's too)."""
    user = get_user(user_id)
    if not verify_password(old_password, user.password_hash):
        raise Invalid(gettext(OLD_PASSWORD_WRONG), field="oldPassword")
    if user.password_change_required and new_password == old_password:
        raise Invalid(gettext("新密码不能与原密码相同"), field="newPassword")
    _check_password(new_password)
    user.password_hash = hash_password(new_password)  # bcrypt, whatever the old one was (a generated one's SHA-256)
    user.password_change_required = False
    sessions.revoke_user_sessions(user.id, "password", keep_session_id=keep_session_id)
    db.session.commit()


# ---------------------------------------------------------------------------------------------
# Export


# Users read per statement of the export (keyset batches: memory stays flat whatever the count).
EXPORT_BATCH = 2000


def export_rows(ids: list[int], filters: dict[str, Any], batch: int | None = None) -> Iterator[list[str]]:
    """Rows of the export. "Export all" (no ids) is capped at PCLOUD_EXPORT_MAX_ROWS: checked here, before
    any file is written, so one click cannot make the server write millions of rows."""
    scoped = scoped_filters(filters)  # the principal's data scope: whether ids are listed or "export all"
    if scoped is None:
        return iter(())
    if not ids:
        cap = int(params.value("sys.export.maxRows"))
        count = db.session.execute(filtered_select(scoped, driving=False).with_only_columns(func.count(User.id))
                                   .order_by(None)).scalar_one()
        if count > cap:
            raise Invalid(gettext("符合条件的用户有 %(count)s 个，超过单次导出上限 %(cap)s，请缩小筛选范围后再导出",
                                  count=count, cap=cap))
    return _export_rows(ids, scoped, batch or EXPORT_BATCH)


def _export_rows(ids: list[int], filters: dict[str, Any], batch: int) -> Iterator[list[str]]:
    """In the list's order (`_sort`), fetched in batches keyed on (sort column, id) so memory stays flat for
    100,000 users: each batch starts after the last row of the one before, ties on the column broken by the id."""
    base = (filtered_select(filters, driving=False) if not ids
            else select(_users.c.id).where(_users.c.deleted_at.is_(None), _users.c.id.in_(ids),
                                           datascope.current_scope().user_clause(_users)))
    order, direction = _sort(filters)
    column = _SORT_COLUMNS[order]
    after: Any = None  # the last row's (sort value, id)
    # 字典管理's labels, built-in data said in the request's language
    states = {**{str(k): str(v) for k, v in STATE_NAMES.items()},
              **{value: translated(label) for value, label in dicts.options("sys_user_state")}}
    while True:
        stmt = (base.with_only_columns(User.id, User.name, User.phone, User.state, User.gmt_created_date,
                                       Dept.name, Post.name, Grade.name, column)
                .outerjoin(Dept, Dept.id == User.dept_id).outerjoin(Post, Post.id == User.post_id)
                .outerjoin(Grade, Grade.id == User.grade_id)
                .order_by(direction(column), direction(_users.c.id)).limit(batch))
        if after is not None:
            value, last_id = after
            beyond = (lambda a, b: a < b) if direction is desc else (lambda a, b: a > b)
            stmt = stmt.where(or_(beyond(column, value), and_(column == value, beyond(_users.c.id, last_id))))
        rows = db.session.execute(stmt).all()
        if not rows:
            return
        role_names: dict[int, list[str]] = {}
        for uid, rname, built_in in db.session.execute(
                select(user_role.c.user_id, Role.name, Role.built_in).join(Role, Role.id == user_role.c.role_id)
                .where(user_role.c.user_id.in_([r[0] for r in rows]), Role.deleted_at.is_(None))
                .order_by(user_role.c.user_id, Role.id)):
            role_names.setdefault(uid, []).append(Role.shown(rname, built_in))  # as the list shows it
        for uid, name, phone, state, created, dept, post, grade, _value in rows:
            yield [name, phone, gettext("、").join(role_names.get(uid, [])), dept or "", post or "", grade or "",
                   states.get(str(state), str(state)), display_local(created)]
        after = (rows[-1][-1], rows[-1][0])
        db.session.expire_all()


def role_choices() -> list[Role]:
    return list(db.session.execute(Role.live().order_by(Role.id)).scalars())


def assignable_roles(principal: Principal | None, keeping: User | None = None) -> list[Role]:
    """The roles this principal may hand out (the reach rule of core.permissions): the form's checkboxes; with
    `keeping`, also the live roles that user holds (keeping one is no escalation: modify_user checks what is added)."""
    roles = role_choices()
    if principal is None or principal.is_super_admin:
        return roles
    held = {r.id for r in keeping.roles if r.deleted_at is None} if keeping is not None else set()
    return [r for r in roles if r.id in held or permissions.reach_refusal(principal, roles=[r]) is None]


def reset_password_by_phone(phone: str, new_password: str) -> User:
    """An operator's reset: new password, every session revoked (auth.service lifts the login lock too)."""
    user = db.session.execute(User.live().where(User.phone == phone.strip())).scalar_one_or_none()
    if user is None:
        raise NotFound(gettext("没有手机号为 %(phone)s 的用户", phone=phone))

    _check_password(new_password)
    user.password_hash = hash_password(new_password)
    user.password_change_required = must_change_admin_set_password()
    sessions.revoke_user_sessions(user.id, "password reset")
    db.session.commit()
    return user


def live_count() -> int:
    """Users not deleted that the principal's data scope reaches (the home page's figure): the kept counts
    (users.tally) under "all" or one subtree, else the user page's capped count."""
    scoped = scoped_filters({})
    return 0 if scoped is None else _total(scoped)[0]
