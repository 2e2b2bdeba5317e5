"""开放平台 request and response schemas."""

from __future__ import annotations

from flask_babel import lazy_gettext
from marshmallow import fields, validate

from pcloud.core.routing import GRANT_METHODS, HTTP_METHODS
from pcloud.core.schemas import AuditOut, BaseSchema, FilterArgs, Id, IdList, PageArgs, Text, limit_of
from pcloud.openplatform.models import OpenAccount
from pcloud.resources.models import Resource

NAME_MAX, REMARK_MAX = limit_of(OpenAccount.name), limit_of(OpenAccount.remark)
# A catalogue entry is a resource row: its limits are the resource columns'.
ENTRY_NAME_MAX, URL_MAX = limit_of(Resource.name), limit_of(Resource.resource_url)
_status = validate.OneOf([0, 1, 2], error=lazy_gettext("状态必须是 0（正常）、1（禁用）或 2（冻结）"))
_method = validate.OneOf([*GRANT_METHODS, *(m.lower() for m in HTTP_METHODS)],
                         error=lazy_gettext("请求方式必须是 GET、POST、PUT、DELETE 或 *"))


class AccountPageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True)
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
    name = Text(NAME_MAX, required=True)
    remark = fields.String(validate=validate.Length(max=REMARK_MAX), allow_none=True)


class AccountModifyArgs(BaseSchema):
    echo_of = AccountOut
    id = Id(required=True)
    name = Text(NAME_MAX)
    remark = fields.String(validate=validate.Length(max=REMARK_MAX), allow_none=True)


class AccountStatusArgs(BaseSchema):
    id = Id(required=True)
    status = fields.Integer(strict=True, required=True, validate=_status)


class AccountCreatedOut(BaseSchema):
    id = fields.Integer()
    secure_id = fields.String()
    secure_key = fields.String()


class EntryPageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=ENTRY_NAME_MAX), allow_none=True)
    # The original front end's interface page asks for the roots (`parentId: 0`): the catalogue is flat,
    # every entry is a root, so 0 is the one meaningful value.
    parent_id = fields.Integer(strict=True, allow_none=True,
                               validate=validate.Equal(0, error=lazy_gettext("接口目录没有层级：parentId 只能为 0")))


class EntryListArgs(FilterArgs):
    name = fields.String(validate=validate.Length(max=ENTRY_NAME_MAX), allow_none=True)


class EntryOut(AuditOut):
    id = fields.Integer()
    name = fields.String()
    resource_url = fields.String()
    method = fields.String()
    built_in = fields.Boolean(metadata={"description": "written by pcloud init (the ID service's routes): "
                                                       "never deleted"})
    permission = fields.Boolean()


class EntryCreateArgs(BaseSchema):
    echo_of = EntryOut
    name = Text(ENTRY_NAME_MAX, required=True)
    resource_url = Text(URL_MAX, required=True)
    method = fields.String(validate=_method, load_default="*")


class EntryModifyArgs(BaseSchema):
    echo_of = EntryOut
    id = Id(required=True)
    name = Text(ENTRY_NAME_MAX)
    resource_url = Text(URL_MAX)
    method = fields.String(validate=_method)


class OpenPermissionArgs(PageArgs):
    """The catalogue for one account, paged like the original front end's grant dialog asks
    (`{page, pageSize, accountId, name}`); without `pageSize` the whole catalogue in one page."""

    account_id = Id(required=True)
    name = fields.String(validate=validate.Length(max=ENTRY_NAME_MAX), allow_none=True)
    page_size = fields.Integer(load_default=None, validate=validate.Range(min=1, max=200))


class OpenGrantArgs(BaseSchema):
    account_id = Id(required=True)
    resource_ids = IdList(load_default=list)
