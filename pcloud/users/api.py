"""用户管理 JSON API under /api/admin/system/user."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext
from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.envelope import streamed_envelope
from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.core.recorder import action
from pcloud.core.security import current_principal, reads_own_upload
from pcloud.core.xlsx import write_xlsx, xlsx_response
from pcloud.users import imports, service
from pcloud.users.schemas import (
    UserCreateArgs,
    UserDownloadArgs,
    UserImportOut,
    UserModifyArgs,
    UserOut,
    UserPageArgs,
    import_upload,
)

blp = Blueprint("users_api", __name__, url_prefix="/api/admin/system/user", description="用户管理")


@operation(blp, "/page", "UserPage", UserOut, paged=True, args=UserPageArgs)
def page(args: dict[str, Any]) -> tuple[list[Any], Any]:
    """用户分页列表"""
    result = service.page_users(args, args["page"], args["page_size"])
    return result.items, result


@operation(blp, "/create", "UserCreate", fields.Integer(), title=N_("用户新增"), args=UserCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增用户"""
    return service.create_user(args, current_principal()).id


@operation(blp, "/modify", "UserModify", fields.Integer(), method="PUT", title=N_("用户修改"), args=UserModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改用户"""
    return service.modify_user(args, current_principal()).id


@operation(blp, "/<int:id>/offline", "UserOffline", method="GET", title=N_("强踢下线"))
def offline(id: int) -> None:  # noqa: A002 - the documented path parameter
    """强制用户下线"""
    service.force_offline(id, current_principal())
    return None


@blp.route("/download", methods=["POST"])
@action(N_("用户导出"))
@blp.arguments(UserDownloadArgs)
@blp.response(200, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              description="用户信息 .xlsx 文件")
def download(args: dict[str, Any]) -> Response:
    """导出用户（.xlsx）"""
    path = write_xlsx(service.export_headers(), service.export_rows(args.get("ids") or [], args), gettext("用户信息"))
    return xlsx_response(path, args.get("file_name") or "", default=gettext("用户信息.xlsx"))


@operation(blp, "/<int:id>/delete", "UserDelete", method="DELETE", title=N_("用户删除"))
def delete(id: int) -> None:  # noqa: A002
    """删除用户（软删除）"""
    service.delete_user(id, current_principal())
    return None


@blp.route("/import/template", methods=["GET"])
@blp.response(200, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
              description="用户导入模板 .xlsx")
def import_template() -> Response:
    """下载用户导入模板（.xlsx）"""
    return xlsx_response(imports.template_path(), gettext("用户导入模板.xlsx"), default=gettext("用户导入模板.xlsx"))


@operation(blp, "/import", "UserImport", UserImportOut, title=N_("用户导入")
)
@blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "the filled-in template (.xlsx)"},
        "dryRun": {"type": "boolean", "default": True, "description": "true: check only, write nothing"},
        "updateExisting": {"type": "boolean", "default": False,
                           "description": "true: a known phone updates that user; false: it is an error"}}}}}})
@reads_own_upload("PCLOUD_IMPORT_MAX_BYTES")  # read after the guard (users.schemas.import_upload)
def import_users() -> Response:
    """导入用户（multipart：file 为 .xlsx；dryRun 为 true 时只检查不写入；updateExisting 为 true 时
    按手机号更新已有用户）；有任何错误则不写入任何数据"""
    stream, options = import_upload()
    result = imports.run_import(stream, current_principal(), options["dry_run"], options["update_existing"])
    return streamed_envelope(UserImportOut(exclude=("passwords",)).dump(result.as_dict()), "passwords",
                             result.passwords())
