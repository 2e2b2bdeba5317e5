"""号段管理 forms (pages)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from pcloud.core.forms import NumberField, PageForm
from pcloud.core.schemas import limit_of
from pcloud.segments.models import BAD_NEW_TAG, BAD_TAG, MAX_STEP, NEW_TAG, TAG, Segment

# Text limits, from the model columns (the one place each is defined)
DESCRIPTION_MAX = limit_of(Segment.description)
AUTHOR_MAX = limit_of(Segment.author)


class SegmentForm(PageForm):
    biz_tag = StringField(lazy_gettext("业务标识 bizTag"), validators=[
        DataRequired(lazy_gettext("请输入业务标识")),
        Regexp(TAG.pattern, message=BAD_TAG)])
    max_id = StringField(lazy_gettext("最大 ID（下一个待分配的 ID）"), default="1", validators=[
        DataRequired(lazy_gettext("请输入最大 ID")),
        Regexp(r"^[0-9]+\Z", message=lazy_gettext("最大 ID 须为正整数"))],  # the service says the range
        render_kw={"inputmode": "numeric"})
    step = NumberField(lazy_gettext("步长"), default=1000, validators=[
        InputRequired(lazy_gettext("请输入步长")),
        NumberRange(min=1, max=MAX_STEP, message=lazy_gettext("步长须为 %(min)s 到 %(max)s 之间的整数"))],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_STEP})
    description = StringField(lazy_gettext("描述"), validators=[
        Optional(), Length(max=DESCRIPTION_MAX, message=lazy_gettext("描述不能超过 %(max)d 个字符"))])
    author = StringField(lazy_gettext("负责人"), validators=[
        Optional(), Length(max=AUTHOR_MAX, message=lazy_gettext("负责人不能超过 %(max)d 个字符"))])
    # The maxId the edit form showed: left as shown, it is not saved (the ID service raises it meanwhile, and
    # saving the shown value back would be lowering it)
    max_id_shown = HiddenField()


class NewSegmentForm(SegmentForm):
    """A new tag also starts with a letter or digit (an existing one is edited under the looser rule)."""

    max_id_shown = None

    biz_tag = StringField(lazy_gettext("业务标识 bizTag"), validators=[
        DataRequired(lazy_gettext("请输入业务标识")), Regexp(NEW_TAG.pattern, message=BAD_NEW_TAG)])
