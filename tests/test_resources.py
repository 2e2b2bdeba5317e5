"""访问资源: built-in resources synced from the route table, the API, the lazy tree page."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from pcloud.access.models import role_resource
from pcloud.extensions import db
from pcloud.resources.models import Resource
from tests.conftest import (
    ROOT,
    TEST_CONFIG,
    ApiClient,
    PageClient,
    assert_refused,
    assert_save_after_delete_keeps_typed,
    logged_actions,
)
from tests.factories import grant_role, make_role, perm_version, query, route_code


def blueprint_routes(app: Any, blueprint: str) -> set[tuple[str, str]]:
    """(method, path as the resource shows it) of every guarded route of one API blueprint, from the URL map:
    what `pcloud sync` should have made one built-in resource each for."""
    found = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint.startswith(blueprint + ".") and not getattr(view, "_public", False):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def resource(app: Any, code: str) -> Resource:
    def read() -> Resource:
        row = db.session.execute(select(Resource).where(Resource.code == code)).scalar_one()
        db.session.expunge(row)
        return row

    return query(app, read)


def page(api: ApiClient, **body: Any) -> tuple[list[dict[str, Any]], int]:
    resp = api.post("/api/admin/resource/page", json=body)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["data"], resp.get_json()["total"]


# ---------------------------------------------------------------------------------------------
# Built-in resources from the route table


def test_one_built_in_resource_per_api_route_grouped_per_module(app: Any) -> None:
    delete = resource(app, route_code("roles_api.delete", "DELETE"))
    assert (delete.name, delete.resource_url, delete.method, delete.built_in) == (
        "删除角色（软删除；仍有用户时拒绝）", "/api/admin/role/{id}/delete", "DELETE", True)
    group = resource(app, "group:roles_api")
    assert group.name == "角色管理" and group.parent_id == 0 and group.resource_url == ""
    assert delete.parent_id == group.id
    role_menu = resource(app, route_code("roles_api.role_menu", "GET"))
    assert role_menu.resource_url == "/api/admin/role/{roleId}/menu" and role_menu.parent_id == group.id
    grant = resource(app, route_code("roles_api.grant", "POST"))
    assert grant.resource_url == "/api/admin/permission/grant" and grant.parent_id == group.id
    assert resource(app, route_code("users_api.offline", "GET")).resource_url == "/api/admin/system/user/{id}/offline"
    assert resource(app, "group:users_api").name == "用户管理"
    codes = set(query(app, lambda: db.session.execute(select(Resource.code).where(Resource.built_in.is_(True)))
                      .scalars()))
    # public routes, signed-in-only routes and the OpenAPI document need no grant: no resource
    for endpoint in ("auth_api.token", "auth_api.sms_code", "auth_api.logout", "auth_api.admin_info",
                     "api-docs.openapi_json"):
        assert not any(c.startswith(f"api:{endpoint}:") for c in codes), endpoint
    api_rules = [(r.endpoint, m) for r in app.url_map.iter_rules() if r.rule.startswith("/api/")
                 for m in r.methods - {"HEAD", "OPTIONS"}]
    route_codes = {c for c in codes if c.startswith("api:")}
    assert route_codes <= {route_code(e, m) for e, m in api_rules}
    assert all(resource(app, c).parent_id for c in list(route_codes)[:5])


def test_sync_is_idempotent_and_retires_stale_built_ins(app: Any) -> None:
    from pcloud.resources import service

    rid = make_role(app, "ROLE_READER")
    with app.app_context():
        assert service.sync_builtin_resources() == {"created": 0, "updated": 0, "retired": 0}
        group = db.session.execute(select(Resource).where(Resource.code == "group:roles_api")).scalar_one()
        stale = Resource(code="api:roles_api.gone:GET", name="旧接口", resource_url="/api/admin/role/gone",
                         method="GET", built_in=True, parent_id=group.id)
        renamed = db.session.execute(select(Resource).where(
            Resource.code == route_code("roles_api.page", "POST"))).scalar_one()
        renamed.name = "被改过的名字"
        db.session.add(stale)
        db.session.commit()
        stale_id, group_id = stale.id, group.id
        db.session.remove()
    grant_role(app, rid, resource_ids=(stale_id, group_id))
    before = perm_version(app)
    with app.app_context():
        assert service.sync_builtin_resources() == {"created": 0, "updated": 1, "retired": 1}
        db.session.remove()
    assert perm_version(app) > before
    assert resource(app, "api:roles_api.gone:GET").deleted_at is not None
    assert resource(app, route_code("roles_api.page", "POST")).name == "角色分页列表（含用户数）"
    held = query(app, lambda: set(db.session.execute(
        select(role_resource.c.resource_id).where(role_resource.c.role_id == rid)).scalars()))
    assert held == {group_id}  # the stale resource's grant went with it
    unchanged = perm_version(app)
    with app.app_context():
        assert service.sync_builtin_resources() == {"created": 0, "updated": 0, "retired": 0}
        db.session.remove()
    assert perm_version(app) == unchanged  # nothing changed, nothing bumped


SYNC_SCRIPT = """
import json, os, sys, time
from pathlib import Path
from pcloud import create_app
from pcloud.cli import run_sync
app = create_app()
barrier = Path(sys.argv[1])
(barrier / f"ready-{os.getpid()}").touch()  # imported and ready
deadline = time.monotonic() + 60
while not (barrier / "go").exists():  # the test opens the gate once all four are ready
    if time.monotonic() > deadline:
        sys.exit("the gate never opened")
    time.sleep(0.001)
with app.app_context():
    print(json.dumps(run_sync()["resources"]))
"""


@pytest.mark.slow
def test_concurrent_syncs_leave_exactly_one_row_per_code(app: Any, database_url: str, instance_dir: Path,
                                                         tmp_path: Path) -> None:
    """Four processes run the sync of `pcloud sync` at the same moment, without the setup lock."""
    from pcloud.menus.builtin import BUILTIN_MENUS
    from pcloud.menus.models import Menu

    with app.app_context():
        builtins = len(__import__("pcloud.resources.service", fromlist=["x"]).wanted_builtins())
        from pcloud.openplatform.service import BUILTIN_ENTRIES

        wanted = builtins + 1 + len(BUILTIN_ENTRIES)  # plus the open platform's interface catalogue
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM sys_role_resource"))
            conn.execute(text("DELETE FROM sys_resource"))
            conn.execute(text("DELETE FROM sys_role_menu"))
            conn.execute(text("DELETE FROM sys_menu"))
    env = {**os.environ, "DATABASE_URL": database_url, "PCLOUD_SECRET_KEY": TEST_CONFIG["SECRET_KEY"],
           "PCLOUD_INSTANCE_DIR": str(instance_dir)}
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", SYNC_SCRIPT, str(barrier)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    # A real barrier, not a wall-clock guess: the gate opens only when all four have imported the app,
    # so the four syncs do race, however slowly a loaded machine starts them.
    deadline = time.monotonic() + 90
    while len(list(barrier.glob("ready-*"))) < 4:
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "a sync never got ready"
        time.sleep(0.01)
    (barrier / "go").touch()
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1][-2000:] for o in outputs]

    def counts() -> tuple[int, int, int]:
        total = db.session.execute(select(func.count()).select_from(Resource)).scalar_one()
        distinct = db.session.execute(select(func.count(func.distinct(Resource.code)))).scalar_one()
        orphans = db.session.execute(select(func.count()).select_from(Resource).where(
            Resource.code.like("api:%"), Resource.parent_id.not_in(select(Resource.id).where(
                Resource.code.like("group:%"))))).scalar_one()
        return total, distinct, orphans

    assert query(app, counts) == (wanted, wanted, 0)
    menus = query(app, lambda: db.session.execute(select(func.count(), func.count(func.distinct(Menu.code)))
                                                  .select_from(Menu)).one())
    assert tuple(menus) == (len(BUILTIN_MENUS), len(BUILTIN_MENUS))
    created = sum(json.loads(o[0].strip().splitlines()[-1])["created"] for o in outputs)
    assert created == builtins  # each row was created by exactly one of the processes


# ---------------------------------------------------------------------------------------------
# API


def test_page_lists_one_level_with_has_children(app: Any, api: ApiClient) -> None:
    roots, total = page(api, pageSize=100)
    assert total == len(roots) and all(r["parentId"] == 0 for r in roots)
    group = next(r for r in roots if r["name"] == "角色管理")
    assert group["hasChildren"] is True and group["builtIn"] is True and group["bizTypeName"] == "接口"
    assert set(group) >= {"id", "parentId", "name", "label", "resourceUrl", "method", "bizType", "bizTypeName",
                          "builtIn", "hasChildren", "gmtCreatedDate", "gmtModifiedName"}
    children, child_total = page(api, parentId=group["id"], pageSize=100)
    assert child_total == len(children) and all(c["hasChildren"] is False for c in children)
    assert {(c["method"], c["resourceUrl"]) for c in children} == blueprint_routes(app, "roles_api")
    first_page, _ = page(api, parentId=group["id"], page=1, pageSize=3)
    assert len(first_page) == 3
    # a name searches every level unless a parent is given
    found, found_total = page(api, name="删除角色")
    assert found_total == 1 and found[0]["resourceUrl"] == "/api/admin/role/{id}/delete"
    assert page(api, name="删除角色", parentId=0)[1] == 0
    assert api.post("/api/admin/resource/page", json={"parent": 1}).status_code == 422


def test_create_modify_delete(app: Any, api: ApiClient) -> None:
    before = perm_version(app)
    group = api.data("POST", "/api/admin/resource/create", {"name": "报表接口", "resourceUrl": "/api/report/**"})
    assert perm_version(app) > before
    child = api.data("POST", "/api/admin/resource/create", {
        "parentId": group, "name": "日报导出", "resourceUrl": "/api/report/daily/{id}/export", "method": "post",
        "bizType": 1})
    children, _ = page(api, parentId=group)
    assert children[0]["method"] == "POST" and children[0]["bizTypeName"] == "按钮"
    assert children[0]["builtIn"] is False
    roots, _ = page(api, name="报表接口")
    assert roots[0]["hasChildren"] is True and roots[0]["method"] == "*"

    api.data("PUT", "/api/admin/resource/modify", {"id": child, "name": "日报", "method": "GET", "parentId": 0})
    moved, _ = page(api, name="日报")
    assert moved[0]["parentId"] == 0 and moved[0]["method"] == "GET"
    api.data("PUT", "/api/admin/resource/modify", {"id": child, "parentId": group})

    for body, field in (({"name": "x", "resourceUrl": "api/no-slash"}, "resourceUrl"),
                        ({"name": "x", "resourceUrl": "/api/x y"}, "resourceUrl"),
                        ({"name": "x", "resourceUrl": "/api/x", "method": "PATCH"}, "method"),
                        ({"name": "x", "resourceUrl": "/api/x", "bizType": 3}, "bizType"),
                        ({"name": "x", "resourceUrl": "/api/x", "parentId": 999999}, "parentId"),
                        ({"resourceUrl": "/api/x"}, "name"),
                        ({"name": "x"}, "resourceUrl")):
        resp = api.post("/api/admin/resource/create", json=body)
        assert resp.status_code == 422 and field in resp.get_json()["errors"], (body, resp.get_json())
    below_child = api.put("/api/admin/resource/modify", json={"id": group, "parentId": child})
    assert below_child.status_code == 422 and "parentId" in below_child.get_json()["errors"]

    rid = make_role(app, "ROLE_READER")
    grant_role(app, rid, resource_ids=(child,))
    refused = api.delete(f"/api/admin/resource/{group}/delete")
    assert refused.status_code == 409 and "子资源" in refused.get_json()["msg"]
    api.data("DELETE", f"/api/admin/resource/{child}/delete")
    assert query(app, lambda: db.session.execute(select(func.count()).select_from(role_resource).where(
        role_resource.c.role_id == rid)).scalar()) == 0
    api.data("DELETE", f"/api/admin/resource/{group}/delete")
    assert page(api, name="报表接口")[1] == 0 and page(api, name="日报")[1] == 0
    assert api.delete(f"/api/admin/resource/{group}/delete").status_code == 404


def test_built_in_resources_are_protected(app: Any, api: ApiClient) -> None:
    builtin = resource(app, route_code("roles_api.page", "POST"))
    group = resource(app, "group:roles_api")
    before = perm_version(app)
    assert api.put("/api/admin/resource/modify", json={"id": builtin.id, "name": "x"}).status_code == 409
    assert api.delete(f"/api/admin/resource/{builtin.id}/delete").status_code == 409
    assert api.delete(f"/api/admin/resource/{group.id}/delete").status_code == 409
    assert perm_version(app) == before and resource(app, builtin.code or "").name == builtin.name
    # a custom resource may live under a built-in group
    assert api.post("/api/admin/resource/create", json={
        "parentId": group.id, "name": "角色按钮", "resourceUrl": "/api/admin/role/export", "bizType": 1}
    ).status_code == 200


def test_resource_changes_are_in_the_action_log(app: Any, api: ApiClient) -> None:

    rid = api.data("POST", "/api/admin/resource/create", {"name": "报表", "resourceUrl": "/api/report"})
    api.data("PUT", "/api/admin/resource/modify", {"id": rid, "name": "报表2"})
    api.data("DELETE", f"/api/admin/resource/{rid}/delete")
    assert [title for title, _ in logged_actions(app)] == ["资源新增", "资源修改", "资源删除"]


# ---------------------------------------------------------------------------------------------
# Pages


def test_tree_page_shows_roots_and_loads_children_lazily(app: Any, pages: PageClient) -> None:
    html = pages.get("/system/resource/").get_data(as_text=True)
    group = resource(app, "group:roles_api")
    assert "角色管理" in html and "/api/admin/role/{id}/delete" not in html  # children not loaded yet
    assert f'data-url="/system/resource/{group.id}/children?depth=1"' in html
    fragment = pages.get(f"/system/resource/{group.id}/children?depth=1")
    rows = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in rows
    routes = blueprint_routes(app, "roles_api")
    assert rows.count("<tr") == len(routes) and 'data-depth="1"' in rows
    assert all(url in rows for _, url in routes)
    one_level = pages.get(f"/system/resource/?parent_id={group.id}").get_data(as_text=True)
    assert "/api/admin/role/{id}/delete" in one_level and "breadcrumb" in one_level
    search = pages.get("/system/resource/?name=删除角色").get_data(as_text=True)
    assert "/api/admin/role/{id}/delete" in search and "/api/admin/role/page" not in search


def test_children_fragment_pages_long_levels(app: Any, api: ApiClient, pages: PageClient) -> None:
    group = api.data("POST", "/api/admin/resource/create", {"name": "很多", "resourceUrl": "/api/many/**"})
    with app.app_context():
        db.session.add_all([Resource(parent_id=group, name=f"子{i}", resource_url=f"/api/many/{i}")
                            for i in range(130)])
        db.session.commit()
        db.session.remove()
    first = pages.get(f"/system/resource/{group}/children?depth=1").get_data(as_text=True)
    assert first.count('data-id="') == 100 and "加载更多（还有 30 项）" in first
    second = pages.get(f"/system/resource/{group}/children?depth=1&page=2").get_data(as_text=True)
    assert second.count('data-id="') == 30 and "加载更多" not in second


def test_create_edit_delete_pages(app: Any, pages: PageClient) -> None:
    resp = pages.submit("/system/resource/new", data={"parent_id": "0", "name": "报表接口",
                                                      "resource_url": "/api/report/**", "method": "GET",
                                                      "biz_type": "0"})
    assert resp.status_code == 302
    rid = query(app, lambda: db.session.execute(select(Resource.id).where(Resource.name == "报表接口")).scalar())
    form = pages.get(f"/system/resource/new?parent_id={rid}").get_data(as_text=True)
    assert f'<option selected value="{rid}">' in form
    bad = pages.submit("/system/resource/new", data={"parent_id": "0", "name": "坏", "resource_url": "no-slash",
                                                     "method": "*", "biz_type": "0"})
    assert bad.status_code == 422 and "须以 / 开头" in bad.get_data(as_text=True)
    edited = pages.submit(f"/system/resource/{rid}/edit", data={"parent_id": "0", "name": "报表",
                                                                "resource_url": "/api/report/**", "method": "*",
                                                                "biz_type": "1"})
    assert edited.status_code == 302
    assert resource_by_id(app, rid).biz_type == 1 and resource_by_id(app, rid).name == "报表"
    builtin = resource(app, route_code("roles_api.page", "POST"))
    view = pages.get(f"/system/resource/{builtin.id}/edit").get_data(as_text=True)
    assert "不能修改或删除" in view and 'name="resource_url"' not in view
    refused = pages.submit(f"/system/resource/{rid}/edit", f"/system/resource/{builtin.id}/edit",
                           data={"parent_id": "0", "name": "x", "resource_url": "/x", "method": "*", "biz_type": "0"})
    assert refused.status_code == 409 and resource(app, builtin.code or "").name == builtin.name
    blocked = pages.submit("/system/resource/", f"/system/resource/{builtin.id}/delete", follow_redirects=True)
    assert "不能删除：内置资源不能删除" in blocked.get_data(as_text=True)
    done = pages.submit("/system/resource/", f"/system/resource/{rid}/delete", follow_redirects=True)
    assert "资源「报表」已删除" in done.get_data(as_text=True)


def resource_by_id(app: Any, rid: int) -> Resource:
    def read() -> Resource:
        row = db.session.get(Resource, rid)
        db.session.expunge(row)
        return row

    return query(app, read)


def test_a_refused_edit_is_logged_as_failed_on_the_page_and_the_api(app: Any, pages: PageClient,
                                                                     api: ApiClient) -> None:
    """A built-in resource: the page and the API both answer 409 with the service's reason (the page used
    to say it itself and log "409"), and log it as failed."""
    from pcloud.resources.models import Resource

    res = query(app, lambda: db.session.execute(select(Resource).where(
        Resource.code == route_code("users_api.create", "POST"))).scalar_one())
    refusal = "内置资源由系统根据接口自动维护，不能修改"
    page = pages.submit(f"/system/resource/{res.id}/edit", data={
        "parent_id": str(res.parent_id), "name": "改名", "resource_url": res.resource_url, "method": res.method,
        "biz_type": "0"})
    assert_refused(app, page, "资源修改", 409, refusal)
    resp = api.put("/api/admin/resource/modify", {"id": res.id, "name": "改名"})
    assert_refused(app, resp, "资源修改", 409, refusal)
    assert query(app, lambda: db.session.get(Resource, res.id).name) == res.name


def test_saving_a_resource_deleted_meanwhile_keeps_the_typed_values(pages: PageClient, api: ApiClient) -> None:
    rid = api.data("POST", "/api/admin/resource/create", {"name": "将被删除", "resourceUrl": "/api/doomed/**"})
    assert_save_after_delete_keeps_typed(
        pages, f"/system/resource/{rid}/edit", lambda: api.data("DELETE", f"/api/admin/resource/{rid}/delete"),
        {"parent_id": "0", "name": "我刚改的资源", "resource_url": "/api/doomed/**", "method": "GET", "biz_type": "0"},
        "我刚改的资源", "资源")


# ---------------------------------------------------------------------------------------------
# Reach: a resource is as strong as what it allows; changing or deleting it changes every role holding it


BEYOND = "该资源超出了您的权限范围（您自己不能调用它），不能修改或删除：持有它的角色都会随之改变"


def _resource_admin(app: Any) -> Any:
    """A user whose one role holds the 访问资源 page and its API routes, and nothing of the users'."""
    from tests.test_permissions import PrincipalClients

    principal = PrincipalClients(app, "ROLE_RESOURCES")
    codes = tuple(route_code(rule.endpoint, method) for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("resources_api.")
                  for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    principal.grant(menu_paths=("/system", "/system/resource"), resource_codes=codes)
    return principal


def test_a_resource_beyond_the_editors_reach_is_not_theirs_to_modify_or_delete(app: Any, api: ApiClient) -> None:
    """A review: an administrator holding only 访问资源 deleted the resource the super administrator had made for
    the user list (200), and every role holding it lost it; a rename went through as well. A resource the editor
    cannot call is theirs neither to modify nor to delete (403 with the reason, logged failed, nothing changed),
    as a role or an open-platform account holding more than them is not; within reach it is, and the super
    administrator reaches everything."""
    principal = _resource_admin(app)
    users = api.data("POST", "/api/admin/resource/create", {
        "name": "用户分页", "resourceUrl": "/api/admin/system/user/page", "method": "POST"})
    hr = make_role(app, "ROLE_HR")
    grant_role(app, hr, resource_ids=(users,))
    before = perm_version(app)
    assert_refused(app, principal.api.put("/api/admin/resource/modify", {"id": users, "name": "改名"}),
                   "资源修改", 403, BEYOND)
    assert_refused(app, principal.api.put("/api/admin/resource/modify", {"id": users, "parentId": 0,
                                                                         "method": "POST"}), "资源修改", 403, BEYOND)
    assert_refused(app, principal.api.delete(f"/api/admin/resource/{users}/delete"), "资源删除", 403, BEYOND)
    row = resource_by_id(app, users)
    assert row.deleted_at is None and row.name == "用户分页" and perm_version(app) == before
    assert query(app, lambda: set(db.session.execute(select(role_resource.c.resource_id).where(
        role_resource.c.role_id == hr)).scalars())) == {users}
    # within reach: theirs to change and delete
    own = principal.api.data("POST", "/api/admin/resource/create", {
        "name": "资源分页", "resourceUrl": "/api/admin/resource/page", "method": "POST"})
    assert principal.api.data("PUT", "/api/admin/resource/modify", {"id": own, "name": "资源列表"}) == own
    principal.api.data("DELETE", f"/api/admin/resource/{own}/delete")
    assert resource_by_id(app, own).deleted_at is not None
    # the super administrator reaches everything
    api.data("PUT", "/api/admin/resource/modify", {"id": users, "name": "用户列表"})
    api.data("DELETE", f"/api/admin/resource/{users}/delete")
    assert resource_by_id(app, users).deleted_at is not None


def test_the_tree_offers_no_edit_or_delete_the_service_would_refuse(app: Any, api: ApiClient,
                                                                    pages: PageClient) -> None:
    """The page asks the service's rule for its rows (all at once): a resource beyond the editor's reach shows 查看
    only, its page is read-only with the reason, and a save or a delete sent anyway is the service's 403, logged
    failed; a resource within reach keeps 编辑 and 删除 (and anything keeps 新增子资源: a child grants nothing
    yet)."""
    principal = _resource_admin(app)
    wide = api.data("POST", "/api/admin/resource/create", {"name": "人事接口", "resourceUrl": "/api/admin/system/**"})
    own = api.data("POST", "/api/admin/resource/create", {
        "parentId": wide, "name": "资源分页", "resourceUrl": "/api/admin/resource/page", "method": "POST"})
    html = _html(principal.pages.get("/system/resource/?name=人事接口"))
    assert f"/system/resource/{wide}/edit" in html and f"/system/resource/{wide}/delete" not in html
    row = html.split(f'data-id="{wide}"', 1)[1].split("</tr>", 1)[0]
    assert ">查看</a>" in row and ">编辑</a>" not in row and "新增子资源" in row
    for html in (_html(principal.pages.get(f"/system/resource/{wide}/children?depth=1")),
                 _html(principal.pages.get(f"/system/resource/?parent_id={wide}"))):
        row = html.split(f'data-id="{own}"', 1)[1].split("</tr>", 1)[0]
        assert ">编辑</a>" in row and f"/system/resource/{own}/delete" in row
    view = _html(principal.pages.get(f"/system/resource/{wide}/edit"))
    assert "查看资源" in view and BEYOND in view and 'name="resource_url"' not in view
    saved = principal.pages.submit(f"/system/resource/{wide}/edit", data={
        "parent_id": "0", "name": "改名", "resource_url": "/api/admin/system/**", "method": "*", "biz_type": "0"})
    assert_refused(app, saved, "资源修改", 403, BEYOND)
    deleted = principal.pages.submit("/system/resource/", f"/system/resource/{wide}/delete")
    assert_refused(app, deleted, "资源删除", 403, BEYOND)
    assert resource_by_id(app, wide).name == "人事接口" and resource_by_id(app, wide).deleted_at is None
    # the super administrator's page offers both
    row = _html(pages.get("/system/resource/?name=人事接口")).split(f'data-id="{wide}"', 1)[1].split("</tr>", 1)[0]
    assert ">编辑</a>" in row and f"/system/resource/{wide}/delete" in row


def test_sync_restores_a_built_in_resource_an_older_version_deleted(app: Any) -> None:
    """Built-in resources cannot be deleted now, but an older version's delete left the row soft-deleted with its
    code: `pcloud sync` brings it back, as it was made, rather than skipping the code it finds."""
    from pcloud.cli import run_sync

    code = route_code("roles_api.page", "POST")
    with app.app_context():
        row = db.session.execute(select(Resource).where(Resource.code == code)).scalar_one()
        row.soft_delete()
        row.name = "旧版本删掉的"
        db.session.commit()
        db.session.remove()
    with app.app_context():
        assert run_sync()["resources"] == {"created": 0, "updated": 1, "retired": 0}
        db.session.remove()
    restored = resource(app, code)
    assert restored.deleted_at is None and restored.name == "角色分页列表（含用户数）" and restored.built_in


# ---------------------------------------------------------------------------------------------
# English (issue 24 item 10): built-in names from the catalogue, the pages in English


def _html(resp: Any) -> str:
    import html

    return html.unescape(resp.get_data(as_text=True))


def test_every_built_in_resource_name_is_a_catalogue_entry(app: Any) -> None:
    """The names sync stores (docstrings' first lines, blueprints' descriptions) are what the Babel method
    `pcloud.core.apinames.extract_api` puts in the catalogue, so each one has its English."""
    from pcloud.core.i18n import translated

    cjk = re.compile(r"[\u3400-\u9fff]")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        names = set(db.session.execute(select(Resource.name).where(Resource.built_in.is_(True),
                                                                   Resource.deleted_at.is_(None))).scalars())
        untranslated = sorted(n for n in names if cjk.search(n) and translated(n) == n)
        english = {n: translated(n) for n in names}
        db.session.remove()
    assert len(names) > 100 and not untranslated
    assert english["角色管理"] == "Roles" and english["新增角色"] == "Add role"


def test_resource_pages_in_english(app: Any, api: ApiClient, english_pages: PageClient) -> None:
    from tests.conftest import chinese_on_page as english_leftovers

    pages = english_pages
    pages.get("/system/resource/")  # the sign-in's welcome flash names the user as signed in: shown once, gone
    group = query(app, lambda: db.session.execute(select(Resource.id).where(
        Resource.code == "group:roles_api")).scalar_one())
    built_in = query(app, lambda: db.session.execute(select(Resource.id).where(
        Resource.code == route_code("roles_api.create", "POST"))).scalar_one())
    custom = api.post("/api/admin/resource/create", json={"name": "Reports API", "resourceUrl": "/api/reports/**",
                                                          "parentId": group}).get_json()["data"]
    for url in ("/system/resource/", f"/system/resource/?parent_id={group}", "/system/resource/?name=Reports",
                "/system/resource/?name=nothing-matches", f"/system/resource/{group}/children?depth=1",
                "/system/resource/new", f"/system/resource/{custom}/edit", f"/system/resource/{built_in}/edit"):
        resp = pages.get(url)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and not english_leftovers(html), (url, english_leftovers(html))
    level = _html(pages.get(f"/system/resource/?parent_id={group}"))
    assert "Access resources: Roles" in level and ">Resource name</th>" in level
    assert re.search(rf'data-id="{built_in}"[^>]*>\s*<td[^>]*>[\s\S]*?Add role', level)
    view = _html(pages.get(f"/system/resource/{built_in}/edit"))
    assert "View resource" in view and "<dd class=\"col-9\">Add role</dd>" in view
    assert "Built-in resources are kept by" in view
    refused = pages.submit("/system/resource/new", data={"name": "Bad", "resource_url": "no-slash", "method": "*",
                                                         "biz_type": "0"})
    assert refused.status_code == 422 and "A resource path starts with /" in _html(refused)
    assert not english_leftovers(refused.get_data(as_text=True))
    saved = pages.submit(f"/system/resource/{custom}/edit", data={
        "parent_id": str(group), "name": "Reports API v2", "resource_url": "/api/reports/**", "method": "GET",
        "biz_type": "1"}, follow_redirects=True)
    assert 'Resource "Reports API v2" saved' in _html(saved)
    # a refusal of the service through the API, in English
    resp = api.delete(f"/api/admin/resource/{built_in}/delete", headers={"Accept-Language": "en"})
    assert resp.status_code == 409 and resp.get_json()["msg"] == "A built-in resource cannot be deleted"
    locked = api.put("/api/admin/resource/modify", json={"id": built_in, "name": "x"},
                     headers={"Accept-Language": "en"})
    assert locked.status_code == 409
    assert locked.get_json()["msg"] == "Built-in resources are kept by the system from the API and cannot be edited"


@pytest.mark.no_database
def test_the_babel_method_yields_the_names_sync_stores_and_pythons_own_strings() -> None:
    import io

    from pcloud.core.apinames import extract_api, group_name, route_name

    source = '''
from flask_babel import gettext
from pcloud.core.messages import N_
blp = Blueprint("x_api", __name__, url_prefix="/api/x", description="示例管理：说明（其余）")

@operation(blp, "/create", "XCreate", title=N_("示例新增"))
def create(args):
    """新增示例；data 为 id
    第二行不算
    """
    return gettext("示例「%(name)s」已创建", name="a")

def helper():
    """不是接口"""
'''.encode()
    found = {message[0] if isinstance(message, tuple) else message for _line, _func, message, _comments in
             extract_api(io.BytesIO(source), {"gettext": None, "N_": None}, [], {})}  # Babel keeps arg 1
    assert found == {"示例管理", "新增示例；data 为 id", "示例新增", "示例「%(name)s」已创建"}
    # the same rule as sync's
    assert route_name('\n    新增示例；data 为 id\n    第二行不算\n    ', "x_api.create") == "新增示例；data 为 id"
    assert route_name(None, "x_api.create") == "x_api.create"
    assert group_name("示例管理：说明（其余）", "x_api") == "示例管理" and group_name("", "x_api") == "x_api"
