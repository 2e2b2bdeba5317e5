"""参数设置 (issue 22 item 5): typed and validated run-time settings, the environment as default and read-only
where it sets them, effective in every process on the next request, every change logged with old and new
value; the sign-in lock, password policy, lifetimes, SMS limits, export cap, retentions and company name
obey them."""

from __future__ import annotations

import json
import re
import urllib.request
from html import unescape
from typing import Any

import pytest

from pcloud.params.service import CATALOGUE
from tests.conftest import (
    ADMIN_PASSWORD,
    ADMIN_PHONE,
    ApiClient,
    PageClient,
    api_error,
    english_form,
    english_page,
    last_action,
    set_language,
)
from tests.factories import make_user, next_phone

CONFIG = "/api/admin/config"
REQUIRED = ("sys.login.maxFailures", "sys.login.windowMinutes", "sys.login.lockMinutes", "sys.login.maxIpFailures",
            "sys.password.minLength", "sys.password.classes", "sys.session.webTtl", "sys.session.tokenTtl",
            "sys.sms.cooldownSeconds", "sys.sms.maxAttempts", "sys.export.maxRows", "sys.log.actionRetentionDays",
            "sys.log.loginRetentionDays", "sys.log.jobRetentionDays", "sys.company.name",
            "sys.password.changeAtFirstSignIn")


def test_the_page_lists_the_contract_settings_with_their_defaults(api: ApiClient, app: Any) -> None:
    body = api.post(f"{CONFIG}/page", {"pageSize": 100}).get_json()
    found = {p["key"]: p for p in body["data"]}
    assert set(REQUIRED) <= set(found) and body["total"] == len(CATALOGUE)
    lock = found["sys.login.maxFailures"]
    assert lock["value"] == lock["default"] == app.config["PCLOUD_LOGIN_MAX_FAILURES"]
    assert (lock["type"], lock["source"], lock["env"]) == ("int", "database", "PCLOUD_LOGIN_MAX_FAILURES")
    assert found["sys.password.changeAtFirstSignIn"]["value"] is False
    assert [c["value"] for c in found["sys.password.classes"]["choices"]][0] == "letter,digit"
    assert [p["key"] for p in api.post(f"{CONFIG}/page", {"key": "sms"}).get_json()["data"]] == [
        "sys.sms.ttlSeconds", "sys.sms.cooldownSeconds", "sys.sms.maxPerAddress", "sys.sms.maxAttempts"]


def test_modify_validates_by_type_and_range_and_logs_old_and_new(api: ApiClient, app: Any) -> None:
    assert api.data("PUT", f"{CONFIG}/modify", {"key": "sys.login.maxFailures", "value": 3})["value"] == 3
    lock = "参数「登录失败锁定次数」（sys.login.maxFailures）"
    assert last_action(app) == ("参数修改", "success", f"{lock}由「5」改为「3」")
    assert api.data("GET", f"{CONFIG}/sys.login.maxFailures")["value"] == 3
    for key, value in (("sys.login.maxFailures", 0), ("sys.login.maxFailures", "three"),
                       ("sys.login.maxFailures", True), ("sys.login.maxFailures", "-³"),
                       ("sys.password.classes", "letters"),
                       ("sys.password.changeAtFirstSignIn", "maybe"), ("sys.company.name", "x" * 65),
                       ("sys.company.name", "  ")):
        refused = api_error(api.put(f"{CONFIG}/modify", {"key": key, "value": value}), 422)
        assert "value" in refused["errors"], (key, value)
    api_error(api.put(f"{CONFIG}/modify", {"key": "sys.no.such", "value": 1}), 404)
    api_error(api.put(f"{CONFIG}/modify", {"key": "sys.company.name"}), 422)
    assert api.data("PUT", f"{CONFIG}/modify", {"key": "sys.password.changeAtFirstSignIn", "value": "true"})[
        "value"] is True
    # reset: back to the default, logged too
    assert api.data("POST", f"{CONFIG}/sys.login.maxFailures/reset")["value"] == 5
    assert last_action(app) == ("参数重置", "success", f"{lock}由「3」改为「5」")


def test_only_an_admin_whose_data_scope_is_all_changes_a_setting(api: ApiClient, app: Any) -> None:
    """A second review: an admin of one department lifted the sign-in lock (maxFailures 100) and cut the logs'
    retention to a day. Settings apply to the whole company: 403 below the scope of all data, through the API
    and the page, nothing stored; an admin whose scope is all data (ROLE_ADMIN's) may."""
    from tests.factories import grant_role, make_dept, route_code

    dept = make_dept(app, "甲部门")
    role = api.data("POST", "/api/admin/role/create", {"name": "部门管理员", "roleCode": "ROLE_DEPT_ADMIN",
                                                       "dataScope": 4})
    grant_role(app, role, menu_paths=("/system", "/system/config"), resource_codes=(
        route_code("params_api.modify", "PUT"), route_code("params_api.reset", "POST"),
        route_code("params_api.page", "POST")))
    phone = next_phone()
    make_user(app, phone=phone, password="Passw0rd1", dept_id=dept, role_ids=[role])
    scoped = ApiClient(app.test_client())
    scoped.token = scoped.sign_in(phone, "Passw0rd1")
    for key, value in (("sys.login.maxFailures", 100), ("sys.log.actionRetentionDays", 1),
                       ("sys.password.minLength", 6), ("sys.company.name", "别家")):
        api_error(scoped.put(f"{CONFIG}/modify", {"key": key, "value": value}), 403)
    api_error(scoped.post(f"{CONFIG}/sys.login.maxFailures/reset"), 403)
    pages = PageClient(app.test_client())
    assert pages.sign_in(phone, "Passw0rd1").status_code == 302
    assert pages.submit("/system/config/sys.login.maxFailures/edit", data={"value": "100"}).status_code == 403
    assert api.data("GET", f"{CONFIG}/sys.login.maxFailures")["value"] == 5
    api.data("PUT", "/api/admin/role/modify", {"id": role, "dataScope": 1})
    assert scoped.data("PUT", f"{CONFIG}/modify", {"key": "sys.login.maxFailures", "value": 6})["value"] == 6


def test_a_setting_the_environment_sets_is_read_only(api: ApiClient, app: Any, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "PCLOUD_SET_BY_ENVIRONMENT", frozenset({"PCLOUD_EXPORT_MAX_ROWS"}))
    item = api.data("GET", f"{CONFIG}/sys.export.maxRows")
    assert item["source"] == "environment"
    refused = api_error(api.put(f"{CONFIG}/modify", {"key": "sys.export.maxRows", "value": 10}), 409)
    assert "PCLOUD_EXPORT_MAX_ROWS" in refused["msg"]
    api_error(api.post(f"{CONFIG}/sys.export.maxRows/reset"), 409)
    assert last_action(app)[:2] == ("参数重置", "fail")


def test_the_sign_in_lock_obeys_the_parameter(api: ApiClient, app: Any) -> None:
    phone = next_phone()
    make_user(app, phone=phone, password="Passw0rd1")
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.login.maxFailures", "value": 2})
    anon = ApiClient(app.test_client())
    statuses = [anon.post("/api/oauth/token", json={"phone": phone, "password": "wrong-1", "grantType": "ADMIN"})
                .status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_the_password_policy_obeys_the_parameters(api: ApiClient) -> None:
    user = {"phone": next_phone(), "name": "策略", "password": "abc12345"}
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.password.minLength", "value": 10})
    refused = api_error(api.post("/api/admin/system/user/create", user), 422)
    assert refused["msg"] == "密码至少 10 位，且须同时包含字母和数字"
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.password.classes", "value": "upper,lower,digit,symbol"})
    refused = api_error(api.post("/api/admin/system/user/create", {**user, "password": "abcdefgh1234"}), 422)
    assert refused["msg"] == "密码至少 10 位，且须同时包含大写字母、小写字母、数字和符号"
    assert api.data("POST", "/api/admin/system/user/create", {**user, "password": "Abcdefg12#x"})


def test_the_password_hints_say_the_policy_of_the_parameters(api: ApiClient, pages: Any) -> None:
    """A browser review: with 密码最小长度 set to 6, 个人中心 (and the forced first-sign-in change) still hinted
    至少 8 位，须同时包含字母和数字 under 新密码, as did the user form: written into the templates. They say
    参数设置's."""
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.password.minLength", "value": 10})
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.password.classes", "value": "upper,lower,digit,symbol"})
    rule = "至少 10 位，须同时包含大写字母、小写字母、数字和符号"
    for path in ("/profile", "/system/user/new", "/system/user/1/edit"):
        html = pages.get(path).get_data(as_text=True)
        assert rule in html and "至少 8 位" not in html, path
    assert f"留空则不修改密码；{rule}" in pages.get("/system/user/1/edit").get_data(as_text=True)


def test_my_password_change_obeys_the_minimum_length_parameter(api: ApiClient, pages: Any) -> None:
    """A browser review: with 密码最小长度 set to 6, 个人中心 refused the new password Abc1234 (7 characters, the
    policy's letters and digits) with 密码长度 8 到 72 位, a minimum of its own; and with the length set to 10, a
    9-character one was told the policy only once the form's other fields were right. The form says the policy."""
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.password.minLength", "value": 10})
    resp = pages.submit("/profile", data={"which": "password", "pw-old_password": ADMIN_PASSWORD,
                                          "pw-new_password": "Abc123456", "pw-confirm_password": "Abc1234567"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "密码至少 10 位，且须同时包含字母和数字" in html
    assert "两次输入的密码不一致" in html
    assert "密码长度 8 到 72 位" not in html
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.password.minLength", "value": 6})
    resp = pages.submit("/profile", data={"which": "password", "pw-old_password": ADMIN_PASSWORD,
                                          "pw-new_password": "Abc1234", "pw-confirm_password": "Abc1234"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert "密码已修改" in pages.get(resp.headers["Location"]).get_data(as_text=True)


def test_lifetimes_export_cap_and_company_name_obey_the_parameters(api: ApiClient, app: Any) -> None:
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.session.tokenTtl", "value": 600})
    anon = ApiClient(app.test_client())
    signed = anon.post("/api/oauth/token", json={"phone": ADMIN_PHONE, "password": "Admin12345",
                                                 "grantType": "ADMIN"}).get_json()["data"]
    assert signed["expiresIn"] == 600
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.export.maxRows", "value": 1})
    make_user(app)
    make_user(app)
    refused = api_error(api.post("/api/admin/system/user/download", {}), 422)
    assert "上限" in refused["msg"]
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.company.name", "value": "示例集团"})
    with app.app_context():
        from pcloud.actionlog.service import retention_days
        from pcloud.depts.service import single_root
        from pcloud.loginlog.service import retention_days as login_days

        assert single_root([{"id": 1}, {"id": 2}])["name"] == "示例集团"
        assert retention_days() == app.config["PCLOUD_ACTION_LOG_RETENTION_DAYS"]
        assert login_days() == app.config["PCLOUD_LOGIN_LOG_RETENTION_DAYS"]
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.log.loginRetentionDays", "value": 30})
    with app.app_context():
        assert login_days() == 30


def test_another_process_obeys_a_change_on_its_next_request(api: ApiClient, live_server: Any) -> None:
    def value_there() -> Any:
        req = urllib.request.Request(f"{live_server.url}{CONFIG}/sys.company.name",
                                     headers={"Authorization": f"Bearer {api.token}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())["data"]["value"]

    for _ in range(4):
        assert value_there() == "公司"
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.company.name", "value": "另一家公司"})
    for _ in range(4):
        assert value_there() == "另一家公司"


def test_pages_edit_and_reset(pages: PageClient, app: Any, monkeypatch: Any) -> None:
    listing = unescape(pages.get("/system/config/").get_data(as_text=True))
    assert "登录失败锁定次数" in listing and "/system/config/sys.login.maxFailures/edit" in listing
    refused = pages.submit("/system/config/sys.login.maxFailures/edit", data={"value": "1000"})
    assert refused.status_code == 422 and "须在 1 到 100 之间" in unescape(refused.get_data(as_text=True))
    saved = pages.submit("/system/config/sys.login.maxFailures/edit", data={"value": "7"})
    assert saved.status_code == 302
    listing = unescape(pages.get("/system/config/").get_data(as_text=True))
    assert "由「5」改为「7」" in listing and "恢复默认" in listing
    choice = pages.get("/system/config/sys.password.changeAtFirstSignIn/edit").get_data(as_text=True)
    assert '<option selected value="false">否</option>' in choice
    token = pages.get("/system/config/").get_data(as_text=True)
    from tests.conftest import csrf_from

    reset = pages.client.post("/system/config/sys.login.maxFailures/reset", data={"csrf_token": csrf_from(token)})
    assert reset.status_code == 302
    assert "由「7」改为「5」" in unescape(pages.get("/system/config/").get_data(as_text=True))
    # saved as it was: said so, not "changed from 5 to 5" (a browser review), in the flash and the operation log
    same = pages.submit("/system/config/sys.login.maxFailures/edit", data={"value": "5"})
    assert same.status_code == 302
    listing = unescape(pages.get("/system/config/").get_data(as_text=True))
    assert "（sys.login.maxFailures）未改变，仍为「5」" in listing and "由「5」改为「5」" not in listing
    assert last_action(app) == ("参数修改", "success",
                                "参数「登录失败锁定次数」（sys.login.maxFailures）未改变，仍为「5」")
    monkeypatch.setitem(app.config, "PCLOUD_SET_BY_ENVIRONMENT", frozenset({"PCLOUD_LOGIN_MAX_FAILURES"}))
    listing = unescape(pages.get("/system/config/").get_data(as_text=True))
    assert "/system/config/sys.login.maxFailures/edit" not in listing and "环境变量" in listing
    assert pages.submit("/system/config/sys.login.maxFailures/edit", "/system/config/sys.login.maxFailures/edit",
                        data={"value": "4"}).status_code == 409


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_default_is_valid_by_its_own_rule(app: Any, key: str) -> None:
    from pcloud.params.service import default, parse

    with app.app_context():
        d = CATALOGUE[key]
        assert parse(d, default(d)) == default(d)


def test_two_change_signals_on_one_engine_each_count_this_process_s_own_commit(app: Any) -> None:
    """The principal cache's signal and the settings' listen on one engine: a commit of this process moves both
    at once (each keeps its own flag on the connection; before, the first listener took the other's)."""
    from sqlalchemy import update

    from pcloud.core.database import PostgresNotifications
    from pcloud.extensions import db
    from pcloud.params.models import SettingVersion
    from tests.conftest import is_postgres

    if not is_postgres():
        pytest.skip("own-commit counting is the PostgreSQL signal's; SQLite's data version moves by itself")
    with app.app_context():
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        first = PostgresNotifications(url, "pcloud_test_a", db.engine)
        second = PostgresNotifications(url, "pcloud_test_b", db.engine)
        before = (first.current(), second.current())
        with db.engine.begin() as conn:  # an ORM-made statement, as the services write
            conn.execute(update(SettingVersion).where(SettingVersion.id == 1).values(version=SettingVersion.version))
        after = (first.current(), second.current())
        assert after[0] != before[0] and after[1] != before[1]


# ---------------------------------------------------------------------------------------------
# English (issue 24 item 10): the settings' names, remarks and choices; the operation log as it was

EN = {"Accept-Language": "en"}


def test_every_parameter_page_in_english(english_pages: PageClient, app: Any, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "PCLOUD_COMPANY_NAME", "ACME")  # the deployment's default: data
    english_pages.get("/")  # the sign-in's welcome, which names the administrator as named then, is shown
    listing = english_page(english_pages, "/system/config/")
    assert "Failed sign-ins before lock" in listing and "Letters and digits" in listing
    english_page(english_pages, "/system/config/?name=nothing-like-this")  # the empty state
    assert "Failed sign-ins" in english_page(english_pages, "/system/config/?name=failed")  # by its English name
    for key in CATALOGUE:
        english_page(english_pages, f"/system/config/{key}/edit")
    hint = english_page(english_pages, "/system/config/sys.password.minLength/edit")
    # a space between the range, the remark and the last sentence, each a sentence of its own
    assert re.search(r"From 6 to \d+\. The fewest characters a new password may have \(at most 72\)\. Takes effect",
                     hint), hint
    choice = english_page(english_pages, "/system/config/sys.password.changeAtFirstSignIn/edit")
    assert '<option selected value="false">No</option>' in choice
    refused = english_pages.submit("/system/config/sys.login.maxFailures/edit", data={"value": "1000"})
    assert '"Failed sign-ins before lock" must be between 1 and 100' in english_form(refused, 422)
    saved = english_pages.submit("/system/config/sys.password.classes/edit", data={"value": "letter,digit,symbol"})
    assert saved.status_code == 302
    listing = english_page(english_pages, saved.headers["Location"])
    assert ('Parameter "Characters a password must include" (sys.password.classes) changed from '
            '"Letters and digits" to "Letters, digits and symbols"') in listing
    # the operation log keeps the change for each reader to read in their own language (an English page read it in
    # Chinese): the name and the values too
    assert last_action(app) == ("参数修改", "success",
                                "参数「密码须包含的字符」（sys.password.classes）由「字母和数字」改为「字母、数字和符号」")
    log = english_page(english_pages, "/system/log/")
    assert ('Parameter "Characters a password must include" (sys.password.classes) changed from '
            '"Letters and digits" to "Letters, digits and symbols"') in log


def test_parameters_and_their_refusals_in_english_through_the_api(api: ApiClient, app: Any) -> None:
    item = api.call("GET", f"{CONFIG}/sys.password.classes", headers=EN).get_json()["data"]
    assert item["name"] == "Characters a password must include"
    assert item["remark"] == "The kinds of characters a new password must all include"
    assert {"value": "letter,digit", "label": "Letters and digits"} in item["choices"]
    assert api.data("GET", f"{CONFIG}/sys.password.classes")["name"] == "密码须包含的字符"  # the default language
    body = api_error(api.put(f"{CONFIG}/modify", {"key": "sys.login.maxFailures", "value": 0}, headers=EN), 422)
    assert body["msg"] == '"Failed sign-ins before lock" must be between 1 and 100'
    api.data("PUT", f"{CONFIG}/modify", {"key": "sys.password.minLength", "value": 10})
    refused = api_error(api.post("/api/admin/system/user/create", {
        "phone": next_phone(), "name": "Short", "password": "abc1"}, headers=EN), 422)
    assert "The password must have at least 10 characters and include letters and digits" in str(refused)


def test_parallel_first_changes_of_one_parameter_keep_one_row(app: Any, api: ApiClient) -> None:
    """A parameter never set before is stored by an insert: two administrators setting it at once both race to
    insert the key (unique). Each save is as good as the other, as for a parameter set before: both 200, one
    row, holding one of the two values."""
    from sqlalchemy import select

    from pcloud.extensions import db
    from pcloud.params.models import Parameter
    from tests.conftest import race
    from tests.factories import query

    for n, key in enumerate(("sys.login.maxFailures", "sys.login.lockMinutes", "sys.company.name")):
        values = [7, 8] if key != "sys.company.name" else ["甲", "乙"]
        answers = race(app, api.token, [("PUT", f"{CONFIG}/modify", {"key": key, "value": v}) for v in values])
        assert [code for code, _ in answers] == [200, 200], (n, answers)
        stored = query(app, lambda key=key: list(db.session.execute(
            select(Parameter.config_value).where(Parameter.config_key == key)).scalars()))
        assert len(stored) == 1, stored
        assert api.data("GET", f"{CONFIG}/{key}")["value"] in values


def test_the_edit_pages_hint_is_punctuated_sentences(pages: PageClient) -> None:
    """The hint under 参数值 ran the parameter's remark into the next sentence (新密码必须同时包含的字符种类
    保存后各进程…, and in English "From 60 to 3600. (takes effect …)", a browser review): each part is a sentence."""
    def hint(key: str) -> str:
        html = pages.get(f"/system/config/{key}/edit").get_data(as_text=True)
        found = re.search(r'<div[^>]*form-text[^>]*>(.*?)</div>', html, re.S)
        assert found, key
        return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())

    assert hint("sys.password.classes") == "新密码必须同时包含的字符种类。保存后各进程在下一次请求即生效。"
    assert hint("sys.login.maxFailures") == ("取值 1 到 100。同一手机号或 secureId 在统计窗口内失败达到该次数即锁定。"
                                             "保存后各进程在下一次请求即生效。")
    assert hint("sys.sms.ttlSeconds") == "取值 60 到 3600。保存后各进程在下一次请求即生效。"
    set_language(pages.client, "en")
    assert hint("sys.sms.ttlSeconds") == "From 60 to 3600. Takes effect in every process from its next request."
    assert hint("sys.password.classes").endswith("must all include. Takes effect in every process from its next "
                                                 "request.")
