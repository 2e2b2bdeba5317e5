"""Script jobs (GLUE_PYTHON, GLUE_SHELL), issue 23 item 2: versions, diff, rollback, the script grant through
every door (page and API), and the scripts run by real worker processes with a scrubbed environment."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from pcloud.core.i18n import N_, said, translated
from pcloud.extensions import db
from pcloud.jobs.models import Job, JobGlueVersion, JobRun
from tests.conftest import ApiClient, PageClient, api_error
from tests.factories import grant_role, make_role, make_user, next_phone, query, route_code
from tests.test_jobs import JOB_MENUS, job_body, make_executor, make_job

PY_SOURCE = "import sys\nprint('hello', sys.argv[1])\n"


def script_body(executor: int, glue_type: str = "GLUE_PYTHON", **kw: Any) -> dict[str, Any]:
    body = job_body(executor, glueType=glue_type, scheduleType="NONE", **kw)
    body.pop("scheduleConf")
    body.pop("executorHandler")
    return body


def narrow_codes(app: Any) -> tuple[str, ...]:
    """Every job API operation but the script routes: jobinfo add/update/trigger/copy... without jobcode."""
    from sqlalchemy import select

    from pcloud.resources.models import Resource

    codes = query(app, lambda: list(db.session.execute(select(Resource.code).where(
        Resource.code.like("api:jobs_api.%"), Resource.deleted_at.is_(None))).scalars()))
    assert route_code("jobs_api.jobcode_save", "POST") in codes
    return tuple(c for c in codes if ".jobcode_" not in c)


def narrow_role_user(app: Any) -> str:
    role = make_role(app, f"JOBNARROW{next_phone()[-4:]}")
    grant_role(app, role, menu_paths=JOB_MENUS, resource_codes=narrow_codes(app))
    phone = next_phone()
    make_user(app, phone=phone, role_ids=[role])
    return phone


@pytest.fixture
def narrow_api(app: Any) -> ApiClient:
    helper = ApiClient(app.test_client())
    helper.token = helper.sign_in(narrow_role_user(app), "Passw0rd1")
    return helper


@pytest.fixture
def narrow_pages(app: Any) -> PageClient:
    pages = PageClient(app.test_client())
    assert pages.sign_in(narrow_role_user(app), "Passw0rd1").status_code == 302
    return pages


def versions(app: Any, job_id: int) -> list[tuple[str, str]]:
    return query(app, lambda: [(v.glue_remark, v.glue_source) for v in db.session.query(JobGlueVersion)
                               .filter_by(job_id=job_id).order_by(JobGlueVersion.id)])


# ---------------------------------------------------------------- versions through the API


def test_a_script_job_keeps_every_save_as_a_version_with_remark_author_and_diff(api: Any, app: Any) -> None:
    from pcloud.actionlog.models import ActionLog

    executor = make_executor(api)
    job = make_job(api, executor, **{k: v for k, v in script_body(executor).items() if k != "jobGroup"},
                   glueSource=PY_SOURCE, glueRemark="第一版")
    item = api.data("POST", "/api/job/jobinfo/pageList", {"jobGroup": executor, "triggerStatus": -1})[0]
    assert (item["glueType"], item["glueRemark"], item["executorHandler"]) == ("GLUE_PYTHON", "第一版", "GLUE_PYTHON")
    assert "glueSource" not in item  # the source only through the script routes
    body = api_error(api.post("/api/job/jobcode/save", {"jobId": job, "glueSource": "print(2)\n", "glueRemark": " "}),
                     422)
    assert "glueRemark" in json.dumps(body["errors"])
    api_error(api.post("/api/job/jobcode/save", {"jobId": job, "glueSource": "print(2)\n"}), 422)
    second = api.data("POST", "/api/job/jobcode/save",
                      {"jobId": job, "glueSource": "print(2)\n", "glueRemark": "改成 2"})
    listed = api.data("POST", f"/api/job/jobcode/{job}/versions")
    assert [v["glueRemark"] for v in listed] == ["改成 2", "第一版"]
    assert listed[0]["id"] == second and listed[0]["updatedBy"] and listed[0]["updatedAt"]
    assert api.data("GET", f"/api/job/jobcode/version/{second}")["glueSource"] == "print(2)\n"
    # the operation log keeps the save with its diff
    params = query(app, lambda: db.session.query(ActionLog.params).filter_by(title="脚本任务保存")
                   .order_by(ActionLog.id.desc()).limit(1).scalar())
    diff = json.loads(params)["diff"]
    assert "-print('hello', sys.argv[1])" in diff and "+print(2)" in diff
    # rollback makes a new version with the old source
    first = listed[1]["id"]
    back = api.data("POST", f"/api/job/jobcode/{job}/rollback", {"versionId": first})
    assert back > second
    assert query(app, lambda: db.session.get(Job, job).glue_source) == PY_SOURCE
    assert translated([r for r, _ in versions(app, job)][-1]).startswith(f"回滚到版本 #{first}")
    # only the last 30 are listed
    for i in range(31):
        api.data("POST", "/api/job/jobcode/save", {"jobId": job, "glueSource": f"print({i})\n", "glueRemark": f"v{i}"})
    listed = api.data("POST", f"/api/job/jobcode/{job}/versions")
    assert len(listed) == 30 and listed[0]["glueRemark"] == "v30"
    # a version of another job cannot be rolled back onto this one; a BEAN job has no script
    bean = make_job(api, executor)
    api_error(api.post(f"/api/job/jobcode/{bean}/rollback", {"versionId": first}), 404)
    api_error(api.post("/api/job/jobcode/save", {"jobId": bean, "glueSource": "x", "glueRemark": "x"}), 409)
    api_error(api.put("/api/job/jobinfo/update", {"id": bean, "glueSource": "print(1)"}), 422)


def test_switching_a_job_to_a_script_and_copying_it(api: Any, app: Any) -> None:
    executor = make_executor(api)
    job = make_job(api, executor)
    api.data("PUT", "/api/job/jobinfo/update", {"id": job, "glueType": "GLUE_SHELL"})
    (remark, source), = versions(app, job)
    assert remark == "GLUE代码初始化" and source.startswith("#!/bin/sh")
    # changing the source through update needs a remark too
    api_error(api.put("/api/job/jobinfo/update", {"id": job, "glueSource": "echo hi\n"}), 422)
    api.data("PUT", "/api/job/jobinfo/update", {"id": job, "glueSource": "echo hi\n", "glueRemark": "hi"})
    copy = api.data("POST", f"/api/job/jobinfo/{job}/copy")
    copied = query(app, lambda: db.session.get(Job, copy))
    assert (copied.glue_type, copied.glue_source) == ("GLUE_SHELL", "echo hi\n")
    assert versions(app, copy) == [(said(N_("复制自任务 #%(id)s"), id=job), "echo hi\n")]
    # back to BEAN: a registered handler is required again
    api_error(api.put("/api/job/jobinfo/update", {"id": job, "glueType": "BEAN"}), 422)
    api.data("PUT", "/api/job/jobinfo/update", {"id": job, "glueType": "BEAN", "executorHandler": "demoJobHandler"})


# ---------------------------------------------------------------- red team: a narrow job role, every door


def test_a_narrow_job_role_cannot_create_edit_switch_copy_or_run_a_script_job_through_the_api(
        api: Any, app: Any, narrow_api: ApiClient) -> None:
    executor = make_executor(api)
    script = api.data("POST", "/api/job/jobinfo/add", {**script_body(executor), "glueSource": PY_SOURCE,
                                                        "glueRemark": "管理员写的"})
    mine = narrow_api.data("POST", "/api/job/jobinfo/add", job_body(executor))  # BEAN jobs: allowed
    before = versions(app, script)
    attacks = [
        ("POST", "/api/job/jobinfo/add", {**script_body(executor), "glueSource": "import os"}),
        ("POST", "/api/job/jobinfo/add", script_body(executor, "GLUE_SHELL")),
        ("PUT", "/api/job/jobinfo/update", {"id": mine, "glueType": "GLUE_PYTHON"}),
        ("PUT", "/api/job/jobinfo/update", {"id": mine, "glueType": "GLUE_SHELL", "glueSource": "id",
                                            "glueRemark": "x"}),
        ("PUT", "/api/job/jobinfo/update", {"id": script, "glueSource": "import os", "glueRemark": "x"}),
        ("PUT", "/api/job/jobinfo/update", {"id": script, "executorParam": "x"}),
        ("POST", f"/api/job/jobinfo/{script}/copy", None),
        ("POST", "/api/job/jobinfo/trigger", {"id": script}),
        ("POST", f"/api/job/jobinfo/{script}/start", None),
        ("PUT", "/api/job/jobinfo/update", {"id": mine, "childJobId": str(script)}),
        ("POST", "/api/job/jobinfo/add", job_body(executor, childJobId=str(script))),
        ("POST", "/api/job/jobcode/save", {"jobId": script, "glueSource": "import os", "glueRemark": "x"}),
        ("POST", f"/api/job/jobcode/{script}/rollback", {"versionId": 1}),
        ("POST", f"/api/job/jobcode/{script}/versions", None),
        ("GET", "/api/job/jobcode/version/1", None),
    ]
    for method, path, body in attacks:
        resp = narrow_api.call(method, path, body)
        assert resp.status_code == 403, (method, path, body, resp.get_data(as_text=True)[:300])
    assert versions(app, script) == before
    assert query(app, lambda: db.session.query(Job).filter(Job.glue_type != "BEAN").count()) == 1
    assert query(app, lambda: db.session.query(JobRun).filter_by(job_id=script).count()) == 0
    assert query(app, lambda: db.session.get(Job, mine).glue_type) == "BEAN"
    assert query(app, lambda: db.session.get(Job, script).trigger_status) == 0


def test_a_narrow_job_role_cannot_do_it_through_the_pages_either(api: Any, app: Any, narrow_pages: PageClient) -> None:
    executor = make_executor(api)
    script = api.data("POST", "/api/job/jobinfo/add", {**script_body(executor), "glueSource": PY_SOURCE,
                                                        "glueRemark": "管理员写的"})
    mine = make_job(api, executor, jobDesc="我的任务")
    before = versions(app, script)
    listing = narrow_pages.get(f"/job/info/?jobGroup={executor}").get_data(as_text=True)
    assert f"/job/info/{mine}/trigger" in listing and f"/job/info/{mine}/edit" in listing
    for action in ("trigger", "edit", "copy", "start", "code"):  # no button for what would be refused
        assert f"/job/info/{script}/{action}" not in listing, action
    form = {"job_group": str(executor), "job_desc": "脚本", "author": "x", "schedule_type": "NONE", "schedule_conf": "",
            "timezone": "Asia/Shanghai", "misfire_strategy": "DO_NOTHING", "executor_route_strategy": "FIRST",
            "executor_handler": "", "executor_param": "", "executor_block_strategy": "SERIAL_EXECUTION",
            "executor_timeout": "0", "executor_fail_retry_count": "0", "child_job_id": "", "glue_type": "GLUE_PYTHON"}
    resp = narrow_pages.submit("/job/info/new", "/job/info/new", form)
    assert resp.status_code == 403, resp.get_data(as_text=True)[:300]
    resp = narrow_pages.submit(f"/job/info/{mine}/edit", f"/job/info/{mine}/edit",
                               {**form, "job_desc": "我的任务", "glue_type": "GLUE_SHELL"})
    assert resp.status_code == 403, resp.get_data(as_text=True)[:300]
    resp = narrow_pages.submit("/job/info/", f"/job/info/{script}/trigger", {"executor_param": "", "address_list": ""})
    assert resp.status_code == 403
    resp = narrow_pages.submit("/job/info/", f"/job/info/{script}/copy", {})
    assert resp.status_code == 403
    assert narrow_pages.get(f"/job/info/{script}/code").status_code == 403
    resp = narrow_pages.submit("/job/info/", f"/job/info/{script}/code",
                               {"glue_source": "import os", "glue_remark": "x"})
    assert resp.status_code == 403
    assert versions(app, script) == before
    assert query(app, lambda: db.session.query(Job).filter(Job.glue_type != "BEAN").count()) == 1
    assert query(app, lambda: db.session.query(JobRun).filter_by(job_id=script).count()) == 0


def test_a_fresh_role_admin_does_not_hold_the_script_routes(app: Any) -> None:
    """`pcloud init` grants a new ROLE_ADMIN every route but the script jobs' (the super administrator's)."""
    from sqlalchemy import select

    from pcloud.access.models import role_resource
    from pcloud.resources.models import Resource
    from pcloud.roles.models import Role

    def held() -> set[str]:
        admin = db.session.execute(select(Role.id).where(Role.role_code == "ROLE_ADMIN")).scalar_one()
        return set(db.session.execute(select(Resource.resource_url).join(
            role_resource, role_resource.c.resource_id == Resource.id).where(role_resource.c.role_id == admin))
                   .scalars())

    urls = query(app, held)
    assert "/api/job/jobinfo/add" in urls
    assert not [u for u in urls if u.startswith("/api/job/jobcode/")]


def test_the_script_read_routes_alone_do_not_show_a_source_without_the_script_grant(api: Any, app: Any,
                                                                                    pages: PageClient) -> None:
    """Authorization review (session 28): a role granted the job routes and, of the script routes, only the two
    that read (`jobcode/{jobId}/versions`, `jobcode/version/{id}`) read a script's source through the API and the
    diff page: their own resources were the only check. A script's source is the script grant's (API.md: without it,
    every jobcode route is 403), so reading its versions needs that grant too, through the API and the pages."""
    executor = make_executor(api)
    script = api.data("POST", "/api/job/jobinfo/add", {**script_body(executor), "glueSource": "TOKEN = 'first'\n",
                                                        "glueRemark": "第一版"})
    api.data("POST", "/api/job/jobcode/save", {"jobId": script, "glueSource": "TOKEN = 's3cr3t'\n",
                                               "glueRemark": "第二版"})
    first, second = [v["id"] for v in reversed(api.data("POST", f"/api/job/jobcode/{script}/versions"))]
    role = make_role(app, "ROLE_SCRIPT_READER")
    grant_role(app, role, menu_paths=JOB_MENUS, resource_codes=narrow_codes(app) + (
        route_code("jobs_api.jobcode_versions", "POST"), route_code("jobs_api.jobcode_version", "GET")))
    phone = next_phone()
    make_user(app, phone=phone, role_ids=[role])
    reader = ApiClient(app.test_client())
    reader.token = reader.sign_in(phone, "Passw0rd1")
    for resp in (reader.post(f"/api/job/jobcode/{script}/versions"), reader.get(f"/api/job/jobcode/version/{second}")):
        body = api_error(resp, 403)
        assert "s3cr3t" not in str(body) and "脚本任务" in body["msg"], body
    reader_pages = PageClient(app.test_client())
    assert reader_pages.sign_in(phone, "Passw0rd1").status_code == 302
    resp = reader_pages.get(f"/job/info/{script}/code/diff?from={first}&to={second}")
    assert resp.status_code == 403 and "s3cr3t" not in resp.get_data(as_text=True)
    # the script grant reads them, as before
    assert api.data("GET", f"/api/job/jobcode/version/{second}")["glueSource"] == "TOKEN = 's3cr3t'\n"
    assert "s3cr3t" in pages.get(f"/job/info/{script}/code/diff?from={first}&to={second}").get_data(as_text=True)


# ---------------------------------------------------------------- the console (pages)


def test_the_script_page_saves_lists_diffs_and_rolls_back(api: Any, app: Any, pages: PageClient) -> None:
    executor = make_executor(api)
    job = api.data("POST", "/api/job/jobinfo/add", {**script_body(executor), "glueSource": PY_SOURCE,
                                                     "glueRemark": "第一版"})
    html = pages.get(f"/job/info/{job}/code").get_data(as_text=True)
    assert "vendor/codemirror/lib/codemirror.js" in html and "第一版" in html
    resp = pages.submit(f"/job/info/{job}/code", f"/job/info/{job}/code", {"glue_source": "print(1)\n",
                                                                           "glue_remark": ""})
    assert resp.status_code == 422 and "请填写本次修改的备注" in resp.get_data(as_text=True)
    resp = pages.submit(f"/job/info/{job}/code", f"/job/info/{job}/code", {"glue_source": "print(1)\n",
                                                                           "glue_remark": "改一行"})
    assert resp.status_code == 302
    (first, _), (second, _) = query(app, lambda: [(v.id, v.glue_remark) for v in db.session.query(JobGlueVersion)
                                                  .filter_by(job_id=job).order_by(JobGlueVersion.id)])
    html = pages.get(f"/job/info/{job}/code/diff?from={first}&to={second}").get_data(as_text=True)
    assert "print(1)" in html and "diff-del" in html and "diff-add" in html
    resp = pages.submit(f"/job/info/{job}/code", f"/job/info/{job}/code/rollback", {"version_id": str(first)})
    assert resp.status_code == 302
    assert query(app, lambda: db.session.get(Job, job).glue_source) == PY_SOURCE
    assert pages.get("/static/vendor/codemirror/lib/codemirror.js").status_code == 200


def test_a_script_saved_meanwhile_is_not_overwritten_unseen_from_an_older_editor(api: Any, app: Any,
                                                                                 pages: PageClient) -> None:
    """A review: the editor's last save won; a fix saved by someone else meanwhile survived only in the version
    history, and nobody was told. A save from an editor shown before it is 409 with the typed script kept."""
    import re

    executor = make_executor(api)
    job = api.data("POST", "/api/job/jobinfo/add", {**script_body(executor), "glueSource": PY_SOURCE,
                                                     "glueRemark": "第一版"})
    url = f"/job/info/{job}/code"
    seen = re.search(r'name="_seen" value="(\w+)"', pages.get(url).get_data(as_text=True)).group(1)
    api.data("POST", "/api/job/jobcode/save", {"jobId": job, "glueSource": "print('fix')\n", "glueRemark": "修复"})
    mine = {"glue_source": "print('mine')\n", "glue_remark": "我的修改", "_seen": seen}
    refused = pages.submit(url, data=mine)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "print(&#39;mine&#39;)" in html
    assert query(app, lambda: db.session.get(Job, job).glue_source) == "print('fix')\n"
    again = re.search(r'name="_seen" value="(\w+)"', html).group(1)
    assert pages.submit(url, data={**mine, "_seen": again}).status_code == 302
    assert query(app, lambda: db.session.get(Job, job).glue_source) == "print('mine')\n"


# ---------------------------------------------------------------- real worker processes

SECRET_MARKER = "glue-test-secret-value-6f1d"

ENV_PROBE = """
import os, sys
print("argv", sys.argv[1:])
print("cwd", os.getcwd())
for key in sorted(os.environ):
    print("env", key, os.environ[key])
with open("/proc/self/environ", "rb") as fh:
    print("self", fh.read().replace(b"\\0", b" ").decode())
pid = os.getppid()
for level in range(3):  # the worker's child, its fork server, the worker
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            print("ancestor", level, fh.read().replace(b"\\0", b" ").decode())
    except OSError as exc:
        print("ancestor", level, "refused", type(exc).__name__)
    with open(f"/proc/{pid}/status") as fh:
        pid = int(next(line.split()[1] for line in fh if line.startswith("PPid:")))
"""


@pytest.fixture
def glue_worker(app: Any, database_url: str, instance_dir: Path, tmp_path: Path) -> Any:
    from tests.test_jobs_worker import start_worker

    worker = start_worker(database_url, instance_dir, tmp_path, "glue-node", executor="glue-app",
                          env={"PCLOUD_GLUE_PROBE": SECRET_MARKER})
    yield worker
    worker.stop()


def _script_job(app: Any, glue_type: str, source: str, **fields: Any) -> int:
    from tests.test_jobs_worker import Jobs

    jobs = Jobs(app)
    executor = jobs.executor("glue-app")
    job = jobs.job("", None, job_group=executor, glue_type=glue_type, glue_source=source, glue_remark="t", **fields)
    return job


@pytest.mark.slow
def test_scripts_run_in_a_worker_with_parameter_shards_output_and_a_scrubbed_environment(
        app: Any, glue_worker: Any) -> None:
    from tests.conftest import TEST_CONFIG
    from tests.test_jobs_worker import Jobs

    jobs = Jobs(app)
    py = _script_job(app, "GLUE_PYTHON", ENV_PROBE)
    # `date` in the console's zone (PCLOUD_TIMEZONE, Asia/Shanghai here), whatever the worker host's is
    sh = _script_job(app, "GLUE_SHELL", 'echo "sh $1 $2 $3 $JOB_PARAM"\ndate +"zone %z"\nexit 3\n',
                     executor_timeout=30)
    (py_run,) = jobs.trigger(py, "p-1")
    (sh_run,) = jobs.trigger(sh, "p 2")
    run = jobs.done(py_run, 90, [glue_worker])
    assert run["handle_code"] == 200, (run["handle_msg"], jobs.lines(py_run))
    out = "\n".join(jobs.lines(py_run))
    assert "argv ['p-1', '0', '1']" in out and "env JOB_PARAM p-1" in out and "env JOB_TIMEOUT 0" in out
    assert "cwd /" in out and "pcloud-glue-" in out  # a fresh temporary directory
    for secret in (TEST_CONFIG["SECRET_KEY"], SECRET_MARKER, "PCLOUD_", "DATABASE_URL"):
        assert secret not in out, (secret, out)
    assert out.count("refused PermissionError") == 3, out
    run = jobs.done(sh_run, 60, [glue_worker])
    assert (run["handle_code"], run["handle_msg"]) == (500, said(N_("脚本退出码 %(code)s"), code=3))
    assert jobs.lines(sh_run) == ["sh p 2 0 1 p 2", "zone +0800"]


@pytest.mark.slow
def test_a_script_is_killed_with_its_whole_process_group_on_timeout_and_on_kill(app: Any, glue_worker: Any) -> None:
    import os

    from tests.test_jobs_worker import Jobs, wait_until

    jobs = Jobs(app)
    source = 'sleep 300 &\necho "pid $! $TMPDIR"\nwait\n'
    slow = _script_job(app, "GLUE_SHELL", source, executor_timeout=3)
    (timed_out,) = jobs.trigger(slow)
    run = jobs.done(timed_out, 60, [glue_worker])
    assert run["handle_code"] == 502
    killable = _script_job(app, "GLUE_SHELL", source)
    (killed,) = jobs.trigger(killable)
    wait_until(lambda: jobs.lines(killed), 60, "the script's output", [glue_worker])
    jobs.kill(killed)
    assert jobs.done(killed, 60, [glue_worker])["handle_code"] == 503

    def gone(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{pid}/stat") as fh:  # a zombie waiting for init to reap it is gone too
            return fh.read().split(") ")[1].startswith("Z")

    # a script that ends leaving a process behind: the process goes when the script ends
    (left,) = jobs.trigger(_script_job(app, "GLUE_SHELL", 'sleep 300 &\necho "pid $! $TMPDIR"\n'))
    assert jobs.done(left, 60, [glue_worker])["handle_code"] == 200
    for run_id in (timed_out, killed, left):
        (line,) = jobs.lines(run_id)
        pid, workdir = line.removeprefix("pid ").split()
        wait_until(lambda pid=int(pid): gone(pid), 10, f"the sleep of run {run_id} to end")
        # the script's directory (its source, which may carry credentials) goes with it, killed or not
        assert "pcloud-glue-" in workdir
        wait_until(lambda workdir=workdir: not os.path.exists(workdir), 10, f"run {run_id}'s directory to go")


ESCAPING_SHELL = 'setsid sleep 300 &\necho "escaped $!"\n'  # a new session: out of the child's process group
ESCAPING_PYTHON = """import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:  # the double fork: orphaned in a session of its own
        print("escaped", os.getpid(), flush=True)
        time.sleep(300)
    os._exit(0)
os.wait()
"""


def _processes_of_run(run_id: int, worker: Any) -> list[int]:
    """Live processes whose environment is the one of this run's script on this worker (a zombie is gone). The
    worker counts: its children's directories, the scripts' HOME, are named after its pid; run ids alone are the
    same in the other database's pass, which runs at once, and this test once killed that pass's scripts."""
    import tempfile

    from pcloud.jobs.worker.pool import SCRATCH_PREFIX

    mark = f"JOB_LOG_ID={run_id}".encode()
    home = f"HOME={os.path.join(tempfile.gettempdir(), SCRATCH_PREFIX)}{worker.proc.pid}-".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as fh:
                zombie = fh.read().rsplit(b") ", 1)[1].startswith(b"Z")
        except OSError:
            continue
        if mark in env and any(e.startswith(home) for e in env) and not zombie:
            found.append(int(entry))
    return found


@pytest.mark.slow
def test_a_script_that_leaves_its_session_is_killed_all_the_same(app: Any, glue_worker: Any) -> None:
    """`setsid cmd &` or a double fork escapes killpg; after a kill, a timeout or the script's end, no process
    the script started remains."""
    import signal

    from tests.test_jobs_worker import Jobs, wait_until

    jobs = Jobs(app)
    runs: dict[str, int] = {}
    try:
        for glue_type, source in (("GLUE_SHELL", ESCAPING_SHELL), ("GLUE_PYTHON", ESCAPING_PYTHON)):
            # killed (logKill) while the script still runs, timed out, and ended on its own
            running = source + ("sleep 300\n" if glue_type == "GLUE_SHELL" else "time.sleep(300)\n")
            (runs[f"{glue_type} killed"],) = jobs.trigger(_script_job(app, glue_type, running))
            (runs[f"{glue_type} timed out"],) = jobs.trigger(_script_job(app, glue_type, running, executor_timeout=3))
            (runs[f"{glue_type} ended"],) = jobs.trigger(_script_job(app, glue_type, source))
        for what, run_id in runs.items():
            if what.endswith("killed"):
                wait_until(lambda run_id=run_id: jobs.lines(run_id), 60, f"{what}: the script's output", [glue_worker])
                assert _processes_of_run(run_id, glue_worker), what  # the escaped process runs (the replay is real)
                jobs.kill(run_id)
        codes = {what: jobs.done(run_id, 90, [glue_worker])["handle_code"] for what, run_id in runs.items()}
        assert codes == {what: 503 if what.endswith("killed") else 502 if what.endswith("timed out") else 200
                         for what in runs}, codes
        for what, run_id in runs.items():
            assert jobs.lines(run_id)[0].startswith("escaped "), (what, jobs.lines(run_id))
            wait_until(lambda run_id=run_id: not _processes_of_run(run_id, glue_worker), 15, f"{what}: no process left")
    finally:  # on a failure, leave nothing running on the machine
        for run_id in runs.values():
            for pid in _processes_of_run(run_id, glue_worker):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_script_runs_hold_at_most_half_the_children_and_handler_runs_go_past_them(app: Any, glue_worker: Any) -> None:
    """The worker has 6 children, so 3 script runs at once (PCLOUD_WORKER_SCRIPT_CHILDREN's default): a fourth
    script waits for one of them to end, while a handler run queued behind it starts and ends."""
    from tests.test_jobs_worker import Jobs, wait_until

    jobs = Jobs(app)
    waiting = 'echo started\nsleep 300\n'
    scripts = [jobs.trigger(_script_job(app, "GLUE_SHELL", waiting))[0] for _ in range(4)]
    (handler_run,) = jobs.trigger(jobs.job("testEcho", "past the scripts", job_group=jobs.executor("glue-app")))
    try:
        started = wait_until(lambda: len(s := [r for r in scripts if jobs.lines(r)]) >= 3 and s, 60,
                             "three scripts to start", [glue_worker])
        assert jobs.done(handler_run, 60, [glue_worker])["handle_code"] == 200
        (held,) = set(scripts) - set(started)
        assert jobs.lines(held) == [] and len(started) == 3  # ended handler: the held script was passed, not lost
        jobs.kill(started[0])
        wait_until(lambda: jobs.lines(held) == ["started"], 60, "the fourth script to start", [glue_worker])
    finally:
        for run_id in scripts:
            if jobs.run(run_id)["status"] != "DONE":
                jobs.kill(run_id)
    assert [jobs.done(r, 60, [glue_worker])["handle_code"] for r in scripts] == [503] * 4


# ---------------------------------------------------------------- scripts in the transfer file (export / import)


def test_an_export_is_at_most_what_an_import_takes(api: Any, app: Any) -> None:
    """Review (session 15): 101 script jobs of 30 versions of 64 KB exported as a 204 MB file (917 MB at the
    worker's peak), and one such job's 2 MB export was refused by the import's 1 MiB cap. An export stops, 422 on
    `ids`, as soon as it would exceed what an import takes, so every exported file imports back."""
    from pcloud.core.timefmt import utcnow
    from tests.test_jobs_perm import _export, _import, _moved

    executor = make_executor(api, "glue-big", title="大脚本")
    job = make_job(api, executor, **{k: v for k, v in script_body(executor).items() if k != "jobGroup"},
                   glueSource=PY_SOURCE, glueRemark="第一版")
    fits = _export(api, {"jobGroup": executor})
    assert _import(api, _moved(fits, "glue-big-copy")).status_code == 200

    def many_versions() -> None:
        for i in range(20):  # 20 x 60,000 characters: past 1 MiB
            db.session.add(JobGlueVersion(job_id=job, glue_type="GLUE_PYTHON", glue_source=f"# {i}\n" + "x" * 60_000,
                                          glue_remark=f"版本{i}", updated_by="测试", updated_at=utcnow()))
        db.session.commit()

    query(app, many_versions)
    refused = api_error(api.post("/api/job/jobinfo/export", {"jobGroup": executor}), 422)
    assert "ids" in refused["errors"] and "1024 KiB" in refused["msg"]


def test_an_export_of_more_jobs_than_an_import_takes_is_refused_before_they_are_read(api: Any, app: Any,
                                                                                      monkeypatch: Any) -> None:
    """A review's second look: an export of 20,000 jobs (10,000-character parameters) built 1 GB before its size
    was refused. More jobs than an import takes (TRANSFER_MAX_JOBS, here 3) are refused, 422 on `ids`, before any
    is read; plain jobs whose parameters add up past 1024 KiB are refused as the file grows."""
    from pcloud.jobs import service

    monkeypatch.setattr(service, "TRANSFER_MAX_JOBS", 3)
    executor = make_executor(api, "many-jobs", title="很多任务")
    made = [make_job(api, executor, jobDesc=f"任务{i}", executorParam="p" * 9_000) for i in range(4)]
    refused = api_error(api.post("/api/job/jobinfo/export", {"jobGroup": executor}), 422)
    assert "ids" in refused["errors"] and "最多导出 3 个任务" in refused["msg"]
    assert api.post("/api/job/jobinfo/export", {"ids": made[:3]}).status_code == 200
    monkeypatch.setattr(service, "TRANSFER_MAX_JOBS", 1000)
    query(app, lambda: (db.session.add_all([Job(job_group=executor, job_desc=f"大参数{i}", author="t",
                                                schedule_type="NONE", executor_handler="demoJobHandler",
                                                executor_param="q" * 10_000, timezone="Asia/Shanghai")
                                            for i in range(120)]), db.session.commit()))
    refused = api_error(api.post("/api/job/jobinfo/export", {"jobGroup": executor}), 422)
    assert "1024 KiB" in refused["msg"]


def test_a_script_job_moves_with_its_versions_and_a_narrow_role_can_neither_export_nor_import_one(
        api: Any, app: Any, narrow_api: ApiClient) -> None:
    from tests.test_jobs_perm import _export, _import, _moved

    executor = make_executor(api, "glue-move", title="脚本搬家")
    job = make_job(api, executor, **{k: v for k, v in script_body(executor).items() if k != "jobGroup"},
                   glueSource=PY_SOURCE, glueRemark="第一版")
    assert api.post("/api/job/jobcode/save", {"jobId": job, "glueSource": "print(2)\n",
                                              "glueRemark": "第二版"}).status_code == 200
    doc = _export(api, {"jobGroup": executor})
    entry = doc["jobs"][0]
    assert entry["glueType"] == "GLUE_PYTHON" and entry["glueSource"] == "print(2)\n"
    assert [v["glueRemark"] for v in entry["glueVersions"]] == ["第一版", "第二版"]

    # the narrow role holds export and import but not the script routes: the source is not theirs to read or write.
    # The refusal says why an export is refused and which job (session 26: it said who may create, change, copy or
    # run a script job, nothing of an export, and an 导出全部 of hundreds of jobs left one to guess the job)
    refused = api_error(narrow_api.post("/api/job/jobinfo/export", {"jobGroup": executor}), 403)
    assert "导出" in refused["msg"] and f"#{job}" in refused["msg"] and entry["jobDesc"] in refused["msg"], refused
    moved = _moved(doc, "glue-moved")
    refused = _import(narrow_api, moved)
    assert refused.status_code in (403, 422), refused.get_json()
    assert query(app, lambda: db.session.query(Job).filter(Job.job_desc == entry["jobDesc"]).count()) == 1
    smuggled = _moved(doc, "glue-smuggled")  # a BEAN-looking entry that carries old versions: refused as well
    smuggled["jobs"][0]["glueType"] = "BEAN"
    smuggled["jobs"][0].pop("glueSource")
    smuggled["jobs"][0]["executorHandler"] = "demoJobHandler"
    assert _import(narrow_api, smuggled).status_code in (403, 422)

    report = _import(api, moved).get_json()["data"]
    assert report["imported"], report
    copy_id = query(app, lambda: db.session.query(Job.id).filter(Job.id != job, Job.job_desc == entry["jobDesc"])
                    .scalar())
    kept = versions(app, copy_id)
    assert [source for _remark, source in kept] == [PY_SOURCE, "print(2)\n", "print(2)\n"]
    assert kept[0][0] == said(N_("导入：%(remark)s"), remark="第一版")  # said in the reader's language
    assert query(app, lambda: (db.session.get(Job, copy_id).glue_source, db.session.get(Job, copy_id).trigger_status)) \
        == ("print(2)\n", 0)
    # the same file again with 覆盖 (a review): the versions the job keeps are not kept twice, the unchanged source
    # adds none
    assert _import(api, moved, onConflict="overwrite").get_json()["data"]["imported"]
    assert versions(app, copy_id) == kept
