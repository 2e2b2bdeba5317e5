"""Page plumbing every module shares: the confirm-button form, domain errors on forms, confirmed actions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Response, abort, flash, g, jsonify, redirect, render_template, request
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import IntegerField

from pcloud.core.envelope import envelope
from pcloud.core.errors import Invalid, PCloudError
from pcloud.core.i18n import joined, stored
from pcloud.core.messages import N_, said_now
from pcloud.core.recorder import refused
from pcloud.core.routing import is_back_path
from pcloud.core.schemas import camelcase, refused_character, refused_character_message

# WTForms' own messages, said as the API says them (core.messages sets marshmallow's): a page's form and the
# API refuse the same input in the same words, in the request's language. Keyed by WTForms' English text
# (its gettext ids); the values are the console's source strings, translated by the console's catalogue.
_WTFORMS_MESSAGES = {
    "This field is required.": N_("必填项不能为空"),
    "Field must be at least %(min)d character long.": N_("长度不能少于 %(min)d"),
    "Field must be at least %(min)d characters long.": N_("长度不能少于 %(min)d"),
    "Field cannot be longer than %(max)d character.": N_("长度不能超过 %(max)d"),
    "Field cannot be longer than %(max)d characters.": N_("长度不能超过 %(max)d"),
    "Field must be exactly %(max)d character long.": N_("长度必须是 %(max)d"),
    "Field must be exactly %(max)d characters long.": N_("长度必须是 %(max)d"),
    "Field must be between %(min)d and %(max)d characters long.": N_("长度须在 %(min)d 到 %(max)d 之间"),
    "Number must be at least %(min)s.": N_("必须大于或等于 %(min)s"),
    "Number must be at most %(max)s.": N_("必须小于或等于 %(max)s"),
    "Number must be between %(min)s and %(max)s.": N_("必须大于或等于 %(min)s 且小于或等于 %(max)s"),
    "Date must be at least %(min)s.": N_("日期不能早于 %(min)s"),
    "Date must be at most %(max)s.": N_("日期不能晚于 %(max)s"),
    "Date must be between %(min)s and %(max)s.": N_("日期须在 %(min)s 到 %(max)s 之间"),
    "Field must be equal to %(other_name)s.": N_("必须与 %(other_name)s 一致"),
    "Invalid input.": N_("格式不正确"),
    "Invalid email address.": N_("邮箱地址格式不正确"),
    "Invalid URL.": N_("网址格式不正确"),
    "Invalid IP address.": N_("IP 地址格式不正确"),
    "Invalid UUID.": N_("UUID 格式不正确"),
    "Invalid Mac address.": N_("MAC 地址格式不正确"),
    "Invalid value, must be one of: %(values)s.": N_("取值必须是其中之一：%(values)s"),
    "Invalid value, can't be any of: %(values)s.": N_("取值不允许：%(values)s"),
    "Not a valid choice.": N_("取值必须是可选项之一"),
    "Invalid Choice: could not coerce.": N_("取值必须是可选项之一"),
    "Choices cannot be None.": N_("没有可选项"),
    "'%(value)s' is not a valid choice for this field.": N_("「%(value)s」不是可选项"),
    "'%(value)s' are not valid choices for this field.": N_("「%(value)s」不是可选项"),
    "Not a valid integer value.": N_("必须是整数"),
    "Not a valid decimal value.": N_("必须是数字"),
    "Not a valid float value.": N_("必须是数字"),
    "Not a valid datetime value.": N_("时间格式不正确"),
    "Not a valid date value.": N_("日期格式不正确，应为 2021-02-15"),
    "Not a valid time value.": N_("时间格式不正确"),
    "Not a valid week value.": N_("日期格式不正确"),
    "This field cannot be edited.": N_("该项不能修改"),
    "This field is disabled and cannot have a value.": N_("该项不可填写"),
    "File does not have an approved extension.": N_("不支持该文件类型"),
    "The CSRF token is missing.": N_("页面已过期，请刷新后重试"),
    "The CSRF token has expired.": N_("页面已过期，请刷新后重试"),
    "The CSRF token is invalid.": N_("页面已过期，请刷新后重试"),
    "The CSRF tokens do not match.": N_("页面已过期，请刷新后重试"),
    "The referrer header is missing.": N_("请求来源缺失，请刷新后重试"),
    "The referrer does not match the host.": N_("请求来源不匹配，请刷新后重试"),
    "CSRF failed.": N_("页面已过期，请刷新后重试"),
    "CSRF token missing.": N_("页面已过期，请刷新后重试"),
    "CSRF token expired.": N_("页面已过期，请刷新后重试"),
    "Invalid CSRF Token.": N_("页面已过期，请刷新后重试"),
}


class ConsoleMessages:
    """The translations object WTForms asks (`Meta.get_translations`): its messages in the API's words.
    A message without an entry here says the input is not right (never WTForms' own English mid-Chinese)."""

    def gettext(self, string: str) -> str:
        return gettext(_WTFORMS_MESSAGES.get(string, N_("取值不正确") if string.isascii() else string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


CONSOLE_MESSAGES = ConsoleMessages()


# Set on the request while a form posted with a stale or missing CSRF token is shown again
# (core.views.reshow_expired_form).
EXPIRED_SUBMISSION = "pcloud_expired_submission"


class ExpiredForm(PCloudError):
    """A page form posted with a stale or missing CSRF token (the form opened before a new sign-in, in this tab or
    another): not saved, shown again with what was typed, answered 400 as the CSRF check answers."""

    code = 400
    default_msg: str = N_("页面已过期，未能提交：您填写的内容保留在下方，请核对后再次提交")


class PageForm(FlaskForm):
    """The base of every page form: Flask-WTF's form (CSRF) speaking the API's messages. A form posted with a
    token the CSRF check refused never validates, whatever its fields say (`EXPIRED_SUBMISSION`)."""

    class Meta:
        def get_translations(self, form: Any) -> ConsoleMessages:
            return CONSOLE_MESSAGES

    # A dialog's form (the job list's 执行一次): a refusal that names none of its fields is said at the top of the
    # form (`form_errors`, which the dialog shows), not in a flash on the page the dialog covers.
    refusals_on_form = False

    def service_problems(self) -> Mapping[str, list[str]]:
        """The service's checks of what this form's own validators do not check, by the API's field names: a
        form whose save would find more wrong fields says which. Asked only when the validators refused (else
        the save says them), so that every wrong field shows at once (docs/UX.md; the UX review found the job
        form's Cron and e-mail errors only after the others were put right)."""
        return {}

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        token = self._fields.get("csrf_token")
        if g.get(EXPIRED_SUBMISSION):  # refused by the CSRF check, even where this form's own check passed
            valid = False
            if token is not None and not token.errors:
                token.errors = [gettext(ExpiredForm.default_msg)]
            if self.refusals_on_form and gettext(ExpiredForm.default_msg) not in self.form_errors:
                self.form_errors.append(gettext(ExpiredForm.default_msg))  # said in the dialog, over the page's flash
        for field in self._fields.values():  # the API's rule (core.schemas.refused_character), field by field
            if isinstance(field.data, str) and (found := refused_character(field.data)) is not None:
                field.errors = [*field.errors, refused_character_message(found)]
                valid = False
        if not valid:
            try:
                problems = self.service_problems()
            except PCloudError:  # a refusal of the whole save (403...): said by the save once the fields are right
                problems = {}
            by_wire_name = {camelcase(name): field for name, field in self._fields.items()}
            for key, messages in problems.items():
                field = by_wire_name.get(key)
                if field is not None and not field.errors:
                    field.errors = [*field.errors, *messages]
        return valid


class NumberField(IntegerField):
    """An integer input whose format error speaks the console's language."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(gettext("请输入整数")) from exc


def parent_id_or_invalid(value: str | int | None) -> int:
    """Coerce a parent picker's value: "" or 0 is the root; garbage becomes -1, a parent no service finds,
    so the page answers "上级…不存在" instead of crashing."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return -1


class ConfirmForm(PageForm):
    """An empty form: only the CSRF token, for delete / force-offline / export buttons."""


# A confirm button's POST carries no data: its token and where to go back to, nothing else.
CONFIRM_FIELDS = frozenset({"csrf_token", "back"})


def require_no_body() -> None:
    """A page action that takes no input says so: any other field (or a file) is a 422, like the API's
    unknown fields, instead of being silently ignored."""
    unknown = sorted(set(request.form) - CONFIRM_FIELDS) + sorted(request.files)
    if unknown:
        abort(422)


class Gone:
    """Stands for a record deleted while its edit form was open, so the form page can still render
    what was typed (its heading names the record as typed); every other attribute is None. A record
    keyed or named by other fields (a segment's tag, a job's description) has them too (`known`)."""

    def __init__(self, record_id: Any, name: str, known: dict[str, Any] | None = None) -> None:
        self.id = record_id
        self.name = name
        self.gone = True
        self.__dict__.update(known or {})

    def __getattr__(self, item: str) -> Any:
        return None


def record_or_gone(fetch: Callable[[Any], Any], record_id: Any, label: str, key: str = "id",
                   named_by: str = "name") -> Any:
    """The record an edit page works on. When a save arrives for a record deleted meanwhile (another
    administrator, another tab): a Gone placeholder, after saying so; the page then shows the form
    again with everything typed, instead of a bare 404 that loses it. A plain GET still 404s.

    `key` is the attribute `record_id` is (a segment is keyed by its tag), `named_by` the field whose
    typed value names the record in the heading (a job is named by its description)."""
    from pcloud.core.errors import NotFound

    try:
        return fetch(record_id)
    except NotFound:
        if request.method != "POST":
            raise
        gone = NotFound(gettext("该%(label)s已被删除（可能是其他人刚刚删除），无法保存；"
                                "您填写的内容仍保留在下方，可复制后另行新增", label=label))
        flash(gone.msg, "danger")
        mark_failed(gone)
        typed = (request.form.get(named_by) or "").strip()
        # A form with no name field (a grant, a move) still names what it was about in its heading.
        name = typed or gettext("已删除的%(label)s（%(id)s）", label=label, id=record_id)
        return Gone(record_id, name, {named_by: typed or name, key: record_id})


def is_gone(record: Any) -> bool:
    return isinstance(record, Gone)


_REFUSAL = "pcloud_page_refusal"


def mark_failed(exc: PCloudError) -> None:
    """The action log records a refused page action as failed, with the refusal as its message; the page
    then answers with the refusal's status (`form_status`)."""
    refused(exc)
    setattr(g, _REFUSAL, exc)


def form_status() -> int:
    """The status of a form page: 200 when it is shown (GET); shown again after a POST, the status of the
    domain error that refused it (409 for a duplicate, 404 for a record gone, 403...), else 422 (the
    form's own checks failed). The same status the API answers for the same refusal."""
    if request.method != "POST":
        return 200
    exc = g.get(_REFUSAL)
    return exc.code if exc is not None else 422


def refuse_invalid_form(form: FlaskForm) -> None:
    """A page form its own checks refused (its validators, not a service): the action log records it `fail` with
    what the form said, every wrong field by its label with its first error (参数校验失败：任务参数 任务参数不能超过
    10000 个字符；机器地址 …, as the API's 422 names its first field: core.envelope.invalid_msg), not 参数校验失败
    alone. The frame is stored to be read in each reader's language (core.i18n.stored); the labels and reasons
    as they were said (a lazy label keeps no public source string). A refusal already marked (a stale token, a
    record gone) is kept."""
    if g.get(_REFUSAL) is not None:
        return
    wrong: list[tuple[Any, Any]] = []  # (the field's label, None for the form's own; its first error)
    for field in form:
        reasons = [m for m in field.errors if isinstance(m, str)] if isinstance(field.errors, list | tuple) else []
        if reasons:
            wrong.append((said_now(field.label.text), reasons[0]))
    wrong += [(None, message) for message in getattr(form, "form_errors", []) if isinstance(message, str)]
    parts: list[Any] = []
    for label, reason in wrong:
        if not parts:
            parts.append(gettext("参数校验失败：%(reason)s", reason=reason) if label is None
                         else gettext("参数校验失败：%(field)s %(reason)s", field=label, reason=reason))
        else:
            parts.append(reason if label is None else gettext("%(field)s %(reason)s", field=label, reason=reason))
    if parts:
        refused(joined(*(stored(part) for part in parts)))


def script_refusal(exc: PCloudError) -> tuple[Response, int]:
    """A page route that answers its own script (a dialog's import, the notice form's picture), refused: the
    envelope with the error's status, which the script reads, and the action logged `fail` with the reason, as a
    form's refusal is."""
    refused(exc)
    return jsonify(envelope(None, code=exc.code, msg=exc.msg, errors=exc.errors)), exc.code


def apply_domain_error(form: FlaskForm, exc: PCloudError) -> None:
    """Show a service error next to the field it names (`roleCode` -> form.role_code), else as a flash (at the
    form's top for a dialog's form: `PageForm.refusals_on_form`)."""
    placed = False
    by_wire_name = {camelcase(field.short_name): field for field in form}
    for key, messages in (exc.errors or {}).items():
        field = by_wire_name.get(key)
        if field is not None:
            field.errors = list(field.errors or []) + list(messages)
            placed = True
    if not placed and getattr(form, "refusals_on_form", False):
        form.form_errors.append(exc.msg)
    elif not placed:
        flash(exc.msg, "danger")
    mark_failed(exc)


def confirmed_action(run: Callable[[], str], back_prefix: str, fallback: str, refused: str = "",
                     form: FlaskForm | None = None, invalid: str = "") -> Any:
    """A confirm-button POST: CSRF checked, `run()` returns the success message, then back to the list the
    button was on (never to another site); a refusal goes through `refusal_page` (flashed after `refused`,
    e.g. "不能删除：", logged as failed, answered with its status).

    A button that carries a small form (the login log's 解除锁定, its phone or address hidden in the row) passes
    it: when it does not validate, its errors (or `invalid`) are the refusal. A dialog in which something is typed
    or chosen (执行一次, 日志清理) is a page form instead (`RecordPages.form`'s `shown_on`), so that a refusal
    shows it again on what was typed.
    """
    if form is None:
        require_no_body()
        if not ConfirmForm().validate_on_submit():
            abort(400)
    back = safe_back(back_prefix, fallback)
    try:
        if form is not None and not form.validate_on_submit():
            errors = gettext("；").join(str(e) for errs in form.errors.values() for e in errs)
            raise Invalid(invalid or errors or gettext("请求无效，请刷新页面后重试"))
        flash(run(), "success")
    except PCloudError as exc:
        return refusal_page(exc, back, refused)
    return redirect(back)


def safe_back(back_prefix: str, fallback: str) -> str:
    """Where a button's POST goes back to: its `back` field when it is a URL of this site under
    `back_prefix` (`is_back_path`), else `fallback` (the list). Checked before the action runs, so a
    tampered field can never fail an action that has already been committed."""
    target = request.form.get("back") or ""
    return target if is_back_path(target, back_prefix) else fallback


def back_to(list_url: str) -> str:
    """The list a form page goes back to (取消, and after a save): the page of it the form was opened from, with
    its filters, sorting and paging (`back`: the list's link, then the form's hidden field), when that is a URL
    of this site under the list's path; else `list_url`. A review: every save and 取消 lost the list's filter."""
    target = request.values.get("back") or ""
    return target if is_back_path(target, urlsplit(list_url).path) else list_url


def refusal_page(exc: PCloudError, back: str, prefix: str = "") -> tuple[str, int]:
    """A page action (a button, not a form) the service refused: flashed (after `prefix`, e.g. "不能删除："),
    logged as failed with the refusal's message, and answered with its status, as the API answers the same
    refusal, on a page that leads back to where the button was."""
    flash(prefix + exc.msg, "danger")
    mark_failed(exc)
    return render_template("errors/error.html", code=exc.code, msg=gettext("操作未完成"), back=back), exc.code
