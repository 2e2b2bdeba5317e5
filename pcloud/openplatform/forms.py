"""开放平台 forms (pages)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AccountForm(FlaskForm):
    name = StringField("账号名称", validators=[DataRequired("请输入账号名称"),
                                            Length(max=64, message="账号名称不能超过 64 个字符")])
    remark = TextAreaField("备注", validators=[Optional(), Length(max=500, message="备注不能超过 500 个字符")])


class EntryForm(FlaskForm):
    name = StringField("接口名称", validators=[DataRequired("请输入接口名称"),
                                            Length(max=128, message="接口名称不能超过 128 个字符")])
    resource_url = StringField("接口路径", validators=[DataRequired("请输入接口路径"),
                                                   Length(max=255, message="接口路径不能超过 255 个字符")])
    method = SelectField("请求方式", choices=[("GET", "GET"), ("POST", "POST"), ("PUT", "PUT"),
                                          ("DELETE", "DELETE"), ("*", "全部 (*)")], default="GET")


class GrantForm(FlaskForm):
    entry_ids = MultiCheckboxField("可调用的接口", coerce=int, choices=[])
