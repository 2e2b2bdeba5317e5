"""操作日志 page under /system/log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from pcloud.actionlog import service
from pcloud.actionlog.schemas import ActionLogPageArgs
from pcloud.core.errors import Invalid
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end, refuse_filters

bp = Blueprint("actionlog", __name__, url_prefix="/system/log")

# The filter bar's inputs, read through the API's page schema.
FILTERS = {"name": Filter("name", "操作人"), "path": Filter("path", "请求路径"), "user_id": Filter("userId", "操作人"),
           "status": Filter("status", "结果"), "title": Filter("title", "操作"),
           "start": Filter("startTime", "开始时间"), "end": Filter("endTime", "结束时间")}


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
                           titles=service.titles(), args=request.args, page_url=page_url)


@bp.route("/<int:log_id>")
def detail(log_id: int) -> Any:
    row = service.get_log(log_id)
    return render_template("actionlog/detail.html", log=row, params=service.pretty_params(row.params))
