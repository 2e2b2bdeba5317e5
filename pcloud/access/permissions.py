"""The permission check of API.md, answered from a per-process cache of role -> grants.

Rules (API.md, Permissions):

- An API call passes when the principal holds ROLE_SUPER_ADMIN, or a role granting a resource whose
  method and pattern match it. `resourceUrl` is a route pattern: `{name}` and `*` match exactly one
  path segment, `**` any rest (including nothing); method `*` matches every method. A route that no
  granted resource matches (including a route that has no resource at all) is denied: 403.
- A page is owned by the menu with the longest path that is a prefix of it (`/system/user` owns
  `/system/user/` and `/system/user/5/edit`); it opens for a role granting that menu. A page no menu
  owns is denied to everyone but ROLE_SUPER_ADMIN, exactly like an API route with no resource.
  Pages open to every signed-in principal say so with `@signed_in_only` (security.py).

The cache is keyed by a version number kept in the database (sys_perm_version) and bumped in the
same transaction as any grant, role, menu or resource change. The version rides along in the query
that loads the principal's session (auth.service.load_principal), so a warm cache costs no query and
every process sees a change on its next request. A cache is always at least as new as its label:
the version is read before the grants, so a reload can only ever be one too many, never stale.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import delete, select, update

from pcloud.access.models import PermissionVersion, role_menu, role_resource
from pcloud.core.errors import Forbidden
from pcloud.core.routing import HTTP_METHODS, ROUTE_ARG
from pcloud.core.security import PUBLIC_ENDPOINTS, SUPER_ADMIN, Principal, current_principal
from pcloud.datascope import service as datascope
from pcloud.extensions import db
from pcloud.jobs.models import role_job_group
from pcloud.menus.models import Menu
from pcloud.resources.models import Resource

_PARAM = re.compile(r"\{[^}/]*\}|<[^>]*>")


@functools.lru_cache(maxsize=4096)  # per request: the matched rule and the path (routes are few)
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
    job_group_ids: set[int] = field(default_factory=set)  # the executors it reaches (none listed: all)
    job_routes: bool = False  # does it open a job page or a job API route at all?


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
    return db.session.execute(select(PermissionVersion.version).where(PermissionVersion.id == 1)).scalar() or 0


def bump_version() -> None:
    """Call in the same transaction as any grant, role, menu or resource change."""
    result = db.session.execute(
        update(PermissionVersion).where(PermissionVersion.id == 1).values(version=PermissionVersion.version + 1))
    if result.rowcount == 0:
        db.session.add(PermissionVersion(id=1, version=1))


def _load(version: int) -> Snapshot:
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
    for role_id, job_group_id in db.session.execute(select(role_job_group.c.role_id, role_job_group.c.job_group_id)):
        roles.setdefault(role_id, RoleGrants()).job_group_ids.add(job_group_id)
    samples = job_route_samples()
    for grants in roles.values():
        grants.job_routes = _opens_jobs(grants, samples)
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
    """May the principal call this API route? `rule` is the matched URL rule, `path` the request path."""
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


def may_call_a_granted_route(principal: Principal) -> bool:
    """May the principal call at least one API route that needs a grant (the home page links the API document,
    /api/docs, only then)? A super administrator may; else a role granting a resource that matches a route."""
    if principal.is_super_admin:
        return True
    if not any(g.exact or g.wild for g in grants_of(principal)):
        return False
    for rule in current_app.url_map.iter_rules():
        view = current_app.view_functions.get(rule.endpoint)
        if (not rule.rule.startswith("/api/") or rule.endpoint in PUBLIC_ENDPOINTS
                or getattr(view, "_public", False)):
            continue
        path = ROUTE_ARG.sub("0", rule.rule)
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        if any(may_call(principal, method, rule.rule, path) for method in methods):
            return True
    return False


def endpoint_route(endpoint: str) -> tuple[str, str]:
    """(method, rule) of an API endpoint named `blueprint.view` or `blueprint.view:METHOD`."""
    name, _, method = endpoint.partition(":")
    rules = list(current_app.url_map.iter_rules(name))  # KeyError for an unknown endpoint: a coding error
    rule = rules[0]
    methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    if method:
        if method.upper() not in methods:
            raise KeyError(f"{endpoint}: the route answers {methods}")
        return method.upper(), rule.rule
    if len(methods) != 1:
        raise KeyError(f"{endpoint}: name one of {methods}")
    return methods[0], rule.rule


def may_call_endpoint(principal: Principal, endpoint: str, values: dict[str, object] | None = None) -> bool:
    """Would the principal be allowed to call this API endpoint (with the page's own ids, if any)?"""
    if principal.is_super_admin:
        return True
    method, rule = endpoint_route(endpoint)
    given = [str(v) for v in (values or {}).values()]
    path = ROUTE_ARG.sub(lambda _m: given.pop(0) if given else "0", rule)
    return may_call(principal, method, rule, path)


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


# ---------------------------------------------------------------------------------------------
# Reach: nobody hands out (or widens into) more than they hold themselves.
#
# One rule for every path that could raise someone's reach: assigning roles to a user (create,
# modify, including oneself), granting menus/resources to a role, and editing a menu or resource
# that one's own roles already hold. A super administrator is exempt; so is the trusted command
# line (no principal). Refusals are 403.


def _acting(principal: Principal | None) -> Principal | None:
    return principal if principal is not None else current_principal()


def _covers_resource(principal: Principal, method: str | None, url: str | None) -> bool:
    """Would the principal's own grants allow every call this (method, pattern) allows?"""
    return _covered_by(grants_of(principal), method, url)


def _grants_of_pattern(method: str | None, url: str | None) -> RoleGrants:
    """What one resource row grants, as the cache holds it (to compare a pattern with another)."""
    grants = RoleGrants()
    if url:
        method = (method or "*").upper()
        if is_wildcard(url):
            grants.wild.append((method, compile_pattern(url)))
        else:
            grants.exact.add((method, normalise_pattern(url)))
    return grants


def _covered_by(grants: list[RoleGrants], method: str | None, url: str | None) -> bool:
    """Do these grants allow every call this (method, pattern) allows? Sound, not complete: a wildcard is
    covered only by the same wildcard or by a `<prefix>/**` over its fixed part."""
    if not url:
        return True  # a group without a pattern grants nothing
    method = (method or "*").upper()
    methods = HTTP_METHODS if method == "*" else (method,)
    norm = normalise_pattern(url)
    if not is_wildcard(norm):
        # A concrete route: the ordinary check answers it (exact or through one of our wildcards). Its
        # parameters stay `{}` in the sample: only a wildcard taking any segment matches that (`/x/0*` not).
        sample = norm
        return all(any(_grant_allows(g, m, norm, sample) for g in grants) for m in methods)
    # A wildcard: covered by the same wildcard, or by one of ours of the form `<prefix>/**` whose
    # prefix is a prefix of its fixed part (a sound, simple sufficient condition).
    fixed = []
    for segment in norm.strip("/").split("/"):
        if "*" in segment or "{}" in segment:
            break
        fixed.append(segment)
    for grants_ in grants:
        for granted, regex in grants_.wild:
            if granted != "*" and method == "*":
                continue
            if granted not in ("*", method):
                continue
            if regex.pattern == compile_pattern(norm).pattern:
                return True
            prefix = _any_rest_prefix(regex.pattern)
            if prefix is not None and fixed[:len(prefix)] == prefix:
                return True
    return False


def _any_rest_prefix(regex: str) -> list[str] | None:
    """For a compiled `/a/b/**` pattern, ["a", "b"]; None for any other wildcard."""
    tail = r"(?:/.*)?/?$"
    if not regex.startswith("^") or not regex.endswith(tail):
        return None
    body = regex[1:-len(tail)]
    segments = body.split("/")[1:] if body else []
    if any(not re.fullmatch(r"[\w.~-]*", re.sub(r"\\(.)", r"\1", s)) for s in segments):
        return None
    return [re.sub(r"\\(.)", r"\1", s) for s in segments]


def _grant_allows(grants: RoleGrants, method: str, key: str, path: str) -> bool:
    if (method, key) in grants.exact or ("*", key) in grants.exact:
        return True
    return any((g == "*" or g == method) and regex.match(path) for g, regex in grants.wild)


def _covers_menu(principal: Principal, menu_id: int, path: str | None) -> bool:
    held = set().union(*(g.menu_ids for g in grants_of(principal)))
    if menu_id in held:
        return True
    paths = set().union(*(g.menu_paths for g in grants_of(principal)))
    return bool(path) and (path.rstrip("/") or "/") in paths


def reach_refusal(principal: Principal | None = None, *, menu_ids: tuple[int, ...] | list[int] | set[int] = (),
                  resource_ids: tuple[int, ...] | list[int] | set[int] = (),
                  roles: Iterable[Any] = ()) -> str | None:
    """Why the principal may not hand out these menus, resources or roles (None: they may). `roles` are role
    rows (anything with `id`, `role_code` and `name`): the principal, above roles, has them at hand. A role's reach
    is its grants, its executors and its data scope (datascope.roles_refusal: none wider than the principal's), so
    every rule asking whether roles reach further than the principal (handing them out, changing a role, taking
    over a user who holds them) asks here."""
    principal = _acting(principal)
    if principal is None or principal.is_super_admin:
        return None
    menu_ids, resource_ids = set(menu_ids), set(resource_ids)
    roles = [(r.id, r.role_code, r.name) for r in roles]
    if roles:
        if any(code == SUPER_ADMIN for _id, code, _name in roles):
            return gettext("只有超级管理员可以授予超级管理员角色")
        ids = [r[0] for r in roles]
        menu_ids |= set(db.session.execute(select(role_menu.c.menu_id).where(role_menu.c.role_id.in_(ids)))
                        .scalars())
        resource_ids |= set(db.session.execute(select(role_resource.c.resource_id).where(
            role_resource.c.role_id.in_(ids))).scalars())
        names = {r[0]: r[2] for r in roles}
    else:
        names = {}
    for _kind, _id, what in _unreached(principal, menu_ids, resource_ids):
        return _refusal(names, what)
    for role_id, _code, _name in roles:  # the executors of the job console (issue 23, 1)
        refusal = job_group_refusal(role_id, principal=principal)
        if refusal:
            return gettext("不能分配超出自己权限范围的角色（%(why)s）", why=refusal)
    if roles:
        return datascope.roles_refusal([role_id for role_id, _code, _name in roles], principal)
    return None


def _unreached(principal: Principal, menu_ids: Iterable[int], resource_ids: Iterable[int]
               ) -> Iterator[tuple[str, int, str]]:
    """("menu" or "resource", id, what it is) of each of these the principal does not hold (live rows only)."""
    menu_ids, resource_ids = sorted(set(menu_ids)), sorted(set(resource_ids))
    if menu_ids:
        for menu_id, path in db.session.execute(select(Menu.id, Menu.path).where(
                Menu.id.in_(menu_ids), Menu.deleted_at.is_(None))):
            if not _covers_menu(principal, menu_id, path):
                yield "menu", menu_id, gettext("菜单 %(path)s", path=path)
    if resource_ids:
        for resource_id, method, url in db.session.execute(
                select(Resource.id, Resource.method, Resource.resource_url)
                .where(Resource.id.in_(resource_ids), Resource.deleted_at.is_(None))):
            if not _covers_resource(principal, method, url):
                yield "resource", resource_id, gettext("资源 %(method)s %(url)s", method=method, url=url)


def roles_beyond_reach(roles: Iterable[Any], principal: Principal | None = None) -> set[int]:
    """The ids of these roles (rows with `id` and `role_code`) that each reach further than the principal:
    reach_refusal's verdict on each role alone (ROLE_SUPER_ADMIN, its menus and resources, its executors, its data
    scope), asked for many roles in three statements however many there are (a page of users or sessions whose
    holders are not the principal's to sign out: users.service.target_refusals)."""
    principal = _acting(principal)
    codes = {r.id: r.role_code for r in roles}
    if principal is None or principal.is_super_admin or not codes:
        return set()
    ids = sorted(codes)
    beyond = {role_id for role_id, code in codes.items() if code == SUPER_ADMIN}
    held = {role_id: RoleGrants() for role_id in ids}
    for role_id, menu_id, path in db.session.execute(
            select(role_menu.c.role_id, Menu.id, Menu.path).join(Menu, Menu.id == role_menu.c.menu_id)
            .where(role_menu.c.role_id.in_(ids), Menu.deleted_at.is_(None))):
        if not _covers_menu(principal, menu_id, path):
            beyond.add(role_id)
        if path and path.startswith("/"):
            held[role_id].menu_paths.add(path.rstrip("/") or "/")
    for role_id, method, url in db.session.execute(
            select(role_resource.c.role_id, Resource.method, Resource.resource_url)
            .join(Resource, Resource.id == role_resource.c.resource_id)
            .where(role_resource.c.role_id.in_(ids), Resource.deleted_at.is_(None))):
        if not _covers_resource(principal, method, url):
            beyond.add(role_id)
        _add_pattern(held[role_id], method, url)
    mine = executor_ids_of(principal)
    if mine is not None:  # the executors of the job console (issue 23, 1), as job_group_refusal asks
        for role_id, job_group_id in db.session.execute(select(role_job_group.c.role_id, role_job_group.c.job_group_id)
                                                        .where(role_job_group.c.role_id.in_(ids))):
            held[role_id].job_group_ids.add(job_group_id)
        samples = job_route_samples()
        beyond |= {role_id for role_id, grants in held.items() if _executors_refusal(grants, mine, set(), samples)}
    return beyond | {role_id for role_id in ids if datascope.roles_refusal([role_id], principal)}


def beyond_reach(menu_ids: Iterable[int] = (), resource_ids: Iterable[int] = (),
                 principal: Principal | None = None) -> tuple[set[int], set[int]]:
    """(menu ids, resource ids) among these that the principal may not hand out (reach_refusal's rule): what a
    grant page shows but does not let them tick."""
    principal = _acting(principal)
    menus: set[int] = set()
    resources: set[int] = set()
    if principal is None or principal.is_super_admin:
        return menus, resources
    for kind, item_id, _what in _unreached(principal, menu_ids, resource_ids):
        (menus if kind == "menu" else resources).add(item_id)
    return menus, resources


def _refusal(role_names: dict[int, str], what: str) -> str:
    if role_names:
        return gettext("不能分配超出自己权限范围的角色（%(what)s 不在您的权限内）", what=what)
    return gettext("不能授予超出自己权限范围的权限（%(what)s 不在您的权限内）", what=what)


def require_within_reach(principal: Principal | None = None, **kwargs: Any) -> None:
    """403 unless the principal holds everything they are handing out (see reach_refusal)."""
    refusal = reach_refusal(principal, **kwargs)
    if refusal:
        raise Forbidden(refusal)


def require_page_reach(new_path: str, principal: Principal | None = None) -> None:
    """Moving a menu onto another page: every role holding the menu opens that page from then on, so the
    editor must be able to open it already, whoever holds the menu."""
    principal = _acting(principal)
    if principal is None or may_open_page(principal, new_path):
        return
    raise Forbidden(gettext("不能把菜单改到自己无权打开的页面上：持有该菜单的角色都会因此能打开它"))


def require_page_release(old_path: str | None, principal: Principal | None = None) -> None:
    """A menu giving up its path (deleted, or moved onto another): the pages under it fall to the menu with the
    next longest path above them, and every role holding that one opens them from then on; so the editor must be
    able to open them already. Pages no menu owns afterwards are the super administrator's alone (no one gains)."""
    principal = _acting(principal)
    if principal is None or not old_path or may_open_page(principal, old_path):
        return
    old = old_path.rstrip("/") or "/"
    snap = snapshot(principal.perm_version)
    if any(_under(old, prefix) for prefix in snap.page_prefixes if prefix != old):
        raise Forbidden(gettext("不能删除或移走这个菜单：它的页面会归上级菜单所有，持有上级菜单的角色都会因此能打开，"
                                "而您自己无权打开这些页面"))


def require_resource_reach(old_method: str | None, old_url: str | None, new_method: str | None,
                           new_url: str | None, principal: Principal | None = None) -> None:
    """Changing a resource's pattern: every role holding it is changed with it, so a pattern that allows more
    than before must allow only what the editor may call already, whoever holds the resource."""
    principal = _acting(principal)
    if principal is None or principal.is_super_admin:
        return
    if pattern_widens(old_method, old_url, new_method, new_url) and not _covers_resource(principal, new_method,
                                                                                         new_url):
        raise Forbidden(gettext("不能把资源扩大到自己权限之外：持有该资源的角色都会因此扩大"))


def require_pattern_reach(method: str | None, url: str | None, principal: Principal | None = None) -> None:
    """Creating or re-pointing a pattern that will be granted (an open-platform catalogue entry): 403 unless
    the principal may call everything it allows."""
    principal = _acting(principal)
    if principal is None or principal.is_super_admin:
        return
    if not _covers_resource(principal, method, url):
        raise Forbidden(_refusal({}, gettext("接口 %(method)s %(url)s", method=(method or "*").upper(), url=url)))


def pattern_widens(old_method: str | None, old_url: str | None, new_method: str | None,
                   new_url: str | None) -> bool:
    """Would (new_method, new_url) allow a call that (old_method, old_url) does not?"""
    return not _covered_by([_grants_of_pattern(old_method, old_url)], new_method, new_url)


def matches_a_route(method: str | None, url: str | None) -> bool:
    """Does the pattern allow at least one API route that needs a grant (one the permission check decides)?"""
    method = (method or "*").upper()
    if not url:
        return False
    regex = compile_pattern(url)
    norm = normalise_pattern(url)
    own_sample = _sample_path(norm)
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint in PUBLIC_ENDPOINTS \
                or rule.endpoint.startswith("api-docs."):
            continue
        view = current_app.view_functions.get(rule.endpoint)
        if view is None or getattr(view, "_public", False) or getattr(view, "_signed_in_only", False):
            continue
        if method != "*" and method not in (rule.methods or set()):
            continue
        # Either side's sample path matched by the other: the pattern and the route share a path.
        route_norm = normalise_pattern(rule.rule)
        if route_norm == norm or regex.match(_sample_path(route_norm)) \
                or compile_pattern(rule.rule).match(own_sample):
            return True
    return False


def _sample_path(norm: str) -> str:
    """A concrete path a normalised pattern matches: `{}` and `*` as one segment, `**` as nothing."""
    segments = []
    for segment in norm.strip("/").split("/"):
        if segment == "**":
            break
        segments.append(segment.replace("{}", "0").replace("*", "0"))
    return "/" + "/".join(segments)


def forget_grants(*, menu_id: int | None = None, resource_id: int | None = None) -> None:
    """A menu or resource is gone: no role holds it any more (the grant tables are access's, so the menus and
    resources modules, below access, ask through the core's port: `core.security.access_rules()`)."""
    if menu_id is not None:
        db.session.execute(delete(role_menu).where(role_menu.c.menu_id == menu_id))
    if resource_id is not None:
        db.session.execute(delete(role_resource).where(role_resource.c.resource_id == resource_id))


# ---------------------------------------------------------------------------------------------
# Executor permissions (issue 23, 1): which executors (job groups) a principal's jobs, runs and report reach.
# A role lists its executors (`sys_role_job_group`); a role listing none reaches every executor when it opens
# the job console at all (a job page or a job API route), and nothing otherwise, so a role that has nothing to
# do with jobs never widens the union of a principal's roles.

JOB_PAGES, JOB_API = "/job", "/api/job/"


def job_route_samples() -> list[str]:
    """A concrete path of every job API route (what a wildcard grant is tried against)."""
    return sorted({_sample_path(normalise_pattern(rule.rule)) for rule in current_app.url_map.iter_rules()
                   if rule.rule.startswith(JOB_API)})


def _opens_jobs(grants: RoleGrants, samples: list[str]) -> bool:
    if any(_under(path, JOB_PAGES) for path in grants.menu_paths):
        return True
    if any(key.startswith(JOB_API) for _method, key in grants.exact):
        return True
    return any(regex.match(sample) for _method, regex in grants.wild for sample in samples)


def _role_executors(grants: RoleGrants) -> frozenset[int] | None:
    """The executors one role reaches: None for every one."""
    if not grants.job_group_ids and grants.job_routes:
        return None
    return frozenset(grants.job_group_ids)


def executor_ids_of(principal: Principal) -> frozenset[int] | None:
    """The executors the principal's roles reach together (the union); None: every executor (the super
    administrator, or a role opening the job console without a list)."""
    if principal.is_super_admin:
        return None
    reached: set[int] = set()
    for grants in grants_of(principal):
        own = _role_executors(grants)
        if own is None:
            return None
        reached |= own
    return frozenset(reached)


def _stored_grants(role_id: int) -> RoleGrants:
    """What a role holds now, read from the tables (a role being written: the cache may not have it yet)."""
    grants = RoleGrants()
    for method, url in db.session.execute(select(Resource.method, Resource.resource_url).join(
            role_resource, role_resource.c.resource_id == Resource.id).where(
            role_resource.c.role_id == role_id, Resource.deleted_at.is_(None))):
        _add_pattern(grants, method, url)
    grants.menu_paths = {(p.rstrip("/") or "/") for (p,) in db.session.execute(select(Menu.path).join(
        role_menu, role_menu.c.menu_id == Menu.id).where(role_menu.c.role_id == role_id, Menu.deleted_at.is_(None)))
        if p and p.startswith("/")}
    grants.job_group_ids = set(db.session.execute(select(role_job_group.c.job_group_id).where(
        role_job_group.c.role_id == role_id)).scalars())
    return grants


def _add_pattern(grants: RoleGrants, method: str | None, url: str | None) -> None:
    if url:
        method = (method or "*").upper()
        if is_wildcard(url):
            grants.wild.append((method, compile_pattern(url)))
        else:
            grants.exact.add((method, normalise_pattern(url)))


def job_group_refusal(role_id: int | None, *, job_group_ids: Iterable[int] | None = None,
                      menu_ids: Iterable[int] | None = None, resource_ids: Iterable[int] | None = None,
                      principal: Principal | None = None, editing: bool = False) -> str | None:
    """Why the principal may not leave this role reaching the executors it would reach (None: they may): a
    principal limited to some executors gives a role only those, and never "every executor" (no list on a role
    opening the job console). Unchanged parts are read from the role as stored: `job_group_ids` when its list
    changes, `menu_ids` / `resource_ids` when its grants are replaced. `editing`: the executors the role
    already lists may stay (keeping is no escalation), as with grants."""
    principal = _acting(principal)
    if principal is None:
        return None
    mine = executor_ids_of(principal)
    if mine is None:
        return None
    grants = _stored_grants(role_id) if role_id else RoleGrants()
    held = set(grants.job_group_ids) if editing else set()
    if job_group_ids is not None:
        grants.job_group_ids = set(job_group_ids)
    if menu_ids is not None or resource_ids is not None:
        grants.exact, grants.wild, grants.menu_paths = set(), [], set()
        for method, url in db.session.execute(select(Resource.method, Resource.resource_url).where(
                Resource.id.in_(list(resource_ids or [])), Resource.deleted_at.is_(None))):
            _add_pattern(grants, method, url)
        grants.menu_paths = {(p.rstrip("/") or "/") for (p,) in db.session.execute(select(Menu.path).where(
            Menu.id.in_(list(menu_ids or [])), Menu.deleted_at.is_(None))) if p and p.startswith("/")}
    return _executors_refusal(grants, mine, held, job_route_samples())


def _executors_refusal(grants: RoleGrants, mine: frozenset[int], held: set[int], samples: list[str]) -> str | None:
    """job_group_refusal's verdict on what a role would hold (`grants`), for a principal reaching `mine`."""
    grants.job_routes = _opens_jobs(grants, samples)
    theirs = _role_executors(grants)
    if theirs is None:
        return gettext("您只能管理部分执行器，不能让角色管理全部执行器（请为角色选择执行器）")
    beyond = sorted(theirs - mine - held)
    if beyond:
        return gettext("不能授予自己管理范围之外的执行器（ID %(id)s）", id=beyond[0])
    return None


def job_group_refusals(role_resources: Mapping[int, Iterable[int]], principal: Principal | None = None
                       ) -> dict[int, str]:
    """`job_group_refusal(role_id, resource_ids=...)` for several roles at once, each holding exactly those
    resources and no menu (an open-platform account's hidden role): role id -> why, for the roles refused. Two
    queries however many roles (a page of accounts), none for a principal reaching every executor."""
    principal = _acting(principal)
    if principal is None or not role_resources:
        return {}
    mine = executor_ids_of(principal)
    if mine is None:
        return {}
    listed: dict[int, set[int]] = {}
    for role_id, job_group_id in db.session.execute(select(role_job_group.c.role_id, role_job_group.c.job_group_id)
                                                    .where(role_job_group.c.role_id.in_(sorted(role_resources)))):
        listed.setdefault(role_id, set()).add(job_group_id)
    wanted = sorted({i for ids in role_resources.values() for i in ids})
    patterns = {rid: (method, url) for rid, method, url in db.session.execute(
        select(Resource.id, Resource.method, Resource.resource_url).where(
            Resource.id.in_(wanted), Resource.deleted_at.is_(None)))} if wanted else {}
    samples = job_route_samples()
    refusals: dict[int, str] = {}
    for role_id, resource_ids in role_resources.items():
        grants = RoleGrants(job_group_ids=listed.get(role_id, set()))
        for resource_id in resource_ids:
            if resource_id in patterns:
                _add_pattern(grants, *patterns[resource_id])
        if refusal := _executors_refusal(grants, mine, set(), samples):
            refusals[role_id] = refusal
    return refusals


def require_holders_within_executors(*, menu_id: int | None = None, resource_id: int | None = None,
                                     principal: Principal | None = None) -> None:
    """After a menu or resource changed (flushed, not committed): a principal limited to some executors must
    not have made a role holding it reach more executors than theirs, or every executor (a role listing none
    that now opens the job console, a second review's way round the executor rules) - 403."""
    principal = _acting(principal)
    if principal is None or executor_ids_of(principal) is None:
        return
    link = role_menu.c.menu_id == menu_id if menu_id is not None else role_resource.c.resource_id == resource_id
    holders = db.session.execute(select((role_menu if menu_id is not None else role_resource).c.role_id)
                                 .where(link)).scalars()
    for role_id in sorted(set(holders)):
        refusal = job_group_refusal(role_id, principal=principal, editing=True)
        if refusal:
            raise Forbidden(gettext("这样修改会让持有它的角色管理更多执行器（%(why)s）", why=refusal))


def require_job_group_reach(role_id: int | None, **kwargs: Any) -> None:
    """403 unless the principal may leave the role reaching these executors (see job_group_refusal)."""
    refusal = job_group_refusal(role_id, **kwargs)
    if refusal:
        raise Forbidden(refusal)
