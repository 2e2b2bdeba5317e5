"""参数设置 pages under /system/config: the list, one parameter's edit form, reset to default."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end
from pcloud.core.recorder import action, outcome_message
from pcloud.core.security import mirrors
from pcloud.core.views import RecordPages
from pcloud.params import service
from pcloud.params.forms import form_for
from pcloud.params.schemas import ParamPageArgs

bp = Blueprint("params", __name__, url_prefix="/system/config")
pages = RecordPages(bp, "参数", "params/form.html")


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    filters = page_filters(ParamPageArgs, {"key": Filter("key", "参数键名"), "name": Filter("name", "参数名称")})
    result = service.page_params(filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("params/list.html", page=result, args=request.args, filtered=bool(filters),
                           shown=service.shown, catalogue=service.CATALOGUE, page_url=page_url)


@bp.route("/<string:key>/edit", methods=["GET", "POST"])
@action("参数修改")
@mirrors("params_api.modify:PUT")
def edit(key: str) -> Any:
    d = service.definition(key)
    item = service.get_param(key)
    form = form_for(d)
    if request.method == "GET":
        form.value.data = service.shown_raw(d, item["value"])

    def save() -> str:
        changed, old, new = service.modify(key, form.value.data)
        message = service.change_message(changed, old, new)
        outcome_message(message)
        return message

    return pages.form(form, save, param=item, definition=d, shown=service.shown)


@bp.route("/<string:key>/reset", methods=["POST"])
@action("参数重置")
@mirrors("params_api.reset")
def reset(key: str) -> Any:
    def run() -> str:
        changed, old, new = service.reset(key)
        message = service.change_message(changed, old, new)
        outcome_message(message)
        return message

    return pages.confirm(run, refused="不能重置：")
