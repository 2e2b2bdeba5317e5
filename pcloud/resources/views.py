"""访问资源 pages under /system/resource: a tree whose children load when a node is opened."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from pcloud.core.forms import ConfirmForm, is_gone
from pcloud.core.i18n import translated
from pcloud.core.messages import N_
from pcloud.core.pages import Filter, int_arg, list_args, page_filters, past_the_end
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.views import RecordPages
from pcloud.resources import service
from pcloud.resources.forms import ResourceForm
from pcloud.resources.schemas import ResourcePageArgs

bp = Blueprint("resources", __name__, url_prefix="/system/resource")
ROOT = (0, lazy_gettext("（顶级资源）"))
CHILDREN_PAGE = 100
pages = RecordPages(bp, lazy_gettext("资源"), "resources/form.html")


@bp.route("/")
def index() -> Any:
    """Roots (or one level, `parent_id`), or with a name: matches from every level. Children load lazily."""
    page, page_size = list_args()
    loaded = page_filters(ResourcePageArgs, {"name": Filter("name", lazy_gettext("资源名称")),
                                             "parent_id": Filter("parentId", lazy_gettext("上级"))})
    name, parent_id = (loaded.get("name") or "").strip(), loaded.get("parent_id")
    filters: dict[str, Any] = {"name": name, "parent_id": parent_id}
    result = service.page_resources(filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    trail = service.ancestors(parent_id) if parent_id else []
    return render_template("resources/tree.html", page=result, items=service.to_items(result.items), name=name,
                           parent_id=parent_id, trail=trail, confirm=ConfirmForm(), searching=bool(name))


@bp.route("/<int:parent_id>/children")
def children(parent_id: int) -> Any:
    """The rows under one node, as an HTML fragment the tree page inserts when it is opened."""
    page = max(int_arg("page", 1) or 1, 1)
    depth = min(max(int_arg("depth", 1) or 1, 1), 20)
    result = service.page_resources({"parent_id": parent_id}, page, CHILDREN_PAGE)
    return render_template("resources/rows.html", items=service.to_items(result.items), depth=depth,
                           parent_id=parent_id, page=result, confirm=ConfirmForm())


def _data(form: ResourceForm) -> dict[str, Any]:
    return {"parent_id": form.parent_id.data or 0, "name": form.name.data, "resource_url": form.resource_url.data,
            "method": form.method.data, "biz_type": form.biz_type.data or 0}


def _back(parent_id: int | None) -> str:
    return url_for("resources.index", parent_id=parent_id) if parent_id else url_for("resources.index")


@bp.route("/new", methods=["GET", "POST"])
@action(N_("资源新增"))
@mirrors("resources_api.create")
def create() -> Any:
    form = ResourceForm()
    form.parent_id.choices = [ROOT] + service.parent_choices()
    if request.method == "GET":
        wanted = int_arg("parent_id", 0)
        if wanted and wanted not in {c[0] for c in form.parent_id.choices}:
            form.parent_id.choices.append((wanted, translated(service.get_resource(wanted).name)))
        form.parent_id.data = wanted
    return pages.form(form, lambda: gettext("资源「%(name)s」已创建", name=service.create_resource(_data(form)).name),
                      done=lambda: _back(form.parent_id.data), res=None, locked=None)


@bp.route("/<int:resource_id>/edit", methods=["GET", "POST"])
@action(N_("资源修改"))
@mirrors("resources_api.modify")
def edit(resource_id: int) -> Any:
    res = pages.record(service.get_resource, resource_id)
    locked = None if is_gone(res) else service.locked_reason(res) or service.reach_refusal(res)
    if locked:  # built-in, the open platform's, or beyond the editor's reach: shown read-only; a save is the
        # service's refusal (409, 403)
        return pages.form(ConfirmForm(), lambda: service.modify_resource({"id": res.id}).name, res=res,
                          locked=locked)
    form = pages.edit_form(ResourceForm, res)
    form.parent_id.choices = [ROOT] + service.parent_choices(exclude_id=res.id)
    if res.parent_id and res.parent_id not in {c[0] for c in form.parent_id.choices}:
        form.parent_id.choices.append((res.parent_id, gettext("（当前）#%(id)s", id=res.parent_id)))
    return pages.form(form, lambda: gettext("资源「%(name)s」已保存",
                                            name=service.modify_resource({"id": res.id, **_data(form)}).name),
                      done=lambda: _back(form.parent_id.data), res=res, locked=None)


@bp.route("/<int:resource_id>/delete", methods=["POST"])
@action(N_("资源删除"))
@mirrors("resources_api.delete")
def delete(resource_id: int) -> Any:
    return pages.confirm(lambda: gettext("资源「%(name)s」已删除",
                                         name=translated(service.delete_resource(resource_id).name)),
                         gettext("不能删除："))
