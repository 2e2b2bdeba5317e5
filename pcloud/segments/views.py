"""号段管理 pages under /integration/segment: list, create, edit (maxId only upwards), cache monitor."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext, lazy_gettext

from pcloud.core.messages import N_
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.sorting import sort_args
from pcloud.core.views import RecordPages
from pcloud.segments import service
from pcloud.segments.forms import NewSegmentForm, SegmentForm
from pcloud.segments.schemas import SegmentPageArgs

bp = Blueprint("segments", __name__, url_prefix="/integration/segment")
pages = RecordPages(bp, lazy_gettext("号段"), "segments/form.html")


# The filter bar's inputs, read through the API's page schema (core.pages.page_filters).
FILTERS = {"bizTag": Filter("bizTag", lazy_gettext("业务标识")),
           "description": Filter("description", lazy_gettext("描述"))}


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    loaded = page_filters(SegmentPageArgs, FILTERS)
    filters = {key: (loaded.get(key) or "").strip() for key in ("biz_tag", "description")}
    result = service.page_segments({**filters, **sort_args(service.SEGMENT_SORTS)}, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    cached = {s["biz_tag"] for s in service.cache_states()}
    return render_template("segments/list.html", page=result, filters=filters, cached=cached, page_url=page_url)


def _data(form: SegmentForm) -> dict[str, Any]:
    return {"biz_tag": form.biz_tag.data, "max_id": form.max_id.data, "step": form.step.data,
            "description": form.description.data, "author": form.author.data}


@bp.route("/new", methods=["GET", "POST"])
@action(N_("号段新增"))
@mirrors("segments_api.create")
def create() -> Any:
    form = NewSegmentForm()
    return pages.form(form, lambda: gettext("号段「%(tag)s」已创建，现在即可取号",
                                            tag=service.create_segment(_data(form)).biz_tag), seg=None)


@bp.route("/<biz_tag>/edit", methods=["GET", "POST"])
@action(N_("号段修改"))
@mirrors("segments_api.modify")
def edit(biz_tag: str) -> Any:
    seg = pages.record(service.get_segment, biz_tag, key="biz_tag")
    form = SegmentForm(data=None if request.method == "POST" else {
        "biz_tag": seg.biz_tag, "max_id": str(seg.max_id), "step": seg.step, "description": seg.description,
        "author": seg.author, "max_id_shown": str(seg.max_id)})
    form.biz_tag.data = seg.biz_tag  # the tag names the row; it never changes

    def save() -> str:
        data = _data(form)
        if form.max_id.data == form.max_id_shown.data:  # left as shown: the ID service may have moved it since
            del data["max_id"]
        return gettext("号段「%(tag)s」已保存", tag=service.modify_segment(data).biz_tag)

    # maxId moves by itself as ids are handed out: not another administrator's change
    return pages.form(form, save, seg=seg, stored={"max_id": None, "max_id_shown": None})


@bp.route("/<biz_tag>/cache")
def cache(biz_tag: str) -> Any:
    seg = service.get_segment(biz_tag)
    return render_template("segments/cache.html", seg=seg, state=service.cache_state(seg.biz_tag))
