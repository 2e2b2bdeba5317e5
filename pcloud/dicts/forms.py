"""字典管理 forms (pages)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from pcloud.core.forms import NumberField, PageForm
from pcloud.dicts.schemas import CODE_MAX, LABEL_EN_MAX, LABEL_MAX, NAME_MAX, REMARK_MAX, VALUE_MAX
from pcloud.dicts.service import BADGE_COLOURS

STATUS_CHOICES = [(0, lazy_gettext("正常")), (1, lazy_gettext("停用"))]
REMARK_RULES = [Optional(), Length(max=REMARK_MAX, message=lazy_gettext("备注不能超过 %(max)d 个字符"))]
COLOUR_CHOICES = [("", lazy_gettext("（无）"))] + [(c, c) for c in BADGE_COLOURS]


class DictTypeForm(PageForm):
    name = StringField(lazy_gettext("字典名称"), validators=[
        DataRequired(lazy_gettext("请输入字典名称")),
        Length(max=NAME_MAX, message=lazy_gettext("字典名称不能超过 %(max)d 个字符"))])
    dict_type = StringField(lazy_gettext("字典类型"), validators=[
        DataRequired(lazy_gettext("请输入字典类型")),
        Length(max=CODE_MAX, message=lazy_gettext("字典类型不能超过 %(max)d 个字符"))])
    status = RadioField(lazy_gettext("状态"), coerce=int, choices=STATUS_CHOICES, default=0)
    remark = TextAreaField(lazy_gettext("备注"), validators=REMARK_RULES)


class DictDataForm(PageForm):
    dict_type = SelectField(lazy_gettext("字典类型"), choices=[], validate_choice=False)
    label = StringField(lazy_gettext("字典标签"), validators=[
        DataRequired(lazy_gettext("请输入字典标签")),
        Length(max=LABEL_MAX, message=lazy_gettext("字典标签不能超过 %(max)d 个字符"))])
    label_en = StringField(lazy_gettext("英文标签"), validators=[
        Optional(), Length(max=LABEL_EN_MAX, message=lazy_gettext("英文标签不能超过 %(max)d 个字符"))])
    value = StringField(lazy_gettext("字典键值"), validators=[
        DataRequired(lazy_gettext("请输入字典键值")),
        Length(max=VALUE_MAX, message=lazy_gettext("字典键值不能超过 %(max)d 个字符"))])
    sort = NumberField(lazy_gettext("排序"), default=0, validators=[
        Optional(), NumberRange(min=0, max=1_000_000, message=lazy_gettext("排序须在 %(min)s 到 %(max)s 之间"))],
        render_kw={"inputmode": "numeric"})
    css_class = SelectField(lazy_gettext("标签颜色"), choices=COLOUR_CHOICES, default="")
    is_default = BooleanField(lazy_gettext("默认值"))
    status = RadioField(lazy_gettext("状态"), coerce=int, choices=STATUS_CHOICES, default=0)
    remark = TextAreaField(lazy_gettext("备注"), validators=REMARK_RULES)
