"""站内信 forms (pages)."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from pcloud.core.forms import PageForm
from pcloud.mail.schemas import DESCRIPTION_MAX, NAME_MAX, PHONE_MAX


class MailForm(PageForm):
    phone = StringField("收信人手机号", validators=[DataRequired("请输入收信人手机号"),
                                                Length(max=PHONE_MAX, message="手机号不能超过 %(max)d 个字符")])
    name = StringField("标题", validators=[DataRequired("请输入标题"),
                                         Length(max=NAME_MAX, message="标题不能超过 %(max)d 个字符")])
    description = TextAreaField("内容", validators=[DataRequired("请输入内容"),
                                                  Length(max=DESCRIPTION_MAX, message="内容不能超过 %(max)d 个字符")])
