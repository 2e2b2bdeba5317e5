"""Sign-in and own-profile forms."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf.file import FileField
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from pcloud.core.forms import PageForm
from pcloud.core.schemas import limit_of
from pcloud.uploads.service import MAX_BYTES as AVATAR_FILE_MAX
from pcloud.users import service as user_service
from pcloud.users.models import User


class PasswordLoginForm(PageForm):
    phone = StringField(lazy_gettext("手机号"),
                        validators=[DataRequired(lazy_gettext("请输入手机号")), Length(max=limit_of(User.phone))],
                        render_kw={"autofocus": True, "autocomplete": "username", "inputmode": "numeric"})
    password = PasswordField(lazy_gettext("密码"), validators=[DataRequired(lazy_gettext("请输入密码")),
                                                              Length(max=128)])
    next = HiddenField()


class SmsLoginForm(PageForm):
    # a phone number, like the password tab's: no length counter (macros.field skips numeric inputs)
    phone = StringField(lazy_gettext("手机号"),
                        validators=[DataRequired(lazy_gettext("请输入手机号")), Length(max=limit_of(User.phone))],
                        render_kw={"autocomplete": "username", "inputmode": "numeric"})
    verify_code = StringField(lazy_gettext("验证码"), validators=[
        DataRequired(lazy_gettext("请输入验证码")), Regexp(r"^[0-9]{6}$", message=lazy_gettext("验证码为 6 位数字"))])
    next = HiddenField()


class SmsSendForm(PageForm):
    phone = StringField(lazy_gettext("手机号"),
                        validators=[DataRequired(lazy_gettext("请输入手机号")), Length(max=limit_of(User.phone))])


class ProfileForm(PageForm):
    name = StringField(lazy_gettext("用户名"),
                       validators=[DataRequired(lazy_gettext("请输入用户名")), Length(max=limit_of(User.name))])
    avatar = StringField(lazy_gettext("头像地址"), validators=[Length(max=limit_of(User.avatar))])
    # data-max-bytes: avatar.js refuses a bigger file when it is chosen, not a save answered 413 that loses the form
    avatar_file = FileField(lazy_gettext("上传头像"),
                            render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp", "data-avatar-input": "",
                                       "data-max-bytes": AVATAR_FILE_MAX})


class ChangePasswordForm(PageForm):
    old_password = PasswordField(lazy_gettext("原密码"), validators=[DataRequired(lazy_gettext("请输入原密码"))])
    new_password = PasswordField(lazy_gettext("新密码"), validators=[DataRequired(lazy_gettext("请输入新密码"))])
    confirm_password = PasswordField(lazy_gettext("确认新密码"), validators=[
        DataRequired(lazy_gettext("请再次输入新密码")),
        EqualTo("new_password", message=lazy_gettext("两次输入的密码不一致"))])

    def validate_new_password(self, field: PasswordField) -> None:
        """参数设置's password policy (its minimum length, its classes, bcrypt's 72 bytes), as the save applies it:
        no minimum of the form's own."""
        problem = user_service.password_problem(field.data) if field.data else None
        if problem:
            raise ValidationError(problem)


class UnlockForm(PageForm):
    """The login log's 解锁 button: the phone (or secureId) or the address of the row, one of them."""

    phone = HiddenField(validators=[Length(max=128)])
    client_ip = HiddenField(validators=[Length(max=64)])
    back = HiddenField()

    def validate(self, extra_validators: object = None) -> bool:  # type: ignore[override]
        if not super().validate(extra_validators):  # type: ignore[arg-type]
            return False
        if not (self.phone.data or "").strip() and not (self.client_ip.data or "").strip():
            self.phone.errors = [gettext("请填写手机号或 IP 地址")]
            return False
        return True
