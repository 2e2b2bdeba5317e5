"""定时任务 API: every route of API.md (and the original front end's variants), against the database."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pcloud.extensions import db
from pcloud.jobs.models import Executor, Job, JobRegistry, JobReport, JobRun, JobRunLine
from tests.conftest import api_error, least_cpu_seconds, statements_run
from tests.factories import query

CRON = "0 0 12 * * ?"


def make_executor(api: Any, appname: str = "orders-app", **kw: Any) -> int:
    return api.data("POST", "/api/job/jobgroup/save", {"appname": appname, "title": kw.pop("title", "订单"), **kw})


def job_body(executor: int, **kw: Any) -> dict[str, Any]:
    return {"jobGroup": executor, "jobDesc": "同步订单", "author": "张三", "scheduleType": "CRON",
            "scheduleConf": CRON, "executorHandler": "demoJobHandler", **kw}


def make_job(api: Any, executor: int, **kw: Any) -> int:
    return api.data("POST", "/api/job/jobinfo/add", job_body(executor, **kw))


def add_node(app: Any, appname: str, name: str, age_seconds: int = 0) -> None:
    from pcloud.core.timefmt import utcnow

    with app.app_context():
        db.session.add(JobRegistry(appname=appname, name=name, address=f"http://{name}",
                                   heartbeat_at=utcnow() - timedelta(seconds=age_seconds)))
        db.session.commit()


def add_runs(app: Any, job_id: int, executor: int, codes: list[int], days_ago: int = 0, **kw: Any) -> list[int]:
    from pcloud.core.timefmt import utcnow

    with app.app_context():
        base = utcnow() - timedelta(days=days_ago)
        runs = [JobRun(job_group=executor, job_id=job_id, trigger_type="CRON",
                       schedule_time=base - timedelta(seconds=i), trigger_time=base - timedelta(seconds=i),
                       handle_code=code, trigger_code=200,
                       status="DONE" if code else "RUNNING", **kw) for i, code in enumerate(codes)]
        db.session.add_all(runs)
        db.session.commit()
        return [r.id for r in runs]


# ---------------------------------------------------------------- executors


def test_executor_crud_and_listing(api: Any, app: Any) -> None:
    executor = make_executor(api, "orders-app", title="订单执行器")
    add_node(app, "orders-app", "node-1")
    add_node(app, "orders-app", "node-dead", age_seconds=120)
    body = api.post("/api/job/jobgroup/pageList", {"appname": "orders"}).get_json()
    assert body["total"] == 1
    item = body["data"][0]
    assert item["appname"] == "orders-app" and item["title"] == "订单执行器" and item["registryList"] == ["node-1"]
    assert item["gmtCreatedName"]
    api.data("PUT", "/api/job/jobgroup/update", {"id": executor, "title": "订单2", "addressType": 1,
                                                 "addressList": "a1,a2"})
    loaded = api.data("GET", f"/api/job/jobgroup/{executor}/loadById")
    assert loaded["title"] == "订单2" and loaded["registryList"] == ["a1", "a2"]
    # POST is accepted for update too, and an echoed item is fine
    api.data("POST", "/api/job/jobgroup/update", {**loaded, "title": "订单3"})
    assert api.data("GET", f"/api/job/jobgroup/{executor}/loadById")["title"] == "订单3"
    for method in ("POST", "GET"):
        assert {e["appname"] for e in api.data(method, "/api/job/jobgroup/findAll")} == {"orders-app"}


@pytest.mark.parametrize(("body", "field"), [
    ({"appname": "1abc", "title": "x"}, "appname"),
    ({"appname": "ab", "title": "x"}, "appname"),
    ({"appname": "good-name", "title": "x", "addressType": 1}, "addressList"),
    ({"appname": "good-name", "title": "x", "bogus": 1}, "bogus"),
])
def test_executor_validation(api: Any, body: dict[str, Any], field: str) -> None:
    resp = api.post("/api/job/jobgroup/save", body)
    assert resp.status_code == 422 and field in resp.get_json()["errors"]


def test_executor_appname_is_unique(api: Any) -> None:
    make_executor(api, "dup-app")
    resp = api.post("/api/job/jobgroup/save", {"appname": "dup-app", "title": "x"})
    assert resp.status_code == 409 and "AppName" in resp.get_json()["msg"]


def test_executor_delete_rules(api: Any, app: Any) -> None:
    first = make_executor(api, "first-app")
    resp = api.delete(f"/api/job/jobgroup/{first}/remove")
    assert resp.status_code == 409 and "最后一个" in resp.get_json()["msg"]
    second = make_executor(api, "second-app")
    job = make_job(api, second)
    resp = api.delete(f"/api/job/jobgroup/{second}/remove")
    assert resp.status_code == 409 and "仍有 1 个任务" in resp.get_json()["msg"]
    api.data("DELETE", f"/api/job/jobinfo/{job}/remove")
    api.data("DELETE", f"/api/job/jobgroup/{second}/remove")
    assert api.get(f"/api/job/jobgroup/{second}/loadById").status_code == 404
    assert query(app, lambda: db.session.get(Executor, second).deleted_at is not None)
    # the appname is free again among live rows
    make_executor(api, "second-app")


def test_init_creates_a_default_executor(app: Any) -> None:
    from pcloud.jobs.service import DEFAULT_EXECUTOR_APPNAME, ensure_default_executor

    with app.app_context():
        assert ensure_default_executor() is True
        assert ensure_default_executor() is False
        assert [e.appname for e in db.session.query(Executor)] == [DEFAULT_EXECUTOR_APPNAME]


# ---------------------------------------------------------------- jobs


def test_job_add_list_update_and_item_shape(api: Any) -> None:
    executor = make_executor(api)
    job = make_job(api, executor, alarmEmail="ops@example.com", childJobId="")
    body = api.post("/api/job/jobinfo/pageList", {"jobGroup": executor, "triggerStatus": -1, "jobDesc": "订单",
                                                  "executorHandler": "demo", "author": "张"}).get_json()
    assert body["total"] == 1
    item = body["data"][0]
    assert item["id"] == job and item["jobCron"] == CRON and item["glueType"] == "BEAN"
    assert item["triggerStatus"] == 0 and item["triggerNextTime"] is None and item["timezone"] == "Asia/Shanghai"
    assert item["executorRouteStrategy"] == "FIRST" and item["executorBlockStrategy"] == "SERIAL_EXECUTION"
    assert api.post("/api/job/jobinfo/pageList", {"triggerStatus": 1}).get_json()["total"] == 0
    assert api.post("/api/job/jobinfo/pageList", {"author": "李"}).get_json()["total"] == 0
    # jobCron instead of scheduleType + scheduleConf, PUT and POST, echoed item fields ignored
    api.data("PUT", "/api/job/jobinfo/update", {"id": job, "jobCron": "0 0/5 * * * ?", "jobDesc": "新描述"})
    api.data("POST", "/api/job/jobinfo/update", {**item, "jobCron": "0 0/5 * * * ?", "author": "李四",
                                                "scheduleConf": "0 0/5 * * * ?"})
    got = query(api.client.application, lambda: db.session.get(Job, job))
    assert (got.schedule_conf, got.job_desc, got.author) == ("0 0/5 * * * ?", "同步订单", "李四")  # the echo wins


@pytest.mark.parametrize(("override", "field", "text"), [
    ({"scheduleConf": "0 0 12 * * *"}, "scheduleConf", "有且只有一个为 ?"),
    ({"scheduleConf": "0 0 25 * * ?"}, "scheduleConf", "时字段"),
    ({"jobCron": "bad", "scheduleType": None, "scheduleConf": None}, "jobCron", "6 或 7 个字段"),
    ({"scheduleType": "FIX_RATE", "scheduleConf": "0"}, "scheduleConf", "整数秒"),
    # digits that str.isdigit() takes and int() refuses (a 500 found by the schema fuzzer)
    ({"scheduleType": "FIX_RATE", "scheduleConf": "³"}, "scheduleConf", "整数秒"),
    ({"scheduleConf": "0 0 ² * * ?"}, "scheduleConf", "时字段"),
    ({"scheduleConf": "0/\u0665 * * * * ?"}, "scheduleConf", "秒字段"),  # an Arabic-Indic 5 as the step
    ({"childJobId": "①"}, "childJobId", "格式"),
    ({"executorHandler": "actionLogCleanHandler", "executorParam": "³"}, "executorParam", "天数"),
    ({"timezone": "Mars/Olympus"}, "timezone", "时区"),
    ({"executorHandler": "noSuchHandler"}, "executorHandler", "未注册"),
    ({"childJobId": "999999"}, "childJobId", "不存在"),
    ({"childJobId": "abc"}, "childJobId", "格式"),
    ({"alarmEmail": "not-an-email"}, "alarmEmail", "邮件"),
    ({"executorRouteStrategy": "NEAREST"}, "executorRouteStrategy", ""),
    ({"jobDesc": ""}, "jobDesc", ""),
])
def test_job_validation_names_the_field(api: Any, override: dict[str, Any], field: str, text: str) -> None:
    executor = make_executor(api)
    body = {k: v for k, v in job_body(executor, **override).items() if v is not None}
    resp = api.post("/api/job/jobinfo/add", body)
    payload = resp.get_json()
    assert resp.status_code == 422, payload
    assert field in payload["errors"] and text in str(payload["errors"][field])


def test_job_validation_reports_every_wrong_field_at_once(api: Any) -> None:
    executor = make_executor(api)
    resp = api.post("/api/job/jobinfo/add", job_body(executor, scheduleConf="not a cron",
                                                     executorHandler="nobody", alarmEmail="x@"))
    assert resp.status_code == 422
    assert set(resp.get_json()["errors"]) >= {"scheduleConf", "executorHandler", "alarmEmail"}


def test_unknown_executor_is_refused(api: Any) -> None:
    make_executor(api)
    resp = api.post("/api/job/jobinfo/add", job_body(999))
    assert resp.status_code == 422 and "jobGroup" in resp.get_json()["errors"]


def test_child_chain_that_loops_back_is_refused(api: Any) -> None:
    executor = make_executor(api)
    a = make_job(api, executor)
    b = make_job(api, executor, childJobId=str(a))
    c = make_job(api, executor, childJobId=str(b))
    resp = api.put("/api/job/jobinfo/update", {"id": a, "childJobId": str(c)})
    assert resp.status_code == 422 and "循环" in resp.get_json()["errors"]["childJobId"][0]
    resp = api.put("/api/job/jobinfo/update", {"id": a, "childJobId": str(a)})
    assert resp.status_code == 422
    api.data("PUT", "/api/job/jobinfo/update", {"id": c, "childJobId": str(a)})  # c -> a is no loop (a has none)


def test_start_computes_the_next_fire_time_and_stop_clears_it(api: Any, app: Any) -> None:
    from pcloud.jobs import cron

    executor = make_executor(api)
    job = make_job(api, executor, scheduleConf="0/5 * * * * ?")
    for method in ("POST", "GET"):
        # the first 5 s mark after the start's own moment, which lies between these two readings (under load the
        # mark may pass before the second)
        before = cron.to_epoch_ms(datetime.now(UTC))
        api.data(method, f"/api/job/jobinfo/{job}/start")
        after = cron.to_epoch_ms(datetime.now(UTC))
        row = query(app, lambda: db.session.get(Job, job))
        assert row.trigger_status == 1 and before < row.trigger_next_time <= after + 5000
        assert row.trigger_next_time % 5000 == 0
        api.data(method, f"/api/job/jobinfo/{job}/stop")
        row = query(app, lambda: db.session.get(Job, job))
        assert (row.trigger_status, row.trigger_next_time) == (0, 0)


def test_a_manual_only_job_cannot_be_started(api: Any) -> None:
    executor = make_executor(api)
    job = make_job(api, executor, scheduleType="NONE", scheduleConf="")
    resp = api.post(f"/api/job/jobinfo/{job}/start")
    assert resp.status_code == 409 and "NONE" in resp.get_json()["msg"]


def test_add_with_trigger_status_1_starts_the_job(api: Any, app: Any) -> None:
    executor = make_executor(api)
    job = make_job(api, executor, triggerStatus=1, scheduleType="FIX_RATE", scheduleConf="60")
    item = api.post("/api/job/jobinfo/pageList", {}).get_json()["data"][0]
    assert item["id"] == job and item["triggerStatus"] == 1 and item["triggerNextTime"]


def test_copy_is_a_stopped_copy_and_remove_keeps_the_logs(api: Any, app: Any) -> None:
    executor = make_executor(api)
    job = make_job(api, executor)
    api.data("POST", f"/api/job/jobinfo/{job}/start")
    copy = api.data("POST", f"/api/job/jobinfo/{job}/copy")
    row = query(app, lambda: db.session.get(Job, copy))
    assert row.job_desc == "同步订单 (副本)" and row.trigger_status == 0 and row.schedule_conf == CRON
    add_runs(app, job, executor, [200])
    api.data("DELETE", f"/api/job/jobinfo/{job}/remove")
    assert api.post("/api/job/jobinfo/pageList", {}).get_json()["total"] == 1
    assert api.post("/api/job/joblog/pageList", {"jobId": job}).get_json()["total"] == 1
    assert api.post(f"/api/job/jobinfo/{job}/start").status_code == 404


def test_trigger_writes_a_pending_manual_run(api: Any, app: Any) -> None:
    executor = make_executor(api)
    job = make_job(api, executor, executorParam="default")
    ids = api.data("POST", "/api/job/jobinfo/trigger", {"id": job, "executorParam": "once", "addressList": ""})
    run = query(app, lambda: db.session.get(JobRun, ids[0]))
    assert (run.trigger_type, run.status, run.handle_code, run.executor_param) == ("MANUAL", "PENDING", 0, "once")
    assert run.executor_address is None and run.executor_handler == "demoJobHandler"
    add_node(app, "orders-app", "node-7")
    ids = api.data("POST", "/api/job/jobinfo/trigger", {"id": job, "addressList": "node-7"})
    run = query(app, lambda: db.session.get(JobRun, ids[0]))
    assert run.executor_address == "node-7" and run.executor_param == "default"
    items = api.post("/api/job/joblog/pageList", {"jobId": job, "logStatus": 3}).get_json()["data"]
    assert len(items) == 2 and items[0]["triggerType"] == "MANUAL" and items[0]["jobDesc"] == "同步订单"


def test_run_once_goes_only_to_a_node_of_the_jobs_executor(api: Any, app: Any, pages: Any) -> None:
    """addressList names nodes of the job's own executor only: its live registered nodes (automatic) or its
    listed ones (manual); a node of another executor, a dead one or an unknown one is 422 on addressList, on the
    API and the page alike, and no run is written."""
    executor = make_executor(api, "orders-app")
    make_executor(api, "other-app")
    manual = make_executor(api, "manual-app", addressType=1, addressList="m1,m2")
    add_node(app, "orders-app", "own-node")
    add_node(app, "orders-app", "dead-node", age_seconds=31)
    add_node(app, "other-app", "e2node")
    job, manual_job = make_job(api, executor), make_job(api, manual, jobDesc="手动执行器的任务")
    for job_id, nodes in ((job, "e2node"), (job, "dead-node"), (job, "own-node,e2node"), (job, "m1"),
                          (job, "nobody"), (manual_job, "own-node"), (manual_job, "m1,e2node")):
        body = api_error(api.post("/api/job/jobinfo/trigger", {"id": job_id, "addressList": nodes}), 422)
        assert "addressList" in body["errors"], (nodes, body)
    resp = pages.submit("/job/info/", f"/job/info/{job}/trigger", {"executor_param": "", "address_list": "e2node"})
    assert resp.status_code == 422 and "e2node" in resp.get_data(as_text=True)
    assert query(app, lambda: db.session.query(JobRun).count()) == 0
    (own,) = api.data("POST", "/api/job/jobinfo/trigger", {"id": job, "addressList": "own-node"})
    (listed,) = api.data("POST", "/api/job/jobinfo/trigger", {"id": manual_job, "addressList": "m2"})
    assert query(app, lambda: [db.session.get(JobRun, i).executor_address for i in (own, listed)]) == [
        "own-node", "m2"]


def test_trigger_of_a_broadcast_job_writes_one_run_per_node(api: Any, app: Any) -> None:
    executor = make_executor(api, "bcast-app")
    add_node(app, "bcast-app", "n1")
    add_node(app, "bcast-app", "n2")
    job = make_job(api, executor, executorRouteStrategy="SHARDING_BROADCAST")
    ids = api.data("POST", "/api/job/jobinfo/trigger", {"id": job})
    items = api.post("/api/job/joblog/pageList", {"jobId": job}).get_json()["data"]
    assert len(ids) == 2
    assert sorted((i["executorAddress"], i["executorShardingParam"]) for i in items) == [("n1", "0/2"), ("n2", "1/2")]


def test_nodes_lists_live_nodes_of_the_jobs_executor(api: Any, app: Any) -> None:
    executor = make_executor(api, "nodes-app")
    add_node(app, "nodes-app", "alive")
    add_node(app, "nodes-app", "dead", age_seconds=31)
    job = make_job(api, executor)
    nodes = api.data("GET", f"/api/job/jobinfo/{job}/nodes")
    assert [n["address"] for n in nodes] == ["http://alive"] and nodes[0]["registryTime"]


def test_next_trigger_time_post_and_get(api: Any) -> None:
    times = api.data("POST", "/api/job/jobinfo/nextTriggerTime",
                     {"scheduleType": "CRON", "scheduleConf": "0 0 12 * * ?", "timezone": "Europe/Berlin"})
    assert len(times) == 5 and all(t.endswith("T12:00:00") for t in times)
    times = api.data("GET", "/api/job/jobinfo/nextTriggerTime?cron=0+30+9+*+*+%3F")
    assert len(times) == 5 and all(t.endswith("T09:30:00") for t in times)
    fixed = api.data("POST", "/api/job/jobinfo/nextTriggerTime", {"scheduleType": "FIX_RATE", "scheduleConf": "10"})
    assert len(fixed) == 5 and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", t) for t in fixed)
    resp = api.post("/api/job/jobinfo/nextTriggerTime", {"scheduleType": "CRON", "scheduleConf": "0 0 12 * *"})
    assert resp.status_code == 422 and "6 或 7 个字段" in resp.get_json()["msg"]
    assert api.get("/api/job/jobinfo/nextTriggerTime?cron=x").status_code == 422
    resp = api.post("/api/job/jobinfo/nextTriggerTime", {"scheduleType": "FIX_RATE", "scheduleConf": "³"})
    assert resp.status_code == 422 and "整数秒" in resp.get_json()["msg"]
    # an unknown zone is said on its own field, as a save says it (a review found it under scheduleConf)
    resp = api.post("/api/job/jobinfo/nextTriggerTime", {"scheduleType": "CRON", "scheduleConf": "0 0 12 * * ?",
                                                         "timezone": "Mars/Olympus"})
    assert "timezone" in api_error(resp, 422)["errors"]


# ---------------------------------------------------------------- runs


def test_run_page_filters(api: Any, app: Any) -> None:
    executor = make_executor(api)
    other_executor = make_executor(api, "other-app")
    job = make_job(api, executor)
    other = make_job(api, other_executor)
    add_runs(app, job, executor, [200, 200, 500, 502, 0])
    add_runs(app, other, other_executor, [200], days_ago=10)
    total = lambda body: api.post("/api/job/joblog/pageList", body).get_json()["total"]  # noqa: E731
    assert total({}) == 6
    assert total({"jobGroup": executor}) == 5
    assert total({"jobGroup": executor, "jobId": job, "logStatus": 1}) == 2
    assert total({"jobId": job, "logStatus": 2}) == 2
    assert total({"jobId": job, "logStatus": 3}) == 1
    from pcloud.core.timefmt import format_local, utcnow

    start = format_local(utcnow() - timedelta(days=1))
    assert total({"filterTime": [start, format_local(utcnow() + timedelta(minutes=1))]}) == 5
    end = format_local(utcnow() + timedelta(minutes=1))
    assert total({"filterTime": f"{start.replace('T', ' ')} - {end.replace('T', ' ')}"}) == 5
    resp = api.post("/api/job/joblog/pageList", {"filterTime": ["2027-01-02T00:00:00", "2027-01-01T00:00:00"]})
    assert resp.status_code == 422
    assert api.post("/api/job/joblog/pageList", {"filterTime": 5}).status_code == 422
    page = api.post("/api/job/joblog/pageList", {"page": 1, "pageSize": 2}).get_json()
    assert len(page["data"]) == 2 and page["total"] == 6


def test_jobs_by_group(api: Any) -> None:
    executor = make_executor(api)
    job = make_job(api, executor)
    assert [j["id"] for j in api.data("GET", f"/api/job/joblog/{executor}/getJobsByGroup")] == [job]


def test_log_detail_cat_reads_from_a_line_and_says_when_the_output_is_complete(api: Any, app: Any) -> None:
    executor = make_executor(api)
    job = make_job(api, executor)
    [run] = add_runs(app, job, executor, [0])
    with app.app_context():
        db.session.add_all([JobRunLine(log_id=run, line_no=i, content=f"line {i}") for i in (1, 2, 3)])
        db.session.execute(db.update(JobRun).where(JobRun.id == run).values(line_count=3))
        db.session.commit()
    first = api.data("POST", "/api/job/joblog/logDetailCat", {"logId": run, "fromLineNum": 1})
    assert first == {"fromLineNum": 1, "toLineNum": 3, "logContent": "line 1\nline 2\nline 3", "isEnd": False}
    with app.app_context():
        db.session.add(JobRunLine(log_id=run, line_no=4, content="done"))
        db.session.execute(db.update(JobRun).where(JobRun.id == run).values(line_count=4, status="DONE",
                                                                             handle_code=200))
        db.session.commit()
    nxt = api.data("POST", "/api/job/joblog/logDetailCat", {"logId": run, "fromLineNum": 4})
    assert nxt == {"fromLineNum": 4, "toLineNum": 4, "logContent": "done", "isEnd": True}
    assert api.post("/api/job/joblog/logDetailCat", {"logId": 999999}).status_code == 404


def test_log_kill(api: Any, app: Any) -> None:
    executor = make_executor(api)
    job = make_job(api, executor)
    [pending] = api.data("POST", "/api/job/jobinfo/trigger", {"id": job})
    api.data("POST", f"/api/job/joblog/{pending}/logKill")
    row = query(app, lambda: db.session.get(JobRun, pending))
    assert (row.status, row.handle_code) == ("DONE", 503)
    [running] = add_runs(app, job, executor, [0])
    api.data("POST", f"/api/job/joblog/{running}/logKill")
    row = query(app, lambda: db.session.get(JobRun, running))
    assert row.kill_requested and row.status == "RUNNING"
    [done] = add_runs(app, job, executor, [200], days_ago=1)
    resp = api.post(f"/api/job/joblog/{done}/logKill")
    assert resp.status_code == 409 and "已结束" in resp.get_json()["msg"]


@pytest.mark.parametrize(("clear_type", "expected_left"), [
    (1, {"d0", "d20", "running_old"}),          # older than 1 month
    (2, {"d0", "d20", "d45", "running_old"}),   # 3 months
    (3, {"d0", "d20", "d45", "d100", "running_old"}),
    (4, {"d0", "d20", "d45", "d100", "d200", "running_old"}),
    (5, "keep"), (6, "keep"), (7, "keep"), (8, "keep"),
    (9, {"running_old"}),
])
def test_clear_log_each_type(api: Any, app: Any, clear_type: int, expected_left: Any) -> None:
    executor = make_executor(api)
    job = make_job(api, executor)
    other = make_job(api, executor)
    names: dict[int, str] = {}
    for name, days in (("d0", 0), ("d20", 20), ("d45", 45), ("d100", 100), ("d200", 200), ("d400", 400)):
        names[add_runs(app, job, executor, [200], days_ago=days)[0]] = name
    names[add_runs(app, job, executor, [0], days_ago=500)[0]] = "running_old"
    [other_run] = add_runs(app, other, executor, [200], days_ago=500)
    with app.app_context():
        db.session.add_all([JobRunLine(log_id=i, line_no=1, content="x") for i in names])
        db.session.commit()
    if expected_left == "keep":
        # keep the newest N: with N >= 1000 and 7 runs, nothing is deleted
        removed = api.data("POST", "/api/job/joblog/clearLog", {"jobGroup": executor, "jobId": job, "type": clear_type})
        assert removed == 0
        return
    removed = api.data("POST", "/api/job/joblog/clearLog", {"jobGroup": executor, "jobId": job, "type": clear_type})
    left = query(app, lambda: {names[r.id] for r in db.session.query(JobRun) if r.id in names})
    assert left == expected_left and removed == len(names) - len(left)
    assert query(app, lambda: db.session.get(JobRun, other_run)) is not None  # another job's runs stay
    lines = query(app, lambda: {r.log_id for r in db.session.query(JobRunLine)})
    assert lines == {i for i, n in names.items() if n in left}


def test_clear_log_keep_newest(api: Any, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pcloud.jobs import service

    monkeypatch.setitem(service._CLEAR_KEEP, 5, 3)
    executor = make_executor(api)
    job = make_job(api, executor)
    ids = add_runs(app, job, executor, [200] * 5)
    assert api.data("POST", "/api/job/joblog/clearLog", {"jobGroup": 0, "jobId": 0, "type": 5}) == 2
    assert query(app, lambda: sorted(r.id for r in db.session.query(JobRun))) == sorted(ids)[2:]
    assert api.post("/api/job/joblog/clearLog", {"type": 10}).status_code == 422


def test_clear_log_of_a_job_and_another_executor_clears_what_the_list_shows(api: Any, app: Any, pages: Any) -> None:
    """A review: clearLog {jobGroup: B, jobId: a job of executor A} deleted every run of that job on A, where the run
    log of the same filter (/job/log/?jobGroup=B&jobId=...) lists none and XXL-JOB's clearLog matches both. The
    executor and the job narrow the scope together, as the list's filters do: nothing of A's goes."""
    executor = make_executor(api)
    other = make_executor(api, "other-app")
    job = make_job(api, executor)
    ids = add_runs(app, job, executor, [200] * 3)
    assert api.data("POST", "/api/job/joblog/clearLog", {"jobGroup": other, "jobId": job, "type": 9}) == 0
    resp = pages.submit(f"/job/log/?jobGroup={other}&jobId={job}", "/job/log/clear",
                        {"job_group": str(other), "job_id": str(job), "type": "9"})
    assert resp.status_code == 302
    assert query(app, lambda: sorted(r.id for r in db.session.query(JobRun))) == sorted(ids)
    assert api.data("POST", "/api/job/joblog/clearLog", {"jobGroup": executor, "jobId": job, "type": 9}) == 3


def test_clear_log_of_an_executor_that_does_not_exist_is_refused_404(api: Any, app: Any, pages: Any) -> None:
    """A review: clearLog with an unknown jobGroup answered 200 with 0 deleted, where an unknown jobId answers 404
    任务不存在: it answers 404 执行器不存在 too (the API and the page), and nothing is deleted."""
    from tests.conftest import assert_refused

    executor = make_executor(api)
    job = make_job(api, executor)
    ids = add_runs(app, job, executor, [200] * 2)
    missing = executor + 1000
    resp = api.post("/api/job/joblog/clearLog", {"jobGroup": missing, "type": 9})
    assert_refused(app, resp, "清理调度日志", 404, "执行器不存在")
    resp = pages.submit("/job/log/", "/job/log/clear", {"job_group": str(missing), "job_id": "0", "type": "9"})
    assert_refused(app, resp, "清理调度日志", 404, "执行器不存在")
    assert query(app, lambda: sorted(r.id for r in db.session.query(JobRun))) == sorted(ids)


def test_a_cron_that_never_fires_is_not_called_wrong(api: Any) -> None:
    """A browser review: 0 0 0 30 2 ? (30 February) is a well-formed expression that never fires; the schedule
    helper said so (该 Cron 表达式以后不会再触发), but the save said Cron 表达式不正确：该 Cron 表达式以后不会再触发,
    calling it wrong. The save says what the helper says; a malformed one is still 不正确."""
    executor = make_executor(api)
    for route, body in (("/api/job/jobinfo/add", job_body(executor, scheduleConf="0 0 0 30 2 ?")),
                        ("/api/job/jobinfo/nextTriggerTime", {"scheduleType": "CRON", "scheduleConf": "0 0 0 30 2 ?"})):
        resp = api.post(route, body)
        assert resp.status_code == 422
        assert resp.get_json()["errors"]["scheduleConf"] == ["该 Cron 表达式以后不会再触发"], route
    resp = api.post("/api/job/jobinfo/add", job_body(executor, scheduleConf="61 * * * * ?"))
    assert resp.get_json()["errors"]["scheduleConf"] == ["Cron 表达式不正确：秒字段的值 61 超出范围 0-59"]


# ---------------------------------------------------------------- report


def test_statistics_and_chart_info(api: Any, app: Any) -> None:
    executor = make_executor(api, "stat-app")
    add_node(app, "stat-app", "n1")
    job = make_job(api, executor)
    add_runs(app, job, executor, [200, 200, 500, 0])
    add_runs(app, job, executor, [200], days_ago=2)
    body = api.post("/api/job/statistics").get_json()
    assert body["data"] == body["content"] == {"jobInfoCount": 1, "jobLogCount": 5, "jobLogSuccessCount": 3,
                                               "executorCount": 1}
    from pcloud.core.timefmt import local_today

    today = local_today()
    body = api.post("/api/job/chartInfo", {"startDate": (today - timedelta(days=6)).isoformat(),
                                           "endDate": today.isoformat()}).get_json()
    chart = body["data"]
    assert body["content"] == chart
    assert len(chart["triggerDayList"]) == 7 and chart["triggerDayList"][-1] == today.isoformat()
    assert chart["triggerDayCountSucList"][-1] == 2 and chart["triggerDayCountSucList"][-3] == 1
    totals = (chart["triggerCountSucTotal"], chart["triggerCountFailTotal"], chart["triggerCountRunningTotal"])
    assert totals == (3, 1, 1)
    assert query(app, lambda: db.session.query(JobReport).count()) >= 3
    resp = api.post("/api/job/chartInfo", {"startDate": "2027-02-01", "endDate": "2027-01-01"})
    assert resp.status_code == 422
    assert len(api.data("POST", "/api/job/chartInfo", {})["triggerDayList"]) == 7
    # the edges of the calendar are refused, not a 500 (the fuzz test found endDate 0001-01-01)
    for body in ({"endDate": "0001-01-01"}, {"startDate": "9999-12-31", "endDate": "9999-12-31"}):
        assert api.post("/api/job/chartInfo", body).status_code == 422, body


def test_run_ids_are_never_reused_after_clear_log(api: Any, app: Any) -> None:
    """Issue 19, finding 13: clearLog deleted runs 6 and 7 and the next runs got 6 and 7 again (SQLite), so an
    alarm mail quoting a run id could later point at another run."""
    executor = make_executor(api)
    job, other = make_job(api, executor), make_job(api, executor)
    kept = add_runs(app, job, executor, [200] * 5)
    newest = add_runs(app, other, executor, [200, 500])
    assert api.data("POST", "/api/job/joblog/clearLog", {"jobId": other, "type": 9}) == 2
    assert query(app, lambda: db.session.query(JobRun).count()) == len(kept)
    again = add_runs(app, other, executor, [200, 200])
    assert min(again) > max(newest), (newest, again)
    # the page's trigger writes its run the same way
    assert api.data("POST", "/api/job/joblog/clearLog", {"jobId": other, "type": 9}) == 2
    ids = api.data("POST", "/api/job/jobinfo/trigger", {"id": job})
    assert min(int(i) for i in ids) > max(again), (again, ids)


# ---------------------------------------------------------------- issue 19, finding 3: the schedule budget

EXPENSIVE_CRON = "* * * L-30 2,4,6,9,11 ?"  # never fires: every day of 130 years was walked before the budget


def test_an_expensive_schedule_is_refused_with_422_quickly(api: Any, app: Any) -> None:
    executor = make_executor(api)
    calls = [("/api/job/jobinfo/nextTriggerTime",
              {"scheduleType": "CRON", "scheduleConf": EXPENSIVE_CRON, "timezone": "America/Santiago"}),
             ("/api/job/jobinfo/add", job_body(executor, scheduleConf=EXPENSIVE_CRON, timezone="America/Santiago"))]
    for url, body in calls:
        started = time.thread_time()  # CPU time of this thread: the budget bounds work, whatever the machine's load
        resp = api.post(url, body)
        took = time.thread_time() - started
        assert resp.status_code == 422 and "计算量过大" in resp.get_json()["msg"], (url, resp.get_data(as_text=True))
        assert took < 2, f"{url} took {took:.1f}s of CPU"
    assert query(app, lambda: db.session.query(Job).count()) == 0


# ---------------------------------------------------------------- issue 19, finding 5: maintenance handlers

JOB_MENUS = ("/job", "/job/report", "/job/info", "/job/log", "/job/group")


def job_codes(app: Any, clean_runs: bool) -> tuple[str, ...]:
    """The codes of every job API operation, the run log's clean among them only if `clean_runs`."""
    from sqlalchemy import select

    from pcloud.resources.models import Resource
    from tests.factories import route_code

    clear = route_code("jobs_api.clear_log", "POST")
    codes = query(app, lambda: list(db.session.execute(select(Resource.code).where(
        Resource.code.like("api:jobs_api.%"), Resource.deleted_at.is_(None))).scalars()))
    assert clear in codes
    return tuple(c for c in codes if clean_runs or c != clear)


def job_only_client(app: Any, client: Any, *, clean_runs: bool = False) -> Any:
    """A user whose role holds every job menu and job API operation (but the run log's clean, unless asked)."""
    from tests.conftest import ApiClient
    from tests.factories import grant_role, make_role, make_user, next_phone

    role = make_role(app, f"JOBS{int(clean_runs)}")
    grant_role(app, role, menu_paths=JOB_MENUS, resource_codes=job_codes(app, clean_runs))
    phone = next_phone()
    make_user(app, phone=phone, role_ids=[role])
    helper = ApiClient(client)
    helper.token = helper.sign_in(phone, "Passw0rd1")
    return helper


def test_a_job_only_role_cannot_wipe_the_operation_log(api: Any, app: Any, client: Any) -> None:
    from pcloud.actionlog.models import ActionLog
    from pcloud.jobs.worker.maintenance import ensure_maintenance_jobs
    from tests.factories import make_action_log

    executor = make_executor(api, "pcloud-executor", title="默认执行器")
    with app.app_context():
        ensure_maintenance_jobs()
        builtin = db.session.query(Job).filter_by(executor_handler="actionLogCleanHandler").one().id
        db.session.remove()
    admin_id = query(app, lambda: db.session.query(ActionLog.user_id).limit(1).scalar())
    make_action_log(app, admin_id or 1)
    rows = query(app, lambda: db.session.query(ActionLog).count())
    jobs_user = job_only_client(app, client)
    # the attack of the issue: run the built-in retention job with 1, or a new job on the handler
    api_error(jobs_user.post("/api/job/jobinfo/trigger", {"id": builtin, "executorParam": "1"}), 403)
    api_error(jobs_user.post("/api/job/jobinfo/trigger", {"id": builtin}), 403)
    api_error(jobs_user.put("/api/job/jobinfo/update", {"id": builtin, "executorParam": "1"}), 403)
    api_error(jobs_user.post(f"/api/job/jobinfo/{builtin}/copy"), 403)
    api_error(jobs_user.post("/api/job/jobinfo/add", job_body(executor, executorHandler="actionLogCleanHandler",
                                                              executorParam="1")), 403)
    mine = jobs_user.data("POST", "/api/job/jobinfo/add", job_body(executor))
    api_error(jobs_user.put("/api/job/jobinfo/update", {"id": mine, "childJobId": str(builtin)}), 403)
    api_error(jobs_user.post("/api/job/jobinfo/add", job_body(executor, childJobId=str(builtin))), 403)
    api_error(jobs_user.put("/api/job/jobinfo/update", {"id": mine, "executorHandler": "actionLogCleanHandler",
                                                        "executorParam": "1"}), 403)
    assert query(app, lambda: db.session.query(JobRun).filter_by(job_id=builtin).count()) == 0
    assert query(app, lambda: db.session.query(Job).filter_by(executor_handler="actionLogCleanHandler").count()) == 1
    assert query(app, lambda: db.session.query(ActionLog).count()) >= rows
    # even the super administrator cannot go below the configured retention (180 days)
    body = api_error(api.post("/api/job/jobinfo/trigger", {"id": builtin, "executorParam": "1"}), 422)
    assert "180" in body["msg"]
    api_error(api.put("/api/job/jobinfo/update", {"id": builtin, "executorParam": "179"}), 422)
    assert api.data("PUT", "/api/job/jobinfo/update", {"id": builtin, "executorParam": "365"}) == builtin


def test_the_run_log_cleaner_needs_the_run_log_clean_grant_and_keeps_the_retention(
        api: Any, app: Any, client: Any) -> None:
    executor = make_executor(api)
    cleaner = make_job(api, executor, executorHandler="jobLogCleanHandler", executorParam="30")
    without = job_only_client(app, client)
    api_error(without.post("/api/job/jobinfo/trigger", {"id": cleaner}), 403)
    api_error(without.post("/api/job/jobinfo/add", job_body(executor, executorHandler="jobLogCleanHandler")), 403)
    granted = job_only_client(app, app.test_client(), clean_runs=True)
    body = api_error(granted.post("/api/job/jobinfo/trigger", {"id": cleaner, "executorParam": "1"}), 422)
    assert "30" in body["msg"]
    api_error(granted.post("/api/job/jobinfo/add", job_body(executor, executorHandler="jobLogCleanHandler",
                                                            executorParam="1")), 422)
    assert len(granted.data("POST", "/api/job/jobinfo/trigger", {"id": cleaner, "executorParam": "45"})) == 1


def test_a_job_only_role_cannot_run_the_operation_log_cleaner_from_the_page(api: Any, app: Any) -> None:
    from tests.conftest import PageClient
    from tests.factories import grant_role, make_role, make_user, next_phone

    executor = make_executor(api)
    cleaner = make_job(api, executor, jobDesc="操作日志保留", executorHandler="actionLogCleanHandler",
                       executorParam="180")
    role = make_role(app, "JOBPAGES")
    grant_role(app, role, menu_paths=JOB_MENUS, resource_codes=job_codes(app, clean_runs=True))
    phone = next_phone()
    make_user(app, phone=phone, role_ids=[role])
    pages = PageClient(app.test_client())
    assert pages.sign_in(phone, "Passw0rd1").status_code == 302
    resp = pages.submit("/job/info/", f"/job/info/{cleaner}/trigger", {"executor_param": "1", "address_list": ""})
    assert resp.status_code == 403, resp.get_data(as_text=True)[:300]
    assert query(app, lambda: db.session.query(JobRun).filter_by(job_id=cleaner).count()) == 0


# ---------------------------------------------------------------- issue 19, finding 7: child-job loops under a race


def test_parallel_updates_never_link_two_jobs_both_ways(api: Any, app: Any, live_server: Any) -> None:
    """A->B and B->A sent at once to gunicorn (2 workers), many rounds: at most one of each pair succeeds."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from tests.conftest import ADMIN_PASSWORD, ADMIN_PHONE

    token = requests.post(f"{live_server.url}/api/oauth/token", json={
        "phone": ADMIN_PHONE, "password": ADMIN_PASSWORD, "grantType": "ADMIN"}, timeout=30).json()["data"]["token"]
    executor = make_executor(api)
    a, b = make_job(api, executor), make_job(api, executor)
    rounds, both, statuses = 25, 0, []
    with requests.Session() as http, ThreadPoolExecutor(2) as pool:
        http.headers["Authorization"] = f"Bearer {token}"
        for _ in range(rounds):
            with app.app_context():
                db.session.execute(Job.__table__.update().values(child_job_id=None))
                db.session.commit()
                db.session.remove()
            barrier = threading.Barrier(2)

            def link(pair: tuple[int, int], barrier: threading.Barrier = barrier) -> int:
                barrier.wait()
                return http.put(f"{live_server.url}/api/job/jobinfo/update",
                                json={"id": pair[0], "childJobId": str(pair[1])}, timeout=60).status_code

            answers = list(pool.map(link, [(a, b), (b, a)]))
            statuses.append(tuple(answers))
            both += answers == [200, 200]
            children = query(app, lambda: {j.id: j.child_job_id for j in db.session.query(Job)})
            assert not (children[a] == str(b) and children[b] == str(a)), (answers, children)
    assert both == 0, statuses
    assert all(sorted(s) in ([200, 422], [200, 409]) for s in statuses), statuses  # a lost race: 409, never 503


# ---------------------------------------------------------------- removals and last executors under a race


def test_parallel_deletes_of_the_last_two_executors_leave_one(api: Any, app: Any, live_server: Any) -> None:
    """Two live executors without jobs, each deleted at once by gunicorn (2 workers), many rounds: one
    delete is refused as the last executor's (409), one executor stays."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests

    rounds, statuses = 10, []
    with requests.Session() as http, ThreadPoolExecutor(2) as pool:
        http.headers["Authorization"] = f"Bearer {api.token}"
        for n in range(rounds):
            with app.app_context():  # exactly these two live: the round before left one
                db.session.execute(Executor.__table__.update().where(Executor.deleted_at.is_(None))
                                   .values(deleted_at=datetime.now(UTC).replace(tzinfo=None)))
                db.session.commit()
                db.session.remove()
            pair = [make_executor(api, f"left-{n}"), make_executor(api, f"right-{n}")]
            barrier = threading.Barrier(2)

            def remove(executor: int, barrier: threading.Barrier = barrier) -> int:
                barrier.wait()
                return http.delete(f"{live_server.url}/api/job/jobgroup/{executor}/remove", timeout=60).status_code

            answers = list(pool.map(remove, pair))
            statuses.append(tuple(answers))
            live = query(app, lambda: db.session.query(Executor).filter(Executor.deleted_at.is_(None)).count())
            assert live == 1 and sorted(answers) == [200, 409], (answers, live)


def while_removing(app: Any, job_id: int, call: Any, model: Any = Job, hold: Any = None) -> Any:
    """`call()` (a request, run in a thread of its own) while another transaction is removing the job (or the
    row of another `model`, an executor): it has marked it deleted and holds its lock (the row's on PostgreSQL,
    the write lock on SQLite), and commits as soon as the request writes or takes a lock (or ends). The
    request's answer. `hold(connection)`: another uncommitted change to hold instead (a row deleted outright)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    writing = threading.Event()
    here = threading.get_ident()

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text_ = statement.lstrip().upper()
        if threading.get_ident() != here and (text_.startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE"))
                                              or "FOR UPDATE" in text_ or "FOR SHARE" in text_):
            writing.set()

    with engine.connect() as holder:
        if engine.dialect.name == "sqlite":
            holder.exec_driver_sql("BEGIN IMMEDIATE")
        if hold is not None:
            hold(holder)
        else:
            gone = {"deleted_at": datetime.now(UTC).replace(tzinfo=None)}
            if model is Job:
                gone.update(trigger_status=0, trigger_next_time=0)
            holder.execute(model.__table__.update().where(model.__table__.c.id == job_id).values(**gone))
        event.listen(engine, "before_cursor_execute", seen)
        try:
            with ThreadPoolExecutor(1) as pool:
                answer = pool.submit(call)
                while not writing.wait(0.05) and not answer.done():
                    pass
                holder.commit()
                return answer.result(timeout=60)
        finally:
            event.remove(engine, "before_cursor_execute", seen)


def test_start_run_once_and_copy_racing_a_removal_act_on_nothing(api: Any, app: Any) -> None:
    """A start, a run once or a copy that comes while the job is being removed waits for the removal and then
    finds no job (404): the removed job stays stopped, without a next fire time, runs or a copy."""
    executor = make_executor(api)
    outcomes = {}
    for path in ("start", "trigger", "copy", "stop", "update"):
        job = make_job(api, executor, jobDesc=f"将被删除 {path}")
        url, body = (("/api/job/jobinfo/trigger", {"id": job}) if path == "trigger"
                     else ("/api/job/jobinfo/update", {"id": job, "jobDesc": "改了"}) if path == "update"
                     else (f"/api/job/jobinfo/{job}/{path}", {}))
        status = while_removing(app, job, lambda url=url, body=body: api.post(url, body).status_code)
        row = query(app, lambda job=job: db.session.get(Job, job))
        outcomes[path] = (status, row.deleted_at is not None, row.trigger_status, row.trigger_next_time,
                          query(app, lambda job=job: db.session.query(JobRun).filter_by(job_id=job).count()),
                          query(app, lambda: db.session.query(Job).filter(Job.job_desc.like("%副本%")).count()))
    assert outcomes == dict.fromkeys(("start", "trigger", "copy", "stop", "update"), (404, True, 0, 0, 0, 0)), \
        outcomes


def test_a_job_saved_onto_an_executor_being_removed_is_refused(api: Any, app: Any) -> None:
    """A job created (or moved) onto an executor while it is being removed waits for the removal and is refused
    (422 on jobGroup): no live job is left on a removed executor."""
    keep = make_executor(api)
    for round_, path in enumerate(("add", "update")):
        going = make_executor(api, appname=f"going-{round_}")
        job = make_job(api, keep, jobDesc=f"移动 {round_}")
        body = job_body(going, jobDesc=f"新任务 {round_}") if path == "add" else {"id": job, "jobGroup": going}
        resp = while_removing(app, going, lambda path=path, body=body: api.post(f"/api/job/jobinfo/{path}", body),
                              model=Executor)
        assert "jobGroup" in api_error(resp, 422)["errors"], path
        assert query(app, lambda going=going: db.session.query(Job).filter(
            Job.job_group == going, Job.deleted_at.is_(None)).count()) == 0


# Issue 19, finding 9: years 0001/9999 in the run log's filterTime answered 500; 20-digit ids must be 422.
def test_run_and_job_filters_out_of_range_are_422(api: Any) -> None:
    from tests.conftest import api_error

    msg = "时间超出范围，应在 1900-01-01 至 9999-12-30 之间"
    for value in (["0001-01-01 00:00:00", None], [None, "9999-12-31 23:59:59"],
                  ["0001-01-01T00:00:00+14:00", None], "0001-01-01 00:00:00 - 2020-01-01 00:00:00"):
        body = api_error(api.post("/api/job/joblog/pageList", {"filterTime": value}), 422)
        assert body["errors"] == {"filterTime": [msg]}, (value, body)
    huge, beyond_id = 10**19, "必须大于或等于 0 且小于或等于 2147483647"
    for body, errors in (({"jobId": huge}, {"jobId": [beyond_id]}),
                         ({"jobGroup": str(huge)}, {"jobGroup": [beyond_id]}),
                         ({"logStatus": huge}, {"logStatus": ["取值必须是其中之一：-1, 0, 1, 2, 3"]})):
        assert api_error(api.post("/api/job/joblog/pageList", body), 422)["errors"] == errors, body
    for body, errors in (({"jobGroup": huge}, {"jobGroup": [beyond_id]}),
                         ({"triggerStatus": huge}, {"triggerStatus": ["取值必须是其中之一：-1, 0, 1"]}),
                         ({"triggerStatus": str(huge)}, {"triggerStatus": ["取值必须是其中之一：-1, 0, 1"]})):
        assert api_error(api.post("/api/job/jobinfo/pageList", body), 422)["errors"] == errors, body


# ---------------------------------------------------------------- import: the file's budget and a save's rules


def import_file(api: Any, doc: Any, **options: Any) -> Any:
    import io
    import json

    raw = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode()
    form = {"file": (io.BytesIO(raw), "jobs.json"), **{k: str(v).lower() for k, v in options.items()}}
    return api.client.post("/api/job/jobinfo/import", data=form, content_type="multipart/form-data",
                           headers={"Authorization": f"Bearer {api.token}"})


def transfer_doc(api: Any, executor: int) -> dict[str, Any]:
    import json

    resp = api.post("/api/job/jobinfo/export", {"jobGroup": executor})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return json.loads(resp.get_data(as_text=True))


def test_an_import_s_job_links_are_capped_as_a_save_s_and_cost_one_query(api: Any, app: Any) -> None:
    """One job whose childJobs and parentJobs each held 9,800 references to an existing job cost the old import
    one query per reference (~14 s of CPU for 1 MiB, before the 64 parents were counted); now a list longer than a
    save allows is refused at once (one statement: the caller's), references cost the statements of one, and
    duplicates count once."""
    from sqlalchemy import select

    executor = make_executor(api)
    child, parent = make_job(api, executor, jobDesc="对账"), make_job(api, executor, jobDesc="清算")
    doc = transfer_doc(api, executor)
    ref, up = {"appname": "orders-app", "jobDesc": "对账"}, {"appname": "orders-app", "jobDesc": " 清算 "}

    def linked(children: int, parents: int) -> dict[str, Any]:
        return {**doc, "jobs": [{**doc["jobs"][0], "jobDesc": "汇总", "childJobs": [ref] * children,
                                 "parentJobs": [up] * parents}]}

    def dry_run(children: int, parents: int) -> Any:
        return import_file(api, linked(children, parents), dryRun=True, onConflict="skip")

    answers: list[Any] = []
    refused = statements_run(app, lambda: answers.append(dry_run(2500, 2500)))
    body = api_error(answers[-1], 422)
    assert "parentJobs" in body["errors"]["file"][0] or "childJobs" in body["errors"]["file"][0]
    one_each = statements_run(app, lambda: answers.append(dry_run(1, 1)))
    assert answers[-1].status_code == 200, answers[-1].get_json()
    # as many ids as the child list holds, and 64 parents: within, at the statements of one reference each
    assert statements_run(app, lambda: answers.append(dry_run(128, 64))) == one_each
    assert answers[-1].status_code == 200 and refused < one_each, (refused, one_each)
    seconds, _ = least_cpu_seconds(lambda: dry_run(2500, 2500))
    within, _ = least_cpu_seconds(lambda: dry_run(1, 1))
    # was ~3.5 s (a query per reference); reading and refusing 5,000 references costs 1.5-3.5 dry runs of one
    assert seconds < 10 * within, (seconds, within)
    resp = import_file(api, linked(128, 64), onConflict="skip")
    assert resp.status_code == 200 and resp.get_json()["data"]["imported"], resp.get_json()

    def links() -> tuple[str | None, list[int]]:
        from pcloud.jobs.models import JobDependency

        job = db.session.execute(select(Job).where(Job.job_desc == "汇总")).scalar_one()
        return job.child_job_id, list(db.session.execute(
            select(JobDependency.parent_job_id).where(JobDependency.job_id == job.id)).scalars())

    assert query(app, links) == (str(child), [parent])  # each linked once
    assert "64" in api_error(dry_run(1, 65), 422)["errors"]["file"][0]


@pytest.mark.parametrize("raw", [
    b"[" * 100_000,
    b'{"format": "pcloud-jobs", "version": 1, "executors": [], "jobs": [{"appname": "orders-app", "jobDesc": "x",'
    b' "executorParam": ' + b"[" * 5000 + b"]" * 5000 + b"}]}",
    b'{"format": "pcloud-jobs", "version": 1, "executors": [], "jobs": [' + b"[" * 100 + b"]" * 100 + b"]}",
    b'{"format": "pcloud-jobs", "version": 1, "executors": [], "jobs": [{"appname": "orders-app",'
    b' "jobDesc": "\\ud800", "author": "x", "executorHandler": "demoJobHandler"}]}',
], ids=["bare", "in-a-job", "deeper-than-64", "lone-surrogate"])
def test_a_deeply_nested_import_file_is_refused_on_file(api: Any, raw: bytes) -> None:
    """The old import answered 500 (RecursionError) to deeply nested JSON, and 500 to a lone UTF-16 surrogate no
    database stores; the request bodies' rule (at most 64 levels, no lone surrogate: core.security) now holds for
    the file too."""
    make_executor(api)
    for options in ({"dryRun": True}, {}):
        body = api_error(import_file(api, raw, **options), 422)
        assert "嵌套过深" in body["errors"]["file"][0]


def test_the_import_page_refuses_a_deeply_nested_file(pages: Any) -> None:
    import io

    resp = pages.submit("/job/info/", "/job/info/import", {"file": (io.BytesIO(b"[" * 100_000), "jobs.json"),
                                                           "dry_run": "y"}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "嵌套过深" in resp.get_data(as_text=True)


def test_jobs_named_alike_are_not_exported_into_a_file_that_would_not_import_back(api: Any, app: Any) -> None:
    """A review: a job added twice (a double click) exported into a file its own import refused (文件中重复的任务),
    and an overwrite into a database with two such jobs silently updated the lower id."""
    executor = make_executor(api)
    first = make_job(api, executor, jobDesc="对账")
    make_job(api, executor, jobDesc="对账")
    refused = api.post("/api/job/jobinfo/export", {"jobGroup": executor})
    assert "多个名为「对账」的任务" in api_error(refused, 422)["msg"]
    # exported alone, it imports back; over the two named alike, an overwrite does not guess
    doc = json.loads(api.post("/api/job/jobinfo/export", {"ids": [first]}).get_data(as_text=True))
    report = import_file(api, doc, onConflict="overwrite")
    assert "无法确定覆盖哪一个" in str(report.get_json()), report.get_json()
    assert report.status_code == 422


def test_an_import_obeys_the_length_rules_of_a_save(api: Any, app: Any) -> None:
    from sqlalchemy import func, select

    """The old import stored what a save refuses (559 characters of alarm addresses in a 255 column, 900,000
    characters of parameter, 2,000 manual nodes, a 170-character cron), which PostgreSQL refused with a 500 or kept.
    Now each is an error of its job or executor, a dry run lists them and the import writes nothing."""
    executor = make_executor(api)
    make_job(api, executor, jobDesc="对账")
    doc = transfer_doc(api, executor)
    base = doc["jobs"][0]
    long_cron = ",".join(str(s) for s in range(60)) + " 0 12 * * ?"
    assert len(long_cron) > 128
    doc["executors"].append({"appname": "big-app", "title": "大", "addressType": 1,
                             "addressList": ",".join(f"node-{i}" for i in range(2000))})
    doc["jobs"] = [{**base, "jobDesc": "邮件", "alarmEmail": ",".join(f"user{i}@example.com" for i in range(30))},
                   {**base, "jobDesc": "参数", "executorParam": "p" * 900_000},
                   {**base, "jobDesc": "时间", "scheduleConf": long_cron}]
    report = import_file(api, doc, dryRun=True, onConflict="skip").get_json()["data"]
    found = {(e["appname"], e["jobDesc"], e["field"]) for e in report["errors"]}
    assert found == {("big-app", None, "addressList"), ("orders-app", "邮件", "alarmEmail"),
                     ("orders-app", "参数", "executorParam"), ("orders-app", "时间", "scheduleConf")}, found
    messages = " ".join(e["message"] for e in report["errors"])
    assert "4000" in messages and "255" in messages and "10000" in messages and "128" in messages
    api_error(import_file(api, doc, onConflict="skip"), 422)
    assert query(app, lambda: db.session.execute(select(func.count()).select_from(Job)).scalar_one()) == 1
    assert query(app, lambda: db.session.execute(select(Executor.id).where(Executor.appname == "big-app")).first()) \
        is None
    # the same rules hold on the other doors, answered on their fields
    body = api_error(api.post("/api/job/jobgroup/save", {"appname": "big-app", "title": "大", "addressType": 1,
                                                         "addressList": doc["executors"][0]["addressList"]}), 422)
    assert "addressList" in body["errors"]
    body = api_error(api.post("/api/job/jobinfo/add", job_body(executor, jobDesc="参数", executorParam="p" * 10_001)),
                     422)
    assert "executorParam" in body["errors"]


def test_comparing_two_long_scripts_stays_within_a_budget(app: Any) -> None:
    """Two 8,000-line scripts of a few distinct lines cost difflib 4 s on every save and on every view of the
    versions page, and a worker was killed at 32,767 lines (a second review). Beyond DIFF_LINE_PAIRS_MAX the
    sources are said to differ, with their sizes, in milliseconds; ordinary scripts still get a line diff."""
    from pcloud.jobs.service import glue_diff

    letters = [chr(0x4E00 + i) for i in range(110)]
    old = "".join(letters[i % 110] + "\n" for i in range(8000))
    new = "".join(letters[(i * 7) % 110] + "\n" for i in range(8000))
    with app.test_request_context("/"):
        seconds, said = least_cpu_seconds(lambda: glue_diff(old, new, "a", "b"))
        assert seconds < 0.1, seconds
        assert "8000" in said and said.startswith("--- a\n+++ b\n")
        assert glue_diff("echo 1\necho 2\n", "echo 1\necho 3\n") .endswith("-echo 2\n+echo 3\n")


def test_parallel_creates_and_renames_into_one_executor_appname_keep_one(api: Any, app: Any) -> None:
    """The house rule for a unique value (tests/conftest.py `assert_races_keep_one`): a live executor's AppName.
    Jobs have no unique value of their own."""
    from sqlalchemy import select

    from tests.conftest import assert_races_keep_one

    assert_races_keep_one(
        app, api.token, lambda n: ("POST", "/api/job/jobgroup/save", {"appname": f"race-app-{n}", "title": "并发"}),
        lambda executor, n: ("PUT", "/api/job/jobgroup/update", {"id": executor, "appname": f"race-app-{n}",
                                                                 "title": "并发"}),
        lambda n: "AppName 已存在",
        lambda: query(app, lambda: list(db.session.execute(select(Executor.appname)
                                                           .where(Executor.deleted_at.is_(None))).scalars())))


def test_two_imports_creating_one_executor_at_once_keep_one_and_say_why(api: Any, app: Any) -> None:
    """The uniqueness audit's note: two imports whose files bring the same new executor, at once. One writes it; the
    other is refused with the AppName's own 409 (it lost the race between its check and its write), never the
    generic lost-race answer or a 503, and writes nothing."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from pcloud.jobs.models import Executor
    from tests.conftest import ApiClient

    executor = make_executor(api)
    make_job(api, executor, jobDesc="对账")
    base = transfer_doc(api, executor)
    for round_ in range(3):
        appname = f"race-import-{round_}"
        doc = {**base, "executors": [{**base["executors"][0], "appname": appname}],
               "jobs": [{**base["jobs"][0], "appname": appname}]}
        barrier = threading.Barrier(2)

        def send(_: int, doc: dict[str, Any] = doc, barrier: threading.Barrier = barrier) -> Any:
            client = ApiClient(app.test_client(), api.token)
            barrier.wait()
            resp = import_file(client, doc)
            return resp.status_code, resp.get_json()

        with ThreadPoolExecutor(2) as pool:
            answers = sorted(pool.map(send, range(2)), key=lambda a: a[0])
        # lost between its check and its write: the AppName's 409; read the executors before the other's commit and
        # checked the AppName after it: that executor's problem, naming it; started after the other's commit: the
        # file's conflict (422, onConflict fail)
        (won, _), (lost, body) = answers
        assert won == 200 and (lost, body["msg"]) in ((409, "AppName 已存在"), (422, (
            f"导入未执行（共 2 个问题）：{appname} AppName 已存在")), (422, (
            f"导入未执行（共 2 个问题）：{appname} 已存在（onConflict 为 fail）"))), answers
        assert query(app, lambda appname=appname: db.session.execute(select(func.count()).select_from(Executor).where(
            Executor.appname == appname, Executor.deleted_at.is_(None))).scalar()) == 1
