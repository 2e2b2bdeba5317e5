"""定时任务 forms (pages)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from pcloud.core.forms import NumberField, PageForm
from pcloud.core.routing import MAX_ID
from pcloud.core.schemas import limit_of
from pcloud.jobs import service
from pcloud.jobs.models import (
    ADDRESS_LIST_MAX,
    BLOCK_STRATEGIES,
    EXECUTOR_PARAM_MAX,
    GLUE_SOURCE_MAX,
    GLUE_TYPES,
    MISFIRE_STRATEGIES,
    ROUTE_STRATEGIES,
    Executor,
    Job,
)

# Text limits, from the model columns (the one place each is defined)
CRON_MAX = limit_of(Job.schedule_conf)
APPNAME_MAX = limit_of(Executor.appname)
TITLE_MAX = limit_of(Executor.title)
EMAIL_MAX = limit_of(Job.alarm_email)
AUTHOR_MAX = limit_of(Job.author)
CHILD_MAX = limit_of(Job.child_job_id)
DESC_MAX = limit_of(Job.job_desc)

ROUTE_LABELS = {
    "FIRST": lazy_gettext("第一个"), "LAST": lazy_gettext("最后一个"), "ROUND": lazy_gettext("轮询"),
    "RANDOM": lazy_gettext("随机"), "CONSISTENT_HASH": lazy_gettext("一致性HASH"),
    "LEAST_FREQUENTLY_USED": lazy_gettext("最不经常使用"), "LEAST_RECENTLY_USED": lazy_gettext("最近最久未使用"),
    "FAILOVER": lazy_gettext("故障转移"), "BUSYOVER": lazy_gettext("忙碌转移"),
    "SHARDING_BROADCAST": lazy_gettext("分片广播"),
}
BLOCK_LABELS = {"SERIAL_EXECUTION": lazy_gettext("单机串行"), "DISCARD_LATER": lazy_gettext("丢弃后续调度"),
                "COVER_EARLY": lazy_gettext("覆盖之前调度")}
MISFIRE_LABELS = {"DO_NOTHING": lazy_gettext("忽略"), "FIRE_ONCE_NOW": lazy_gettext("立即执行一次")}
GLUE_LABELS = {"BEAN": lazy_gettext("BEAN（注册的 JobHandler）"), "GLUE_PYTHON": lazy_gettext("GLUE(Python) 脚本"),
               "GLUE_SHELL": lazy_gettext("GLUE(Shell) 脚本")}
GLUE_REMARK_MAX = limit_of(Job.glue_remark)
# how a run was started, as XXL-JOB's log list says it (the code stays in the API and the cell's title)
TRIGGER_LABELS = {"CRON": lazy_gettext("Cron 触发"), "FIX_RATE": lazy_gettext("固定速度触发"),
                  "MANUAL": lazy_gettext("手动触发"), "RETRY": lazy_gettext("失败重试触发"),
                  "PARENT": lazy_gettext("父任务触发"), "MISFIRE": lazy_gettext("调度过期补偿")}
SCHEDULE_LABELS = {"CRON": "CRON", "FIX_RATE": lazy_gettext("固定速度（秒）"), "NONE": lazy_gettext("无（仅手动执行）")}


class ExecutorForm(PageForm):
    appname = StringField("AppName", validators=[
        DataRequired(lazy_gettext("请输入 AppName")),
        Length(max=APPNAME_MAX, message=lazy_gettext("AppName 不能超过 %(max)d 个字符"))])
    title = StringField(lazy_gettext("名称"), validators=[
        DataRequired(lazy_gettext("请输入名称")),
        Length(max=TITLE_MAX, message=lazy_gettext("名称不能超过 %(max)d 个字符"))])
    address_type = RadioField(lazy_gettext("注册方式"),
                              choices=[("0", lazy_gettext("自动注册")), ("1", lazy_gettext("手动录入"))], default="0")
    address_list = TextAreaField(lazy_gettext("机器地址"), validators=[
        Optional(), Length(max=ADDRESS_LIST_MAX, message=lazy_gettext("机器地址不能超过 %(max)d 个字符"))])

    record_id: int | None = None  # the executor an edit form saves: its own AppName is not "taken"

    def service_problems(self) -> Mapping[str, list[str]]:
        return service.executor_form_problems(self.data, self.record_id)


class JobForm(PageForm):
    job_group = SelectField(lazy_gettext("执行器"), coerce=int,
                            validators=[InputRequired(lazy_gettext("请选择执行器"))])
    job_desc = StringField(lazy_gettext("任务描述"), validators=[
        DataRequired(lazy_gettext("请输入任务描述")),
        Length(max=DESC_MAX, message=lazy_gettext("任务描述不能超过 %(max)d 个字符"))])
    author = StringField(lazy_gettext("负责人"), validators=[
        DataRequired(lazy_gettext("请输入负责人")),
        Length(max=AUTHOR_MAX, message=lazy_gettext("负责人不能超过 %(max)d 个字符"))])
    alarm_email = StringField(lazy_gettext("报警邮件"), validators=[
        Optional(), Length(max=EMAIL_MAX, message=lazy_gettext("报警邮件不能超过 %(max)d 个字符"))])
    schedule_type = SelectField(lazy_gettext("调度类型"), choices=list(SCHEDULE_LABELS.items()), default="CRON")
    schedule_conf = StringField(lazy_gettext("Cron / 固定速度"), validators=[
        Optional(), Length(max=CRON_MAX, message=lazy_gettext("不能超过 %(max)d 个字符"))],
        render_kw={"autocomplete": "off", "spellcheck": "false"})
    timezone = SelectField(lazy_gettext("时区"))
    misfire_strategy = SelectField(lazy_gettext("调度过期策略"),
                                   choices=[(k, MISFIRE_LABELS[k]) for k in MISFIRE_STRATEGIES])
    executor_route_strategy = SelectField(lazy_gettext("路由策略"),
                                          choices=[(k, ROUTE_LABELS[k]) for k in ROUTE_STRATEGIES])
    glue_type = SelectField(lazy_gettext("运行模式"), choices=[(k, GLUE_LABELS[k]) for k in GLUE_TYPES], default="BEAN")
    # required for BEAN only: the service says so (a script job has no handler)
    executor_handler = SelectField("JobHandler", validators=[Optional()])
    executor_param = TextAreaField(lazy_gettext("任务参数"), validators=[
        Optional(), Length(max=EXECUTOR_PARAM_MAX, message=lazy_gettext("任务参数不能超过 %(max)d 个字符"))])
    executor_block_strategy = SelectField(lazy_gettext("阻塞处理策略"),
                                          choices=[(k, BLOCK_LABELS[k]) for k in BLOCK_STRATEGIES])
    executor_timeout = NumberField(lazy_gettext("任务超时时间（秒）"), default=0, validators=[
        InputRequired(lazy_gettext("请输入超时时间")),
        NumberRange(min=0, max=604800, message=lazy_gettext("须为 0 到 604800 之间的整数"))])
    executor_fail_retry_count = NumberField(lazy_gettext("失败重试次数"), default=0, validators=[
        InputRequired(lazy_gettext("请输入重试次数")),
        NumberRange(min=0, max=100, message=lazy_gettext("须为 0 到 100 之间的整数"))])
    child_job_id = StringField(lazy_gettext("子任务 ID"), validators=[
        Optional(), Length(max=CHILD_MAX, message=lazy_gettext("子任务 ID 过长"))])
    parent_job_ids = StringField(lazy_gettext("父任务 ID"), validators=[
        Optional(), Length(max=CHILD_MAX, message=lazy_gettext("父任务 ID 过长"))])

    record_id: int | None = None  # the job an edit form saves: its own id is neither its child nor its parent

    def service_problems(self) -> Mapping[str, list[str]]:
        return service.form_problems(self.data, self.record_id)


class TriggerForm(PageForm):
    """The job list's 执行一次 dialog."""

    refusals_on_form = True
    executor_param = TextAreaField(lazy_gettext("任务参数"), validators=[
        Optional(), Length(max=EXECUTOR_PARAM_MAX, message=lazy_gettext("任务参数不能超过 %(max)d 个字符"))])
    address_list = StringField(lazy_gettext("机器地址"), validators=[
        Optional(), Length(max=ADDRESS_LIST_MAX, message=lazy_gettext("机器地址不能超过 %(max)d 个字符"))])


class ClearTypeField(SelectField):
    """The kind of log to clear: any wrong or missing choice says the one sentence."""

    CHOOSE = lazy_gettext("请选择清理方式后再提交")

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(self.CHOOSE) from exc

    def pre_validate(self, form: PageForm) -> None:
        try:
            super().pre_validate(form)
        except ValidationError as exc:
            raise ValidationError(self.CHOOSE) from exc


class ClearRunsForm(PageForm):
    """The run log's 日志清理 dialog."""

    refusals_on_form = True
    # ids of the columns' range (a 20-digit number would overflow in the database)
    job_group = NumberField(lazy_gettext("执行器"), default=0, validators=[Optional(), NumberRange(
        0, MAX_ID, message=lazy_gettext("执行器必须大于或等于 %(min)s 且小于或等于 %(max)s"))])
    job_id = NumberField(lazy_gettext("任务"), default=0, validators=[Optional(), NumberRange(
        0, MAX_ID, message=lazy_gettext("任务必须大于或等于 %(min)s 且小于或等于 %(max)s"))])
    # Required: an empty submission must never clear anything by a default.
    type = ClearTypeField(lazy_gettext("清理方式"), coerce=int,
                          validators=[InputRequired(message=ClearTypeField.CHOOSE)])


class JobExportForm(PageForm):
    """The job list's export buttons: the ticked jobs (`ids`), else every job of the executor shown."""

    job_group = NumberField(lazy_gettext("执行器"), validators=[Optional(), NumberRange(min=0, max=MAX_ID)])
    scope = SelectField(lazy_gettext("范围"),
                        choices=[("selected", lazy_gettext("选中的任务")), ("all", lazy_gettext("全部任务"))],
                        validators=[InputRequired(lazy_gettext("请选择导出范围"))])


class JobImportForm(PageForm):
    file = FileField(lazy_gettext("导出文件（.json）"),
                     validators=[FileRequired(lazy_gettext("请选择导出的 JSON 文件"))])
    dry_run = BooleanField(lazy_gettext("仅检查（不写入）"), default=True)
    on_conflict = SelectField(lazy_gettext("已存在时"), choices=[
        ("fail", lazy_gettext("整体失败，不写入")), ("skip", lazy_gettext("跳过已存在的")),
        ("overwrite", lazy_gettext("覆盖已存在的"))], default="fail")


class GlueForm(PageForm):
    """The script editor: the source and the required remark of this save."""

    glue_source = TextAreaField(lazy_gettext("脚本"), validators=[
        Length(max=GLUE_SOURCE_MAX, message=lazy_gettext("脚本不能超过 %(max)d 个字符"))],
        render_kw={"spellcheck": "false", "autocomplete": "off"})
    glue_remark = StringField(lazy_gettext("备注"), validators=[
        DataRequired(lazy_gettext("请填写本次修改的备注")),
        Length(max=GLUE_REMARK_MAX, message=lazy_gettext("备注不能超过 %(max)d 个字符"))])


class GlueRollbackForm(PageForm):
    version_id = NumberField(lazy_gettext("版本"), validators=[
        InputRequired(lazy_gettext("请选择版本")), NumberRange(1, MAX_ID, message=lazy_gettext("版本不存在"))])
