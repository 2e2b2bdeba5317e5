"""短信模板 forms (pages)."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from pcloud.core.forms import PageForm
from pcloud.smstemplates.schemas import CODE_MAX, NAME_MAX, TEXT_MAX


class SmsTemplateForm(PageForm):
    code = StringField("短信编码", validators=[DataRequired("请输入短信编码"),
                                             Length(max=CODE_MAX, message="短信编码不能超过 %(max)d 个字符")])
    name = StringField("短信名称", validators=[DataRequired("请输入短信名称"),
                                             Length(max=NAME_MAX, message="短信名称不能超过 %(max)d 个字符")])
    description = TextAreaField("短信内容", validators=[
        DataRequired("请输入短信内容"), Length(max=TEXT_MAX, message="短信内容不能超过 %(max)d 个字符")])
