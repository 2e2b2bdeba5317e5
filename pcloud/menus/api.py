"""菜单管理 JSON API under /api/admin/menu."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from pcloud.core.operations import operation, record_operations
from pcloud.menus import service
from pcloud.menus.schemas import MenuCreateArgs, MenuModifyArgs, MenuOut, MenuPageArgs

blp = Blueprint("menus_api", __name__, url_prefix="/api/admin/menu", description="菜单管理")


@operation(blp, "/page", "MenuPage", MenuOut, paged=True, args=MenuPageArgs)
def page(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """菜单树（按名称筛选，total 为节点数）"""
    return service.menu_tree(args.get("name"))


record_operations(
    blp, "Menu", title="菜单",
    create=(service.create_menu, MenuCreateArgs, "新增菜单"),
    modify=(service.modify_menu, MenuModifyArgs, "修改菜单（含移动：上级菜单与排序）"),
    delete=(service.delete_menu, "删除菜单（软删除，并从所有角色移除）"),
)
