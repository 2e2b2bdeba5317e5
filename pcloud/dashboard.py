"""The home page after sign-in: what the signed-in user may see, as figures and charts.

Each block shows only when the user may open the page it summarises (the same rule as the sidebar):
organisation figures with 用户管理, everyone's activity with 操作日志 (else one's own), jobs with
任务管理, ids with 号段列表. A user with no role sees their own sign-ins and operations only.
Queries live in the modules' services.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, send_from_directory

from pcloud.access.permissions import may_open_page
from pcloud.actionlog import service as actionlog_service
from pcloud.core.charts import bar_svg
from pcloud.core.security import current_principal, public, signed_in_only
from pcloud.jobs import service as jobs_service
from pcloud.segments import service as segments_service
from pcloud.sessions import service as sessions
from pcloud.users import service as users_service

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@signed_in_only
def index() -> Any:
    principal = current_principal()
    assert principal is not None

    def may(path: str) -> bool:
        return may_open_page(principal, path)

    figures: list[dict[str, Any]] = []
    if may("/system/user"):
        figures += [{"key": "users", "label": "用户总数", "value": users_service.live_count(), "href": "/system/user/"},
                    {"key": "online", "label": "当前在线", "value": sessions.online_count(),
                     "href": "/system/user/"}]
    everyone = may("/system/log")
    activity = actionlog_service.daily_activity(7, None if everyone else principal.id)
    if everyone:
        figures.append({"key": "actions-today", "label": "今日操作", "value": activity["operations"][-1],
                        "href": "/system/log/"})
    if may("/job/info"):
        stats = jobs_service.statistics()
        figures += [{"key": "jobs", "label": "定时任务", "value": stats["job_info_count"], "href": "/job/info/"},
                    {"key": "job-runs", "label": "调度次数", "value": stats["job_log_count"], "href": "/job/log/"},
                    {"key": "executors", "label": "在线执行器节点", "value": stats["executor_count"],
                     "href": "/job/group/"}]
    if may("/integration/segment"):
        figures.append({"key": "segments", "label": "号段业务", "value": segments_service.count_segments(),
                        "href": "/integration/segment/"})
    chart = bar_svg(activity["days"], {"登录": activity["sign_ins"], "操作": activity["operations"]})
    return render_template("dashboard.html", figures=figures, activity=activity, chart=chart, everyone=everyone)


@bp.route("/favicon.ico")
@public
def favicon() -> Any:
    """Browsers ask for /favicon.ico whatever the page links; answer with the same icon."""
    return send_from_directory(current_app.static_folder or "", "favicon.svg", mimetype="image/svg+xml",
                               max_age=86400)
