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


class AccountOut(AuditOut):
    id = fields.Integer()
    name = fields.String()
    secure_id = fields.String()
    status = fields.Integer()
    status_name = fields.String()
    remark = fields.String(allow_none=True)


# Create and modify accept back what an account's own responses carry (the original front end sends
# gmtCreatedName/gmtModifiedName on create and echoes rows): `echo_of` drops exactly those keys.
class AccountCreateArgs(BaseSchema):
    echo_of = AccountOut
    name = TrimmedString(required=True, validate=validate.Length(min=1, max=64))
    remark = fields.String(validate=validate.Length(max=500), allow_none=True)


class AccountModifyArgs(BaseSchema):
    echo_of = AccountOut
    id = fields.Integer(strict=True, required=True, validate=ID_RANGE)
    name = TrimmedString(validate=validate.Length(min=1, max=64))
    remark = fields.String(validate=validate.Length(max=500), allow_none=True)


class AccountStatusArgs(BaseSchema):
    id = fields.Integer(strict=True, required=True, validate=ID_RANGE)
    status = fields.Integer(strict=True, required=True, validate=_status)


class AccountCreatedOut(BaseSchema):
    id = fields.Integer()
    secure_id = fields.String()
    secure_key = fields.String()


class EntryPageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=128), allow_none=True)
    # The original front end's interface page asks for the roots (`parentId: 0`): the catalogue is flat,
    # every entry is a root, so 0 is the one meaningful value.
    parent_id = fields.Integer(strict=True, allow_none=True,
                               validate=validate.Equal(0, error="接口目录没有层级：parentId 只能为 0"))


class EntryListArgs(BaseSchema):
    name = fields.String(validate=validate.Length(max=128), allow_none=True)


class EntryOut(AuditOut):
    id = fields.Integer()
    name = fields.String()
    resource_url = fields.String()
    method = fields.String()
    permission = fields.Boolean()


class EntryCreateArgs(BaseSchema):
    echo_of = EntryOut
    name = TrimmedString(required=True, validate=validate.Length(min=1, max=128))
    resource_url = TrimmedString(required=True, validate=validate.Length(min=1, max=255))
    method = fields.String(validate=_method, load_default="*")


class EntryModifyArgs(BaseSchema):
    echo_of = EntryOut
    id = fields.Integer(strict=True, required=True, validate=ID_RANGE)
    name = TrimmedString(validate=validate.Length(min=1, max=128))
    resource_url = TrimmedString(validate=validate.Length(min=1, max=255))
    method = fields.String(validate=_method)


class OpenPermissionArgs(PageArgs):
    """The catalogue for one account, paged like the original front end's grant dialog asks
    (`{page, pageSize, accountId, name}`); without `pageSize` the whole catalogue in one page."""

    account_id = fields.Integer(strict=True, required=True, validate=ID_RANGE)
    name = fields.String(validate=validate.Length(max=128), allow_none=True)
    page_size = fields.Integer(load_default=None, validate=validate.Range(min=1, max=200))


class OpenGrantArgs(BaseSchema):
    account_id = fields.Integer(strict=True, required=True, validate=ID_RANGE)
    resource_ids = IdList(load_default=list)
