"""数据权限: whose users a principal reaches, computed once from the principal's roles.

A role's `data_scope` is 1 all, 2 the departments listed in sys_role_dept (each alone), 3 the holder's own
department, 4 the holder's own department and everything below it, 5 only the holder. A principal with several
roles reaches the union; ROLE_SUPER_ADMIN, and no principal at all (the command line, the worker), reach
everyone. A user without a department is reached only under 1 (or as oneself under 5).

Every reader of users asks here (the user page, export, writes, pickers, the org chart, the role's users,
the operation and login logs by the operator's department, the import): `scope_of(principal)` or
`current_scope()`, then `.user_clause()` (an SQL condition on sys_user), `.covers_user(id, dept_id)` or
`.covers_dept(dept_id)`. This package sits just above the models (PACKAGE_ORDER), so every module may
import it.

Cost: the roles' scopes are kept per process under the permission version, as the grants are
(access.permissions): every role change bumps it in its transaction and the version rides along in the
principal's lookup, so a change counts on the next request of every host. The principal's own department is read
once per request (a user moved to another department reaches differently at once).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import g, has_request_context
from flask_babel import gettext, lazy_gettext
from sqlalchemy import ColumnElement, false, or_, select, true

from pcloud.access.models import PermissionVersion
from pcloud.core.errors import Forbidden
from pcloud.core.security import SUPER_ADMIN, Principal, current_principal
from pcloud.depts.models import Dept, DeptClosure
from pcloud.extensions import db
from pcloud.roles.models import Role, role_dept
from pcloud.users.models import User

ALL, CUSTOM, OWN_DEPT, OWN_DEPT_AND_BELOW, ONLY_SELF = 1, 2, 3, 4, 5
SCOPE_NAMES = {ALL: lazy_gettext("全部数据"), CUSTOM: lazy_gettext("自定义部门"), OWN_DEPT: lazy_gettext("本部门"),
               OWN_DEPT_AND_BELOW: lazy_gettext("本部门及以下"), ONLY_SELF: lazy_gettext("仅本人")}
# Which kinds a principal holding a kind may hand out (the reach rule for scopes): a scope relative to its
# holder is no wider than another when it reaches a subset for every holder (5 within 3 within 4 within 1).
_NARROWER = {
    ALL: {ALL, CUSTOM, OWN_DEPT, OWN_DEPT_AND_BELOW, ONLY_SELF},
    OWN_DEPT_AND_BELOW: {OWN_DEPT_AND_BELOW, OWN_DEPT, ONLY_SELF},
    OWN_DEPT: {OWN_DEPT, ONLY_SELF},
    ONLY_SELF: {ONLY_SELF},
    CUSTOM: {ONLY_SELF},  # and 2 itself, with departments the principal reaches (allows_setting)
}


@dataclass(frozen=True)
class DataScope:
    """What one principal reaches: everyone, or the users of `dept_ids` (each alone), of the subtrees under
    `subtree_ids`, and `user_id` (oneself). `kinds`: the scope kinds of the principal's roles (for the reach
    rule)."""

    all: bool = False
    dept_ids: frozenset[int] = frozenset()
    subtree_ids: frozenset[int] = frozenset()
    user_id: int | None = None
    kinds: frozenset[int] = frozenset()
    own_dept_id: int | None = None
    _reached: dict[str, frozenset[int]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_empty(self) -> bool:
        return not (self.all or self.dept_ids or self.subtree_ids or self.user_id)

    def reached_dept_ids(self) -> frozenset[int] | None:
        """Every department whose members are reached (None: all of them). Read once per scope object: the
        subtrees from the closure table, so `covers_dept` for many rows (an import) costs one query."""
        if self.all:
            return None
        if "ids" not in self._reached:
            ids = set(self.dept_ids)
            if self.subtree_ids:
                ids.update(db.session.execute(select(DeptClosure.descendant_id).where(
                    DeptClosure.ancestor_id.in_(sorted(self.subtree_ids)))).scalars())
            self._reached["ids"] = frozenset(ids)
        return self._reached["ids"]

    def covers_dept(self, dept_id: int | None) -> bool:
        """Are the members of this department reached? (No department: only under 1.)"""
        if self.all:
            return True
        if not dept_id:
            return False
        reached = self.reached_dept_ids()
        return reached is not None and dept_id in reached

    def covers_user(self, user_id: int, dept_id: int | None) -> bool:
        """Is this user (with that department) reached?"""
        return self.all or (self.user_id is not None and user_id == self.user_id) or self.covers_dept(dept_id)

    def first_beyond_below(self, dept_id: int) -> str | None:
        """The name of a live department at or below `dept_id` whose members are not reached (the nearest first),
        None when the whole subtree is: what a department carries along when it moves, and what an "own department
        and below" scope would reach from there once its holder sits in it."""
        if self.all:
            return None
        reached = sorted(self.reached_dept_ids() or frozenset())
        return db.session.execute(
            select(Dept.name).join(DeptClosure, DeptClosure.descendant_id == Dept.id)
            .where(DeptClosure.ancestor_id == dept_id, Dept.deleted_at.is_(None), Dept.id.not_in(reached))
            .order_by(DeptClosure.depth, Dept.id).limit(1)).scalar()

    def beyond_below(self, dept_ids: Iterable[int]) -> dict[int, str]:
        """`first_beyond_below` of each of `dept_ids` at once (one query): {department id: the name of the nearest
        live department at or below it whose members are not reached}, the departments wholly reached left out.
        What an audience by department (a notice's, which takes the subtree along) may not name."""
        ids = sorted(set(dept_ids))
        if self.all or not ids:
            return {}
        reached = sorted(self.reached_dept_ids() or frozenset())
        found: dict[int, str] = {}
        for ancestor, name in db.session.execute(
                select(DeptClosure.ancestor_id, Dept.name).join(Dept, Dept.id == DeptClosure.descendant_id)
                .where(DeptClosure.ancestor_id.in_(ids), Dept.deleted_at.is_(None), Dept.id.not_in(reached))
                .order_by(DeptClosure.ancestor_id, DeptClosure.depth, Dept.id)):
            found.setdefault(ancestor, name)
        return found

    def reaches_user_id(self, user_id: int | None) -> bool:
        """Is the user of this id reached? What a log row's operator is checked with: a row without one (an
        anonymous sign-in attempt), only under "all"."""
        if self.all:
            return True
        return user_id is not None and db.session.execute(
            select(User.id).where(User.id == user_id, self.user_clause(User))).first() is not None

    def dept_clause(self, dept_column: Any) -> ColumnElement[bool]:
        """An SQL condition on a department id column: its department's members are reached (oneself aside)."""
        if self.all:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.dept_ids:
            parts.append(dept_column.in_(sorted(self.dept_ids)))
        if self.subtree_ids:
            # the closure table answers "and below": one index range per root, joined, never a list of ids
            parts.append(dept_column.in_(select(DeptClosure.descendant_id).where(
                DeptClosure.ancestor_id.in_(sorted(self.subtree_ids)))))
        return or_(*parts) if parts else false()

    def user_clause(self, users: Any = None, dept_column: Any = None) -> ColumnElement[bool]:
        """An SQL condition on sys_user (the table, an alias, or the User entity): the user is reached.
        `dept_column`: the department column as the principal's plan wants it written (an unindexed form)."""
        users = User.__table__ if users is None else users
        columns = getattr(users, "c", users)
        if self.all:
            return true()
        clause = self.dept_clause(columns.dept_id if dept_column is None else dept_column)
        if self.user_id is not None:
            clause = or_(clause, columns.id == self.user_id) if (self.dept_ids or self.subtree_ids) \
                else columns.id == self.user_id
        return clause

    def single_subtree(self) -> int | None:
        """The one department whose subtree is all this scope reaches (a lone "own department and below" with
        oneself inside it), else None: the user page then reads it as its department filter, kept counts
        and all."""
        if self.all or self.dept_ids or len(self.subtree_ids) != 1:
            return None
        (root,) = self.subtree_ids
        return root if self.user_id is None or self.own_dept_id == root else None

    def allows_setting(self, kind: int, dept_ids: Iterable[int] = ()) -> bool:
        """The reach rule for scopes: may a principal with this scope give a role scope `kind` (with `dept_ids`
        for 2)? Nobody sets a scope wider than their own. "Own department and below" is relative to its holder,
        who may sit in any department the scope reaches: so it is no wider only when each of those comes with
        everything below it (a custom department listed alone does not)."""
        if self.all:
            return True
        if kind == CUSTOM:
            return all(self.covers_dept(d) for d in dept_ids)
        if not any(kind in _NARROWER.get(held, set()) for held in self.kinds):
            return False
        return kind != OWN_DEPT_AND_BELOW or self._closed_below()

    def _closed_below(self) -> bool:
        """Does every department reached bring all its descendants (read once per scope object)?"""
        if "closed" not in self._reached:
            reached = self.reached_dept_ids() or frozenset()
            below = set(db.session.execute(select(DeptClosure.descendant_id).join(
                Dept, Dept.id == DeptClosure.descendant_id).where(
                DeptClosure.ancestor_id.in_(sorted(self.dept_ids)), Dept.deleted_at.is_(None))).scalars()) \
                if self.dept_ids else set()
            self._reached["closed"] = frozenset({1}) if below <= reached else frozenset()
        return bool(self._reached["closed"])


EVERYONE = DataScope(all=True, kinds=frozenset({ALL}))


# ---------------------------------------------------------------------------------------------
# The roles' scopes, per process, under the permission version


@dataclass(frozen=True)
class _RoleScopes:
    version: int | None = None
    roles: dict[int, tuple[int, frozenset[int]]] = field(default_factory=dict)  # id: (kind, custom depts)


_cache = {"value": _RoleScopes()}
_lock = threading.Lock()


def _current_version() -> int:
    return db.session.execute(select(PermissionVersion.version).where(PermissionVersion.id == 1)).scalar() or 0


def _load(version: int) -> _RoleScopes:
    roles: dict[int, tuple[int, frozenset[int]]] = {}
    for role_id, kind, code in db.session.execute(select(Role.id, Role.data_scope, Role.role_code)
                                                  .where(Role.deleted_at.is_(None))):
        roles[role_id] = (ALL if code == SUPER_ADMIN else (kind or ALL), frozenset())
    custom: dict[int, set[int]] = {}
    for role_id, dept_id in db.session.execute(
            select(role_dept.c.role_id, role_dept.c.dept_id).join(Dept, Dept.id == role_dept.c.dept_id)
            .where(Dept.deleted_at.is_(None))):
        custom.setdefault(role_id, set()).add(dept_id)
    for role_id, depts in custom.items():
        if role_id in roles:
            roles[role_id] = (roles[role_id][0], frozenset(depts))
    return _RoleScopes(version, roles)


def role_scopes(version: int | None) -> dict[int, tuple[int, frozenset[int]]]:
    """{role id: (kind, custom department ids)} of every live role, for that permission version."""
    if not version:
        version = _current_version()
    kept = _cache["value"]
    if kept.version == version:
        return kept.roles
    with _lock:
        kept = _cache["value"]
        if kept.version != version:
            kept = _load(version)
            _cache["value"] = kept
    return kept.roles


def invalidate() -> None:
    """Drop this process's copy (tests; role/refresh reloads through the version anyway)."""
    with _lock:
        _cache["value"] = _RoleScopes()


# ---------------------------------------------------------------------------------------------
# A principal's scope


def _own_dept(principal: Principal) -> int | None:
    return db.session.execute(select(User.dept_id).where(User.id == principal.user_id)).scalar()


def compute_scope(principal: Principal) -> DataScope:
    """The union of the principal's roles' scopes (uncached; `scope_of` keeps it for the request)."""
    if principal.is_super_admin:
        return EVERYONE
    scopes = role_scopes(principal.perm_version)
    kinds: set[int] = set()
    custom: set[int] = set()
    for role_id in principal.role_ids:
        kind, depts = scopes.get(role_id, (None, frozenset()))
        if kind is None:
            continue  # deleted since the principal was loaded
        kinds.add(kind)
        custom |= depts if kind == CUSTOM else set()
    if ALL in kinds:
        return DataScope(all=True, kinds=frozenset(kinds))
    own = _own_dept(principal) if principal.kind == "user" and kinds & {OWN_DEPT, OWN_DEPT_AND_BELOW} else None
    scope = DataScope(dept_ids=frozenset(custom | ({own} if own and OWN_DEPT in kinds else set())),
                      subtree_ids=frozenset({own} if own and OWN_DEPT_AND_BELOW in kinds else set()),
                      user_id=principal.user_id if ONLY_SELF in kinds else None,
                      kinds=frozenset(kinds), own_dept_id=own)
    return scope


def scope_of(principal: Principal | None) -> DataScope:
    """What this principal reaches (None: the trusted command line or worker, everyone). Kept for the request
    at most, so a role or department change counts from the next request on."""
    if principal is None:
        return EVERYONE
    if not has_request_context():
        return compute_scope(principal)
    kept: dict[tuple[Any, ...], DataScope] = g.setdefault("_data_scopes", {})
    key = (principal.kind, principal.id, principal.perm_version, principal.role_ids)
    if key not in kept:
        kept[key] = compute_scope(principal)
    return kept[key]


def current_scope() -> DataScope:
    """The signed-in principal's scope; everyone outside a request."""
    return scope_of(current_principal())


def require_all_data(refusal: str) -> None:
    """A change that applies to the whole company (a run-time setting, the SMS text every user receives): only a
    principal whose data scope is all data makes it (403 `refusal`); the command line and the worker may."""
    if not current_scope().all:
        raise Forbidden(refusal)


def scope_refusal(kind: int, dept_ids: Iterable[int] = (), principal: Principal | None = None) -> str | None:
    """Why the principal may not give a role this scope (None when they may): nobody sets a scope wider than
    their own."""
    scope = scope_of(principal) if principal is not None else current_scope()
    if scope.allows_setting(kind, list(dept_ids)):
        return None
    return gettext("不能设置超出自己数据权限的数据范围（%(scope)s）", scope=SCOPE_NAMES.get(kind, kind))


def roles_refusal(role_ids: Iterable[int], principal: Principal | None = None) -> str | None:
    """Why the principal may not hand out these roles for their data scope (None when they may): a role
    whose scope is wider than the principal's own is refused, as a grant beyond one's reach is."""
    scope = scope_of(principal) if principal is not None else current_scope()
    if scope.all:
        return None
    version = principal.perm_version if principal is not None else None
    scopes = role_scopes(version)
    for role_id in role_ids:
        kind, depts = scopes.get(role_id, (ALL, frozenset()))
        if not scope.allows_setting(kind, depts):
            return gettext("不能分配数据权限超出自己范围的角色（%(scope)s）", scope=SCOPE_NAMES.get(kind, kind))
    return None
