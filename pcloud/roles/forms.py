"""角色管理 forms (pages)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class RoleForm(FlaskForm):
    name = StringField("角色名称", validators=[DataRequired("请输入角色名称"), Length(max=64)])
    role_code = StringField("角色编码", validators=[DataRequired("请输入角色编码"), Length(max=64)],
                            render_kw={"placeholder": "ROLE_XXX", "autocomplete": "off",
                                       "pattern": "ROLE_[A-Z0-9_]{1,59}"})
