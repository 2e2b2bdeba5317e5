"""基础服务: sign-in by password and SMS code, the login lock, sign-out, adminInfo, the sign-in page."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from pcloud.actionlog.models import ActionLog
from pcloud.core.database import LISTENER_NAME
from pcloud.extensions import db
from pcloud.sessions.models import UserSession
from tests.conftest import (
    ADMIN_PASSWORD,
    ADMIN_PHONE,
    ApiClient,
    api_error,
    assert_refused,
    chinese_on_page,
    is_postgres,
    statements_seen,
)
from tests.factories import make_user, query, route_code
from tests.sms_file import MemorySmsSender, received_code


def token_call(anon: ApiClient, **body: Any) -> Any:
    return anon.post("/api/oauth/token", json=body)


def test_password_sign_in_answers_token_and_profile(anon: ApiClient, app: Any) -> None:
    resp = token_call(anon, phone=ADMIN_PHONE, password=ADMIN_PASSWORD, grantType="admin")
    body = resp.get_json()
    assert resp.status_code == 200 and body["code"] == 200 and body["total"] == 0
    assert body["data"]["tokenHead"] == "Bearer " and body["data"]["expiresIn"] > 0
    assert body["data"]["profile"]["phone"] == ADMIN_PHONE
    token = body["data"]["token"]
    stored = query(app, lambda: [s.token_hash for s in app.extensions["sqlalchemy"].session.execute(
        select(UserSession)).scalars()])
    assert len(stored) == 1 and token not in stored[0]  # only a hash is kept


def test_wrong_password_and_unknown_phone_get_the_same_401(anon: ApiClient) -> None:
    wrong = token_call(anon, phone=ADMIN_PHONE, password="nope12345", grantType="ADMIN")
    unknown = token_call(anon, phone="13911112222", password="nope12345", grantType="ADMIN")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["msg"] == unknown.get_json()["msg"]


def test_missing_or_unknown_grant_type_is_422_listing_valid_values(anon: ApiClient) -> None:
    for body in ({"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD},
                 {"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD, "grantType": "magic"}):
        resp = token_call(anon, **body)
        assert resp.status_code == 422
        assert "ADMIN" in resp.get_json()["errors"]["grantType"][0]


def test_missing_password_is_422_naming_the_field(anon: ApiClient) -> None:
    resp = token_call(anon, phone=ADMIN_PHONE, grantType="ADMIN")
    assert resp.status_code == 422 and "password" in resp.get_json()["errors"]


def test_open_grant_missing_secure_id_or_key_is_422_naming_the_field(app: Any, anon: ApiClient) -> None:
    """As ADMIN without `password` and SMS without `verifyCode`: a required field left out is 422 naming it
    (API.md: 422 field validation failed). OPEN answered 401 `secureId 或 secureKey 错误`, as for a wrong key,
    and counted it against the secureId and the address."""
    _account_id, secure_id, key = _open_account(app)
    for body, field in (({"secureId": secure_id}, "secureKey"), ({"secureKey": key}, "secureId"),
                        ({"secureId": "", "secureKey": key}, "secureId")):
        resp = token_call(anon, grantType="OPEN", **body)
        assert resp.status_code == 422 and field in resp.get_json()["errors"], resp.get_json()
    for _ in range(app.config["PCLOUD_LOGIN_MAX_FAILURES"]):
        assert token_call(anon, secureId=secure_id, grantType="OPEN").status_code == 422
    assert token_call(anon, secureId=secure_id, secureKey=key, grantType="OPEN").status_code == 200  # not locked


def test_disabled_user_is_refused_with_403(anon: ApiClient, app: Any) -> None:
    make_user(app, phone="13900000011", password="Passw0rd1", state=1)
    resp = token_call(anon, phone="13900000011", password="Passw0rd1", grantType="ADMIN")
    assert resp.status_code == 403


def test_five_failures_lock_the_phone_even_for_the_right_password(anon: ApiClient) -> None:
    for _ in range(5):
        assert token_call(anon, phone=ADMIN_PHONE, password="wrong1234", grantType="ADMIN").status_code == 401
    locked = token_call(anon, phone=ADMIN_PHONE, password=ADMIN_PASSWORD, grantType="ADMIN")
    assert locked.status_code == 429 and "锁定" in locked.get_json()["msg"]


def _last_three_in_english(anon: ApiClient, **body: Any) -> list[str]:
    """The messages of the last three of five wrong sign-ins of `body` asked in English: the lock's warnings."""
    answers = [anon.post("/api/oauth/token", json=body, headers={"Accept-Language": "en"}).get_json()["msg"]
               for _ in range(5)]
    return answers[2:]


def test_a_wrong_password_says_how_many_tries_are_left_alike_for_an_unknown_phone(app: Any, anon: ApiClient) -> None:
    """Every wrong password said only 手机号或密码错误 and the fifth locked the phone without warning: once two
    tries are left it says how many, and the one that locks says so, for a phone nobody has the same as for
    a user's (the count is the typed phone's), in both languages and on the sign-in page."""
    from tests.conftest import PageClient
    from tests.factories import next_phone

    known = next_phone()
    make_user(app, phone=known, password="Passw0rd1")
    expected = ["手机号或密码错误", "手机号或密码错误", "手机号或密码错误，再错 2 次将锁定 15 分钟",
                "手机号或密码错误，再错 1 次将锁定 15 分钟", "手机号或密码错误，账号已锁定，请 15 分钟后再试"]
    for phone in (known, next_phone()):
        answers = [token_call(anon, phone=phone, password="wrong1234", grantType="ADMIN") for _ in range(5)]
        assert [a.status_code for a in answers] == [401] * 5
        assert [a.get_json()["msg"] for a in answers] == expected
        locked = token_call(anon, phone=phone, password="Passw0rd1", grantType="ADMIN")
        assert locked.status_code == 429
    assert _last_three_in_english(anon, phone=next_phone(), password="wrong1234", grantType="ADMIN") == [
        "Wrong phone or password (attempts left before a 15-minute lock: 2)",
        "Wrong phone or password (attempts left before a 15-minute lock: 1)",
        "Wrong phone or password: the account is locked, try again in 15 minutes"]
    page_phone = next_phone()
    for _ in range(3):
        page = PageClient(app.test_client()).sign_in(page_phone, "wrong-pass-1")
    assert page.status_code == 401 and "手机号或密码错误，再错 2 次将锁定 15 分钟" in page.get_data(as_text=True)


def test_a_wrong_sms_code_says_how_many_tries_are_left_alike_for_an_unknown_phone(app: Any, anon: ApiClient,
                                                                                  monkeypatch: Any) -> None:
    """A wrong code said only 验证码错误或已过期，请重新获取 until the phone's lock (which it shares with the password)
    fell without warning: it warns as a wrong password does, in its own words, for a phone nobody has the same as
    for a user's, in both languages and on the sign-in page's SMS tab; the login log stores the sentence."""
    from pcloud.core.i18n import said
    from tests.conftest import PageClient, csrf_from
    from tests.factories import next_phone

    monkeypatch.setitem(app.config, "PCLOUD_SMS_COOLDOWN_SECONDS", 0)
    known = next_phone()
    make_user(app, phone=known)
    expected = ["验证码错误或已过期，请重新获取", "验证码错误或已过期，请重新获取",
                "验证码错误或已过期，再错 2 次将锁定 15 分钟", "验证码错误或已过期，再错 1 次将锁定 15 分钟",
                "验证码错误或已过期，账号已锁定，请 15 分钟后再试"]
    for phone in (known, next_phone()):
        assert anon.post("/api/oauth/sms/code", json={"phone": phone}).status_code == 200
        code = received_code(phone) if phone == known else "123456"
        wrong = "000000" if code != "000000" else "111111"
        answers = [token_call(anon, phone=phone, verifyCode=wrong, grantType="SMS") for _ in range(5)]
        assert [a.status_code for a in answers] == [401] * 5
        assert [a.get_json()["msg"] for a in answers] == expected
        assert token_call(anon, phone=phone, verifyCode=code, grantType="SMS").status_code == 429
    from pcloud.loginlog.models import LoginLog

    reasons = query(app, lambda: list(db.session.execute(select(LoginLog.reason).where(LoginLog.phone == known)
                                                         .order_by(LoginLog.id)).scalars()))
    assert reasons[2:5] == [said("验证码错误或已过期，再错 %(left)s 次将锁定 %(minutes)s 分钟", left=2, minutes=15),
                            said("验证码错误或已过期，再错 %(left)s 次将锁定 %(minutes)s 分钟", left=1, minutes=15),
                            said("验证码错误或已过期，账号已锁定，请 %(minutes)s 分钟后再试", minutes=15)]
    assert _last_three_in_english(anon, phone=next_phone(), verifyCode="123456", grantType="SMS") == [
        "Wrong or expired code (attempts left before a 15-minute lock: 2)",
        "Wrong or expired code (attempts left before a 15-minute lock: 1)",
        "Wrong or expired code: the account is locked, try again in 15 minutes"]
    browser, page_phone = PageClient(app.test_client()), next_phone()
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    for _ in range(3):
        page = browser.client.post("/login?tab=sms", data={"sms-csrf_token": token, "sms-phone": page_phone,
                                                           "sms-verify_code": "123456"})
    assert page.status_code == 401 and "验证码错误或已过期，再错 2 次将锁定 15 分钟" in page.get_data(as_text=True)


def test_a_wrong_secure_key_says_how_many_tries_are_left_alike_for_an_unknown_secure_id(app: Any,
                                                                                        anon: ApiClient) -> None:
    """The OPEN grant's wrong key said only secureId 或 secureKey 错误 until the secureId's lock fell without warning:
    it warns as a wrong password does, for a secureId no account has the same as for an account's (the count is
    the typed secureId's), in both languages; the login log stores the sentence."""
    from pcloud.core.i18n import said

    _account_id, secure_id, key = _open_account(app)
    expected = [OPEN_REFUSED, OPEN_REFUSED, "secureId 或 secureKey 错误，再错 2 次将锁定 15 分钟",
                "secureId 或 secureKey 错误，再错 1 次将锁定 15 分钟",
                "secureId 或 secureKey 错误，账号已锁定，请 15 分钟后再试"]
    for sid in (secure_id, "op_000000000000000000000001"):
        answers = [token_call(anon, secureId=sid, secureKey=f"wrong-{i}", grantType="OPEN") for i in range(5)]
        assert [a.status_code for a in answers] == [401] * 5
        assert [a.get_json()["msg"] for a in answers] == expected
        assert token_call(anon, secureId=sid, secureKey=key, grantType="OPEN").status_code == 429
    from pcloud.loginlog.models import LoginLog

    reasons = query(app, lambda: list(db.session.execute(select(LoginLog.reason).where(LoginLog.phone == secure_id)
                                                         .order_by(LoginLog.id)).scalars()))
    assert reasons[2] == said("secureId 或 secureKey 错误，再错 %(left)s 次将锁定 %(minutes)s 分钟", left=2, minutes=15)
    assert reasons[4] == said("secureId 或 secureKey 错误，账号已锁定，请 %(minutes)s 分钟后再试", minutes=15)
    assert _last_three_in_english(anon, secureId="op_english", secureKey="k", grantType="OPEN") == [
        "Wrong secureId or secureKey (attempts left before a 15-minute lock: 2)",
        "Wrong secureId or secureKey (attempts left before a 15-minute lock: 1)",
        "Wrong secureId or secureKey: the account is locked, try again in 15 minutes"]


# The address's lock warns as the key's does: each grant's wrong secret, in its own first words (plain, near, locking).
_ADDRESS_WORDS = {"ADMIN": ("手机号或密码错误", "手机号或密码错误", "Wrong phone or password"),
                  "SMS": ("验证码错误或已过期，请重新获取", "验证码错误或已过期", "Wrong or expired code"),
                  "OPEN": ("secureId 或 secureKey 错误", "secureId 或 secureKey 错误", "Wrong secureId or secureKey")}


def _wrong_from(app: Any, address: str, grant: str, keys: list[str], language: str = "zh-CN") -> list[Any]:
    """One wrong secret of each key typed (a phone, a secureId) through `grant`, all from `address`: the answers."""
    caller = ApiClient(app.test_client())
    caller.client.environ_base["REMOTE_ADDR"] = address
    wrong = {"ADMIN": lambda i: {"password": f"Wrong{i}pass"}, "SMS": lambda i: {"verifyCode": "000000"},
             "OPEN": lambda i: {"secureKey": f"wrong-{i}"}}[grant]
    typed = "secureId" if grant == "OPEN" else "phone"
    return [caller.post("/api/oauth/token", json={typed: key, "grantType": grant, **wrong(i)},
                        headers={"Accept-Language": language}) for i, key in enumerate(keys)]


@pytest.mark.parametrize("grant", ["ADMIN", "SMS", "OPEN"])
def test_a_wrong_secret_near_the_addresss_lock_says_so_alike_for_known_and_unknown_keys(app: Any, monkeypatch: Any,
                                                                                        grant: str) -> None:
    """A review: the client address's lock (参数设置 sys.login.maxIpFailures) fell with no warning, each wrong secret
    typed for another phone or secureId saying only its plain refusal, the next sign-in from there 429. Now a wrong
    password, SMS code or secureKey warns of the address's lock as of the key's, in its own first words: two tries
    left, one, and the failure that locks the address; then any sign-in from it is refused. Keys that exist (users,
    accounts; the SMS codes sent) and keys nobody has answer alike, in both languages; the login log stores the
    sentence."""
    from pcloud.core.i18n import said
    from pcloud.loginlog.models import LoginLog
    from tests.factories import next_phone

    monkeypatch.setitem(app.config, "PCLOUD_LOGIN_MAX_IP_FAILURES", 6)
    monkeypatch.setitem(app.config, "PCLOUD_SMS_COOLDOWN_SECONDS", 0)
    plain, first, english = _ADDRESS_WORDS[grant]
    if grant == "OPEN":
        known = [_open_account(app, f"订单系统{i}")[1] for i in range(6)]
        unknown = [f"op_00000000000000000000000{i}" for i in range(6)]
    else:
        known, unknown = [next_phone() for _ in range(6)], [next_phone() for _ in range(6)]
        for phone in known:
            make_user(app, phone=phone, password="Passw0rd1")
    if grant == "SMS":  # a code sent to each (from elsewhere), none of them 000000
        sender = ApiClient(app.test_client())
        sender.client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
        for phone in known + unknown:
            assert sender.post("/api/oauth/sms/code", json={"phone": phone}).status_code == 200
        assert all(received_code(phone) != "000000" for phone in known)
    expected = [plain] * 3 + [f"{first}，该地址再错 2 次将锁定 15 分钟", f"{first}，该地址再错 1 次将锁定 15 分钟",
                              f"{first}，该地址已锁定，请 15 分钟后再试"]
    for address, keys in (("10.1.0.1", known), ("10.1.0.2", unknown)):
        answers = _wrong_from(app, address, grant, keys)
        assert [(a.status_code, a.get_json()["msg"]) for a in answers] == [(401, m) for m in expected], address
        locked = _wrong_from(app, address, grant, [next_phone() if grant != "OPEN" else "op_next"])[0]
        assert locked.status_code == 429 and "该地址登录失败次数过多" in locked.get_json()["msg"]
    reasons = query(app, lambda: list(db.session.execute(select(LoginLog.reason).where(LoginLog.client_ip == "10.1.0.1")
                                                         .order_by(LoginLog.id)).scalars()))
    assert reasons[3:6] == [said(f"{first}，该地址再错 %(left)s 次将锁定 %(minutes)s 分钟", left=2, minutes=15),
                            said(f"{first}，该地址再错 %(left)s 次将锁定 %(minutes)s 分钟", left=1, minutes=15),
                            said(f"{first}，该地址已锁定，请 %(minutes)s 分钟后再试", minutes=15)]
    keys = [f"op_english{i}" for i in range(6)] if grant == "OPEN" else [next_phone() for _ in range(6)]
    assert [a.get_json()["msg"] for a in _wrong_from(app, "10.1.0.3", grant, keys, "en")][3:] == [
        f"{english} (attempts left from this address before a 15-minute lock: 2)",
        f"{english} (attempts left from this address before a 15-minute lock: 1)",
        f"{english}: this address is locked, try again in 15 minutes"]


def test_the_sign_in_page_warns_of_the_addresss_lock_on_both_tabs(app: Any, monkeypatch: Any) -> None:
    """The sign-in page says the address's warning as the API does, on the password tab and the SMS tab."""
    from tests.conftest import PageClient, csrf_from
    from tests.factories import next_phone

    monkeypatch.setitem(app.config, "PCLOUD_LOGIN_MAX_IP_FAILURES", 4)
    browser = PageClient(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = "10.2.0.1"
    for _ in range(2):
        page = browser.sign_in(next_phone(), "wrong-pass-1")
    assert page.status_code == 401 and "手机号或密码错误，该地址再错 2 次将锁定 15 分钟" in page.get_data(as_text=True)
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    for _ in range(2):
        page = browser.client.post("/login?tab=sms", data={"sms-csrf_token": token, "sms-phone": next_phone(),
                                                           "sms-verify_code": "123456"})
    assert page.status_code == 401
    assert "验证码错误或已过期，该地址已锁定，请 15 分钟后再试" in page.get_data(as_text=True)


def test_when_both_locks_are_near_the_nearer_is_said(app: Any, monkeypatch: Any) -> None:
    """A wrong secret near both its key's lock and its address's says the one that falls first (the key's when they
    fall together), and a wrong old password of a password change, which counts against both, says it too."""
    from tests.factories import next_phone

    monkeypatch.setitem(app.config, "PCLOUD_LOGIN_MAX_IP_FAILURES", 6)
    phone = next_phone()
    make_user(app, phone=phone, password="Passw0rd1")
    # two other phones first: the address (6) is then nearer than the phone (5)
    answers = [a.get_json()["msg"] for a in _wrong_from(app, "10.3.0.1", "ADMIN", [next_phone(), next_phone()]
                                                        + [phone] * 4)]
    assert answers[2:] == ["手机号或密码错误", "手机号或密码错误，该地址再错 2 次将锁定 15 分钟",
                           "手机号或密码错误，该地址再错 1 次将锁定 15 分钟",
                           "手机号或密码错误，该地址已锁定，请 15 分钟后再试"]
    # one phone only: its lock (5) falls first, the address's (6) one try further; and with both at 5, together
    phone_first = ["手机号或密码错误，再错 2 次将锁定 15 分钟", "手机号或密码错误，再错 1 次将锁定 15 分钟",
                   "手机号或密码错误，账号已锁定，请 15 分钟后再试"]
    for address, limit in (("10.3.0.2", 6), ("10.3.0.3", 5)):
        monkeypatch.setitem(app.config, "PCLOUD_LOGIN_MAX_IP_FAILURES", limit)
        answers = [a.get_json()["msg"] for a in _wrong_from(app, address, "ADMIN", [next_phone()] * 5)]
        assert answers[2:] == phone_first, limit
    monkeypatch.setitem(app.config, "PCLOUD_LOGIN_MAX_IP_FAILURES", 3)
    api = ApiClient(app.test_client())
    api.token = api.sign_in()
    changed = api.post("/api/oauth/password", {"oldPassword": "guess0X1", "newPassword": "NewPassw0rd9"}).get_json()
    assert changed["msg"] == "原密码不正确，该地址再错 2 次将锁定 15 分钟"
    assert changed["errors"]["oldPassword"] == [changed["msg"]]


def _signed_in_on_both_doors(app: Any) -> tuple[str, ApiClient, Any]:
    """A new user (password Passw0rd1) signed in through the API and through the sign-in page: (phone, API,
    browser)."""
    from tests.conftest import PageClient
    from tests.factories import next_phone

    phone = next_phone()
    make_user(app, phone=phone, password="Passw0rd1")
    api = ApiClient(app.test_client())
    api.token = api.sign_in(phone, "Passw0rd1")
    browser = PageClient(app.test_client())
    assert browser.sign_in(phone, "Passw0rd1").status_code == 302
    return phone, api, browser


def test_a_wrong_old_password_says_how_many_tries_are_left_on_both_doors(app: Any) -> None:
    """The old password of a password change counts against the phone's lock, but a wrong one said only 原密码不正确
    until the lock fell: it warns as a wrong password at sign-in does, on the API (msg and the field's error), on
    the profile page, in English, and the operation log stores the sentence."""
    from pcloud.actionlog.models import ActionLog
    from pcloud.core.i18n import said
    from tests.conftest import csrf_from, last_action

    phone, api, browser = _signed_in_on_both_doors(app)

    def change(i: int, **kw: Any) -> Any:
        return api.post("/api/oauth/password", {"oldPassword": f"guess{i}X1", "newPassword": "NewPassw0rd9"}, **kw)

    plain = [change(i) for i in range(2)]
    assert [(r.status_code, r.get_json()["msg"]) for r in plain] == [(422, "原密码不正确")] * 2
    warned = change(2).get_json()
    assert warned["msg"] == "原密码不正确，再错 2 次将锁定 15 分钟"
    assert warned["errors"]["oldPassword"] == [warned["msg"]]
    html = browser.get("/profile").get_data(as_text=True)
    page = browser.client.post("/profile", data={"which": "password", "pw-csrf_token": csrf_from(html),
                                                 "pw-old_password": "guessPageX1", "pw-new_password": "NewPassw0rd9",
                                                 "pw-confirm_password": "NewPassw0rd9"})
    assert page.status_code == 422 and "原密码不正确，再错 1 次将锁定 15 分钟" in page.get_data(as_text=True)
    assert last_action(app) == ("修改个人信息", "fail", "原密码不正确，再错 1 次将锁定 15 分钟")
    locking = change(4, headers={"Accept-Language": "en"}).get_json()
    assert locking["msg"] == "The current password is incorrect: the account is locked, try again in 15 minutes"
    stored = query(app, lambda: db.session.execute(select(ActionLog.msg).order_by(ActionLog.id.desc()).limit(1)
                                                   ).scalar())
    assert stored == said("原密码不正确，账号已锁定，请 %(minutes)s 分钟后再试", minutes=15)
    assert change(5).status_code == 429


def test_sms_code_sign_in(anon: ApiClient) -> None:
    assert anon.post("/api/oauth/sms/code", json={"phone": ADMIN_PHONE}).status_code == 200
    code = received_code(ADMIN_PHONE)
    assert len(code) == 6 and code.isdigit()
    bad = token_call(anon, phone=ADMIN_PHONE, verifyCode="000000" if code != "000000" else "111111",
                     grantType="SMS")
    assert bad.status_code == 401
    ok = token_call(anon, phone=ADMIN_PHONE, verifyCode=code, grantType="sms")
    assert ok.status_code == 200
    again = token_call(anon, phone=ADMIN_PHONE, verifyCode=code, grantType="SMS")
    assert again.status_code == 401  # a code is used once


def test_a_sign_in_with_the_newest_code_ends_the_older_ones_too(app: Any, anon: ApiClient,
                                                                monkeypatch: Any) -> None:
    """A review: only the newest unused code is checked, so once it was used an older one became the newest and
    signed in (a code seen on a lock screen still worked after its owner had signed in)."""
    monkeypatch.setitem(app.config, "PCLOUD_SMS_COOLDOWN_SECONDS", 0)
    assert anon.post("/api/oauth/sms/code", json={"phone": ADMIN_PHONE}).status_code == 200
    older = received_code(ADMIN_PHONE)
    assert anon.post("/api/oauth/sms/code", json={"phone": ADMIN_PHONE}).status_code == 200
    newer = received_code(ADMIN_PHONE)
    assert token_call(anon, phone=ADMIN_PHONE, verifyCode=newer, grantType="SMS").status_code == 200
    assert token_call(anon, phone=ADMIN_PHONE, verifyCode=older, grantType="SMS").status_code == 401


def test_sms_cooldown_is_429_and_unknown_phone_answers_the_same(anon: ApiClient) -> None:
    first = anon.post("/api/oauth/sms/code", json={"phone": "13911110000"})
    assert first.status_code == 200
    second = anon.post("/api/oauth/sms/code", json={"phone": "13911110000"})
    assert second.status_code == 429
    # a known phone's code, asked for after, has arrived: the unknown phone's would have come first
    assert anon.post("/api/oauth/sms/code", json={"phone": ADMIN_PHONE}).status_code == 200
    received_code(ADMIN_PHONE)
    assert "13911110000" not in MemorySmsSender.sent


def test_sms_code_rejects_bad_phone(anon: ApiClient) -> None:
    for phone in ("12345", "1380000000\U0001d7ce"):  # the second ends in a mathematical bold zero
        resp = anon.post("/api/oauth/sms/code", json={"phone": phone})
        assert resp.status_code == 422 and "phone" in resp.get_json()["errors"], phone


def test_sms_code_gives_up_after_five_wrong_attempts(anon: ApiClient) -> None:
    anon.post("/api/oauth/sms/code", json={"phone": ADMIN_PHONE})
    code = received_code(ADMIN_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert token_call(anon, phone=ADMIN_PHONE, verifyCode=wrong, grantType="SMS").status_code == 401
    # five wrong guesses lock the phone for both grants (issue 7, finding 10) ...
    assert token_call(anon, phone=ADMIN_PHONE, verifyCode=code, grantType="SMS").status_code == 429
    # ... and the code itself is used up, even once the lock is lifted
    from pcloud.auth.models import LoginLock
    from pcloud.extensions import db

    with anon.client.application.app_context():
        db.session.query(LoginLock).delete()
        db.session.commit()
    assert token_call(anon, phone=ADMIN_PHONE, verifyCode=code, grantType="SMS").status_code == 401


def test_logout_revokes_the_token(api: ApiClient) -> None:
    assert api.post("/api/admin/system/adminInfo").status_code == 200
    assert api.post("/api/oauth/logout").status_code == 200
    assert api.post("/api/admin/system/adminInfo").status_code == 401


def test_admin_info_lists_menus_roles_and_resources(api: ApiClient) -> None:
    data = api.data("POST", "/api/admin/system/adminInfo")
    assert data["phone"] == ADMIN_PHONE and data["permissions"] == ["ROLE_SUPER_ADMIN"]
    names = [child["name"] for node in data["routers"] for child in node["children"]]
    assert "用户管理" in names
    # the super administrator holds every resource: the code of every API route is listed
    assert route_code("users_api.page", "POST") in data["resources"]
    assert route_code("roles_api.grant", "POST") in data["resources"]
    assert len(data["resources"]) > 50


def test_malformed_tokens_get_401(anon: ApiClient) -> None:
    for header in ("Bearer", "Bearer ", "Bearer x" * 100, "Basic abc", "Bearer \u4e2d\u6587"):
        resp = anon.client.post("/api/admin/system/adminInfo", headers={"Authorization": header})
        assert resp.status_code == 401 and resp.get_json()["code"] == 401


def test_sign_in_attempts_are_in_the_action_log_without_the_password(anon: ApiClient, app: Any) -> None:
    token_call(anon, phone=ADMIN_PHONE, password="wrong1234", grantType="ADMIN")
    token_call(anon, phone=ADMIN_PHONE, password=ADMIN_PASSWORD, grantType="ADMIN")
    rows = query(app, lambda: app.extensions["sqlalchemy"].session.execute(
        select(ActionLog).order_by(ActionLog.id)).scalars().all())
    assert [(r.title, r.status) for r in rows] == [("登录", "fail"), ("登录", "success")]
    assert all("wrong1234" not in (r.params or "") and ADMIN_PASSWORD not in (r.params or "") for r in rows)
    assert rows[0].phone == ADMIN_PHONE


# --------------------------------------------------------------------------------------- pages


def test_sign_in_page_password_tab(anon_pages: Any) -> None:
    resp = anon_pages.sign_in()
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    home = anon_pages.get("/")
    assert home.status_code == 200 and "超级管理员" in home.get_data(as_text=True)


def test_sign_in_page_wrong_password_shows_message(anon_pages: Any) -> None:
    resp = anon_pages.sign_in(password="wrong1234")
    assert resp.status_code == 401 and "手机号或密码错误" in resp.get_data(as_text=True)


def test_sign_in_page_sms_tab(anon_pages: Any) -> None:
    page = anon_pages.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_from

    token = csrf_from(page)
    sent = anon_pages.client.post("/login/sms-code", data={"csrf_token": token, "phone": ADMIN_PHONE},
                                  headers={"Accept": "application/json"})
    assert sent.status_code == 200 and sent.get_json()["ok"]
    code = received_code(ADMIN_PHONE)
    resp = anon_pages.client.post("/login?tab=sms", data={"sms-csrf_token": token, "sms-phone": ADMIN_PHONE,
                                                          "sms-verify_code": code})
    assert resp.status_code == 302
    assert anon_pages.get("/").status_code == 200


def test_the_sms_tab_takes_a_code_of_six_ascii_digits_only(anon_pages: Any) -> None:
    """Python's \\d takes every script's digits: a code typed in Arabic-Indic digits is refused by the form as
    not a code, before the check that counts wrong attempts."""
    from tests.conftest import csrf_from

    token = csrf_from(anon_pages.get("/login").get_data(as_text=True))
    anon_pages.client.post("/login/sms-code", data={"csrf_token": token, "phone": ADMIN_PHONE},
                           headers={"Accept": "application/json"})
    code = received_code(ADMIN_PHONE)
    foreign = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    resp = anon_pages.client.post("/login?tab=sms", data={"sms-csrf_token": token, "sms-phone": ADMIN_PHONE,
                                                          "sms-verify_code": foreign})
    assert resp.status_code != 302 and "验证码为 6 位数字" in resp.get_data(as_text=True)
    resp = anon_pages.client.post("/login?tab=sms", data={"sms-csrf_token": token, "sms-phone": ADMIN_PHONE,
                                                          "sms-verify_code": code})
    assert resp.status_code == 302


def test_pages_redirect_to_sign_in_and_back(anon_pages: Any) -> None:
    resp = anon_pages.get("/system/user/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=/system/user/")


def test_a_sign_in_page_left_open_past_its_session_asks_again_and_keeps_what_was_typed(app: Any) -> None:
    """A browser review: the sign-in page left open, its cookie gone (the browser restarted, cookies cleared),
    then 登录: a bare 400 page (表单已过期…，请刷新页面后重试) with only 返回首页, the phone typed and the deep link
    (next) lost; and 获取验证码 said 发送失败，请稍后再试, which no retry cures. The sign-in page comes back with
    the phone and next kept, a fresh token and the reason; the code's button says the reason."""
    from tests.conftest import PageClient, csrf_from

    stale = csrf_from(PageClient(app.test_client()).get("/login").get_data(as_text=True))
    client = app.test_client()  # another browser: no cookie, as after it was cleared
    resp = client.post("/login?tab=password", data={"pw-csrf_token": stale, "pw-phone": ADMIN_PHONE,
                                                    "pw-password": ADMIN_PASSWORD, "pw-next": "/system/role/"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "页面已过期" in html
    assert f'value="{ADMIN_PHONE}"' in html and 'value="/system/role/"' in html
    resp = client.post("/login?tab=password", data={"pw-csrf_token": csrf_from(html), "pw-phone": ADMIN_PHONE,
                                                    "pw-password": ADMIN_PASSWORD, "pw-next": "/system/role/"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/system/role/"
    resp = app.test_client().post("/login/sms-code", data={"csrf_token": stale, "phone": ADMIN_PHONE},
                                  headers={"Accept": "application/json"})
    assert resp.status_code == 400 and resp.get_json() == {"ok": False, "msg": "页面已过期，请刷新后重试"}
    resp = app.test_client().post("/system/user/new", data={"csrf_token": stale, "name": "张三"},
                                  headers={"Referer": "http://localhost/system/user/new"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=/system/user/new"


def test_a_form_left_open_across_a_new_sign_in_leads_back_to_its_page(pages: Any, app: Any) -> None:
    """A browser review: a form opened, the user signed out and in again in another tab (a new session, a new
    token), then the form saved: 400 saying 请刷新页面后重试, whose reload posts the stale form again (400 again),
    and only 返回首页. The form comes back with what was typed and says the save did not happen (tests/test_core.py);
    a button's action, with nothing to show again, says so and leads back to the page it was on."""
    from tests.factories import make_post

    resp = pages.client.post("/system/post/new?back=/system/post/%3Fname%3Da",
                             data={"csrf_token": "stale", "name": "岗位"},
                             headers={"Referer": "http://localhost/system/post/new?back=/system/post/%3Fname%3Da"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "页面已过期，未能提交：您填写的内容保留在下方" in html and 'value="岗位"' in html
    assert 'name="back" value="/system/post/?name=a"' in html and "刷新页面后重试" not in html
    button = f"/system/post/{make_post(app, '留着的岗位')}/delete"
    resp = pages.client.post(button, data={"csrf_token": "stale", "back": "/system/post/?name=a"},
                             headers={"Referer": "http://localhost/system/post/?name=a"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "页面已过期，未能提交：请返回该页面重新填写后提交" in html
    assert 'href="/system/post/?name=a"' in html and "刷新页面后重试" not in html
    resp = pages.client.post(button, data={"csrf_token": "stale"},
                             headers={"Referer": "https://example.com/system/post/"})
    assert resp.status_code == 400 and 'href="https://example.com' not in resp.get_data(as_text=True)
    # a Referer of this host whose path names another host (`//evil.example`) is no way back either: allow-listed
    for path in ("//evil.example/x", "/\\evil.example/x", "/system/post/%0d%0aSet-Cookie:x"):
        resp = pages.client.post(button, data={"csrf_token": "stale"}, headers={"Referer": f"http://localhost{path}"})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400 and "evil.example" not in html and "Set-Cookie" not in html, path


def test_open_redirect_is_refused(anon_pages: Any) -> None:
    from tests.conftest import csrf_from

    token = csrf_from(anon_pages.get("/login").get_data(as_text=True))
    resp = anon_pages.client.post("/login?tab=password", data={
        "pw-csrf_token": token, "pw-phone": ADMIN_PHONE, "pw-password": ADMIN_PASSWORD,
        "pw-next": "//evil.example/x"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_sign_out_ends_the_browser_session(pages: Any, app: Any) -> None:
    assert pages.get("/system/user/").status_code == 200
    resp = pages.submit("/", "/logout")
    assert resp.status_code == 302
    assert pages.get("/system/user/").status_code == 302
    live = query(app, lambda: app.extensions["sqlalchemy"].session.execute(
        select(func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None))).scalar())
    assert live == 0


def test_profile_change_password(pages: Any, anon: ApiClient) -> None:
    resp = pages.submit("/profile", data={"which": "password", "pw-old_password": ADMIN_PASSWORD,
                                          "pw-new_password": "NewPass123", "pw-confirm_password": "NewPass123"})
    assert resp.status_code == 302
    assert token_call(anon, phone=ADMIN_PHONE, password="NewPass123", grantType="ADMIN").status_code == 200


def test_a_refused_password_change_is_logged_as_failed(app: Any, pages: Any, anon: ApiClient) -> None:
    """A wrong old password: shown next to the field, answered 422 and logged as failed with the reason (it
    was answered 200 and logged with no reason)."""
    resp = pages.submit("/profile", data={"which": "password", "pw-old_password": "nope12345",
                                          "pw-new_password": "NewPass123", "pw-confirm_password": "NewPass123"})
    assert_refused(app, resp, "修改个人信息", 422, "原密码不正确")
    assert token_call(anon, phone=ADMIN_PHONE, password=ADMIN_PASSWORD, grantType="ADMIN").status_code == 200


def test_a_refused_sign_in_is_logged_as_failed_on_the_page_and_the_api(app: Any, anon: ApiClient) -> None:
    """A wrong password: the sign-in page and the token API both answer 401 with the reason, and log it."""
    from tests.conftest import PageClient

    page = PageClient(app.test_client()).sign_in(ADMIN_PHONE, "wrong-pass-1")
    assert_refused(app, page, "登录", 401, "手机号或密码错误")
    resp = token_call(anon, phone=ADMIN_PHONE, password="wrong-pass-1", grantType="ADMIN")
    assert_refused(app, resp, "登录", 401, "手机号或密码错误")


# --------------------------------------------------------------------------------------- why the session ended


def _signed_in_page_client(app: Any, phone: str) -> Any:
    from tests.conftest import PageClient

    make_user(app, phone=phone, password="Passw0rd1")
    client = PageClient(app.test_client())
    assert client.sign_in(phone, "Passw0rd1").status_code == 302
    assert client.get("/").status_code == 200
    return client


def test_forced_offline_user_lands_on_sign_in_with_the_reason(app: Any, api: ApiClient) -> None:
    client = _signed_in_page_client(app, "13900001501")
    user_id = query(app, lambda: db.session.execute(
        select(UserSession.user_id).where(UserSession.kind == "web").order_by(UserSession.id.desc())).scalar())
    assert api.get(f"/api/admin/system/user/{user_id}/offline").status_code == 200
    resp = client.get("/system/user/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "您已被管理员强制下线" in html
    assert "您已被管理员强制下线" not in client.get("/login").get_data(as_text=True)  # said once


def test_a_button_clicked_after_the_session_ended_comes_back_to_its_page(app: Any, api: ApiClient) -> None:
    """A browser review: forced offline, then 删除 clicked on the user list: the sign-in page was given
    next=/system/user/3/delete (a POST-only address), and signing in again landed on a 405 page. A refused POST
    comes back to the page the button was on (its Referer, when it is this site), never to the POST's address."""
    from tests.conftest import csrf_from

    client = _signed_in_page_client(app, "13900001511")
    token = csrf_from(client.get("/system/user/").get_data(as_text=True))
    user_id = query(app, lambda: db.session.execute(
        select(UserSession.user_id).where(UserSession.kind == "web").order_by(UserSession.id.desc())).scalar())
    assert api.get(f"/api/admin/system/user/{user_id}/offline").status_code == 200
    resp = client.client.post(f"/system/user/{user_id}/delete", data={"csrf_token": token},
                              headers={"Referer": "http://localhost/system/user/?name=a"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=/system/user/?name%3Da"
    resp = client.client.post(f"/system/user/{user_id}/delete", data={"csrf_token": token},
                              headers={"Referer": "https://example.com/system/user/"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    resp = client.client.post(f"/system/user/{user_id}/delete", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"


def test_expired_session_lands_on_sign_in_with_the_reason(app: Any) -> None:
    from datetime import timedelta

    from pcloud.core.models import utcnow

    client = _signed_in_page_client(app, "13900001502")

    def expire() -> None:
        db.session.execute(UserSession.__table__.update().where(UserSession.kind == "web").values(
            expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()

    query(app, expire)
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "会话已过期" in html and "pw-phone" in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_page_asked_for_after_signing_out_in_another_tab_says_why(app: Any, lang: str) -> None:
    """A browser review: signed out in one tab, a link clicked (or a form sent) in another landed on the sign-in page
    saying nothing, the tabs' shared cookie naming no session any more. The cookie keeps the session its sign-out
    ended, and the next page the browser asks for says why, once, in the user's language; the sign-out's own page
    says only that it signed out, and signing in again forgets it."""
    from datetime import timedelta

    from pcloud.core.models import utcnow
    from tests.conftest import PageClient, csrf_from, set_language

    said = "您已退出登录，请重新登录" if lang == "zh" else "You have signed out, please sign in again"
    phone = "13900001521" if lang == "zh" else "13900001522"
    make_user(app, phone=phone, password="Passw0rd1", role_codes=("ROLE_SUPER_ADMIN",))
    client = PageClient(app.test_client())
    assert client.sign_in(phone, "Passw0rd1").status_code == 302
    if lang == "en":
        set_language(client.client, "en")
    resp = client.submit("/", "/logout")  # tab A
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert ("您已安全退出" if lang == "zh" else "You have signed out") in html and said not in html
    assert said not in client.get("/login").get_data(as_text=True)  # tab A's sign-in page, reloaded
    resp = client.get("/system/user/?name=a")  # tab B: a link
    assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=/system/user/?name%3Da"
    assert said in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert said not in client.get("/login").get_data(as_text=True)  # said once
    # a form sent from a page of before: the same, as long as nobody signed in again
    assert client.sign_in(phone, "Passw0rd1").status_code == 302
    token = csrf_from(client.get("/system/post/new").get_data(as_text=True))  # tab B's form, typed into
    client.get(client.submit("/", "/logout").headers["Location"])  # tab A
    resp = client.client.post("/system/post/new", data={"csrf_token": token, "name": "岗位"},
                              headers={"Referer": "http://localhost/system/post/new"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=/system/post/new"
    assert said in client.get(resp.headers["Location"]).get_data(as_text=True)
    # signed in again, the reason is gone with the sign-out; nor does a browser that never signed in hear it
    assert client.sign_in(phone, "Passw0rd1").status_code == 302
    client.get("/")
    query(app, lambda: (db.session.execute(update(UserSession).where(UserSession.revoked_at.is_(None)).values(
        expires_at=utcnow() - timedelta(minutes=1))), db.session.commit()))
    html = client.get("/system/user/", follow_redirects=True).get_data(as_text=True)
    assert ("会话已过期" if lang == "zh" else "expired") in html and said not in html
    stranger = PageClient(app.test_client())
    assert said not in stranger.get("/system/user/", follow_redirects=True).get_data(as_text=True)
    assert said not in stranger.get("/login?next=/&reason=logout").get_data(as_text=True)


def test_profile_shows_post_and_grade_and_calls_the_name_用户名(app: Any) -> None:
    from tests.conftest import PageClient
    from tests.factories import make_grade, make_post

    post, grade = make_post(app, "测试岗位"), make_grade(app, "P7")
    make_user(app, phone="13900001701", password="Passw0rd1", post_id=post, grade_id=grade)
    client = PageClient(app.test_client())
    client.sign_in("13900001701", "Passw0rd1")
    html = client.get("/profile").get_data(as_text=True)
    assert "测试岗位" in html and "P7" in html and ">用户名<" in html and "姓名" not in html


# ---------------------------------------------------------------------------------------------
# The principal lookup (auth.service.load_principal) reads the database on every request: a change made
# anywhere (another host, psql, a job handler) counts from the very next request.


ADMIN_INFO = "/api/admin/system/adminInfo"


def _write(app: Any, sql: str, **params: Any) -> None:
    """A hand-written statement through the app's engine: not the ORM's unit of work."""
    from sqlalchemy import text

    with app.app_context():
        db.session.execute(text(sql), params)
        db.session.commit()


def _signal(app: Any) -> object:
    cache = app.extensions.get("pcloud.principal_cache")
    return cache.signal.current() if cache else None


def _await_signal(app: Any, before: object) -> None:
    """Until the database has told this process of a change (PostgreSQL delivers NOTIFY to the listening
    process as the write commits, microseconds later; SQLite's data version moves with the commit)."""
    import time

    deadline = time.monotonic() + 10
    while before is not None and _signal(app) == before:
        assert time.monotonic() < deadline, "the database never signalled the change"
        time.sleep(0.001)


def _write_around_the_app(app: Any, database_url: str, sql: str, signalled: bool = True, **params: Any) -> None:
    """A hand-written statement on an engine of its own, as another host or psql would run it."""
    from sqlalchemy import create_engine, text

    before = _signal(app)
    outsider = create_engine(database_url)
    try:
        with outsider.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        outsider.dispose()
    if signalled:
        _await_signal(app, before)


def test_a_session_ended_around_the_app_is_refused_at_the_next_request(app: Any, api: ApiClient,
                                                                      database_url: str) -> None:
    for _ in range(3):
        assert api.post(ADMIN_INFO).status_code == 200
    _write_around_the_app(app, database_url,
                          "UPDATE auth_session SET revoked_at = CURRENT_TIMESTAMP, revoke_reason = 'forced'")
    assert api.post(ADMIN_INFO).status_code == 401


def test_a_role_removed_or_a_user_disabled_around_the_app_counts_at_the_next_request(
        app: Any, client: Any, database_url: str) -> None:
    uid = make_user(app, phone="13900006601", role_codes=("ROLE_SUPER_ADMIN",))
    user = ApiClient(client)
    user.token = user.sign_in("13900006601", "Passw0rd1")
    for _ in range(2):
        assert user.post("/api/admin/system/user/page", json={}).status_code == 200
    _write_around_the_app(app, database_url, "DELETE FROM sys_user_role WHERE user_id = :uid", uid=uid)
    assert user.post("/api/admin/system/user/page", json={}).status_code == 403
    assert user.post(ADMIN_INFO).status_code == 200
    _write_around_the_app(app, database_url, "UPDATE sys_user SET state = 1 WHERE id = :uid", uid=uid)
    assert user.post(ADMIN_INFO).status_code == 401


def test_the_database_signals_a_change_of_every_table_the_lookup_reads() -> None:
    """Migrations 0013's and 0030's triggers (PostgreSQL's NOTIFY) cover exactly the tables of the lookup."""
    import importlib.util

    from sqlalchemy.sql.util import find_tables

    from pcloud import MIGRATIONS_DIR
    from pcloud.auth.service import _PRINCIPAL, PRINCIPAL_CHANNEL

    signalled: set[str] = set()
    for name in ("0013_caller_change_notify", "0030_open_account_notify"):
        spec = importlib.util.spec_from_file_location(name, f"{MIGRATIONS_DIR}/versions/{name}.py")
        assert spec is not None and spec.loader is not None
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        signalled |= set(migration.TABLES)
        assert getattr(migration, "CHANNEL", PRINCIPAL_CHANNEL) == PRINCIPAL_CHANNEL
    assert signalled == {t.name for t in find_tables(_PRINCIPAL, check_columns=True)}


def test_an_open_account_disabled_or_deleted_around_the_app_is_refused_at_the_next_request(
        app: Any, database_url: str) -> None:
    """A review: an account disabled or deleted with psql kept answering 200 on every host (its tokens are
    revoked only by the API's own disable), while a user so disabled was refused at once."""
    from tests.conftest import open_client

    for change in ("UPDATE sys_open_account SET state = 1 WHERE id = :aid",
                   "UPDATE sys_open_account SET deleted_at = CURRENT_TIMESTAMP WHERE id = :aid"):
        account_id, account = open_client(app, f"外部系统{len(change)}")
        for _ in range(2):
            assert account.post(ADMIN_INFO).status_code == 200
        _write_around_the_app(app, database_url, change, aid=account_id)
        assert account.post(ADMIN_INFO).status_code == 401


def test_a_lost_notification_connection_is_noticed_before_a_kept_lookup_is_trusted(
        app: Any, api: ApiClient, database_url: str) -> None:
    """The last probe: with the LISTEN connection of a process ended by the server (pg_terminate_backend), a user
    disabled meanwhile was served once more from the kept lookup. A closed connection now counts as a change."""
    if not is_postgres():
        pytest.skip("PostgreSQL's NOTIFY connection; SQLite's data version has none to lose")
    from sqlalchemy import create_engine, text

    from tests.test_jobs_worker import wait_until

    uid = make_user(app, phone="13900006611", role_codes=("ROLE_SUPER_ADMIN",))
    user = ApiClient(app.test_client())
    user.token = user.sign_in("13900006611", "Passw0rd1")
    for _ in range(2):
        assert user.post(ADMIN_INFO).status_code == 200
    outsider = create_engine(database_url)
    try:
        listening = (f"FROM pg_stat_activity WHERE application_name LIKE '{LISTENER_NAME}%' "
                     "AND datname = current_database()")
        with outsider.begin() as conn:
            ended = [pid for pid, in conn.execute(text(f"SELECT pid {listening}"))]
            assert ended, "no process of this test's database listens"
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"),
                         {"pids": ended})

        def still_there() -> int:  # a transaction per look: pg_stat_activity holds still within one
            with outsider.connect() as conn:
                return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                                    {"pids": ended}).scalar()

        # until the server has ended them, so their end is on the socket (another process's listener may come
        # and go meanwhile: only the ones ended are awaited)
        wait_until(lambda: not still_there(), 10, "the listening sessions to end")
        with outsider.begin() as conn:
            conn.execute(text("UPDATE sys_user SET state = 1 WHERE id = :uid"), {"uid": uid})
    finally:
        outsider.dispose()
    assert user.post(ADMIN_INFO).status_code == 401
    # and the process listens again (after PostgresNotifications.RETRY_SECONDS), keeping lookups once more
    wait_until(lambda: _signal(app) is not None, 10, "listening again")


def test_a_kept_lookup_is_reused_until_the_database_signals_a_change(app: Any, api: ApiClient,
                                                                       database_url: str) -> None:
    """While nothing changes, a repeated call costs no statement; a write to an unrelated table through
    another engine (PostgreSQL: no NOTIFY; SQLite: any commit counts) does not serve a stale answer."""
    from pcloud.auth.service import PrincipalCache

    assert isinstance(app.extensions.get("pcloud.principal_cache"), PrincipalCache)
    assert api.post(ADMIN_INFO).status_code == 200

    def info() -> None:
        assert api.post(ADMIN_INFO).status_code == 200

    # The NOTIFY of the sign-in's write may still be on its way (asynchronous), and moves the signal when it
    # comes: counted is a call made while the signal held since the call before it began.
    for _ in range(20):
        kept_from = _signal(app)
        info()
        held = _signal(app)
        seen = statements_seen(app, info)
        if kept_from == held == _signal(app):
            break
    else:
        raise AssertionError("the database kept signalling changes though nothing was written")
    assert not [s for s in seen if "auth_session" in s]
    _write_around_the_app(app, database_url, "UPDATE sys_dept SET name = name", signalled=False)
    assert api.post(ADMIN_INFO).status_code == 200
    _write_around_the_app(app, database_url, "UPDATE auth_session SET revoked_at = CURRENT_TIMESTAMP")
    assert api.post(ADMIN_INFO).status_code == 401


def test_the_api_neither_reads_nor_writes_the_cookie_session(app: Any, client: Any) -> None:
    """Under /api only the bearer token counts: a signed-in page session does not authenticate an API call,
    and an API answer sets no cookie and does not vary by cookie (Flask-Login as published, with the
    cookie session closed under /api)."""
    from tests.conftest import PageClient

    pages = PageClient(client)
    pages.sign_in(ADMIN_PHONE, ADMIN_PASSWORD)
    assert client.get("/profile").status_code == 200
    refused = client.post(ADMIN_INFO)
    assert refused.status_code == 401 and "Set-Cookie" not in refused.headers
    token = ApiClient(client).sign_in()
    served = client.post(ADMIN_INFO, headers={"Authorization": f"Bearer {token}"})
    assert served.status_code == 200 and "Set-Cookie" not in served.headers
    assert "cookie" not in served.headers.get("Vary", "").lower()


@pytest.mark.skipif(not is_postgres(), reason="the listening connection is PostgreSQL's")
def test_nothing_kept_is_trusted_once_the_listening_connection_is_lost(app: Any, api: ApiClient,
                                                                       database_url: str) -> None:
    """Notifications sent while a process is not listening are lost to it: from the loss on, it reads every
    time, and once listening again it trusts nothing it read before."""
    import time

    assert api.post(ADMIN_INFO).status_code == 200
    cache = app.extensions["pcloud.principal_cache"]
    before = cache.signal.current()
    # with a timeout, pg_terminate_backend returns once the listening session has ended, not when it was asked to
    _write_around_the_app(app, database_url, "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                          f"WHERE datname = current_database() AND application_name LIKE '{LISTENER_NAME}%'",
                          signalled=False)
    _write_around_the_app(app, database_url, "UPDATE auth_session SET revoked_at = CURRENT_TIMESTAMP",
                          signalled=False)
    assert api.post(ADMIN_INFO).status_code == 401
    api.token = api.sign_in()
    assert api.post(ADMIN_INFO).status_code == 200
    deadline = time.monotonic() + 10
    while (after := cache.signal.current()) is None:  # listening again, a second after the loss
        assert time.monotonic() < deadline, "never listening again"
        time.sleep(0.05)
    assert before is not None and after[0] != before[0]  # a new connection: nothing from before trusted


def test_a_session_that_expired_meanwhile_is_401(app: Any, api: ApiClient, monkeypatch: Any) -> None:
    from datetime import timedelta

    from pcloud.auth import service
    from pcloud.core.timefmt import utcnow

    assert api.post(ADMIN_INFO).status_code == 200
    later = utcnow() + timedelta(seconds=app.config["PCLOUD_TOKEN_TTL"] + 1)
    monkeypatch.setattr(service, "utcnow", lambda: later)
    assert api.post(ADMIN_INFO).status_code == 401


def test_the_principal_lookup_is_one_statement(app: Any, api: ApiClient, monkeypatch: Any) -> None:
    """Session, user, roles and permission version in one statement (no BEGIN/ROLLBACK around it on
    PostgreSQL): what a request costs the database when nothing is kept."""
    from pcloud.auth.service import load_principal

    assert api.post(ADMIN_INFO).status_code == 200
    monkeypatch.delitem(app.extensions, "pcloud.principal_cache", raising=False)

    def lookup() -> None:
        with app.test_request_context(ADMIN_INFO, headers={"Authorization": f"Bearer {api.token}"}):
            assert load_principal(api.token, "api") is not None

    seen = statements_seen(app, lookup)
    assert len(seen) == 1 and "auth_session" in seen[0]


def test_a_job_handler_writing_sessions_counts_at_once(app: Any, api: ApiClient, database_url: str,
                                                      monkeypatch: Any) -> None:
    """A worker child has an app (and engine) of its own: its writes count at the web's next request."""
    from sqlalchemy import text

    from pcloud.jobs.worker import child

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(child, "_app", None)
    child.setup()
    assert api.post(ADMIN_INFO).status_code == 200
    before = _signal(app)
    with child._app.app_context():
        db.session.execute(text("UPDATE auth_session SET revoked_at = CURRENT_TIMESTAMP"))
        db.session.commit()
        db.engine.dispose()
    _await_signal(app, before)
    assert api.post(ADMIN_INFO).status_code == 401


# ---------------------------------------------------------------------------------------------
# Issue 19, findings 2, 6 and 10: the credential check (constant time, same transaction as the session)
# and the login lock on the OPEN grant.

OPEN_REFUSED = "secureId 或 secureKey 错误"


def _no_lock(app: Any, monkeypatch: Any) -> None:
    """Many wrong answers from one address in a row: the timing tests measure the check, not the lock."""
    monkeypatch.setitem(app.config, "PCLOUD_LOGIN_MAX_FAILURES", 10_000)
    monkeypatch.setitem(app.config, "PCLOUD_LOGIN_MAX_IP_FAILURES", 10_000)


def _median_seconds(call: Any, tries: int) -> float:
    import statistics
    import time

    times = []
    for _ in range(tries):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _assert_same_time(reference: Any, others: dict[str, Any], tries: int = 7) -> dict[str, float]:
    """Medians of several alternating tries (load on the machine hits both alike); each refusal path within a
    factor of 2 of the reference. Today's defect (no bcrypt for an unknown name) is a factor of 10 or more."""
    for call in (reference, *others.values()):
        call()  # warm: the dummy hash of this cost is made once per process
    medians: dict[str, list[float]] = {"reference": [], **{name: [] for name in others}}
    for _ in range(tries):  # rounds of one try each, so a burst of load falls on every path
        medians["reference"].append(_median_seconds(reference, 1))
        for name, call in others.items():
            medians[name].append(_median_seconds(call, 1))
    import statistics

    figures = {name: statistics.median(times) for name, times in medians.items()}
    for name in others:
        ratio = max(figures[name], figures["reference"]) / min(figures[name], figures["reference"])
        assert ratio <= 2, f"{name}: {figures[name] * 1000:.1f} ms against {figures['reference'] * 1000:.1f} ms"
    return figures


def test_a_wrong_password_takes_as_long_for_an_unknown_or_deleted_phone(app: Any, anon: ApiClient,
                                                                        monkeypatch: Any) -> None:
    from tests.factories import next_phone

    _no_lock(app, monkeypatch)
    legacy = next_phone()  # a hash of a lower cost than the configured one (the original system's $2a$10$)
    make_user(app, phone=legacy)
    monkeypatch.setitem(app.config, "PCLOUD_BCRYPT_ROUNDS", 10)  # a real cost: the test config's 4 hides it
    known = next_phone()
    make_user(app, phone=known)
    deleted = next_phone()
    deleted_id = make_user(app, phone=deleted)
    _write(app, "UPDATE sys_user SET deleted_at = CURRENT_TIMESTAMP WHERE id = :uid", uid=deleted_id)

    def attempt(phone: str) -> Any:
        def call() -> None:
            resp = token_call(anon, phone=phone, password="Wrong1234", grantType="ADMIN")
            assert resp.status_code == 401 and resp.get_json()["msg"] == "手机号或密码错误"
        return call

    _assert_same_time(attempt(known), {"unknown phone": attempt("13911119999"), "deleted user": attempt(deleted),
                                       "hash of a lower cost": attempt(legacy)})


def test_a_wrong_key_takes_as_long_for_an_unknown_secure_id(app: Any, anon: ApiClient, monkeypatch: Any) -> None:
    from pcloud.openplatform import service as open_service

    _no_lock(app, monkeypatch)
    monkeypatch.setitem(app.config, "PCLOUD_BCRYPT_ROUNDS", 10)
    secure_id = query(app, lambda: open_service.create_account({"name": "计时"})[0].secure_id)

    def attempt(sid: str) -> Any:
        def call() -> None:
            resp = token_call(anon, secureId=sid, secureKey="wrong-key", grantType="OPEN")
            assert resp.status_code == 401 and resp.get_json()["msg"] == OPEN_REFUSED
        return call

    _assert_same_time(attempt(secure_id), {"unknown secureId": attempt("op_000000000000000000000000")})


def _open_account(app: Any, name: str = "订单系统") -> tuple[int, str, str]:
    from pcloud.openplatform import service as open_service

    def create() -> tuple[int, str, str]:
        account, key = open_service.create_account({"name": name})
        return account.id, account.secure_id, key

    return query(app, create)


def test_the_open_grant_locks_the_secure_id_after_the_failure_limit(app: Any, anon: ApiClient) -> None:
    _account_id, secure_id, key = _open_account(app)
    limit = app.config["PCLOUD_LOGIN_MAX_FAILURES"]
    for i in range(limit):
        resp = token_call(anon, secureId=secure_id, secureKey=f"wrong-{i}", grantType="OPEN")
        assert resp.status_code == 401 and resp.get_json()["msg"].startswith(OPEN_REFUSED)  # warned near the end
    locked = token_call(anon, secureId=secure_id, secureKey=key, grantType="OPEN")
    assert locked.status_code == 429 and "登录失败次数过多" in locked.get_json()["msg"]
    assert "分钟后再试" in locked.get_json()["msg"]
    other_id, other_sid, other_key = _open_account(app, "库存系统")  # another account is not locked
    assert token_call(anon, secureId=other_sid, secureKey=other_key, grantType="OPEN").status_code == 200


def test_a_right_key_before_the_limit_starts_the_count_again(app: Any, anon: ApiClient) -> None:
    _account_id, secure_id, key = _open_account(app)
    limit = app.config["PCLOUD_LOGIN_MAX_FAILURES"]
    for _round in range(2):
        for i in range(limit - 1):
            assert token_call(anon, secureId=secure_id, secureKey=f"wrong-{i}",
                              grantType="OPEN").status_code == 401
        assert token_call(anon, secureId=secure_id, secureKey=key, grantType="OPEN").status_code == 200


def test_open_failures_count_against_the_client_address(app: Any, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "PCLOUD_LOGIN_MAX_IP_FAILURES", 6)
    _account_id, secure_id, key = _open_account(app)
    attacker = ApiClient(app.test_client())
    attacker.client.environ_base["REMOTE_ADDR"] = "10.0.0.66"
    for i in range(6):  # made-up secureIds: no account reaches its own limit
        resp = attacker.post("/api/oauth/token", json={"secureId": f"op_guess{i}", "secureKey": "k",
                                                       "grantType": "OPEN"})
        assert resp.status_code == 401
    refused = attacker.post("/api/oauth/token", json={"secureId": secure_id, "secureKey": key, "grantType": "OPEN"})
    assert refused.status_code == 429 and "该地址登录失败次数过多" in refused.get_json()["msg"]
    # the same address is locked for password sign-in too, and another address is not locked at all
    assert attacker.post("/api/oauth/token", json={"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD,
                                                   "grantType": "ADMIN"}).status_code == 429
    elsewhere = ApiClient(app.test_client())
    elsewhere.client.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    assert elsewhere.post("/api/oauth/token", json={"secureId": secure_id, "secureKey": key,
                                                    "grantType": "OPEN"}).status_code == 200


def test_only_wrong_secrets_use_up_an_addresss_limit(app: Any, monkeypatch: Any) -> None:
    """An attempt takes its address's slot before the check; a sign-in gives it back, and so does an attempt the
    phone's own lock refused unchecked: an office behind one address is not locked out by its people."""
    from tests.factories import next_phone

    phone, locked = next_phone(), next_phone()
    make_user(app, phone=phone)
    make_user(app, phone=locked)
    for i in range(app.config["PCLOUD_LOGIN_MAX_FAILURES"]):
        assert token_call(ApiClient(app.test_client()), phone=locked, password=f"Wrong{i}pass",
                          grantType="ADMIN").status_code == 401
    monkeypatch.setitem(app.config, "PCLOUD_LOGIN_MAX_IP_FAILURES", 3)
    office = ApiClient(app.test_client())
    office.client.environ_base["REMOTE_ADDR"] = "10.0.0.77"
    for _ in range(3):
        assert token_call(office, phone=phone, password="Passw0rd1", grantType="ADMIN").status_code == 200
        assert token_call(office, phone=locked, password="Passw0rd1", grantType="ADMIN").status_code == 429
    for i in range(3):
        assert token_call(office, phone=phone, password=f"Wrong{i}pass", grantType="ADMIN").status_code == 401
    refused = token_call(office, phone=phone, password="Passw0rd1", grantType="ADMIN")
    assert refused.status_code == 429 and "该地址登录失败次数过多" in refused.get_json()["msg"]


def test_a_secure_id_cannot_lock_a_phone_of_the_same_spelling(app: Any, anon: ApiClient) -> None:
    for i in range(app.config["PCLOUD_LOGIN_MAX_FAILURES"] + 1):
        token_call(anon, secureId=ADMIN_PHONE, secureKey=f"wrong-{i}", grantType="OPEN")
    assert token_call(anon, phone=ADMIN_PHONE, password=ADMIN_PASSWORD, grantType="ADMIN").status_code == 200


def test_a_phone_typed_as_an_address_key_cannot_lock_that_address_out(app: Any) -> None:
    """A review: the address counters' keys are "ip:" + a hash of the address, and a "phone" typed so counted
    against that address: five failed sign-ins from anywhere locked every user at the victim's address."""
    import hashlib

    victim_address = "198.51.100.7"
    spelled = "ip:" + hashlib.sha256(victim_address.encode()).hexdigest()[:29]
    attacker = ApiClient(app.test_client())
    attacker.client.environ_base["REMOTE_ADDR"] = "203.0.113.5"
    for i in range(app.config["PCLOUD_LOGIN_MAX_IP_FAILURES"]):
        assert token_call(attacker, phone=spelled, password=f"x{i}", grantType="ADMIN").status_code in (401, 429)
        assert token_call(attacker, phone=spelled, verifyCode="123456", grantType="SMS").status_code in (401, 429)
    victim = ApiClient(app.test_client())
    victim.client.environ_base["REMOTE_ADDR"] = victim_address
    assert token_call(victim, phone=ADMIN_PHONE, password=ADMIN_PASSWORD, grantType="ADMIN").status_code == 200


def test_a_wrong_old_password_counts_against_the_sign_in_lock_on_both_doors(app: Any, pages: Any) -> None:
    """A review: the password-change doors checked the old password with no limit, even while the phone was
    locked: a stolen session guessed the real password at the server's speed (60 guesses in 0.6 s)."""
    from tests.conftest import csrf_from

    phone, api, browser = _signed_in_on_both_doors(app)
    limit = app.config["PCLOUD_LOGIN_MAX_FAILURES"]
    for i in range(limit - 1):
        wrong = api.post("/api/oauth/password", {"oldPassword": f"guess{i}X1", "newPassword": "NewPassw0rd9"})
        assert wrong.status_code == 422
    html = browser.get("/profile").get_data(as_text=True)
    page = browser.client.post("/profile", data={"which": "password", "pw-csrf_token": csrf_from(html),
                                                 "pw-old_password": "guessPageX1", "pw-new_password": "NewPassw0rd9",
                                                 "pw-confirm_password": "NewPassw0rd9"})
    assert page.status_code == 422 and "原密码不正确" in page.get_data(as_text=True)
    # the phone is locked now: the right old password is refused unchecked, and so is a sign-in
    right = api.post("/api/oauth/password", {"oldPassword": "Passw0rd1", "newPassword": "NewPassw0rd9"})
    assert right.status_code == 429 and "账号已锁定" in right.get_json()["msg"]
    assert token_call(ApiClient(app.test_client()), phone=phone, password="Passw0rd1",
                      grantType="ADMIN").status_code == 429
    # once the lock is lifted (its time over, or 解锁), the right old password changes it
    from pcloud.auth.models import LoginLock

    query(app, lambda: (db.session.execute(delete(LoginLock)), db.session.commit()))
    assert api.post("/api/oauth/password", {"oldPassword": "Passw0rd1",
                                            "newPassword": "NewPassw0rd9"}).status_code == 200


# A sign-in in flight while its credential changes: real parallel requests against gunicorn (3 processes of
# 4 threads), bcrypt at cost 10 so each check leaves a wide window. Whatever the order, no token issued with
# the old password or key, or to a disabled account, may work once the change has answered.

SLOW_HASH_ENV = {"PCLOUD_BCRYPT_ROUNDS": "10", "PCLOUD_LOGIN_MAX_FAILURES": "100000",
                 "PCLOUD_LOGIN_MAX_IP_FAILURES": "100000", "GUNICORN_CMD_ARGS": "--threads 4"}
RACE_ROUNDS = 3


@pytest.fixture(scope="module")
def slow_hash_server(app: Any, database_url: str, instance_dir: Any) -> Any:
    from tests.conftest import start_server, stop_server

    server = start_server(database_url, instance_dir, workers=3, extra_env=SLOW_HASH_ENV)
    yield server
    stop_server(server)


def _http(server: Any, method: str, path: str, json: Any = None, token: str | None = None) -> tuple[int, Any]:
    import requests

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = requests.request(method, server.url + path, json=json, headers=headers, timeout=60)
    return resp.status_code, (resp.json() if resp.headers.get("content-type", "").startswith("application/json")
                              else None)


def _admin_token(server: Any) -> str:
    status, body = _http(server, "POST", "/api/oauth/token", {"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD,
                                                               "grantType": "ADMIN"})
    assert status == 200, body
    return body["data"]["token"]


def _sign_ins_during(server: Any, body: dict[str, Any], change: Any, threads: int = 4) -> list[str]:
    """Sign in with `body` from several threads, over and over, until `change()` has answered; then wait for
    the sign-ins in flight. The tokens they were given."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    tokens: list[str] = []
    stop = threading.Event()
    started = threading.Semaphore(0)

    def keep_signing_in() -> None:
        while not stop.is_set():
            started.release()
            status, answer = _http(server, "POST", "/api/oauth/token", body)
            if status == 200:
                tokens.append(answer["data"]["token"])

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(keep_signing_in) for _ in range(threads)]
        for _ in range(threads * 2):  # every thread has a sign-in on the way (the second round of some)
            assert started.acquire(timeout=60)
        change()
        stop.set()
        for future in futures:
            future.result()
    return tokens


def _still_working(server: Any, tokens: list[str]) -> list[str]:
    return [t for t in tokens if _http(server, "POST", ADMIN_INFO, token=t)[0] != 401]


def test_a_password_change_ends_every_sign_in_in_flight_with_the_old_password(app: Any, slow_hash_server: Any,
                                                                               monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "PCLOUD_BCRYPT_ROUNDS", 10)
    phone = "13900007701"
    uid = make_user(app, phone=phone, password="Passw0rd0")
    admin = _admin_token(slow_hash_server)
    issued, survivors = 0, []
    for n in range(RACE_ROUNDS):
        old, new = f"Passw0rd{n}", f"Passw0rd{n + 1}"

        def change(new: str = new) -> None:
            status, body = _http(slow_hash_server, "PUT", "/api/admin/system/user/modify",
                                 {"id": uid, "password": new}, token=admin)
            assert status == 200, body

        tokens = _sign_ins_during(slow_hash_server, {"phone": phone, "password": old, "grantType": "ADMIN"}, change)
        issued += len(tokens)
        survivors += _still_working(slow_hash_server, tokens)
    assert issued and not survivors, f"{len(survivors)} of {issued} tokens of an old password still work"


def test_a_disable_ends_every_sign_in_in_flight_even_after_re_enabling(app: Any, slow_hash_server: Any,
                                                                      monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "PCLOUD_BCRYPT_ROUNDS", 10)
    phone = "13900007702"
    uid = make_user(app, phone=phone, password="Passw0rd1")
    admin = _admin_token(slow_hash_server)
    issued, survivors = 0, []

    def set_state(state: int) -> None:
        status, body = _http(slow_hash_server, "PUT", "/api/admin/system/user/modify", {"id": uid, "state": state},
                             token=admin)
        assert status == 200, body

    for _ in range(RACE_ROUNDS):
        tokens = _sign_ins_during(slow_hash_server, {"phone": phone, "password": "Passw0rd1", "grantType": "ADMIN"},
                                  lambda: set_state(1))
        set_state(0)
        issued += len(tokens)
        survivors += _still_working(slow_hash_server, tokens)
    assert issued and not survivors, f"{len(survivors)} of {issued} tokens taken before a disable work again"


def test_a_key_reset_ends_every_open_sign_in_in_flight_with_the_old_key(app: Any, slow_hash_server: Any,
                                                                        monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "PCLOUD_BCRYPT_ROUNDS", 10)
    account_id, secure_id, key = _open_account(app)
    admin = _admin_token(slow_hash_server)
    issued, survivors = 0, []
    for _ in range(RACE_ROUNDS):
        new_key: list[str] = []

        def reset(new_key: list[str] = new_key) -> None:
            status, body = _http(slow_hash_server, "POST", f"/api/open/admin/account/{account_id}/resetKey",
                                 token=admin)
            assert status == 200, body
            new_key.append(body["data"])

        tokens = _sign_ins_during(slow_hash_server, {"secureId": secure_id, "secureKey": key, "grantType": "OPEN"},
                                  reset)
        key = new_key[0]
        issued += len(tokens)
        survivors += _still_working(slow_hash_server, tokens)
    assert issued and not survivors, f"{len(survivors)} of {issued} tokens of an old key still work"


def test_an_open_token_works_until_its_key_is_reset(app: Any, slow_hash_server: Any) -> None:
    """The check `_still_working` relies on: a live OPEN token is not refused by adminInfo."""
    account_id, secure_id, key = _open_account(app)
    status, body = _http(slow_hash_server, "POST", "/api/oauth/token",
                         {"secureId": secure_id, "secureKey": key, "grantType": "OPEN"})
    assert status == 200
    assert _still_working(slow_hash_server, [body["data"]["token"]])


def test_parallel_requests_for_a_code_send_one_per_phone_per_cooldown(app: Any, slow_hash_server: Any,
                                                                      instance_dir: Any) -> None:
    """Ten requests at once for one phone, over several processes: one code, nine 429s; an unknown phone's
    requests at the same time answer alike."""
    from pcloud.auth.models import SmsCode
    from tests.factories import next_phone
    from tests.sms_file import last_code
    from tests.test_security import parallel

    known, unknown = next_phone(), next_phone()
    make_user(app, phone=known)

    def ask(phone: str) -> Any:
        return lambda: _http(slow_hash_server, "POST", "/api/oauth/sms/code", {"phone": phone})[0]

    statuses = parallel([ask(known)] * 10 + [ask(unknown)] * 10)
    assert sorted(statuses[:10]) == sorted(statuses[10:]) == [200] + [429] * 9, statuses
    assert len(last_code(known, instance_dir)) == 6  # the one code arrives
    stored = query(app, lambda: dict(db.session.execute(select(SmsCode.phone, func.count()).where(
        SmsCode.phone.in_([known, unknown])).group_by(SmsCode.phone)).all()))
    assert stored == {known: 1, unknown: 1}


def test_one_address_asks_for_at_most_its_codes_per_hour_even_all_at_once(app: Any, api: ApiClient,
                                                                           slow_hash_server: Any) -> None:
    """Review (session 15): one client, not signed in, asked for codes for 2,000 phones in ten seconds (one per
    phone per cooldown was the only limit), which texts every employee whose phone it tries. An address gets
    sys.sms.maxPerAddress codes an hour, whatever the phones, also when its requests come at once over several
    processes; another address is not held up by it (the sign-in page calls the same service with its address)."""
    from pcloud.auth.models import SmsCode
    from tests.factories import next_phone
    from tests.test_security import parallel

    api.data("PUT", "/api/admin/config/modify", {"key": "sys.sms.maxPerAddress", "value": 3})
    phones = [next_phone() for _ in range(12)]

    def ask(phone: str) -> Any:
        return lambda: _http(slow_hash_server, "POST", "/api/oauth/sms/code", {"phone": phone})

    answers = parallel([ask(phone) for phone in phones])
    assert sorted(status for status, _ in answers) == [200] * 3 + [429] * 9, answers
    assert {body["msg"] for status, body in answers if status == 429} == {"此地址请求验证码过于频繁，请一小时后再试"}
    stored = query(app, lambda: db.session.execute(select(SmsCode.ip, func.count()).where(
        SmsCode.phone.in_(phones)).group_by(SmsCode.ip)).all())
    assert [tuple(row) for row in stored] == [("127.0.0.1", 3)]
    other = ApiClient(app.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert other.post("/api/oauth/sms/code", {"phone": next_phone()}).status_code == 200
    for _ in range(3):
        other.post("/api/oauth/sms/code", {"phone": next_phone()})
    refused = other.post("/api/oauth/sms/code", {"phone": next_phone()})
    assert refused.status_code == 429 and "此地址" in refused.get_json()["msg"]


def test_parallel_wrong_passwords_from_one_address_check_at_most_its_limit(app: Any, slow_hash_server: Any) -> None:
    """Guesses spread over many phones from one address, at once: no more are checked than the address has left
    (here 4: it failed all the others of its limit earlier in the window), the rest are refused unchecked, and
    the address is locked afterwards."""
    from pcloud.auth.service import _ip_key
    from pcloud.core.timefmt import utcnow
    from tests.factories import next_phone
    from tests.test_security import parallel

    left = 4
    _write(app, "INSERT INTO auth_login_lock (phone, failures, window_start) VALUES (:key, :failures, :now)",
           key=_ip_key("127.0.0.1"), failures=int(SLOW_HASH_ENV["PCLOUD_LOGIN_MAX_IP_FAILURES"]) - left,
           now=utcnow())

    def guess(phone: str) -> Any:
        return lambda: _http(slow_hash_server, "POST", "/api/oauth/token",
                             {"phone": phone, "password": "Wrong1234", "grantType": "ADMIN"})[0]

    statuses = parallel([guess(next_phone()) for _ in range(16)])
    assert sorted(statuses) == [401] * left + [429] * (16 - left), statuses
    status, body = _http(slow_hash_server, "POST", "/api/oauth/token",
                         {"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD, "grantType": "ADMIN"})
    assert status == 429 and "该地址登录失败次数过多" in body["msg"]


def test_one_sms_code_sent_by_parallel_sign_ins_opens_one_session(app: Any, anon: ApiClient) -> None:
    from tests.test_security import parallel

    assert anon.post("/api/oauth/sms/code", json={"phone": ADMIN_PHONE}).status_code == 200
    code = received_code(ADMIN_PHONE)

    def sign_in() -> int:
        return ApiClient(app.test_client()).post("/api/oauth/token", json={
            "phone": ADMIN_PHONE, "verifyCode": code, "grantType": "SMS"}).status_code

    assert sorted(parallel([sign_in] * 4)) == [200, 401, 401, 401]
    assert query(app, lambda: db.session.execute(select(func.count()).select_from(UserSession)).scalar()) == 1


def test_an_sms_sign_in_is_refused_once_the_phone_moved_to_another_user(app: Any, anon: ApiClient) -> None:
    """The code was sent to a phone: a user who no longer has that phone is not signed in by it."""
    phone = "13900007703"
    uid = make_user(app, phone=phone)
    assert anon.post("/api/oauth/sms/code", json={"phone": phone}).status_code == 200
    code = received_code(phone)
    _write(app, "UPDATE sys_user SET phone = '13900007704' WHERE id = :uid", uid=uid)
    assert token_call(anon, phone=phone, verifyCode=code, grantType="SMS").status_code == 401
    assert query(app, lambda: db.session.execute(select(func.count()).select_from(UserSession)).scalar()) == 0


def test_a_disable_right_after_the_page_sign_in_stored_its_session_is_a_refusal_not_a_500(
        app: Any, monkeypatch: Any) -> None:
    """The page loads the principal from the session it just stored: disabled in between, the page says so."""
    from pcloud.auth import service
    from tests.conftest import PageClient

    phone = "13900007705"
    uid = make_user(app, phone=phone, password="Passw0rd1")
    real_sign_in = service.sign_in

    def sign_in_then_disabled(*args: Any, **kw: Any) -> Any:
        answer = real_sign_in(*args, **kw)
        with app.app_context():
            from pcloud.users import service as user_service

            user_service.modify_user({"id": uid, "state": 1}, None)  # another request, committed meanwhile
            db.session.remove()
        return answer

    monkeypatch.setattr(service, "sign_in", sign_in_then_disabled)
    resp = PageClient(app.test_client()).sign_in(phone, "Passw0rd1")
    assert_refused(app, resp, "登录", 401, "账号已被禁用，如有疑问请联系管理员")
    assert "账号已被禁用" in resp.get_data(as_text=True)


@pytest.mark.skipif(not is_postgres(), reason="NOTIFY is PostgreSQL's; SQLite's data version moves synchronously")
def test_this_processs_own_write_counts_the_moment_it_commits(app: Any, api: ApiClient) -> None:
    """A notification travels asynchronously, so a process's next request may come before its own write's
    NOTIFY does: the process counts its own committed writes at once. A read-only request moves nothing."""
    from pcloud.users.models import User

    assert api.post(ADMIN_INFO).status_code == 200
    cache = app.extensions["pcloud.principal_cache"]
    before = cache.signal.current()
    assert api.post(ADMIN_INFO).status_code == 200
    assert cache.signal.current()[2] == before[2]  # type: ignore[index]  # a read commits no write
    with app.app_context():
        db.session.execute(update(User).where(User.phone == "13800000000").values(name="改名的管理员"))
        db.session.commit()
    assert cache.signal.current()[2] == before[2] + 1  # type: ignore[index]


# ---------------------------------------------------------------------------------------------
# A password someone else set must be changed first (sys.password.changeAtFirstSignIn; every generated one)

FORCE = "sys.password.changeAtFirstSignIn"
CHANGE_FIRST = "首次登录请先修改密码"
# The only views a user who must change the password may use (besides public ones and static files).
ALLOWED_BEFORE_CHANGE = {"auth_api.change_password", "auth_api.logout", "auth_api.admin_info", "auth.profile"}


def _set_force(api: ApiClient, on: bool) -> None:
    api.data("PUT", "/api/admin/config/modify", {"key": FORCE, "value": on})


def _must_change(app: Any, user_id: int) -> bool:
    from pcloud.users.models import User

    return query(app, lambda: db.session.get(User, user_id).password_change_required)


def _create_user_by_api(api: ApiClient, password: str = "Passw0rd1") -> tuple[int, str]:
    from tests.factories import next_phone

    phone = next_phone()
    user_id = api.data("POST", "/api/admin/system/user/create", {"phone": phone, "name": f"新人{phone[-4:]}",
                                                                 "password": password})
    return user_id, phone


def test_parameter_off_a_new_user_signs_in_and_works_unhindered(app: Any, api: ApiClient) -> None:
    user_id, phone = _create_user_by_api(api)
    assert not _must_change(app, user_id)
    body = token_call(ApiClient(app.test_client()), phone=phone, password="Passw0rd1", grantType="ADMIN").get_json()
    assert body["data"]["passwordChangeRequired"] is False
    signed = ApiClient(app.test_client(), body["data"]["token"])
    assert signed.post("/api/admin/system/user/page").status_code == 403  # no grant: the ordinary refusal
    assert CHANGE_FIRST not in signed.post("/api/admin/system/user/page").get_json()["msg"]


def test_parameter_on_api_user_is_held_to_the_password_change_then_freed(app: Any, api: ApiClient) -> None:
    _set_force(api, True)
    user_id, phone = _create_user_by_api(api)
    assert _must_change(app, user_id)
    anon = ApiClient(app.test_client())
    resp = token_call(anon, phone=phone, password="Passw0rd1", grantType="ADMIN")
    body = resp.get_json()
    assert resp.status_code == 200 and body["data"]["passwordChangeRequired"] is True and body["data"]["token"]
    user = ApiClient(app.test_client(), body["data"]["token"])
    refused = api_error(user.post("/api/admin/system/user/page"), 403)
    assert refused["msg"].startswith(CHANGE_FIRST)
    assert api_error(user.post("/api/admin/log/login/page"), 403)["msg"].startswith(CHANGE_FIRST)
    assert user.data("POST", "/api/admin/system/adminInfo")["id"] == user_id  # the profile read stays open
    same = user.post("/api/oauth/password", {"oldPassword": "Passw0rd1", "newPassword": "Passw0rd1"})
    assert api_error(same, 422)["msg"] == "新密码不能与原密码相同"
    assert user.data("POST", "/api/oauth/password", {"oldPassword": "Passw0rd1", "newPassword": "Changed123"}) is None
    assert not _must_change(app, user_id)
    assert user.post("/api/admin/log/login/page").get_json()["msg"] != refused["msg"]  # the ordinary rules again
    again = token_call(anon, phone=phone, password="Changed123", grantType="ADMIN").get_json()["data"]
    assert again["passwordChangeRequired"] is False
    assert ApiClient(app.test_client(), body["data"]["token"]).post("/api/oauth/logout").status_code == 200


def test_an_administrators_reset_requires_a_change_only_while_the_parameter_is_on(app: Any, api: ApiClient) -> None:
    user_id, phone = _create_user_by_api(api)
    api.data("PUT", "/api/admin/system/user/modify", {"id": user_id, "password": "Reset1234"})
    assert not _must_change(app, user_id)
    _set_force(api, True)
    api.data("PUT", "/api/admin/system/user/modify", {"id": user_id, "password": "Reset5678"})
    assert _must_change(app, user_id)
    _set_force(api, False)  # the flag of a password already set stays until its user changes it
    assert token_call(ApiClient(app.test_client()), phone=phone, password="Reset5678",
                      grantType="ADMIN").get_json()["data"]["passwordChangeRequired"] is True


def test_parameter_on_the_console_sends_the_user_to_the_password_page(app: Any, api: ApiClient) -> None:
    from tests.conftest import PageClient

    _set_force(api, True)
    user_id, phone = _create_user_by_api(api)
    user = PageClient(app.test_client())
    assert user.sign_in(phone, "Passw0rd1").status_code == 302
    home = user.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/profile")
    page = user.get("/profile")
    assert page.status_code == 200 and CHANGE_FIRST in page.get_data(as_text=True)  # the flash says why
    assert 'data-testid="password-change-required"' in user.get("/profile").get_data(as_text=True)  # and stays
    assert user.get("/system/user/").headers["Location"].endswith("/profile")
    assert user.get("/static/css/app.css").status_code in (200, 404)  # static files are never redirected
    resp = user.submit("/profile", data={"which": "password", "pw-old_password": "Passw0rd1",
                                         "pw-new_password": "Changed123", "pw-confirm_password": "Changed123"})
    assert resp.status_code == 302 and not _must_change(app, user_id)
    assert user.get("/").status_code == 200
    assert 'data-testid="password-change-required"' not in user.get("/profile").get_data(as_text=True)
    assert user.submit("/profile", action="/logout").status_code == 302


def test_a_forced_change_goes_on_to_the_page_the_user_signed_in_for(app: Any, api: ApiClient) -> None:
    """Signed in for a page (`next`, or a bookmark) while the password must be changed: held on 个人中心, and the
    change goes on to that page, not left on 个人中心 with the page asked for lost."""
    from tests.conftest import PageClient, csrf_from

    _set_force(api, True)
    _user_id, phone = _create_user_by_api(api)
    user = PageClient(app.test_client())
    token = csrf_from(user.client.get("/login?next=/notices/").get_data(as_text=True))
    signed_in = user.client.post("/login?tab=password", data={"pw-csrf_token": token, "pw-phone": phone,
                                                               "pw-password": "Passw0rd1", "pw-next": "/notices/"})
    assert signed_in.headers["Location"].endswith("/notices/")
    held = user.get("/notices/")
    assert held.status_code == 302 and held.headers["Location"].endswith("/profile")
    resp = user.submit("/profile", data={"which": "password", "pw-old_password": "Passw0rd1",
                                         "pw-new_password": "Changed123", "pw-confirm_password": "Changed123"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/notices/")
    assert "密码已修改" in user.get("/notices/").get_data(as_text=True)
    again = user.submit("/profile", data={"which": "password", "pw-old_password": "Changed123",
                                          "pw-new_password": "Changed456", "pw-confirm_password": "Changed456"})
    assert again.headers["Location"].endswith("/profile")  # an ordinary change stays on 个人中心


def test_an_imported_user_with_a_generated_password_must_change_it_even_with_the_parameter_off(
        app: Any, api: ApiClient) -> None:
    from pcloud.core.passwords import GENERATED_PREFIX
    from pcloud.users.models import User
    from tests.test_users import import_file, next_phone_for_import, post_import

    chosen, generated = next_phone_for_import(), next_phone_for_import()
    rows = [["张三", chosen, "", "", "", "", "正常", "Chosen123"], ["李四", generated, "", "", "", "", "正常", ""]]
    data = post_import(api, import_file(rows), dry_run=False).get_json()["data"]
    password = data["passwords"][0]["password"]
    flags = query(app, lambda: {u.phone: u.password_change_required for u in db.session.execute(
        select(User).where(User.phone.in_([chosen, generated]))).scalars()})
    assert flags == {chosen: False, generated: True}
    body = token_call(ApiClient(app.test_client()), phone=generated, password=password,
                      grantType="ADMIN").get_json()["data"]
    assert body["passwordChangeRequired"] is True
    user = ApiClient(app.test_client(), body["token"])
    assert api_error(user.post("/api/admin/system/user/page"), 403)["msg"].startswith(CHANGE_FIRST)
    assert user.data("POST", "/api/oauth/password", {"oldPassword": password, "newPassword": "Mine12345"}) is None
    stored = query(app, lambda: db.session.execute(select(User).where(User.phone == generated)).scalar_one())
    assert not stored.password_change_required
    assert stored.password_hash.startswith("$2") and not stored.password_hash.startswith(GENERATED_PREFIX)


def test_an_import_with_the_parameter_on_flags_typed_passwords_too(app: Any, api: ApiClient) -> None:
    from pcloud.users.models import User
    from tests.test_users import import_file, next_phone_for_import, post_import

    _set_force(api, True)
    phone = next_phone_for_import()
    post_import(api, import_file([["王五", phone, "", "", "", "", "正常", "Chosen123"]]), dry_run=False)
    assert query(app, lambda: db.session.execute(select(User.password_change_required).where(
        User.phone == phone)).scalar_one()) is True


def test_open_accounts_are_never_held(app: Any) -> None:
    from pcloud.auth.service import must_change_password
    from pcloud.core.security import Principal

    account = Principal(kind="open", id=1, name="x", phone=None, avatar=None, role_ids=frozenset(),
                        role_codes=frozenset(), session_id=1, token="t", password_change_required=True)
    assert must_change_password(account) is False


def test_route_audit_every_route_but_the_allowed_ones_refuses_while_a_change_is_required(
        app: Any, api: ApiClient) -> None:
    """Enumerates the app's routes, so a route added later cannot forget the rule."""
    import re

    from pcloud.core.security import PUBLIC_ENDPOINTS
    from tests.conftest import PageClient, csrf_from

    _set_force(api, True)
    user_id, phone = _create_user_by_api(api)
    token = token_call(ApiClient(app.test_client()), phone=phone, password="Passw0rd1",
                       grantType="ADMIN").get_json()["data"]["token"]
    user_api = ApiClient(app.test_client(), token)
    user_pages = PageClient(app.test_client())
    assert user_pages.sign_in(phone, "Passw0rd1").status_code == 302
    csrf = csrf_from(user_pages.get("/profile").get_data(as_text=True))

    def flag(endpoint: str, name: str) -> bool:
        return bool(getattr(app.view_functions.get(endpoint), name, False))

    allowed, checked, wrong = set(), 0, []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or flag(rule.endpoint, "_public"):
            continue
        if flag(rule.endpoint, "_before_password_change"):
            allowed.add(rule.endpoint)
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            checked += 1
            if rule.rule.startswith("/api/"):
                resp = user_api.call(method, path, {} if method in ("POST", "PUT") else None)
                body = resp.get_json(silent=True) or {}
                if resp.status_code != 403 or not str(body.get("msg", "")).startswith(CHANGE_FIRST):
                    wrong.append((method, rule.rule, resp.status_code))
            else:
                resp = user_pages.client.open(path, method=method, headers={"X-CSRFToken": csrf})
                if resp.status_code != 302 or not resp.headers["Location"].endswith("/profile"):
                    wrong.append((method, rule.rule, resp.status_code))
    assert allowed == ALLOWED_BEFORE_CHANGE
    assert checked > 100 and wrong == []
    assert _must_change(app, user_id)  # nothing on the way changed it


# ---------------------------------------------------------------------------------------------
# English (issue 24 item 10): the sign-in and profile pages, auth's refusals and flashes; the login log keeps
# storing the Chinese source of a reason (shown in its reader's language by the login-log pages).


def _english(html: str) -> None:

    left = chinese_on_page(html)
    assert not left, left


def test_the_sign_in_page_in_english_with_each_tab_and_a_refusal(app: Any, anon_pages: Any) -> None:
    from pcloud.loginlog.models import LoginLog
    from tests.conftest import csrf_from, set_language

    set_language(anon_pages.client, "en")
    page = anon_pages.get("/login").get_data(as_text=True)
    _english(page)
    assert "Sign in" in page and "SMS code" in page and "Get a code" in page
    _english(anon_pages.get("/login?tab=sms").get_data(as_text=True))
    token = csrf_from(page)
    empty = anon_pages.client.post("/login?tab=password", data={"pw-csrf_token": token})
    assert empty.status_code == 422
    _english(empty.get_data(as_text=True))
    assert "Please enter the phone number" in empty.get_data(as_text=True)
    wrong = anon_pages.client.post("/login?tab=password", data={"pw-csrf_token": token, "pw-phone": ADMIN_PHONE,
                                                                "pw-password": "not-the-password"})
    assert wrong.status_code == 401
    _english(wrong.get_data(as_text=True))
    assert "Wrong phone or password" in wrong.get_data(as_text=True)
    bad_code = anon_pages.client.post("/login?tab=sms", data={"sms-csrf_token": token, "sms-phone": ADMIN_PHONE,
                                                              "sms-verify_code": "12"})
    assert bad_code.status_code == 422 and "The code is 6 digits" in bad_code.get_data(as_text=True)
    _english(bad_code.get_data(as_text=True))
    sent = anon_pages.client.post("/login/sms-code", data={"csrf_token": token, "phone": ADMIN_PHONE},
                                  headers={"Accept": "application/json"})
    assert sent.get_json() == {"ok": True, "msg": "The code was sent, check your SMS"}
    received_code(ADMIN_PHONE)  # taken, so that no later test reads it as its own
    again = anon_pages.client.post("/login/sms-code", data={"csrf_token": token, "phone": ADMIN_PHONE},
                                   headers={"Accept": "application/json"})
    assert again.status_code == 429 and again.get_json()["msg"].startswith("Codes are sent too often")
    # what the login log stores stays the source text, whatever language the attempt was made in
    reasons = query(app, lambda: [r.reason for r in db.session.scalars(
        select(LoginLog).where(LoginLog.result == 1).order_by(LoginLog.id))])
    assert reasons == ["手机号或密码错误"]


def test_a_wrong_password_through_the_api_is_refused_in_english(app: Any, anon: ApiClient) -> None:
    from pcloud.loginlog.models import LoginLog

    english = {"Accept-Language": "en"}
    wrong = anon.call("POST", "/api/oauth/token", {"phone": ADMIN_PHONE, "password": "nope", "grantType": "ADMIN"},
                      headers=english)
    assert wrong.status_code == 401 and wrong.get_json()["msg"] == "Wrong phone or password"
    missing = anon.call("POST", "/api/oauth/token", {"phone": ADMIN_PHONE, "grantType": "ADMIN"}, headers=english)
    body = missing.get_json()
    assert missing.status_code == 422 and body["msg"] == "Validation failed: password: This field is required."
    assert body["errors"] == {"password": ["This field is required."]}
    grant = anon.call("POST", "/api/oauth/token", {"phone": ADMIN_PHONE, "password": "x", "grantType": "XX"},
                      headers=english).get_json()
    assert grant["msg"] == "grantType must be ADMIN, SMS or OPEN"
    chinese = anon.call("POST", "/api/oauth/token", {"phone": ADMIN_PHONE, "password": "nope", "grantType": "ADMIN"})
    assert chinese.get_json()["msg"] == "手机号或密码错误"
    reasons = query(app, lambda: [r.reason for r in db.session.scalars(
        select(LoginLog).where(LoginLog.result == 1).order_by(LoginLog.id))])
    assert reasons == ["手机号或密码错误", "参数校验失败", "grantType 必须是 ADMIN、SMS 或 OPEN", "手机号或密码错误"]


def test_the_profile_and_password_pages_in_english(app: Any, english_pages: Any) -> None:
    from pcloud.users.models import User

    english_pages.get("/")  # the welcome of the sign-in before the language was chosen is shown there, once
    page = english_pages.get("/profile")
    assert page.status_code == 200
    _english(page.get_data(as_text=True))
    assert "My account" in page.get_data(as_text=True)
    saved = english_pages.submit("/profile", data={"which": "profile", "profile-name": "Alice Admin"},
                                 follow_redirects=True)
    assert saved.status_code == 200 and "Profile saved" in saved.get_data(as_text=True)
    _english(saved.get_data(as_text=True))
    refused = english_pages.submit("/profile", data={"which": "password", "pw-old_password": "x",
                                                     "pw-new_password": "short", "pw-confirm_password": "other"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "The password must have at least 8 characters" in html and "The two passwords do not match" in html
    assert 'data-testid="retype-note"' in html
    _english(html)
    # a password an administrator set: the guard's warning and the profile's notice, in English
    query(app, lambda: (db.session.execute(update(User).where(User.phone == ADMIN_PHONE)
                                           .values(password_change_required=True)), db.session.commit()))
    home = english_pages.get("/", follow_redirects=True)
    html = home.get_data(as_text=True)
    assert "Change your password first" in html and 'data-testid="password-change-required"' in html
    _english(html)


def test_the_reason_a_session_ended_is_said_in_english(app: Any, api: ApiClient) -> None:
    from tests.conftest import set_language

    client = _signed_in_page_client(app, "13900001502")
    set_language(client.client, "en")
    user_id = query(app, lambda: db.session.execute(
        select(UserSession.user_id).where(UserSession.kind == "web").order_by(UserSession.id.desc())).scalar())
    assert api.get(f"/api/admin/system/user/{user_id}/offline").status_code == 200
    resp = client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "An administrator signed you out, please sign in again" in html
    _english(html)


def test_a_sign_in_stores_the_password_again_at_the_configured_cost(app: Any, anon: ApiClient, anon_pages: Any,
                                                                    monkeypatch: Any) -> None:
    """A hash of another cost (the original system's $2a$10$, or a cost changed since) is replaced at the next
    successful sign-in by one of the configured cost, through either door, without ending a session; a refused
    sign-in and an open account's key (random, long) keep theirs."""
    from pcloud.core.passwords import verify_password
    from pcloud.openplatform.models import OpenAccount
    from pcloud.users.models import User
    from tests.factories import next_phone

    phone = next_phone()
    user_id = make_user(app, phone=phone, password="Passw0rd1")  # at the test config's cost, 4
    _account_id, secure_id, key = _open_account(app)

    def stored(model: Any = User, column: str = "password_hash", row_id: int = user_id) -> str:
        return query(app, lambda: db.session.execute(select(getattr(model, column)).where(
            model.id == row_id)).scalar_one())

    def sign_in(password: str = "Passw0rd1") -> Any:
        return token_call(anon, phone=phone, password=password, grantType="ADMIN")

    first = sign_in().get_json()["data"]["token"]
    at_four = stored()
    assert at_four.startswith("$2b$04$")  # the configured cost already: left as it is
    assert sign_in().status_code == 200 and stored() == at_four

    monkeypatch.setitem(app.config, "PCLOUD_BCRYPT_ROUNDS", 5)
    assert sign_in("Wrong1234").status_code == 401 and stored() == at_four
    key_hash = stored(OpenAccount, "secure_key_hash", _account_id)
    assert token_call(anon, secureId=secure_id, secureKey=key, grantType="OPEN").status_code == 200
    assert stored(OpenAccount, "secure_key_hash", _account_id) == key_hash
    assert sign_in().status_code == 200
    at_five = stored()
    with app.app_context():
        assert at_five.startswith("$2b$05$") and verify_password("Passw0rd1", at_five)
    assert anon.post(ADMIN_INFO, token=first).status_code == 200  # the earlier session goes on

    monkeypatch.setitem(app.config, "PCLOUD_BCRYPT_ROUNDS", 4)  # the page's sign-in form: the same check
    assert anon_pages.sign_in(phone, "Passw0rd1").status_code == 302
    assert stored().startswith("$2b$04$") and stored() != at_four


@pytest.mark.parametrize("meanwhile, status", [("Passw0rd1", 200), ("Changed99", 401)])
def test_a_sign_in_whose_hash_moved_meanwhile_is_checked_again(app: Any, anon: ApiClient, monkeypatch: Any,
                                                              meanwhile: str, status: int) -> None:
    """Between the check and the session's write, a parallel sign-in stores the same password again at the
    configured cost (or the owner changes it): the sign-in is checked once more against what is stored now, so
    the same password goes through, and a changed one is refused."""
    from pcloud.auth import service
    from pcloud.auth.models import LoginLock
    from pcloud.core.passwords import hash_password
    from tests.factories import next_phone

    phone = next_phone()
    user_id = make_user(app, phone=phone, password="Passw0rd1")
    check = service.authenticate_password
    checks: list[int] = []

    def check_then_hash_moves(*args: Any, **kwargs: Any) -> Any:
        checked = check(*args, **kwargs)
        checks.append(1)
        if len(checks) == 1:
            with app.app_context():  # hashed at the configured cost, in the request's app
                moved = hash_password(meanwhile)
            _write(app, "UPDATE sys_user SET password_hash = :h WHERE id = :uid", h=moved, uid=user_id)
        return checked

    monkeypatch.setattr(service, "authenticate_password", check_then_hash_moves)
    assert token_call(anon, phone=phone, password="Passw0rd1", grantType="ADMIN").status_code == status
    assert len(checks) == (2 if status == 200 else 1)
    with app.app_context():  # checked twice, counted once: a refusal is one failure, a success clears the count
        counted = db.session.get(LoginLock, phone)
        assert (counted.failures if counted else 0) == (0 if status == 200 else 1)


def test_a_disabled_or_frozen_open_account_s_sign_in_is_refused_in_english(api: ApiClient, anon: ApiClient) -> None:
    """An English client (Accept-Language: en) signing in with a disabled or frozen open account read the Chinese
    开放平台账号已禁用 / 已冻结 in its 403; the login log stores the source text, said in each reader's language."""
    acct = api.data("POST", "/api/open/admin/account/create", {"name": "订单系统"})
    en = {"Accept-Language": "en"}
    for status, english in ((1, "The open account is disabled"), (2, "The open account is frozen")):
        api.data("PUT", "/api/open/admin/account/status", {"id": acct["id"], "status": status})
        refused = anon.post("/api/oauth/token", {"grantType": "OPEN", "secureId": acct["secureId"],
                                                 "secureKey": acct["secureKey"]}, headers=en)
        assert api_error(refused, 403)["msg"] == english
        logged = api.post("/api/admin/log/login/page", {"phone": acct["secureId"], "result": 1},
                          headers=en).get_json()["data"]
        assert logged[0]["reason"] == english, logged
    chinese = api.data("POST", "/api/admin/log/login/page", {"phone": acct["secureId"], "result": 1})
    assert [r["reason"] for r in chinese] == ["开放平台账号已冻结", "开放平台账号已禁用"]


def test_the_profile_page_is_called_by_the_name_its_messages_and_the_inbox_give_it(api: Any, app: Any) -> None:
    """A review: the profile page was titled 我的资料 (My profile) while the refusal that sends people there and the
    inbox's breadcrumb said 个人中心 (My account), two names for one page. It is 个人中心 / My account everywhere."""
    import re

    from pcloud.users.models import User
    from tests.conftest import PageClient, set_language

    client = PageClient(app.test_client())
    client.sign_in()
    html = client.get("/profile").get_data(as_text=True)
    assert "我的资料" not in html and re.search(r"<title>个人中心 ·", html) and ">个人中心</h1>" in html
    assert "个人中心" in client.get("/mail/").get_data(as_text=True)
    set_language(client.client, "en")
    english = client.get("/profile").get_data(as_text=True)
    assert "My profile" not in english and re.search(r"<title>My account ·", english) and ">My account</h1>" in english
    assert "My account" in client.get("/mail/").get_data(as_text=True)
    me = query(app, lambda: db.session.execute(select(User.id).where(User.phone == ADMIN_PHONE)).scalar_one())
    refused = api.put("/api/admin/system/user/modify", {"id": me, "password": "Taken999x"},
                      headers={"Accept-Language": "en"})
    assert refused.status_code == 422 and "My account" in refused.get_json()["msg"]
