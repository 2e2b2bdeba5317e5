"""Grades (职级管理)."""

from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin


class Grade(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_grade"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    remark: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("uq_sys_grade_name_live", "name", unique=True, **LIVE_ONLY),
        Index("ix_sys_grade_level", "level"),
    )
