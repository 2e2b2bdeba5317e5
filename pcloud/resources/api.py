"""访问资源 JSON API under /api/admin/resource."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.envelope import respond
from pcloud.core.recorder import action
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


@blp.route("/page", methods=["POST"])
@respond(blp, "ResourcePage", ResourceOut, paged=True)
@blp.arguments(ResourcePageArgs)
def page(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """访问资源分页列表（一层，含 hasChildren）"""
    result = service.page_resources(args, args["page"], args["page_size"])
    return service.to_items(result.items), result


@blp.route("/list", methods=["POST"])
@respond(blp, "ResourceList", ResourceOut, many=True)
@blp.arguments(ResourceListArgs)
def resource_list(args: dict[str, Any]) -> list[dict[str, Any]]:
    """一层访问资源（parentId 之下，0 为根；含 hasChildren，供树形表格按需加载）"""
    return service.resource_level(args.get("parent_id"))


@blp.route("/tree", methods=["POST"])
@respond(blp, "ResourceTree", GrantResourceNodeOut, many=True)
@blp.arguments(ResourceTreeArgs)
def resource_tree(args: dict[str, Any]) -> list[dict[str, Any]]:
    """全部访问资源（树，选择器用）"""
    return service.resource_tree()


@blp.route("/create", methods=["POST"])
@action("资源新增")
@respond(blp, "ResourceCreate", fields.Integer())
@blp.arguments(ResourceCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增访问资源"""
    return service.create_resource(args).id


@blp.route("/modify", methods=["PUT"])
@action("资源修改")
@respond(blp, "ResourceModify", fields.Integer())
@blp.arguments(ResourceModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改访问资源"""
    return service.modify_resource(args).id


@blp.route("/<int:id>/delete", methods=["DELETE"])
@action("资源删除")
@respond(blp, "ResourceDelete")
def delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除访问资源（软删除）"""
    service.delete_resource(id)
    return None
