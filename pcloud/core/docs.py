"""Swagger UI assets served from the swagger-ui-bundle package, so /api/docs works offline."""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from flask import Blueprint, send_from_directory

from pcloud.core.security import public

bp = Blueprint("docs", __name__)


@bp.route("/api/docs/assets/<path:filename>", endpoint="docs_assets")
@public
def assets(filename: str) -> Any:
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
