"""操作日志 page under /system/log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request

from pcloud.actionlog import service
from pcloud.core.errors import Invalid
from pcloud.core.pages import list_args, page_url, past_the_end
from pcloud.core.timefmt import parse_to_utc

bp = Blueprint("actionlog", __name__, url_prefix="/system/log")


def _time_arg(name: str) -> Any:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return parse_to_utc(value)
    except ValueError:
        flash("时间格式不正确", "warning")
        return None


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    filters = {"name": request.args.get("name", "")[:64], "path": request.args.get("path", "")[:255],
               "user_id": request.args.get("user_id", type=int) or None,
               "status": request.args.get("status") if request.args.get("status") in ("success", "fail") else None,
               "title": request.args.get("title", "")[:64] or None,
               "start_time": _time_arg("start"), "end_time": _time_arg("end")}
    try:
        result = service.page_logs(filters, page, page_size)
    except Invalid as exc:
        flash(exc.msg, "warning")
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
