"""云上传 pages under /personalized/upload: the storage that holds uploads and a browser of its files."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from pcloud.core.forms import ConfirmForm
from pcloud.core.pages import list_args, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.views import RecordPages
from pcloud.uploads import service

bp = Blueprint("uploads", __name__, url_prefix="/personalized/upload")
pages = RecordPages(bp, "文件", "uploads/files.html")
TYPES = sorted(service.MIMETYPES.values())


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    name = request.args.get("name", "").strip()[:32]
    content_type = request.args.get("type", "")
    result = service.page_files({"name": name, "content_type": content_type if content_type in TYPES else ""},
                                page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("uploads/files.html", page=result, rows=result.items, name=name, content_type=content_type,
                           types=TYPES, storage=service.STORAGE, confirm=ConfirmForm(), page_url=page_url)


@bp.route("/<name>/delete", methods=["POST"])
@action("文件删除")
@mirrors("uploads_api.file_delete")
def delete(name: str) -> Any:
    return pages.confirm(lambda: f"文件「{service.delete_file(name)}」已删除")
