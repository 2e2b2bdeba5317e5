"""Issue 7, "close the ways in": each test replays one attack and checks it no longer works."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from pcloud.extensions import db
from pcloud.menus.models import Menu
from tests.conftest import ApiClient, PageClient
from tests.factories import query
from tests.test_permissions import Caller

PASSWORD = "Passw0rd1"

# ---------------------------------------------------------------------------------------------
# 1. Script through a menu path

BAD_PATHS = ["javascript:alert(1)", "data:text/html,<script>x</script>", "//evil.example/x", "https://evil.example",
             "/ok/../../x", "/a//b", "/a\\b", "/a b", "/a\tb", "/x?y=1", "/x#y", "javascript:/x", "/x\ny",
             "JaVaScRiPt:alert(1)", "/%2F%2Fevil"]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_menu_path_must_be_a_site_path_api(api: ApiClient, path: str) -> None:
    resp = api.post("/api/admin/menu/create", json={"name": "坏链接", "path": path})
    assert resp.status_code == 422, resp.get_json()
    assert "path" in resp.get_json()["errors"]
    menu = api.data("POST", "/api/admin/menu/create", {"name": "好链接", "path": "/good/one"})
    resp = api.put("/api/admin/menu/modify", json={"id": menu, "path": path})
    assert resp.status_code == 422
    resp = api.put("/api/admin/menu/modify", json={"id": menu, "redirect": path})
    assert resp.status_code == 422


def test_menu_path_checked_on_the_page_too(pages: PageClient) -> None:
    resp = pages.submit("/system/menu/new", data={"parent_id": "0", "name": "坏", "path": "javascript:alert(1)",
                                                  "sequence": "0", "router": "y"})
    assert resp.status_code == 422
    assert "路由地址无效" in resp.get_data(as_text=True)


def test_menu_paths_are_unique_among_live_menus(api: ApiClient) -> None:
    first = api.data("POST", "/api/admin/menu/create", {"name": "报表", "path": "/report"})
    dup = api.post("/api/admin/menu/create", json={"name": "报表2", "path": "/report"})
    assert dup.status_code == 409 and "path" in dup.get_json()["errors"]
    assert api.post("/api/admin/menu/create", json={"name": "x", "path": "/system/role"}).status_code == 409
    other = api.data("POST", "/api/admin/menu/create", {"name": "报表3", "path": "/report3"})
    assert api.put("/api/admin/menu/modify", json={"id": other, "path": "/report"}).status_code == 409
    api.data("DELETE", f"/api/admin/menu/{first}/delete")
    assert api.put("/api/admin/menu/modify", json={"id": other, "path": "/report"}).status_code == 200


def test_a_stored_bad_path_is_never_rendered_as_a_link(app: Any, api: ApiClient) -> None:
    """Defence in depth: a row written before the check existed is shown as text, not followed."""
    with app.app_context():
        db.session.add(Menu(name="旧链接", path="javascript:alert(document.cookie)", parent_id=0, sequence=99))
        db.session.commit()
        db.session.remove()
    caller = Caller(app)
    menu_id = query(app, lambda: db.session.execute(select(Menu.id).where(Menu.name == "旧链接")).scalar())
    caller.grant(menu_ids=(menu_id,))
    html = caller.pages.get("/").get_data(as_text=True)
    assert "旧链接" in html and "javascript:" not in html
    info = caller.api.data("POST", "/api/admin/system/adminInfo")
    assert [n["path"] for n in info["routers"]] == [""]
    boss = api.data("POST", "/api/admin/system/adminInfo")
    assert "javascript:" not in str(boss["routers"])
