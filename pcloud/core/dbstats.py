"""Planner statistics kept fresh without a person.

Without statistics SQLite picks the first index that matches a WHERE clause and sorts every live user
in a temporary B-tree (issue 12), a first user page hundreds of times slower. So:

- `pcloud init` runs `refresh_statistics` (ANALYZE on both databases);
- every SQLite connection runs `PRAGMA analysis_limit=400; PRAGMA optimize=0x10002` when it opens
  and `PRAGMA optimize` when the pool closes it, as https://sqlite.org/lang_analyze.html recommends
  for long-lived connections;
- the job worker's maintenance job calls `refresh_statistics(engine)` periodically;
- PostgreSQL's autovacuum keeps its statistics; `autovacuum_status` says whether it is on.

The list queries do not depend on this alone: the ones that matter name their index (SQLite) or have
only one good plan, see `pcloud.users.service.page_users` and `pcloud.actionlog.service.page_logs`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from functools import partial
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event, text

log = logging.getLogger(__name__)

# Rows ANALYZE reads per index on SQLite: enough for good plans, bounded time on a million rows.
SQLITE_ANALYSIS_LIMIT = 400


def refresh_statistics(engine: Engine) -> None:
    """Bring the planner statistics up to date (ANALYZE). Safe to call at any time, from any process."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name == "sqlite":
            # A full pass (seconds at a million rows): exact row counts for core.paging's estimates.
            conn.exec_driver_sql("PRAGMA analysis_limit=0")
            conn.exec_driver_sql("ANALYZE")
            # Other open connections keep the statistics they loaded with the schema until the schema
            # changes: change it (a table made and dropped) so every pooled connection reloads them.
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS pcloud_statistics_reload (x INTEGER)")
            conn.exec_driver_sql("DROP TABLE pcloud_statistics_reload")
        else:
            conn.exec_driver_sql("ANALYZE")


def autovacuum_status(engine: Engine) -> dict[str, Any]:
    """PostgreSQL: whether autovacuum runs, and when each table was last analysed (for `pcloud doctor`-like
    checks and the maintenance job's log). SQLite: {}."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        on = conn.execute(text("SHOW autovacuum")).scalar() == "on"
        tables = {name: (auto or manual) for name, auto, manual in conn.execute(text(
            "SELECT relname, last_autoanalyze, last_analyze FROM pg_stat_user_tables"))}
    return {"autovacuum": on, "last_analyze": tables}


def _sqlite_open(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        # 0x10002: analyse tables whose statistics are missing or stale, even on a fresh connection.
        cur.execute("PRAGMA optimize=0x10002")
    except Exception:  # noqa: BLE001 - a read-only or busy database still serves requests
        log.debug("PRAGMA optimize at open failed", exc_info=True)
    finally:
        cur.close()


def _sqlite_close(dbapi_conn: Any, _record: Any) -> None:
    try:
        dbapi_conn.execute("PRAGMA optimize")
    except Exception:  # noqa: BLE001 - closing must never fail
        log.debug("PRAGMA optimize at close failed", exc_info=True)


def keep_sqlite_statistics(engine: Engine) -> None:
    """Register the open/close PRAGMA optimize hooks on one SQLite engine."""
    event.listen(engine, "connect", _sqlite_open)
    event.listen(engine.pool, "close", _sqlite_close)


# ---------------------------------------------------------------------------------------------
# Plans, for the EXPLAIN test and the benches


@contextlib.contextmanager
def captured_selects(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT `engine` runs inside the block, as (sql, parameters)."""
    seen: list[tuple[str, Any]] = []

    def _before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", _before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _before)


def plan(engine: Engine, statement: str, parameters: Any, avoid_scans: bool = False, analyse: bool = False
         ) -> list[str]:
    """The database's plan for one statement: SQLite EXPLAIN QUERY PLAN details, PostgreSQL EXPLAIN lines
    (`analyse`: EXPLAIN ANALYZE, the statement run, with actual rows and times; rolled back).

    `avoid_scans` (PostgreSQL): plan with sequential scans and sorts priced out, so a small test table
    shows whether an index *can* serve the query (what the planner picks once the table is large);
    a Seq Scan or Sort left in such a plan has no index behind it."""
    with engine.connect() as conn:
        dbapi = conn.connection.driver_connection
        if engine.dialect.name == "sqlite":
            cur = dbapi.execute("EXPLAIN QUERY PLAN " + statement, parameters or ())
            return [str(row[-1]) for row in cur.fetchall()]
        with dbapi.cursor() as cur:
            if avoid_scans:
                cur.execute("SET LOCAL enable_seqscan = off")
                cur.execute("SET LOCAL enable_sort = off")
            cur.execute(("EXPLAIN ANALYZE " if analyse else "EXPLAIN ") + statement, parameters or None)
            lines = [row[0] for row in cur.fetchall()]
        dbapi.rollback()
        return lines


def create_private_file(path: str | None) -> None:
    """The SQLite database file, if it is not there yet, readable and writable by its owner only (0600), in a folder
    made for it likewise (0700): it holds the password and key hashes, everyone's personal data and the jobs'
    output, and the process's umask would leave it readable by every local user (a review's finding). SQLite
    creates the -wal and -shm files with the database file's mode. A file that exists is left as its owner set it."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def attach_sqlite_pragmas(app: Flask, engine: Engine) -> None:
    """WAL, full sync, the busy timeout and foreign keys on every new connection of this engine (call once per
    engine: the web app's and each worker child's)."""
    event.listen(engine, "connect", partial(_sqlite_pragmas, app))


def _sqlite_pragmas(app: Flask, dbapi_conn: Any, _record: Any) -> None:
    busy_ms = int(app.config.get("PCLOUD_SQLITE_BUSY_TIMEOUT_MS", 10000))  # read per connection: tests change it
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute(f"PRAGMA busy_timeout={busy_ms}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
