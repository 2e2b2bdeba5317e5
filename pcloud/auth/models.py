"""Login locks and SMS codes (the session table is `pcloud.sessions.models`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import Base


class LoginLock(Base):
    """Failed password sign-ins per phone within the window, and the lock they lead to."""

    __tablename__ = "auth_login_lock"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class SmsCode(Base):
    __tablename__ = "auth_sms_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))  # who asked: the sends of one address are counted

    __table_args__ = (Index("ix_auth_sms_code_phone_created", "phone", "created_at"),
                      Index("ix_auth_sms_code_ip_created", "ip", "created_at"))
