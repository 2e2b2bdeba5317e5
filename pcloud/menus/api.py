"""菜单管理 JSON API under /api/admin/menu."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.menus import service
from pcloud.menus.schemas import MenuCreateArgs, MenuModifyArgs, MenuOut, MenuPageArgs

blp = Blueprint("menus_api", __name__, url_prefix="/api/admin/menu", description="菜单管理")


@operation(blp, "/page", "MenuPage", MenuOut, paged=True, args=MenuPageArgs)
def page(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """菜单树（按名称筛选，total 为节点数）"""
    return service.menu_tree(args.get("name"))


@operation(blp, "/create", "MenuCreate", fields.Integer(), title=N_("菜单新增"), args=MenuCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增菜单"""
    return service.create_menu(args).id


@operation(blp, "/modify", "MenuModify", fields.Integer(), method="PUT", title=N_("菜单修改"), args=MenuModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改菜单（含移动：上级菜单与排序）"""
    return service.modify_menu(args).id


@operation(blp, "/<int:id>/delete", "MenuDelete", method="DELETE", title=N_("菜单删除"))
def delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除菜单（软删除，并从所有角色移除）"""
    service.delete_menu(id)
