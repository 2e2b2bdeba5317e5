"""号段管理 and the ID service: JSON API under /api/integration."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.envelope import envelope
from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.segments import service
from pcloud.segments.models import TAG
from pcloud.segments.schemas import (
    CacheOut,
    SegmentCreateArgs,
    SegmentModifyArgs,
    SegmentOut,
    SegmentPageArgs,
    doc_pattern,
)

blp = Blueprint("segments_api", __name__, url_prefix="/api/integration", description="号段管理")


@operation(blp, "/admin/segment/page", "SegmentPage", SegmentOut, paged=True, args=SegmentPageArgs)
def page(args: dict[str, Any]) -> Any:
    """号段分页列表（bizTag、描述包含）"""
    return service.page_segments(args, args["page"], args["page_size"])


@operation(blp, "/admin/segment/create", "SegmentCreate", fields.String(), title=N_("号段新增"), args=SegmentCreateArgs)
def create(args: dict[str, Any]) -> str:
    """新增号段；data 为 bizTag，下一次调用即可取号"""
    return service.create_segment(args).biz_tag


@operation(blp, "/admin/segment/modify", "SegmentModify", fields.String(), method="PUT", title=N_("号段修改"),
           args=SegmentModifyArgs)
def modify(args: dict[str, Any]) -> str:
    """修改号段（maxId 只能调大）；data 为 bizTag"""
    return service.modify_segment(args).biz_tag


@operation(blp, "/admin/segment/cache", "SegmentCache", CacheOut, many=True, method="GET")
def cache() -> list[dict[str, Any]]:
    """本进程每个号段的缓冲状态（当前与下一段）"""
    return service.cache_states()


# The id routes answer their envelope directly: the payload is already strings, and skipping the schema's
# dump keeps the hottest routes of the service cheap (the documented shape is the same).


# The path arguments as the OpenAPI document describes them (the views take them as text, to refuse a bad one
# with the documented 422 rather than the router's 404)
_TAG_PARAMETER = {"in": "path", "name": "bizTag", "required": True,
                  "schema": {"type": "string", "pattern": doc_pattern(TAG)}, "description": "业务标识，如 order"}
_COUNT_PARAMETER = {"in": "path", "name": "count", "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": service.MAX_BATCH},
                    "description": f"要取的 ID 个数，1 到 {service.MAX_BATCH}（ASCII 数字）"}


@operation(blp, "/segment/get/<biz_tag>", "SegmentId", fields.String(), method="GET")
@blp.doc(parameters=[_TAG_PARAMETER])
def get_id(biz_tag: str) -> Response:
    """取一个新 ID（字符串）"""
    return jsonify(envelope(service.next_id(biz_tag)))


@operation(blp, "/segment/batch/<biz_tag>/<count>", "SegmentBatch", fields.List(fields.String()), method="GET")
@blp.doc(parameters=[_TAG_PARAMETER, _COUNT_PARAMETER])
def batch(biz_tag: str, count: str) -> Response:
    """批量取 count（1..1000）个新 ID，字符串，升序"""
    return jsonify(envelope(service.batch_ids(biz_tag, count)))
