"""Roles (角色管理). What they grant is access's (`pcloud.access.models`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, select, text
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.i18n import translated
from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin


class Role(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_role"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role_code: Mapped[str] = mapped_column(String(64))
    built_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The role of one open-platform account (its interface grants): never listed, picked or edited as a role.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # 数据权限: whose users the role's holders reach (pcloud.datascope: 1 all .. 5 only oneself); 2 lists
    # its departments in sys_role_dept.
    data_scope: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    @staticmethod
    def shown(name: str, built_in: bool | None) -> str:
        """The name a page shows: a built-in role's (named by setup) in the reader's language through `translated`,
        as the built-in dictionary types' names; a role an administrator created as named. The API keeps `name`."""
        return translated(name) if built_in else name

    @property
    def shown_name(self) -> str:
        return self.shown(self.name, self.built_in)

    @classmethod
    def live(cls) -> Any:
        """Live roles an administrator manages: hidden account roles are left out of every role list."""
        return select(cls).where(cls.deleted_at.is_(None), cls.hidden.is_(False))

    __table_args__ = (Index("uq_sys_role_code_live", "role_code", unique=True, **LIVE_ONLY),)


# The departments of a role whose data scope is 2 (custom): each department alone, without its subtree.
role_dept = Table(
    "sys_role_dept",
    Base.metadata,
    Column("role_id", Integer, ForeignKey("sys_role.id", ondelete="CASCADE"), primary_key=True),
    Column("dept_id", Integer, ForeignKey("sys_dept.id", ondelete="CASCADE"), primary_key=True),
)
