"""操作日志: what the recorder writes, the page API with its filters, the statistics and the page."""

from __future__ import annotations

from typing import Any

from tests.conftest import ADMIN_PHONE, ApiClient, PageClient

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
