"""角色管理 in a real browser: create a role, grant it two menus and their resources on the grant page
(search box, branch select-all), give it to a new user, and see exactly that from the user's side."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from pcloud.extensions import db
from pcloud.menus.models import Menu
from pcloud.resources.models import Resource
from tests.browser.conftest import sign_in, watch_console
from tests.factories import make_role, query

PHONE, PASSWORD = "13955556666", "Grant1234"


def _menu(app: Any, path: str) -> int:
    return query(app, lambda: db.session.execute(select(Menu.id).where(Menu.path == path)).scalar_one())


def _resource(app: Any, code: str) -> int:
    return query(app, lambda: db.session.execute(select(Resource.id).where(Resource.code == code)).scalar_one())


def test_grant_a_role_and_use_it(page: Any, app: Any) -> None:
    sign_in(page)
    page.get_by_role("link", name="角色管理").click()
    page.wait_for_url("**/system/role/")

    # create the role
    page.get_by_role("link", name="新增角色").click()
    page.locator("#name").fill("运营")
    page.locator("#role_code").fill("ROLE_OPS")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("角色「运营」已创建").wait_for()

    # grant it 用户管理 and 角色管理 with their resources
    page.locator('tr[data-role-code="ROLE_OPS"]').get_by_role("link", name="授权").click()
    page.wait_for_url("**/grant")
    user_menu, role_menu, system_menu = (_menu(app, p) for p in ("/system/user", "/system/role", "/system"))
    page.locator("#menu-search").fill("角色")
    assert not page.locator(f"#menu-{user_menu}").is_visible()  # the search hides what does not match
    page.locator(f"#menu-{role_menu}").check()
    page.locator("#menu-search").fill("")
    page.locator(f"#menu-{user_menu}").check()
    assert page.locator(f"#menu-{system_menu}").evaluate("b => b.indeterminate")  # partly granted parent

    users_group, roles_group = _resource(app, "group:users_api"), _resource(app, "group:roles_api")
    page.locator("#resource-search").fill("用户管理")
    page.locator(f"#resource-{users_group}").check()  # a branch checkbox selects its whole branch
    page.locator("#resource-search").fill("")
    page.locator(f"#resource-{roles_group}").check()
    user_page = _resource(app, "api:users_api.page:POST")
    assert page.locator(f"#resource-{user_page}").is_checked()
    page.locator("#save-grant").click()
    page.get_by_text("已保存角色「运营」的授权").wait_for()
    assert page.locator(f"#menu-{role_menu}").is_checked() and page.locator(f"#menu-{user_menu}").is_checked()
    assert not page.locator(f"#menu-{_menu(app, '/system/menu')}").is_checked()

    # give the role to a new user; the role list then refuses to delete it, with a clear message
    page.goto("/system/user/new")
    page.locator("#phone").fill(PHONE)
    page.locator("#name").fill("运营同学")
    page.locator("#password").fill(PASSWORD)
    page.get_by_label("运营（ROLE_OPS）").check()
    page.get_by_role("button", name="保存").click()
    page.get_by_text("用户「运营同学」已创建").wait_for()
    page.goto("/system/role/")
    row = page.locator('tr[data-role-code="ROLE_OPS"]')
    row.get_by_role("button", name="更多").click()  # 分配用户 and 删除 are behind 更多
    row.get_by_role("button", name="删除").click()
    page.locator("#confirmModal").wait_for(state="visible")
    assert "角色「运营」仍有 1 个用户在使用" in page.locator("#confirmBody").inner_text()
    assert not page.locator("#confirmOk").is_visible()  # no confirm that leads to a 409
    page.locator("#confirmOk-cancel").click()
    page.locator("#confirmModal").wait_for(state="hidden")

    # sign in as the new user
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login")
    sign_in(page, PHONE, PASSWORD)
    sidebar = [t.strip() for t in page.locator("aside a.nav-link").all_inner_texts()]
    assert sidebar == ["首页", "用户管理", "角色管理"]
    page.get_by_role("link", name="角色管理").click()
    page.wait_for_url("**/system/role/")
    assert page.locator('tr[data-role-code="ROLE_OPS"]').is_visible()

    response = page.goto("/system/menu/")
    assert response is not None and response.status == 403
    assert page.get_by_test_id("error-page").is_visible()

    token = page.request.post("/api/oauth/token", data={"phone": PHONE, "password": PASSWORD, "grantType": "ADMIN"}
                              ).json()["data"]["token"]
    headers = {"Authorization": f"Bearer {token}"}
    inside = page.request.post("/api/admin/role/page", data={}, headers=headers)
    assert inside.status == 200 and inside.json()["code"] == 200
    outside = page.request.post("/api/admin/menu/page", data={}, headers=headers)
    assert outside.status == 403 and outside.json()["code"] == 403
    assert page.request.post("/api/admin/resource/page", data={}, headers=headers).status == 403


def test_a_granter_can_tick_only_what_they_hold(page: Any, app: Any) -> None:
    """A delegated administrator: "全选" and a branch tick leave what they do not hold unticked and disabled, so
    the save goes through instead of being refused."""
    from tests.factories import grant_role, make_user, route_code

    granter = make_role(app, "ROLE_GRANTER", "授权员")
    grant_role(app, granter, menu_paths=("/system", "/system/role", "/system/user"),
               resource_codes=(route_code("roles_api.page", "POST"), route_code("roles_api.grant", "POST")))
    make_user(app, phone=PHONE, password=PASSWORD, role_ids=[granter])
    target = make_role(app, "ROLE_TARGET", "目标")
    sign_in(page, PHONE, PASSWORD)
    errors = watch_console(page)
    page.goto(f"/system/role/{target}/grant")
    system_menu, user_menu, menu_menu = (_menu(app, p) for p in ("/system", "/system/user", "/system/menu"))
    assert page.locator(f"#menu-{menu_menu}").is_disabled()
    assert page.locator(f'li:has(> .form-check #menu-{menu_menu}) [data-testid="beyond-reach"]').is_visible()
    page.locator(f"#menu-{system_menu}").check()  # the branch: what the granter holds below it
    assert page.locator(f"#menu-{user_menu}").is_checked() and not page.locator(f"#menu-{menu_menu}").is_checked()
    page.locator('[data-tree="resource"] [data-select="all"]').click()
    grant = _resource(app, route_code("roles_api.grant", "POST"))
    create_menu = _resource(app, route_code("menus_api.create", "POST"))
    assert page.locator(f"#resource-{grant}").is_checked()
    assert not page.locator(f"#resource-{create_menu}").is_checked()
    page.locator("#save-grant").click()
    page.get_by_text("已保存角色「目标」的授权").wait_for()
    assert not errors


@pytest.mark.parametrize("width", [1280, 390])
def test_the_grant_page_in_english_with_buttons_beside_their_page(page: Any, app: Any, width: int) -> None:
    """Issue 24 items 8 and 10: resources by name in their module's group, the route as secondary text, a page's
    buttons beside it (ticked on their own, counted as resources), nothing wider than the window."""
    from pcloud.resources import service as resources

    role = make_role(app, "ROLE_READER", "Readers")
    button = query(app, lambda: resources.create_resource({
        "name": "Export users button", "resource_url": "/api/admin/system/user/export-button", "biz_type": 1}).id)
    user_menu = _menu(app, "/system/user")
    page.set_viewport_size({"width": width, "height": 900})
    errors = watch_console(page)
    sign_in(page)
    page.context.add_cookies([{"name": "lang", "value": "en", "url": page.url}])
    page.goto(f"/system/role/{role}/grant")
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text().startswith("Role grants: Readers")
    beside = page.locator(f'[data-buttons-of="{user_menu}"]')
    assert beside.is_visible() and "Export users button" in beside.inner_text()
    resource_count = page.locator('[data-tree="resource"] [data-count]')
    assert resource_count.inner_text() == "0"
    page.locator(f"#button-{button}").check()
    assert resource_count.inner_text() == "1"  # a button is a resource
    assert not page.locator(f"#menu-{user_menu}").is_checked()  # and ticking it does not tick its page
    group = _resource(app, "group:roles_api")
    assert page.locator(f'label[for="resource-{group}"]').inner_text().startswith("Roles")
    create = _resource(app, "api:roles_api.create:POST")
    assert "POST /api/admin/role/create" in page.locator(f'label[for="resource-{create}"]').inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.locator("#save-grant").click()
    page.get_by_text('Grants of role "Readers" saved').wait_for()
    assert page.locator(f"#button-{button}").is_checked()
    assert errors == []


# Each label with a route (a resource's, a page's button's) whose right edge is past its card's: the label's own box
# and its route's, each line's, against the card's inside edge (its border left out).
ROUTES_PAST_THEIR_CARD = """() => {
  const bad = [];
  for (const route of document.querySelectorAll('.card .grant-route')) {
    const label = route.closest('label');
    const card = label.closest('.card');
    const edge = card.getBoundingClientRect().right - parseFloat(getComputedStyle(card).borderRightWidth);
    const right = Math.max(...[label, route, route.querySelector('code')]
      .flatMap(function (el) { return [...el.getClientRects()].map(function (r) { return r.right; }); }));
    if (right > edge + 0.5) bad.push(route.innerText.trim() + '@' + Math.round(right - edge) + 'px');
  }
  return bad;
}"""

# Each route whose path (after its method) takes more than one line.
BROKEN_PATHS = """() => {
  const bad = [];
  for (const code of document.querySelectorAll('.card .grant-route code')) {
    const text = code.firstChild;
    const range = document.createRange();
    range.setStart(text, text.textContent.indexOf(' ') + 1);
    range.setEnd(text, text.textContent.length);
    const tops = new Set([...range.getClientRects()].filter(function (r) { return r.width > 0; })
      .map(function (r) { return Math.round(r.top); }));
    if (tops.size > 1) bad.push(code.innerText);
  }
  return bad;
}"""


@pytest.mark.parametrize(("width", "lang"), [(390, "zh"), (390, "en"), (1280, "zh"), (1280, "en")])
def test_a_long_route_wraps_within_its_card(page: Any, app: Any, width: int, lang: str) -> None:
    """The browser review: at 390 px the 访问资源 card's long routes (GET /api/open/admin/resource/{account_id}/refresh)
    ran up to 60 px past the card's edge, their end hidden; a route breaks within its card now (a page's button's too),
    and at a laptop's width no path is broken."""
    from pcloud.resources import service as resources

    role = make_role(app, "ROLE_ROUTES", "路由")
    query(app, lambda: resources.create_resource({
        "name": "导出按钮", "biz_type": 1,
        "resource_url": "/api/admin/system/user/export/{department_id}/all-columns"}).id)
    page.set_viewport_size({"width": width, "height": 900})
    errors = watch_console(page)
    sign_in(page)
    page.goto(f"/language/{lang}?next=/system/role/{role}/grant")
    page.wait_for_load_state("load")
    refresh = page.locator('[data-tree="resource"] label', has_text="/api/open/admin/resource/{account_id}/refresh")
    assert refresh.count() == 1
    assert page.locator('[data-tree="menu"] .grant-route', has_text="{department_id}/all-columns").count() == 1
    assert page.locator(".card .grant-route").count() > 50
    assert page.evaluate(ROUTES_PAST_THEIR_CARD) == [], (width, lang)
    for tree in page.locator(".grant-tree-body").all():  # no card body scrolls sideways to hide a route's end
        assert tree.evaluate("body => body.scrollWidth <= body.clientWidth + 1")
    if width >= 1200:  # a laptop's card has room for every path: none is broken (a line may still end at its method)
        assert page.evaluate(BROKEN_PATHS) == [], lang
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert errors == []


def test_assign_users_ticks_all_and_says_when_none_is_ticked(page: Any, app: Any) -> None:
    """A browser review of 分配用户: there was no box to tick every user of the page (the user list has one), so
    giving a role to a page of users took a click each; and 添加角色 with nothing ticked asked to confirm, then
    led to an error page (422 请先勾选用户). The header's box ticks the page, and with nothing ticked the dialog
    says so, without a confirm button, and nothing is sent."""
    from tests.factories import make_user

    role = make_role(app, "ROLE_BULK", "批量")
    for n in range(3):
        make_user(app, name=f"批量{n}")
    sign_in(page)
    page.goto(f"/system/role/{role}/users?assigned=false&keyword=批量")
    page.wait_for_load_state("load")
    page.get_by_role("button", name="添加角色").click()
    page.locator("#confirmModal").get_by_text("请先勾选用户").wait_for()
    assert not page.locator("#confirmOk").is_visible()
    page.locator("#confirmOk-cancel").click()
    page.locator("#confirmModal").wait_for(state="hidden")
    page.get_by_role("checkbox", name="全选").check()
    assert page.locator("input[name=user_ids]:checked").count() == 3
    page.get_by_role("button", name="添加角色").click()
    page.locator("#confirmOk").click()
    page.get_by_text("已为 3 个用户添加角色「批量」").wait_for()
