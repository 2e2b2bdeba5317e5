"""登录日志 JSON API under /api/admin/log/login (unlock is beside the lock, in auth.api)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext
from flask_smorest import Blueprint

from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.core.recorder import action
from pcloud.core.xlsx import write_xlsx, xlsx_response
from pcloud.loginlog import service
from pcloud.loginlog.schemas import LoginLogDownloadArgs, LoginLogOut, LoginLogPageArgs

blp = Blueprint("loginlog_api", __name__, url_prefix="/api/admin/log/login", description="登录日志")


@operation(blp, "/page", "LoginLogPage", LoginLogOut, paged=True, args=LoginLogPageArgs)
def page(args: dict[str, Any]) -> tuple[list[Any], int]:
    """登录日志分页列表（新的在前）"""
    result = service.page_logins(args, args["page"], args["page_size"])
    return result.items, result


@blp.route("/download", methods=["POST"])
@action(N_("登录日志导出"))
@blp.arguments(LoginLogDownloadArgs)
@blp.response(200, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              description="登录日志 .xlsx 文件")
def download(args: dict[str, Any]) -> Response:
    """导出登录日志（.xlsx，与分页相同的筛选）"""
    path = write_xlsx([str(header) for header in service.EXPORT_HEADERS], service.export_rows(args),
                      gettext("登录日志"))
    return xlsx_response(path, args.get("file_name") or "", default=gettext("登录日志.xlsx"))


@operation(blp, "/<int:id>", "LoginLogDetail", LoginLogOut, method="GET")
def detail(id: int) -> Any:  # noqa: A002 - the documented path parameter
    """登录日志详情"""
    return service.get_login(id)
