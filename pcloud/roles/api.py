"""角色管理 JSON API under /api/admin/role, and grants at /api/admin/permission/grant."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.core.security import current_principal
from pcloud.roles import service
from pcloud.roles.schemas import (
    GrantArgs,
    RoleAssignArgs,
    RoleAssignOut,
    RoleBriefOut,
    RoleCreateArgs,
    RoleListArgs,
    RoleMenuOut,
    RoleModifyArgs,
    RoleOut,
    RolePageArgs,
    RoleUserOut,
    RoleUsersArgs,
)

blp = Blueprint("roles_api", __name__, url_prefix="/api/admin", description="角色管理")


@operation(blp, "/role/page", "RolePage", RoleOut, paged=True, args=RolePageArgs)
def page(args: dict[str, Any]) -> Any:
    """角色分页列表（含用户数）"""
    result = service.page_roles(args, args["page"], args["page_size"])
    return service.to_items(result.items), result


@operation(blp, "/role/list", "RoleList", RoleBriefOut, many=True, args=RoleListArgs)
def role_list(args: dict[str, Any]) -> list[dict[str, Any]]:
    """全部角色（选择器用）"""
    return service.list_roles(args.get("name"))


@operation(blp, "/role/refresh", "RoleRefresh", method="GET", title=N_("刷新权限"))
def refresh() -> None:
    """刷新所有服务进程的权限缓存"""
    service.refresh()
    return None


@operation(blp, "/role/create", "RoleCreate", fields.Integer(), title=N_("角色新增"), args=RoleCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增角色"""
    return service.create_role(args).id


@operation(blp, "/role/modify", "RoleModify", fields.Integer(), method="PUT", title=N_("角色修改"), args=RoleModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改角色"""
    return service.modify_role(args).id


@operation(blp, "/role/<int:id>/delete", "RoleDelete", method="DELETE", title=N_("角色删除"))
def delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除角色（软删除；仍有用户时拒绝）"""
    service.delete_role(id)


@operation(blp, "/role/<int:roleId>/menu", "RoleMenu", RoleMenuOut, method="GET")
def role_menu(roleId: int) -> dict[str, Any]:  # noqa: N803 - the documented path parameter
    """角色已授权的菜单与资源（含完整菜单树与资源树）"""
    return service.role_menu_view(roleId)


@operation(blp, "/permission/grant", "PermissionGrant", title=N_("角色授权"), args=GrantArgs)
def grant(args: dict[str, Any]) -> None:
    """角色授权（替换该角色的菜单与资源）"""
    service.grant(args["role_id"], args.get("routers") or [], args.get("resources") or [])
    return None


@operation(blp, "/role/<int:id>/users", "RoleUsers", RoleUserOut, paged=True, args=RoleUsersArgs)
def role_users(args: dict[str, Any], id: int) -> Any:  # noqa: A002 - the documented path parameter
    """角色的用户（已分配 / 未分配，数据权限内）"""
    result = service.role_users(id, args, args["page"], args["page_size"])
    return result.items, result


@operation(blp, "/role/<int:id>/assign", "RoleAssign", RoleAssignOut, title=N_("角色分配用户"), args=RoleAssignArgs)
def assign(args: dict[str, Any], id: int) -> dict[str, int]:  # noqa: A002 - the documented path parameter
    """为选中的用户添加或移除该角色"""
    _, changed = service.assign_users(id, args["user_ids"], args["assigned"], current_principal())
    return {"changed": changed}
