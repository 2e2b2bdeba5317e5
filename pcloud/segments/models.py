"""号段 (segments): one row per business tag; `max_id` is the next id nobody has been given yet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import Base
from pcloud.core.timefmt import utcnow

MAX_ID_LIMIT = 2**63 - 1  # BIGINT's top; ids handed out stay below it
MAX_STEP = 1_000_000


class Segment(Base):
    __tablename__ = "sys_segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    biz_tag: Mapped[str] = mapped_column(String(128), unique=True)
    max_id: Mapped[int] = mapped_column(BigInteger, default=1)
    step: Mapped[int] = mapped_column(Integer, default=1000)
    description: Mapped[str | None] = mapped_column(String(256))
    author: Mapped[str | None] = mapped_column(String(64))
    create_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    update_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        # SQLite turns an overflowing integer into a float silently: the bounds refuse it on both databases.
        CheckConstraint(f"max_id >= 1 AND max_id <= {MAX_ID_LIMIT}", name="max_id_range"),
        CheckConstraint(f"step >= 1 AND step <= {MAX_STEP}", name="step_range"),
    )
