"""Posts (岗位管理)."""

from __future__ import annotations

from sqlalchemy import Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin


class Post(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_post"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    name: Mapped[str] = mapped_column(String(64))
    code: Mapped[str | None] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    remark: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("ix_sys_post_parent_id", "parent_id"),
        Index("uq_sys_post_code_live", "code", unique=True,
              sqlite_where=text("deleted_at IS NULL AND code IS NOT NULL"),
              postgresql_where=text("deleted_at IS NULL AND code IS NOT NULL")),
        # one live post of a name under one parent, as departments (the service's 409 holds under races)
        Index("uq_sys_post_parent_name_live", "parent_id", "name", unique=True, **LIVE_ONLY),
    )
