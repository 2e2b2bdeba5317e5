"""Declarative base, audit columns and soft delete, shared by every module's models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, MetaData, String, event, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from pcloud.core.timefmt import utcnow

# Named constraints so Alembic migrations are stable on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Partial-index clause: uniqueness among live (not soft-deleted) rows only, on both databases.
LIVE_ONLY = {"sqlite_where": text("deleted_at IS NULL"), "postgresql_where": text("deleted_at IS NULL")}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        table = cls.__dict__.get("__table__")
        if table is not None:
            never_reuse_ids(table)


def has_surrogate_id(table: Any) -> bool:
    """A primary key of one integer column: an id the database hands out (and pages, mails, logs quote)."""
    columns = list(table.primary_key.columns)
    return len(columns) == 1 and isinstance(columns[0].type, Integer)


def never_reuse_ids(table: Any) -> None:
    """Ids are never handed out twice: SQLite's AUTOINCREMENT on every table with a surrogate id (without it,
    the id of the newest deleted row comes back, so a mail quoting run 7 could later point at another run).
    PostgreSQL's identity/serial never reuses one anyway. Migration 0011 rebuilt the existing tables so."""
    if has_surrogate_id(table):
        table.dialect_kwargs["sqlite_autoincrement"] = True


class AuditMixin:
    """gmtCreated*/gmtModified* of API.md, filled from the signed-in user by the flush hook below."""

    gmt_created_date: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    gmt_created_id: Mapped[int | None] = mapped_column(Integer)
    gmt_created_name: Mapped[str | None] = mapped_column(String(64))
    gmt_modified_date: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    gmt_modified_name: Mapped[str | None] = mapped_column(String(64))


class SoftDeleteMixin:
    """Deleted rows stay in the table with `deleted_at` set and vanish from every read."""

    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    @classmethod
    def live(cls) -> Any:
        return select(cls).where(cls.deleted_at.is_(None))

    def soft_delete(self) -> None:
        self.deleted_at = utcnow()


@event.listens_for(Session, "before_flush")
def _fill_audit_columns(session: Session, _ctx: Any, _instances: Any) -> None:
    from pcloud.core.security import current_principal_id_name

    principal_id, principal_name = current_principal_id_name()
    now = utcnow()
    for obj in session.new:
        if isinstance(obj, AuditMixin):
            obj.gmt_created_date = obj.gmt_created_date or now
            obj.gmt_modified_date = now
            if obj.gmt_created_name is None:
                obj.gmt_created_id, obj.gmt_created_name = principal_id, principal_name
            obj.gmt_modified_name = principal_name
    for obj in session.dirty:
        if isinstance(obj, AuditMixin) and session.is_modified(obj, include_collections=False):
            obj.gmt_modified_date = now
            obj.gmt_modified_name = principal_name


class SubmittedForm(Base):
    """A create form's one-time token, kept once its save commits (core.views): the same form posted again (a
    double click, a request retried) is recognised instead of creating a second record. Deleted after a day by
    the maintenance job sessionCleanHandler."""

    __tablename__ = "sys_form_submission"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, index=True)
