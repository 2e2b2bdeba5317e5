"""Scheduled jobs: executors, jobs, runs and the run report (business rules for the API and the pages).

The console never executes anything: trigger writes a PENDING MANUAL run and start/stop maintain
``trigger_next_time``; the worker (``pcloud worker``) does the rest (see ``jobs/models.py``).
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import case, delete, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from pcloud.access.permissions import may_call_endpoint
from pcloud.core.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from pcloud.core.paging import Page, paginate
from pcloud.core.security import current_principal
from pcloud.core.timefmt import local_day_bounds_utc, local_today, local_zone, utcnow
from pcloud.extensions import db
from pcloud.jobs import cron
from pcloud.jobs.handlers import get_handler, registered_handlers, retention_refusal
from pcloud.jobs.models import (
    ADDRESS_AUTO,
    ADDRESS_MANUAL,
    BLOCK_STRATEGIES,
    HANDLE_KILLED,
    HANDLE_RUNNING,
    HANDLE_SUCCESS,
    MISFIRE_STRATEGIES,
    NODE_DEAD_SECONDS,
    PARENTS_MAX,
    ROUTE_STRATEGIES,
    RUN_DONE,
    RUN_PENDING,
    RUN_RUNNING,
    Executor,
    Job,
    JobDependency,
    JobLog,
    JobLogLine,
    JobRegistry,
    JobReport,
)

DEFAULT_EXECUTOR_APPNAME = "pcloud-executor"
DEFAULT_EXECUTOR_TITLE = "默认执行器"
APPNAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{3,63}$")
NODE_NAME_RE = re.compile(r"^[\w.:@/-]{1,128}$")
EMAIL_RE = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
LOG_STATUS = {1: "success", 2: "fail", 3: "running"}
CLEAR_TYPES = {
    1: "清理一个月之前的日志", 2: "清理三个月之前的日志", 3: "清理六个月之前的日志", 4: "清理一年之前的日志",
    5: "只保留最近一千条日志", 6: "只保留最近一万条日志", 7: "只保留最近三万条日志", 8: "只保留最近十万条日志",
    9: "清理所有日志",
}
_CLEAR_MONTHS = {1: 1, 2: 3, 3: 6, 4: 12}
_CLEAR_KEEP = {5: 1000, 6: 10000, 7: 30000, 8: 100000}
DETAIL_MAX_LINES = 1000
REPORT_RECENT_DAYS = 3
REPORT_REFRESH_SECONDS = 60
CHART_MAX_DAYS = 366
COPY_SUFFIX = " (副本)"


def _commit(conflict_msg: str, field: str | None = None) -> None:
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(conflict_msg, errors={field: [conflict_msg]} if field else None) from exc


# ---------------------------------------------------------------- executors (执行器管理)


def live_nodes(appname: str) -> list[JobRegistry]:
    """Nodes of this appname whose heartbeat is younger than NODE_DEAD_SECONDS."""
    since = utcnow() - timedelta(seconds=NODE_DEAD_SECONDS)
    return list(db.session.execute(select(JobRegistry).where(
        JobRegistry.appname == appname, JobRegistry.heartbeat_at >= since).order_by(JobRegistry.name)).scalars())


def _registered(appnames: list[str]) -> dict[str, list[JobRegistry]]:
    """Every registered node of these appnames, by appname, in name order: one query for a whole page."""
    found: dict[str, list[JobRegistry]] = {a: [] for a in appnames}
    if appnames:
        for node in db.session.execute(select(JobRegistry).where(JobRegistry.appname.in_(appnames))
                                       .order_by(JobRegistry.appname, JobRegistry.name)).scalars():
            found[node.appname].append(node)
    return found


def _node_states(nodes: list[JobRegistry]) -> list[dict[str, Any]]:
    since = utcnow() - timedelta(seconds=NODE_DEAD_SECONDS)
    return [{"name": r.name, "address": r.address or r.name, "heartbeat_at": r.heartbeat_at,
             "alive": r.heartbeat_at >= since} for r in nodes]


def all_nodes(appname: str) -> list[dict[str, Any]]:
    """Every registered node with its last heartbeat and whether it is alive (for the executor page)."""
    return _node_states(_registered([appname])[appname])


def executor_addresses(executor: Executor, registered: list[JobRegistry] | None = None) -> list[str]:
    """The node names runs of this executor may go to: live registered nodes, or the manual list
    (`registered`: the appname's nodes when the caller loaded them already)."""
    if executor.address_type == ADDRESS_MANUAL:
        return [a for a in (executor.address_list or "").split(",") if a]
    if registered is None:
        registered = _registered([executor.appname])[executor.appname]
    return [node["name"] for node in _node_states(registered) if node["alive"]]


def get_executor(executor_id: int) -> Executor:
    executor = db.session.execute(Executor.live().where(Executor.id == executor_id)).scalar_one_or_none()
    if executor is None:
        raise NotFound("执行器不存在")
    return executor


def executor_item(executor: Executor, registered: list[JobRegistry] | None = None) -> dict[str, Any]:
    return {
        "id": executor.id, "appname": executor.appname, "title": executor.title,
        "address_type": executor.address_type, "address_list": executor.address_list,
        "registry_list": executor_addresses(executor, registered),
        "gmt_created_date": executor.gmt_created_date, "gmt_created_name": executor.gmt_created_name,
        "gmt_modified_date": executor.gmt_modified_date, "gmt_modified_name": executor.gmt_modified_name,
    }


def page_executors(filters: dict[str, Any], page: int = 1, page_size: int = 10, *, for_page: bool = False) -> Page:
    """A page of executors with their addresses; `for_page` adds what the list page shows: every registered
    node with its state, and why the executor may not be deleted (None: it may). A fixed number of queries
    whatever the page size."""
    stmt = Executor.live()
    if (filters.get("appname") or "").strip():
        stmt = stmt.where(Executor.appname.contains(filters["appname"].strip(), autoescape=True))
    if (filters.get("title") or "").strip():
        stmt = stmt.where(Executor.title.contains(filters["title"].strip(), autoescape=True))
    result = paginate(stmt.order_by(Executor.appname, Executor.id), page, page_size)
    executors = list(result.items)
    registered = _registered([e.appname for e in executors])
    result.items = [executor_item(e, registered[e.appname]) for e in executors]
    if for_page and executors:
        jobs = dict(db.session.execute(
            select(Job.job_group, func.count()).where(Job.job_group.in_([e.id for e in executors]),
                                                      Job.deleted_at.is_(None)).group_by(Job.job_group)).all())
        live = _live_executor_count()
        for item, executor in zip(result.items, executors, strict=True):
            item["nodes"] = _node_states(registered[executor.appname])
            item["refusal"] = _delete_refusal(executor, jobs.get(executor.id, 0), live - 1)
    return result


def all_executors() -> list[Executor]:
    return list(db.session.execute(Executor.live().order_by(Executor.appname, Executor.id)).scalars())


def all_executor_items() -> list[dict[str, Any]]:
    """Every executor with its addresses (the API's findAll), the nodes of all of them read at once."""
    executors = all_executors()
    registered = _registered([e.appname for e in executors])
    return [executor_item(e, registered[e.appname]) for e in executors]


def _clean_executor(data: dict[str, Any], current: Executor | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if current is None or data.get("appname") is not None:
        appname = (data.get("appname") or "").strip()
        if not APPNAME_RE.match(appname):
            raise Invalid("AppName 须以字母开头，4-64 位字母、数字、下划线或连字符", field="appname")
        stmt = select(Executor.id).where(Executor.appname == appname, Executor.deleted_at.is_(None))
        if current is not None:
            stmt = stmt.where(Executor.id != current.id)
        if db.session.execute(stmt.limit(1)).first():
            raise Conflict("AppName 已存在", errors={"appname": ["AppName 已存在"]})
        out["appname"] = appname
    if current is None or data.get("title") is not None:
        title = (data.get("title") or "").strip()
        if not title or len(title) > 64:
            raise Invalid("请输入名称（不超过 64 个字符）", field="title")
        out["title"] = title
    address_type = data.get("address_type")
    if address_type is None:
        address_type = current.address_type if current else ADDRESS_AUTO
    if address_type not in (ADDRESS_AUTO, ADDRESS_MANUAL):
        raise Invalid("注册方式只能是 0（自动注册）或 1（手动录入）", field="addressType")
    out["address_type"] = address_type
    raw = data.get("address_list") if "address_list" in data else (current.address_list if current else None)
    nodes = [a.strip() for a in (raw or "").replace("\n", ",").split(",") if a.strip()]
    if address_type == ADDRESS_MANUAL:
        if not nodes:
            raise Invalid("手动录入时请填写机器地址（节点名，逗号分隔）", field="addressList")
        bad = [a for a in nodes if not NODE_NAME_RE.match(a)]
        if bad:
            raise Invalid(f"节点名格式不正确：{bad[0]}", field="addressList")
        out["address_list"] = ",".join(dict.fromkeys(nodes))
    else:
        out["address_list"] = None
    return out


def create_executor(data: dict[str, Any]) -> Executor:
    executor = Executor(**_clean_executor(data, None))
    db.session.add(executor)
    _commit("AppName 已存在", "appname")
    return executor


def modify_executor(data: dict[str, Any]) -> Executor:
    executor = get_executor(data["id"])
    for key, value in _clean_executor(data, executor).items():
        setattr(executor, key, value)
    _commit("AppName 已存在", "appname")
    return executor


def _live_executor_count() -> int:
    return db.session.execute(select(func.count()).select_from(Executor).where(Executor.deleted_at.is_(None))
                              ).scalar_one()


def _delete_refusal(executor: Executor, jobs: int, others: int) -> str | None:
    if jobs:
        return f"执行器「{executor.title}」仍有 {jobs} 个任务，请先删除或迁移这些任务"
    if not others:
        return "不能删除最后一个执行器"
    return None


def executor_delete_refusal(executor: Executor) -> str | None:
    jobs = db.session.execute(select(func.count()).select_from(Job).where(
        Job.job_group == executor.id, Job.deleted_at.is_(None))).scalar_one()
    return _delete_refusal(executor, jobs, _live_executor_count() - 1)


def delete_executor(executor_id: int) -> Executor:
    executor = get_executor(executor_id)
    refusal = executor_delete_refusal(executor)
    if refusal:
        raise Conflict(refusal)
    executor.soft_delete()
    db.session.commit()
    return executor


def ensure_default_executor() -> bool:
    """`pcloud init`: the default executor when there is none. Returns True when it was created."""
    if db.session.execute(Executor.live().limit(1)).first():
        return False
    db.session.add(Executor(appname=DEFAULT_EXECUTOR_APPNAME, title=DEFAULT_EXECUTOR_TITLE,
                            address_type=ADDRESS_AUTO))
    try:
        db.session.commit()
    except IntegrityError:  # another init process created it first
        db.session.rollback()
        return False
    return True


# ---------------------------------------------------------------- jobs (任务管理)


def get_job(job_id: int) -> Job:
    job = db.session.execute(Job.live().where(Job.id == job_id)).scalar_one_or_none()
    if job is None:
        raise NotFound("任务不存在")
    return job


def find_job(job_id: int) -> Job | None:
    """A job, deleted or not (a run's page still names the job it came from)."""
    return db.session.get(Job, job_id)


def _ms_to_dt(ms: int | None) -> datetime | None:
    return cron.from_epoch_ms(ms).replace(tzinfo=None) if ms else None


def parents_of(job_ids: list[int]) -> dict[int, list[int]]:
    """The parents of each job (one query for a page of jobs)."""
    out: dict[int, list[int]] = {}
    if job_ids:
        for job_id, parent in db.session.execute(
                select(JobDependency.job_id, JobDependency.parent_job_id)
                .where(JobDependency.job_id.in_(job_ids)).order_by(JobDependency.parent_job_id)):
            out.setdefault(job_id, []).append(parent)
    return out


def job_item(job: Job, executor_titles: dict[int, str] | None = None,
             parents: dict[int, list[int]] | None = None) -> dict[str, Any]:
    if parents is None:
        parents = parents_of([job.id])
    return {
        "id": job.id, "job_group": job.job_group,
        "job_group_title": (executor_titles or {}).get(job.job_group),
        "job_desc": job.job_desc, "author": job.author, "alarm_email": job.alarm_email,
        "schedule_type": job.schedule_type, "schedule_conf": job.schedule_conf,
        "job_cron": job.schedule_conf if job.schedule_type == "CRON" else None,
        "glue_type": "BEAN", "timezone": job.timezone, "misfire_strategy": job.misfire_strategy,
        "executor_route_strategy": job.executor_route_strategy, "executor_handler": job.executor_handler,
        "executor_param": job.executor_param, "executor_block_strategy": job.executor_block_strategy,
        "executor_timeout": job.executor_timeout, "executor_fail_retry_count": job.executor_fail_retry_count,
        "child_job_id": job.child_job_id, "parent_job_ids": parents.get(job.id, []),
        "trigger_status": job.trigger_status,
        "trigger_last_time": _ms_to_dt(job.trigger_last_time), "trigger_next_time": _ms_to_dt(job.trigger_next_time),
        "gmt_created_date": job.gmt_created_date, "gmt_created_name": job.gmt_created_name,
        "gmt_modified_date": job.gmt_modified_date, "gmt_modified_name": job.gmt_modified_name,
    }


def _titles() -> dict[int, str]:
    return dict(db.session.execute(select(Executor.id, Executor.title)).all())


def job_filtered_select(filters: dict[str, Any]) -> Any:
    stmt = Job.live()
    if filters.get("job_group"):
        stmt = stmt.where(Job.job_group == filters["job_group"])
    status = filters.get("trigger_status")
    if status is not None and status != -1:
        stmt = stmt.where(Job.trigger_status == status)
    for key, col in (("job_desc", Job.job_desc), ("name", Job.job_desc),
                     ("executor_handler", Job.executor_handler), ("author", Job.author)):
        text = (filters.get(key) or "").strip()
        if text:
            stmt = stmt.where(col.contains(text, autoescape=True))
    return stmt


def page_jobs(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    result = paginate(job_filtered_select(filters).order_by(Job.id.desc()), page, page_size)
    titles = _titles()
    parents = parents_of([j.id for j in result.items])
    result.items = [job_item(j, titles, parents) for j in result.items]
    return result


def jobs_of_group(job_group: int) -> list[dict[str, Any]]:
    jobs = db.session.execute(Job.live().where(Job.job_group == job_group).order_by(Job.id)).scalars()
    return [{"id": j.id, "job_desc": j.job_desc, "executor_handler": j.executor_handler} for j in jobs]


def parse_job_ids(text: str | None, field: str = "childJobId") -> list[int]:
    """Comma-separated job ids (a full-width comma too), each once, in order."""
    ids: list[int] = []
    for part in (text or "").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 2_147_483_647:
            label = "父任务" if field == "parentJobIds" else "子任务"
            raise Invalid(f"{label} ID 格式不正确：{part}", field=field)
        ids.append(int(part))
    return list(dict.fromkeys(ids))


def _child_ids(text: str | None) -> list[int]:
    return parse_job_ids(text, "childJobId")


# pg_advisory_xact_lock key of the child-job links: any constant no other code uses ("jobc" in ASCII)
CHILD_LINKS_LOCK = 0x6A6F6263


def _serialise_child_links() -> None:
    """One loop check at a time, held until the change commits (issue 19, finding 7): two updates A->B and
    B->A each read the links after the other committed, so they can no longer both pass. PostgreSQL: a
    transaction-scoped advisory lock (READ COMMITTED: the graph read after it sees the other's commit);
    SQLite: the write lock, taken up front with BEGIN IMMEDIATE (a transaction already writing holds it)."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHILD_LINKS_LOCK})
    elif not conn.connection.driver_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _check_children(job_id: int | None, children: list[int]) -> None:
    if not children:
        return
    live = {row.id: row.executor_handler for row in db.session.execute(select(Job.id, Job.executor_handler).where(
        Job.id.in_(children), Job.deleted_at.is_(None)))}
    missing = [c for c in children if c not in live]
    if missing:
        raise Invalid(f"子任务 ID {missing[0]} 不存在", field="childJobId")
    require_maintenance_grant(*live.values())  # a child runs too: linking a cleaner is running it
    if job_id in children:
        raise Invalid("子任务不能是任务自己", field="childJobId")


def _check_parents(job_id: int | None, parents: list[int]) -> None:
    if len(parents) > PARENTS_MAX:
        raise Invalid(f"父任务最多 {PARENTS_MAX} 个", field="parentJobIds")
    if job_id in parents:
        raise Invalid("父任务不能是任务自己", field="parentJobIds")
    live = set(db.session.execute(select(Job.id).where(Job.id.in_(parents), Job.deleted_at.is_(None))).scalars())
    missing = [p for p in parents if p not in live]
    if missing:
        raise Invalid(f"父任务 ID {missing[0]} 不存在", field="parentJobIds")


def _check_no_cycle(job_id: int | None, children: list[int] | None, parents: list[int] | None) -> None:
    """Refuse links that would let a job trigger itself again, through child links (job -> child) and
    dependencies (parent -> job) alike. Every cycle a save can make passes through the saved job, so a walk
    from what it triggers must not come back to it. Serialised with every other link change until commit."""
    if not children and not parents:
        return
    _serialise_child_links()
    graph: dict[int, set[int]] = {}
    for jid, text_ids in db.session.execute(
            select(Job.id, Job.child_job_id).where(Job.deleted_at.is_(None), Job.child_job_id.is_not(None))):
        if jid != job_id or children is None:
            graph.setdefault(jid, set()).update(_child_ids(text_ids))
    for jid, parent in db.session.execute(select(JobDependency.job_id, JobDependency.parent_job_id).join(
            Job, Job.id == JobDependency.job_id).where(Job.deleted_at.is_(None))):
        if jid != job_id or parents is None:
            graph.setdefault(parent, set()).add(jid)
    me = -1 if job_id is None else job_id  # a new job: no id yet, nothing links to it but what it is saved with
    graph.setdefault(me, set()).update(children or ())
    for parent in parents or ():
        graph.setdefault(parent, set()).add(me)
    stack, seen = list(graph.get(me, ())), set()
    while stack:
        current = stack.pop()
        if current == me:
            field = "parentJobIds" if parents else "childJobId"
            raise Invalid("任务依赖形成了循环（最终又触发回本任务）", field=field)
        if current in seen:
            continue
        seen.add(current)
        stack.extend(graph.get(current, ()))


def _set_parents(job: Job, parents: list[int]) -> None:
    db.session.execute(delete(JobDependency).where(JobDependency.job_id == job.id))
    db.session.add_all(JobDependency(job_id=job.id, parent_job_id=p) for p in parents)


# Maintenance handlers delete what another grant guards (issue 19, finding 5): creating, changing, copying or
# running once a job on one needs the grant of that deletion, on the page and the API alike (both call here).
# The run-log cleaner needs the run log's clean operation; nothing in the API deletes the operation log, so
# no grant covers its cleaner: only a super administrator may set it up or run it by hand.
MAINTENANCE_GRANTS: dict[str, str | None] = {
    "jobLogCleanHandler": "jobs_api.clear_log",
    "actionLogCleanHandler": None,
}


def require_maintenance_grant(*handlers: str | None) -> None:
    """403 unless the caller holds what each maintenance handler among `handlers` deletes.
    Outside a request (command line, worker, `pcloud init`) nothing is checked."""
    principal = current_principal()
    if principal is None or principal.is_super_admin:
        return
    for handler in dict.fromkeys(h for h in handlers if h in MAINTENANCE_GRANTS):
        endpoint = MAINTENANCE_GRANTS[handler]
        if endpoint is None or not may_call_endpoint(principal, endpoint):
            needed = "超级管理员" if endpoint is None else "拥有「清理调度日志」权限的用户"
            raise Forbidden(f"JobHandler「{handler}」会删除审计数据，只有{needed}可以新增、修改或执行此类任务")


def _clean_job(data: dict[str, Any], current: Job | None) -> dict[str, Any]:
    """Validate the job fields present in `data` (all required ones when creating)."""
    merged = {} if current is None else {
        "job_group": current.job_group, "job_desc": current.job_desc, "author": current.author,
        "schedule_type": current.schedule_type, "schedule_conf": current.schedule_conf,
        "timezone": current.timezone, "executor_handler": current.executor_handler}
    data = dict(data)
    if data.get("job_cron") is not None and data.get("schedule_type") in (None, "CRON"):
        data["schedule_type"], data["schedule_conf"] = "CRON", data["job_cron"]
    merged.update({k: v for k, v in data.items() if v is not None or k in ("alarm_email", "executor_param",
                                                                            "child_job_id")})
    out: dict[str, Any] = {}
    errors = FieldErrors()  # every wrong field reported at once
    if errors.check(merged.get("job_group") is not None, "jobGroup", "请选择执行器") and errors.check(
            db.session.execute(Executor.live().where(Executor.id == merged["job_group"])).first() is not None,
            "jobGroup", "执行器不存在"):
        out["job_group"] = merged["job_group"]
    for key, label, limit in (("job_desc", "任务描述", 255), ("author", "负责人", 64)):
        value = (merged.get(key) or "").strip()
        name = "jobDesc" if key == "job_desc" else key
        if errors.check(bool(value), name, f"请输入{label}") and errors.check(
                len(value) <= limit, name, f"{label}不能超过 {limit} 个字符"):
            out[key] = value
    if "alarm_email" in merged:
        emails = [e.strip() for e in (merged.get("alarm_email") or "").replace("，", ",").split(",") if e.strip()]
        bad = [e for e in emails if not EMAIL_RE.match(e)]
        if errors.check(not bad, "alarmEmail", f"报警邮件地址格式不正确：{bad[0] if bad else ''}"):
            out["alarm_email"] = ",".join(emails) or None
    tz = merged.get("timezone") or current_app.config["PCLOUD_TIMEZONE"]
    stype = merged.get("schedule_type") or "CRON"
    type_error = cron.schedule_type_error(stype)
    type_ok = errors.check(not type_error, "scheduleType", type_error or "")
    conf = (merged.get("schedule_conf") or "").strip()
    try:
        cron.zone_or_error(tz)
        zone_ok = True
    except cron.CronError as exc:
        zone_ok = errors.check(False, "timezone", str(exc))
    if type_ok and zone_ok and stype != "NONE":
        error = cron.validate_schedule(stype, conf, tz)
        field = "jobCron" if data.get("job_cron") is not None else "scheduleConf"
        errors.check(not error, field, ("Cron 表达式不正确：" if stype == "CRON" else "") + (error or ""))
    out.update(schedule_type=stype, schedule_conf=conf or None, timezone=tz)
    for key, allowed, field in (("misfire_strategy", MISFIRE_STRATEGIES, "misfireStrategy"),
                                ("executor_route_strategy", ROUTE_STRATEGIES, "executorRouteStrategy"),
                                ("executor_block_strategy", BLOCK_STRATEGIES, "executorBlockStrategy")):
        if merged.get(key) is not None and errors.check(merged[key] in allowed, field,
                                                        "取值必须是其中之一：" + ", ".join(allowed)):
            out[key] = merged[key]
    handler = (merged.get("executor_handler") or "").strip()
    if errors.check(bool(handler), "executorHandler", "请选择 JobHandler") and errors.check(
            get_handler(handler) is not None, "executorHandler", f"JobHandler「{handler}」未注册"):
        out["executor_handler"] = handler
    if "executor_param" in merged:
        refusal = retention_refusal(out.get("executor_handler", ""), merged.get("executor_param"))
        if errors.check(not refusal, "executorParam", refusal or ""):
            out["executor_param"] = merged.get("executor_param") or None
    for key, field, hi in (("executor_timeout", "executorTimeout", 86400 * 7),
                           ("executor_fail_retry_count", "executorFailRetryCount", 100)):
        if merged.get(key) is not None:
            value = merged[key]
            if errors.check(isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= hi, field,
                            f"须为 0 到 {hi} 之间的整数"):
                out[key] = value
    job_id = current.id if current else None
    children: list[int] | None = None
    if "child_job_id" in merged:
        def children_of() -> list[int]:
            found = _child_ids(merged.get("child_job_id"))
            _check_children(job_id, found)
            return found

        children = errors.run(children_of)
        if children is not None:
            out["child_job_id"] = ",".join(str(c) for c in children) or None
    parents: list[int] | None = None
    if data.get("parent_job_ids") is not None:
        parents = list(dict.fromkeys(data["parent_job_ids"]))
        errors.run(_check_parents, job_id, parents)
        out["parent_job_ids"] = parents
    if not errors:  # the links are each valid: may they make a loop together?
        errors.run(_check_no_cycle, job_id, children, parents)
    errors.raise_if_any()
    return out


def _next_ms(job: Job, after: datetime | None = None) -> int:
    moment = cron.next_fire_time(job.schedule_type, job.schedule_conf, job.timezone,
                                 after or datetime.now(UTC))
    return cron.to_epoch_ms(moment) if moment else 0


def create_job(data: dict[str, Any]) -> Job:
    require_maintenance_grant(data.get("executor_handler"))
    clean = _clean_job(data, None)
    parents = clean.pop("parent_job_ids", None)
    job = Job(**clean)
    db.session.add(job)
    db.session.flush()
    if parents:
        _set_parents(job, parents)
    if data.get("trigger_status") == 1:
        _start(job)
    db.session.commit()
    return job


def modify_job(data: dict[str, Any]) -> Job:
    job = get_job(data["id"])
    require_maintenance_grant(job.executor_handler, data.get("executor_handler"))
    before = (job.schedule_type, job.schedule_conf, job.timezone)
    clean = _clean_job(data, job)
    parents = clean.pop("parent_job_ids", None)
    for key, value in clean.items():
        setattr(job, key, value)
    if parents is not None:
        _set_parents(job, parents)
    if job.trigger_status == 1 and before != (job.schedule_type, job.schedule_conf, job.timezone):
        _start(job)
    db.session.commit()
    return job


def remove_job(job_id: int) -> Job:
    job = get_job(job_id)
    job.trigger_status, job.trigger_next_time = 0, 0
    job.soft_delete()
    db.session.commit()
    return job


def _start(job: Job) -> None:
    if job.schedule_type == "NONE":
        raise Conflict("调度类型为 NONE 的任务只能手动执行，不能启动")
    next_ms = _next_ms(job)
    if not next_ms:
        raise Conflict("该任务的调度以后不会再触发，不能启动")
    job.trigger_status, job.trigger_next_time = 1, next_ms


def start_job(job_id: int) -> Job:
    job = get_job(job_id)
    _start(job)
    db.session.commit()
    return job


def stop_job(job_id: int) -> Job:
    job = get_job(job_id)
    job.trigger_status, job.trigger_next_time = 0, 0
    db.session.commit()
    return job


def copy_job(job_id: int) -> Job:
    job = get_job(job_id)
    require_maintenance_grant(job.executor_handler)
    columns = ("job_group", "author", "alarm_email", "schedule_type", "schedule_conf", "timezone",
               "misfire_strategy", "executor_route_strategy", "executor_handler", "executor_param",
               "executor_block_strategy", "executor_timeout", "executor_fail_retry_count", "child_job_id")
    copy = Job(**{c: getattr(job, c) for c in columns}, job_desc=(job.job_desc[:255 - len(COPY_SUFFIX)] + COPY_SUFFIX),
               trigger_status=0, trigger_next_time=0, trigger_last_time=0)
    db.session.add(copy)
    db.session.commit()
    return copy


def trigger_job(job_id: int, executor_param: str | None = None, address_list: str | None = None) -> list[JobLog]:
    """Run once now: PENDING MANUAL run rows for the worker (one per node for SHARDING_BROADCAST).

    `address_list` (comma-separated node names) chooses the nodes; other strategies run on the first one.
    Without it the worker routes the run (SHARDING_BROADCAST: one run per live node now).
    """
    job = get_job(job_id)
    require_maintenance_grant(job.executor_handler)
    refusal = retention_refusal(job.executor_handler, executor_param)
    if executor_param is not None and refusal:
        raise Invalid(refusal, field="executorParam")
    executor = get_executor(job.job_group)
    nodes = [a.strip() for a in (address_list or "").split(",") if a.strip()]
    for node in nodes:
        if not NODE_NAME_RE.match(node):
            raise Invalid(f"节点名格式不正确：{node}", field="addressList")
    if job.executor_route_strategy == "SHARDING_BROADCAST":
        targets: list[str | None] = list(nodes or executor_addresses(executor)) or [None]
    else:
        targets = [nodes[0] if nodes else None]
    now = utcnow()
    param = job.executor_param if executor_param is None else executor_param
    runs = [JobLog(job_group=job.job_group, job_id=job.id, trigger_type="MANUAL", schedule_time=now,
                   shard_index=i, shard_total=len(targets) if len(targets) > 1 else 1,
                   executor_address=node, executor_handler=job.executor_handler, executor_param=param or None,
                   executor_fail_retry_count=job.executor_fail_retry_count, trigger_time=now,
                   trigger_code=0, trigger_msg="手动触发", handle_code=HANDLE_RUNNING, status=RUN_PENDING)
            for i, node in enumerate(targets)]
    db.session.add_all(runs)
    _commit("同一时刻已触发过该任务，请稍后再试")
    return runs


def job_nodes(job_id: int) -> list[dict[str, Any]]:
    executor = get_executor(get_job(job_id).job_group)
    return [{"address": n.address or n.name, "name": n.name, "registry_time": n.heartbeat_at}
            for n in live_nodes(executor.appname)]


def next_trigger_times(schedule_type: str, conf: str | None, tz: str | None, n: int = 5) -> list[str]:
    """The next fire times as local ISO times in the job's own zone (what the cron is written in)."""
    tz = tz or current_app.config["PCLOUD_TIMEZONE"]
    error = cron.validate_schedule(schedule_type, conf, tz)
    if error:
        raise Invalid(error, field="scheduleConf")
    zone = cron.zone_or_error(tz)
    times = cron.next_fire_times(schedule_type, conf, tz, datetime.now(UTC), n)
    return [t.astimezone(zone).replace(tzinfo=None).isoformat() for t in times]


def handler_choices() -> list[tuple[str, str]]:
    return [(name, spec.description) for name, spec in registered_handlers().items()]


GRAPH_MAX_NODES = 200  # the jobs one graph shows at most (a console view, not an export)


def job_graph(job_id: int) -> dict[str, Any]:
    """The job's connected jobs (through child links and dependencies, either way) as {nodes, edges}, each
    node with its newest run's state. Edges: CHILD (source runs target after each success) and PARENT
    (target waits for source among its parents). One query per hop, then two for the last runs."""
    get_job(job_id)
    edges: set[tuple[int, int, str]] = set()
    found, frontier = {job_id}, {job_id}
    while frontier and len(found) < GRAPH_MAX_NODES:
        ids = list(frontier)
        linked: set[int] = set()
        rows = db.session.execute(select(Job.id, Job.child_job_id).where(Job.deleted_at.is_(None), or_(
            Job.id.in_(ids), *(Job.child_job_id.contains(str(i)) for i in ids)))).all()
        for source, text_ids in rows:
            for target in _safe_child_ids(text_ids):
                if source in frontier or target in frontier:
                    edges.add((source, target, "CHILD"))
                    linked.update((source, target))
        for child, parent in db.session.execute(select(JobDependency.job_id, JobDependency.parent_job_id).where(
                or_(JobDependency.job_id.in_(ids), JobDependency.parent_job_id.in_(ids)))):
            edges.add((parent, child, "PARENT"))
            linked.update((parent, child))
        frontier = linked - found
        found |= frontier
    jobs = {j.id: j for j in db.session.execute(Job.live().where(Job.id.in_(found))).scalars()}
    if len(jobs) > GRAPH_MAX_NODES:  # keep the job and its nearest ids; the rest is left out
        keep = sorted(jobs, key=lambda i: (i != job_id, abs(i - job_id)))[:GRAPH_MAX_NODES]
        jobs = {i: jobs[i] for i in keep}
    newest = select(JobLog.id).where(JobLog.job_id == Job.id).order_by(JobLog.trigger_time.desc(), JobLog.id.desc())
    last_ids = [i for i in db.session.execute(
        select(newest.limit(1).scalar_subquery()).where(Job.id.in_(list(jobs)))).scalars() if i]
    last = {r.job_id: r for r in db.session.execute(select(JobLog).where(JobLog.id.in_(last_ids))).scalars()}
    nodes = [{"id": j.id, "job_desc": j.job_desc, "job_group": j.job_group, "trigger_status": j.trigger_status,
              "last_state": run_state(last[j.id]) if j.id in last else None,
              "last_log_id": last[j.id].id if j.id in last else None,
              "last_time": last[j.id].trigger_time if j.id in last else None} for j in sorted(jobs.values(),
                                                                                             key=lambda j: j.id)]
    return {"nodes": nodes, "edges": [{"source": a, "target": b, "type": t} for a, b, t in sorted(edges)
                                      if a in jobs and b in jobs]}


def _safe_child_ids(text_ids: str | None) -> list[int]:
    try:
        return _child_ids(text_ids)
    except Invalid:  # a value written before the check existed: no link
        return []


# ---------------------------------------------------------------- runs (调度日志)


def get_run(log_id: int) -> JobLog:
    run = db.session.get(JobLog, log_id)
    if run is None:
        raise NotFound("调度日志不存在")
    return run


def run_state(run: JobLog) -> str:
    if run.handle_code == HANDLE_SUCCESS:
        return "success"
    if run.handle_code == HANDLE_RUNNING:
        return "pending" if run.status == RUN_PENDING else "running"
    return "fail"


def run_item(run: JobLog, descs: dict[int, str] | None = None) -> dict[str, Any]:
    return {
        "id": run.id, "job_group": run.job_group, "job_id": run.job_id, "job_desc": (descs or {}).get(run.job_id),
        "trigger_type": run.trigger_type, "schedule_time": run.schedule_time,
        "executor_address": run.executor_address, "executor_handler": run.executor_handler,
        "executor_param": run.executor_param, "executor_sharding_param": run.executor_sharding_param,
        "executor_fail_retry_count": run.executor_fail_retry_count, "trigger_time": run.trigger_time,
        "trigger_code": run.trigger_code, "trigger_msg": run.trigger_msg, "handle_time": run.handle_time,
        "handle_code": run.handle_code, "handle_msg": run.handle_msg, "alarm_status": run.alarm_status,
        "status": run.status, "state": run_state(run), "kill_requested": run.kill_requested,
    }


def _parse_filter_time(value: Any) -> tuple[datetime | None, datetime | None]:
    """The run log's time range: a (start, end) pair of UTC datetimes as the schemas load it, or the
    local times as text ([start, end] or "start - end")."""
    from pcloud.core.timefmt import OutOfRange, parse_to_utc

    if not value:
        return None, None
    if isinstance(value, tuple) and all(p is None or isinstance(p, datetime) for p in value):
        start, end = value
        if start and end and start > end:
            raise Invalid("开始时间不能晚于结束时间", field="filterTime")
        return start, end
    parts = value if isinstance(value, list | tuple) else str(value).split(" - ")
    if len(parts) != 2:
        raise Invalid("时间范围应为 [开始, 结束]", field="filterTime")
    try:
        start, end = (parse_to_utc(str(p).strip().replace(" ", "T", 1)) if p else None for p in parts)
    except OutOfRange as exc:
        raise Invalid(str(exc), field="filterTime") from None
    except ValueError:
        raise Invalid("时间格式不正确，应为 2021-02-15T18:49:43", field="filterTime") from None
    if start and end and start > end:
        raise Invalid("开始时间不能晚于结束时间", field="filterTime")
    return start, end


def run_filtered_select(filters: dict[str, Any]) -> Any:
    stmt = select(JobLog)
    if filters.get("job_id"):
        stmt = stmt.where(JobLog.job_id == filters["job_id"])
    elif filters.get("job_group"):
        stmt = stmt.where(JobLog.job_group == filters["job_group"])
    status = filters.get("log_status")
    if status == 1:
        stmt = stmt.where(JobLog.handle_code == HANDLE_SUCCESS)
    elif status == 2:
        stmt = stmt.where(JobLog.handle_code >= 500)
    elif status == 3:
        stmt = stmt.where(JobLog.handle_code == HANDLE_RUNNING)
    start, end = _parse_filter_time(filters.get("filter_time"))
    if start:
        stmt = stmt.where(JobLog.trigger_time >= start)
    if end:
        stmt = stmt.where(JobLog.trigger_time <= end)
    return stmt


def page_runs(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    result = paginate(run_filtered_select(filters).order_by(JobLog.trigger_time.desc(), JobLog.id.desc()),
                      page, page_size)
    job_ids = {r.job_id for r in result.items}
    descs = dict(db.session.execute(select(Job.id, Job.job_desc).where(Job.id.in_(job_ids))).all()) if job_ids else {}
    result.items = [run_item(r, descs) for r in result.items]
    return result


def log_detail_cat(log_id: int, from_line: int) -> dict[str, Any]:
    """Output lines from `from_line` (1-based) on, at most DETAIL_MAX_LINES; the caller asks again from
    `toLineNum + 1` until `isEnd`."""
    run = get_run(log_id)
    from_line = max(1, from_line)
    rows = db.session.execute(
        select(JobLogLine.line_no, JobLogLine.content)
        .where(JobLogLine.log_id == log_id, JobLogLine.line_no >= from_line)
        .order_by(JobLogLine.line_no).limit(DETAIL_MAX_LINES)).all()
    to_line = rows[-1][0] if rows else from_line - 1
    is_end = run.status == RUN_DONE and to_line >= run.line_count
    return {"from_line_num": from_line, "to_line_num": to_line,
            "log_content": "\n".join(content for _, content in rows), "is_end": is_end}


def _retry_killed(run: JobLog) -> None:
    """A killed run with retries left runs again (RETRY), as XXL-JOB retries every failed run, a killed one
    included; the worker does the same for a run killed while running (runtime._follow_up)."""
    if run.executor_fail_retry_count <= 0:
        return
    now = utcnow()
    db.session.add(JobLog(
        job_group=run.job_group, job_id=run.job_id, trigger_type="RETRY", schedule_time=now,
        shard_index=run.shard_index, shard_total=run.shard_total, executor_address=None,
        executor_handler=run.executor_handler, executor_param=run.executor_param,
        executor_fail_retry_count=run.executor_fail_retry_count - 1, trigger_time=now, trigger_code=0,
        trigger_msg="失败重试（上次运行被终止）", handle_code=HANDLE_RUNNING, status=RUN_PENDING, parent_log_id=run.id))


def kill_run(log_id: int) -> JobLog:
    run = get_run(log_id)
    if run.status == RUN_DONE:
        raise Conflict("该任务已结束，无需终止")
    if run.status == RUN_PENDING:
        # not picked up yet: finish it here, unless a node claims it at this very moment
        done = db.session.execute(update(JobLog).where(JobLog.id == run.id, JobLog.status == RUN_PENDING).values(
            status=RUN_DONE, handle_code=HANDLE_KILLED, handle_time=utcnow(), handle_msg="人工终止（尚未开始执行）"))
        if done.rowcount:
            _retry_killed(run)
            db.session.commit()
            db.session.refresh(run)
            return run
        db.session.rollback()
        db.session.refresh(run)
    if run.status == RUN_RUNNING:
        run.kill_requested = True
        db.session.commit()
    return run


def _months_ago(months: int) -> datetime:
    now = utcnow()
    month_index = now.year * 12 + now.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def clear_log(job_group: int | None, job_id: int | None, clear_type: int) -> int:
    """Delete finished runs (and their output) by one of the nine clean types; running runs stay."""
    if clear_type not in CLEAR_TYPES:
        raise Invalid("清理类型必须是 1 到 9", field="type")
    scope = [JobLog.status == RUN_DONE]
    if job_id:
        scope.append(JobLog.job_id == job_id)
    elif job_group:
        scope.append(JobLog.job_group == job_group)
    if clear_type in _CLEAR_MONTHS:
        scope.append(JobLog.trigger_time < _months_ago(_CLEAR_MONTHS[clear_type]))
    elif clear_type in _CLEAR_KEEP:
        # the newest N of the scope count whatever their state; only finished ones older than them go
        boundary = db.session.execute(select(JobLog.id).where(*scope[1:]).order_by(JobLog.id.desc())
                                      .offset(_CLEAR_KEEP[clear_type] - 1).limit(1)).scalar_one_or_none()
        if boundary is None:
            return 0
        scope.append(JobLog.id < boundary)
    return _delete_runs(*scope)


def delete_runs_before(cutoff: datetime, batch: int = 5000) -> int:
    """Delete finished runs triggered before `cutoff` (naive UTC) with their output; returns the count."""
    return _delete_runs(JobLog.trigger_time < cutoff, JobLog.status == RUN_DONE, batch=batch)


def _delete_runs(*conditions: Any, batch: int = 5000) -> int:
    """Delete the runs matching `conditions` with their output, in committed batches (a large clean never
    holds one long transaction); the report is rebuilt from what is left. Returns the count."""
    removed = 0
    while True:
        ids = list(db.session.execute(select(JobLog.id).where(*conditions).order_by(JobLog.id).limit(batch))
                   .scalars())
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


# ---------------------------------------------------------------- report (运行报表)


def _count_day(day: date) -> tuple[int, int, int]:
    start, end = local_day_bounds_utc(day)
    running, success, failed = db.session.execute(select(
        func.coalesce(func.sum(case((JobLog.handle_code == HANDLE_RUNNING, 1), else_=0)), 0),
        func.coalesce(func.sum(case((JobLog.handle_code == HANDLE_SUCCESS, 1), else_=0)), 0),
        func.coalesce(func.sum(case((JobLog.handle_code >= 500, 1), else_=0)), 0),
    ).where(JobLog.trigger_time >= start, JobLog.trigger_time < end)).one()
    return int(running), int(success), int(failed)


def refresh_report(days: list[date]) -> None:
    """Recount the given local days from the run table into job_report (index-only per day), in one commit."""
    now = utcnow()
    counts = {day: _count_day(day) for day in days}
    for attempt in range(2):
        rows = {r.trigger_day: r for r in db.session.execute(
            select(JobReport).where(JobReport.trigger_day.in_(days))).scalars()}
        for day, (running, success, failed) in counts.items():
            row = rows.get(day)
            if row is None:
                db.session.add(JobReport(trigger_day=day, running_count=running, suc_count=success,
                                         fail_count=failed, refreshed_at=now))
            else:
                row.running_count, row.suc_count, row.fail_count, row.refreshed_at = running, success, failed, now
        try:
            db.session.commit()
            return
        except IntegrityError:  # another process inserted one of these days first: update its row instead
            db.session.rollback()
            if attempt:
                raise


def _ensure_report(start: date, end: date) -> dict[date, JobReport]:
    """Report rows for [start, end]: missing days are counted once, the last few days again each minute."""
    today = local_today()
    end = min(end, today)
    rows = {r.trigger_day: r for r in db.session.execute(select(JobReport).where(
        JobReport.trigger_day >= start, JobReport.trigger_day <= end)).scalars()}
    stale_before = utcnow() - timedelta(seconds=REPORT_REFRESH_SECONDS)
    recent = today - timedelta(days=REPORT_RECENT_DAYS - 1)
    todo = []
    day = start
    while day <= end:
        row = rows.get(day)
        if row is None or (day >= recent and row.refreshed_at < stale_before):
            todo.append(day)
        day += timedelta(days=1)
    if todo:
        refresh_report(todo)
        rows = {r.trigger_day: r for r in db.session.execute(select(JobReport).where(
            JobReport.trigger_day >= start, JobReport.trigger_day <= end)).scalars()}
    return rows


CHART_FIRST_DAY, CHART_LAST_DAY = date(1970, 1, 1), date(9999, 1, 1)


def chart_info(start: date | None, end: date | None) -> dict[str, Any]:
    today = local_today()
    for name, value in (("startDate", start), ("endDate", end)):
        # the report's days are stepped through one by one: keep them far from date.min / date.max
        if value is not None and not CHART_FIRST_DAY <= value <= CHART_LAST_DAY:
            raise Invalid(f"日期须在 {CHART_FIRST_DAY} 至 {CHART_LAST_DAY} 之间", field=name)
    end = end or today
    start = start or end - timedelta(days=6)
    if start > end:
        raise Invalid("开始日期不能晚于结束日期", field="startDate")
    if (end - start).days >= CHART_MAX_DAYS:
        raise Invalid(f"日期范围不能超过 {CHART_MAX_DAYS} 天", field="endDate")
    rows = _ensure_report(start, end)
    days, running, success, failed = [], [], [], []
    day = start
    while day <= end:
        row = rows.get(day)
        days.append(day.isoformat())
        running.append(row.running_count if row else 0)
        success.append(row.suc_count if row else 0)
        failed.append(row.fail_count if row else 0)
        day += timedelta(days=1)
    return {"trigger_day_list": days, "trigger_day_count_running_list": running,
            "trigger_day_count_suc_list": success, "trigger_day_count_fail_list": failed,
            "trigger_count_running_total": sum(running), "trigger_count_suc_total": sum(success),
            "trigger_count_fail_total": sum(failed)}


def statistics() -> dict[str, int]:
    """jobInfoCount (live jobs), jobLogCount / jobLogSuccessCount (all runs kept, from the report),
    executorCount (live worker nodes, as XXL-JOB counts executor machines)."""
    first = db.session.execute(select(func.min(JobLog.trigger_time))).scalar()
    if first is not None:
        first_day = first.replace(tzinfo=UTC).astimezone(local_zone()).date()
        _ensure_report(first_day, local_today())
    totals = db.session.execute(select(
        func.coalesce(func.sum(JobReport.running_count + JobReport.suc_count + JobReport.fail_count), 0),
        func.coalesce(func.sum(JobReport.suc_count), 0))).one()
    since = utcnow() - timedelta(seconds=NODE_DEAD_SECONDS)
    return {
        "job_info_count": db.session.execute(select(func.count()).select_from(Job)
                                             .where(Job.deleted_at.is_(None))).scalar_one(),
        "job_log_count": int(totals[0]), "job_log_success_count": int(totals[1]),
        "executor_count": db.session.execute(select(func.count()).select_from(JobRegistry)
                                             .where(JobRegistry.heartbeat_at >= since)).scalar_one(),
    }


def default_timezone() -> str:
    return current_app.config["PCLOUD_TIMEZONE"]
