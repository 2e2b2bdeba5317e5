"""角色管理 forms (pages), and the helper that puts a domain error on the form field it names."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from pcloud.core.errors import PCloudError
from pcloud.core.schemas import camelcase


class RoleForm(FlaskForm):
    name = StringField("角色名称", validators=[DataRequired("请输入角色名称"), Length(max=64)])
    role_code = StringField("角色编码", validators=[DataRequired("请输入角色编码"), Length(max=64)],
                            render_kw={"placeholder": "ROLE_XXX", "autocomplete": "off",
                                       "pattern": "ROLE_[A-Z0-9_]{1,59}"})


class ConfirmForm(FlaskForm):
    """Only the CSRF token: delete buttons, grant and refresh forms."""


def apply_domain_error(form: FlaskForm, exc: PCloudError) -> None:
    """Show a service error next to the field it names (`roleCode` -> form.role_code), else as a flash."""
    placed = False
    by_wire_name = {camelcase(name): field for name, field in form._fields.items()}
    for key, messages in (exc.errors or {}).items():
        field = by_wire_name.get(key)
        if field is not None:
            field.errors = list(field.errors or []) + list(messages)
            placed = True
    if not placed:
        flash(exc.msg, "danger")
