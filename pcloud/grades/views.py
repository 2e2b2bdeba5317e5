"""职级管理 pages under /system/grade: the list by level, create/edit, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext, lazy_gettext

from pcloud.core.forms import ConfirmForm
from pcloud.core.messages import N_
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.sorting import sort_args
from pcloud.core.views import RecordPages
from pcloud.grades import service
from pcloud.grades.forms import GradeForm
from pcloud.grades.schemas import GradePageArgs

bp = Blueprint("grades", __name__, url_prefix="/system/grade")
pages = RecordPages(bp, lazy_gettext("职级"), "grades/form.html")


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    filters = page_filters(GradePageArgs, {"name": Filter("name", lazy_gettext("职级名称"))})
    name = request.args.get("name", "")  # the filter bar shows what was typed
    result = service.page_grades({**filters, **sort_args(service.GRADE_SORTS)}, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    counts = service.holder_counts([item["id"] for item in result.items])
    rows = [{**item, "holders": counts.get(item["id"], 0),
             "refusal": service.delete_refusal(item["name"], counts.get(item["id"], 0))} for item in result.items]
    return render_template("grades/list.html", page=result, rows=rows, name=name, confirm=ConfirmForm(),
                           page_url=page_url)


def _data(form: GradeForm) -> dict[str, Any]:
    return {"name": form.name.data, "level": form.level.data, "remark": form.remark.data}


@bp.route("/new", methods=["GET", "POST"])
@action(N_("职级新增"))
@mirrors("grades_api.create")
def create() -> Any:
    form = GradeForm()
    return pages.form(form, lambda: gettext("职级「%(name)s」已创建", name=service.create_grade(_data(form)).name),
                      grade=None)


@bp.route("/<int:grade_id>/edit", methods=["GET", "POST"])
@action(N_("职级修改"))
@mirrors("grades_api.modify")
def edit(grade_id: int) -> Any:
    grade = pages.record(service.get_grade, grade_id)
    form = pages.edit_form(GradeForm, grade)
    return pages.form(form, lambda: gettext("职级「%(name)s」已保存", name=service.modify_grade({"id": grade.id,
                                                                                          **_data(form)}).name),
                      grade=grade)


@bp.route("/<int:grade_id>/delete", methods=["POST"])
@action(N_("职级删除"))
@mirrors("grades_api.delete")
def delete(grade_id: int) -> Any:
    return pages.confirm(lambda: gettext("职级「%(name)s」已删除", name=service.delete_grade(grade_id).name))
