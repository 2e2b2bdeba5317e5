"""岗位管理 forms (pages)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from pcloud.core.forms import NumberField, PageForm, parent_id_or_invalid
from pcloud.core.schemas import SEQUENCE_MAX
from pcloud.posts.schemas import CODE_MAX, NAME_MAX, REMARK_MAX


class PostForm(PageForm):
    parent_id = SelectField(lazy_gettext("上级岗位"), coerce=parent_id_or_invalid, choices=[], validate_choice=False,
                            render_kw={"data-tree-select": ""})
    name = StringField(lazy_gettext("岗位名称"), validators=[DataRequired(lazy_gettext("请输入岗位名称")),
                                            Length(max=NAME_MAX,
                                                   message=lazy_gettext("岗位名称不能超过 %(max)d 个字符"))])
    code = StringField(lazy_gettext("岗位编码"), validators=[
        Optional(), Length(max=CODE_MAX, message=lazy_gettext("岗位编码不能超过 %(max)d 个字符"))])
    sequence = NumberField(lazy_gettext("排序"), default=0, validators=[
        Optional(), NumberRange(min=0, max=SEQUENCE_MAX, message=lazy_gettext("排序须在 %(min)s 到 %(max)s 之间"))],
        render_kw={"inputmode": "numeric"})
    remark = TextAreaField(lazy_gettext("备注"), validators=[
        Optional(), Length(max=REMARK_MAX, message=lazy_gettext("备注不能超过 %(max)d 个字符"))])
