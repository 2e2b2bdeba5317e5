"""用户管理 forms (pages)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext
from flask_wtf.file import FileField
from wtforms import PasswordField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from pcloud.core.forms import PageForm
from pcloud.core.schemas import limit_of
from pcloud.uploads.service import MAX_BYTES as AVATAR_FILE_MAX
from pcloud.users import service
from pcloud.users.models import User

# Text limits, from the model columns (the one place each is defined)
PHONE_MAX = limit_of(User.phone)
NAME_MAX = limit_of(User.name)
AVATAR_MAX = limit_of(User.avatar)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _int_or_none(value: str | int | None) -> int | None:
    return int(value) if value not in (None, "", "0", 0) else None


class UserForm(PageForm):
    phone = StringField(lazy_gettext("手机号码"), validators=[DataRequired(lazy_gettext("请输入手机号码")),
                                                          Length(max=PHONE_MAX)],
                        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    name = StringField(lazy_gettext("用户名"), validators=[DataRequired(lazy_gettext("请输入用户名")),
                                                        Length(max=NAME_MAX)])
    password = PasswordField(lazy_gettext("密码"), validators=[Optional(), Length(max=72)],
                             render_kw={"autocomplete": "new-password"})
    state = RadioField(lazy_gettext("状态"), choices=[("0", lazy_gettext("正常")), ("1", lazy_gettext("禁用"))],
                       default="0")
    role_ids = MultiCheckboxField(lazy_gettext("角色"), coerce=int, choices=[])
    # tree-select pickers (static/js/app.js) over the indented options
    dept_id = SelectField(lazy_gettext("部门"), coerce=_int_or_none, choices=[], validate_choice=False,
                          render_kw={"data-tree-select": ""})
    post_id = SelectField(lazy_gettext("岗位"), coerce=_int_or_none, choices=[], validate_choice=False,
                          render_kw={"data-tree-select": ""})
    grade_id = SelectField(lazy_gettext("职级"), coerce=_int_or_none, choices=[], validate_choice=False)
    avatar = StringField(lazy_gettext("头像地址"), validators=[Optional(), Length(max=AVATAR_MAX)])
    avatar_file = FileField(lazy_gettext("上传头像"), render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp",
                                                   "data-avatar-input": "", "data-max-bytes": AVATAR_FILE_MAX})

    # The service's own checks of the phone and the password, run with the form's, so every field's error
    # shows at once rather than after the form's own errors are fixed (issue 24.4); same words as the API.
    record_id: int | None = None  # the user an edit form saves (their own phone is not "taken")

    def service_problems(self) -> Mapping[str, list[str]]:
        """A phone taken, a refused avatar: said with the form's own errors (when those pass, the save says them,
        the phone with the API's 409)."""
        return service.form_problems(self.record_id, self.phone.data, self.avatar.data)

    def validate_phone(self, field: StringField) -> None:
        problem = service.phone_problem(field.data) if field.data else None
        if problem:
            raise ValidationError(problem)

    def validate_password(self, field: PasswordField) -> None:
        problem = service.password_problem(field.data) if field.data else None
        if problem:
            raise ValidationError(problem)


class NewUserForm(UserForm):
    """A new user needs a first password (the edit form's empty password keeps the stored one): marked
    required, as the service requires it (the UX review: no mark, then 请设置初始密码 after a save)."""

    password = PasswordField(lazy_gettext("密码"), validators=[DataRequired(lazy_gettext("请设置初始密码")),
                                                             Length(max=72)],
                             render_kw={"autocomplete": "new-password"})
