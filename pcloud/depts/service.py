"""Department rules. Subtrees are computed in the database with a recursive CTE."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pcloud.depts.models import Dept
from pcloud.extensions import db


def subtree_ids_select(dept_id: int) -> Any:
    """SELECT id of the department and every live department below it (recursive CTE)."""
    base = select(Dept.id).where(Dept.id == dept_id, Dept.deleted_at.is_(None)).cte("dept_tree", recursive=True)
    child = select(Dept.id).join(base, Dept.parent_id == base.c.id).where(Dept.deleted_at.is_(None))
    tree = base.union_all(child)
    return select(tree.c.id)


def subtree_ids(dept_id: int) -> list[int]:
    return list(db.session.execute(subtree_ids_select(dept_id)).scalars())
