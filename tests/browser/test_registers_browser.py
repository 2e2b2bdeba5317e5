"""The console's registers in a browser (issue 22: 1-3): a locked phone unlocked from the login log, a
session ended from the online list, at a laptop's and a phone's width."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import confirm_modal, settle, sign_in, watch_console
from tests.conftest import LiveServer
from tests.factories import make_user


@pytest.mark.parametrize("width", [1280, 390])
def test_unlock_from_the_login_log_and_kick_from_the_online_list(page: Any, browser: Any, app: Any,
                                                                  live_server: LiveServer, width: int) -> None:
    make_user(app, phone="13900003001", name="被锁者", password="Passw0rd1")
    page.set_viewport_size({"width": width, "height": 900})
    errors = watch_console(page, form_4xx_expected=True)
    other = browser.new_context(base_url=live_server.url, locale="zh-CN").new_page()
    for _ in range(5):  # five wrong passwords lock the phone
        other.request.post("/api/oauth/token", data={"phone": "13900003001", "password": "wrong-pw1",
                                                     "grantType": "ADMIN"})
    assert other.request.post("/api/oauth/token", data={"phone": "13900003001", "password": "Passw0rd1",
                                                        "grantType": "ADMIN"}).status == 429
    sign_in(page)
    page.goto("/monitor/loginlog/?phone=13900003001")
    page.get_by_text("手机号或密码错误").first.wait_for()
    page.get_by_role("button", name="解锁账号").first.click()
    confirm_modal(page)
    page.get_by_text("已解除手机号「13900003001」的登录锁定").wait_for()

    sign_in(other, "13900003001", "Passw0rd1")  # unlocked: the browser session of 被锁者
    page.goto("/monitor/online/?name=被锁者")
    page.get_by_role("button", name="强退").click()
    confirm_modal(page)
    settle(page, "**/monitor/online/**")
    page.get_by_text("已结束「被锁者」的一个会话").wait_for()
    other.goto("/profile")
    settle(other, "**/login**")
    assert other.get_by_text("您已被管理员强制下线").is_visible()
    page.goto("/monitor/loginlog/?phone=13900003001&event=offline")
    page.locator("#login-log-table tbody td", has_text="强制下线").first.wait_for()
    assert errors == []
    other.context.close()
