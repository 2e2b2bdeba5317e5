"""菜单管理 pages under /system/menu: the tree, create, edit, move, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from pcloud.core.errors import PCloudError
from pcloud.core.forms import ConfirmForm, apply_domain_error, confirmed_action, form_status
from pcloud.core.pages import int_arg
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.tree import walk
from pcloud.menus import icons as menu_icons
from pcloud.menus import service
from pcloud.menus.forms import MenuForm, MoveForm

bp = Blueprint("menus", __name__, url_prefix="/system/menu")
ROOT = (0, "（顶级菜单）")
# A stored icon may be a Bootstrap name or one of the original front end's svg names (icons.py).
bp.add_app_template_filter(menu_icons.for_pages, "page_icon")


@bp.route("/")
def index() -> Any:
    name = request.args.get("name", "").strip()[:64]
    tree, total = service.menu_tree(name)
    return render_template("menus/tree.html", rows=list(walk(tree)), total=total, name=name,
                           confirm=ConfirmForm())


def _data(form: MenuForm) -> dict[str, Any]:
    return {"parent_id": form.parent_id.data or 0, "name": form.name.data, "path": form.path.data,
            "component": form.component.data, "redirect": form.redirect.data, "icon": form.icon.data,
            "sequence": form.sequence.data or 0, "router": bool(form.router.data), "hidden": bool(form.hidden.data)}


@bp.route("/new", methods=["GET", "POST"])
@action("菜单新增")
@mirrors("menus_api.create")
def create() -> Any:
    form = MenuForm()
    form.parent_id.choices = [ROOT] + service.parent_choices()
    if request.method == "GET":
        form.parent_id.data = int_arg("parent_id", 0)
    if form.validate_on_submit():
        try:
            menu = service.create_menu(_data(form))
            flash(f"菜单「{menu.name}」已创建", "success")
            return redirect(url_for("menus.index"))
        except PCloudError as exc:
            apply_domain_error(form, exc)
    status = form_status()
    return render_template("menus/form.html", form=form, menu=None), status


@bp.route("/<int:menu_id>/edit", methods=["GET", "POST"])
@action("菜单修改")
@mirrors("menus_api.modify")
def edit(menu_id: int) -> Any:
    menu = service.get_menu(menu_id)
    form = MenuForm(obj=None if request.method == "POST" else menu)
    form.parent_id.choices = [ROOT] + service.parent_choices(exclude_id=menu.id)
    if form.validate_on_submit():
        try:
            service.modify_menu({"id": menu.id, **_data(form)})
            flash(f"菜单「{form.name.data.strip()}」已保存", "success")
            return redirect(url_for("menus.index"))
        except PCloudError as exc:
            apply_domain_error(form, exc)
    status = form_status()
    return render_template("menus/form.html", form=form, menu=menu), status


@bp.route("/<int:menu_id>/move", methods=["GET", "POST"])
@action("菜单移动")
@mirrors("menus_api.modify")
def move(menu_id: int) -> Any:
    menu = service.get_menu(menu_id)
    form = MoveForm(obj=None if request.method == "POST" else menu)
    form.parent_id.choices = [ROOT] + service.parent_choices(exclude_id=menu.id)
    if form.validate_on_submit():
        try:
            service.move_menu(menu.id, form.parent_id.data or 0, form.sequence.data or 0)
            flash(f"菜单「{menu.name}」已移动", "success")
            return redirect(url_for("menus.index"))
        except PCloudError as exc:
            apply_domain_error(form, exc)
    status = form_status()
    return render_template("menus/move.html", form=form, menu=menu), status


@bp.route("/<int:menu_id>/delete", methods=["POST"])
@action("菜单删除")
@mirrors("menus_api.delete")
def delete(menu_id: int) -> Any:
    return confirmed_action(lambda: f"菜单「{service.delete_menu(menu_id).name}」已删除，并已从所有角色中移除",
                            "/system/menu", url_for("menus.index"), "不能删除：")
