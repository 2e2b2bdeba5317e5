"""Departments (部门管理)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin


class Dept(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_dept"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    name: Mapped[str] = mapped_column(String(64))
    manager_id: Mapped[int | None] = mapped_column(Integer)
    established_time: Mapped[datetime | None] = mapped_column(DateTime)
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        Index("ix_sys_dept_parent_id", "parent_id"),
        Index("uq_sys_dept_parent_name_live", "parent_id", "name", unique=True, **LIVE_ONLY),
    )
