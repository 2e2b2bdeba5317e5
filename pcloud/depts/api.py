"""部门管理 JSON API under /api/admin/dept."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.messages import N_
from pcloud.core.operations import operation
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


@operation(blp, "/page", "DeptPage", DeptOut, paged=True, args=DeptPageArgs)
def page(args: dict[str, Any]) -> Any:
    """部门分页列表（名称包含、上级部门）"""
    return service.page_depts(args, args["page"], args["page_size"])


@operation(blp, "/create", "DeptCreate", fields.Integer(), title=N_("部门新增"), args=DeptCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增部门；data 为新部门 id"""
    return service.create_dept(args).id


@operation(blp, "/modify", "DeptModify", fields.Integer(), method="PUT", title=N_("部门修改"), args=DeptModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改部门（可移动到其他上级部门之下，但不能移到自身或下级之下）"""
    return service.modify_dept(args).id


@operation(blp, "/<int:id>/delete", "DeptDelete", method="DELETE", title=N_("部门删除"))
def delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除部门（软删除；仍有下级部门或成员时 409）"""
    service.delete_dept(id)


ORG_OUT = fields.Raw(metadata={"description": "a list of DeptNode roots; with single=1 one DeptNode (the default "
                                            "when PCLOUD_API_ERRORS=body, the original front end's shape)"})


@operation(blp, "/org", "DeptOrg", ORG_OUT, method="GET", args=DeptOrgArgs, location="query")
def org(args: dict[str, Any]) -> Any:
    """组织架构：整棵部门树（根节点列表，children 嵌套）；single=1 时为一个根对象（body 模式下默认）"""
    nodes = service.org_tree()
    single = args.get("single")
    if single is None:  # the original front end (body mode) asks the bare route and wants one object
        single = current_app.config.get("PCLOUD_API_ERRORS") == "body"
    if single:
        return DeptNode().dump(service.single_root(nodes))
    return DeptNode(many=True).dump(nodes)


@operation(blp, "/tree", "DeptTree", DeptNode, many=True, args=DeptTreeArgs)
def tree(args: dict[str, Any]) -> list[dict[str, Any]]:
    """部门树（选择器用，与 /org 相同的节点）"""
    return service.picker_tree()
