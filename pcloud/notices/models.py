"""通知公告 (notices), their audiences and read receipts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import AuditMixin, Base, SoftDeleteMixin

DRAFT, PUBLISHED, WITHDRAWN = 0, 1, 2
CONTENT_MAX = 20_000  # characters of Markdown
NOTICE, ANNOUNCEMENT = 1, 2  # the dictionary's notice types (contract codes; the dictionaries wire them)


class Notice(AuditMixin, SoftDeleteMixin, Base):
    """A notice; `audience_all`, else the users holding one of its roles or in one of its departments'
    subtrees. The Markdown `content` is rendered (and sanitised) when saved, into `content_html`, and shown as
    stored: rendered when shown, a list of long notices cost seconds of CPU per read (migration 0027)."""

    __tablename__ = "sys_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    content_html: Mapped[str | None] = mapped_column(Text)  # None only for a row no save has rendered yet
    notice_type: Mapped[int] = mapped_column(Integer, default=NOTICE, server_default="1")
    status: Mapped[int] = mapped_column(Integer, default=DRAFT, server_default="0")
    audience_all: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    published_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        # every page's bell and the home page: the published live notices, newest first
        Index("ix_sys_notice_status_published", "status", "published_at", "deleted_at"),
        # the notices list, newest first: the page's whole order (migration 0033)
        Index("ix_sys_notice_created_id", "gmt_created_date", "id"),
    )


# The audience: roles and departments (each department with its subtree, read through sys_dept_closure).
notice_role = Table(
    "sys_notice_role", Base.metadata,
    Column("notice_id", Integer, ForeignKey("sys_notice.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", Integer, primary_key=True),
    Index("ix_sys_notice_role_role", "role_id", "notice_id"),
)
notice_dept = Table(
    "sys_notice_dept", Base.metadata,
    Column("notice_id", Integer, ForeignKey("sys_notice.id", ondelete="CASCADE"), primary_key=True),
    Column("dept_id", Integer, primary_key=True),
    Index("ix_sys_notice_dept_dept", "dept_id", "notice_id"),
)


class NoticeRead(Base):
    """A read receipt: `user_id` opened the notice at `read_at` (kept when the notice is withdrawn)."""

    __tablename__ = "sys_notice_read"

    notice_id: Mapped[int] = mapped_column(ForeignKey("sys_notice.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    read_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_sys_notice_read_user", "user_id", "notice_id"),)
