"""字典管理 (issue 22 item 4): types and items through the API and the pages, the built-in types setup creates
and the console's own lists read, the public read route, and a change seen by every process on its next
request without a query per page."""

from __future__ import annotations

import re
import urllib.request
from html import unescape
from typing import Any

from sqlalchemy import select

from pcloud.dicts.models import DictData
from pcloud.extensions import db
from tests.conftest import (
    ApiClient,
    PageClient,
    api_error,
    csrf_from,
    english_form,
    english_page,
    logged_actions,
    set_language,
    statements_run,
    statements_seen,
)
from tests.factories import make_user, next_phone, query

DICT = "/api/admin/dict"
BUILTIN = ("sys_user_state", "sys_yes_no", "job_trigger_status", "job_handle_code", "login_result", "notice_type")


def _item_id(app: Any, dict_type: str, value: str) -> int:
    with app.app_context():
        found = db.session.execute(select(DictData.id).where(
            DictData.dict_type == dict_type, DictData.value == value, DictData.deleted_at.is_(None))).scalar_one()
        db.session.remove()
    return found


def test_setup_creates_the_built_in_types(api: ApiClient) -> None:
    body = api.post(f"{DICT}/type/page", {"pageSize": 50}).get_json()
    codes = {t["dictType"]: t for t in body["data"]}
    assert set(BUILTIN) <= set(codes)
    assert all(codes[c]["builtin"] and codes[c]["itemCount"] >= 2 for c in BUILTIN)
    assert [(i["value"], i["label"], i["cssClass"]) for i in api.data("GET", f"{DICT}/sys_user_state")] == [
        ("0", "正常", "success"), ("1", "禁用", "secondary")]
    assert [i["label"] for i in api.data("GET", f"{DICT}/notice_type")] == ["通知", "公告"]


def test_types_and_items_through_the_api(api: ApiClient, app: Any) -> None:
    type_id = api.data("POST", f"{DICT}/type/create", {"name": "客户等级", "dictType": "customer_level",
                                                        "remark": "销售用"})
    assert api_error(api.post(f"{DICT}/type/create", {"name": "x", "dictType": "customer_level"}), 409)["errors"]
    bad = api_error(api.post(f"{DICT}/type/create", {"name": "x", "dictType": "Customer-Level"}), 422)
    assert "dictType" in bad["errors"]
    gold = api.data("POST", f"{DICT}/data/create", {"dictType": "customer_level", "label": "金牌", "value": "gold",
                                                     "sort": 2, "cssClass": "warning", "isDefault": True})
    api.data("POST", f"{DICT}/data/create", {"dictType": "customer_level", "label": "银牌", "value": "silver",
                                             "sort": 1, "isDefault": True})
    assert api_error(api.post(f"{DICT}/data/create", {"dictType": "customer_level", "label": "重复",
                                                       "value": "gold"}), 409)["errors"] == {
        "value": ["该字典类型下已有此键值"]}
    assert "cssClass" in api_error(api.post(f"{DICT}/data/create", {
        "dictType": "customer_level", "label": "红", "value": "red", "cssClass": "pink"}), 422)["errors"]
    assert api_error(api.post(f"{DICT}/data/create", {"dictType": "no_such_type", "label": "x", "value": "x"}),
                     422)["errors"] == {"dictType": ["字典类型不存在"]}
    # in sort order; one default per type (the later one wins)
    items = api.data("GET", f"{DICT}/customer_level")
    assert [(i["value"], i["isDefault"]) for i in items] == [("silver", True), ("gold", False)]
    page = api.post(f"{DICT}/data/page", {"dictType": "customer_level"}).get_json()
    assert page["total"] == 2 and set(page["data"][0]) >= {"id", "dictType", "label", "value", "sort", "cssClass",
                                                          "isDefault", "status", "remark", "gmtModifiedDate"}
    # a disabled item leaves the public list; a renamed type takes its items along
    api.data("PUT", f"{DICT}/data/modify", {"id": gold, "status": 1})
    assert [i["value"] for i in api.data("GET", f"{DICT}/customer_level")] == ["silver"]
    api.data("PUT", f"{DICT}/type/modify", {"id": type_id, "dictType": "client_level"})
    assert [i["value"] for i in api.data("GET", f"{DICT}/client_level")] == ["silver"]
    assert api.data("GET", f"{DICT}/customer_level") == []
    # delete: refused while it has items, unless cascade
    refused = api_error(api.delete(f"{DICT}/type/{type_id}/delete"), 409)
    assert "2 个字典数据" in refused["msg"]
    api.data("DELETE", f"{DICT}/type/{type_id}/delete?cascade=1")
    assert api.post(f"{DICT}/data/page", {"dictType": "client_level"}).get_json()["total"] == 0
    assert ("字典类型删除", "fail") in logged_actions(app, "字典")
    assert ("字典数据新增", "success") in logged_actions(app, "字典")


def test_built_in_types_keep_their_code_and_stay(api: ApiClient) -> None:
    state = next(t for t in api.post(f"{DICT}/type/page", {"dictType": "sys_user_state"}).get_json()["data"])
    api_error(api.delete(f"{DICT}/type/{state['id']}/delete?cascade=1"), 409)
    api_error(api.put(f"{DICT}/type/modify", {"id": state["id"], "dictType": "user_state"}), 409)
    assert api.data("PUT", f"{DICT}/type/modify", {"id": state["id"], "name": "账号状态"}) == state["id"]


def test_any_signed_in_principal_reads_the_public_route(app: Any, anon: ApiClient) -> None:
    phone = next_phone()
    make_user(app, phone=phone, password="Passw0rd1")  # no role, no grant
    principal = ApiClient(app.test_client())
    principal.token = principal.sign_in(phone, "Passw0rd1")
    assert [i["label"] for i in principal.data("GET", f"{DICT}/login_result")] == ["成功", "失败"]
    assert principal.post(f"{DICT}/type/page", {}).status_code == 403
    assert anon.get(f"{DICT}/login_result").status_code == 401
    api_error(principal.get(f"{DICT}/Not-A-Type"), 404)


def test_a_label_edit_shows_on_the_user_list_and_costs_no_query_per_page(app: Any, api: ApiClient,
                                                                          pages: PageClient) -> None:
    assert '<span class="badge text-bg-success">正常</span>' in pages.get("/system/user/").get_data(as_text=True)
    item = _item_id(app, "sys_user_state", "0")
    api.data("PUT", f"{DICT}/data/modify", {"id": item, "label": "在职", "cssClass": "info"})
    assert '<span class="badge text-bg-info">在职</span>' in pages.get("/system/user/").get_data(as_text=True)

    def show() -> None:
        assert pages.get("/system/user/").status_code == 200

    seen = statements_seen(app, show)
    assert not [s for s in seen if "sys_dict" in s], "the dictionaries were read again though nothing changed"
    assert statements_run(app, show) == statements_run(app, show)


def test_another_process_sees_a_change_on_its_next_request(app: Any, api: ApiClient, live_server: Any) -> None:
    """gunicorn workers (other processes) keep the dictionaries too; an edit here shows there at once."""
    import json

    def labels_there() -> list[str]:
        req = urllib.request.Request(f"{live_server.url}{DICT}/login_result",
                                     headers={"Authorization": f"Bearer {api.token}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return [i["label"] for i in json.loads(resp.read())["data"]]

    for _ in range(4):  # every worker has read (and keeps) them
        assert labels_there() == ["成功", "失败"]
    api.data("PUT", f"{DICT}/data/modify", {"id": _item_id(app, "login_result", "1"), "label": "未通过"})
    for _ in range(4):
        assert labels_there() == ["成功", "未通过"]


def test_a_type_renamed_while_items_are_added_takes_every_item_with_it(app: Any, api: ApiClient,
                                                                        live_server: Any) -> None:
    """A review (PostgreSQL): a type's new code and items created on the old one at once left items under a code
    no type had any more, invisible, until a new type of the old code took them."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests
    from sqlalchemy import text

    def send(call: tuple[str, str, dict[str, Any]], barrier: threading.Barrier) -> int:
        method, path, body = call
        barrier.wait()
        return requests.request(method, f"{live_server.url}{DICT}{path}", json=body, timeout=60,
                                headers={"Authorization": f"Bearer {api.token}"}).status_code

    for n in range(6):
        type_id = api.data("POST", f"{DICT}/type/create", {"name": f"改名{n}", "dictType": f"renamed_{n}"})
        calls = [("PUT", "/type/modify", {"id": type_id, "dictType": f"renamed_{n}_new"})] + [
            ("POST", "/data/create", {"dictType": f"renamed_{n}", "label": f"项{i}", "value": f"v{i}"})
            for i in range(5)]
        barrier = threading.Barrier(len(calls))
        with ThreadPoolExecutor(len(calls)) as pool:
            codes = list(pool.map(lambda call, b=barrier: send(call, b), calls))
        assert codes[0] == 200 and set(codes[1:]) <= {200, 422}, codes
    stranded = query(app, lambda: db.session.execute(text(
        "SELECT count(*) FROM sys_dict_data d WHERE d.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM "
        "sys_dict_type t WHERE t.dict_type = d.dict_type AND t.deleted_at IS NULL)")).scalar())
    assert stranded == 0


def test_an_item_form_whose_type_was_renamed_keeps_the_old_code_selected(api: ApiClient, app: Any,
                                                                         pages: PageClient) -> None:
    """The last probe: after the type's code changed, the item form's 409 selected no type, so the browser sent
    the first one and saving again moved the item into the built-in sys_user_state."""
    type_id = api.data("POST", f"{DICT}/type/create", {"name": "改名前", "dictType": "tt_x"})
    api.data("POST", f"{DICT}/data/create", {"dictType": "tt_x", "label": "项", "value": "v"})
    item = _item_id(app, "tt_x", "v")
    url = f"/system/dict/data/{item}/edit"
    html = pages.get(url).get_data(as_text=True)
    seen = re.search(r'name="_seen" value="(\w+)"', html).group(1)
    api.data("PUT", f"{DICT}/type/modify", {"id": type_id, "dictType": "tt_x_new"})
    typed = {"dict_type": "tt_x", "label": "项改", "value": "v", "sort": 0, "_seen": seen}
    html = pages.submit(url, data=typed).get_data(as_text=True)
    assert re.search(r'<option[^>]*value="tt_x"[^>]*selected', html) or \
        re.search(r'<option selected[^>]*value="tt_x"', html), html[-3000:]
    again = pages.submit(url, data={**typed, "_seen": re.search(r'name="_seen" value="(\w+)"', html).group(1)})
    assert again.status_code == 422 and "字典类型不存在" in again.get_data(as_text=True)
    assert query(app, lambda: db.session.get(DictData, item).dict_type) == "tt_x_new"


def test_parallel_defaults_leave_one_per_type(app: Any, api: ApiClient, live_server: Any) -> None:
    """Eight items marked default at once (created, then modified) on one type: one default stays."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests

    api.data("POST", f"{DICT}/type/create", {"name": "并发默认", "dictType": "race_default"})

    def at_once(method: str, path: str, bodies: list[dict[str, Any]]) -> list[int]:
        barrier = threading.Barrier(len(bodies))

        def send(body: dict[str, Any]) -> int:
            barrier.wait()
            return requests.request(method, f"{live_server.url}{DICT}{path}", json=body, timeout=60,
                                    headers={"Authorization": f"Bearer {api.token}"}).status_code

        with ThreadPoolExecutor(len(bodies)) as pool:
            return list(pool.map(send, bodies))

    def defaults() -> list[str]:
        return [i["value"] for i in api.data("GET", f"{DICT}/race_default") if i["isDefault"]]

    created = at_once("POST", "/data/create", [{"dictType": "race_default", "label": f"项{n}", "value": f"v{n}",
                                                "isDefault": True} for n in range(8)])
    assert created == [200] * 8 and len(defaults()) == 1, defaults()
    ids = [_item_id(app, "race_default", f"v{n}") for n in range(8)]
    for _ in range(3):
        modified = at_once("PUT", "/data/modify", [{"id": item, "isDefault": True} for item in ids])
        assert modified == [200] * 8 and len(defaults()) == 1, defaults()


def test_only_an_admin_whose_data_scope_is_all_changes_a_dictionary(api: ApiClient, app: Any) -> None:
    """Review (session 15): an admin of one department relabelled 正常 as 停用 (sys_user_state), and every active
    user showed as disabled to everyone, the super administrator included. Dictionaries label the console for the
    whole company, as settings apply to it: 403 below the scope of all data, through the API and the pages,
    nothing changed; reading stays open; an admin whose scope is all data may."""
    from tests.factories import grant_role, make_dept, route_code

    role = api.data("POST", "/api/admin/role/create", {"name": "部门管理员", "roleCode": "ROLE_DEPT_DICT",
                                                       "dataScope": 4})
    grant_role(app, role, menu_paths=("/system", "/system/dict"), resource_codes=tuple(
        route_code(f"dicts_api.{name}", method) for name, method in (
            ("type_page", "POST"), ("type_create", "POST"), ("type_modify", "PUT"), ("type_delete", "DELETE"),
            ("data_page", "POST"), ("data_create", "POST"), ("data_modify", "PUT"), ("data_delete", "DELETE"))))
    phone = next_phone()
    make_user(app, phone=phone, password="Passw0rd1", dept_id=make_dept(app, "甲部门"), role_ids=[role])
    scoped = ApiClient(app.test_client())
    scoped.token = scoped.sign_in(phone, "Passw0rd1")
    normal = _item_id(app, "sys_user_state", "0")
    type_id = _type_id(app, "sys_user_state")
    assert scoped.post(f"{DICT}/data/page", {"dictType": "sys_user_state"}).get_json()["total"] >= 2
    for refused in (scoped.put(f"{DICT}/data/modify", {"id": normal, "label": "停用", "cssClass": "danger"}),
                    scoped.post(f"{DICT}/data/create", {"dictType": "sys_user_state", "label": "x", "value": "9"}),
                    scoped.delete(f"{DICT}/data/{normal}/delete"),
                    scoped.put(f"{DICT}/type/modify", {"id": type_id, "status": 1}),
                    scoped.post(f"{DICT}/type/create", {"name": "新类型", "dictType": "new_type"}),
                    scoped.delete(f"{DICT}/type/{type_id}/delete")):
        assert "全部数据" in api_error(refused, 403)["msg"]
    pages = PageClient(app.test_client())
    assert pages.sign_in(phone, "Passw0rd1").status_code == 302
    edited = pages.submit(f"/system/dict/data/{normal}/edit", data={
        "dict_type": "sys_user_state", "label": "停用", "value": "0", "sort": "1", "css_class": "danger",
        "status": "0", "remark": ""})
    assert edited.status_code == 403 and "全部数据" in edited.get_data(as_text=True)
    assert query(app, lambda: db.session.get(DictData, normal).label) == "正常"
    api.data("PUT", "/api/admin/role/modify", {"id": role, "dataScope": 1})
    assert scoped.data("PUT", f"{DICT}/data/modify", {"id": normal, "remark": "全部数据的管理员"}) == normal


def test_pages_create_edit_and_delete(pages: PageClient, app: Any) -> None:
    resp = pages.submit("/system/dict/new", data={"name": "客户等级", "dict_type": "customer_level", "status": "0",
                                                  "remark": ""})
    assert resp.status_code == 302
    listing = unescape(pages.get("/system/dict/?dict_type=customer").get_data(as_text=True))
    assert "customer_level" in listing and "sys_user_state" not in listing
    resp = pages.submit("/system/dict/data/new?dict_type=customer_level", "/system/dict/data/new",
                        data={"dict_type": "customer_level", "label": "金牌", "value": "gold", "sort": "1",
                              "css_class": "warning", "status": "0", "remark": ""})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/system/dict/data?dict_type=customer_level")
    html = unescape(pages.get(resp.headers["Location"]).get_data(as_text=True))
    assert "已创建" in html and '<span class="badge text-bg-warning" data-testid="badge">金牌</span>' in html
    # refused: the same value again, shown on the form with what was typed (409)
    again = pages.submit("/system/dict/data/new", data={"dict_type": "customer_level", "label": "又一个",
                                                        "value": "gold", "sort": "2", "css_class": "",
                                                        "status": "0", "remark": ""})
    assert again.status_code == 409 and "该字典类型下已有此键值" in again.get_data(as_text=True)
    item = _item_id(app, "customer_level", "gold")
    edit = pages.submit(f"/system/dict/data/{item}/edit", data={
        "dict_type": "customer_level", "label": "金卡", "value": "gold", "sort": "1", "css_class": "danger",
        "status": "0", "remark": ""})
    assert edit.status_code == 302
    page = pages.get("/system/dict/").get_data(as_text=True)
    token = csrf_from(page)
    type_id = _type_id(app, "customer_level")
    deleted = pages.client.post(f"/system/dict/{type_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert "customer_level" not in pages.get("/system/dict/").get_data(as_text=True)
    assert ("字典类型删除", "success") in logged_actions(app, "字典")


def _type_id(app: Any, code: str) -> int:
    from pcloud.dicts.models import DictType

    with app.app_context():
        found = db.session.execute(select(DictType.id).where(DictType.dict_type == code,
                                                              DictType.deleted_at.is_(None))).scalar_one()
        db.session.remove()
    return found


def test_the_menus_are_under_system_administration(pages: PageClient) -> None:
    html = pages.get("/").get_data(as_text=True)
    assert 'href="/system/dict"' in html and 'href="/system/config"' in html


def test_the_login_log_and_the_job_list_read_their_built_in_types(app: Any, api: ApiClient,
                                                                   pages: PageClient) -> None:
    from tests.factories import make_executor, make_job

    anon = ApiClient(app.test_client())
    anon.post("/api/oauth/token", json={"phone": next_phone(), "password": "wrong-1", "grantType": "ADMIN"})
    api.data("PUT", f"{DICT}/data/modify", {"id": _item_id(app, "login_result", "1"), "label": "未通过",
                                            "cssClass": "warning"})
    html = unescape(pages.get("/monitor/loginlog/").get_data(as_text=True))
    assert '<span class="badge text-bg-warning">未通过</span>' in html
    assert '<option value="1" >未通过</option>' in html  # the filter's choices too
    make_job(app, make_executor(app, "dict-app"), "字典任务")
    api.data("PUT", f"{DICT}/data/modify", {"id": _item_id(app, "job_trigger_status", "0"), "label": "已暂停"})
    html = unescape(pages.get("/job/info/").get_data(as_text=True))
    assert 'data-testid="status">已暂停</span>' in html


# ---------------------------------------------------------------------------------------------
# English (issue 24 item 10): the pages, an item's English label, the built-in items' English

EN = {"Accept-Language": "en"}


def test_every_dictionary_page_in_english(english_pages: PageClient, api: ApiClient, app: Any) -> None:
    english_pages.get("/")  # the sign-in's welcome, which names the administrator as named then, is shown
    type_id = api.data("POST", f"{DICT}/type/create", {"name": "Customer level", "dictType": "customer_level"})
    item_id = api.data("POST", f"{DICT}/data/create", {"dictType": "customer_level", "label": "Gold", "value": "g",
                                                       "labelEn": "Gold EN", "cssClass": "warning"})
    types = english_page(english_pages, "/system/dict/")
    assert "Dictionaries" in types and "User state" in types and "Built-in" in types  # a built-in type's name
    english_page(english_pages, "/system/dict/?name=nothing-like-this")  # the empty state
    items = english_page(english_pages, "/system/dict/data?dict_type=customer_level")
    assert "Gold EN" in items and "English label" in items
    english_page(english_pages, "/system/dict/data?dict_type=sys_user_state")  # setup's labels, said as Chinese
    english_page(english_pages, "/system/dict/data?label=nothing-like-this")
    # (a built-in type's edit form holds its stored Chinese name in the input: what would be saved)
    for url in ("/system/dict/new", f"/system/dict/{type_id}/edit", "/system/dict/data/new",
                f"/system/dict/data/{item_id}/edit"):
        english_page(english_pages, url)
    # a form shown again with its errors, and a save's flash
    refused = english_pages.submit("/system/dict/data/new", data={"dict_type": "customer_level", "label": "",
                                                                  "value": "g", "status": "0"})
    assert "Enter the label" in english_form(refused, 422)
    saved = english_pages.submit("/system/dict/data/new", data={"dict_type": "customer_level", "label": "Silver",
                                                                "label_en": "Silver EN", "value": "s", "sort": "2",
                                                                "status": "0"})
    assert saved.status_code == 302
    # named as the English list names it (a browser review: the flash, the edit page's title and the delete's flash
    # said the Chinese label while the list and the confirm said the English one)
    assert 'Dictionary item "Silver EN" created' in english_page(english_pages, saved.headers["Location"])
    edit = english_page(english_pages, f"/system/dict/data/{item_id}/edit")
    assert "Gold EN" in edit.split("<h1", 1)[1].split("</h1>", 1)[0], edit
    deleted = english_pages.submit("/system/dict/data?dict_type=customer_level", f"/system/dict/data/{item_id}/delete")
    assert 'Dictionary item "Gold EN" deleted' in english_page(english_pages, deleted.headers["Location"])
    assert _label_en(app, "customer_level", "s") == "Silver EN"


def test_an_english_page_finds_a_built_in_type_by_the_name_it_shows(english_pages: PageClient, api: ApiClient,
                                                                    pages: PageClient) -> None:
    """A browser review: the English list names the built-in type 用户状态 "User state", and searching the name it
    shows ("User") found nothing (the filter matched the stored Chinese only). It finds it, as a Chinese page finds
    用户状态, and still finds a type an administrator named, in either language; the API's filter is unchanged."""
    api.data("POST", f"{DICT}/type/create", {"name": "User rank", "dictType": "user_rank"})
    found = english_page(english_pages, "/system/dict/?name=User")
    assert "sys_user_state" in found and "user_rank" in found and "sys_yes_no" not in found
    assert "sys_user_state" in english_page(english_pages, "/system/dict/?name=sTATE&dict_type=sys_")
    assert "sys_user_state" in english_pages.get("/system/dict/?name=用户状态").get_data(as_text=True)
    chinese = pages.get("/system/dict/?name=User").get_data(as_text=True)  # a Chinese page shows 用户状态
    assert "user_rank" in chinese and "sys_user_state" not in chinese
    assert [t["dictType"] for t in api.post(f"{DICT}/type/page", {"name": "User"}, headers=EN).get_json()["data"]] \
        == ["user_rank"]


def _label_en(app: Any, dict_type: str, value: str) -> str | None:
    with app.app_context():
        found = db.session.execute(select(DictData.label_en).where(
            DictData.dict_type == dict_type, DictData.value == value, DictData.deleted_at.is_(None))).scalar_one()
        db.session.remove()
    return found


def test_an_items_english_label_through_the_api(api: ApiClient, app: Any) -> None:
    api.data("POST", f"{DICT}/type/create", {"name": "Size", "dictType": "shirt_size"})
    item_id = api.data("POST", f"{DICT}/data/create", {"dictType": "shirt_size", "label": "大号", "value": "L",
                                                       "labelEn": " Large "})
    page = api.data("POST", f"{DICT}/data/page", {"dictType": "shirt_size"})
    assert [(i["label"], i["labelEn"]) for i in page] == [("大号", "Large")]
    assert [(i["label"], i["labelEn"]) for i in api.data("GET", f"{DICT}/shirt_size")] == [("大号", "Large")]
    api.data("PUT", f"{DICT}/data/modify", {"id": item_id, "labelEn": "Big"})
    assert _label_en(app, "shirt_size", "L") == "Big"
    api.data("PUT", f"{DICT}/data/modify", {"id": item_id, "labelEn": ""})  # cleared: the label shows again
    assert _label_en(app, "shirt_size", "L") is None
    api.data("PUT", f"{DICT}/data/modify", {"id": item_id, "label": "特大"})  # not sent: kept as it was
    assert _label_en(app, "shirt_size", "L") is None
    too_long = api_error(api.post(f"{DICT}/data/create", {"dictType": "shirt_size", "label": "小号", "value": "S",
                                                          "labelEn": "x" * 65}), 422)
    assert "labelEn" in too_long["errors"]
    # a refusal in the caller's language
    again = api_error(api.post(f"{DICT}/data/create", {"dictType": "shirt_size", "label": "又一个", "value": "L"},
                               headers=EN), 409)
    assert again["msg"] == "This dictionary type already has this value"
    assert api_error(api.post(f"{DICT}/data/create", {"dictType": "shirt_size", "label": "又一个", "value": "L"}),
                     409)["msg"] == "该字典类型下已有此键值"


def test_built_in_badges_speak_english_on_an_english_page(english_pages: PageClient, api: ApiClient,
                                                          app: Any) -> None:
    assert [(i["label"], i["labelEn"]) for i in api.data("GET", f"{DICT}/sys_user_state")] == [
        ("正常", "Active"), ("禁用", "Disabled")]
    make_user(app, name="Badge Person", phone=next_phone())
    html = unescape(english_pages.get("/system/user/").get_data(as_text=True))
    assert re.search(r'<span class="badge[^"]*"[^>]*>\s*Active\s*</span>', html), html[-3000:]
    set_language(english_pages.client, "zh")
    assert "正常" in unescape(english_pages.get("/system/user/").get_data(as_text=True))  # the default stays
    set_language(english_pages.client, "en")
    # an item without an English label shows its label on an English page too
    item = _item_id(app, "sys_user_state", "0")
    api.data("PUT", f"{DICT}/data/modify", {"id": item, "labelEn": ""})
    html = unescape(english_pages.get("/system/user/").get_data(as_text=True))
    assert re.search(r'<span class="badge[^"]*"[^>]*>\s*正常\s*</span>', html)


def test_setup_fills_the_english_of_built_in_items_where_it_is_empty(app: Any) -> None:
    from sqlalchemy import update

    from pcloud.dicts.service import ensure_builtin_dicts

    with app.app_context():  # a database made before English labels, and an administrator's own wording
        db.session.execute(update(DictData).where(DictData.dict_type == "sys_user_state").values(label_en=None))
        db.session.execute(update(DictData).where(DictData.dict_type == "login_result", DictData.value == "0")
                           .values(label_en=None, label="通过"))
        db.session.execute(update(DictData).where(DictData.dict_type == "notice_type", DictData.value == "1")
                           .values(label_en="Memo"))
        db.session.commit()
        ensure_builtin_dicts()
        db.session.remove()
    assert _label_en(app, "sys_user_state", "0") == "Active" and _label_en(app, "sys_user_state", "1") == "Disabled"
    assert _label_en(app, "login_result", "0") is None  # relabelled by an administrator: no guess
    assert _label_en(app, "notice_type", "1") == "Memo"  # set by an administrator: kept


def test_an_item_created_while_its_type_is_deleted_is_refused_and_a_second_delete_finds_nothing(
        api: ApiClient, app: Any) -> None:
    """A second review on two hosts: items created while their type was deleted stayed live under the deleted
    type (and two deletes both answered 200). The create waits for the delete in flight and is refused (422); a
    delete that waited for another finds the type gone (404)."""
    from pcloud.dicts.models import DictType
    from tests.test_jobs import while_removing

    for round_, is_default in enumerate((False, True)):
        code = f"going_{round_}"
        type_id = api.data("POST", f"{DICT}/type/create", {"name": f"将删{round_}", "dictType": code})
        resp = while_removing(app, type_id, lambda code=code, is_default=is_default: api.post(
            f"{DICT}/data/create", {"dictType": code, "label": "甲", "value": "a", "isDefault": is_default}),
            model=DictType)
        assert "dictType" in api_error(resp, 422)["errors"]
        assert query(app, lambda code=code: db.session.query(DictData).filter(
            DictData.dict_type == code, DictData.deleted_at.is_(None)).count()) == 0
    type_id = api.data("POST", f"{DICT}/type/create", {"name": "再删", "dictType": "twice"})
    resp = while_removing(app, type_id, lambda: api.delete(f"{DICT}/type/{type_id}/delete"), model=DictType)
    api_error(resp, 404)


def test_parallel_creates_and_changes_into_one_dictionary_type_or_value_keep_one(app: Any, api: ApiClient) -> None:
    """The house rule for a unique value (tests/conftest.py `assert_races_keep_one`): a live type's code, and an
    item's value within its type."""
    from pcloud.dicts.models import DictType
    from tests.conftest import assert_races_keep_one

    assert_races_keep_one(
        app, api.token, lambda n: ("POST", f"{DICT}/type/create", {"name": f"并发{n}", "dictType": f"race_type_{n}"}),
        lambda row, n: ("PUT", f"{DICT}/type/modify", {"id": row, "dictType": f"race_type_{n}"}),
        lambda n: "字典类型已存在",
        lambda: query(app, lambda: list(db.session.execute(select(DictType.dict_type)
                                                           .where(DictType.deleted_at.is_(None))).scalars())))
    api.data("POST", f"{DICT}/type/create", {"name": "并发键值", "dictType": "race_values"})
    assert_races_keep_one(
        app, api.token,
        lambda n: ("POST", f"{DICT}/data/create", {"dictType": "race_values", "label": f"项{n}", "value": f"v{n}"}),
        lambda item, n: ("PUT", f"{DICT}/data/modify", {"id": item, "value": f"v{n}"}),
        lambda n: "该字典类型下已有此键值",
        lambda: query(app, lambda: list(db.session.execute(select(DictData.dict_type, DictData.value)
                                                           .where(DictData.deleted_at.is_(None))).tuples())))


def test_an_item_moved_into_a_type_that_has_its_value_is_refused_by_name_and_left_as_it_was(
        api: ApiClient, app: Any) -> None:
    """Every field is checked before the item is touched: a move into a type whose items already have this value
    answers the value's own 409 (not a lost race's generic one from a check's autoflush), and changes nothing."""
    for code in ("move_from", "move_to"):
        api.data("POST", f"{DICT}/type/create", {"name": code, "dictType": code})
        api.data("POST", f"{DICT}/data/create", {"dictType": code, "label": f"{code} 项", "value": "same"})
    item = _item_id(app, "move_from", "same")
    resp = api.put(f"{DICT}/data/modify", {"id": item, "dictType": "move_to", "label": "改名"})
    assert api_error(resp, 409)["msg"] == "该字典类型下已有此键值"
    kept = api.data("GET", f"{DICT}/move_from")
    assert [(i["label"], i["value"]) for i in kept] == [("move_from 项", "same")]


def test_built_in_types_take_only_the_values_the_console_reads(api: ApiClient, pages: PageClient, app: Any) -> None:
    """A built-in type labels values the console's code uses: a user state 2 or a job status 7 was accepted as an
    item, and then offered by 用户管理's and 任务管理's state filters, which refused it (422, 已忽略该条件), and
    登录日志's result filter showed it selected over every row (a review). The value is refused where it is typed."""
    refused = api_error(api.post(f"{DICT}/data/create", {"dictType": "sys_user_state", "label": "冻结", "value": "2"}),
                        422)
    assert refused["errors"] == {"value": [refused["msg"]]} and "0、1" in refused["msg"]
    assert "用户状态" in refused["msg"]
    assert "2" not in [i["value"] for i in api.data("GET", f"{DICT}/sys_user_state")]
    # an item moved into a built-in type, or a built-in item's value changed, alike
    api.data("POST", f"{DICT}/type/create", {"name": "客户等级", "dictType": "customer_level"})
    gold = api.data("POST", f"{DICT}/data/create", {"dictType": "customer_level", "label": "金牌", "value": "gold"})
    api_error(api.put(f"{DICT}/data/modify", {"id": gold, "dictType": "job_trigger_status"}), 422)
    running = _item_id(app, "job_trigger_status", "1")
    api_error(api.put(f"{DICT}/data/modify", {"id": running, "value": "7"}), 422)
    # what the console reads stays editable: the label, the colour, and a deleted built-in value made again
    assert api.data("PUT", f"{DICT}/data/modify", {"id": running, "label": "调度中", "cssClass": "info",
                                                    "value": "1"}) == running
    api.data("DELETE", f"{DICT}/data/{_item_id(app, 'login_result', '1')}/delete")
    api.data("POST", f"{DICT}/data/create", {"dictType": "login_result", "label": "失败", "value": "1"})
    # the page: the refusal under 字典键值, what was typed kept
    resp = pages.submit("/system/dict/data/new?dict_type=login_result", "/system/dict/data/new",
                        data={"dict_type": "login_result", "label": "锁定", "value": "x", "sort": "3",
                              "css_class": "", "status": "0", "remark": ""})
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422 and "0、1" in html and 'value="锁定"' in html
    assert sorted(i["value"] for i in api.data("GET", f"{DICT}/login_result")) == ["0", "1"]


def test_a_built_in_value_whose_item_is_disabled_or_deleted_keeps_its_name_in_the_lists(
        api: ApiClient, pages: PageClient, app: Any) -> None:
    """用户状态's item 正常 disabled (or deleted, or the whole type disabled): 用户管理 showed every active user's state
    as a bare 0 in both languages (a browser review). A built-in value's badge falls back to its built-in name."""
    normal = _item_id(app, "sys_user_state", "0")
    api.data("PUT", f"{DICT}/data/modify", {"id": normal, "status": 1})

    def states(client: PageClient) -> list[str]:
        html = client.get("/system/user/").get_data(as_text=True)
        return re.findall(r'<span class="badge text-bg-[a-z]+">([^<]*)</span>', html)

    assert states(pages) and set(states(pages)) == {"正常"}
    set_language(pages.client, "en")
    assert set(states(pages)) == {"Active"}
    set_language(pages.client, "zh")
    api.data("DELETE", f"{DICT}/data/{normal}/delete")
    api.data("PUT", f"{DICT}/type/modify", {"id": _type_id(app, "sys_user_state"), "status": 1})
    assert set(states(pages)) == {"正常"}
