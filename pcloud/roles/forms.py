"""角色管理 forms (pages)."""

from __future__ import annotations

from wtforms import StringField
from wtforms.validators import DataRequired, Length

from pcloud.core.forms import PageForm
from pcloud.core.schemas import limit_of
from pcloud.roles.models import Role

# Text limits, from the model columns (the one place each is defined)
NAME_MAX = limit_of(Role.name)
CODE_MAX = limit_of(Role.role_code)


class RoleForm(PageForm):
    name = StringField("角色名称", validators=[DataRequired("请输入角色名称"), Length(max=NAME_MAX)])
    role_code = StringField("角色编码", validators=[DataRequired("请输入角色编码"), Length(max=CODE_MAX)],
                            render_kw={"placeholder": "ROLE_XXX", "autocomplete": "off",
                                       "pattern": "ROLE_[A-Z0-9_]{1,59}"})
