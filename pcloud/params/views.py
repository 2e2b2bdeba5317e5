"""参数设置 pages under /system/config: the list, one parameter's edit form, reset to default."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext, lazy_gettext

from pcloud.core.messages import N_
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end
from pcloud.core.recorder import action, outcome_message
from pcloud.core.security import mirrors
from pcloud.core.views import RecordPages
from pcloud.params import service
from pcloud.params.forms import form_for
from pcloud.params.schemas import ParamPageArgs

bp = Blueprint("params", __name__, url_prefix="/system/config")
pages = RecordPages(bp, lazy_gettext("参数"), "params/form.html")


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    filters = page_filters(ParamPageArgs, {"key": Filter("key", gettext("参数键名")),
                                            "name": Filter("name", gettext("参数名称"))})
    result = service.page_params(filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("params/list.html", page=result, args=request.args, filtered=bool(filters),
                           shown=service.said, catalogue=service.CATALOGUE, page_url=page_url)


@bp.route("/<string:key>/edit", methods=["GET", "POST"])
@action(N_("参数修改"))
@mirrors("params_api.modify:PUT")
def edit(key: str) -> Any:
    d = service.definition(key)
    item = service.get_param(key)
    form = form_for(d)
    if request.method == "GET":
        form.value.data = service.shown_raw(d, item["value"])

    def save() -> str:
        changed, old, new = service.modify(key, form.value.data)
        outcome_message(service.change_message(changed, old, new))  # read in each reader's language
        return service.change_said(changed, old, new)

    return pages.form(form, save, param=item, definition=d, shown=service.said)


@bp.route("/<string:key>/reset", methods=["POST"])
@action(N_("参数重置"))
@mirrors("params_api.reset")
def reset(key: str) -> Any:
    def run() -> str:
        changed, old, new = service.reset(key)
        outcome_message(service.change_message(changed, old, new))  # read in each reader's language
        return service.change_said(changed, old, new)

    return pages.confirm(run, refused=gettext("不能重置："))
