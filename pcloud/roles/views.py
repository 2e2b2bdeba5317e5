"""角色管理 pages under /system/role: list, create, edit, delete, grant, refresh."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from pcloud.core.forms import ConfirmForm, is_gone
from pcloud.core.messages import N_
from pcloud.core.numbers import digits_only
from pcloud.core.pages import Filter, list_args, may, page_filters, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.security import current_principal, mirrors
from pcloud.core.sorting import sort_args
from pcloud.core.views import RecordPages
from pcloud.datascope import service as datascope
from pcloud.depts import service as depts
from pcloud.roles import service
from pcloud.roles.forms import RoleAssignForm, RoleForm
from pcloud.roles.schemas import RolePageArgs, RoleUsersArgs

bp = Blueprint("roles", __name__, url_prefix="/system/role")
pages = RecordPages(bp, lazy_gettext("角色"), "roles/form.html")


# The filter bar's inputs, read through the API's page schema.
FILTERS = {"name": Filter("name", lazy_gettext("角色名称")), "role_code": Filter("roleCode", lazy_gettext("角色编码"))}


def _filters() -> dict[str, Any]:
    return page_filters(RolePageArgs, FILTERS)


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    result = service.page_roles({**_filters(), **sort_args(service.ROLE_SORTS)}, page, page_size, as_shown=True)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("roles/list.html", page=result, items=service.list_rows(result.items),
                           args=request.args, confirm=ConfirmForm())


def _data(form: RoleForm) -> dict[str, Any]:
    return {"name": form.name.data, "role_code": form.role_code.data, "data_scope": form.data_scope.data,
            "dept_ids": form.dept_ids.data or [], "job_group_ids": form.job_group_ids.data or []}


def _with_executors(form: RoleForm, role: Any = None) -> RoleForm:
    """The executor checkboxes (issue 23, 1): every live executor."""
    form.job_group_ids.choices = service.executor_choices(None if role is None or is_gone(role) else role.id)
    return form


def _stored(role: Any) -> dict[str, Any]:
    """What the edit form shows beyond the role's own columns: its custom data scope and its executors."""
    return {"dept_ids": service.scope_depts([role.id]).get(role.id, []),
            "job_group_ids": service.job_group_ids_of([role.id]).get(role.id, [])}


def _scope_choices(form: RoleForm) -> RoleForm:
    form.data_scope.choices = list(datascope.SCOPE_NAMES.items())
    form.dept_ids.choices = depts.choices()
    return form


@bp.route("/new", methods=["GET", "POST"])
@action(N_("角色新增"))
@mirrors("roles_api.create")
def create() -> Any:
    form = _with_executors(_scope_choices(RoleForm()))
    return pages.form(form, lambda: gettext("角色「%(name)s」已创建，可以为它授权了",
                                            name=service.create_role(_data(form)).name),
                      role=None, read_only=False)


@bp.route("/<int:role_id>/edit", methods=["GET", "POST"])
@action(N_("角色修改"))
@mirrors("roles_api.modify")
def edit(role_id: int) -> Any:
    role = pages.record(service.get_role, role_id)
    form = _with_executors(_scope_choices(pages.edit_form(RoleForm, role)), role)
    form.record_id = None if is_gone(role) else role.id
    stored = None if is_gone(role) else _stored(role)
    if request.method == "GET" and stored is not None:
        form.dept_ids.data, form.job_group_ids.data = stored["dept_ids"], stored["job_group_ids"]
    return pages.form(form, lambda: gettext("角色「%(name)s」已保存",
                                            name=service.modify_role({"id": role.id, **_data(form)}).shown_name),
                      role=role, stored=stored, **_read_only(role))


def _read_only(role: Any) -> dict[str, Any]:
    """The super administrator's role, and a role reaching beyond this principal (`beyond_reach`: why), are
    shown read-only."""
    if is_gone(role):
        return {"read_only": False, "beyond_reach": None}
    if service.is_super_admin_role(role):
        return {"read_only": True, "beyond_reach": None}
    why = service.beyond_reach(role)
    return {"read_only": why is not None, "beyond_reach": why}


@bp.route("/<int:role_id>/delete", methods=["POST"])
@action(N_("角色删除"))
@mirrors("roles_api.delete")
def delete(role_id: int) -> Any:
    return pages.confirm(lambda: gettext("角色「%(name)s」已删除", name=service.delete_role(role_id).shown_name),
                         gettext("不能删除："))


@bp.route("/<int:role_id>/grant", methods=["GET", "POST"])
@action(N_("角色授权"))
@mirrors("roles_api.grant", read_only_view=True)
def grant(role_id: int) -> Any:
    role = pages.record(service.get_role, role_id)
    menu_ids = [int(v) for v in request.form.getlist("menu_ids") if digits_only(v)]
    resource_ids = [int(v) for v in request.form.getlist("resource_ids") if digits_only(v)]

    def save() -> str:
        service.grant(role.id, menu_ids, resource_ids)
        return gettext("已保存角色「%(name)s」的授权：%(menus)s 个菜单，%(resources)s 个资源", name=role.shown_name,
                       menus=len(set(menu_ids)), resources=len(set(resource_ids)))

    if is_gone(role):  # deleted meanwhile: the trees with what was ticked, rather than a bare 404
        view = {**service.grant_trees(), "has_routers": menu_ids, "has_resources": resource_ids}
    else:
        view = service.role_menu_view(role.id)
    menus, resources = service.grant_page_trees(view)
    shown = _read_only(role)
    granted = None if is_gone(role) else {"menu_ids": view["has_routers"], "resource_ids": view["has_resources"]}
    return pages.form(ConfirmForm(), save, done=url_for("roles.grant", role_id=role.id), stored=granted,
                      template="roles/grant.html", role=role, beyond_reach=shown["beyond_reach"],
                      read_only=shown["read_only"] or not may("roles.grant", role_id=role_id),
                      menus=menus, resources=resources, locked_count=service.locked_count(menus, resources),
                      # a refused save shows what was ticked (a review's 409 showed the stored grants instead,
                      # and saving them again as shown lost the change), else what the role holds
                      menu_ids=set(menu_ids if request.method == "POST" else view["has_routers"]),
                      resource_ids=set(resource_ids if request.method == "POST" else view["has_resources"]))


@bp.route("/refresh", methods=["POST"])
@action(N_("刷新权限"))
@mirrors("roles_api.refresh")
def refresh() -> Any:
    def run() -> str:
        service.refresh()
        return gettext("已通知所有服务进程重新加载权限")

    return pages.confirm(run)


USER_FILTERS = {"keyword": Filter("keyword", lazy_gettext("用户名/手机号")),
                "assigned": Filter("assigned", lazy_gettext("分配状态"))}


@bp.route("/<int:role_id>/users")
def users(role_id: int) -> Any:
    """分配用户: the users holding the role (or, with ?assigned=false, not holding it), within the principal's
    data scope, with checkboxes to remove (or add) the role."""
    role = service.get_role(role_id)
    page, page_size = list_args()
    filters = page_filters(RoleUsersArgs, USER_FILTERS)
    assigned = filters.get("assigned", True) is not False
    result = service.role_users(role.id, {**filters, "assigned": assigned}, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("roles/users.html", role=role, page=result, items=result.items, assigned=assigned,
                           args=request.args, page_url=page_url, form=RoleAssignForm(),
                           scope_name=datascope.SCOPE_NAMES.get(role.data_scope, ""))


@bp.route("/<int:role_id>/users/assign", methods=["POST"])
@action(N_("角色分配用户"))
@mirrors("roles_api.assign")
def assign(role_id: int) -> Any:
    form = RoleAssignForm()

    def run() -> str:
        adding = form.assigned.data == "1"
        role, changed = service.assign_users(role_id, form.user_ids.data or [], adding, current_principal())
        if adding:
            return gettext("已为 %(n)s 个用户添加角色「%(name)s」", n=changed, name=role.shown_name)
        return gettext("已为 %(n)s 个用户移除角色「%(name)s」", n=changed, name=role.shown_name)

    return pages.confirm(run, gettext("不能分配："), fallback=url_for("roles.users", role_id=role_id), form=form)
