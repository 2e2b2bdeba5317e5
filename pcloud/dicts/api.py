"""字典管理 JSON API under /api/admin/dict (API.md, Dictionaries)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.core.security import signed_in_only
from pcloud.dicts import service
from pcloud.dicts.schemas import (
    DictDataCreateArgs,
    DictDataModifyArgs,
    DictDataOut,
    DictDataPageArgs,
    DictItemOut,
    DictTypeCreateArgs,
    DictTypeDeleteArgs,
    DictTypeModifyArgs,
    DictTypeOut,
    DictTypePageArgs,
)

blp = Blueprint("dicts_api", __name__, url_prefix="/api/admin/dict", description="字典管理")


@operation(blp, "/type/page", "DictTypePage", DictTypeOut, paged=True, args=DictTypePageArgs)
def type_page(args: dict[str, Any]) -> Any:
    """字典类型分页列表（名称、类型包含，状态）"""
    return service.page_types(args, args["page"], args["page_size"])


@operation(blp, "/type/create", "DictTypeCreate", fields.Integer(), title=N_("字典类型新增"), args=DictTypeCreateArgs)
def type_create(args: dict[str, Any]) -> int:
    """新增字典类型（类型编码唯一）；data 为新类型 id"""
    return service.create_type(args).id


@operation(blp, "/type/modify", "DictTypeModify", fields.Integer(), method="PUT", title=N_("字典类型修改"),
           args=DictTypeModifyArgs)
def type_modify(args: dict[str, Any]) -> int:
    """修改字典类型（内置类型的编码不可改）"""
    return service.modify_type(args).id


@operation(blp, "/type/<int:id>/delete", "DictTypeDelete", method="DELETE", title=N_("字典类型删除"),
           args=DictTypeDeleteArgs, location="query")
def type_delete(args: dict[str, Any], id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除字典类型（软删除）；仍有数据时 409，除非 ?cascade=1 一并删除；内置类型不可删"""
    service.delete_type(id, cascade=args.get("cascade", False))


@operation(blp, "/data/page", "DictDataPage", DictDataOut, paged=True, args=DictDataPageArgs)
def data_page(args: dict[str, Any]) -> Any:
    """字典数据分页列表（类型、标签包含，状态），按类型、排序"""
    return service.page_data(args, args["page"], args["page_size"])


@operation(blp, "/data/create", "DictDataCreate", fields.Integer(), title=N_("字典数据新增"), args=DictDataCreateArgs)
def data_create(args: dict[str, Any]) -> int:
    """新增字典数据（键值在类型内唯一）；data 为新数据 id"""
    return service.create_data(args).id


@operation(blp, "/data/modify", "DictDataModify", fields.Integer(), method="PUT", title=N_("字典数据修改"),
           args=DictDataModifyArgs)
def data_modify(args: dict[str, Any]) -> int:
    """修改字典数据"""
    return service.modify_data(args).id


@operation(blp, "/data/<int:id>/delete", "DictDataDelete", method="DELETE", title=N_("字典数据删除"))
def data_delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除字典数据（软删除）"""
    service.delete_data(id)


@operation(blp, "/<string:dict_type>", "DictItems", DictItemOut, method="GET", many=True)
@signed_in_only
def items(dict_type: str) -> list[dict[str, Any]]:
    """某字典类型的启用数据（按排序），供表单与客户端使用；任何已登录调用方可读"""
    return service.public_items(dict_type)
