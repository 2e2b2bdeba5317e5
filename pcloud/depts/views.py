"""部门管理 pages under /system/dept: the tree, create/edit, delete, the org chart and the manager search."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext, lazy_gettext

from pcloud.core.errors import Forbidden, Invalid
from pcloud.core.forms import ConfirmForm
from pcloud.core.messages import N_
from pcloud.core.numbers import digits_only
from pcloud.core.pages import Filter, int_arg, page_filters
from pcloud.core.recorder import action
from pcloud.core.routing import MAX_ID
from pcloud.core.security import mirrors
from pcloud.core.timefmt import to_local
from pcloud.core.tree import prune, walk
from pcloud.core.views import RecordPages
from pcloud.depts import service
from pcloud.depts.forms import DeptForm
from pcloud.depts.schemas import DeptPageArgs

bp = Blueprint("depts", __name__, url_prefix="/system/dept")

# Above this many departments the org chart starts folded to a few levels (each box can be opened).
ORG_FOLD_AT = 150
ORG_FOLD_DEPTH = 3
pages = RecordPages(bp, lazy_gettext("部门"), "depts/form.html")
ROOT = (0, lazy_gettext("（无，作为顶级部门）"))


@bp.app_template_global("dept_options")
def dept_options(keep: int | None = None) -> list[tuple[int, str]]:
    """The department filter of other pages (the user list's): the departments within the principal's data scope,
    and `keep` (the filter as given) even beyond it (`service.filter_choices`)."""
    return service.filter_choices(keep)


def _rows(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Depth-first rows for the tree table, each knowing its ancestors (for folding)."""
    rows: list[dict[str, Any]] = []
    stack: list[int] = []
    for depth, node in walk(nodes):
        del stack[depth:]
        refusal = service.delete_refusal(node["name"], node["child_count"], node["members"])
        rows.append({"depth": depth, "node": node, "ancestors": " ".join(map(str, stack)), "refusal": refusal,
                     "beyond_scope": service.scope_refusal(node["id"]) is not None})
        stack.append(node["id"])
    return rows


@bp.route("/")
def index() -> Any:
    needle = (page_filters(DeptPageArgs, {"name": Filter("name", lazy_gettext("部门名称"))}).get("name") or "").strip()
    nodes = service.tree_with_members()
    if needle:
        nodes = prune(nodes, needle)
    return render_template("depts/list.html", rows=_rows(nodes), needle=needle, confirm=ConfirmForm(),
                           total=sum(1 for _ in walk(nodes)))


def _local_date(value: Any) -> Any:
    local = to_local(value)
    return local.date() if local else None


def _manager_id(form: DeptForm) -> int | None:
    raw = (form.manager_id.data or "").strip()
    if not raw:
        return None
    if not digits_only(raw) or len(raw) > 10 or int(raw) > MAX_ID:
        raise Invalid(gettext("负责人不存在"), field="managerId")
    return int(raw)


def _manager_from_form(form: DeptForm) -> dict[str, Any] | None:
    raw = (form.manager_id.data or "").strip()
    return service.user_brief(int(raw)) if digits_only(raw) and len(raw) <= 10 and int(raw) <= MAX_ID else None


def _form(dept: Any = None) -> DeptForm:
    form = DeptForm()
    keep = dept.parent_id if dept else None
    top = [ROOT] if keep == 0 or service.scope_refusal(0) is None else []  # the top level: all data only
    form.parent_id.choices = top + service.parent_choices(exclude_id=dept.id if dept else None, keep=keep)
    return form


def _data(form: DeptForm) -> dict[str, Any]:
    return {"parent_id": form.parent_id.data, "name": form.name.data, "manager_id": _manager_id(form),
            "established_time": service.local_midnight_utc(form.established_time.data),
            "sequence": form.sequence.data or 0}


@bp.route("/new", methods=["GET", "POST"])
@action(N_("部门新增"))
@mirrors("depts_api.create")
def create() -> Any:
    form = _form()
    if request.method == "GET":
        form.parent_id.data = int_arg("parent_id", 0)
    return pages.form(form, lambda: gettext("部门「%(name)s」已创建", name=service.create_dept(_data(form)).name),
                      dept=None,
                      manager=_manager_from_form(form), phones_searchable=service.may_see_phones())


@bp.route("/<int:dept_id>/edit", methods=["GET", "POST"])
@action(N_("部门修改"))
@mirrors("depts_api.modify")
def edit(dept_id: int) -> Any:
    dept = pages.record(service.get_dept, dept_id)
    if request.method == "GET" and (refusal := service.scope_refusal(dept.id)) is not None:
        raise Forbidden(refusal)  # typed in: said at once, not after the form is filled (the list offers no 编辑)
    form = _form(dept)
    if request.method == "GET":
        form.parent_id.data = dept.parent_id
        form.name.data = dept.name
        form.manager_id.data = str(dept.manager_id or "")
        form.established_time.data = _local_date(dept.established_time)
        form.sequence.data = dept.sequence
    return pages.form(form, lambda: gettext("部门「%(name)s」已保存", name=service.modify_dept({"id": dept.id,
                                                                                         **_data(form)}).name),
                      dept=dept, manager=_manager_from_form(form), phones_searchable=service.may_see_phones())


@bp.route("/<int:dept_id>/delete", methods=["POST"])
@action(N_("部门删除"))
@mirrors("depts_api.delete")
def delete(dept_id: int) -> Any:
    return pages.confirm(lambda: gettext("部门「%(name)s」已删除", name=service.delete_dept(dept_id).name))


@bp.route("/org")
def org() -> Any:
    root_id = int_arg("root")
    path = []
    if root_id:
        service.get_dept(root_id)  # 404 page for an unknown or deleted department
        path = service.path_of(root_id)
    nodes = service.tree_with_members(root_id)
    count = sum(1 for _ in walk(nodes))
    depth = int_arg("depth")
    if depth is None or depth < 1:
        depth = ORG_FOLD_DEPTH if count > ORG_FOLD_AT else 0
    return render_template("depts/org.html", nodes=nodes, count=count, depth=depth, path=path,
                           root_id=root_id, members=sum(n["total_members"] for n in nodes))


@bp.route("/managers")
def managers() -> Any:
    """Users matching a name or phone fragment, for the manager picker of the department form."""
    return jsonify({"items": service.search_users(request.args.get("q", ""))})
