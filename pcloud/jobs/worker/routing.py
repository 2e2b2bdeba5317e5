"""The ten route strategies of XXL-JOB, as functions over the executor's live nodes.

A scheduler routes each fire to one node (or, for SHARDING_BROADCAST, one run per node). The node
list is the executor's live nodes sorted by name, so that FIRST and LAST mean the same in every
scheduler. ROUND, LEAST_FREQUENTLY_USED and LEAST_RECENTLY_USED decide from a memory: the worker
passes ``SharedRouteState``, their counters in the database (``job_route_state``) read and written in
the principal's transaction, so every scheduler continues the same count (issue 23, 5); ``RouteState``
is the same memory in one process (unit tests, a single scheduler).
"""

from __future__ import annotations

import bisect
import hashlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

STRATEGIES = ("FIRST", "LAST", "ROUND", "RANDOM", "CONSISTENT_HASH", "LEAST_FREQUENTLY_USED",
              "LEAST_RECENTLY_USED", "FAILOVER", "BUSYOVER", "SHARDING_BROADCAST")

VIRTUAL_NODES = 100  # points per node on the hash ring, so jobs spread evenly
LFU_RESET_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Node:
    """A live node: its name and seconds since its last heartbeat."""

    name: str
    heartbeat_age: float = 0.0


@dataclass(frozen=True)
class Assignment:
    node: str
    shard_index: int = 0
    shard_total: int = 1


class RouteMemory(Protocol):
    """What ROUND, LFU and LRU remember between fires."""

    rng: random.Random

    def next_round(self, job_id: int) -> int:
        """The job's ROUND counter before this fire (then counted up)."""

    def least_frequent(self, job_id: int, names: Sequence[str]) -> str:
        """The node of `names` used least by the job (ties: by name), counted as used now."""

    def least_recent(self, job_id: int, names: Sequence[str]) -> str:
        """The node of `names` the job used longest ago (never used first; ties: by name), marked used now."""


@dataclass
class RouteState:
    """ROUND, LFU and LRU remembered in one process, keyed by job id."""

    round: dict[int, int] = field(default_factory=dict)
    lfu: dict[int, dict[str, int]] = field(default_factory=dict)
    lfu_reset_at: float = field(default_factory=time.monotonic)
    lru: dict[int, dict[str, int]] = field(default_factory=dict)
    tick: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next_round(self, job_id: int) -> int:
        count = self.round.get(job_id)
        if count is None:  # start at a random place so that many schedulers do not all pick node 0 first
            count = self.rng.randrange(100)
        self.round[job_id] = count + 1
        return count

    def least_frequent(self, job_id: int, names: Sequence[str]) -> str:
        if time.monotonic() - self.lfu_reset_at > LFU_RESET_SECONDS:
            self.lfu.clear()
            self.lfu_reset_at = time.monotonic()
        counts = self.lfu.setdefault(job_id, {})
        for gone in set(counts) - set(names):
            del counts[gone]
        chosen = min(names, key=lambda n: (counts.get(n, 0), n))
        counts[chosen] = counts.get(chosen, 0) + 1
        return chosen

    def least_recent(self, job_id: int, names: Sequence[str]) -> str:
        used = self.lru.setdefault(job_id, {})
        for gone in set(used) - set(names):
            del used[gone]
        chosen = min(names, key=lambda n: (used.get(n, -1), n))
        self.tick += 1
        used[chosen] = self.tick
        return chosen


# pg_advisory_xact_lock(ROUTE_LOCK, job id): one LFU/LRU decision per job at a time ("jobr" in ASCII)
ROUTE_LOCK = 0x6A6F6272


class SharedRouteState:
    """ROUND, LFU and LRU over every scheduler: the counters of ``job_route_state``, in `conn`'s transaction.

    ROUND is one atomic upsert (count up and read back in one statement). LFU and LRU read the job's rows,
    choose, and write the choice under a per-job lock held to the end of the transaction: a transaction-scoped
    advisory lock on PostgreSQL; on SQLite the calling transaction holds the write lock (BEGIN IMMEDIATE).
    """

    def __init__(self, conn: Any, rng: random.Random | None = None):
        from pcloud.jobs.models import ROUND_ROW, JobRouteState

        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.table = JobRouteState.__table__
        self.round_row = ROUND_ROW
        self.rng = rng or random.Random()

    def _upsert(self) -> Any:
        if self.pg:
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(self.table)

    def _lock(self, job_id: int) -> None:
        if self.pg:
            from sqlalchemy import text

            self.conn.execute(text("SELECT pg_advisory_xact_lock(:k, :j)"), {"k": ROUTE_LOCK, "j": job_id})

    def next_round(self, job_id: int) -> int:
        from pcloud.core.timefmt import utcnow

        t = self.table
        # a job's first fire starts at a random place, so that many jobs do not all begin with node 0
        stmt = self._upsert().values(job_id=job_id, node=self.round_row, use_count=self.rng.randrange(100) + 1,
                                     used_seq=0, counted_since=utcnow())
        stmt = stmt.on_conflict_do_update(index_elements=[t.c.job_id, t.c.node],
                                          set_={"use_count": t.c.use_count + 1}).returning(t.c.use_count)
        return int(self.conn.execute(stmt).scalar_one()) - 1

    def _rows(self, job_id: int, names: Sequence[str]) -> dict[str, Any]:
        from sqlalchemy import select

        t = self.table
        self._lock(job_id)
        return {r.node: r for r in self.conn.execute(select(t.c.node, t.c.use_count, t.c.used_seq, t.c.counted_since)
                                                     .where(t.c.job_id == job_id, t.c.node.in_(list(names))))}

    def _count_use(self, job_id: int, node: str, count: int, seq: int, since: Any) -> None:
        t = self.table
        stmt = self._upsert().values(job_id=job_id, node=node, use_count=count, used_seq=seq, counted_since=since)
        self.conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.job_id, t.c.node], set_={
            "use_count": stmt.excluded.use_count, "used_seq": stmt.excluded.used_seq,
            "counted_since": stmt.excluded.counted_since}))

    def least_frequent(self, job_id: int, names: Sequence[str]) -> str:
        from datetime import timedelta

        from pcloud.core.timefmt import utcnow

        now = utcnow()
        fresh_since = now - timedelta(seconds=LFU_RESET_SECONDS)  # counts older than a day start again
        rows = self._rows(job_id, names)

        def count(name: str) -> int:
            row = rows.get(name)
            return row.use_count if row is not None and row.counted_since >= fresh_since else 0

        chosen = min(names, key=lambda n: (count(n), n))
        row = rows.get(chosen)
        fresh = row is not None and row.counted_since >= fresh_since
        self._count_use(job_id, chosen, count(chosen) + 1, row.used_seq if row else 0,
                        row.counted_since if fresh else now)
        return chosen

    def least_recent(self, job_id: int, names: Sequence[str]) -> str:
        from sqlalchemy import func, select

        from pcloud.core.timefmt import utcnow

        rows = self._rows(job_id, names)
        chosen = min(names, key=lambda n: (rows[n].used_seq if n in rows else -1, n))
        t = self.table
        top = self.conn.execute(select(func.max(t.c.used_seq)).where(t.c.job_id == job_id)).scalar() or 0
        row = rows.get(chosen)
        self._count_use(job_id, chosen, row.use_count if row else 0, top + 1, row.counted_since if row else utcnow())
        return chosen


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.md5(key.encode(), usedforsecurity=False).digest()[:8], "big")


def consistent_hash(job_id: int, names: Sequence[str]) -> str:
    """The node owning the job's point on a ring of VIRTUAL_NODES points per node: adding or removing
    a node moves only the jobs that node gains or loses."""
    ring = sorted((_hash(f"SHARD-{name}-NODE-{i}"), name) for name in names for i in range(VIRTUAL_NODES))
    keys = [k for k, _ in ring]
    at = bisect.bisect_left(keys, _hash(str(job_id)))
    return ring[at % len(ring)][1]


def route(strategy: str, job_id: int, nodes: Sequence[Node], state: RouteMemory,
          is_busy: Callable[[str], bool] | None = None, suspect_after: float = 15.0) -> list[Assignment]:
    """The node(s) a fire of `job_id` goes to; [] when no node is live (the run fails to route).

    FAILOVER takes the first node whose heartbeat is fresh (younger than `suspect_after`), BUSYOVER
    the first node for which `is_busy(name)` is false (not already running this job); both fall back
    to the first node when every node fails the test, so that the run still happens.
    """
    names = sorted(n.name for n in nodes)
    if not names:
        return []
    by_name = {n.name: n for n in nodes}
    if strategy == "SHARDING_BROADCAST":
        return [Assignment(name, i, len(names)) for i, name in enumerate(names)]
    if strategy == "FIRST":
        chosen = names[0]
    elif strategy == "LAST":
        chosen = names[-1]
    elif strategy == "ROUND":
        chosen = names[state.next_round(job_id) % len(names)]
    elif strategy == "RANDOM":
        chosen = state.rng.choice(names)
    elif strategy == "CONSISTENT_HASH":
        chosen = consistent_hash(job_id, names)
    elif strategy == "LEAST_FREQUENTLY_USED":
        chosen = state.least_frequent(job_id, names)
    elif strategy == "LEAST_RECENTLY_USED":
        chosen = state.least_recent(job_id, names)
    elif strategy == "FAILOVER":
        chosen = next((n for n in names if by_name[n].heartbeat_age < suspect_after), names[0])
    elif strategy == "BUSYOVER":
        chosen = next((n for n in names if not (is_busy and is_busy(n))), names[0])
    else:
        raise ValueError(f"unknown route strategy {strategy}")
    return [Assignment(chosen)]
