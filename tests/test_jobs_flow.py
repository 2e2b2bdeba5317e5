"""Issue 23 (3, 5, 6): job dependencies (parentJobIds, the graph), routing state and block strategies over every
worker, a killed run's retry, the live run detail page. The cron DST rules are in test_jobs_cron.py.

The worker helpers and the two-worker fixture are test_jobs_worker.py's (imported, so this module starts its
own pair of `pcloud worker` processes)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from pcloud.core.i18n import translated
from pcloud.extensions import db
from pcloud.jobs.models import Job, JobRun
from tests import test_jobs_worker as worker_tests
from tests import test_jobs_worker_limits as worker_limits
from tests.conftest import api_error
from tests.factories import query
from tests.test_jobs import make_executor, make_job
from tests.test_jobs_worker import Jobs, Pair, wait_until

# test_jobs_worker's fixtures (and test_jobs_worker_limits' in-process worker), used here by name
jobs, pair, pair_processes = worker_tests.jobs, worker_tests.pair, worker_tests.pair_processes
worker_in_process = worker_limits.worker_in_process

# ---------------------------------------------------------------- parentJobIds on the API


def _parents(app: Any, job_id: int) -> list[int]:
    from pcloud.jobs.models import JobDependency

    return query(app, lambda: sorted(db.session.execute(select(JobDependency.parent_job_id).where(
        JobDependency.job_id == job_id)).scalars()))


def test_parent_job_ids_are_saved_listed_and_validated(api: Any, app: Any) -> None:
    executor = make_executor(api)
    a, b = make_job(api, executor), make_job(api, executor)
    c = make_job(api, executor, parentJobIds=[a, b])
    assert _parents(app, c) == [a, b]
    items = api.data("POST", "/api/job/jobinfo/pageList", {"jobGroup": executor})
    assert {i["id"]: i["parentJobIds"] for i in items} == {a: [], b: [], c: [a, b]}
    api.data("PUT", "/api/job/jobinfo/update", {"id": c, "parentJobIds": [b]})
    assert _parents(app, c) == [b]
    api.data("PUT", "/api/job/jobinfo/update", {"id": c, "jobDesc": "renamed"})  # not sent: kept
    assert _parents(app, c) == [b]
    for parents, msg in (([c], "父任务不能是任务自己"), ([999999], "父任务 ID 999999 不存在")):
        body = api_error(api.put("/api/job/jobinfo/update", {"id": c, "parentJobIds": parents}), 422)
        assert body["errors"]["parentJobIds"] == [msg], body
    assert "parentJobIds" in api_error(api.put("/api/job/jobinfo/update", {"id": c, "parentJobIds": [str(a)]}),
                                       422)["errors"]
    api.data("PUT", "/api/job/jobinfo/update", {"id": c, "parentJobIds": []})
    assert _parents(app, c) == []


def test_a_loop_through_dependencies_and_child_links_is_refused(api: Any, app: Any) -> None:
    executor = make_executor(api)
    a = make_job(api, executor)
    b = make_job(api, executor)
    api.data("PUT", "/api/job/jobinfo/update", {"id": a, "childJobId": str(b)})  # a -> b
    c = make_job(api, executor, parentJobIds=[b])  # b -> c
    body = api_error(api.put("/api/job/jobinfo/update", {"id": a, "parentJobIds": [c]}), 422)  # c -> a: a loop
    assert "循环" in body["errors"]["parentJobIds"][0]
    body = api_error(api.put("/api/job/jobinfo/update", {"id": c, "childJobId": str(a)}), 422)
    assert "循环" in body["errors"]["childJobId"][0]
    # a new job can close a loop too: it waits for c and runs a
    body = api_error(api.post("/api/job/jobinfo/add", {
        "jobGroup": executor, "jobDesc": "closer", "author": "t", "scheduleType": "NONE",
        "executorHandler": "demoJobHandler", "parentJobIds": [c], "childJobId": str(a)}), 422)
    assert "循环" in str(body["errors"])
    assert _parents(app, a) == [] and query(app, lambda: db.session.get(Job, c).child_job_id) is None
    api.data("PUT", "/api/job/jobinfo/update", {"id": b, "parentJobIds": [a]})  # a -> b twice over: no loop


def test_parallel_dependency_edits_never_make_a_loop(api: Any, app: Any, live_server: Any) -> None:
    """a waits for b and b waits for a, sent at once to gunicorn (2 workers), many rounds: never both saved."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from pcloud.jobs.models import JobDependency
    from tests.conftest import ADMIN_PASSWORD, ADMIN_PHONE

    token = requests.post(f"{live_server.url}/api/oauth/token", json={
        "phone": ADMIN_PHONE, "password": ADMIN_PASSWORD, "grantType": "ADMIN"}, timeout=30).json()["data"]["token"]
    executor = make_executor(api)
    a, b = make_job(api, executor), make_job(api, executor)
    statuses = []
    with requests.Session() as http, ThreadPoolExecutor(2) as pool:
        http.headers["Authorization"] = f"Bearer {token}"
        for _ in range(20):
            with app.app_context():
                db.session.execute(JobDependency.__table__.delete())
                db.session.commit()
                db.session.remove()
            barrier = threading.Barrier(2)

            def link(pair_ids: tuple[int, int], barrier: threading.Barrier = barrier) -> int:
                barrier.wait()
                return http.put(f"{live_server.url}/api/job/jobinfo/update",
                                json={"id": pair_ids[0], "parentJobIds": [pair_ids[1]]}, timeout=60).status_code

            answers = list(pool.map(link, [(a, b), (b, a)]))
            statuses.append(tuple(sorted(answers)))
            assert not (_parents(app, a) == [b] and _parents(app, b) == [a]), answers
    # one saved, the other refused as a loop; a lost race elsewhere answers 409 (never 503: the database is up)
    assert all(s in ((200, 422), (200, 409)) for s in statuses), statuses


# ---------------------------------------------------------------- the graph


def test_the_graph_lists_connected_jobs_with_their_last_state(api: Any, app: Any, pages: Any) -> None:
    executor = make_executor(api)
    a, b, lone = make_job(api, executor), make_job(api, executor), make_job(api, executor)
    c = make_job(api, executor, parentJobIds=[a, b])
    d = make_job(api, executor)
    api.data("PUT", "/api/job/jobinfo/update", {"id": c, "childJobId": str(d)})
    (run_a,) = api.data("POST", "/api/job/jobinfo/trigger", {"id": a})
    with app.app_context():
        db.session.execute(update(JobRun).where(JobRun.id == run_a).values(status="DONE", handle_code=200))
        db.session.commit()
        db.session.remove()
    graph = api.data("GET", f"/api/job/jobinfo/{d}/graph")
    assert sorted(n["id"] for n in graph["nodes"]) == [a, b, c, d]
    states = {n["id"]: (n["lastState"], n["lastLogId"]) for n in graph["nodes"]}
    assert states[a] == ("success", run_a) and states[b] == (None, None)
    assert sorted((e["source"], e["target"], e["type"]) for e in graph["edges"]) == sorted(
        [(a, c, "PARENT"), (b, c, "PARENT"), (c, d, "CHILD")])
    alone = api.data("GET", f"/api/job/jobinfo/{lone}/graph")
    assert [n["id"] for n in alone["nodes"]] == [lone] and alone["edges"] == []
    assert api.get("/api/job/jobinfo/999999/graph").status_code == 404
    html = pages.get(f"/job/info/{c}/graph").get_data(as_text=True)
    assert '<svg' in html and f'data-node="{a}"' in html and f'data-edge="{a}-{c}-PARENT"' in html
    assert f'data-node="{a}" data-state="success"' in html
    assert 'data-testid="empty-graph"' in pages.get(f"/job/info/{lone}/graph").get_data(as_text=True)
    assert f"/job/info/{c}/graph" in pages.get(f"/job/info/?jobGroup={executor}").get_data(as_text=True)


def test_the_job_form_saves_parent_ids(api: Any, app: Any, pages: Any) -> None:
    executor = make_executor(api)
    a, c = make_job(api, executor), make_job(api, executor)
    html = pages.get(f"/job/info/{c}/edit").get_data(as_text=True)
    assert 'name="parent_job_ids"' in html
    job = query(app, lambda: db.session.get(Job, c))
    form = {"job_group": executor, "job_desc": job.job_desc, "author": job.author, "schedule_type": "NONE",
            "schedule_conf": "", "timezone": job.timezone, "misfire_strategy": "DO_NOTHING",
            "executor_route_strategy": "FIRST", "executor_handler": job.executor_handler, "executor_param": "",
            "executor_block_strategy": "SERIAL_EXECUTION", "executor_timeout": 0, "executor_fail_retry_count": 0,
            "child_job_id": "", "parent_job_ids": f"{a}"}
    resp = pages.submit(f"/job/info/{c}/edit", f"/job/info/{c}/edit", form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert _parents(app, c) == [a]
    assert f'value="{a}"' in pages.get(f"/job/info/{c}/edit").get_data(as_text=True)
    resp = pages.submit(f"/job/info/{c}/edit", f"/job/info/{c}/edit", {**form, "parent_job_ids": f"{c}"})
    assert resp.status_code == 422 and "父任务不能是任务自己" in resp.get_data(as_text=True)


# ---------------------------------------------------------------- dependencies in the worker (in process)


def _succeed(jobs: Jobs, run_id: int, at: Any) -> dict[str, Any]:
    with jobs.app.app_context(), db.engine.begin() as conn:
        conn.execute(update(JobRun.__table__).where(JobRun.__table__.c.id == run_id).values(
            status="DONE", handle_code=200, handle_msg="ok", handle_time=at))
    return dict(jobs.run(run_id))


def test_a_dependent_runs_once_when_every_parent_has_succeeded(worker_in_process: Any, jobs: Jobs) -> None:
    from pcloud.core.timefmt import utcnow

    w = worker_in_process
    a, b = jobs.job("testEcho", "a"), jobs.job("testEcho", "b")
    c = jobs.job("testEcho", "c", parent_job_ids=[a, b])

    def follow(run: dict[str, Any]) -> None:
        with w.tx() as conn:
            w._follow_up(conn, run, utcnow())

    def c_runs() -> list[Any]:
        return jobs.runs(JobRun.job_id == c)

    follow(_succeed(jobs, jobs.trigger(a)[0], utcnow()))
    assert c_runs() == []  # b has not succeeded yet
    rb = _succeed(jobs, jobs.trigger(b)[0], utcnow())
    follow(rb)
    follow(rb)  # a second worker checking the same success: no second run
    (run,) = c_runs()
    assert (run["trigger_type"], run["parent_log_id"]) == ("PARENT", rb["id"])
    follow(_succeed(jobs, jobs.trigger(a)[0], utcnow() + timedelta(seconds=1)))
    assert len(c_runs()) == 1  # a again, but b not since c's last run
    follow(_succeed(jobs, jobs.trigger(b)[0], utcnow() + timedelta(seconds=2)))
    assert [r["trigger_type"] for r in c_runs()] == ["PARENT", "PARENT"]
    # a failure never counts; a deleted parent is no longer waited for
    with jobs.app.app_context():
        from pcloud.jobs import service

        service.remove_job(b)
        db.session.remove()
    follow(_succeed(jobs, jobs.trigger(a)[0], utcnow() + timedelta(seconds=3)))
    assert len(c_runs()) == 3


def test_a_dependency_chain_stops_at_the_depth_bound(worker_in_process: Any, jobs: Jobs) -> None:
    """A loop of dependencies written past the console (straight into the table) ends at MAX_CHAIN_DEPTH."""
    from pcloud.core.timefmt import utcnow
    from pcloud.jobs.models import JobDependency

    a, b = jobs.job("testEcho", "a"), jobs.job("testEcho", "b")
    with jobs.app.app_context(), db.engine.begin() as conn:
        conn.execute(JobDependency.__table__.insert(), [{"job_id": b, "parent_job_id": a},
                                                        {"job_id": a, "parent_job_id": b}])
    run = _succeed(jobs, jobs.trigger(a)[0], utcnow())
    for i in range(16 * 3):
        with worker_in_process.tx() as conn:
            worker_in_process._follow_up(conn, run, utcnow())
        (child,) = jobs.runs(JobRun.parent_log_id == run["id"]) or [None]
        if child is None:
            break
        run = _succeed(jobs, child["id"], utcnow() + timedelta(milliseconds=10 * (i + 1)))
    assert len(jobs.runs(JobRun.job_id.in_((a, b)))) == 1 + 16
    with jobs.app.app_context():  # stored as its source string and values (core.i18n.said), said as the page says it
        assert "任务链已达 16 层" in translated(jobs.run(run["id"])["handle_msg"])


# ---------------------------------------------------------------- console side of a kill, the run detail page
# Before any worker process of this module starts (they would take runs of the executor that gets id 1 again
# after the per-test wipe on PostgreSQL), and with the default executor made first for the same reason.


def test_a_run_killed_before_it_started_is_retried_too(api: Any, app: Any) -> None:
    Jobs(app).executor()
    executor = make_executor(api, "nobody-runs-this")
    job = make_job(api, executor, executorFailRetryCount=2)
    (run_id,) = api.data("POST", "/api/job/jobinfo/trigger", {"id": job})
    api.data("POST", f"/api/job/joblog/{run_id}/logKill")
    runs = query(app, lambda: [(r.trigger_type, r.status, r.handle_code, r.executor_fail_retry_count, r.parent_log_id)
                               for r in db.session.query(JobRun).filter_by(job_id=job).order_by(JobRun.id)])
    assert runs == [("MANUAL", "DONE", 503, 2, None), ("RETRY", "PENDING", 0, 1, run_id)]


def test_the_detail_tail_reports_node_end_and_kill_state(api: Any, app: Any, pages: Any) -> None:
    from pcloud.core.timefmt import utcnow

    Jobs(app).executor()
    executor = make_executor(api, "detail-app")
    job = make_job(api, executor)
    (run_id,) = api.data("POST", "/api/job/jobinfo/trigger", {"id": job})
    html = pages.get(f"/job/log/{run_id}").get_data(as_text=True)
    assert 'id="run-node"' in html and 'id="kill-action"' in html and 'id="run-end"' in html
    tail = pages.get(f"/job/log/{run_id}/cat?from=1").get_json()
    assert (tail["node"], tail["ended"], tail["state"]) == (None, False, "pending")

    def set_run(**values: Any) -> None:
        with app.app_context():
            db.session.execute(update(JobRun).where(JobRun.id == run_id).values(**values))
            db.session.commit()
            db.session.remove()

    set_run(status="RUNNING", executor_address="node-x", claimed_at=utcnow())
    tail = pages.get(f"/job/log/{run_id}/cat?from=1").get_json()
    assert (tail["node"], tail["ended"], tail["state"], tail["label"]) == ("node-x", False, "running", "运行中")
    api.data("POST", f"/api/job/joblog/{run_id}/logKill")
    assert pages.get(f"/job/log/{run_id}/cat?from=1").get_json()["killRequested"] is True
    set_run(status="DONE", handle_code=503, handle_msg="人工终止", handle_time=utcnow())
    tail = pages.get(f"/job/log/{run_id}/cat?from=1").get_json()
    assert tail["ended"] and tail["handleTime"] and tail["result"] == "已终止 人工终止", tail


# ---------------------------------------------------------------- routing state shared by every worker


def test_round_lfu_and_lru_continue_one_count_over_schedulers(app: Any) -> None:
    """Two schedulers (two memories over the same rows), taking turns: the count is one, not two."""
    from pcloud.jobs.worker import routing

    nodes = [routing.Node("node-a"), routing.Node("node-b"), routing.Node("node-c")]
    with app.app_context():
        for strategy in ("ROUND", "LEAST_FREQUENTLY_USED", "LEAST_RECENTLY_USED"):
            picks = []
            for _ in range(9):
                with db.engine.begin() as conn:
                    memory = routing.SharedRouteState(conn)  # a new scheduler's memory each time: only the rows
                    picks.append(routing.route(strategy, 7, nodes, memory)[0].node)
            assert Counter(picks) == {"node-a": 3, "node-b": 3, "node-c": 3}, (strategy, picks)
            assert picks[:3] == picks[3:6] == picks[6:], (strategy, picks)
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM job_route_state")


@pytest.mark.slow
def test_round_alternates_over_two_workers(pair: Pair, jobs: Jobs) -> None:
    for strategy in ("ROUND", "LEAST_RECENTLY_USED", "LEAST_FREQUENTLY_USED"):
        job = jobs.job("testEcho", "r", executor_route_strategy=strategy)
        nodes = []
        for _ in range(6):
            (run_id,) = jobs.trigger(job)  # no node chosen: whichever worker reads it first routes it
            nodes.append(jobs.done(run_id, workers=pair.workers)["executor_address"])
        assert all(x != y for x, y in zip(nodes, nodes[1:], strict=False)), (strategy, nodes)


# ---------------------------------------------------------------- block strategies over nodes


@pytest.mark.slow
def test_block_strategies_hold_over_nodes(pair: Pair, jobs: Jobs) -> None:
    serial = jobs.job("testSleep", "1.5", executor_block_strategy="SERIAL_EXECUTION")
    (first,) = jobs.trigger(serial, nodes="node-a")
    wait_until(lambda: jobs.run(first)["status"] == "RUNNING", 30, "first running", pair.workers)
    (second,) = jobs.trigger(serial, nodes="node-b")
    a, b = jobs.done(first, workers=pair.workers), jobs.done(second, workers=pair.workers)
    assert a["handle_code"] == b["handle_code"] == 200 and b["claimed_at"] >= a["handle_time"], (a, b)

    discard = jobs.job("testSleep", "3", executor_block_strategy="DISCARD_LATER")
    (first,) = jobs.trigger(discard, nodes="node-a")
    wait_until(lambda: jobs.run(first)["status"] == "RUNNING", 30, "first running", pair.workers)
    (second,) = jobs.trigger(discard, nodes="node-b")
    b = jobs.done(second, workers=pair.workers)
    assert b["handle_code"] == 500 and "DISCARD_LATER" in b["handle_msg"]
    assert jobs.done(first, workers=pair.workers)["handle_code"] == 200

    cover = jobs.job("testSleep", "30", executor_block_strategy="COVER_EARLY", executor_fail_retry_count=1)
    (first,) = jobs.trigger(cover, nodes="node-a")
    wait_until(lambda: jobs.run(first)["status"] == "RUNNING", 30, "first running", pair.workers)
    (second,) = jobs.trigger(cover, "0.1", nodes="node-b")
    a, b = jobs.done(first, 20, pair.workers), jobs.done(second, 20, pair.workers)
    assert a["handle_code"] == 503 and "COVER_EARLY" in a["handle_msg"], a
    assert (b["handle_code"], b["executor_address"]) == (200, "node-b")
    assert not jobs.runs(JobRun.parent_log_id == first)  # covered, not killed by a user: no retry


# ---------------------------------------------------------------- dependencies with two workers


@pytest.mark.slow
def test_two_parents_ending_on_two_workers_trigger_the_dependent_once(pair: Pair, jobs: Jobs) -> None:
    rounds = 4
    for i in range(rounds):
        a, b = jobs.job("testSleep", "0.5"), jobs.job("testSleep", "0.5")
        c = jobs.job("testEcho", f"c{i}", parent_job_ids=[a, b])
        (ra,) = jobs.trigger(a, nodes="node-a")
        (rb,) = jobs.trigger(b, nodes="node-b")
        jobs.done(ra, workers=pair.workers)
        jobs.done(rb, workers=pair.workers)
        # Both parents have ended, and a worker triggers the dependents in the transaction that ends a parent's
        # run (runtime.flush): every run of the dependent, a second, wrong one included, is committed by now.
        runs = jobs.runs(JobRun.job_id == c)
        assert [r["trigger_type"] for r in runs] == ["PARENT"], runs
        assert runs[0]["parent_log_id"] in (ra, rb)


# ---------------------------------------------------------------- a killed run is retried (XXL-JOB's way)


@pytest.mark.slow
def test_a_killed_run_is_retried_within_its_budget(pair: Pair, jobs: Jobs, api: Any) -> None:
    job = jobs.job("testSleep", "30", executor_fail_retry_count=1)
    (run_id,) = jobs.trigger(job)
    wait_until(lambda: jobs.run(run_id)["status"] == "RUNNING", 30, "running", pair.workers)
    assert api.post(f"/api/job/joblog/{run_id}/logKill").status_code == 200
    assert jobs.done(run_id, 15, pair.workers)["handle_code"] == 503
    (retry,) = wait_until(lambda: jobs.runs(JobRun.parent_log_id == run_id), 15, "the retry", pair.workers)
    assert (retry["trigger_type"], retry["executor_fail_retry_count"]) == ("RETRY", 0)
    wait_until(lambda: jobs.run(retry["id"])["status"] == "RUNNING", 30, "the retry running", pair.workers)
    assert api.post(f"/api/job/joblog/{retry['id']}/logKill").status_code == 200
    jobs.done(retry["id"], 15, pair.workers)
    # the budget is spent: a retry of the retry would have been written in the transaction that ended it
    assert not jobs.runs(JobRun.parent_log_id == retry["id"])
