"""短信模板 JSON API under /api/integration/admin/sms (the original front end's src/api/sms.js)."""

from __future__ import annotations

from flask_smorest import Blueprint

from pcloud.core.operations import record_operations
from pcloud.smstemplates import service
from pcloud.smstemplates.schemas import (
    SmsTemplateCreateArgs,
    SmsTemplateModifyArgs,
    SmsTemplateOut,
    SmsTemplatePageArgs,
)

blp = Blueprint("smstemplates_api", __name__, url_prefix="/api/integration/admin/sms", description="短信模板")

record_operations(
    blp, "SmsTemplate", title="短信模板",
    page=(service.page_templates, SmsTemplatePageArgs, SmsTemplateOut,
          "短信模板分页列表（名称、编码包含），按编码排序"),
    create=(service.create_template, SmsTemplateCreateArgs,
            "新增短信模板（编码唯一，内容须含 {code}）；data 为新模板 id"),
    modify=(service.modify_template, SmsTemplateModifyArgs, "修改短信模板"),
    delete=(service.delete_template, "删除短信模板（软删除）"),
)
