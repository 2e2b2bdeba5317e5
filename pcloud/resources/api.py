"""访问资源 JSON API under /api/admin/resource."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from pcloud.core.operations import operation, record_operations
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


record_operations(
    blp, "Resource",
    page=(service.page_resources, ResourcePageArgs, ResourceOut, "访问资源分页列表（一层，含 hasChildren）"),
    items=service.to_items,
)


@operation(blp, "/list", "ResourceList", ResourceOut, many=True, args=ResourceListArgs)
def resource_list(args: dict[str, Any]) -> list[dict[str, Any]]:
    """一层访问资源（parentId 之下，0 为根；含 hasChildren，供树形表格按需加载）"""
    return service.resource_level(args.get("parent_id"))


@operation(blp, "/tree", "ResourceTree", GrantResourceNodeOut, many=True, args=ResourceTreeArgs)
def resource_tree(args: dict[str, Any]) -> list[dict[str, Any]]:
    """全部访问资源（树，选择器用）"""
    return service.resource_tree()


record_operations(
    blp, "Resource", title="资源",
    create=(service.create_resource, ResourceCreateArgs, "新增访问资源"),
    modify=(service.modify_resource, ResourceModifyArgs, "修改访问资源"),
    delete=(service.delete_resource, "删除访问资源（软删除）"),
)
