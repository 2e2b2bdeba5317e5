"""在线用户 JSON API under /api/admin/online."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.core.security import current_principal
from pcloud.online import service
from pcloud.online.schemas import OnlinePageArgs, OnlineSessionOut

blp = Blueprint("online_api", __name__, url_prefix="/api/admin/online", description="在线用户")


@operation(blp, "/page", "OnlinePage", OnlineSessionOut, paged=True, args=OnlinePageArgs)
def page(args: dict[str, Any]) -> tuple[list[Any], int]:
    """在线会话分页列表（最近活动的在前）"""
    result = service.page_sessions(args, args["page"], args["page_size"])
    return result.items, result


@operation(blp, "/<session_id>/kick", "OnlineKick", method="DELETE", title=N_("强退会话"))
def kick(session_id: str) -> None:
    """结束一个会话（该用户的其他会话不受影响）；已结束时 404"""
    service.kick(session_id, current_principal())
    return None
