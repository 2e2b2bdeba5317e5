"""角色管理 forms (pages)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from pcloud.core.schemas import limit_of
from pcloud.roles.models import Role

# Text limits, from the model columns (the one place each is defined)
NAME_MAX = limit_of(Role.name)
CODE_MAX = limit_of(Role.role_code)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoleForm(FlaskForm):
    name = StringField("角色名称", validators=[DataRequired("请输入角色名称"), Length(max=NAME_MAX)])
    role_code = StringField("角色编码", validators=[DataRequired("请输入角色编码"), Length(max=CODE_MAX)],
                            render_kw={"placeholder": "ROLE_XXX", "autocomplete": "off",
                                       "pattern": "ROLE_[A-Z0-9_]{1,59}"})
    # issue 23 (1): the executors the role's holders work on; choices set by the view (the live executors)
    job_group_ids = MultiCheckboxField("可管理的执行器（不选：全部执行器）", coerce=int, validate_choice=False)
