"""通知公告 JSON API under /api/admin/notice (API.md, Notices 通知公告)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.envelope import envelope, envelope_schema
from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.core.security import current_principal, signed_in_only
from pcloud.notices import service
from pcloud.notices.schemas import (
    MineArgs,
    NoticeCreateArgs,
    NoticeModifyArgs,
    NoticeOut,
    NoticePageArgs,
    ReaderOut,
    ReadersArgs,
)

blp = Blueprint("notices_api", __name__, url_prefix="/api/admin/notice", description="通知公告")


@operation(blp, "/page", "NoticePage", NoticeOut, paged=True, args=NoticePageArgs)
def page(args: dict[str, Any]) -> Any:
    """通知公告分页列表（标题包含、类型、状态），最新的在前"""
    return service.page_notices(args, args["page"], args["page_size"])


@operation(blp, "/create", "NoticeCreate", fields.Integer(), title=N_("通知公告新增"), args=NoticeCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增通知公告（默认草稿；status 1 立即发布）；data 为新 id"""
    return service.create_notice(args).id


@operation(blp, "/modify", "NoticeModify", fields.Integer(), method="PUT", title=N_("通知公告修改"),
           args=NoticeModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改草稿或已撤回的通知公告（已发布的须先撤回，409）"""
    return service.modify_notice(args["id"], args).id


@operation(blp, "/<int:id>/delete", "NoticeDelete", method="DELETE", title=N_("通知公告删除"))
def delete(id: int) -> None:  # noqa: A002 - the route's name
    """删除通知公告（软删除）"""
    service.delete_notice(id)


@operation(blp, "/<int:id>/publish", "NoticePublish", title=N_("通知公告发布"))
def publish(id: int) -> None:  # noqa: A002 - the route's name
    """发布（草稿或已撤回的）通知公告"""
    service.publish_notice(id)


@operation(blp, "/<int:id>/withdraw", "NoticeWithdraw", title=N_("通知公告撤回"))
def withdraw(id: int) -> None:  # noqa: A002 - the route's name
    """撤回已发布的通知公告（已读记录保留）"""
    service.withdraw_notice(id)


# `/mine`'s envelope carries the principal's unread count beside the page (API.md): the envelope of a page plus
# `unread`, documented as such.
MineEnvelope = type("NoticeMineEnvelope", (envelope_schema("NoticeMinePage", NoticeOut, many=True),),
                    {"unread": fields.Integer(required=True, metadata={"description": "the principal's unread"})})


@blp.route("/mine", methods=["POST"])
@blp.arguments(MineArgs)
@blp.response(200, MineEnvelope)
@signed_in_only
def mine(args: dict[str, Any]) -> dict[str, Any]:
    """当前用户可见的已发布通知公告，最新的在前，每条带 read；信封另有 unread（未读数）"""
    result, unread = service.mine(current_principal(), args["page"], args["page_size"])
    return {**envelope(result.items, result.total, total_exact=result.total_exact), "unread": unread}


@operation(blp, "/<int:id>/read", "NoticeRead", NoticeOut)
@signed_in_only
def read(id: int) -> dict[str, Any]:  # noqa: A002 - the route's name
    """标记已读（只能是自己可见的已发布通知公告）；data 为该通知公告"""
    return service.read_notice(id, current_principal())


@operation(blp, "/<int:id>/readers", "NoticeReaders", ReaderOut, paged=True, args=ReadersArgs)
def readers(args: dict[str, Any], id: int) -> Any:  # noqa: A002 - the route's name
    """已读回执：可见范围内的用户及是否已读、何时已读（read 过滤已读/未读，name 姓名包含），在调用者的数据范围内"""
    return service.page_readers(id, args, args["page"], args["page_size"])
