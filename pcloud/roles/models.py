"""Roles (角色管理) and what they grant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, select, text
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin

role_menu = Table(
    "sys_role_menu",
    Base.metadata,
    Column("role_id", Integer, ForeignKey("sys_role.id", ondelete="CASCADE"), primary_key=True),
    Column("menu_id", Integer, ForeignKey("sys_menu.id", ondelete="CASCADE"), primary_key=True),
)

role_resource = Table(
    "sys_role_resource",
    Base.metadata,
    Column("role_id", Integer, ForeignKey("sys_role.id", ondelete="CASCADE"), primary_key=True),
    Column("resource_id", Integer, ForeignKey("sys_resource.id", ondelete="CASCADE"), primary_key=True),
)


class Role(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_role"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role_code: Mapped[str] = mapped_column(String(64))
    built_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The role of one open-platform account (its interface grants): never listed, picked or edited as a role.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    @classmethod
    def live(cls) -> Any:
        """Live roles an administrator manages: hidden account roles are left out of every role list."""
        return select(cls).where(cls.deleted_at.is_(None), cls.hidden.is_(False))

    __table_args__ = (Index("uq_sys_role_code_live", "role_code", unique=True, **LIVE_ONLY),)


class PermissionVersion(Base):
    """One row (id 1): bumped by every grant or role change so each process reloads its cache."""

    __tablename__ = "sys_perm_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
