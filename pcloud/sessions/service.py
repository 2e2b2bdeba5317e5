"""Open, find, touch and revoke sessions; who is online. Plain functions on the session table only."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select, update

from pcloud.core.timefmt import utcnow
from pcloud.extensions import db
from pcloud.params.service import value as param
from pcloud.sessions.models import UserSession

MAX_TOKEN_LENGTH = 200  # a longer "token" is no token of ours: refused before it is hashed


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(kind: str, *, user_id: int | None = None, open_account_id: int | None = None,
                 ip: str | None = None, user_agent: str | None = None) -> tuple[str, int]:
    """Create a session row and return (raw token, lifetime in seconds). Only the hash is kept."""
    ttl = param("sys.session.tokenTtl" if kind == "api" else "sys.session.webTtl")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(
        token_hash=hash_token(token), public_id=secrets.token_hex(12), kind=kind,
        subject="open" if open_account_id else "user",
        user_id=user_id, open_account_id=open_account_id, created_at=now, last_seen_at=now,
        expires_at=now + timedelta(seconds=ttl), ip=(ip or "")[:64], user_agent=(user_agent or "")[:255]))
    return token, ttl


def find_session(token: str, kind: str) -> UserSession | None:
    """The session row of a raw token, live or ended (None: never a session of this kind)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.execute(select(UserSession).where(
        UserSession.token_hash == hash_token(token), UserSession.kind == kind)).scalar_one_or_none()


def touch(session_id: int, now: datetime) -> None:
    """Record that the session was seen (the calling code throttles: not a write per request) and commit."""
    db.session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
    db.session.commit()


def revoke_token(token: str, reason: str = "logout") -> None:
    db.session.execute(update(UserSession).where(
        UserSession.token_hash == hash_token(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason))


def revoke_user_sessions(user_id: int, reason: str, keep_session_id: int | None = None) -> int:
    """End every live session of the user, but `keep_session_id` (the principal's own, on a password change)."""
    stmt = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep_session_id is not None:
        stmt = stmt.where(UserSession.id != keep_session_id)
    result = db.session.execute(stmt.values(revoked_at=utcnow(), revoke_reason=reason))
    return result.rowcount or 0


def revoke_open_sessions(account_id: int, reason: str) -> int:
    result = db.session.execute(update(UserSession).where(
        UserSession.open_account_id == account_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason))
    return result.rowcount or 0


def live_session_filter() -> Any:
    return (UserSession.revoked_at.is_(None)) & (UserSession.expires_at > utcnow())


def online_user_ids(user_ids: list[int]) -> set[int]:
    if not user_ids:
        return set()
    rows = db.session.execute(select(UserSession.user_id).where(
        UserSession.user_id.in_(user_ids), live_session_filter()).distinct())
    return {r[0] for r in rows}


def has_live_session(user_id: Any, now: Any) -> Any:
    """EXISTS a live session of `user_id` (a column of another select) at `now` (a value or bind
    parameter): a list's online flag read in the list's own statement. Core columns, so the select it
    joins stays a Core statement (no ORM compile step)."""
    sessions = UserSession.__table__
    return exists().where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None),
                          sessions.c.expires_at > now)


def any_live_session(user_id: int) -> bool:
    return db.session.execute(select(UserSession.id).where(
        UserSession.user_id == user_id, live_session_filter()).limit(1)).first() is not None


def live_sessions_of(user_id: int) -> list[UserSession]:
    """The user's live sessions (before they are ended: the login log keeps where each came from)."""
    return list(db.session.execute(select(UserSession).where(
        UserSession.user_id == user_id, live_session_filter())).scalars())


def live_session_by_public_id(public_id: str) -> UserSession | None:
    """The live session the online list names `public_id` (None: unknown, ended or expired)."""
    if not public_id or len(public_id) > 24:
        return None
    return db.session.execute(select(UserSession).where(
        UserSession.public_id == public_id, live_session_filter())).scalar_one_or_none()


def revoke_session(session_id: int, reason: str) -> bool:
    """End one session now, unless it has ended meanwhile. Whether it was this call that ended it."""
    result = db.session.execute(update(UserSession).where(
        UserSession.id == session_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason))
    return bool(result.rowcount)
