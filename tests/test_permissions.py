"""The permission check: patterns, the route audit over the whole URL map, the per-process cache
(no query once warm) and grants seen by another real process on its next request."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from pcloud.access import permissions
from pcloud.access.permissions import compile_pattern, normalise_pattern, pattern_matches
from pcloud.core.security import PUBLIC_ENDPOINTS, Principal, mirrored_endpoints
from pcloud.extensions import db
from pcloud.menus.models import Menu
from pcloud.resources.models import Resource
from tests.conftest import (
    ADMIN_PASSWORD,
    ADMIN_PHONE,
    ApiClient,
    PageClient,
    csrf_from,
    is_timed_read,
    sidebar_links,
    start_server,
    statements_seen,
    stop_server,
)
from tests.factories import grant_role, make_role, make_user, next_phone, query, route_code

PASSWORD = "Passw0rd1"
_ARG = re.compile(r"<(?:([^<>:]+):)?([^<>]+)>")


# ---------------------------------------------------------------------------------------------
# Pattern rules of API.md


@pytest.mark.parametrize(("pattern", "method", "granted", "path", "expected"), [
    ("/api/admin/role/{id}/delete", "DELETE", "DELETE", "/api/admin/role/5/delete", True),
    ("/api/admin/role/{id}/delete", "DELETE", "DELETE", "/api/admin/role/5/6/delete", False),
    ("/api/admin/role/*", "POST", "POST", "/api/admin/role/page", True),
    ("/api/admin/role/*", "DELETE", "*", "/api/admin/role/5/delete", False),  # * is one segment
    ("/api/admin/role/*", "POST", "POST", "/api/admin/role/", False),  # ... and never an empty one
    ("/api/admin/role/*/delete", "DELETE", "DELETE", "/api/admin/role/5/delete", True),
    ("/api/admin/role/**", "DELETE", "*", "/api/admin/role/5/delete", True),  # ** is any rest
    ("/api/admin/role/**", "POST", "*", "/api/admin/role", True),  # ... including nothing
    ("/api/admin/role/**", "POST", "*", "/api/admin/roles/page", False),  # segment boundary
    ("/api/**", "GET", "*", "/api/job/jobinfo/5/nodes", True),
    ("/api/**/delete", "DELETE", "DELETE", "/api/admin/menu/7/delete", True),
    ("/api/**/delete", "DELETE", "DELETE", "/api/admin/menu/7/remove", False),
    ("/api/job/*Log", "POST", "POST", "/api/job/joblog/clearLog", False),
    ("/api/job/joblog/*Log", "POST", "POST", "/api/job/joblog/clearLog", True),
    ("/api/admin/role/page", "POST", "GET", "/api/admin/role/page", False),  # GET does not open POST
    ("/api/admin/role/{id}/menu", "HEAD", "GET", "/api/admin/role/3/menu", True),  # HEAD is a GET
])
def test_pattern_rules(pattern: str, method: str, granted: str, path: str, expected: bool) -> None:
    assert pattern_matches(pattern, method, granted, path) is expected


def test_rule_and_resource_url_normalise_to_the_same_key() -> None:
    assert normalise_pattern("/api/admin/role/<int:id>/delete") == normalise_pattern("/api/admin/role/{id}/delete/")
    assert normalise_pattern("/api/admin/role/<int:roleId>/menu") == "/api/admin/role/{}/menu"
    assert compile_pattern("/**").match("/anything/at/all")


def _principal(role_ids: set[int], codes: set[str] | None = None, version: int = 0) -> Principal:
    return Principal(kind="user", id=99, name="t", phone=None, avatar=None, role_ids=frozenset(role_ids),
                     role_codes=frozenset(codes or set()), session_id=1, token="t", perm_version=version)


def test_page_no_menu_owns_is_denied_to_all_but_super_admin(app: Any) -> None:
    with app.app_context():
        version = permissions.current_version()
        nobody = _principal(set(), version=version)
        boss = _principal(set(), {"ROLE_SUPER_ADMIN"}, version)
        assert permissions.page_owner("/system/role/3/edit", permissions.snapshot(version)) == "/system/role"
        assert permissions.page_owner("/elsewhere/page", permissions.snapshot(version)) is None
        assert not permissions.may_open_page(nobody, "/elsewhere/page")
        assert permissions.may_open_page(boss, "/elsewhere/page")
        # the longest menu path owns a page: /system does not open /system/role for a /system grant only
        assert permissions.page_owner("/system/role", permissions.snapshot(version)) == "/system/role"
        assert permissions.page_owner("/system/rolex", permissions.snapshot(version)) == "/system"


# ---------------------------------------------------------------------------------------------
# Helpers: a user whose single role we re-grant between calls


class PrincipalClients:
    def __init__(self, app: Any, code: str = "ROLE_AUDIT") -> None:
        self.app = app
        self.role_id = make_role(app, code)
        self.phone = next_phone()
        make_user(app, phone=self.phone, password=PASSWORD, role_ids=[self.role_id])
        self.api = ApiClient(app.test_client())
        self.api.token = self.api.sign_in(self.phone, PASSWORD)
        self.pages = PageClient(app.test_client())
        assert self.pages.sign_in(self.phone, PASSWORD).status_code == 302

    def grant(self, **kw: Any) -> None:
        grant_role(self.app, self.role_id, **kw)


def sample_path(rule: str) -> str:
    """A concrete path for a rule: ids that do not exist, so no call touches a real row."""
    def value(match: re.Match[str]) -> str:
        converter = match.group(1) or "string"
        if converter.startswith("any("):  # the first word the route allows
            return converter[4:].split(",")[0].strip(" )'\"")
        return "999999" if converter in ("int", "float") else "no-such-thing"

    return _ARG.sub(value, rule)


def _flag(app: Any, endpoint: str, name: str) -> bool:
    return bool(getattr(app.view_functions.get(endpoint), name, False))


def api_routes(app: Any) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every API route that checks grants."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        if rule.endpoint.startswith("api-docs.") or _flag(app, rule.endpoint, "_public") \
                or _flag(app, rule.endpoint, "_signed_in_only"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, rule.rule))
    return sorted(routes, key=lambda r: (r[2], r[1]))


def page_routes(app: Any) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api") or rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint == "static":
            continue
        if _flag(app, rule.endpoint, "_public") or _flag(app, rule.endpoint, "_signed_in_only"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, rule.rule))
    return sorted(routes, key=lambda r: (r[2], r[1]))


def call_api(client: ApiClient, method: str, path: str) -> Any:
    return client.call(method, path, {} if method in ("POST", "PUT") else None)


# ---------------------------------------------------------------------------------------------
# Route audit over the whole URL map


def test_every_protected_api_route_has_a_built_in_resource(app: Any) -> None:
    codes = set(query(app, lambda: db.session.execute(
        select(Resource.code).where(Resource.built_in.is_(True), Resource.deleted_at.is_(None))).scalars()))
    routes = api_routes(app)
    assert len(routes) > 20
    missing = [(e, m) for e, m, _ in routes if route_code(e, m) not in codes]
    assert not missing


def test_api_route_audit(app: Any, api: ApiClient) -> None:
    """No roles: 403. Exactly that route's resource: neither 401 nor 403. Super admin: passes."""
    nobody = ApiClient(app.test_client())
    phone = next_phone()
    make_user(app, phone=phone, password=PASSWORD)
    nobody.token = nobody.sign_in(phone, PASSWORD)
    principal = PrincipalClients(app)
    failures = []
    for endpoint, method, rule in api_routes(app):
        path = sample_path(rule)
        denied = call_api(nobody, method, path)
        if denied.status_code != 403 or denied.get_json()["code"] != 403:
            failures.append(("no roles", method, path, denied.status_code))
        principal.grant(resource_codes=(route_code(endpoint, method),))
        granted = call_api(principal.api, method, path)
        if granted.status_code in (401, 403):
            failures.append(("granted", method, path, granted.status_code, granted.get_json()))
        boss = call_api(api, method, path)
        if boss.status_code in (401, 403):
            failures.append(("super admin", method, path, boss.status_code))
    assert not failures


def test_a_resource_opens_only_its_own_route(app: Any) -> None:
    principal = PrincipalClients(app)
    principal.grant(resource_codes=(route_code("roles_api.page", "POST"),))
    assert principal.api.post("/api/admin/role/page", json={}).status_code == 200
    assert principal.api.post("/api/admin/menu/page", json={}).status_code == 403
    assert principal.api.post("/api/admin/role/create", json={}).status_code == 403
    assert principal.api.delete("/api/admin/role/999999/delete").status_code == 403


def _menu_for(app: Any, path: str) -> int | None:
    def find() -> int | None:
        snap = permissions.snapshot(None)
        owner = permissions.page_owner(path, snap)
        if owner is None:
            return None
        return db.session.execute(select(Menu.id).where(Menu.path == owner, Menu.deleted_at.is_(None))
                                  .order_by(Menu.id)).scalars().first()

    return query(app, find)


def _call_page(client: PageClient, method: str, path: str, token: str) -> Any:
    if method == "GET":
        return client.get(path)
    return client.client.open(path, method=method, data={"csrf_token": token})


def test_page_route_audit(app: Any, pages: PageClient) -> None:
    """Every page: no roles gets the 403 page; a role granting exactly its menu opens it; super admin too."""
    phone = next_phone()
    make_user(app, phone=phone, password=PASSWORD)
    nobody = PageClient(app.test_client())
    assert nobody.sign_in(phone, PASSWORD).status_code == 302
    principal = PrincipalClients(app)
    tokens = {id(c): csrf_from(c.get("/profile").get_data(as_text=True)) for c in (nobody, principal.pages, pages)}
    routes = page_routes(app)
    assert any(r[2].startswith("/system/role") for r in routes) and len(routes) > 10
    failures = []
    for endpoint, method, rule in routes:
        path = sample_path(rule)
        menu_id = _menu_for(app, path)
        if menu_id is None:
            failures.append(("no menu owns the page", path))
            continue
        denied = _call_page(nobody, method, path, tokens[id(nobody)])
        if denied.status_code != 403 or 'data-testid="error-page"' not in denied.get_data(as_text=True):
            failures.append(("no roles", method, path, denied.status_code))
        principal.grant(menu_ids=(menu_id,), resource_codes=mirrored_codes(app, endpoint, method))
        granted = _call_page(principal.pages, method, path, tokens[id(principal.pages)])
        if granted.status_code in (401, 403) or "/login" in granted.headers.get("Location", ""):
            failures.append(("granted", method, path, granted.status_code))
        boss = _call_page(pages, method, path, tokens[id(pages)])
        if boss.status_code in (401, 403) or "/login" in boss.headers.get("Location", ""):
            failures.append(("super admin", method, path, boss.status_code))
    assert not failures


def mirrored_codes(app: Any, endpoint: str, method: str) -> tuple[str, ...]:
    """The resource codes of the API operations a page action performs (its `@mirrors`)."""
    rule_methods = set().union(*(r.methods for r in app.url_map.iter_rules(endpoint)))
    mirrored = mirrored_endpoints(app.view_functions.get(endpoint), method, rule_methods)
    with app.test_request_context():
        return tuple(route_code(e.partition(":")[0], permissions.endpoint_route(e)[0]) for e in mirrored)


def test_every_page_action_names_the_api_operation_it_performs(app: Any) -> None:
    """One permission per operation: every page POST (but sign-in, sign-out, own profile) mirrors an API route,
    and every mirrored route exists (endpoint_route raises for a typo)."""
    unmirrored = [(e, r) for e, m, r in page_routes(app) if m == "POST" and not mirrored_codes(app, e, m)]
    assert not unmirrored


def test_page_action_audit(app: Any, pages: PageClient) -> None:
    """Every page POST: the menu alone gets the 403 page; the menu plus the resource of the API operation it
    performs passes the check (whatever the action then answers); the super administrator passes."""
    principal = PrincipalClients(app)
    token = csrf_from(principal.pages.get("/profile").get_data(as_text=True))
    boss_token = csrf_from(pages.get("/profile").get_data(as_text=True))
    failures = []
    posts = [(e, m, r) for e, m, r in page_routes(app) if m == "POST"]
    assert len(posts) >= 20
    for endpoint, method, rule in posts:
        path = sample_path(rule)
        menu_id = _menu_for(app, path)
        assert menu_id is not None, path
        principal.grant(menu_ids=(menu_id,))
        menu_only = _call_page(principal.pages, method, path, token)
        if menu_only.status_code != 403:
            failures.append(("menu only", path, menu_only.status_code))
        principal.grant(menu_ids=(menu_id,), resource_codes=mirrored_codes(app, endpoint, method))
        granted = _call_page(principal.pages, method, path, token)
        if granted.status_code in (401, 403):
            failures.append(("menu and resource", path, granted.status_code))
        boss = _call_page(pages, method, path, boss_token)
        if boss.status_code in (401, 403):
            failures.append(("super admin", path, boss.status_code))
    assert not failures


def test_the_user_page_grant_alone_reaches_no_page_action(app: Any, pages: PageClient) -> None:
    """The finding: 用户管理 menu + the user-list API only: the pages refuse what the API refuses."""
    victim_phone = next_phone()
    victim = make_user(app, phone=victim_phone, password=PASSWORD)
    principal = PrincipalClients(app)
    principal.grant(menu_paths=("/system", "/system/user"), resource_codes=(route_code("users_api.page", "POST"),))
    assert principal.pages.get("/system/user/").status_code == 200
    assert principal.api.put("/api/admin/system/user/modify", json={"id": victim, "password": "Reset1234"}
                          ).status_code == 403
    edit = principal.pages.submit(f"/system/user/{victim}/edit", data={
        "phone": victim_phone, "name": "被改", "password": "Reset1234", "state": "0", "dept_id": "0",
        "post_id": "0", "grade_id": "0"})
    assert edit.status_code == 403
    for action in ("delete", "offline"):
        assert principal.pages.submit("/system/user/", f"/system/user/{victim}/{action}").status_code == 403
    assert principal.pages.submit("/system/user/", "/system/user/export").status_code == 403
    assert ApiClient(app.test_client()).sign_in(victim_phone, PASSWORD)  # password unchanged, still there


def test_manager_picker_shows_phones_only_with_the_user_list_grant(app: Any) -> None:
    phone = next_phone()
    make_user(app, phone=phone, name="经理甲")
    principal = PrincipalClients(app)
    principal.grant(menu_paths=("/system", "/system/dept"))
    items = principal.pages.get("/system/dept/managers?q=经理").get_json()["items"]
    assert [i["name"] for i in items] == ["经理甲"] and items[0]["phone"] is None
    assert principal.pages.get(f"/system/dept/managers?q={phone[-6:]}").get_json()["items"] == []  # no phone search
    principal.grant(menu_paths=("/system", "/system/dept"), resource_codes=(route_code("users_api.page", "POST"),))
    items = principal.pages.get("/system/dept/managers?q=经理").get_json()["items"]
    assert items[0]["phone"] == phone


# ---------------------------------------------------------------------------------------------
# Wildcards end to end


def test_wildcard_resources_end_to_end(app: Any, api: ApiClient) -> None:
    principal = PrincipalClients(app)
    one_segment = api.data("POST", "/api/admin/resource/create", {
        "name": "角色接口（一段）", "resourceUrl": "/api/admin/role/*", "method": "POST"})
    principal.grant(resource_ids=(one_segment,))
    assert principal.api.post("/api/admin/role/page", json={}).status_code == 200
    assert principal.api.post("/api/admin/role/create", json={}).status_code == 422  # passed the check
    assert principal.api.get("/api/admin/role/1/menu").status_code == 403  # two segments
    assert principal.api.get("/api/admin/role/refresh").status_code == 403  # POST only

    any_rest = api.data("POST", "/api/admin/resource/create", {
        "name": "角色接口（全部，只读）", "resourceUrl": "/api/admin/role/**", "method": "GET"})
    principal.grant(resource_ids=(any_rest,))
    assert principal.api.get("/api/admin/role/1/menu").status_code == 200
    assert principal.api.get("/api/admin/role/refresh").status_code == 200
    assert principal.api.delete("/api/admin/role/999999/delete").status_code == 403  # GET does not open DELETE
    assert principal.api.post("/api/admin/role/page", json={}).status_code == 403

    every_method = api.data("POST", "/api/admin/resource/create", {
        "name": "角色删除（任意方法）", "resourceUrl": "/api/admin/role/{id}/delete", "method": "*"})
    principal.grant(resource_ids=(every_method,))
    assert principal.api.delete("/api/admin/role/999999/delete").status_code == 404  # passed, no such role
    assert principal.api.post("/api/admin/menu/page", json={}).status_code == 403


def test_a_deleted_resource_stops_granting(app: Any, api: ApiClient) -> None:
    principal = PrincipalClients(app)
    res_id = api.data("POST", "/api/admin/resource/create", {
        "name": "菜单列表", "resourceUrl": "/api/admin/menu/page", "method": "POST"})
    principal.grant(resource_ids=(res_id,))
    assert principal.api.post("/api/admin/menu/page", json={}).status_code == 200
    api.data("DELETE", f"/api/admin/resource/{res_id}/delete")
    assert principal.api.post("/api/admin/menu/page", json={}).status_code == 403


# ---------------------------------------------------------------------------------------------
# Sidebar and adminInfo follow the grants


def test_sidebar_shows_only_granted_menus_in_sequence_order(app: Any, pages: PageClient) -> None:
    principal = PrincipalClients(app)
    principal.grant(menu_paths=("/system", "/system/user", "/system/menu", "/system/role"))
    links = sidebar_links(principal.pages.get("/").get_data(as_text=True))
    names = [text for href, text, _ in links if href.startswith("/system/")]
    assert names == ["用户管理", "角色管理", "菜单管理"]
    # moving 菜单管理 first changes the order the sidebar shows
    menu_id = query(app, lambda: db.session.execute(select(Menu.id).where(Menu.path == "/system/menu")).scalar())
    pages.submit(f"/system/menu/{menu_id}/move", data={"parent_id": _menu_for(app, "/system"), "sequence": 0})
    links = sidebar_links(principal.pages.get("/").get_data(as_text=True))
    assert [text for href, text, _ in links if href.startswith("/system/")][0] == "菜单管理"
    assert principal.pages.get("/system/dept/").status_code == 403


def test_admin_info_lists_what_the_roles_grant(app: Any) -> None:
    principal = PrincipalClients(app)
    principal.grant(menu_paths=("/system", "/system/role"),
                 resource_codes=(route_code("roles_api.page", "POST"), route_code("roles_api.grant", "POST")))
    data = principal.api.data("POST", "/api/admin/system/adminInfo")
    assert data["permissions"] == ["ROLE_AUDIT"]
    assert [n["name"] for n in data["routers"]] == ["系统管理"]
    assert [c["name"] for c in data["routers"][0]["children"]] == ["角色管理"]
    assert data["resources"] == sorted([route_code("roles_api.grant", "POST"), route_code("roles_api.page", "POST")])


def test_admin_info_names_each_granted_resource_code_once(app: Any, api: ApiClient) -> None:
    """Two 访问资源 made with the same method and pattern have one code: adminInfo listed it twice."""
    same = {"name": "职级列表", "resourceUrl": "/api/admin/grade/page", "method": "POST"}
    ids = [api.data("POST", "/api/admin/resource/create", {**same, "name": f"职级列表{n}"}) for n in (1, 2)]
    principal = PrincipalClients(app)
    principal.grant(resource_ids=tuple(ids))
    data = principal.api.data("POST", "/api/admin/system/adminInfo")
    assert data["resources"] == ["POST:/api/admin/grade/page"]
    everything = api.data("POST", "/api/admin/system/adminInfo")["resources"]
    assert everything.count("POST:/api/admin/grade/page") == 1
    assert len(everything) == len(set(everything))


# ---------------------------------------------------------------------------------------------
# The cache: reloads on a version change, costs no query once warm


def test_no_permission_query_once_the_cache_is_warm(app: Any, api: ApiClient) -> None:
    principal = PrincipalClients(app)
    principal.grant(resource_codes=(route_code("roles_api.page", "POST"),), menu_paths=("/system/role",))
    assert principal.api.post("/api/admin/role/page", json={}).status_code == 200  # warms the cache
    assert api.post("/api/admin/role/page", json={}).status_code == 200
    loads = permissions.cache_loads()

    def user_api() -> None:
        assert principal.api.post("/api/admin/role/page", json={}).status_code == 200

    def admin_api() -> None:
        assert api.post("/api/admin/role/page", json={}).status_code == 200

    def user_page() -> None:
        assert principal.pages.get("/system/role/").status_code == 200

    user_log, admin_log, page_log = (statements_seen(app, call) for call in (user_api, admin_api, user_page))
    assert permissions.cache_loads() == loads
    grant_tables = ("sys_role_resource", "sys_role_menu", "sys_resource")
    for statement in user_log + page_log:
        assert not any(t in statement for t in grant_tables), statement
        assert "sys_perm_version" not in statement or "auth_session" in statement, statement
    # the check itself adds nothing: a granted user costs the same queries as the super administrator. The reads of
    # the version rows (the principal's lookup, the kept settings' check) are left out: on PostgreSQL whether they run
    # depends on when the NOTIFY of the test's own seeding arrives, which is asynchronous.

    def without_lookup(statements: list[str]) -> list[str]:
        return [s for s in statements if not is_timed_read(s)]

    assert len(without_lookup(user_log)) == len(without_lookup(admin_log))


def test_a_version_change_reloads_on_the_next_request(app: Any, api: ApiClient) -> None:
    principal = PrincipalClients(app)
    assert principal.api.post("/api/admin/role/page", json={}).status_code == 403
    loads = permissions.cache_loads()
    principal.grant(resource_codes=(route_code("roles_api.page", "POST"),))
    assert principal.api.post("/api/admin/role/page", json={}).status_code == 200
    assert permissions.cache_loads() == loads + 1
    api.data("GET", "/api/admin/role/refresh")
    assert principal.api.post("/api/admin/role/page", json={}).status_code == 200
    assert permissions.cache_loads() == loads + 2


# ---------------------------------------------------------------------------------------------
# Two real processes on one database


@pytest.mark.slow
def test_a_grant_through_one_process_is_enforced_by_another(app: Any, database_url: str, instance_dir: Path
                                                             ) -> None:
    first = start_server(database_url, instance_dir, workers=2)
    second = start_server(database_url, instance_dir, workers=2)
    try:
        admin = requests.Session()
        resp = admin.post(f"{first.url}/api/oauth/token", json={"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD,
                                                               "grantType": "ADMIN"}, timeout=60)
        admin.headers["Authorization"] = "Bearer " + resp.json()["data"]["token"]
        role_id = admin.post(f"{first.url}/api/admin/role/create", json={"name": "跨进程", "roleCode": "ROLE_X"},
                             timeout=60).json()["data"]
        phone = next_phone()
        created = admin.post(f"{first.url}/api/admin/system/user/create", timeout=60, json={
            "phone": phone, "name": "跨进程用户", "password": PASSWORD, "roleIds": [role_id]})
        assert created.status_code == 200, created.text
        user = requests.Session()
        resp = user.post(f"{second.url}/api/oauth/token", json={"phone": phone, "password": PASSWORD,
                                                                "grantType": "ADMIN"}, timeout=60)
        user.headers["Authorization"] = "Bearer " + resp.json()["data"]["token"]
        target = f"{second.url}/api/admin/role/page"
        # several calls, so every worker of the second server has loaded (and cached) the old grants
        assert {user.post(target, json={}, timeout=60).status_code for _ in range(6)} == {403}
        res_id = query(app, lambda: db.session.execute(select(Resource.id).where(
            Resource.code == route_code("roles_api.page", "POST"))).scalar())
        granted = admin.post(f"{first.url}/api/admin/permission/grant", timeout=60,
                             json={"roleId": role_id, "routers": [], "resources": [res_id]})
        assert granted.status_code == 200, granted.text
        assert {user.post(target, json={}, timeout=60).status_code for _ in range(6)} == {200}
        revoked = admin.post(f"{first.url}/api/admin/permission/grant", timeout=60,
                             json={"roleId": role_id, "routers": [], "resources": []})
        assert revoked.status_code == 200
        assert {user.post(target, json={}, timeout=60).status_code for _ in range(6)} == {403}
    finally:
        stop_server(first)
        stop_server(second)


def test_a_grant_beyond_ones_reach_is_refused_in_the_callers_language(app: Any, client: Any) -> None:
    """Issue 24 item 10: the reach refusal (access.permissions) says what is out of reach, in English on request."""
    granter = make_role(app, "ROLE_GRANTER", "Granters")
    grant_role(app, granter, resource_codes=(route_code("roles_api.grant", "POST"),))
    target = make_role(app, "ROLE_TARGET", "Targets")
    phone = next_phone()
    make_user(app, phone=phone, password="Passw0rd1", role_ids=[granter])
    api = ApiClient(client)
    api.token = api.sign_in(phone, "Passw0rd1")
    beyond = query(app, lambda: db.session.execute(select(Resource.id).where(
        Resource.code == route_code("menus_api.create", "POST"))).scalar_one())
    body = {"roleId": target, "routers": [], "resources": [beyond]}
    english = api.post("/api/admin/permission/grant", json=body, headers={"Accept-Language": "en"})
    assert english.status_code == 403
    assert english.get_json()["msg"] == ("You cannot grant permissions beyond your own (resource POST "
                                         "/api/admin/menu/create is not within your permissions)")
    chinese = api.post("/api/admin/permission/grant", json=body)
    assert chinese.status_code == 403 and "不在您的权限内" in chinese.get_json()["msg"]
