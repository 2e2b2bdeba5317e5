"""The ten route strategies of XXL-JOB, as functions over the executor's live nodes.

A scheduler routes each fire to one node (or, for SHARDING_BROADCAST, one run per node). The node
list is the executor's live nodes sorted by name, so that FIRST and LAST mean the same in every
scheduler. ROUND, LEAST_FREQUENTLY_USED and LEAST_RECENTLY_USED keep their counters in a
``RouteState`` owned by one scheduler process: like XXL-JOB's admin, each scheduler balances what it
fires itself, which is what they are for.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

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


@dataclass
class RouteState:
    """Per-scheduler memory of ROUND, LFU and LRU, keyed by job id."""

    round: dict[int, int] = field(default_factory=dict)
    lfu: dict[int, dict[str, int]] = field(default_factory=dict)
    lfu_reset_at: float = field(default_factory=time.monotonic)
    lru: dict[int, dict[str, int]] = field(default_factory=dict)
    tick: int = 0
    rng: random.Random = field(default_factory=random.Random)


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.md5(key.encode(), usedforsecurity=False).digest()[:8], "big")


def consistent_hash(job_id: int, names: Sequence[str]) -> str:
    """The node owning the job's point on a ring of VIRTUAL_NODES points per node: adding or removing
    a node moves only the jobs that node gains or loses."""
    ring = sorted((_hash(f"SHARD-{name}-NODE-{i}"), name) for name in names for i in range(VIRTUAL_NODES))
    keys = [k for k, _ in ring]
    at = bisect.bisect_left(keys, _hash(str(job_id)))
    return ring[at % len(ring)][1]


def route(strategy: str, job_id: int, nodes: Sequence[Node], state: RouteState,
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
        count = state.round.get(job_id)
        if count is None:  # start at a random place so that many schedulers do not all pick node 0 first
            count = state.rng.randrange(100)
        state.round[job_id] = count + 1
        chosen = names[count % len(names)]
    elif strategy == "RANDOM":
        chosen = state.rng.choice(names)
    elif strategy == "CONSISTENT_HASH":
        chosen = consistent_hash(job_id, names)
    elif strategy == "LEAST_FREQUENTLY_USED":
        if time.monotonic() - state.lfu_reset_at > LFU_RESET_SECONDS:
            state.lfu.clear()
            state.lfu_reset_at = time.monotonic()
        counts = state.lfu.setdefault(job_id, {})
        for gone in set(counts) - set(names):
            del counts[gone]
        chosen = min(names, key=lambda n: (counts.get(n, 0), n))
        counts[chosen] = counts.get(chosen, 0) + 1
    elif strategy == "LEAST_RECENTLY_USED":
        used = state.lru.setdefault(job_id, {})
        for gone in set(used) - set(names):
            del used[gone]
        chosen = min(names, key=lambda n: (used.get(n, -1), n))
        state.tick += 1
        used[chosen] = state.tick
    elif strategy == "FAILOVER":
        chosen = next((n for n in names if by_name[n].heartbeat_age < suspect_after), names[0])
    elif strategy == "BUSYOVER":
        chosen = next((n for n in names if not (is_busy and is_busy(n))), names[0])
    else:
        raise ValueError(f"unknown route strategy {strategy}")
    return [Assignment(chosen)]
