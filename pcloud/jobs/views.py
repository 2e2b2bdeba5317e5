"""定时任务 pages under /job: 运行报表, 任务管理, 调度日志, 执行器管理.

The two small JSON endpoints (next fire times while typing a cron, and the output tail of a run) live
here rather than under /api because pages authenticate with the session cookie; both are GET reads.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext, lazy_pgettext
from markupsafe import Markup

from pcloud.core.charts import bar_svg
from pcloud.core.errors import Invalid, NotFound, PCloudError
from pcloud.core.forms import ConfirmForm, is_gone, mark_failed, refusal_page, safe_back
from pcloud.core.i18n import translated
from pcloud.core.messages import N_
from pcloud.core.numbers import digits_only
from pcloud.core.pages import Filter, int_arg, list_args, page_filters, page_url, past_the_end, refuse_filters
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.timefmt import display_local, local_today
from pcloud.core.views import RecordPages
from pcloud.jobs import cron, service
from pcloud.jobs.forms import (
    BLOCK_LABELS,
    GLUE_LABELS,
    MISFIRE_LABELS,
    ROUTE_LABELS,
    SCHEDULE_LABELS,
    TRIGGER_LABELS,
    ClearRunsForm,
    ExecutorForm,
    GlueForm,
    GlueRollbackForm,
    JobExportForm,
    JobForm,
    JobImportForm,
    TriggerForm,
)
from pcloud.jobs.schemas import ChartArgs, ExecutorPageArgs, JobPageArgs, RunPageFilters

bp = Blueprint("jobs", __name__, url_prefix="/job")
job_pages = RecordPages(bp, lazy_gettext("任务"), "jobs/job_form.html", index="jobs")
log_pages = RecordPages(bp, lazy_gettext("调度日志"), "jobs/log_detail.html", index="logs")
executor_pages = RecordPages(bp, lazy_gettext("执行器"), "jobs/executor_form.html", index="executors")

STATUS_LABELS = {"success": (lazy_gettext("成功"), "success"), "fail": (lazy_gettext("失败"), "danger"),
                 "running": (lazy_gettext("运行中"), "primary"), "pending": (lazy_gettext("等待执行"), "secondary")}
HANDLE_LABELS = {0: lazy_gettext("运行中"), 200: lazy_gettext("成功"), 500: lazy_gettext("失败"),
                 502: lazy_gettext("超时"), 503: lazy_gettext("已终止"), 504: lazy_gettext("执行器丢失")}
# A run's result is its state and the reason stored with it. Where the reason already names the state, the English
# says them as one phrase ("Killed by hand", not "Killed Killed by hand"); the Chinese reads as it always did.
RESULT_PHRASES = {
    (503, N_("人工终止")): lazy_pgettext("run result", "已终止 人工终止"),
    (503, N_("人工终止（尚未开始执行）")): lazy_pgettext("run result", "已终止 人工终止（尚未开始执行）"),
    (503, N_("任务被终止")): lazy_pgettext("run result", "已终止 任务被终止"),
    (503, N_("执行器停止，任务被终止")): lazy_pgettext("run result", "已终止 执行器停止，任务被终止"),
    (502, N_("任务执行超时，已终止")): lazy_pgettext("run result", "超时 任务执行超时，已终止"),
    (504, N_("执行器节点失联（心跳超时）")): lazy_pgettext("run result", "执行器丢失 执行器节点失联（心跳超时）"),
    (504, N_("执行器节点重启，任务中断")): lazy_pgettext("run result", "执行器丢失 执行器节点重启，任务中断"),
}


def result_text(run: Any) -> str:
    """The 执行结果 of a run (a JobRun): its state, unless still running, and the stored reason, in the reader's
    language."""
    phrase = RESULT_PHRASES.get((run.handle_code, run.handle_msg))
    if phrase is not None:
        return str(phrase)
    reason = translated(run.handle_msg) or ""
    if not run.handle_code:
        return reason
    state = HANDLE_LABELS.get(run.handle_code, run.handle_code)
    return gettext("%(state)s %(reason)s", state=state, reason=reason) if reason else str(state)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"ROUTE_LABELS": ROUTE_LABELS, "BLOCK_LABELS": BLOCK_LABELS, "MISFIRE_LABELS": MISFIRE_LABELS,
            "SCHEDULE_LABELS": SCHEDULE_LABELS, "RUN_STATUS": STATUS_LABELS, "HANDLE_LABELS": HANDLE_LABELS,
            "GLUE_LABELS": GLUE_LABELS, "TRIGGER_LABELS": TRIGGER_LABELS}


@bp.route("/")
def home() -> Any:
    return redirect(url_for("jobs.report"))


# ---------------------------------------------------------------- 运行报表


# The report's chart is drawn once for each band of widths the page shows it at (app.css, .job-chart): its width and
# height as drawn, and at most so many x labels (evenly spaced and level). Each drawing is scaled to the card's width;
# drawn for the narrowest card of its band, its 12 px labels are still 10 px or more there. "narrow": a phone, below
# 768 px (340 wide: 10.4 px on a 360 px screen, a week's days each named); "medium": from 768 px while the card is
# narrower than 780 px (a tablet, a small laptop beside the sidebar: a 702 px card at 768 px, 710 px at 992 px);
# "wide": a card of 780 px or more.
_DRAWINGS: dict[str, tuple[int, int, int | None]] = {
    "wide": (900, 320, None), "medium": (720, 320, 15), "narrow": (340, 300, 7)}


def _chart_svg(chart: dict[str, Any], band: str) -> Markup:
    """The report's chart as drawn for `band` (_DRAWINGS)."""
    width, height, max_x_labels = _DRAWINGS[band]
    # the legend in the reader's language
    return bar_svg([d[5:] for d in chart["trigger_day_list"]],
                   {gettext("成功"): chart["trigger_day_count_suc_list"],
                    gettext("失败"): chart["trigger_day_count_fail_list"],
                    gettext("运行中"): chart["trigger_day_count_running_list"]},
                   height=height, width=width,
                   colors=("#198754", "#dc3545", "#0d6efd"), stacked=True, max_x_labels=max_x_labels)


@bp.route("/report")
def report() -> Any:
    today = local_today()
    days = page_filters(ChartArgs, {"start": Filter("startDate", lazy_gettext("开始日期")),
                                        "end": Filter("endDate", lazy_gettext("结束日期"))})
    end = days.get("end_date") or today
    start = days.get("start_date") or end - timedelta(days=6)
    try:
        chart = service.chart_info(start, end)
    except Invalid as exc:
        refuse_filters(exc.msg)
        end, start = today, today - timedelta(days=6)
        chart = service.chart_info(start, end)
    rows = list(zip(chart["trigger_day_list"], chart["trigger_day_count_suc_list"],
                    chart["trigger_day_count_fail_list"], chart["trigger_day_count_running_list"], strict=True))
    # the inputs show what was typed (a refused date included), as every filter bar does
    typed = {name: request.args.get(name, "")[:10] or day.isoformat() for name, day in (("start", start), ("end", end))}
    return render_template("jobs/report.html", stats=service.statistics(), chart=chart,
                           svgs={band: _chart_svg(chart, band) for band in _DRAWINGS},
                           rows=rows, start=start, end=end, today=today, typed=typed,
                           last30=today - timedelta(days=29))


# ---------------------------------------------------------------- 任务管理


# The filter bars' inputs, read through the API's page schemas (core.pages.page_filters).
JOB_FILTERS = {"jobGroup": Filter("jobGroup", lazy_gettext("执行器")),
               "triggerStatus": Filter("triggerStatus", lazy_gettext("状态")),
               "jobDesc": Filter("jobDesc", lazy_gettext("任务描述")),
               "executorHandler": Filter("executorHandler", "JobHandler"),
               "author": Filter("author", lazy_gettext("负责人"))}
RUN_FILTERS = {"jobGroup": Filter("jobGroup", lazy_gettext("执行器")), "jobId": Filter("jobId", lazy_gettext("任务")),
               "logStatus": Filter("logStatus", lazy_gettext("状态")),
               "start": Filter("start", lazy_gettext("调度开始时间")),
               "end": Filter("end", lazy_gettext("调度结束时间"))}
EXECUTOR_FILTERS = {"appname": Filter("appname", "AppName"), "title": Filter("title", lazy_gettext("名称"))}


@bp.route("/info/")
def jobs() -> Any:
    return _job_list()


def _job_list(trigger_form: TriggerForm | None = None, reopen: int | None = None) -> Any:
    """The job list as the query string describes it (its filters, page), with its 执行一次 dialog: blank, or open
    on job `reopen` with the refused `trigger_form` (what was typed, the refusal at its field or at its top)."""
    page, page_size = list_args()
    filters = {"job_group": 0, **page_filters(JobPageArgs, JOB_FILTERS)}
    result = service.page_jobs(filters, page, page_size)
    if reopen is not None:  # past the end (rows gone meanwhile): its last page, with the dialog
        if result.page > max(result.pages, 1):
            result = service.page_jobs(filters, max(result.pages, 1), page_size)
    elif (to_last := past_the_end(result)) is not None:
        return to_last
    executors = service.all_executors()
    reopened = None
    if reopen is not None:  # the job named as its row names it; a job deleted meanwhile has no row
        row = next((j for j in result.items if j["id"] == reopen), None)
        reopened = {"action": url_for("jobs.job_trigger", job_id=reopen) + _list_query(),
                    "desc": gettext("任务「%(name)s」（#%(id)s）", name=translated(row["job_desc"]), id=reopen) if row
                    else gettext("任务 #%(id)s", id=reopen)}
    return render_template("jobs/jobs.html", page=result, filters=filters, executors=executors,
                           executor_options=_executor_options(executors),
                           confirm=ConfirmForm(), trigger_form=trigger_form or TriggerForm(), page_url=page_url,
                           export_form=JobExportForm(job_group=filters["job_group"] or None),
                           import_form=JobImportForm(), may_scripts=service.may_edit_scripts(),
                           offers=service.set_going_offers(result.items), reopened=reopened,
                           list_query=_list_query(), list_url=_list_url())


def _list_query() -> str:
    """This request's query string, as the job list's (its filters, page): "" or "?jobGroup=2&page=2". The list's
    执行一次 dialog posts with it, so that a refused run shows the list as it was."""
    query = urlencode(list(request.args.items(multi=True)))
    return f"?{query}" if query else ""


def _list_url(endpoint: str = "jobs.jobs") -> str:
    """The job list (or the list `endpoint`) as this request's query string describes it (the list's, or that of the
    dialog posted from it)."""
    return url_for(endpoint) + _list_query()


def _executor_options(executors: list[Any]) -> list[tuple[int, str]]:
    """The filter bars' executor choices: (id, title), a built-in title in the reader's language."""
    return [(e.id, translated(e.title)) for e in executors]


def _job_form(job: Any = None) -> JobForm:
    form = job_pages.edit_form(JobForm, job)
    form.record_id = None if job is None or is_gone(job) else job.id
    executors = service.all_executors()
    form.job_group.choices = [(e.id, gettext("%(title)s（%(appname)s）", title=translated(e.title), appname=e.appname))
                              for e in executors]
    handlers = service.handler_choices()
    # a built-in handler's description is a marked source string (N_), said in the reader's language
    form.executor_handler.choices = [("", gettext("请选择"))] + [
        (n, f"{n} — {translated(d)}" if d else n) for n, d in handlers]
    # a handler whose plug-in is gone: keep it selectable so the form shows what the job uses (what was
    # typed, for a job deleted while its form was open)
    kept = None if job is None else form.executor_handler.data if is_gone(job) else job.executor_handler
    if kept and kept not in dict(handlers):
        form.executor_handler.choices.append((kept, gettext("%(name)s（未注册）", name=kept)))
    form.timezone.choices = [(z, z) for z in cron.time_zone_choices()]
    if request.method != "POST" and job is not None:
        form.parent_job_ids.data = _parent_job_ids(job)
    if request.method != "POST" and job is None:
        form.timezone.data = form.timezone.data or service.default_timezone()
        # the list's executor filter, else the default executor (or the first one the user may use)
        form.job_group.data = int_arg("jobGroup") or service.preferred_executor(executors)
    return form


def _parent_job_ids(job: Any) -> str:
    """The form's 父任务 field: the ids of the jobs this one runs after, as typed (1,2)."""
    return ",".join(str(p) for p in service.parents_of([job.id]).get(job.id, []))


def _job_data(form: JobForm) -> dict[str, Any]:
    # the script itself is edited on its own page (job_code), with a remark per save
    data = {field.short_name: field.data for field in form if field.short_name != "csrf_token"}
    # the API's list, from the comma-separated field (the service names a wrong id as it does a child's)
    data["parent_job_ids"] = service.parse_job_ids(data.get("parent_job_ids"), "parentJobIds")
    return data


@bp.route("/info/new", methods=["GET", "POST"])
@action(N_("任务新增"))
@mirrors("jobs_api.job_add")
def job_create() -> Any:
    form = _job_form()

    def save() -> str:
        job = service.create_job(_job_data(form))
        if job.trigger_status == 1:
            return gettext("任务「%(name)s」已创建并已启动", name=job.job_desc)
        if job.schedule_type == "NONE":  # never started: it runs when asked to
            return gettext("任务「%(name)s」已创建：调度类型为“无”，在任务列表中点该任务的「执行一次」运行它",
                           name=job.job_desc)
        # a new job does not run until started: say so, and where (issue 24.6)
        return gettext("任务「%(name)s」已创建，当前为停止状态：在任务列表中点该任务的「启动」开始调度",
                       name=job.job_desc)

    return job_pages.form(form, save, done=lambda: job_pages.back(jobGroup=form.job_group.data), job=None)


@bp.route("/info/<int:job_id>/edit", methods=["GET", "POST"])
@action(N_("任务修改"))
@mirrors("jobs_api.job_update:PUT")
def job_edit(job_id: int) -> Any:
    job = job_pages.record(service.get_job, job_id, named_by="job_desc")
    form = _job_form(job)

    def save() -> str:
        return gettext("任务「%(name)s」已保存",
                       name=translated(service.modify_job({"id": job.id, **_job_data(form)}).job_desc))

    return job_pages.form(form, save, done=lambda: job_pages.back(jobGroup=job.job_group), job=job,
                          stored=None if is_gone(job) else {"parent_job_ids": _parent_job_ids(job)})


@bp.route("/info/next-times")
def job_next_times() -> Any:
    """The cron helper of the job form: next 5 fire times as the user types."""
    try:
        times = service.next_trigger_times(request.args.get("scheduleType", "CRON")[:16],
                                           request.args.get("scheduleConf", "")[:128],
                                           request.args.get("timezone", "")[:64] or None)
    except PCloudError as exc:  # the API's status (422 for a wrong or too expensive schedule); jobs.js reads the body
        return jsonify({"times": [], "error": exc.msg}), exc.code
    return jsonify({"times": [t.replace("T", " ") for t in times], "error": None})


@bp.route("/info/<int:job_id>/start", methods=["POST"])
@action(N_("任务启动"))
@mirrors("jobs_api.job_start:POST")
def job_start(job_id: int) -> Any:
    return job_pages.confirm(lambda: gettext("任务「%(name)s」已启动",
                                             name=translated(service.start_job(job_id).job_desc)),
                             gettext("不能启动："))


@bp.route("/info/<int:job_id>/stop", methods=["POST"])
@action(N_("任务停止"))
@mirrors("jobs_api.job_stop:POST")
def job_stop(job_id: int) -> Any:
    return job_pages.confirm(lambda: gettext("任务「%(name)s」已停止",
                                             name=translated(service.stop_job(job_id).job_desc)))


@bp.route("/info/<int:job_id>/copy", methods=["POST"])
@action(N_("任务复制"))
@mirrors("jobs_api.job_copy")
def job_copy(job_id: int) -> Any:
    return job_pages.confirm(lambda: gettext("已复制为「%(name)s」（已停止）",
                                             name=translated(service.copy_job(job_id).job_desc)))


@bp.route("/info/<int:job_id>/delete", methods=["POST"])
@action(N_("任务删除"))
@mirrors("jobs_api.job_remove")
def job_delete(job_id: int) -> Any:
    return job_pages.confirm(lambda: gettext("任务「%(name)s」已删除",
                                             name=translated(service.remove_job(job_id).job_desc)))


@bp.route("/info/<int:job_id>/trigger", methods=["GET", "POST"])
@action(N_("任务执行一次"))
@mirrors("jobs_api.job_trigger")
def job_trigger(job_id: int) -> Any:
    """执行一次, the job list's dialog, posted with the list's query string (its filters, page). A refusal shows the
    list again as it was, answering the refusal's status, the dialog open on what was typed with the refusal at the
    field it concerns or at its top (a form shown again: job_pages.form; a stale token too: reshow_expired_form);
    a run goes back to the list, flashed. GET, a link of that page (its pager, its filter bar), is the list."""
    if request.method != "POST":
        job = service.find_job(job_id)  # one deleted since: the links of the page saying so still lead to the list
        if job is None or not service.may_reach_executor(job.job_group):
            raise NotFound(gettext("任务不存在"))
        return redirect(_list_url())
    form = TriggerForm()

    def run() -> str:
        runs = service.trigger_job(job_id, form.executor_param.data or None, form.address_list.data or None)
        executor = service.get_executor(runs[0].job_group)
        if service.without_a_live_node(executor):
            flash(service.waiting_note(executor), "warning")
        return gettext("已提交执行（调度日志 %(ids)s），等待执行器运行", ids=", ".join(f"#{r.id}" for r in runs))

    return job_pages.form(form, run, done=_list_url, shown_on=lambda: _job_list(form, job_id))


@bp.route("/info/<int:job_id>/next")
def job_next(job_id: int) -> Any:
    job = service.get_job(job_id)
    try:
        times = service.job_next_times(job)
        error = None
    except PCloudError as exc:
        times, error = [], exc.msg
    return render_template("jobs/job_next.html", job=job, times=times, error=error)


@bp.route("/info/<int:job_id>/nodes")
def job_nodes(job_id: int) -> Any:
    job = service.get_job(job_id)
    executor = service.get_executor(job.job_group)
    return render_template("jobs/job_nodes.html", job=job, executor=executor,
                           nodes=service.all_nodes(executor.appname))


# ---------------------------------------------------------------- 脚本任务 (GLUE): the editor, versions, diff, rollback


code_pages = RecordPages(bp, lazy_gettext("脚本"), "jobs/job_code.html", index="jobs")


def _script_job(job_id: int) -> Any:
    job = code_pages.record(service.get_job, job_id, named_by="job_desc")
    if not is_gone(job) and not service.is_script(job.glue_type):
        abort(404)
    return job


@bp.route("/info/<int:job_id>/code", methods=["GET", "POST"])
@action(N_("脚本任务保存"))
@mirrors("jobs_api.jobcode_save", methods=("GET", "POST"))  # the source itself is the script grant's
def job_code(job_id: int) -> Any:
    job = _script_job(job_id)
    form = GlueForm()
    if request.method != "POST":
        form.glue_source.data = job.glue_source or ""

    def save() -> str:
        version = service.save_glue(job.id, form.glue_source.data, form.glue_remark.data)
        return gettext("脚本已保存为版本 #%(id)s", id=version.id)

    # the remark is this save's own, not what the page shows of the job: only the source counts as changed
    return code_pages.form(form, save, done=lambda: url_for("jobs.job_code", job_id=job.id), job=job,
                           versions=[] if is_gone(job) else service.glue_versions(job.id),
                           rollback=GlueRollbackForm(), stored=None if is_gone(job) else {"glue_remark": None})


@bp.route("/info/<int:job_id>/code/diff")
@mirrors("jobs_api.jobcode_versions", methods=("GET",))
def job_code_diff(job_id: int) -> Any:
    job = service.get_job(job_id)
    listed = service.glue_versions(job_id)
    newest = listed[0].id if listed else 0
    to_id = int_arg("to") or newest
    from_id = int_arg("from") or next((v.id for v in listed if v.id < to_id), to_id)
    diff = service.diff_glue_versions(job_id, from_id, to_id) if to_id else None
    return render_template("jobs/job_code_diff.html", job=job, versions=listed, diff=diff)


@bp.route("/info/<int:job_id>/code/rollback", methods=["POST"])
@action(N_("脚本任务回滚"))
@mirrors("jobs_api.jobcode_rollback")
def job_code_rollback(job_id: int) -> Any:
    form = GlueRollbackForm()

    def run() -> str:
        version = service.rollback_glue(job_id, form.version_id.data)
        return gettext("已回滚，当前脚本为新版本 #%(id)s", id=version.id)

    return code_pages.confirm(run, gettext("不能回滚："), form=form, fallback=url_for("jobs.job_code", job_id=job_id))


GRAPH_COLUMN, GRAPH_ROW, GRAPH_BOX = (220, 72, (170, 48))  # layout of the dependency graph, in SVG units


def _graph_layout(graph: dict[str, Any]) -> dict[str, Any]:
    """Columns by the longest link path from a job nothing triggers (a loop left by old data stops at the
    number of jobs), rows in id order within a column; edges as lines from box edge to box edge."""
    ids = [n["id"] for n in graph["nodes"]]
    column = dict.fromkeys(ids, 0)
    for _ in range(len(ids)):
        moved = False
        for e in graph["edges"]:
            if column[e["target"]] < column[e["source"]] + 1 <= len(ids):
                column[e["target"]], moved = column[e["source"]] + 1, True
        if not moved:
            break
    rows: dict[int, int] = {}
    at: dict[int, tuple[int, int]] = {}
    for i in ids:
        rows[column[i]] = rows.get(column[i], -1) + 1
        at[i] = (20 + column[i] * GRAPH_COLUMN, 20 + rows[column[i]] * GRAPH_ROW)
    width, height = GRAPH_BOX
    lines = [{**e, "x1": at[e["source"]][0] + width, "y1": at[e["source"]][1] + height // 2,
              "x2": at[e["target"]][0], "y2": at[e["target"]][1] + height // 2} for e in graph["edges"]]
    return {"boxes": [{**n, "x": at[n["id"]][0], "y": at[n["id"]][1]} for n in graph["nodes"]], "lines": lines,
            "width": 40 + (max(column.values(), default=0) + 1) * GRAPH_COLUMN,
            "height": 40 + (max(rows.values(), default=0) + 1) * GRAPH_ROW, "box_w": width, "box_h": height}


@bp.route("/info/<int:job_id>/graph")
def job_graph(job_id: int) -> Any:
    job = service.get_job(job_id)
    graph = service.job_graph(job_id)
    return render_template("jobs/job_graph.html", job=job, graph=graph, layout=_graph_layout(graph))


# ---------------------------------------------------------------- 调度日志


@bp.route("/log/")
def logs() -> Any:
    return _log_list()


def _log_list(clear_form: ClearRunsForm | None = None) -> Any:
    """The run log as the query string describes it (its filters, page), with its 日志清理 dialog: blank, or open on
    the refused `clear_form` (the kind chosen, the refusal at its field or at its top)."""
    page, page_size = list_args()
    loaded = page_filters(RunPageFilters, RUN_FILTERS)
    executor_id, job_id = loaded.get("job_group") or 0, loaded.get("job_id") or 0
    times = (loaded.get("start"), loaded.get("end"))
    filters = {"job_group": executor_id, "job_id": job_id, "log_status": loaded.get("log_status") or 0,
               "filter_time": times if any(times) else None}
    # the inputs show what was typed (a refused time included), as every filter bar does
    start, end = request.args.get("start", "")[:32], request.args.get("end", "")[:32]
    try:
        result = service.page_runs(filters, page, page_size)
    except Invalid as exc:
        refuse_filters(exc.msg)
        filters["filter_time"] = None
        result = service.page_runs(filters, page, page_size)
    if clear_form is not None:  # past the end (runs gone meanwhile): its last page, with the dialog
        if result.page > max(result.pages, 1):
            result = service.page_runs(filters, max(result.pages, 1), page_size)
    elif (to_last := past_the_end(result)) is not None:
        return to_last
    reopened = clear_form is not None
    if clear_form is None:
        clear_form = ClearRunsForm(job_group=executor_id, job_id=job_id)
        clear_form.type.choices = service.clear_type_choices()
    return render_template("jobs/logs.html", page=result, filters=filters, start=start, end=end,
                           executor_options=_executor_options(service.all_executors()),
                           executor_jobs=_jobs_named(executor_id),
                           confirm=ConfirmForm(), clear_form=clear_form, page_url=page_url, reopened=reopened,
                           list_query=_list_query(), list_url=_list_url("jobs.logs"))


def _jobs_named(executor_id: int | None) -> list[dict[str, Any]]:
    """The job filter's choices: an executor's jobs, a built-in job's description in the reader's language."""
    return [{**job, "job_desc": translated(job["job_desc"])}
            for job in (service.jobs_of_executor(executor_id) if executor_id else [])]


@bp.route("/log/<int:run_id>")
def log_detail(run_id: int) -> Any:
    run = service.get_run(run_id)
    job = service.find_job(run.job_id)
    waiting = None
    if run.status == service.RUN_PENDING:
        executor = service.get_executor(run.job_group)
        waiting = service.waiting_note(executor) if service.without_a_live_node(executor) else None
    return render_template("jobs/log_detail.html", run=service.run_item(run), result=result_text(run), job=job,
                           confirm=ConfirmForm(), waiting=waiting)


@bp.route("/log/<int:run_id>/cat")
def log_cat(run_id: int) -> Any:
    """Output lines from ?from=N: the detail page polls this while the run is going."""
    detail = service.run_output(run_id, max(1, int_arg("from", 1) or 1))
    run = service.get_run(run_id)
    state = service.run_state(run)
    ended = run.status == "DONE"
    result = result_text(run) if ended else ""
    return jsonify({"fromLineNum": detail["from_line_num"], "toLineNum": detail["to_line_num"],
                    "logContent": detail["log_content"], "isEnd": detail["is_end"], "state": state,
                    "label": str(STATUS_LABELS[state][0]), "handleMsg": translated(run.handle_msg) or "",
                    # the detail page keeps these live: the node once one claims the run, the end
                    "node": run.executor_address, "ended": ended, "killRequested": bool(run.kill_requested),
                    "handleTime": display_local(run.handle_time), "result": result})


@bp.route("/log/<int:run_id>/kill", methods=["POST"])
@action(N_("终止任务"))
@mirrors("jobs_api.log_kill")
def log_kill(run_id: int) -> Any:
    def run() -> str:
        killed = service.kill_run(run_id)
        if killed.status == "DONE":
            return gettext("已终止（尚未开始执行）")
        return gettext("已请求终止，执行器将停止该任务")

    return log_pages.confirm(run, fallback=url_for("jobs.log_detail", run_id=run_id))


@bp.route("/log/clear", methods=["GET", "POST"])
@action(N_("清理调度日志"))
@mirrors("jobs_api.clear_log")
def log_clear() -> Any:
    """日志清理, the run log's dialog, posted with the log's query string (its filters, page), as 执行一次: a refusal
    shows the log again as it was, answering the refusal's status, the dialog open on the kind chosen with the refusal
    at that field or at its top; a clear goes back to the log, flashed. GET, a link of that page, is the log."""
    if request.method != "POST":
        return redirect(_list_url("jobs.logs"))
    form = ClearRunsForm()
    form.type.choices = service.clear_type_choices()

    def run() -> str:
        removed = service.clear_runs(form.job_group.data or 0, form.job_id.data or 0, form.type.data)
        return gettext("%(kind)s：已删除 %(n)s 条调度日志", kind=gettext(service.CLEAR_TYPES[form.type.data]),
                       n=removed)

    return log_pages.form(form, run, done=lambda: _list_url("jobs.logs"), shown_on=lambda: _log_list(form))


# ---------------------------------------------------------------- 执行器管理


@bp.route("/group/")
def executors() -> Any:
    page, page_size = list_args()
    loaded = page_filters(ExecutorPageArgs, EXECUTOR_FILTERS)
    appname, title = loaded.get("appname") or "", loaded.get("title") or ""
    result = service.page_executors({"appname": appname, "title": title}, page, page_size, for_page=True)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("jobs/executors.html", page=result, rows=result.items,
                           filters={"appname": appname, "title": title}, confirm=ConfirmForm(), page_url=page_url)


def _executor_data(form: ExecutorForm) -> dict[str, Any]:
    return {"appname": form.appname.data, "title": form.title.data, "address_type": int(form.address_type.data or 0),
            "address_list": form.address_list.data}


@bp.route("/group/new", methods=["GET", "POST"])
@action(N_("执行器新增"))
@mirrors("jobs_api.executor_save")
def executor_create() -> Any:
    form = ExecutorForm()
    return executor_pages.form(
        form, lambda: gettext("执行器「%(name)s」已创建", name=service.create_executor(_executor_data(form)).title),
        executor=None)


@bp.route("/group/<int:executor_id>/edit", methods=["GET", "POST"])
@action(N_("执行器修改"))
@mirrors("jobs_api.executor_update:PUT")
def executor_edit(executor_id: int) -> Any:
    executor = executor_pages.record(service.get_executor, executor_id)
    form = executor_pages.edit_form(ExecutorForm, executor)
    form.record_id = None if is_gone(executor) else executor.id
    if request.method != "POST":
        form.address_type.data = str(executor.address_type)

    def save() -> str:
        saved = service.modify_executor({"id": executor.id, **_executor_data(form)})
        return gettext("执行器「%(name)s」已保存", name=translated(saved.title))

    return executor_pages.form(form, save, executor=executor)


@bp.route("/group/<int:executor_id>/delete", methods=["POST"])
@action(N_("执行器删除"))
@mirrors("jobs_api.executor_remove")
def executor_delete(executor_id: int) -> Any:
    return executor_pages.confirm(
        lambda: gettext("执行器「%(name)s」已删除", name=translated(service.delete_executor(executor_id).title)),
        gettext("不能删除："))


# ---------------------------------------------------------------- 导出 / 导入 (issue 23, 4)


@bp.route("/info/export", methods=["POST"])
@action(N_("任务导出"))
@mirrors("jobs_api.job_export")
def job_export() -> Any:
    """The list's 导出选中 / 导出全部: the same file as the API's export."""
    form = JobExportForm()
    ids = [int(v) for v in request.form.getlist("ids") if digits_only(v)]
    try:
        if not form.validate():
            raise Invalid(gettext("导出参数不正确"))
        if form.scope.data == "selected" and not ids:
            raise Invalid(gettext("请先勾选要导出的任务"), field="ids")
        doc = service.export_jobs(form.job_group.data or None, ids if form.scope.data == "selected" else [])
    except PCloudError as exc:
        return refusal_page(exc, url_for("jobs.jobs"), gettext("不能导出："))
    return service.transfer_file_response(doc)


@bp.route("/info/import", methods=["POST"])
@action(N_("任务导入"))
@mirrors("jobs_api.job_import")
def job_import() -> Any:
    """The list's import dialog: a dry run shows what would happen (conflicts, errors); an import writes all or
    nothing and goes back to the list."""
    form = JobImportForm()
    dry_run, on_conflict = bool(form.dry_run.data), form.on_conflict.data
    back = safe_back(url_for("jobs.jobs").rstrip("/") or "/", url_for("jobs.jobs"))  # the list as it was left
    try:
        if not form.validate():
            raise Invalid(gettext("；").join(str(e) for errors in form.errors.values() for e in errors)
                          or gettext("请选择导入文件"),
                          field="file")
        doc = service.parse_transfer(form.file.data.read(service.TRANSFER_MAX_BYTES + 1))
        report = service.import_jobs(doc, dry_run=dry_run, on_conflict=on_conflict)
    except PCloudError as exc:
        return refusal_page(exc, back, gettext("不能导入："))
    if report["imported"]:
        flash(gettext("已导入：执行器新增 %(e_created)s、更新 %(e_updated)s；任务新增 %(created)s、更新 %(updated)s、"
                      "跳过 %(skipped)s（导入的任务均为停止状态）",
                      e_created=report["executors"]["created"], e_updated=report["executors"]["updated"],
                      created=report["jobs"]["created"], updated=report["jobs"]["updated"],
                      skipped=report["jobs"]["skipped"]), "success")
        return redirect(back)
    status = 200
    if not dry_run:  # refused as a whole: the API's 422, the same report to read
        status = 422
        mark_failed(Invalid(gettext("导入未执行（共 %(n)s 个问题）", n=len(report["errors"]))))
    return render_template("jobs/job_import.html", report=report, dry_run=dry_run, on_conflict=on_conflict, back=back,
                           import_form=JobImportForm(formdata=None, dry_run=False, on_conflict=on_conflict)), status
