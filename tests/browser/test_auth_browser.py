"""Sign-in page in a real browser: password tab, SMS tab, sign-out."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import settle, sign_in, watch_console
from tests.conftest import ADMIN_PHONE
from tests.sms_file import last_code


def test_password_sign_in_and_sign_out(page: Any) -> None:
    sign_in(page)
    assert page.get_by_test_id("current-user").inner_text().strip().endswith("超级管理员")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login")
    page.goto("/system/user/")
    assert "/login" in page.url


def test_sms_code_sign_in(page: Any) -> None:
    page.goto("/login")
    page.get_by_role("tab", name="验证码登录").click()
    page.locator("#sms-phone").fill(ADMIN_PHONE)
    page.locator("#send-code").click()
    page.get_by_text("验证码已发送").wait_for()
    code = last_code(ADMIN_PHONE)
    assert code and len(code) == 6
    page.locator("#sms-verify_code").fill(code)
    page.locator("#login-sms").click()
    page.wait_for_url("**/")
    assert page.get_by_test_id("current-user").is_visible()


def test_the_sign_in_page_in_english_says_the_scripts_messages_in_english(page: Any) -> None:
    """Issue 24.10: login.js's texts come from the `js` catalogue on an English page."""
    page.goto("/language/en?next=/login")
    page.wait_for_url("**/login")
    page.get_by_role("tab", name="SMS code").click()
    page.locator("#send-code").click()
    page.get_by_text("Enter the phone number first").wait_for()
    page.locator("#sms-phone").fill(ADMIN_PHONE)
    page.locator("#send-code").click()
    page.get_by_text("The code was sent, check your SMS").wait_for()
    page.wait_for_function("() => /^Resend in \\d+ s$/.test(document.getElementById('send-code').textContent)")
    page.locator("#sms-verify_code").fill(last_code(ADMIN_PHONE) or "")
    page.locator("#login-sms").click()
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "en"


def test_a_refused_sign_in_is_read_with_its_field(page: Any) -> None:
    """A screen-reader review: a sign-in refused for an empty field showed the reason in red under it, tied to
    nothing, so the field focused was heard without it. Each refused field is described by its reason (the SMS code's
    too, with the line where the code's sending is reported) and the first one is focused."""
    page.goto("/login")
    page.keyboard.press("Enter")  # the phone field has the focus; nothing typed
    settle(page, "**/login?tab=password")
    phone = page.locator("#pw-phone")
    expect(phone).to_be_focused()
    expect(phone).to_have_accessible_description("请输入手机号")
    expect(page.locator("#pw-password")).to_have_accessible_description("请输入密码")
    page.get_by_role("tab", name="验证码登录").click()
    page.locator("#sms-phone").fill(ADMIN_PHONE)
    page.locator("#login-sms").click()
    settle(page, "**/login?tab=sms")
    code = page.locator("#sms-verify_code")
    expect(code).to_be_focused()
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(code).to_have_accessible_description("请输入验证码")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_signed_out_in_another_tab_the_next_page_says_why(page: Any, lang: str) -> None:
    """A browser review: signed out in one tab, a link clicked in another landed on the sign-in page saying nothing,
    as if the session had vanished. It says the user signed out, in their language, on a link as on a form sent
    (whose input waits, as it does after an expiry); the tab that signed out says only that it did."""
    said = "您已退出登录，请重新登录" if lang == "zh" else "You have signed out, please sign in again"
    sign_out = "退出登录" if lang == "zh" else "Sign out"
    errors = watch_console(page)
    sign_in(page)
    if lang == "en":
        page.goto("/language/en?next=/")
        page.wait_for_load_state("load")
    other = page.context.new_page()
    other_errors = watch_console(other)
    other.goto("/system/user/")
    other.wait_for_load_state("load")
    page.get_by_role("button", name=sign_out).click()
    page.wait_for_url("**/login")
    expect(page.get_by_text("您已安全退出" if lang == "zh" else "You have signed out", exact=True)).to_be_visible()
    expect(page.get_by_text(said)).to_have_count(0)
    other.locator('main a[href^="/system/user/new"]').first.click()  # 新增用户
    settle(other, "**/login?next=/system/user/new**")
    expect(other.get_by_role("alert").filter(has_text=said)).to_be_visible()

    # a form sent in the other tab: the reason, and the input waiting for the same user's sign-in
    sign_in(page)
    other.goto("/system/post/new")
    other.wait_for_load_state("load")
    other.locator("#name").fill("另一个标签页的岗位")
    page.get_by_role("button", name=sign_out).click()
    page.wait_for_url("**/login")
    other.locator("form button[type=submit]").last.click()
    settle(other, "**/login?next=/system/post/new")
    expect(other.get_by_role("alert").filter(has_text=said)).to_be_visible()
    expect(other.get_by_test_id("kept-input-waiting")).to_be_visible()
    assert errors == [] and other_errors == []
