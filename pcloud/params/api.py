"""参数设置 JSON API under /api/admin/config (API.md, Parameters)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.core.recorder import outcome_message
from pcloud.params import service
from pcloud.params.schemas import ParamModifyArgs, ParamOut, ParamPageArgs

blp = Blueprint("params_api", __name__, url_prefix="/api/admin/config", description="参数设置")


@operation(blp, "/page", "ParamPage", ParamOut, paged=True, args=ParamPageArgs)
def page(args: dict[str, Any]) -> Any:
    """参数分页列表（键名、名称包含）"""
    return service.page_params(args, args["page"], args["page_size"])


@operation(blp, "/modify", "ParamModify", ParamOut, method="PUT", title=N_("参数修改"), args=ParamModifyArgs)
def modify(args: dict[str, Any]) -> dict[str, Any]:
    """修改参数值（按类型与范围校验，各进程下一次请求即生效）；环境变量设置的参数只读（409）"""
    d, old, new = service.modify(args["key"], args["value"])
    outcome_message(service.change_message(d, old, new))
    return service.get_param(d.key)


@operation(blp, "/<string:key>", "ParamDetail", ParamOut, method="GET")
def detail(key: str) -> dict[str, Any]:
    """一个参数的当前值"""
    return service.get_param(key)


@operation(blp, "/<string:key>/reset", "ParamReset", ParamOut, title=N_("参数重置"))
def reset(key: str) -> dict[str, Any]:
    """恢复默认值（环境变量或代码的默认）"""
    d, old, new = service.reset(key)
    outcome_message(service.change_message(d, old, new))
    return service.get_param(d.key)
