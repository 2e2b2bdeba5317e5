"""角色管理 forms (pages)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext
from wtforms import RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from pcloud.core.forms import PageForm
from pcloud.core.schemas import limit_of
from pcloud.roles import service
from pcloud.roles.models import Role

# Text limits, from the model columns (the one place each is defined)
NAME_MAX = limit_of(Role.name)
CODE_MAX = limit_of(Role.role_code)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoleForm(PageForm):
    name = StringField(lazy_gettext("角色名称"),
                       validators=[DataRequired(lazy_gettext("请输入角色名称")), Length(max=NAME_MAX)])
    role_code = StringField(lazy_gettext("角色编码"),
                            validators=[DataRequired(lazy_gettext("请输入角色编码")), Length(max=CODE_MAX)],
                            render_kw={"placeholder": "ROLE_XXX", "autocomplete": "off",
                                       "pattern": "ROLE_[A-Z0-9_]{1,59}"})
    # issue 23 (1): the executors the role's holders work on; choices set by the view (the live executors)
    job_group_ids = MultiCheckboxField(lazy_gettext("可管理的执行器（不选：全部执行器）"), coerce=int,
                                       validate_choice=False)
    # 数据权限 (pcloud.datascope): choices filled by the view (the scope names, the departments)
    data_scope = SelectField(lazy_gettext("数据范围"), coerce=int, default=1)
    dept_ids = MultiCheckboxField(lazy_gettext("自定义部门"), coerce=int, validate_choice=False)

    record_id: int | None = None  # the role an edit form saves (its own code is not "taken")

    def service_problems(self) -> Mapping[str, list[str]]:
        """The code's format and another role holding it: said with the form's own errors (when those pass, the
        save says them, the code taken with the API's 409)."""
        return service.form_problems(self.record_id, self.role_code.data)


class RoleAssignForm(PageForm):
    """分配用户: the users ticked on the role's user list, and whether the role is added (1) or removed (0)."""

    user_ids = SelectMultipleField(lazy_gettext("用户"), coerce=int, validate_choice=False,
                                   validators=[DataRequired(lazy_gettext("请先勾选用户"))])
    assigned = RadioField(lazy_gettext("操作"),
                          choices=[("1", lazy_gettext("添加角色")), ("0", lazy_gettext("移除角色"))], default="1",
                          validators=[DataRequired(lazy_gettext("请选择操作"))])
