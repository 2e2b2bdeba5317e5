"""Dictionary types (a code such as sys_user_state) and their items (value -> label, badge colour)."""

from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin


class DictType(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_dict_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    dict_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[int] = mapped_column(SmallInteger, default=0)  # 0 enabled, 1 disabled
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)  # created by setup; the console reads it
    remark: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("uq_sys_dict_type_code_live", "dict_type", unique=True, **LIVE_ONLY),)


class DictData(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_dict_data"

    id: Mapped[int] = mapped_column(primary_key=True)
    dict_type: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str | None] = mapped_column(String(64))  # shown on an English page when set
    value: Mapped[str] = mapped_column(String(100))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    css_class: Mapped[str | None] = mapped_column(String(32))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[int] = mapped_column(SmallInteger, default=0)  # 0 enabled, 1 disabled
    remark: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("uq_sys_dict_data_value_live", "dict_type", "value", unique=True, **LIVE_ONLY),)
