"""短信模板 forms (pages)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from pcloud.core.forms import PageForm
from pcloud.smstemplates.schemas import CODE_MAX, NAME_MAX, TEXT_MAX


class SmsTemplateForm(PageForm):
    code = StringField(lazy_gettext("短信编码"), validators=[
        DataRequired(lazy_gettext("请输入短信编码")),
        Length(max=CODE_MAX, message=lazy_gettext("短信编码不能超过 %(max)d 个字符"))])
    name = StringField(lazy_gettext("短信名称"), validators=[
        DataRequired(lazy_gettext("请输入短信名称")),
        Length(max=NAME_MAX, message=lazy_gettext("短信名称不能超过 %(max)d 个字符"))])
    description = TextAreaField(lazy_gettext("短信内容"), validators=[
        DataRequired(lazy_gettext("请输入短信内容")),
        Length(max=TEXT_MAX, message=lazy_gettext("短信内容不能超过 %(max)d 个字符"))])
