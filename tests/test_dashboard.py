"""The home page: what the signed-in user may see, as figures and SVG charts (issue 13, expectation 6)."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import ADMIN_PASSWORD, ADMIN_PHONE, ApiClient, PageClient, chinese_on_page
from tests.factories import grant_role, make_dept, make_executor, make_job, make_role, make_run, make_user


def test_super_admin_sees_every_figure_and_the_week_of_activity(pages: PageClient, app: Any) -> None:
    make_user(app, name="员工甲")
    html = pages.get("/").get_data(as_text=True)
    for key in ("users", "online", "actions-today", "jobs", "job-runs", "executors", "segments"):
        assert f'data-testid="fig-{key}"' in html, key
    assert re.search(r'data-testid="fig-users">\s*2<', html)
    assert "近 7 天登录与操作" in html and "<svg" in html
    table = html.split('data-testid="activity-table"')[1].split("</table>")[0]
    assert table.count("<th scope=\"col\">") == 7  # seven days
    assert "<script" not in html.split('data-testid="activity-chart"')[1].split("</div>")[0]


def test_the_charts_carry_no_pygal_title(pages: PageClient, english_pages: PageClient) -> None:
    """pygal names an untitled chart "Pygal" in its SVG's <title>: the tooltip over the whole chart and its name
    to a screen reader, in either language. The card's header names the chart; its table gives the numbers."""
    for client in (pages, english_pages):
        for path in ("/", "/job/report"):
            html = client.get(path).get_data(as_text=True)
            assert "<svg" in html and "<title>Pygal</title>" not in html, path


def test_a_user_with_no_role_sees_only_their_own_activity(app: Any, pages: PageClient) -> None:
    make_user(app, phone="13900001601", password="Passw0rd1")
    nobody = PageClient(app.test_client())
    assert nobody.sign_in("13900001601", "Passw0rd1").status_code == 302
    resp = nobody.get("/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'data-testid="figures"' not in html and "用户总数" not in html and "定时任务" not in html
    assert "我近 7 天的登录与操作" in html and "<svg" in html
    row = re.search(r"登录</th>(.*?)</tr>", html, re.S).group(1)
    assert sum(int(v) for v in re.findall(r"<td>(\d+)</td>", row)) == 1  # their own sign-in, not the admin's


def test_figures_follow_the_granted_menus(app: Any) -> None:
    role = make_role(app, "ROLE_JOBS", "任务员")
    grant_role(app, role, menu_paths=("/job/info",))
    make_user(app, phone="13900001602", password="Passw0rd1", role_ids=[role])
    client = PageClient(app.test_client())
    client.sign_in("13900001602", "Passw0rd1")
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="fig-jobs"' in html
    assert 'data-testid="fig-users"' not in html and 'data-testid="fig-segments"' not in html


def test_the_home_page_links_the_api_docs_only_to_who_may_call_a_granted_route(app: Any, pages: PageClient) -> None:
    """The home page linked /api/docs for everyone, while a user granted no API route got a document of routes
    every one of which answers them 403. The link shows to a principal who may call at least one route that
    needs a grant (a super administrator, a role granting an API resource); the document stays public
    (API.md, Permissions), so a direct visit still reads it."""
    from tests.factories import route_code

    link = 'href="/api/docs"'
    assert link in pages.get("/").get_data(as_text=True)
    menus_only = make_role(app, "ROLE_MENUS_ONLY", "只有菜单")
    grant_role(app, menus_only, menu_paths=("/job/info",))
    callers = make_role(app, "ROLE_CALLER", "调用者")
    grant_role(app, callers, resource_codes=(route_code("grades_api.page", "POST"),))
    for phone, roles, shown in (("13900001611", [], False), ("13900001612", [menus_only], False),
                                ("13900001613", [callers], True)):
        make_user(app, phone=phone, password="Passw0rd1", role_ids=roles)
        client = PageClient(app.test_client())
        assert client.sign_in(phone, "Passw0rd1").status_code == 302
        assert (link in client.get("/").get_data(as_text=True)) is shown, phone
        assert client.get("/api/docs").status_code == 200
    assert PageClient(app.test_client()).get("/api/docs").status_code == 200


# ---------------------------------------------------------------------------------------------
# The home page's JSON API (issue 25 item 2: the original front end's src/api/dashboard.js)

DASHBOARD = "/api/admin/dashboard"


def test_statistics_answers_the_figures_of_the_home_page(api: ApiClient, app: Any) -> None:
    make_user(app, name="员工乙")
    executor = make_executor(app, "demo-app")
    make_run(app, executor, make_job(app, executor))
    stats = api.data("POST", f"{DASHBOARD}/statistics", {})
    assert stats["userCount"] == 2 and stats["onlineCount"] >= 1
    assert stats["signInCount"] >= 1 and stats["jobRunCount"] == 1 and stats["operationCount"] >= 0


def test_cycle_statistics_answers_seven_days_per_type(api: ApiClient, app: Any) -> None:
    make_user(app, name="员工丙")
    for kind, ours in (("newVisitis", "signIns"), ("messages", "operations"), ("purchases", "users"),
                       ("shoppings", "jobRuns"), ("users", "users")):
        data = api.data("POST", f"{DASHBOARD}/cycle/statistics", {"type": kind})
        assert data["type"] == ours and len(data["dates"]) == len(data["values"]) == 7, data
        assert data["dates"] == sorted(data["dates"])
    assert api.data("POST", f"{DASHBOARD}/cycle/statistics", {"type": "users"})["values"][-1] == 2
    assert api.data("POST", f"{DASHBOARD}/cycle/statistics", {"type": "signIns"})["values"][-1] >= 1
    bad = api.post(f"{DASHBOARD}/cycle/statistics", json={"type": "orders"})
    assert bad.status_code == 422 and "type" in bad.get_json()["errors"]


def test_dashboard_api_keeps_to_what_the_principal_may_see(app: Any, anon: ApiClient) -> None:
    make_user(app, phone="13900001603", password="Passw0rd1")
    nobody = ApiClient(app.test_client())
    nobody.token = nobody.sign_in("13900001603", "Passw0rd1")
    stats = nobody.data("POST", f"{DASHBOARD}/statistics", {})
    assert stats["userCount"] is None and stats["jobRunCount"] is None and stats["signInCount"] == 1
    assert nobody.data("POST", f"{DASHBOARD}/cycle/statistics", {"type": "newVisitis"})["values"][-1] == 1
    refused = nobody.post(f"{DASHBOARD}/cycle/statistics", json={"type": "users"})
    assert refused.status_code == 403 and "新增用户" in refused.get_json()["msg"]
    assert anon.post(f"{DASHBOARD}/statistics", json={}).status_code == 401


def test_the_online_card_links_to_the_online_list_and_no_card_leads_to_a_403(app: Any, pages: PageClient) -> None:
    """Issue 24.9: 当前在线 opens the online list; a card whose page the reader may not open is not a link."""
    html = pages.get("/").get_data(as_text=True)
    assert re.search(r'<a [^>]*href="/monitor/online/"[^>]*>\s*<div class="card-body">\s*<div[^>]*>当前在线', html)
    role = make_role(app, "ROLE_USERS_ONLY", "只看用户")
    grant_role(app, role, menu_paths=("/system", "/system/user"))
    make_user(app, phone="13900002401", password="Passw0rd1", role_ids=[role])
    reader = PageClient(app.test_client())
    assert reader.sign_in("13900002401", "Passw0rd1").status_code == 302
    home = reader.get("/").get_data(as_text=True)
    assert "当前在线" in home and 'href="/monitor/online/"' not in home
    for href in re.findall(r'<a class="card[^"]*" href="([^"]+)"', home):
        assert reader.get(href).status_code == 200, href


# ---------------------------------------------------------------------------------------------
# English (issue 24 item 10)


def test_the_home_page_in_english_with_its_cards_and_chart(app: Any, english_pages: PageClient) -> None:

    make_user(app, name="Bob")
    executor = make_executor(app, "demo-app")
    make_run(app, executor, make_job(app, executor, job_desc="nightly"))
    english_pages.get("/")  # the sign-in's welcome, said before the language was chosen, is shown once
    html = english_pages.get("/").get_data(as_text=True)
    left = chinese_on_page(html)
    assert not left, left
    for key in ("users", "online", "actions-today", "jobs", "job-runs", "executors", "segments"):
        assert f'data-testid="fig-{key}"' in html, key
    assert "Users" in html and "Online now" in html and "Job runs" in html
    assert "Sign-ins and operations in the last 7 days" in html and "No notices for you yet" in html
    chart = html.split('data-testid="activity-chart"')[1].split("</svg>")[0]
    assert "Sign in" in chart and "Actions" in chart


def test_the_home_page_api_in_english(app: Any, api: ApiClient) -> None:
    english = {"Accept-Language": "en"}
    body = api.call("POST", f"{DASHBOARD}/cycle/statistics", {"type": "purchases"}, headers=english).get_json()
    assert body["data"]["name"] == "New users"
    assert api.data("POST", f"{DASHBOARD}/cycle/statistics", {"type": "purchases"})["name"] == "新增用户"
    make_user(app, phone="13900001604", password="Passw0rd1")
    nobody = ApiClient(app.test_client())
    nobody.token = nobody.sign_in("13900001604", "Passw0rd1")
    refused = nobody.call("POST", f"{DASHBOARD}/cycle/statistics", {"type": "users"}, headers=english)
    assert refused.status_code == 403
    assert refused.get_json()["msg"] == "You may not see the statistics of 'New users'"


def test_a_scoped_admins_figures_count_only_the_users_their_data_scope_reaches(api: ApiClient, app: Any) -> None:
    """Review (session 15): an administrator of one department (用户管理 and 操作日志) saw company-wide figures on
    the home page: everyone online, every sign-in and operation of the day, every user added. Each figure now
    counts what the same administrator's lists show."""
    from tests.test_datascope import make_scoped_role

    here, elsewhere = make_dept(app, "本部门"), make_dept(app, "别的部门")
    role = make_scoped_role(api, "ROLE_DEPT_ADMIN", 3)  # own department
    grant_role(app, role, menu_paths=("/system/user", "/system/log"))
    make_user(app, phone="13900001611", password="Passw0rd1", dept_id=here, role_ids=[role])
    make_user(app, phone="13900001612", password="Passw0rd1", dept_id=elsewhere)
    ApiClient(app.test_client()).sign_in("13900001612", "Passw0rd1")  # online, signed in, elsewhere
    scoped = ApiClient(app.test_client())
    scoped.token = scoped.sign_in("13900001611", "Passw0rd1")
    stats = scoped.data("POST", f"{DASHBOARD}/statistics", {})
    assert (stats["userCount"], stats["onlineCount"], stats["signInCount"]) == (1, 1, 1), stats
    assert scoped.data("POST", f"{DASHBOARD}/cycle/statistics", {"type": "users"})["values"][-1] == 1
    assert scoped.data("POST", f"{DASHBOARD}/cycle/statistics", {"type": "signIns"})["values"][-1] == 1
    everyone = api.data("POST", f"{DASHBOARD}/statistics", {})
    assert everyone["onlineCount"] == 3 and everyone["signInCount"] == 3 and everyone["userCount"] == 3
    page = PageClient(app.test_client())
    page.sign_in("13900001611", "Passw0rd1")
    html = page.get("/").get_data(as_text=True)
    assert re.search(r'data-testid="fig-online">\s*1<', html) and re.search(r'data-testid="fig-users">\s*1<', html)


def test_an_open_platform_account_has_no_activity_of_its_own_on_the_home_page_api(api: ApiClient,
                                                                                   app: Any) -> None:
    """Its own activity is not that of the user numbered as it (account N is not user N)."""
    from pcloud.extensions import db
    from pcloud.users.models import User
    from tests.conftest import open_client, user_numbered
    from tests.factories import query

    account_id, account = open_client(app, "统计探测")
    numbered = user_numbered(app, account_id)
    phone = query(app, lambda: db.session.get(User, numbered).phone)
    # user N signs in (the administrator with the fixture's password; a user made above with the factory's)
    ApiClient(app.test_client()).sign_in(phone, ADMIN_PASSWORD if phone == ADMIN_PHONE else "Passw0rd1")
    stats = account.data("POST", f"{DASHBOARD}/statistics", {})
    assert stats["signInCount"] == 0 and stats["operationCount"] == 0, stats


def test_a_screen_reader_finds_the_home_page_s_cards_by_heading_and_reads_the_week_once(pages: PageClient) -> None:
    """A keyboard review: the home page's cards (通知公告, 近 7 天登录与操作) were no headings, so a screen reader's
    heading list held the greeting alone; and the week's chart was read as one image named by every axis label
    before the table below said the same numbers. The cards' titles are headings under the greeting, and the
    chart is hidden from screen readers (the table carries the figures)."""
    html = pages.get("/").get_data(as_text=True)
    for title in ("通知公告", "近 7 天登录与操作"):
        assert re.search(rf"<h2[^>]*>{title}</h2>", html), title
    assert re.search(r'<div class="dash-chart"[^>]*aria-hidden="true"[^>]*data-testid="activity-chart"', html)
