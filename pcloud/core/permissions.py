"""The permission check of API.md, answered from a per-process cache of role -> grants.

Rules (API.md, Permissions):

- An API call passes when the caller holds ROLE_SUPER_ADMIN, or a role granting a resource whose
  method and pattern match it. `resourceUrl` is a route pattern: `{name}` and `*` match exactly one
  path segment, `**` any rest (including nothing); method `*` matches every method. A route that no
  granted resource matches (including a route that has no resource at all) is denied: 403.
- A page is owned by the menu with the longest path that is a prefix of it (`/system/user` owns
  `/system/user/` and `/system/user/5/edit`); it opens for a role granting that menu. A page no menu
  owns is denied to everyone but ROLE_SUPER_ADMIN, exactly like an API route with no resource.
  Pages open to every signed-in caller say so with `@signed_in_only` (security.py).

The cache is keyed by a version number kept in the database (sys_perm_version) and bumped in the
same transaction as any grant, role, menu or resource change. The version rides along in the query
that loads the caller's session (auth.service.load_principal), so a warm cache costs no query and
every process sees a change on its next request. A cache is always at least as new as its label:
the version is read before the grants, so a reload can only ever be one too many, never stale.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from sqlalchemy import select, update

from pcloud.core.security import Principal

_PARAM = re.compile(r"\{[^}/]*\}|<[^>]*>")
METHODS = ("GET", "POST", "PUT", "DELETE", "*")


def normalise_pattern(pattern: str) -> str:
    """`/api/x/<int:id>/delete` and `/api/x/{roleId}/delete/` both become `/api/x/{}/delete`."""
    value = _PARAM.sub("{}", (pattern or "").strip())
    return value.rstrip("/") or "/"


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """`{name}` and `*` match one path segment, `**` matches any rest (including nothing).

    A `*` inside a segment (`/api/job/*Log`) matches any characters of that one segment.
    """
    parts = []
    for segment in normalise_pattern(pattern).strip("/").split("/"):
        if segment == "**":
            parts.append(r"(?:/.*)?")
        elif segment == "*":
            parts.append(r"/[^/]+")
        else:
            piece = re.escape(segment).replace(r"\{\}", "[^/]+").replace(r"\*", "[^/]*")
            parts.append("/" + piece)
    regex = "".join(parts) or "/"
    return re.compile("^" + regex + "/?$")


def is_wildcard(pattern: str) -> bool:
    return "*" in pattern


def pattern_matches(pattern: str, method: str, granted_method: str, path: str) -> bool:
    """One resource against one call, without the cache (used by tests and the resource page)."""
    granted_method = (granted_method or "*").upper()
    if granted_method not in ("*", _effective_method(method)):
        return False
    return bool(compile_pattern(pattern).match(path))


def _effective_method(method: str) -> str:
    method = method.upper()
    return "GET" if method == "HEAD" else method


@dataclass
class RoleGrants:
    exact: set[tuple[str, str]] = field(default_factory=set)  # (method, normalised pattern)
    wild: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    menu_paths: set[str] = field(default_factory=set)
    menu_ids: set[int] = field(default_factory=set)
    resource_ids: set[int] = field(default_factory=set)


@dataclass
class Snapshot:
    """Everything the checks need, replaced as a whole so a reader never sees half a reload."""

    version: int | None = None
    roles: dict[int, RoleGrants] = field(default_factory=dict)
    page_prefixes: tuple[str, ...] = ()  # every menu path, longest first


class _Cache:
    def __init__(self) -> None:
        self.snapshot = Snapshot()
        self.lock = threading.Lock()
        self.loads = 0


_cache = _Cache()
_EMPTY = RoleGrants()


def current_version() -> int:
    from pcloud.extensions import db
    from pcloud.roles.models import PermissionVersion

    return db.session.execute(select(PermissionVersion.version).where(PermissionVersion.id == 1)).scalar() or 0


def bump_version() -> None:
    """Call in the same transaction as any grant, role, menu or resource change."""
    from pcloud.extensions import db
    from pcloud.roles.models import PermissionVersion

    result = db.session.execute(
        update(PermissionVersion).where(PermissionVersion.id == 1).values(version=PermissionVersion.version + 1))
    if result.rowcount == 0:
        db.session.add(PermissionVersion(id=1, version=1))


def _load(version: int) -> Snapshot:
    from pcloud.extensions import db
    from pcloud.menus.models import Menu
    from pcloud.resources.models import Resource
    from pcloud.roles.models import role_menu, role_resource

    roles: dict[int, RoleGrants] = {}
    rows = db.session.execute(
        select(role_resource.c.role_id, Resource.id, Resource.method, Resource.resource_url)
        .join(Resource, Resource.id == role_resource.c.resource_id)
        .where(Resource.deleted_at.is_(None)))
    for role_id, res_id, method, url in rows:
        grants = roles.setdefault(role_id, RoleGrants())
        grants.resource_ids.add(res_id)
        if not url:
            continue  # a group without a pattern grants nothing by itself
        method = (method or "*").upper()
        if is_wildcard(url):
            grants.wild.append((method, compile_pattern(url)))
        else:
            grants.exact.add((method, normalise_pattern(url)))
    rows = db.session.execute(
        select(role_menu.c.role_id, Menu.id, Menu.path)
        .join(Menu, Menu.id == role_menu.c.menu_id).where(Menu.deleted_at.is_(None)))
    for role_id, menu_id, path in rows:
        grants = roles.setdefault(role_id, RoleGrants())
        grants.menu_ids.add(menu_id)
        if path and path.startswith("/"):
            grants.menu_paths.add(path.rstrip("/") or "/")
    prefixes = {p.rstrip("/") for (p,) in db.session.execute(
        select(Menu.path).where(Menu.deleted_at.is_(None))) if p and p.startswith("/") and p.rstrip("/")}
    return Snapshot(version=version, roles=roles,
                    page_prefixes=tuple(sorted(prefixes, key=lambda p: (-len(p), p))))


def snapshot(version: int | None) -> Snapshot:
    """The cache for that version, reloading it first if this process holds another one."""
    if version is None:
        version = current_version()
    snap = _cache.snapshot
    if snap.version == version:
        return snap
    with _cache.lock:
        snap = _cache.snapshot
        if snap.version != version:
            snap = _load(version)
            _cache.snapshot = snap
            _cache.loads += 1
    return snap


def ensure_fresh(version: int | None) -> None:
    snapshot(version)


def invalidate() -> None:
    """Drop this process's cache (role/refresh); the next check reloads it."""
    with _cache.lock:
        _cache.snapshot = Snapshot()


def cache_loads() -> int:
    """How many times this process has loaded the grants (tests use it to see a warm cache)."""
    return _cache.loads


def grants_of(principal: Principal) -> list[RoleGrants]:
    roles = snapshot(principal.perm_version).roles
    return [roles.get(rid, _EMPTY) for rid in principal.role_ids]


def may_call(principal: Principal, method: str, rule: str, path: str) -> bool:
    """May the caller call this API route? `rule` is the matched URL rule, `path` the request path."""
    if principal.is_super_admin:
        return True
    method = _effective_method(method)
    keys = {normalise_pattern(rule), normalise_pattern(path)}
    for grants in grants_of(principal):
        for key in keys:
            if (method, key) in grants.exact or ("*", key) in grants.exact:
                return True
        for granted, regex in grants.wild:
            if (granted == "*" or granted == method) and regex.match(path):
                return True
    return False


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def page_owner(path: str, snap: Snapshot | None = None) -> str | None:
    """The path of the menu that owns a page: the longest menu path the page lies under."""
    snap = snap or _cache.snapshot
    return next((p for p in snap.page_prefixes if _under(path, p)), None)


def may_open_page(principal: Principal, path: str) -> bool:
    """A page needs a role granting the menu that owns it; a page no menu owns: super admin only."""
    if principal.is_super_admin:
        return True
    snap = snapshot(principal.perm_version)
    owner = page_owner(path, snap)
    if owner is None:
        return False
    return any(owner in (snap.roles.get(rid) or _EMPTY).menu_paths for rid in principal.role_ids)


def granted_menu_ids(principal: Principal) -> set[int] | None:
    """None means every menu (super administrator)."""
    if principal.is_super_admin:
        return None
    return set().union(*(g.menu_ids for g in grants_of(principal)))


def granted_resource_ids(principal: Principal) -> set[int] | None:
    """None means every resource (super administrator)."""
    if principal.is_super_admin:
        return None
    return set().union(*(g.resource_ids for g in grants_of(principal)))
