"""Operation log (操作日志): written by core.recorder, read by the action-log module."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core import search
from pcloud.core.models import Base


class ActionLog(Base):
    __tablename__ = "sys_action_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    params: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8))
    msg: Mapped[str | None] = mapped_column(String(500))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    os: Mapped[str | None] = mapped_column(String(64))
    browser: Mapped[str | None] = mapped_column(String(64))
    cost_ms: Mapped[int] = mapped_column(Integer, default=0)
    gmt_created_date: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        # Newest first (time, then id), unfiltered or by operator, each read in index order: no sort.
        Index("ix_sys_action_log_created_id", "gmt_created_date", "id"),
        Index("ix_sys_action_log_user_created_id", "user_id", "gmt_created_date", "id"),
    )


# Every character and adjacent pair of characters of each row's operator name, lower-cased by the database: the 操作人
# filter with a two-character name (张伟) finds its rows by the primary key instead of reading the whole log
# (core.search.SHORT_SEARCHED). Kept by triggers (migration 0035), never written here.
action_log_name_gram = search.gram_table(Base.metadata, "sys_action_log", "name")
