"""Departments (部门管理)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Index, Integer, String, event, inspect, text
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


class DeptClosure(Base):
    """Every (ancestor, descendant) pair of the live department tree, itself included at depth 0.

    Subtree and ancestor queries become one index range scan, whatever the depth, and the planner can
    estimate them. Maintained by the mapper events below, so every ORM write keeps it right; bulk loads
    call `rebuild_dept_closure` (the migration backfills with it too).
    """

    __tablename__ = "sys_dept_closure"

    ancestor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    descendant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_sys_dept_closure_descendant", "descendant_id", "ancestor_id"),)


REBUILD_CLOSURE_SQL = """
INSERT INTO sys_dept_closure (ancestor_id, descendant_id, depth)
WITH RECURSIVE tree(ancestor_id, descendant_id, depth) AS (
    SELECT id, id, 0 FROM sys_dept WHERE deleted_at IS NULL
    UNION ALL
    SELECT tree.ancestor_id, d.id, tree.depth + 1
    FROM sys_dept d JOIN tree ON d.parent_id = tree.descendant_id
    WHERE d.deleted_at IS NULL AND tree.depth < 1000
)
SELECT ancestor_id, descendant_id, min(depth) FROM tree GROUP BY ancestor_id, descendant_id
"""


def rebuild_dept_closure(conn: Connection) -> None:
    """Recompute the whole closure from parent ids (after bulk inserts that bypass the ORM)."""
    conn.execute(text("DELETE FROM sys_dept_closure"))
    conn.execute(text(REBUILD_CLOSURE_SQL))


def _serialise_tree_changes(conn: Connection) -> None:
    """Two concurrent moves must not interleave their closure rewrites (SQLite is serial already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(727275)"))


@event.listens_for(Dept, "after_insert")
def _closure_on_insert(_mapper: Any, conn: Connection, dept: Dept) -> None:
    _serialise_tree_changes(conn)
    conn.execute(text(
        "INSERT INTO sys_dept_closure (ancestor_id, descendant_id, depth) "
        "SELECT ancestor_id, :id, depth + 1 FROM sys_dept_closure WHERE descendant_id = :parent "
        "UNION ALL SELECT :id, :id, 0"), {"id": dept.id, "parent": dept.parent_id or 0})


@event.listens_for(Dept, "after_update")
def _closure_on_update(_mapper: Any, conn: Connection, dept: Dept) -> None:
    state = inspect(dept)
    if state.attrs.deleted_at.history.has_changes() and dept.deleted_at is not None:
        _serialise_tree_changes(conn)
        # Only a department without children can be deleted; drop its own rows.
        conn.execute(text("DELETE FROM sys_dept_closure WHERE descendant_id = :id OR ancestor_id = :id"),
                     {"id": dept.id})
        return
    if not state.attrs.parent_id.history.has_changes():
        return
    _serialise_tree_changes(conn)
    params = {"id": dept.id, "parent": dept.parent_id or 0}
    # Detach the subtree from its old ancestors, then hang it under every ancestor of the new parent.
    conn.execute(text(
        "DELETE FROM sys_dept_closure WHERE descendant_id IN "
        "(SELECT descendant_id FROM sys_dept_closure WHERE ancestor_id = :id) "
        "AND ancestor_id NOT IN (SELECT descendant_id FROM sys_dept_closure WHERE ancestor_id = :id)"), params)
    conn.execute(text(
        "INSERT INTO sys_dept_closure (ancestor_id, descendant_id, depth) "
        "SELECT p.ancestor_id, s.descendant_id, p.depth + s.depth + 1 "
        "FROM sys_dept_closure p, sys_dept_closure s "
        "WHERE p.descendant_id = :parent AND s.ancestor_id = :id"), params)
