"""操作日志: what the recorder writes, the page API with its filters, the statistics and the page."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import ADMIN_PHONE, ApiClient, PageClient, open_client, user_numbered

PAGE = "/api/admin/log/action/page"


def test_page_lists_newest_first_with_every_field(api: ApiClient) -> None:
    api.post("/api/admin/system/user/create", {"phone": "13900000301", "name": "甲", "password": "abc12345"})
    body = api.post(PAGE, {"pageSize": 5}).get_json()
    assert body["total"] == 2  # the sign-in, then the create
    newest = body["data"][0]
    assert newest["title"] == "用户新增" and newest["status"] == "success" and newest["method"] == "POST"
    assert newest["path"] == "/api/admin/system/user/create" and newest["phone"] == ADMIN_PHONE
    assert '"password": "******"' in newest["params"] and "abc12345" not in newest["params"]
    assert set(newest) >= {"id", "userId", "name", "phone", "title", "method", "path", "params", "status", "msg",
                           "clientIp", "os", "browser", "costMs", "gmtCreatedDate"}
    assert body["data"][1]["title"] == "登录"


def test_filters(api: ApiClient, anon: ApiClient) -> None:
    anon.post("/api/oauth/token", json={"phone": ADMIN_PHONE, "password": "bad12345", "grantType": "ADMIN"})
    api.post("/api/admin/system/user/create", {"phone": "13900000302", "name": "乙", "password": "abc12345"})
    assert api.post(PAGE, {"status": "fail"}).get_json()["total"] == 1
    assert api.post(PAGE, {"path": "user/create"}).get_json()["total"] == 1
    assert api.post(PAGE, {"name": "超级"}).get_json()["total"] == 3
    assert api.post(PAGE, {"name": "nobody"}).get_json()["total"] == 0
    assert api.post(PAGE, {"startTime": "2000-01-01T00:00:00", "endTime": "2000-01-02T00:00:00"}
                    ).get_json()["total"] == 0
    assert api.post(PAGE, {"startTime": "2000-01-01T00:00:00+08:00"}).get_json()["total"] == 3
    assert api.post(PAGE, {"status": "maybe"}).status_code == 422
    assert api.post(PAGE, {"startTime": "yesterday"}).status_code == 422
    bad = api.post(PAGE, {"startTime": "2030-01-02T00:00:00", "endTime": "2030-01-01T00:00:00"})
    assert bad.status_code == 422 and "startTime" in bad.get_json()["errors"]


def test_statistics_count_today(api: ApiClient, app: Any) -> None:
    api.post("/api/admin/system/user/create", {"phone": "13900000303", "name": "丙", "password": "abc12345"})
    data = api.data("POST", "/api/admin/log/action/statistics")
    assert data == {"dailyVisits": 1, "dailyInterfaceVisits": 2}


def test_statistics_count_only_the_operators_within_the_data_scope(api: ApiClient, app: Any) -> None:
    """The list was scoped, today's figures were not (an outside review): a viewer whose data scope is their
    own department counts the operators of that department only, as their list shows."""
    from tests.factories import grant_role, make_dept, make_user, route_code

    dept = make_dept(app, "甲部门")
    role = api.data("POST", "/api/admin/role/create", {"name": "日志", "roleCode": "ROLE_LOG_VIEW", "dataScope": 3})
    grant_role(app, role, resource_codes=(route_code("actionlog_api.statistics", "POST"),
                                          route_code("actionlog_api.page", "POST")))
    make_user(app, phone="13900000305", password="Passw0rd1", dept_id=dept, role_ids=[role])
    viewer = ApiClient(api.client.application.test_client())
    viewer.token = viewer.sign_in("13900000305", "Passw0rd1")
    listed = viewer.post(PAGE, {"pageSize": 100}).get_json()
    assert {row["phone"] for row in listed["data"]} == {"13900000305"}  # the administrator's actions: outside
    data = viewer.data("POST", "/api/admin/log/action/statistics")
    assert data == {"dailyVisits": 1, "dailyInterfaceVisits": listed["total"]}


def test_log_page_shows_entries_and_filters(pages: PageClient) -> None:
    pages.submit("/system/user/new", data={"phone": "13900000304", "name": "丁", "password": "abc12345",
                                           "state": "0"})
    html = pages.get("/system/log/").get_data(as_text=True)
    assert "用户新增" in html and "登录" in html and "abc12345" not in html
    html = pages.get("/system/log/?status=fail").get_data(as_text=True)
    assert "没有符合条件的日志" in html
    html = pages.get("/system/log/?start=2030-01-02T00:00&end=2030-01-01T00:00").get_data(as_text=True)
    assert "开始时间不能晚于结束时间" in html


def test_users_without_a_grant_cannot_read_the_log(app: Any) -> None:
    from tests.factories import make_user

    make_user(app, phone="13900000305", password="Passw0rd1")
    other = ApiClient(app.test_client())
    other.token = other.sign_in("13900000305", "Passw0rd1")
    assert other.post(PAGE, {}).status_code == 403
    browser = PageClient(app.test_client())
    browser.sign_in("13900000305", "Passw0rd1")
    assert browser.get("/system/log/").status_code == 403


def test_every_outcome_is_logged_with_a_chinese_message(api: ApiClient, pages: PageClient) -> None:
    api.post("/api/admin/system/user/create", {"phone": "13900000303", "name": "丙", "password": "abc12345"})
    api.post("/api/admin/system/user/create", {"phone": "bad", "name": "丁", "password": "abc12345"})
    pages.submit("/system/user/new", data={"phone": "bad", "name": "戊", "password": "abc12345"})
    rows = api.post(PAGE, {"pageSize": 50}).get_json()["data"]
    assert rows, rows
    for row in rows:
        assert row["msg"] and row["msg"] != "success" and not row["msg"].isdigit(), row
        assert any("\u4e00" <= ch <= "\u9fff" for ch in row["msg"]), row
    assert any(r["msg"] == "操作成功" and r["title"] == "用户新增" for r in rows)


# ---------------------------------------------------------------------------------------------
# Route audit: every mutating route of the URL map writes exactly one row; a read writes none.

SKIP_PREFIXES = ("/static/", "/bootstrap/", "/api/docs", "/api/openapi.json", "/favicon.ico")
# POST API routes that only read (the API's convention: `page`/`list` are POST with a JSON body).
# (a mail's /detail marks the recipient's own mail read: a read, as opening it on the page is, not an action;
# so does a notice's /read; /mine and /readers are a notice's lists)
READ_ONLY_API_POSTS = ("/page", "/statistics", "/adminInfo", "/list", "/tree", "/pageList", "/findAll",
                       "/chartInfo", "/nextTriggerTime", "/logDetailCat", "/resource/permission", "/detail",
                       "/objects", "/mine", "/readers", "/read", "/versions", "/users")  # /users: a role's users
SIGN_IN_OUT = ("/api/oauth/", "/login", "/logout")
# (an empty profile form keeps the stored name: saving it is a valid no-op)
PAGE_POSTS_WITHOUT_INPUT = {"/logout", "/system/role/refresh", "/system/user/export", "/profile",
                            "/monitor/loginlog/export"}


def _url(rule: Any) -> str:
    import re

    return re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "999999", rule.rule)


def _rows_after(app: Any, last_id: int) -> list[Any]:
    from sqlalchemy import select

    from pcloud.actionlog.models import ActionLog
    from pcloud.extensions import db

    with app.app_context():
        rows = list(db.session.execute(select(ActionLog).where(ActionLog.id > last_id)).scalars())
        db.session.expunge_all()
        db.session.remove()
    return rows


def _last_id(app: Any) -> int:
    from sqlalchemy import func, select

    from pcloud.actionlog.models import ActionLog
    from pcloud.extensions import db

    with app.app_context():
        value = db.session.execute(select(func.max(ActionLog.id))).scalar() or 0
        db.session.remove()
    return value


def test_every_mutating_route_writes_exactly_one_row_and_reads_none(app: Any) -> None:
    from tests.conftest import csrf_from

    with app.app_context():
        from pcloud.extensions import db
        from pcloud.users.models import User

        admin_id = db.session.execute(User.live().where(User.phone == ADMIN_PHONE)).scalar_one().id
        db.session.remove()
    checked = {"api": 0, "page": 0, "read": 0}
    missing_titles: list[str] = []
    wrong_outcome: list[str] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith(SKIP_PREFIXES):
            continue
        view = app.view_functions[rule.endpoint]
        title = getattr(view, "_action_title", None)
        is_api = rule.rule.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            mutating = method in ("PUT", "DELETE") or (method == "POST" and not (
                is_api and rule.rule.endswith(READ_ONLY_API_POSTS)))
            if mutating and not title:
                missing_titles.append(f"{method} {rule.rule}")
                continue
            expect_row = bool(title) and (is_api or method != "GET")
            url = _url(rule)
            if is_api:
                principal = ApiClient(app.test_client())
                principal.token = principal.sign_in()
                before = _last_id(app)
                resp = principal.call(method, url, json={} if method in ("POST", "PUT") else None)
            else:
                browser = PageClient(app.test_client())
                browser.sign_in()
                token = csrf_from(browser.get("/profile").get_data(as_text=True))
                before = _last_id(app)
                resp = browser.client.open(url, method=method,
                                           data={"csrf_token": token} if method == "POST" else None)
            rows = _rows_after(app, before)
            where = f"{method} {rule.rule} -> {resp.status_code}"
            if not expect_row:
                assert rows == [], f"{where}: a read wrote {[r.title for r in rows]}"
                checked["read"] += 1
                continue
            assert len(rows) == 1, f"{where}: {len(rows)} rows {[r.title for r in rows]}"
            row = rows[0]
            assert row.title == title, where
            assert row.method == method and row.path == url, where
            if is_api or resp.status_code >= 400:
                expected = "success" if resp.status_code < 400 else "fail"
            else:  # a page: every submission here is empty or names no row, unless it needs no input
                expected = "success" if rule.rule in PAGE_POSTS_WITHOUT_INPUT else "fail"
            if row.status != expected:
                wrong_outcome.append(f"{where}: {row.status} ({row.msg})")
            if rule.rule.startswith(SIGN_IN_OUT):
                assert row.user_id in (admin_id, None), where
            else:
                assert row.user_id == admin_id, (where, row.user_id)
            checked["api" if is_api else "page"] += 1
    assert not missing_titles, f"mutating routes without @action: {missing_titles}"
    assert not wrong_outcome, "\n".join(wrong_outcome)
    assert checked["api"] >= 20 and checked["page"] >= 20 and checked["read"] >= 20, checked


def test_detail_page_and_api_show_the_params_pretty_printed(api: ApiClient, pages: PageClient) -> None:
    api.post("/api/admin/system/user/create", {"phone": "13900000306", "name": "戊", "password": "abc12345",
                                               "roleIds": []})
    row = api.post(PAGE, {"path": "user/create"}).get_json()["data"][0]
    assert api.data("GET", f"/api/admin/log/action/{row['id']}")["title"] == "用户新增"
    assert api.get("/api/admin/log/action/999999").status_code == 404
    import html as htmllib

    html = htmllib.unescape(pages.get(f"/system/log/{row['id']}").get_data(as_text=True))
    assert '"phone": "13900000306"' in html and '\n  "name": "戊",\n' in html  # one key a line, indented
    assert "abc12345" not in html and "******" in html
    listing = pages.get("/system/log/").get_data(as_text=True)
    assert f"/system/log/{row['id']}" in listing


def test_operator_filter(api: ApiClient) -> None:
    api.post("/api/admin/system/user/create", {"phone": "13900000307", "name": "己", "password": "abc12345"})
    me = api.post(PAGE, {}).get_json()["data"][0]["userId"]
    assert api.post(PAGE, {"userId": me}).get_json()["total"] == 2
    assert api.post(PAGE, {"userId": 424242}).get_json()["total"] == 0


def test_title_filter_as_api_md_lists_it(api: ApiClient, pages: PageClient) -> None:
    """Issue 19, finding 14: the API accepts the `title` filter the page has (it answered 422 未知字段)."""
    api.post("/api/admin/system/user/create", {"phone": "13900000308", "name": "庚", "password": "abc12345"})
    body = api.post(PAGE, {"title": "用户新增"}).get_json()
    assert body["code"] == 200 and body["total"] == 1 and body["data"][0]["title"] == "用户新增"
    signed_in = api.post(PAGE, {"title": "登录"}).get_json()["data"]
    assert signed_in and {r["title"] for r in signed_in} == {"登录"}
    assert api.post(PAGE, {"title": "没有这种操作"}).get_json()["total"] == 0
    assert api.post(PAGE, {"title": None}).get_json()["total"] == len(signed_in) + 1  # no filter
    assert api.post(PAGE, {"title": "x" * 200}).status_code == 422  # longer than the column
    html = pages.get("/system/log/?title=用户新增").get_data(as_text=True)
    assert "13900000308" in html or "用户新增" in html


def test_client_ip_comes_from_forwarded_for_only_behind_a_trusted_proxy(app: Any) -> None:
    def logged_ip(remote: str, forwarded: str | None) -> str:
        client = app.test_client()
        before = _last_id(app)
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        client.post("/api/oauth/token", json={"phone": ADMIN_PHONE, "password": "x", "grantType": "ADMIN"},
                    headers=headers, environ_base={"REMOTE_ADDR": remote})
        return _rows_after(app, before)[0].client_ip

    app.config["PCLOUD_TRUSTED_PROXIES"] = ""
    assert logged_ip("10.0.0.5", "1.2.3.4") == "10.0.0.5"  # no proxy configured: the header is ignored
    app.config["PCLOUD_TRUSTED_PROXIES"] = "10.0.0.0/8, 192.168.1.1"
    try:
        assert logged_ip("10.0.0.5", "1.2.3.4") == "1.2.3.4"
        assert logged_ip("10.0.0.5", "6.6.6.6, 1.2.3.4, 192.168.1.1") == "1.2.3.4"  # spoofed left entry
        assert logged_ip("172.16.0.9", "1.2.3.4") == "172.16.0.9"  # not from a trusted proxy
        assert logged_ip("10.0.0.5", "not-an-ip") == "10.0.0.5"
    finally:
        app.config["PCLOUD_TRUSTED_PROXIES"] = ""


def test_retention_deletes_old_rows_in_batches(api: ApiClient, app: Any) -> None:
    from datetime import timedelta

    from sqlalchemy import insert

    from pcloud.actionlog.models import ActionLog
    from pcloud.actionlog.service import clean_action_log
    from pcloud.core.timefmt import utcnow
    from pcloud.extensions import db

    now = utcnow()
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(insert(ActionLog.__table__), [
                {"title": "旧", "method": "POST", "path": "/old", "status": "success", "cost_ms": 0,
                 "gmt_created_date": now - timedelta(days=200 + i % 5)} for i in range(23)])
        assert clean_action_log(days=180, batch=5) == 23
        assert clean_action_log(days=180, batch=5) == 0
        db.session.remove()
    assert api.post(PAGE, {}).get_json()["total"] == 1  # today's sign-in stays
    result = app.test_cli_runner().invoke(args=["pcloud", "clean-action-log", "--days", "1"])
    assert result.exit_code == 0 and "0 rows older than 1 days deleted" in result.output


# Issue 19, finding 9: years 0001 (UTC underflows) and 9999 (overflows) answered 500.
OUT_OF_RANGE_TIMES = ("0001-01-01T00:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59",
                      "9999-12-31T23:59:59-12:00")
TIME_RANGE_MSG = "时间超出范围，应在 1900-01-01 至 9999-12-30 之间"
DATE_RANGE_MSG = "日期超出范围，应在 1900-01-01 至 9999-12-30 之间"


def test_api_refuses_times_out_of_range_with_a_message(api: ApiClient) -> None:
    from tests.conftest import api_error

    for field in ("startTime", "endTime"):
        for value in OUT_OF_RANGE_TIMES:
            body = api_error(api.post(PAGE, {field: value}), 422)
            assert body["errors"] == {field: [TIME_RANGE_MSG]}, (field, value, body)
    for value in ("0001-01-01", "9999-12-31"):
        body = api_error(api.post(PAGE, {"visitDate": value}), 422)
        assert body["errors"] == {"visitDate": [DATE_RANGE_MSG]}, (value, body)
    # the edges of the range are answered
    assert api.post(PAGE, {"startTime": "1900-01-01T00:00:00", "endTime": "9999-12-30T23:59:59"}
                    ).get_json()["total"] == 1
    assert api.post(PAGE, {"visitDate": "9999-12-30"}).get_json()["total"] == 0


def test_page_refuses_filters_out_of_range_with_a_message_and_still_lists(pages: PageClient) -> None:
    from html import unescape

    for query in ("start=0001-01-01T00:00", "end=9999-12-31T23:59:59-12:00", "start=9999-12-31T23:59",
                  "start=0001-01-01T00:00:00%2B14:00"):
        resp = pages.get(f"/system/log/?{query}")
        html = unescape(resp.get_data(as_text=True))
        assert resp.status_code == 422, (query, resp.status_code)
        assert "超出范围，应在 1900-01-01 至 9999-12-30 之间" in html, query
        assert "登录" in html, query  # the list, unfiltered by what was refused
    for query in ("user_id=99999999999999999999", "user_id=-99999999999999999999", "user_id=abc"):
        resp = pages.get(f"/system/log/?{query}")
        assert resp.status_code == 422, (query, resp.status_code)
        assert "筛选条件" in unescape(resp.get_data(as_text=True)), query


# ---------------------------------------------------------------------------------------------
# English (issue 24 item 10)


def _ascii_operators(app: Any) -> None:
    """The log keeps the operator's name as it was at sign-in (超级管理员): renamed, as data, for the check."""
    from sqlalchemy import update

    from pcloud.actionlog.models import ActionLog
    from pcloud.extensions import db

    with app.app_context():
        db.session.execute(update(ActionLog).values(name="Admin"))
        db.session.commit()
        db.session.remove()


def _without_title_choices(html: str) -> str:
    """The 操作 filter's values are the stored titles (the filter matches them, in any language); its labels
    are the reader's but include other modules' titles, checked by their own tests."""
    import re

    return re.sub(r'<select[^>]*name="title".*?</select>', "", html, flags=re.S)


def test_log_pages_in_english_show_stored_titles_in_the_readers_language(app: Any, english_pages: PageClient,
                                                                       api: ApiClient) -> None:
    import re

    from tests.conftest import chinese_on_page as english_leftovers
    from tests.conftest import set_language

    api.data("POST", "/api/integration/admin/segment/create", {"bizTag": "order", "step": 10})
    _ascii_operators(app)
    html = english_pages.get("/system/log/").get_data(as_text=True)
    titles = re.search(r'<select[^>]*name="title".*?</select>', html, re.S)
    assert titles and '<option value="号段新增" >Add segment</option>' in titles.group(0)
    rest = _without_title_choices(html)
    assert not english_leftovers(rest), english_leftovers(rest)
    assert ">Add segment</span></td>" in html and ">Sign in</span></td>" in html and "Visitors today" in html

    rows = api.post(PAGE, {"title": "号段新增"}).get_json()["data"]
    html = english_pages.get(f"/system/log/{rows[0]['id']}").get_data(as_text=True)
    assert '<h1 class="h4 m-0">Add segment</h1>' in html and not english_leftovers(html), english_leftovers(html)
    # the filter works on the stored text, chosen from the list in any language
    html = english_pages.get("/system/log/?title=号段新增").get_data(as_text=True)
    assert html.count(">Add segment</span></td>") == 1 and ">Sign in</span></td>" not in html
    html = _without_title_choices(english_pages.get("/system/log/?status=fail").get_data(as_text=True))
    assert "No log entries match" in html and not english_leftovers(html), english_leftovers(html)

    set_language(english_pages.client, "zh")
    html = english_pages.get("/system/log/").get_data(as_text=True)
    assert ">号段新增</span></td>" in html and ">登录</span></td>" in html
    html = english_pages.get(f"/system/log/{rows[0]['id']}").get_data(as_text=True)
    assert '<h1 class="h4 m-0">号段新增</h1>' in html


def test_log_refusals_in_english(api: ApiClient) -> None:
    from tests.conftest import api_error

    en = {"Accept-Language": "en"}
    body = api_error(api.post(PAGE, {"startTime": "2024-02-01T00:00:00", "endTime": "2024-01-01T00:00:00"},
                              headers=en), 422)
    assert body["msg"] == "The start time cannot be after the end time", body
    assert api_error(api.get("/api/admin/log/action/999999", headers=en), 404)["msg"] == (
        "The log entry does not exist")
    assert api_error(api.get("/api/admin/log/action/999999"), 404)["msg"] == "日志不存在"


def test_an_open_platform_accounts_operations_are_logged_under_its_name_not_a_users_id(api: ApiClient,
                                                                                        app: Any) -> None:
    """Review (session 15): the recorder wrote an account's id as the operator's user id, so account N's calls
    showed as user N's, in the log's user filter and in user N's "only self" view. An account's rows carry its
    name and no user id."""
    account_id, account = open_client(app, "对账系统")
    numbered = user_numbered(app, account_id)
    assert account.post("/api/oauth/logout").status_code == 200
    mine = api.post(PAGE, {"userId": numbered, "pageSize": 50}).get_json()["data"]
    assert [row for row in mine if row["name"] == "对账系统"] == []
    (row,) = [row for row in api.post(PAGE, {"name": "对账系统"}).get_json()["data"]]
    assert row["title"] == "退出登录" and row["userId"] is None


def test_an_open_sign_in_with_a_padded_grant_type_is_not_logged_as_the_phone_it_carries(app: Any) -> None:
    """Review (session 15): "OPEN " (or a tab before it) with a user's phone signed the account in, while the
    operation log read the grant unstripped and recorded a successful 登录 of that user, counted in their figures.
    The grant is read one way for both."""
    from pcloud.extensions import db
    from pcloud.openplatform import service

    with app.app_context():
        account, key = service.create_account({"name": "填充"})
        db.session.commit()
        secure_id = account.secure_id
        db.session.remove()
    anon = ApiClient(app.test_client())
    admin = ApiClient(app.test_client())
    admin.token = admin.sign_in()
    for grant in ("OPEN ", "\tOPEN", " open"):
        resp = anon.client.post("/api/oauth/token", json={"grantType": grant, "secureId": secure_id,
                                                          "secureKey": key, "phone": ADMIN_PHONE})
        assert resp.status_code == 200 and resp.get_json()["data"]["profile"]["secureId"] == secure_id
    rows = admin.post(PAGE, {"title": "登录", "pageSize": 50}).get_json()["data"]
    opened = [row for row in rows if row["name"] == f"开放平台 {secure_id}"]
    assert len(opened) == 3 and {row["userId"] for row in opened} == {None}
    assert [row for row in rows if row["userId"] is not None] == [rows[-1]]  # the administrator's own, first


def test_a_refusal_is_logged_in_each_readers_language_not_the_requesters(app: Any, api: ApiClient,
                                                                          english_pages: PageClient) -> None:
    """The log stored a refusal as it was said to its requester: an English client's 403 (Permission denied) and
    409 (naming the grade) read in English on the Chinese page, and a Chinese client's 409 read in Chinese on the
    English page and in an English client's API. Stored as its source string and values, each reader reads it in
    their own language: the list, the detail and the API."""
    from html import unescape

    from tests.conftest import api_error, set_language
    from tests.factories import make_grade, make_user

    en = {"Accept-Language": "en"}
    grade = make_grade(app, "G1")
    make_user(app, phone="13900000398", grade_id=grade)
    make_user(app, phone="13900000399", password="Passw0rd1")  # no role: no grant
    nobody = ApiClient(app.test_client())
    nobody.token = nobody.sign_in("13900000399", "Passw0rd1")
    assert api_error(nobody.post("/api/admin/grade/create", {"name": "G2"}, headers=en), 403)["msg"] == (
        "Permission denied")
    in_english = "Cannot delete the grade 'G1': 1 user(s) still have it. Give these users another grade first."
    in_chinese = "不能删除职级「G1」：仍有 1 名用户是该职级。请先为这些用户更换职级。"
    assert api_error(api.delete(f"/api/admin/grade/{grade}/delete", headers=en), 409)["msg"] == in_english
    assert api_error(api.delete(f"/api/admin/grade/{grade}/delete"), 409)["msg"] == in_chinese

    failed = api.post(PAGE, {"status": "fail", "pageSize": 50}).get_json()["data"]  # Chinese, the default
    assert [row["msg"] for row in failed if row["title"] != "登录"] == [in_chinese, in_chinese, "没有权限"]
    failed = api.post(PAGE, {"status": "fail", "pageSize": 50}, headers=en).get_json()["data"]
    assert [row["msg"] for row in failed if row["title"] != "登录"] == [in_english, in_english, "Permission denied"]
    assert api.get(f"/api/admin/log/action/{failed[1]['id']}", headers=en).get_json()["data"]["msg"] == in_english
    assert api.get(f"/api/admin/log/action/{failed[1]['id']}").get_json()["data"]["msg"] == in_chinese

    html = unescape(english_pages.get("/system/log/?status=fail").get_data(as_text=True))
    assert html.count(in_english) >= 2 and "Permission denied" in html and "G1」" not in html, html
    assert "没有权限" not in html
    html = unescape(english_pages.get(f"/system/log/{failed[0]['id']}").get_data(as_text=True))
    assert in_english in html and in_chinese not in html
    set_language(english_pages.client, "zh")
    html = unescape(english_pages.get("/system/log/?status=fail").get_data(as_text=True))
    assert html.count(in_chinese) >= 2 and "没有权限" in html and "Permission denied" not in html
    assert "Cannot delete" not in html
    html = unescape(english_pages.get(f"/system/log/{failed[1]['id']}").get_data(as_text=True))
    assert in_chinese in html and in_english not in html


def test_a_sign_in_refused_in_english_is_logged_in_each_readers_language(app: Any, api: ApiClient) -> None:
    """The sign-in's refusal (API and page) and a refused SMS code were logged in the words said to whoever tried,
    so an English attempt read in English on the Chinese log. Each reader reads them in their own language."""
    from tests.conftest import PageClient, csrf_from

    en = {"Accept-Language": "en"}
    anon = ApiClient(app.test_client())
    refused = anon.post("/api/oauth/token", json={"phone": ADMIN_PHONE, "password": "bad12345",
                                                  "grantType": "ADMIN"}, headers=en)
    assert refused.status_code == 401 and refused.get_json()["msg"] == "Wrong phone or password"
    page = PageClient(app.test_client())
    page.client.set_cookie("lang", "en")
    token = csrf_from(page.get("/login").get_data(as_text=True))
    assert page.client.post("/login?tab=password", data={"pw-csrf_token": token, "pw-phone": ADMIN_PHONE,
                                                         "pw-password": "bad12345"}).status_code == 401
    sms = page.client.post("/login/sms-code", data={"csrf_token": token, "phone": ""},
                           headers={"Accept": "application/json"})
    assert sms.status_code == 422 and sms.get_json()["msg"] == "Please enter the phone number"

    def messages(headers: dict[str, str]) -> list[str]:
        rows = api.post(PAGE, {"status": "fail", "pageSize": 50}, headers=headers).get_json()["data"]
        return [row["msg"] for row in rows]

    assert messages({}) == ["请输入手机号", "手机号或密码错误", "手机号或密码错误"]
    assert messages(en) == ["Please enter the phone number", "Wrong phone or password", "Wrong phone or password"]


def test_a_scripts_source_and_diff_in_the_log_are_read_only_with_the_script_grant(app: Any, api: ApiClient,
                                                                                 pages: PageClient) -> None:
    """Authorization review (session 28): a script's source is the script grant's (`/api/job/jobcode/**`, the super
    administrator's by default), yet the operation log, a fresh ROLE_ADMIN's, kept every save's `glueSource` and
    diff in `params`, and any reader of the log read the script there (the API's page and detail, the detail page).
    The log still keeps them (the super administrator audits the script), and answers them masked to a reader
    without the grant: every `glueSource` (the page form's `glue_source` too) and the save's `diff`, whatever the
    depth, even in parameters cut at 4000 characters."""
    import html as htmllib

    from tests.factories import make_user
    from tests.test_jobs import job_body, make_executor

    executor = make_executor(api)
    body = {**job_body(executor, glueType="GLUE_PYTHON", scheduleType="NONE"), "glueSource": "A = 'first'\n",
            "glueRemark": "第一版"}
    body.pop("scheduleConf"), body.pop("executorHandler")
    job = api.data("POST", "/api/job/jobinfo/add", body)
    api.data("POST", "/api/job/jobcode/save", {"jobId": job, "glueSource": "A = 's3cr3t'\n", "glueRemark": "二"})
    assert api.post("/api/job/jobcode/save", {"jobId": job, "glueSource": "A = 'refused'\n",  # logged as sent
                                              "glueRemark": " "}).status_code == 422
    api.post("/api/job/jobinfo/update", {"id": job, "nested": [{"glueSource": "A = 'deep'\n"}]})
    long_source = "A = 'long'\n" + "# " + "x" * 5000 + "\n"  # its parameters are cut: no longer JSON
    api.data("POST", "/api/job/jobcode/save", {"jobId": job, "glueSource": long_source, "glueRemark": "长"})
    assert pages.submit(f"/job/info/{job}/code", data={"glue_source": "A = 'form'\n", "glue_remark": ""}
                        ).status_code == 422
    secrets = ("first", "s3cr3t", "refused", "deep", "long", "form")

    phone = "13900000309"
    make_user(app, phone=phone, role_codes=("ROLE_ADMIN",))
    reader = ApiClient(app.test_client())
    reader.token = reader.sign_in(phone, "Passw0rd1")
    reader_pages = PageClient(app.test_client())
    assert reader_pages.sign_in(phone, "Passw0rd1").status_code == 302

    def logged(client: ApiClient) -> list[dict[str, Any]]:
        rows = client.post(PAGE, {"path": "/job", "pageSize": 100}).get_json()["data"]
        return [row for row in rows if "glue" in (row["params"] or "").lower() or '"diff"' in (row["params"] or "")]

    rows = logged(api)
    assert len(rows) >= 6, [row["params"] for row in rows]
    # the super administrator reads every script and diff, on the API's page and detail and the detail page
    everything = " ".join(row["params"] for row in rows)
    assert all(f"'{word}'" in everything for word in secrets), everything
    assert "-A = 'first'" in everything and "+A = 's3cr3t'" in everything
    assert any("s3cr3t" in api.data("GET", f"/api/admin/log/action/{row['id']}")["params"] for row in rows)
    assert any("s3cr3t" in htmllib.unescape(pages.get(f"/system/log/{row['id']}").get_data(as_text=True))
               for row in rows)

    # a reader without the script grant reads the entries, their scripts and diffs masked, through every door
    seen = logged(reader)
    assert sorted(row["id"] for row in seen) == sorted(row["id"] for row in rows)
    listed = reader_pages.get("/system/log/?path=/job")
    assert listed.status_code == 200
    for row in seen:
        detail = reader.data("GET", f"/api/admin/log/action/{row['id']}")
        page = htmllib.unescape(reader_pages.get(f"/system/log/{row['id']}").get_data(as_text=True))
        for text in (row["params"], detail["params"], page, listed.get_data(as_text=True)):
            assert not any(f"'{word}'" in text for word in secrets), text
            assert "+A =" not in text and "-A =" not in text
        assert "（脚本内容：需要脚本权限）" in row["params"] and "（脚本内容：需要脚本权限）" in page
    saved = next(json.loads(row["params"]) for row in seen if '"glueRemark": "二"' in row["params"])
    assert saved == {"jobId": job, "glueType": "GLUE_PYTHON", "glueRemark": "二", "diff": "（脚本内容：需要脚本权限）"}
    cut = next(row["params"] for row in seen if '"glueRemark": "长"' in row["params"])  # masked to the cut
    assert cut.endswith('"diff": "（脚本内容：需要脚本权限）"') and "x" * 10 not in cut
    # said in the reader's language
    english = reader.get(f"/api/admin/log/action/{seen[0]['id']}", headers={"Accept-Language": "en"}).get_json()
    assert '(script content: needs the \\"script job\\" grant)' in english["data"]["params"], english
