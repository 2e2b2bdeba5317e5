"""站内信 (in-site mail)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import AuditMixin, Base, SoftDeleteMixin


class Mail(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("sys_user.id"))
    recipient_id: Mapped[int] = mapped_column(Integer, ForeignKey("sys_user.id"))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(2000))
    read_at: Mapped[datetime | None] = mapped_column(DateTime)  # None: unread

    __table_args__ = (
        # the top bar's unread count on every page: the recipient's live unread rows, from the index alone
        Index("ix_sys_mail_recipient_read", "recipient_id", "read_at", "deleted_at"),
        # the list, newest first: the page's whole order (migration 0033; was the time alone)
        Index("ix_sys_mail_created_id", "gmt_created_date", "id"),
    )
