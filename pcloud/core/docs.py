"""Swagger UI assets served from the swagger-ui-bundle package, so /api/docs works offline, and the labels
that make /api/docs read like API.md."""

from __future__ import annotations

import re
from typing import Any

import swagger_ui_bundle
from apispec import APISpec, BasePlugin
from flask import Blueprint, Flask, send_from_directory

from pcloud.core.schemas import camelcase
from pcloud.core.security import public

bp = Blueprint("docs", __name__)


@bp.route("/api/docs/assets/<path:filename>", endpoint="docs_assets")
@public
def assets(filename: str) -> Any:
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


def section_of(app: Flask, tag: dict[str, Any]) -> str:
    """API.md's Chinese section name for a blueprint's tag (基础服务, 系统管理 · 用户管理, 开放平台, 号段管理,
    定时任务); a tag that names no blueprint keeps its name."""
    blueprint = app.blueprints.get(tag["name"])
    if blueprint is None:
        return str(tag["name"])
    section = (tag.get("description") or tag["name"]).split("：")[0]
    if (blueprint.url_prefix or "").startswith("/api/admin") and section != "基础服务":
        section = f"系统管理 · {section}"
    return str(section)


class ApiDocLabels(BasePlugin):
    """An apispec plugin (given to flask-smorest as `extra_plugins`): each operation is tagged with its
    section's name, and an operation open to anyone (sign-in, SMS code) shows no lock."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def path_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                    parameters: list[Any] | None = None, **kwargs: Any) -> str | None:
        """A path argument under its wire name, camelCase as API.md writes it ({bizTag}, {accountId}), whatever
        the Python name of the view's argument."""
        if path is None:
            return None
        for parameter in parameters or []:
            if isinstance(parameter, dict) and parameter.get("in") == "path":
                parameter["name"] = camelcase(parameter["name"])
        return re.sub(r"\{(\w+)\}", lambda m: "{" + camelcase(m.group(1)) + "}", path)

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        is_open = rule is not None and rule.rule.startswith("/api/") and getattr(view, "_public", False)
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            if "tags" in operation:
                operation["tags"] = [self._section(t) for t in operation["tags"]]
            if is_open:
                operation["security"] = []  # overrides the document's bearer requirement: no lock

    def _section(self, name: str) -> str:
        blueprint = self.app.blueprints.get(name)
        return section_of(self.app, {"name": name, "description": getattr(blueprint, "description", None)})


def label_api_doc(app: Flask, spec: APISpec) -> None:
    """The document's tag list under the same section names as the operations (ApiDocLabels), in
    registration order. Called once, after every API blueprint is registered: the top-level `tags` option
    of the spec takes the place of the registered ones in its output."""
    spec.options["tags"] = [{**tag, "name": section_of(app, tag)} for tag in spec.to_dict().get("tags", [])]
