"""开放平台 JSON API under /api/open/admin: accounts, the interface catalogue and per-account grants."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext
from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.envelope import envelope
from pcloud.core.messages import N_
from pcloud.core.operations import operation
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


@operation(blp, "/account/page", "OpenAccountPage", AccountOut, paged=True, args=AccountPageArgs)
def account_page(args: dict[str, Any]) -> Any:
    """开放账号分页（名称包含、状态）；从不返回密钥"""
    return service.page_accounts(args, args["page"], args["page_size"])


@operation(blp, "/account/create", "OpenAccountCreate", AccountCreatedOut, title=N_("开放账号新增"),
           args=AccountCreateArgs)
def account_create(args: dict[str, Any]) -> dict[str, Any]:
    """新增开放账号；data 含 secureKey，仅此一次显示"""
    account, key = service.create_account(args)
    return {"id": account.id, "secure_id": account.secure_id, "secure_key": key}


@operation(blp, "/account/modify", "OpenAccountModify", fields.Integer(), method="PUT", title=N_("开放账号修改"),
           args=AccountModifyArgs)
def account_modify(args: dict[str, Any]) -> int:
    """修改开放账号名称、备注"""
    return service.modify_account(args).id


@operation(blp, "/account/status", "OpenAccountStatus", fields.Integer(), method="PUT", title=N_("开放账号状态"),
           args=AccountStatusArgs)
def account_status(args: dict[str, Any]) -> int:
    """设置状态：0 正常，1 禁用，2 冻结；离开正常状态即吊销其全部令牌"""
    return service.set_status(args["id"], args["status"]).id


@operation(blp, "/account/<int:id>/view", "OpenAccountView", AccountOut, method="GET")
def account_view(id: int) -> Any:  # noqa: A002 - the documented path parameter
    """查看开放账号；密钥不再显示，如遗失请重置"""
    item = AccountOut().dump(service.account_item(service.get_account(id)))
    return jsonify(envelope(item, msg=gettext(service.KEY_ONCE)))


@operation(blp, "/account/<int:id>/resetKey", "OpenAccountResetKey", fields.String(), title=N_("开放账号重置密钥"))
def account_reset_key(id: int) -> str:  # noqa: A002
    """重置密钥；data 为新 secureKey（仅此一次显示），该账号全部令牌立即失效"""
    return service.reset_key(id)


@operation(blp, "/account/<int:id>/delete", "OpenAccountDelete", method="DELETE", title=N_("开放账号删除"))
def account_delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除开放账号（软删除），令牌立即失效"""
    service.delete_account(id)


@operation(blp, "/resource/page", "OpenResourcePage", EntryOut, paged=True, args=EntryPageArgs)
def resource_page(args: dict[str, Any]) -> Any:
    """接口目录分页（名称包含）"""
    return service.page_entries(args, args["page"], args["page_size"])


@operation(blp, "/resource/list", "OpenResourceList", EntryOut, many=True, args=EntryListArgs)
def resource_list(args: dict[str, Any]) -> list[dict[str, Any]]:
    """接口目录全部条目（供选择器使用）"""
    return [service.entry_item(r) for r in service.list_entries(args.get("name"))]


@operation(blp, "/resource/create", "OpenResourceCreate", fields.Integer(), title=N_("开放接口新增"),
           args=EntryCreateArgs)
def resource_create(args: dict[str, Any]) -> int:
    """把一个 API 路由模式加入接口目录；data 为 id"""
    return service.create_entry(args).id


@operation(blp, "/resource/modify", "OpenResourceModify", fields.Integer(), method="PUT", title=N_("开放接口修改"),
           args=EntryModifyArgs)
def resource_modify(args: dict[str, Any]) -> int:
    """修改接口目录条目"""
    return service.modify_entry(args).id


@operation(blp, "/resource/<int:id>/delete", "OpenResourceDelete", method="DELETE", title=N_("开放接口删除"))
def resource_delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除接口目录条目；仍授权给账号时 409"""
    service.delete_entry(id)


@operation(blp, "/resource/permission", "OpenResourcePermission", EntryOut, paged=True, args=OpenPermissionArgs)
def resource_permission(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """接口目录分页（不传 pageSize 时全部），已授权给该账号的条目 permission 为 true；total 为条目总数"""
    result = service.page_account_permissions(args["account_id"], args.get("name"), args["page"],
                                              args["page_size"])
    return result.items, result.total


@operation(blp, "/resource/grant", "OpenResourceGrant", fields.Integer(), title=N_("开放接口授权"), args=OpenGrantArgs)
def resource_grant(args: dict[str, Any]) -> int:
    """授权：该账号从此恰好拥有这些接口；下一次请求即生效"""
    return service.grant(args["account_id"], args["resource_ids"]).id


@operation(blp, "/resource/<int:account_id>/refresh", "OpenResourceRefresh", method="GET", title=N_("开放接口刷新"))
def resource_refresh(account_id: int) -> None:
    """让所有进程重新加载该账号的授权（授权本已在下一次请求生效）"""
    service.refresh(account_id)
