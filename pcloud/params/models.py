"""Stored parameter values (only those an administrator set) and the version of dictionaries and parameters."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import AuditMixin, Base


class Parameter(AuditMixin, Base):
    """A value an administrator set for one parameter of the code's catalogue (`params.service.CATALOGUE`);
    a parameter without a row has its default (the environment's value, else the code's)."""

    __tablename__ = "sys_config"

    id: Mapped[int] = mapped_column(primary_key=True)
    config_key: Mapped[str] = mapped_column(String(100), unique=True)
    config_value: Mapped[str] = mapped_column(Text)


class SettingVersion(Base):
    """One row (id 1): moved by database triggers (migration 0016) whenever sys_config, sys_dict_type or
    sys_dict_data change, whoever writes, so each process reloads what it keeps of them."""

    __tablename__ = "sys_setting_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
