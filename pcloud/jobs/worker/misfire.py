"""What a scheduler does with a due fire, and where the schedule goes next.

A fire is *on time* while ``now - planned <= grace``: it runs with its own planned time as schedule
time, even if a little late, so that a short hiccup loses nothing. Beyond the grace window it is
*misfired* (the worker was down, or overloaded):

- DO_NOTHING: no run for the missed fires; the schedule resumes with the fires inside the window.
- FIRE_ONCE_NOW: one run now (trigger type MISFIRE, schedule time = the first missed fire), then the
  schedule resumes with the fires inside the window.

The next fire is always computed from the planned time, never from now, so FIX_RATE keeps its phase
across restarts: a 10 s job planned at :03 stays on :03, :13, :23 ... after any downtime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

MISFIRE_STRATEGIES = ("DO_NOTHING", "FIRE_ONCE_NOW")

# How many fires of one job a scheduler writes in one claim while catching up inside the grace window.
MAX_CATCH_UP = 1000


@dataclass(frozen=True)
class FirePlan:
    """The runs to write for one claimed job and its next fire time (None: the schedule has ended)."""

    fires: list[tuple[datetime, str]]  # (schedule time, trigger type)
    next_time: datetime | None
    misfired: bool = False


def plan_fires(schedule_type: str, planned: datetime, now: datetime, grace: timedelta, misfire_strategy: str,
               next_after: Callable[[datetime], datetime | None]) -> FirePlan:
    """Fires due at `now` for a job whose next fire was `planned`.

    `next_after(t)` is the job's schedule: its first fire strictly after `t`. Within the grace window
    every due fire runs (catching up after a short stall); beyond it, the misfire strategy decides.
    """
    trigger = "FIX_RATE" if schedule_type == "FIX_RATE" else "CRON"
    fires: list[tuple[datetime, str]] = []
    t: datetime | None = planned
    misfired = now - planned > grace
    if misfired:
        if misfire_strategy == "FIRE_ONCE_NOW":
            fires.append((planned, "MISFIRE"))
        # fires older than the grace window are the missed ones; younger ones still run on time
        t = resume_after(schedule_type, planned, now - grace, next_after)
    while t is not None and t <= now and len(fires) < MAX_CATCH_UP:
        fires.append((t, trigger))
        t = next_after(t)
    return FirePlan(fires, t, misfired)


def resume_after(schedule_type: str, planned: datetime, now: datetime,
                 next_after: Callable[[datetime], datetime | None]) -> datetime | None:
    """The first fire after `now` on the schedule's own grid. FIX_RATE keeps its phase by arithmetic
    (a day of downtime of a 1 s job is one step, not 86,400); CRON has no phase and restarts from now."""
    if schedule_type == "FIX_RATE":
        step = next_after(planned)
        if step is None:
            return None
        rate = step - planned
        if rate <= timedelta(0):
            return None
        missed = (now - planned) // rate
        t = planned + rate * missed
        while t <= now:
            t += rate
        return t
    return next_after(now)


def is_misfire(planned: datetime, now: datetime, grace: timedelta) -> bool:
    return now - planned > grace
