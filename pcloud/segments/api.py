"""号段管理 and the ID service: JSON API under /api/integration."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.envelope import envelope, respond
from pcloud.core.recorder import action
from pcloud.segments import service
from pcloud.segments.schemas import CacheOut, SegmentCreateArgs, SegmentModifyArgs, SegmentOut, SegmentPageArgs

blp = Blueprint("segments_api", __name__, url_prefix="/api/integration", description="号段管理")


@blp.route("/admin/segment/page", methods=["POST"])
@respond(blp, "SegmentPage", SegmentOut, paged=True)
@blp.arguments(SegmentPageArgs)
def page(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """号段分页列表（bizTag、描述包含）"""
    result = service.page_segments(args, args["page"], args["page_size"])
    return result.items, result.total


@blp.route("/admin/segment/create", methods=["POST"])
@action("号段新增")
@respond(blp, "SegmentCreate", fields.String())
@blp.arguments(SegmentCreateArgs)
def create(args: dict[str, Any]) -> str:
    """新增号段；data 为 bizTag，下一次调用即可取号"""
    return service.create_segment(args).biz_tag


@blp.route("/admin/segment/modify", methods=["PUT"])
@action("号段修改")
@respond(blp, "SegmentModify", fields.String())
@blp.arguments(SegmentModifyArgs)
def modify(args: dict[str, Any]) -> str:
    """修改号段（maxId 只能调大）；data 为 bizTag"""
    return service.modify_segment(args).biz_tag


@blp.route("/admin/segment/cache", methods=["GET"])
@respond(blp, "SegmentCache", CacheOut, many=True)
def cache() -> list[dict[str, Any]]:
    """本进程每个号段的缓冲状态（当前与下一段）"""
    return service.cache_states()


# The id routes answer their envelope directly: the payload is already strings, and skipping the schema's
# dump keeps the hottest routes of the service cheap (the documented shape is the same).


@blp.route("/segment/get/<biz_tag>", methods=["GET"])
@respond(blp, "SegmentId", fields.String())
def get_id(biz_tag: str) -> Response:
    """取一个新 ID（字符串）"""
    return jsonify(envelope(service.next_id(biz_tag)))


@blp.route("/segment/batch/<biz_tag>/<count>", methods=["GET"])
@respond(blp, "SegmentBatch", fields.List(fields.String()))
def batch(biz_tag: str, count: str) -> Response:
    """批量取 count（1..1000）个新 ID，字符串，升序"""
    return jsonify(envelope(service.batch_ids(biz_tag, count)))
