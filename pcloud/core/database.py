"""Connections to the app's database: a liveness check only where it can matter, and read-only lookups
without a transaction.

Why not `pool_pre_ping`: it costs a round trip on every checkout, that is on every request, and on
PostgreSQL a request that only authenticates (the ID service) spent more time on the ping, BEGIN and
ROLLBACK than on its one query. Instead:

- a connection that sat idle in the pool longer than `PCLOUD_DB_PING_IDLE_SECONDS` is pinged when it
  is checked out (a database restarted while the process was quiet is noticed before a request uses a
  dead connection); a busy pool is not pinged, unless the server sent a connection something while it
  sat in the pool (a PostgreSQL restart closes every session: a `select` with no wait sees it, no round
  trip). This matters since the session lookup is cached (auth.service): the first statement a request
  runs after a restart may well be its view's, on a pooled connection;
- when a statement finds its connection dropped anyway (the database restarted under load), SQLAlchemy
  invalidates that connection and every older one in the pool, so that request fails alone (503) and
  the next ones connect afresh; `read_outside_transaction`, used for the per-request session lookup,
  retries once on a fresh connection, so the request that met the dead connection is served too.

The per-request lookup goes one step further: each thread keeps one driver connection of its own,
outside any transaction (PostgreSQL: autocommit; SQLite: no implicit BEGIN, so each SELECT reads the
newest commit), and runs the statement compiled once, with the column types' own bind and result
processors. A pool checkout, the reset on return and SQLAlchemy's execution machinery cost about three
times the query itself (PostgreSQL: 0.45 ms for connect + `SELECT 1` through the engine against 0.12 ms
on a held driver connection; SQLite: a whole OPEN-token request went from 0.33 to 0.22 ms in process),
and the ID service answers nothing else per request. The connection belongs to the process that opened
it (a forked child opens its own); any driver error closes it and the lookup is retried once through
the engine, whose errors the app turns into 503.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Executable, Row, event, exc

from pcloud.extensions import db

_IDLE_SINCE = "pcloud_idle_since"
_READERS = "pcloud.autocommit_engine"


def _server_has_spoken(dbapi_conn: Any) -> bool:
    """Has the server sent anything to a connection with no statement running? A PostgreSQL that shuts
    down or restarts tells every session it ends (or just closes the socket): the socket is then readable.
    One `select` with no wait, so no round trip; False where there is no socket (SQLite)."""
    fileno = getattr(dbapi_conn, "fileno", None)
    if fileno is None:
        return False
    try:
        readable, _, _ = select.select([fileno()], [], [], 0)
    except Exception:  # noqa: BLE001 - a connection closed already: ping it to find out
        return True
    return bool(readable)


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout only if it was idle longer than `idle_seconds`, or if the
    server has sent it something while it sat in the pool (a restart: see `_server_has_spoken`)."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None:
            return  # a new connection
        if time.monotonic() - since <= idle_seconds and not _server_has_spoken(dbapi_conn):
            return  # one in steady use
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out (or opens) another.
            raise exc.DisconnectionError(str(error)) from error


def autocommit_engine() -> Engine:
    """The app's engine and pool, with statements run outside a transaction (no BEGIN/ROLLBACK): for reads
    that need no snapshot across statements (the session lookup's fallback, the user page's two reads);
    each statement sees the committed rows, as in the session's READ COMMITTED."""
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


@dataclass(frozen=True)
class _Lookup:
    """One statement as the driver takes it: its SQL, how to turn named values into the driver's parameters
    (the types' bind processors applied, positional where the driver is), and how to turn a driver row into
    a named row (the types' result processors applied: SQLite returns datetimes as text)."""

    statement: Any
    sql: str
    names: tuple[str, ...]
    positional: bool
    constants: dict[str, Any]
    binders: dict[str, Callable[[Any], Any]]
    readers: tuple[Callable[[Any], Any] | None, ...]
    row_type: Any

    def parameters(self, values: dict[str, Any]) -> Any:
        merged = {**self.constants, **values}
        for name, bind in self.binders.items():
            merged[name] = bind(merged[name])
        return tuple(merged[n] for n in self.names) if self.positional else merged

    def row(self, raw: Sequence[Any]) -> Any:
        return self.row_type(*(v if read is None else read(v) for v, read in zip(raw, self.readers, strict=True)))


_COMPILED: dict[tuple[int, int], _Lookup] = {}


def _compiled(engine: Engine, statement: Any) -> _Lookup:
    """The statement compiled for this engine's driver, once."""
    dialect = engine.dialect
    key = (id(dialect), id(statement))
    cached = _COMPILED.get(key)
    if cached is None or cached.statement is not statement:
        compiled = statement.compile(dialect=dialect)
        binders = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                binders[name] = processor
        columns = list(statement.selected_columns)
        cached = _Lookup(
            statement=statement, sql=str(compiled), names=tuple(compiled.positiontup or ()),
            positional=bool(dialect.positional), constants=dict(compiled.params), binders=binders,
            readers=tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns),
            row_type=namedtuple("LookupRow", [c.key for c in columns]))  # type: ignore[misc]
        _COMPILED[key] = cached
    return cached


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
        if engine.dialect.name == "sqlite":
            driver.isolation_level = None  # a SELECT reads the newest commit; never a transaction left open
        else:
            driver.autocommit = True
        held = _HELD.held = (engine, os.getpid(), driver)
    return held[2]


def _close_quietly(driver: Any) -> None:
    with contextlib.suppress(Exception):  # a connection already broken has nothing left to close
        driver.close()


def _read_on_held_connection(engine: Engine, statement: Any, params: dict[str, Any]) -> list[Any] | None:
    """The rows, or None when the held connection failed (it is closed; the caller retries)."""
    lookup = _compiled(engine, statement)
    try:
        cursor = _held_connection(engine).cursor()
        try:
            cursor.execute(lookup.sql, lookup.parameters(params))
            return [lookup.row(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()
    except engine.dialect.loaded_dbapi.Error:
        held, _HELD.held = _HELD.held, None
        if held is not None:
            _close_quietly(held[2])
        return None


def read_outside_transaction(statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
    """All rows of one read-only statement outside a transaction (one round trip on PostgreSQL instead of
    BEGIN, the query and ROLLBACK), on this thread's held connection. Retried once, through the engine's
    pool, if that connection failed."""
    engine = db.engine
    rows = _read_on_held_connection(engine, statement, params)
    if rows is not None:
        return rows  # type: ignore[return-value]
    engine = autocommit_engine()
    try:
        with engine.connect() as conn:
            return conn.execute(statement, params).all()
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as conn:  # the pool was invalidated: a fresh connection
        return conn.execute(statement, params).all()
