"""The one page-view skeleton every module's create/edit/delete pages share.

A module declares its record pages once (`RecordPages(bp, "岗位", "posts/form.html")`) and each view
keeps its own route, `@action` and `@mirrors`, and says only what differs: the form, the service call
and the sentence to flash. The skeleton is the same everywhere:

- GET shows the form (200);
- a POST that validates runs the save, flashes its sentence and goes back to the list;
- a form that does not validate shows the form again with what was typed (422); a save the service
  refuses does too, answering the refusal's own status (409 for a duplicate, 403...: what the API
  answers for the same refusal), the refusal next to the field it names, else as a flash, and the
  action is logged `fail` with the refusal's message (`core.forms.apply_domain_error` ->
  `core.recorder.refused`; the status from `core.forms.form_status`);
- a save for a record deleted meanwhile keeps what was typed and answers 404 (`core.forms.record_or_gone`);
- a save of a form opened before someone else saved the same record (another administrator, another tab)
  is not written over their change unseen: the edit form carries a fingerprint of the record's fields as it
  was shown (`SEEN_FIELD`); when they differ at save, the form is shown again with what was typed and a
  409 that says who saved last, now carrying the new fingerprint, so saving again overwrites deliberately.
  Only the fields the form edits count: a record touched elsewhere (a sign-in, the scheduler) is no conflict;
- a delete (or any other confirm-button action) goes through `core.forms.confirmed_action`.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import date, time
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session

from pcloud.core.database import lock_for_update, lost_a_race
from pcloud.core.errors import Conflict, PCloudError
from pcloud.core.forms import (
    EXPIRED_SUBMISSION,
    ExpiredForm,
    apply_domain_error,
    back_to,
    confirmed_action,
    form_status,
    is_gone,
    mark_failed,
    record_or_gone,
    refuse_invalid_form,
)
from pcloud.core.models import SubmittedForm
from pcloud.core.timefmt import display_local, utcnow
from pcloud.extensions import db

# The hidden input of an edit form carrying the fingerprint of the record as the form showed it; of a create
# form, its one-time token.
SEEN_FIELD = "_seen"
SUBMISSION_FIELD = "_once"
_TOKEN = re.compile(r"[0-9a-f]{32}")
_SCALARS = (str, int, float, Decimal, date, time, Enum, type(None))  # bool is an int; datetime a date
_NOT_COMPARED = ("CSRFTokenField", "PasswordField", "SubmitField", "FileField", "MultipleFileField")

# What a save returns: the sentence to flash before going back to the list, or (for a page that shows
# something once saved, such as a key displayed only once) the whole response.
Saved = str | Response | tuple[Any, ...]


class RecordPages:
    """The create/edit/delete pages of one kind of record, listed by the endpoint `index`.

    `noun` names the record in messages (该岗位已被删除…); `template` is its form page, rendered with
    `form` and whatever the view passes (`post=post`); `index` is the list a save or a delete goes back
    to (by default the blueprint's `index`), and the confirm buttons' `back` must stay under it.
    """

    def __init__(self, bp: Blueprint, noun: str, template: str, index: str = "index") -> None:
        self.noun = noun
        self.template = template
        self.index = f"{bp.name}.{index}"

    def back(self, **values: Any) -> str:
        """The list page (with query arguments, e.g. the parent a tree was showing)."""
        return url_for(self.index, **values)

    def record(self, fetch: Callable[[Any], Any], record_id: Any, key: str = "id", named_by: str = "name") -> Any:
        """The record an edit page works on; a Gone placeholder when a save arrives after its deletion
        (`key`: the attribute `record_id` is; `named_by`: the field naming the record; see record_or_gone).
        Kept as the request's edited record, whose fingerprint the form carries and `form` compares; on a
        save, locked until it commits, so that two saves of one form shown once do not both pass the check."""
        record = record_or_gone(fetch, record_id, self.noun, key, named_by)
        if not is_gone(record):
            watch_record(record)
        return record

    def edit_form(self, form_class: type[FlaskForm], record: Any) -> Any:
        """The form of an edit page: filled from `record` when shown, from what was typed when saved
        (a POST), so a refused save shows the typed values rather than the stored ones."""
        return form_class(obj=None if request.method == "POST" else record)

    def form(self, form: FlaskForm, save: Callable[[], Saved], *, done: str | Callable[[], str] | None = None,
             template: str | None = None, stored: Mapping[str, Any] | None = None,
             shown_on: Callable[[], Any] | None = None, **context: Any) -> Any:
        """Show `form`, or save it: `save()` calls the service and returns the sentence to flash (or a
        whole response); then to `done` (a URL, or a function read after the save; the list by default).

        A refusal shows the form again with the refusal's status (422 for the form's own checks). A record
        of `context` that is gone answers 404. `stored`: what the page edits, as stored now, where it is not
        the record's attribute named as the field (a user's roles, a role's grants); the form's fingerprint
        (see `fingerprint`) is taken of it and of the record's attributes. `shown_on`: for a form that is a
        dialog of another page (the job list's 执行一次), that page drawn with the dialog open on `form`, called
        only when the form is shown again (after the save was tried: nothing is read before the service's own
        reads, which may need the write lock first).
        """
        if stored is not None:
            g.edited_values = stored

        def page(status: int) -> Any:
            if shown_on is not None:
                return shown_on(), status
            return render_template(template or self.template, form=form, **context), status

        if any(is_gone(value) for value in context.values()):
            form.validate()  # every field's error at once, as if the save had been tried
            return page(404)
        if request.method != "POST":
            return page(200)
        if form.validate_on_submit():
            try:
                try:
                    require_unchanged_since_shown(form)
                    _claim_submission(form)
                    saved = save()
                except DBAPIError as exc:
                    # a concurrent save won a deadlock (its locks taken in another order): as any other lost
                    # race, said on the form with what was typed, not on a bare error page
                    if not lost_a_race(exc):
                        raise
                    db.session.rollback()
                    raise Conflict(gettext("数据已被其他请求修改或已存在，请刷新后重试")) from None
            except PCloudError as exc:
                apply_domain_error(form, exc)
            else:
                if not isinstance(saved, str):
                    return saved
                flash(saved, "success")
                # the list as it was left (its filters and page) when the form came from it, else `done`
                return redirect(back_to(done() if callable(done) else done or self.back()))
        else:
            refuse_invalid_form(form)  # logged with the fields it refused
        return page(form_status())

    def confirm(self, run: Callable[[], str], refused: str = "", fallback: str | None = None,
                form: FlaskForm | None = None, invalid: str = "") -> Any:
        """A confirm-button action on a record of the list (delete, start, stop...): `run()` returns the
        sentence to flash; a refusal is flashed after `refused` ("不能删除：") and logged `fail`; then
        back to the list page the button was on. A button carrying a small `form` has it validated first."""
        home = self.back()
        return confirmed_action(run, home.rstrip("/") or "/", fallback or home, refused, form, invalid)


def watch_record(record: Any) -> None:
    """The record this request's form edits (`fingerprint`; `require_unchanged_since_shown`). On a save it is read
    as committed now and kept so until this request commits, so that two saves of one form shown alike do not
    both pass the check."""
    if request.method == "POST":
        lock_for_update(record)
    g.edited_record = record


def fingerprint(form: FlaskForm) -> str | None:
    """A digest of everything this request's edit page edits, as stored now: each field of `form` (not the
    token, passwords or files) read from the `stored` values given to RecordPages.form, else from the edited
    record's attribute of its name; and whatever else `stored` names (a grant page's ticks). None on a page
    that edits no record. A field found in neither is a page that would miss a change: an error, not a guess
    (tests/test_core.py shows every edit page)."""
    record, stored = g.get("edited_record"), g.get("edited_values") or {}
    if record is None:  # a page creating a record, or saving one deleted meanwhile (said otherwise)
        return None
    values = dict(stored)
    for field in form:
        if field.type in _NOT_COMPARED or field.name in values:
            continue
        if not hasattr(record, field.short_name):  # a prefixed form's field (profile-name) is the record's name
            raise LookupError(f"{type(form).__name__}.{field.name} is neither the record's attribute nor stored")
        values[field.name] = getattr(record, field.short_name)
    digest = sorted((name, _comparable(value)) for name, value in values.items())
    return hashlib.sha256(json.dumps(digest, default=str, ensure_ascii=False).encode()).hexdigest()


def _comparable(data: Any) -> Any:
    """The same value however and wherever it was read: a collection in sorted order (a set iterates in an
    order that differs between web worker processes; a relationship's rows come in the database's order), a
    record by its id (its default text names a memory address)."""
    if isinstance(data, list | tuple | set | frozenset):
        return sorted(str(_comparable(item)) for item in data)
    return data if isinstance(data, _SCALARS) else getattr(data, "id", None)


def seen_input(form: FlaskForm) -> Markup:
    """The form page's hidden input (layouts/form.html). An edit page's `SEEN_FIELD`: the fingerprint the form
    was first shown with, kept through refused saves; the record's current one when shown anew or after a
    conflict. A create page's `SUBMISSION_FIELD`: its one-time token, kept through refused saves (which stored
    nothing), a new one when shown anew or after the same form was found posted already."""
    now = fingerprint(form)
    posted = request.form.get(SEEN_FIELD if now is not None else SUBMISSION_FIELD) if request.method == "POST" else None
    if now is not None:
        seen = now if not posted or getattr(form, "seen_conflict", False) else posted
        return Markup('<input type="hidden" name="{}" value="{}">').format(SEEN_FIELD, seen)
    fresh = not posted or getattr(form, "submitted_before", False) or not _TOKEN.fullmatch(posted)
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        SUBMISSION_FIELD, secrets.token_hex(16) if fresh else posted)


def _claim_submission(form: FlaskForm) -> None:
    """A create form's token, stored in the save's own transaction (so a refused save stores none): the same
    form posted again waits for the first and finds its token there. Then the form is shown again, what was
    typed kept, saying so: saving once more creates a second record on purpose (a new token), and a save the
    first post did not complete is never lost. A POST without a token (a page of an earlier version) saves."""
    token = request.form.get(SUBMISSION_FIELD) or ""
    if g.get("edited_record") is not None or not _TOKEN.fullmatch(token):
        return
    db.session.add(SubmittedForm(token=token, submitted_at=utcnow()))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        form.submitted_before = True
        raise Conflict(gettext("这张表单刚刚已经提交过，没有再保存一次。若确实要再新增一条，请再次保存")) from None


def require_unchanged_since_shown(form: FlaskForm) -> None:
    """Refuse (409) a save whose form was shown before the record's edited fields changed. A POST without
    the fingerprint (a page of an earlier version) is saved as before."""
    posted = request.form.get(SEEN_FIELD)
    if not posted or posted == (fingerprint(form) or posted):
        return
    form.seen_conflict = True
    record = g.get("edited_record")
    who = getattr(record, "gmt_modified_name", None) or gettext("他人")
    raise Conflict(gettext("该记录在你打开此页后已被%(who)s修改（%(when)s）。你填写的内容保留在下方；"
                           "核对后再次保存将覆盖对方的修改", who=who,
                           when=display_local(getattr(record, "gmt_modified_date", None))))


class _WriteRefused(RuntimeError):
    """A write attempted while a form refused by the CSRF check was being shown again."""


def reshow_expired_form() -> Response | None:
    """A page form posted with a stale or missing CSRF token (the CSRF check refused it: opened before a new
    sign-in, in this tab or another) by a signed-in principal: the same form shown again, answering 400, with what
    was typed (not the passwords, which a password input never shows again, nor the files) and a red flash saying
    it was not saved and to submit again; the action log records it `fail`. The view runs as for a refused save:
    after the guard, its form never validates (`core.forms.EXPIRED_SUBMISSION`), and any write the view would
    still attempt is refused, rolled back, and the request answered as an expired page (None: the caller's page).

    None, too, for what is not such a form: a POST-only route (a button's action), a script's request."""
    from pcloud.core.security import enforce_access

    rule = request.url_rule
    if request.method != "POST" or rule is None or "GET" not in (rule.methods or ()) or request.endpoint is None:
        return None
    refused = enforce_access()  # what the CSRF check's refusal came before: the same guard as any request
    if refused is not None:
        return current_app.make_response(refused)
    expired = ExpiredForm()
    flash(expired.msg, "danger")
    mark_failed(expired)
    view = current_app.view_functions[request.endpoint]
    setattr(g, EXPIRED_SUBMISSION, True)
    try:
        answer = current_app.make_response(current_app.ensure_sync(view)(**(request.view_args or {})))
    except _WriteRefused:
        db.session.rollback()
        # nothing was kept: take back the flash saying so (Flask has no public way to retract a flash:
        # get_flashed_messages caches the request's flashes once read, so the expired page would still show it)
        session["_flashes"] = [f for f in session.get("_flashes", []) if f[1] != expired.msg]
        return None
    except Exception as exc:  # noqa: BLE001 - a refusal (a key that names nothing: 404) answered by its handler
        answer = current_app.make_response(current_app.handle_user_exception(exc))
    finally:
        g.pop(EXPIRED_SUBMISSION, None)
    if answer.status_code < 300 or 400 <= answer.status_code < 500:
        # what refused the submission came first: its token (a record gone meanwhile is said on the form too)
        answer.status_code = expired.code
    return answer


def _expired_submission() -> bool:
    return has_request_context() and bool(g.get(EXPIRED_SUBMISSION))


@event.listens_for(Session, "before_flush")
def _no_flush_while_expired(db_session: Session, *_: Any) -> None:
    if _expired_submission() and (db_session.new or db_session.dirty or db_session.deleted):
        raise _WriteRefused("a write while an expired form is shown again")


@event.listens_for(Session, "do_orm_execute")
def _no_write_while_expired(state: ORMExecuteState) -> None:
    if _expired_submission() and (state.is_insert or state.is_update or state.is_delete):
        raise _WriteRefused("a write while an expired form is shown again")
