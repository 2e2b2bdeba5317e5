"""参数设置 request and response schemas (API.md, Parameters)."""

from __future__ import annotations

from flask_babel import gettext
from marshmallow import ValidationError, fields, validate

from pcloud.core.schemas import BaseSchema, PageArgs
from pcloud.params.service import KEY_MAX


class ParamValue(fields.Field):
    """A parameter's value as JSON gives it: an integer, a boolean or a text (its type is checked by the
    service against the parameter's own rule)."""

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: object) -> object:
        if isinstance(value, bool | int | str) and not (isinstance(value, str) and len(value) > 1000):
            return value
        raise ValidationError(gettext("须为整数、布尔值或文本"))


class ParamPageArgs(PageArgs):
    key = fields.String(validate=validate.Length(max=KEY_MAX), allow_none=True,
                        metadata={"description": "key contains"})
    name = fields.String(validate=validate.Length(max=100), allow_none=True, metadata={"description": "name contains"})


class ParamModifyArgs(BaseSchema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=KEY_MAX))
    value = ParamValue(required=True, allow_none=False)


class ParamChoiceOut(BaseSchema):
    value = fields.String()
    label = fields.String()


class ParamOut(BaseSchema):
    key = fields.String()
    name = fields.String()
    value = fields.Raw(metadata={"description": "typed: integer, boolean or text"})
    type = fields.String(metadata={"description": "int, bool, text, choice"})
    choices = fields.List(fields.Nested(ParamChoiceOut))
    default = fields.Raw()
    source = fields.String(metadata={"description": "database or environment (read-only)"})
    env = fields.String(metadata={"description": "the environment variable of the default"})
    customised = fields.Boolean(metadata={"description": "a value is stored (differs from the default)"})
    remark = fields.String()
    low = fields.Integer(allow_none=True)
    high = fields.Integer(allow_none=True)
