"""Roles (角色管理). What they grant is access's (`pcloud.access.models`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Index, String, select, text
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin


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
