"""岗位管理 JSON API under /api/admin/post."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.envelope import respond
from pcloud.core.recorder import action
from pcloud.posts import service
from pcloud.posts.schemas import PostCreateArgs, PostListArgs, PostListItem, PostModifyArgs, PostOut, PostPageArgs

blp = Blueprint("posts_api", __name__, url_prefix="/api/admin/post", description="岗位管理")


@blp.route("/page", methods=["POST"])
@respond(blp, "PostPage", PostOut, paged=True)
@blp.arguments(PostPageArgs)
def page(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """岗位分页列表（名称包含）"""
    result = service.page_posts(args, args["page"], args["page_size"])
    return result.items, result


@blp.route("/list", methods=["POST"])
@respond(blp, "PostList", PostListItem, many=True)
@blp.arguments(PostListArgs)
def post_list(args: dict[str, Any]) -> list[dict[str, Any]]:
    """一层岗位（parentId 之下，0 为顶层；选择器按需加载下级）"""
    return service.post_level(args.get("parent_id"))


@blp.route("/create", methods=["POST"])
@action("岗位新增")
@respond(blp, "PostCreate", fields.Integer())
@blp.arguments(PostCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增岗位；data 为新岗位 id"""
    return service.create_post(args).id


@blp.route("/modify", methods=["PUT"])
@action("岗位修改")
@respond(blp, "PostModify", fields.Integer())
@blp.arguments(PostModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改岗位"""
    return service.modify_post(args).id


@blp.route("/<int:id>/delete", methods=["DELETE"])
@action("岗位删除")
@respond(blp, "PostDelete")
def delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除岗位（软删除；仍有用户担任或有下级岗位时 409）"""
    service.delete_post(id)
    return None
