"""The session store (`pcloud.sessions`): below users, openplatform and auth; open, find, revoke, online."""

from __future__ import annotations

import ast
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy.engine import make_url

from pcloud.extensions import db
from pcloud.online import service as online
from pcloud.sessions import service as sessions
from tests.conftest import TEST_CONFIG, ApiClient, is_postgres, start_server, stop_server
from tests.factories import make_user

PACKAGE = Path(__file__).resolve().parent.parent / "pcloud"


def _imported_modules(package: str) -> dict[str, set[str]]:
    """Second-level pcloud packages each file of `package` imports (top-level and inside functions)."""
    found: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
        found[str(path.relative_to(PACKAGE.parent))] = {
            n.split(".")[1] for n in names if n.startswith("pcloud.") and len(n.split(".")) > 1}
    return found


def test_the_session_store_sits_below_users_openplatform_and_auth() -> None:
    bad = [f"{f} imports pcloud.{m}" for f, mods in _imported_modules("sessions").items()
           for m in mods if m not in {"core", "extensions", "sessions", "params"}]  # params: the lifetimes
    for lower in ("users", "openplatform"):
        bad += [f"{f} imports pcloud.auth" for f, mods in _imported_modules(lower).items() if "auth" in mods]
    assert not bad, "\n".join(bad)


def test_open_find_revoke_and_online(app: Any) -> None:
    uid = make_user(app, phone="13900005501")
    with app.app_context():
        token, ttl = sessions.open_session("api", user_id=uid, ip="127.0.0.1", user_agent="t")
        db.session.commit()
        assert ttl > 0
        row = sessions.find_session(token, "api")
        assert row is not None and row.user_id == uid and row.token_hash != token
        assert sessions.find_session(token, "web") is None and sessions.find_session("x" * 201, "api") is None
        assert sessions.online_user_ids([uid]) == {uid} and sessions.any_live_session(uid)
        assert online.online_count() == 1  # outside a request: everyone's
        assert sessions.revoke_user_sessions(uid, "forced") == 1
        db.session.commit()
        assert sessions.online_user_ids([uid]) == set() and not sessions.any_live_session(uid)
        assert sessions.find_session(token, "api").revoke_reason == "forced"


@pytest.mark.skipif(not is_postgres(), reason="a database restart is modelled by a TCP proxy to PostgreSQL")
def test_a_database_restart_is_survived_without_pool_pre_ping(app: Any, api: ApiClient) -> None:
    """The app's engine has no pool_pre_ping. PostgreSQL, reached through a proxy, drops every connection
    (a restart): the next signed-in request is still served (a pooled connection the server closed is
    pinged at checkout, and the session lookup retries on a fresh connection), and so is a sign-in after a
    quiet spell (a connection idle too long is pinged first)."""
    from pcloud import create_app
    from tests.test_segment_ids import TcpProxy

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.up()
    via_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        for idle_seconds in (3600, 0):  # the retry alone; then the idle ping (0: every checkout counts as idle)
            other = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": via_proxy,
                                "PCLOUD_DB_PING_IDLE_SECONDS": idle_seconds})
            assert "pool_pre_ping" not in other.config["SQLALCHEMY_ENGINE_OPTIONS"]
            served = ApiClient(other.test_client(), api.token)
            proxy.down()
            body = served.post("/api/admin/system/adminInfo").get_json()
            assert body["code"] == 503 and body["data"] is None  # down: the documented answer, no hang
            proxy.up()
            for _ in range(2):  # back by itself, and pooled connections in use again
                assert served.data("POST", "/api/admin/system/adminInfo")["permissions"]
            proxy.down()  # a restart: every pooled connection dropped, the database back at once
            proxy.up()
            if idle_seconds:
                assert served.data("POST", "/api/admin/system/adminInfo")["permissions"]
            else:
                assert served.sign_in()  # a public route: no session lookup runs first to retry
            with other.app_context():
                db.engine.dispose()
    finally:
        proxy.down()


def test_a_revocation_reaches_every_gunicorn_worker(app: Any, api: ApiClient, database_url: str,
                                                    instance_dir: Path) -> None:
    """Two workers each serve (and cache) the token; then it is ended from outside the server (force offline
    by this test's process) or inside it (sign-out answered by one worker): every later request in either
    worker is 401: each request reads its session from the database."""
    uid = make_user(app, phone="13900005502")
    server = start_server(database_url, instance_dir, workers=2)
    try:
        def sign_in() -> dict[str, str]:
            token = requests.post(f"{server.url}/api/oauth/token", json={
                "phone": "13900005502", "password": "Passw0rd1", "grantType": "ADMIN"},
                timeout=30).json()["data"]["token"]
            return {"Authorization": f"Bearer {token}"}

        def statuses(headers: dict[str, str]) -> set[int]:  # 4 at once: both sync workers serve the token
            def one(_: int) -> int:
                return requests.post(f"{server.url}/api/admin/system/adminInfo", headers=headers,
                                     timeout=30).status_code

            with ThreadPoolExecutor(4) as pool:
                return set(pool.map(one, range(40)))

        offline, signed_out = sign_in(), sign_in()
        assert statuses(offline) == statuses(signed_out) == {200}
        api.data("GET", f"/api/admin/system/user/{uid}/offline")
        assert statuses(offline) == {401}

        signed_out = sign_in()
        assert statuses(signed_out) == {200}
        assert requests.post(f"{server.url}/api/oauth/logout", headers=signed_out, timeout=30).status_code == 200
        assert statuses(signed_out) == {401}
    finally:
        stop_server(server)
