"""Live users per list filter (sys_user_tally), kept exact by database triggers (issue 12).

Why triggers rather than the service: every writer of sys_user / sys_user_role keeps the counts right,
including raw SQL (bulk loads, tests, other modules' services), inside the writer's own transaction.

- SQLite: row triggers (writers are serialised by the database anyway).
- PostgreSQL: statement triggers over transition tables (one grouped upsert per statement, so a bulk
  INSERT ... SELECT of a million users costs one aggregate, not a million upserts). Each takes a
  transaction-scoped advisory lock first: every transaction that changes a count then updates the
  count rows one at a time, in commit order, so concurrent writers can neither lose an increment nor
  deadlock on two count rows taken in opposite orders.
- A hard delete of a user first deletes its user_role rows (BEFORE DELETE), while the user is still
  live, so the role counts drop; the foreign key's cascade then finds nothing.
- A department subtree's count (`tree`, per ancestor) is the sum of its departments' own counts over
  the closure table (depts.models.DeptClosure): a user's change adds to every ancestor of its
  department, and a closure row added or removed (a department made, moved or deleted) adds or
  removes the descendant's own count to or from the ancestor.

The triggers are in the migrations: 0009 (the counts; its advisory lock key is "tally" in ASCII) and 0026 (a
statement adding users takes that lock before its rows claim their phones, so that an import and a create of
one phone cannot deadlock). This module reads the counts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, text

from pcloud.extensions import db
from pcloud.users.models import UserTally

TABLE = "sys_user_tally"

RECOUNT_SQL = (
    "SELECT 'all' AS kind, 0 AS ref_id, count(*) AS n FROM sys_user WHERE deleted_at IS NULL "
    "UNION ALL SELECT 'state', state, count(*) FROM sys_user WHERE deleted_at IS NULL GROUP BY state "
    "UNION ALL SELECT 'dept', coalesce(dept_id, 0), count(*) FROM sys_user WHERE deleted_at IS NULL "
    "GROUP BY coalesce(dept_id, 0) "
    "UNION ALL SELECT 'role', r.role_id, count(*) FROM sys_user_role r JOIN sys_user u ON u.id = r.user_id "
    "WHERE u.deleted_at IS NULL GROUP BY r.role_id "
    "UNION ALL SELECT 'tree', c.ancestor_id, count(*) FROM sys_user u JOIN sys_dept_closure c "
    "ON c.descendant_id = u.dept_id WHERE u.deleted_at IS NULL GROUP BY c.ancestor_id")


# ---------------------------------------------------------------------------------------------
# Reads


def counts(conn: Any) -> dict[tuple[str, int], int]:
    """The kept counts (zero counts left out)."""
    return {(k, int(r)): int(n) for k, r, n in conn.execute(text(f"SELECT kind, ref_id, n FROM {TABLE}")) if n}


def recount(conn: Any) -> dict[tuple[str, int], int]:
    """The counts as the rows say now (zero counts left out): what `counts` must equal."""
    return {(k, int(r)): int(n) for k, r, n in conn.execute(text(RECOUNT_SQL)) if n}


def count_key(filters: dict[str, Any]) -> tuple[str, int] | None:
    """The kept count (kind, ref_id) that is the exact number of live users matching `filters`, or None
    when the filters combine in a way the counts do not answer (a keyword, several roles, two filters)."""
    if (filters.get("keyword") or "").strip() or (filters.get("phone") or "").strip() \
            or filters.get("scope") is not None:  # a data scope other than one subtree (users.service)
        return None
    roles = filters.get("role_ids") or []
    given = [name for name, on in (("role", roles), ("state", filters.get("state") is not None),
                                   ("dept", filters.get("dept_id"))) if on]
    if len(given) > 1 or len(roles) > 1:
        return None
    if not given:
        return "all", 0
    if given[0] == "role":
        return "role", roles[0]
    if given[0] == "state":
        return "state", filters["state"]
    return "tree", filters["dept_id"]


_tally = UserTally.__table__
_KEPT = select(_tally.c.n).where(_tally.c.kind == bindparam("kind"), _tally.c.ref_id == bindparam("ref_id"))


def kept_count(filters: dict[str, Any]) -> int | None:
    """The exact number of live users matching `filters` from the kept counts (see count_key), or None."""
    key = count_key(filters)
    if key is None:
        return None
    kind, ref_id = key
    # one scalar by primary key, a Core statement: no row is kept for a count never made (0)
    return int(db.session.scalar(_KEPT, {"kind": kind, "ref_id": ref_id}) or 0)
