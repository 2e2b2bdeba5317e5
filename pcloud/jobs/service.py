"""Scheduled jobs: executors, jobs, runs and the run report (business rules for the API and the pages)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from pcloud.extensions import db
from pcloud.jobs.models import JobLog, JobLogLine, JobReport


def delete_runs_before(cutoff: datetime, batch: int = 5000) -> int:
    """Delete runs triggered before `cutoff` (naive UTC) with their output, in batches; returns the count."""
    removed = 0
    while True:
        ids = list(db.session.execute(
            select(JobLog.id).where(JobLog.trigger_time < cutoff).order_by(JobLog.id).limit(batch)).scalars())
        if not ids:
            break
        db.session.execute(delete(JobLogLine).where(JobLogLine.log_id.in_(ids)))
        db.session.execute(delete(JobLog).where(JobLog.id.in_(ids)))
        removed += len(ids)
        db.session.commit()
    if removed:
        db.session.execute(delete(JobReport))
        db.session.commit()
    return removed
