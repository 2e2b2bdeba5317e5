"""访问资源 JSON API under /api/admin/resource."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.resources import service
from pcloud.resources.schemas import (
    GrantResourceNodeOut,
    ResourceCreateArgs,
    ResourceListArgs,
    ResourceModifyArgs,
    ResourceOut,
    ResourcePageArgs,
    ResourceTreeArgs,
)

blp = Blueprint("resources_api", __name__, url_prefix="/api/admin/resource", description="访问资源")


@operation(blp, "/page", "ResourcePage", ResourceOut, paged=True, args=ResourcePageArgs)
def page(args: dict[str, Any]) -> Any:
    """访问资源分页列表（一层，含 hasChildren）"""
    result = service.page_resources(args, args["page"], args["page_size"])
    return service.to_items(result.items), result


@operation(blp, "/list", "ResourceList", ResourceOut, many=True, args=ResourceListArgs)
def resource_list(args: dict[str, Any]) -> list[dict[str, Any]]:
    """一层访问资源（parentId 之下，0 为根；含 hasChildren，供树形表格按需加载）"""
    return service.resource_level(args.get("parent_id"))


@operation(blp, "/tree", "ResourceTree", GrantResourceNodeOut, many=True, args=ResourceTreeArgs)
def resource_tree(args: dict[str, Any]) -> list[dict[str, Any]]:
    """全部访问资源（树，选择器用）"""
    return service.resource_tree()


@operation(blp, "/create", "ResourceCreate", fields.Integer(), title=N_("资源新增"), args=ResourceCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增访问资源"""
    return service.create_resource(args).id


@operation(blp, "/modify", "ResourceModify", fields.Integer(), method="PUT", title=N_("资源修改"),
           args=ResourceModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改访问资源"""
    return service.modify_resource(args).id


@operation(blp, "/<int:id>/delete", "ResourceDelete", method="DELETE", title=N_("资源删除"))
def delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除访问资源（软删除）"""
    service.delete_resource(id)
