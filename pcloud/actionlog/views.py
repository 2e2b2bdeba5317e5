"""操作日志 page under /system/log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext, lazy_pgettext

from pcloud.actionlog import service
from pcloud.actionlog.schemas import ActionLogPageArgs
from pcloud.core.errors import Invalid
from pcloud.core.i18n import translated
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end, refuse_filters

bp = Blueprint("actionlog", __name__, url_prefix="/system/log")

# The filter bar's inputs, read through the API's page schema.
FILTERS = {"name": Filter("name", lazy_gettext("操作人")), "path": Filter("path", lazy_gettext("请求路径")),
           "user_id": Filter("userId", lazy_gettext("操作人")), "status": Filter("status", lazy_gettext("结果")),
           # 操作 here is the operation (a title), not a row's actions: its context's entry comes from the template
           "title": Filter("title", lazy_pgettext("operation log", "操作")),
           "start": Filter("startTime", lazy_gettext("开始时间")), "end": Filter("endTime", lazy_gettext("结束时间"))}


def title_choices() -> list[tuple[str, str]]:
    """The 操作 filter's choices: (the stored title, what the reader reads), in the reader's order. The filter
    matches the stored (source) text, so the choice is the way to find an action in any language."""
    return sorted(((title, translated(title)) for title in service.titles()), key=lambda choice: choice[1])


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    filters = page_filters(ActionLogPageArgs, FILTERS)
    try:
        result = service.page_logs(filters, page, page_size)
    except Invalid as exc:
        refuse_filters(exc.msg)
        filters["start_time"] = filters["end_time"] = None
        result = service.page_logs(filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("actionlog/list.html", page=result, stats=service.statistics(),
                           titles=title_choices(), args=request.args, page_url=page_url)


@bp.route("/<int:log_id>")
def detail(log_id: int) -> Any:
    row = service.get_log(log_id)
    return render_template("actionlog/detail.html", log=row, params=service.pretty_params(row.params))
