"""菜单管理 forms (pages)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from pcloud.core.forms import PageForm
from pcloud.core.schemas import SEQUENCE_MAX, limit_of
from pcloud.menus import service
from pcloud.menus.models import Menu


class MenuForm(PageForm):
    parent_id = SelectField(lazy_gettext("上级菜单"), coerce=int, choices=[], validate_choice=False)
    name = StringField(lazy_gettext("菜单名称"), validators=[DataRequired(lazy_gettext("请输入菜单名称")),
                                                         Length(max=limit_of(Menu.name))])
    name_en = StringField(lazy_gettext("英文名称"), validators=[Optional(), Length(max=limit_of(Menu.name_en))],
                          render_kw={"lang": "en"})
    path = StringField(lazy_gettext("路由地址"), validators=[DataRequired(lazy_gettext("请输入路由地址")),
                                                         Length(max=limit_of(Menu.path))],
                       render_kw={"placeholder": "/system/example"})
    component = StringField(lazy_gettext("组件"), validators=[Optional(), Length(max=limit_of(Menu.component))])
    redirect = StringField(lazy_gettext("重定向"), validators=[Optional(), Length(max=limit_of(Menu.redirect))])
    icon = StringField(lazy_gettext("图标"), validators=[Optional(), Length(max=limit_of(Menu.icon))],
                       render_kw={"placeholder": "gear"})
    sequence = IntegerField(lazy_gettext("排序"), default=0, validators=[Optional(), NumberRange(0, SEQUENCE_MAX)])
    router = BooleanField(lazy_gettext("作为路由"), default=True)
    hidden = BooleanField(lazy_gettext("在侧边栏隐藏"), default=False)

    record_id: int | None = None  # the menu an edit form saves (its own route is not "taken")

    def service_problems(self) -> Mapping[str, list[str]]:
        """The route and redirect a save would refuse: said with the form's own errors (when those pass, the save
        says them, a route taken with the API's 409)."""
        return service.form_problems(self.record_id, self.path.data, self.redirect.data)


class MoveForm(PageForm):
    parent_id = SelectField(lazy_gettext("移动到"), coerce=int, choices=[], validate_choice=False)
    sequence = IntegerField(lazy_gettext("排序（越小越靠前）"), default=0,
                            validators=[Optional(), NumberRange(0, SEQUENCE_MAX)])
