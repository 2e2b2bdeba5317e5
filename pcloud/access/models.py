"""What roles are granted (menus and resources), and the version stamp of all grants."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, Table
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import Base

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


class PermissionVersion(Base):
    """One row (id 1): bumped by every grant or role change so each process reloads its cache."""

    __tablename__ = "sys_perm_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
