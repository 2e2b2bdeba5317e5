"""菜单管理 forms (pages)."""

from __future__ import annotations

from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from pcloud.core.forms import PageForm
from pcloud.core.schemas import SEQUENCE_MAX, limit_of
from pcloud.menus.models import Menu


class MenuForm(PageForm):
    parent_id = SelectField("上级菜单", coerce=int, choices=[], validate_choice=False)
    name = StringField("菜单名称", validators=[DataRequired("请输入菜单名称"), Length(max=limit_of(Menu.name))])
    path = StringField("路由地址", validators=[DataRequired("请输入路由地址"), Length(max=limit_of(Menu.path))],
                       render_kw={"placeholder": "/system/example"})
    component = StringField("组件", validators=[Optional(), Length(max=limit_of(Menu.component))])
    redirect = StringField("重定向", validators=[Optional(), Length(max=limit_of(Menu.redirect))])
    icon = StringField("图标", validators=[Optional(), Length(max=limit_of(Menu.icon))],
                       render_kw={"placeholder": "gear"})
    sequence = IntegerField("排序", default=0, validators=[Optional(), NumberRange(0, SEQUENCE_MAX)])
    router = BooleanField("作为路由", default=True)
    hidden = BooleanField("在侧边栏隐藏", default=False)


class MoveForm(PageForm):
    parent_id = SelectField("移动到", coerce=int, choices=[], validate_choice=False)
    sequence = IntegerField("排序（越小越靠前）", default=0,
                            validators=[Optional(), NumberRange(0, SEQUENCE_MAX)])
