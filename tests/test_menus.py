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
    set_language,
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


# ---------------------------------------------------------------------------------------------
# English (issue 24 item 10): the English label of a menu (nameEn), the pages in English


def html_text(resp: Any) -> str:
    import html

    return html.unescape(resp.get_data(as_text=True))


def _english(pages: PageClient) -> PageClient:
    pages.get("/system/menu/")  # the sign-in's welcome flash names the user as signed in: shown once, gone
    return pages


def test_a_menu_has_an_optional_english_label_in_the_api(app: Any, api: ApiClient) -> None:
    created = api.post("/api/admin/menu/create", json={"name": "报表", "nameEn": "Reports", "path": "/reports"})
    assert created.status_code == 200, created.get_json()
    mid = created.get_json()["data"]
    node = find(tree(api)[0], "报表")
    assert node is not None and node["nameEn"] == "Reports" and node["label"] == "报表"
    assert find(tree(api, name="repo")[0], "报表") is not None  # the filter matches the English label too
    assert api.put("/api/admin/menu/modify", json={"id": mid, "nameEn": "Monthly reports"}).status_code == 200
    assert find(tree(api)[0], "报表")["nameEn"] == "Monthly reports"
    assert api.put("/api/admin/menu/modify", json={"id": mid, "nameEn": ""}).status_code == 200
    assert find(tree(api)[0], "报表")["nameEn"] is None
    too_long = api.put("/api/admin/menu/modify", json={"id": mid, "nameEn": "x" * 65})
    assert too_long.status_code == 422 and "nameEn" in too_long.get_json()["errors"]
    # the grant screens' tree carries it too
    role = make_role(app, "ROLE_I18N", "i18n")
    routers = api.get(f"/api/admin/role/{role}/menu").get_json()["data"]["routers"]
    assert find(routers, "用户管理")["nameEn"] == "Users"


def test_sync_fills_the_built_ins_english_label_where_it_is_empty(app: Any) -> None:
    from pcloud.menus.service import sync_builtin_menus

    def blank_and_sync() -> dict[str, str | None]:
        db.session.execute(Menu.__table__.update().where(Menu.code == "system.user").values(name_en=None))
        db.session.execute(Menu.__table__.update().where(Menu.code == "system.role").values(name_en="Role admin"))
        db.session.commit()
        sync_builtin_menus()
        return dict(db.session.execute(select(Menu.code, Menu.name_en).where(Menu.code.is_not(None))).tuples().all())

    labels = query(app, blank_and_sync)
    assert labels["system.user"] == "Users"  # an existing database gets the built-in's English
    assert labels["system.role"] == "Role admin"  # what an administrator set stays
    assert all(labels[str(e["code"])] for e in BUILTIN_MENUS)


def test_the_sidebar_shows_a_menus_english_label_else_its_name(app: Any, api: ApiClient,
                                                                 english_pages: PageClient) -> None:
    assert api.post("/api/admin/menu/create", json={"name": "Plain", "path": "/plain"}).status_code == 200
    assert api.post("/api/admin/menu/create", json={"name": "报表", "nameEn": "Reports",
                                                    "path": "/reports"}).status_code == 200
    html = _english(english_pages).get("/system/menu/").get_data(as_text=True)
    texts = {href: text for href, text, _depth in sidebar_links(html)}
    assert texts["/system/user"] == "Users" and texts["/system/menu"] == "Menus"
    assert texts["/reports"] == "Reports" and texts["/plain"] == "Plain"
    set_language(english_pages.client, "zh")
    zh = {href: text for href, text, _d in sidebar_links(english_pages.get("/system/menu/").get_data(as_text=True))}
    assert zh["/system/user"] == "用户管理" and zh["/reports"] == "报表"


def test_a_menus_english_label_stays_inside_its_delete_dialog(api: ApiClient, english_pages: PageClient) -> None:
    """The English confirm sentence quotes the label ("…"): its quotation marks are escaped with the rest, so a
    label does not end the `data-confirm` attribute (confirm_button, every list's delete) and add attributes."""
    from html.parser import HTMLParser

    label = "x onmouseover=alert(1) y"
    created = api.post("/api/admin/menu/create", json={"name": "报表", "nameEn": label, "path": "/reports"})
    assert created.status_code == 200
    forms: list[dict[str, str | None]] = []

    class Forms(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "form" and dict(attrs).get("action") == f"/system/menu/{created.get_json()['data']}/delete":
                forms.append(dict(attrs))

    Forms().feed(english_pages.get("/system/menu/").get_data(as_text=True))
    assert len(forms) == 1 and set(forms[0]) == {"method", "action", "class", "data-confirm"}, forms
    assert forms[0]["data-confirm"] == f'Delete menu "{label}"? It will be removed from every role\'s grants.'


def test_the_menu_form_says_every_wrong_field_at_once(app: Any, pages: PageClient) -> None:
    """A browser review: with the name empty and the route `no slash here`, the form said only 请输入菜单名称, and the
    route's error (and a route another menu has) after the name was put right, a second round trip (docs/UX.md)."""
    bad = pages.submit("/system/menu/new", data={"name": "", "path": "no slash here", "redirect": "javascript:x"})
    html = html_text(bad)
    assert bad.status_code == 422 and "请输入菜单名称" in html and "路由地址无效" in html and "重定向无效" in html, html
    taken = pages.submit("/system/menu/new", data={"name": "", "path": "/system/user/"})
    assert taken.status_code == 422 and "路由地址 /system/user 已被其他菜单使用" in html_text(taken)
    own = menu_id(app, "/system/user")
    kept = pages.submit(f"/system/menu/{own}/edit", data={"name": "", "path": "/system/user"})
    assert kept.status_code == 422 and "已被其他菜单使用" not in html_text(kept)  # its own route is not taken


def test_menu_pages_in_english(app: Any, api: ApiClient, english_pages: PageClient) -> None:
    from tests.conftest import chinese_on_page as english_leftovers

    pages = _english(english_pages)
    mid = api.post("/api/admin/menu/create", json={"name": "Plain", "path": "/plain"}).get_json()["data"]
    for url in ("/system/menu/", "/system/menu/?name=nothing-matches", "/system/menu/new",
                f"/system/menu/{mid}/edit", f"/system/menu/{mid}/move",
                f"/system/menu/{menu_id(app, '/system/user')}/edit"):
        resp = pages.get(url)
        html = resp.get_data(as_text=True).replace('value="用户管理"', "")  # a built-in's stored name, edited as is
        assert resp.status_code == 200 and not english_leftovers(html), (url, english_leftovers(html))
    listing = pages.get("/system/menu/").get_data(as_text=True)
    assert ">Menu name</th>" in listing and "Users" in listing and "Add child" in listing
    refused = pages.submit("/system/menu/new", data={"name": "", "path": "/x y"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and not english_leftovers(html), english_leftovers(html)
    saved = pages.submit(f"/system/menu/{mid}/edit", data={"name": "Plain", "name_en": "Plain EN", "path": "/plain",
                                                           "sequence": "0"}, follow_redirects=True)
    # the flash names the menu as the English page does (a browser review: it said the stored Chinese name)
    assert 'Menu "Plain EN" saved' in html_text(saved)
    assert query(app, lambda: db.session.get(Menu, mid).name_en) == "Plain EN"
    users_menu = menu_id(app, "/system/user")
    moved = pages.submit(f"/system/menu/{users_menu}/move", data={
        "parent_id": str(query(app, lambda: db.session.get(Menu, users_menu).parent_id)), "sequence": "1"},
        follow_redirects=True)
    assert 'Menu "Users" moved' in html_text(moved) and "用户管理" not in html_text(moved).split("<main", 1)[1]
    deleted = pages.submit("/system/menu/", f"/system/menu/{mid}/delete", follow_redirects=True)
    assert 'Menu "Plain EN" deleted' in html_text(deleted)
    # a refusal of the service, through the API, in English
    resp = api.post("/api/admin/menu/create", json={"name": "X", "path": "javascript:alert(1)"},
                    headers={"Accept-Language": "en"})
    assert resp.status_code == 422 and resp.get_json()["msg"].startswith("Route is invalid: a route must be a path")
    gone = api.delete(f"/api/admin/menu/{menu_id(app, '/system/user')}/delete", headers={"Accept-Language": "en"})
    assert gone.status_code == 409 and gone.get_json()["msg"] == "A built-in menu cannot be deleted"


def test_a_menu_tree_is_at_most_twenty_levels_deep(app: Any, api: ApiClient, pages: PageClient) -> None:
    """At 250 nested menus every console page of the super administrator answered 500, the error page too (an
    outside review): past MAX_DEPTH levels a create or move is 422 on parentId; the deepest tree allowed still
    renders in the sidebar and the API."""
    from pcloud.core.tree import MAX_DEPTH
    from tests.conftest import api_error
    from tests.factories import make_menu

    chain = [0]
    for level in range(MAX_DEPTH):
        chain.append(make_menu(app, f"第{level + 1}层", f"/deep/{level + 1}", chain[-1]))
    body = api_error(api.post("/api/admin/menu/create", {"parentId": chain[-1], "name": "太深", "path": "/deep/x"}),
                     422)
    assert "parentId" in body["errors"] and str(MAX_DEPTH) in body["msg"]
    branch = make_menu(app, "分支", "/branch")
    make_menu(app, "分支下级", "/branch/leaf", branch)
    api_error(api.put("/api/admin/menu/modify", {"id": branch, "parentId": chain[-2]}), 422)
    assert api.put("/api/admin/menu/modify", {"id": branch, "parentId": chain[-3]}).status_code == 200
    assert 'href="/deep/20"' in pages.get("/").get_data(as_text=True)
    assert api.post("/api/admin/menu/page", {}).status_code == 200
    assert api.post("/api/admin/system/adminInfo", {}).status_code == 200
    assert pages.get("/system/menu/").status_code == 200


def test_parallel_creates_and_changes_into_one_menu_path_keep_one(app: Any, api: ApiClient) -> None:
    """The house rule for a unique value (tests/conftest.py `assert_races_keep_one`): a live menu's path."""
    from tests.conftest import assert_races_keep_one

    assert_races_keep_one(
        app, api.token, lambda n: ("POST", "/api/admin/menu/create", {"name": f"并发菜单{n}", "path": f"/race/{n}"}),
        lambda menu, n: ("PUT", "/api/admin/menu/modify", {"id": menu, "path": f"/race/{n}"}),
        lambda n: f"路由地址 /race/{n} 已被其他菜单使用",
        lambda: query(app, lambda: list(db.session.execute(select(Menu.path).where(Menu.deleted_at.is_(None)))
                                        .scalars())))
