"""号段管理 and the ID service: admin routes, id routes, documented errors, the allocator's buffers and
adaptive step, overflow at 2^63-1 on both databases, and the pages (list, create, edit, cache monitor)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import delete as delete_stmt
from sqlalchemy import select, text

from pcloud.extensions import db
from pcloud.segments.allocator import Allocator
from pcloud.segments.models import MAX_ID_LIMIT, MAX_SET_ID, Segment
from tests.conftest import ApiClient, PageClient, api_error, assert_refused, assert_save_after_delete_keeps_typed
from tests.factories import query

ADMIN = "/api/integration/admin/segment"
IDS = "/api/integration/segment"
ITEM_KEYS = {"bizTag", "maxId", "step", "description", "author", "updateTime"}


def create(api: ApiClient, **body: Any) -> str:
    return api.data("POST", f"{ADMIN}/create", body)


def reset_allocator(app: Any) -> None:
    from pcloud.segments.service import get_allocator

    alloc = get_allocator(app)
    for state in alloc.states():
        alloc.forget(state["biz_tag"])


@pytest.fixture(autouse=True)
def _fresh_buffers(app: Any) -> None:
    reset_allocator(app)  # the tables were wiped: buffers of the previous test would hand out stale ranges


def test_create_page_and_modify(api: ApiClient) -> None:
    assert create(api, bizTag="order", step=100, description="订单号", author="张三") == "order"
    assert create(api, bizTag="pay.refund:v1-x_y") == "pay.refund:v1-x_y"
    body = api.post(f"{ADMIN}/page", {}).get_json()
    assert body["total"] == 2 and [i["bizTag"] for i in body["data"]] == ["order", "pay.refund:v1-x_y"]
    item = body["data"][0]
    assert set(item) == ITEM_KEYS
    assert (item["maxId"], item["step"], item["description"], item["author"]) == ("1", 100, "订单号", "张三")
    assert body["data"][1]["step"] == 1000 and body["data"][1]["maxId"] == "1"
    assert [i["bizTag"] for i in api.post(f"{ADMIN}/page", {"bizTag": "refund"}).get_json()["data"]] == [
        "pay.refund:v1-x_y"]
    assert [i["bizTag"] for i in api.post(f"{ADMIN}/page", {"description": "订单"}).get_json()["data"]] == ["order"]
    assert api.data("PUT", f"{ADMIN}/modify", {"bizTag": "order", "maxId": "5000", "step": 10,
                                               "description": "订单"}) == "order"
    item = api.post(f"{ADMIN}/page", {"bizTag": "order"}).get_json()["data"][0]
    assert (item["maxId"], item["step"], item["description"], item["author"]) == ("5000", 10, "订单", "张三")
    assert api.get(f"{IDS}/get/order").get_json()["data"] == "5000"


def test_documented_errors(api: ApiClient) -> None:
    create(api, bizTag="t1", maxId=100)
    assert "bizTag" in api_error(api.post(f"{ADMIN}/create", {"bizTag": "t1"}), 409)["errors"]
    for bad in ("", "has space", "a/b", "x" * 129, "中文"):
        assert "bizTag" in api_error(api.post(f"{ADMIN}/create", {"bizTag": bad}), 422)["errors"]
    for step in (0, 1_000_001, -1, "10"):
        assert "step" in api_error(api.post(f"{ADMIN}/create", {"bizTag": "t2", "step": step}), 422)["errors"]
        assert "step" in api_error(api.put(f"{ADMIN}/modify", {"bizTag": "t1", "step": step}), 422)["errors"]
    for max_id in (0, -5, "abc", str(MAX_ID_LIMIT + 1), 1.5):
        assert "maxId" in api_error(api.post(f"{ADMIN}/create", {"bizTag": "t3", "maxId": max_id}), 422)["errors"]
    api_error(api.post(f"{ADMIN}/create", {"bizTag": "t4", "bogus": 1}), 422)
    lowered = api_error(api.put(f"{ADMIN}/modify", {"bizTag": "t1", "maxId": 99}), 422)
    assert "maxId" in lowered["errors"] and "不能调小" in lowered["msg"]
    assert api.data("PUT", f"{ADMIN}/modify", {"bizTag": "t1", "maxId": 100}) == "t1"  # unchanged is fine
    api_error(api.put(f"{ADMIN}/modify", {"bizTag": "nope", "step": 5}), 404)
    api_error(api.get(f"{IDS}/get/nope"), 404)
    api_error(api.get(f"{IDS}/batch/nope/5"), 404)
    api_error(api.get(f"{IDS}/get/bad tag"), 422)
    for count in ("0", "1001", "-1", "abc", "99999999999999999999"):
        assert "count" in api_error(api.get(f"{IDS}/batch/t1/{count}"), 422)["errors"]
    assert query(api.client.application, lambda: db.session.execute(select(Segment.max_id)).scalar()) == 100


def test_numbers_are_ascii_digits_and_new_tags_can_be_drawn(api: ApiClient, pages: PageClient) -> None:
    """Issue 19, finding 11: maxId and count took "١٢٣", " 12 ", "1_0", "+5"; a tag ".." was created and could
    never be drawn. Digits are ASCII only; a new tag starts with a letter or digit."""
    create(api, bizTag="t1", maxId=100)
    for max_id in ("١٢٣", " 12 ", "1_0", "+5", "12\n", "٣"):
        body = api_error(api.post(f"{ADMIN}/create", {"bizTag": "t5", "maxId": max_id}), 422)
        assert "maxId" in body["errors"], max_id
        assert "maxId" in api_error(api.put(f"{ADMIN}/modify", {"bizTag": "t1", "maxId": max_id}), 422)["errors"]
    for count in ("١٢٣", " 12 ", "1_0", "+5", "٣", "%2B5", "%2012%20"):
        assert "count" in api_error(api.get(f"{IDS}/batch/t1/{count}"), 422)["errors"], count
    assert api.data("GET", f"{IDS}/batch/t1/3") == ["100", "101", "102"]
    for bad in ("..", ".", "-x", "_x", ":x", ".hidden"):
        assert "bizTag" in api_error(api.post(f"{ADMIN}/create", {"bizTag": bad}), 422)["errors"], bad
        resp = pages.submit("/integration/segment/new", data={"biz_tag": bad, "max_id": "1", "step": "10"})
        assert resp.status_code == 422, bad
    for good in ("a..b", "0-x", "Pay.v1:x_y-z"):
        assert create(api, bizTag=good) == good
        assert api.data("GET", f"{IDS}/get/{good}") == "1"
    slugs = [i["bizTag"] for i in api.post(f"{ADMIN}/page", {"pageSize": 50}).get_json()["data"]]
    assert slugs == ["0-x", "Pay.v1:x_y-z", "a..b", "t1"]


def test_unknown_tags_leave_nothing_in_the_cache(api: ApiClient, app: Any) -> None:
    """Issue 19, finding 12: each lookup of a tag that does not exist left an entry in the allocator's cache."""
    from pcloud.segments.service import get_allocator

    create(api, bizTag="real", step=10)
    assert api.data("GET", f"{IDS}/get/real") == "1"
    for i in range(100):
        api_error(api.get(f"{IDS}/get/made-up-{i}"), 404)
        api_error(api.get(f"{IDS}/batch/made-up-b{i}/3"), 404)
    assert [s["biz_tag"] for s in get_allocator(app).states()] == ["real"]
    assert [i["bizTag"] for i in api.data("GET", f"{ADMIN}/cache")] == ["real"]
    # a tag created after it was asked for serves at once
    api_error(api.get(f"{IDS}/get/later"), 404)
    create(api, bizTag="later")
    assert api.data("GET", f"{IDS}/get/later") == "1"


def test_new_tag_serves_on_the_next_call_and_batches_ascend(api: ApiClient) -> None:
    create(api, bizTag="fresh", maxId=7, step=5)
    assert api.data("GET", f"{IDS}/get/fresh") == "7"
    batch = api.data("GET", f"{IDS}/batch/fresh/12")
    assert all(isinstance(i, str) for i in batch)
    assert [int(i) for i in batch] == list(range(8, 20))
    assert len(api.data("GET", f"{IDS}/batch/fresh/1000")) == 1000
    ids = [int(api.data("GET", f"{IDS}/get/fresh")) for _ in range(20)]
    assert ids == sorted(ids) and len(set(ids)) == 20 and ids[0] == 1020


def test_cache_route_shows_both_buffers(api: ApiClient, app: Any) -> None:
    create(api, bizTag="mon", step=100)
    assert api.data("GET", f"{ADMIN}/cache") == []
    api.data("GET", f"{IDS}/batch/mon/50")
    from pcloud.segments.service import get_allocator

    state = get_allocator(app).state("mon")
    assert state is not None
    # the preload started at 10% runs in a thread: wait for it, bounded
    deadline = threading.Event()
    for _ in range(200):
        if get_allocator(app).state("mon")["next_ready"]:
            break
        deadline.wait(0.01)
    [item] = api.data("GET", f"{ADMIN}/cache")
    assert item["bizTag"] == "mon" and item["nextReady"] is True
    assert item["current"]["start"] == "1" and item["current"]["position"] == "51"
    assert item["current"]["end"] == "100" and item["current"]["remaining"] == 50
    assert int(item["next"]["start"]) >= 101 and item["loads"] == 2 and item["lastLoadTime"]
    assert item["storedStep"] == 100


def at_max_id(app: Any, tag: str, max_id: int) -> None:
    """A tag's stored maxId set beyond what anyone may set (as after 4.6e18 ids handed out)."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("UPDATE sys_segment SET max_id = :m WHERE biz_tag = :t"), {"m": max_id, "t": tag})


def test_nobody_sets_a_max_id_that_would_exhaust_a_tag(api: ApiClient, app: Any) -> None:
    """Review (session 15): anyone holding segment modify set a tag's maxId to 2^63-1 (through the API or the page),
    and since maxId is never lowered, every get and batch of that tag answered 409 for good. A maxId set by hand
    stays at most 2^62, leaving 4.6e18 ids to hand out; a large jump (past an older system's ids) is still fine."""
    create(api, bizTag="invoice", maxId=100)
    for too_high in (str(MAX_ID_LIMIT), str(MAX_SET_ID + 1)):
        assert "maxId" in api_error(api.put(f"{ADMIN}/modify", {"bizTag": "invoice", "maxId": too_high}), 422)["errors"]
        assert "maxId" in api_error(api.post(f"{ADMIN}/create", {"bizTag": "x", "maxId": too_high}), 422)["errors"]
    pages = PageClient(app.test_client())
    pages.sign_in()
    resp = pages.submit("/integration/segment/invoice/edit", data={
        "biz_tag": "invoice", "max_id": str(MAX_ID_LIMIT), "step": "1000"})
    assert resp.status_code == 422
    assert api.data("GET", f"{IDS}/get/invoice") == "100"
    assert api.data("PUT", f"{ADMIN}/modify", {"bizTag": "invoice", "maxId": str(MAX_SET_ID)}) == "invoice"
    reset_allocator(app)
    assert api.data("GET", f"{IDS}/get/invoice") == str(MAX_SET_ID)
    # a tag grown past the cap by handing out ids still saves with its maxId echoed back (the edit page does)
    grown = MAX_SET_ID + 5_000
    at_max_id(app, "invoice", grown)
    assert api.data("PUT", f"{ADMIN}/modify", {"bizTag": "invoice", "maxId": str(grown), "step": 50}) == "invoice"
    form = pages.get("/integration/segment/invoice/edit").get_data(as_text=True)
    assert f'value="{grown}"' in form
    saved = pages.submit("/integration/segment/invoice/edit", data={
        "biz_tag": "invoice", "max_id": str(grown), "step": "60", "description": "已发很多"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    assert "maxId" in api_error(api.put(f"{ADMIN}/modify", {"bizTag": "invoice", "maxId": str(grown + 1)}),
                                422)["errors"]


def test_overflow_is_refused_with_409(api: ApiClient, app: Any) -> None:
    top = MAX_ID_LIMIT - 3
    create(api, bizTag="edge", step=1000)
    at_max_id(app, "edge", top)
    got = api.data("GET", f"{IDS}/batch/edge/3")
    assert got == [str(top), str(top + 1), str(top + 2)]  # what remained below 2^63-1 is still handed out
    body = api_error(api.get(f"{IDS}/get/edge"), 409)
    assert "用尽" in body["msg"]
    stored = query(app, lambda: db.session.execute(text(
        "SELECT max_id FROM sys_segment WHERE biz_tag = 'edge'")).scalar())
    assert stored == MAX_ID_LIMIT and isinstance(stored, int)


def test_database_refuses_an_overflowing_max_id(app: Any, api: ApiClient) -> None:
    """The CHECK keeps max_id an integer within BIGINT even on SQLite, whatever the code does."""
    create(api, bizTag="raw")
    at_max_id(app, "raw", MAX_ID_LIMIT)
    with app.app_context():
        # IntegrityError on SQLite, DataError on PostgreSQL
        with pytest.raises(Exception), db.engine.begin() as conn:  # noqa: B017
            conn.execute(text("UPDATE sys_segment SET max_id = max_id + 1 WHERE biz_tag = 'raw'"))
        assert db.session.execute(text("SELECT max_id FROM sys_segment WHERE biz_tag='raw'")).scalar() == MAX_ID_LIMIT


def test_adaptive_step_doubles_and_follows_a_changed_stored_step(api: ApiClient, app: Any) -> None:
    create(api, bizTag="adapt", step=10)
    alloc = Allocator(app.config["SQLALCHEMY_DATABASE_URI"], max_step=80)
    try:
        ids = alloc.take("adapt", 10)
        assert ids == list(range(1, 11))
        sizes = []
        for _ in range(6):
            ids += alloc.take("adapt", alloc.state("adapt")["current"]["remaining"] or 1)
            sizes.append(alloc.state("adapt")["step"])
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert max(sizes) == 80 and sizes == sorted(sizes)  # doubles after fast use, capped
        api.data("PUT", f"{ADMIN}/modify", {"bizTag": "adapt", "step": 3})
        for _ in range(4):
            alloc.take("adapt", alloc.state("adapt")["current"]["remaining"] or 1)
        assert alloc.state("adapt")["stored_step"] == 3 and alloc.state("adapt")["step"] <= 24
    finally:
        alloc.dispose()


def test_threads_in_one_process_never_share_an_id(api: ApiClient, app: Any) -> None:
    create(api, bizTag="threads", step=7)
    alloc = Allocator(app.config["SQLALCHEMY_DATABASE_URI"], max_step=50)
    results: list[list[int]] = [[] for _ in range(8)]

    def run(i: int) -> None:
        for n in range(300):
            results[i].extend(alloc.take("threads", 1 + n % 3))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    alloc.dispose()
    every = [i for r in results for i in r]
    assert len(every) == len(set(every)) == 8 * 600
    assert all(r == sorted(r) for r in results)


# ---------------------------------------------------------------------------------------------
# Pages


def test_pages_list_create_edit_and_cache_monitor(pages: PageClient, api: ApiClient) -> None:
    html = pages.get("/integration/segment/").get_data(as_text=True)
    assert "还没有号段" in html
    resp = pages.submit("/integration/segment/new", data={"biz_tag": "page.tag", "max_id": "10", "step": "50",
                                                          "description": "页面创建", "author": "李四"})
    assert resp.status_code == 302
    html = pages.get("/integration/segment/", follow_redirects=True).get_data(as_text=True)
    assert "page.tag" in html and "页面创建" in html
    resp = pages.submit("/integration/segment/new", data={"biz_tag": "page.tag", "max_id": "1", "step": "5"})
    assert resp.status_code == 409 and "业务标识已存在" in resp.get_data(as_text=True)
    resp = pages.submit("/integration/segment/new", data={"biz_tag": "x y", "max_id": "1", "step": "0"})
    assert resp.status_code == 422 and "步长须为" in resp.get_data(as_text=True)

    resp = pages.submit("/integration/segment/page.tag/edit", data={"biz_tag": "page.tag", "max_id": "5",
                                                                    "step": "50"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "不能调小" in html and "重复发号" in html
    resp = pages.submit("/integration/segment/page.tag/edit", data={"biz_tag": "other", "max_id": "20",
                                                                    "step": "40", "author": "王五"})
    assert resp.status_code == 302
    item = api.post(f"{ADMIN}/page", {}).get_json()["data"][0]
    assert (item["bizTag"], item["maxId"], item["step"], item["author"]) == ("page.tag", "20", 40, "王五")

    html = pages.get("/integration/segment/page.tag/cache").get_data(as_text=True)
    assert 'data-testid="cache-empty"' in html
    api.data("GET", f"{IDS}/batch/page.tag/10")
    html = pages.get("/integration/segment/page.tag/cache").get_data(as_text=True)
    assert 'data-testid="position">30<' in html and "当前段" in html
    assert pages.get("/integration/segment/nope/cache").status_code == 404


def test_the_edit_form_of_a_tag_handing_out_ids_saves_with_its_max_id_left_as_shown(pages: PageClient,
                                                                                    api: ApiClient) -> None:
    """A review: the form posted back the maxId it was shown, which the ID service had raised meanwhile, so a
    busy tag's form could never be saved ("cannot lower"), not even with the value the refusal named."""
    import re

    create(api, bizTag="busy", maxId=1, step=10)
    url = "/integration/segment/busy/edit"
    html = pages.get(url).get_data(as_text=True)
    shown = {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1)
             for name in ("max_id", "max_id_shown", "_seen")}
    assert shown["max_id"] == shown["max_id_shown"] == "1"
    api.data("GET", f"{IDS}/batch/busy/25")  # ids handed out: maxId moves past what the form shows
    moved = api.post(f"{ADMIN}/page", {}).get_json()["data"][0]["maxId"]
    assert int(moved) > 1
    resp = pages.submit(url, data={"biz_tag": "busy", "step": "10", "description": "忙碌的号段", **shown})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    item = api.post(f"{ADMIN}/page", {}).get_json()["data"][0]
    assert int(item["maxId"]) >= int(moved) and item["description"] == "忙碌的号段"
    # a maxId typed by hand is still saved, and still never lowered
    seen = re.search(r'name="_seen"[^>]*value="([^"]*)"', pages.get(url).get_data(as_text=True)).group(1)
    resp = pages.submit(url, data={"biz_tag": "busy", "step": "10", **shown, "_seen": seen, "max_id": "5"})
    assert resp.status_code == 422 and "不能调小" in resp.get_data(as_text=True)


def test_a_refused_edit_is_logged_as_failed_on_the_page_and_the_api(app: Any, pages: PageClient,
                                                                     api: ApiClient) -> None:
    """Lowering maxId: the page and the API both answer 422 with the reason, and log it as failed."""
    from pcloud.segments.service import LOWERING

    api.data("POST", f"{ADMIN}/create", {"bizTag": "order", "maxId": "100", "step": 10})
    refusal = LOWERING.format(current=100)
    page = pages.submit("/integration/segment/order/edit", data={"biz_tag": "order", "max_id": "5", "step": "10"})
    assert_refused(app, page, "号段修改", 422, refusal)
    resp = api.put(f"{ADMIN}/modify", {"bizTag": "order", "maxId": "5", "step": 10})
    assert_refused(app, resp, "号段修改", 422, refusal)


def test_saving_a_segment_deleted_meanwhile_keeps_the_typed_values(app: Any, pages: PageClient,
                                                                    api: ApiClient) -> None:
    """Segments have no delete route: a row removed in the database (by hand) while its form was open."""
    api.data("POST", f"{ADMIN}/create", {"bizTag": "doomed", "maxId": "100", "step": 10})

    def delete() -> None:
        with app.app_context():
            db.session.execute(delete_stmt(Segment).where(Segment.biz_tag == "doomed"))
            db.session.commit()

    assert_save_after_delete_keeps_typed(
        pages, "/integration/segment/doomed/edit", delete,
        {"biz_tag": "doomed", "max_id": "200", "step": "10", "description": "我刚改的描述"}, "我刚改的描述", "号段")
    html = pages.submit("/integration/segment/doomed/edit", data={"biz_tag": "doomed", "max_id": "200",
                                                                  "step": "10"}).get_data(as_text=True)
    assert "编辑号段：doomed" in html and "当前值 None" not in html


def test_list_page_reads_its_filters_through_the_api_schema(api: ApiClient, pages: PageClient) -> None:
    """Issue 19, finding 9: the segment list's filters pass the API's schema (too long is refused with a
    message, not cut silently); the list is still shown."""
    from html import unescape

    api.data("POST", f"{ADMIN}/create", {"bizTag": "order", "step": 100})
    for url in ("/integration/segment/?bizTag=" + "x" * 200, "/integration/segment/?description=" + "长" * 300):
        resp = pages.get(url)
        html = unescape(resp.get_data(as_text=True))
        assert resp.status_code == 422, (url, resp.status_code)
        assert "筛选条件" in html and "order" in html, url
    assert "order" in pages.get("/integration/segment/?bizTag=ord").get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# English (issue 24 item 10)


def test_segment_pages_in_english(app: Any, english_pages: PageClient, api: ApiClient) -> None:
    """Every segment page, with rows, the empty states, a refused form and a save's flash: no Chinese left."""
    from html import unescape

    from tests.conftest import chinese_on_page as english_leftovers

    pages = english_pages
    html = pages.get("/integration/segment/").get_data(as_text=True)
    assert "No segments yet" in html and not english_leftovers(html), english_leftovers(html)
    resp = pages.submit("/integration/segment/new", data={"biz_tag": "order", "max_id": "1", "step": "10",
                                                          "description": "orders", "author": "Wang"},
                        follow_redirects=True)
    html = unescape(resp.get_data(as_text=True))
    assert 'Segment "order" created; IDs can be taken from it now' in html, html[:3000]
    assert not english_leftovers(html), english_leftovers(html)
    html = pages.get("/integration/segment/?bizTag=nothing").get_data(as_text=True)
    assert "No segments match" in html and not english_leftovers(html), english_leftovers(html)
    api.data("GET", f"{IDS}/get/order")  # this process now buffers the tag: the list's badge, the monitor's cards
    for path in ("/integration/segment/", "/integration/segment/new", "/integration/segment/order/edit",
                 "/integration/segment/order/cache"):
        resp = pages.get(path)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and not english_leftovers(html), (path, english_leftovers(html))
    assert "Cache monitor: <code>order</code>" in html and "Current range" in html
    reset_allocator(app)
    html = pages.get("/integration/segment/order/cache").get_data(as_text=True)
    assert 'data-testid="cache-empty"' in html and not english_leftovers(html), english_leftovers(html)

    resp = pages.submit("/integration/segment/order/edit", data={"biz_tag": "order", "max_id": "abc", "step": "0"})
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422 and "The max ID must be a positive whole number" in html
    assert "The step must be a whole number from 1 to 1000000" in html
    assert not english_leftovers(html), english_leftovers(html)
    resp = pages.submit("/integration/segment/new", data={"biz_tag": "-bad", "step": "10"})
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422 and "must start with a letter or digit" in html
    assert not english_leftovers(html), english_leftovers(html)


def test_segment_refusals_in_english_and_chinese(api: ApiClient) -> None:
    """The services' refusals follow the caller's language; Chinese stays the default."""
    en = {"Accept-Language": "en"}
    create(api, bizTag="order", maxId="100", step=10)
    body = api_error(api.put(f"{ADMIN}/modify", {"bizTag": "order", "maxId": "5"}, headers=en), 422)
    assert body["msg"].startswith("The max ID cannot be lowered: it is 100 now"), body
    assert api_error(api.post(f"{ADMIN}/create", {"bizTag": "order"}, headers=en), 409)["msg"] == (
        "The business tag already exists")
    assert api_error(api.get(f"{IDS}/get/nope", headers=en), 404)["msg"] == 'The segment "nope" does not exist'
    assert api_error(api.get(f"{IDS}/batch/order/0", headers=en), 422)["msg"] == (
        "count must be a whole number from 1 to 1000")
    assert api_error(api.get(f"{IDS}/get/nope"), 404)["msg"] == "号段「nope」不存在"


def test_parallel_creates_of_one_biz_tag_keep_one(app: Any, api: ApiClient) -> None:
    """The house rule for a unique value (tests/conftest.py `assert_races_keep_one`): a segment's tag (never
    changed once created: nothing to rename into)."""
    from tests.conftest import assert_races_keep_one

    assert_races_keep_one(
        app, api.token, lambda n: ("POST", f"{ADMIN}/create", {"bizTag": f"race-{n}"}), None,
        lambda n: "业务标识已存在",
        lambda: query(app, lambda: list(db.session.execute(select(Segment.biz_tag)).scalars())))


def test_the_openapi_document_describes_the_id_routes_as_api_md_does(api: ApiClient) -> None:
    """An integrator's review, generating a client from /api/openapi.json: the ID routes' path parameters were
    named biz_tag (API.md and the catalogue: {bizTag}; likewise {accountId} of the open platform's refresh), `count`
    was any string where API.md says 1..1000, maxId had no type at all, updateTime none, and the bizTag patterns
    ended in Python's \\Z, which a JavaScript (ECMA) validator reads as a literal Z, refusing every valid tag."""
    import re

    spec = api.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    assert f"{IDS}/get/{{bizTag}}" in paths and f"{IDS}/batch/{{bizTag}}/{{count}}" in paths
    assert "/api/open/admin/resource/{accountId}/refresh" in paths
    assert not [p for p in paths if re.search(r"\{[a-z]+_[a-z_]+\}", p)]  # camelCase on the wire, as API.md

    def params(path: str) -> dict[str, Any]:
        item = paths[path]
        found = {p["name"]: p for p in item.get("parameters", [])}
        found.update({p["name"]: p for p in item["get"].get("parameters", [])})
        return found

    count = params(f"{IDS}/batch/{{bizTag}}/{{count}}")["count"]["schema"]
    assert (count["type"], count["minimum"], count["maximum"]) == ("integer", 1, 1000)
    tag = params(f"{IDS}/get/{{bizTag}}")["bizTag"]["schema"]
    assert tag["pattern"] == "^[A-Za-z0-9_.:-]{1,128}$"

    schemas = spec["components"]["schemas"]
    assert schemas["SegmentCreateArgs"]["properties"]["bizTag"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
    assert schemas["SegmentModifyArgs"]["properties"]["bizTag"]["pattern"] == "^[A-Za-z0-9_.:-]{1,128}$"
    for args in ("SegmentCreateArgs", "SegmentModifyArgs"):
        max_id = schemas[args]["properties"]["maxId"]
        assert {s["type"] for s in max_id["oneOf"]} == {"string", "integer"}, max_id
    assert schemas["SegmentOut"]["properties"]["maxId"]["type"] == "string"
    assert schemas["SegmentOut"]["properties"]["updateTime"]["type"] == "string"


def test_a_max_id_out_of_range_is_refused_with_the_one_range_it_may_take(api: ApiClient, pages: PageClient) -> None:
    """An integrator's review: maxId 5000000000000000000 was refused 「最大 ID 须在 1 到 4611686018427387904 之间」, but
    10000000000000000000 or 0 「取值范围 1 到 9223372036854775807」, a range the first answer contradicts, and "1e5"
    the same range though it is no number at all; the page's form said 「最大 ID 须为正整数」 of a 20-digit number. Each
    now says the range a maxId may be set to, and a text that is no whole number says that."""
    create(api, bizTag="t1", maxId=100)
    in_range = f"最大 ID 须在 1 到 {MAX_SET_ID} 之间"
    for max_id in ("5000000000000000000", "10000000000000000000", "0", 0, -1, 2**63):
        for resp in (api.post(f"{ADMIN}/create", {"bizTag": "t2", "maxId": max_id}),
                     api.put(f"{ADMIN}/modify", {"bizTag": "t1", "maxId": max_id})):
            assert api_error(resp, 422)["errors"]["maxId"] == [in_range], max_id
    for max_id in ("1e5", "", "abc", 1.5, True):
        body = api_error(api.post(f"{ADMIN}/create", {"bizTag": "t2", "maxId": max_id}), 422)
        assert body["errors"]["maxId"] == ["最大 ID 须为整数（数字字符串或 JSON 整数）"], max_id
    page = pages.submit("/integration/segment/new", data={"biz_tag": "t3", "max_id": "99999999999999999999",
                                                          "step": "1000", "description": "", "author": ""})
    assert page.status_code == 422 and in_range in page.get_data(as_text=True)


def test_a_tag_in_the_id_routes_path_is_taken_as_sent(api: ApiClient) -> None:
    """An integrator's review: GET .../get/order%20 (a tag padded by the caller's own bug) answered order's ids, where
    the same space in `count` is 422 and API.md says a tag outside its pattern is 422: the caller's mistake went
    unnoticed. The path's tag is now checked as sent."""
    create(api, bizTag="order")
    for padded in ("order%20", "%20order", "order%09", "%20order%20"):
        assert "bizTag" in api_error(api.get(f"{IDS}/get/{padded}"), 422)["errors"], padded
        assert "bizTag" in api_error(api.get(f"{IDS}/batch/{padded}/2"), 422)["errors"], padded
    assert api.data("GET", f"{IDS}/get/order") == "1"
