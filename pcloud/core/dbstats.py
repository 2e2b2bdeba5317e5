"""Planner statistics kept fresh without a person.

Without statistics SQLite picks the first index that matches a WHERE clause and sorts every live user
in a temporary B-tree (issue 12: 35-80 ms instead of 0.05 ms for the first user page). So:

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

import logging
from typing import Any

from sqlalchemy import Engine, event, text

log = logging.getLogger(__name__)

# Rows ANALYZE reads per index on SQLite: enough for good plans, bounded time on a million rows.
SQLITE_ANALYSIS_LIMIT = 400


def refresh_statistics(engine: Engine) -> None:
    """Bring the planner statistics up to date (ANALYZE). Safe to call at any time, from any process."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA optimize")
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
