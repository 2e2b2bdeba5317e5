"""定时任务 request and response schemas (camelCase on the wire)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from pcloud.core.routing import MAX_ID
from pcloud.core.schemas import (
    AuditOut,
    BaseSchema,
    FilterArgs,
    FilterId,
    Id,
    IdList,
    LocalDate,
    LocalDateTime,
    PageArgs,
    Text,
    limit_of,
)
from pcloud.jobs.models import (
    ADDRESS_LIST_MAX,
    BLOCK_STRATEGIES,
    EXECUTOR_PARAM_MAX,
    GLUE_SOURCE_MAX,
    GLUE_TYPES,
    MISFIRE_STRATEGIES,
    PARENTS_MAX,
    ROUTE_STRATEGIES,
    SCHEDULE_TYPES,
    Executor,
    Job,
)

APPNAME_MAX, TITLE_MAX = limit_of(Executor.appname), limit_of(Executor.title)
DESC_MAX, AUTHOR_MAX, HANDLER_MAX = limit_of(Job.job_desc), limit_of(Job.author), limit_of(Job.executor_handler)
CRON_MAX = limit_of(Job.schedule_conf)
GLUE_REMARK_MAX = limit_of(Job.glue_remark)


# Fields the entity's own responses carry: a client may send an item back as it received it.
JOB_ECHO = ("jobGroupTitle", "triggerLastTime", "triggerNextTime", "gmtCreatedDate", "gmtCreatedName",
            "gmtModifiedDate", "gmtModifiedName", "glueUpdatetime")
EXECUTOR_ECHO = ("registryList", "gmtCreatedDate", "gmtCreatedName", "gmtModifiedDate", "gmtModifiedName")


class BlankInt(fields.Integer):
    """An integer that may come as a string of digits, and a cleared input or select ("") as none.

    The original front end binds some numbers to plain text inputs (`executorTimeout`) and clears
    selects and inputs to "" (`triggerStatus`, `logStatus`): "" means "not given", not a typo.
    """

    def __init__(self, **kw: Any) -> None:
        kw.setdefault("allow_none", True)
        super().__init__(strict=False, **kw)

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            value = None
        return super().deserialize(value, attr, data, **kwargs)


class TimeRange(fields.Field):
    """`[start, end]` local times (either may be null), or the original front end's "start - end"; each
    time read as every time field reads it (`LocalDateTime`: format, offset, the range a time may take),
    loaded as a (start, end) pair of naive UTC datetimes (or None)."""

    default_error_messages = {"invalid": lazy_gettext("应为 [开始, 结束]")}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, str) and " - " in value:
            value = value.split(" - ")
        if not (isinstance(value, list) and len(value) == 2 and all(v is None or isinstance(v, str) for v in value)):
            raise self.make_error("invalid")
        time = LocalDateTime()
        start, end = (time.deserialize(v.strip().replace(" ", "T", 1)) if v and v.strip() else None for v in value)
        return start, end


class _Echo(BaseSchema):
    ECHO: tuple[str, ...] = ()

    @ma.pre_load
    def _drop_echo(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in self.ECHO}
        return data


# ---------------------------------------------------------------- executors


class ExecutorPageArgs(PageArgs):
    appname = fields.String(validate=validate.Length(max=APPNAME_MAX), allow_none=True)
    title = fields.String(validate=validate.Length(max=TITLE_MAX), allow_none=True)


class ExecutorArgs(_Echo):
    ECHO = EXECUTOR_ECHO
    appname = Text(APPNAME_MAX, required=True,
                   metadata={"description": "^[a-zA-Z][a-zA-Z0-9_-]{3,63}$, unique"})
    title = Text(TITLE_MAX, required=True)
    address_type = fields.Integer(strict=True, validate=validate.OneOf([0, 1]), load_default=0,
                                  metadata={"description": "0 automatic (registered nodes), 1 manual (addressList)"})
    address_list = fields.String(validate=validate.Length(max=ADDRESS_LIST_MAX), allow_none=True,
                                 metadata={"description": "comma-separated node names"})


class ExecutorModifyArgs(ExecutorArgs):
    id = Id(required=True)
    appname = Text(APPNAME_MAX)
    title = Text(TITLE_MAX)
    address_type = fields.Integer(strict=True, validate=validate.OneOf([0, 1]))


class ExecutorOut(AuditOut):
    id = fields.Integer()
    appname = fields.String()
    title = fields.String()
    address_type = fields.Integer()
    address_list = fields.String(allow_none=True)
    registry_list = fields.List(fields.String())


# ---------------------------------------------------------------- jobs


class JobPageArgs(PageArgs):
    job_group = FilterId(allow_none=True, metadata={"description": "0 or absent: all"})
    trigger_status = BlankInt(validate=validate.OneOf([-1, 0, 1]), load_default=-1,
                              metadata={"description": "-1, absent or \"\": all"})
    job_desc = fields.String(validate=validate.Length(max=DESC_MAX), allow_none=True)
    # The original front end's box "请输入任务描述" sends `name`: the job description (contains).
    name = fields.String(validate=validate.Length(max=DESC_MAX), allow_none=True,
                         metadata={"description": "job description contains (as jobDesc)"})
    executor_handler = fields.String(validate=validate.Length(max=HANDLER_MAX), allow_none=True)
    author = fields.String(validate=validate.Length(max=AUTHOR_MAX), allow_none=True)


class JobArgs(_Echo):
    ECHO = JOB_ECHO
    job_group = Id(required=True)
    job_desc = Text(DESC_MAX, required=True)
    author = Text(AUTHOR_MAX, required=True)
    alarm_email = fields.String(validate=validate.Length(max=limit_of(Job.alarm_email)), allow_none=True,
                                metadata={"description": "comma-separated e-mail addresses"})
    schedule_type = fields.String(validate=validate.OneOf(SCHEDULE_TYPES), allow_none=True)
    schedule_conf = fields.String(validate=validate.Length(max=CRON_MAX), allow_none=True,
                                  metadata={"description": "Quartz cron with seconds, or FIX_RATE seconds"})
    job_cron = fields.String(validate=validate.Length(max=CRON_MAX), allow_none=True,
                             metadata={"description": "= scheduleType CRON + scheduleConf"})
    timezone = fields.String(validate=validate.Length(max=limit_of(Job.timezone)), allow_none=True)
    misfire_strategy = fields.String(validate=validate.OneOf(MISFIRE_STRATEGIES), allow_none=True)
    executor_route_strategy = fields.String(validate=validate.OneOf(ROUTE_STRATEGIES), allow_none=True)
    executor_handler = Text(HANDLER_MAX, allow_none=True, blank=True,
                            metadata={"description": "required for glueType BEAN"})
    executor_param = fields.String(validate=validate.Length(max=EXECUTOR_PARAM_MAX), allow_none=True)
    executor_block_strategy = fields.String(validate=validate.OneOf(BLOCK_STRATEGIES), allow_none=True)
    executor_timeout = BlankInt(validate=validate.Range(min=0, max=604800))
    executor_fail_retry_count = BlankInt(validate=validate.Range(min=0, max=100))
    child_job_id = fields.String(validate=validate.Length(max=limit_of(Job.child_job_id)), allow_none=True)
    parent_job_ids = IdList(PARENTS_MAX, allow_none=True,
                            metadata={"description": "runs once every one of these has succeeded since its last run"})
    trigger_status = fields.Integer(strict=True, validate=validate.OneOf([0, 1]), allow_none=True)
    # 运行模式 (issue 23): a script job needs the script grant (jobs.service.require_script_grant)
    glue_type = fields.String(allow_none=True, validate=validate.OneOf(GLUE_TYPES))
    glue_source = fields.String(allow_none=True, validate=validate.Length(max=GLUE_SOURCE_MAX),
                                metadata={"description": "the script (GLUE_PYTHON / GLUE_SHELL)"})
    glue_remark = fields.String(allow_none=True, validate=validate.Length(max=GLUE_REMARK_MAX),
                                metadata={"description": "required when glueSource changes the script"})


class JobModifyArgs(JobArgs):
    id = Id(required=True)
    job_group = Id()
    job_desc = Text(DESC_MAX)
    author = Text(AUTHOR_MAX)
    executor_handler = Text(HANDLER_MAX)


class JobOut(AuditOut):
    id = fields.Integer()
    job_group = fields.Integer()
    job_group_title = fields.String(allow_none=True)
    job_desc = fields.String()
    author = fields.String()
    alarm_email = fields.String(allow_none=True)
    schedule_type = fields.String()
    schedule_conf = fields.String(allow_none=True)
    job_cron = fields.String(allow_none=True)
    glue_type = fields.String()
    glue_remark = fields.String(allow_none=True)
    glue_updatetime = LocalDateTime(allow_none=True)
    timezone = fields.String()
    misfire_strategy = fields.String()
    executor_route_strategy = fields.String()
    executor_handler = fields.String()
    executor_param = fields.String(allow_none=True)
    executor_block_strategy = fields.String()
    executor_timeout = fields.Integer()
    executor_fail_retry_count = fields.Integer()
    child_job_id = fields.String(allow_none=True)
    parent_job_ids = fields.List(fields.Integer())
    trigger_status = fields.Integer()
    trigger_last_time = LocalDateTime(allow_none=True)
    trigger_next_time = LocalDateTime(allow_none=True)


class GraphNodeOut(BaseSchema):
    id = fields.Integer()
    job_desc = fields.String()
    job_group = fields.Integer()
    trigger_status = fields.Integer()
    last_state = fields.String(allow_none=True,
                               metadata={"description": "success, fail, running, pending; null: never ran"})
    last_log_id = fields.Integer(allow_none=True)
    last_time = LocalDateTime(allow_none=True)


class GraphEdgeOut(BaseSchema):
    source = fields.Integer()
    target = fields.Integer()
    type = fields.String(metadata={"description": "CHILD: source's childJobId; PARENT: among target's parentJobIds"})


class JobGraphOut(BaseSchema):
    nodes = fields.List(fields.Nested(GraphNodeOut))
    edges = fields.List(fields.Nested(GraphEdgeOut))


class JobBriefOut(BaseSchema):
    id = fields.Integer()
    job_desc = fields.String()
    executor_handler = fields.String()


class TriggerArgs(BaseSchema):
    id = Id(required=True)
    executor_param = fields.String(validate=validate.Length(max=EXECUTOR_PARAM_MAX), allow_none=True)
    address_list = fields.String(validate=validate.Length(max=ADDRESS_LIST_MAX), allow_none=True,
                                 metadata={"description": "comma-separated node names (optional)"})


class NodeOut(BaseSchema):
    address = fields.String()
    name = fields.String()
    registry_time = LocalDateTime()


class NextTimeArgs(BaseSchema):
    schedule_type = fields.String(validate=validate.OneOf(SCHEDULE_TYPES), load_default="CRON")
    schedule_conf = fields.String(validate=validate.Length(max=CRON_MAX), allow_none=True)
    job_cron = fields.String(validate=validate.Length(max=CRON_MAX), allow_none=True)
    cron = fields.String(validate=validate.Length(max=CRON_MAX), allow_none=True)
    timezone = fields.String(validate=validate.Length(max=limit_of(Job.timezone)), allow_none=True)


class NextTimeQuery(BaseSchema):
    cron = fields.String(required=True, validate=validate.Length(min=1, max=CRON_MAX))


# ---------------------------------------------------------------- runs


class RunPageArgs(PageArgs):
    # The original front end's run log, opened from a job, carries the job's ids over from its address:
    # they come as digit strings (API.md, "Clients of the original PCloud"), so this filter alone takes them.
    job_group = BlankInt(validate=validate.Range(min=0, max=MAX_ID), metadata={"description": "0 or absent: all"})
    job_id = BlankInt(validate=validate.Range(min=0, max=MAX_ID), metadata={"description": "0 or absent: all"})
    log_status = BlankInt(validate=validate.OneOf([-1, 0, 1, 2, 3]),
                          metadata={"description": "1 success, 2 fail, 3 running; absent/\"\"/0/-1 all"})
    filter_time = TimeRange(allow_none=True, metadata={"description": "[start, end] local times"})


class RunPageFilters(RunPageArgs):
    """The run log page's filter bar: the API's filters, with the range as two inputs (`start`, `end`)."""

    start = LocalDateTime(allow_none=True)
    end = LocalDateTime(allow_none=True)


class RunOut(BaseSchema):
    id = fields.Integer()
    job_group = fields.Integer()
    job_id = fields.Integer()
    job_desc = fields.String(allow_none=True)
    trigger_type = fields.String()
    schedule_time = LocalDateTime(allow_none=True)
    executor_address = fields.String(allow_none=True)
    executor_handler = fields.String(allow_none=True)
    executor_param = fields.String(allow_none=True)
    executor_sharding_param = fields.String(allow_none=True)
    executor_fail_retry_count = fields.Integer()
    trigger_time = LocalDateTime(allow_none=True)
    trigger_code = fields.Integer()
    trigger_msg = fields.String(allow_none=True)
    handle_time = LocalDateTime(allow_none=True)
    handle_code = fields.Integer()
    handle_msg = fields.String(allow_none=True)
    alarm_status = fields.Integer()
    status = fields.String()


class LogDetailArgs(BaseSchema):
    log_id = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=2**63 - 1))
    from_line_num = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=2_147_483_647))


class LogDetailOut(BaseSchema):
    from_line_num = fields.Integer()
    to_line_num = fields.Integer()
    log_content = fields.String()
    is_end = fields.Boolean()


class ClearLogArgs(BaseSchema):
    job_group = FilterId(allow_none=True)
    job_id = FilterId(allow_none=True)
    type = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=9),
                          metadata={"description": "1-4 older than 1/3/6/12 months; 5-8 keep newest "
                                                   "1000/10000/30000/100000; 9 all"})


# ---------------------------------------------------------------- report


class ChartArgs(BaseSchema):
    start_date = LocalDate(allow_none=True)
    end_date = LocalDate(allow_none=True)


class ChartOut(BaseSchema):
    trigger_day_list = fields.List(fields.String())
    trigger_day_count_running_list = fields.List(fields.Integer())
    trigger_day_count_suc_list = fields.List(fields.Integer())
    trigger_day_count_fail_list = fields.List(fields.Integer())
    trigger_count_running_total = fields.Integer()
    trigger_count_suc_total = fields.Integer()
    trigger_count_fail_total = fields.Integer()


class StatisticsOut(BaseSchema):
    job_info_count = fields.Integer()
    job_log_count = fields.Integer()
    job_log_success_count = fields.Integer()
    executor_count = fields.Integer()


# ---------------------------------------------------------------- export / import (issue 23, 4)


class JobExportArgs(FilterArgs):
    job_group = FilterId(metadata={"description": "every job of this executor (when no ids)"})
    ids = IdList(1000, allow_none=True, metadata={"description": "the jobs to export; none: every job one may see "
                                                                 "(of jobGroup when given)"})


class JobImportFile(BaseSchema):
    file = Upload(required=True, metadata={"description": "the JSON file of an export (at most 2 MiB)"})


class JobImportOptions(BaseSchema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "check and report, write nothing"})
    on_conflict = fields.String(load_default="fail", validate=validate.OneOf(("skip", "overwrite", "fail")),
                                metadata={"description": "an executor or job that exists already: skip | overwrite "
                                                         "| fail (nothing is written)"})


class TransferCountsOut(BaseSchema):
    created = fields.Integer()
    updated = fields.Integer()
    skipped = fields.Integer()


class TransferConflictOut(BaseSchema):
    kind = fields.String(metadata={"description": "executor | job"})
    appname = fields.String()
    job_desc = fields.String(allow_none=True)
    action = fields.String(metadata={"description": "skip | overwrite | fail"})


class TransferErrorOut(BaseSchema):
    kind = fields.String()
    appname = fields.String()
    job_desc = fields.String(allow_none=True)
    field = fields.String(allow_none=True)
    message = fields.String()


class JobImportOut(BaseSchema):
    executors = fields.Nested(TransferCountsOut)
    jobs = fields.Nested(TransferCountsOut)
    conflicts = fields.List(fields.Nested(TransferConflictOut))
    errors = fields.List(fields.Nested(TransferErrorOut))
    imported = fields.Boolean(metadata={"description": "written (false: a dry run, or refused as a whole)"})
# ---------------------------------------------------------------- script jobs (jobcode)


class GlueSaveArgs(BaseSchema):
    job_id = Id(required=True)
    glue_source = fields.String(required=True, validate=validate.Length(max=GLUE_SOURCE_MAX))
    glue_remark = fields.String(required=True, validate=validate.Length(max=GLUE_REMARK_MAX),
                                metadata={"description": "why: required, at most 128 characters"})


class GlueRollbackArgs(BaseSchema):
    version_id = Id(required=True)


class GlueVersionOut(BaseSchema):
    id = fields.Integer()
    job_id = fields.Integer()
    glue_type = fields.String()
    glue_remark = fields.String()
    updated_by = fields.String(allow_none=True)
    updated_at = LocalDateTime()


class GlueVersionSourceOut(GlueVersionOut):
    glue_source = fields.String()
