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


def _picture(path: Any, size: tuple[int, int], fmt: str = "PNG") -> str:
    from PIL import Image

    Image.new("RGB", size, (30, 110, 190)).save(path, format=fmt)
    return str(path)


def _choose(page: Any, path: str) -> None:
    """插入图片, then the file in the browser's file chooser."""
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name=re.compile("插入图片|Insert image")).click()
    chooser.value.set_files(path)


@pytest.mark.parametrize("width", [1280, 390])
def test_insert_image_uploads_a_picture_the_published_notice_shows(page: Any, tmp_path: Any, width: int) -> None:
    """An administrator puts a floor plan in an announcement: 插入图片 uploads it (as an avatar is uploaded) and
    writes its Markdown at the cursor; the notice shows the picture, loaded, within the notice's width."""
    page.set_viewport_size({"width": width, "height": 900})
    errors = watch_console(page)
    sign_in(page)
    page.goto("/system/notice/new")
    page.locator("#title").fill("三楼平面图")
    content = page.locator("#content")
    content.fill("新的平面图如下。\n\n请查收。")
    content.evaluate("area => area.setSelectionRange(9, 9)")  # the cursor on the empty line
    _choose(page, _picture(tmp_path / "三楼[平面]图.png", (1024, 640)))
    page.wait_for_function("() => document.getElementById('content').value.includes('/api/oss/files/')")
    text = content.input_value()
    inserted = r"!\[三楼\\\[平面\\\]图\]\(/api/oss/files/[\w-]{22}\.png\)"  # at the cursor, its brackets escaped
    assert re.fullmatch(rf"新的平面图如下。\n{inserted}\n请查收。", text), text
    page.get_by_role("button", name="保存").click()
    settle(page, "**/system/notice/")
    page.locator("tr", has_text="三楼平面图").get_by_role("button", name="发布").click()
    confirm_modal(page)
    settle(page, "**/system/notice/**")
    page.get_by_role("link", name="三楼平面图").click()
    settle(page, re.compile(r"/notices/\d+\?back="))
    img = page.get_by_test_id("notice-body").locator("img")
    assert img.get_attribute("alt") == "三楼[平面]图" and img.get_attribute("loading") == "lazy"
    img.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    sizes = img.evaluate("img => [img.naturalWidth, img.getBoundingClientRect().width,"
                         " img.closest('.notice-body').clientWidth, document.documentElement.scrollWidth,"
                         " window.innerWidth]")
    assert sizes[0] == 1024 and sizes[1] <= sizes[2] and sizes[3] <= sizes[4], sizes  # never wider than the notice
    assert errors == []


def test_insert_image_says_why_a_file_is_refused_under_the_content(page: Any, tmp_path: Any) -> None:
    """Too big (refused when chosen) or not an image (refused by the server, which checks the content): the content
    field's error, in the page's language; nothing is inserted, and a picture chosen next goes in."""
    errors = watch_console(page, form_4xx_expected=True)
    sign_in(page)
    page.goto("/system/notice/new")
    content = page.locator("#content")
    fake = tmp_path / "floor.png"
    fake.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    _choose(page, str(fake))
    error = page.locator("#content-image-error")
    error.wait_for()
    assert error.inner_text() == "不是有效的图片文件，只支持 PNG、JPEG、GIF、WebP"
    assert content.get_attribute("aria-invalid") == "true" and "content-image-error" in content.get_attribute(
        "aria-describedby")
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG" + bytes(2 * 1024 * 1024))
    _choose(page, str(big))
    page.wait_for_function("() => document.getElementById('content-image-error').textContent.includes('2 MiB')")
    assert error.inner_text() == "图片不能超过 2 MiB" and content.input_value() == ""
    _choose(page, _picture(tmp_path / "ok.gif", (20, 20), "GIF"))
    page.wait_for_function("() => document.getElementById('content').value.includes('/api/oss/files/')")
    assert error.count() == 0 and content.get_attribute("aria-invalid") is None
    assert re.fullmatch(r"!\[ok\]\(/api/oss/files/[\w-]{22}\.gif\)", content.input_value())
    page.goto("/language/en?next=/system/notice/new")
    settle(page, "**/system/notice/new")
    _choose(page, str(fake))
    page.locator("#content-image-error").wait_for()
    assert page.locator("#content-image-error").inner_text() == \
        "Not a valid image file; only PNG, JPEG, GIF and WebP are supported"
    page.goto("/language/zh?next=/")
    assert errors == []
