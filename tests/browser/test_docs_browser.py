"""Swagger UI at /api/docs renders with assets served from the package (no internet on this machine)."""

from __future__ import annotations

from typing import Any


def test_swagger_ui_renders_every_module_offline(page: Any, live_server: Any) -> None:
    elsewhere: list[str] = []
    local = (live_server.url, "data:")
    page.on("request", lambda req: None if req.url.startswith(local) else elsewhere.append(req.url))
    page.goto("/api/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    text = page.locator(".swagger-ui").inner_text()
    assert "/api/oauth/token" in text and "/api/admin/system/user/page" in text
    assert elsewhere == [], f"requests left the machine: {elsewhere}"
