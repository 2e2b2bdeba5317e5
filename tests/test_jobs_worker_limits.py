"""The job worker's own limits and its heartbeat (issue 19), on a Worker object in this process: no worker
process runs while these tests do. In a file of their own because `claim_due` fires due jobs of any executor: the
worker pair of test_jobs_worker.py, alive until the end of that file, could fire these tests' jobs first."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import is_postgres
from tests.test_jobs_worker import Jobs, wait_until


@pytest.fixture
def jobs(app: Any) -> Jobs:
    return Jobs(app)


@pytest.fixture
def worker_in_process(app: Any) -> Iterator[Any]:
    """A Worker object on the test database, its pool never started: claim_due and _follow_up called directly."""
    from pcloud.jobs.worker.alarms import AlarmSender, AlarmSettings
    from pcloud.jobs.worker.runtime import Worker, WorkerSettings

    with app.app_context():
        yield Worker(WorkerSettings(name="in-process"), alarms=AlarmSender(AlarmSettings()))


def test_the_worker_stops_a_job_whose_schedule_is_too_expensive(worker_in_process: Any, jobs: Jobs) -> None:
    from pcloud.jobs.models import JobRun

    job = jobs.job("testEcho", None)
    jobs.set_job(job, schedule_type="CRON", schedule_conf="* * * L-30 2,4,6,9,11 ?", timezone="America/Santiago",
                 trigger_status=1, trigger_next_time=int(time.time() * 1000) - 1000)
    started = time.monotonic()
    worker_in_process.claim_due()
    assert time.monotonic() - started < 2
    from pcloud.jobs import service

    with jobs.app.app_context():
        stopped = service.get_job(job)
        assert (stopped.trigger_status, stopped.trigger_next_time) == (0, 0)
    (run,) = jobs.runs(JobRun.job_id == job)
    assert (run["status"], run["handle_code"]) == ("DONE", 500)
    assert "计算量过大" in run["trigger_msg"] and "任务已停止" in run["trigger_msg"]


def test_a_child_job_loop_stops_at_the_chain_depth(worker_in_process: Any, jobs: Jobs) -> None:
    """A loop made before the console refused it (A->B->A) ends after MAX_CHAIN_DEPTH child runs, saying why."""
    from pcloud.core.timefmt import utcnow
    from pcloud.jobs.models import JobRun

    depth = 16  # runtime.MAX_CHAIN_DEPTH, written out so the replay runs on the code before it too
    a, b = jobs.job("testEcho", "a"), jobs.job("testEcho", "b")
    jobs.set_job(a, child_job_id=str(b))
    jobs.set_job(b, child_job_id=str(a))
    (first,) = jobs.trigger(a)
    run = {**jobs.run(first), "status": "DONE", "handle_code": 200, "handle_msg": "ok"}
    for _ in range(depth * 3):
        with worker_in_process.tx() as conn:
            worker_in_process._follow_up(conn, run, utcnow())
        (child,) = jobs.runs(JobRun.parent_log_id == run["id"]) or [None]
        if child is None:
            break
        assert child["trigger_type"] == "PARENT"
        run = {**child, "status": "DONE", "handle_code": 200, "handle_msg": "ok"}
    assert len(jobs.runs(JobRun.job_id.in_((a, b)))) == 1 + depth
    from pcloud.core.i18n import translated

    with jobs.app.test_request_context():  # the stored sentence, as a page says it
        assert "任务链已达 16 层" in translated(jobs.run(run["id"])["handle_msg"])


def test_the_heartbeat_does_not_wait_for_the_loop_but_stops_with_it(app: Any, jobs: Jobs) -> None:
    """A node beats from a thread of its own: nothing runs the scheduling loop here (it used to beat), and the
    beats come. A loop that has not come round for the dead-after time gets none, so that a stuck node looks
    dead to the others, and beats again once its loop comes round."""
    from pcloud.jobs.worker.alarms import AlarmSender, AlarmSettings
    from pcloud.jobs.worker.runtime import Worker, WorkerSettings

    with app.app_context():
        worker = Worker(WorkerSettings(name="beating", heartbeat=0.1, dead_after=1.5),
                        alarms=AlarmSender(AlarmSettings()))
        worker.heartbeat()
        first = jobs.heartbeats()["beating"]
        worker.start_heartbeat()
        try:
            wait_until(lambda: jobs.heartbeats()["beating"] > first, 10, "a beat the loop did not run")
            # the loop never comes round here: after the dead-after time the beats stop
            wait_until(lambda: worker.beats_withheld >= 1, 10, "a beat withheld")
            last = jobs.heartbeats()["beating"]
            wait_until(lambda: worker.beats_withheld >= 4, 10, "more beats withheld")
            assert jobs.heartbeats()["beating"] == last
            worker.loop_at = time.monotonic()  # the loop comes round
            wait_until(lambda: jobs.heartbeats()["beating"] > last, 10, "a beat once the loop is back")
        finally:
            worker.stop_heartbeat()


def test_an_idle_worker_reads_the_tables_when_the_database_says_so_or_a_fire_is_due(app: Any, jobs: Jobs) -> None:
    """A worker read the jobs and runs tables on every tick, twenty times a second all day. Now a tick with
    nothing changed and nothing due runs no statement; a change anywhere (here: the test's own connection, as
    the console's or another host's) is read at a following tick, and a fire at its time. The once-a-second
    read whatever happens is set to a minute here, so only the change signal and the due time can explain a read."""
    from pcloud.jobs.models import JobRun
    from pcloud.jobs.worker.alarms import AlarmSender, AlarmSettings
    from pcloud.jobs.worker.runtime import Worker, WorkerSettings
    from tests.conftest import statements_seen

    job = jobs.job("testEcho", None)
    with app.app_context():
        worker = Worker(WorkerSettings(name="quiet", quiet_max=60), alarms=AlarmSender(AlarmSettings()))

        def tick_statements() -> list[str]:
            return statements_seen(app, worker.tick)

        def reads() -> int:
            return len(tick_statements())

        def tick_until(predicate: Any, what: str) -> Any:
            def ticked() -> Any:
                return predicate(reads())

            return wait_until(ticked, 10, what)

        try:
            assert reads() > 0  # the first tick reads
            tick_until(lambda n: n == 0, "a tick with nothing to read")  # PostgreSQL: the setup's notices heard
            assert [reads() for _ in range(20)] == [0] * 20
            jobs.set_job(job, job_desc="改了描述")
            tick_until(lambda n: n > 0, "the change read")
            tick_until(lambda n: n == 0, "quiet again")
            due = int(time.time() * 1000) + 1500
            jobs.set_job(job, schedule_type="FIX_RATE", schedule_conf="3600", trigger_status=1, trigger_next_time=due)
            tick_until(lambda n: n > 0, "the change read")
            tick_until(lambda n: n == 0, "quiet until the fire")
            quiet = 0
            while True:  # nothing changes, nothing is due: no statement
                statements = tick_statements()
                if time.time() * 1000 >= due - 50:  # a tick this late may fire (a loaded machine stalls a tick)
                    break
                assert statements == []
                quiet += 1
                time.sleep(0.02)  # the pace of the worker's ticks
            wait_until(lambda: worker.tick() or jobs.runs(JobRun.job_id == job), 10, "the fire")
            assert quiet > 5 and time.time() * 1000 >= due
        finally:
            worker.changes.close()


@pytest.mark.skipif(not is_postgres(), reason="NOTIFY is PostgreSQL's; SQLite's data version moves with any commit")
@pytest.mark.parametrize("sql", ["UPDATE job_group SET title = title", "UPDATE job_info SET author = author",
                                 "UPDATE job_log SET alarm_status = alarm_status"])
def test_a_write_around_the_app_to_a_table_a_tick_reads_is_heard_by_the_workers(app: Any, database_url: str,
                                                                                 sql: str) -> None:
    """Migration 0036's triggers: a write by another host or psql (an engine of its own, so this process's own
    commits do not count) moves the workers' change signal, which they hear without asking the server."""
    from sqlalchemy import create_engine, text

    from pcloud.core.database import change_signal
    from pcloud.extensions import db
    from pcloud.jobs.worker.runtime import JOBS_CHANNEL

    with app.app_context():
        signal = change_signal(db.engine, JOBS_CHANNEL)
    assert signal is not None
    try:
        before = signal.current()
        outsider = create_engine(database_url)
        try:
            with outsider.begin() as conn:
                conn.execute(text(sql))
        finally:
            outsider.dispose()
        wait_until(lambda: signal.heard() != before, 10, f"the notice of {sql}")
    finally:
        signal.close()


def test_a_worker_told_its_notifications_cannot_come_reads_on_every_tick(app: Any, jobs: Jobs,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """PCLOUD_WORKER_QUIET_SECONDS=0 (PostgreSQL behind a pooler that passes no LISTEN): every tick reads."""
    from pcloud.jobs.worker.alarms import AlarmSender, AlarmSettings
    from pcloud.jobs.worker.runtime import Worker, WorkerSettings
    from tests.conftest import statements_seen

    monkeypatch.setenv("PCLOUD_WORKER_QUIET_SECONDS", "0")
    with app.app_context():
        worker = Worker(WorkerSettings.from_env(name="unquiet"), alarms=AlarmSender(AlarmSettings()))
        assert all(statements_seen(app, worker.tick) for _ in range(5))
        assert worker.changes is None  # nothing listens
