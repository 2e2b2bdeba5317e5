"""角色管理 pages under /system/role: list, create, edit, delete, grant, refresh."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from pcloud.core.errors import PCloudError
from pcloud.core.forms import (
    ConfirmForm,
    apply_domain_error,
    confirmed_action,
    form_status,
    is_gone,
    mark_failed,
    record_or_gone,
    require_no_body,
)
from pcloud.core.pages import list_args, past_the_end
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.sorting import sort_args
from pcloud.roles import service
from pcloud.roles.forms import RoleForm

bp = Blueprint("roles", __name__, url_prefix="/system/role")


def _filters() -> dict[str, Any]:
    return {"name": request.args.get("name", "").strip()[:64],
            "role_code": request.args.get("role_code", "").strip()[:64]}


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    result = service.page_roles({**_filters(), **sort_args(service.ROLE_SORTS)}, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("roles/list.html", page=result, items=service.to_items(result.items),
                           args=request.args, confirm=ConfirmForm())


@bp.route("/new", methods=["GET", "POST"])
@action("角色新增")
@mirrors("roles_api.create")
def create() -> Any:
    form = RoleForm()
    if form.validate_on_submit():
        try:
            role = service.create_role({"name": form.name.data, "role_code": form.role_code.data})
            flash(f"角色「{role.name}」已创建，可以为它授权了", "success")
            return redirect(url_for("roles.index"))
        except PCloudError as exc:
            apply_domain_error(form, exc)
    status = form_status()
    return render_template("roles/form.html", form=form, role=None, read_only=False), status


@bp.route("/<int:role_id>/edit", methods=["GET", "POST"])
@action("角色修改")
@mirrors("roles_api.modify")
def edit(role_id: int) -> Any:
    role = record_or_gone(service.get_role, role_id, "角色")
    form = RoleForm(obj=None if request.method == "POST" else role)
    if is_gone(role):
        form.validate()
        return render_template("roles/form.html", form=form, role=role, read_only=False), 404
    read_only = service.is_super_admin_role(role)
    if request.method == "POST" and form.validate_on_submit():
        try:
            service.modify_role({"id": role.id, "name": form.name.data, "role_code": form.role_code.data})
            flash(f"角色「{form.name.data.strip()}」已保存", "success")
            return redirect(url_for("roles.index"))
        except PCloudError as exc:
            apply_domain_error(form, exc)
    status = form_status()
    return render_template("roles/form.html", form=form, role=role, read_only=read_only), status


@bp.route("/<int:role_id>/delete", methods=["POST"])
@action("角色删除")
@mirrors("roles_api.delete")
def delete(role_id: int) -> Any:
    return confirmed_action(lambda: f"角色「{service.delete_role(role_id).name}」已删除", "/system/role",
                            url_for("roles.index"), "不能删除：")


@bp.route("/<int:role_id>/grant", methods=["GET", "POST"])
@action("角色授权")
@mirrors("roles_api.grant")
def grant(role_id: int) -> Any:
    role = service.get_role(role_id)
    read_only = service.is_super_admin_role(role)
    form = ConfirmForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            menu_ids = [int(v) for v in request.form.getlist("menu_ids") if v.isdigit()]
            resource_ids = [int(v) for v in request.form.getlist("resource_ids") if v.isdigit()]
            service.grant(role.id, menu_ids, resource_ids)
            flash(f"已保存角色「{role.name}」的授权：{len(set(menu_ids))} 个菜单，{len(set(resource_ids))} 个资源",
                  "success")
            return redirect(url_for("roles.grant", role_id=role.id))
        except PCloudError as exc:
            flash(exc.msg, "danger")
            mark_failed(exc)  # logged as refused, and the page answers with the refusal's status
            status = exc.code
    view = service.role_menu_view(role.id)
    return render_template("roles/grant.html", role=role, read_only=read_only, form=form,
                           menus=view["routers"], resources=view["resources"],
                           menu_ids=set(view["has_routers"]), resource_ids=set(view["has_resources"])), status


@bp.route("/refresh", methods=["POST"])
@action("刷新权限")
@mirrors("roles_api.refresh")
def refresh() -> Any:
    require_no_body()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    service.refresh()
    flash("已通知所有服务进程重新加载权限", "success")
    return redirect(url_for("roles.index"))
