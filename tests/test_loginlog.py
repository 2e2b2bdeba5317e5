"""登录日志 and unlock (issue 22: 1, 3): every attempt of every grant with its outcome and reason, the client
address by the trusted-proxy rule, the agent parsed, sign-out / forced offline / expiry as rows; the page API,
detail, export, the page; lifting a lock by user, phone or address; retention; attempts in parallel."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import ADMIN_PASSWORD, ADMIN_PHONE, ApiClient, PageClient, api_error, csrf_from

PAGE = "/api/admin/log/login/page"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.1 Mobile/15E148 Safari/604.1")


def token_call(anon: ApiClient, ua: str = CHROME, **body: Any) -> Any:
    return anon.client.post("/api/oauth/token", json=body, headers={"User-Agent": ua})


def rows(api: ApiClient, **filters: Any) -> list[dict[str, Any]]:
    return api.data("POST", PAGE, {"pageSize": 200, **filters})


def test_every_grant_and_outcome_writes_one_row_with_reason_address_and_parsed_agent(
        api: ApiClient, anon: ApiClient) -> None:
    token_call(anon, phone=ADMIN_PHONE, password="wrong-one1", grantType="ADMIN")
    token_call(anon, IPHONE, phone="13900009999", verifyCode="123456", grantType="sms")
    token_call(anon, secureId="nobody", secureKey="nothing", grantType="OPEN")
    token_call(anon, phone=ADMIN_PHONE, grantType="ADMIN")  # no password: 422, an attempt all the same
    token_call(anon, phone=ADMIN_PHONE, password="x", grantType="PASSWORD")
    ok = token_call(anon, phone=ADMIN_PHONE, password=ADMIN_PASSWORD, grantType="ADMIN")
    assert ok.status_code == 200
    found = rows(api)
    # newest first; the fixture's own sign-in is the oldest
    assert [(r["event"], r["grantType"], r["result"]) for r in found] == [
        ("login", "ADMIN", 0), (("login", "PASSWORD", 1)), ("login", "ADMIN", 1), ("login", "OPEN", 1),
        ("login", "SMS", 1), ("login", "ADMIN", 1), ("login", "ADMIN", 0)]
    newest, _bad_grant, missing, open_, sms, wrong, _fixture = found
    assert newest["reason"] == "登录成功" and newest["phone"] == ADMIN_PHONE and newest["userId"] is not None
    assert newest["browser"].startswith("Chrome 120") and newest["os"].startswith("Windows")
    assert newest["clientIp"] == "127.0.0.1" and newest["userAgent"] == CHROME
    assert wrong["reason"] == "手机号或密码错误" and wrong["userId"] is None
    assert sms["reason"].startswith("验证码错误") and sms["phone"] == "13900009999"
    assert "Safari" in sms["browser"] and sms["os"].startswith("iOS 17")
    from pcloud.openplatform.service import KEY_REFUSED

    assert open_["phone"] == "nobody" and open_["reason"] == KEY_REFUSED and open_["userId"] is None
    assert missing["reason"] == "参数校验失败"
    assert set(newest) == {"id", "event", "phone", "userId", "grantType", "result", "reason", "clientIp",
                           "userAgent", "browser", "os", "signedInAt"}
    assert not [r for r in found if {"wrong-one1", ADMIN_PASSWORD, "nothing", "123456"} & {str(v) for v in r.values()}]


def test_a_locked_phone_is_logged_as_locked(api: ApiClient, anon: ApiClient) -> None:
    for _ in range(5):
        token_call(anon, phone=ADMIN_PHONE, password="wrong-one1", grantType="ADMIN")
    assert token_call(anon, phone=ADMIN_PHONE, password=ADMIN_PASSWORD, grantType="ADMIN").status_code == 429
    assert "锁定" in rows(api, result=1)[0]["reason"]


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(app: Any, api: ApiClient, anon: ApiClient) -> None:
    anon.client.post("/api/oauth/token", json={"phone": "13900000001", "password": "abcdefg1", "grantType": "ADMIN"},
                     headers={"X-Forwarded-For": "6.6.6.6"})
    assert rows(api)[0]["clientIp"] == "127.0.0.1"
    app.config["PCLOUD_TRUSTED_PROXIES"] = "127.0.0.1/32"
    try:
        anon.client.post("/api/oauth/token", json={"phone": "13900000001", "password": "abcdefg1",
                                                   "grantType": "ADMIN"}, headers={"X-Forwarded-For": "7.7.7.7"})
    finally:
        app.config["PCLOUD_TRUSTED_PROXIES"] = ""
    assert rows(api)[0]["clientIp"] == "7.7.7.7"


def test_logout_forced_offline_and_expiry_are_rows(app: Any, api: ApiClient, anon: ApiClient) -> None:
    from sqlalchemy import update

    from pcloud.core.timefmt import utcnow
    from pcloud.extensions import db
    from pcloud.jobs.worker.maintenance import record_expired_sessions
    from pcloud.sessions.models import UserSession
    from tests.factories import make_user

    uid = make_user(app, phone="13900000401", name="甲", password="Passw0rd1")
    other = ApiClient(app.test_client())
    other.token = other.sign_in("13900000401", "Passw0rd1")
    assert other.post("/api/oauth/logout").status_code == 200
    other.token = other.sign_in("13900000401", "Passw0rd1")
    api.data("GET", f"/api/admin/system/user/{uid}/offline")
    other.token = other.sign_in("13900000401", "Passw0rd1")
    with app.app_context():  # the session runs out (an hour ago)
        db.session.execute(update(UserSession).where(UserSession.user_id == uid, UserSession.revoked_at.is_(None))
                           .values(expires_at=utcnow()))
        db.session.commit()
        later = utcnow() + timedelta(seconds=1)
        assert record_expired_sessions(later) == 1
        assert record_expired_sessions(later) == 0  # written once
        db.session.remove()
    events = [(r["event"], r["result"]) for r in rows(api, phone="13900000401")]
    assert events == [("expired", 0), ("login", 0), ("offline", 0), ("login", 0), ("logout", 0), ("login", 0)]
    offline = rows(api, event="offline")[0]
    assert offline["userId"] == uid and "强制下线" in offline["reason"] and offline["clientIp"] == "127.0.0.1"
    assert other.post("/api/admin/system/adminInfo").status_code == 401


def test_page_filters_detail_and_validation(api: ApiClient, anon: ApiClient) -> None:
    token_call(anon, phone="13900000501", password="abcdefg1", grantType="ADMIN")
    token_call(anon, phone="13900000502", verifyCode="000000", grantType="SMS")
    assert [r["phone"] for r in rows(api, phone="0000050")] == ["13900000502", "13900000501"]
    assert [r["phone"] for r in rows(api, grantType="SMS")] == ["13900000502"]
    assert len(rows(api, result=0)) == 1 and len(rows(api, result=1)) == 2
    assert len(rows(api, clientIp="127.0.0.1")) == 3 and rows(api, clientIp="10.0.0.1") == []
    assert rows(api, startTime="2000-01-01T00:00:00", endTime="2000-01-02T00:00:00") == []
    body = api.post(PAGE, {"pageSize": 1}).get_json()
    assert body["total"] == 3 and len(body["data"]) == 1
    for bad in ({"result": 2}, {"grantType": "PASSWORD"}, {"event": "nap"}, {"startTime": "yesterday"},
                {"nope": 1}, {"startTime": "2030-01-02T00:00:00", "endTime": "2030-01-01T00:00:00"}):
        api_error(api.post(PAGE, bad), 422)
    one = rows(api)[0]
    assert api.data("GET", f"/api/admin/log/login/{one['id']}") == one
    api_error(api.get("/api/admin/log/login/999999"), 404)


def test_download_is_an_xlsx_of_the_filtered_rows(api: ApiClient, anon: ApiClient) -> None:
    from openpyxl import load_workbook

    token_call(anon, phone="13900000601", password="abcdefg1", grantType="ADMIN")
    resp = api.post("/api/admin/log/login/download", {"result": 1})
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    values = list(sheet.values)
    assert values[0][0] == "时间" and len(values) == 2 and values[1][5] == "13900000601"
    assert values[1][4] == "手机号或密码错误"


def test_the_download_s_times_read_as_the_page_s(api: ApiClient, anon: ApiClient, pages: PageClient) -> None:
    """A browser review: the export's 时间 column read 2026-12-07T07:16:28 (an ISO text with a T), while the list
    and the user export say 2026-12-07 07:16:28. Every time cell of the download reads as the page shows it."""
    import re

    from openpyxl import load_workbook

    token_call(anon, phone="13900000602", password="abcdefg1", grantType="ADMIN")
    sheet = load_workbook(io.BytesIO(api.post("/api/admin/log/login/download", {"result": 1}).data)).active
    shown = list(sheet.values)[1][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", shown), shown
    html = pages.get("/monitor/loginlog/?result=1").get_data(as_text=True)
    assert all(f">{part}<" in html for part in shown.split(" "))  # the list's date and time, each kept whole


def test_the_page_refuses_the_filters_the_api_refuses_and_says_which(api: ApiClient, pages: PageClient) -> None:
    """A review: the page read its filters by hand, not through the API's schema (ARCHITECTURE.md, List filters): a
    result of 7 or an unknown event was dropped without a word (200, every row), a phone or an address longer than
    its column was cut and searched for, a mistyped time said only 时间格式不正确 (200). Each is refused as the API
    refuses it: the list without that filter, a red flash naming it and saying why, 422."""
    for query, field, label in (("result=7", "result", "结果"), ("event=nope", "event", "事件"),
                                ("client_ip=" + "1" * 300, "clientIp", "IP 地址"),
                                ("phone=" + "a" * 300, "phone", "手机号"),
                                ("start=garbage", "startTime", "开始时间")):
        value = query.split("=", 1)[1]
        api_error(api.post(PAGE, {field: int(value) if value.isdigit() else value}), 422)  # the API's word
        resp = pages.get(f"/monitor/loginlog/?{query}")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422, query
        assert f"筛选条件「{label}" in html and "已忽略该条件" in html, query
        assert ADMIN_PHONE in html, query  # the list, without the refused filter


def test_unlock_by_user_phone_and_address(app: Any, api: ApiClient, anon: ApiClient) -> None:
    from tests.factories import make_user

    uid = make_user(app, phone="13900000701", name="乙", password="Passw0rd1")
    good = {"phone": "13900000701", "password": "Passw0rd1", "grantType": "ADMIN"}
    for _ in range(5):
        token_call(anon, phone="13900000701", password="wrong-one1", grantType="ADMIN")
    assert token_call(anon, **good).status_code == 429
    assert api.data("POST", f"/api/admin/system/user/{uid}/unlock") is True
    assert token_call(anon, **good).status_code == 200
    assert api.data("POST", f"/api/admin/system/user/{uid}/unlock") is False  # nothing left to lift
    api_error(api.post("/api/admin/system/user/999999/unlock"), 404)

    for _ in range(5):
        token_call(anon, phone="13900000701", password="wrong-one1", grantType="ADMIN")
    assert token_call(anon, **good).status_code == 429
    assert api.data("POST", "/api/admin/log/login/unlock", {"phone": "13900000701"}) is True
    assert token_call(anon, **good).status_code == 200

    app.config["PCLOUD_LOGIN_MAX_IP_FAILURES"] = 3
    try:
        for n in range(3):
            token_call(anon, phone=f"1390000080{n}", password="wrong-one1", grantType="ADMIN")
        assert token_call(anon, **good).status_code == 429  # the address is locked
        assert api.data("POST", "/api/admin/log/login/unlock", {"clientIp": "127.0.0.1"}) is True
        assert token_call(anon, **good).status_code == 200
    finally:
        app.config["PCLOUD_LOGIN_MAX_IP_FAILURES"] = 20
    api_error(api.post("/api/admin/log/login/unlock", {}), 422)
    api_error(api.post("/api/admin/log/login/unlock", {"phone": ""}), 422)
    from tests.conftest import logged_actions

    assert ("登录解锁", "success") in logged_actions(app) and ("用户解锁", "success") in logged_actions(app)


def test_unlock_lifts_only_the_locks_of_users_within_the_callers_data_scope(app: Any, api: ApiClient,
                                                                           monkeypatch: Any) -> None:
    """A log viewer of 本部门 sees no sign-in of another department, and lifts none of its locks either: not
    another department's user (404 as elsewhere), nor a phone of nobody (404 alike), nor an address (403);
    nor a super administrator's, whom only a super administrator unlocks (403). Each stays locked; the caller's
    own department's user is unlocked."""
    from tests.factories import make_user, next_phone
    from tests.test_datascope import scoped_world

    monkeypatch.setitem(app.config, "PCLOUD_LOGIN_MAX_IP_FAILURES", 5)
    world = scoped_world(app, api, 3)  # the head of 研发中心, whose role's data scope is 本部门
    head, head_pages, org = world["api"], world["pages"], world["org"]
    inside, outside, super_inside, nobody = (next_phone() for _ in range(4))
    make_user(app, phone=inside, dept_id=org["研发中心"])
    outside_id = make_user(app, phone=outside, dept_id=org["销售部"])
    super_id = make_user(app, phone=super_inside, dept_id=org["研发中心"], role_codes=("ROLE_SUPER_ADMIN",))
    addresses = iter(f"10.0.9.{n}" for n in range(1, 100))

    def from_address(address: str) -> ApiClient:
        client = ApiClient(app.test_client())
        client.client.environ_base["REMOTE_ADDR"] = address
        return client

    def sign_in(phone: str, address: str | None = None) -> int:
        password = ADMIN_PASSWORD if phone == ADMIN_PHONE else "Passw0rd1"
        return token_call(from_address(address or next(addresses)), phone=phone, password=password,
                          grantType="ADMIN").status_code

    attacker = next(addresses)
    for phone in (inside, outside, super_inside, nobody, ADMIN_PHONE):
        client = from_address(next(addresses))
        for i in range(5):
            token_call(client, phone=phone, password=f"wrong-{i}x", grantType="ADMIN")
        assert sign_in(phone) == 429
    for i in range(5):  # the attacker's address is locked too
        token_call(from_address(attacker), phone=next_phone(), password=f"wrong-{i}x", grantType="ADMIN")
    assert sign_in(inside, attacker) == 429

    assert [r for r in rows(head) if r["phone"] == outside] == []  # the log shows the head none of them
    unlock = "/api/admin/log/login/unlock"
    for phone in (outside, nobody, ADMIN_PHONE):
        api_error(head.post(unlock, {"phone": phone}), 404)
    api_error(head.post(unlock, {"phone": super_inside}), 403)
    api_error(head.post(f"/api/admin/system/user/{super_id}/unlock"), 403)
    api_error(head.post(f"/api/admin/system/user/{outside_id}/unlock"), 404)
    api_error(head.post(unlock, {"clientIp": attacker}), 403)
    page = head_pages.client.post("/monitor/loginlog/unlock", data={
        "csrf_token": csrf_from(head_pages.get("/monitor/loginlog/").get_data(as_text=True)), "phone": outside})
    assert page.status_code == 404
    for phone in (outside, nobody, ADMIN_PHONE, super_inside):
        assert sign_in(phone) == 429, phone
    assert sign_in(inside, attacker) == 429

    assert head.data("POST", unlock, {"phone": inside}) is True
    assert sign_in(inside) == 200
    for body in ({"phone": outside}, {"phone": nobody}, {"phone": ADMIN_PHONE}, {"phone": super_inside},
                 {"clientIp": attacker}):  # a super administrator lifts each
        assert api.data("POST", unlock, body) is True, body
    assert sign_in(super_inside, attacker) == 200


def test_a_weaker_admin_lifts_no_lock_of_one_whose_roles_reach_further(app: Any, api: ApiClient, anon: ApiClient
                                                                      ) -> None:
    """Review (session 18, finding C): a user manager of all data whose roles are narrower than ROLE_ADMIN's was
    refused the offline of a ROLE_ADMIN user (403) yet lifted that user's sign-in lock, by phone or by user, which
    frees the account for whoever is guessing its password. Unlock now holds the rule of offline, modify and kick
    (users.service.outreaches): 403 through the API and both pages' buttons, the lock still in force; the user
    page shows no 解锁 for that user. A user within reach, and a phone of nobody (all data), unlock as before."""
    from tests.factories import grant_role, make_role, make_user, next_phone, route_code

    admin_phone, plain_phone, nobody = next_phone(), next_phone(), next_phone()
    admin_id = make_user(app, phone=admin_phone, name="管理员甲", role_codes=("ROLE_ADMIN",))
    plain_id = make_user(app, phone=plain_phone, name="普通乙")
    desk = make_role(app, "ROLE_UNLOCK_DESK", "解锁台")  # all data, a few routes: narrower than ROLE_ADMIN
    grant_role(app, desk, menu_paths=("/system/user", "/monitor/loginlog"), resource_codes=tuple(
        route_code(endpoint, method) for endpoint, method in (
            ("users_api.page", "POST"), ("users_api.offline", "GET"), ("loginlog_api.page", "POST"),
            ("auth_api.unlock", "POST"), ("auth_api.unlock_user", "POST"))))
    desk_phone = next_phone()
    make_user(app, phone=desk_phone, role_ids=[desk])
    weaker = ApiClient(app.test_client())
    weaker.token = weaker.sign_in(desk_phone, "Passw0rd1")
    weaker_pages = PageClient(app.test_client())
    assert weaker_pages.sign_in(desk_phone, "Passw0rd1").status_code == 302

    def sign_in(phone: str) -> int:
        return token_call(anon, phone=phone, password="Passw0rd1", grantType="ADMIN").status_code

    for phone in (admin_phone, plain_phone, nobody):
        for _ in range(5):
            token_call(anon, phone=phone, password="wrong-one1", grantType="ADMIN")
    assert sign_in(admin_phone) == 429
    assert "角色超出了您的权限范围" in api_error(weaker.get(f"/api/admin/system/user/{admin_id}/offline"), 403)["msg"]
    for refused in (weaker.post("/api/admin/log/login/unlock", {"phone": admin_phone}),
                    weaker.post(f"/api/admin/system/user/{admin_id}/unlock")):
        assert api_error(refused, 403)["msg"] == "该用户的角色超出了您的权限范围，不能解除其登录锁定"
    listing = weaker_pages.get("/system/user/?size=100").get_data(as_text=True)
    assert f"/system/user/{plain_id}/unlock" in listing and f"/system/user/{admin_id}/unlock" not in listing
    token = csrf_from(listing)
    assert weaker_pages.client.post(f"/system/user/{admin_id}/unlock", data={"csrf_token": token}).status_code == 403
    log_page = weaker_pages.get("/monitor/loginlog/").get_data(as_text=True)
    assert admin_phone in log_page  # all data: the row is shown, without 解锁账号; a forged post is refused
    assert f'name="phone" value="{admin_phone}"' not in log_page
    assert f'name="phone" value="{plain_phone}"' in log_page and f'name="phone" value="{nobody}"' in log_page
    shown = weaker_pages.client.post("/monitor/loginlog/unlock", data={"csrf_token": csrf_from(log_page),
                                                                       "phone": admin_phone})
    assert shown.status_code == 403 and "不能解除其登录锁定" in shown.get_data(as_text=True)
    assert sign_in(admin_phone) == 429  # still locked

    assert weaker.data("POST", f"/api/admin/system/user/{plain_id}/unlock") is True
    assert sign_in(plain_phone) == 200
    assert weaker.data("POST", "/api/admin/log/login/unlock", {"phone": nobody}) is True  # nobody's: as before
    assert api.data("POST", "/api/admin/log/login/unlock", {"phone": admin_phone}) is True
    assert sign_in(admin_phone) == 200


def test_an_open_account_s_lock_is_lifted_only_by_whom_the_account_s_reach_is_within(app: Any, api: ApiClient,
                                                                                   anon: ApiClient) -> None:
    """Review (session 28): a secureId's lock was lifted by anyone whose data scope is all data, though the account's
    状态, 重置密钥 and 强退 need its reach (an admin must reach all it holds): a weaker admin freed a stronger account
    for whoever was guessing its key. Now the same rule: 403, the lock kept; an account holding nothing is anyone's
    to unlock, and the super administrator unlocks either."""
    from tests.factories import route_code
    from tests.test_openplatform import _an_admin_of_one_department_beside_a_strong_account, open_token

    _, strong, empty, principal = _an_admin_of_one_department_beside_a_strong_account(app, api)
    api.data("PUT", "/api/admin/role/modify", {"id": principal.role_id, "dataScope": 1})  # all data
    principal.grant(menu_paths=("/open", "/open/account", "/monitor", "/monitor/loginlog"),
                    resource_codes=(route_code("auth_api.unlock", "POST"),))
    for account in (strong, empty):
        for i in range(5):
            open_token(anon, account["secureId"], f"wrong-{i}")
        assert open_token(anon, account["secureId"], account["secureKey"]).status_code == 429
    unlock = "/api/admin/log/login/unlock"
    assert "超出了您的权限范围" in api_error(principal.api.post(unlock, {"phone": strong["secureId"]}), 403)["msg"]
    assert open_token(anon, strong["secureId"], strong["secureKey"]).status_code == 429  # still locked
    assert principal.api.data("POST", unlock, {"phone": empty["secureId"]}) is True
    assert open_token(anon, empty["secureId"], empty["secureKey"]).status_code == 200
    assert api.data("POST", unlock, {"phone": strong["secureId"]}) is True
    assert open_token(anon, strong["secureId"], strong["secureKey"]).status_code == 200


def test_the_page_lists_filters_shows_detail_exports_and_unlocks(app: Any, pages: PageClient,
                                                                  anon: ApiClient) -> None:
    for _ in range(5):
        token_call(anon, phone="13900000901", password="wrong-one1", grantType="ADMIN")
    html = pages.get("/monitor/loginlog/").get_data(as_text=True)
    assert "13900000901" in html and "手机号或密码错误" in html and "解锁账号" in html and "Chrome" in html
    html = pages.get("/monitor/loginlog/?result=0").get_data(as_text=True)
    assert "13900000901" not in html and ADMIN_PHONE in html
    html = pages.get("/monitor/loginlog/?start=2030-01-02T00:00&end=2030-01-01T00:00").get_data(as_text=True)
    assert "开始时间不能晚于结束时间" in html
    from sqlalchemy import select

    from pcloud.extensions import db
    from pcloud.loginlog.models import LoginLog

    with app.app_context():
        log_id = db.session.execute(select(LoginLog.id).where(LoginLog.phone == "13900000901")).scalars().first()
        db.session.remove()
    detail = pages.get(f"/monitor/loginlog/{log_id}").get_data(as_text=True)
    assert "User-Agent" in detail and "13900000901" in detail
    assert pages.get("/monitor/loginlog/999999").status_code == 404
    token = csrf_from(html)
    export = pages.client.post("/monitor/loginlog/export?result=1", data={"csrf_token": token})
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    assert pages.client.post("/monitor/loginlog/export", data={}).status_code == 400  # no CSRF token
    assert token_call(anon, phone="13900000901", password="x", grantType="ADMIN").status_code == 429
    done = pages.client.post("/monitor/loginlog/unlock", data={"csrf_token": token, "phone": "13900000901",
                                                               "back": "/monitor/loginlog/"})
    assert done.status_code == 302
    assert "已解除" in pages.get("/monitor/loginlog/").get_data(as_text=True)
    assert token_call(anon, phone="13900000901", password="x", grantType="ADMIN").status_code == 401
    assert pages.client.post("/monitor/loginlog/unlock", data={"csrf_token": token}).status_code == 422
    assert pages.client.post("/monitor/loginlog/unlock", data={"phone": "1"}).status_code == 400


def test_the_user_page_unlock_button(app: Any, pages: PageClient, anon: ApiClient) -> None:
    from tests.factories import make_user

    uid = make_user(app, phone="13900001001", name="丙", password="Passw0rd1")
    for _ in range(5):
        token_call(anon, phone="13900001001", password="wrong-one1", grantType="ADMIN")
    html = pages.get("/system/user/").get_data(as_text=True)
    assert f"/system/user/{uid}/unlock" in html
    resp = pages.client.post(f"/system/user/{uid}/unlock", data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 302
    assert "已解除「丙」的登录锁定" in pages.get("/system/user/").get_data(as_text=True)
    assert token_call(anon, phone="13900001001", password="Passw0rd1", grantType="ADMIN").status_code == 200


def test_without_a_grant_the_log_and_unlock_are_refused(app: Any) -> None:
    from tests.factories import make_user

    make_user(app, phone="13900001101", password="Passw0rd1")
    other = ApiClient(app.test_client())
    other.token = other.sign_in("13900001101", "Passw0rd1")
    assert other.post(PAGE, {}).status_code == 403
    assert other.post("/api/admin/log/login/unlock", {"phone": "13900001101"}).status_code == 403
    assert other.post("/api/admin/system/user/1/unlock").status_code == 403
    assert other.get("/api/admin/log/login/1").status_code == 403
    browser = PageClient(app.test_client())
    browser.sign_in("13900001101", "Passw0rd1")
    assert browser.get("/monitor/loginlog/").status_code == 403


def test_retention_deletes_what_the_operation_log_would(app: Any, api: ApiClient) -> None:
    from sqlalchemy import func, select

    from pcloud.core.timefmt import utcnow
    from pcloud.extensions import db
    from pcloud.loginlog import service
    from pcloud.loginlog.models import LoginLog

    with app.app_context():
        old = utcnow() - timedelta(days=200)
        service.write_rows([service.login_row("login", phone=f"1390000{n:04d}", at=old) for n in range(7)])
        assert service.clean_login_log(days=180, batch=3) == 7
        assert db.session.execute(select(func.count(LoginLog.id))).scalar() == 1  # the fixture's sign-in
        db.session.remove()


def test_parallel_attempts_each_leave_a_row(app: Any, api: ApiClient) -> None:
    """A sign-in under attack: many attempts at once, none blocked by another's row, none lost."""
    from sqlalchemy import func, select

    from pcloud.extensions import db
    from pcloud.loginlog.models import LoginLog

    app.config["PCLOUD_LOGIN_MAX_IP_FAILURES"] = 10_000
    threads, each = 8, 15
    statuses: list[int] = []

    def attack(n: int) -> None:
        client = app.test_client()
        for i in range(each):
            resp = client.post("/api/oauth/token", json={"phone": f"139{n:02d}{i:06d}", "password": "abcdefg1",
                                                         "grantType": "ADMIN"})
            statuses.append(resp.status_code)

    try:
        workers = [threading.Thread(target=attack, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
    finally:
        app.config["PCLOUD_LOGIN_MAX_IP_FAILURES"] = 20
    assert len(statuses) == threads * each
    with app.app_context():
        failed = db.session.execute(select(func.count(LoginLog.id)).where(LoginLog.result == 1)).scalar()
        db.session.remove()
    assert failed == threads * each, sorted(set(statuses))  # a row per attempt, whatever it answered
    assert statuses.count(401) == threads * each, {s: statuses.count(s) for s in set(statuses)}


# ---------------------------------------------------------------------------------------------
# English (issue 24 item 10)


def test_login_log_pages_and_export_in_english(api: ApiClient, anon: ApiClient, english_pages: PageClient) -> None:
    """The list (with a failed row and its unlock buttons), the detail, the empty state and the export in
    English; a stored reason that is a source string reads in the reader's language."""
    from html import unescape

    from openpyxl import load_workbook

    from tests.conftest import chinese_on_page as english_leftovers
    from tests.conftest import set_language

    token_call(anon, secureId="nobody", secureKey="nothing", grantType="OPEN")
    failed = rows(api, result=1)[0]
    html = english_pages.get("/monitor/loginlog/").get_data(as_text=True)
    assert not english_leftovers(html), english_leftovers(html)
    assert "Wrong secureId or secureKey" in html and "Unlock account" in html and "Unlock IP" in html
    assert unescape('data-confirm="Unlock sign-in for &#34;nobody&#34;?"') in unescape(html)
    html = english_pages.get(f"/monitor/loginlog/{failed['id']}").get_data(as_text=True)
    assert "Sign in · nobody" in html and "Wrong secureId or secureKey" in html
    assert not english_leftovers(html), english_leftovers(html)
    html = english_pages.get("/monitor/loginlog/?phone=nothing-like-it").get_data(as_text=True)
    assert "No sign-ins match" in html and not english_leftovers(html), english_leftovers(html)

    token = csrf_from(html)
    export = english_pages.client.post("/monitor/loginlog/export?result=1", data={"csrf_token": token})
    assert export.status_code == 200 and "Login%20log.xlsx" in export.headers["Content-Disposition"]
    values = list(load_workbook(io.BytesIO(export.data)).active.values)
    assert values[0][:5] == ("Time", "Event", "Sign-in method", "Result", "Reason"), values[0]
    assert values[1][1] == "Sign in" and values[1][4] == "Wrong secureId or secureKey", values[1]
    download = api.post("/api/admin/log/login/download", {"result": 1}, headers={"Accept-Language": "en"})
    assert list(load_workbook(io.BytesIO(download.data)).active.values)[1][4] == "Wrong secureId or secureKey"

    set_language(english_pages.client, "zh")  # the same stored reason in Chinese
    html = english_pages.get(f"/monitor/loginlog/{failed['id']}").get_data(as_text=True)
    assert "登录 · nobody" in html and "secureId 或 secureKey 错误" in html


def test_a_typed_phone_stays_inside_the_english_unlock_dialog(api: ApiClient, anon: ApiClient,
                                                              english_pages: PageClient) -> None:
    """Anyone may type any text as a phone and lock it. The English confirm sentence quotes it ("…"): the
    translation's quotation marks are escaped with the rest, so the text does not end the `data-confirm`
    attribute and cannot add attributes (an event handler) to the unlock form of the administrator's page."""
    from html.parser import HTMLParser

    typed = "a onmouseover=alert(7) b"
    for _ in range(6):
        token_call(anon, phone=typed, password="wrong-one1", grantType="ADMIN")
    forms: list[dict[str, str | None]] = []

    class Forms(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "form" and dict(attrs).get("action", "").endswith("/unlock"):
                forms.append(dict(attrs))

    Forms().feed(english_pages.get("/monitor/loginlog/").get_data(as_text=True))
    assert f'Unlock sign-in for "{typed}"?' in [f["data-confirm"] for f in forms], forms
    assert all(set(f) <= {"method", "action", "class", "data-confirm"} for f in forms), forms


def test_login_log_refusals_in_english(api: ApiClient) -> None:
    en = {"Accept-Language": "en"}
    body = api_error(api.post(PAGE, {"startTime": "2030-01-02T00:00:00", "endTime": "2030-01-01T00:00:00"},
                              headers=en), 422)
    assert body["msg"] == "The start time cannot be after the end time", body
    assert api_error(api.get("/api/admin/log/login/999999", headers=en), 404)["msg"] == (
        "The login log entry does not exist")


def test_the_phone_keyword_matches_anywhere_in_a_phone_and_keeps_the_distinct_phones(app: Any, api: ApiClient
                                                                                     ) -> None:
    """Issue 22 item 8: the keyword is looked up among the log's distinct phones (kept by triggers), then read
    through the phone index; what it matches is still "contains": the start, the middle, the end, one
    character, a secureId, wildcards taken literally; a phone changed by an UPDATE is found by its new value."""
    from sqlalchemy import select, update

    from pcloud.extensions import db
    from pcloud.loginlog import service
    from pcloud.loginlog.models import LoginLog, LoginLogPhone

    phones = ["13911112222"] * 3 + ["13800005678"] * 2 + ["ab_c%9f00a1"]
    with app.app_context():
        service.write_rows([service.login_row("login", result=1, phone=p) for p in phones] +
                           [service.login_row("logout")])  # no phone: no distinct phone
        kept = set(db.session.execute(select(LoginLogPhone.phone)).scalars())
        db.session.remove()
    assert {"13911112222", "13800005678", "ab_c%9f00a1"} <= kept and None not in kept

    def found(keyword: str) -> list[str]:
        body = api.post(PAGE, {"pageSize": 50, "phone": keyword}).get_json()
        assert body["total"] == len(body["data"])
        return sorted(r["phone"] for r in body["data"])

    assert found("1111") == ["13911112222"] * 3  # the middle
    assert found("139111") == ["13911112222"] * 3 and found("5678") == ["13800005678"] * 2
    assert found("67") == ["13800005678"] * 2  # shorter than a trigram
    assert found("c%9") == ["ab_c%9f00a1"] and found("%") == ["ab_c%9f00a1"]  # LIKE's wildcards, literally
    assert found("b_c") == ["ab_c%9f00a1"] and found("1_1") == []
    assert found("13911112223") == [] and found("139111122221") == []
    assert [r["phone"] for r in rows(api, phone="1111", result=1, pageSize=2)] == ["13911112222"] * 2

    with app.app_context():
        db.session.execute(update(LoginLog).where(LoginLog.phone == "13800005678").values(phone="13700009999"))
        db.session.commit()
        db.session.remove()
    assert found("0000999") == ["13700009999"] * 2 and found("5678") == []


def test_retention_forgets_the_phones_no_row_holds(app: Any, api: ApiClient) -> None:
    from sqlalchemy import select

    from pcloud.core.timefmt import utcnow
    from pcloud.extensions import db
    from pcloud.loginlog import service
    from pcloud.loginlog.models import LoginLogPhone

    with app.app_context():
        old = utcnow() - timedelta(days=200)
        service.write_rows([service.login_row("login", phone=f"1370000{n:04d}", at=old) for n in range(5)] +
                           [service.login_row("login", phone="13700000001"), service.login_row("login", phone="x")])
        assert service.clean_login_log(days=180, batch=2) == 5
        kept = set(db.session.execute(select(LoginLogPhone.phone).where(LoginLogPhone.phone.like("137%")))
                   .scalars())
        db.session.remove()
    assert kept == {"13700000001"}
    assert [r["phone"] for r in rows(api, phone="1370000")] == ["13700000001"]


def test_the_phone_keyword_and_a_days_failures_read_their_own_index(app: Any, api: ApiClient) -> None:
    """The plans behind the bench's figures: a phone keyword reads the log through its phone index (the
    distinct phones first), a day's failures through (result, signed_in_at), not every row of the day."""
    from datetime import datetime

    from pcloud.core.dbstats import captured_selects, plan
    from pcloud.extensions import db
    from pcloud.loginlog import service

    postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    with app.app_context():
        for filters, index in (({"phone": "0000123"}, "ix_sys_login_log_phone_at"),
                               ({"result": 1, "start_time": datetime(2026, 1, 1),
                                 "end_time": datetime(2026, 1, 2)}, "ix_sys_login_log_result_at")):
            with captured_selects(db.engine) as seen:
                service.page_logins(filters, 1, 10)
            counted = [(sql, params) for sql, params in seen if "count(" in sql and "sys_login_log" in sql]
            assert counted, seen
            lines = "\n".join(line for sql, params in counted
                              for line in plan(db.engine, sql, params, avoid_scans=postgres))
            assert index in lines, lines
        db.session.remove()


@pytest.mark.no_database
@pytest.mark.parametrize(("agent", "expected"), [
    (CHROME, ("Windows 10", "Chrome 120.0.0")),
    (IPHONE, ("iOS 17.1", "Mobile Safari 17.1")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36 Edg/120.0.2210.91", ("Mac OS X 10.15.7", "Edge 120.0.2210")),
    ("curl/8.4.0", ("Other", "curl 8.4.0")),
    ("not a browser", ("Other", "Other")),
    ("", ("", "")),
])
def test_an_agent_is_shown_as_system_and_browser_with_their_versions(agent: str, expected: tuple[str, str]) -> None:
    from pcloud.core.useragent import parse_user_agent

    assert parse_user_agent(agent) == expected


def test_a_forced_offline_reads_in_english(app: Any, api: ApiClient, english_pages: PageClient) -> None:
    """A browser review: an English login log said 被超级管理员强制下线 on an offline row (the list, the detail and
    the export): the reason names who ended the session, so it was no catalogue entry. It is stored as before and
    shown in the reader's language, the name kept as named."""
    from openpyxl import load_workbook

    from tests.conftest import set_language
    from tests.factories import make_user

    uid = make_user(app, phone="13900000431", password="Passw0rd1")
    ApiClient(app.test_client()).sign_in("13900000431", "Passw0rd1")
    api.data("GET", f"/api/admin/system/user/{uid}/offline")
    offline = rows(api, event="offline")[0]
    admin = api.data("POST", "/api/admin/system/adminInfo")["name"]
    assert offline["reason"] == f"被{admin}强制下线"  # stored (and answered) as it always was
    html = english_pages.get("/monitor/loginlog/?event=offline").get_data(as_text=True)
    assert f"Forced offline by {admin}" in html and "强制下线</" not in html
    html = english_pages.get(f"/monitor/loginlog/{offline['id']}").get_data(as_text=True)
    assert f"Forced offline by {admin}" in html
    download = api.post("/api/admin/log/login/download", {"event": "offline"}, headers={"Accept-Language": "en"})
    assert list(load_workbook(io.BytesIO(download.data)).active.values)[1][4] == f"Forced offline by {admin}"
    set_language(english_pages.client, "zh")
    assert f"被{admin}强制下线" in english_pages.get("/monitor/loginlog/?event=offline").get_data(as_text=True)


def test_a_lock_reason_reads_in_english_with_its_minutes(app: Any, api: ApiClient, anon: ApiClient,
                                                         english_pages: PageClient) -> None:
    """The login log stored a lock's reason as a finished Chinese sentence (登录失败次数过多，账号已锁定，请 30 分钟后
    再试, the same per address), so an English page, its detail, its export and the API with Accept-Language: en
    said it in Chinese. Stored as its source and minutes, it is said in each reader's language."""
    import re

    from openpyxl import load_workbook
    from sqlalchemy import update

    from pcloud.auth.models import LoginLock
    from pcloud.auth.service import _ip_key
    from pcloud.core.timefmt import utcnow
    from pcloud.extensions import db
    from tests.conftest import set_language

    for _ in range(5):
        token_call(anon, phone="13900000441", password="wrong-one1", grantType="ADMIN")
    assert token_call(anon, phone="13900000441", password="wrong-one2", grantType="ADMIN").status_code == 429
    token_call(anon, phone="13900000442", password="wrong-one1", grantType="ADMIN")  # the address's counter
    with app.app_context():  # the address locked for 20 minutes
        db.session.execute(update(LoginLock).where(LoginLock.phone == _ip_key("127.0.0.1"))
                           .values(locked_until=utcnow() + timedelta(minutes=19, seconds=30)))
        db.session.commit()
    assert token_call(anon, phone="13900000443", password="wrong-one1", grantType="ADMIN").status_code == 429
    account = re.compile(r"Too many failed sign-ins: the account is locked, try again in \d+ minutes")
    address = "Too many failed sign-ins from this address, try again in 20 minutes"

    en = {"Accept-Language": "en"}
    english_rows = api.post(PAGE, {"pageSize": 200, "result": 1}, headers=en).get_json()["data"]
    by_phone = {r["phone"]: r["reason"] for r in reversed(english_rows)}  # each phone's newest
    assert account.fullmatch(by_phone["13900000441"]) and by_phone["13900000443"] == address, by_phone
    locked = [r for r in english_rows if r["phone"] == "13900000441"][0]
    detail = api.get(f"/api/admin/log/login/{locked['id']}", headers=en).get_json()["data"]
    assert detail["reason"] == by_phone["13900000441"]

    html = english_pages.get("/monitor/loginlog/?result=1").get_data(as_text=True)
    assert account.search(html) and address in html and "分钟" not in html
    html = english_pages.get(f"/monitor/loginlog/{locked['id']}").get_data(as_text=True)
    assert account.search(html) and "分钟" not in html
    download = api.post("/api/admin/log/login/download", {"result": 1}, headers=en)
    reasons = [row[4] for row in list(load_workbook(io.BytesIO(download.data)).active.values)[1:]]
    assert address in reasons and any(account.fullmatch(r) for r in reasons), reasons

    chinese = {r["phone"]: r["reason"] for r in reversed(rows(api, result=1))}  # Chinese as before
    assert re.fullmatch(r"登录失败次数过多，账号已锁定，请 \d+ 分钟后再试", chinese["13900000441"]), chinese
    assert chinese["13900000443"] == "该地址登录失败次数过多，请 20 分钟后再试"
    set_language(english_pages.client, "zh")
    html = english_pages.get(f"/monitor/loginlog/{locked['id']}").get_data(as_text=True)
    assert re.search(r"登录失败次数过多，账号已锁定，请 \d+ 分钟后再试", html)
