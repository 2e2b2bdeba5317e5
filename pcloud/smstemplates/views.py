"""短信模板 pages under /personalized/sms: the list, create/edit, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext, lazy_gettext

from pcloud.core.forms import ConfirmForm
from pcloud.core.messages import N_
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.views import RecordPages
from pcloud.smstemplates import service
from pcloud.smstemplates.forms import SmsTemplateForm
from pcloud.smstemplates.schemas import SmsTemplatePageArgs

bp = Blueprint("smstemplates", __name__, url_prefix="/personalized/sms")
pages = RecordPages(bp, lazy_gettext("短信模板"), "smstemplates/form.html")


# The filter bar's inputs, read through the API's page schema (core.pages.page_filters)
FILTERS = {"name": Filter("name", lazy_gettext("短信名称")), "code": Filter("code", lazy_gettext("短信编码"))}


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    filters = page_filters(SmsTemplatePageArgs, FILTERS)
    typed = {param: request.args.get(param, "") for param in FILTERS}  # the filter bar shows what was typed
    result = service.page_templates(filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("smstemplates/list.html", page=result, rows=result.items, typed=typed,
                           confirm=ConfirmForm(), page_url=page_url)


def _data(form: SmsTemplateForm) -> dict[str, Any]:
    return {"code": form.code.data, "name": form.name.data, "description": form.description.data}


@bp.route("/new", methods=["GET", "POST"])
@action(N_("短信模板新增"))
@mirrors("smstemplates_api.create")
def create() -> Any:
    form = SmsTemplateForm()
    return pages.form(
        form, lambda: gettext("短信模板「%(name)s」已创建", name=service.create_template(_data(form)).name),
        template_=None)


@bp.route("/<int:template_id>/edit", methods=["GET", "POST"])
@action(N_("短信模板修改"))
@mirrors("smstemplates_api.modify")
def edit(template_id: int) -> Any:
    record = pages.record(service.get_template, template_id)
    form = pages.edit_form(SmsTemplateForm, record)
    return pages.form(
        form, lambda: gettext("短信模板「%(name)s」已保存",
                              name=service.modify_template({"id": record.id, **_data(form)}).name),
        template_=record)


@bp.route("/<int:template_id>/delete", methods=["POST"])
@action(N_("短信模板删除"))
@mirrors("smstemplates_api.delete")
def delete(template_id: int) -> Any:
    return pages.confirm(lambda: gettext("短信模板「%(name)s」已删除", name=service.delete_template(template_id).name))
