"""职级管理 JSON API under /api/admin/grade."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.grades import service
from pcloud.grades.schemas import GradeCreateArgs, GradeModifyArgs, GradeOut, GradePageArgs

blp = Blueprint("grades_api", __name__, url_prefix="/api/admin/grade", description="职级管理")


@operation(blp, "/page", "GradePage", GradeOut, paged=True, args=GradePageArgs)
def page(args: dict[str, Any]) -> Any:
    """职级分页列表（名称包含），按等级排序"""
    return service.page_grades(args, args["page"], args["page_size"])


@operation(blp, "/create", "GradeCreate", fields.Integer(), title=N_("职级新增"), args=GradeCreateArgs)
def create(args: dict[str, Any]) -> int:
    """新增职级；data 为新职级 id"""
    return service.create_grade(args).id


@operation(blp, "/modify", "GradeModify", fields.Integer(), method="PUT", title=N_("职级修改"), args=GradeModifyArgs)
def modify(args: dict[str, Any]) -> int:
    """修改职级"""
    return service.modify_grade(args).id


@operation(blp, "/<int:id>/delete", "GradeDelete", method="DELETE", title=N_("职级删除"))
def delete(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除职级（软删除；仍有用户是该职级时 409）"""
    service.delete_grade(id)
