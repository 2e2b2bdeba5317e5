"""One clock for every host: the database server's. Every host that shares the database stamps and compares
times (heartbeats, due fires, session and code expiry, sign-in locks) by the server's clock, read as an offset
from the host's own (`pcloud.core.timefmt.utcnow` adds it)."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import Engine, exc, text

log = logging.getLogger(__name__)


class DatabaseClock:
    """How far the database server's clock is ahead of this host's. Every host stamps and compares times
    (heartbeats, due fires, session and code expiry, sign-in locks) by the server's clock, so a host whose
    own clock is off does not see its peers' heartbeats as old, fire early or late, or end sessions early
    (the multi-host review: a worker 45 s behind was listed dead by every other host). Measured on a pooled
    connection at the first look and again after `CHECK_SECONDS` (a host's clock drifts or is stepped by
    NTP), as the midpoint of the round trip; an offset under TOLERANCE_SECONDS is taken as none."""

    CHECK_SECONDS = 60.0
    TOLERANCE_SECONDS = 1.0  # an offset below this is taken as none
    RETRY_SECONDS = 5.0  # after a failed measure (the database down): not asked on every call meanwhile

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.offset = timedelta(0)
        self._check_at = 0.0  # monotonic; 0: never measured
        self._measuring = threading.Lock()
        self._pid = os.getpid()

    def current_offset(self) -> timedelta:
        if time.monotonic() < self._check_at:
            return self.offset
        if self._pid != os.getpid():  # a forked child: a lock held by a thread of the parent stays held here
            self._measuring, self._pid = threading.Lock(), os.getpid()
        # the first measure is awaited by every thread; later, the last offset holds while one thread measures
        if self._measuring.acquire(blocking=self._check_at == 0.0):
            try:
                if time.monotonic() >= self._check_at:  # not measured meanwhile by the thread awaited
                    self._measure()
            finally:
                self._measuring.release()
        return self.offset

    def _measure(self) -> None:
        try:
            with self.engine.connect() as conn:
                before = datetime.now(UTC)
                server = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
                after = datetime.now(UTC)
        except exc.SQLAlchemyError:
            log.warning("cannot read the database's clock; this host's clock is used meanwhile", exc_info=True)
            self._check_at = time.monotonic() + self.RETRY_SECONDS
            return
        measured = server - (before + (after - before) / 2)
        # Within the tolerance the host's own clock is kept: the measure is only as exact as half a round trip,
        # and hosts that agree (one machine, NTP) must keep the order of what their processes stamp.
        self.offset = measured if abs(measured.total_seconds()) >= self.TOLERANCE_SECONDS else timedelta(0)
        _last_offset[0] = self.offset
        self._check_at = time.monotonic() + self.CHECK_SECONDS


_CLOCK = "pcloud.database_clock"
_last_offset = [timedelta(0)]  # this process's last measure: for times taken outside an app context


def database_clock_offset() -> timedelta:
    """What to add to this host's clock to read the database server's (zero on SQLite: one host, one clock)."""
    if not has_app_context():
        return _last_offset[0]
    engine = current_app.extensions["sqlalchemy"].engine
    if engine.dialect.name == "sqlite":
        return timedelta(0)
    clock = current_app.extensions.get(_CLOCK)
    if clock is None or clock.engine is not engine:
        clock = current_app.extensions[_CLOCK] = DatabaseClock(engine)
    return clock.current_offset()
