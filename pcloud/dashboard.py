"""The home page after sign-in: what the signed-in user may see, as figures and charts.

Each block shows only when the user may open the page it summarises (the same rule as the sidebar):
organisation figures with 用户管理, the activity of everyone with 操作日志 (else one's own), jobs with
任务管理, ids with 号段列表; each counts what the user's own lists show (their data scope and executors). A
user with no role sees their own sign-ins and operations only. Queries live in the modules' services.

The same figures answer the original front end's home page (API.md, 个性化服务: `POST /api/admin/dashboard/
statistics` and `.../cycle/statistics` `{type}`), open to every signed-in principal and bounded by the same
rules: a figure the principal may not see is `null`, a series they may not see is a 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, send_from_directory
from flask_babel import gettext, lazy_gettext, lazy_pgettext
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import fields, validate

from pcloud.access.permissions import may_call_a_granted_route, may_open_page
from pcloud.actionlog import service as actionlog_service
from pcloud.core.charts import bar_svg
from pcloud.core.daily import daily_counts, last_days
from pcloud.core.errors import Forbidden
from pcloud.core.operations import operation
from pcloud.core.schemas import BaseSchema
from pcloud.core.security import Principal, current_principal, public, signed_in_only
from pcloud.datascope import service as datascope
from pcloud.jobs import service as jobs_service
from pcloud.models import JobRun, User
from pcloud.notices import service as notices_service
from pcloud.online import service as online_service
from pcloud.segments import service as segments_service
from pcloud.users import service as users_service

bp = Blueprint("dashboard", __name__)


def _activity(principal: Principal, days: int, everyone: bool) -> dict[str, list[Any]]:
    """Sign-ins and operations per day: with 操作日志, of every operator within the data scope (as the log's
    list); else one's own (an open-platform account's actions carry no user id: none)."""
    return actionlog_service.daily_activity(days, None if everyone else (principal.user_id or 0))


@bp.route("/")
@signed_in_only
def index() -> Any:
    principal = current_principal()
    assert principal is not None

    def may(path: str) -> bool:
        return may_open_page(principal, path)

    figures: list[dict[str, Any]] = []
    if may("/system/user"):
        figures += [{"key": "users", "label": gettext("用户总数"), "value": users_service.live_count(),
                     "href": "/system/user/"},
                    {"key": "online", "label": gettext("当前在线"), "value": online_service.online_count(),
                     "href": "/monitor/online/"}]
    everyone = may("/system/log")
    activity = _activity(principal, 7, everyone)
    if everyone:
        figures.append({"key": "actions-today", "label": gettext("今日操作"), "value": activity["operations"][-1],
                        "href": "/system/log/"})
    if may("/job/info"):
        stats = jobs_service.statistics()
        figures += [{"key": "jobs", "label": gettext("定时任务"), "value": stats["job_info_count"],
                     "href": "/job/info/"},
                    {"key": "job-runs", "label": gettext("调度次数"), "value": stats["job_log_count"],
                     "href": "/job/log/"},
                    {"key": "executors", "label": gettext("在线执行器节点"), "value": stats["executor_count"],
                     "href": "/job/group/"}]
    if may("/integration/segment"):
        figures.append({"key": "segments", "label": gettext("号段业务"), "value": segments_service.count_segments(),
                        "href": "/integration/segment/"})
    for figure in figures:  # a card links only to a page its reader may open (no dead end)
        if not may(figure["href"]):
            figure["href"] = None
    chart = bar_svg(activity["days"], {gettext("登录"): activity["sign_ins"],
                                        gettext("操作"): activity["operations"]})
    notices = notices_service.latest_for(principal)
    return render_template("dashboard.html", figures=figures, activity=activity, chart=chart, everyone=everyone,
                           notices=notices, api_docs=may_call_a_granted_route(principal))


@bp.route("/favicon.ico")
@public
def favicon() -> Any:
    """Browsers ask for /favicon.ico whatever the page links; answer with the same icon."""
    return send_from_directory(current_app.static_folder or "", "favicon.svg", mimetype="image/svg+xml",
                               max_age=86400)


# ---------------------------------------------------------------------------------------------
# The JSON API of the home page (the original front end's src/api/dashboard.js)

api_blp = ApiBlueprint("dashboard_api", __name__, url_prefix="/api/admin/dashboard", description="首页统计")

SERIES_DAYS = 7
# Our series and the original home page's panel names for them (PanelGroup.vue: handleSetLineChartData).
# "chart": 新增用户 is also the user list's button (Add user); here it counts the users added (New users).
SERIES = {"users": lazy_pgettext("chart", "新增用户"), "signIns": lazy_gettext("登录次数"),
          "operations": lazy_gettext("操作次数"), "jobRuns": lazy_gettext("调度次数")}
ORIGINAL_TYPES = {"newVisitis": "signIns", "messages": "operations", "purchases": "users", "shoppings": "jobRuns"}


def _reach(principal: Principal) -> dict[str, bool]:
    """Which series the principal may see: the pages they summarise (the home page's rule)."""
    return {"users": may_open_page(principal, "/system/user"), "jobRuns": may_open_page(principal, "/job/info"),
            "everyone": may_open_page(principal, "/system/log")}


def series(kind: str, principal: Principal) -> list[int]:
    """The last SERIES_DAYS local days of one kind, for what the principal may see (403 otherwise)."""
    reach = _reach(principal)
    if kind in ("signIns", "operations"):  # one's own without 操作日志, as on the home page
        activity = _activity(principal, SERIES_DAYS, reach["everyone"])
        return activity["sign_ins" if kind == "signIns" else "operations"]
    if not reach[kind]:
        raise Forbidden(gettext("没有权限查看「%(series)s」的统计", series=SERIES[kind]))
    if kind == "users":
        return daily_counts(User.gmt_created_date, SERIES_DAYS, User.deleted_at.is_(None),
                            datascope.current_scope().user_clause(User))
    return daily_counts(JobRun.trigger_time, SERIES_DAYS, *jobs_service.visible_runs_where())


class DashboardStatisticsOut(BaseSchema):
    userCount = fields.Integer(allow_none=True, metadata={"description": "live users; null without 用户管理"})  # noqa: N815
    onlineCount = fields.Integer(allow_none=True, metadata={"description": "users online; null without 用户管理"})  # noqa: N815
    signInCount = fields.Integer(metadata={"description": "today's sign-ins (one's own without 操作日志)"})  # noqa: N815
    operationCount = fields.Integer(metadata={"description": "today's operations (one's own without 操作日志)"})  # noqa: N815
    jobRunCount = fields.Integer(allow_none=True, metadata={"description": "today's job runs; null without 任务管理"})  # noqa: N815


class DashboardCycleArgs(BaseSchema):
    type = fields.String(required=True, validate=validate.OneOf([*SERIES, *ORIGINAL_TYPES]), metadata={
        "description": "users | signIns | operations | jobRuns, or the original home page's panel names "
                       "newVisitis (sign-ins) | messages (operations) | purchases (users) | shoppings (job runs)"})


class DashboardCycleOut(BaseSchema):
    type = fields.String(metadata={"description": "the series answered (our name)"})
    name = fields.String(metadata={"description": "its label"})
    dates = fields.List(fields.String(), metadata={"description": "the last 7 local days, yyyy-MM-dd, today last"})
    values = fields.List(fields.Integer(), metadata={"description": "the count of each day"})


@operation(api_blp, "/statistics", "DashboardStatistics", DashboardStatisticsOut)
@signed_in_only
def api_statistics() -> dict[str, Any]:
    """首页统计：用户数、在线数、今日登录、今日操作、今日调度（无权查看的为 null）"""
    principal = current_principal()
    assert principal is not None
    reach = _reach(principal)
    activity = _activity(principal, 1, reach["everyone"])
    return {"userCount": users_service.live_count() if reach["users"] else None,
            "onlineCount": online_service.online_count() if reach["users"] else None,
            "signInCount": activity["sign_ins"][-1], "operationCount": activity["operations"][-1],
            "jobRunCount": daily_counts(JobRun.trigger_time, 1, *jobs_service.visible_runs_where())[-1]
            if reach["jobRuns"] else None}


@operation(api_blp, "/cycle/statistics", "DashboardCycle", DashboardCycleOut, args=DashboardCycleArgs)
@signed_in_only
def api_cycle_statistics(args: dict[str, Any]) -> dict[str, Any]:
    """首页近 7 天统计：按类型（新增用户、登录、操作、调度）每天的数量"""
    principal = current_principal()
    assert principal is not None
    kind = ORIGINAL_TYPES.get(args["type"], args["type"])
    return {"type": kind, "name": str(SERIES[kind]), "dates": [d.isoformat() for d in last_days(SERIES_DAYS)],
            "values": series(kind, principal)}
