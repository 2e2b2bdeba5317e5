"""Swagger UI assets served from the swagger-ui-bundle package, so /api/docs works offline."""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from flask import Blueprint, Flask, send_from_directory

from pcloud.core.routing import render_rule
from pcloud.core.security import public

bp = Blueprint("docs", __name__)


@bp.route("/api/docs/assets/<path:filename>", endpoint="docs_assets")
@public
def assets(filename: str) -> Any:
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


def label_api_doc(app: Flask, api: Any) -> None:
    """Make /api/docs read like API.md: tags carry its Chinese section names (基础服务, 系统管理 · 用户管理,
    开放平台, 号段管理, 定时任务) instead of blueprint names, and operations open to anyone (sign-in, SMS
    code) show no lock. Called once, after every API blueprint is registered."""
    spec = api.spec
    renamed: dict[str, str] = {}
    for tag in spec._tags:  # apispec keeps them in registration order
        blueprint = app.blueprints.get(tag["name"])
        if blueprint is None:
            continue
        section = (tag.get("description") or tag["name"]).split("：")[0]
        prefix = blueprint.url_prefix or ""
        if prefix.startswith("/api/admin") and section != "基础服务":
            section = f"系统管理 · {section}"
        renamed[tag["name"]] = section
        tag["name"] = section
    open_ops: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if rule.rule.startswith("/api/") and getattr(view, "_public", False):
            path = render_rule(rule.rule)
            open_ops |= {(path, m.lower()) for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    for path, operations in spec._paths.items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            if "tags" in operation:
                operation["tags"] = [renamed.get(t, t) for t in operation["tags"]]
            if (path, method) in open_ops:
                operation["security"] = []  # overrides the document's bearer requirement: no lock
