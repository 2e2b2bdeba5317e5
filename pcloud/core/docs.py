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

# The document's description (info.description, shown at the top of /api/docs): what every call shares, which an
# integrator needs before the first one; docs/API.md is the contract in full.
API_DESCRIPTION = """PCloud 的 JSON API。完整约定见 docs/API.md；这里是每个调用都适用的规则。

**应答信封**：每个应答（成功或失败）都是 `{"code", "msg", "timestamp", "total", "data"}`，字段有误时另有
`errors`（`{"字段": ["原因"]}`）。HTTP 状态等于 `code`：200 成功；400 请求格式错误（JSON 不合法）；
401 未登录、令牌无效、过期或被吊销（`msg` 说明原因）；403 没有权限或账号已禁用；404 没有该记录或路由；
405 请求方法不对；409 业务规则不允许或与并发请求冲突；422 字段校验失败；429 尝试过于频繁；
503 依赖不可用（如数据库）；500 意外错误（`msg` 为「系统异常」）。
`timestamp` 是毫秒时间戳；`total` 只对分页接口有意义。请求体中的未知字段返回 422。

**令牌**：`POST /api/oauth/token`，`grantType` 为 `ADMIN`（phone + password）、`SMS`（phone + verifyCode）或
`OPEN`（开放平台账号的 secureId + secureKey）。之后每个调用带请求头 `Authorization: Bearer <token>`。令牌自登录起
`expiresIn` 秒内有效（默认 12 小时，参数设置 `sys.session.tokenTtl`），不因使用而延长；没有刷新接口，到期前或收到 401
后重新登录即可。账号被禁用、冻结、删除或重置密钥时，其令牌立即失效。

**登录锁**：同一手机号或 secureId 15 分钟内失败 5 次锁定 15 分钟，同一地址失败 20 次锁定该地址（429）；次数可在参数设置
中调整。

**语言**：`msg` 和 `errors` 默认是简体中文；请求头 `Accept-Language: en` 得到英文。

**号段取号**（开放平台账号需被授权「号段取号」接口）：`GET /api/integration/segment/get/{bizTag}` 取一个 ID，
`GET /api/integration/segment/batch/{bizTag}/{count}` 取 `count` 个（1..1000），ID 为字符串（64 位整数超出 JavaScript
的精确范围）。同一 bizTag 的 ID 全局唯一，同一进程内递增，一批内升序；服务有多个进程时，先后两次调用的 ID 不保证递增。
未知 bizTag 为 404，bizTag 不合规或 count 越界为 422。
"""


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
