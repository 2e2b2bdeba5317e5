"""操作日志 JSON API under /api/admin/log/action."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from pcloud.actionlog import service
from pcloud.actionlog.schemas import ActionLogOut, ActionLogPageArgs, ActionLogStatisticsOut
from pcloud.core.operations import operation

blp = Blueprint("actionlog_api", __name__, url_prefix="/api/admin/log/action", description="操作日志")


@operation(blp, "/page", "ActionLogPage", ActionLogOut, paged=True, args=ActionLogPageArgs)
def page(args: dict[str, Any]) -> tuple[list[Any], int]:
    """操作日志分页列表"""
    result = service.page_logs(args, args["page"], args["page_size"])
    return result.items, result


@operation(blp, "/<int:id>", "ActionLogDetail", ActionLogOut, method="GET")
def detail(id: int) -> Any:  # noqa: A002 - the documented path parameter
    """操作日志详情"""
    return service.get_log(id)


@operation(blp, "/statistics", "ActionLogStatistics", ActionLogStatisticsOut)
def statistics() -> dict[str, int]:
    """今日访问统计（用户数、接口调用数）"""
    return service.statistics()
