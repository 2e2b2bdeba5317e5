"""开放平台: accounts (key shown once, status, reset, delete, each revoking tokens at once), the interface
catalogue and per-account grants, and the OPEN grant of /api/oauth/token checked by the same permission
check as users; hidden account roles stay out of the role pages and API. Pages at the end."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from pcloud.actionlog.models import ActionLog
from pcloud.extensions import db
from pcloud.openplatform.models import OpenAccount
from pcloud.roles.models import Role
from tests.conftest import (
    ApiClient,
    PageClient,
    api_error,
    assert_refused,
    assert_save_after_delete_keeps_typed,
    last_action,
)
from tests.factories import make_user, query

OPEN = "/api/open/admin"
SEG = "/api/integration/segment"


@pytest.fixture(autouse=True)
def _forget_cached_principals() -> None:
    """Account ids restart with every wiped database; a real one never reuses them."""
    from pcloud.openplatform import service

    service._principals.clear()


def make_account(api: ApiClient, name: str = "订单系统", **extra: Any) -> dict[str, Any]:
    return api.data("POST", f"{OPEN}/account/create", {"name": name, **extra})


def open_token(anon: ApiClient, secure_id: str, secure_key: str) -> Any:
    return anon.client.post("/api/oauth/token", json={"secureId": secure_id, "secureKey": secure_key,
                                                      "grantType": "OPEN"})


def signed_in(anon: ApiClient, acct: dict[str, Any]) -> str:
    resp = open_token(anon, acct["secureId"], acct["secureKey"])
    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()["data"]
    assert data["tokenHead"] == "Bearer " and data["profile"]["secureId"] == acct["secureId"]
    return data["token"]


def catalogue(api: ApiClient) -> dict[str, int]:
    return {e["resourceUrl"]: e["id"] for e in api.data("POST", f"{OPEN}/resource/list", {})}


def grant_segments(api: ApiClient, account_id: int) -> None:
    entries = catalogue(api)
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": account_id, "resourceIds": [
        entries["/api/integration/segment/get/{bizTag}"], entries["/api/integration/segment/batch/{bizTag}/{count}"]]})


def test_account_lifecycle_and_key_shown_once(api: ApiClient, app: Any) -> None:
    acct = make_account(api, remark="对接订单")
    assert set(acct) == {"id", "secureId", "secureKey"} and len(acct["secureKey"]) >= 32
    body = api.post(f"{OPEN}/account/page", {}).get_json()
    assert body["total"] == 1
    item = body["data"][0]
    assert (item["name"], item["secureId"], item["status"], item["remark"]) == ("订单系统", acct["secureId"], 0,
                                                                                 "对接订单")
    assert "secureKey" not in item and acct["secureKey"] not in str(body)
    view = api.get(f"{OPEN}/account/{acct['id']}/view").get_json()
    assert view["code"] == 200 and "secureKey" not in view["data"] and "重置" in view["msg"]
    assert view["data"]["gmtCreatedName"] == "超级管理员"
    stored = query(app, lambda: db.session.get(OpenAccount, acct["id"]).secure_key_hash)
    assert stored != acct["secureKey"] and stored.startswith("$2")
    assert api.data("PUT", f"{OPEN}/account/modify", {"id": acct["id"], "name": "订单中心", "remark": ""}) == acct["id"]
    make_account(api, name="支付")
    assert [i["name"] for i in api.post(f"{OPEN}/account/page", {"name": "订单"}).get_json()["data"]] == ["订单中心"]
    api.data("PUT", f"{OPEN}/account/status", {"id": acct["id"], "status": 1})
    assert [i["name"] for i in api.post(f"{OPEN}/account/page", {"status": 1}).get_json()["data"]] == ["订单中心"]
    api_error(api.put(f"{OPEN}/account/status", {"id": acct["id"], "status": 3}), 422)
    api_error(api.post(f"{OPEN}/account/create", {"name": ""}), 422)
    api_error(api.post(f"{OPEN}/account/create", {"name": "x", "secureKey": "mine"}), 422)
    api_error(api.get(f"{OPEN}/account/99999/view"), 404)
    api.data("DELETE", f"{OPEN}/account/{acct['id']}/delete")
    api_error(api.get(f"{OPEN}/account/{acct['id']}/view"), 404)
    assert api.post(f"{OPEN}/account/page", {}).get_json()["total"] == 1
    # the key never reaches the action log
    params = query(app, lambda: [r.params for r in db.session.execute(select(ActionLog)).scalars()])
    assert not any(acct["secureKey"] in (p or "") for p in params)


def test_open_grant_right_and_wrong_key(api: ApiClient, anon: ApiClient) -> None:
    acct = make_account(api)
    signed_in(anon, acct)
    body = api_error(open_token(anon, acct["secureId"], acct["secureKey"] + "x"), 401)
    assert "secureKey" in body["msg"]
    api_error(open_token(anon, "op_unknown", acct["secureKey"]), 401)
    api_error(anon.client.post("/api/oauth/token", json={"secureId": acct["secureId"], "grantType": "OPEN"}), 422)


def test_open_token_may_call_exactly_its_grants(api: ApiClient, anon: ApiClient) -> None:
    api.data("POST", "/api/integration/admin/segment/create", {"bizTag": "order", "step": 10})
    acct = make_account(api)
    token = signed_in(anon, acct)
    # nothing granted yet: 403 everywhere, including the admin routes
    api_error(anon.get(f"{SEG}/get/order", token=token), 403)
    api_error(anon.post(f"{OPEN}/account/page", {}, token=token), 403)
    grant_segments(api, acct["id"])
    perms = api.data("POST", f"{OPEN}/resource/permission", {"accountId": acct["id"]})
    assert sorted(p["permission"] for p in perms) == [True, True]
    # the grant applies on the next request, same token
    first = anon.get(f"{SEG}/get/order", token=token).get_json()["data"]
    batch = anon.get(f"{SEG}/batch/order/5", token=token).get_json()["data"]
    assert [int(i) for i in batch] == list(range(int(first) + 1, int(first) + 6))
    api_error(anon.get("/api/integration/admin/segment/cache", token=token), 403)
    api_error(anon.post("/api/integration/admin/segment/page", {}, token=token), 403)
    api_error(anon.post("/api/admin/system/user/page", {}, token=token), 403)
    # narrowing the grant: only batch now
    entries = catalogue(api)
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [
        entries["/api/integration/segment/batch/{bizTag}/{count}"]]})
    api_error(anon.get(f"{SEG}/get/order", token=token), 403)
    assert anon.get(f"{SEG}/batch/order/2", token=token).status_code == 200
    # a grant of something outside the catalogue is refused whole
    user_route = query(api.client.application, lambda: db.session.execute(select(Role.id)).first())
    assert user_route
    body = api_error(api.post(f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [999999]}), 422)
    assert "resourceIds" in body["errors"]
    assert anon.get(f"{SEG}/batch/order/2", token=token).status_code == 200
    assert api.data("GET", f"{OPEN}/resource/{acct['id']}/refresh") is None


def test_catalogue_entry_added_by_admin_and_granted(api: ApiClient, anon: ApiClient, app: Any) -> None:
    acct = make_account(api)
    token = signed_in(anon, acct)
    entry = api.data("POST", f"{OPEN}/resource/create", {"name": "职级列表", "resourceUrl": "/api/admin/grade/page",
                                                         "method": "POST"})
    api_error(api.post(f"{OPEN}/resource/create", {"name": "x", "resourceUrl": "not-a-route"}), 422)
    api_error(api.post(f"{OPEN}/resource/create", {"name": "x", "resourceUrl": "/api/x", "method": "PATCH"}), 422)
    page = api.post(f"{OPEN}/resource/page", {"name": "职级"}).get_json()
    assert page["total"] == 1 and page["data"][0]["resourceUrl"] == "/api/admin/grade/page"
    assert api.post(f"{OPEN}/resource/page", {}).get_json()["total"] == 3  # + the two ID routes from init
    api_error(anon.post("/api/admin/grade/page", {}, token=token), 403)
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [entry]})
    assert anon.post("/api/admin/grade/page", {}, token=token).status_code == 200
    body = api_error(api.delete(f"{OPEN}/resource/{entry}/delete"), 409)
    assert "订单系统" in body["msg"]
    # a granted entry is not widened (409, see below) but may be narrowed: from the page to nothing it had not
    api_error(api.put(f"{OPEN}/resource/modify", {"id": entry, "resourceUrl": "/api/admin/grade/**"}), 409)
    api_error(api.put(f"{OPEN}/resource/modify", {"id": entry, "method": "GET"}), 422)  # no grade route answers GET
    wide = api.data("POST", f"{OPEN}/resource/create", {"name": "职级全部", "resourceUrl": "/api/admin/grade/**",
                                                        "method": "*"})
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [entry, wide]})
    assert anon.post("/api/admin/grade/create", {"name": "P1"}, token=token).status_code == 200
    api.data("PUT", f"{OPEN}/resource/modify", {"id": wide, "resourceUrl": "/api/admin/grade/page", "method": "POST"})
    api_error(anon.post("/api/admin/grade/create", {"name": "P2"}, token=token), 403)  # the pattern changed
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": []})
    api.data("DELETE", f"{OPEN}/resource/{entry}/delete")
    api_error(api.delete(f"{OPEN}/resource/{entry}/delete"), 404)


def test_disable_freeze_reset_and_delete_each_revoke(api: ApiClient, anon: ApiClient) -> None:
    api.data("POST", "/api/integration/admin/segment/create", {"bizTag": "rev"})
    acct = make_account(api)
    grant_segments(api, acct["id"])
    for status, word in ((1, "禁用"), (2, "冻结")):
        token = signed_in(anon, acct)
        assert anon.get(f"{SEG}/get/rev", token=token).status_code == 200
        api.data("PUT", f"{OPEN}/account/status", {"id": acct["id"], "status": status})
        api_error(anon.get(f"{SEG}/get/rev", token=token), 401)
        body = api_error(open_token(anon, acct["secureId"], acct["secureKey"]), 403)
        assert word in body["msg"]
        api.data("PUT", f"{OPEN}/account/status", {"id": acct["id"], "status": 0})
        api_error(anon.get(f"{SEG}/get/rev", token=token), 401)  # revoked for good, not just paused
    token = signed_in(anon, acct)
    new_key = api.data("POST", f"{OPEN}/account/{acct['id']}/resetKey")
    assert isinstance(new_key, str) and new_key != acct["secureKey"]
    api_error(anon.get(f"{SEG}/get/rev", token=token), 401)
    api_error(open_token(anon, acct["secureId"], acct["secureKey"]), 401)
    token = signed_in(anon, {**acct, "secureKey": new_key})
    assert anon.get(f"{SEG}/get/rev", token=token).status_code == 200
    api.data("DELETE", f"{OPEN}/account/{acct['id']}/delete")
    api_error(anon.get(f"{SEG}/get/rev", token=token), 401)
    api_error(open_token(anon, acct["secureId"], new_key), 401)


def test_a_token_the_admin_ended_says_why_on_the_api(api: ApiClient, anon: ApiClient) -> None:
    """An integrator's review: after the administrator reset the key, disabled or deleted the account, or the token
    ran out, every call answered 401 未登录或登录已失效, as for a token never issued, so the calling system could not
    tell "sign in again" from "ask for the new key". The 401 now says why, in the caller's language; a header that
    is not `Bearer <token>` says how to send one."""
    api.data("POST", "/api/integration/admin/segment/create", {"bizTag": "why"})
    acct = make_account(api)
    grant_segments(api, acct["id"])
    token = signed_in(anon, acct)
    new_key = api.data("POST", f"{OPEN}/account/{acct['id']}/resetKey")
    reset = api_error(anon.get(f"{SEG}/get/why", token=token), 401)
    assert reset["msg"] == "开放平台账号的密钥已重置，请用新密钥重新登录"
    english = anon.client.get(f"{SEG}/get/why", headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    assert english.status_code == 401
    assert english.get_json()["msg"] == "The open account's key was reset: sign in again with the new key"
    token = signed_in(anon, {**acct, "secureKey": new_key})
    api.data("PUT", f"{OPEN}/account/status", {"id": acct["id"], "status": 1})
    assert api_error(anon.get(f"{SEG}/get/why", token=token), 401)["msg"] == "开放平台账号已被禁用或冻结，令牌已失效"
    api.data("PUT", f"{OPEN}/account/status", {"id": acct["id"], "status": 0})
    token = signed_in(anon, {**acct, "secureKey": new_key})
    api.data("DELETE", f"{OPEN}/account/{acct['id']}/delete")
    assert api_error(anon.get(f"{SEG}/get/why", token=token), 401)["msg"] == "开放平台账号已被删除"
    bare = anon.client.get(f"{SEG}/get/why", headers={"Authorization": token})
    assert bare.status_code == 401
    assert bare.get_json()["msg"] == "Authorization 请求头须为 Bearer <token>"
    for unknown in ({"Authorization": "Bearer nope"}, {}):  # never a session here, or none sent: as before
        assert anon.client.get(f"{SEG}/get/why", headers=unknown).get_json()["msg"] == "未登录或登录已失效"


def test_an_expired_token_says_it_expired(api: ApiClient, anon: ApiClient, app: Any) -> None:
    """The token's lifetime (expiresIn) ran out: 401 says so, so the client signs in again."""
    from pcloud.sessions.models import UserSession

    api.data("POST", "/api/integration/admin/segment/create", {"bizTag": "late"})
    acct = make_account(api)
    grant_segments(api, acct["id"])
    token = signed_in(anon, acct)

    def expire() -> None:
        from datetime import timedelta

        from sqlalchemy import update

        from pcloud.core.timefmt import utcnow

        db.session.execute(update(UserSession).where(UserSession.open_account_id == acct["id"])
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()

    query(app, expire)
    assert api_error(anon.get(f"{SEG}/get/late", token=token), 401)["msg"] == "令牌已过期，请重新登录获取新令牌"


def test_the_openapi_document_tells_an_integrator_the_rules_of_every_call(anon: ApiClient) -> None:
    """An integrator's review of /api/docs: the document described each operation and nothing else: not the
    envelope and its codes, how long a token lasts (and that there is no refresh), the sign-in lock, English
    messages, nor the ID service's limits. Its description now says them, as API.md does."""
    spec = anon.client.get("/api/openapi.json").get_json()
    said = spec["info"]["description"]
    for needed in ("code", "msg", "timestamp", "data", "errors",  # the envelope
                   "HTTP", "401", "403", "404", "409", "422", "429", "503",  # the statuses
                   "POST /api/oauth/token", "grantType", "OPEN", "Authorization: Bearer", "expiresIn", "12",
                   "Accept-Language: en", "1..1000", "bizTag", "docs/API.md"):
        assert needed in said, needed


def test_a_system_retrying_while_its_account_is_disabled_signs_in_once_it_is_enabled(api: ApiClient,
                                                                                     anon: ApiClient) -> None:
    """An integrator's review: while the administrator had the account disabled, the system kept signing in with
    its right key (403 开放平台账号已禁用 each time); the sixth such attempt answered 429
    登录失败次数过多，账号已锁定，请稍后再试, and once the account was enabled again the right key was still refused
    429 for up to the lock window, though no attempt had guessed anything. A right secret refused for its account's
    state now counts against no lock."""
    acct = make_account(api)
    api.data("PUT", f"{OPEN}/account/status", {"id": acct["id"], "status": 1})
    for _ in range(8):
        assert api_error(open_token(anon, acct["secureId"], acct["secureKey"]), 403)["msg"] == "开放平台账号已禁用"
    api.data("PUT", f"{OPEN}/account/status", {"id": acct["id"], "status": 0})
    assert signed_in(anon, acct)
    for _ in range(5):  # wrong keys still count, and lock at the limit
        api_error(open_token(anon, acct["secureId"], "wrong"), 401)
    api_error(open_token(anon, acct["secureId"], acct["secureKey"]), 429)


def test_the_openapi_error_envelope_looks_like_an_error(anon: ApiClient) -> None:
    """An integrator's review: every refusal in /api/openapi.json (the 422 and default responses) showed the
    example `{"code": 200, "msg": "success"}`, a success. The error envelope's example is now a refusal, with
    `errors` as it comes."""
    spec = anon.client.get("/api/openapi.json").get_json()
    error = spec["components"]["schemas"]["ErrorEnvelope"]["properties"]
    assert error["code"]["example"] == 422 and error["msg"]["example"] == "参数校验失败"
    assert error["errors"]["example"] == {"phone": ["手机号格式不正确"]}
    success = spec["components"]["schemas"]["SegmentIdEnvelope"]["properties"]
    assert success["code"]["example"] == 200 and success["msg"]["example"] == "success"


def test_hidden_roles_stay_out_of_role_pages_and_api(api: ApiClient, app: Any, pages: PageClient) -> None:
    acct = make_account(api, name="隐藏角色账号")
    hidden = query(app, lambda: db.session.execute(select(Role.id, Role.role_code).where(Role.hidden)).all())
    assert [code for _, code in hidden] == [f"OPEN_ACCOUNT_{acct['id']}"]
    role_id = hidden[0][0]
    codes = [r["roleCode"] for r in api.post("/api/admin/role/page", {"pageSize": 200}).get_json()["data"]]
    assert codes and not any(c.startswith("OPEN_") for c in codes)
    api_error(api.get(f"/api/admin/role/{role_id}/menu"), 404)
    api_error(api.delete(f"/api/admin/role/{role_id}/delete"), 404)
    api_error(api.post("/api/admin/permission/grant", {"roleId": role_id, "routers": [], "resources": []}), 404)
    assert "OPEN_ACCOUNT" not in pages.get("/system/role/").get_data(as_text=True)
    body = api.post("/api/admin/system/user/create", {"phone": "13911112222", "name": "甲", "password": "Passw0rd1",
                                                      "roleIds": [role_id]})
    assert body.status_code == 422


def test_a_user_role_granted_the_id_resources_uses_them(api: ApiClient, anon: ApiClient, app: Any) -> None:
    """The ID routes' own resources (synced from the route table) work for users' roles too."""
    from pcloud.resources.models import Resource

    api.data("POST", "/api/integration/admin/segment/create", {"bizTag": "u"})
    role = api.data("POST", "/api/admin/role/create", {"name": "取号", "roleCode": "ROLE_IDS"})
    rid = query(app, lambda: db.session.execute(select(Resource.id).where(
        Resource.resource_url == "/api/integration/segment/get/{biz_tag}", Resource.built_in)).scalar())
    assert rid
    api.data("POST", "/api/admin/permission/grant", {"roleId": role, "routers": [], "resources": [rid]})
    make_user(app, phone="13922223333", password="Passw0rd1", role_codes=("ROLE_IDS",))
    token = anon.sign_in("13922223333", "Passw0rd1")
    assert anon.get(f"{SEG}/get/u", token=token).get_json()["data"] == "1"
    api_error(anon.get(f"{SEG}/batch/u/3", token=token), 403)


# ---------------------------------------------------------------------------------------------
# Pages


def test_pages_create_shows_key_once_then_grant_status_reset_delete(pages: PageClient, anon: ApiClient,
                                                                   api: ApiClient, app: Any) -> None:
    import re

    assert "还没有开放账号" in pages.get("/open/account/").get_data(as_text=True)
    resp = pages.submit("/open/account/new", data={"name": "报表系统", "remark": "夜间取数"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    key = re.search(r'id="secure-key" value="([^"]+)"', html).group(1)
    secure_id = re.search(r'id="secure-id" value="([^"]+)"', html).group(1)
    assert "只显示这一次" in html and 'data-copy="#secure-key"' in html and "js/copy.js" in html
    account_id = query(app, lambda: db.session.execute(select(OpenAccount.id)).scalar())
    listing = pages.get("/open/account/").get_data(as_text=True)
    assert "报表系统" in listing and secure_id in listing and key not in listing
    assert key not in pages.get(f"/open/account/{account_id}/edit").get_data(as_text=True)
    assert pages.submit("/open/account/new", data={"name": ""}).status_code == 422

    resp = pages.submit(f"/open/account/{account_id}/edit", data={"name": "报表中心", "remark": ""})
    assert resp.status_code == 302

    api.data("POST", "/api/integration/admin/segment/create", {"bizTag": "rpt"})
    entries = catalogue(api)
    get_entry = entries["/api/integration/segment/get/{bizTag}"]
    grant_page = pages.get(f"/open/account/{account_id}/grant").get_data(as_text=True)
    assert "号段取号（单个）" in grant_page
    resp = pages.submit(f"/open/account/{account_id}/grant", data={"entry_ids": [str(get_entry)]})
    assert resp.status_code == 302
    token = signed_in(anon, {"secureId": secure_id, "secureKey": key})
    assert anon.get(f"{SEG}/get/rpt", token=token).status_code == 200
    api_error(anon.get(f"{SEG}/batch/rpt/2", token=token), 403)
    resp = pages.submit(f"/open/account/{account_id}/grant", data={"entry_ids": ["999999"]})
    assert resp.status_code == 422

    resp = pages.submit("/open/account/", f"/open/account/{account_id}/freeze")
    assert resp.status_code == 302
    assert "冻结" in pages.get("/open/account/", follow_redirects=True).get_data(as_text=True)
    api_error(anon.get(f"{SEG}/get/rpt", token=token), 401)
    pages.submit("/open/account/", f"/open/account/{account_id}/enable")
    token = signed_in(anon, {"secureId": secure_id, "secureKey": key})

    resp = pages.submit("/open/account/", f"/open/account/{account_id}/reset-key")
    html = resp.get_data(as_text=True)
    new_key = re.search(r'id="secure-key" value="([^"]+)"', html).group(1)
    assert resp.status_code == 200 and new_key != key and "旧密钥" in html
    api_error(anon.get(f"{SEG}/get/rpt", token=token), 401)
    token = signed_in(anon, {"secureId": secure_id, "secureKey": new_key})
    pages.submit("/open/account/", f"/open/account/{account_id}/delete")
    assert "还没有开放账号" in pages.get("/open/account/").get_data(as_text=True)
    api_error(anon.get(f"{SEG}/get/rpt", token=token), 401)
    titles = query(app, lambda: [r.title for r in db.session.execute(select(ActionLog)).scalars()])
    assert {"开放账号新增", "开放接口授权", "开放账号状态", "开放账号重置密钥", "开放账号删除"} <= set(titles)


def test_catalogue_pages(pages: PageClient, api: ApiClient) -> None:
    html = pages.get("/open/resource/").get_data(as_text=True)
    assert "/api/integration/segment/get/{bizTag}" in html and "号段取号（批量）" in html
    resp = pages.submit("/open/resource/new", data={"name": "职级列表", "resource_url": "/api/admin/grade/page",
                                                    "method": "POST"})
    assert resp.status_code == 302
    resp = pages.submit("/open/resource/new", data={"name": "坏的", "resource_url": "grade", "method": "GET"})
    assert resp.status_code == 422 and "/api/" in resp.get_data(as_text=True)
    entry = catalogue(api)["/api/admin/grade/page"]
    resp = pages.submit(f"/open/resource/{entry}/edit", data={
        "name": "职级分页", "resource_url": "/api/admin/grade/page", "method": "POST"})
    assert resp.status_code == 302
    acct = make_account(api)
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [entry]})
    resp = pages.submit("/open/resource/", f"/open/resource/{entry}/delete", follow_redirects=True)
    assert "不能删除" in resp.get_data(as_text=True) and "职级分页" in resp.get_data(as_text=True)
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": []})
    resp = pages.submit("/open/resource/", f"/open/resource/{entry}/delete", follow_redirects=True)
    assert "已从接口目录删除" in resp.get_data(as_text=True)


def test_catalogue_is_locked_against_the_access_resource_pages_and_api(api: ApiClient, pages: PageClient,
                                                                       app: Any) -> None:
    """The catalogue is the open platform's: 访问资源 can neither widen, delete nor add to it."""
    from pcloud.resources.models import Resource

    entry = catalogue(api)["/api/integration/segment/get/{bizTag}"]
    with app.app_context():
        group = db.session.execute(select(Resource.id).where(Resource.code == "open.catalogue")).scalar_one()
        db.session.remove()
    locked = "开放平台接口目录由「开放平台 › 接口目录」维护"
    for target in (entry, group):
        body = api_error(api.put("/api/admin/resource/modify", {"id": target, "resourceUrl": "/api/**"}), 409)
        assert body["msg"].startswith(locked)
        assert api_error(api.delete(f"/api/admin/resource/{target}/delete"), 409)["msg"].startswith(locked)
    api_error(api.post("/api/admin/resource/create", {"name": "夹带", "resourceUrl": "/api/admin/**",
                                                   "parentId": group}), 409)
    mine = api.data("POST", "/api/admin/resource/create", {"name": "报表", "resourceUrl": "/api/report/**"})
    api_error(api.put("/api/admin/resource/modify", {"id": mine, "parentId": group}), 409)  # no moving in either
    # the page: no edit or delete button on the catalogue, a refused save answers 409 with the reason
    tree = pages.get(f"/system/resource/?parent_id={group}").get_data(as_text=True)
    assert f"/system/resource/{entry}/delete" not in tree and "/system/resource/new?parent_id=" + str(entry) not in tree
    form_page = pages.get(f"/system/resource/{entry}/edit")
    assert locked in form_page.get_data(as_text=True)
    refused = pages.submit(f"/system/resource/{entry}/edit", f"/system/resource/{entry}/edit",
                           data={"name": "改", "resource_url": "/api/**", "method": "GET", "biz_type": "0",
                                 "parent_id": str(group)})
    assert refused.status_code == 409 and locked in refused.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(Resource, entry)
        assert row.resource_url == "/api/integration/segment/get/{bizTag}" and row.deleted_at is None
        last = db.session.execute(select(ActionLog).order_by(ActionLog.id.desc()).limit(1)).scalar_one()
        assert last.status == "fail" and last.msg.startswith(locked)
        db.session.remove()
    # the open platform's own catalogue pages still edit it
    api.data("PUT", f"{OPEN}/resource/modify", {"id": entry, "name": "号段取号"})


def test_a_refused_delete_is_logged_as_failed_on_the_page_and_the_api(app: Any, pages: PageClient,
                                                                       api: ApiClient) -> None:
    """A catalogue entry still granted: the page and the API both answer 409 with the reason, and log it."""
    acct = make_account(api)
    entry = api.data("POST", f"{OPEN}/resource/create", {"name": "职级列表", "resourceUrl": "/api/admin/grade/page",
                                                         "method": "POST"})
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [entry]})
    refusal = "接口「职级列表」仍授权给 1 个账号（订单系统），请先取消这些账号的授权"
    page = pages.submit("/open/resource/", f"/open/resource/{entry}/delete")
    assert_refused(app, page, "开放接口删除", 409, refusal)
    assert_refused(app, api.delete(f"{OPEN}/resource/{entry}/delete"), "开放接口删除", 409, refusal)


def test_saving_an_account_or_entry_deleted_meanwhile_keeps_the_typed_values(pages: PageClient,
                                                                            api: ApiClient) -> None:
    acct = make_account(api, "将被删除")
    assert_save_after_delete_keeps_typed(
        pages, f"/open/account/{acct['id']}/edit",
        lambda: api.data("DELETE", f"{OPEN}/account/{acct['id']}/delete"),
        {"name": "我刚改的账号", "remark": ""}, "我刚改的账号", "开放账号")
    entry = api.data("POST", f"{OPEN}/resource/create", {"name": "将被删除", "resourceUrl": "/api/admin/grade/page",
                                                         "method": "POST"})
    assert_save_after_delete_keeps_typed(
        pages, f"/open/resource/{entry}/edit", lambda: api.data("DELETE", f"{OPEN}/resource/{entry}/delete"),
        {"name": "我刚改的接口", "resource_url": "/api/admin/grade/page", "method": "POST"}, "我刚改的接口", "接口")


def test_granting_an_account_deleted_meanwhile_keeps_the_ticks(pages: PageClient, api: ApiClient) -> None:
    acct = make_account(api, "将被删除")
    entry = api.data("POST", f"{OPEN}/resource/create", {"name": "职级列表", "resourceUrl": "/api/admin/grade/page",
                                                         "method": "POST"})
    url = f"/open/account/{acct['id']}/grant"
    assert_save_after_delete_keeps_typed(
        pages, url, lambda: api.data("DELETE", f"{OPEN}/account/{acct['id']}/delete"), {"entry_ids": [str(entry)]},
        str(entry), "开放账号")
    html = pages.submit(url, data={"entry_ids": [str(entry)]}).get_data(as_text=True)
    assert re.search(rf'<input checked[^>]*value="{entry}"', html) and html.count("<input checked") == 1
    assert f"已删除的开放账号（{acct['id']}）" in html


# ---------------------------------------------------------------------------------------------
# Issue 19, finding 1: the reach rule for the catalogue and account grants (API.md, open platform)


def _open_platform_only(app: Any) -> Any:
    """A user whose one role holds exactly the open platform's menus and API routes."""
    from tests.factories import route_code
    from tests.test_permissions import PrincipalClients

    principal = PrincipalClients(app, "ROLE_OPEN_ONLY")
    codes = tuple(route_code(rule.endpoint, method) for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("openplatform_api.")
                  for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    principal.grant(menu_paths=("/open", "/open/account", "/open/resource"), resource_codes=codes)
    return principal


def _entry_urls(app: Any) -> list[str]:
    from pcloud.openplatform import service

    return query(app, lambda: [e.resource_url for e in service.list_entries()])


def test_a_role_holding_only_the_open_platform_cannot_reach_the_whole_api(app: Any, anon: ApiClient,
                                                                         api: ApiClient) -> None:
    """The attack of the issue, step by step through the API: every step beyond the principal's reach is 403."""
    principal = _open_platform_only(app)
    before = _entry_urls(app)
    for url, method in (("/api/**", "*"), ("/api/admin/**", "POST"), ("/api/admin/system/user/page", "POST"),
                        ("/api/open/admin/account/page", "*")):
        resp = principal.api.post(f"{OPEN}/resource/create", {"name": "全部", "resourceUrl": url, "method": method})
        assert resp.status_code == 403, (url, method, resp.get_json())
    assert _entry_urls(app) == before
    # an entry matching no route at all: 422, whoever asks
    for who in (principal.api, api):
        body = api_error(who.post(f"{OPEN}/resource/create", {"name": "空", "resourceUrl": "/api/nothing/here",
                                                              "method": "GET"}), 422)
        assert "resourceUrl" in body["errors"]
    # within reach: fine
    own = principal.api.post(f"{OPEN}/resource/create", {
        "name": "账号列表", "resourceUrl": "/api/open/admin/account/page", "method": "POST"}).get_json()["data"]
    acct = principal.api.post(f"{OPEN}/account/create", {"name": "跳板"}).get_json()["data"]
    # widening one's own entry beyond reach: 403, the entry unchanged
    resp = principal.api.put(f"{OPEN}/resource/modify", {"id": own, "resourceUrl": "/api/**", "method": "*"})
    assert resp.status_code == 403, resp.get_json()
    # an entry someone else made, beyond the principal's reach, cannot be granted by them
    wide = api.data("POST", f"{OPEN}/resource/create", {"name": "全部", "resourceUrl": "/api/**", "method": "*"})
    ids = catalogue(api)
    for entries in ([wide], [own, wide], [ids["/api/integration/segment/get/{bizTag}"]]):
        resp = principal.api.post(f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": entries})
        assert resp.status_code == 403, (entries, resp.get_json())
    assert principal.api.post(f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [own]}).status_code \
        == 200
    # the attack's end: the account's token reads nothing beyond what was granted
    token = signed_in(anon, {"secureId": acct["secureId"], "secureKey": acct["secureKey"]})
    api_error(anon.post("/api/admin/system/user/page", {}, token=token), 403)
    api_error(anon.post("/api/admin/log/action/page", {}, token=token), 403)
    api_error(anon.post("/api/admin/role/create", {"name": "夺权", "roleCode": "ROLE_X"}, token=token), 403)
    assert anon.post(f"{OPEN}/account/page", {}, token=token).status_code == 200


def test_a_granted_entry_cannot_be_widened(app: Any, anon: ApiClient, api: ApiClient) -> None:
    """The variant: widening an entry already granted would widen every account holding it at once: 409."""
    entry = api.data("POST", f"{OPEN}/resource/create", {"name": "职级列表", "resourceUrl": "/api/admin/grade/page",
                                                         "method": "POST"})
    acct = make_account(api)
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [entry]})
    token = signed_in(anon, acct)
    for url, method in (("/api/**", "*"), ("/api/admin/grade/**", "POST"), ("/api/admin/grade/page", "*")):
        body = api_error(api.put(f"{OPEN}/resource/modify", {"id": entry, "resourceUrl": url, "method": method}), 409)
        assert "请新建一个接口并授权" in body["msg"], body
    api_error(anon.post("/api/admin/system/user/page", {}, token=token), 403)
    assert query(app, lambda: [e.resource_url for e in __import__("pcloud.openplatform.service", fromlist=["x"])
                               .list_entries() if e.id == entry]) == ["/api/admin/grade/page"]
    # renaming is no widening; nor is the same pattern sent back
    assert api.data("PUT", f"{OPEN}/resource/modify", {"id": entry, "name": "职级分页",
                                                       "resourceUrl": "/api/admin/grade/page", "method": "POST"})
    # once no account holds it, it may be widened (within reach)
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": []})
    assert api.data("PUT", f"{OPEN}/resource/modify", {"id": entry, "resourceUrl": "/api/admin/grade/**"}) == entry


def test_the_pages_keep_the_same_reach_rule(app: Any, pages: PageClient, api: ApiClient) -> None:
    """The catalogue and grant pages go through the same service: 403 beyond reach, 422 for no route, 409 to
    widen a granted entry, each logged as failed."""
    principal = _open_platform_only(app)
    before = _entry_urls(app)
    resp = principal.pages.submit("/open/resource/new", data={"name": "全部", "resource_url": "/api/**", "method": "*"})
    assert resp.status_code == 403 and "权限范围" in resp.get_data(as_text=True)
    assert last_action(app)[:2] == ("开放接口新增", "fail")
    resp = principal.pages.submit("/open/resource/new", data={"name": "空", "resource_url": "/api/nothing/here",
                                                           "method": "GET"})
    assert resp.status_code == 422
    assert _entry_urls(app) == before
    own = principal.api.post(f"{OPEN}/resource/create", {
        "name": "账号列表", "resourceUrl": "/api/open/admin/account/page", "method": "POST"}).get_json()["data"]
    resp = principal.pages.submit(f"/open/resource/{own}/edit", data={"name": "账号列表", "resource_url": "/api/**",
                                                                   "method": "*"})
    assert resp.status_code == 403
    acct = make_account(api, "跳板")
    wide = api.data("POST", f"{OPEN}/resource/create", {"name": "全部", "resourceUrl": "/api/**", "method": "*"})
    resp = principal.pages.submit(f"/open/account/{acct['id']}/grant", data={"entry_ids": [str(wide)]})
    assert resp.status_code == 403
    assert last_action(app)[:2] == ("开放接口授权", "fail")
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [own]})
    resp = pages.submit(f"/open/resource/{own}/edit", data={"name": "账号列表", "resource_url": "/api/open/admin/**",
                                                            "method": "*"})
    assert resp.status_code == 409
    assert _entry_urls(app)[-2:] == ["/api/open/admin/account/page", "/api/**"]


def test_the_grant_page_does_not_let_a_granter_tick_an_entry_beyond_their_reach(app: Any, api: ApiClient) -> None:
    """What the open-platform-only administrator may not call is shown disabled and said so. An account already
    holding such an entry is beyond them as a whole (session 24: taking it away opened its delete): its grant page
    says so, every box disabled and no 保存, and a save is 403."""
    principal = _open_platform_only(app)
    acct = make_account(api, "订单系统")
    wide = api.data("POST", f"{OPEN}/resource/create", {"name": "全部", "resourceUrl": "/api/**", "method": "*"})
    held = api.data("POST", f"{OPEN}/resource/create", {"name": "用户", "resourceUrl": "/api/admin/system/user/page",
                                                         "method": "POST"})
    own = principal.api.post(f"{OPEN}/resource/create", {
        "name": "账号列表", "resourceUrl": "/api/open/admin/account/page", "method": "POST"}).get_json()["data"]
    html = principal.pages.get(f"/open/account/{acct['id']}/grant").get_data(as_text=True)

    def box(entry: int) -> str:
        return re.search(rf'<input[^>]*\bvalue="{entry}"[^>]*>', html).group()

    assert "disabled" in box(wide) and "超出您的权限" in html.split(f'value="{wide}"', 1)[1].split("</label>", 1)[0]
    assert "disabled" not in box(own) and "disabled" in box(held) and 'data-testid="grant-refusal"' not in html
    resp = principal.pages.submit(f"/open/account/{acct['id']}/grant", data={"entry_ids": [str(own)]})
    assert resp.status_code == 302  # the own one added

    def granted() -> set[int]:
        from pcloud.openplatform import service

        return service.granted_entry_ids(service.get_account(acct["id"]))

    assert query(app, granted) == {own}
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [own, held]})
    html = principal.pages.get(f"/open/account/{acct['id']}/grant").get_data(as_text=True)
    assert 'data-testid="grant-refusal"' in html and "超出了您的权限范围" in html
    assert all("disabled" in box(entry) for entry in (wide, held, own)) and "保存授权" not in html
    resp = principal.pages.submit(f"/open/account/{acct['id']}/grant", data={"entry_ids": [str(own)]})
    assert resp.status_code == 403
    assert query(app, granted) == {own, held}


ENTRY_BEYOND = "该接口超出了您的权限范围（您自己不能调用它），不能修改或删除：授权了它的账号都会随之改变"
BUILT_IN_ENTRY = "内置接口不能删除"
SEG_GET, SEG_BATCH = "/api/integration/segment/get/{bizTag}", "/api/integration/segment/batch/{bizTag}/{count}"


def test_a_catalogue_entry_beyond_the_editors_reach_is_not_theirs_to_modify_or_delete(app: Any,
                                                                                       api: ApiClient) -> None:
    """A review: an administrator holding only the open platform deleted the ID service's 号段取号 entry (200, and
    `pcloud sync` never brought it back) and an entry the super administrator had made for the user list, neither of
    which they may call. An entry beyond the editor's reach is theirs neither to modify nor to delete (403 with the
    reason, logged failed, nothing changed), as an account holding more than them is not; the built-in entries
    `pcloud init` writes are nobody's to delete (409, as built-in menus); within reach an entry is theirs, and the
    super administrator reaches everything."""
    principal = _open_platform_only(app)
    ids = catalogue(api)
    users = api.data("POST", f"{OPEN}/resource/create", {
        "name": "用户列表", "resourceUrl": "/api/admin/system/user/page", "method": "POST"})
    for target in (users, ids[SEG_GET]):
        assert_refused(app, principal.api.put(f"{OPEN}/resource/modify", {"id": target, "name": "改名"}),
                       "开放接口修改", 403, ENTRY_BEYOND)
    assert_refused(app, principal.api.delete(f"{OPEN}/resource/{users}/delete"), "开放接口删除", 403, ENTRY_BEYOND)
    for who in (principal.api, api):
        for builtin in (SEG_GET, SEG_BATCH):
            assert_refused(app, who.delete(f"{OPEN}/resource/{ids[builtin]}/delete"), "开放接口删除", 409,
                           BUILT_IN_ENTRY)
    assert _entry_urls(app) == [SEG_GET, SEG_BATCH, "/api/admin/system/user/page"]
    assert {e["id"]: e["name"] for e in api.data("POST", f"{OPEN}/resource/list", {})}[users] == "用户列表"
    page = api.data("POST", f"{OPEN}/resource/page", {})
    assert {e["id"]: e["builtIn"] for e in page} == {ids[SEG_GET]: True, ids[SEG_BATCH]: True, users: False}
    # within reach: theirs to change and delete
    own = principal.api.data("POST", f"{OPEN}/resource/create", {
        "name": "账号列表", "resourceUrl": "/api/open/admin/account/page", "method": "POST"})
    assert principal.api.data("PUT", f"{OPEN}/resource/modify", {"id": own, "name": "账号分页"}) == own
    principal.api.data("DELETE", f"{OPEN}/resource/{own}/delete")
    # the super administrator reaches everything: renames a built-in entry, deletes the other
    api.data("PUT", f"{OPEN}/resource/modify", {"id": ids[SEG_GET], "name": "号段取号"})
    api.data("DELETE", f"{OPEN}/resource/{users}/delete")
    assert _entry_urls(app) == [SEG_GET, SEG_BATCH]


def test_the_catalogue_page_offers_no_edit_or_delete_the_service_would_refuse(app: Any, api: ApiClient,
                                                                              pages: PageClient) -> None:
    """The catalogue asks the service's rule for its page of entries at once: an entry beyond the editor's reach
    offers neither 编辑 nor 删除 and says why, its page is read-only, a save or a delete sent anyway is the service's
    403; a built-in entry offers no 删除 to anyone (409 if sent), 编辑 to whoever reaches it."""
    from html import unescape

    principal = _open_platform_only(app)
    ids = catalogue(api)
    users = api.data("POST", f"{OPEN}/resource/create", {
        "name": "用户列表", "resourceUrl": "/api/admin/system/user/page", "method": "POST"})
    own = principal.api.data("POST", f"{OPEN}/resource/create", {
        "name": "账号列表", "resourceUrl": "/api/open/admin/account/page", "method": "POST"})

    def row(html: str, entry: int) -> str:
        return html.split(f'data-entry-id="{entry}"', 1)[1].split("</tr>", 1)[0]

    html = unescape(principal.pages.get("/open/resource/").get_data(as_text=True))
    for entry in (ids[SEG_GET], ids[SEG_BATCH], users):
        assert f"/open/resource/{entry}/edit" not in row(html, entry), entry
        assert f"/open/resource/{entry}/delete" not in row(html, entry), entry
        assert 'data-testid="beyond-reach"' in row(html, entry)
    assert f"/open/resource/{own}/edit" in row(html, own) and f"/open/resource/{own}/delete" in row(html, own)
    html = unescape(pages.get("/open/resource/").get_data(as_text=True))
    for entry in (ids[SEG_GET], ids[SEG_BATCH]):
        assert f"/open/resource/{entry}/edit" in row(html, entry) and "内置" in row(html, entry)
        assert f"/open/resource/{entry}/delete" not in row(html, entry)
    assert f"/open/resource/{users}/edit" in row(html, users) and f"/open/resource/{users}/delete" in row(html, users)
    assert 'data-testid="beyond-reach"' not in html
    view = principal.pages.get(f"/open/resource/{users}/edit")
    text = unescape(view.get_data(as_text=True))
    assert view.status_code == 200 and ENTRY_BEYOND in text and 'name="resource_url"' not in text and "查看接口" in text
    saved = principal.pages.submit(f"/open/resource/{users}/edit", data={
        "name": "改名", "resource_url": "/api/admin/system/user/page", "method": "POST"})
    assert_refused(app, saved, "开放接口修改", 403, ENTRY_BEYOND)
    deleted = principal.pages.submit("/open/resource/", f"/open/resource/{users}/delete")
    assert_refused(app, deleted, "开放接口删除", 403, ENTRY_BEYOND)
    builtin = pages.submit("/open/resource/", f"/open/resource/{ids[SEG_GET]}/delete")
    assert_refused(app, builtin, "开放接口删除", 409, BUILT_IN_ENTRY)
    assert _entry_urls(app) == [SEG_GET, SEG_BATCH, "/api/admin/system/user/page", "/api/open/admin/account/page"]
    assert query(app, lambda: __import__("pcloud.openplatform.service", fromlist=["x"]).get_entry(users).name) \
        == "用户列表"


def test_sync_brings_back_a_built_in_entry_an_older_version_deleted(app: Any, api: ApiClient) -> None:
    """An older version let the ID service's entry (and the catalogue's group) be deleted: the soft-deleted row kept
    its code, and `pcloud init` / `pcloud sync` (insert unless the code exists) skipped it for good, so no account
    could be granted 号段取号 again. Sync brings the built-in rows back as `pcloud init` writes them, with their ids;
    a custom entry deleted stays deleted."""
    from pcloud.cli import run_sync
    from pcloud.resources.models import Resource

    ids = catalogue(api)
    custom = api.data("POST", f"{OPEN}/resource/create", {"name": "职级列表", "resourceUrl": "/api/admin/grade/page",
                                                          "method": "POST"})
    api.data("DELETE", f"{OPEN}/resource/{custom}/delete")
    with app.app_context():
        entry = db.session.get(Resource, ids[SEG_GET])
        entry.soft_delete()
        entry.name = "旧版本改过的名字"
        db.session.execute(select(Resource).where(Resource.code == "open.catalogue")).scalar_one().soft_delete()
        db.session.commit()
        db.session.remove()
    assert catalogue(api) == {}
    with app.app_context():
        assert run_sync()["catalogue"] == {"created": 0, "restored": 2}
        db.session.remove()
    assert catalogue(api) == ids
    names = {e["resourceUrl"]: e["name"] for e in api.data("POST", f"{OPEN}/resource/list", {})}
    assert names[SEG_GET] == "号段取号（单个）"
    acct = make_account(api)
    grant_segments(api, acct["id"])
    with app.app_context():
        assert run_sync()["catalogue"] == {"created": 0, "restored": 0}
        db.session.remove()


def test_list_pages_read_their_filters_through_the_api_schemas(api: ApiClient, pages: PageClient) -> None:
    """Issue 19, finding 9: every page filter goes through the API's schema: a value the API refuses is a
    red message on the still-listed page (422), never a 500 nor a silent cut."""
    from html import unescape

    make_account(api, "订单系统")
    for url in ("/open/account/?status=99999999999999999999", "/open/account/?status=7",
                "/open/account/?name=" + "长" * 200, "/open/resource/?name=" + "长" * 300):
        resp = pages.get(url)
        html = unescape(resp.get_data(as_text=True))
        assert resp.status_code == 422, (url, resp.status_code)
        assert "筛选条件" in html and "已忽略该条件" in html, url
    html = pages.get("/open/account/?status=7").get_data(as_text=True)
    assert "订单系统" in html  # the list, unfiltered by what was refused
    assert pages.get("/open/account/?status=0&name=订单").status_code == 200


def test_an_account_name_is_unique_among_live_accounts(api: ApiClient, pages: PageClient, app: Any) -> None:
    """Issue 24.5: a duplicate account name is a 409 (API) or a field error (page)."""
    first = api.data("POST", f"{OPEN}/account/create", {"name": "订单系统"})["id"]
    dup = api_error(api.post(f"{OPEN}/account/create", {"name": "订单系统"}), 409)
    assert "name" in dup["errors"]
    other = api.data("POST", f"{OPEN}/account/create", {"name": "库存系统"})["id"]
    api_error(api.put(f"{OPEN}/account/modify", {"id": other, "name": "订单系统"}), 409)
    resp = pages.submit("/open/account/new", data={"name": "订单系统", "remark": ""})
    assert resp.status_code == 409 and "已有同名的开放平台账号" in resp.get_data(as_text=True)
    api.data("DELETE", f"{OPEN}/account/{first}/delete")
    api.data("POST", f"{OPEN}/account/create", {"name": "订单系统"})  # free again once deleted


def test_parallel_creates_of_one_account_name_keep_one(app: Any, live_server: Any) -> None:
    from tests.test_posts import parallel_creates

    statuses = parallel_creates(live_server.url, f"{OPEN}/account/create",
                                [{"name": f"并发账号{n}"} for n in range(15)])
    assert all(sorted(pair) == [200, 409] for pair in statuses), statuses
    names = query(app, lambda: [a.name for a in db.session.execute(select(OpenAccount)
                                                                   .where(OpenAccount.deleted_at.is_(None))).scalars()])
    assert len(names) == len(set(names)) == 15


# ---------------------------------------------------------------------------------------------
# English (issue 24 item 10)


def test_account_pages_in_english(app: Any, english_pages: PageClient, api: ApiClient) -> None:
    """Accounts: the empty list, the form (new, refused, edit), the key page, the list with an active and a
    frozen account, the grant page with the built-in entries by their English names, and the flashes."""
    from html import unescape

    from tests.conftest import chinese_on_page as english_leftovers

    def clean(path: str, resp: Any = None) -> str:
        resp = resp or english_pages.get(path)
        html = unescape(resp.get_data(as_text=True))
        assert resp.status_code in (200, 422) and not english_leftovers(html), (path, english_leftovers(html))
        return html

    assert "No open accounts yet" in clean("/open/account/")
    clean("/open/account/new")
    html = clean("/open/account/new", english_pages.submit("/open/account/new", data={"name": ""}))
    assert "Enter an account name" in html
    html = clean("/open/account/new", english_pages.submit("/open/account/new", data={"name": "Reports"}))
    assert 'Open account "Reports" created' in html and "shown this once only" in html
    account_id = query(app, lambda: db.session.execute(select(OpenAccount.id)).scalar())
    clean(f"/open/account/{account_id}/edit")
    resp = english_pages.submit(f"/open/account/{account_id}/edit", data={"name": "Reports", "remark": "nightly"},
                                follow_redirects=True)
    assert 'Open account "Reports" saved' in clean("/open/account/", resp)
    html = clean(f"/open/account/{account_id}/grant")
    assert "Segment: take one ID" in html and "Segment: take a batch of IDs" in html
    resp = english_pages.submit(f"/open/account/{account_id}/grant", data={"entry_ids": []}, follow_redirects=True)
    assert 'Interface grants of open account "Reports" saved' in clean("/open/account/", resp)
    make_account(api, "Orders")
    resp = english_pages.submit("/open/account/", f"/open/account/{account_id}/freeze", follow_redirects=True)
    html = clean("/open/account/", resp)
    assert 'Open account "Reports" frozen' in html and ">Freeze<" in html
    assert 'data-testid="status">Frozen<' in html and 'data-testid="status">Active<' in html
    resp = english_pages.submit("/open/account/", f"/open/account/{account_id}/reset-key")
    assert "The old key and all of the account" in clean("/open/account/", resp)
    assert "No accounts match" in clean("/open/account/?name=nothing-like-it")


def test_catalogue_pages_in_english(english_pages: PageClient, api: ApiClient) -> None:
    from html import unescape

    from tests.conftest import chinese_on_page as english_leftovers

    html = english_pages.get("/open/resource/").get_data(as_text=True)
    assert "Segment: take one ID" in html and "<code>{Parameter}</code>" in html
    assert not english_leftovers(html), english_leftovers(html)
    for path in ("/open/resource/new", "/open/resource/?name=nothing-like-it"):
        html = english_pages.get(path).get_data(as_text=True)
        assert not english_leftovers(html), (path, english_leftovers(html))
    resp = english_pages.submit("/open/resource/new", data={"name": "Bad", "resource_url": "grade", "method": "GET"})
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422 and "must be a route pattern under /api/" in html
    assert not english_leftovers(html), english_leftovers(html)
    resp = english_pages.submit("/open/resource/new", data={"name": "Grade page", "resource_url":
                                                            "/api/admin/grade/page", "method": "POST"},
                                follow_redirects=True)
    html = unescape(resp.get_data(as_text=True))
    assert 'Interface "Grade page" added to the catalogue' in html and not english_leftovers(html)
    entry = catalogue(api)["/api/admin/grade/page"]
    html = english_pages.get(f"/open/resource/{entry}/edit").get_data(as_text=True)
    assert not english_leftovers(html), english_leftovers(html)
    acct = make_account(api, "Orders")
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [entry]})
    resp = english_pages.submit("/open/resource/", f"/open/resource/{entry}/delete", follow_redirects=True)
    html = unescape(resp.get_data(as_text=True))
    assert ('The interface "Grade page" is still granted to 1 account(s) (Orders); withdraw those grants first'
            in html), html


def test_open_platform_refusals_in_english(api: ApiClient, anon: ApiClient) -> None:
    en = {"Accept-Language": "en"}
    make_account(api, "Orders")
    body = api_error(api.post(f"{OPEN}/account/create", {"name": "Orders"}, headers=en), 409)
    assert body["msg"] == "An open account with this name already exists; choose another name", body
    assert api_error(api.get(f"{OPEN}/account/999999/view", headers=en), 404)["msg"] == (
        "The open account does not exist")
    body = api_error(api.post(f"{OPEN}/resource/create", {"name": "x", "resourceUrl": "/api/nothing/here",
                                                           "method": "GET"}, headers=en), 422)
    assert body["msg"] == "The interface path and method match no API route", body
    assert api_error(api.get(f"{OPEN}/account/999999/view"), 404)["msg"] == "开放平台账号不存在"


def test_an_account_is_granted_only_by_someone_reaching_all_data_and_every_executor_it_would(
        app: Any, anon: ApiClient, api: ApiClient) -> None:
    """An account belongs to no department and lists no executor: a granter whose data scope is one department
    (or who manages some executors) cannot hand it routes that then read every user (or run every executor's
    jobs), which an outside review did with a user list entry and a password reset."""
    from pcloud.users.models import User
    from tests.factories import make_dept, make_executor, make_job, route_code
    from tests.test_permissions import PrincipalClients

    dept = make_dept(app, "甲部门")
    other = make_dept(app, "乙部门")
    victim = make_user(app, dept_id=other)
    principal = PrincipalClients(app, "ROLE_SCOPED_OPEN")
    user_id = query(app, lambda: db.session.execute(select(User.id).where(User.phone == principal.phone)).scalar())
    api.data("PUT", "/api/admin/system/user/modify", {"id": user_id, "deptId": dept})
    codes = tuple(route_code(rule.endpoint, method) for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("openplatform_api.")
                  for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    principal.grant(menu_paths=("/open", "/open/account", "/open/resource"),
                    resource_codes=codes + (route_code("users_api.page", "POST"),
                                            route_code("jobs_api.job_trigger", "POST")))
    api.data("PUT", "/api/admin/role/modify", {"id": principal.role_id, "dataScope": 4})
    # within the principal's reach as a route: the entry may be made, but not given to an account
    users = principal.api.post(f"{OPEN}/resource/create", {
        "name": "用户列表", "resourceUrl": "/api/admin/system/user/page", "method": "POST"}).get_json()["data"]
    acct = principal.api.post(f"{OPEN}/account/create", {"name": "跳板"}).get_json()["data"]
    resp = principal.api.post(f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [users]})
    assert resp.status_code == 403 and "全部数据" in resp.get_json()["msg"]
    token = signed_in(anon, {"secureId": acct["secureId"], "secureKey": acct["secureKey"]})
    api_error(anon.post("/api/admin/system/user/page", {}, token=token), 403)
    # the data scope "all", but only some executors: no job route for an account (it would reach every one)
    executor = make_executor(app, "team-a")
    make_job(app, executor)
    api.data("PUT", "/api/admin/role/modify", {"id": principal.role_id, "dataScope": 1, "jobGroupIds": [executor]})
    trigger = principal.api.post(f"{OPEN}/resource/create", {
        "name": "执行一次", "resourceUrl": "/api/job/jobinfo/trigger", "method": "POST"}).get_json()["data"]
    resp = principal.api.post(f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [trigger]})
    assert resp.status_code == 403 and "执行器" in resp.get_json()["msg"]
    # reaching everything it would: fine (the user list, now that the scope is all)
    assert principal.api.post(f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [users]}) \
        .status_code == 200
    assert victim in [u["id"] for u in anon.post("/api/admin/system/user/page", {}, token=token).get_json()["data"]]


def _an_admin_of_one_department_beside_a_strong_account(app: Any, api: ApiClient) -> tuple[int, dict, dict, Any]:
    """(the user-list entry, an account granted it, an account holding nothing, an admin of one department holding
    the open-platform routes but not the user list)."""
    from pcloud.users.models import User
    from tests.factories import make_dept, route_code
    from tests.test_permissions import PrincipalClients

    users = api.data("POST", f"{OPEN}/resource/create", {
        "name": "用户列表", "resourceUrl": "/api/admin/system/user/page", "method": "POST"})
    strong = make_account(api, "强账号")
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": strong["id"], "resourceIds": [users]})
    empty = make_account(api, "空账号")
    principal = PrincipalClients(app, "ROLE_OPEN_ONLY")
    codes = tuple(route_code(rule.endpoint, method) for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("openplatform_api.")
                  for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    principal.grant(menu_paths=("/open", "/open/account", "/open/resource"), resource_codes=codes)
    api.data("PUT", "/api/admin/role/modify", {"id": principal.role_id, "dataScope": 3})
    user_id = query(app, lambda: db.session.execute(select(User.id).where(User.phone == principal.phone)).scalar())
    api.data("PUT", "/api/admin/system/user/modify", {"id": user_id, "deptId": make_dept(app, "甲")})
    return users, strong, empty, principal


def test_an_account_holding_more_than_the_admin_reaches_is_not_theirs_to_reset_enable_or_delete(
        app: Any, anon: ApiClient, api: ApiClient) -> None:
    """Review (session 15): an admin of one department, holding only the open-platform routes, reset the key of an
    account the super administrator had granted the user routes, signed in as it and reset passwords in every
    department. Resetting a key hands over the account's reach, so reset, status, modify and delete need the
    reach a grant needs (the entries, all data, every executor), through the API and the pages; an account
    holding nothing stays anyone's to manage."""
    users, strong, empty, principal = _an_admin_of_one_department_beside_a_strong_account(app, api)
    api.data("PUT", f"{OPEN}/account/status", {"id": strong["id"], "status": 1})  # disabled by the super admin
    account = f"{OPEN}/account"
    for refused in (principal.api.post(f"{account}/{strong['id']}/resetKey"),
                    principal.api.put(f"{account}/status", {"id": strong["id"], "status": 0}),
                    principal.api.put(f"{account}/modify", {"id": strong["id"], "name": "改名"}),
                    principal.api.delete(f"{account}/{strong['id']}/delete")):
        assert "超出了您的权限范围" in api_error(refused, 403)["msg"]
    page = principal.pages.submit("/open/account/", action=f"/open/account/{strong['id']}/reset-key")
    assert page.status_code == 403 and "超出了您的权限范围" in page.get_data(as_text=True)
    api.data("PUT", f"{OPEN}/account/status", {"id": strong["id"], "status": 0})
    signed_in(anon, strong)  # the old key still signs in: nothing was reset
    assert principal.api.data("POST", f"{account}/{empty['id']}/resetKey")


def test_an_account_beyond_the_admins_reach_is_not_theirs_to_strip_and_then_delete(
        app: Any, anon: ApiClient, api: ApiClient) -> None:
    """An outside review (session 24): an admin of one department, refused 删除 on an account the super administrator
    had granted an entry they do not hold, took every entry away through 授权 (200), and then deleted it: the delete's
    rule was a click away. A grant changes the account as a modify does: an account holding more than the granter
    reaches is not theirs to grant at all (403, nothing changed), through the API and the page, as for a role; an
    account holding nothing stays anyone's."""
    users, strong, empty, principal = _an_admin_of_one_department_beside_a_strong_account(app, api)
    refused = principal.api.post(f"{OPEN}/resource/grant", {"accountId": strong["id"], "resourceIds": []})
    assert "超出了您的权限范围" in api_error(refused, 403)["msg"]
    page = principal.pages.submit(f"/open/account/{strong['id']}/grant", data={})
    assert page.status_code == 403 and "超出了您的权限范围" in page.get_data(as_text=True)

    def granted() -> list[int]:
        entries = api.data("POST", f"{OPEN}/resource/permission", {"accountId": strong["id"]})
        return [e["id"] for e in entries if e["permission"]]

    assert granted() == [users]
    api_error(principal.api.delete(f"{OPEN}/account/{strong['id']}/delete"), 403)
    token = signed_in(anon, strong)
    assert anon.post("/api/admin/system/user/page", {}, token=token).status_code == 200
    # an account holding nothing: theirs to grant what they may (nothing here: their scope is one department)
    principal.api.data("POST", f"{OPEN}/resource/grant", {"accountId": empty["id"], "resourceIds": []})


def test_parallel_renames_into_one_account_name_keep_one(app: Any, api: ApiClient) -> None:
    """The house rule for a unique value (tests/conftest.py `assert_races_keep_one`): an account's name, with the
    refusal's own message (the creates are also raced on gunicorn above)."""
    from tests.conftest import assert_races_keep_one

    assert_races_keep_one(
        app, api.token, lambda n: ("POST", f"{OPEN}/account/create", {"name": f"并发账号{n}"}),
        lambda account, n: ("PUT", f"{OPEN}/account/modify", {"id": account, "name": f"并发账号{n}"}),
        lambda n: "已有同名的开放平台账号，请换一个名称",
        lambda: query(app, lambda: list(db.session.execute(select(OpenAccount.name)
                                                           .where(OpenAccount.deleted_at.is_(None))).scalars())))


# Session 25: who may reach what, in the catalogue and on the accounts list


def test_deleting_a_catalogue_entry_takes_it_from_every_role_holding_it(app: Any, api: ApiClient) -> None:
    """An entry is an access resource: a user role may be granted it on the role's grant page. Deleting an access
    resource takes it from every role holding it; deleting a catalogue entry left those grants behind (rows of
    sys_role_resource naming a deleted entry). It goes the same way now; while a live account holds it, the delete is
    still 409 (withdraw it first), and then nothing holds it."""
    from pcloud.access.models import role_resource
    from tests.factories import grant_role, make_role

    entry = api.data("POST", f"{OPEN}/resource/create", {"name": "职级列表", "resourceUrl": "/api/admin/grade/page",
                                                         "method": "POST"})
    role = make_role(app, "ROLE_GRADE_READER")
    grant_role(app, role, resource_ids=(entry,))
    acct = make_account(api)
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": [entry]})

    def holders() -> set[int]:
        return query(app, lambda: set(db.session.execute(select(role_resource.c.role_id).where(
            role_resource.c.resource_id == entry)).scalars()))

    assert role in holders() and len(holders()) == 2
    assert "仍授权给 1 个账号" in api_error(api.delete(f"{OPEN}/resource/{entry}/delete"), 409)["msg"]
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": acct["id"], "resourceIds": []})
    assert holders() == {role}
    api.data("DELETE", f"{OPEN}/resource/{entry}/delete")
    assert holders() == set()
    assert entry not in catalogue(api).values()


BUILT_IN_FIXED = "内置接口的路径和请求方式不能修改，只能修改名称"


def test_a_built_in_entrys_path_and_method_are_fixed(app: Any, api: ApiClient, pages: PageClient) -> None:
    """The ID service's entries are what `pcloud init` writes: whoever reached one could re-point it (another path
    or method, 200) and every account granted 号段取号 then called something else, for good. A modify that changes
    a built-in entry's path or method is 409 with the reason, logged failed, through the API and the page, whoever
    asks; its name may change, and the original front end may send the path and method back unchanged. Its edit
    page shows the path and method read-only."""
    from html import unescape

    ids = catalogue(api)
    for change in ({"resourceUrl": "/api/integration/segment/get/{tag}"}, {"resourceUrl": SEG_BATCH}, {"method": "*"},
                   {"resourceUrl": "/api/admin/grade/page", "method": "POST", "name": "改名"}):
        assert_refused(app, api.put(f"{OPEN}/resource/modify", {"id": ids[SEG_GET], **change}), "开放接口修改", 409,
                       BUILT_IN_FIXED)
    assert api.data("PUT", f"{OPEN}/resource/modify", {"id": ids[SEG_GET], "name": "号段取号",
                                                       "resourceUrl": SEG_GET, "method": "GET"}) == ids[SEG_GET]
    assert api.data("PUT", f"{OPEN}/resource/modify", {"id": ids[SEG_BATCH], "name": "批量取号"}) == ids[SEG_BATCH]
    entries = {e["id"]: e for e in api.data("POST", f"{OPEN}/resource/list", {})}
    assert [(entries[i]["name"], entries[i]["resourceUrl"], entries[i]["method"]) for i in (ids[SEG_GET],
            ids[SEG_BATCH])] == [("号段取号", SEG_GET, "GET"), ("批量取号", SEG_BATCH, "GET")]
    # the page: the path and the method shown, not editable; the name saved; a post of another path changes nothing
    html = unescape(pages.get(f"/open/resource/{ids[SEG_GET]}/edit").get_data(as_text=True))
    assert 'name="name"' in html and 'name="resource_url"' not in html and 'name="method"' not in html
    assert SEG_GET in html and 'data-testid="built-in-fixed"' in html
    resp = pages.submit(f"/open/resource/{ids[SEG_GET]}/edit", data={"name": "单个取号",
                                                                     "resource_url": "/api/admin/grade/page",
                                                                     "method": "POST"})
    assert resp.status_code == 302
    entries = {e["id"]: e for e in api.data("POST", f"{OPEN}/resource/list", {})}
    assert (entries[ids[SEG_GET]]["name"], entries[ids[SEG_GET]]["resourceUrl"],
            entries[ids[SEG_GET]]["method"]) == ("单个取号", SEG_GET, "GET")
    # a custom entry's page still edits them
    own = api.data("POST", f"{OPEN}/resource/create", {"name": "职级列表", "resourceUrl": "/api/admin/grade/page",
                                                       "method": "POST"})
    html = pages.get(f"/open/resource/{own}/edit").get_data(as_text=True)
    assert 'name="resource_url"' in html and 'name="method"' in html and 'data-testid="built-in-fixed"' not in html


ACCOUNT_BEYOND = "该开放平台账号的权限超出了您的权限范围，不能修改、授权、重置密钥、改变状态或删除"


def test_the_accounts_list_offers_no_action_the_service_would_refuse(app: Any, api: ApiClient,
                                                                     pages: PageClient) -> None:
    """The accounts list offered 编辑, 授权, 禁用/冻结/启用, 重置密钥 and 删除 on an account holding more than the
    signed-in administrator reaches, each refused (403) after the click. As the catalogue and the access-resource tree
    do, the list asks the service's rule (account_refusal) for its page of accounts at once: such an account is marked
    超出您的权限 and offers only 查看, its page read-only saying why (a save sent anyway: the service's 403); an
    account within reach offers every button, and the super administrator sees them all."""
    from html import unescape

    users, strong, empty, principal = _an_admin_of_one_department_beside_a_strong_account(app, api)
    frozen = make_account(api, "冻结的强账号")
    api.data("POST", f"{OPEN}/resource/grant", {"accountId": frozen["id"], "resourceIds": [users]})
    api.data("PUT", f"{OPEN}/account/status", {"id": frozen["id"], "status": 2})
    actions = ("edit", "grant", "disable", "freeze", "enable", "reset-key", "delete")

    def row(html: str, account: dict[str, Any]) -> str:
        return html.split(f'data-account-id="{account["id"]}"', 1)[1].split("</tr>", 1)[0]

    def offered(html: str, account: dict[str, Any]) -> set[str]:
        return {a for a in actions if f'/open/account/{account["id"]}/{a}"' in row(html, account)
                or f'/open/account/{account["id"]}/{a}?' in row(html, account)}

    html = unescape(principal.pages.get("/open/account/").get_data(as_text=True))
    for account in (strong, frozen):
        assert 'data-testid="beyond-reach"' in row(html, account) and "超出您的权限" in row(html, account)
        assert offered(html, account) == {"edit"} and "查看" in row(html, account), (account, row(html, account))
    assert offered(html, empty) == {"edit", "grant", "disable", "freeze", "reset-key", "delete"}
    assert 'data-testid="beyond-reach"' not in row(html, empty)
    html = unescape(pages.get("/open/account/").get_data(as_text=True))
    assert offered(html, strong) == offered(html, empty) and offered(html, frozen) == {
        "edit", "grant", "enable", "reset-key", "delete"}
    assert 'data-testid="beyond-reach"' not in html
    # 查看: the account's page, read-only, saying why; a save sent anyway is the service's refusal
    view = principal.pages.get(f"/open/account/{strong['id']}/edit")
    text = unescape(view.get_data(as_text=True))
    assert view.status_code == 200 and ACCOUNT_BEYOND in text and 'name="name"' not in text and "查看开放账号" in text
    assert strong["secureId"] in text and f"/open/account/{strong['id']}/grant" in text
    saved = principal.pages.submit(f"/open/account/{strong['id']}/edit", data={"name": "改名", "remark": ""})
    assert_refused(app, saved, "开放账号修改", 403, ACCOUNT_BEYOND)
    assert 'name="name"' in principal.pages.get(f"/open/account/{empty['id']}/edit").get_data(as_text=True)
    assert {a["id"]: a["name"] for a in api.data("POST", f"{OPEN}/account/page", {})}[strong["id"]] == "强账号"
