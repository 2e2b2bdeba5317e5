"""Connections to the app's database: a liveness check only where it can matter, read-only lookups
without a transaction, and the database's own signal that watched tables changed (`change_signal`).

Why not `pool_pre_ping`: it costs a round trip on every checkout, that is on every request. Instead:

- a connection that sat idle in the pool longer than `PCLOUD_DB_PING_IDLE_SECONDS` is pinged when it
  is checked out (a database restarted while the process was quiet is noticed before a request uses a
  dead connection); a busy pool is not pinged, unless the server sent a connection something while it
  sat in the pool (a PostgreSQL restart closes every session: a `select` with no wait sees it, no round
  trip);
- when a statement finds its connection dropped anyway (the database restarted under load), SQLAlchemy
  invalidates that connection and every older one in the pool, so that request fails alone (503) and
  the next ones connect afresh; `read_outside_transaction`, used for the per-request principal lookup,
  retries once on a fresh connection, so the request that met the dead connection is served too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from flask import has_request_context, request
from sqlalchemy import Engine, Executable, Row, event, exc, text

from pcloud.extensions import db

log = logging.getLogger(__name__)
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
    that need no snapshot across statements (the principal lookup, the user page's two reads);
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


def read_outside_transaction(statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
    """All rows of one read-only statement outside a transaction (`autocommit_engine`: on PostgreSQL one
    round trip instead of BEGIN, the query and ROLLBACK). Retried once on a fresh connection if the one it
    met had been dropped by the database (a restart): SQLAlchemy has then invalidated the pool."""
    engine = autocommit_engine()
    try:
        with engine.connect() as conn:
            return conn.execute(statement, params).all()
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as conn:
        return conn.execute(statement, params).all()


# ---------------------------------------------------------------------------------------------
# Telling a process that rows it keeps in memory have changed, by the database itself


def write_lock_first() -> None:
    """Before the reads that decide a write, on SQLite: the write lock (BEGIN IMMEDIATE; a transaction already
    writing holds it), so those reads see every committed change and no other writer comes between them and the
    write. PostgreSQL needs nothing here: its callers lock the rows they read (SELECT ... FOR UPDATE/SHARE)."""
    conn = db.session.connection()
    if conn.dialect.name == "sqlite" and not conn.connection.driver_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def live_row(model: Any, row_id: int, *, for_update: bool = False) -> Any:
    """The live row (SoftDeleteMixin) of this id, or None. `for_update`: locked until the commit (SELECT ...
    FOR UPDATE; on SQLite the write lock, taken first), so a write that decides on it (a delete counting the
    row's users) and one that uses it (a user being put in it) run one after the other."""
    stmt = model.live().where(model.id == row_id)
    if for_update:
        write_lock_first()
        stmt = stmt.with_for_update()
    return db.session.execute(stmt).scalar_one_or_none()


def lost_a_race(error: BaseException) -> bool:
    """PostgreSQL ended the transaction to let a concurrent one through (a deadlock, a serialization failure):
    the database is up, the request lost a race, as with a unique key."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) in ("40P01", "40001")


@contextlib.contextmanager
def taken_meanwhile(check: Callable[[], object]) -> Iterator[None]:
    """The writes after a uniqueness check (a name, a code, a phone). A concurrent request that took the value
    between the check and the write trips the unique index wherever SQLAlchemy writes: an autoflush before a
    later query, a flush for a new id, the commit. Then the same check, asked again after the rollback, raises
    its own refusal (409 and its message, as for a value taken earlier); a violation it does not explain goes
    on as it was (the generic lost race)."""
    try:
        yield
    except exc.IntegrityError:
        db.session.rollback()
        check()
        raise


def serialise(key: int, *names: str) -> None:
    """One transaction at a time per (key, name), held until it ends, on every host: PostgreSQL's
    transaction-scoped advisory locks, taken in the order given (READ COMMITTED: what is read after them sees
    the commit of whoever held them first); SQLite: the write lock, taken up front (BEGIN IMMEDIATE), which
    serialises every writer. `key`: a constant of the caller's own (four ASCII letters), `names` what it is
    per (a phone, a table); none: the key alone."""
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        write_lock_first()
    elif not names:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        for name in names:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key, hashtext(:name))"), {"key": key, "name": name})


def lock_for_update(record: Any) -> None:
    """Read `record` again as committed now and keep it so until this transaction ends (SELECT ... FOR UPDATE;
    on SQLite the write lock first): another writer of the row waits, then reads what this one wrote."""
    write_lock_first()
    # OF its own table: a record loaded with its relationships joined cannot lock their outer-joined rows
    db.session.refresh(record, with_for_update={"of": type(record)})


class ChangeSignal:
    """A value that moves whenever the database tells this process that a watched table has changed,
    whoever changed it (another process, another host, psql). None: the process cannot tell right now, so
    nothing it keeps may be trusted. Only its moving is meaningful: keep what was read with the value
    taken before the read, and trust it while the value is the same."""

    def current(self) -> object | None:
        raise NotImplementedError

    def heard(self) -> object | None:
        """`current` without asking the server where asking is a round trip: what this process has heard so
        far, a change still on its way is heard at a later look. For a loop that looks many times a second and
        asks (`current`) now and then."""
        return self.current()

    def close(self) -> None:
        """Let go of the connection (and the engine events) the signal holds."""


class _InheritedConnections:
    # Connections a forked child inherited from its parent: never used nor closed there (closing one
    # would end the parent's session on the shared socket, or drop SQLite's file locks), kept from the
    # garbage collector.
    kept: list[Any] = []


LISTENER_NAME = "pcloud listener"  # the application_name of the listening connections


class PostgresNotifications(ChangeSignal):
    """LISTEN `channel` on a connection of this process's own. Triggers NOTIFY it when a watched table
    changes; PostgreSQL queues the notification as the writing transaction commits and each listening session
    sends it to its process some time after (a few milliseconds under load, often after the writer has heard
    its COMMIT answered and told its client). So a look asks the server: a round trip on the listening
    connection, whose answer comes after every notification committed before it was asked. Once per request:
    later looks of the same request reuse what the first one heard, and a request sees the state as of its
    start (its own writes count at once, below). Outside a request (a job worker, the CLI) every look asks.

    The value is (connection number, notifications seen, this process's own committed writes); a lost
    connection gives None (retried after `RETRY_SECONDS`) and a new connection number after, so nothing read
    before the loss is trusted."""

    RETRY_SECONDS = 1.0

    def __init__(self, url: str, channel: str, engine: Engine | None = None) -> None:
        self._url = url
        self._channel = channel
        self._lock = threading.Lock()
        self._conn: Any = None
        self._pid = 0
        self._connections = 0
        self._seen = 0
        self._own_commits = 0
        self._retry_at = 0.0
        # Each signal keeps its own flag on the connection: two signals on one engine (the principal's, the
        # settings') each see every write, rather than the first listener taking the flag from the other.
        self._wrote = ("pcloud_wrote", id(self))
        self._engine = engine
        if engine is not None:
            # This process's own writes count the moment they commit, not when their notification comes
            # back (it travels asynchronously, and the next request of this process may come first).
            for name, handler in self._engine_events():
                event.listen(engine, name, handler)

    def _engine_events(self) -> list[tuple[str, Callable[..., None]]]:
        return [("after_cursor_execute", self._note_write), ("commit", self._note_commit),
                ("rollback", self._forget_write)]

    def _note_write(self, conn: Any, _cursor: Any, _statement: str, _parameters: Any, context: Any,
                    _executemany: bool) -> None:
        if context.isinsert or context.isupdate or context.isdelete:
            conn.info[self._wrote] = True

    def _note_commit(self, conn: Any) -> None:
        if conn.info.pop(self._wrote, False):
            with self._lock:
                self._own_commits += 1

    def _forget_write(self, conn: Any) -> None:
        # an invalidated connection (dropped by the server, or by its user) is rolled back as it is closed: its
        # info goes with it, and reading it there raised, so the close failed instead of the statement
        if not conn.invalidated:
            conn.info.pop(self._wrote, None)

    def current(self) -> object | None:
        return self._look(ask=True)

    def heard(self) -> object | None:
        return self._look(ask=False)

    def _look(self, ask: bool) -> object | None:
        import psycopg

        with self._lock:
            try:
                conn = self._listening()
                if conn is None:
                    return None
                if not ask:
                    for _ in conn.notifies(timeout=0):  # read from the socket, nothing asked
                        self._seen += 1
                elif not self._asked_in_this_request():
                    # the multi-host review: what was only on the socket missed a change another host had
                    # already answered for; a connection the server ended fails here too
                    conn.execute("SELECT 1")
                    for _ in conn.notifies(timeout=0):  # the ones that came with the answer
                        self._seen += 1
            except psycopg.Error:
                log.warning("not listening for %s; reading every time until it is back", self._channel,
                            exc_info=True)
                self._drop()
                return None
            return (self._connections, self._seen, self._own_commits)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid != os.getpid():
                _InheritedConnections.kept.append(self._conn)
                self._conn = None
            self._drop()
        if self._engine is not None:
            for name, handler in self._engine_events():
                if event.contains(self._engine, name, handler):
                    event.remove(self._engine, name, handler)

    def _asked_in_this_request(self) -> bool:
        if not has_request_context():
            return False
        asked = request.environ.setdefault("pcloud.change_signals_asked", set())
        if id(self) in asked:
            return True
        asked.add(id(self))
        return False

    def _listening(self) -> Any:
        import psycopg
        from psycopg import sql

        if self._conn is not None and self._pid != os.getpid():
            _InheritedConnections.kept.append(self._conn)
            self._conn = None
        if self._conn is None:
            if time.monotonic() < self._retry_at:
                return None
            self._retry_at = time.monotonic() + self.RETRY_SECONDS  # a database down is not asked per request
            # named, so that an operator (and a test) tells it from the pool's in pg_stat_activity
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5,
                                   application_name=f"{LISTENER_NAME} {self._channel}")
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            for _ in conn.notifies(timeout=0):  # any that came with the answer: before anything is read
                pass
            self._conn, self._pid = conn, os.getpid()
            self._connections += 1
        return self._conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # broken already: nothing left to close
                conn.close()


class SqliteDataVersion(ChangeSignal):
    """SQLite is one host: `PRAGMA data_version` on a connection of this process's own moves whenever any
    other connection (of any process) commits to the file. Any table: a write anywhere counts."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._conn: Any = None
        self._pid = 0

    def current(self) -> object | None:
        with self._lock:
            if self._conn is not None and self._pid != os.getpid():
                _InheritedConnections.kept.append(self._conn)
                self._conn = None
            try:
                if self._conn is None:
                    self._conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
                    self._pid = os.getpid()
                return (id(self._conn), self._conn.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error:
                log.warning("cannot read the data version of %s", self._path, exc_info=True)
                conn, self._conn = self._conn, None
                if conn is not None:
                    conn.close()
                return None

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                if self._pid == os.getpid():
                    conn.close()
                else:
                    _InheritedConnections.kept.append(conn)


def change_signal(engine: Engine, channel: str) -> ChangeSignal | None:
    """The engine's database's own change signal: NOTIFY on `channel` (PostgreSQL; the triggers that send
    it are in the migrations), the data version (an SQLite file). None where there is none (in memory)."""
    url = engine.url
    if engine.dialect.name == "postgresql":
        return PostgresNotifications(url.set(drivername="postgresql").render_as_string(hide_password=False), channel,
                                     engine)
    if engine.dialect.name == "sqlite" and url.database and url.database != ":memory:":
        return SqliteDataVersion(url.database)
    return None
