"""Users (用户管理)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, Select, String, Table, func, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pcloud.core import search
from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin

user_role = Table(
    "sys_user_role",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("sys_user.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", Integer, ForeignKey("sys_role.id", ondelete="CASCADE"), primary_key=True),
    # The role filter: a role's members read from the index alone (role_id, user_id).
    Index("ix_sys_user_role_role_user", "role_id", "user_id"),
)


# Every character and adjacent pair of characters of each user's name, lower-cased by the database: a keyword of
# one or two characters (a Chinese given name, 张伟) finds its users by the primary key instead of reading them all
# (core.search.SHORT_SEARCHED). Kept by triggers (migration 0035), never written here.
user_name_gram = search.gram_table(Base.metadata, "sys_user", "name")


class UserTally(Base):
    """Live users per list filter, kept in step by database triggers (pcloud.users.tally, migration 0009),
    so the user page's `total` is exact at any size without visiting the users (issue 12).

    kind `all` (ref_id 0), `state` (ref_id = state), `dept` (ref_id = dept_id, 0 for none: its own
    members), `tree` (ref_id = dept_id: the members of its whole subtree, as the department filter reads
    it through the closure table) and `role` (ref_id = role_id: the user_role rows of live users)."""

    __tablename__ = "sys_user_tally"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    ref_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @classmethod
    def counts(cls, kind: str, ref_ids: Iterable[int] | None = None) -> Select[tuple[int, int]]:
        """(ref_id, n) of the kept counts of `kind`, for `ref_ids` or (None) all of them: every "how many
        users hold it" (roles, departments). The user page's total reads one count by key (users.tally.kept_count)."""
        stmt = select(cls.ref_id, cls.n).where(cls.kind == kind, cls.n != 0)
        return stmt if ref_ids is None else stmt.where(cls.ref_id.in_(list(ref_ids)))


class User(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(100))
    avatar: Mapped[str | None] = mapped_column(String(512))
    state: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dept_id: Mapped[int | None] = mapped_column(ForeignKey("sys_dept.id"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("sys_post.id"))
    grade_id: Mapped[int | None] = mapped_column(ForeignKey("sys_grade.id"))
    # Set by an administrator's create or reset (parameter sys.password.changeAtFirstSignIn) and by an import's
    # generated password; cleared by the user's own change. While set, the guard allows only that change.
    password_change_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    roles = relationship("Role", secondary=user_role, lazy="selectin", order_by="Role.id")
    dept = relationship("Dept", foreign_keys=[dept_id], lazy="joined")
    post = relationship("Post", lazy="joined")
    grade = relationship("Grade", lazy="joined")

    # A place's name shows even if the place was deleted since (the relationships do not filter).
    @property
    def dept_name(self) -> str | None:
        return self.dept.name if self.dept else None

    @property
    def post_name(self) -> str | None:
        return self.post.name if self.post else None

    @property
    def grade_name(self) -> str | None:
        return self.grade.name if self.grade else None

    @property
    def live_roles(self) -> list[Any]:
        return [r for r in self.roles if r.deleted_at is None]

    @classmethod
    def live_counts_by(cls, column: Any, ids: Iterable[int] | None = None) -> Select[tuple[int, int]]:
        """(value, live users) per value of `column` (post_id, grade_id), for `ids` or (None) every value."""
        stmt = select(column, func.count()).where(cls.deleted_at.is_(None), column.is_not(None))
        return (stmt if ids is None else stmt.where(column.in_(list(ids)))).group_by(column)

    __table_args__ = (
        Index("uq_sys_user_phone_live", "phone", unique=True, **LIVE_ONLY),
        Index("ix_sys_user_name", "name"),
        # The user page: live users newest first (with the id tie-breaker, so no sort is needed), and
        # the department filter's live members of a subtree (no plain dept_id index: the planner would
        # pick it and look up every member's row for deleted_at).
        # deleted_at rides along in the live indexes: SQLite reads a partial index as covering only when
        # every column the query names is in it, and the queries name deleted_at (issue 12).
        Index("ix_sys_user_live_dept_created", "dept_id", "gmt_created_date", "id", "deleted_at", **LIVE_ONLY),
        Index("ix_sys_user_post_id", "post_id"),
        Index("ix_sys_user_grade_id", "grade_id"),
        Index("ix_sys_user_live_created", "gmt_created_date", "id", "deleted_at", **LIVE_ONLY),
        # The state filter, newest first, without a sort. (No plain deleted_at index: without statistics
        # SQLite picked it for the first page and sorted every live user; counts are capped instead, see
        # core.paging.)
        Index("ix_sys_user_live_state_created", "state", "gmt_created_date", "id", "deleted_at", **LIVE_ONLY),
        # The deleted users, by id: a keyword's count from the trigram index subtracts those among its
        # matches without reading a user row (users.service._keyword_count).
        Index("ix_sys_user_dead_id", "id", sqlite_where=text("deleted_at IS NOT NULL"),
              postgresql_where=text("deleted_at IS NOT NULL")),
    )
