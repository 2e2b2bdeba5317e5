"""开放平台 JSON API under /api/open/admin: accounts, the interface catalogue and per-account grants."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.envelope import envelope
from pcloud.core.operations import operation, record_operations
from pcloud.openplatform import service
from pcloud.openplatform.schemas import (
    AccountCreateArgs,
    AccountCreatedOut,
    AccountModifyArgs,
    AccountOut,
    AccountPageArgs,
    AccountStatusArgs,
    EntryCreateArgs,
    EntryListArgs,
    EntryModifyArgs,
    EntryOut,
    EntryPageArgs,
    OpenGrantArgs,
    OpenPermissionArgs,
)

blp = Blueprint("openplatform_api", __name__, url_prefix="/api/open/admin", description="开放平台")


record_operations(
    blp, "OpenAccount", prefix="/account", endpoint_prefix="account_",
    page=(service.page_accounts, AccountPageArgs, AccountOut, "开放账号分页（名称包含、状态）；从不返回密钥"),
)


@operation(blp, "/account/create", "OpenAccountCreate", AccountCreatedOut, title="开放账号新增", args=AccountCreateArgs)
def account_create(args: dict[str, Any]) -> dict[str, Any]:
    """新增开放账号；data 含 secureKey，仅此一次显示"""
    account, key = service.create_account(args)
    return {"id": account.id, "secure_id": account.secure_id, "secure_key": key}


record_operations(
    blp, "OpenAccount", title="开放账号", prefix="/account", endpoint_prefix="account_",
    modify=(service.modify_account, AccountModifyArgs, "修改开放账号名称、备注"),
)


@operation(blp, "/account/status", "OpenAccountStatus", fields.Integer(), method="PUT", title="开放账号状态",
           args=AccountStatusArgs)
def account_status(args: dict[str, Any]) -> int:
    """设置状态：0 正常，1 禁用，2 冻结；离开正常状态即吊销其全部令牌"""
    return service.set_status(args["id"], args["status"]).id


@operation(blp, "/account/<int:id>/view", "OpenAccountView", AccountOut, method="GET")
def account_view(id: int) -> Any:  # noqa: A002 - the documented path parameter
    """查看开放账号；密钥不再显示，如遗失请重置"""
    item = AccountOut().dump(service.account_item(service.get_account(id)))
    return jsonify(envelope(item, msg=service.KEY_ONCE))


@operation(blp, "/account/<int:id>/resetKey", "OpenAccountResetKey", fields.String(), title="开放账号重置密钥")
def account_reset_key(id: int) -> str:  # noqa: A002
    """重置密钥；data 为新 secureKey（仅此一次显示），该账号全部令牌立即失效"""
    return service.reset_key(id)


record_operations(
    blp, "OpenAccount", title="开放账号", prefix="/account", endpoint_prefix="account_",
    delete=(service.delete_account, "删除开放账号（软删除），令牌立即失效"),
)
record_operations(
    blp, "OpenResource", prefix="/resource", endpoint_prefix="resource_",
    page=(service.page_entries, EntryPageArgs, EntryOut, "接口目录分页（名称包含）"),
)


@operation(blp, "/resource/list", "OpenResourceList", EntryOut, many=True, args=EntryListArgs)
def resource_list(args: dict[str, Any]) -> list[dict[str, Any]]:
    """接口目录全部条目（供选择器使用）"""
    return [service.entry_item(r) for r in service.list_entries(args.get("name"))]


record_operations(
    blp, "OpenResource", title="开放接口", prefix="/resource", endpoint_prefix="resource_",
    create=(service.create_entry, EntryCreateArgs, "把一个 API 路由模式加入接口目录；data 为 id"),
    modify=(service.modify_entry, EntryModifyArgs, "修改接口目录条目"),
    delete=(service.delete_entry, "删除接口目录条目；仍授权给账号时 409"),
)


@operation(blp, "/resource/permission", "OpenResourcePermission", EntryOut, paged=True, args=OpenPermissionArgs)
def resource_permission(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """接口目录分页（不传 pageSize 时全部），已授权给该账号的条目 permission 为 true；total 为条目总数"""
    result = service.page_account_permissions(args["account_id"], args.get("name"), args["page"],
                                              args["page_size"])
    return result.items, result.total


@operation(blp, "/resource/grant", "OpenResourceGrant", fields.Integer(), title="开放接口授权", args=OpenGrantArgs)
def resource_grant(args: dict[str, Any]) -> int:
    """授权：该账号从此恰好拥有这些接口；下一次请求即生效"""
    return service.grant(args["account_id"], args["resource_ids"]).id


@operation(blp, "/resource/<int:account_id>/refresh", "OpenResourceRefresh", method="GET", title="开放接口刷新")
def resource_refresh(account_id: int) -> None:
    """让所有进程重新加载该账号的授权（授权本已在下一次请求生效）"""
    service.refresh(account_id)
