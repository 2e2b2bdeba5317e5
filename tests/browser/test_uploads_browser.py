"""Avatar upload in a real browser: the chosen image is previewed, saved, and shown as the avatar."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import sign_in, watch_console
from tests.test_uploads import image_bytes


def test_profile_avatar_preview_and_save(page: Any, live_server: Any, tmp_path: Any) -> None:
    picture = tmp_path / "me.png"
    picture.write_bytes(image_bytes(size=(32, 32)))
    errors = watch_console(page)
    sign_in(page)
    page.goto("/profile")
    preview = page.locator("#profile-avatar_file-preview")
    assert preview.is_hidden()  # no avatar yet
    page.locator("#profile-avatar_file").set_input_files(str(picture))
    preview.wait_for(state="visible")
    assert preview.get_attribute("src").startswith("blob:")  # shown before anything is uploaded
    # and actually drawn: the page's CSP lets its own script's blob: URL load (it once refused it, a console error)
    page.wait_for_function("""() => { const img = document.getElementById('profile-avatar_file-preview');
                                      return img.complete && img.naturalWidth === 32; }""")
    page.locator("form:has(#profile-avatar_file)").get_by_role("button", name="保存").click()
    page.get_by_text("个人信息已保存").wait_for()
    src = page.locator("#profile-avatar_file-preview").get_attribute("src")
    assert src.startswith("/api/oss/files/") and src.endswith(".png")
    # the stored file is served back and decodes as the 32-pixel image
    page.wait_for_function("""() => { const img = document.getElementById('profile-avatar_file-preview');
                                      return img.complete && img.naturalWidth === 32; }""")
    assert errors == []


def test_an_avatar_over_2_mib_is_refused_before_the_save(page: Any, live_server: Any, tmp_path: Any) -> None:
    """A picture over the 2 MiB the field's hint names once made the save a bare 413 page (request too large) that
    lost the name typed beside it: the field says so when it is chosen, drops it, and the save keeps the name."""
    big = tmp_path / "big.png"
    big.write_bytes(image_bytes(size=(32, 32)) + b"\0" * (2 * 1024 * 1024))
    errors = watch_console(page)
    sign_in(page)
    page.goto("/profile")
    page.locator("#profile-name").fill("改名的管理员")
    page.locator("#profile-avatar_file").set_input_files(str(big))
    page.get_by_text("图片不能超过 2 MiB").wait_for()
    assert page.locator("#profile-avatar_file").evaluate("input => input.files.length") == 0
    assert page.locator("#profile-avatar_file-preview").is_hidden()
    page.locator("form:has(#profile-avatar_file)").get_by_role("button", name="保存").click()
    page.get_by_text("个人信息已保存").wait_for()
    assert page.locator("#profile-name").input_value() == "改名的管理员"
    assert errors == []
