"""Console-wide behaviour shared by every module's pages (issue 13): buttons follow grants."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pcloud.extensions import db
from pcloud.jobs.models import Executor, Job
from tests.conftest import ApiClient, PageClient
from tests.factories import grant_role, make_dept, make_grade, make_post, make_role, make_user, route_code

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
    admin_html = pages.get(path).get_data(as_text=True)
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
