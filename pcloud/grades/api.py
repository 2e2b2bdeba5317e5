"""职级管理 JSON API under /api/admin/grade."""

from __future__ import annotations

from flask_smorest import Blueprint

from pcloud.core.operations import record_operations
from pcloud.grades import service
from pcloud.grades.schemas import GradeCreateArgs, GradeModifyArgs, GradeOut, GradePageArgs

blp = Blueprint("grades_api", __name__, url_prefix="/api/admin/grade", description="职级管理")

record_operations(
    blp, "Grade", title="职级",
    page=(service.page_grades, GradePageArgs, GradeOut, "职级分页列表（名称包含），按等级排序"),
    create=(service.create_grade, GradeCreateArgs, "新增职级；data 为新职级 id"),
    modify=(service.modify_grade, GradeModifyArgs, "修改职级"),
    delete=(service.delete_grade, "删除职级（软删除；仍有用户是该职级时 409）"),
)
