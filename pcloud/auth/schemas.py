"""Sign-in request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.schemas import BaseSchema

_short = validate.Length(max=128)


class TokenArgs(BaseSchema):
    phone = fields.String(validate=validate.Length(max=32), allow_none=True)
    password = fields.String(validate=validate.Length(max=128), allow_none=True)
    verify_code = fields.String(validate=validate.Length(max=16), allow_none=True)
    secure_id = fields.String(validate=_short, allow_none=True)
    secure_key = fields.String(validate=_short, allow_none=True)
    grant_type = fields.String(validate=validate.Length(max=16), allow_none=True,
                               metadata={"description": "ADMIN | SMS | OPEN (case-insensitive)"})


class SmsCodeArgs(BaseSchema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=32))


class ProfileOut(BaseSchema):
    id = fields.Integer()
    phone = fields.String(allow_none=True)
    secure_id = fields.String()
    name = fields.String()
    avatar = fields.String(allow_none=True)


class TokenOut(BaseSchema):
    token = fields.String()
    token_head = fields.String()
    expires_in = fields.Integer()
    profile = fields.Nested(ProfileOut)


class MenuNodeOut(BaseSchema):
    id = fields.Integer()
    parent_id = fields.Integer()
    name = fields.String()
    label = fields.String()
    path = fields.String()
    component = fields.String(allow_none=True)
    redirect = fields.String(allow_none=True)
    icon = fields.String(allow_none=True)
    router = fields.Boolean()
    hidden = fields.Boolean()
    sequence = fields.Integer()
    children = fields.List(fields.Nested(lambda: MenuNodeOut()))


class AdminInfoOut(BaseSchema):
    id = fields.Integer()
    phone = fields.String(allow_none=True)
    name = fields.String()
    avatar = fields.String(allow_none=True)
    routers = fields.List(fields.Nested(MenuNodeOut))
    permissions = fields.List(fields.String())
    resources = fields.List(fields.String())
