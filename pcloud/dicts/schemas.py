"""字典管理 request and response schemas (API.md, Dictionaries)."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.schemas import AuditOut, BaseSchema, Id, PageArgs, Text, limit_of
from pcloud.dicts.models import DictData, DictType

NAME_MAX, CODE_MAX, REMARK_MAX = limit_of(DictType.name), limit_of(DictType.dict_type), limit_of(DictType.remark)
LABEL_MAX, LABEL_EN_MAX, VALUE_MAX = limit_of(DictData.label), limit_of(DictData.label_en), limit_of(DictData.value)
SORT_RANGE = validate.Range(min=0, max=1_000_000)
_STATUS = {"description": "0 正常, 1 停用"}


def _status(**kw: object) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.OneOf((0, 1)), metadata=_STATUS, **kw)


class DictTypePageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True,
                         metadata={"description": "name contains"})
    dict_type = fields.String(validate=validate.Length(max=CODE_MAX), allow_none=True,
                              metadata={"description": "type code contains"})
    status = _status(allow_none=True)


class DictTypeCreateArgs(BaseSchema):
    name = Text(NAME_MAX, required=True)
    dict_type = Text(CODE_MAX, required=True, metadata={"description": "^[a-z][a-z0-9_]{1,99}$, unique"})
    status = _status()
    remark = Text(REMARK_MAX, blank=True, allow_none=True)


class DictTypeModifyArgs(DictTypeCreateArgs):
    id = Id(required=True)
    name = Text(NAME_MAX)
    dict_type = Text(CODE_MAX)


class DictTypeOut(AuditOut):
    id = fields.Integer()
    name = fields.String()
    dict_type = fields.String()
    status = fields.Integer()
    builtin = fields.Boolean(metadata={"description": "created by setup and read by the console itself"})
    item_count = fields.Integer()
    remark = fields.String(allow_none=True)


class DictTypeDeleteArgs(BaseSchema):
    cascade = fields.Boolean(load_default=False, metadata={"description": "delete its items too"})


class DictDataPageArgs(PageArgs):
    dict_type = fields.String(validate=validate.Length(max=CODE_MAX), allow_none=True,
                              metadata={"description": "type code (equal)"})
    label = fields.String(validate=validate.Length(max=LABEL_MAX), allow_none=True,
                          metadata={"description": "label contains"})
    status = _status(allow_none=True)


class DictDataCreateArgs(BaseSchema):
    dict_type = Text(CODE_MAX, required=True)
    label = Text(LABEL_MAX, required=True)
    label_en = Text(LABEL_EN_MAX, blank=True, allow_none=True,
                    metadata={"description": "the English label, shown on an English page when set"})
    value = Text(VALUE_MAX, required=True, metadata={"description": "unique within the type"})
    sort = fields.Integer(strict=True, validate=SORT_RANGE)
    css_class = fields.String(validate=validate.Length(max=32), allow_none=True,
                              metadata={"description": "badge colour: primary, secondary, success, danger, "
                                                       "warning, info, light, dark, or empty"})
    is_default = fields.Boolean()
    status = _status()
    remark = Text(REMARK_MAX, blank=True, allow_none=True)


class DictDataModifyArgs(DictDataCreateArgs):
    id = Id(required=True)
    dict_type = Text(CODE_MAX)
    label = Text(LABEL_MAX)
    value = Text(VALUE_MAX)


class DictDataOut(AuditOut):
    id = fields.Integer()
    dict_type = fields.String()
    label = fields.String()
    label_en = fields.String(allow_none=True)
    value = fields.String()
    sort = fields.Integer()
    css_class = fields.String()
    is_default = fields.Boolean()
    status = fields.Integer()
    remark = fields.String(allow_none=True)


class DictItemOut(BaseSchema):
    label = fields.String()
    label_en = fields.String(allow_none=True)
    value = fields.String()
    sort = fields.Integer()
    css_class = fields.String()
    is_default = fields.Boolean()


DictTypeCreateArgs.echo_of = DictTypeModifyArgs.echo_of = DictTypeOut
DictDataCreateArgs.echo_of = DictDataModifyArgs.echo_of = DictDataOut
