"""Sign-in request and response schemas."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from marshmallow import ValidationError, fields, post_dump, validate, validates_schema

from pcloud.core.schemas import BaseSchema, limit_of
from pcloud.users.models import User

# Inputs of sign-in, bounded before anything runs: a phone as long as the column, the other fields by
# what they can be (a password, a 6-digit code, an open-platform id or key, a grant name).
PHONE_MAX = limit_of(User.phone)
_short = validate.Length(max=128)


class TokenArgs(BaseSchema):
    phone = fields.String(validate=validate.Length(max=PHONE_MAX), allow_none=True)
    password = fields.String(validate=validate.Length(max=128), allow_none=True)
    verify_code = fields.String(validate=validate.Length(max=16), allow_none=True)
    secure_id = fields.String(validate=_short, allow_none=True)
    secure_key = fields.String(validate=_short, allow_none=True)
    grant_type = fields.String(validate=validate.Length(max=16), allow_none=True,
                               metadata={"description": "ADMIN | SMS | OPEN (case-insensitive)"})


class SmsCodeArgs(BaseSchema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=PHONE_MAX))


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
    password_change_required = fields.Boolean(metadata={
        "description": "true: every call but /api/oauth/password, /api/oauth/logout and adminInfo answers 403 "
                       "until the password is changed"})


class PasswordChangeArgs(BaseSchema):
    old_password = fields.String(required=True, validate=validate.Length(min=1, max=128))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=128))


class RouteMetaOut(BaseSchema):
    title = fields.String()
    icon = fields.String(allow_none=True, metadata={"description": "the original front end's svg icon name"})


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
    meta = fields.Nested(RouteMetaOut)
    children = fields.List(fields.Nested(lambda: MenuNodeOut()))

    @post_dump
    def _drop_unset_redirect(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """A route carries `redirect` only where one is set (vue-router reads any value as a redirect)."""
        if data.get("redirect") is None:
            data.pop("redirect", None)
        return data


class AdminInfoOut(BaseSchema):
    id = fields.Integer()
    phone = fields.String(allow_none=True)
    name = fields.String()
    avatar = fields.String(allow_none=True)
    routers = fields.List(fields.Nested(MenuNodeOut))
    permissions = fields.List(fields.String())
    resources = fields.List(fields.String())


class UnlockArgs(BaseSchema):
    """`{phone}` (or an open account's secureId) or `{clientIp}`: whose sign-in lock to lift."""

    phone = fields.String(validate=validate.Length(min=1, max=128), allow_none=True)
    client_ip = fields.String(validate=validate.Length(min=1, max=64), allow_none=True)

    @validates_schema
    def _one_of(self, data: dict[str, Any], **_: Any) -> None:
        if not (data.get("phone") or "").strip() and not (data.get("client_ip") or "").strip():
            raise ValidationError(gettext("请填写手机号或 IP 地址"), field_name="phone")
