"""开放平台 request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.schemas import ID_RANGE, AuditOut, BaseSchema, IdList, PageArgs, TrimmedString

_status = validate.OneOf([0, 1, 2], error="状态必须是 0（正常）、1（禁用）或 2（冻结）")
_method = validate.OneOf(["GET", "POST", "PUT", "DELETE", "*", "get", "post", "put", "delete"],
                         error="请求方式必须是 GET、POST、PUT、DELETE 或 *")


class AccountPageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=64), allow_none=True)
    status = fields.Integer(strict=True, validate=_status, allow_none=True)


class _AccountEcho(BaseSchema):
    """Fields an account's own responses carry, accepted back from clients and ignored."""

    gmt_created_date = fields.Raw(load_only=True)
    gmt_created_name = fields.Raw(load_only=True)
    gmt_modified_date = fields.Raw(load_only=True)
    gmt_modified_name = fields.Raw(load_only=True)


class AccountCreateArgs(_AccountEcho):
    name = TrimmedString(required=True, validate=validate.Length(min=1, max=64))
    remark = fields.String(validate=validate.Length(max=500), allow_none=True)


class AccountModifyArgs(_AccountEcho):
    id = fields.Integer(strict=True, required=True, validate=ID_RANGE)
    name = TrimmedString(validate=validate.Length(min=1, max=64))
    remark = fields.String(validate=validate.Length(max=500), allow_none=True)
    secure_id = fields.Raw(load_only=True)
    status = fields.Raw(load_only=True)
    status_name = fields.Raw(load_only=True)


class AccountStatusArgs(BaseSchema):
    id = fields.Integer(strict=True, required=True, validate=ID_RANGE)
    status = fields.Integer(strict=True, required=True, validate=_status)


class AccountOut(AuditOut):
    id = fields.Integer()
    name = fields.String()
    secure_id = fields.String()
    status = fields.Integer()
    status_name = fields.String()
    remark = fields.String(allow_none=True)


class AccountCreatedOut(BaseSchema):
    id = fields.Integer()
    secure_id = fields.String()
    secure_key = fields.String()


class EntryPageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=128), allow_none=True)


class EntryListArgs(BaseSchema):
    name = fields.String(validate=validate.Length(max=128), allow_none=True)


class EntryCreateArgs(_AccountEcho):
    name = TrimmedString(required=True, validate=validate.Length(min=1, max=128))
    resource_url = TrimmedString(required=True, validate=validate.Length(min=1, max=255))
    method = fields.String(validate=_method, load_default="*")


class EntryModifyArgs(_AccountEcho):
    id = fields.Integer(strict=True, required=True, validate=ID_RANGE)
    name = TrimmedString(validate=validate.Length(min=1, max=128))
    resource_url = TrimmedString(validate=validate.Length(min=1, max=255))
    method = fields.String(validate=_method)
    permission = fields.Raw(load_only=True)


class EntryOut(AuditOut):
    id = fields.Integer()
    name = fields.String()
    resource_url = fields.String()
    method = fields.String()
    permission = fields.Boolean()


class OpenPermissionArgs(BaseSchema):
    account_id = fields.Integer(strict=True, required=True, validate=ID_RANGE)
    name = fields.String(validate=validate.Length(max=128), allow_none=True)


class OpenGrantArgs(BaseSchema):
    account_id = fields.Integer(strict=True, required=True, validate=ID_RANGE)
    resource_ids = IdList(load_default=list)
