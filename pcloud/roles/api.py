"""角色管理 JSON API under /api/admin/role, and grants at /api/admin/permission/grant."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.envelope import respond
from pcloud.core.recorder import action
from pcloud.roles import service
from pcloud.roles.schemas import (
    GrantArgs,
    RoleBriefOut,
    RoleCreateArgs,
    RoleListArgs,
    RoleMenuOut,
    RoleModifyArgs,
    RoleOut,
    RolePageArgs,
)

blp = Blueprint("roles_api", __name__, url_prefix="/api/admin", description="角色管理")


@blp.route("/role/page", methods=["POST"])
@respond(blp, "RolePage", RoleOut, paged=True)
@blp.arguments(RolePageArgs)
def page(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """角色分页列表（含用户数）"""
    result = service.page_roles(args, args["page"], args["page_size"])
    return service.to_items(result.items), result


@blp.route("/role/list", methods=["POST"])
@respond(blp, "RoleList", RoleBriefOut, many=True)
@blp.arguments(RoleListArgs)
def role_list(args: dict[str, Any]) -> list[dict[str, Any]]:
    """全部角色（选择器用）"""
    return service.list_roles(args.get("name"))


@blp.route("/role/refresh", methods=["GET"])
@action("刷新权限")
@respond(blp, "RoleRefresh")
def refresh() -> None:
    """刷新所有服务进程的权限缓存"""
    service.refresh()
    return None


@blp.route("/role/create", methods=["POST"])
@action("角色新增")
@respond(blp, "RoleCreate", fields.Integer())
@blp.arguments(RoleCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增角色"""
    return service.create_role(args).id


@blp.route("/role/modify", methods=["PUT"])
@action("角色修改")
@respond(blp, "RoleModify", fields.Integer())
@blp.arguments(RoleModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改角色"""
    return service.modify_role(args).id


@blp.route("/role/<int:id>/delete", methods=["DELETE"])
@action("角色删除")
@respond(blp, "RoleDelete")
def delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除角色（软删除；仍有用户时拒绝）"""
    service.delete_role(id)
    return None


@blp.route("/role/<int:roleId>/menu", methods=["GET"])
@respond(blp, "RoleMenu", RoleMenuOut)
def role_menu(roleId: int) -> dict[str, Any]:  # noqa: N803 - the documented path parameter
    """角色已授权的菜单与资源（含完整菜单树与资源树）"""
    return service.role_menu_view(roleId)


@blp.route("/permission/grant", methods=["POST"])
@action("角色授权")
@respond(blp, "PermissionGrant")
@blp.arguments(GrantArgs)
def grant(args: dict[str, Any]) -> None:
    """角色授权（替换该角色的菜单与资源）"""
    service.grant(args["role_id"], args.get("routers") or [], args.get("resources") or [])
    return None
