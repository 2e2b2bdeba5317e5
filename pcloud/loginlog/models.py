"""登录日志: one row per sign-in attempt (any grant, any outcome), sign-out, forced offline and expiry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import Base


class LoginLog(Base):
    __tablename__ = "sys_login_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(8))  # login | logout | offline | expired
    grant_type: Mapped[str | None] = mapped_column(String(8))  # ADMIN | SMS | OPEN (None: not a sign-in)
    result: Mapped[int] = mapped_column(SmallInteger)  # 0 success, 1 failure
    reason: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(64))  # the phone typed, or an OPEN account's secureId
    user_id: Mapped[int | None] = mapped_column(Integer)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    browser: Mapped[str | None] = mapped_column(String(64))
    os: Mapped[str | None] = mapped_column(String(64))
    signed_in_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        # Newest first, unfiltered or by phone / address (the unlock's question), read in index order.
        Index("ix_sys_login_log_at_id", "signed_in_at", "id"),
        Index("ix_sys_login_log_phone_at", "phone", "signed_in_at", "id"),
        Index("ix_sys_login_log_ip_at", "client_ip", "signed_in_at", "id"),
        # One outcome over a time range (a day's failures): the matches read in order, not the range's every row.
        Index("ix_sys_login_log_result_at", "result", "signed_in_at", "id"),
    )


class LoginLogPhone(Base):
    """Every distinct phone (or secureId) the login log holds, kept by database triggers on sys_login_log
    (migration 0025), pruned by the retention. The phone keyword ("contains") is looked up here, among a few
    thousand distinct values, then read from the log through its phone index: a trigram index over the log
    itself intersects long lists when a few thousand phones of digits repeat over a million rows."""

    __tablename__ = "sys_login_log_phone"

    phone: Mapped[str] = mapped_column(String(64), primary_key=True)
