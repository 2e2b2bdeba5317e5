"""部门管理 JSON API under /api/admin/dept."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.envelope import respond
from pcloud.core.recorder import action
from pcloud.depts import service
from pcloud.depts.schemas import (
    DeptCreateArgs,
    DeptModifyArgs,
    DeptNode,
    DeptOrgArgs,
    DeptOut,
    DeptPageArgs,
    DeptTreeArgs,
)

blp = Blueprint("depts_api", __name__, url_prefix="/api/admin/dept", description="部门管理")


@blp.route("/page", methods=["POST"])
@respond(blp, "DeptPage", DeptOut, paged=True)
@blp.arguments(DeptPageArgs)
def page(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """部门分页列表（名称包含、上级部门）"""
    result = service.page_depts(args, args["page"], args["page_size"])
    return result.items, result


@blp.route("/create", methods=["POST"])
@action("部门新增")
@respond(blp, "DeptCreate", fields.Integer())
@blp.arguments(DeptCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增部门；data 为新部门 id"""
    return service.create_dept(args).id


@blp.route("/modify", methods=["PUT"])
@action("部门修改")
@respond(blp, "DeptModify", fields.Integer())
@blp.arguments(DeptModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改部门（可移动到其他上级部门之下，但不能移到自身或下级之下）"""
    return service.modify_dept(args).id


@blp.route("/<int:id>/delete", methods=["DELETE"])
@action("部门删除")
@respond(blp, "DeptDelete")
def delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除部门（软删除；仍有下级部门或成员时 409）"""
    service.delete_dept(id)
    return None


@blp.route("/org", methods=["GET"])
@respond(blp, "DeptOrg", fields.Raw(metadata={"description": "a list of DeptNode roots; with single=1 one DeptNode"}))
@blp.arguments(DeptOrgArgs, location="query")
def org(args: dict[str, Any]) -> Any:
    """组织架构：整棵部门树（根节点列表，children 嵌套）；single=1 时为一个根对象"""
    nodes = service.org_tree()
    if args.get("single"):
        return DeptNode().dump(service.single_root(nodes))
    return DeptNode(many=True).dump(nodes)


@blp.route("/tree", methods=["POST"])
@respond(blp, "DeptTree", DeptNode, many=True)
@blp.arguments(DeptTreeArgs)
def tree(args: dict[str, Any]) -> list[dict[str, Any]]:
    """部门树（选择器用，与 /org 相同的节点）"""
    return service.org_tree()
