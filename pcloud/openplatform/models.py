"""Open-platform accounts (开放平台): other systems that call the API."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin

open_account_role = Table(
    "sys_open_account_role",
    Base.metadata,
    Column("account_id", Integer, ForeignKey("sys_open_account.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", Integer, ForeignKey("sys_role.id", ondelete="CASCADE"), primary_key=True),
)


class OpenAccount(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_open_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    secure_id: Mapped[str] = mapped_column(String(64), unique=True)
    secure_key_hash: Mapped[str] = mapped_column(String(100))
    state: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    remark: Mapped[str | None] = mapped_column(String(500))

    roles = relationship("Role", secondary=open_account_role, lazy="selectin", order_by="Role.id")

    __table_args__ = (Index("ix_sys_open_account_name", "name"),
                      # one live account of a name (the service's 409 holds under races)
                      Index("uq_sys_open_account_name_live", "name", unique=True, **LIVE_ONLY))
