"""The ID allocator (ARCHITECTURE.md, "The ID allocator"): Leaf-style segments with two buffers per tag.

A process takes a range with one short transaction on a connection of its own engine:

    UPDATE sys_segment SET max_id = max_id + :step
    WHERE biz_tag = :tag AND max_id <= :ceiling          -- ceiling = 2^63-1 - step: never past BIGINT
    RETURNING max_id, step

(SQLite: inside BEGIN IMMEDIATE, so two processes serialise on the write lock; PostgreSQL: READ
COMMITTED, the row lock does the same). It then hands out `[max_id - step, max_id)` from memory. Each
range is only ever given to one caller, so ids are unique across processes and machines sharing the
database; within one process they increase, because ranges are taken one at a time and each lies above
the previous one. A restart loses at most the unused rest of two ranges and never reissues an id.

Per tag: the current buffer and the next one. Once 10% of the current is used, one background thread
loads the next (one load at a time per tag; the flag is reset in `finally`). The step adapts in memory:
a range used up within 15 minutes doubles the next one (up to `max_step`), one that lasted over 30
minutes halves it (never below the stored step); a changed stored step is picked up on the next load.
With the database down, buffered ids are still served; once they are gone a caller waits at most
`wait_seconds` and gets `Unavailable` (503).

The class knows nothing of Flask: a second independent engine (tests, scripts) is just another instance.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from pcloud.core.errors import Conflict, NotFound, Unavailable
from pcloud.core.messages import N_
from pcloud.core.timefmt import utcnow
from pcloud.segments.models import MAX_ID_LIMIT, MAX_STEP

log = logging.getLogger(__name__)

PRELOAD_AT = 0.10  # share of the current range used before the next one is fetched
PRELOAD_RETRY_SECONDS = 0.5
FAST_SECONDS = 15 * 60
SLOW_SECONDS = 30 * 60
# Said in the caller's language ({tag} filled after translation); a preload thread, outside a request, says
# them in the deployment's default language.
EXHAUSTED = N_("号段「{tag}」的 ID 已用尽（已达 2^63-1），无法再分配")
UNKNOWN = N_("号段「{tag}」不存在")
DOWN = N_("ID 服务暂不可用：数据库无法访问，且本进程已无缓存的号段，请稍后重试")

_GRAB = text("UPDATE sys_segment SET max_id = max_id + :step WHERE biz_tag = :tag AND max_id <= :ceiling "
             "RETURNING max_id, step")
# First load of a tag in this process: the stored step is the step.
_GRAB_STORED = text(f"UPDATE sys_segment SET max_id = max_id + step WHERE biz_tag = :tag "
                    f"AND max_id <= {MAX_ID_LIMIT} - step RETURNING max_id, step")
_READ = text("SELECT max_id, step FROM sys_segment WHERE biz_tag = :tag")


@dataclass(slots=True)
class Buffer:
    start: int  # first id of the range
    end: int  # one past the last id
    pos: int  # next id to hand out
    step: int
    loaded_at: datetime
    preload_at: int = 0  # once `pos` reaches this (10% used), the next range is fetched

    def __post_init__(self) -> None:
        self.preload_at = self.start + max(1, int((self.end - self.start) * PRELOAD_AT))

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def as_dict(self) -> dict[str, Any]:
        return {"start": str(self.start), "end": str(self.end - 1), "position": str(self.pos),
                "remaining": self.remaining, "used": self.pos - self.start, "step": self.step,
                "loaded_at": self.loaded_at}


@dataclass
class TagState:
    tag: str
    # A plain lock for the hot path, and a condition on the same lock for callers waiting for a load.
    lock: threading.Lock = field(default_factory=threading.Lock)
    cond: threading.Condition = field(init=False)
    current: Buffer | None = None
    next: Buffer | None = None
    loading: bool = False
    load_round: int = 0  # bumped after every load attempt, so waiters know theirs finished
    step: int | None = None  # adaptive step for the next load (None: use the stored one)
    stored_step: int | None = None
    last_load_mono: float | None = None
    last_load_at: datetime | None = None
    last_error: str | None = None
    last_error_kind: str | None = None  # "down" (database) or "rule" (unknown tag, exhausted)
    retry_preload_at: float = 0.0  # after a failed preload, the next one waits a little
    loads: int = 0

    def __post_init__(self) -> None:
        self.cond = threading.Condition(self.lock)


_ALLOCATORS: weakref.WeakSet[Allocator] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for allocator in list(_ALLOCATORS):
        allocator._after_fork()


os.register_at_fork(after_in_child=_reset_after_fork)


class Allocator:
    def __init__(self, url: str, *, wait_seconds: float = 3.0, max_step: int = MAX_STEP,
                 db_timeout_seconds: float = 2.0, engine: Engine | None = None):
        self.url = url
        self.wait_seconds = wait_seconds
        self.max_step = max_step
        self.db_timeout = db_timeout_seconds
        self._engine = engine
        self._own_engine = engine is None
        self._states: dict[str, TagState] = {}
        self._states_lock = threading.Lock()
        _ALLOCATORS.add(self)

    # -----------------------------------------------------------------------------------------
    # Database

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def _make_engine(self) -> Engine:
        if self.url.startswith("sqlite"):
            engine = create_engine(self.url, pool_size=2, max_overflow=4,
                                   connect_args={"timeout": self.db_timeout, "check_same_thread": False})
            busy_ms = int(self.db_timeout * 1000)

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute(f"PRAGMA busy_timeout={busy_ms}")  # bounded: a locked database is "down"
                cur.close()

            return engine
        timeout_ms = int(self.db_timeout * 1000)
        return create_engine(self.url, pool_size=2, max_overflow=4, pool_pre_ping=True,
                             connect_args={"connect_timeout": max(1, int(self.db_timeout + 0.999)),
                                           "options": f"-c statement_timeout={timeout_ms} "
                                                      f"-c lock_timeout={timeout_ms}"})

    def dispose(self) -> None:
        if self._engine is not None and self._own_engine:
            self._engine.dispose()
            self._engine = None

    def grab(self, tag: str, step: int | None) -> tuple[int, int, int]:
        """Take one range in its own short transaction: (end exclusive, size, stored step)."""
        with self.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            try:
                if sqlite:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                if step is None:
                    row = conn.execute(_GRAB_STORED, {"tag": tag}).first()
                else:
                    row = conn.execute(_GRAB, {"tag": tag, "step": step, "ceiling": MAX_ID_LIMIT - step}).first()
                if row is not None:
                    conn.commit()
                    return int(row[0]), (int(row[1]) if step is None else step), int(row[1])
                current = conn.execute(_READ, {"tag": tag}).first()
                if current is None:
                    conn.rollback()
                    raise NotFound(gettext(UNKNOWN).format(tag=tag))
                rest = MAX_ID_LIMIT - int(current[0])
                if rest < 1:
                    conn.rollback()
                    raise Conflict(gettext(EXHAUSTED).format(tag=tag))
                # Less than a step is left below 2^63-1: hand out exactly what remains.
                row = conn.execute(_GRAB, {"tag": tag, "step": rest, "ceiling": MAX_ID_LIMIT - rest}).first()
                conn.commit()
                if row is None:  # another process took it meanwhile
                    raise Conflict(gettext(EXHAUSTED).format(tag=tag))
                return int(row[0]), rest, int(row[1])
            except BaseException:
                conn.rollback()
                raise

    # -----------------------------------------------------------------------------------------
    # Buffers

    def _state(self, tag: str) -> TagState:
        state = self._states.get(tag)
        if state is None:
            with self._states_lock:
                state = self._states.setdefault(tag, TagState(tag))
        return state

    def _after_fork(self) -> None:
        """In a forked child: the parent's buffers and connections are not ours."""
        self._states = {}
        self._states_lock = threading.Lock()
        if self._engine is not None and self._own_engine:
            self._engine.dispose(close=False)

    def _next_step(self, st: TagState) -> int | None:
        if st.step is None or st.last_load_mono is None:
            return st.step
        elapsed = time.monotonic() - st.last_load_mono
        ceiling = max(self.max_step, st.stored_step or 1)
        if elapsed < FAST_SECONDS:
            return min(st.step * 2, ceiling)
        if elapsed > SLOW_SECONDS:
            return max(st.step // 2, st.stored_step or 1)
        return st.step

    def _load(self, st: TagState) -> Buffer:
        """One range from the database (called without the tag's lock, with `loading` set by the caller)."""
        with st.cond:
            step = self._next_step(st)
        end, size, stored = self.grab(st.tag, step)
        buf = Buffer(start=end - size, end=end, pos=end - size, step=size, loaded_at=utcnow())
        with st.cond:
            if st.stored_step is not None and stored != st.stored_step:
                st.step = stored  # an administrator changed the step: start again from it
            else:
                st.step = size if step is None else step
            st.stored_step = stored
            st.last_load_mono = time.monotonic()
            st.last_load_at = buf.loaded_at
            st.loads += 1
        return buf

    def _background_load(self, st: TagState) -> None:
        buf = None
        error: BaseException | None = None
        try:
            buf = self._load(st)
        except Exception as exc:  # noqa: BLE001 - a background thread must never die silently
            error = exc
            log.warning("segment %s: preload failed: %s", st.tag, _describe(exc))
        finally:
            with st.cond:
                if buf is not None:
                    st.next = buf
                _note_outcome(st, error)
                st.loading = False
                st.load_round += 1
                st.cond.notify_all()

    def _maybe_preload(self, st: TagState) -> None:
        """Under the tag's lock: start loading the next range once 10% of the current is used."""
        cur = st.current
        if st.next is not None or st.loading or cur is None:
            return
        if cur.pos < cur.preload_at and cur.remaining > 0:
            return
        if st.retry_preload_at and time.monotonic() < st.retry_preload_at:
            return  # the database just failed: callers keep using the buffer instead of piling up retries
        st.loading = True
        threading.Thread(target=self._background_load, args=(st,), name=f"segment-preload-{st.tag}",
                         daemon=True).start()

    def next_id(self, tag: str) -> int:
        """One new id: straight from the current buffer under the tag's lock when it has one."""
        st = self._states.get(tag)
        if st is not None:
            with st.lock:
                cur = st.current
                if cur is not None:
                    pos = cur.pos
                    if pos < cur.end:
                        cur.pos = pos + 1
                        if pos >= cur.preload_at and st.next is None and not st.loading:
                            self._maybe_preload(st)
                        return pos
        return self.take(tag, 1)[0]

    def take(self, tag: str, count: int = 1) -> list[int]:
        """`count` new ids of `tag`, ascending. NotFound, Conflict (exhausted) or Unavailable (503)."""
        st = self._state(tag)
        out: list[int] = []
        deadline = time.monotonic() + self.wait_seconds
        with st.cond:
            while len(out) < count:
                cur = st.current
                if cur is not None and cur.remaining > 0:
                    k = min(count - len(out), cur.remaining)
                    out.extend(range(cur.pos, cur.pos + k))
                    cur.pos += k
                    self._maybe_preload(st)
                    continue
                if st.next is not None:
                    st.current, st.next = st.next, None
                    self._maybe_preload(st)
                    continue
                left = deadline - time.monotonic()
                if st.loading:  # someone is fetching a range: wait for it, bounded
                    round_seen = st.load_round
                    if left <= 0 or not st.cond.wait_for(lambda r=round_seen: st.load_round != r, timeout=left):
                        raise Unavailable(gettext(DOWN))
                    empty = st.next is None and (st.current is None or st.current.remaining == 0)
                    if empty and st.last_error_kind == "down":
                        raise Unavailable(gettext(DOWN))
                    continue
                if left <= 0:
                    raise Unavailable(gettext(DOWN))
                self._load_now(st)
        return out

    def _load_now(self, st: TagState) -> None:
        """Under the tag's lock, with nothing buffered: load a range ourselves, the lock released meanwhile."""
        st.loading = True
        st.cond.release()
        buf = None
        error: BaseException | None = None
        try:
            buf = self._load(st)
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after the flag is reset
            error = exc
        finally:
            st.cond.acquire()
            st.loading = False
            st.load_round += 1
            if buf is not None:
                st.current = buf
            _note_outcome(st, error)
            st.cond.notify_all()
        if isinstance(error, NotFound) and st.loads == 0:
            self._drop_if_unused(st)
        if isinstance(error, DBAPIError):
            log.warning("segment %s: database unavailable: %s", st.tag, _describe(error))
            raise Unavailable(gettext(DOWN)) from error
        if error is not None:
            raise error

    def _drop_if_unused(self, st: TagState) -> None:
        """Under the tag's lock: a tag that does not exist (never loaded, nothing buffered) keeps no entry, so
        looking up made-up tags never grows the process's memory. Callers still waiting on this state
        retry and find the tag (or its absence) in the database."""
        if st.current is None and st.next is None and not st.loading:
            with self._states_lock:
                if self._states.get(st.tag) is st:
                    del self._states[st.tag]

    # -----------------------------------------------------------------------------------------
    # Monitor

    def forget(self, tag: str) -> None:
        """Drop a tag's buffers in this process (tests; an administrator's reset)."""
        with self._states_lock:
            self._states.pop(tag, None)

    def state(self, tag: str) -> dict[str, Any] | None:
        st = self._states.get(tag)
        return None if st is None else _state_dict(st)

    def states(self) -> list[dict[str, Any]]:
        return [_state_dict(st) for st in sorted(self._states.values(), key=lambda s: s.tag)]


def _state_dict(st: TagState) -> dict[str, Any]:
    with st.cond:
        return {"biz_tag": st.tag, "pid": os.getpid(),
                "current": st.current.as_dict() if st.current else None,
                "next": st.next.as_dict() if st.next else None,
                "next_ready": st.next is not None, "loading": st.loading,
                "step": st.step, "stored_step": st.stored_step, "loads": st.loads,
                "last_load_time": st.last_load_at, "last_error": st.last_error}


def _note_outcome(st: TagState, error: BaseException | None) -> None:
    st.retry_preload_at = 0.0 if error is None else time.monotonic() + PRELOAD_RETRY_SECONDS
    st.last_error = None if error is None else _describe(error)
    st.last_error_kind = None if error is None else ("down" if isinstance(error, DBAPIError) else "rule")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError):
        return gettext("数据库不可用：%(error)s", error=type(exc.orig).__name__ if exc.orig else type(exc).__name__)
    return getattr(exc, "msg", None) or str(exc) or type(exc).__name__


