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

The per-request lookup on PostgreSQL goes one step further: each thread keeps one driver connection of
its own, in autocommit, and runs the statement compiled once. A pool checkout, the reset on return and
SQLAlchemy's execution machinery cost about three times the query itself (measured: 0.45 ms for
connect + `SELECT 1` through the engine against 0.12 ms on a held driver connection), and the ID
service answers nothing else per request. The connection belongs to the process that opened it (a
forked child opens its own); any driver error closes it and the lookup is retried once through the
engine, whose errors the app turns into 503.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import namedtuple
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


class _HeldConnection(threading.local):
    """This thread's own driver connection for lookups: (engine, pid, connection)."""

    held: tuple[Engine, int, Any] | None = None


_HELD = _HeldConnection()
# Driver connections a forked child inherited: never used, never closed (closing one would end the
# parent's session on the shared socket), only kept from the garbage collector.
_INHERITED: list[Any] = []
_COMPILED: dict[tuple[int, int], tuple[Any, str, dict[str, Any], Any]] = {}


def _compiled(engine: Engine, statement: Any) -> tuple[str, dict[str, Any], Any]:
    """The statement's SQL for the driver, its constant parameters and a row type, compiled once."""
    key = (id(engine.dialect), id(statement))
    cached = _COMPILED.get(key)
    if cached is None or cached[0] is not statement:
        compiled = statement.compile(dialect=engine.dialect)
        row_type = namedtuple("LookupRow", list(statement.selected_columns.keys()))  # type: ignore[misc]
        cached = (statement, str(compiled), dict(compiled.params), row_type)
        _COMPILED[key] = cached
    return cached[1], cached[2], cached[3]


def _held_connection(engine: Engine) -> Any:
    held = _HELD.held
    if held is not None and held[1] != os.getpid():
        _INHERITED.append(held[2])
        held = _HELD.held = None
    if held is not None and held[0] is not engine:
        _close_quietly(held[2])
        held = _HELD.held = None
    if held is None:
        pooled = engine.raw_connection()
        driver = pooled.driver_connection
        pooled.detach()  # this thread's for good: out of the pool's accounting
        driver.autocommit = True
        held = _HELD.held = (engine, os.getpid(), driver)
    return held[2]


def _close_quietly(driver: Any) -> None:
    with contextlib.suppress(Exception):  # a connection already broken has nothing left to close
        driver.close()


def _read_on_held_connection(engine: Engine, statement: Any, params: dict[str, Any]) -> list[Any] | None:
    """The rows, or None when the held connection failed (it is closed; the caller retries)."""
    sql, constants, row_type = _compiled(engine, statement)
    try:
        with _held_connection(engine).cursor() as cursor:
            cursor.execute(sql, {**constants, **params})
            return [row_type(*row) for row in cursor.fetchall()]
    except engine.dialect.loaded_dbapi.Error:
        held, _HELD.held = _HELD.held, None
        if held is not None:
            _close_quietly(held[2])
        return None


def read_outside_transaction(statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
    """All rows of one read-only statement outside a transaction (one round trip on PostgreSQL instead of
    BEGIN, the query and ROLLBACK): on this thread's held connection on PostgreSQL, else on a pooled
    one. Retried once, through the engine, if the connection was dropped."""
    if db.engine.dialect.name == "postgresql":
        rows = _read_on_held_connection(db.engine, statement, params)
        if rows is not None:
            return rows  # type: ignore[return-value]
    engine = _autocommit_engine()
    try:
        with engine.connect() as conn:
            return conn.execute(statement, params).all()
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as conn:  # the pool was invalidated: a fresh connection
        return conn.execute(statement, params).all()
