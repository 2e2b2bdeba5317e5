"""字典管理 and 参数设置 in a browser (issue 22: 4, 5, 7): a label of the user state edited and seen on the user
list, a parameter changed and put back, at a laptop's and a phone's width."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import confirm_modal, settle, sign_in, watch_console
from tests.conftest import LiveServer


@pytest.mark.parametrize("width", [1280, 390])
def test_edit_a_dictionary_label_and_a_parameter(page: Any, live_server: LiveServer, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    errors = watch_console(page, form_4xx_expected=True)
    sign_in(page)
    page.goto("/system/dict/?dict_type=sys_user")
    page.locator("#dict-type-table").get_by_role("link", name="数据").first.click()
    settle(page, "**/system/dict/data?dict_type=sys_user_state")
    row = page.locator("#dict-data-table tr", has=page.locator("[data-testid=badge]", has_text="正常"))
    row.get_by_role("link", name="编辑").click()
    page.get_by_label("字典标签").fill("在职")
    page.get_by_label("标签颜色").select_option("info")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("字典数据「在职」已保存").wait_for()
    page.goto("/system/user/")
    page.locator("#user-table .badge.text-bg-info", has_text="在职").first.wait_for()

    page.goto("/system/config/?key=company")
    page.locator("#param-table").get_by_role("link", name="编辑").click()
    page.get_by_label("参数值").fill("")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("请输入参数值").wait_for()  # refused, typed value kept (empty)
    page.get_by_label("参数值").fill("示例集团")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("由「公司」改为「示例集团」").wait_for()
    page.locator("#param-table").get_by_role("button", name="恢复默认").click()
    confirm_modal(page)
    page.get_by_text("由「示例集团」改为「公司」").wait_for()
    assert errors == []
