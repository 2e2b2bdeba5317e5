"""字典管理 pages under /system/dict: the types, their items (/system/dict/data), create/edit, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext, lazy_gettext

from pcloud.core.messages import N_
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.views import RecordPages
from pcloud.dicts import service
from pcloud.dicts.forms import DictDataForm, DictTypeForm
from pcloud.dicts.schemas import DictDataPageArgs, DictTypePageArgs

bp = Blueprint("dicts", __name__, url_prefix="/system/dict")
bp.add_app_template_filter(service.shown_label, "dict_label")
types = RecordPages(bp, lazy_gettext("字典类型"), "dicts/type_form.html")
items = RecordPages(bp, lazy_gettext("字典数据"), "dicts/data_form.html", index="data")
STATUS_OPTIONS = [("0", lazy_gettext("正常")), ("1", lazy_gettext("停用"))]


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    filters = page_filters(DictTypePageArgs, {"name": Filter("name", gettext("字典名称")),
                                              "dict_type": Filter("dictType", gettext("字典类型")),
                                              "status": Filter("status", gettext("状态"))})
    result = service.page_types(filters, page, page_size, as_shown=True)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("dicts/types.html", page=result, args=request.args, filtered=bool(filters),
                           statuses=STATUS_OPTIONS, page_url=page_url)


def _type_data(form: DictTypeForm) -> dict[str, Any]:
    return {"name": form.name.data, "dict_type": form.dict_type.data, "status": form.status.data,
            "remark": form.remark.data}


@bp.route("/new", methods=["GET", "POST"])
@action(N_("字典类型新增"))
@mirrors("dicts_api.type_create")
def create() -> Any:
    form = DictTypeForm()
    return types.form(
        form, lambda: gettext("字典类型「%(name)s」已创建", name=service.create_type(_type_data(form)).name),
        record=None)


@bp.route("/<int:type_id>/edit", methods=["GET", "POST"])
@action(N_("字典类型修改"))
@mirrors("dicts_api.type_modify")
def edit(type_id: int) -> Any:
    record = types.record(service.get_type, type_id)
    form = types.edit_form(DictTypeForm, record)
    return types.form(
        form, lambda: gettext("字典类型「%(name)s」已保存",
                              name=service.modify_type({"id": record.id, **_type_data(form)}).name),
        record=record)


@bp.route("/<int:type_id>/delete", methods=["POST"])
@action(N_("字典类型删除"))
@mirrors("dicts_api.type_delete:DELETE")
def delete(type_id: int) -> Any:
    """The confirm dialog names the items that go with the type (API: ?cascade=1)."""
    return types.confirm(lambda: gettext("字典类型「%(name)s」已删除",
                                         name=service.delete_type(type_id, cascade=True).name),
                         refused=gettext("不能删除："))


@bp.route("/data")
def data() -> Any:
    page, page_size = list_args()
    filters = page_filters(DictDataPageArgs, {"dict_type": Filter("dictType", gettext("字典类型")),
                                              "label": Filter("label", gettext("字典标签")),
                                              "status": Filter("status", gettext("状态"))})
    result = service.page_data(filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("dicts/data.html", page=result, args=request.args, filtered=bool(filters),
                           type_choices=service.all_type_choices(), statuses=STATUS_OPTIONS,
                           current_type=filters.get("dict_type"), page_url=page_url)


def _data_form(record: Any = None) -> DictDataForm:
    form = items.edit_form(DictDataForm, record)
    form.dict_type.choices = service.all_type_choices()
    if request.method == "GET" and record is None:
        form.dict_type.data = request.args.get("dict_type", "")
    typed = form.dict_type.data
    if typed and typed not in dict(form.dict_type.choices):
        # a type renamed or deleted since the form was shown: kept selected, so that saving again is refused
        # (字典类型不存在) instead of the browser sending the first type and moving the item into it
        form.dict_type.choices.append((typed, gettext("%(code)s（已不存在）", code=typed)))
    return form


def _item_data(form: DictDataForm) -> dict[str, Any]:
    return {"dict_type": form.dict_type.data, "label": form.label.data,
            "label_en": form.label_en.data, "value": form.value.data,
            "sort": form.sort.data or 0, "css_class": form.css_class.data, "is_default": form.is_default.data,
            "status": form.status.data, "remark": form.remark.data}


def _back_to_type(code: str) -> str:
    return items.back(dict_type=code)


@bp.route("/data/new", methods=["GET", "POST"])
@action(N_("字典数据新增"))
@mirrors("dicts_api.data_create")
def data_create() -> Any:
    form = _data_form()
    saved: dict[str, Any] = {}

    def save() -> str:
        saved["row"] = service.create_data(_item_data(form))
        return gettext("字典数据「%(label)s」已创建", label=service.shown_label(saved["row"]))

    return items.form(form, save, done=lambda: _back_to_type(saved["row"].dict_type), record=None)


@bp.route("/data/<int:data_id>/edit", methods=["GET", "POST"])
@action(N_("字典数据修改"))
@mirrors("dicts_api.data_modify")
def data_edit(data_id: int) -> Any:
    record = items.record(service.get_data, data_id, named_by="label")
    form = _data_form(record)
    saved: dict[str, Any] = {}

    def save() -> str:
        saved["row"] = service.modify_data({"id": record.id, **_item_data(form)})
        return gettext("字典数据「%(label)s」已保存", label=service.shown_label(saved["row"]))

    return items.form(form, save, done=lambda: _back_to_type(saved["row"].dict_type), record=record)


@bp.route("/data/<int:data_id>/delete", methods=["POST"])
@action(N_("字典数据删除"))
@mirrors("dicts_api.data_delete:DELETE")
def data_delete(data_id: int) -> Any:
    return items.confirm(lambda: gettext("字典数据「%(label)s」已删除",
                                         label=service.shown_label(service.delete_data(data_id))),
                         refused=gettext("不能删除："))

