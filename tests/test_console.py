"""Console-wide behaviour shared by every module's pages (issue 13): buttons follow grants."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from pcloud.extensions import db
from pcloud.jobs.models import Executor, Job
from tests.conftest import (
    ADMIN_PHONE,
    ApiClient,
    PageClient,
    chinese_on_page,
    name_setup_data_in_english,
    set_language,
    sidebar_links,
)
from tests.factories import (
    grant_role,
    make_action_log,
    make_dept,
    make_executor,
    make_grade,
    make_job,
    make_post,
    make_resource,
    make_role,
    make_run,
    make_user,
    query,
    route_code,
)

LIST_PAGES = ("/system/user/", "/system/role/", "/system/dept/", "/system/post/", "/system/grade/",
              "/system/menu/", "/system/resource/", "/open/account/", "/open/resource/", "/integration/segment/",
              "/job/info/", "/job/group/", "/job/log/")
MENUS = ("/system/user", "/system/role", "/system/dept", "/system/post", "/system/grade", "/system/menu",
         "/system/resource", "/system/log", "/open/account", "/open/resource", "/integration/segment", "/job/info",
         "/job/log", "/job/group")


def _seed(app: Any, api: ApiClient) -> None:
    """One row of each list, so that row actions would show."""
    make_dept(app, "研发中心")
    make_post(app, "工程师")
    make_grade(app, "P5")
    make_user(app, name="普通员工")
    api.data("POST", "/api/open/admin/account/create", {"name": "订单系统"})
    api.data("POST", "/api/integration/admin/segment/create", {"bizTag": "order"})
    api.data("POST", "/api/admin/resource/create", {"name": "报表接口", "resourceUrl": "/api/report/**"})
    with app.app_context():
        executor = Executor(appname="console-app", title="执行器")
        db.session.add(executor)
        db.session.flush()
        db.session.add(Job(job_group=executor.id, job_desc="任务", author="王五", schedule_type="CRON",
                           schedule_conf="0 0 12 * * ?", timezone="Asia/Shanghai", executor_handler="demoJobHandler"))
        db.session.commit()
        db.session.remove()


def _viewer(app: Any, phone: str, resource_codes: tuple[str, ...] = ()) -> PageClient:
    role = make_role(app, "ROLE_VIEWER", "只读")
    grant_role(app, role, menu_paths=MENUS, resource_codes=resource_codes)
    make_user(app, phone=phone, password="Passw0rd1", role_ids=[role])
    viewer = PageClient(app.test_client())
    assert viewer.sign_in(phone, "Passw0rd1").status_code == 302
    return viewer


@pytest.mark.parametrize("path", LIST_PAGES)
def test_a_reader_sees_no_button_they_may_not_use(app: Any, api: ApiClient, pages: PageClient, path: str) -> None:
    _seed(app, api)
    # the seeded custom resource is past the first page of built-in groups: look it up by name
    admin_html = pages.get(path + ("?name=报表接口" if path == "/system/resource/" else "")).get_data(as_text=True)
    viewer = _viewer(app, "13900001301")
    resp = viewer.get(path)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    # the super administrator sees the actions, the reader none of them
    assert "data-confirm=" in admin_html or ">编辑<" in admin_html or path == "/job/log/"
    assert "data-confirm=" not in html
    for label in (">新增", ">编辑<", ">授权<", ">移动<", "data-trigger-job=", 'id="clear-open"', ">新增下级<",
                  ">新增子"):
        assert label not in html, (path, label)


def test_an_empty_list_does_not_point_a_reader_at_a_button_they_lack(app: Any) -> None:
    """An empty list tells whoever may add to click 新增; a reader without that button reads only that it is empty
    (a review: 还没有岗位，点击「新增岗位」创建第一个, with no such button on the page)."""
    role = make_role(app, "ROLE_EMPTY_READER", "只读")
    grant_role(app, role, menu_paths=(*MENUS, "/personalized/mail", "/system/notice"))
    make_user(app, phone="13900001302", password="Passw0rd1", role_ids=[role])
    viewer = PageClient(app.test_client())
    assert viewer.sign_in("13900001302", "Passw0rd1").status_code == 302
    for path in (*LIST_PAGES, "/personalized/mail/", "/system/notice/"):
        resp = viewer.get(path)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "点击「" not in html, (path, re.findall(r"[^<>]*点击「[^<]*", html))
    mail, notices = (viewer.get(path).get_data(as_text=True) for path in ("/personalized/mail/", "/system/notice/"))
    assert "还没有站内信" in mail and "发送站内信" not in mail
    assert "还没有通知公告" in notices and "新增通知公告" not in notices


def test_user_rows_show_only_actions_that_would_pass(app: Any, pages: PageClient) -> None:
    other = make_user(app, phone="13900001311", name="在线者")
    idle = make_user(app, phone="13900001312", name="离线者")
    PageClient(app.test_client()).sign_in("13900001311", "Passw0rd1")
    html = pages.get("/system/user/?size=100").get_data(as_text=True)

    def row(user_id: int | None = None, phone: str | None = None) -> str:
        rows = re.findall(r'<tr data-user-id="(\d+)">(.*?)</tr>', html, re.S)
        return next(body for uid, body in rows if (user_id and int(uid) == user_id) or (phone and phone in body))

    me = row(phone="13800000000") if "13800000000" in html else row(user_id=1)
    assert "/delete" not in me and "/offline" not in me  # never on yourself
    assert "/offline" in row(other) and "/delete" in row(other)
    assert "/offline" not in row(idle) and "/delete" in row(idle)  # not online: nothing to force off


def test_user_admin_sees_no_action_on_the_super_admin_and_only_assignable_roles(app: Any) -> None:
    codes = tuple(route_code(f"users_api.{name}", method) for name, method in (
        ("page", "POST"), ("offline", "GET"), ("delete", "DELETE")))
    role = make_role(app, "ROLE_USER_ADMIN", "用户管理员")
    grant_role(app, role, menu_paths=("/system/user",), resource_codes=codes)
    make_user(app, phone="13900001321", password="Passw0rd1", role_ids=[role])
    plain = make_user(app, phone="13900001322", name="普通")
    admin = PageClient(app.test_client())
    admin.sign_in("13900001321", "Passw0rd1")
    html = admin.get("/system/user/?size=100").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-user-id="(\d+)">(.*?)</tr>', html, re.S))
    super_row = next(body for body in rows.values() if "超级管理员" in body)
    assert "/delete" not in super_row and "/edit" not in super_row
    assert f"/system/user/{plain}/delete" in rows[str(plain)]
    assert ">编辑<" not in html and "新增用户" not in html  # modify and create are not granted
    # with create granted, the form offers only the roles within the user's own reach
    grant_role(app, role, menu_paths=("/system/user",), resource_codes=codes + (
        route_code("users_api.create", "POST"),))
    form = admin.get("/system/user/new").get_data(as_text=True)
    assert "ROLE_SUPER_ADMIN" not in form and "ROLE_USER_ADMIN" in form
    assert "新增用户" in admin.get("/system/user/").get_data(as_text=True)


@pytest.mark.parametrize(("path", "key", "make"), [
    ("/system/role/", "name", lambda app, api, n: make_role(app, f"ROLE_S{n}", n)),
    ("/system/grade/", "name", lambda app, api, n: make_grade(app, n)),
    ("/open/account/", "name", lambda app, api, n: api.data("POST", "/api/open/admin/account/create", {"name": n})),
    ("/integration/segment/", "bizTag",
     lambda app, api, n: api.data("POST", "/api/integration/admin/segment/create", {"bizTag": n})),
])
def test_lists_sort_by_their_columns(app: Any, api: ApiClient, pages: PageClient, path: str, key: str,
                                     make: Any) -> None:
    for name in ("sort-b", "sort-c", "sort-a"):
        make(app, api, name)

    def order(direction: str) -> list[str]:
        html = pages.get(f"{path}?sort={key}&dir={direction}&size=100").get_data(as_text=True)
        return [n for n in re.findall(r"sort-[abc]", html) if n][::1]

    def firsts(names: list[str]) -> list[str]:
        return list(dict.fromkeys(names))

    assert firsts(order("asc")) == ["sort-a", "sort-b", "sort-c"]
    assert firsts(order("desc")) == ["sort-c", "sort-b", "sort-a"]
    html = pages.get(path).get_data(as_text=True)
    assert f"sort={key}" in html  # the header links to the sorted list


# ---------------------------------------------------------------------------------------------
# Issue 24.2: no dead ends for a narrow role


def _form_pages(app: Any) -> list[tuple[str, str]]:
    """(endpoint, rule) of every page that shows a form on GET and saves it on POST."""
    from pcloud.core.security import PUBLIC_ENDPOINTS

    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if rule.rule.startswith("/api") or rule.endpoint in PUBLIC_ENDPOINTS or not {"GET", "POST"} <= rule.methods:
            continue
        if getattr(view, "_public", False) or getattr(view, "_signed_in_only", False) \
                or getattr(view, "_read_only_view", False):  # shown read-only to whoever may not save
            continue
        found.append((rule.endpoint, rule.rule))
    return sorted(found, key=lambda r: r[1])


def test_a_form_one_may_not_save_is_refused_on_get_too(app: Any) -> None:
    """The finding: /system/user/new and /system/user/<id>/edit rendered for a user who may not save them,
    and the submit lost the typing. Every form page now asks on GET what its save asks."""
    from pcloud.access import permissions
    from tests.factories import menu_id as menu_of
    from tests.test_permissions import PrincipalClients, mirrored_codes, sample_path

    victim = make_user(app, name="被编辑者")
    principal = PrincipalClients(app, "ROLE_NARROW")
    principal.grant(menu_paths=("/system", "/system/user"), resource_codes=(route_code("users_api.page", "POST"),))
    assert principal.pages.get("/system/user/").status_code == 200
    assert principal.pages.get("/system/user/new").status_code == 403
    assert principal.pages.get(f"/system/user/{victim}/edit").status_code == 403
    list_html = principal.pages.get("/system/user/").get_data(as_text=True)
    assert "/system/user/new" not in list_html and f"/system/user/{victim}/edit" not in list_html

    forms = _form_pages(app)
    assert len(forms) >= 20
    failures = []
    for endpoint, rule in forms:
        path = sample_path(rule)
        with app.app_context():
            owner = permissions.page_owner(path)
        assert owner is not None, path
        principal.grant(menu_ids=(menu_of(app, owner),))
        if principal.pages.get(path).status_code != 403:
            failures.append(("menu only", path))
        principal.grant(menu_ids=(menu_of(app, owner),), resource_codes=mirrored_codes(app, endpoint, "POST"))
        if principal.pages.get(path).status_code == 403:
            failures.append(("menu and save", path))
    assert not failures


_HREF = re.compile(r'<a\b[^>]*\bhref="(/[^"#]*)"')
_SKIP = ("/logout", "/static/", "/api/")


def _walk(viewer: PageClient, start: str = "/", limit: int = 250,
          on_page: Callable[[str, str], None] | None = None) -> list[tuple[str, str, int]]:
    """Open every link of this site a page shows (breadth first from `start`); (page, link, status) of
    each that does not open. `on_page(path, html)` sees every page that opened."""
    import html as html_lib

    seen = {start}
    queue = [("", start)]
    dead = []
    while queue and len(seen) <= limit:
        came_from, path = queue.pop(0)
        resp = viewer.get(path, follow_redirects=True)
        if resp.status_code != 200:
            dead.append((came_from, path, resp.status_code))
            continue
        if "text/html" not in resp.content_type:
            continue
        html = resp.get_data(as_text=True)
        if on_page is not None:
            on_page(path, html)
        for href in _HREF.findall(html):
            href = html_lib.unescape(href)
            if href.startswith(_SKIP) or "export" in href:
                continue
            bare = href.split("?")[0]
            # one visit per page and per distinct filter shape is enough: page numbers add nothing
            key = bare if "page=" in href or "sort=" in href else href
            if key not in seen:
                seen.add(key)
                queue.append((path, href))
    return dead


@pytest.mark.parametrize("menus", [
    ("/job/info",),
    ("/system/user", "/system/role"),
    MENUS,
])
def test_a_narrow_role_is_shown_no_link_that_does_not_open(app: Any, api: ApiClient, menus: tuple[str, ...]) -> None:
    """Every link a narrow role is shown opens (no 403/404/500): menu items, row links, the 更多 dropdown."""
    _seed(app, api)
    role = make_role(app, "ROLE_WALK", "漫游")
    grant_role(app, role, menu_paths=menus)
    make_user(app, phone="13900001399", password="Passw0rd1", role_ids=[role])
    viewer = PageClient(app.test_client())
    assert viewer.sign_in("13900001399", "Passw0rd1").status_code == 302
    assert not _walk(viewer)


def test_the_grant_page_is_read_only_for_a_reader(app: Any) -> None:
    """查看权限 opens for whoever may see the roles, but offers no save to whoever may not grant."""
    role = make_role(app, "ROLE_SHOWN", "被查看")
    reader_role = make_role(app, "ROLE_READER", "只读")
    grant_role(app, reader_role, menu_paths=("/system", "/system/role"))
    make_user(app, phone="13900001398", password="Passw0rd1", role_ids=[reader_role])
    reader = PageClient(app.test_client())
    assert reader.sign_in("13900001398", "Passw0rd1").status_code == 302
    html = reader.get(f"/system/role/{role}/grant").get_data(as_text=True)
    assert 'id="save-grant"' not in html and "disabled" in html
    assert "没有修改授权的权限" in html and "超级管理员拥有全部" not in html


# ---------------------------------------------------------------------------------------------
# Issue 24.3: a delete the server will refuse says why, with no confirm


@pytest.mark.parametrize("kind", ["role", "dept", "executor"])
def test_a_delete_known_to_be_refused_says_why_and_offers_no_confirm(app: Any, pages: PageClient, kind: str) -> None:
    from tests.factories import make_executor, make_job

    if kind == "role":
        record = make_role(app, "ROLE_HELD", "被持有")
        make_user(app, name="持有者", role_ids=[record])
        path, row = "/system/role/", f"/system/role/{record}/delete"
        reason = "角色「被持有」仍有 1 个用户在使用"
    elif kind == "dept":
        record = make_dept(app, "有人部门")
        make_user(app, name="成员", dept_id=record)
        path, row = "/system/dept/", f"/system/dept/{record}/delete"
        reason = "不能删除部门「有人部门」：其下还有 1 名成员"
    else:
        record = make_executor(app, "busy-app")
        make_job(app, record)
        path, row = "/job/group/", f"/job/group/{record}/delete"
        reason = "任务"
    html = pages.get(path).get_data(as_text=True)
    form = re.search(rf'<form method="post" action="{re.escape(row)}"[^>]*>', html)
    assert form is not None
    assert 'data-refusal="1"' in form.group(0) and reason in form.group(0)
    # the reason is the service's: the delete itself is refused with the same words
    resp = pages.submit(path, row)
    assert resp.status_code == 409 and reason in resp.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Issue 24.4: page forms speak the API's Chinese, every field's error at once


def test_every_page_form_speaks_the_api_messages(app: Any) -> None:
    """Every form class of the pages derives from the one base that sets WTForms' messages in Chinese."""
    from flask_wtf import FlaskForm

    from pcloud.core.forms import PageForm

    def all_subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *all_subclasses(sub))]

    strays = [c.__module__ + "." + c.__name__ for c in all_subclasses(FlaskForm)
              if c.__module__.startswith("pcloud.") and not issubclass(c, PageForm)]
    assert not strays


def test_a_user_form_shows_every_error_at_once_in_chinese(pages: PageClient) -> None:
    """The finding: a name over 64 characters said "Field cannot be longer than 64 characters." and hid the
    phone and password errors until it was fixed."""
    resp = pages.submit("/system/user/new", data={"phone": "abc", "name": "名" * 70, "password": "weak",
                                                  "state": "0", "dept_id": "0", "post_id": "0", "grade_id": "0"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Field cannot" not in html and "This field" not in html
    assert "长度不能超过 64" in html
    assert "手机号格式不正确" in html and "密码至少 8 位" in html
    assert 'maxlength="64"' not in html  # the browser would count UTF-16 units, not characters


def test_the_executor_form_speaks_chinese(pages: PageClient) -> None:
    resp = pages.submit("/job/group/new", data={"appname": "a" * 80, "title": "", "address_type": "0",
                                                "address_list": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert not re.search(r"Field (cannot|must)|This field|Not a valid", html)


# ---------------------------------------------------------------------------------------------
# Issue 24.10: every page in English


def _seed_in_english(app: Any, api: ApiClient) -> None:
    """One row of every list, named in ASCII, so that any Chinese left on an English page is the console's own."""
    dept = make_dept(app, "Research")
    make_post(app, "Engineer")
    make_grade(app, "P5")
    role = make_role(app, "ROLE_WALK_EN", "Walker")
    make_user(app, phone="13900002001", name="Alice", role_ids=[role], dept_id=dept)
    api.data("POST", "/api/open/admin/account/create", {"name": "Orders"})
    api.data("POST", "/api/integration/admin/segment/create", {"bizTag": "order"})
    api.data("POST", "/api/admin/resource/create", {"name": "Report API", "resourceUrl": "/api/report/**"})
    executor = make_executor(app, "walk-app", title="Walk executor")
    job = make_job(app, executor, "Nightly job", author="Bob")
    make_run(app, executor, job)
    make_action_log(app, 1, "Test action", name="Admin")


def _pages_with_chinese(viewer: PageClient) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}

    def check(path: str, html: str) -> None:
        left = chinese_on_page(html)
        if left:
            found[path] = left[:3]

    dead = _walk(viewer, on_page=check)
    assert not dead
    return found


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{path}: {places[0]!r}" for path, places in sorted(found.items()))


def test_every_page_in_english(app: Any, english_pages: PageClient, api: ApiClient) -> None:
    """The super administrator opens every page the console links to, in English: no Chinese outside data
    (`english_pages` before `api`: the operation log keeps the name the administrator had when acting)."""
    _seed_in_english(app, api)
    found = _pages_with_chinese(english_pages)
    assert not found, _report(found)


def test_a_narrow_role_walks_in_english_too(app: Any, api: ApiClient) -> None:
    _seed_in_english(app, api)
    name_setup_data_in_english(app)
    role = make_role(app, "ROLE_WALK_NARROW", "Narrow")
    grant_role(app, role, menu_paths=("/system/user", "/job/info"))
    make_user(app, phone="13900002002", name="Narrow", password="Passw0rd1", role_ids=[role])
    viewer = PageClient(app.test_client())
    set_language(viewer.client, "en")
    assert viewer.sign_in("13900002002", "Passw0rd1").status_code == 302
    viewer.get("/")  # the welcome flash
    found = _pages_with_chinese(viewer)
    assert not found, _report(found)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_sidebar_page_is_headed_as_its_menu_names_it(pages: PageClient, english_pages: PageClient,
                                                           lang: str) -> None:
    """The UX review: three English pages were headed otherwise than their menu (Interface catalogue under API
    catalogue, Uploads under Cloud upload). Each page the sidebar opens says the menu's name in its heading and
    its last breadcrumb (the home page greets instead)."""
    from html import unescape

    client = english_pages if lang == "en" else pages

    def text_of(pattern: str, html: str) -> str | None:
        found = re.search(pattern, html, re.S)
        return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else None

    links = [(href, label) for href, label, _depth in sidebar_links(client.get("/").get_data(as_text=True))
             if href != "/"]
    assert len(links) >= 20
    headed_otherwise = []
    for href, label in links:
        html = client.get(href, follow_redirects=True).get_data(as_text=True)
        shown = (text_of(r"<h1[^>]*>(.*?)</h1>", html), text_of(r'breadcrumb-item active[^>]*>(.*?)</li>', html))
        if shown != (label, label):
            headed_otherwise.append((href, label, shown))
    assert headed_otherwise == []


def _rename_menus(app: Any, names: dict[str, str]) -> None:
    """What an administrator does on 菜单管理: each menu named as a key is named as its value."""
    from sqlalchemy import update

    from pcloud.menus.models import Menu

    with app.app_context():
        for old, new in names.items():
            db.session.execute(update(Menu).where(Menu.name == old).values(name=new))
        db.session.commit()
        db.session.remove()


def _crumbs(pages: PageClient, path: str) -> list[tuple[str, str | None]]:
    """The page's breadcrumbs: (text, link or None), 首页 first."""
    resp = pages.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    return _crumbs_of(resp.get_data(as_text=True))


def _crumbs_of(html: str) -> list[tuple[str, str | None]]:
    from html import unescape

    trail = html.split('class="breadcrumb"')[1].split("</ol>")[0]
    return [(unescape(re.sub(r"<[^>]+>", "", item)).strip(),
             unescape(link.group(1)) if (link := re.search(r'href="([^"]*)"', item)) else None)
            for item in re.findall(r"<li[^>]*>(.*?)</li>", trail, re.S)]


def test_breadcrumbs_name_the_menus_as_the_menu_tree_does(pages: PageClient, app: Any) -> None:
    """The UX review: renamed, 用户管理 and 定时任务 changed in the sidebar and not in the breadcrumbs (written in
    the templates). List and form pages read their crumbs from the menu tree."""
    _rename_menus(app, {"用户管理": "员工管理", "系统管理": "后台管理"})

    def crumbs(path: str) -> list[str]:
        return [text for text, _link in _crumbs(pages, path)]

    assert crumbs("/system/user/") == ["首页", "后台管理", "员工管理"]
    assert crumbs("/system/user/new") == ["首页", "后台管理", "员工管理", "新增用户"]


def test_detail_pages_name_the_menus_as_the_menu_tree_does(pages: PageClient, api: ApiClient, app: Any) -> None:
    """The pages of one record or one view (a job's nodes, a run, a role's grants, a segment's cache, an
    operation-log entry...) wrote their crumbs by hand and kept a renamed menu's old name: they read the menu tree
    as the list and form pages do, the menu linking to its list and the page's own name last. A page a menu
    opens itself (运行报表) is named as the menu; a page no menu leads to (a mail) keeps its own crumbs."""
    from sqlalchemy import func, select

    from pcloud.loginlog.models import LoginLog

    executor = make_executor(app, "crumbs-app")
    job = make_job(app, executor, glue_type="GLUE_SHELL", glue_source="echo 1")
    run = make_run(app, executor, job)
    entry = make_action_log(app, 1)
    role = make_role(app, "ROLE_CRUMBS", "面包屑")
    api.data("POST", "/api/integration/admin/segment/create", {"bizTag": "crumbs"})
    group = make_resource(app, "报表服务", "/api/report/**")
    reports = make_resource(app, "月报", "/api/report/month/**", parent_id=group)
    sign_in = query(app, lambda: db.session.scalar(select(func.max(LoginLog.id))))
    mail = api.data("POST", "/api/integration/admin/mail/create",
                    {"phone": ADMIN_PHONE, "name": "开会通知", "description": "下午三点"})
    _rename_menus(app, {"定时任务": "调度中心", "任务管理": "作业管理", "调度日志": "运行记录", "运行报表": "运行统计",
                        "系统管理": "后台管理", "角色管理": "权限角色", "操作日志": "审计日志", "部门管理": "组织",
                        "号段管理": "发号器", "号段列表": "号段清单", "登录日志": "登录记录", "系统监控": "监控",
                        "访问资源": "接口权限", "开放平台": "开放接口", "开放账号": "接入方"})
    job_list = ("作业管理", f"/job/info/?jobGroup={executor}")
    assert _crumbs(pages, f"/job/info/{job}/nodes") == [
        ("首页", "/"), ("调度中心", None), ("作业管理", "/job/info/"), ("注册节点", None)]
    assert _crumbs(pages, f"/job/info/{job}/next")[1:] == [("调度中心", None), ("作业管理", "/job/info/"),
                                                          ("下次执行时间", None)]
    assert _crumbs(pages, f"/job/info/{job}/graph")[2:] == [("作业管理", "/job/info/"), ("任务依赖图", None)]
    assert _crumbs(pages, f"/job/info/{job}/code")[1:] == [("调度中心", None), job_list, ("脚本编辑", None)]
    assert _crumbs(pages, f"/job/info/{job}/code/diff")[1:] == [
        ("调度中心", None), job_list, ("脚本编辑", f"/job/info/{job}/code"), ("版本对比", None)]
    assert _crumbs(pages, f"/job/log/{run}") == [
        ("首页", "/"), ("调度中心", None), ("运行记录", "/job/log/"), (f"执行日志 #{run}", None)]
    assert _crumbs(pages, "/job/report") == [("首页", "/"), ("调度中心", None), ("运行统计", None)]
    assert _crumbs(pages, f"/system/role/{role}/grant") == [
        ("首页", "/"), ("后台管理", None), ("权限角色", "/system/role/"), ("角色授权", None)]
    assert _crumbs(pages, f"/system/role/{role}/users")[1:] == [
        ("后台管理", None), ("权限角色", "/system/role/"), ("分配用户", None)]
    assert _crumbs(pages, "/integration/segment/crumbs/cache") == [
        ("首页", "/"), ("发号器", None), ("号段清单", "/integration/segment/"), ("缓存监控", None)]
    assert _crumbs(pages, f"/system/log/{entry}") == [
        ("首页", "/"), ("后台管理", None), ("审计日志", "/system/log/"), ("日志详情", None)]
    assert _crumbs(pages, f"/monitor/loginlog/{sign_in}")[1:] == [("监控", None), ("登录记录", "/monitor/loginlog/"),
                                                        ("登录详情", None)]
    assert _crumbs(pages, "/system/dept/org")[1:] == [("后台管理", None), ("组织", "/system/dept/"),
                                                     ("组织架构图", None)]
    assert _crumbs(pages, f"/system/resource/?parent_id={reports}")[1:] == [
        ("后台管理", None), ("接口权限", "/system/resource/"), ("报表服务", f"/system/resource/?parent_id={group}"),
        ("月报", None)]
    assert _crumbs(pages, "/system/resource/")[1:] == [("后台管理", None), ("接口权限", None)]
    key_page = pages.submit("/open/account/new", data={"name": "订单系统"})
    assert _crumbs_of(key_page.get_data(as_text=True))[1:] == [
        ("开放接口", None), ("接入方", "/open/account/"), ("账号已创建", None)]
    assert _crumbs(pages, f"/mail/{mail}") == [("首页", "/"), ("我的站内信", "/mail/"), ("开会通知", None)]


def test_no_page_writes_its_breadcrumbs_by_hand() -> None:
    """Every page's crumbs come from macros.crumbs (the menu tree's names, else the page's own): a crumb written
    in a page's template keeps a renamed menu's old name."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates"
    by_hand = [str(path.relative_to(root)) for path in sorted(root.rglob("*.html"))
               if "breadcrumb-item" in path.read_text(encoding="utf-8")
               and path.relative_to(root).as_posix() not in ("macros.html", "base.html")]
    assert by_hand == []


def test_the_api_docs_say_how_to_try_a_locked_operation(pages: PageClient, english_pages: PageClient) -> None:
    """A browser review: signed in to the console, 「Try it out」 on /api/docs answered every locked operation
    401 未登录或登录已失效, and nothing on the page said that it takes a token of POST /api/oauth/token given to
    Authorize. The page says so, in the reader's language, and its tab is titled as every console page is."""
    html = pages.get("/api/docs").get_data(as_text=True)
    assert "/api/oauth/token" in html.split('id="swagger-ui-container"')[0]
    assert "Authorize" in html.split('id="swagger-ui-container"')[0]
    assert "<title>API 文档 · PCloud 管理后台</title>" in html
    english = english_pages.get("/api/docs").get_data(as_text=True)
    assert "<title>API documentation · PCloud Console</title>" in english
    assert "take a token to try" in english


def test_the_segment_list_tab_is_titled_as_its_heading(pages: PageClient) -> None:
    """A browser review: 号段列表's browser tab read 号段管理 (its menu group); its heading and menu say 号段列表."""
    html = pages.get("/integration/segment/").get_data(as_text=True)
    assert "<title>号段列表 · PCloud 管理后台</title>" in html
