"""Uploaded images, kept in the database so every host serving it serves every upload."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin


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


class Storage(AuditMixin, SoftDeleteMixin, Base):
    """A storage setting of 云上传 (the original front end's cloud storages): a name, a type and a bucket, each
    from an allow-list (uploads.service.STORAGE_TYPES). No host, endpoint, key or path is ever configured here:
    the only storage there is, the database, is reached through the application's own connection."""

    __tablename__ = "sys_storage"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    bucket_name: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("uq_sys_storage_name_live", "name", unique=True, **LIVE_ONLY),)
