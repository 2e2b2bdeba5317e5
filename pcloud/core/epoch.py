"""A change mark that every process of one installation on this host reads without a round trip.

Why: a per-process cache (the session lookup's, auth.service) may only answer while nothing it holds
has changed anywhere. A database round trip to ask would cost what the cache saves, so the question is
asked of memory instead: an 8-byte value in a file of the instance directory, mapped by every process
(gunicorn workers, the job worker, the command line). A process that commits a write to a watched
table gives the value a new random content once the connection is back in the pool, that is after
the commit and before the request that wrote answers; a reader compares it with the value it saw
when it filled its cache. A torn read can only look like a change, never like no change.

The mark covers what goes through this host's processes of the installation. A change made around
them (psql, another host on the same database) is not marked: caches that rely on the mark must also
expire on their own (auth.service: a few seconds), or be turned off where several hosts share a
database.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

SIZE = 8
_DIRTY = "pcloud_marks_epoch"
# Statements that cannot write: a SELECT (FOR UPDATE included) and the session's own bookkeeping.
_READ_ONLY = frozenset({"SELECT", "PRAGMA", "EXPLAIN", "SHOW", "SET", "BEGIN", "SAVEPOINT", "RELEASE",
                        "ROLLBACK", "COMMIT", "VALUES"})
_WRITE_WORD = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE|TRUNCATE|ALTER|DROP)\b", re.IGNORECASE)


class SharedEpoch:
    """The 8-byte mark in `path`, created (mode 0600) by the first process that needs it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            if os.fstat(fd).st_size < SIZE:
                os.ftruncate(fd, SIZE)  # grows only: a second process racing here changes nothing
            self._map = mmap.mmap(fd, SIZE)  # MAP_SHARED: every process sees every write at once
        finally:
            os.close(fd)

    def current(self) -> bytes:
        return self._map[:SIZE]

    def advance(self) -> None:
        self._map[:SIZE] = os.urandom(SIZE)


def writes_to(statement: str, tables: re.Pattern[str]) -> bool:
    """Might `statement` change a row of one of `tables`? Errs on the side of yes."""
    text = statement.lstrip()
    first = text[:9].split(None, 1)[0].upper() if text else ""
    if first in _READ_ONLY:
        return False
    if first == "WITH" and not _WRITE_WORD.search(text):
        return False
    return bool(tables.search(text))


def watch_writes(engine: Engine, tables: Iterable[str], epoch: SharedEpoch) -> None:
    """Advance `epoch` each time a connection of `engine` that ran a statement writing to one of `tables`
    returns to the pool (after its commit or rollback) or is invalidated. Call once per engine."""
    names = re.compile(r"\b(?:" + "|".join(re.escape(t) for t in sorted(tables)) + r")\b", re.IGNORECASE)

    @event.listens_for(engine, "before_cursor_execute")
    def _mark(conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, _many: bool) -> None:
        if writes_to(statement, names):
            conn.info[_DIRTY] = True

    def _released(_dbapi_conn: Any, record: Any, *_rest: Any) -> None:
        if record is not None and record.info.pop(_DIRTY, False):
            epoch.advance()

    event.listen(engine, "checkin", _released)
    event.listen(engine, "invalidate", _released)
