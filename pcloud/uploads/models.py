"""Uploaded images, kept in the database so every host serving it serves every upload."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import Base


class Upload(Base):
    """One stored image, served at FILE_URL + name. `owner_*` is who uploaded it (a user, or an open-platform
    account); `user_id` is the user whose avatar it became, the only record whose change may remove it."""

    __tablename__ = "sys_upload"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)  # random: the URL cannot be guessed
    owner_kind: Mapped[str | None] = mapped_column(String(8))
    owner_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read only to serve it
    created_at: Mapped[datetime] = mapped_column(DateTime)
