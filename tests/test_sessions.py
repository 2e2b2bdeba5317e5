"""The session store (`pcloud.sessions`): below users, openplatform and auth; open, find, revoke, online."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from pcloud.extensions import db
from pcloud.sessions import service as sessions
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
           for m in mods if m not in {"core", "extensions", "sessions"}]
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
        assert sessions.online_count() == 1
        assert sessions.revoke_user_sessions(uid, "forced") == 1
        db.session.commit()
        assert sessions.online_user_ids([uid]) == set() and not sessions.any_live_session(uid)
        assert sessions.find_session(token, "api").revoke_reason == "forced"
