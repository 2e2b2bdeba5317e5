"""The session table (its name predates this package: `auth_session`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import Base


class UserSession(Base):
    """One signed-in session. `kind` is 'api' (Bearer token) or 'web' (browser cookie).

    Only the SHA-256 of the token is stored. `subject` is 'user' or 'open' (open-platform account).
    """

    __tablename__ = "auth_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # What the online list shows and kicks by: random, unrelated to the token (never its hash).
    public_id: Mapped[str | None] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(8), default="user")
    user_id: Mapped[int | None] = mapped_column(Integer)
    open_account_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_auth_session_user_live", "user_id", "revoked_at", "expires_at"),
        Index("ix_auth_session_open_live", "open_account_id", "revoked_at"),
        Index("ux_auth_session_public_id", "public_id", unique=True),
    )
