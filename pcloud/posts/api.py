"""岗位管理 JSON API under /api/admin/post."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.posts import service
from pcloud.posts.schemas import PostCreateArgs, PostListArgs, PostListItem, PostModifyArgs, PostOut, PostPageArgs

blp = Blueprint("posts_api", __name__, url_prefix="/api/admin/post", description="岗位管理")


@operation(blp, "/page", "PostPage", PostOut, paged=True, args=PostPageArgs)
def page(args: dict[str, Any]) -> Any:
    """岗位分页列表（名称包含）"""
    return service.page_posts(args, args["page"], args["page_size"])


@operation(blp, "/list", "PostList", PostListItem, many=True, args=PostListArgs)
def post_list(args: dict[str, Any]) -> list[dict[str, Any]]:
    """一层岗位（parentId 之下，0 为顶层；选择器按需加载下级）"""
    return service.post_level(args.get("parent_id"))


@operation(blp, "/create", "PostCreate", fields.Integer(), title=N_("岗位新增"), args=PostCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增岗位；data 为新岗位 id"""
    return service.create_post(args).id


@operation(blp, "/modify", "PostModify", fields.Integer(), method="PUT", title=N_("岗位修改"), args=PostModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改岗位"""
    return service.modify_post(args).id


@operation(blp, "/<int:id>/delete", "PostDelete", method="DELETE", title=N_("岗位删除"))
def delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除岗位（软删除；仍有用户担任或有下级岗位时 409）"""
    service.delete_post(id)
