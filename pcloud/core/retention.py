"""Retention: deleting a log's rows older than a cutoff, in short batches, for every log that keeps rows for a
number of days (the operation log, the login log)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select


def delete_older_than(engine: Engine, table: Any, time_column: Any, cutoff: datetime, batch: int) -> int:
    """Delete the rows of `table` whose `time_column` is before `cutoff`, oldest first, `batch` rows per
    transaction so that writers of the log are never held up long. Returns how many were deleted."""
    deleted = 0
    while True:
        with engine.begin() as conn:
            ids = select(table.c.id).where(time_column < cutoff).order_by(time_column, table.c.id).limit(batch)
            count = conn.execute(delete(table).where(table.c.id.in_(ids.scalar_subquery()))).rowcount
        deleted += max(count or 0, 0)
        if not count or count < batch:
            return deleted
