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
- a delete (or any other confirm-button action) goes through `core.forms.confirmed_action`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from pcloud.core.errors import PCloudError
from pcloud.core.forms import apply_domain_error, confirmed_action, form_status, is_gone, record_or_gone

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
        (`key`: the attribute `record_id` is; `named_by`: the field naming the record; see record_or_gone)."""
        return record_or_gone(fetch, record_id, self.noun, key, named_by)

    def edit_form(self, form_class: type[FlaskForm], record: Any) -> Any:
        """The form of an edit page: filled from `record` when shown, from what was typed when saved
        (a POST), so a refused save shows the typed values rather than the stored ones."""
        return form_class(obj=None if request.method == "POST" else record)

    def form(self, form: FlaskForm, save: Callable[[], Saved], *, done: str | Callable[[], str] | None = None,
             template: str | None = None, **context: Any) -> Any:
        """Show `form`, or save it: `save()` calls the service and returns the sentence to flash (or a
        whole response); then to `done` (a URL, or a function read after the save; the list by default).

        A refusal shows the form again with the refusal's status (422 for the form's own checks). A record
        of `context` that is gone answers 404.
        """
        def page(status: int) -> Any:
            return render_template(template or self.template, form=form, **context), status

        if any(is_gone(value) for value in context.values()):
            form.validate()  # every field's error at once, as if the save had been tried
            return page(404)
        if request.method != "POST":
            return page(200)
        if form.validate_on_submit():
            try:
                saved = save()
            except PCloudError as exc:
                apply_domain_error(form, exc)
            else:
                if not isinstance(saved, str):
                    return saved
                flash(saved, "success")
                return redirect(done() if callable(done) else done or self.back())
        return page(form_status())

    def confirm(self, run: Callable[[], str], refused: str = "", fallback: str | None = None,
                form: FlaskForm | None = None, invalid: str = "") -> Any:
        """A confirm-button action on a record of the list (delete, start, stop...): `run()` returns the
        sentence to flash; a refusal is flashed after `refused` ("不能删除：") and logged `fail`; then
        back to the list page the button was on. A button carrying a small `form` has it validated first."""
        home = self.back()
        return confirmed_action(run, home.rstrip("/") or "/", fallback or home, refused, form, invalid)
