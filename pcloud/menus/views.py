"""菜单管理 pages under /system/menu: the tree, create, edit, move, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext, lazy_gettext

from pcloud.core.forms import ConfirmForm, is_gone
from pcloud.core.messages import N_
from pcloud.core.pages import Filter, int_arg, page_filters
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.tree import walk
from pcloud.core.views import RecordPages
from pcloud.menus import icons as menu_icons
from pcloud.menus import service
from pcloud.menus.forms import MenuForm, MoveForm
from pcloud.menus.schemas import MenuPageArgs

bp = Blueprint("menus", __name__, url_prefix="/system/menu")
ROOT = (0, lazy_gettext("（顶级菜单）"))
pages = RecordPages(bp, lazy_gettext("菜单"), "menus/form.html")
# A stored icon may be a Bootstrap name or one of the original front end's svg names (icons.py).
bp.add_app_template_filter(menu_icons.for_pages, "page_icon")
# A menu's name as a page shows it (its English label on an English page): the sidebar, the lists, the grant tree.
bp.add_app_template_filter(service.shown_name, "menu_name")


@bp.route("/")
def index() -> Any:
    name = (page_filters(MenuPageArgs, {"name": Filter("name", lazy_gettext("菜单名称"))}).get("name") or "").strip()
    tree, total = service.menu_tree(name)
    return render_template("menus/tree.html", rows=list(walk(tree)), total=total, name=name,
                           confirm=ConfirmForm())


def _data(form: MenuForm) -> dict[str, Any]:
    return {"parent_id": form.parent_id.data or 0, "name": form.name.data, "name_en": form.name_en.data,
            "path": form.path.data,
            "component": form.component.data, "redirect": form.redirect.data, "icon": form.icon.data,
            "sequence": form.sequence.data or 0, "router": bool(form.router.data), "hidden": bool(form.hidden.data)}


def _parents(form: Any, menu: Any = None) -> Any:
    form.parent_id.choices = [ROOT] + service.parent_choices(exclude_id=menu.id if menu else None)
    return form


@bp.route("/new", methods=["GET", "POST"])
@action(N_("菜单新增"))
@mirrors("menus_api.create")
def create() -> Any:
    form = _parents(MenuForm())
    if request.method == "GET":
        form.parent_id.data = int_arg("parent_id", 0)
    return pages.form(form, lambda: gettext("菜单「%(name)s」已创建",
                                            name=service.shown_name(service.create_menu(_data(form)))), menu=None)


@bp.route("/<int:menu_id>/edit", methods=["GET", "POST"])
@action(N_("菜单修改"))
@mirrors("menus_api.modify")
def edit(menu_id: int) -> Any:
    menu = pages.record(service.get_menu, menu_id)
    form = _parents(pages.edit_form(MenuForm, menu), menu)
    form.record_id = None if is_gone(menu) else menu.id

    def save() -> str:
        return gettext("菜单「%(name)s」已保存",
                       name=service.shown_name(service.modify_menu({"id": menu.id, **_data(form)})))

    return pages.form(form, save, menu=menu)


@bp.route("/<int:menu_id>/move", methods=["GET", "POST"])
@action(N_("菜单移动"))
@mirrors("menus_api.modify")
def move(menu_id: int) -> Any:
    menu = pages.record(service.get_menu, menu_id)
    form = _parents(pages.edit_form(MoveForm, menu), menu)

    def save() -> str:
        service.move_menu(menu.id, form.parent_id.data or 0, form.sequence.data or 0)
        return gettext("菜单「%(name)s」已移动", name=service.shown_name(menu))

    return pages.form(form, save, template="menus/move.html", menu=menu)


@bp.route("/<int:menu_id>/delete", methods=["POST"])
@action(N_("菜单删除"))
@mirrors("menus_api.delete")
def delete(menu_id: int) -> Any:
    return pages.confirm(lambda: gettext("菜单「%(name)s」已删除，并已从所有角色中移除",
                                         name=service.shown_name(service.delete_menu(menu_id))),
                         refused=gettext("不能删除："))
