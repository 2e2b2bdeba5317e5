"""The permission check of API.md, answered from a per-process cache of role -> grants.

The cache is keyed by a version number kept in the database and bumped by every grant or role
change. The version rides along in the query that loads the caller's session (auth), so a warm
cache costs no query, and every process sees a change on its next request.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from sqlalchemy import select, update

from pcloud.core.security import Principal

_SEGMENT = re.compile(r"\{[^}/]*\}|<[^>]*>")


def normalise_pattern(pattern: str) -> str:
    """`/api/x/<int:id>/delete` and `/api/x/{roleId}/delete` both become `/api/x/{}/delete`."""
    return _SEGMENT.sub("{}", pattern.strip())


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """`{name}` and `*` match one path segment, `**` matches any rest (including nothing)."""
    parts = []
    for segment in normalise_pattern(pattern).strip("/").split("/"):
        if segment == "**":
            parts.append(r"(?:/.*)?")
            continue
        piece = re.escape(segment).replace(r"\{\}", "[^/]+").replace(r"\*", "[^/]*")
        parts.append("/" + piece)
    regex = "".join(parts) or "/"
    return re.compile("^" + regex + "/?$")


def is_wildcard(pattern: str) -> bool:
    return "*" in pattern


@dataclass
class RoleGrants:
    exact: set[tuple[str, str]] = field(default_factory=set)  # (method, normalised pattern)
    wild: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    menu_paths: list[str] = field(default_factory=list)
    menu_ids: set[int] = field(default_factory=set)
    resource_ids: set[int] = field(default_factory=set)


class _Cache:
    def __init__(self) -> None:
        self.version: int | None = None
        self.roles: dict[int, RoleGrants] = {}
        self.page_prefixes: list[str] = []  # every menu path: pages under none are open to all
        self.lock = threading.Lock()
        self.loads = 0


_cache = _Cache()


def current_version() -> int:
    from pcloud.extensions import db
    from pcloud.roles.models import PermissionVersion

    return db.session.execute(select(PermissionVersion.version).where(PermissionVersion.id == 1)).scalar() or 0


def bump_version() -> None:
    """Call in the same transaction as any grant or role change."""
    from pcloud.extensions import db
    from pcloud.roles.models import PermissionVersion

    result = db.session.execute(
        update(PermissionVersion).where(PermissionVersion.id == 1).values(version=PermissionVersion.version + 1))
    if result.rowcount == 0:
        db.session.add(PermissionVersion(id=1, version=1))


def _load(version: int) -> None:
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
            continue
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
            grants.menu_paths.append(path.rstrip("/"))
    prefixes = [p.rstrip("/") for (p,) in db.session.execute(
        select(Menu.path).where(Menu.deleted_at.is_(None))) if p and p.startswith("/") and p != "/"]
    _cache.roles = roles
    _cache.page_prefixes = sorted(set(prefixes), key=len, reverse=True)
    _cache.version = version
    _cache.loads += 1


def ensure_fresh(version: int | None) -> None:
    if version is None:
        version = current_version()
    if _cache.version == version:
        return
    with _cache.lock:
        if _cache.version != version:
            _load(version)


def invalidate() -> None:
    """Drop this process's cache (role/refresh); the next check reloads it."""
    _cache.version = None


def cache_loads() -> int:
    return _cache.loads


def grants_of(principal: Principal) -> list[RoleGrants]:
    ensure_fresh(principal.perm_version)
    return [g for rid in principal.role_ids if (g := _cache.roles.get(rid))]


def may_call(principal: Principal, method: str, rule: str, path: str) -> bool:
    if principal.is_super_admin:
        return True
    method = method.upper()
    key = normalise_pattern(rule)
    for grants in grants_of(principal):
        if (method, key) in grants.exact or ("*", key) in grants.exact:
            return True
        for m, regex in grants.wild:
            if (m == "*" or m == method) and regex.match(path):
                return True
    return False


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def may_open_page(principal: Principal, path: str) -> bool:
    """A page under some menu's path needs a role granting that menu (the most specific one)."""
    if principal.is_super_admin:
        return True
    ensure_fresh(principal.perm_version)
    owner = next((p for p in _cache.page_prefixes if _under(path, p)), None)
    if owner is None:
        return True
    return any(owner in g.menu_paths for g in grants_of(principal))


def granted_menu_ids(principal: Principal) -> set[int] | None:
    """None means every menu (super administrator)."""
    if principal.is_super_admin:
        return None
    return set().union(*(g.menu_ids for g in grants_of(principal))) if principal.role_ids else set()


def granted_resource_ids(principal: Principal) -> set[int] | None:
    if principal.is_super_admin:
        return None
    return set().union(*(g.resource_ids for g in grants_of(principal))) if principal.role_ids else set()
