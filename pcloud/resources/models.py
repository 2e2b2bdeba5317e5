"""Access resources (访问资源): permissions on API routes."""

from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import AuditMixin, Base, SoftDeleteMixin


class Resource(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_resource"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    name: Mapped[str] = mapped_column(String(128))
    resource_url: Mapped[str] = mapped_column(String(255), default="", server_default="")
    method: Mapped[str] = mapped_column(String(8), default="*", server_default="*")
    biz_type: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    built_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Stable key of a built-in resource (endpoint + method, or module group), so sync is idempotent.
    code: Mapped[str | None] = mapped_column(String(191), unique=True)

    __table_args__ = (Index("ix_sys_resource_parent_id", "parent_id"),)
