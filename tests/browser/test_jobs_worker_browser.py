"""The worker seen from the console in a real browser: run a job once from the job list and watch its
output arrive live in the run's log page, then kill a long run from that page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from pcloud.extensions import db
from pcloud.jobs.models import JobRun
from tests.browser.conftest import confirm_modal, settle, sign_in
from tests.factories import query
from tests.test_jobs_worker import Jobs, start_worker, wait_until


def _latest_run(app: Any, job_id: int) -> int:
    return query(app, lambda: db.session.execute(
        select(JobRun.id).where(JobRun.job_id == job_id).order_by(JobRun.id.desc()).limit(1)).scalar_one())


def _run_once(page: Any, job_id: int, param: str) -> None:
    page.goto("/job/info/")
    page.locator(f'tr[data-job-id="{job_id}"]').get_by_role("button", name="执行一次").click()
    page.locator("#triggerModal").wait_for(state="visible")
    page.locator("#executor_param").fill(param)
    page.locator("#trigger-ok").click()
    page.get_by_text("已提交执行").wait_for()


def test_run_once_shows_live_output_and_a_long_run_is_killed(page: Any, app: Any, database_url: str,
                                                             instance_dir: Path, tmp_path: Path) -> None:
    jobs = Jobs(app)
    jobs.executor()
    worker = start_worker(database_url, instance_dir, tmp_path, "browser-node")
    try:
        wait_until(lambda: "browser-node" in jobs.nodes(), 120, "the worker registered", [worker])
        sleeper = jobs.job("testSleep", "1", job_desc="浏览器长任务")
        sign_in(page)

        # run once: the output appears while it runs, then the run ends as a success
        _run_once(page, sleeper, "4")
        run_id = _latest_run(app, sleeper)
        page.goto(f"/job/log/{run_id}")
        settle(page, f"**/job/log/{run_id}")
        page.locator("#log-output").get_by_text("sleeping 4.0").wait_for(timeout=60_000)
        assert "woke up" not in page.locator("#log-output").inner_text()  # still running: output arrived live
        # the node that took it shows without a reload (issue 23: it said 待分配 while output streamed)
        page.locator("#run-node").get_by_text("browser-node").wait_for(timeout=10_000)
        page.locator("#log-output").get_by_text("woke up").wait_for(timeout=30_000)
        page.locator("#tail-status").get_by_text("输出已完整").wait_for()
        assert page.locator("#run-state").inner_text() == "成功"
        assert "slept" in page.locator("#handle-msg").inner_text()

        # a long run, killed from its log page
        _run_once(page, sleeper, "120")
        run_id = _latest_run(app, sleeper)
        page.goto(f"/job/log/{run_id}")
        settle(page, f"**/job/log/{run_id}")
        page.locator("#log-output").get_by_text("sleeping 120.0").wait_for(timeout=60_000)
        page.get_by_role("button", name="终止任务").click()
        confirm_modal(page)
        run = jobs.done(run_id, 30, [worker])
        assert (run["handle_code"], run["handle_msg"]) == (503, "人工终止")
        # without a reload: the end time shows and the kill button goes (issue 23)
        page.locator("#kill-action").wait_for(state="detached", timeout=15_000)
        assert page.locator("#run-end").inner_text().strip()
        assert page.locator("#run-state").inner_text() == "失败"
        page.goto(f"/job/log/{run_id}")
        page.locator("#tail-status").get_by_text("输出已完整").wait_for()
        assert "已终止" in page.locator("#handle-msg").inner_text() or \
            "人工终止" in page.locator("#handle-msg").inner_text()
    finally:
        assert worker.stop() == 0
