"""登录日志 page under /monitor/loginlog: filters, detail, export, and the rows' 解锁 button (auth.views)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, render_template, request
from flask_babel import gettext

from pcloud.core.errors import Invalid
from pcloud.core.forms import ConfirmForm
from pcloud.core.messages import N_
from pcloud.core.pages import list_args, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.schemas import limit_of
from pcloud.core.security import mirrors
from pcloud.core.timefmt import parse_to_utc
from pcloud.core.xlsx import write_xlsx, xlsx_response
from pcloud.loginlog import service
from pcloud.loginlog.models import LoginLog

bp = Blueprint("loginlog", __name__, url_prefix="/monitor/loginlog")


@bp.app_template_filter("login_reason")
def login_reason(reason: str | None) -> str | None:
    """A row's stored reason in the reader's language (loginlog.service.shown_reason)."""
    return service.shown_reason(reason)


def _time_arg(name: str) -> Any:
    value = request.values.get(name, "").strip()
    if not value:
        return None
    try:
        return parse_to_utc(value)
    except ValueError:
        flash(gettext("时间格式不正确"), "warning")
        return None


def _filters() -> dict[str, Any]:
    """The list's filters from the query string, held to what the API's page schema accepts."""
    args = request.values
    result = args.get("result")
    grant = (args.get("grant_type") or "").upper()
    event = args.get("event")
    return {"phone": args.get("phone", "")[:limit_of(LoginLog.phone)],
            "result": int(result) if result in ("0", "1") else None,
            "grant_type": grant if grant in service.GRANT_TYPES else None,
            "event": event if event in service.EVENTS else None,
            "client_ip": args.get("client_ip", "")[:limit_of(LoginLog.client_ip)],
            "start_time": _time_arg("start"), "end_time": _time_arg("end")}


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    filters = _filters()
    try:
        result = service.page_logins(filters, page, page_size)
    except Invalid as exc:
        flash(exc.msg, "warning")
        filters["start_time"] = filters["end_time"] = None
        result = service.page_logins(filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("loginlog/list.html", page=result, args=request.args, page_url=page_url,
                           events=service.EVENT_NAMES, grants=service.GRANT_TYPES, export_form=ConfirmForm())


@bp.route("/<int:log_id>")
def detail(log_id: int) -> Any:
    return render_template("loginlog/detail.html", log=service.get_login(log_id), events=service.EVENT_NAMES)


@bp.route("/export", methods=["POST"])
@action(N_("登录日志导出"))
@mirrors("loginlog_api.download")
def export() -> Any:
    """The filters of the list it was pressed on (its query string), as the API's download takes them."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    filters = _filters()
    if filters["start_time"] and filters["end_time"] and filters["start_time"] > filters["end_time"]:
        filters["start_time"] = filters["end_time"] = None
    path = write_xlsx([str(header) for header in service.EXPORT_HEADERS], service.export_rows(filters),
                      gettext("登录日志"))
    return xlsx_response(path, gettext("登录日志.xlsx"), default=gettext("登录日志.xlsx"))
