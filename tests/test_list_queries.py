"""No N+1 queries (a house rule): every list page and list API runs as many SQL statements for 10 rows as for 2.

Each case seeds 2 rows of what the route lists (with the relations a row shows: roles, departments, posts
and grades of users, members of departments, grants of accounts, jobs and nodes of executors, runs of jobs),
counts the statements of one request, seeds 8 more rows and counts again. Every count follows a warm-up
request, so caches filled or dropped by the seeding (permissions, the menu tree) weigh the same both times.
Then the last row seeded must be on the page with what it shows (ctx["shows"]), so an equal count is not
one of rows left out. A new list route gets a case here.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from pcloud.extensions import db
from tests.conftest import ApiClient, PageClient, is_timed_read, statements_seen
from tests.factories import (
    make_action_log,
    make_dept,
    make_executor,
    make_grade,
    make_job,
    make_menu,
    make_open_account,
    make_open_entry,
    make_post,
    make_resource,
    make_role,
    make_run,
    make_segment,
    make_user,
)

_n = itertools.count(1)
SIZE = 200  # the page size asked for (the largest): every seeded row is on the first page, built-ins too


def _users(app: Any, ctx: dict[str, Any]) -> None:
    """A user with a role, a department, a post and a grade of its own."""
    i = next(_n)
    code = f"ROLE_LQ{i}"
    make_role(app, code, f"角色{i}")
    make_user(app, name=f"成员{i}", role_codes=(code,), dept_id=make_dept(app, f"部门{i}"),
              post_id=make_post(app, f"岗位{i}"), grade_id=make_grade(app, f"职级{i}", i))
    ctx["shows"] = [f"成员{i}", f"角色{i}", f"部门{i}", f"岗位{i}", f"职级{i}"]


def _a_dept(app: Any, ctx: dict[str, Any]) -> None:
    ctx["dept"] = make_dept(app, "上级部门")


def _users_below(app: Any, ctx: dict[str, Any]) -> None:
    """A user with a role of its own, in a department of its own below ctx["dept"]."""
    i = next(_n)
    make_role(app, f"ROLE_LQ{i}", f"角色{i}")
    make_user(app, name=f"成员{i}", role_codes=(f"ROLE_LQ{i}",), dept_id=make_dept(app, f"部门{i}", ctx["dept"]))
    ctx["shows"] = [f"成员{i}", f"角色{i}", f"部门{i}"]


def _a_role(app: Any, ctx: dict[str, Any]) -> None:
    ctx["role"] = make_role(app, "ROLE_LQ_SHARED", "共同角色")


def _users_with_role(app: Any, ctx: dict[str, Any]) -> None:
    """A user holding ctx["role"] and a role of its own, in a department of its own."""
    i = next(_n)
    make_role(app, f"ROLE_LQ{i}", f"角色{i}")
    make_user(app, name=f"成员{i}", role_codes=(f"ROLE_LQ{i}", "ROLE_LQ_SHARED"), dept_id=make_dept(app, f"部门{i}"))
    ctx["shows"] = [f"成员{i}", f"角色{i}", f"部门{i}"]


def _roles(app: Any, ctx: dict[str, Any]) -> None:
    i = next(_n)
    make_role(app, f"ROLE_LQ{i}", f"角色{i}")
    make_user(app, name=f"成员{i}", role_codes=(f"ROLE_LQ{i}",))
    ctx["shows"] = [f"角色{i}"]


def _menus(app: Any, ctx: dict[str, Any]) -> None:
    i = next(_n)
    parent = make_menu(app, f"菜单{i}", f"/lq{i}")
    make_menu(app, f"子菜单{i}", f"/lq{i}/sub", parent)
    ctx["shows"] = [f"菜单{i}", f"子菜单{i}"]


def _resources(app: Any, ctx: dict[str, Any]) -> None:
    i = next(_n)
    parent = make_resource(app, f"资源{i}", f"/api/lq{i}/**")
    make_resource(app, f"子资源{i}", f"/api/lq{i}/sub", parent)
    ctx["shows"] = [f"资源{i}"]


def _resource_parent(app: Any, ctx: dict[str, Any]) -> None:
    ctx["parent"] = make_resource(app, "上级资源", "/api/lqp/**")


def _child_resources(app: Any, ctx: dict[str, Any]) -> None:
    i = next(_n)
    child = make_resource(app, f"子资源{i}", f"/api/lqp/{i}/**", ctx["parent"])
    make_resource(app, f"孙资源{i}", f"/api/lqp/{i}/x", child)
    ctx["shows"] = [f"子资源{i}"]


def _depts(app: Any, ctx: dict[str, Any]) -> None:
    """A department with a child, a manager and two members."""
    from pcloud.depts.models import Dept

    i = next(_n)
    dept = make_dept(app, f"部门{i}")
    make_dept(app, f"科室{i}", dept)
    manager = make_user(app, name=f"经理{i}", dept_id=dept)
    make_user(app, name=f"成员{i}", dept_id=dept)
    with app.app_context():
        db.session.get(Dept, dept).manager_id = manager
        db.session.commit()
        db.session.remove()
    ctx["shows"] = [f"部门{i}"]


def _posts(app: Any, ctx: dict[str, Any]) -> None:
    i = next(_n)
    post = make_post(app, f"岗位{i}")
    make_post(app, f"子岗位{i}", post)
    make_user(app, name=f"成员{i}", post_id=post)
    ctx["shows"] = [f"岗位{i}"]


def _grades(app: Any, ctx: dict[str, Any]) -> None:
    i = next(_n)
    make_user(app, name=f"成员{i}", grade_id=make_grade(app, f"职级{i}", i))
    ctx["shows"] = [f"职级{i}"]


def _logs(app: Any, ctx: dict[str, Any]) -> None:
    i = next(_n)
    make_action_log(app, make_user(app, name=f"成员{i}"), f"操作{i}")
    ctx["shows"] = [f"操作{i}"]


def _logins(app: Any, ctx: dict[str, Any]) -> None:
    """A failed sign-in of a phone of its own (the login log's row)."""
    i = next(_n)
    phone = f"1370000{i:04d}"
    app.test_client().post("/api/oauth/token", json={"phone": phone, "password": "wrong-pw1", "grantType": "ADMIN"})
    ctx["shows"] = [phone]


def _sessions(app: Any, ctx: dict[str, Any]) -> None:
    """A user in a department of its own, signed in (a live session)."""
    i = next(_n)
    phone = f"1360000{i:04d}"
    make_user(app, name=f"在线{i}", phone=phone, password="Passw0rd1", dept_id=make_dept(app, f"在线部门{i}"))
    ApiClient(app.test_client()).sign_in(phone, "Passw0rd1")
    ctx["shows"] = [f"在线{i}", f"在线部门{i}"]


def _accounts(app: Any, ctx: dict[str, Any]) -> None:
    """An account granted a catalogue entry of its own."""
    i = next(_n)
    make_open_account(app, f"账号{i}", (make_open_entry(app, f"接口{i}", f"/api/admin/grade/{i}/delete"),))
    ctx["shows"] = [f"账号{i}"]


def _open_platform_admin(app: Any, ctx: dict[str, Any]) -> None:
    """An administrator holding only the open platform (a data scope of all, no executor): the accounts list asks
    each account's reach of them (openplatform.service.account_refusals)."""
    from tests.test_openplatform import _open_platform_only

    ctx["admin"] = _open_platform_only(app)


def _accounts_in_and_beyond_reach(app: Any, ctx: dict[str, Any]) -> None:
    """An account granted an entry the open-platform administrator may call, and one granted one they may not."""
    i = next(_n)
    own = make_open_entry(app, f"账号列表{i}", "/api/open/admin/account/page")
    make_open_account(app, f"能管的账号{i}", (own,))
    make_open_account(app, f"管不了的账号{i}", (make_open_entry(app, f"接口{i}", f"/api/admin/grade/{i}/delete"),))
    ctx["shows"] = [f"能管的账号{i}", f"管不了的账号{i}"]


def _entries(app: Any, ctx: dict[str, Any]) -> None:
    """A catalogue entry granted to the account the routes look at (and to one other)."""
    from pcloud.openplatform import service

    i = next(_n)
    entry = make_open_entry(app, f"接口{i}", f"/api/admin/grade/{i}/delete")
    if "account" not in ctx:
        ctx["account"] = make_open_account(app, "看的账号")
    make_open_account(app, f"账号{i}", (entry,))
    with app.app_context():
        service.grant(ctx["account"], [*ctx.setdefault("granted", []), entry])
        ctx["granted"].append(entry)
        db.session.remove()
    ctx["shows"] = [f"接口{i}"]


def _segments(app: Any, ctx: dict[str, Any]) -> None:
    i = next(_n)
    make_segment(app, f"lq-tag-{i}")
    ctx["shows"] = [f"lq-tag-{i}"]


def _executors(app: Any, ctx: dict[str, Any]) -> None:
    """An executor with two live nodes and a job."""
    i = next(_n)
    make_job(app, make_executor(app, f"lq-app-{i}", (f"lq-{i}-a", f"lq-{i}-b")))
    ctx["shows"] = [f"lq-app-{i}", f"lq-{i}-b"]


def _jobs(app: Any, ctx: dict[str, Any]) -> None:
    """A job (on an executor of its own) with a child job and a run."""
    i = next(_n)
    group = make_executor(app, f"lq-app-{i}", (f"lq-{i}-a",))
    child = make_job(app, group, f"子任务{i}")
    job = make_job(app, group, f"任务{i}", child_job_id=str(child))
    make_run(app, group, job)
    ctx["shows"] = [f"任务{i}"]


def _job_with_executor(app: Any, ctx: dict[str, Any]) -> None:
    ctx["job"] = make_job(app, make_executor(app, "lq-nodes"))


def _nodes(app: Any, ctx: dict[str, Any]) -> None:
    """A node registered by the job's executor."""
    from pcloud.core.timefmt import utcnow
    from pcloud.jobs.models import JobRegistry

    i = next(_n)
    with app.app_context():
        db.session.add(JobRegistry(appname="lq-nodes", name=f"lq-node-{i}", heartbeat_at=utcnow()))
        db.session.commit()
        db.session.remove()
    ctx["shows"] = [f"lq-node-{i}"]


def _a_dependent_job(app: Any, ctx: dict[str, Any]) -> None:
    ctx["group"] = make_executor(app, "lq-graph")
    ctx["job"] = make_job(app, ctx["group"], "汇总任务")


def _parents(app: Any, ctx: dict[str, Any]) -> None:
    """A parent of ctx["job"] with a run, and a child of that parent (issue 23: the dependency graph)."""
    from pcloud.jobs.models import JobDependency

    i = next(_n)
    child = make_job(app, ctx["group"], f"子任务{i}")
    parent = make_job(app, ctx["group"], f"父任务{i}", child_job_id=str(child))
    make_run(app, ctx["group"], parent)
    with app.app_context():
        db.session.add(JobDependency(job_id=ctx["job"], parent_job_id=parent))
        db.session.commit()
        db.session.remove()
    ctx["shows"] = [f"父任务{i}", f"子任务{i}"]


def _an_executor(app: Any, ctx: dict[str, Any]) -> None:
    ctx["group"] = make_executor(app, "lq-one", ("lq-one-a",))


def _jobs_of_one(app: Any, ctx: dict[str, Any]) -> None:
    """A job of ctx["group"] with a run."""
    i = next(_n)
    make_run(app, ctx["group"], make_job(app, ctx["group"], f"任务{i}"))
    ctx["shows"] = [f"任务{i}"]


def _runs(app: Any, ctx: dict[str, Any]) -> None:
    """A run of a job of its own."""
    i = next(_n)
    group = make_executor(app, f"lq-app-{i}")
    make_run(app, group, make_job(app, group, f"任务{i}"), executor_param=f"p{i}")
    ctx["shows"] = [f"任务{i}"]


def _script_job(app: Any, ctx: dict[str, Any]) -> None:
    from pcloud.jobs.models import Job

    job = make_job(app, make_executor(app, "lq-glue"), "脚本任务")
    with app.app_context():
        db.session.get(Job, job).glue_type = "GLUE_SHELL"
        db.session.commit()
        db.session.remove()
    ctx["job"] = job


def _glue_versions(app: Any, ctx: dict[str, Any]) -> None:
    """A saved version of ctx["job"]'s script, with its author."""
    from pcloud.jobs.models import JobGlueVersion

    i = next(_n)
    with app.app_context():
        db.session.add(JobGlueVersion(job_id=ctx["job"], glue_type="GLUE_SHELL", glue_source=f"echo {i}\n",
                                      glue_remark=f"版本{i}", updated_by="超级管理员"))
        db.session.commit()
        db.session.remove()
    ctx["shows"] = [f"版本{i}"]


def _mails(app: Any, ctx: dict[str, Any], to_admin: bool = False) -> None:
    """A mail from one new user to another (or to the administrator), both shown with their names."""
    from sqlalchemy import select

    from pcloud.mail.models import Mail
    from pcloud.users.models import User
    from tests.conftest import ADMIN_PHONE

    i = next(_n)
    sender = make_user(app, name=f"发信{i}")
    recipient = make_user(app, name=f"收信{i}")
    with app.app_context():
        if to_admin:
            recipient = db.session.execute(select(User.id).where(User.phone == ADMIN_PHONE)).scalar_one()
        db.session.add(Mail(sender_id=sender, recipient_id=recipient, name=f"信件{i}", description="内容"))
        db.session.commit()
        db.session.remove()
    ctx["shows"] = [f"信件{i}", f"发信{i}"]


def _notices(app: Any, ctx: dict[str, Any], everyone: bool = False) -> None:
    """A published notice; to everyone (the administrator's /mine), else to a role and a department of its own
    (both shown by name on the administrators' list)."""
    from pcloud.notices import service

    i = next(_n)
    audience: dict[str, Any] = {"all": True}
    if not everyone:
        audience = {"all": False, "role_ids": [make_role(app, f"ROLE_NQ{i}", f"公告角色{i}")],
                    "dept_ids": [make_dept(app, f"公告部门{i}")]}
    with app.app_context():
        service.create_notice({"title": f"公告{i}", "content": "内容", "status": 1, "audience": audience})
        db.session.remove()
    ctx["shows"] = [f"公告{i}"] + ([] if everyone else [f"公告角色{i}", f"公告部门{i}"])


def _a_notice(app: Any, ctx: dict[str, Any]) -> None:
    from pcloud.notices import service

    ctx["dept"] = make_dept(app, "回执部门")
    with app.app_context():
        ctx["notice"] = service.create_notice({"title": "回执", "content": "x", "status": 1,
                                               "audience": {"all": False, "dept_ids": [ctx["dept"]]}}).id
        db.session.remove()


def _readers(app: Any, ctx: dict[str, Any]) -> None:
    """A user in a department of its own below the notice's, who read it (name and department shown)."""
    from pcloud.core.timefmt import utcnow
    from pcloud.notices.models import NoticeRead

    i = next(_n)
    user_id = make_user(app, name=f"读者{i}", dept_id=make_dept(app, f"读者部门{i}", ctx["dept"]))
    with app.app_context():
        db.session.add(NoticeRead(notice_id=ctx["notice"], user_id=user_id, read_at=utcnow()))
        db.session.commit()
        db.session.remove()
    ctx["shows"] = [f"读者{i}", f"读者部门{i}"]


def _storages(app: Any, ctx: dict[str, Any]) -> None:
    from pcloud.uploads import service

    i = next(_n)
    with app.app_context():
        service.create_storage({"name": f"存储{i}", "type": "DATABASE"})
        db.session.remove()
    ctx["shows"] = [f"存储{i}"]


def _sms_templates(app: Any, ctx: dict[str, Any]) -> None:
    from pcloud.smstemplates.models import SmsTemplate

    i = next(_n)
    with app.app_context():
        db.session.add(SmsTemplate(code=f"LQ{i}", name=f"模板{i}", description="验证码 {code}"))
        db.session.commit()
        db.session.remove()
    ctx["shows"] = [f"模板{i}"]


def _dict_types(app: Any, ctx: dict[str, Any]) -> None:
    """A dictionary type with an item of its own (the list shows its item count)."""
    from pcloud.dicts.models import DictData, DictType

    i = next(_n)
    with app.app_context():
        db.session.add(DictType(name=f"字典{i}", dict_type=f"lq_type_{i}", status=0, builtin=False))
        db.session.add(DictData(dict_type=f"lq_type_{i}", label=f"项{i}", value="1", sort=0, status=0,
                                is_default=False))
        db.session.commit()
        db.session.remove()
    ctx["shows"] = [f"字典{i}"]


def _dict_items(app: Any, ctx: dict[str, Any]) -> None:
    from pcloud.dicts.models import DictData

    i = next(_n)
    with app.app_context():
        db.session.add(DictData(dict_type="sys_yes_no", label=f"选项{i}", value=f"v{i}", sort=i, status=0,
                                css_class="info", is_default=False))
        db.session.commit()
        db.session.remove()
    ctx["shows"] = [f"选项{i}"]


def _params(app: Any, ctx: dict[str, Any]) -> None:
    """A stored value for one more integer parameter (the list shows every parameter of the catalogue)."""
    from sqlalchemy import select

    from pcloud.params.models import Parameter
    from pcloud.params.service import CATALOGUE

    keys = [k for k, d in CATALOGUE.items() if d.type == "int"]
    with app.app_context():
        stored = set(db.session.execute(select(Parameter.config_key)).scalars())
        key = next(k for k in keys if k not in stored)
        db.session.add(Parameter(config_key=key, config_value=str(CATALOGUE[key].low)))
        db.session.commit()
        db.session.remove()
    ctx["shows"] = [CATALOGUE[key].name]


def _files(app: Any, ctx: dict[str, Any]) -> None:
    from pcloud.core.timefmt import utcnow
    from pcloud.uploads.models import Upload

    i = next(_n)
    name = f"lq{i:020d}.png"
    with app.app_context():
        db.session.add(Upload(name=name, content_type="image/png", size=10, data=b"x", created_at=utcnow()))
        db.session.commit()
        db.session.remove()
    ctx["shows"] = [name]


Seed = Callable[[Any, dict[str, Any]], None]
Call = Callable[[PageClient, ApiClient, dict[str, Any]], Any]


@dataclass
class Case:
    id: str
    seed: Seed
    call: Call
    setup: Callable[[Any, dict[str, Any]], None] = field(default=lambda app, ctx: None)
    shown: int = 99  # how many of the seeded row's texts (ctx["shows"]) the route shows (0: a file, not read)


def page(path: str) -> Call:
    sep = "&" if "?" in path else "?"
    return lambda pages, api, ctx: pages.get(f"{path.format(**ctx)}{sep}size={SIZE}")


def _filled(value: Any, ctx: dict[str, Any]) -> Any:
    """A request body's value with ("key",) replaced by ctx["key"] (an id the setup made), in lists too."""
    if isinstance(value, tuple):
        return ctx[value[0]]
    if isinstance(value, list):
        return [_filled(v, ctx) for v in value]
    return value


def post(path: str, body: dict[str, Any] | None = None) -> Call:
    return lambda pages, api, ctx: api.post(path.format(**ctx), {k: _filled(v, ctx) for k, v in
                                                   {"page": 1, "pageSize": SIZE, **(body or {})}.items()})


def post_bare(path: str, body: dict[str, Any] | None = None) -> Call:
    """A list route that takes no paging arguments."""
    return lambda pages, api, ctx: api.post(path, body or {})


def _admin_role(app: Any, ctx: dict[str, Any]) -> None:
    ctx["role"] = make_role(app, "ROLE_LQ_GRANT", "被授权的角色")


def _account(app: Any, ctx: dict[str, Any]) -> None:
    ctx["account"] = make_open_account(app, "看的账号")


CASES = [
    # 系统管理
    Case("page /system/user/", _users, page("/system/user/")),
    Case("api user/page", _users, post("/api/admin/system/user/page")),
    Case("page /system/user/ (a department and below)", _users_below, page("/system/user/?dept_id={dept}"), _a_dept),
    Case("api user/page (a department and below)", _users_below,
         post("/api/admin/system/user/page", {"deptId": ("dept",)}), _a_dept),
    Case("page /system/user/ (a role)", _users_with_role, page("/system/user/?role_id={role}"), _a_role),
    Case("api user/page (a role)", _users_with_role,
         post("/api/admin/system/user/page", {"roleIds": [("role",)]}), _a_role),
    Case("api user/download", _users, post_bare("/api/admin/system/user/download"), shown=0),
    Case("page /system/user/ (keyword)", _users, page("/system/user/?keyword=成员")),
    Case("api user/page (keyword)", _users, post("/api/admin/system/user/page", {"keyword": "成员"})),
    Case("page /system/dept/managers", _users, lambda pages, api, ctx: pages.get("/system/dept/managers?q=成员"),
         shown=1),
    Case("page /personalized/mail/recipients", _users,
         lambda pages, api, ctx: pages.get("/personalized/mail/recipients?q=成员"), shown=1),
    Case("page /system/role/<id>/users (分配用户)", _users_with_role, page("/system/role/{role}/users"), _a_role,
         shown=1),
    Case("api role/<id>/users", _users_with_role, post("/api/admin/role/{role}/users"), _a_role, shown=1),
    Case("page /system/role/", _roles, page("/system/role/")),
    Case("api role/page", _roles, post("/api/admin/role/page")),
    Case("api role/list", _roles, post_bare("/api/admin/role/list")),
    Case("page /system/menu/", _menus, page("/system/menu/")),
    Case("api menu/page", _menus, post("/api/admin/menu/page")),
    Case("page /system/role/<id>/grant (menus)", _menus, page("/system/role/{role}/grant"), _admin_role),
    Case("page /system/role/<id>/grant (resources)", _resources, page("/system/role/{role}/grant"), _admin_role),
    Case("page /system/resource/", _resources, page("/system/resource/")),
    Case("page /system/resource/<id>/children", _child_resources, page("/system/resource/{parent}/children"),
         _resource_parent),
    Case("api resource/page", _resources, post("/api/admin/resource/page")),
    Case("api resource/page (a level)", _child_resources, post("/api/admin/resource/page", {"parentId": ("parent",)}),
         _resource_parent),
    Case("api resource/list", _resources, post_bare("/api/admin/resource/list")),
    Case("api resource/tree", _resources, post_bare("/api/admin/resource/tree")),
    Case("page /system/dept/", _depts, page("/system/dept/")),
    Case("page /system/dept/org", _depts, page("/system/dept/org")),
    Case("api dept/page", _depts, post("/api/admin/dept/page")),
    Case("api dept/tree", _depts, post_bare("/api/admin/dept/tree")),
    Case("api dept/org", _depts, lambda pages, api, ctx: api.get("/api/admin/dept/org")),
    Case("page /system/post/", _posts, page("/system/post/")),
    Case("api post/page", _posts, post("/api/admin/post/page")),
    Case("api post/list", _posts, post_bare("/api/admin/post/list")),
    Case("page /system/grade/", _grades, page("/system/grade/")),
    Case("api grade/page", _grades, post("/api/admin/grade/page")),
    Case("page /system/log/", _logs, page("/system/log/")),
    Case("api log/action/page", _logs, post("/api/admin/log/action/page")),
    # 系统监控
    Case("page /monitor/loginlog/", _logins, page("/monitor/loginlog/")),
    Case("api log/login/page", _logins, post("/api/admin/log/login/page")),
    Case("page /monitor/online/", _sessions, page("/monitor/online/")),
    Case("api online/page", _sessions, post("/api/admin/online/page")),
    # 开放平台
    Case("page /open/account/", _accounts, page("/open/account/")),
    Case("api open account/page", _accounts, post("/api/open/admin/account/page")),
    Case("page /open/account/ (an open-platform administrator)", _accounts_in_and_beyond_reach,
         lambda pages, api, ctx: ctx["admin"].pages.get(f"/open/account/?size={SIZE}"), _open_platform_admin),
    Case("page /open/resource/", _entries, page("/open/resource/")),
    Case("page /open/account/<id>/grant", _entries, page("/open/account/{account}/grant"), _account),
    Case("api open resource/page", _entries, post("/api/open/admin/resource/page")),
    Case("api open resource/list", _entries, post_bare("/api/open/admin/resource/list")),
    Case("api open resource/permission", _entries,
         post("/api/open/admin/resource/permission", {"accountId": ("account",)}), _account),
    # 号段
    Case("page /integration/segment/", _segments, page("/integration/segment/")),
    Case("api segment/page", _segments, post("/api/integration/admin/segment/page")),
    # 定时任务
    Case("page /job/group/", _executors, page("/job/group/")),
    Case("api jobgroup/pageList", _executors, post("/api/job/jobgroup/pageList")),
    Case("api jobgroup/findAll", _executors, post_bare("/api/job/jobgroup/findAll")),
    Case("page /job/info/", _jobs, page("/job/info/")),
    Case("api jobinfo/pageList", _jobs, post("/api/job/jobinfo/pageList")),
    Case("api jobinfo/export", _jobs, post_bare("/api/job/jobinfo/export")),
    Case("page /job/info/<id>/nodes", _nodes, page("/job/info/{job}/nodes"), _job_with_executor),
    Case("page /job/info/<id>/graph", _parents, page("/job/info/{job}/graph"), _a_dependent_job),
    Case("api jobinfo/<id>/graph", _parents, lambda pages, api, ctx: api.get(f"/api/job/jobinfo/{ctx['job']}/graph"),
         _a_dependent_job),
    Case("page /job/info/ (one executor)", _jobs_of_one, page("/job/info/?jobGroup={group}"), _an_executor),
    Case("api jobinfo/pageList (one executor)", _jobs_of_one,
         post("/api/job/jobinfo/pageList", {"jobGroup": ("group",)}), _an_executor),
    Case("page /job/log/", _runs, page("/job/log/")),
    Case("page /job/log/ (one executor)", _jobs_of_one, page("/job/log/?jobGroup={group}"), _an_executor),
    Case("api joblog/pageList (one executor)", _jobs_of_one,
         post("/api/job/joblog/pageList", {"jobGroup": ("group",)}), _an_executor),
    Case("api joblog/pageList", _runs, post("/api/job/joblog/pageList")),
    Case("page /job/info/<id>/code", _glue_versions, page("/job/info/{job}/code"), _script_job),
    Case("page /job/info/<id>/code/diff", _glue_versions, page("/job/info/{job}/code/diff"), _script_job),
    Case("api jobcode/<jobId>/versions", _glue_versions,
         lambda pages, api, ctx: api.post(f"/api/job/jobcode/{ctx['job']}/versions"), _script_job),
    # 个性化服务
    Case("page /personalized/mail/", _mails, page("/personalized/mail/")),
    Case("api mail/page", _mails, post("/api/integration/admin/mail/page")),
    Case("page /personalized/sms/", _sms_templates, page("/personalized/sms/")),
    Case("api sms/page", _sms_templates, post("/api/integration/admin/sms/page")),
    # 字典管理, 参数设置
    Case("page /system/dict/", _dict_types, page("/system/dict/")),
    Case("api dict/type/page", _dict_types, post("/api/admin/dict/type/page")),
    Case("page /system/dict/data", _dict_items, page("/system/dict/data?dict_type=sys_yes_no")),
    Case("api dict/data/page", _dict_items, post("/api/admin/dict/data/page", {"dictType": "sys_yes_no"})),
    Case("api dict/<type>", _dict_items, lambda pages, api, ctx: api.get("/api/admin/dict/sys_yes_no")),
    Case("page /system/config/", _params, page("/system/config/")),
    Case("api config/page", _params, post("/api/admin/config/page", {"pageSize": 100})),
    Case("page /personalized/upload/", _files, page("/personalized/upload/")),
    Case("api upload/files/page", _files, post("/api/admin/upload/files/page")),
    Case("api oss/cloud/objects", _files, post_bare("/api/oss/cloud/objects", {"maxKey": 1000})),
    Case("page /mail/ (my inbox)", lambda app, ctx: _mails(app, ctx, to_admin=True), page("/mail/")),
    Case("page /personalized/upload/storages/", _storages, page("/personalized/upload/storages/")),
    Case("api upload/page", _storages, post("/api/admin/upload/page")),
    Case("api upload/list", _storages, post_bare("/api/admin/upload/list")),
    # 通知公告
    Case("page /system/notice/", _notices, page("/system/notice/")),
    Case("api notice/page", _notices, post("/api/admin/notice/page")),
    Case("api notice/mine", lambda app, ctx: _notices(app, ctx, everyone=True), post("/api/admin/notice/mine")),
    Case("page /notices/", lambda app, ctx: _notices(app, ctx, everyone=True), page("/notices/")),
    Case("page / (the home page's notices)", lambda app, ctx: _notices(app, ctx, everyone=True), page("/")),
    Case("page /system/notice/<id>/readers", _readers, page("/system/notice/{notice}/readers"), _a_notice),
    Case("api notice/<id>/readers", _readers,
         lambda pages, api, ctx: api.post(f"/api/admin/notice/{ctx['notice']}/readers", {"page": 1, "pageSize": SIZE}),
         _a_notice),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_list_costs_the_same_statements_for_2_or_10_rows(case: Case, app: Any, pages: PageClient,
                                                           api: ApiClient) -> None:
    ctx: dict[str, Any] = {}
    case.setup(app, ctx)

    def counted() -> list[str]:
        resp = case.call(pages, api, ctx)  # warm-up: caches the seeding dropped are filled again
        assert resp.status_code == 200, (resp.status_code, resp.get_data(as_text=True)[:300])

        def run() -> None:
            assert case.call(pages, api, ctx).status_code == 200
        return [s for s in statements_seen(app, run) if not is_timed_read(s)]

    for _ in range(2):
        case.seed(app, ctx)
    small = counted()
    for _ in range(8):
        case.seed(app, ctx)
    big = counted()
    assert len(big) == len(small), (f"{len(small)} statements for 2 rows, {len(big)} for 10: a query per row",
                                    [s[:160] for s in big if s not in small] or [s[:160] for s in small])
    if not case.shown:
        return
    resp = case.call(pages, api, ctx)
    text = json.dumps(resp.get_json(), ensure_ascii=False) if resp.is_json else resp.get_data(as_text=True)
    missing = [s for s in ctx["shows"][:case.shown] if s not in text]
    assert not missing, f"the last row seeded is not all shown: {missing}"
