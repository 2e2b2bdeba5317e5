"""职级管理 forms (pages)."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from pcloud.core.forms import NumberField, PageForm
from pcloud.grades.schemas import NAME_MAX, REMARK_MAX


class GradeForm(PageForm):
    name = StringField("职级名称", validators=[DataRequired("请输入职级名称"),
                                            Length(max=NAME_MAX, message="职级名称不能超过 %(max)d 个字符")])
    level = NumberField("等级", default=0, validators=[
        InputRequired("请输入等级"), NumberRange(min=0, max=1_000_000, message="等级须为 0 到 1000000 之间的整数")],
        render_kw={"inputmode": "numeric", "min": 0})
    remark = TextAreaField("备注", validators=[
        Optional(), Length(max=REMARK_MAX, message="备注不能超过 %(max)d 个字符")])
