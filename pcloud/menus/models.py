"""Menus (菜单管理): the back-office pages a role may see."""

from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin


class Menu(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_menu"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    name: Mapped[str] = mapped_column(String(64))
    # The English label (docs/API.md, Languages): an English page shows it when set, else `name`.
    name_en: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(255))
    component: Mapped[str | None] = mapped_column(String(255))
    redirect: Mapped[str | None] = mapped_column(String(255))
    icon: Mapped[str | None] = mapped_column(String(64))
    router: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    built_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Stable key of a built-in menu, so sync updates it instead of adding another.
    code: Mapped[str | None] = mapped_column(String(128), unique=True)

    __table_args__ = (Index("ix_sys_menu_parent_id", "parent_id"),
                      # one live menu per path: page ownership must never be ambiguous
                      Index("uq_sys_menu_path_live", "path", unique=True, **LIVE_ONLY))
