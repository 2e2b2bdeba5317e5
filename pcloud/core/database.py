"""Connections to the app's database: a liveness check only where it can matter, and read-only lookups
without a transaction.

Why not `pool_pre_ping`: it costs a round trip on every checkout, that is on every request, and on
PostgreSQL a request that only authenticates (the ID service) spent more time on the ping, BEGIN and
ROLLBACK than on its one query. Instead:

- a connection that sat idle in the pool longer than `PCLOUD_DB_PING_IDLE_SECONDS` is pinged when it
  is checked out (a database restarted while the process was quiet is noticed before a request uses a
  dead connection); a busy pool is not pinged;
- when a statement finds its connection dropped anyway (the database restarted under load), SQLAlchemy
  invalidates that connection and every older one in the pool, so that request fails alone (503) and
  the next ones connect afresh; `read_outside_transaction`, used for the per-request session lookup,
  retries once on a fresh connection, so the request that met the dead connection is served too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, Executable, Row, event, exc

from pcloud.extensions import db

_IDLE_SINCE = "pcloud_idle_since"
_READERS = "pcloud.autocommit_engine"


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout only if it was idle longer than `idle_seconds`."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since <= idle_seconds:
            return  # a new connection, or one in steady use
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out (or opens) another.
            raise exc.DisconnectionError(str(error)) from error


def _autocommit_engine() -> Engine:
    """The app's engine and pool, with statements run outside a transaction (no BEGIN/ROLLBACK)."""
    from flask import current_app

    engine = db.engine
    cached = current_app.extensions.get(_READERS)
    if cached is None or cached[0] is not engine:
        # SQLite's driver opens no transaction for a SELECT and switching it to autocommit and back costs
        # a PRAGMA each time: there the plain engine is already what is wanted.
        reader = engine if engine.dialect.name == "sqlite" else engine.execution_options(isolation_level="AUTOCOMMIT")
        cached = (engine, reader)
        current_app.extensions[_READERS] = cached
    return cached[1]


def read_outside_transaction(statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
    """All rows of one read-only statement, on a pooled connection in autocommit (one round trip on
    PostgreSQL instead of BEGIN, the query and ROLLBACK). Retried once if the connection was dropped."""
    engine = _autocommit_engine()
    try:
        with engine.connect() as conn:
            return conn.execute(statement, params).all()
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as conn:  # the pool was invalidated: a fresh connection
        return conn.execute(statement, params).all()
