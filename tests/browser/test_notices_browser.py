"""通知公告 and 云上传 storage settings in a browser (issue 22 item 6, issue 25): a notice written in Markdown,
published after the confirm, seen by a user through the one bell and read; its read receipt; a storage added
and deleted; at a laptop's and a phone's width."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import confirm_modal, settle, sign_in, watch_console
from tests.conftest import LiveServer
from tests.factories import make_user


@pytest.mark.parametrize("width", [1280, 390])
def test_publish_a_notice_and_read_it_through_the_bell(page: Any, browser: Any, app: Any, live_server: LiveServer,
                                                       width: int) -> None:
    make_user(app, phone="13900004001", name="读公告的人", password="Passw0rd1")
    page.set_viewport_size({"width": width, "height": 900})
    errors = watch_console(page)
    sign_in(page)
    page.goto("/system/notice/")
    page.get_by_text("还没有通知公告").wait_for()
    page.get_by_role("link", name="新增通知公告").click()
    settle(page, "**/system/notice/new**")
    page.locator("#title").fill("系统升级公告")
    page.locator("#notice_type").select_option("2")
    page.locator("#content").fill("今晚 **22:00** 升级\n\n<script>alert(1)</script>")
    page.get_by_role("button", name="保存").click()
    settle(page, "**/system/notice/")
    page.get_by_text("已保存通知公告「系统升级公告」（草稿）").wait_for()
    page.get_by_role("button", name="发布").click()
    confirm_modal(page)
    settle(page, "**/system/notice/**")
    page.get_by_text("通知公告「系统升级公告」已发布").wait_for()

    reader = browser.new_context(base_url=live_server.url, locale="zh-CN").new_page()
    reader.set_viewport_size({"width": width, "height": 900})
    reader_errors = watch_console(reader)
    sign_in(reader, "13900004001", "Passw0rd1")
    assert reader.get_by_test_id("bell-unread").inner_text() == "1"
    reader.locator("[data-testid=home-notices]").get_by_text("系统升级公告").wait_for()
    reader.get_by_test_id("bell").click()
    reader.get_by_test_id("notice-bell").click()
    settle(reader, "**/notices/")
    reader.get_by_role("link", name="系统升级公告").click()
    settle(reader, "**/notices/*")
    body = reader.get_by_test_id("notice-body")
    assert body.locator("strong").inner_text() == "22:00"
    assert "<script>alert(1)</script>" in body.inner_text() and body.locator("script").count() == 0
    assert reader.get_by_test_id("bell-unread").count() == 0  # read: the bell is quiet

    page.goto("/system/notice/")
    page.get_by_role("link", name="已读回执").click()
    settle(page, re.compile(r"/readers\?back="))  # the list it came from rides along
    page.locator("#reader-table tr", has_text="读公告的人").get_by_text("已读").wait_for()
    assert errors == [] and reader_errors == []
    reader.context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_add_and_delete_a_storage_setting(page: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    errors = watch_console(page)
    sign_in(page)
    page.goto("/personalized/upload/")
    page.get_by_role("link", name="存储设置").click()
    settle(page, "**/personalized/upload/storages/")
    page.get_by_role("link", name="新增存储").click()
    settle(page, "**/storages/new**")
    page.locator("#name").fill("归档存储")
    page.get_by_role("button", name="保存").click()
    settle(page, "**/personalized/upload/storages/")
    page.get_by_text("已保存存储「归档存储」").wait_for()
    page.locator("#storage-table tr", has_text="归档存储").get_by_role("button", name="删除").click()
    confirm_modal(page)
    settle(page, "**/personalized/upload/storages/**")
    page.get_by_text("存储「归档存储」已删除").wait_for()
    assert errors == []


def _draft_a_notice(page: Any, title: str, content: str) -> None:
    """Signed in as the admin, a draft notice saved through its form; the page back on the list."""
    sign_in(page)
    page.goto("/system/notice/new")
    page.locator("#title").fill(title)
    page.locator("#content").fill(content)
    page.get_by_role("button", name="保存").click()
    settle(page, "**/system/notice/")


def test_a_confirm_dialog_closed_by_the_keyboard_gives_the_focus_back(page: Any) -> None:
    """A keyboard user opening 删除 and changing their mind (Esc, or 取消) was left at the top of the page, the focus
    on nothing: the dialog, opened by script, did not give it back. It returns to the button that opened it."""
    errors = watch_console(page)
    _draft_a_notice(page, "键盘用户的公告", "正文")
    delete = page.locator("tr", has_text="键盘用户的公告").get_by_role("button", name="删除")
    delete.focus()
    page.keyboard.press("Enter")
    page.locator("#confirmModal").wait_for(state="visible")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'confirmOk'")
    page.keyboard.press("Escape")
    page.locator("#confirmModal").wait_for(state="hidden")
    page.wait_for_function("() => document.activeElement && document.activeElement.textContent.trim() === '删除'",
                           timeout=3000)
    page.keyboard.press("Enter")  # the same button, again: this time 取消, reached by the keyboard
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'confirmOk'")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.locator("#confirmModal").wait_for(state="hidden")
    page.wait_for_function("() => document.activeElement && document.activeElement.textContent.trim() === '删除'",
                           timeout=3000)
    assert page.locator("tr", has_text="键盘用户的公告").count() == 1  # nothing was deleted
    assert errors == []


def test_a_notice_s_markdown_table_reads_as_a_table(page: Any) -> None:
    """A browser review: a notice's Markdown table was drawn with no line at all, its header and rows told apart only
    by the header's bold, its cells run together. Its cells are ruled, as a table in a document is; and the list's
    title of the published notice opens it."""
    errors = watch_console(page)
    _draft_a_notice(page, "季度数据", "| 部门 | 人数 |\n|---|---:|\n| 研发 | 25 |\n| 市场 | 8 |")
    page.locator("tr", has_text="季度数据").get_by_role("button", name="发布").click()
    confirm_modal(page)
    settle(page, "**/system/notice/**")
    page.get_by_role("link", name="季度数据").click()
    settle(page, re.compile(r"/notices/\d+\?back="))  # the list it came from rides along
    cell = page.get_by_test_id("notice-body").locator("td", has_text="研发")
    borders = cell.evaluate("""td => { const s = getComputedStyle(td);
                                       return [s.borderTopWidth, s.borderLeftWidth, s.borderTopStyle]; }""")
    assert borders[0] != "0px" and borders[1] != "0px" and borders[2] == "solid", borders
    assert errors == []
