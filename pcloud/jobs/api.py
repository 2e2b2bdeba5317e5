"""定时任务 JSON API under /api/job (运行报表, 任务管理, 调度日志, 执行器管理).

Routes the original XXL-JOB front end calls with another method or shape answer both (API.md).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response
from flask_babel import gettext
from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.core.envelope import envelope, envelope_schema
from pcloud.core.errors import Invalid
from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.core.recorder import action
from pcloud.jobs import service
from pcloud.jobs.schemas import (
    ChartArgs,
    ChartOut,
    ClearLogArgs,
    ExecutorArgs,
    ExecutorModifyArgs,
    ExecutorOut,
    ExecutorPageArgs,
    GlueRollbackArgs,
    GlueSaveArgs,
    GlueVersionOut,
    GlueVersionSourceOut,
    JobArgs,
    JobBriefOut,
    JobExportArgs,
    JobGraphOut,
    JobImportFile,
    JobImportOptions,
    JobImportOut,
    JobModifyArgs,
    JobOut,
    JobPageArgs,
    LogDetailArgs,
    LogDetailOut,
    NextTimeArgs,
    NextTimeQuery,
    NodeOut,
    RunOut,
    RunPageArgs,
    StatisticsOut,
    TriggerArgs,
)

blp = Blueprint("jobs_api", __name__, url_prefix="/api/job", description="定时任务")


def _respond_with_content(name: str, schema: type | fields.Field
                          ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The payload in both `data` and `content`: the original front end reads `content` from chartInfo,
    statistics, jobgroup/{id}/loadById and the GET nextTriggerTime."""
    base = envelope_schema(name, schema)
    content = copy.deepcopy(schema) if isinstance(schema, fields.Field) else fields.Nested(schema)
    cls = type(f"{name}ContentEnvelope", (base,), {"content": content})

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            data = fn(*args, **kwargs)
            return {**envelope(data), "content": data}

        return blp.response(200, cls)(wrapper)

    return decorator


# ---------------------------------------------------------------- 运行报表


@blp.route("/statistics", methods=["POST"])
@_respond_with_content("JobStatistics", StatisticsOut)
def statistics() -> dict[str, int]:
    """运行报表计数：任务数量、调度次数、成功次数、在线执行器节点数"""
    return service.statistics()


@blp.route("/chartInfo", methods=["POST"])
@_respond_with_content("JobChartInfo", ChartOut)
@blp.arguments(ChartArgs)
def chart_info(args: dict[str, Any]) -> dict[str, Any]:
    """按日统计调度次数（运行中、成功、失败）；默认最近 7 天"""
    return service.chart_info(args.get("start_date"), args.get("end_date"))


# ---------------------------------------------------------------- 任务管理


@operation(blp, "/jobinfo/pageList", "JobPage", JobOut, paged=True, args=JobPageArgs)
def job_page(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """任务分页列表（执行器、状态 -1 全部、描述、JobHandler、负责人）"""
    result = service.page_jobs(args, args["page"], args["page_size"])
    return result.items, result.total


@operation(blp, "/jobgroup/findAll", "ExecutorAll", ExecutorOut, many=True, methods=("POST", "GET"))
def executor_find_all() -> list[dict[str, Any]]:
    """全部执行器（任务组列表），供选择"""
    return service.all_executor_items()


@operation(blp, "/jobinfo/add", "JobAdd", fields.Integer(), title=N_("任务新增"), args=JobArgs)
def job_add(args: dict[str, Any]) -> int:
    """新增任务；data 为新任务 id"""
    return service.create_job(args).id


@operation(blp, "/jobinfo/update", "JobUpdate", fields.Integer(), methods=("PUT", "POST"), title=N_("任务修改"),
           args=JobModifyArgs)
def job_update(args: dict[str, Any]) -> int:
    """修改任务（PUT 或 POST）"""
    return service.modify_job(args).id


@operation(blp, "/jobinfo/<int:id>/remove", "JobRemove", method="DELETE", title=N_("任务删除"))
def job_remove(id: int) -> None:  # noqa: A002 - the documented path parameter
    """删除任务（调度日志保留）"""
    service.remove_job(id)


@operation(blp, "/jobinfo/<int:id>/stop", "JobStop", methods=("POST", "GET"), title=N_("任务停止"))
def job_stop(id: int) -> None:  # noqa: A002
    """停止任务（POST 或 GET）"""
    service.stop_job(id)


@operation(blp, "/jobinfo/<int:id>/start", "JobStart", methods=("POST", "GET"), title=N_("任务启动"))
def job_start(id: int) -> None:  # noqa: A002
    """启动任务，下次触发时间从现在算起（POST 或 GET）"""
    service.start_job(id)


@operation(blp, "/jobinfo/<int:id>/copy", "JobCopy", fields.Integer(), title=N_("任务复制"))
def job_copy(id: int) -> int:  # noqa: A002
    """复制任务（停止状态，描述加「 (副本)」）；data 为新任务 id"""
    return service.copy_job(id).id


@operation(blp, "/jobinfo/trigger", "JobTrigger", fields.List(fields.Integer()), title=N_("任务执行一次"),
           args=TriggerArgs)
def job_trigger(args: dict[str, Any]) -> list[int]:
    """立即执行一次（触发类型 MANUAL）；data 为新调度日志的 id"""
    runs = service.trigger_job(args["id"], args.get("executor_param"), args.get("address_list"))
    return [r.id for r in runs]


@operation(blp, "/jobinfo/<int:id>/nodes", "JobNodes", NodeOut, many=True, method="GET")
def job_nodes(id: int) -> list[dict[str, Any]]:  # noqa: A002
    """任务所属执行器的在线节点"""
    return service.job_nodes(id)


@operation(blp, "/jobinfo/<int:id>/graph", "JobGraph", JobGraphOut, method="GET")
def job_graph(id: int) -> dict[str, Any]:  # noqa: A002
    """任务依赖图：与该任务相连的任务（子任务与父任务两种连线）及各自最近一次运行的状态"""
    return service.job_graph(id)


@operation(blp, "/jobinfo/nextTriggerTime", "JobNextTime", fields.List(fields.String()), args=NextTimeArgs)
def next_trigger_time(args: dict[str, Any]) -> list[str]:
    """接下来 5 次触发时间（任务时区的本地时间）"""
    conf = args.get("schedule_conf") or args.get("job_cron") or args.get("cron")
    return service.next_trigger_times(args["schedule_type"], conf, args.get("timezone"))


@blp.route("/jobinfo/nextTriggerTime", methods=["GET"], endpoint="next_trigger_time_get")
@_respond_with_content("JobNextTimeGet", fields.List(fields.String()))
@blp.arguments(NextTimeQuery, location="query")
def next_trigger_time_get(args: dict[str, Any]) -> list[str]:
    """GET ?cron=...：按系统时区计算接下来 5 次触发时间"""
    return service.next_trigger_times("CRON", args["cron"], None)


# ---------------------------------------------------------------- 调度日志


@operation(blp, "/joblog/pageList", "RunPage", RunOut, paged=True, args=RunPageArgs)
def run_page(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """调度日志分页（执行器、任务、状态 1 成功 2 失败 3 进行中、时间范围）"""
    result = service.page_runs(args, args["page"], args["page_size"])
    return result.items, result.total


@operation(blp, "/joblog/<int:jobGroup>/getJobsByGroup", "JobsByGroup", JobBriefOut, many=True, method="GET")
def jobs_by_group(jobGroup: int) -> list[dict[str, Any]]:  # noqa: N803 - the documented path parameter
    """执行器下的任务（日志筛选用）"""
    return service.jobs_of_executor(jobGroup)


@operation(blp, "/joblog/logDetailCat", "RunDetailCat", LogDetailOut, args=LogDetailArgs)
def log_detail_cat(args: dict[str, Any]) -> dict[str, Any]:
    """从 fromLineNum 行起读取运行输出；isEnd 为真时输出已完整"""
    return service.run_output(args["log_id"], args["from_line_num"])


@operation(blp, "/joblog/<int:id>/logKill", "RunKill", title=N_("终止任务"))
def log_kill(id: int) -> None:  # noqa: A002
    """终止运行中的任务（未开始的直接标记为终止）"""
    service.kill_run(id)


@operation(blp, "/joblog/clearLog", "RunClear", fields.Integer(), title=N_("清理调度日志"), args=ClearLogArgs)
def clear_log(args: dict[str, Any]) -> int:
    """清理调度日志（九种类型，进行中的不删）；data 为删除条数"""
    return service.clear_runs(args.get("job_group"), args.get("job_id"), args["type"])


# ---------------------------------------------------------------- 执行器管理


@operation(blp, "/jobgroup/pageList", "ExecutorPage", ExecutorOut, paged=True, args=ExecutorPageArgs)
def executor_page(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """执行器分页（AppName、名称包含）"""
    result = service.page_executors(args, args["page"], args["page_size"])
    return result.items, result.total


@operation(blp, "/jobgroup/save", "ExecutorSave", fields.Integer(), title=N_("执行器新增"), args=ExecutorArgs)
def executor_save(args: dict[str, Any]) -> int:
    """新增执行器；data 为新执行器 id"""
    return service.create_executor(args).id


@operation(blp, "/jobgroup/update", "ExecutorUpdate", fields.Integer(), methods=("PUT", "POST"), title=N_("执行器修改"),
           args=ExecutorModifyArgs)
def executor_update(args: dict[str, Any]) -> int:
    """修改执行器（PUT 或 POST）"""
    return service.modify_executor(args).id


@operation(blp, "/jobgroup/<int:id>/remove", "ExecutorRemove", method="DELETE", title=N_("执行器删除"))
def executor_remove(id: int) -> None:  # noqa: A002
    """删除执行器（仍有任务或是最后一个时 409）"""
    service.delete_executor(id)


@blp.route("/jobgroup/<int:id>/loadById", methods=["GET"])
@_respond_with_content("ExecutorLoad", ExecutorOut)
def executor_load(id: int) -> dict[str, Any]:  # noqa: A002
    """一个执行器"""
    return service.executor_item(service.get_executor(id))


# ---------------------------------------------------------------- 导出 / 导入 (issue 23, 4)


@blp.route("/jobinfo/export", methods=["POST"])
@action(N_("任务导出"))
@blp.arguments(JobExportArgs)
@blp.response(200, content_type="application/json",
              description="执行器与任务的 JSON 文件（以 appname + jobDesc 相互引用）")
def job_export(args: dict[str, Any]) -> Response:
    """导出任务及其执行器为 JSON 文件（ids；否则 jobGroup 的全部任务；否则可见的全部任务）"""
    return service.transfer_file_response(service.export_jobs(args.get("job_group") or None, args.get("ids") or []))


@operation(blp, "/jobinfo/import", "JobImport", JobImportOut, title=N_("任务导入"), args=JobImportFile,
           location="files")
@blp.arguments(JobImportOptions, location="form")
def job_import(files: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """导入导出文件（multipart 字段 file；dryRun 只检查；onConflict skip | overwrite | fail）；
    全部无误才写入，导入的任务为停止状态"""
    doc = service.parse_transfer(files["file"].read(service.TRANSFER_MAX_BYTES + 1))
    report = service.import_jobs(doc, dry_run=options["dry_run"], on_conflict=options["on_conflict"])
    if not options["dry_run"] and not report["imported"]:
        first = report["errors"][0]
        first_error = f"{first['appname']} {first['job_desc'] or ''} {first['message']}".replace("  ", " ")
        raise Invalid(gettext("导入未执行（共 %(n)s 个问题）：%(first)s", n=len(report["errors"]), first=first_error),
                      errors={"file": [f"{e['appname']} {e['job_desc'] or ''}: {e['message']}"
                                       for e in report["errors"][:50]]})
    return report
# ---------------------------------------------------------------- 脚本任务 (GLUE): the super administrator's by default


@operation(blp, "/jobcode/save", "GlueSave", fields.Integer(), title=N_("脚本任务保存"), args=GlueSaveArgs)
def jobcode_save(args: dict[str, Any]) -> int:
    """保存脚本任务的新版本（glueRemark 必填）；data 为新版本 id"""
    return service.save_glue(args["job_id"], args["glue_source"], args["glue_remark"]).id


@operation(blp, "/jobcode/<int:jobId>/versions", "GlueVersions", GlueVersionOut, many=True)
def jobcode_versions(jobId: int) -> list[dict[str, Any]]:  # noqa: N803 - the documented path parameter
    """脚本任务最近 30 个版本（新的在前）"""
    return [service.glue_version_item(v) for v in service.glue_versions(jobId)]


@operation(blp, "/jobcode/version/<int:id>", "GlueVersion", GlueVersionSourceOut, method="GET")
def jobcode_version(id: int) -> dict[str, Any]:  # noqa: A002
    """脚本任务的一个版本（含脚本）"""
    return service.glue_version_item(service.get_glue_version(id), with_source=True)


@operation(blp, "/jobcode/<int:jobId>/rollback", "GlueRollback", fields.Integer(), title=N_("脚本任务回滚"),
           args=GlueRollbackArgs)
def jobcode_rollback(args: dict[str, Any], jobId: int) -> int:  # noqa: N803
    """回滚到一个旧版本（生成新版本）；data 为新版本 id"""
    return service.rollback_glue(jobId, args["version_id"]).id
