"""短信模板 JSON API under /api/integration/admin/sms (the original front end's src/api/sms.js)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.smstemplates import service
from pcloud.smstemplates.schemas import (
    SmsTemplateCreateArgs,
    SmsTemplateModifyArgs,
    SmsTemplateOut,
    SmsTemplatePageArgs,
)

blp = Blueprint("smstemplates_api", __name__, url_prefix="/api/integration/admin/sms", description="短信模板")


@operation(blp, "/page", "SmsTemplatePage", SmsTemplateOut, paged=True, args=SmsTemplatePageArgs)
def page(args: dict[str, Any]) -> Any:
    """短信模板分页列表（名称、编码包含），按编码排序"""
    return service.page_templates(args, args["page"], args["page_size"])


@operation(blp, "/create", "SmsTemplateCreate", fields.Integer(), title=N_("短信模板新增"), args=SmsTemplateCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增短信模板（编码唯一，内容须含 {code}）；data 为新模板 id"""
    return service.create_template(args).id


@operation(blp, "/modify", "SmsTemplateModify", fields.Integer(), method="PUT", title=N_("短信模板修改"),
           args=SmsTemplateModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改短信模板"""
    return service.modify_template(args).id


@operation(blp, "/<int:id>/delete", "SmsTemplateDelete", method="DELETE", title=N_("短信模板删除"))
def delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除短信模板（软删除）"""
    service.delete_template(id)
