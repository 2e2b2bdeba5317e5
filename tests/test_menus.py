"""菜单管理: the tree API, create / modify / move / delete rules, built-in menus and their sync, the pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pcloud.access.models import role_menu
from pcloud.extensions import db
from pcloud.menus.builtin import BUILTIN_MENUS
from pcloud.menus.models import Menu
from tests.conftest import (
    ApiClient,
    PageClient,
    assert_refused,
    assert_save_after_delete_keeps_typed,
    logged_actions,
    sidebar_links,
)
from tests.factories import grant_role, make_role, menu_id, perm_version, query


def tree(api: ApiClient, **body: Any) -> tuple[list[dict[str, Any]], int]:
    resp = api.post("/api/admin/menu/page", json=body)
    assert resp.status_code == 200, resp.get_json()
    payload = resp.get_json()
    return payload["data"], payload["total"]


def find(nodes: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    for node in nodes:
        if node["name"] == name:
            return node
        found = find(node["children"], name)
        if found:
            return found
    return None


def test_page_is_the_whole_tree_in_sequence_order(api: ApiClient) -> None:
    nodes, total = tree(api)
    assert total == len(BUILTIN_MENUS)
    roots = sorted((e for e in BUILTIN_MENUS if e["parent"] is None), key=lambda e: int(e["sequence"]))
    assert [n["name"] for n in nodes] == [str(e["name"]) for e in roots]
    system = nodes[0]
    children = [c["name"] for c in system["children"]]
    expected = [str(e["name"]) for e in sorted((e for e in BUILTIN_MENUS if e["parent"] == "system"),
                                               key=lambda e: int(e["sequence"]))]  # type: ignore[call-overload]
    assert children == expected
    user = system["children"][0]
    assert user["parentId"] == system["id"] and user["label"] == user["name"] and user["path"] == "/system/user"
    assert set(user) >= {"id", "parentId", "name", "label", "path", "component", "redirect", "icon", "router",
                         "hidden", "sequence", "children", "gmtCreatedDate", "gmtModifiedName"}


def test_page_filters_by_name_with_ancestors(api: ApiClient) -> None:
    nodes, total = tree(api, name="角色")
    assert total == 2 and [n["name"] for n in nodes] == ["系统管理"]
    assert [c["name"] for c in nodes[0]["children"]] == ["角色管理"]
    assert tree(api, name="没有这个")[1] == 0
    assert api.post("/api/admin/menu/page", json={"nane": "x"}).status_code == 422


def test_create_modify_and_move(app: Any, api: ApiClient) -> None:
    before = perm_version(app)
    report = api.data("POST", "/api/admin/menu/create", {"name": "报表", "path": "/report", "icon": "bar-chart",
                                                          "sequence": 5})
    assert perm_version(app) > before
    daily = api.data("POST", "/api/admin/menu/create", {"parentId": report, "name": "日报", "path": "/report/daily",
                                                         "sequence": 2, "hidden": True})
    weekly = api.data("POST", "/api/admin/menu/create", {"parentId": report, "name": "周报",
                                                          "path": "/report/weekly", "sequence": 1})
    nodes, total = tree(api)
    assert total == len(BUILTIN_MENUS) + 3
    assert [n["name"] for n in nodes][:2] == ["报表", "系统管理"]  # sequence 5 before 10, then other modules
    report_node = nodes[0]
    assert [c["name"] for c in report_node["children"]] == ["周报", "日报"]
    assert report_node["router"] is True and report_node["hidden"] is False
    assert find(nodes, "日报")["hidden"] is True  # type: ignore[index]

    # move 日报 first (sequence), then below 系统管理 (parent)
    api.data("PUT", "/api/admin/menu/modify", {"id": daily, "sequence": 0})
    assert [c["name"] for c in tree(api)[0][0]["children"]] == ["日报", "周报"]
    system = menu_id(app, "/system")
    api.data("PUT", "/api/admin/menu/modify", {"id": daily, "parentId": system, "sequence": 99})
    nodes = tree(api)[0]
    assert [c["name"] for c in find(nodes, "报表")["children"]] == ["周报"]  # type: ignore[index]
    assert find(nodes, "系统管理")["children"][-1]["name"] == "日报"  # type: ignore[index]
    # back to the root
    api.data("PUT", "/api/admin/menu/modify", {"id": weekly, "parentId": 0, "name": "周报表"})
    assert "周报表" in [n["name"] for n in tree(api)[0]]

    bad_parent = api.post("/api/admin/menu/create", json={"parentId": 999999, "name": "x", "path": "/x"})
    assert bad_parent.status_code == 422 and "parentId" in bad_parent.get_json()["errors"]
    missing = api.post("/api/admin/menu/create", json={"name": "x"})
    assert missing.status_code == 422 and "path" in missing.get_json()["errors"]
    assert api.put("/api/admin/menu/modify", json={"id": 999999, "name": "x"}).status_code == 404


def test_moving_below_itself_or_a_descendant_is_refused(app: Any, api: ApiClient) -> None:
    top = api.data("POST", "/api/admin/menu/create", {"name": "顶", "path": "/top"})
    mid = api.data("POST", "/api/admin/menu/create", {"parentId": top, "name": "中", "path": "/top/mid"})
    low = api.data("POST", "/api/admin/menu/create", {"parentId": mid, "name": "底", "path": "/top/mid/low"})
    before_tree, before_version = tree(api), perm_version(app)
    for parent in (top, mid, low):
        resp = api.put("/api/admin/menu/modify", json={"id": top, "parentId": parent, "name": "改名"})
        assert resp.status_code == 422 and "parentId" in resp.get_json()["errors"]
    assert tree(api) == before_tree and perm_version(app) == before_version  # nothing changed, not even the name


def test_delete_rules(app: Any, api: ApiClient) -> None:
    parent = api.data("POST", "/api/admin/menu/create", {"name": "报表", "path": "/report"})
    child = api.data("POST", "/api/admin/menu/create", {"parentId": parent, "name": "日报", "path": "/report/daily"})
    rid = make_role(app, "ROLE_READER")
    grant_role(app, rid, menu_ids=(parent, child))
    refused = api.delete(f"/api/admin/menu/{parent}/delete")
    assert refused.status_code == 409 and "子菜单" in refused.get_json()["msg"]
    before = perm_version(app)
    api.data("DELETE", f"/api/admin/menu/{child}/delete")
    assert perm_version(app) > before
    held = query(app, lambda: set(db.session.execute(select(role_menu.c.menu_id)
                                                     .where(role_menu.c.role_id == rid)).scalars()))
    assert held == {parent}  # removed from every role
    assert find(tree(api)[0], "日报") is None
    assert api.delete(f"/api/admin/menu/{child}/delete").status_code == 404
    api.data("DELETE", f"/api/admin/menu/{parent}/delete")
    for path in ("/system", "/system/user", "/system/role"):
        resp = api.delete(f"/api/admin/menu/{menu_id(app, path)}/delete")
        assert resp.status_code == 409 and "内置菜单" in resp.get_json()["msg"]


def test_built_in_menus_keep_their_path_but_may_be_renamed_and_moved(app: Any, api: ApiClient) -> None:
    role_menu_id = menu_id(app, "/system/role")
    refused = api.put("/api/admin/menu/modify", json={"id": role_menu_id, "path": "/roles"})
    assert refused.status_code == 409
    api.data("PUT", "/api/admin/menu/modify", {"id": role_menu_id, "path": "/system/role", "name": "角色",
                                              "parentId": 0, "sequence": 1})
    from pcloud.cli import run_sync

    with app.app_context():
        result = run_sync()
        db.session.remove()
    assert result["menus"] == {"created": 0, "updated": 0, "retired": 0}
    node = find(tree(api)[0], "角色")
    assert node is not None and node["parentId"] == 0 and node["sequence"] == 1  # the sync kept the move


def test_sync_is_idempotent_and_revives_and_retires_built_ins(app: Any) -> None:
    from pcloud.menus import service

    with app.app_context():
        assert service.sync_builtin_menus() == {"created": 0, "updated": 0, "retired": 0}
        menu = db.session.execute(select(Menu).where(Menu.code == "system.menu")).scalar_one()
        menu.soft_delete()
        stale = Menu(code="system.gone", built_in=True, name="旧页面", path="/system/gone", parent_id=menu.parent_id)
        db.session.add(stale)
        db.session.commit()
        assert service.sync_builtin_menus() == {"created": 0, "updated": 1, "retired": 1}
        assert db.session.get(Menu, menu.id).deleted_at is None
        assert db.session.get(Menu, stale.id).deleted_at is not None
        db.session.remove()


# ---------------------------------------------------------------------------------------------
# Pages


def test_tree_page(app: Any, pages: PageClient) -> None:
    html = pages.get("/system/menu/").get_data(as_text=True)
    for entry in BUILTIN_MENUS:
        assert f"<code>{entry['path']}</code>" in html
    assert html.count(">删除<") == 0  # built-ins only: none can be deleted
    assert f"共 {len(BUILTIN_MENUS)} 个菜单" in html
    filtered = pages.get("/system/menu/?name=角色").get_data(as_text=True)
    assert "/system/role" in filtered and "/system/user<" not in filtered


def test_create_edit_move_and_delete_pages(app: Any, pages: PageClient, api: ApiClient) -> None:
    resp = pages.submit("/system/menu/new", data={"parent_id": "0", "name": "报表", "path": "/report",
                                                  "sequence": "3", "router": "y"})
    assert resp.status_code == 302
    report = menu_id(app, "/report")
    child_form = pages.get(f"/system/menu/new?parent_id={report}").get_data(as_text=True)
    assert f'<option selected value="{report}">' in child_form
    pages.submit("/system/menu/new", data={"parent_id": str(report), "name": "日报", "path": "/report/daily"})
    daily = menu_id(app, "/report/daily")
    assert find(tree(api)[0], "日报")["parentId"] == report  # type: ignore[index]

    edit = pages.submit(f"/system/menu/{daily}/edit", data={"parent_id": str(report), "name": "日报表",
                                                            "path": "/report/daily", "sequence": "2",
                                                            "hidden": "y"})
    assert edit.status_code == 302 and find(tree(api)[0], "日报表")["hidden"] is True  # type: ignore[index]

    move_page = pages.get(f"/system/menu/{report}/move").get_data(as_text=True)
    assert f'value="{daily}"' not in move_page  # cannot move below its own child
    below_self = pages.submit(f"/system/menu/{report}/move", data={"parent_id": str(daily), "sequence": "0"})
    assert below_self.status_code == 422 and "下级菜单" in below_self.get_data(as_text=True)
    moved = pages.submit(f"/system/menu/{daily}/move", data={"parent_id": "0", "sequence": "1"})
    assert moved.status_code == 302
    assert [n["name"] for n in tree(api)[0]][:2] == ["日报表", "报表"]

    pages.submit("/system/menu/new", data={"parent_id": str(report), "name": "周报", "path": "/report/weekly"})
    refused = pages.submit("/system/menu/", f"/system/menu/{report}/delete", follow_redirects=True)
    assert "不能删除：该菜单下还有子菜单" in refused.get_data(as_text=True)
    done = pages.submit("/system/menu/", f"/system/menu/{daily}/delete", follow_redirects=True)
    assert "菜单「日报表」已删除" in done.get_data(as_text=True)

    builtin = menu_id(app, "/system/role")
    form = pages.get(f"/system/menu/{builtin}/edit").get_data(as_text=True)
    assert "路由地址由系统维护，不能修改" in form
    renamed = pages.submit(f"/system/menu/{builtin}/edit", data={"parent_id": str(menu_id(app, "/system")),
                                                                 "name": "角色", "path": "/system/role",
                                                                 "sequence": "20", "router": "y"})
    assert renamed.status_code == 302
    blocked = pages.submit("/system/menu/", f"/system/menu/{builtin}/delete", follow_redirects=True)
    assert "内置菜单不能删除" in blocked.get_data(as_text=True)


def test_menu_changes_are_in_the_action_log(app: Any, api: ApiClient) -> None:

    mid = api.data("POST", "/api/admin/menu/create", {"name": "报表", "path": "/report"})
    api.data("PUT", "/api/admin/menu/modify", {"id": mid, "sequence": 3})
    api.data("DELETE", f"/api/admin/menu/{mid}/delete")
    assert [title for title, _ in logged_actions(app)] == ["菜单新增", "菜单修改", "菜单删除"]


def test_sidebar_renders_menus_of_any_depth(app: Any, api: ApiClient, pages: PageClient) -> None:
    top = api.data("POST", "/api/admin/menu/create", {"name": "报表中心", "path": "/reports", "sequence": 90})
    mid = api.data("POST", "/api/admin/menu/create", {"parentId": top, "name": "财务报表", "path": "/reports/finance"})
    api.data("POST", "/api/admin/menu/create",
             {"parentId": mid, "name": "月度利润", "path": "/reports/finance/monthly"})
    html = pages.get("/").get_data(as_text=True)
    sidebar = html.split('id="sidebar"', 1)[1].split("</aside>", 1)[0]
    assert "报表中心" in sidebar and "财务报表" in sidebar  # the groups, as headings
    assert ("/reports/finance/monthly", "月度利润", 2) in sidebar_links(html)  # the page, two levels down


def test_a_refused_delete_is_logged_as_failed_on_the_page_and_the_api(app: Any, pages: PageClient,
                                                                       api: ApiClient) -> None:
    """A menu with children: the page and the API both answer 409 with the reason, and log it as failed."""
    top = api.data("POST", "/api/admin/menu/create", {"name": "报表", "path": "/report"})
    api.data("POST", "/api/admin/menu/create", {"parentId": top, "name": "日报", "path": "/report/daily"})
    refusal = "该菜单下还有子菜单，请先删除或移走子菜单"
    assert_refused(app, pages.submit("/system/menu/", f"/system/menu/{top}/delete"), "菜单删除", 409, refusal)
    assert_refused(app, api.delete(f"/api/admin/menu/{top}/delete"), "菜单删除", 409, refusal)


def test_saving_a_menu_deleted_meanwhile_keeps_the_typed_values(pages: PageClient, api: ApiClient) -> None:
    menu = api.data("POST", "/api/admin/menu/create", {"name": "将被删除", "path": "/doomed"})
    assert_save_after_delete_keeps_typed(
        pages, f"/system/menu/{menu}/edit", lambda: api.data("DELETE", f"/api/admin/menu/{menu}/delete"),
        {"name": "我刚改的菜单", "path": "/doomed", "parent_id": "0", "sequence": "0"}, "我刚改的菜单", "菜单")


def test_moving_a_menu_deleted_meanwhile_keeps_the_typed_values(pages: PageClient, api: ApiClient) -> None:
    menu = api.data("POST", "/api/admin/menu/create", {"name": "将被删除", "path": "/doomed"})
    assert_save_after_delete_keeps_typed(
        pages, f"/system/menu/{menu}/move", lambda: api.data("DELETE", f"/api/admin/menu/{menu}/delete"),
        {"parent_id": "0", "sequence": "37"}, "37", "菜单")
    html = pages.submit(f"/system/menu/{menu}/move", data={"parent_id": "0", "sequence": "37"}).get_data(as_text=True)
    assert f"已删除的菜单（{menu}）" in html  # no name field: the heading still says which menu it was
