"""Scheduled jobs: executors, jobs, runs and the run report (business rules for the API and the pages).

The console never executes anything: trigger writes a PENDING MANUAL run and start/stop maintain
``trigger_next_time``; the worker (``pcloud worker``) does the rest (see ``jobs/models.py``).
"""

from __future__ import annotations

import calendar
import difflib
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from flask import current_app, has_request_context
from flask_babel import gettext, lazy_gettext
from sqlalchemy import ColumnElement, case, delete, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from pcloud.access.permissions import executor_ids_of, may_call_endpoint
from pcloud.core.database import serialise, taken_meanwhile, write_lock_first
from pcloud.core.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound, PCloudError
from pcloud.core.i18n import clipped, said, translated
from pcloud.core.messages import N_
from pcloud.core.numbers import digits_only
from pcloud.core.paging import Page, paginate
from pcloud.core.recorder import record_detail
from pcloud.core.schemas import camelcase, limit_of
from pcloud.core.security import bad_json, current_principal, current_principal_id_name
from pcloud.core.timefmt import local_day_bounds_utc, local_today, local_zone, utcnow
from pcloud.extensions import db
from pcloud.jobs import cron
from pcloud.jobs.handlers import get_handler, registered_handlers, retention_refusal
from pcloud.jobs.models import (
    ADDRESS_AUTO,
    ADDRESS_LIST_MAX,
    ADDRESS_MANUAL,
    BLOCK_STRATEGIES,
    EXECUTOR_PARAM_MAX,
    GLUE_BEAN,
    GLUE_SCRIPT_TYPES,
    GLUE_SOURCE_MAX,
    GLUE_TYPES,
    HANDLE_KILLED,
    HANDLE_RUNNING,
    HANDLE_SUCCESS,
    MAX_CHAIN_DEPTH,
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
    JobGlueVersion,
    JobRegistry,
    JobReport,
    JobRun,
    JobRunLine,
)

DEFAULT_EXECUTOR_APPNAME = "pcloud-executor"
DEFAULT_EXECUTOR_TITLE = N_("默认执行器")  # stored as written; pages show it translated
APPNAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{3,63}$")
NODE_NAME_RE = re.compile(r"^[\w.:@/-]{1,128}$")
EMAIL_RE = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
LOG_STATUS = {1: "success", 2: "fail", 3: "running"}
CLEAR_TYPES = {
    1: N_("清理一个月之前的日志"), 2: N_("清理三个月之前的日志"), 3: N_("清理六个月之前的日志"),
    4: N_("清理一年之前的日志"), 5: N_("只保留最近一千条日志"), 6: N_("只保留最近一万条日志"),
    7: N_("只保留最近三万条日志"), 8: N_("只保留最近十万条日志"), 9: N_("清理所有日志"),
}
_CLEAR_MONTHS = {1: 1, 2: 3, 3: 6, 4: 12}
_CLEAR_KEEP = {5: 1000, 6: 10000, 7: 30000, 8: 100000}
DETAIL_MAX_LINES = 1000
REPORT_RECENT_DAYS = 3
REPORT_REFRESH_SECONDS = 60
CHART_MAX_DAYS = 366
COPY_SUFFIX = N_(" (副本)")  # said in the copier's language: the copy's name is data from then on


# ---------------------------------------------------------------- executor permissions (issue 23, 1)
# One rule for every reader and writer of executors, jobs, runs and the report, page and API alike: the principal
# reaches the executors their roles list (`access.permissions.executor_ids_of`); a record on another executor
# answers 404, as if absent. Outside a request (worker, command line) everything is reached.


def visible_executor_ids() -> frozenset[int] | None:
    """The executors the principal may see and work on; None: every executor."""
    principal = current_principal()
    return None if principal is None else executor_ids_of(principal)


def executor_scope(column: Any) -> list[ColumnElement[bool]]:
    """WHERE terms limiting `column` (an executor id: Executor.id, Job.job_group, JobRun.job_group) to the
    principal's executors: none when every executor is reached."""
    ids = visible_executor_ids()
    if ids is None:
        return []
    return [column.in_(sorted(ids))] if ids else [false()]


def may_reach_executor(executor_id: int | None) -> bool:
    ids = visible_executor_ids()
    return ids is None or executor_id in ids


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
    (`registered`: the appname's nodes when the calling code loaded them already)."""
    if executor.address_type == ADDRESS_MANUAL:
        return [a for a in (executor.address_list or "").split(",") if a]
    if registered is None:
        registered = _registered([executor.appname])[executor.appname]
    return [node["name"] for node in _node_states(registered) if node["alive"]]


def without_a_live_node(executor: Executor) -> bool:
    """Whether a run of this executor would wait: no live node may take it (the worker's rule: a live node of its
    AppName, or of its manual list, whatever AppName that node registered under). The console writes a run anyway;
    it starts when such a node beats."""
    since = utcnow() - timedelta(seconds=NODE_DEAD_SECONDS)
    alive = select(JobRegistry.id).where(JobRegistry.heartbeat_at >= since)
    if executor.address_type == ADDRESS_MANUAL:
        names = [a.strip() for a in (executor.address_list or "").split(",") if a.strip()]
        alive = alive.where(JobRegistry.name.in_(names))
    else:
        alive = alive.where(JobRegistry.appname == executor.appname)
    return db.session.execute(alive.limit(1)).first() is None


def waiting_note(executor: Executor) -> str:
    """What the pages say of a run that waits for a node (`without_a_live_node`)."""
    return gettext("执行器「%(title)s」当前没有在线节点：运行将等待，直到它的节点上线（可在「注册节点」查看）",
                   title=translated(executor.title))


def get_executor(executor_id: int) -> Executor:
    executor = db.session.execute(Executor.live().where(Executor.id == executor_id,
                                                        *executor_scope(Executor.id))).scalar_one_or_none()
    if executor is None:
        raise NotFound(gettext("执行器不存在"))
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
    stmt = Executor.live().where(*executor_scope(Executor.id))
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
        listed = {e.id: [a.strip() for a in (e.address_list or "").split(",") if a.strip()]
                  for e in executors if e.address_type == ADDRESS_MANUAL}
        alive = _alive_names({name for names in listed.values() for name in names})
        for item, executor in zip(result.items, executors, strict=True):
            # a manual list's nodes, each online or not (the worker runs on a listed node that beats), then the
            # other nodes registered under its AppName
            names = listed.get(executor.id, [])
            item["listed"] = [{"name": name, "alive": name in alive} for name in names]
            item["nodes"] = [n for n in _node_states(registered[executor.appname]) if n["name"] not in names]
            item["refusal"] = _delete_refusal(executor, jobs.get(executor.id, 0), live - 1)
    return result


def _alive_names(names: set[str]) -> set[str]:
    """Which of these node names beat lately, under any AppName (one query; none for no name)."""
    if not names:
        return set()
    since = utcnow() - timedelta(seconds=NODE_DEAD_SECONDS)
    return set(db.session.execute(select(JobRegistry.name).where(
        JobRegistry.name.in_(names), JobRegistry.heartbeat_at >= since)).scalars())


def all_executors() -> list[Executor]:
    return list(db.session.execute(Executor.live().where(*executor_scope(Executor.id))
                                   .order_by(Executor.appname, Executor.id)).scalars())


def preferred_executor(executors: list[Executor]) -> int | None:
    """The executor a new job's form starts on, among `executors` (those the principal may use, all_executors):
    the default one (`pcloud init`'s, AppName DEFAULT_EXECUTOR_APPNAME) when it is one of them, else the first."""
    for executor in executors:
        if executor.appname == DEFAULT_EXECUTOR_APPNAME:
            return executor.id
    return executors[0].id if executors else None


def all_executor_items() -> list[dict[str, Any]]:
    """Every executor with its addresses (the API's findAll), the nodes of all of them read at once."""
    executors = all_executors()
    registered = _registered([e.appname for e in executors])
    return [executor_item(e, registered[e.appname]) for e in executors]


def _require_appname_free(appname: str, exclude_id: int | None) -> None:
    stmt = select(Executor.id).where(Executor.appname == appname, Executor.deleted_at.is_(None))
    if exclude_id is not None:
        stmt = stmt.where(Executor.id != exclude_id)
    if db.session.execute(stmt.limit(1)).first():
        raise Conflict(gettext("AppName 已存在"), errors={"appname": [gettext("AppName 已存在")]})


def _clean_appname(value: str | None, exclude_id: int | None) -> str:
    appname = (value or "").strip()
    if not APPNAME_RE.match(appname):
        raise Invalid(gettext("AppName 须以字母开头，4-64 位字母、数字、下划线或连字符"), field="appname")
    _require_appname_free(appname, exclude_id)
    return appname


def _clean_address_list(value: str | None, address_type: int) -> str | None:
    """A manual executor's node names, comma-separated (None for an automatic one)."""
    if address_type != ADDRESS_MANUAL:
        return None
    nodes = [a.strip() for a in (value or "").replace("\n", ",").split(",") if a.strip()]
    if not nodes:
        raise Invalid(gettext("手动录入时请填写机器地址（节点名，逗号分隔）"), field="addressList")
    bad = [a for a in nodes if not NODE_NAME_RE.match(a)]
    if bad:
        raise Invalid(gettext("节点名格式不正确：%(name)s", name=bad[0]), field="addressList")
    address_list = ",".join(dict.fromkeys(nodes))
    if len(address_list) > ADDRESS_LIST_MAX:
        raise Invalid(gettext("机器地址不能超过 %(max)d 个字符", max=ADDRESS_LIST_MAX), field="addressList")
    return address_list


def _clean_executor(data: dict[str, Any], current: Executor | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    errors = FieldErrors()  # every wrong field reported at once
    if current is None or data.get("appname") is not None:
        appname = errors.run(_clean_appname, data.get("appname"), current.id if current else None)
        if appname is not None:
            out["appname"] = appname
    if current is None or data.get("title") is not None:
        title = (data.get("title") or "").strip()
        if errors.check(bool(title) and len(title) <= 64, "title", gettext("请输入名称（不超过 64 个字符）")):
            out["title"] = title
    address_type = data.get("address_type")
    if address_type is None:
        address_type = current.address_type if current else ADDRESS_AUTO
    if errors.check(address_type in (ADDRESS_AUTO, ADDRESS_MANUAL), "addressType",
                    gettext("注册方式只能是 0（自动注册）或 1（手动录入）")):
        out["address_type"] = address_type
        raw = data.get("address_list") if "address_list" in data else (current.address_list if current else None)
        address_list = errors.run(_clean_address_list, raw, address_type)
        if "addressList" not in errors.errors:
            out["address_list"] = address_list
    errors.raise_if_any()
    if out.get("address_list"):
        _check_nodes_within_reach(out["address_list"], current)
    return out


def _listed(executor: Executor | None) -> set[str]:
    """The node names an executor's manual list holds (none for an automatic or a new one)."""
    if executor is None or executor.address_type != ADDRESS_MANUAL:
        return set()
    return {a.strip() for a in (executor.address_list or "").split(",") if a.strip()}


def _check_nodes_within_reach(address_list: str, current: Executor | None) -> None:
    """A manual list runs the executor's jobs on the nodes it names, and a node runs its own AppName's jobs too: a
    principal limited to some executors may name a node only if every AppName it registered under (live or not) is
    one of an executor within reach, else 403 on addressList naming the node alone (one answer whether that AppName
    has an executor or not: no AppName beyond reach is told). A name the list holds already is not checked again (an
    edit of the title keeps it); a name not registered yet passes: the limit docs/API.md states."""
    visible = visible_executor_ids()
    if visible is None:
        return
    kept = _listed(current)
    names = [a for a in address_list.split(",") if a and a not in kept]
    if not names:
        return
    reached = select(Executor.appname).where(Executor.id.in_(sorted(visible)), Executor.deleted_at.is_(None))
    beyond = set(db.session.execute(select(JobRegistry.name).where(
        JobRegistry.name.in_(names), JobRegistry.appname.not_in(reached))).scalars())
    for name in names:
        if name in beyond:
            msg = gettext("节点 %(name)s 注册在您可管理的执行器以外，不能列入机器地址"
                          "（请联系能管理全部执行器的管理员）", name=name)
            raise Forbidden(msg, errors={"addressList": [msg]})


def executor_form_problems(values: Mapping[str, Any], executor_id: int | None) -> dict[str, list[str]]:
    """What a save of the executor `executor_id` (None: a new one) would say of its AppName and node list that the
    page form's own validators do not (its pattern, an AppName another executor has, a manual executor without
    or with malformed nodes), for a form those validators refused: so the page says every wrong field at once.
    Reads only."""
    errors = FieldErrors()
    errors.run(_clean_appname, values.get("appname"), executor_id)
    if str(values.get("address_type")) == str(ADDRESS_MANUAL):
        errors.run(_clean_address_list, values.get("address_list"), ADDRESS_MANUAL)
    return errors.errors


def create_executor(data: dict[str, Any]) -> Executor:
    if visible_executor_ids() is not None:  # a new executor would lie outside one's own list at once
        raise Forbidden(gettext("您只能管理部分执行器，不能新建执行器（请联系能管理全部执行器的管理员）"))
    values = _clean_executor(data, None)
    executor = Executor(**values)
    with taken_meanwhile(lambda: _require_appname_free(values["appname"], None)):
        db.session.add(executor)
        db.session.commit()
    return executor


def modify_executor(data: dict[str, Any]) -> Executor:
    executor = get_executor(data["id"])
    executor_id, appname = executor.id, executor.appname
    changes = _clean_executor(data, executor)
    appname = changes.get("appname", appname)
    with taken_meanwhile(lambda: _require_appname_free(appname, executor_id)):
        for key, value in changes.items():
            setattr(executor, key, value)
        db.session.commit()
    return executor


def _live_executor_count() -> int:
    return db.session.execute(select(func.count()).select_from(Executor).where(Executor.deleted_at.is_(None))
                              ).scalar_one()


def clear_type_choices() -> list[tuple[int, str]]:
    """The clear dialog's choices in the reader's language."""
    return [(key, gettext(label)) for key, label in CLEAR_TYPES.items()]


def _delete_refusal(executor: Executor, jobs: int, others: int) -> str | None:
    if jobs:
        return gettext("执行器「%(name)s」仍有 %(n)s 个任务，请先删除或迁移这些任务", name=translated(executor.title),
                       n=jobs)
    if not others:
        return gettext("不能删除最后一个执行器")
    return None


def executor_delete_refusal(executor: Executor, live: int | None = None) -> str | None:
    """Why the executor may not be deleted (None: it may); `live`: the live executors, counted by the caller."""
    jobs = db.session.execute(select(func.count()).select_from(Job).where(
        Job.job_group == executor.id, Job.deleted_at.is_(None))).scalar_one()
    return _delete_refusal(executor, jobs, (_live_executor_count() if live is None else live) - 1)


def delete_executor(executor_id: int) -> Executor:
    # every live executor locked before they are counted (FOR UPDATE; SQLite's write lock, taken first): two
    # deletes at once cannot both see the other's executor as the one that stays
    write_lock_first()
    live = set(db.session.execute(select(Executor.id).where(Executor.deleted_at.is_(None)).order_by(Executor.id)
                                  .with_for_update()).scalars())
    executor = get_executor(executor_id)
    if executor.id not in live:
        raise NotFound(gettext("执行器不存在"))
    refusal = executor_delete_refusal(executor, len(live))
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
    job = db.session.execute(Job.live().where(Job.id == job_id, *executor_scope(Job.job_group))
                             ).scalar_one_or_none()
    if job is None:
        raise NotFound(gettext("任务不存在"))
    return job


def _locked_job(job_id: int) -> Job:
    """The live job, locked until the commit (SELECT ... FOR UPDATE; SQLite's write lock): a start, stop, run
    once, copy or removal that comes while the job is being removed waits for the removal, then finds no job
    (404), and a removal waits for them."""
    write_lock_first()
    job = db.session.execute(Job.live().where(Job.id == job_id, *executor_scope(Job.job_group)).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one_or_none()
    if job is None:
        raise NotFound(gettext("任务不存在"))
    return job


def find_job(job_id: int) -> Job | None:
    """A job, deleted or not (a run's page still names the job it came from)."""
    return db.session.get(Job, job_id)


def _ms_to_dt(ms: int | None) -> datetime | None:
    return cron.from_epoch_ms(ms).replace(tzinfo=None) if ms else None


def parents_of(job_ids: list[int]) -> dict[int, list[int]]:
    """The parents of each job (one query for a page of jobs), in id order."""
    return _dependencies(job_ids, JobDependency.job_id, JobDependency.parent_job_id)


def _dependencies(job_ids: list[int], key: Any, linked: Any) -> dict[int, list[int]]:
    """{job id: the jobs linked to it} along one direction of job_dependency (`key` -> `linked`), in id order."""
    out: dict[int, list[int]] = {}
    if job_ids:
        for job_id, other in db.session.execute(select(key, linked).where(key.in_(job_ids)).order_by(linked)):
            out.setdefault(job_id, []).append(other)
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
        "glue_type": job.glue_type, "glue_remark": translated(job.glue_remark), "glue_updatetime": job.glue_updated_at,
        "timezone": job.timezone, "misfire_strategy": job.misfire_strategy,
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
    stmt = Job.live().where(*executor_scope(Job.job_group))
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


def jobs_of_executor(executor_id: int) -> list[dict[str, Any]]:
    jobs = db.session.execute(Job.live().where(Job.job_group == executor_id, *executor_scope(Job.job_group))
                              .order_by(Job.id)).scalars()
    return [{"id": j.id, "job_desc": j.job_desc, "executor_handler": j.executor_handler} for j in jobs]


def parse_job_ids(text: str | None, field: str = "childJobId") -> list[int]:
    """Comma-separated job ids (a full-width comma too), each once, in order."""
    ids: list[int] = []
    for part in (text or "").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not digits_only(part) or not 1 <= int(part) <= 2_147_483_647:
            if field == "parentJobIds":
                raise Invalid(gettext("父任务 ID 格式不正确：%(value)s", value=part), field=field)
            raise Invalid(gettext("子任务 ID 格式不正确：%(value)s", value=part), field=field)
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
    serialise(CHILD_LINKS_LOCK)


# the most ids `child_job_id` can hold: one digit and a comma each (a file's childJobs list is capped at it)
CHILD_JOBS_MAX = (limit_of(Job.child_job_id) + 1) // 2


def _check_children(job_id: int | None, children: list[int]) -> None:
    if not children:
        return
    if len(",".join(map(str, children))) > limit_of(Job.child_job_id):
        raise Invalid(gettext("子任务 ID 合计不能超过 %(max)d 个字符（逗号分隔）", max=limit_of(Job.child_job_id)),
                      field="childJobId")
    live = set(db.session.execute(select(Job.id).where(
        Job.id.in_(children), Job.deleted_at.is_(None), *executor_scope(Job.job_group))).scalars())
    missing = [c for c in children if c not in live]
    if missing:
        raise Invalid(gettext("子任务 ID %(id)s 不存在", id=missing[0]), field="childJobId")
    if job_id in children:
        raise Invalid(gettext("子任务不能是任务自己"), field="childJobId")
    _require_may_link(children, None)


def _require_may_link(children: list[int], job_id: int | None) -> None:
    """Linking a job is running it, and what follows it (a cleaner, a script job, another team's job, however deep
    down the chain): the rule of running, the link's field named. `job_id`: the job gains parents, so it and all
    that follows it run when they succeed (its own run: the caller's save checks it)."""
    try:
        require_may_run_followers(children, job_id)
    except NotFound as exc:  # out of reach: what a save says of a child it cannot see
        raise Invalid(exc.msg, field="parentJobIds" if job_id is not None else "childJobId") from None


def _check_parents(job_id: int | None, parents: list[int]) -> None:
    if len(parents) > PARENTS_MAX:
        raise Invalid(gettext("父任务最多 %(n)s 个", n=PARENTS_MAX), field="parentJobIds")
    if job_id in parents:
        raise Invalid(gettext("父任务不能是任务自己"), field="parentJobIds")
    live = set(db.session.execute(select(Job.id).where(Job.id.in_(parents), Job.deleted_at.is_(None),
                                                       *executor_scope(Job.job_group))).scalars())
    missing = [p for p in parents if p not in live]
    if missing:
        raise Invalid(gettext("父任务 ID %(id)s 不存在", id=missing[0]), field="parentJobIds")


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
            raise Invalid(gettext("任务依赖形成了循环（最终又触发回本任务）"), field=field)
        if current in seen:
            continue
        seen.add(current)
        stack.extend(graph.get(current, ()))


def _set_parents(job: Job, parents: list[int]) -> None:
    db.session.execute(delete(JobDependency).where(JobDependency.job_id == job.id))
    db.session.add_all(JobDependency(job_id=job.id, parent_job_id=p) for p in parents)


# Maintenance handlers delete what another grant guards (issue 19, finding 5): creating, changing, copying,
# starting or running once a job on one (or one that runs it: require_may_run_followers) needs the grant of that
# deletion, on the page and the API alike (both call here).
# The run-log cleaner needs the run log's clean operation; nothing in the API deletes the operation log, so
# no grant covers its cleaner: only a super administrator may set it up or run it by hand.
MAINTENANCE_GRANTS: dict[str, str | None] = {
    "jobLogCleanHandler": "jobs_api.clear_log",
    "actionLogCleanHandler": None,
}


def require_maintenance_grant(*handlers: str | None) -> None:
    """403 unless the principal holds what each maintenance handler among `handlers` deletes.
    Outside a request (command line, worker, `pcloud init`) nothing is checked."""
    principal = current_principal()
    if principal is None or principal.is_super_admin:
        return
    for handler in dict.fromkeys(h for h in handlers if h in MAINTENANCE_GRANTS):
        endpoint = MAINTENANCE_GRANTS[handler]
        if endpoint is None or not may_call_endpoint(principal, endpoint):
            if endpoint is None:
                raise Forbidden(gettext("JobHandler「%(name)s」会删除审计数据，只有超级管理员可以新增、"
                                        "修改或执行此类任务", name=handler))
            raise Forbidden(gettext("JobHandler「%(name)s」会删除审计数据，只有拥有「清理调度日志」权限的用户可以新增、"
                                    "修改或执行此类任务", name=handler))


# ---------------------------------------------------------------- script jobs (GLUE)
# A script job runs code its author typed on every worker node it is routed to: code execution by design
# (issue 23, item 2). Creating, editing, switching to, copying, starting or running one, or linking one as a
# child, needs the grant of the script routes (/api/job/jobcode/**, held by nobody but the super
# administrator after `pcloud init`), on the page and the API alike: they all call require_script_grant.

SCRIPT_GRANT_ENDPOINT = "jobs_api.jobcode_save"
SCRIPT_RESOURCE_PREFIX = "/api/job/jobcode/"
GLUE_VERSIONS_LISTED = 30
GLUE_REMARK_MAX = 128
GLUE_INIT_REMARK = N_("GLUE代码初始化")  # stored as written; pages show it translated
# A new script's first source; its comment in the language of whoever creates the job (then it is the script's).
GLUE_TEMPLATES = {
    "GLUE_PYTHON": (
        "# %(comment)s\n"
        "import sys\n\nprint(\"param:\", sys.argv[1])\n",
        N_("脚本任务（Python）：参数、分片序号、分片总数依次为 sys.argv[1..3]，也在环境变量 JOB_PARAM、"
           "JOB_SHARD_INDEX、JOB_SHARD_TOTAL 中；输出写入调度日志，退出码非 0 即失败。")),
    "GLUE_SHELL": (
        "#!/bin/sh\n"
        "# %(comment)s\n"
        "echo \"param: $1\"\n",
        N_("脚本任务（Shell）：参数、分片序号、分片总数依次为 $1 $2 $3，也在环境变量 JOB_PARAM、"
           "JOB_SHARD_INDEX、JOB_SHARD_TOTAL 中；输出写入调度日志，退出码非 0 即失败。")),
}


def glue_template(glue_type: str) -> str:
    """The first source of a new script job of `glue_type`."""
    source, comment = GLUE_TEMPLATES[glue_type]
    return source % {"comment": gettext(comment)}


def is_script(glue_type: str | None) -> bool:
    return glue_type in GLUE_SCRIPT_TYPES


def _may_call(endpoint: str) -> bool:
    """May the principal call this API operation? True outside a request (command line, `pcloud init`)."""
    principal = current_principal()
    return principal is None or may_call_endpoint(principal, endpoint)


def may_edit_scripts() -> bool:
    """Does the principal hold the script grant (what the console shows); True outside a request."""
    return _may_call(SCRIPT_GRANT_ENDPOINT)


# The operation log keeps scripts (a request's `glueSource`, a save's `diff`: _add_glue_version): the script grant's to
# read there too, masked for anyone else when read (the factory plugs them into core.recorder.readable_only_with).
# A key is guarded in every entry: the script save is the only one recording a `diff`; another module's would need a
# name of its own.
SCRIPT_LOG_KEYS = ("glueSource", "diff")
SCRIPT_LOG_MASK = lazy_gettext("（脚本内容：需要脚本权限）")


def require_script_grant(*glue_types: str | None, always: bool = False) -> None:
    """403 unless the principal holds the script grant, when any of `glue_types` is a script (or `always`).
    Outside a request (command line, worker, `pcloud init`) nothing is checked."""
    if (always or any(is_script(t) for t in glue_types)) and not may_edit_scripts():
        raise Forbidden(gettext("脚本任务（GLUE）会在执行器上运行任意代码，"
                                "只有拥有「脚本任务」权限的用户可以新增、修改、复制或执行"))


def script_resource_ids() -> list[int]:
    """The resources of the script routes: `pcloud init` leaves them out of a new ROLE_ADMIN's grants."""
    from pcloud.resources.models import Resource

    return list(db.session.execute(select(Resource.id).where(
        Resource.resource_url.startswith(SCRIPT_RESOURCE_PREFIX))).scalars())


# ---------------------------------------------------------------- who may run a job (and what follows it)
# Nobody runs anything beyond their own reach, by hand or through a link. One rule says whether the principal may
# run a job, `require_may_run` (the maintenance grant of a log cleaner, the script grant of a script job; its
# executor is within reach when the caller could fetch it). A run's success starts the job's children and
# dependents, theirs in turn, as far as the worker goes (MAX_CHAIN_DEPTH links): so whoever sets a job going
# (runs it once, starts its schedule, copies it with its links) or links one must pass that rule for every job of
# that chain, `require_may_run_followers`, on the page and the API alike. The worker itself checks nothing: what
# the system fires (an administrator's started job) runs its whole chain as set.

# the jobs one check walks at most (the chain of one job, deduplicated): past it the chain is refused unread
RUN_CHAIN_MAX_JOBS = 1000


def require_may_run(job: Any) -> None:
    """403 unless the principal may run `job` (a Job or a row with its `executor_handler` and `glue_type`) by hand:
    the one per-job rule of running once, starting, copying and linking. Its executor's reach is the caller's
    (the job fetched within it). Outside a request (command line, worker) nothing is checked."""
    require_maintenance_grant(job.executor_handler)
    require_script_grant(job.glue_type)


class JobLinks:
    """The job rows and dependents a chain walk reads, each job's fetched once: a list page walks the chains of all
    its jobs, which share most of their links."""

    def __init__(self) -> None:
        self._rows: dict[int, Any] = {}
        self._dependents: dict[int, list[int]] = {}

    def rows(self, job_ids: list[int]) -> dict[int, Any]:
        """The live jobs among `job_ids` (deleted and unknown ones left out), in the order of `job_ids`."""
        if missing := [j for j in job_ids if j not in self._rows]:
            self._rows.update(dict.fromkeys(missing))
            self._rows.update((row.id, row) for row in db.session.execute(
                select(Job.id, Job.job_group, Job.job_desc, Job.executor_handler, Job.glue_type, Job.child_job_id)
                .where(Job.id.in_(missing), Job.deleted_at.is_(None))))
        return {j: self._rows[j] for j in job_ids if self._rows[j] is not None}

    def dependents(self, job_ids: list[int]) -> dict[int, list[int]]:
        if missing := [j for j in job_ids if j not in self._dependents]:
            found = _dependents_of(missing)
            self._dependents.update((j, found.get(j, [])) for j in missing)
        return {j: self._dependents[j] for j in job_ids if self._dependents[j]}


def require_may_run_followers(children: list[int], after: int | None = None, links: JobLinks | None = None) -> None:
    """Refuse unless the principal may run every job a run would start after it: `children` (the job's child ids)
    and the dependents of job `after` (None: none, as for a copy, which no job depends on yet), then their children
    and dependents, MAX_CHAIN_DEPTH links down (a cycle walked once, deleted jobs skipped: the worker skips them).
    Each job passes `require_may_run` (403 naming it by id and description); a job on an executor out of reach
    is 404 and is not named: a child by the id its parent's childJobId shows (as a save says it), a dependent
    not at all. A chain of more than RUN_CHAIN_MAX_JOBS jobs: 403. Two queries per link down the chain (fewer with
    `links` that walked other chains); none for the super administrator and outside a request (they may run every
    job)."""
    principal = current_principal()
    if principal is None or principal.is_super_admin:
        return
    links = links or JobLinks()
    reached = executor_ids_of(principal)
    # the next jobs to check -> how they are reached: ("child" | "dependent", the job they follow)
    level: dict[int, tuple[str, int | None]] = {c: ("child", None) for c in children}
    if after is not None:
        for dependent in links.dependents([after]).get(after, []):
            level.setdefault(dependent, ("dependent", after))
    seen: set[int] = set()
    for _ in range(MAX_CHAIN_DEPTH):
        level = {j: how for j, how in level.items() if j not in seen}
        if not level:
            return
        if len(seen) + len(level) > RUN_CHAIN_MAX_JOBS:
            raise Forbidden(gettext("随之执行的任务超过 %(max)d 个，无法逐一确认您有权执行它们",
                                    max=RUN_CHAIN_MAX_JOBS))
        seen |= level.keys()
        rows = links.rows(list(level))
        for job_id, (how, via) in level.items():  # in the order of childJobId, the order a save checks them
            row = rows.get(job_id)
            if row is None:
                continue
            if reached is not None and row.job_group not in reached:
                if how == "child":
                    raise NotFound(gettext("子任务 ID %(id)s 不存在", id=job_id))
                raise NotFound(gettext("任务 #%(id)s 成功后会触发您的执行器范围以外的任务", id=via))
            try:
                require_may_run(row)
            except Forbidden as exc:
                raise Forbidden(gettext("任务 #%(id)s「%(name)s」会随之执行，而您无权执行它：%(reason)s",
                                        id=row.id, name=row.job_desc, reason=exc.msg)) from None
        following: dict[int, tuple[str, int | None]] = {}
        for job_id, row in rows.items():
            for child in _safe_child_ids(row.child_job_id):
                following.setdefault(child, ("child", job_id))
        for parent, dependents in links.dependents(list(rows)).items():
            for dependent in dependents:
                following.setdefault(dependent, ("dependent", parent))
        level = following


def _dependents_of(job_ids: list[int]) -> dict[int, list[int]]:
    """The jobs depending on each of `job_ids` (the worker checks each after a parent's success), in id order."""
    return _dependencies(job_ids, JobDependency.parent_job_id, JobDependency.job_id)


def require_may_set_going(job: Any, *, dependents: bool = True, links: JobLinks | None = None) -> None:
    """The principal may run `job` (a Job or a row with its fields) and all that follows it (run once, start,
    copy: `dependents=False` for a copy, which nothing depends on)."""
    require_may_run(job)
    require_may_run_followers(_safe_child_ids(job.child_job_id), job.id if dependents else None, links)


def set_going_offers(items: list[dict[str, Any]]) -> dict[int, frozenset[str]]:
    """What a job list offers on each of its jobs (`job_item`s): "run" (run once, start) and "copy" where
    `require_may_set_going` lets them through, so that no button is shown whose click would be refused. The
    super administrator is offered everything without a query; anyone else, the chain walks, each job read once."""
    principal = current_principal()
    everything = frozenset({"run", "copy"})
    if principal is None or principal.is_super_admin:
        return {item["id"]: everything for item in items}
    offers: dict[int, frozenset[str]] = {}
    links = JobLinks()
    page_ids = [item["id"] for item in items]
    links.rows(page_ids)  # a page's jobs are mostly each other's links: read them, and what depends on them, at once
    links.dependents(page_ids)
    for item in items:
        job = SimpleNamespace(**item)  # the fields the checks read: id, executor_handler, glue_type, child_job_id
        offers[item["id"]] = frozenset()
        for offer, dependents in ((everything, True), (frozenset({"copy"}), False)):
            try:
                require_may_set_going(job, dependents=dependents, links=links)
            except (Forbidden, NotFound):
                continue
            offers[item["id"]] = offer
            break
    return offers


def _clean_glue_remark(remark: str | None) -> str:
    remark = (remark or "").strip()
    if not remark:
        raise Invalid(gettext("请填写本次修改的备注"), field="glueRemark")
    if len(remark) > GLUE_REMARK_MAX:
        raise Invalid(gettext("备注不能超过 %(n)s 个字符", n=GLUE_REMARK_MAX), field="glueRemark")
    return remark


def _clean_glue_source(source: str | None) -> str:
    source = (source or "").replace("\r\n", "\n")
    if len(source) > GLUE_SOURCE_MAX:
        raise Invalid(gettext("脚本不能超过 %(n)s 个字符", n=GLUE_SOURCE_MAX), field="glueSource")
    if "\x00" in source:
        raise Invalid(gettext("脚本不能含有 NUL 字符"), field="glueSource")
    return source


# difflib's work grows faster than the product of the two line counts (repetitive lines are the worst: 2,000
# lines each cost 0.08 s, 8,000 cost 4 s and 32,767 cost 257 s); beyond this product two sources are only said
# to differ, with their sizes, on every save and on the page that compares versions.
DIFF_LINE_PAIRS_MAX = 2000 * 2000


def glue_diff(old: str, new: str, old_name: str = "before", new_name: str = "after") -> str:
    """A unified diff of two sources (what the operation log keeps, and the page shows), within a budget."""
    before, after = old.splitlines(keepends=True), new.splitlines(keepends=True)
    if len(before) * len(after) > DIFF_LINE_PAIRS_MAX:
        return f"--- {old_name}\n+++ {new_name}\n" + gettext(
            "（脚本太长，不逐行比较：%(before)s 行 → %(after)s 行）", before=len(before), after=len(after)) + "\n"
    return "".join(difflib.unified_diff(before, after, fromfile=old_name, tofile=new_name, lineterm="\n"))


def _add_glue_version(job: Job, source: str, remark: str) -> JobGlueVersion:
    """Make `source` the job's current script and keep it as a new version; the diff from the previous
    source goes into the operation log of this request."""
    before = job.glue_source or ""
    principal_id, principal_name = current_principal_id_name()
    now = utcnow()
    job.glue_source, job.glue_remark, job.glue_updated_at = source, remark, now
    version = JobGlueVersion(job_id=job.id, glue_type=job.glue_type, glue_source=source, glue_remark=remark,
                             updated_by=principal_name, updated_by_id=principal_id, updated_at=now)
    db.session.add(version)
    if has_request_context():
        record_detail({"jobId": job.id, "glueType": job.glue_type, "glueRemark": translated(remark),
                       "diff": glue_diff(before, source, gettext("上一版本"), gettext("本次保存"))})
    return version


def save_glue(job_id: int, source: str | None, remark: str | None) -> JobGlueVersion:
    """POST /api/job/jobcode/save: a new version of a script job's source, with its required remark."""
    job = get_job(job_id)
    require_script_grant(always=True)  # editing code needs the grant, whatever the job's mode
    if not is_script(job.glue_type):
        raise Conflict(gettext("该任务的运行模式是 BEAN，没有脚本可以编辑；请先把运行模式改为 GLUE 脚本"))
    errors = FieldErrors()
    source = errors.run(_clean_glue_source, source)
    remark = errors.run(_clean_glue_remark, remark)
    errors.raise_if_any()
    version = _add_glue_version(job, source or "", remark or "")
    db.session.commit()
    return version


def glue_versions(job_id: int) -> list[JobGlueVersion]:
    """The last GLUE_VERSIONS_LISTED versions of a job's script, newest first: the script grant's, as its source."""
    get_job(job_id)
    require_script_grant(always=True)
    return list(db.session.execute(select(JobGlueVersion).where(JobGlueVersion.job_id == job_id)
                                   .order_by(JobGlueVersion.id.desc()).limit(GLUE_VERSIONS_LISTED)).scalars())


def get_glue_version(version_id: int, job_id: int | None = None) -> JobGlueVersion:
    """One version of a job's script, its source included: the script grant's (else 403, after the 404 of a job
    beyond reach), on every door that reads one (the API's version, the page's diff, a rollback)."""
    version = db.session.get(JobGlueVersion, version_id)
    job = None if version is None else find_job(version.job_id)
    if version is None or job is None or job.deleted_at is not None or job_id not in (None, version.job_id):
        raise NotFound(gettext("脚本版本不存在"))
    require_script_grant(always=True)
    return version


def rollback_glue(job_id: int, version_id: int) -> JobGlueVersion:
    """Make an earlier version current again: a new version with the old source (history never rewritten)."""
    job = get_job(job_id)
    require_script_grant(always=True)
    old = get_glue_version(version_id, job_id)
    if not is_script(job.glue_type):
        raise Conflict(gettext("该任务的运行模式是 BEAN，不能回滚脚本"))
    # stored as said (core.i18n), so that each reader reads it in their language, the quoted remark too
    remark = said(N_("回滚到版本 #%(id)s（%(remark)s）"), id=old.id, remark=old.glue_remark)
    version = _add_glue_version(job, old.glue_source, clipped(remark, GLUE_REMARK_MAX) or "")
    db.session.commit()
    return version


def glue_version_item(version: JobGlueVersion, with_source: bool = False) -> dict[str, Any]:
    item = {"id": version.id, "job_id": version.job_id, "glue_type": version.glue_type,
            "glue_remark": translated(version.glue_remark), "updated_by": version.updated_by,
            "updated_at": version.updated_at}
    if with_source:
        item["glue_source"] = version.glue_source
    return item


def diff_glue_versions(job_id: int, from_id: int, to_id: int) -> dict[str, Any]:
    """Two versions of one job and the unified diff between them, line by line for the page."""
    old, new = get_glue_version(from_id, job_id), get_glue_version(to_id, job_id)
    # a remark the console wrote (GLUE_INIT_REMARK) in the reader's language; an administrator's as typed
    text = glue_diff(old.glue_source, new.glue_source, f"#{old.id} {translated(old.glue_remark)}",
                     f"#{new.id} {translated(new.glue_remark)}")
    return {"from": old, "to": new, "diff": text, "lines": text.splitlines()}


def _clean_glue(data: dict[str, Any], current: Job | None) -> dict[str, Any]:
    """The job's mode and, for a script, the source to keep as a new version (with its remark) if it is the
    script's first source or differs from the current one. Refused without the script grant."""
    glue_type = data.get("glue_type") or (current.glue_type if current else GLUE_BEAN)
    if glue_type not in GLUE_TYPES:
        raise Invalid(gettext("运行模式只能是 %(values)s", values=gettext("、").join(GLUE_TYPES)), field="glueType")
    require_script_grant(glue_type, current.glue_type if current else None)
    given = data.get("glue_source")
    out: dict[str, Any] = {"glue_type": glue_type}
    if not is_script(glue_type):
        if given is not None:
            raise Invalid(gettext("运行模式为 BEAN 的任务没有脚本"), field="glueSource")
        return out
    had = current.glue_source if current is not None else None
    source = _clean_glue_source(given) if given is not None else had if had is not None else glue_template(glue_type)
    if had is None:  # the script's first source: the template unless one is given
        out["glue_source"] = source
        out["glue_remark"] = (data.get("glue_remark") or "").strip()[:GLUE_REMARK_MAX] or GLUE_INIT_REMARK
    elif source != had:
        out["glue_source"] = source
        out["glue_remark"] = _clean_glue_remark(data.get("glue_remark"))
    return out


def _apply_glue(job: Job, glue: dict[str, Any]) -> None:
    """Set the mode; a script's handler column names its mode (what the run rows show)."""
    job.glue_type = glue["glue_type"]
    if is_script(job.glue_type):
        job.executor_handler = job.glue_type
        if "glue_source" in glue:
            _add_glue_version(job, glue["glue_source"], glue["glue_remark"])


def _clean_alarm_email(value: str | None) -> str:
    """The alarm addresses, comma-separated (a Chinese comma too), each an address, as one text."""
    emails = [e.strip() for e in (value or "").replace("，", ",").split(",") if e.strip()]
    if (bad := [e for e in emails if not EMAIL_RE.match(e)]):
        raise Invalid(gettext("报警邮件地址格式不正确：%(value)s", value=bad[0]), field="alarmEmail")
    joined, most = ",".join(emails), limit_of(Job.alarm_email)
    if len(joined) > most:
        raise Invalid(gettext("报警邮件不能超过 %(max)d 个字符", max=most), field="alarmEmail")
    return joined


def _check_schedule(errors: FieldErrors, stype: str, conf: str, tz: str, conf_field: str) -> None:
    """The schedule type, its configuration (a Cron expression, the seconds of a fixed rate) and the zone."""
    type_error = cron.schedule_type_error(stype)
    type_ok = errors.check(not type_error, "scheduleType", type_error or "")
    conf_ok = errors.check(len(conf) <= limit_of(Job.schedule_conf), conf_field,
                           gettext("不能超过 %(max)d 个字符", max=limit_of(Job.schedule_conf)))
    try:
        cron.zone_or_error(tz)
        zone_ok = True
    except cron.CronError as exc:
        zone_ok = errors.check(False, "timezone", str(exc))
    if type_ok and zone_ok and conf_ok and stype != "NONE":
        error = cron.validate_schedule(stype, conf, tz)
        if error and stype == "CRON" and cron.validate_cron(conf):  # malformed; a well-formed one that never fires
            error = gettext("Cron 表达式不正确：%(why)s", why=error)  # (30 February) is said as the helper says it
        errors.check(not error, conf_field, error or "")


def form_problems(values: Mapping[str, Any], job_id: int | None) -> dict[str, list[str]]:
    """The service's checks a page form's own validators do not make (the alarm e-mails, the schedule, the child
    and parent ids), for a form those validators refused: so the page says every wrong field at once, not
    these only after the others are right (the UX review). Reads only: nothing is locked or written."""
    errors = FieldErrors()
    if values.get("alarm_email"):
        errors.run(_clean_alarm_email, values.get("alarm_email"))
    _check_schedule(errors, values.get("schedule_type") or "CRON", (values.get("schedule_conf") or "").strip(),
                    values.get("timezone") or current_app.config["PCLOUD_TIMEZONE"], "scheduleConf")
    children = errors.run(_child_ids, values.get("child_job_id"))
    if children:
        errors.run(_check_children, job_id, children)
    parents = errors.run(parse_job_ids, values.get("parent_job_ids"), "parentJobIds")
    if parents:
        errors.run(_check_parents, job_id, parents)
    return errors.errors


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
    glue_type = data.get("glue_type") or (current.glue_type if current else GLUE_BEAN)
    if merged.get("job_group") is not None:
        write_lock_first()  # the executor shared until the commit: a removal waits for this job, or went first
    if errors.check(merged.get("job_group") is not None, "jobGroup", gettext("请选择执行器")) and errors.check(
            db.session.execute(Executor.live().where(Executor.id == merged["job_group"],
                                                     *executor_scope(Executor.id)).with_for_update(read=True))
            .first() is not None, "jobGroup", gettext("执行器不存在")):
        out["job_group"] = merged["job_group"]
    for key, required, too_long, limit in (
            ("job_desc", N_("请输入任务描述"), N_("任务描述不能超过 %(max)d 个字符"), 255),
            ("author", N_("请输入负责人"), N_("负责人不能超过 %(max)d 个字符"), 64)):
        value = (merged.get(key) or "").strip()
        name = "jobDesc" if key == "job_desc" else key
        if errors.check(bool(value), name, gettext(required)) and errors.check(
                len(value) <= limit, name, gettext(too_long, max=limit)):
            out[key] = value
    if "alarm_email" in merged:
        emails = errors.run(_clean_alarm_email, merged.get("alarm_email"))
        if emails is not None:
            out["alarm_email"] = emails or None
    tz = merged.get("timezone") or current_app.config["PCLOUD_TIMEZONE"]
    stype = merged.get("schedule_type") or "CRON"
    conf = (merged.get("schedule_conf") or "").strip()
    _check_schedule(errors, stype, conf, tz, "jobCron" if data.get("job_cron") is not None else "scheduleConf")
    out.update(schedule_type=stype, schedule_conf=conf or None, timezone=tz)
    for key, allowed, field in (("misfire_strategy", MISFIRE_STRATEGIES, "misfireStrategy"),
                                ("executor_route_strategy", ROUTE_STRATEGIES, "executorRouteStrategy"),
                                ("executor_block_strategy", BLOCK_STRATEGIES, "executorBlockStrategy")):
        if merged.get(key) is not None and errors.check(
                merged[key] in allowed, field, gettext("取值必须是其中之一：%(values)s", values=", ".join(allowed))):
            out[key] = merged[key]
    handler = (merged.get("executor_handler") or "").strip()
    if is_script(glue_type):
        out["executor_handler"] = glue_type  # no registered handler: the worker runs the job's script
    elif errors.check(bool(handler), "executorHandler", gettext("请选择 JobHandler")) and errors.check(
            get_handler(handler) is not None, "executorHandler", gettext("JobHandler「%(name)s」未注册", name=handler)):
        out["executor_handler"] = handler
    if "executor_param" in merged:
        refusal = _param_refusal(merged.get("executor_param")) or retention_refusal(
            out.get("executor_handler", ""), merged.get("executor_param"))
        if errors.check(not refusal, "executorParam", refusal or ""):
            out["executor_param"] = merged.get("executor_param") or None
    for key, field, hi in (("executor_timeout", "executorTimeout", 86400 * 7),
                           ("executor_fail_retry_count", "executorFailRetryCount", 100)):
        if merged.get(key) is not None:
            value = merged[key]
            if errors.check(isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= hi, field,
                            gettext("须为 0 到 %(max)s 之间的整数", max=hi)):
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
    if not errors and current is not None and set(parents or ()) - set(parents_of([current.id]).get(current.id, [])):
        # a new parent runs this job, and all that follows it: its children (checked above when given) and dependents
        errors.run(_require_may_link, [] if children is not None else _safe_child_ids(current.child_job_id), current.id)
    errors.raise_if_any()
    return out


def _param_refusal(param: str | None) -> str | None:
    if param is not None and len(param) > EXECUTOR_PARAM_MAX:
        return gettext("任务参数不能超过 %(max)d 个字符", max=EXECUTOR_PARAM_MAX)
    return None


def _next_ms(job: Job, after: datetime | None = None) -> int:
    moment = cron.next_fire_time(job.schedule_type, job.schedule_conf, job.timezone,
                                 after or utcnow().replace(tzinfo=UTC))
    return cron.to_epoch_ms(moment) if moment else 0


def create_job(data: dict[str, Any]) -> Job:
    require_maintenance_grant(data.get("executor_handler"))
    glue = _clean_glue(data, None)
    clean = _clean_job(data, None)
    parents = clean.pop("parent_job_ids", None)
    job = Job(**clean)
    db.session.add(job)
    db.session.flush()
    _apply_glue(job, glue)
    if parents:
        _set_parents(job, parents)
    if data.get("trigger_status") == 1:
        _start(job)
    db.session.commit()
    return job


def modify_job(data: dict[str, Any]) -> Job:
    if data.get("parent_job_ids") or data.get("child_job_id"):
        # the links' lock before the job's row, the order every link edit takes them in: two edits linking
        # two jobs both ways queue (one is refused as a loop) instead of deadlocking
        _serialise_child_links()
    job = _locked_job(data["id"])
    require_maintenance_grant(job.executor_handler, data.get("executor_handler"))
    glue = _clean_glue(data, job)
    before = (job.schedule_type, job.schedule_conf, job.timezone)
    clean = _clean_job(data, job)
    parents = clean.pop("parent_job_ids", None)
    for key, value in clean.items():
        setattr(job, key, value)
    _apply_glue(job, glue)
    if parents is not None:
        _set_parents(job, parents)
    if job.trigger_status == 1 and before != (job.schedule_type, job.schedule_conf, job.timezone):
        _start(job)
    db.session.commit()
    return job


def remove_job(job_id: int) -> Job:
    job = _locked_job(job_id)
    job.trigger_status, job.trigger_next_time = 0, 0
    job.soft_delete()
    db.session.commit()
    return job


def _start(job: Job) -> None:
    """Put the job on its schedule: each fire runs it and all that follows it, so the caller must be allowed to."""
    require_may_set_going(job)
    if job.schedule_type == "NONE":
        raise Conflict(gettext("调度类型为 NONE 的任务只能手动执行，不能启动"))
    next_ms = _next_ms(job)
    if not next_ms:
        raise Conflict(gettext("该任务的调度以后不会再触发，不能启动"))
    job.trigger_status, job.trigger_next_time = 1, next_ms


def start_job(job_id: int) -> Job:
    job = _locked_job(job_id)
    _start(job)
    db.session.commit()
    return job


def stop_job(job_id: int) -> Job:
    job = _locked_job(job_id)
    job.trigger_status, job.trigger_next_time = 0, 0
    db.session.commit()
    return job


def copy_job(job_id: int) -> Job:
    job = _locked_job(job_id)
    require_may_set_going(job, dependents=False)  # the copy runs what the job runs, children included
    columns = ("job_group", "author", "alarm_email", "schedule_type", "schedule_conf", "timezone",
               "misfire_strategy", "executor_route_strategy", "executor_handler", "executor_param",
               "executor_block_strategy", "executor_timeout", "executor_fail_retry_count", "child_job_id",
               "glue_type")
    suffix = gettext(COPY_SUFFIX)
    copy = Job(**{c: getattr(job, c) for c in columns}, job_desc=(job.job_desc[:255 - len(suffix)] + suffix),
               trigger_status=0, trigger_next_time=0, trigger_last_time=0)
    db.session.add(copy)
    if is_script(job.glue_type):
        db.session.flush()
        _add_glue_version(copy, job.glue_source or "", said(N_("复制自任务 #%(id)s"), id=job.id))
    db.session.commit()
    return copy


def trigger_job(job_id: int, executor_param: str | None = None, address_list: str | None = None) -> list[JobRun]:
    """Run once now: PENDING MANUAL run rows for the worker (one per node for SHARDING_BROADCAST).

    `address_list` (comma-separated node names) chooses the nodes; other strategies run on the first one.
    Without it the worker routes the run (SHARDING_BROADCAST: one run per live node now).
    """
    job = _locked_job(job_id)
    require_may_set_going(job)  # the job, then its children and dependents as far as its success starts them
    refusal = _param_refusal(executor_param) or retention_refusal(job.executor_handler, executor_param)
    if executor_param is not None and refusal:
        raise Invalid(refusal, field="executorParam")
    executor = get_executor(job.job_group)
    nodes = [a.strip() for a in (address_list or "").split(",") if a.strip()]
    for node in nodes:
        if not NODE_NAME_RE.match(node):
            raise Invalid(gettext("节点名格式不正确：%(name)s", name=node), field="addressList")
    addresses = executor_addresses(executor)
    for node in nodes:  # a node of the job's own executor only: another executor's node would run it
        if node not in addresses:
            raise Invalid(gettext("节点 %(name)s 不是执行器「%(title)s」的节点（可选：%(nodes)s）", name=node,
                                  title=translated(executor.title), nodes=", ".join(addresses) or gettext("无")),
                          field="addressList")
    if job.executor_route_strategy == "SHARDING_BROADCAST":
        targets: list[str | None] = list(nodes or addresses) or [None]
    else:
        targets = [nodes[0] if nodes else None]
    now = utcnow()
    param = job.executor_param if executor_param is None else executor_param
    runs = [JobRun(job_group=job.job_group, job_id=job.id, trigger_type="MANUAL", schedule_time=now,
                   shard_index=i, shard_total=len(targets) if len(targets) > 1 else 1,
                   executor_address=node, executor_handler=job.executor_handler, executor_param=param or None,
                   executor_fail_retry_count=job.executor_fail_retry_count, trigger_time=now,
                   trigger_code=0, trigger_msg=N_("手动触发"), handle_code=HANDLE_RUNNING, status=RUN_PENDING)
            for i, node in enumerate(targets)]
    db.session.add_all(runs)
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same job triggered by hand at the same instant by someone else
        db.session.rollback()
        raise Conflict(gettext("同一时刻已触发过该任务，请稍后再试")) from exc
    return runs


def job_nodes(job_id: int) -> list[dict[str, Any]]:
    executor = get_executor(get_job(job_id).job_group)
    return [{"address": n.address or n.name, "name": n.name, "registry_time": n.heartbeat_at}
            for n in live_nodes(executor.appname)]


def job_next_times(job: Job, n: int = 5) -> list[str]:
    """A job's next fire times (its 下次执行时间 page): a started job's from its planned next fire, the list's 下次触发,
    so that a fixed rate keeps the phase it fires on (a planned fire already past, the worker having been down: the
    next ones of that phase from now); a stopped job's from now, as starting it would plan them."""
    planned = job.trigger_next_time if job.trigger_status == 1 else 0
    if not planned or job.schedule_type != "FIX_RATE":
        return next_trigger_times(job.schedule_type, job.schedule_conf, job.timezone, n)
    first = datetime.fromtimestamp(planned / 1000, UTC)
    now = utcnow().replace(tzinfo=UTC)
    if first < now and (rate := cron.fix_rate_seconds(job.schedule_conf)):
        first += timedelta(seconds=rate * -(-(now - first).total_seconds() // rate))
    return next_trigger_times(job.schedule_type, job.schedule_conf, job.timezone, n, first)


def next_trigger_times(schedule_type: str, conf: str | None, tz: str | None, n: int = 5,
                       first: datetime | None = None) -> list[str]:
    """The next fire times as local ISO times to the second in the job's own zone (what the cron is written in): a
    fixed rate counts from now, whose microseconds are no part of a time shown (docs/UX.md, yyyy-MM-dd HH:mm:ss), or
    from `first` (aware), the first of them."""
    tz = tz or current_app.config["PCLOUD_TIMEZONE"]
    try:
        zone = cron.zone_or_error(tz)
    except cron.CronError as exc:  # the zone's own field, as a save names it
        raise Invalid(str(exc), field="timezone") from None
    error = cron.validate_schedule(schedule_type, conf, tz)
    if error:
        raise Invalid(error, field="scheduleConf")
    if first is None:
        times = cron.next_fire_times(schedule_type, conf, tz, utcnow().replace(tzinfo=UTC), n)
    else:
        times = [first, *cron.next_fire_times(schedule_type, conf, tz, first, n - 1)]
    return [t.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds") for t in times]


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
    # another team's jobs are not drawn (issue 23, 1): their edges go with them
    jobs = {j.id: j for j in db.session.execute(Job.live().where(
        Job.id.in_(found), *executor_scope(Job.job_group))).scalars()}
    if len(jobs) > GRAPH_MAX_NODES:  # keep the job and its nearest ids; the rest is left out
        keep = sorted(jobs, key=lambda i: (i != job_id, abs(i - job_id)))[:GRAPH_MAX_NODES]
        jobs = {i: jobs[i] for i in keep}
    newest = select(JobRun.id).where(JobRun.job_id == Job.id).order_by(JobRun.trigger_time.desc(), JobRun.id.desc())
    last_ids = [i for i in db.session.execute(
        select(newest.limit(1).scalar_subquery()).where(Job.id.in_(list(jobs)))).scalars() if i]
    last = {r.job_id: r for r in db.session.execute(select(JobRun).where(JobRun.id.in_(last_ids))).scalars()}
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


def get_run(run_id: int) -> JobRun:
    run = db.session.get(JobRun, run_id)
    if run is None or not may_reach_executor(run.job_group):
        raise NotFound(gettext("调度日志不存在"))
    return run


def run_state(run: JobRun) -> str:
    if run.handle_code == HANDLE_SUCCESS:
        return "success"
    if run.handle_code == HANDLE_RUNNING:
        return "pending" if run.status == RUN_PENDING else "running"
    return "fail"


def run_item(run: JobRun, descs: dict[int, str] | None = None) -> dict[str, Any]:
    return {
        "id": run.id, "job_group": run.job_group, "job_id": run.job_id, "job_desc": (descs or {}).get(run.job_id),
        "trigger_type": run.trigger_type, "schedule_time": run.schedule_time,
        "executor_address": run.executor_address, "executor_handler": run.executor_handler,
        "executor_param": run.executor_param, "executor_sharding_param": run.executor_sharding_param,
        "executor_fail_retry_count": run.executor_fail_retry_count, "trigger_time": run.trigger_time,
        # what the worker stored (a source string and its values, core.i18n.said) in the reader's language
        "trigger_code": run.trigger_code, "trigger_msg": translated(run.trigger_msg), "handle_time": run.handle_time,
        "handle_code": run.handle_code, "handle_msg": translated(run.handle_msg), "alarm_status": run.alarm_status,
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
            raise Invalid(gettext("开始时间不能晚于结束时间"), field="filterTime")
        return start, end
    parts = value if isinstance(value, list | tuple) else str(value).split(" - ")
    if len(parts) != 2:
        raise Invalid(gettext("时间范围应为 [开始, 结束]"), field="filterTime")
    try:
        start, end = (parse_to_utc(str(p).strip().replace(" ", "T", 1)) if p else None for p in parts)
    except OutOfRange as exc:
        raise Invalid(str(exc), field="filterTime") from None
    except ValueError:
        raise Invalid(gettext("时间格式不正确，应为 2021-02-15T18:49:43"), field="filterTime") from None
    if start and end and start > end:
        raise Invalid(gettext("开始时间不能晚于结束时间"), field="filterTime")
    return start, end


def run_filtered_select(filters: dict[str, Any]) -> Any:
    stmt = select(JobRun).where(*executor_scope(JobRun.job_group))
    if filters.get("job_id"):
        stmt = stmt.where(JobRun.job_id == filters["job_id"])
    elif filters.get("job_group"):
        stmt = stmt.where(JobRun.job_group == filters["job_group"])
    status = filters.get("log_status")
    if status == 1:
        stmt = stmt.where(JobRun.handle_code == HANDLE_SUCCESS)
    elif status == 2:
        stmt = stmt.where(JobRun.handle_code >= 500)
    elif status == 3:
        stmt = stmt.where(JobRun.handle_code == HANDLE_RUNNING)
    start, end = _parse_filter_time(filters.get("filter_time"))
    if start:
        stmt = stmt.where(JobRun.trigger_time >= start)
    if end:
        stmt = stmt.where(JobRun.trigger_time <= end)
    return stmt


def page_runs(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    result = paginate(run_filtered_select(filters).order_by(JobRun.trigger_time.desc(), JobRun.id.desc()),
                      page, page_size)
    job_ids = {r.job_id for r in result.items}
    descs = dict(db.session.execute(select(Job.id, Job.job_desc).where(Job.id.in_(job_ids))).all()) if job_ids else {}
    result.items = [run_item(r, descs) for r in result.items]
    return result


def run_output(run_id: int, from_line: int) -> dict[str, Any]:
    """Output lines from `from_line` (1-based) on, at most DETAIL_MAX_LINES; the client asks again from
    `toLineNum + 1` until `isEnd`."""
    run = get_run(run_id)
    from_line = max(1, from_line)
    rows = db.session.execute(
        select(JobRunLine.line_no, JobRunLine.content)
        .where(JobRunLine.log_id == run_id, JobRunLine.line_no >= from_line)
        .order_by(JobRunLine.line_no).limit(DETAIL_MAX_LINES)).all()
    to_line = rows[-1][0] if rows else from_line - 1
    is_end = run.status == RUN_DONE and to_line >= run.line_count
    return {"from_line_num": from_line, "to_line_num": to_line,
            "log_content": "\n".join(content for _, content in rows), "is_end": is_end}


def _retry_killed(run: JobRun) -> None:
    """A killed run with retries left runs again (RETRY), as XXL-JOB retries every failed run, a killed one
    included; the worker does the same for a run killed while running (runtime._follow_up)."""
    if run.executor_fail_retry_count <= 0:
        return
    now = utcnow()
    db.session.add(JobRun(
        job_group=run.job_group, job_id=run.job_id, trigger_type="RETRY", schedule_time=now,
        shard_index=run.shard_index, shard_total=run.shard_total, executor_address=None,
        executor_handler=run.executor_handler, executor_param=run.executor_param,
        executor_fail_retry_count=run.executor_fail_retry_count - 1, trigger_time=now, trigger_code=0,
        trigger_msg=N_("失败重试（上次运行被终止）"), handle_code=HANDLE_RUNNING, status=RUN_PENDING,
        parent_log_id=run.id))


def kill_run(run_id: int) -> JobRun:
    run = get_run(run_id)
    if run.status == RUN_DONE:
        raise Conflict(gettext("该任务已结束，无需终止"))
    if run.status == RUN_PENDING:
        # not picked up yet: finish it here, unless a node claims it at this very moment
        done = db.session.execute(update(JobRun).where(JobRun.id == run.id, JobRun.status == RUN_PENDING).values(
            status=RUN_DONE, handle_code=HANDLE_KILLED, handle_time=utcnow(),
            handle_msg=N_("人工终止（尚未开始执行）")))
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


def clear_runs(executor_id: int | None, job_id: int | None, clear_type: int) -> int:
    """Delete finished runs (and their output) by one of the nine clean types; running runs stay."""
    if clear_type not in CLEAR_TYPES:
        raise Invalid(gettext("清理类型必须是 1 到 9"), field="type")
    if job_id:
        job = find_job(job_id)
        if job is None or not may_reach_executor(job.job_group):
            raise NotFound(gettext("任务不存在"))
    if executor_id and (db.session.get(Executor, executor_id) is None or not may_reach_executor(executor_id)):
        # one that never was, as an unknown job: 404, not "0 deleted" (a deleted one's runs may still be cleared)
        raise NotFound(gettext("执行器不存在"))
    scope = [JobRun.status == RUN_DONE, *executor_scope(JobRun.job_group)]
    if job_id:
        scope.append(JobRun.job_id == job_id)
    if executor_id:  # with a job too: both, as the list's filters (another executor's job: nothing)
        scope.append(JobRun.job_group == executor_id)
    if clear_type in _CLEAR_MONTHS:
        scope.append(JobRun.trigger_time < _months_ago(_CLEAR_MONTHS[clear_type]))
    elif clear_type in _CLEAR_KEEP:
        # the newest N of the scope count whatever their state; only finished ones older than them go
        boundary = db.session.execute(select(JobRun.id).where(*scope[1:]).order_by(JobRun.id.desc())
                                      .offset(_CLEAR_KEEP[clear_type] - 1).limit(1)).scalar_one_or_none()
        if boundary is None:
            return 0
        scope.append(JobRun.id < boundary)
    return _delete_runs(*scope)


def delete_runs_before(cutoff: datetime, batch: int = 5000) -> int:
    """Delete finished runs triggered before `cutoff` (naive UTC) with their output; returns the count."""
    return _delete_runs(JobRun.trigger_time < cutoff, JobRun.status == RUN_DONE, batch=batch)


def _delete_runs(*conditions: Any, batch: int = 5000) -> int:
    """Delete the runs matching `conditions` with their output, in committed batches (a large clean never
    holds one long transaction); the report is rebuilt from what is left. Returns the count."""
    removed = 0
    while True:
        ids = list(db.session.execute(select(JobRun.id).where(*conditions).order_by(JobRun.id).limit(batch))
                   .scalars())
        if not ids:
            break
        db.session.execute(delete(JobRunLine).where(JobRunLine.log_id.in_(ids)))
        db.session.execute(delete(JobRun).where(JobRun.id.in_(ids)))
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
        func.coalesce(func.sum(case((JobRun.handle_code == HANDLE_RUNNING, 1), else_=0)), 0),
        func.coalesce(func.sum(case((JobRun.handle_code == HANDLE_SUCCESS, 1), else_=0)), 0),
        func.coalesce(func.sum(case((JobRun.handle_code >= 500, 1), else_=0)), 0),
    ).where(JobRun.trigger_time >= start, JobRun.trigger_time < end)).one()
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
            raise Invalid(gettext("日期须在 %(first)s 至 %(last)s 之间", first=CHART_FIRST_DAY, last=CHART_LAST_DAY),
                          field=name)
    end = end or today
    start = start or end - timedelta(days=6)
    if start > end:
        raise Invalid(gettext("开始日期不能晚于结束日期"), field="startDate")
    if (end - start).days >= CHART_MAX_DAYS:
        raise Invalid(gettext("日期范围不能超过 %(n)s 天", n=CHART_MAX_DAYS), field="endDate")
    visible = visible_executor_ids()
    rows = _ensure_report(start, end) if visible is None else _visible_report(start, min(end, today), visible)
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


def _visible_report(start: date, end: date, executor_ids: frozenset[int]) -> dict[date, JobReport]:
    """The report's rows for [start, end] counted over the runs of these executors only (a principal limited to
    some executors: the kept report counts everyone's). One statement: each run's local day is the index of
    the first day end it lies before."""
    days = []
    day = start
    while day <= end:
        days.append(day)
        day += timedelta(days=1)
    if not days or not executor_ids:
        return {}
    ends = [local_day_bounds_utc(d)[1] for d in days]
    first = local_day_bounds_utc(days[0])[0]
    index = case(*[(JobRun.trigger_time < bound, i) for i, bound in enumerate(ends)], else_=-1)
    rows = db.session.execute(select(
        index,
        func.sum(case((JobRun.handle_code == HANDLE_RUNNING, 1), else_=0)),
        func.sum(case((JobRun.handle_code == HANDLE_SUCCESS, 1), else_=0)),
        func.sum(case((JobRun.handle_code >= 500, 1), else_=0)),
    ).where(JobRun.job_group.in_(sorted(executor_ids)), JobRun.trigger_time >= first, JobRun.trigger_time < ends[-1])
        .group_by(index)).all()
    return {days[i]: JobReport(trigger_day=days[i], running_count=int(r), suc_count=int(ok), fail_count=int(bad))
            for i, r, ok, bad in rows if i >= 0}


def statistics() -> dict[str, int]:
    """jobInfoCount (live jobs), jobLogCount / jobLogSuccessCount (all runs kept, from the report),
    executorCount (live worker nodes, as XXL-JOB counts executor machines). A principal limited to some executors
    counts their jobs, runs and nodes only."""
    visible = visible_executor_ids()
    if visible is not None:
        return _visible_statistics(visible)
    first = db.session.execute(select(func.min(JobRun.trigger_time))).scalar()
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


def _visible_statistics(executor_ids: frozenset[int]) -> dict[str, int]:
    ids = sorted(executor_ids)
    since = utcnow() - timedelta(seconds=NODE_DEAD_SECONDS)
    runs, succeeded = db.session.execute(select(
        func.count(), func.coalesce(func.sum(case((JobRun.handle_code == HANDLE_SUCCESS, 1), else_=0)), 0))
        .where(JobRun.job_group.in_(ids))).one()
    appnames = select(Executor.appname).where(Executor.id.in_(ids), Executor.deleted_at.is_(None))
    return {
        "job_info_count": db.session.execute(select(func.count()).select_from(Job).where(
            Job.deleted_at.is_(None), Job.job_group.in_(ids))).scalar_one(),
        "job_log_count": int(runs), "job_log_success_count": int(succeeded),
        "executor_count": db.session.execute(select(func.count()).select_from(JobRegistry).where(
            JobRegistry.heartbeat_at >= since, JobRegistry.appname.in_(appnames))).scalar_one(),
    }


def visible_runs_where() -> list[ColumnElement[bool]]:
    """WHERE terms for a count of runs the principal may see (the home page's and the dashboard API's job runs)."""
    return executor_scope(JobRun.job_group)


# ---------------------------------------------------------------- export / import (issue 23, 4)
# The file names executors by appname and jobs by (appname, jobDesc), never by id, so it moves between
# installations. A job carries every column a job has (camelCase), so columns other modules add (a script's
# glueType / glueSource) travel without a change here; data kept beside a job (a script's versions) plugs in
# through TRANSFER_EXTRAS. An import goes through the same rules as a save (`_clean_job`, `_clean_executor`),
# is all or nothing, and leaves every imported job stopped.

TRANSFER_FORMAT = "pcloud-jobs"
TRANSFER_VERSION = 1
TRANSFER_MAX_BYTES = 1024 * 1024  # below the request cap (MAX_CONTENT_LENGTH), so a bigger file is a 422 naming it
TRANSFER_MAX_EXECUTORS = 200
TRANSFER_MAX_JOBS = 1000
ON_CONFLICT = ("skip", "overwrite", "fail")
# what a job's row holds that the file never carries: ids, schedule state and audit (they belong to the place)
_NOT_TRANSFERRED = {"id", "job_group", "child_job_id", "trigger_status", "trigger_last_time", "trigger_next_time",
                    "alarm_at", "deleted_at", "gmt_created_date", "gmt_created_id", "gmt_created_name",
                    "gmt_modified_date", "gmt_modified_name"}
_EXECUTOR_FIELDS = {"appname": "appname", "title": "title", "addressType": "address_type",
                    "addressList": "address_list"}


class TransferExtra:
    """Data kept beside a job that travels with it under `key`: `dump(jobs)` -> {job id: value} for the jobs
    exported (one query for them all), `load(job, value)` after the job is written (raise a domain error to refuse)."""

    def __init__(self, key: str, dump: Any, load: Any) -> None:
        self.key, self.dump, self.load = key, dump, load


TRANSFER_EXTRAS: dict[str, TransferExtra] = {}


def _job_columns() -> dict[str, str]:
    """camelCase key in the file -> job column, for every column the file carries."""
    return {camelcase(c.name): c.name for c in Job.__table__.columns if c.name not in _NOT_TRANSFERRED}


def _wire_type(column: str) -> type:
    """What a column's value is in the file: str, int or bool (a date or time column travels as text)."""
    python_type = Job.__table__.columns[column].type.python_type
    return python_type if python_type in (int, bool) else str


def _wire(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _require_named_once(jobs: list[Job], executors: dict[int, Executor]) -> None:
    """A file names a job by its executor and description: two jobs so named alike would not import back (a
    review's export of a double-clicked job was refused by its own import), so such an export is refused."""
    seen: set[tuple[int, str]] = set()
    for job in jobs:
        key = (job.job_group, (job.job_desc or "").strip())
        if key in seen:
            raise Invalid(gettext("执行器 %(appname)s 下有多个名为「%(desc)s」的任务："
                                  "导出文件按执行器和任务描述识别任务，请先改名再导出",
                                  appname=executors[job.job_group].appname, desc=key[1]), field="ids")
        seen.add(key)


def export_jobs(executor_id: int | None = None, ids: list[int] | None = None) -> dict[str, Any]:
    """The transfer file of the chosen jobs (ids; else every job of `job_group`; else every job one may see)
    and their executors. An id one may not see is 404, as everywhere."""
    stmt = Job.live().where(*executor_scope(Job.job_group))
    if executor_id:
        get_executor(executor_id)
        stmt = stmt.where(Job.job_group == executor_id)
    if ids:
        wanted = sorted(set(ids))
        stmt = stmt.where(Job.id.in_(wanted))
    # counted before any is read: more jobs than an import takes never import back (a review's large export
    # built the whole file before its size was refused)
    if db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one() > TRANSFER_MAX_JOBS:
        raise Invalid(gettext("一次最多导出 %(n)s 个任务（导入能接受的上限）：请少选一些，分几次导出",
                              n=TRANSFER_MAX_JOBS), field="ids")
    jobs = list(db.session.execute(stmt.order_by(Job.job_group, Job.id)).scalars())
    if ids:
        missing = sorted(set(ids) - {j.id for j in jobs})
        if missing:
            raise NotFound(gettext("任务不存在：%(id)s", id=missing[0]))
    # the file carries a script's source: the script grant's. Said with the job, for an 导出全部 of many
    if (script := next((j for j in jobs if is_script(j.glue_type)), None)) is not None and not may_edit_scripts():
        raise Forbidden(gettext("任务 #%(id)s「%(desc)s」是脚本任务，导出文件会带上它的脚本，"
                                "只有拥有「脚本任务」权限的用户可以导出；请只选择其他任务导出",
                                id=script.id, desc=script.job_desc))
    _require_transferable(sum(len(j.glue_source or "") for j in jobs))
    group_ids = sorted({j.job_group for j in jobs} | ({executor_id} if executor_id else set()))
    executors = {e.id: e for e in db.session.execute(select(Executor).where(Executor.id.in_(group_ids))).scalars()}
    _require_named_once(jobs, executors)
    child_ids = {c for j in jobs for c in _child_ids(j.child_job_id)}
    children = {row.id: {"appname": row.appname, "jobDesc": row.job_desc} for row in db.session.execute(
        select(Job.id, Job.job_desc, Executor.appname).join(Executor, Executor.id == Job.job_group)
        .where(Job.id.in_(child_ids), Job.deleted_at.is_(None), *executor_scope(Job.job_group)))} \
        if child_ids else {}
    parents = parents_of([j.id for j in jobs])
    parent_ids = {p for ps in parents.values() for p in ps}
    # a parent travels as {appname, jobDesc} like a child job, so it re-links in another database; one the
    # exporter may not see is left out, as a child is (its name is not theirs to read)
    parent_refs = {row.id: {"appname": row.appname, "jobDesc": row.job_desc} for row in db.session.execute(
        select(Job.id, Job.job_desc, Executor.appname).join(Executor, Executor.id == Job.job_group)
        .where(Job.id.in_(parent_ids), Job.deleted_at.is_(None), *executor_scope(Job.job_group)))} \
        if parent_ids else {}
    extras = {key: extra.dump(jobs) for key, extra in TRANSFER_EXTRAS.items()}
    columns = _job_columns()
    items = []
    size = 0
    for job in jobs:
        item = {"appname": executors[job.job_group].appname,
                **{key: _wire(getattr(job, column)) for key, column in columns.items()},
                "childJobs": [children[c] for c in _child_ids(job.child_job_id) if c in children],
                "parentJobs": [parent_refs[p] for p in parents.get(job.id, []) if p in parent_refs]}
        for key, values in extras.items():
            if job.id in values:
                item[key] = values[job.id]
        size += len(_transfer_text(item).encode())  # less than it takes in the file: a refusal is always right
        _require_transferable(size)
        items.append(item)
    doc = {"format": TRANSFER_FORMAT, "version": TRANSFER_VERSION,
           "exportedAt": utcnow().replace(microsecond=0).isoformat() + "Z",
           "executors": [{key: getattr(executors[g], column) for key, column in _EXECUTOR_FIELDS.items()}
                         for g in group_ids if g in executors],
           "jobs": items}
    _require_transferable(len(_transfer_text(doc).encode()))
    return doc


def _require_transferable(size: int) -> None:
    """An export is at most what an import takes (TRANSFER_MAX_BYTES), so every file exported imports back, and
    what an export builds stays bounded (a review's export of script versions was far past it, and that file's
    import refused it). Checked as the file grows: the scripts, their versions, then the whole."""
    if size > TRANSFER_MAX_BYTES:
        raise Invalid(gettext("导出文件会超过 %(n)s KiB（导入能接受的上限）：请少选一些任务，分几次导出",
                              n=TRANSFER_MAX_BYTES // 1024), field="ids")


def _transfer_text(doc: dict[str, Any]) -> str:
    import json

    return json.dumps(doc, ensure_ascii=False, indent=2)


def transfer_file_response(doc: dict[str, Any]) -> Any:
    """The export as a downloaded file, named after its executor when there is one."""
    from flask import Response

    appnames = [e["appname"] for e in doc["executors"]]
    name = f"pcloud-jobs-{appnames[0] if len(appnames) == 1 else 'all'}-{local_today().isoformat()}.json"
    resp = Response(_transfer_text(doc), mimetype="application/json")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


def parse_transfer(raw: bytes) -> dict[str, Any]:
    """The file's JSON, its shape checked (sizes, types, required keys); 422 naming what is wrong."""
    import json

    if len(raw) > TRANSFER_MAX_BYTES:
        raise Invalid(gettext("文件不能超过 %(n)s KiB", n=TRANSFER_MAX_BYTES // 1024), field="file")
    try:
        doc = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise Invalid(gettext("文件不是有效的 JSON"), field="file") from None
    except RecursionError:  # deeper than the parser's stack; the request bodies' depth rule says the same
        raise Invalid(gettext("JSON 嵌套过深"), field="file") from None
    if bad_json(doc):  # the rule every JSON request body obeys (core.security): at most 64 levels
        raise Invalid(gettext("JSON 嵌套过深或包含无法识别的字符"), field="file")
    if not isinstance(doc, dict) or doc.get("format") != TRANSFER_FORMAT:
        raise Invalid(gettext("不是任务导出文件（format 应为 %(format)s）", format=TRANSFER_FORMAT), field="file")
    if doc.get("version") != TRANSFER_VERSION:
        raise Invalid(gettext("不支持的文件版本：%(version)s", version=repr(doc.get("version"))), field="file")
    executors, jobs = doc.get("executors", []), doc.get("jobs", [])
    if not isinstance(executors, list) or not all(isinstance(e, dict) for e in executors):
        raise Invalid(gettext("executors 应为对象列表"), field="file")
    if not isinstance(jobs, list) or not all(isinstance(j, dict) for j in jobs):
        raise Invalid(gettext("jobs 应为对象列表"), field="file")
    if len(executors) > TRANSFER_MAX_EXECUTORS or len(jobs) > TRANSFER_MAX_JOBS:
        raise Invalid(gettext("一个文件最多 %(executors)s 个执行器、%(jobs)s 个任务", executors=TRANSFER_MAX_EXECUTORS,
                              jobs=TRANSFER_MAX_JOBS), field="file")
    for e in executors:
        unknown = sorted(set(e) - set(_EXECUTOR_FIELDS))
        if unknown or not isinstance(e.get("appname"), str):
            raise Invalid(gettext("执行器条目不正确：%(key)s", key=unknown[0] if unknown else "appname"), field="file")
        if not all(e.get(k) is None or isinstance(e[k], str) for k in ("title", "addressList")) or not (
                e.get("addressType") is None or type(e["addressType"]) is int):
            raise Invalid(gettext("执行器 %(appname)s 的字段类型不正确", appname=e["appname"]), field="file")
    columns = _job_columns()
    allowed = set(columns) | {"appname", "childJobs", "parentJobs"} | set(TRANSFER_EXTRAS)
    for j in jobs:
        unknown = sorted(set(j) - allowed)
        if unknown:
            raise Invalid(gettext("任务条目含未知字段：%(key)s", key=unknown[0]), field="file")
        for key, column in columns.items():
            value, wanted = j.get(key), _wire_type(column)
            if value is not None and (not isinstance(value, wanted) or (wanted is int and isinstance(value, bool))):
                raise Invalid(gettext("任务「%(name)s」的 %(key)s 类型不正确", name=j.get("jobDesc"), key=key),
                              field="file")
        if not isinstance(j.get("appname"), str) or not isinstance(j.get("jobDesc"), str):
            raise Invalid(gettext("每个任务都要有 appname 和 jobDesc"), field="file")
        for links, most in (("childJobs", CHILD_JOBS_MAX), ("parentJobs", PARENTS_MAX)):
            refs = j.get(links, [])
            if not isinstance(refs, list) or not all(isinstance(r, dict) and isinstance(r.get("appname"), str)
                                                     and isinstance(r.get("jobDesc"), str) for r in refs):
                raise Invalid(gettext("%(links)s 应为 {appname, jobDesc} 列表", links=links), field="file")
            if len(refs) > most:  # as a save: at most 64 parents, and the child ids the column holds
                raise Invalid(gettext("任务「%(name)s」的 %(links)s 最多 %(n)s 个", name=j["jobDesc"], links=links,
                                      n=most), field="file")
            j[links] = [{"appname": a, "jobDesc": d} for a, d in dict.fromkeys(
                (r["appname"].strip(), r["jobDesc"].strip()) for r in refs)]
    return {"executors": executors, "jobs": jobs}


EXECUTOR_SAVE_ENDPOINT = "jobs_api.executor_save"
EXECUTOR_UPDATE_ENDPOINT = "jobs_api.executor_update"  # PUT, or POST as the original front end calls it


def _problem(kind: str, appname: str, job_desc: str | None, exc: PCloudError) -> list[dict[str, Any]]:
    fields_ = exc.errors or {None: [exc.msg]}
    return [{"kind": kind, "appname": appname, "job_desc": job_desc, "field": field, "message": msg}
            for field, msgs in fields_.items() for msg in (msgs if isinstance(msgs, list) else [msgs])]


def import_jobs(doc: dict[str, Any], *, dry_run: bool = False, on_conflict: str = "fail") -> dict[str, Any]:
    """Write the file's executors and jobs, all or nothing (any error: nothing written; a dry run: nothing
    either), every imported job stopped. Returns {executors, jobs: {created, updated, skipped}, conflicts,
    errors, imported}. A principal limited to some executors imports into those only."""
    if on_conflict not in ON_CONFLICT:
        raise Invalid(gettext("onConflict 只能是 skip、overwrite 或 fail"), field="onConflict")
    report: dict[str, Any] = {"executors": {"created": 0, "updated": 0, "skipped": 0},
                              "jobs": {"created": 0, "updated": 0, "skipped": 0}, "conflicts": [], "errors": []}
    errors, conflicts = report["errors"], report["conflicts"]
    visible = visible_executor_ids()
    # creating or changing an executor needs the executors' own grants (a save or update), as in a direct call
    may_create = _may_call(EXECUTOR_SAVE_ENDPOINT)
    may_update = any(_may_call(f"{EXECUTOR_UPDATE_ENDPOINT}:{method}") for method in ("PUT", "POST"))
    ungranted: list[str] = []
    existing = {e.appname: e for e in db.session.execute(Executor.live()).scalars()}
    targets: dict[str, Executor] = {}
    for entry in doc["executors"]:
        appname = entry["appname"].strip()
        data = {column: entry[key] for key, column in _EXECUTOR_FIELDS.items() if key in entry}
        current = existing.get(appname)
        try:
            # one answer for an executor beyond reach and one that does not exist: an import tells nobody which
            # AppNames the executors they may not see use
            if visible is not None and (current is None or current.id not in visible):
                raise Forbidden(gettext("执行器 %(appname)s 不在您可管理的执行器中，您也不能新建执行器",
                                        appname=appname))
            if current is None:
                if appname in targets:
                    raise Invalid(gettext("文件中重复的执行器"), field="appname")
                if not may_create:
                    ungranted.append(gettext("导入会新增执行器 %(appname)s，需要「执行器新增」权限", appname=appname))
                    raise Forbidden(ungranted[-1])
                executor = Executor(**_clean_executor(data, None))
                db.session.add(executor)
                targets[appname] = executor
                report["executors"]["created"] += 1
                continue
            targets[appname] = current
            conflicts.append({"kind": "executor", "appname": appname, "job_desc": None, "action": on_conflict})
            if on_conflict == "overwrite":
                changes = {key: value for key, value in _clean_executor(
                    {k: v for k, v in data.items() if k != "appname"}, current).items()
                    if getattr(current, key) != value}
                if changes and not may_update:
                    ungranted.append(gettext("导入会修改执行器 %(appname)s，需要「执行器修改」权限", appname=appname))
                    raise Forbidden(ungranted[-1])
                for key, value in changes.items():
                    setattr(current, key, value)
                report["executors"]["updated"] += 1
            elif on_conflict == "skip":  # under fail a conflict is an error, not a skip
                report["executors"]["skipped"] += 1
        except PCloudError as exc:
            errors.extend(_problem("executor", appname, None, exc))
    created = [name for name, executor in targets.items() if executor.id is None]
    # an executor of the file that another request created since `existing` was read: its AppName's own refusal
    with taken_meanwhile(lambda: [_require_appname_free(name, None) for name in created]):
        db.session.flush()
    jobs_by_key: dict[tuple[str, str], Job] = {}
    written: list[tuple[Job, dict[str, Any]]] = []
    columns = _job_columns()
    for entry in doc["jobs"]:
        appname, job_desc = entry["appname"].strip(), entry["jobDesc"].strip()
        try:
            executor = targets.get(appname) or existing.get(appname)
            if executor is None or (visible is not None and executor.id not in visible):
                raise Invalid(gettext("执行器 %(appname)s 不存在", appname=appname), field="appname")
            if (appname, job_desc) in jobs_by_key:
                raise Invalid(gettext("文件中重复的任务（同一执行器下任务描述相同）"), field="jobDesc")
            data = {column: entry[key] for key, column in columns.items() if key in entry}
            data.update(job_group=executor.id, job_desc=job_desc, child_job_id=None)
            data.pop("glue_updated_at", None)  # set when the script is written here
            require_maintenance_grant(data.get("executor_handler"))
            named = list(db.session.execute(Job.live().where(Job.job_group == executor.id, Job.job_desc == job_desc)
                                            .order_by(Job.id).limit(2)).scalars()) if executor.id else []
            if len(named) > 1 and on_conflict == "overwrite":  # which one is meant cannot be told
                raise Invalid(gettext("执行器 %(appname)s 下已有多个名为「%(desc)s」的任务，"
                                      "无法确定覆盖哪一个：请先改名", appname=appname, desc=job_desc), field="jobDesc")
            current = named[0] if named else None
            if current is not None:
                conflicts.append({"kind": "job", "appname": appname, "job_desc": job_desc, "action": on_conflict})
                if on_conflict != "overwrite":
                    jobs_by_key[(appname, job_desc)] = current
                    report["jobs"]["skipped"] += on_conflict == "skip"
                    continue
                require_maintenance_grant(current.executor_handler)
                glue = _clean_glue(data, current)  # a script's mode and source: the script grant's, as in a save
                for key, value in _clean_job(_without_glue(data), current).items():
                    setattr(current, key, value)
                job = current
                report["jobs"]["updated"] += 1
            else:
                glue = _clean_glue(data, None)
                job = Job(**_clean_job(_without_glue(data), None))
                db.session.add(job)
                report["jobs"]["created"] += 1
            job.trigger_status, job.trigger_next_time = 0, 0
            jobs_by_key[(appname, job_desc)] = job
            written.append((job, entry, glue))
        except PCloudError as exc:
            errors.extend(_problem("job", appname, job_desc, exc))
    db.session.flush()
    for job, entry, glue in written:  # links, extras and scripts once every job of the file has its id
        appname, job_desc = entry["appname"].strip(), entry["jobDesc"].strip()
        try:
            children, parents = _resolve_links(entry, jobs_by_key)
            if children:
                _check_children(job.id, children)
                job.child_job_id = ",".join(str(c) for c in dict.fromkeys(children))
            if parents:
                _check_parents(job.id, parents)
                if set(parents) - set(parents_of([job.id]).get(job.id, [])):
                    _require_may_link([], job.id)  # its new parents run it and its dependents (its children: above)
            # the file's links replace the job's; checked against the links written so far (the database's and
            # those of the file's jobs before this one), so the job closing a cycle is the one refused
            _check_no_cycle(job.id, children, parents)
            _set_parents(job, parents)
            for key, extra in TRANSFER_EXTRAS.items():
                if key in entry:
                    extra.load(job, entry[key])
            _apply_glue(job, glue)  # after the file's older versions, so the current source is the newest
        except PCloudError as exc:
            errors.extend(_problem("job", appname, job_desc, exc))
    if on_conflict == "fail" and conflicts:
        errors.extend({"kind": c["kind"], "appname": c["appname"], "job_desc": c["job_desc"], "field": None,
                       "message": gettext("已存在（onConflict 为 fail）")} for c in conflicts)
    report["imported"] = not dry_run and not errors
    if report["imported"]:
        db.session.commit()
    else:
        db.session.rollback()
    if ungranted and not dry_run:  # refused for a missing grant: 403, as the direct call is (a dry run lists it)
        raise Forbidden(ungranted[0], errors={"file": ungranted[:50]})
    return report


def _resolve_links(entry: dict[str, Any], in_file: dict[tuple[str, str], Job]) -> tuple[list[int], list[int]]:
    """The ids of a job's child and parent links in the file ({appname, jobDesc}): a job of the same file, else
    one the importer may see in this database (one query for both lists); a reference found in neither is an
    error on its list's key."""
    wanted = {(ref["appname"], ref["jobDesc"]) for key in ("childJobs", "parentJobs") for ref in entry.get(key, [])}
    found = _find_visible_jobs(wanted - set(in_file))
    resolved: dict[str, list[int]] = {}
    for key in ("childJobs", "parentJobs"):
        ids: list[int] = []
        for ref in entry.get(key, []):
            appname, job_desc = ref["appname"], ref["jobDesc"]
            job_id = in_file[(appname, job_desc)].id if (appname, job_desc) in in_file else found.get(
                (appname, job_desc))
            if job_id is None:
                if key == "parentJobs":
                    raise Invalid(gettext("父任务 %(appname)s / %(name)s 不存在", appname=appname, name=job_desc),
                                  field=key)
                raise Invalid(gettext("子任务 %(appname)s / %(name)s 不存在", appname=appname, name=job_desc),
                              field=key)
            ids.append(job_id)
        resolved[key] = list(dict.fromkeys(ids))
    return resolved["childJobs"], resolved["parentJobs"]


def _without_glue(data: dict[str, Any]) -> dict[str, Any]:
    """The job fields `_clean_job` checks: a script's source and remark are `_clean_glue`'s (the mode it reads)."""
    return {key: value for key, value in data.items() if key not in ("glue_source", "glue_remark")}


def _dump_glue_versions(jobs: list[Job]) -> dict[int, list[dict[str, Any]]]:
    """A script job's last 30 versions, oldest first, for the transfer file (one query for all the jobs)."""
    script_ids = [j.id for j in jobs if is_script(j.glue_type)]
    if not script_ids:
        return {}
    ranked = select(JobGlueVersion, func.row_number().over(
        partition_by=JobGlueVersion.job_id, order_by=JobGlueVersion.id.desc()).label("rank")).where(
        JobGlueVersion.job_id.in_(script_ids)).subquery()
    version = aliased(JobGlueVersion, ranked)
    out: dict[int, list[dict[str, Any]]] = {}
    size = 0
    for row in db.session.execute(select(version).where(ranked.c.rank <= GLUE_VERSIONS_LISTED)
                                  .order_by(version.job_id, version.id).execution_options(yield_per=100)).scalars():
        size += len(row.glue_source or "")
        _require_transferable(size)
        out.setdefault(row.job_id, []).append({
            "glueType": row.glue_type, "glueSource": row.glue_source, "glueRemark": translated(row.glue_remark),
            "updatedBy": row.updated_by, "updatedAt": _wire(row.updated_at)})
    return out


def _load_glue_versions(job: Job, value: Any) -> None:
    """Keep the file's older versions of a script job (author and time as the file says, marked imported)."""
    require_script_grant(always=True)
    if not isinstance(value, list) or len(value) > GLUE_VERSIONS_LISTED or not all(
            isinstance(v, dict) and isinstance(v.get("glueSource"), str) and len(v["glueSource"]) <= GLUE_SOURCE_MAX
            and v.get("glueType") in GLUE_TYPES and is_script(v["glueType"]) for v in value):
        raise Invalid(gettext("glueVersions 应为至多 %(n)s 个脚本版本（glueType、glueSource）", n=GLUE_VERSIONS_LISTED),
                      field="glueVersions")
    # imported again (覆盖): a version the job keeps already is not kept twice
    kept = set(db.session.execute(select(JobGlueVersion.glue_type, JobGlueVersion.glue_source).where(
        JobGlueVersion.job_id == job.id, JobGlueVersion.glue_source.in_({v["glueSource"] for v in value}))).tuples())
    for v in value:
        if (v["glueType"], v["glueSource"]) in kept:
            continue
        remark = said(N_("导入：%(remark)s"), remark=str(v.get("glueRemark") or ""))  # said in the reader's language
        remark = clipped(remark, limit_of(JobGlueVersion.glue_remark)) or ""
        by = v.get("updatedBy")
        db.session.add(JobGlueVersion(job_id=job.id, glue_type=v["glueType"], glue_source=v["glueSource"],
                                      glue_remark=remark, updated_by=str(by)[:64] if by else None))


TRANSFER_EXTRAS["glueVersions"] = TransferExtra("glueVersions", _dump_glue_versions, _load_glue_versions)


def _find_visible_jobs(refs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(appname, jobDesc) -> the id of the first live job by that name the principal may see, for all of `refs`
    in one query."""
    if not refs:
        return {}
    found: dict[tuple[str, str], int] = {}
    for job_id, appname, job_desc in db.session.execute(
            select(Job.id, Executor.appname, Job.job_desc).join(Executor, Executor.id == Job.job_group).where(
                Executor.appname.in_({a for a, _ in refs}), Executor.deleted_at.is_(None),
                Job.job_desc.in_({d for _, d in refs}), Job.deleted_at.is_(None),
                *executor_scope(Job.job_group)).order_by(Job.id)):
        if (appname, job_desc) in refs:
            found.setdefault((appname, job_desc), job_id)
    return found
