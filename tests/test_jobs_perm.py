"""Executor permissions and export / import of the job console (issue 23, items 1 and 4).

Two teams share one console: team A's role lists executor A, so another executor's jobs, runs and nodes answer
404 through every page and API route (the route audit below enumerates them, so a new route cannot forget), the
report counts A's runs only, and nobody hands a role executors beyond their own. Nor runs beyond them through a
link: triggering, starting or copying a job checks every job its success would start (the run chain).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import aliased

from pcloud.extensions import db
from pcloud.jobs.models import Job, JobRun, role_job_group
from tests.conftest import ApiClient, PageClient, api_error, csrf_from
from tests.factories import grant_role, make_role, make_user, next_phone, query
from tests.test_jobs import JOB_MENUS, job_codes, make_executor, make_job


@dataclass
class Teams:
    a: int  # executor ids
    b: int
    job_a: int
    job_b: int
    run_a: int
    run_b: int
    role: int  # team A's role (every job menu and operation, executor A only)
    api: ApiClient  # team A's member, signed in to the API
    pages: PageClient  # the same member, signed in to the pages


def _run(app: Any, executor: int, job_id: int, code: int = 200) -> int:
    from pcloud.core.timefmt import utcnow

    def add() -> int:
        now = utcnow()
        run = JobRun(job_group=executor, job_id=job_id, trigger_type="MANUAL", schedule_time=now, trigger_time=now,
                     handle_code=code, status="DONE" if code else "PENDING", handle_time=now)
        db.session.add(run)
        db.session.commit()
        return run.id

    return query(app, add)


def member(app: Any, role_ids: list[int]) -> tuple[ApiClient, PageClient]:
    phone = next_phone()
    make_user(app, phone=phone, role_ids=role_ids)
    helper = ApiClient(app.test_client())
    helper.token = helper.sign_in(phone, "Passw0rd1")
    pages = PageClient(app.test_client())
    assert pages.sign_in(phone, "Passw0rd1").status_code == 302
    return helper, pages


@pytest.fixture
def teams(api: ApiClient, app: Any) -> Teams:
    a, b = make_executor(api, "team-a-app", title="甲组"), make_executor(api, "team-b-app", title="乙组")
    job_a = make_job(api, a, jobDesc="甲组任务")
    job_b = make_job(api, b, jobDesc="乙组任务")
    run_a, run_b = _run(app, a, job_a), _run(app, b, job_b)
    _run(app, b, job_b, code=500)
    role = make_role(app, "ROLE_TEAM_A")
    grant_role(app, role, menu_paths=JOB_MENUS, resource_codes=job_codes(app, clean_runs=True))
    api.data("PUT", "/api/admin/role/modify", {"id": role, "jobGroupIds": [a]})
    helper, pages = member(app, [role])
    return Teams(a, b, job_a, job_b, run_a, run_b, role, helper, pages)


# ---------------------------------------------------------------- the role field


def test_a_role_lists_its_executors(api: ApiClient, app: Any) -> None:
    a, b = make_executor(api, "team-a-app"), make_executor(api, "team-b-app")
    role = api.data("POST", "/api/admin/role/create",
                    {"name": "甲组", "roleCode": "ROLE_TEAM_A", "jobGroupIds": [b, a]})
    items = api.data("POST", "/api/admin/role/page", {"roleCode": "ROLE_TEAM_A"})
    assert items[0]["jobGroupIds"] == sorted([a, b])
    api.data("PUT", "/api/admin/role/modify", {"id": role, "name": "甲组"})  # absent: unchanged
    assert api.data("POST", "/api/admin/role/page", {"roleCode": "ROLE_TEAM_A"})[0]["jobGroupIds"] == sorted([a, b])
    api.data("PUT", "/api/admin/role/modify", {"id": role, "jobGroupIds": []})
    assert api.data("POST", "/api/admin/role/page", {"roleCode": "ROLE_TEAM_A"})[0]["jobGroupIds"] == []
    body = api_error(api.put("/api/admin/role/modify", {"id": role, "jobGroupIds": [a, 999999]}), 422)
    assert "jobGroupIds" in body["errors"]
    assert query(app, lambda: db.session.execute(select(role_job_group)).all()) == []


def test_the_role_form_sets_the_executors(api: ApiClient, app: Any, pages: PageClient) -> None:
    a, b = make_executor(api, "team-a-app", title="甲组"), make_executor(api, "team-b-app", title="乙组")
    role = make_role(app, "ROLE_TEAM_A")
    html = pages.get(f"/system/role/{role}/edit").get_data(as_text=True)
    assert "甲组（team-a-app）" in html and "乙组（team-b-app）" in html
    resp = pages.submit(f"/system/role/{role}/edit", data={"name": "甲组", "role_code": "ROLE_TEAM_A",
                                                          "job_group_ids": [str(b)]})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert api.data("POST", "/api/admin/role/page", {"roleCode": "ROLE_TEAM_A"})[0]["jobGroupIds"] == [b]
    html = pages.get(f"/system/role/{role}/edit").get_data(as_text=True)
    assert re.search(rf'value="{b}"[^>]*checked|checked[^>]*value="{b}"', html)
    assert not re.search(rf'value="{a}"[^>]*checked|checked[^>]*value="{a}"', html)


# ---------------------------------------------------------------- what a team sees


def test_a_team_lists_only_its_executors_jobs_and_runs(teams: Teams) -> None:
    t = teams.api
    jobs = t.data("POST", "/api/job/jobinfo/pageList", {"jobGroup": 0, "triggerStatus": -1})
    assert [j["id"] for j in jobs] == [teams.job_a]
    assert t.data("POST", "/api/job/jobinfo/pageList", {"jobGroup": teams.b, "triggerStatus": -1}) == []
    assert [e["id"] for e in t.data("POST", "/api/job/jobgroup/findAll")] == [teams.a]
    assert [e["id"] for e in t.data("POST", "/api/job/jobgroup/pageList", {})] == [teams.a]
    assert [r["id"] for r in t.data("POST", "/api/job/joblog/pageList", {})] == [teams.run_a]
    assert t.data("POST", "/api/job/joblog/pageList", {"jobGroup": teams.b}) == []
    assert t.data("POST", "/api/job/joblog/pageList", {"jobId": teams.job_b}) == []
    assert t.data("GET", f"/api/job/joblog/{teams.b}/getJobsByGroup") == []


def test_the_report_counts_only_what_the_team_may_see(teams: Teams, api: ApiClient) -> None:
    everyone = api.data("POST", "/api/job/statistics")
    assert (everyone["jobInfoCount"], everyone["jobLogCount"], everyone["jobLogSuccessCount"]) == (2, 3, 2)
    mine = teams.api.data("POST", "/api/job/statistics")
    assert (mine["jobInfoCount"], mine["jobLogCount"], mine["jobLogSuccessCount"]) == (1, 1, 1)
    chart = teams.api.data("POST", "/api/job/chartInfo", {})
    assert (chart["triggerCountSucTotal"], chart["triggerCountFailTotal"]) == (1, 0)
    chart = api.data("POST", "/api/job/chartInfo", {})
    assert (chart["triggerCountSucTotal"], chart["triggerCountFailTotal"]) == (2, 1)
    assert teams.api.data("POST", "/api/admin/dashboard/statistics")["jobRunCount"] == 1
    assert teams.api.data("POST", "/api/admin/dashboard/cycle/statistics", {"type": "jobRuns"})["values"][-1] == 1
    html = teams.pages.get("/job/report").get_data(as_text=True)
    assert "甲组任务" not in html  # the report names no job; its figures are A's: 1 job, 1 run
    page = teams.pages.get("/job/info/").get_data(as_text=True)
    assert "甲组任务" in page and "乙组任务" not in page
    logs = teams.pages.get("/job/log/").get_data(as_text=True)
    assert f"/job/log/{teams.run_a}" in logs and f"/job/log/{teams.run_b}" not in logs


def test_several_roles_reach_the_union_and_an_unlisted_job_role_everything(teams: Teams, api: ApiClient,
                                                                         app: Any) -> None:
    other = make_role(app, "ROLE_TEAM_B")
    grant_role(app, other, menu_paths=JOB_MENUS, resource_codes=job_codes(app, clean_runs=True))
    api.data("PUT", "/api/admin/role/modify", {"id": other, "jobGroupIds": [teams.b]})
    both, _ = member(app, [teams.role, other])
    assert sorted(j["id"] for j in both.data("POST", "/api/job/jobinfo/pageList", {"triggerStatus": -1})) == sorted(
        [teams.job_a, teams.job_b])
    # a role without a job grant and without a list adds nothing; one with the job grants and no list: all
    bystander = make_role(app, "ROLE_BYSTANDER")
    grant_role(app, bystander, menu_paths=("/system",))
    narrow, _ = member(app, [teams.role, bystander])
    assert [j["id"] for j in narrow.data("POST", "/api/job/jobinfo/pageList", {"triggerStatus": -1})] == [teams.job_a]
    api.data("PUT", "/api/admin/role/modify", {"id": other, "jobGroupIds": []})
    assert len(both.data("POST", "/api/job/jobinfo/pageList", {"triggerStatus": -1})) == 2


def test_a_team_cannot_put_a_job_on_another_executor(teams: Teams, app: Any) -> None:
    body = {"jobGroup": teams.b, "jobDesc": "越界", "author": "甲", "scheduleType": "CRON",
            "scheduleConf": "0 0 12 * * ?", "executorHandler": "demoJobHandler"}
    assert "jobGroup" in api_error(teams.api.post("/api/job/jobinfo/add", body), 422)["errors"]
    resp = teams.api.put("/api/job/jobinfo/update", {"id": teams.job_a, "jobGroup": teams.b})
    assert "jobGroup" in api_error(resp, 422)["errors"]
    resp = teams.api.put("/api/job/jobinfo/update", {"id": teams.job_a, "childJobId": str(teams.job_b)})
    assert "childJobId" in api_error(resp, 422)["errors"]
    assert query(app, lambda: db.session.get(Job, teams.job_a).job_group) == teams.a
    # a new executor would lie outside the team's list at once: only who reaches every executor makes one
    api_error(teams.api.post("/api/job/jobgroup/save", {"appname": "team-c-app", "title": "丙组"}), 403)


# ---------------------------------------------------------------- the route audit: every job route, another's record


# Job API routes taking a record in their body rather than their path, with the body naming team B's record
# (run with `teams`). A new body route must be listed here, or under LISTS when it names no record.
BODY_ROUTES: dict[str, Any] = {
    "jobs_api.job_update": lambda t: {"id": t.job_b, "jobDesc": "改"},
    "jobs_api.job_trigger": lambda t: {"id": t.job_b},
    "jobs_api.log_detail_cat": lambda t: {"logId": t.run_b, "fromLineNum": 1},
    "jobs_api.clear_log": lambda t: {"jobGroup": t.b, "type": 9},
    "jobs_api.executor_update": lambda t: {"id": t.b, "title": "改"},
    "jobs_api.job_export": lambda t: {"jobGroup": t.b},
    "jobs.job_export": lambda t: {"job_group": t.b, "scope": "all"},
    "jobs_api.jobcode_save": lambda t: {"jobId": t.job_b, "glueSource": "print(1)\n", "glueRemark": "改"},
}
# Routes that name no record: lists and counts (checked above to hold only A's), and the cron helper. The jobs of
# an executor (`getJobsByGroup`) is a list too: for another's executor it is empty, as for one that does not exist.
LISTS = {"jobs_api.jobs_by_group",
         "jobs_api.statistics", "jobs_api.chart_info", "jobs_api.job_page", "jobs_api.executor_find_all",
         "jobs_api.job_add", "jobs_api.next_trigger_time", "jobs_api.next_trigger_time_get", "jobs_api.run_page",
         "jobs_api.executor_page", "jobs_api.executor_save", "jobs_api.job_import",
         "jobs.home", "jobs.report", "jobs.jobs", "jobs.job_create", "jobs.job_next_times", "jobs.logs",
         "jobs.log_clear", "jobs.executors", "jobs.executor_create", "jobs.job_import"}
# Which record a path parameter names, by the part of the route before it.
PATH_KINDS = (("/jobinfo/", "job"), ("/joblog/", "run"), ("/jobgroup/", "executor"), ("/info/", "job"),
              ("/log/", "run"), ("/group/", "executor"), ("/jobcode/", "job"), ("/jobcode/version/", "version"))


def _job_rules(app: Any) -> list[Any]:
    return [r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in ("jobs_api", "jobs")]


def _others_record(teams: Teams, rule: str, version_b: int) -> int:
    arg = rule.index("<")
    kind = next(k for prefix, k in PATH_KINDS if rule.rfind(prefix, 0, arg) >= 0
                and rule.rfind(prefix, 0, arg) == max(rule.rfind(p, 0, arg) for p, _ in PATH_KINDS))
    return {"job": teams.job_b, "run": teams.run_b, "executor": teams.b, "version": version_b}[kind]


def test_every_job_route_answers_404_for_another_executors_record(teams: Teams, app: Any, api: ApiClient) -> None:
    from pcloud.jobs.models import JobGlueVersion

    def script_version_of_b() -> int:  # a script version kept for B's job (as if it had been a script once)
        version = JobGlueVersion(job_id=teams.job_b, glue_type="GLUE_SHELL", glue_source="echo b\n", glue_remark="乙")
        db.session.add(version)
        db.session.commit()
        return version.id

    version_b = query(app, script_version_of_b)
    unclassified, leaks = [], []
    token = csrf_from(teams.pages.get("/job/info/").get_data(as_text=True))
    for rule in _job_rules(app):
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if rule.endpoint in LISTS:
            continue
        if "<" in rule.rule:
            path = re.sub(r"<[^>]+>", str(_others_record(teams, rule.rule, version_b)), rule.rule)
            body: Any = {"jobs_api.jobcode_rollback": {"versionId": version_b},
                         "jobs.job_code_rollback": {"version_id": version_b}}.get(rule.endpoint, {})
        elif rule.endpoint in BODY_ROUTES:
            path, body = rule.rule, BODY_ROUTES[rule.endpoint](teams)
        else:
            unclassified.append(rule.endpoint)
            continue
        for method in methods:
            if rule.endpoint.startswith("jobs_api."):
                resp = teams.api.call(method, path, body if method != "GET" else None)
            elif method == "GET":
                resp = teams.pages.get(path)
            else:
                resp = teams.pages.client.post(path, data={"csrf_token": token, **body})
            if resp.status_code != 404:
                leaks.append(f"{method} {path} ({rule.endpoint}): {resp.status_code}")
    assert not unclassified, f"classify these job routes in BODY_ROUTES or LISTS: {unclassified}"
    assert not leaks, leaks
    # nothing of B's changed: its job still there and stopped, its runs kept
    assert query(app, lambda: db.session.get(Job, teams.job_b).deleted_at) is None
    assert query(app, lambda: db.session.query(JobRun).filter_by(job_group=teams.b).count()) == 2
    assert api.data("GET", f"/api/job/jobgroup/{teams.b}/loadById")["id"] == teams.b


def test_the_team_still_works_on_its_own_records(teams: Teams, app: Any) -> None:
    t = teams.api
    assert t.data("GET", f"/api/job/jobgroup/{teams.a}/loadById")["id"] == teams.a
    t.data("PUT", "/api/job/jobinfo/update", {"id": teams.job_a, "jobDesc": "甲组任务改"})
    assert t.data("POST", "/api/job/joblog/logDetailCat", {"logId": teams.run_a, "fromLineNum": 1})["isEnd"]
    assert len(t.data("POST", "/api/job/jobinfo/trigger", {"id": teams.job_a})) == 1
    assert teams.pages.get(f"/job/info/{teams.job_a}/edit").status_code == 200
    assert teams.pages.get(f"/job/log/{teams.run_a}").status_code == 200
    # cleaning every log (no executor named) cleans the team's runs only
    assert t.data("POST", "/api/job/joblog/clearLog", {"type": 9}) == 1
    assert query(app, lambda: db.session.query(JobRun).filter_by(job_group=teams.b).count()) == 2


# ---------------------------------------------------------------- reach: nobody hands out executors beyond their own


def test_a_limited_role_admin_cannot_widen_executors(teams: Teams, api: ApiClient, app: Any) -> None:
    from tests.factories import route_code

    admin_role = make_role(app, "ROLE_TEAM_A_ADMIN")
    role_codes = tuple(route_code(e, m) for e, m in (
        ("roles_api.create", "POST"), ("roles_api.modify", "PUT"), ("roles_api.grant", "POST")))
    grant_role(app, admin_role, menu_paths=JOB_MENUS, resource_codes=job_codes(app, clean_runs=True) + role_codes)
    api.data("PUT", "/api/admin/role/modify", {"id": admin_role, "jobGroupIds": [teams.a]})
    lead, _ = member(app, [admin_role])
    wider = {"name": "乙", "roleCode": "ROLE_B2", "jobGroupIds": [teams.b]}
    body = api_error(lead.post("/api/admin/role/create", wider), 403)
    assert "执行器" in body["msg"]
    mine = lead.data("POST", "/api/admin/role/create", {"name": "甲2", "roleCode": "ROLE_A2", "jobGroupIds": [teams.a]})
    # granting the job console to a role that lists no executor would reach every executor
    empty = lead.data("POST", "/api/admin/role/create", {"name": "空", "roleCode": "ROLE_EMPTY"})
    resources = query(app, lambda: sorted(api_resource_ids(job_codes(app, clean_runs=True))))
    api_error(lead.post("/api/admin/permission/grant", {"roleId": empty, "resources": resources}), 403)
    lead.data("POST", "/api/admin/permission/grant", {"roleId": mine, "resources": resources})
    # and a role already opening the job console cannot have its list emptied by them
    api_error(lead.put("/api/admin/role/modify", {"id": mine, "jobGroupIds": []}), 403)
    api_error(lead.put("/api/admin/role/modify", {"id": mine, "jobGroupIds": [teams.a, teams.b]}), 403)
    assert query(app, lambda: sorted(db.session.execute(select(role_job_group.c.job_group_id).where(
        role_job_group.c.role_id == mine)).scalars())) == [teams.a]


def test_a_limited_user_admin_cannot_assign_a_role_reaching_another_executor(teams: Teams, api: ApiClient,
                                                                             app: Any) -> None:
    from pcloud.core.security import SUPER_ADMIN  # noqa: F401 - the admin below is not one
    from tests.factories import route_code

    team_b = make_role(app, "ROLE_TEAM_B")
    grant_role(app, team_b, menu_paths=JOB_MENUS, resource_codes=job_codes(app, clean_runs=True))
    api.data("PUT", "/api/admin/role/modify", {"id": team_b, "jobGroupIds": [teams.b]})
    admin_role = make_role(app, "ROLE_USERS_A")
    grant_role(app, admin_role, menu_paths=JOB_MENUS, resource_codes=job_codes(app, clean_runs=True) + (
        route_code("users_api.create", "POST"),))
    api.data("PUT", "/api/admin/role/modify", {"id": admin_role, "jobGroupIds": [teams.a]})
    lead, _ = member(app, [admin_role])
    body = {"phone": next_phone(), "name": "新人", "password": "Passw0rd1", "roleIds": [team_b]}
    assert "执行器" in api_error(lead.post("/api/admin/system/user/create", body), 403)["msg"]
    body["roleIds"] = [teams.role]
    lead.data("POST", "/api/admin/system/user/create", body)


def _executor_row(app: Any, executor_id: int) -> tuple[int, str | None]:
    from pcloud.jobs.models import Executor

    return query(app, lambda: (lambda e: (e.address_type, e.address_list))(db.session.get(Executor, executor_id)))


def test_a_team_lists_on_its_manual_executor_only_nodes_of_executors_it_reaches(teams: Teams, api: ApiClient,
                                                                               app: Any) -> None:
    """A manual list runs the executor's jobs on the nodes it names: team A naming a node of team B's executor would
    run A's jobs (and scripts) on B's hosts. A node registered under an AppName beyond A's reach (live or not, beside
    A's own, or of no executor A may see) is refused, 403 on addressList naming the node and nothing else, through
    the API, the page and the import alike; A's own nodes and a name not registered yet are listed."""
    from tests.test_jobs import add_node

    add_node(app, "team-a-app", "a-host")
    add_node(app, "team-b-app", "b-host")
    add_node(app, "team-b-app", "b-old", age_seconds=86400)  # dead a day: still B's host
    add_node(app, "team-a-app", "both-host")
    add_node(app, "team-b-app", "both-host")
    add_node(app, "team-z-app", "z-host")  # an AppName no executor has (yet)
    said = {}
    for node in ("b-host", "b-old", "both-host", "z-host"):
        body = api_error(teams.api.put("/api/job/jobgroup/update", {"id": teams.a, "addressType": 1,
                                                                   "addressList": f"a-host,{node}"}), 403)
        assert node in body["msg"] and body["errors"]["addressList"] == [body["msg"]], body
        assert "team-" not in body["msg"].replace(node, "") and "乙组" not in body["msg"], body
        said[node] = body["msg"].replace(node, "NODE")
    assert len(set(said.values())) == 1, said  # B's node and a node of no executor alike: no AppName told
    assert _executor_row(app, teams.a) == (0, None)
    html = teams.pages.submit(f"/job/group/{teams.a}/edit", data={
        "appname": "team-a-app", "title": "甲组", "address_type": "1", "address_list": "a-host,b-host"})
    assert html.status_code == 403 and "b-host" in html.get_data(as_text=True)
    assert _executor_row(app, teams.a) == (0, None)
    doc = _export(teams.api, {"jobGroup": teams.a})
    doc["executors"][0].update(addressType=1, addressList="a-host,both-host")
    report = _import(teams.api, doc, dryRun=True, onConflict="overwrite").get_json()["data"]
    assert [(e["kind"], e["field"]) for e in report["errors"]] == [("executor", "addressList")], report
    assert "both-host" in report["errors"][0]["message"]
    api_error(_import(teams.api, doc, onConflict="overwrite"), 422)
    assert _executor_row(app, teams.a) == (0, None)
    # one's own nodes and a name not registered yet
    teams.api.data("PUT", "/api/job/jobgroup/update", {"id": teams.a, "addressType": 1,
                                                       "addressList": "a-host,new-host"})
    assert _executor_row(app, teams.a) == (1, "a-host,new-host")
    # who reaches every executor names any node; a name the list holds already stays when the team edits it
    api.data("PUT", "/api/job/jobgroup/update", {"id": teams.a, "addressType": 1, "addressList": "a-host,b-host"})
    teams.api.data("PUT", "/api/job/jobgroup/update", {"id": teams.a, "title": "甲组二"})
    teams.api.data("PUT", "/api/job/jobgroup/update", {"id": teams.a, "addressType": 1, "addressList": "b-host"})
    assert _executor_row(app, teams.a) == (1, "b-host")
    api_error(teams.api.put("/api/job/jobgroup/update", {"id": teams.a, "addressType": 1,
                                                         "addressList": "b-host,b-old"}), 403)
    # run once names nodes of the job's executor only
    api.data("PUT", "/api/job/jobgroup/update", {"id": teams.a, "addressType": 0})
    body = api_error(teams.api.post("/api/job/jobinfo/trigger", {"id": teams.job_a, "addressList": "b-host"}), 422)
    assert "addressList" in body["errors"]


def api_resource_ids(codes: tuple[str, ...]) -> list[int]:
    from pcloud.resources.models import Resource

    return list(db.session.execute(select(Resource.id).where(Resource.code.in_(codes))).scalars())


# ---------------------------------------------------------------- export / import (issue 23, 4)


def _export(api: ApiClient, body: dict[str, Any]) -> dict[str, Any]:
    import json

    resp = api.post("/api/job/jobinfo/export", body)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/json" and "attachment" in resp.headers["Content-Disposition"]
    return json.loads(resp.get_data(as_text=True))


def _import(api: ApiClient, doc: Any, **options: Any) -> Any:
    import io
    import json

    raw = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode()
    form = {"file": (io.BytesIO(raw), "jobs.json"), **{k: str(v).lower() for k, v in options.items()}}
    return api.client.post("/api/job/jobinfo/import", data=form, content_type="multipart/form-data",
                           headers={"Authorization": f"Bearer {api.token}"})


def _moved(doc: dict[str, Any], appname: str) -> dict[str, Any]:
    """The file as another installation would take it: its executor renamed."""
    import copy

    doc = copy.deepcopy(doc)
    old = doc["executors"][0]["appname"]
    doc["executors"][0]["appname"] = appname
    for job in doc["jobs"]:
        job["appname"] = appname if job["appname"] == old else job["appname"]
        for ref in job["childJobs"] + job.get("parentJobs", []):
            ref["appname"] = appname if ref["appname"] == old else ref["appname"]
    return doc


def _jobs_of(app: Any, appname: str) -> list[Job]:
    from pcloud.jobs.models import Executor

    def read() -> list[Any]:
        rows = db.session.execute(select(Job).join(Executor, Executor.id == Job.job_group).where(
            Executor.appname == appname, Job.deleted_at.is_(None)).order_by(Job.id)).scalars()
        return [(j.id, j.job_desc, j.author, j.child_job_id, j.trigger_status, j.executor_param) for j in rows]

    return query(app, read)


def test_export_then_import_elsewhere_round_trips_stopped(api: ApiClient, app: Any) -> None:
    executor = make_executor(api, "orders-app", title="订单")
    child = make_job(api, executor, jobDesc="对账", executorParam="p=1")
    parent = make_job(api, executor, jobDesc="同步", childJobId=str(child), triggerStatus=1)
    doc = _export(api, {"jobGroup": executor})
    assert doc["format"] == "pcloud-jobs" and [e["appname"] for e in doc["executors"]] == ["orders-app"]
    by_desc = {j["jobDesc"]: j for j in doc["jobs"]}
    assert set(by_desc) == {"对账", "同步"} and "id" not in by_desc["同步"] and "jobGroup" not in by_desc["同步"]
    assert by_desc["同步"]["childJobs"] == [{"appname": "orders-app", "jobDesc": "对账"}]
    assert by_desc["对账"]["executorParam"] == "p=1" and by_desc["同步"]["scheduleConf"]
    assert _export(api, {"ids": [parent]})["jobs"][0]["jobDesc"] == "同步"
    api_error(api.post("/api/job/jobinfo/export", {"ids": [parent, 999999]}), 404)

    moved = _moved(doc, "orders-copy")
    dry = _import(api, moved, dryRun=True)
    assert dry.status_code == 200, dry.get_json()
    report = dry.get_json()["data"]
    assert report["executors"]["created"] == 1 and report["jobs"]["created"] == 2 and not report["imported"]
    assert report["errors"] == [] and report["conflicts"] == []
    assert _jobs_of(app, "orders-copy") == []
    report = _import(api, moved).get_json()["data"]
    assert report["imported"] and report["jobs"]["created"] == 2
    rows = {desc: (jid, child_ids, status, param) for jid, desc, _a, child_ids, status, param in
            _jobs_of(app, "orders-copy")}
    assert rows["同步"][1] == str(rows["对账"][0]) and rows["同步"][2] == 0 and rows["对账"][3] == "p=1"


def _parents_of(app: Any, appname: str) -> dict[str, set[tuple[str, str]]]:
    """Each job of the executor (by jobDesc) -> its parents as (appname, jobDesc), read from the database."""
    from pcloud.jobs.models import Executor, JobDependency

    def read() -> dict[str, set[tuple[str, str]]]:
        parent, parent_ex = aliased(Job), aliased(Executor)
        out: dict[str, set[tuple[str, str]]] = {}
        for desc, parent_app, parent_desc in db.session.execute(
                select(Job.job_desc, parent_ex.appname, parent.job_desc)
                .join(Executor, Executor.id == Job.job_group)
                .join(JobDependency, JobDependency.job_id == Job.id)
                .join(parent, parent.id == JobDependency.parent_job_id)
                .join(parent_ex, parent_ex.id == parent.job_group)
                .where(Executor.appname == appname, Job.deleted_at.is_(None))):
            out.setdefault(desc, set()).add((parent_app, parent_desc))
        return out

    return query(app, read)


def test_dependencies_move_with_the_jobs_and_are_relinked_by_name(api: ApiClient, app: Any) -> None:
    """parentJobs travel as {appname, jobDesc} (like childJobs): relinked to the file's jobs or to jobs of the
    target; a parent found in neither is listed by a dry run and refuses the import; so does a cycle."""
    flow = make_executor(api, "flow-app", title="流程")
    other = make_executor(api, "other-app", title="其他")
    outside = make_job(api, other, jobDesc="外部")
    extract = make_job(api, flow, jobDesc="抽取")
    transform = make_job(api, flow, jobDesc="转换", parentJobIds=[extract])
    make_job(api, flow, jobDesc="加载", parentJobIds=[extract, transform, outside])
    doc = _export(api, {"jobGroup": flow})
    by_desc = {j["jobDesc"]: j for j in doc["jobs"]}
    assert by_desc["抽取"]["parentJobs"] == []
    assert by_desc["转换"]["parentJobs"] == [{"appname": "flow-app", "jobDesc": "抽取"}]
    assert sorted(map(tuple, (r.values() for r in by_desc["加载"]["parentJobs"]))) == [
        ("flow-app", "抽取"), ("flow-app", "转换"), ("other-app", "外部")]
    assert all(set(job) >= {"parentJobs"} and "parentJobIds" not in job for job in doc["jobs"])

    moved = _moved(doc, "flow-copy")  # "外部" is not in the file: found in the target by its name
    report = _import(api, moved).get_json()["data"]
    assert report["imported"] and report["errors"] == [], report
    assert _parents_of(app, "flow-copy") == {
        "转换": {("flow-copy", "抽取")}, "加载": {("flow-copy", "抽取"), ("flow-copy", "转换"), ("other-app", "外部")}}

    # a parent neither in the file nor in the target: listed by the dry run, and the import writes nothing
    lost = _moved(doc, "flow-lost")
    lost["jobs"][1]["parentJobs"].append({"appname": "nowhere-app", "jobDesc": "不存在"})
    dry = _import(api, lost, dryRun=True).get_json()["data"]
    assert [(e["jobDesc"], e["field"]) for e in dry["errors"]] == [(lost["jobs"][1]["jobDesc"], "parentJobs")]
    assert "nowhere-app" in dry["errors"][0]["message"] and not dry["imported"]
    api_error(_import(api, lost), 422)
    assert _jobs_of(app, "flow-lost") == []

    # a cycle through the file's own jobs (抽取 waiting for 加载, which waits for 抽取): refused, nothing written
    looped = _moved(doc, "flow-loop")
    looped["jobs"][0]["parentJobs"] = [{"appname": "flow-loop", "jobDesc": "加载"}]
    dry = _import(api, looped, dryRun=True).get_json()["data"]
    assert dry["errors"] and all("循环" in e["message"] for e in dry["errors"]), dry["errors"]
    api_error(_import(api, looped), 422)
    assert _jobs_of(app, "flow-loop") == []

    # overwrite replaces a job's parents with the file's
    again = _moved(doc, "flow-copy")
    next(j for j in again["jobs"] if j["jobDesc"] == "加载")["parentJobs"] = [
        {"appname": "flow-copy", "jobDesc": "转换"}]
    assert _import(api, again, onConflict="overwrite").get_json()["data"]["imported"]
    assert _parents_of(app, "flow-copy")["加载"] == {("flow-copy", "转换")}


def test_import_conflicts_skip_overwrite_or_fail_all_or_nothing(api: ApiClient, app: Any) -> None:
    executor = make_executor(api, "orders-app", title="订单")
    make_job(api, executor, jobDesc="同步", triggerStatus=1)
    doc = _export(api, {"jobGroup": executor})
    doc["jobs"][0]["author"] = "新负责人"
    doc["jobs"].append({**doc["jobs"][0], "jobDesc": "新任务"})
    before = _jobs_of(app, "orders-app")
    body = api_error(_import(api, doc), 422)  # onConflict fail (the default): nothing written
    assert "已存在" in body["msg"]
    assert _jobs_of(app, "orders-app") == before
    dry = _import(api, doc, dryRun=True, onConflict="fail").get_json()["data"]
    assert {(c["kind"], c["jobDesc"]) for c in dry["conflicts"]} == {("executor", None), ("job", "同步")}
    report = _import(api, doc, onConflict="skip").get_json()["data"]
    assert report["jobs"] == {"created": 1, "updated": 0, "skipped": 1} and report["imported"]
    assert [r[2] for r in _jobs_of(app, "orders-app")] == [before[0][2], "新负责人"]
    report = _import(api, doc, onConflict="overwrite").get_json()["data"]
    assert report["jobs"] == {"created": 0, "updated": 2, "skipped": 0}
    rows = _jobs_of(app, "orders-app")
    assert [r[2] for r in rows] == ["新负责人", "新负责人"] and [r[4] for r in rows] == [0, 0]


def test_import_validates_the_file(api: ApiClient, app: Any) -> None:
    executor = make_executor(api, "orders-app", title="订单")
    make_job(api, executor, jobDesc="同步")
    doc = _moved(_export(api, {"jobGroup": executor}), "orders-copy")
    assert "file" in api_error(_import(api, b"{not json"), 422)["errors"]
    assert "file" in api_error(_import(api, {**doc, "format": "other"}), 422)["errors"]
    assert "file" in api_error(_import(api, {**doc, "jobs": [{**doc["jobs"][0], "id": 5}]}), 422)["errors"]
    assert "file" in api_error(_import(api, {**doc, "jobs": [{**doc["jobs"][0], "executorTimeout": "x"}]}),
                               422)["errors"]
    assert "file" in api_error(_import(api, b" " * (1024 * 1024 + 10)), 422)["errors"]
    api_error(_import(api, doc, onConflict="merge"), 422)
    bad = {**doc, "jobs": [{**doc["jobs"][0], "executorHandler": "noSuchHandler"},
                           {**doc["jobs"][0], "jobDesc": "贵", "scheduleConf": "* * * L-30 2,4,6,9,11 ?"}]}
    report = _import(api, bad, dryRun=True).get_json()["data"]
    assert {(e["jobDesc"], e["field"]) for e in report["errors"]} == {("同步", "executorHandler"),
                                                                       ("贵", "scheduleConf")}
    api_error(_import(api, bad), 422)
    assert _jobs_of(app, "orders-copy") == []
    assert query(app, lambda: db.session.execute(select(Job.id).where(Job.job_desc == "贵")).first()) is None


def test_a_team_exports_and_imports_only_within_its_executors(teams: Teams, api: ApiClient, app: Any) -> None:
    api_error(teams.api.post("/api/job/jobinfo/export", {"ids": [teams.job_b]}), 404)
    api_error(teams.api.post("/api/job/jobinfo/export", {"jobGroup": teams.b}), 404)
    mine = _export(teams.api, {})
    assert [j["jobDesc"] for j in mine["jobs"]] == ["甲组任务"]
    theirs = _export(api, {"jobGroup": teams.b})
    report = _import(teams.api, theirs, dryRun=True, onConflict="overwrite").get_json()["data"]
    assert report["errors"] and not report["imported"]
    api_error(_import(teams.api, theirs, onConflict="overwrite"), 422)
    api_error(_import(teams.api, _moved(theirs, "team-c-app")), 422)  # a new executor: beyond their reach
    # an executor beyond their reach and one that does not exist are refused in the same words: the import does
    # not tell a team which AppNames the other teams use
    said = {appname: _import(teams.api, _moved(theirs, appname), dryRun=True).get_json()["data"]["errors"][0]
            for appname in ("team-b-app", "team-c-app")}
    assert said["team-b-app"]["message"] == said["team-c-app"]["message"].replace("team-c-app", "team-b-app"), said
    into_a = _moved(theirs, "team-a-app")
    del into_a["executors"][0]
    report = _import(teams.api, into_a).get_json()["data"]
    assert report["imported"] and report["jobs"]["created"] == 1
    assert [r[1] for r in _jobs_of(app, "team-a-app")] == ["甲组任务", "乙组任务"]
    assert len(_jobs_of(app, "team-b-app")) == 1


def test_the_job_list_exports_and_imports(api: ApiClient, app: Any, pages: PageClient) -> None:
    import io
    import json

    executor = make_executor(api, "orders-app", title="订单")
    first = make_job(api, executor, jobDesc="同步")
    make_job(api, executor, jobDesc="对账")
    html = pages.get(f"/job/info/?jobGroup={executor}").get_data(as_text=True)
    assert "导出选中" in html and "导出本执行器全部" in html and 'id="importModal"' in html
    assert f'name="ids" value="{first}" form="export-form"' in html
    assert re.search(r'<form[^>]*id="import-form"[^>]*enctype="multipart/form-data"', html)  # it uploads a file
    resp = pages.submit(f"/job/info/?jobGroup={executor}", "/job/info/export",
                        {"job_group": str(executor), "scope": "selected", "ids": [str(first), "³"]})  # "³": no id
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    doc = json.loads(resp.get_data(as_text=True))
    assert [j["jobDesc"] for j in doc["jobs"]] == ["同步"]
    resp = pages.submit("/job/info/", "/job/info/export", {"job_group": "", "scope": "selected"})
    assert resp.status_code == 422 and "请先勾选" in resp.get_data(as_text=True)

    def upload(document: Any, **options: str) -> Any:
        raw = json.dumps(document, ensure_ascii=False).encode()
        return pages.submit("/job/info/", "/job/info/import", {"file": (io.BytesIO(raw), "jobs.json"), **options},
                            content_type="multipart/form-data")

    resp = upload(doc, dry_run="y", on_conflict="fail")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "导入检查结果" in text and "import-conflicts" in text
    assert "orders-app" in text and "同步" in text  # the conflicts table names what exists
    resp = upload(doc, on_conflict="fail")
    assert resp.status_code == 422 and "导入未执行" in resp.get_data(as_text=True)
    moved = _moved(doc, "orders-copy")
    resp = upload(moved, on_conflict="fail")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert "已导入" in pages.get("/job/info/").get_data(as_text=True)
    assert [r[1] for r in _jobs_of(app, "orders-copy")] == ["同步"]
    resp = pages.submit("/job/info/", "/job/info/import", {"file": (io.BytesIO(b"{"), "jobs.json")},
                        content_type="multipart/form-data")
    assert resp.status_code == 422 and "JSON" in resp.get_data(as_text=True)


def test_the_role_form_offers_a_limited_admin_only_their_executors(teams: Teams, api: ApiClient, app: Any) -> None:
    from tests.factories import route_code

    admin_role = make_role(app, "ROLE_TEAM_A_ADMIN")
    grant_role(app, admin_role, menu_paths=JOB_MENUS + ("/system/role",),
               resource_codes=job_codes(app, clean_runs=True) + (route_code("roles_api.modify", "PUT"),))
    api.data("PUT", "/api/admin/role/modify", {"id": admin_role, "jobGroupIds": [teams.a]})
    _, lead = member(app, [admin_role])
    html = lead.get(f"/system/role/{teams.role}/edit").get_data(as_text=True)
    assert "甲组（team-a-app）" in html and "乙组（team-b-app）" not in html
    resp = lead.submit(f"/system/role/{teams.role}/edit", data={"name": "甲组成员", "role_code": "ROLE_TEAM_A",
                                                               "job_group_ids": [str(teams.b)]})
    assert resp.status_code == 403
    assert api.data("POST", "/api/admin/role/page", {"roleCode": "ROLE_TEAM_A"})[0]["jobGroupIds"] == [teams.a]


def test_a_team_neither_links_nor_sees_another_teams_job_in_a_graph(teams: Teams, api: ApiClient, app: Any) -> None:
    """Dependencies (issue 23, 3) under executor permissions: B's job is no parent A may name, and a graph of
    A's job linked to it by an administrator shows A's jobs only."""
    resp = teams.api.put("/api/job/jobinfo/update", {"id": teams.job_a, "parentJobIds": [teams.job_b]})
    assert "parentJobIds" in api_error(resp, 422)["errors"]
    api.data("PUT", "/api/job/jobinfo/update", {"id": teams.job_a, "parentJobIds": [teams.job_b]})
    assert {n["id"] for n in api.data("GET", f"/api/job/jobinfo/{teams.job_a}/graph")["nodes"]} == {
        teams.job_a, teams.job_b}
    graph = teams.api.data("GET", f"/api/job/jobinfo/{teams.job_a}/graph")
    assert [n["id"] for n in graph["nodes"]] == [teams.job_a] and graph["edges"] == []
    assert "乙组任务" not in teams.pages.get(f"/job/info/{teams.job_a}/graph").get_data(as_text=True)


def test_import_changes_executors_only_with_the_executor_grants(api: ApiClient, app: Any) -> None:
    """A user holding the import route but not the executors' save and update: a file that would create an
    executor or change one (title, address type, nodes) is refused (403, nothing written; a dry run lists it),
    through the API and the page; a file that leaves the executors as they are imports."""
    import io
    import json

    from pcloud.jobs.models import Executor
    from tests.factories import route_code

    executor = make_executor(api, "orders-app", title="订单")
    make_job(api, executor, jobDesc="同步")
    doc = _export(api, {"jobGroup": executor})
    role = make_role(app, "ROLE_JOB_IMPORT")
    grant_role(app, role, menu_paths=("/job", "/job/info"),
               resource_codes=(route_code("jobs_api.job_page", "POST"), route_code("jobs_api.job_import", "POST")))
    importer, importer_pages = member(app, [role])
    api_error(importer.put("/api/job/jobgroup/update", {"id": executor, "title": "被改"}), 403)

    def executors() -> list[tuple[str, str, int, str | None]]:
        return query(app, lambda: [(e.appname, e.title, e.address_type, e.address_list) for e in db.session.execute(
            select(Executor).where(Executor.deleted_at.is_(None)).order_by(Executor.id)).scalars()])

    before = executors()
    changed = {**doc, "executors": [{**doc["executors"][0], "title": "被改", "addressType": 1,
                                     "addressList": "e2node"}]}
    report = _import(importer, changed, dryRun=True, onConflict="overwrite").get_json()["data"]
    assert not report["imported"] and [e["kind"] for e in report["errors"]] == ["executor"], report
    body = api_error(_import(importer, changed, onConflict="overwrite"), 403)
    assert "orders-app" in body["msg"], body
    api_error(_import(importer, _moved(doc, "orders-copy")), 403)  # a new executor
    raw = json.dumps(changed, ensure_ascii=False).encode()
    resp = importer_pages.submit("/job/info/", "/job/info/import", {"file": (io.BytesIO(raw), "jobs.json"),
                                                                    "on_conflict": "overwrite"},
                                 content_type="multipart/form-data")
    assert resp.status_code == 403 and "orders-app" in resp.get_data(as_text=True)
    assert executors() == before
    # the executors as they are: nothing of theirs changes, the jobs import
    report = _import(importer, doc, onConflict="overwrite").get_json()["data"]
    assert report["imported"] and report["jobs"]["updated"] == 1 and executors() == before
    assert _import(api, changed, onConflict="overwrite").get_json()["data"]["imported"]  # who holds the grants
    assert executors()[0] == ("orders-app", "被改", 1, "e2node")


def test_a_limited_admin_cannot_repoint_a_resource_or_menu_to_open_every_executor(teams: Teams, api: ApiClient,
                                                                                   app: Any) -> None:
    """A second review's chain, each step allowed alone: a role of their own listing no executor, a harmless
    resource granted to it, then the resource re-pointed to a job route (or a menu to a job page): the role then
    opened the job console for every executor. The re-pointing is refused (403), nothing changed."""
    from tests.factories import route_code

    grant_role(app, teams.role, menu_paths=JOB_MENUS + ("/system", "/system/role", "/system/resource", "/system/menu"),
               resource_codes=job_codes(app, clean_runs=True) + tuple(route_code(e, m) for e, m in (
                   ("roles_api.create", "POST"), ("roles_api.grant", "POST"), ("roles_api.assign", "POST"),
                   ("resources_api.create", "POST"), ("resources_api.modify", "PUT"), ("menus_api.create", "POST"),
                   ("menus_api.modify", "PUT"), ("grades_api.page", "POST"))))
    mine = teams.api.data("POST", "/api/admin/role/create", {"name": "空", "roleCode": "ROLE_EMPTY", "dataScope": 1,
                                                             "jobGroupIds": []})
    harmless = teams.api.data("POST", "/api/admin/resource/create", {
        "name": "职级列表", "resourceUrl": "/api/admin/grade/page", "method": "POST"})
    teams.api.data("POST", "/api/admin/permission/grant", {"roleId": mine, "routers": [], "resources": [harmless]})
    api_error(teams.api.put("/api/admin/resource/modify", {"id": harmless, "resourceUrl": "/api/job/jobinfo/pageList",
                                                           "method": "POST"}), 403)
    from pcloud.resources.models import Resource

    assert query(app, lambda: db.session.get(Resource, harmless).resource_url) == "/api/admin/grade/page"
    # a pattern that opens no job route stays the editor's to change
    assert teams.api.put("/api/admin/resource/modify", {"id": harmless, "resourceUrl": "/api/admin/grade/page",
                                                        "method": "*"}).status_code == 403  # wider than theirs
    teams.api.data("PUT", "/api/admin/resource/modify", {"id": harmless, "name": "职级"})


# ---------------------------------------------------------------- the run chain: nobody runs through a link what they
# may not run by hand (the review's finding: an operator without the script grant, on executor A only, ran an
# administrator's script job and executor B's job as the children of A's job they triggered, started or copied)


@dataclass
class Chain:
    a: int  # executor ids: the operator's, another team's
    b: int
    s: int  # GLUE_SHELL on A
    x: int  # a handler job on B
    p: int  # a handler job on A, childJobId "S,X"
    api: ApiClient  # the operator: job console on A, every job operation but the script grant
    pages: PageClient


def _operator(app: Any, executors: list[int], *, scripts: bool, code: str) -> tuple[ApiClient, PageClient]:
    """A member of a role opening the job console on `executors`, with or without the script grant."""
    from tests.test_jobs_glue import narrow_codes

    role = make_role(app, code)
    grant_role(app, role, menu_paths=JOB_MENUS, resource_codes=job_codes(app, clean_runs=True) if scripts
               else narrow_codes(app))
    query(app, lambda: _set_role_executors(role, executors))
    return member(app, [role])


def _set_role_executors(role: int, executors: list[int]) -> None:
    from sqlalchemy import insert

    db.session.execute(insert(role_job_group), [{"role_id": role, "job_group_id": e} for e in executors])
    db.session.commit()


@pytest.fixture
def chain(api: ApiClient, app: Any) -> Chain:
    from tests.test_jobs_glue import script_body

    a, b = make_executor(api, "team-a-app", title="甲组"), make_executor(api, "team-b-app", title="乙组")
    s = api.data("POST", "/api/job/jobinfo/add", {**script_body(a, "GLUE_SHELL"), "jobDesc": "甲组脚本",
                                                   "glueSource": "echo s\n", "glueRemark": "管理员写的"})
    x = make_job(api, b, jobDesc="乙组任务", scheduleType="NONE")
    p = make_job(api, a, jobDesc="甲组父任务", scheduleType="NONE", childJobId=f"{s},{x}")
    operator, operator_pages = _operator(app, [a], scripts=False, code="ROLE_JOB_OPERATOR")
    return Chain(a, b, s, x, p, operator, operator_pages)


def _runs_of(app: Any, *job_ids: int) -> list[tuple[int, str]]:
    return query(app, lambda: [(r.job_id, r.trigger_type) for r in db.session.execute(
        select(JobRun).where(JobRun.job_id.in_(job_ids)).order_by(JobRun.id)).scalars()])


def _jobs_count(app: Any) -> int:
    return query(app, lambda: db.session.query(Job).filter(Job.deleted_at.is_(None)).count())


def job_body_none(executor: int, desc: str, **kw: Any) -> dict[str, Any]:
    from tests.test_jobs import job_body

    return job_body(executor, jobDesc=desc, scheduleType="NONE", **kw)


def test_an_operator_cannot_run_a_script_or_another_executors_job_as_a_child(chain: Chain, api: ApiClient,
                                                                             app: Any) -> None:
    """The review's scenario through the API: trigger, copy and start of P, which runs S and X after it, are each
    refused, and nothing runs; the 403 names the script child, an out-of-reach child is 404 and not named."""
    op = chain.api
    api_error(op.post("/api/job/jobinfo/trigger", {"id": chain.s}), 403)  # each on its own: refused, as before
    api_error(op.post("/api/job/jobinfo/trigger", {"id": chain.x}), 404)
    api_error(op.put("/api/job/jobinfo/update", {"id": chain.p, "childJobId": str(chain.s)}), 403)
    jobs = _jobs_count(app)
    body = api_error(op.post("/api/job/jobinfo/trigger", {"id": chain.p}), 403)
    assert f"#{chain.s}" in body["msg"] and "甲组脚本" in body["msg"] and "脚本任务" in body["msg"], body["msg"]
    body = api_error(op.post(f"/api/job/jobinfo/{chain.p}/copy"), 403)
    assert f"#{chain.s}" in body["msg"] and "甲组脚本" in body["msg"]
    assert _jobs_count(app) == jobs  # no copy
    # put on a schedule, it would run them on every fire: the schedule may change (it is stopped), not start
    op.data("PUT", "/api/job/jobinfo/update", {"id": chain.p, "scheduleType": "CRON", "scheduleConf": "0/1 * * * * ?"})
    body = api_error(op.post(f"/api/job/jobinfo/{chain.p}/start"), 403)
    assert f"#{chain.s}" in body["msg"]
    assert query(app, lambda: db.session.get(Job, chain.p).trigger_status) == 0
    api.data("POST", f"/api/job/jobinfo/{chain.p}/start")  # started by an administrator: moving its fires is starting
    api_error(op.put("/api/job/jobinfo/update", {"id": chain.p, "scheduleConf": "0/2 * * * * ?"}), 403)
    assert query(app, lambda: db.session.get(Job, chain.p).schedule_conf) == "0/1 * * * * ?"
    api.data("POST", f"/api/job/jobinfo/{chain.p}/stop")
    # a copy an administrator made has the same children: triggering it is refused as well
    copy = api.data("POST", f"/api/job/jobinfo/{chain.p}/copy")
    assert api.data("POST", "/api/job/jobinfo/pageList", {"jobDesc": "副本", "triggerStatus": -1})[0]["childJobId"] \
        == f"{chain.s},{chain.x}"
    api_error(op.post("/api/job/jobinfo/trigger", {"id": copy}), 403)
    api_error(op.post(f"/api/job/jobinfo/{copy}/start"), 403)
    # with the script grant but still on A only: B's job is out of reach, 404, said as a save says it, unnamed
    reaching, _ = _operator(app, [chain.a], scripts=True, code="ROLE_SCRIPT_OPERATOR")
    for refused in (reaching.post("/api/job/jobinfo/trigger", {"id": chain.p}),
                    reaching.post(f"/api/job/jobinfo/{chain.p}/copy"), reaching.post(f"/api/job/jobinfo/{copy}/start")):
        body = api_error(refused, 404)
        assert body["msg"] == f"子任务 ID {chain.x} 不存在" and "乙组" not in body["msg"]
    assert _runs_of(app, chain.p, chain.s, chain.x, copy) == []  # nothing ran, so nothing followed
    assert query(app, lambda: db.session.get(Job, copy).trigger_status) == 0


def test_the_pages_refuse_the_same_run_once_start_and_copy(chain: Chain, api: ApiClient, app: Any) -> None:
    jobs = _jobs_count(app)
    listing = f"/job/info/?jobGroup={chain.a}"
    resp = chain.pages.submit(listing, f"/job/info/{chain.p}/trigger", {"executor_param": "", "address_list": ""})
    assert resp.status_code == 403, resp.get_data(as_text=True)[:300]
    assert "甲组脚本" in resp.get_data(as_text=True)
    resp = chain.pages.submit(listing, f"/job/info/{chain.p}/copy", {})
    assert resp.status_code == 403 and "甲组脚本" in resp.get_data(as_text=True)
    api.data("PUT", "/api/job/jobinfo/update", {"id": chain.p, "scheduleType": "CRON", "scheduleConf": "0/1 * * * * ?"})
    resp = chain.pages.submit(listing, f"/job/info/{chain.p}/start", {})
    assert resp.status_code == 403 and "甲组脚本" in resp.get_data(as_text=True)
    _, reaching = _operator(app, [chain.a], scripts=True, code="ROLE_SCRIPT_OPERATOR")
    resp = reaching.submit(listing, f"/job/info/{chain.p}/trigger", {"executor_param": "", "address_list": ""})
    assert resp.status_code == 404 and f"子任务 ID {chain.x} 不存在" in resp.get_data(as_text=True)
    assert "乙组任务" not in resp.get_data(as_text=True)
    assert _jobs_count(app) == jobs
    assert query(app, lambda: db.session.get(Job, chain.p).trigger_status) == 0
    assert _runs_of(app, chain.p, chain.s, chain.x) == []


def test_the_job_list_offers_run_start_and_copy_only_where_the_chain_may_run(chain: Chain, api: ApiClient,
                                                                            pages: PageClient) -> None:
    """No button whose click the checks above refuse: P (whose children are a script and another executor's job)
    shows neither 执行一次, 启动 nor 复制 to the operator; a plain job beside it shows all three; a job that a
    forbidden one depends on may be copied (a copy has no dependents) but not run; the administrator sees all."""
    cron = {"scheduleType": "CRON", "scheduleConf": "0 0 3 * * ?"}
    api.data("PUT", "/api/job/jobinfo/update", {"id": chain.p, **cron})
    plain = make_job(api, chain.a, jobDesc="甲组普通任务", **cron)
    followed = make_job(api, chain.a, jobDesc="甲组被依赖任务", **cron)
    api.data("PUT", "/api/job/jobinfo/update", {"id": chain.s, "parentJobIds": [followed]})

    def offered(pages: PageClient) -> dict[int, set[str]]:
        html = pages.get(f"/job/info/?jobGroup={chain.a}").get_data(as_text=True)
        marks = {"run": 'data-trigger-job="{}"', "start": 'action="/job/info/{}/start',
                 "copy": 'action="/job/info/{}/copy'}
        return {job: {what for what, mark in marks.items() if mark.format(job) in html}
                for job in (chain.p, plain, followed)}

    assert offered(chain.pages) == {chain.p: set(), plain: {"run", "start", "copy"}, followed: {"copy"}}
    everything = {"run", "start", "copy"}
    assert offered(pages) == {chain.p: everything, plain: everything, followed: everything}


def test_the_job_list_reads_each_linked_job_once_for_all_its_rows(chain: Chain, api: ApiClient, app: Any) -> None:
    """Forty jobs each the child of the next, listed on one page to the operator: every row's chain is walked (16
    links deep), yet the page's jobs, their dependents and the jobs beyond are read a few statements for the whole
    page, not once per row and link (over a thousand statements before)."""
    from pcloud.core.dbstats import captured_selects

    previous = None
    for i in range(40):
        previous = make_job(api, chain.a, jobDesc=f"链{i}", scheduleType="NONE",
                            **({"childJobId": str(previous)} if previous else {}))
    with app.app_context(), captured_selects(db.engine) as seen:
        html = chain.pages.get(f"/job/info/?jobGroup={chain.a}&size=50").get_data(as_text=True)
    assert html.count("data-trigger-job=") == 40  # the chain's jobs, all runnable; not P
    chain_reads = [sql for sql, _ in seen if "job_dependency" in sql or "job_info.child_job_id" in sql]
    assert len(chain_reads) <= 10, len(chain_reads)


def test_the_whole_chain_is_checked_grandchildren_and_dependents_included(chain: Chain, api: ApiClient,
                                                                        app: Any) -> None:
    """A child's own children run when it succeeds, and a job depending on one runs after it: linking or running
    the first runs them all, so each is checked, as deep as the worker goes."""
    op = chain.api
    middle = make_job(api, chain.a, jobDesc="中间任务", scheduleType="NONE", childJobId=str(chain.s))
    top = make_job(api, chain.a, jobDesc="顶层任务", scheduleType="NONE", childJobId=str(middle))
    body = api_error(op.post("/api/job/jobinfo/trigger", {"id": top}), 403)
    assert f"#{chain.s}" in body["msg"] and "甲组脚本" in body["msg"]
    mine = op.data("POST", "/api/job/jobinfo/add", job_body_none(chain.a, "我的任务"))
    body = api_error(op.put("/api/job/jobinfo/update", {"id": mine, "childJobId": str(middle)}), 403)
    assert "甲组脚本" in body["msg"]  # linking the middle job links the script below it
    # a dependent: the script waits for `lead`; running lead runs it
    lead = make_job(api, chain.a, jobDesc="前置任务", scheduleType="NONE")
    api.data("PUT", "/api/job/jobinfo/update", {"id": chain.s, "parentJobIds": [lead]})
    body = api_error(op.post("/api/job/jobinfo/trigger", {"id": lead}), 403)
    assert f"#{chain.s}" in body["msg"]
    # ... and becoming the dependent of a job makes one run after it: naming a parent is linking too
    api_error(op.put("/api/job/jobinfo/update", {"id": middle, "parentJobIds": [mine]}), 403)
    # a dependent on B: out of reach, 404 naming neither it nor its id
    api.data("PUT", "/api/job/jobinfo/update", {"id": chain.s, "parentJobIds": []})
    api.data("PUT", "/api/job/jobinfo/update", {"id": chain.x, "parentJobIds": [lead]})
    body = api_error(op.post("/api/job/jobinfo/trigger", {"id": lead}), 404)
    assert "乙组任务" not in body["msg"] and str(chain.x) not in body["msg"] and f"#{lead}" in body["msg"]
    assert _runs_of(app, top, middle, lead, mine, chain.s, chain.x) == []
    # what the operator may run still runs, linked or alone
    api.data("PUT", "/api/job/jobinfo/update", {"id": chain.x, "parentJobIds": []})
    api.data("PUT", "/api/job/jobinfo/update", {"id": middle, "childJobId": ""})
    assert len(op.data("POST", "/api/job/jobinfo/trigger", {"id": top})) == 1
    op.data("PUT", "/api/job/jobinfo/update", {"id": mine, "childJobId": str(middle), "parentJobIds": [lead]})
    assert len(op.data("POST", "/api/job/jobinfo/trigger", {"id": lead})) == 1


def test_the_chain_check_ends_on_a_loop_and_refuses_past_its_budget(chain: Chain, api: ApiClient, app: Any,
                                                                    monkeypatch: Any) -> None:
    from pcloud.jobs import service

    op = chain.api
    one = make_job(api, chain.a, jobDesc="环一", scheduleType="NONE")
    two = make_job(api, chain.a, jobDesc="环二", scheduleType="NONE", childJobId=f"{one},{chain.s}")

    def link(job_id: int, children: str) -> None:  # a loop written past the console (the worker ends it at 16 links)
        db.session.get(Job, job_id).child_job_id = children
        db.session.commit()

    query(app, lambda: link(one, str(two)))
    body = api_error(op.post("/api/job/jobinfo/trigger", {"id": one}), 403)  # round the loop, the script found
    assert f"#{chain.s}" in body["msg"]
    query(app, lambda: link(two, str(one)))
    assert len(op.data("POST", "/api/job/jobinfo/trigger", {"id": one})) == 1  # the loop walked once
    fan = make_job(api, chain.a, jobDesc="扇出", scheduleType="NONE", childJobId=f"{one},{two}")
    monkeypatch.setattr(service, "RUN_CHAIN_MAX_JOBS", 1)
    body = api_error(op.post("/api/job/jobinfo/trigger", {"id": fan}), 403)  # past the budget: refused unread
    assert "1 个" in body["msg"]
    assert _runs_of(app, fan, chain.s) == []


def test_an_import_links_only_what_the_importer_may_run(chain: Chain, api: ApiClient, app: Any) -> None:
    """An import's links are a save's: a child whose chain runs the script, or a new parent over a job the script
    depends on, is an error of that job, and nothing is written."""
    lead = make_job(api, chain.a, jobDesc="前置任务", scheduleType="NONE")
    middle = make_job(api, chain.a, jobDesc="中间任务", scheduleType="NONE")
    api.data("PUT", "/api/job/jobinfo/update", {"id": chain.s, "parentJobIds": [middle]})  # S runs after middle
    doc = _export(chain.api, {"ids": [lead, middle]})
    for job in doc["jobs"]:
        if job["jobDesc"] == "中间任务":
            job["parentJobs"] = [{"appname": "team-a-app", "jobDesc": "前置任务"}]
    doc["jobs"].append({**doc["jobs"][0], "jobDesc": "导入任务", "parentJobs": [],
                        "childJobs": [{"appname": "team-a-app", "jobDesc": "甲组父任务"}]})
    body = api_error(_import(chain.api, doc, onConflict="overwrite"), 422)
    assert [e.split(":")[0] for e in body["errors"]["file"]] == ["team-a-app 中间任务", "team-a-app 导入任务"]
    assert all(f"#{chain.s}「甲组脚本」" in e for e in body["errors"]["file"]), body
    assert query(app, lambda: db.session.query(Job).filter_by(job_desc="导入任务").count()) == 0
    assert query(app, lambda: service_parents(middle)) == []


def service_parents(job_id: int) -> list[int]:
    from pcloud.jobs.service import parents_of

    return parents_of([job_id]).get(job_id, [])


@pytest.mark.slow
def test_an_operator_who_may_run_every_child_runs_the_chain_and_one_who_may_not_runs_none(
        chain: Chain, api: ApiClient, app: Any, database_url: str, instance_dir: Any, tmp_path: Any) -> None:
    """On a real worker: the refused operator's trigger leaves nothing for it to run; one holding the script grant
    and both executors triggers P, and P, then S (the script) and X (on B) run, PARENT runs of P's run."""
    from tests.test_jobs_worker import Jobs, start_worker, wait_until

    worker = start_worker(database_url, instance_dir, tmp_path, "chain-node", executor="team-a-app")
    try:
        # B's runs go to the same node: B lists it by hand
        api.data("PUT", "/api/job/jobgroup/update", {"id": chain.b, "addressType": 1, "addressList": "chain-node"})
        api_error(chain.api.post("/api/job/jobinfo/trigger", {"id": chain.p}), 403)
        trusted, _ = _operator(app, [chain.a, chain.b], scripts=True, code="ROLE_CHAIN_OPERATOR")
        (first,) = trusted.data("POST", "/api/job/jobinfo/trigger", {"id": chain.p})
        jobs = Jobs(app)
        for job_id in (chain.s, chain.x):  # awaited: each child's run is found, then its end, in the database
            (child,) = wait_until(lambda j=job_id: jobs.runs(JobRun.job_id == j), 90, f"a run of {job_id}", [worker])
            run = jobs.done(child["id"], 90, [worker])
            assert (run["trigger_type"], run["parent_log_id"], run["handle_code"]) == ("PARENT", first, 200), run
        assert jobs.lines(jobs.runs(JobRun.job_id == chain.s)[0]["id"]) == ["s"]  # the script ran
        assert [t for _, t in _runs_of(app, chain.p, chain.s, chain.x)] == ["MANUAL", "PARENT", "PARENT"]
    finally:
        worker.stop()


def test_a_page_s_verdict_on_roles_is_the_one_a_single_role_gets(teams: Teams, api: ApiClient, app: Any) -> None:
    """The online list and the user rules ask for many roles at once whether each reaches further than the
    principal (permissions.roles_beyond_reach, a few statements for a page); handing one role out asks
    reach_refusal. Two readings of one rule: for roles differing in each part of a role's reach (ROLE_SUPER_ADMIN,
    a menu, an API resource, the executors, the data scope), both say the same of each role."""
    from pcloud.access import permissions
    from pcloud.roles.models import Role
    from tests.factories import route_code
    from tests.test_datascope import principal_of

    api.data("PUT", "/api/admin/role/modify", {"id": teams.role, "dataScope": 3})  # the team: its own department
    codes = job_codes(app, clean_runs=True)

    def role(code: str, menus: tuple[str, ...] = JOB_MENUS, job_groups: list[int] | None = None,
             scope: int = 3, more_codes: tuple[str, ...] = ()) -> int:
        made = make_role(app, code)
        grant_role(app, made, menu_paths=menus, resource_codes=(*codes, *more_codes))
        api.data("PUT", "/api/admin/role/modify", {"id": made, "jobGroupIds": job_groups if job_groups is not None
                                                   else [teams.a], "dataScope": scope})
        return made

    within = {teams.role, role("ROLE_LIKE_A")}
    beyond = {role("ROLE_EXEC_B", job_groups=[teams.b]), role("ROLE_EVERY_EXEC", job_groups=[]),
              role("ROLE_MORE_MENU", menus=(*JOB_MENUS, "/system/user")), role("ROLE_ALL_DATA", scope=1),
              role("ROLE_MORE_API", more_codes=(route_code("users_api.page", "POST"),)),
              query(app, lambda: db.session.execute(select(Role.id).where(Role.role_code == "ROLE_SUPER_ADMIN"))
                    .scalar_one())}
    member_id = make_user(app, phone=next_phone(), role_ids=[teams.role])
    principal = principal_of(app, member_id)
    with app.app_context():
        roles = list(db.session.execute(select(Role).where(Role.id.in_(within | beyond))).scalars())
        one_by_one = {r.id for r in roles if permissions.reach_refusal(principal, roles=[r]) is not None}
        at_once = permissions.roles_beyond_reach(roles, principal)
        db.session.remove()
    assert one_by_one == beyond
    assert at_once == beyond
