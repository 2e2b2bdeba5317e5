"""Swagger UI at /api/docs renders with assets served from the package (no internet on this machine)."""

from __future__ import annotations

from typing import Any


def test_swagger_ui_renders_every_module_offline(page: Any, live_server: Any) -> None:
    elsewhere: list[str] = []
    local = (live_server.url, "data:")
    page.on("request", lambda req: None if req.url.startswith(local) else elsewhere.append(req.url))
    errors: list[str] = []  # a CSP violation (an inline script) is a console error
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/api/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    text = page.locator(".swagger-ui").inner_text()
    assert "/api/oauth/token" in text and "/api/admin/system/user/page" in text
    assert elsewhere == [], f"requests left the machine: {elsewhere}"
    assert errors == []
    assert "unsafe-inline" not in page.request.get("/api/docs").headers["content-security-policy"].split("style-src")[0]


def test_sign_in_and_sms_show_no_lock_and_sections_are_chinese(page: Any, live_server: Any) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/api/docs")
        page.locator(".swagger-ui .opblock").first.wait_for()
        token = page.locator(".opblock", has=page.locator('[data-path="/api/oauth/token"]'))
        assert token.count() == 1
        assert token.locator(".authorization__btn").count() == 0
        info = page.locator(".opblock", has=page.locator('[data-path="/api/admin/system/adminInfo"]'))
        assert info.locator(".authorization__btn").count() == 1
        tags = page.locator(".opblock-tag").all_inner_texts()
        assert any(t.startswith("基础服务") for t in tags) and any("系统管理 · 用户管理" in t for t in tags)
