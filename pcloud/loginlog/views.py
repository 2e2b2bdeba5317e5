"""登录日志 page under /monitor/loginlog: filters, detail, export, and the rows' 解锁 button (auth.views)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext, lazy_gettext

from pcloud.core.errors import Invalid
from pcloud.core.forms import ConfirmForm
from pcloud.core.messages import N_
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end, refuse_filters
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.xlsx import write_xlsx, xlsx_response
from pcloud.loginlog import service
from pcloud.loginlog.schemas import LoginLogPageArgs

bp = Blueprint("loginlog", __name__, url_prefix="/monitor/loginlog")


@bp.app_template_filter("login_reason")
def login_reason(reason: str | None) -> str | None:
    """A row's stored reason in the reader's language (loginlog.service.shown_reason)."""
    return service.shown_reason(reason)


# The filter bar's inputs, read through the API's page schema (core.pages.page_filters): the same rules and
# messages as the API; the export form posts to a URL carrying the same query, so it exports what the list shows.
FILTERS = {"phone": Filter("phone", lazy_gettext("手机号/secureId")),
           "client_ip": Filter("clientIp", lazy_gettext("IP 地址")),
           "event": Filter("event", lazy_gettext("事件")), "grant_type": Filter("grantType", lazy_gettext("登录方式")),
           "result": Filter("result", lazy_gettext("结果")), "start": Filter("startTime", lazy_gettext("开始时间")),
           "end": Filter("endTime", lazy_gettext("结束时间"))}


def _filters() -> dict[str, Any]:
    """The list's filters from the query string, as the API's page schema reads them (a refused one left out,
    flashed, 422)."""
    loaded = page_filters(LoginLogPageArgs, FILTERS)
    return {key: loaded.get(key) for key in ("phone", "result", "grant_type", "event", "client_ip", "start_time",
                                             "end_time")}


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    filters = _filters()
    try:
        result = service.page_logins(filters, page, page_size)
    except Invalid as exc:
        refuse_filters(exc.msg)
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
