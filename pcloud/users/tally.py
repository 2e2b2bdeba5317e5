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

The DDL lives here and migration 0009 carries a frozen copy; `rebuild_sql` recounts from the rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, text

from pcloud.extensions import db
from pcloud.users.models import UserTally

TABLE = "sys_user_tally"
# pg_advisory_xact_lock key: "tally" in ASCII, any constant no other code uses
ADVISORY_KEY = 0x74616C6C79

_INC = f"ON CONFLICT (kind, ref_id) DO UPDATE SET n = {TABLE}.n + excluded.n"


# ---------------------------------------------------------------------------------------------
# DDL


def _sqlite_user_rows(prefix: str, sign: int) -> str:
    """Add `sign` to the all / state / dept / tree counts of the row `prefix` (new or old), if live."""
    if sign > 0:
        return " ".join(
            f"INSERT INTO {TABLE} (kind, ref_id, n) SELECT '{kind}', {ref}, 1 WHERE {prefix}.deleted_at IS NULL "
            f"{_INC};"
            for kind, ref in (("all", "0"), ("state", f"{prefix}.state"), ("dept", f"coalesce({prefix}.dept_id, 0)"))
        ) + (f" INSERT INTO {TABLE} (kind, ref_id, n) SELECT 'tree', ancestor_id, 1 FROM sys_dept_closure "
             f"WHERE descendant_id = {prefix}.dept_id AND {prefix}.deleted_at IS NULL {_INC};")
    return (f"UPDATE {TABLE} SET n = n - 1 WHERE {prefix}.deleted_at IS NULL AND ((kind = 'all' AND ref_id = 0) "
            f"OR (kind = 'state' AND ref_id = {prefix}.state) "
            f"OR (kind = 'dept' AND ref_id = coalesce({prefix}.dept_id, 0)) "
            f"OR (kind = 'tree' AND ref_id IN (SELECT ancestor_id FROM sys_dept_closure "
            f"WHERE descendant_id = {prefix}.dept_id)));")


def _sqlite_closure_rows(prefix: str, sign: int) -> str:
    """A closure row (ancestor, descendant) added or removed: the ancestor's tree count gains or loses the
    descendant's own members."""
    members = f"(SELECT n FROM {TABLE} WHERE kind = 'dept' AND ref_id = {prefix}.descendant_id)"
    if sign > 0:
        return (f"INSERT INTO {TABLE} (kind, ref_id, n) SELECT 'tree', {prefix}.ancestor_id, {members} "
                f"WHERE coalesce({members}, 0) <> 0 {_INC};")
    return (f"UPDATE {TABLE} SET n = n - coalesce({members}, 0) WHERE kind = 'tree' "
            f"AND ref_id = {prefix}.ancestor_id;")


def _live(user_id: str) -> str:
    return f"EXISTS (SELECT 1 FROM sys_user WHERE id = {user_id} AND deleted_at IS NULL)"


def sqlite_create_sql() -> list[str]:
    return [
        f"CREATE TRIGGER {TABLE}_user_ai AFTER INSERT ON sys_user BEGIN {_sqlite_user_rows('new', 1)} END",
        # before the row goes: its role rows, counted off while the user is still live
        f"CREATE TRIGGER {TABLE}_user_bd BEFORE DELETE ON sys_user BEGIN "
        "DELETE FROM sys_user_role WHERE user_id = old.id; END",
        f"CREATE TRIGGER {TABLE}_user_ad AFTER DELETE ON sys_user BEGIN {_sqlite_user_rows('old', -1)} END",
        f"CREATE TRIGGER {TABLE}_user_au AFTER UPDATE OF deleted_at, state, dept_id ON sys_user "
        "WHEN old.deleted_at IS NOT new.deleted_at OR old.state IS NOT new.state OR old.dept_id IS NOT new.dept_id "
        f"BEGIN {_sqlite_user_rows('old', -1)} {_sqlite_user_rows('new', 1)} "
        f"UPDATE {TABLE} SET n = n - 1 WHERE old.deleted_at IS NULL AND new.deleted_at IS NOT NULL "
        "AND kind = 'role' AND ref_id IN (SELECT role_id FROM sys_user_role WHERE user_id = new.id); "
        f"INSERT INTO {TABLE} (kind, ref_id, n) SELECT 'role', role_id, 1 FROM sys_user_role "
        f"WHERE user_id = new.id AND old.deleted_at IS NOT NULL AND new.deleted_at IS NULL {_INC}; END",
        f"CREATE TRIGGER {TABLE}_role_ai AFTER INSERT ON sys_user_role BEGIN "
        f"INSERT INTO {TABLE} (kind, ref_id, n) SELECT 'role', new.role_id, 1 WHERE {_live('new.user_id')} {_INC}; "
        "END",
        f"CREATE TRIGGER {TABLE}_role_ad AFTER DELETE ON sys_user_role BEGIN "
        f"UPDATE {TABLE} SET n = n - 1 WHERE kind = 'role' AND ref_id = old.role_id AND {_live('old.user_id')}; END",
        f"CREATE TRIGGER {TABLE}_role_au AFTER UPDATE ON sys_user_role BEGIN "
        f"UPDATE {TABLE} SET n = n - 1 WHERE kind = 'role' AND ref_id = old.role_id AND {_live('old.user_id')}; "
        f"INSERT INTO {TABLE} (kind, ref_id, n) SELECT 'role', new.role_id, 1 WHERE {_live('new.user_id')} {_INC}; "
        "END",
        f"CREATE TRIGGER {TABLE}_tree_ai AFTER INSERT ON sys_dept_closure BEGIN {_sqlite_closure_rows('new', 1)} END",
        f"CREATE TRIGGER {TABLE}_tree_ad AFTER DELETE ON sys_dept_closure BEGIN {_sqlite_closure_rows('old', -1)} END",
        f"CREATE TRIGGER {TABLE}_tree_au AFTER UPDATE ON sys_dept_closure BEGIN {_sqlite_closure_rows('old', -1)} "
        f"{_sqlite_closure_rows('new', 1)} END",
    ]


SQLITE_TRIGGERS = ("user_ai", "user_bd", "user_ad", "user_au", "role_ai", "role_ad", "role_au", "tree_ai", "tree_ad",
                   "tree_au")


def sqlite_drop_sql() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {TABLE}_{name}" for name in SQLITE_TRIGGERS]


def _pg_user_deltas(rows: str, sign: int) -> str:
    return " UNION ALL ".join(
        f"SELECT '{kind}'::varchar AS kind, {ref} AS ref_id, {sign} AS n FROM {rows} WHERE deleted_at IS NULL"
        for kind, ref in (("all", "0"), ("state", "state"), ("dept", "coalesce(dept_id, 0)"))
    ) + (f" UNION ALL SELECT 'tree'::varchar AS kind, c.ancestor_id AS ref_id, {sign} AS n FROM {rows} r "
         "JOIN sys_dept_closure c ON c.descendant_id = r.dept_id WHERE r.deleted_at IS NULL")


def _pg_closure_deltas(rows: str, sign: int) -> str:
    return (f"SELECT 'tree'::varchar AS kind, c.ancestor_id AS ref_id, {sign} * t.n AS n FROM {rows} c "
            f"JOIN {TABLE} t ON t.kind = 'dept' AND t.ref_id = c.descendant_id")


def _pg_apply(deltas: str) -> str:
    """Add the (kind, ref_id, n) deltas, grouped, count rows in a fixed order, zero sums skipped."""
    return (f"INSERT INTO {TABLE} (kind, ref_id, n) SELECT kind, ref_id, sum(n) FROM ({deltas}) AS d "
            f"GROUP BY kind, ref_id HAVING sum(n) <> 0 ORDER BY kind, ref_id {_INC};")


def _pg_function(name: str, body: str, when: str = "") -> str:
    """`when`: a condition that must hold for any count to change (else no lock, no write)."""
    guarded = f"IF {when} THEN PERFORM pg_advisory_xact_lock({ADVISORY_KEY}); {body} END IF;" if when else (
        f"PERFORM pg_advisory_xact_lock({ADVISORY_KEY}); {body}")
    return (f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{guarded} RETURN NULL; END $$")


# An UPDATE of sys_user that changes no counted column (a name, a password) takes no lock.
_PG_USER_CHANGED = ("EXISTS (SELECT 1 FROM new_rows nw JOIN old_rows od ON od.id = nw.id WHERE "
                    "nw.deleted_at IS DISTINCT FROM od.deleted_at OR nw.state IS DISTINCT FROM od.state "
                    "OR nw.dept_id IS DISTINCT FROM od.dept_id)")


PG_FUNCTIONS = ("user_ins", "user_upd", "user_del", "role_ins", "role_upd", "role_del", "tree_ins", "tree_upd",
                "tree_del")
_PG_TABLES = {"user": "sys_user", "role": "sys_user_role", "tree": "sys_dept_closure"}


def postgres_create_sql() -> list[str]:
    role_live = ("SELECT 'role'::varchar AS kind, r.role_id AS ref_id, {sign} AS n FROM {rows} r "
                 "JOIN sys_user u ON u.id = r.user_id WHERE u.deleted_at IS NULL")
    liveness = ("SELECT 'role'::varchar AS kind, ur.role_id AS ref_id, "
                "CASE WHEN nw.deleted_at IS NULL THEN 1 ELSE -1 END AS n "
                "FROM new_rows nw JOIN old_rows od ON od.id = nw.id JOIN sys_user_role ur ON ur.user_id = nw.id "
                "WHERE (od.deleted_at IS NULL) <> (nw.deleted_at IS NULL)")
    bodies = {
        "user_ins": _pg_apply(_pg_user_deltas("new_rows", 1)),
        "user_upd": _pg_apply(f"{_pg_user_deltas('new_rows', 1)} UNION ALL {_pg_user_deltas('old_rows', -1)} "
                              f"UNION ALL {liveness}"),
        "user_del": _pg_apply(_pg_user_deltas("old_rows", -1)),
        "role_ins": _pg_apply(role_live.format(sign=1, rows="new_rows")),
        "role_upd": _pg_apply(f"{role_live.format(sign=1, rows='new_rows')} UNION ALL "
                              f"{role_live.format(sign=-1, rows='old_rows')}"),
        "role_del": _pg_apply(role_live.format(sign=-1, rows="old_rows")),
        "tree_ins": _pg_apply(_pg_closure_deltas("new_rows", 1)),
        "tree_upd": _pg_apply(f"{_pg_closure_deltas('new_rows', 1)} UNION ALL {_pg_closure_deltas('old_rows', -1)}"),
        "tree_del": _pg_apply(_pg_closure_deltas("old_rows", -1)),
    }
    sql = [_pg_function(f"{TABLE}_{name}", body, _PG_USER_CHANGED if name == "user_upd" else "")
           for name, body in bodies.items()]
    for name, table in _PG_TABLES.items():
        for op, short, transition in (("INSERT", "ins", "NEW TABLE AS new_rows"),
                                      ("UPDATE", "upd", "NEW TABLE AS new_rows OLD TABLE AS old_rows"),
                                      ("DELETE", "del", "OLD TABLE AS old_rows")):
            sql.append(f"CREATE TRIGGER {TABLE}_{name}_{short} AFTER {op} ON {table} REFERENCING {transition} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_{name}_{short}()")
    sql.append(f"CREATE OR REPLACE FUNCTION {TABLE}_user_bd() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               "DELETE FROM sys_user_role WHERE user_id = OLD.id; RETURN OLD; END $$")
    sql.append(f"CREATE TRIGGER {TABLE}_user_bd BEFORE DELETE ON sys_user FOR EACH ROW "
               f"EXECUTE FUNCTION {TABLE}_user_bd()")
    return sql


def postgres_drop_sql() -> list[str]:
    sql = [f"DROP TRIGGER IF EXISTS {TABLE}_{name} ON {_PG_TABLES[name.split('_')[0]]}"
           for name in (*PG_FUNCTIONS, "user_bd")]
    return sql + [f"DROP FUNCTION IF EXISTS {TABLE}_{name}()" for name in (*PG_FUNCTIONS, "user_bd")]


RECOUNT_SQL = (
    "SELECT 'all' AS kind, 0 AS ref_id, count(*) AS n FROM sys_user WHERE deleted_at IS NULL "
    "UNION ALL SELECT 'state', state, count(*) FROM sys_user WHERE deleted_at IS NULL GROUP BY state "
    "UNION ALL SELECT 'dept', coalesce(dept_id, 0), count(*) FROM sys_user WHERE deleted_at IS NULL "
    "GROUP BY coalesce(dept_id, 0) "
    "UNION ALL SELECT 'role', r.role_id, count(*) FROM sys_user_role r JOIN sys_user u ON u.id = r.user_id "
    "WHERE u.deleted_at IS NULL GROUP BY r.role_id "
    "UNION ALL SELECT 'tree', c.ancestor_id, count(*) FROM sys_user u JOIN sys_dept_closure c "
    "ON c.descendant_id = u.dept_id WHERE u.deleted_at IS NULL GROUP BY c.ancestor_id")


def rebuild_sql() -> list[str]:
    """Every count recounted from the rows (the migration's first fill; after a load without triggers)."""
    return [f"DELETE FROM {TABLE}", f"INSERT INTO {TABLE} (kind, ref_id, n) {RECOUNT_SQL}"]


def create_sql(dialect: str) -> list[str]:
    return sqlite_create_sql() if dialect == "sqlite" else postgres_create_sql()


def drop_sql(dialect: str) -> list[str]:
    return sqlite_drop_sql() if dialect == "sqlite" else postgres_drop_sql()


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
