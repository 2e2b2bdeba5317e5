"""开放平台 + 号段管理 in a real browser: create an open account and copy its key with the copy button,
grant it the ID routes, create a segment, fetch ids with the OPEN token through the API, and watch the
cache monitor move. One gunicorn worker, so the monitor shows the process that served the ids."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import settle, sign_in
from tests.conftest import LiveServer, start_server, stop_server


@pytest.fixture(scope="module")
def live_server(app: Any, database_url: str, instance_dir: Path) -> Iterator[LiveServer]:
    server = start_server(database_url, instance_dir, workers=1)
    yield server
    stop_server(server)


def http(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, method=method, headers=headers,
                                 data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback test server
        return json.loads(resp.read())


def test_open_account_key_segment_ids_and_cache_monitor(page: Any, live_server: LiveServer) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page)

    # an open account: the key is shown once, and the copy button puts it on the clipboard
    page.get_by_role("link", name="开放账号").click()
    settle(page, "**/open/account/")
    page.get_by_role("link", name="新增账号").click()
    page.locator("#name").fill("浏览器测试系统")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("secureKey 只显示这一次").wait_for()
    page.wait_for_load_state("load")
    secure_id = page.locator("#secure-id").input_value()
    shown_key = page.locator("#secure-key").input_value()
    page.locator("#copy-key").click()
    page.get_by_text("已复制到剪贴板").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == shown_key and len(copied) >= 32

    # grant it the two ID routes of the catalogue
    page.get_by_role("link", name="去授权接口").click()
    settle(page, "**/grant")
    page.get_by_label("号段取号（单个）").check()
    page.get_by_label("号段取号（批量）").check()
    page.get_by_role("button", name="保存授权").click()
    page.get_by_text("接口授权已保存").wait_for()
    assert copied not in page.content()  # the list never shows the key again

    # a segment, usable at once
    page.get_by_role("link", name="号段列表").click()
    settle(page, "**/integration/segment/")
    page.get_by_role("link", name="新增号段").click()
    page.locator("#biz_tag").fill("browser.order")
    page.locator("#max_id").fill("1000")
    page.locator("#step").fill("100")
    page.locator("#description").fill("浏览器订单号")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("号段「browser.order」已创建").wait_for()
    page.locator('tr[data-biz-tag="browser.order"]').get_by_role("link", name="缓存监控").click()
    settle(page, "**/cache")
    page.get_by_test_id("cache-empty").wait_for()

    # ids with the OPEN token, through the API
    token = http(f"{live_server.url}/api/oauth/token", "POST",
                 {"grantType": "OPEN", "secureId": secure_id, "secureKey": copied})["data"]["token"]
    first = http(f"{live_server.url}/api/integration/segment/get/browser.order", token=token)["data"]
    batch = http(f"{live_server.url}/api/integration/segment/batch/browser.order/10", token=token)["data"]
    assert first == "1000" and batch == [str(i) for i in range(1001, 1011)]

    page.get_by_role("link", name="刷新").click()
    settle(page, "**/cache")
    current = page.get_by_test_id("current")
    assert current.get_by_test_id("position").inner_text() == "1011"
    assert current.get_by_test_id("range").inner_text() == "1000 – 1099"
    assert current.get_by_test_id("used").inner_text() == "11 / 89"
    assert page.get_by_test_id("next-ready").inner_text() in ("已加载", "加载中")

    http(f"{live_server.url}/api/integration/segment/batch/browser.order/50", token=token)
    page.get_by_role("link", name="刷新").click()
    settle(page, "**/cache")
    assert page.get_by_test_id("current").get_by_test_id("position").inner_text() == "1061"
    assert page.get_by_test_id("next-ready").inner_text() == "已加载"
    assert page.get_by_test_id("next").get_by_test_id("range").inner_text().startswith("1100 – ")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_lists_of_segments_logs_and_open_platform_fit_in_english(page: Any, app: Any, width: int) -> None:
    """English is longer than Chinese: the lists still scroll rather than wrap, and each row's buttons stay in
    sight (the open accounts' rarer actions sit behind 更多)."""
    from tests.browser.test_layout_browser import ACTIONS_OUT_OF_SIGHT, WRAPPED_CELLS
    from tests.factories import make_open_account, make_open_entry, make_segment

    make_segment(app, "order")
    make_open_account(app, "Orders")
    make_open_entry(app, "Grade delete", "/api/admin/grade/1/delete")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page)
    page.goto("/language/en?next=/")
    for path in ("/integration/segment/", "/system/log/", "/monitor/loginlog/", "/monitor/online/",
                 "/open/account/", "/open/resource/"):
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.evaluate(WRAPPED_CELLS) == [], (width, path)
        assert page.evaluate(ACTIONS_OUT_OF_SIGHT) == [], (width, path)
