"""云上传 pages under /personalized/upload: the storage that holds uploads and a browser of its files."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext, lazy_gettext

from pcloud.core.forms import ConfirmForm
from pcloud.core.messages import N_
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.views import RecordPages
from pcloud.uploads import service
from pcloud.uploads.api import FilePageArgs, StoragePageArgs
from pcloud.uploads.forms import StorageForm

bp = Blueprint("uploads", __name__, url_prefix="/personalized/upload")
pages = RecordPages(bp, lazy_gettext("文件"), "uploads/files.html")
storage_pages = RecordPages(bp, lazy_gettext("存储"), "uploads/storage_form.html", index="storages")
# The filter bars' inputs, read through the API's page schemas (core.pages.page_filters).
FILTERS = {"name": Filter("name", lazy_gettext("文件名")), "type": Filter("contentType", lazy_gettext("类型"))}
STORAGE_FILTERS = {"name": Filter("name", lazy_gettext("存储名称"))}
TYPES = sorted(service.MIMETYPES.values())


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    filters = page_filters(FilePageArgs, FILTERS)
    result = service.page_files(filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("uploads/files.html", page=result, rows=result.items, filters=filters, args=request.args,
                           types=TYPES, storages=service.list_storages(), confirm=ConfirmForm(), page_url=page_url)


@bp.route("/<name>/delete", methods=["POST"])
@action(N_("文件删除"))
@mirrors("uploads_api.file_delete")
def delete(name: str) -> Any:
    return pages.confirm(lambda: gettext("文件「%(name)s」已删除", name=service.delete_file(name)))


# Storage settings: name, type and bucket from allow-lists (uploads.service.STORAGE_TYPES)


@bp.route("/storages/")
def storages() -> Any:
    page, page_size = list_args()
    filters = page_filters(StoragePageArgs, STORAGE_FILTERS)
    result = service.page_storages(filters, page, page_size, as_shown=True)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    # the delete's dialog warns of the last storage by every live storage, not by the rows a filter left
    return render_template("uploads/storages.html", page=result, rows=result.items, filters=filters,
                           live_storages=service.live_storage_count(), confirm=ConfirmForm(), page_url=page_url)


def _storage_values(form: StorageForm) -> dict[str, Any]:
    return {"name": form.name.data, "type": form.type.data, "bucket_name": form.bucket_name.data}


@bp.route("/storages/new", methods=["GET", "POST"])
@action(N_("存储设置新增"))
@mirrors("uploads_api.storage_create")
def storage_create() -> Any:
    form = StorageForm()
    return storage_pages.form(form, lambda: gettext("已保存存储「%(name)s」",
                                                    name=service.create_storage(_storage_values(form)).name),
                              storage=None)


@bp.route("/storages/<int:storage_id>/edit", methods=["GET", "POST"])
@action(N_("存储设置修改"))
@mirrors("uploads_api.storage_modify:PUT")
def storage_edit(storage_id: int) -> Any:
    storage = storage_pages.record(service.get_storage, storage_id)
    form = storage_pages.edit_form(StorageForm, storage)

    def save() -> str:
        return gettext("已保存存储「%(name)s」", name=service.modify_storage(storage_id, _storage_values(form)).name)

    return storage_pages.form(form, save, storage=storage)


@bp.route("/storages/<int:storage_id>/delete", methods=["POST"])
@action(N_("存储设置删除"))
@mirrors("uploads_api.storage_delete")
def storage_delete(storage_id: int) -> Any:
    return storage_pages.confirm(
        lambda: gettext("存储「%(name)s」已删除", name=service.delete_storage(storage_id).name),
        refused=gettext("不能删除："))
