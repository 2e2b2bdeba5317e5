"""短信模板 (issue 25 item 1): code, name and text with {code}; the SMS sender words the sign-in code with
the LOGIN template, so an administrator changes the message without a deploy. API and pages."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import (
    ADMIN_PHONE,
    ApiClient,
    PageClient,
    api_error,
    english_form,
    english_page,
    logged_actions,
)
from tests.sms_file import MemorySmsSender, received_code

SMS = "/api/integration/admin/sms"


def test_create_page_modify_and_delete(api: ApiClient, app: Any) -> None:
    first = api.data("POST", f"{SMS}/create", {"code": "LOGIN", "name": "登录验证码",
                                               "description": "您的验证码是 {code}，{minutes} 分钟内有效"})
    api.data("POST", f"{SMS}/create", {"code": "RESET", "name": "重置密码", "description": "重置验证码 {code}"})
    body = api.post(f"{SMS}/page", {"page": 1, "pageSize": 10}).get_json()
    assert body["total"] == 2 and [t["code"] for t in body["data"]] == ["LOGIN", "RESET"]
    assert set(body["data"][0]) >= {"id", "code", "name", "description", "gmtModifiedDate", "gmtModifiedName"}
    assert [t["code"] for t in api.post(f"{SMS}/page", {"name": "重置"}).get_json()["data"]] == ["RESET"]
    dup = api_error(api.post(f"{SMS}/create", {"code": "LOGIN", "name": "x", "description": "{code}"}), 409)
    assert "code" in dup["errors"]
    no_place = api_error(api.post(f"{SMS}/create", {"code": "X", "name": "x", "description": "没有占位符"}), 422)
    assert "{code}" in no_place["errors"]["description"][0]
    assert api.data("PUT", f"{SMS}/modify", {"id": first, "name": "登录短信"}) == first
    api.data("DELETE", f"{SMS}/{first}/delete")
    assert api.post(f"{SMS}/page", {}).get_json()["total"] == 1
    # a deleted code is free again
    api.data("POST", f"{SMS}/create", {"code": "LOGIN", "name": "又一个", "description": "{code}"})
    assert ("短信模板新增", "success") in logged_actions(app, "短信模板")


def test_the_sign_in_sms_is_worded_by_the_login_template(api: ApiClient, anon: ApiClient) -> None:
    MemorySmsSender.texts.clear()
    assert anon.post("/api/oauth/sms/code", json={"phone": ADMIN_PHONE}).status_code == 200
    received_code(ADMIN_PHONE)
    assert ADMIN_PHONE not in MemorySmsSender.texts  # no template yet: the sender words it
    api.data("POST", f"{SMS}/create", {"code": "LOGIN", "name": "登录验证码",
                                       "description": "【PCloud】验证码 {code}，{minutes} 分钟内有效。"})
    api.data("POST", f"{SMS}/create", {"code": "OTHER", "name": "别的", "description": "别的 {code}"})
    app = anon.client.application
    app.config["PCLOUD_SMS_COOLDOWN_SECONDS"], cooldown = 0, app.config["PCLOUD_SMS_COOLDOWN_SECONDS"]
    try:
        assert anon.post("/api/oauth/sms/code", json={"phone": ADMIN_PHONE}).status_code == 200
    finally:
        app.config["PCLOUD_SMS_COOLDOWN_SECONDS"] = cooldown
    code = received_code(ADMIN_PHONE)
    minutes = max(1, app.config["PCLOUD_SMS_TTL_SECONDS"] // 60)
    assert MemorySmsSender.texts[ADMIN_PHONE] == f"【PCloud】验证码 {code}，{minutes} 分钟内有效。"
    # and the code it carries signs in
    resp = anon.post("/api/oauth/token", json={"phone": ADMIN_PHONE, "verifyCode": code, "grantType": "SMS"})
    assert resp.status_code == 200, resp.get_json()


def test_a_placeholder_the_sender_does_not_fill_is_refused(api: ApiClient, pages: PageClient) -> None:
    """A typo'd placeholder ({minute}, {Code}) was saved and went out as typed in every sign-in SMS ("{minute} 分钟内
    有效", a review): the text may hold only {code} and {minutes}; any other {name} is 422 on the text, naming it."""
    for typo in ("{minute}", "{Code}", "{ code }", "{expire}"):
        refused = api_error(api.post(f"{SMS}/create", {"code": "LOGIN", "name": "登录验证码",
                                                       "description": f"验证码 {{code}}，{typo} 分钟内有效"}), 422)
        assert typo in refused["msg"] and "{minutes}" in refused["msg"], typo
        assert refused["errors"] == {"description": [refused["msg"]]}
    login = api.data("POST", f"{SMS}/create", {"code": "LOGIN", "name": "登录验证码",
                                               "description": "【PCloud】验证码 {code}，{minutes} 分钟内有效"})
    api_error(api.put(f"{SMS}/modify", {"id": login, "description": "验证码 {code}，{minute} 分钟内有效"}), 422)
    resp = pages.submit(f"/personalized/sms/{login}/edit", data={
        "code": "LOGIN", "name": "登录验证码", "description": "验证码 {code}，{minute} 分钟内有效"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "{minute}" in html and "验证码 {code}，{minute} 分钟内有效</textarea>" in html
    assert api.post(f"{SMS}/page", {"code": "LOGIN"}).get_json()["data"][0]["description"] == \
        "【PCloud】验证码 {code}，{minutes} 分钟内有效"


def test_a_user_without_the_grant_is_refused(app: Any) -> None:
    from tests.factories import make_user, next_phone

    phone = next_phone()
    make_user(app, phone=phone, password="Passw0rd1")
    user = ApiClient(app.test_client())
    user.token = user.sign_in(phone, "Passw0rd1")
    api_error(user.post(f"{SMS}/page", {}), 403)
    api_error(user.post(f"{SMS}/create", {"code": "A", "name": "a", "description": "{code}"}), 403)


def test_only_an_admin_whose_data_scope_is_all_changes_a_template(api: ApiClient, app: Any) -> None:
    """Review (session 15): an admin of one department reworded the LOGIN template, so that the next sign-in
    code of every user, the super administrator's included, went out in a phishing text. The texts reach the
    whole company, as the settings do: 403 below the scope of all data, through the API and the pages, nothing
    changed; an admin whose scope is all data may."""
    from tests.factories import grant_role, make_dept, make_user, next_phone, route_code

    login = api.data("POST", f"{SMS}/create", {"code": "LOGIN", "name": "登录验证码", "description": "验证码 {code}"})
    role = api.data("POST", "/api/admin/role/create", {"name": "部门管理员", "roleCode": "ROLE_DEPT_SMS",
                                                       "dataScope": 4})
    grant_role(app, role, menu_paths=("/personalized", "/personalized/sms"), resource_codes=tuple(
        route_code(f"smstemplates_api.{name}", method) for name, method in (
            ("page", "POST"), ("create", "POST"), ("modify", "PUT"), ("delete", "DELETE"))))
    phone = next_phone()
    make_user(app, phone=phone, password="Passw0rd1", dept_id=make_dept(app, "甲部门"), role_ids=[role])
    scoped = ApiClient(app.test_client())
    scoped.token = scoped.sign_in(phone, "Passw0rd1")
    assert scoped.post(f"{SMS}/page", {}).get_json()["total"] == 1  # reading stays open
    phishing = "安全升级：请将验证码 {code} 回复至 10690000"
    for refused in (scoped.put(f"{SMS}/modify", {"id": login, "description": phishing}),
                    scoped.post(f"{SMS}/create", {"code": "LOGIN2", "name": "x", "description": phishing}),
                    scoped.delete(f"{SMS}/{login}/delete")):
        assert "全部数据" in api_error(refused, 403)["msg"]
    pages = PageClient(app.test_client())
    assert pages.sign_in(phone, "Passw0rd1").status_code == 302
    assert pages.submit(f"/personalized/sms/{login}/edit", data={
        "code": "LOGIN", "name": "登录验证码", "description": phishing}).status_code == 403
    deleted = pages.submit("/personalized/sms/", action=f"/personalized/sms/{login}/delete", follow_redirects=True)
    assert "全部数据" in deleted.get_data(as_text=True)  # flashed on the list, as every refused button
    (kept,) = api.post(f"{SMS}/page", {}).get_json()["data"]
    assert (kept["id"], kept["description"]) == (login, "验证码 {code}")
    api.data("PUT", "/api/admin/role/modify", {"id": role, "dataScope": 1})
    assert scoped.data("PUT", f"{SMS}/modify", {"id": login, "name": "登录短信"}) == login


def test_pages_create_edit_and_delete(pages: PageClient, app: Any) -> None:
    resp = pages.submit("/personalized/sms/new", data={"code": "LOGIN", "name": "登录验证码",
                                                        "description": "验证码 {code}"})
    assert resp.status_code == 302
    html = pages.get("/personalized/sms/").get_data(as_text=True)
    assert "登录验证码" in html and "验证码 {code}" in html
    refused = pages.submit("/personalized/sms/new", data={"code": "X", "name": "x", "description": "无占位符"})
    assert refused.status_code == 422 and "{code}" in refused.get_data(as_text=True)
    import re

    template_id = int(re.search(r'data-template-id="(\d+)"', html).group(1))
    resp = pages.submit(f"/personalized/sms/{template_id}/edit", data={"code": "LOGIN", "name": "登录短信",
                                                                     "description": "新的 {code}"})
    assert resp.status_code == 302 and "登录短信" in pages.get("/personalized/sms/").get_data(as_text=True)
    resp = pages.submit("/personalized/sms/", f"/personalized/sms/{template_id}/delete")
    assert resp.status_code == 302
    assert f'data-template-id="{template_id}"' not in pages.get("/personalized/sms/").get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# English (issue 24 item 10)

EN = {"Accept-Language": "en"}


def test_every_sms_template_page_in_english(english_pages: PageClient, api: ApiClient) -> None:
    english_pages.get("/")  # the sign-in's welcome, which names the administrator as named then, is shown
    english_page(english_pages, "/personalized/sms/?name=nothing-like-this")  # the empty state
    saved = english_pages.submit("/personalized/sms/new", data={"code": "HELLO", "name": "Greeting",
                                                                "description": "Code {code}"})
    assert saved.status_code == 302
    listing = english_page(english_pages, saved.headers["Location"])
    assert 'SMS template "Greeting" created' in listing and "Code {code}" in listing
    template_id = int(re.search(r'data-template-id="(\d+)"', listing).group(1))
    english_page(english_pages, "/personalized/sms/new")
    english_page(english_pages, f"/personalized/sms/{template_id}/edit")
    refused = english_form(english_pages.submit("/personalized/sms/new", data={
        "code": "X", "name": "x", "description": "no placeholder"}), 422)
    assert "The SMS text must contain the code placeholder {code}" in refused


def test_an_sms_template_refusal_in_english(api: ApiClient) -> None:
    api.data("POST", f"{SMS}/create", {"code": "DUP", "name": "d", "description": "{code}"})
    body = api_error(api.post(f"{SMS}/create", {"code": "DUP", "name": "d",
                                                                 "description": "{code}"}, headers=EN), 409)
    assert body["msg"] == "SMS code already exists"


def test_parallel_creates_and_recodes_into_one_template_code_keep_one(app: Any, api: ApiClient) -> None:
    """The house rule for a unique value (tests/conftest.py `assert_races_keep_one`): a live template's code."""
    from sqlalchemy import select

    from pcloud.extensions import db
    from pcloud.smstemplates.models import SmsTemplate
    from tests.conftest import assert_races_keep_one
    from tests.factories import query

    assert_races_keep_one(
        app, api.token,
        lambda n: ("POST", f"{SMS}/create", {"code": f"RACE_{n}", "name": "并发", "description": "验证码 {code}"}),
        lambda row, n: ("PUT", f"{SMS}/modify", {"id": row, "code": f"RACE_{n}"}),
        lambda n: "短信编码已存在",
        lambda: query(app, lambda: list(db.session.execute(select(SmsTemplate.code)
                                                           .where(SmsTemplate.deleted_at.is_(None))).scalars())))


def test_a_code_is_saved_and_looked_up_in_capitals(api: ApiClient, anon: ApiClient, pages: PageClient) -> None:
    """A review: a template saved as `login` was silently never used for the sign-in code, which the sender looks up
    as LOGIN, and `login` could live beside `LOGIN`. A code's letters a-z are saved in capitals (docs/API.md): `login`
    is LOGIN, it words the sign-in SMS, another `Login` (API or page, created or recoded) is the 409 of a taken code,
    and the list's code filter finds it whatever the case typed."""
    MemorySmsSender.texts.clear()
    login = api.data("POST", f"{SMS}/create", {"code": " login ", "name": "登录验证码", "description": "验证码 {code}"})
    other = api.data("POST", f"{SMS}/create", {"code": "reset_pwd", "name": "重置", "description": "重置 {code}"})
    listed = api.post(f"{SMS}/page", {"code": "log"}).get_json()["data"]
    assert [(t["id"], t["code"]) for t in listed] == [(login, "LOGIN")]
    assert [t["code"] for t in api.post(f"{SMS}/page", {"code": "PWD"}).get_json()["data"]] == ["RESET_PWD"]
    for call in (api.post(f"{SMS}/create", {"code": "Login", "name": "x", "description": "{code}"}),
                 api.put(f"{SMS}/modify", {"id": other, "code": "LOGIN"})):
        body = api_error(call, 409)
        assert body["errors"] == {"code": ["短信编码已存在"]}, body
    refused = pages.submit("/personalized/sms/new", data={"code": "loGIN", "name": "x", "description": "{code}"})
    assert refused.status_code == 409 and "短信编码已存在" in refused.get_data(as_text=True)
    assert api.post(f"{SMS}/page", {}).get_json()["total"] == 2
    assert anon.post("/api/oauth/sms/code", json={"phone": ADMIN_PHONE}).status_code == 200
    code = received_code(ADMIN_PHONE)
    assert MemorySmsSender.texts[ADMIN_PHONE] == f"验证码 {code}"  # the template saved as `login`
    assert api.data("PUT", f"{SMS}/modify", {"id": other, "code": "Reset_Pwd2"}) == other
    assert [t["code"] for t in api.post(f"{SMS}/page", {"code": "pwd2"}).get_json()["data"]] == ["RESET_PWD2"]


def test_parallel_creates_and_recodes_of_one_code_in_other_cases_keep_one(app: Any, api: ApiClient) -> None:
    """`race_1`, `RACE_1` and `Race_1` sent at once are one code: one template, the others the 409 of a taken code;
    two templates recoded at once into `race_5` and `RACE_5`, the same (SQLite and PostgreSQL)."""
    from sqlalchemy import select

    from pcloud.extensions import db
    from pcloud.smstemplates.models import SmsTemplate
    from tests.conftest import assert_one_won, race
    from tests.factories import query

    def create(code: str) -> tuple[str, str, Any]:
        return "POST", f"{SMS}/create", {"code": code, "name": "并发", "description": "验证码 {code}"}

    for n in range(3):
        assert_one_won(race(app, api.token, [create(f"race_{n}"), create(f"RACE_{n}"), create(f"Race_{n}")]),
                       "短信编码已存在")
    records = [api.data(*create(f"SEED_{n}")) for n in (1, 2)]
    for n in range(3, 6):
        assert_one_won(race(app, api.token, [("PUT", f"{SMS}/modify", {"id": records[0], "code": f"race_{n}"}),
                                             ("PUT", f"{SMS}/modify", {"id": records[1], "code": f"RACE_{n}"})]),
                       "短信编码已存在")
    codes = query(app, lambda: list(db.session.execute(select(SmsTemplate.code)
                                                       .where(SmsTemplate.deleted_at.is_(None))).scalars()))
    assert len(codes) == len(set(codes)) == 5 and all(c == c.upper() for c in codes), codes
    assert {"RACE_0", "RACE_1", "RACE_2", "RACE_5"} <= set(codes) <= {"RACE_0", "RACE_1", "RACE_2", "RACE_3", "RACE_4",
                                                                      "RACE_5", "SEED_1", "SEED_2"}, codes


def test_a_code_is_letters_digits_and_a_few_marks(api: ApiClient, pages: PageClient) -> None:
    """A code is the key a flow and a gateway name a template by: letters, digits, `_`, `-` and `.` (an allow-list,
    as for other keys). A code with a space, a Chinese word, a brace or a line break (which no flow could name and a
    gateway would refuse) is 422 on `code`, through the API and the page; the marks allowed are kept."""
    for code in ("LOG IN", "登录", "{code}", "LOGIN\nX", "LOGIN;", "Ｌ"):
        body = api_error(api.post(f"{SMS}/create", {"code": code, "name": "x", "description": "{code}"}), 422)
        assert list(body["errors"]) == ["code"] and "字母" in body["msg"], (code, body)
    kept = api.data("POST", f"{SMS}/create", {"code": "sms_1-2.3", "name": "x", "description": "{code}"})
    api_error(api.put(f"{SMS}/modify", {"id": kept, "code": "坏 编码"}), 422)
    refused = pages.submit("/personalized/sms/new", data={"code": "登录", "name": "x", "description": "{code}"})
    assert refused.status_code == 422 and "字母" in refused.get_data(as_text=True)
    assert [t["code"] for t in api.post(f"{SMS}/page", {}).get_json()["data"]] == ["SMS_1-2.3"]


def test_the_list_page_filters_by_name_and_code_through_the_api_s_rules(api: ApiClient, pages: PageClient) -> None:
    """短信模板's list read its one filter (name) by hand: no code filter though the code is what a flow names a
    template by and the API filters by it, and a refused value (too long, a NUL) was cut or dropped without a
    word. The page filters by name and code through the API's schema as every list does: a code in any case
    finds it, a refused filter is the red flash and 422 with the list still shown."""
    from html import unescape

    api.data("POST", f"{SMS}/create", {"code": "LOGIN", "name": "登录验证码", "description": "验证码 {code}"})
    api.data("POST", f"{SMS}/create", {"code": "RESET", "name": "重置密码", "description": "重置 {code}"})
    html = pages.get("/personalized/sms/?code=log").get_data(as_text=True)
    assert "登录验证码" in html and "重置密码" not in html and 'name="code"' in html
    for url, label in (("/personalized/sms/?name=%00", "短信名称"),
                       (f"/personalized/sms/?code={'X' * 65}", "短信编码")):
        resp = pages.get(url)
        html = unescape(resp.get_data(as_text=True))
        assert resp.status_code == 422 and f"筛选条件「{label}」" in html, url
        assert "登录验证码" in html and "重置密码" in html  # the list, without the refused filter
