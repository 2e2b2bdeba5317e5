"""角色管理: the JSON API, the grant, the pages, and the action log of every change."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from sqlalchemy import func, insert, or_, select

from pcloud.access.models import role_menu, role_resource
from pcloud.extensions import db
from pcloud.menus.models import Menu
from pcloud.resources.models import Resource
from pcloud.roles.models import Role
from tests.conftest import (
    ApiClient,
    PageClient,
    api_error,
    assert_refused,
    assert_save_after_delete_keeps_typed,
    is_postgres,
    logged_actions,
    starts_from_the_users_trigram_index,
    statements_run,
    user_keyword_plans,
)
from tests.factories import (
    grant_role,
    make_role,
    make_user,
    menu_id,
    perm_version,
    query,
    random_keywords,
    route_code,
    seed_random_users,
)


def role_id_of(app: Any, code: str) -> int:
    return query(app, lambda: db.session.execute(Role.live().where(Role.role_code == code)).scalar_one().id)


def grants_of(app: Any, role_id: int) -> tuple[set[int], set[int]]:
    def read() -> tuple[set[int], set[int]]:
        menus = set(db.session.execute(select(role_menu.c.menu_id).where(role_menu.c.role_id == role_id)).scalars())
        res = set(db.session.execute(select(role_resource.c.resource_id)
                                     .where(role_resource.c.role_id == role_id)).scalars())
        return menus, res

    return query(app, read)


def resource_id(app: Any, code: str) -> int:
    return query(app, lambda: db.session.execute(select(Resource.id).where(Resource.code == code)).scalar_one())


# ---------------------------------------------------------------------------------------------
# API: list, create, modify, delete


def test_page_lists_roles_with_user_counts_and_filters(app: Any, api: ApiClient) -> None:
    auditor = make_role(app, "ROLE_AUDITOR", "审计员")
    make_role(app, "ROLE_CLERK", "文员")
    make_user(app, role_ids=[auditor])
    make_user(app, role_ids=[auditor])
    gone = make_user(app, role_ids=[auditor])
    api.data("DELETE", f"/api/admin/system/user/{gone}/delete")
    resp = api.post("/api/admin/role/page", json={"page": 1, "pageSize": 10})
    body = resp.get_json()
    assert body["total"] == 4
    by_code = {r["roleCode"]: r for r in body["data"]}
    assert by_code["ROLE_SUPER_ADMIN"]["userCount"] == 1
    assert by_code["ROLE_AUDITOR"]["userCount"] == 2  # the deleted user does not count
    assert by_code["ROLE_CLERK"]["userCount"] == 0
    assert set(by_code["ROLE_AUDITOR"]) >= {"id", "name", "roleCode", "userCount", "gmtCreatedDate",
                                            "gmtCreatedName", "gmtModifiedDate", "gmtModifiedName"}
    named = api.post("/api/admin/role/page", json={"name": "审计"}).get_json()
    assert [r["roleCode"] for r in named["data"]] == ["ROLE_AUDITOR"] and named["total"] == 1
    coded = api.post("/api/admin/role/page", json={"roleCode": "ROLE_ADMIN"}).get_json()
    assert [r["roleCode"] for r in coded["data"]] == ["ROLE_ADMIN"]
    paged = api.post("/api/admin/role/page", json={"page": 2, "pageSize": 3}).get_json()
    assert paged["total"] == 4 and len(paged["data"]) == 1
    assert api.post("/api/admin/role/page", json={"nmae": "x"}).status_code == 422


def test_create_role_and_its_rules(app: Any, api: ApiClient) -> None:
    before = perm_version(app)
    new_id = api.data("POST", "/api/admin/role/create", {"name": "审计员", "roleCode": "ROLE_AUDITOR"})
    assert isinstance(new_id, int) and perm_version(app) > before
    row = api.post("/api/admin/role/page", json={"roleCode": "ROLE_AUDITOR"}).get_json()["data"][0]
    assert row["gmtCreatedName"] == "超级管理员" and row["userCount"] == 0

    dup = api.post("/api/admin/role/create", json={"name": "另一个", "roleCode": "ROLE_AUDITOR"})
    assert dup.status_code == 409 and "roleCode" in dup.get_json()["errors"]
    for bad in ("AUDITOR", "ROLE_", "role_auditor", "ROLE_a", "ROLE_" + "A" * 60, "ROLE-X"):
        resp = api.post("/api/admin/role/create", json={"name": "x", "roleCode": bad})
        assert resp.status_code == 422 and "roleCode" in resp.get_json()["errors"], bad
    assert api.post("/api/admin/role/create", json={"name": "x", "roleCode": "ROLE_" + "A" * 59}).status_code == 200
    missing = api.post("/api/admin/role/create", json={"roleCode": "ROLE_Y"})
    assert missing.status_code == 422 and "name" in missing.get_json()["errors"]
    blank = api.post("/api/admin/role/create", json={"name": "  ", "roleCode": "ROLE_Y"})
    assert blank.status_code == 422
    assert query(app, lambda: db.session.execute(select(func.count()).select_from(Role).where(
        Role.role_code.in_(["ROLE_AUDITOR"]))).scalar()) == 1


def test_modify_role(app: Any, api: ApiClient) -> None:
    rid = make_role(app, "ROLE_AUDITOR", "审计员")
    make_role(app, "ROLE_CLERK", "文员")
    before = perm_version(app)
    assert api.data("PUT", "/api/admin/role/modify", {"id": rid, "name": "审计", "roleCode": "ROLE_AUDIT"}) == rid
    assert perm_version(app) > before
    row = api.post("/api/admin/role/page", json={"roleCode": "ROLE_AUDIT"}).get_json()["data"][0]
    assert row["name"] == "审计"
    dup = api.put("/api/admin/role/modify", json={"id": rid, "roleCode": "ROLE_CLERK"})
    assert dup.status_code == 409
    assert api.put("/api/admin/role/modify", json={"id": rid, "roleCode": "bad"}).status_code == 422
    assert api.put("/api/admin/role/modify", json={"id": 999999, "name": "x"}).status_code == 404
    # the built-in ROLE_ADMIN may be renamed, but keeps its code
    admin_id = role_id_of(app, "ROLE_ADMIN")
    assert api.put("/api/admin/role/modify", json={"id": admin_id, "name": "系统管理员"}).status_code == 200
    assert api.put("/api/admin/role/modify", json={"id": admin_id, "roleCode": "ROLE_OTHER"}).status_code == 409


def test_super_admin_role_cannot_be_modified_deleted_or_regranted(app: Any, api: ApiClient) -> None:
    sid = role_id_of(app, "ROLE_SUPER_ADMIN")
    before = perm_version(app)
    for resp in (api.put("/api/admin/role/modify", json={"id": sid, "name": "老板"}),
                 api.put("/api/admin/role/modify", json={"id": sid, "roleCode": "ROLE_BOSS"}),
                 api.delete(f"/api/admin/role/{sid}/delete"),
                 api.post("/api/admin/permission/grant", json={"roleId": sid, "routers": [], "resources": []})):
        assert resp.status_code == 409 and resp.get_json()["code"] == 409
    row = api.post("/api/admin/role/page", json={"roleCode": "ROLE_SUPER_ADMIN"}).get_json()["data"][0]
    assert row["name"] == "超级管理员"
    assert perm_version(app) == before
    # and it still holds everything
    view = api.data("GET", f"/api/admin/role/{sid}/menu")
    all_menus = query(app, lambda: set(db.session.execute(select(Menu.id).where(Menu.deleted_at.is_(None)))
                                       .scalars()))
    assert set(view["hasRouters"]) == all_menus
    assert len(view["hasResources"]) == query(app, lambda: db.session.execute(
        select(func.count()).select_from(Resource).where(Resource.deleted_at.is_(None))).scalar())


def test_delete_role_refused_while_users_hold_it(app: Any, api: ApiClient) -> None:
    rid = make_role(app, "ROLE_AUDITOR", "审计员")
    holder = make_user(app, role_ids=[rid])
    grant_role(app, rid, menu_paths=("/system/role",))
    before = perm_version(app)
    resp = api.delete(f"/api/admin/role/{rid}/delete")
    assert resp.status_code == 409 and "1 个用户" in resp.get_json()["msg"]
    assert perm_version(app) == before and grants_of(app, rid)[0]  # nothing changed
    api.data("DELETE", f"/api/admin/system/user/{holder}/delete")
    api.data("DELETE", f"/api/admin/role/{rid}/delete")
    assert perm_version(app) > before
    assert api.post("/api/admin/role/page", json={"roleCode": "ROLE_AUDITOR"}).get_json()["total"] == 0
    assert grants_of(app, rid) == (set(), set())
    assert api.delete(f"/api/admin/role/{rid}/delete").status_code == 404
    # the code is free again among live roles, the id is not reused
    new_id = api.data("POST", "/api/admin/role/create", {"name": "审计员", "roleCode": "ROLE_AUDITOR"})
    assert new_id != rid
    assert api.delete(f"/api/admin/role/{role_id_of(app, 'ROLE_ADMIN')}/delete").status_code == 409


# ---------------------------------------------------------------------------------------------
# API: role menu view, grant, refresh


def test_role_menu_view_and_grant_replace_the_grants(app: Any, api: ApiClient) -> None:
    rid = make_role(app, "ROLE_AUDITOR")
    empty = api.data("GET", f"/api/admin/role/{rid}/menu")
    assert empty["hasRouters"] == [] and empty["hasResources"] == []
    assert [n["name"] for n in empty["routers"]][0] == "系统管理"  # other modules' menus follow
    system = empty["routers"][0]
    assert system["parentId"] == 0 and system["label"] == "系统管理"
    assert [c["sequence"] for c in system["children"]] == sorted(c["sequence"] for c in system["children"])
    groups = {n["name"]: n for n in empty["resources"]}
    assert {"角色管理", "菜单管理", "访问资源", "用户管理"} <= set(groups)
    role_group = groups["角色管理"]
    assert role_group["resourceUrl"] == "" and all(c["parentId"] == role_group["id"] for c in role_group["children"])
    assert any(c["resourceUrl"] == "/api/admin/role/{id}/delete" and c["method"] == "DELETE"
               for c in role_group["children"])

    menus = [menu_id(app, "/system"), menu_id(app, "/system/role")]
    resources = [c["id"] for c in role_group["children"]]
    before = perm_version(app)
    assert api.data("POST", "/api/admin/permission/grant",
                    {"roleId": rid, "routers": menus, "resources": resources + resources[:1]}) is None
    assert perm_version(app) > before
    view = api.data("GET", f"/api/admin/role/{rid}/menu")
    assert view["hasRouters"] == sorted(menus) and view["hasResources"] == sorted(resources)
    # a second grant replaces, not adds
    api.data("POST", "/api/admin/permission/grant", {"roleId": rid, "routers": [menus[0]], "resources": []})
    assert grants_of(app, rid) == ({menus[0]}, set())
    assert api.get("/api/admin/role/999999/menu").status_code == 404


def test_a_granted_menu_brings_its_parent_menus_through_api_and_page(app: Any, api: ApiClient,
                                                                     pages: PageClient) -> None:
    """The parent-menu rule is the service's: a child granted alone (an API principal, or a page whose script did
    not run) brings the menus above it, so the sidebar keeps the group the child sits in."""
    rid = make_role(app, "ROLE_AUDITOR")
    system, role_menu_id = menu_id(app, "/system"), menu_id(app, "/system/role")
    api.data("POST", "/api/admin/permission/grant", {"roleId": rid, "routers": [role_menu_id], "resources": []})
    assert grants_of(app, rid) == ({system, role_menu_id}, set())
    assert sorted(api.data("GET", f"/api/admin/role/{rid}/menu")["hasRouters"]) == sorted([system, role_menu_id])
    api.data("POST", "/api/admin/permission/grant", {"roleId": rid, "routers": [], "resources": []})
    user_menu = menu_id(app, "/system/user")
    # "²" is no id (str.isdigit() took it, int() did not: a 500)
    resp = pages.submit(f"/system/role/{rid}/grant", data={"menu_ids": [str(user_menu), "²"],
                                                           "resource_ids": ["①"]})
    assert resp.status_code == 302
    assert grants_of(app, rid) == ({system, user_menu}, set())


def test_a_grant_page_opened_before_another_grant_does_not_undo_it_unseen(app: Any, api: ApiClient,
                                                                          pages: PageClient) -> None:
    """Two administrators granting one role: the second save, from a page shown before the first, would have put
    back a menu the first had just taken away. It is refused (409) with the ticks kept; saving again is
    deliberate."""
    import re

    rid = make_role(app, "ROLE_AUDITOR")
    system, log_menu, user_menu = menu_id(app, "/system"), menu_id(app, "/system/log"), menu_id(app, "/system/user")
    api.data("POST", "/api/admin/permission/grant", {"roleId": rid, "routers": [log_menu], "resources": []})
    url = f"/system/role/{rid}/grant"
    seen = re.search(r'name="_seen" value="(\w+)"', pages.get(url).get_data(as_text=True)).group(1)
    # meanwhile another administrator takes the operation log away
    api.data("POST", "/api/admin/permission/grant", {"roleId": rid, "routers": [], "resources": []})
    ticked = {"menu_ids": [str(system), str(log_menu), str(user_menu)], "_seen": seen}
    refused = pages.submit(url, data=ticked)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "已被超级管理员修改" in html
    # the ticks shown are the ones sent, not the stored ones (a review's second look)
    assert re.search(rf'name="menu_ids" value="{user_menu}"\s+id="menu-{user_menu}" checked', html)
    assert grants_of(app, rid) == (set(), set())
    again = re.search(r'name="_seen" value="(\w+)"', html).group(1)
    assert again != seen
    assert pages.submit(url, data={**ticked, "_seen": again}).status_code == 302
    assert grants_of(app, rid) == ({system, log_menu, user_menu}, set())


def test_grant_with_unknown_ids_changes_nothing(app: Any, api: ApiClient) -> None:
    rid = make_role(app, "ROLE_AUDITOR")
    grant_role(app, rid, menu_paths=("/system/role",), resource_codes=(route_code("roles_api.page", "POST"),))
    before_grants, before_version = grants_of(app, rid), perm_version(app)
    good_menu = menu_id(app, "/system/menu")
    for body, field in (({"routers": [good_menu, 999999], "resources": []}, "routers"),
                        ({"routers": [good_menu], "resources": [888888]}, "resources")):
        resp = api.post("/api/admin/permission/grant", json={"roleId": rid, **body})
        assert resp.status_code == 422 and field in resp.get_json()["errors"], resp.get_json()
    # a deleted menu is unknown too
    deleted = api.data("POST", "/api/admin/menu/create", {"name": "临时", "path": "/tmp-menu"})
    api.data("DELETE", f"/api/admin/menu/{deleted}/delete")
    assert api.post("/api/admin/permission/grant", json={"roleId": rid, "routers": [deleted]}).status_code == 422
    assert grants_of(app, rid) == before_grants and perm_version(app) > before_version  # only the menu changes bumped
    mark = perm_version(app)
    assert api.post("/api/admin/permission/grant", json={"roleId": 999999, "routers": []}).status_code == 404
    assert api.post("/api/admin/permission/grant", json={"routers": []}).status_code == 422
    assert api.post("/api/admin/permission/grant", json={"roleId": rid, "routers": ["x"]}).status_code == 422
    assert perm_version(app) == mark and grants_of(app, rid) == before_grants


def test_refresh_bumps_the_version_and_is_logged(app: Any, api: ApiClient) -> None:
    before = perm_version(app)
    assert api.data("GET", "/api/admin/role/refresh") is None
    assert perm_version(app) == before + 1
    assert logged_actions(app) == [("刷新权限", "success")]


def test_every_change_is_in_the_action_log(app: Any, api: ApiClient) -> None:
    rid = api.data("POST", "/api/admin/role/create", {"name": "审计员", "roleCode": "ROLE_AUDITOR"})
    api.post("/api/admin/role/create", json={"name": "审计员", "roleCode": "ROLE_AUDITOR"})
    api.data("PUT", "/api/admin/role/modify", {"id": rid, "name": "审计"})
    api.data("POST", "/api/admin/permission/grant", {"roleId": rid, "routers": [], "resources": []})
    api.data("DELETE", f"/api/admin/role/{rid}/delete")
    assert logged_actions(app) == [("角色新增", "success"), ("角色新增", "fail"), ("角色修改", "success"),
                           ("角色授权", "success"), ("角色删除", "success")]


# ---------------------------------------------------------------------------------------------
# Pages


def test_list_page_shows_roles_user_counts_and_filters(app: Any, pages: PageClient) -> None:
    rid = make_role(app, "ROLE_AUDITOR", "审计员")
    make_user(app, role_ids=[rid])
    html = pages.get("/system/role/").get_data(as_text=True)
    assert "审计员" in html and "ROLE_SUPER_ADMIN" in html
    row = html.split('data-role-code="ROLE_AUDITOR"', 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="user-count">1<' in row
    super_row = html.split('data-role-code="ROLE_SUPER_ADMIN"', 1)[1].split("</tr>", 1)[0]
    assert "编辑" not in super_row and "删除" not in super_row and "查看权限" in super_row
    filtered = pages.get("/system/role/?name=审计").get_data(as_text=True)
    assert "ROLE_AUDITOR" in filtered and 'data-role-code="ROLE_ADMIN"' not in filtered
    assert "共 1 条" in filtered


def test_the_roles_page_and_the_user_filter_count_a_role_alike_above_the_exact_limit(
        app: Any, api: ApiClient, pages: PageClient) -> None:
    """One source of truth for holder counts (issue 20): a role held by more users than the exact count's
    limit (10,000) shows on the roles page (API and HTML) the same number as the user page's role filter."""
    from sqlalchemy import insert, text

    from pcloud.core.timefmt import utcnow
    from pcloud.users.models import User

    many = make_role(app, "ROLE_MANY", "众人")
    held = 10_005
    with app.app_context(), db.engine.begin() as conn:
        now = utcnow()
        conn.execute(insert(User.__table__), [
            {"phone": f"166{i:08d}", "name": f"众{i}", "password_hash": "x" * 60, "state": 0,
             "gmt_created_date": now, "gmt_modified_date": now} for i in range(held)])
        conn.execute(text("INSERT INTO sys_user_role (user_id, role_id) SELECT id, :role FROM sys_user "
                          "WHERE phone LIKE '166%'"), {"role": many})
    filtered = api.post("/api/admin/system/user/page", json={"roleIds": [many]}).get_json()
    assert filtered["total"] == held
    roles = {r["roleCode"]: r for r in api.data("POST", "/api/admin/role/page", {"pageSize": 50})}
    assert roles["ROLE_MANY"]["userCount"] == held
    row = pages.get("/system/role/").get_data(as_text=True).split('data-role-code="ROLE_MANY"', 1)[1].split("</tr>")[0]
    assert f'data-testid="user-count">{held}<' in row


def test_the_role_form_says_every_wrong_field_at_once(app: Any, pages: PageClient) -> None:
    """A browser review: with the name empty, the form said only 请输入角色名称, and a code of the wrong form or
    another role's code was said after the name was put right, a second round trip (docs/UX.md: every error at
    once, as the user and job forms do)."""
    make_role(app, "ROLE_TAKEN", "已有角色")
    bad = pages.submit("/system/role/new", data={"name": "", "role_code": "rv_role_E"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请输入角色名称" in html and "ROLE_ 开头" in html, html
    taken = pages.submit("/system/role/new", data={"name": "", "role_code": "ROLE_TAKEN"})
    assert taken.status_code == 422 and "角色编码 ROLE_TAKEN 已存在" in taken.get_data(as_text=True)
    rid = role_id_of(app, "ROLE_TAKEN")
    own = pages.submit(f"/system/role/{rid}/edit", data={"name": "", "role_code": "ROLE_TAKEN"})
    html = own.get_data(as_text=True)
    assert own.status_code == 422 and "请输入角色名称" in html and "已存在" not in html  # its own code is not taken


def test_create_and_edit_pages(app: Any, pages: PageClient) -> None:
    resp = pages.submit("/system/role/new", data={"name": "审计员", "role_code": "ROLE_AUDITOR"})
    assert resp.status_code == 302
    assert "已创建" in pages.get("/system/role/").get_data(as_text=True)
    dup = pages.submit("/system/role/new", data={"name": "又一个", "role_code": "ROLE_AUDITOR"})
    assert dup.status_code == 409 and "角色编码 ROLE_AUDITOR 已存在" in dup.get_data(as_text=True)
    bad = pages.submit("/system/role/new", data={"name": "x", "role_code": "auditor"})
    assert bad.status_code == 422 and "ROLE_ 开头" in bad.get_data(as_text=True)
    rid = role_id_of(app, "ROLE_AUDITOR")
    assert 'value="审计员"' in pages.get(f"/system/role/{rid}/edit").get_data(as_text=True)
    saved = pages.submit(f"/system/role/{rid}/edit", data={"name": "审计", "role_code": "ROLE_AUDIT"})
    assert saved.status_code == 302 and role_id_of(app, "ROLE_AUDIT") == rid
    sid = role_id_of(app, "ROLE_SUPER_ADMIN")
    read_only = pages.get(f"/system/role/{sid}/edit").get_data(as_text=True)
    assert "不能修改" in read_only and 'name="role_code"' not in read_only
    refused = pages.submit(f"/system/role/{rid}/edit", f"/system/role/{sid}/edit",
                           data={"name": "老板", "role_code": "ROLE_SUPER_ADMIN"})
    assert refused.status_code == 409 and "超级管理员角色不能修改" in refused.get_data(as_text=True)
    assert pages.get("/system/role/999999/edit").status_code == 404


def test_delete_page_refuses_with_a_clear_message(app: Any, pages: PageClient) -> None:
    rid = make_role(app, "ROLE_AUDITOR", "审计员")
    make_user(app, role_ids=[rid])
    resp = pages.submit("/system/role/", f"/system/role/{rid}/delete")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "不能删除：角色「审计员」仍有 1 个用户在使用" in html
    assert role_id_of(app, "ROLE_AUDITOR") == rid
    other = make_role(app, "ROLE_CLERK", "文员")
    done = pages.submit("/system/role/", f"/system/role/{other}/delete", follow_redirects=True)
    assert "角色「文员」已删除" in done.get_data(as_text=True)
    # a POST without the CSRF token is refused
    assert pages.client.post(f"/system/role/{rid}/delete").status_code == 400


def test_grant_page_shows_trees_and_saving_replaces_grants(app: Any, pages: PageClient) -> None:
    rid = make_role(app, "ROLE_AUDITOR", "审计员")
    grant_role(app, rid, menu_paths=("/system/user",))
    html = pages.get(f"/system/role/{rid}/grant").get_data(as_text=True)
    user_menu = menu_id(app, "/system/user")
    assert f'value="{user_menu}"' in html and 'data-tree="menu"' in html and 'data-tree="resource"' in html
    assert 'id="menu-search"' in html and 'id="resource-search"' in html and "全选" in html
    box = html.split(f'id="menu-{user_menu}"', 1)[1].split(">", 1)[0]
    assert "checked" in box
    other = html.split(f'id="menu-{menu_id(app, "/system/role")}"', 1)[1].split(">", 1)[0]
    assert "checked" not in other
    role_page = resource_id(app, route_code("roles_api.page", "POST"))
    resp = pages.submit(f"/system/role/{rid}/grant", data={
        "menu_ids": [str(menu_id(app, "/system")), str(menu_id(app, "/system/role"))],
        "resource_ids": [str(role_page)]})
    assert resp.status_code == 302
    assert grants_of(app, rid) == ({menu_id(app, "/system"), menu_id(app, "/system/role")}, {role_page})
    assert ("角色授权", "success") in logged_actions(app)
    bad = pages.submit(f"/system/role/{rid}/grant", data={"menu_ids": ["999999"]})
    assert bad.status_code == 422 and "未做任何修改" in bad.get_data(as_text=True)  # the refusal's status
    assert logged_actions(app)[-1] == ("角色授权", "fail")  # and the log says it was refused
    assert grants_of(app, rid)[1] == {role_page}


def test_the_grant_page_does_not_let_a_granter_tick_what_they_do_not_hold(app: Any, pages: Any) -> None:
    """A delegated administrator sees what they may not hand out disabled and said so (saving it would be 403);
    what they hold, and what the role already has, stay tickable. A role that already holds something beyond
    them is not theirs to change: its page is read-only and says why."""
    from tests.test_permissions import PrincipalClients

    granter = PrincipalClients(app, "ROLE_GRANTER")
    granter.grant(menu_paths=("/system", "/system/role", "/system/user", "/system/post"),
                  resource_codes=(route_code("roles_api.grant", "POST"), route_code("roles_api.page", "POST")))
    target = make_role(app, "ROLE_TARGET", "目标")
    grant_role(app, target, menu_paths=("/system/post",))  # the role's own, within the granter's reach

    def box(html: str, kind: str, item_id: int) -> str:
        return html.split(f'id="{kind}-{item_id}"', 1)[1].split(">", 1)[0]

    html = granter.pages.get(f"/system/role/{target}/grant").get_data(as_text=True)
    assert "disabled" not in box(html, "menu", menu_id(app, "/system/user"))  # the granter holds it
    menu_tail = html.split(f'id="menu-{menu_id(app, "/system/menu")}"', 1)[1].split("</label>", 1)[0]
    assert "disabled" in box(html, "menu", menu_id(app, "/system/menu")) and "超出您的权限" in menu_tail
    post = box(html, "menu", menu_id(app, "/system/post"))
    assert "checked" in post and "disabled" not in post  # the role's own: may be kept or taken away
    assert "disabled" not in box(html, "resource", resource_id(app, route_code("roles_api.page", "POST")))
    assert "disabled" in box(html, "resource", resource_id(app, route_code("menus_api.create", "POST")))
    assert "标有「超出您的权限」的项" in html
    resp = granter.pages.submit(f"/system/role/{target}/grant", data={
        "menu_ids": [str(menu_id(app, "/system/user"))]})
    assert resp.status_code == 302
    assert grants_of(app, target)[0] == {menu_id(app, "/system"), menu_id(app, "/system/user")}
    # a role holding a menu beyond the granter: read-only, with the reason, and a save is refused
    beyond = make_role(app, "ROLE_BEYOND", "超出")
    grant_role(app, beyond, menu_paths=("/system/dept",))
    html = granter.pages.get(f"/system/role/{beyond}/grant").get_data(as_text=True)
    assert 'data-testid="read-only"' in html and "超出了您的权限范围" in html and 'id="save-grant"' not in html
    resp = granter.pages.submit(f"/system/role/{beyond}/grant", data={"menu_ids": []})
    assert resp.status_code == 403
    assert grants_of(app, beyond)[0] == {menu_id(app, "/system"), menu_id(app, "/system/dept")}
    # the super administrator holds everything: nothing is disabled, no hint
    html = pages.get(f"/system/role/{target}/grant").get_data(as_text=True)
    assert 'data-testid="beyond-reach"' not in html and "标有「超出您的权限」的项" not in html


def test_super_admin_grant_page_is_read_only(app: Any, pages: PageClient) -> None:
    sid = role_id_of(app, "ROLE_SUPER_ADMIN")
    html = pages.get(f"/system/role/{sid}/grant").get_data(as_text=True)
    assert 'data-testid="read-only"' in html and 'id="save-grant"' not in html
    boxes = [chunk.split(">", 1)[0] for chunk in html.split('class="form-check-input tree-check"')[1:]]
    assert boxes and all("disabled" in b and "checked" in b for b in boxes)
    resp = pages.submit(f"/system/role/{sid}/grant", data={"menu_ids": []})
    assert "不能修改其授权" in resp.get_data(as_text=True)


def test_refresh_page_button(app: Any, pages: PageClient) -> None:
    before = perm_version(app)
    resp = pages.submit("/system/role/", "/system/role/refresh")
    assert resp.status_code == 302 and perm_version(app) == before + 1


def test_page_changes_are_in_the_action_log(app: Any, pages: PageClient) -> None:
    pages.submit("/system/role/new", data={"name": "审计员", "role_code": "ROLE_AUDITOR"})
    rid = role_id_of(app, "ROLE_AUDITOR")
    pages.submit(f"/system/role/{rid}/edit", data={"name": "审计", "role_code": "ROLE_AUDITOR"})
    pages.submit(f"/system/role/{rid}/grant", data={})
    pages.submit("/system/role/", f"/system/role/{rid}/delete")
    assert logged_actions(app) == [("角色新增", "success"), ("角色修改", "success"), ("角色授权", "success"),
                           ("角色删除", "success")]


def test_user_form_and_list_offer_every_role(app: Any, pages: PageClient) -> None:
    rid = make_role(app, "ROLE_AUDITOR", "审计员")
    form = pages.get("/system/user/new").get_data(as_text=True)
    for code in ("ROLE_SUPER_ADMIN", "ROLE_ADMIN", "ROLE_AUDITOR"):
        assert code in form
    assert f'value="{rid}"' in pages.get("/system/user/").get_data(as_text=True)


def test_list_pages_do_not_query_per_row(app: Any, api: ApiClient, pages: PageClient) -> None:
    def statements(fn: Any) -> int:
        def call() -> None:
            assert fn().status_code == 200
        return statements_run(app, call)

    def role_list() -> Any:
        return pages.get("/system/role/?size=50")

    def role_api() -> Any:
        return api.post("/api/admin/role/page", json={"pageSize": 50})

    def resource_tree() -> Any:
        return pages.get("/system/resource/?size=50")

    few = [statements(f) for f in (role_list, role_api, resource_tree)]
    for i in range(30):
        rid = make_role(app, f"ROLE_MANY_{i}")
        make_user(app, role_ids=[rid])
        api.data("POST", "/api/admin/resource/create", {"name": f"资源{i}", "resourceUrl": f"/api/many/{i}"})
    assert [statements(f) for f in (role_list, role_api, resource_tree)] == few


@pytest.mark.parametrize("many", [False, True], ids=["index-matches-sorted", "read-newest-first"])
def test_a_roles_users_keyword_gives_exactly_the_rows_of_like(app: Any, api: ApiClient, pages: PageClient, many: bool,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """分配用户's keyword (name or phone contains) == LIKE's rows of the same database, newest first, among the role's
    holders and among the others, on random names and phones (Chinese, ASCII of both cases, letters whose case only
    the index folds, `%`, `_` and `"`, keywords of one to five characters), deleted users left out; on the API and on
    the page; in both plans (the trigram index's matches sorted, or the users read newest first and each checked, as
    when the sample finds the matches plainly many)."""
    from pcloud.core import paging
    from pcloud.users.models import User, user_role

    monkeypatch.setattr(paging, "sample_estimate", lambda *_args: 10**6 if many else None)

    rng = random.Random(467)
    role_id = make_role(app, "ROLE_KEYWORD", "关键字角色")
    seeded = seed_random_users(app, rng, 300)
    with app.app_context():
        db.session.execute(insert(user_role), [{"user_id": i, "role_id": role_id} for i in seeded if i % 3])
        db.session.commit()
        holders = select(user_role.c.user_id).where(user_role.c.role_id == role_id)
        names = list(db.session.execute(select(User.name)).scalars())
        phones = list(db.session.execute(select(User.phone)).scalars())
        checked = 0
        for kw in random_keywords(rng, names, 25) + random_keywords(rng, phones, 10):
            q = kw.strip()
            for assigned in (True, False):
                expected = list(db.session.execute(select(User.id).where(
                    User.deleted_at.is_(None), User.id.in_(holders) if assigned else User.id.not_in(holders),
                    or_(User.name.contains(q, autoescape=True), User.phone.contains(q, autoescape=True)))
                    .order_by(User.gmt_created_date.desc(), User.id.desc())).scalars())
                body = api.post(f"/api/admin/role/{role_id}/users",
                                {"keyword": kw, "assigned": assigned, "pageSize": 200}).get_json()
                assert body["total"] == len(expected) and [u["id"] for u in body["data"]] == expected, (kw, assigned)
                if checked % 5 == 0:
                    html = pages.get(f"/system/role/{role_id}/users", query_string={
                        "keyword": kw, "assigned": str(assigned).lower(), "size": 200}).get_data(as_text=True)
                    assert [int(i) for i in re.findall(r'data-user-id="(\d+)"', html)] == expected, (kw, assigned)
                checked += 1
        assert checked > 60
        db.session.remove()


@pytest.mark.skipif(is_postgres(), reason="SQLite's plan; PostgreSQL's GIN indexes serve the LIKE itself")
def test_a_roles_users_keyword_starts_from_the_trigram_index(app: Any, api: ApiClient) -> None:
    """A keyword of three characters or more is looked up in the users' FTS table, for the count and for the page,
    not checked against every user newest first (at a million users, the whole table for a name nobody has)."""
    role_id = make_role(app, "ROLE_KEYWORD", "关键字角色")
    make_user(app, name="郑小明", phone="13900000380", role_ids=[role_id])
    make_user(app, name="郑大明", phone="13900000381")
    for keyword in ("郑小明", "00380", "无此人"):
        for assigned in (True, False):
            plans = user_keyword_plans(app, lambda keyword=keyword, assigned=assigned: api.post(
                f"/api/admin/role/{role_id}/users", {"keyword": keyword, "assigned": assigned}))
            assert len(plans) == 2 and all(starts_from_the_users_trigram_index(p) for p in plans), plans


@pytest.mark.skipif(is_postgres(), reason="SQLite's plan")
def test_a_keyword_most_users_match_is_read_newest_first(app: Any, api: ApiClient,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Matches plainly many in a sample of the newest users: a role's users are read newest first, each checked (a
    page found within a few rows), not every match from the trigram index, sorted (the whole table, for a phone
    fragment every user has)."""
    from pcloud.core import paging
    from pcloud.core.dbstats import refresh_statistics
    from pcloud.users.models import User, user_role

    role_id = make_role(app, "ROLE_KEYWORD", "关键字角色")
    seeded = seed_random_users(app, random.Random(468), 150)
    with app.app_context():
        db.session.execute(User.__table__.update().where(User.id.in_(seeded)).values(name="批量用" + User.name))
        db.session.execute(insert(user_role), [{"user_id": i, "role_id": role_id} for i in seeded])
        db.session.commit()
        refresh_statistics(db.engine)  # the sample extrapolates to the table's rows, which the statistics give
        db.session.remove()
    monkeypatch.setattr(paging, "SAMPLE_ROWS", 50)
    monkeypatch.setattr(paging, "TOTAL_EXACT_LIMIT", 20)
    plans = user_keyword_plans(app, lambda: api.post(f"/api/admin/role/{role_id}/users", {"keyword": "批量用"}))
    assert len(plans) == 2 and not any("VIRTUAL TABLE" in step for p in plans for step in p), plans
    assert any(step.startswith("SCAN sys_user USING INDEX ix_sys_user_live_created") for step in plans[1]), plans


def test_ids_beyond_the_id_columns_are_refused_not_a_server_error(app: Any, api: ApiClient,
                                                                   pages: PageClient) -> None:
    huge = 2**40  # beyond PostgreSQL's INTEGER: must never reach the database
    rid = make_role(app, "ROLE_AUDITOR")
    for method, path, body, code in (
            ("DELETE", f"/api/admin/role/{huge}/delete", None, 404),
            ("GET", f"/api/admin/role/{huge}/menu", None, 404),
            ("PUT", "/api/admin/role/modify", {"id": huge, "name": "x"}, 422),
            ("POST", "/api/admin/permission/grant", {"roleId": rid, "routers": [huge]}, 422),
            ("DELETE", f"/api/admin/menu/{huge}/delete", None, 404),
            ("POST", "/api/admin/menu/create", {"parentId": huge, "name": "x", "path": "/x"}, 422),
            ("DELETE", f"/api/admin/resource/{huge}/delete", None, 404),
            ("POST", "/api/admin/resource/page", {"parentId": huge}, 422)):
        assert api.call(method, path, body).status_code == code, (method, path)
    for path in (f"/system/role/{huge}/edit", f"/system/role/{huge}/grant", f"/system/menu/{huge}/edit",
                 f"/system/resource/{huge}/edit"):
        assert pages.get(path).status_code in (200, 400, 404), path  # 400: a query-string id beyond any id
    # a list filter beyond any id: the list without it, saying why (UX.md, filter bars)
    assert pages.get(f"/system/resource/?parent_id={huge}").status_code == 422
    assert pages.get(f"/system/resource/{huge}/children").status_code == 404  # the route does not match
    bad = pages.submit(f"/system/role/{rid}/grant", data={"menu_ids": [str(huge)]})
    assert bad.status_code == 422 and "未做任何修改" in bad.get_data(as_text=True)
    made = pages.submit("/system/menu/new", data={"parent_id": str(huge), "name": "x", "path": "/x"})
    assert made.status_code == 422


def test_a_refused_delete_is_logged_as_failed_on_the_page_and_the_api(app: Any, pages: PageClient,
                                                                       api: ApiClient) -> None:
    """A role still held: the page and the API both answer 409 with the reason, and log it as failed."""
    rid = make_role(app, "ROLE_AUDITOR", "审计员")
    make_user(app, role_ids=[rid])
    refusal = "角色「审计员」仍有 1 个用户在使用，请先为这些用户移除该角色"
    assert_refused(app, pages.submit("/system/role/", f"/system/role/{rid}/delete"), "角色删除", 409, refusal)
    assert_refused(app, api.delete(f"/api/admin/role/{rid}/delete"), "角色删除", 409, refusal)
    assert role_id_of(app, "ROLE_AUDITOR") == rid


def test_saving_a_role_deleted_meanwhile_keeps_the_typed_values(app: Any, pages: PageClient, api: ApiClient) -> None:
    rid = make_role(app, "ROLE_DOOMED", "将被删除")
    assert_save_after_delete_keeps_typed(
        pages, f"/system/role/{rid}/edit", lambda: api.data("DELETE", f"/api/admin/role/{rid}/delete"),
        {"name": "我刚改的角色", "role_code": "ROLE_DOOMED"}, "我刚改的角色", "角色")


def test_granting_a_role_deleted_meanwhile_keeps_the_ticks(app: Any, pages: PageClient, api: ApiClient) -> None:
    rid = make_role(app, "ROLE_DOOMED", "将被删除")
    ticked = menu_id(app, "/system/role")
    assert_save_after_delete_keeps_typed(
        pages, f"/system/role/{rid}/grant", lambda: api.data("DELETE", f"/api/admin/role/{rid}/delete"),
        {"menu_ids": [str(ticked)]}, str(ticked), "角色")
    html = pages.submit(f"/system/role/{rid}/grant", data={"menu_ids": [str(ticked)]}).get_data(as_text=True)
    assert f'id="menu-{ticked}" checked' in html
    assert html.count("checked") == 1 and "None" not in html  # only what was ticked; no empty role code
    assert f"角色授权：已删除的角色（{rid}）" in html  # the heading still says which role it was


# ---------------------------------------------------------------------------------------------
# English (issue 24 item 10) and the grant page a person can read (item 8)


def _html(resp: Any) -> str:
    import html

    return html.unescape(resp.get_data(as_text=True))


def _english(pages: PageClient) -> PageClient:
    pages.get("/system/role/")  # the sign-in's welcome flash names the user as signed in: shown once, gone
    return pages


def test_role_pages_in_english(app: Any, api: ApiClient, english_pages: PageClient) -> None:
    from tests.conftest import chinese_on_page as english_leftovers

    pages = _english(english_pages)
    rid = make_role(app, "ROLE_AUDITOR", "Auditors")
    make_user(app, name="Ann Example", role_ids=[rid])
    make_user(app, name="Bob Example")
    sid = role_id_of(app, "ROLE_SUPER_ADMIN")
    for url in ("/system/role/", "/system/role/?name=nothing-matches", "/system/role/new",
                f"/system/role/{rid}/edit", f"/system/role/{sid}/edit", f"/system/role/{rid}/grant",
                f"/system/role/{sid}/grant", f"/system/role/{rid}/users", f"/system/role/{rid}/users?assigned=false",
                f"/system/role/{rid}/users?keyword=nobody"):
        resp = pages.get(url)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and not english_leftovers(html), (url, english_leftovers(html))
    listing = _html(pages.get("/system/role/"))
    assert ">Role code</th>" in listing and "Refresh permissions" in listing and "Assign users" in listing
    empty = pages.submit("/system/role/new", data={"name": "", "role_code": ""})
    assert empty.status_code == 422 and "Enter a role name" in _html(empty)
    assert not english_leftovers(empty.get_data(as_text=True)), english_leftovers(empty.get_data(as_text=True))
    refused = pages.submit("/system/role/new", data={"name": "x", "role_code": "auditor", "data_scope": "1"})
    assert refused.status_code == 422 and not english_leftovers(refused.get_data(as_text=True))
    assert "A role code is ROLE_ followed by" in _html(refused)
    created = pages.submit("/system/role/new", data={"name": "Clerks", "role_code": "ROLE_CLERK", "data_scope": "1"},
                           follow_redirects=True)
    assert 'Role "Clerks" created; you can now grant it permissions' in _html(created)
    saved = pages.submit(f"/system/role/{rid}/grant", data={"menu_ids": [str(menu_id(app, "/system/role"))]},
                         follow_redirects=True)
    assert 'Grants of role "Auditors" saved (menus: 1, resources: 0)' in _html(saved)
    # the operation log keeps the Chinese source of the title (shown later in the reader's language)
    assert ("角色授权", "success") in logged_actions(app)
    # a refusal of the service through the API, in English; Chinese stays the default
    dup = api.post("/api/admin/role/create", json={"name": "x", "roleCode": "ROLE_AUDITOR"},
                   headers={"Accept-Language": "en"})
    assert dup.status_code == 409 and dup.get_json()["msg"] == "Role code ROLE_AUDITOR already exists"
    busy = api.delete(f"/api/admin/role/{rid}/delete", headers={"Accept-Language": "en"})
    assert busy.status_code == 409
    assert busy.get_json()["msg"] == 'Role "Auditors" is still held by users (1); remove it from them first'
    assert api.post("/api/admin/role/create", json={"name": "x", "roleCode": "ROLE_AUDITOR"}).get_json()["msg"] \
        == "角色编码 ROLE_AUDITOR 已存在"


def test_the_role_form_names_the_default_executor_in_english(app: Any, english_pages: PageClient) -> None:
    from pcloud.jobs import service as jobs
    from pcloud.jobs.models import Executor
    from tests.conftest import chinese_on_page as english_leftovers

    def add() -> None:
        db.session.add(Executor(appname="pcloud-executor", title=jobs.DEFAULT_EXECUTOR_TITLE))
        db.session.commit()

    query(app, add)
    pages = _english(english_pages)
    for url in ("/system/role/new", f"/system/role/{role_id_of(app, 'ROLE_ADMIN')}/edit"):
        html = pages.get(url).get_data(as_text=True)
        assert not english_leftovers(html), (url, english_leftovers(html))
        assert "Default executor (pcloud-executor)" in html, url


def test_the_built_in_roles_are_named_in_the_deployments_language(app: Any) -> None:
    from pcloud import create_app
    from pcloud.roles import service

    english = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                          "PCLOUD_DEFAULT_LANGUAGE": "en", "TESTING": True})
    with english.app_context():
        admin = db.session.execute(Role.live().where(Role.role_code == service.ADMIN)).scalar_one()
        admin.soft_delete()
        db.session.commit()
        assert service.ensure_builtin_roles() == [service.ADMIN]
        assert service.role_by_code(service.ADMIN).name == "Administrator"
        db.session.remove()
    assert query(app, lambda: service.role_by_code("ROLE_SUPER_ADMIN").name) == "超级管理员"  # made in Chinese


def test_the_grant_page_groups_resources_by_module_and_puts_buttons_beside_their_page(
        app: Any, english_pages: PageClient) -> None:
    from pcloud.resources import service as resources

    pages = _english(english_pages)
    rid = make_role(app, "ROLE_AUDITOR", "Auditors")
    user_menu = menu_id(app, "/system/user")

    def button(name: str, url: str) -> int:
        def create() -> int:
            return resources.create_resource({"name": name, "resource_url": url, "biz_type": 1}).id
        return query(app, create)

    export = button("Export users button", "/api/admin/system/user/export-button")
    stray = button("Stray button", "/nowhere/button")
    html = _html(pages.get(f"/system/role/{rid}/grant"))
    # the button sits beside its page, in the menu card, a resource checkbox outside the page's branch
    menus_card, resources_card = html.split('data-tree="resource"', 1)
    beside = menus_card.split(f'id="menu-{user_menu}"', 1)[1].split("</li>", 1)[0]
    assert f'data-buttons-of="{user_menu}"' in beside and f'id="button-{export}"' in beside
    assert "Export users button" in beside and "POST" not in beside.split(f'id="button-{export}"')[0][-200:]
    assert f'name="resource_ids" value="{export}"' in beside
    assert f'id="resource-{export}"' not in resources_card  # not twice
    assert f'id="resource-{stray}"' in resources_card  # a button of no page stays in its place
    # resources by name, grouped by module, the route as secondary text
    group = resource_id(app, "group:roles_api")
    role_create = resource_id(app, route_code("roles_api.create", "POST"))
    group_item = resources_card.split(f'id="resource-{group}"', 1)[1]
    assert "<strong>Roles</strong>" in group_item.split("</label>", 1)[0]
    route = group_item.split(f'id="resource-{role_create}"', 1)[1].split("</label>", 1)[0]
    assert "Add role" in route and '<code>POST /api/admin/role/create</code>' in route
    # ticking the button grants it
    resp = pages.submit(f"/system/role/{rid}/grant", data={"menu_ids": [str(user_menu)],
                                                           "resource_ids": [str(export)]})
    assert resp.status_code == 302 and export in grants_of(app, rid)[1]
    box = _html(pages.get(f"/system/role/{rid}/grant")).split(f'id="button-{export}"', 1)[1].split(">", 1)[0]
    assert "checked" in box


def test_a_role_reaching_beyond_the_editor_cannot_be_changed_stripped_or_deleted(app: Any, api: ApiClient) -> None:
    """Only what a change adds was checked: a user admin scoped to one department could rename the
    administrator role, strip another admin role of its grants, or narrow and recode it (an outside review). A
    role reaching beyond the editor is left alone (403), through the API and the pages."""
    from tests.test_permissions import PrincipalClients

    wide = api.data("POST", "/api/admin/role/create", {"name": "日志管理员", "roleCode": "ROLE_LOGS", "dataScope": 1})
    grant_role(app, wide, resource_codes=(route_code("actionlog_api.page", "POST"),))
    editor = PrincipalClients(app, "ROLE_EDITOR")
    editor.grant(menu_paths=("/system", "/system/role"), resource_codes=tuple(
        route_code(f"roles_api.{name}", method) for name, method in (
            ("create", "POST"), ("modify", "PUT"), ("grant", "POST"), ("delete", "DELETE"), ("page", "POST"))))
    api.data("PUT", "/api/admin/role/modify", {"id": editor.role_id, "dataScope": 4})
    admin_role = query(app, lambda: db.session.execute(select(Role.id).where(Role.role_code == "ROLE_ADMIN")).scalar())
    for role in (admin_role, wide):
        api_error(editor.api.put("/api/admin/role/modify", {"id": role, "name": "改名"}), 403)
        api_error(editor.api.post("/api/admin/permission/grant", {"roleId": role, "routers": [], "resources": []}),
                  403)
    api_error(editor.api.put("/api/admin/role/modify", {"id": wide, "dataScope": 5, "roleCode": "ROLE_YX"}), 403)
    api_error(editor.api.delete(f"/api/admin/role/{wide}/delete"), 403)
    resp = editor.pages.submit(f"/system/role/{wide}/edit", data={"name": "改名", "role_code": "ROLE_LOGS",
                                                                 "data_scope": "1"})
    assert resp.status_code == 403
    with app.app_context():
        role = db.session.get(Role, wide)
        assert (role.name, role.role_code, role.data_scope, role.deleted_at) == ("日志管理员", "ROLE_LOGS", 1, None)
        assert db.session.execute(select(func.count()).select_from(role_resource).where(
            role_resource.c.role_id == wide)).scalar() == 1
        db.session.remove()
    # a role within the editor's reach: theirs to change and delete
    mine = editor.api.post("/api/admin/role/create", {"name": "本部门", "roleCode": "ROLE_MINE",
                                                     "dataScope": 3}).get_json()["data"]
    assert editor.api.put("/api/admin/role/modify", {"id": mine, "name": "本部门2"}).status_code == 200
    assert editor.api.delete(f"/api/admin/role/{mine}/delete").status_code == 200


def test_parallel_creates_and_recodes_into_one_role_code_keep_one(app: Any, api: ApiClient) -> None:
    """The house rule for a unique value (tests/conftest.py `assert_races_keep_one`): a live role's code, with the
    refusal's own message (tests/test_security.py races the creates on gunicorn, statuses only). A role's name is
    not unique (docs/API.md)."""
    from tests.conftest import assert_races_keep_one

    assert_races_keep_one(
        app, api.token, lambda n: ("POST", "/api/admin/role/create", {"name": "并发", "roleCode": f"ROLE_RACE_{n}"}),
        lambda role, n: ("PUT", "/api/admin/role/modify", {"id": role, "roleCode": f"ROLE_RACE_{n}"}),
        lambda n: f"角色编码 ROLE_RACE_{n} 已存在",
        lambda: query(app, lambda: list(db.session.execute(select(Role.role_code).where(Role.deleted_at.is_(None)))
                                        .scalars())))


def test_english_pages_show_the_built_in_roles_names_in_english_and_a_created_role_as_named(
        app: Any, pages: PageClient, api: ApiClient) -> None:
    """The roles setup creates are named in the deployment's language (Chinese here); an English page shows their
    catalogue names, while a role an administrator created with the same Chinese name keeps it."""
    from pcloud.users.models import User, user_role
    from tests.conftest import set_language

    created = make_role(app, "ROLE_TWIN", "超级管理员")
    with app.app_context():
        # Only role names may be Chinese here: not the administrator's name, nor who created or modified a role.
        for user in db.session.scalars(select(User)):
            user.name = f"User {user.id}"
        for role in db.session.scalars(select(Role)):
            role.gmt_created_name = role.gmt_modified_name = "setup"
        super_id = db.session.execute(select(Role.id).where(Role.role_code == "ROLE_SUPER_ADMIN")).scalar_one()
        admin_id = db.session.execute(select(Role.id).where(Role.role_code == "ROLE_ADMIN")).scalar_one()
        user_id = db.session.execute(select(func.min(User.id))).scalar_one()
        db.session.execute(insert(user_role).values(user_id=user_id, role_id=created))
        db.session.commit()
    set_language(pages.client, "en")
    pages.get("/")  # the sign-in's welcome flash, which names the administrator as signed in

    def shown(url: str) -> str:
        resp = pages.get(url)
        assert resp.status_code == 200, url
        return resp.get_data(as_text=True)

    def row(html: str, code: str) -> str:
        return re.search(rf'data-role-code="{code}">(.*?)</tr>', html, re.S).group(1)

    roles_page = shown("/system/role/")
    assert "Super administrator" in row(roles_page, "ROLE_SUPER_ADMIN")
    assert "超级管理员" not in row(roles_page, "ROLE_SUPER_ADMIN")
    assert "Administrator" in row(roles_page, "ROLE_ADMIN") and "管理员" not in row(roles_page, "ROLE_ADMIN")
    assert "超级管理员" in row(roles_page, "ROLE_TWIN") and "Super administrator" not in row(roles_page, "ROLE_TWIN")
    users_page = shown("/system/user/")
    assert "Super administrator" in users_page and "超级管理员" in users_page  # role column and role filter
    user_form = shown("/system/user/new")
    assert "Super administrator" in user_form and "Administrator" in user_form
    for role_id, name in ((super_id, "Super administrator"), (admin_id, "Administrator")):
        for url in (f"/system/role/{role_id}/edit", f"/system/role/{role_id}/users", f"/system/role/{role_id}/grant"):
            assert re.search(rf"<h1[^>]*>[^<]*{name}", shown(url)), url
    assert "超级管理员" in shown(f"/system/role/{created}/edit")
    profile = shown("/profile")
    assert "Super administrator" in profile and "超级管理员" in profile
    notice_form = shown("/system/notice/new")
    assert "Super administrator" in notice_form and "Administrator" in notice_form
    filtered = shown("/system/role/?name=super")
    assert "Super administrator" in filtered and "ROLE_TWIN" not in filtered
    # the API names roles as stored, and filters them so
    assert api.post("/api/admin/role/page", json={"name": "super"}, headers={"Accept-Language": "en"}
                    ).get_json()["total"] == 0
