"""站内信 forms (pages)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from pcloud.core.forms import PageForm
from pcloud.mail.schemas import DESCRIPTION_MAX, NAME_MAX, PHONE_MAX


class MailForm(PageForm):
    phone = StringField(lazy_gettext("收信人手机号"), validators=[
        DataRequired(lazy_gettext("请输入收信人手机号")),
        Length(max=PHONE_MAX, message=lazy_gettext("手机号不能超过 %(max)d 个字符"))])
    name = StringField(lazy_gettext("标题"), validators=[
        DataRequired(lazy_gettext("请输入标题")),
        Length(max=NAME_MAX, message=lazy_gettext("标题不能超过 %(max)d 个字符"))])
    description = TextAreaField(lazy_gettext("内容"), validators=[
        DataRequired(lazy_gettext("请输入内容")),
        Length(max=DESCRIPTION_MAX, message=lazy_gettext("内容不能超过 %(max)d 个字符"))])
